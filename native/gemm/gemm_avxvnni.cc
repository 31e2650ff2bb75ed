// AVX-VNNI path (VEX VPDPBUSD on ymm): the AVX2 kernel's structure — 6 rows × 16 columns,
// named accumulators, one broadcast of A per row and two B vectors per K group — with K in
// groups of 4 (one VPDPBUSD lane = 4 uint8 × int8 products summed into int32, no
// saturation: |4·255·128| < 2^31, and the add into the accumulator wraps like the reference).
// Builds with -mavxvnni, or on SIMDe with -DTFJQ_EMULATE_SIMD for the emulated harness.
#include <cstring>

#include "common/simd_x86.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {
namespace {

using simd::LoadU32;

constexpr int kMr = 6;
constexpr int kNr = 16;

template <int R>
void KernelAvxVnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, int32_t* c, int64_t ldc,
                   bool accumulate) {
  __m256i c0_0 = _mm256_setzero_si256(), c0_1 = _mm256_setzero_si256();
  __m256i c1_0 = _mm256_setzero_si256(), c1_1 = _mm256_setzero_si256();
  __m256i c2_0 = _mm256_setzero_si256(), c2_1 = _mm256_setzero_si256();
  __m256i c3_0 = _mm256_setzero_si256(), c3_1 = _mm256_setzero_si256();
  __m256i c4_0 = _mm256_setzero_si256(), c4_1 = _mm256_setzero_si256();
  __m256i c5_0 = _mm256_setzero_si256(), c5_1 = _mm256_setzero_si256();
  TFJQ_A_ROWS_6(a, as);
  for (int64_t g = 0; g < kg; g++) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32));
    b += 64;
    const int64_t off = g * 4;
#define TFJQ_ROW(i)                                            \
  if constexpr (R > i) {                                       \
    const __m256i av = _mm256_set1_epi32(LoadU32(a##i + off)); \
    c##i##_0 = _mm256_dpbusd_avx_epi32(c##i##_0, av, b0);      \
    c##i##_1 = _mm256_dpbusd_avx_epi32(c##i##_1, av, b1);      \
  }
    TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
#undef TFJQ_ROW
  }
#define TFJQ_STORE(i)                                                   \
  if constexpr (R > i) {                                                \
    __m256i* p = reinterpret_cast<__m256i*>(c + i * ldc);               \
    if (accumulate) {                                                   \
      c##i##_0 = _mm256_add_epi32(c##i##_0, _mm256_loadu_si256(p));     \
      c##i##_1 = _mm256_add_epi32(c##i##_1, _mm256_loadu_si256(p + 1)); \
    }                                                                   \
    _mm256_storeu_si256(p, c##i##_0);                                   \
    _mm256_storeu_si256(p + 1, c##i##_1);                               \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3) TFJQ_STORE(4) TFJQ_STORE(5)
#undef TFJQ_STORE
}

template <int P>
void GemvAvxVnni(int64_t kg, const uint8_t* a, const int8_t* b, int64_t ps, int32_t* c) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const int8_t* b0 = b;
  const int8_t* b1 = b + ps;
  const int8_t* b2 = b + 2 * ps;
  const int8_t* b3 = b + 3 * ps;
  for (int64_t g = 0; g < kg; g++) {
    const __m256i av = _mm256_set1_epi32(LoadU32(a + 4 * g));
    const int64_t o = 64 * g;
#define TFJQ_PANEL(p, x, y)                                                                                  \
  if constexpr (P > p) {                                                                                     \
    x = _mm256_dpbusd_avx_epi32(x, av, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b##p + o)));      \
    y = _mm256_dpbusd_avx_epi32(y, av, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b##p + o + 32))); \
  }
    TFJQ_PANEL(0, c0, c1) TFJQ_PANEL(1, c2, c3) TFJQ_PANEL(2, c4, c5) TFJQ_PANEL(3, c6, c7)
#undef TFJQ_PANEL
  }
  __m256i* p = reinterpret_cast<__m256i*>(c);
  _mm256_storeu_si256(p, c0);
  _mm256_storeu_si256(p + 1, c1);
  if constexpr (P > 1) {
    _mm256_storeu_si256(p + 2, c2);
    _mm256_storeu_si256(p + 3, c3);
  }
  if constexpr (P > 2) {
    _mm256_storeu_si256(p + 4, c4);
    _mm256_storeu_si256(p + 5, c5);
  }
  if constexpr (P > 3) {
    _mm256_storeu_si256(p + 6, c6);
    _mm256_storeu_si256(p + 7, c7);
  }
}

// 12 independent VPDPBUSD per iteration (each into its own accumulator), `iters`
// iterations, in a call-free function so nothing is spilled.
__attribute__((noinline)) int32_t PeakAvxVnniBlock(int64_t iters, int32_t seed) {
  __m256i x = _mm256_set1_epi32(seed), y = _mm256_set1_epi32(seed + 1);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0,
          s10 = s0, s11 = s0;
#if !TFJQ_SIMD_EMULATED
  // Written out: with intrinsics GCC proves the 12 chains equal (same inputs, same start)
  // and merges them into one, so the loop measured one dependent VPDPBUSD per iteration
  // while counting twelve (a "peak" above what the core can issue).
  __asm__ volatile(
      "1:\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s0]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s1]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s2]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s3]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s4]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s5]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s6]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s7]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s8]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s9]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s10]\n\t"
      "%{vex%} vpdpbusd %[y], %[x], %[s11]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      : [s0] "+x"(s0), [s1] "+x"(s1), [s2] "+x"(s2), [s3] "+x"(s3), [s4] "+x"(s4), [s5] "+x"(s5), [s6] "+x"(s6),
        [s7] "+x"(s7), [s8] "+x"(s8), [s9] "+x"(s9), [s10] "+x"(s10), [s11] "+x"(s11), [n] "+r"(iters)
      : [x] "x"(x), [y] "x"(y)
      : "cc");
#else
  for (int64_t i = 0; i < iters; i++) {
    s0 = _mm256_dpbusd_avx_epi32(s0, x, y);
    s1 = _mm256_dpbusd_avx_epi32(s1, x, y);
    s2 = _mm256_dpbusd_avx_epi32(s2, x, y);
    s3 = _mm256_dpbusd_avx_epi32(s3, x, y);
    s4 = _mm256_dpbusd_avx_epi32(s4, x, y);
    s5 = _mm256_dpbusd_avx_epi32(s5, x, y);
    s6 = _mm256_dpbusd_avx_epi32(s6, x, y);
    s7 = _mm256_dpbusd_avx_epi32(s7, x, y);
    s8 = _mm256_dpbusd_avx_epi32(s8, x, y);
    s9 = _mm256_dpbusd_avx_epi32(s9, x, y);
    s10 = _mm256_dpbusd_avx_epi32(s10, x, y);
    s11 = _mm256_dpbusd_avx_epi32(s11, x, y);
    TFJQ_OPAQUE(x);
    TFJQ_OPAQUE(y);
  }
#endif
  __m256i t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)),
                               _mm256_add_epi32(_mm256_add_epi32(s4, s5), _mm256_add_epi32(s6, s7)));
  t = _mm256_add_epi32(t, _mm256_add_epi32(_mm256_add_epi32(s8, s9), _mm256_add_epi32(s10, s11)));
  alignas(64) int32_t lanes[sizeof(__m256i) / 4];
  std::memcpy(lanes, &t, sizeof(t));
  return lanes[0];
}

double PeakAvxVnni(double seconds) {
  // 12 VPDPBUSD per iteration, 32 multiply-adds (64 ops) each.
  return TimePeakLoop(seconds, TFJQ_SIMD_EMULATED ? 64 : (1 << 16), 12 * 64, TFJQ_SIMD_EMULATED,
                      [](int64_t n, int64_t b) { return PeakAvxVnniBlock(n, 0x01020304 + static_cast<int32_t>(b)); });
}

}  // namespace

const KernelSet* AvxVnniKernels() {
  static const KernelSet ks = {
      Isa::kAvxVnni,
      kMr,
      kNr,
      /*kgroup=*/4,
      /*a_bytes_per_k=*/1,
      /*a_offset=*/0,
      /*kc_max=*/1024,
      simd::PackBytesXor,
      {KernelAvxVnni<1>, KernelAvxVnni<2>, KernelAvxVnni<3>, KernelAvxVnni<4>, KernelAvxVnni<5>, KernelAvxVnni<6>},
      {GemvAvxVnni<1>, GemvAvxVnni<2>, GemvAvxVnni<3>, GemvAvxVnni<4>},
      EpilogueAvx2,
      PeakAvxVnni};
  return &ks;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
