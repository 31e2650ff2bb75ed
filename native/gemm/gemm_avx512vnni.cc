// AVX-512 VNNI path (VPDPBUSD on zmm): the AVX2 kernel's structure widened — 6 rows × 64
// columns (4 zmm per row, 24 named accumulators, 4 B vectors + 1 broadcast of A live), K in
// groups of 4. Exactness as for AVX-VNNI: each lane sums 4 exact uint8 × int8 products and
// the accumulation wraps modulo 2^32 like the reference.
// Builds with -mavx512f/bw/vl/vnni, or on SIMDe with -DTFJQ_EMULATE_SIMD (emulated harness).
#include <cstring>

#include "common/simd_x86.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {
namespace {

using simd::LoadU32;

constexpr int kMr = 6;
constexpr int kNr = 64;

template <int R>
void KernelAvx512Vnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, int32_t* c, int64_t ldc,
                      bool accumulate) {
  __m512i c0_0 = _mm512_setzero_si512(), c0_1 = c0_0, c0_2 = c0_0, c0_3 = c0_0;
  __m512i c1_0 = c0_0, c1_1 = c0_0, c1_2 = c0_0, c1_3 = c0_0;
  __m512i c2_0 = c0_0, c2_1 = c0_0, c2_2 = c0_0, c2_3 = c0_0;
  __m512i c3_0 = c0_0, c3_1 = c0_0, c3_2 = c0_0, c3_3 = c0_0;
  __m512i c4_0 = c0_0, c4_1 = c0_0, c4_2 = c0_0, c4_3 = c0_0;
  __m512i c5_0 = c0_0, c5_1 = c0_0, c5_2 = c0_0, c5_3 = c0_0;
  TFJQ_A_ROWS_6(a, as);
  for (int64_t g = 0; g < kg; g++) {
    const __m512i b0 = _mm512_loadu_si512(b);
    const __m512i b1 = _mm512_loadu_si512(b + 64);
    const __m512i b2 = _mm512_loadu_si512(b + 128);
    const __m512i b3 = _mm512_loadu_si512(b + 192);
    b += 256;
    const int64_t off = g * 4;
#define TFJQ_ROW(i)                                              \
  if constexpr (R > i) {                                         \
    const __m512i av = _mm512_set1_epi32(LoadU32(a##i + off));   \
    c##i##_0 = _mm512_dpbusd_epi32(c##i##_0, av, b0);            \
    c##i##_1 = _mm512_dpbusd_epi32(c##i##_1, av, b1);            \
    c##i##_2 = _mm512_dpbusd_epi32(c##i##_2, av, b2);            \
    c##i##_3 = _mm512_dpbusd_epi32(c##i##_3, av, b3);            \
  }
    TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
#undef TFJQ_ROW
  }
#define TFJQ_STORE(i)                                                      \
  if constexpr (R > i) {                                                   \
    int32_t* p = c + i * ldc;                                              \
    if (accumulate) {                                                      \
      c##i##_0 = _mm512_add_epi32(c##i##_0, _mm512_loadu_si512(p));        \
      c##i##_1 = _mm512_add_epi32(c##i##_1, _mm512_loadu_si512(p + 16));   \
      c##i##_2 = _mm512_add_epi32(c##i##_2, _mm512_loadu_si512(p + 32));   \
      c##i##_3 = _mm512_add_epi32(c##i##_3, _mm512_loadu_si512(p + 48));   \
    }                                                                      \
    _mm512_storeu_si512(p, c##i##_0);                                      \
    _mm512_storeu_si512(p + 16, c##i##_1);                                 \
    _mm512_storeu_si512(p + 32, c##i##_2);                                 \
    _mm512_storeu_si512(p + 48, c##i##_3);                                 \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3) TFJQ_STORE(4) TFJQ_STORE(5)
#undef TFJQ_STORE
}

template <int P>
void GemvAvx512Vnni(int64_t kg, const uint8_t* a, const int8_t* b, int64_t ps, int32_t* c) {
  const __m512i z = _mm512_setzero_si512();
  __m512i c0_0 = z, c0_1 = z, c0_2 = z, c0_3 = z, c1_0 = z, c1_1 = z, c1_2 = z, c1_3 = z, c2_0 = z, c2_1 = z, c2_2 = z, c2_3 = z, c3_0 = z, c3_1 = z, c3_2 = z, c3_3 = z;
  const int8_t* b0 = b;
  const int8_t* b1 = b + ps;
  const int8_t* b2 = b + 2 * ps;
  const int8_t* b3 = b + 3 * ps;
  for (int64_t g = 0; g < kg; g++) {
    const __m512i av = _mm512_set1_epi32(LoadU32(a + 4 * g));
    const int64_t o = 256 * g;
#define TFJQ_PANEL(p)                                                                \
  if constexpr (P > p) {                                                             \
    c##p##_0 = _mm512_dpbusd_epi32(c##p##_0, av, _mm512_loadu_si512(b##p + o));       \
    c##p##_1 = _mm512_dpbusd_epi32(c##p##_1, av, _mm512_loadu_si512(b##p + o + 64));  \
    c##p##_2 = _mm512_dpbusd_epi32(c##p##_2, av, _mm512_loadu_si512(b##p + o + 128)); \
    c##p##_3 = _mm512_dpbusd_epi32(c##p##_3, av, _mm512_loadu_si512(b##p + o + 192)); \
  }
    TFJQ_PANEL(0) TFJQ_PANEL(1) TFJQ_PANEL(2) TFJQ_PANEL(3)
#undef TFJQ_PANEL
  }
#define TFJQ_STORE(p)                                     \
  if constexpr (P > p) {                                  \
    _mm512_storeu_si512(c + 64 * p, c##p##_0);            \
    _mm512_storeu_si512(c + 64 * p + 16, c##p##_1);       \
    _mm512_storeu_si512(c + 64 * p + 32, c##p##_2);       \
    _mm512_storeu_si512(c + 64 * p + 48, c##p##_3);       \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3)
#undef TFJQ_STORE
}

// 12 independent VPDPBUSD per iteration (no common subexpression: each reads its own
// accumulator), `iters` iterations, in a call-free function so nothing is spilled.
__attribute__((noinline)) int32_t PeakAvx512VnniBlock(int64_t iters, int32_t seed) {
  __m512i x = _mm512_set1_epi32(seed), y = _mm512_set1_epi32(seed + 1);
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
  for (int64_t i = 0; i < iters; i++) {
      s0 = _mm512_dpbusd_epi32(s0, x, y);
      s1 = _mm512_dpbusd_epi32(s1, x, y);
      s2 = _mm512_dpbusd_epi32(s2, x, y);
      s3 = _mm512_dpbusd_epi32(s3, x, y);
      s4 = _mm512_dpbusd_epi32(s4, x, y);
      s5 = _mm512_dpbusd_epi32(s5, x, y);
      s6 = _mm512_dpbusd_epi32(s6, x, y);
      s7 = _mm512_dpbusd_epi32(s7, x, y);
      s8 = _mm512_dpbusd_epi32(s8, x, y);
      s9 = _mm512_dpbusd_epi32(s9, x, y);
      s10 = _mm512_dpbusd_epi32(s10, x, y);
      s11 = _mm512_dpbusd_epi32(s11, x, y);
    TFJQ_OPAQUE(x);
    TFJQ_OPAQUE(y);
  }
  __m512i t = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3)), _mm512_add_epi32(_mm512_add_epi32(s4, s5), _mm512_add_epi32(s6, s7)));
  t = _mm512_add_epi32(t, _mm512_add_epi32(_mm512_add_epi32(s8, s9), _mm512_add_epi32(s10, s11)));
  alignas(64) int32_t lanes[sizeof(__m512i) / 4];
  std::memcpy(lanes, &t, sizeof(t));
  return lanes[0];
}

double PeakAvx512Vnni(double seconds) {
  // 12 VPDPBUSD per iteration, 64 multiply-adds (128 ops) each.
  return TimePeakLoop(seconds, TFJQ_SIMD_EMULATED ? 64 : (1 << 16), 12 * 128, TFJQ_SIMD_EMULATED, [](int64_t n, int64_t b) {
    return PeakAvx512VnniBlock(n, 0x01020304 + static_cast<int32_t>(b));
  });
}

}  // namespace

const KernelSet* Avx512VnniKernels() {
  static const KernelSet ks = {
      Isa::kAvx512Vnni, kMr, kNr, /*kgroup=*/4, /*a_bytes_per_k=*/1, /*a_offset=*/0, /*kc_max=*/384,
      simd::PackBytesXor,
      {KernelAvx512Vnni<1>, KernelAvx512Vnni<2>, KernelAvx512Vnni<3>, KernelAvx512Vnni<4>, KernelAvx512Vnni<5>,
       KernelAvx512Vnni<6>},
      {GemvAvx512Vnni<1>, GemvAvx512Vnni<2>, GemvAvx512Vnni<3>, GemvAvx512Vnni<4>},
      EpilogueAvx2, PeakAvx512Vnni};
  return &ks;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
