// AVX-VNNI path (VEX VPDPBUSD on ymm): the AVX2 kernel's structure — 6 rows × 16 columns,
// named accumulators, one broadcast of A per row and two B vectors per K group — with K in
// groups of 4 (one VPDPBUSD lane = 4 uint8 × int8 products summed into int32, no
// saturation: |4·255·128| < 2^31, and the add into the accumulator wraps like the reference).
// Builds with -mavxvnni, or on SIMDe with -DTFJQ_EMULATE_SIMD for the emulated harness.
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
  const uint8_t* a0 = a;
  const uint8_t* a1 = a + as;
  const uint8_t* a2 = a + 2 * as;
  const uint8_t* a3 = a + 3 * as;
  const uint8_t* a4 = a + 4 * as;
  const uint8_t* a5 = a + 5 * as;
  for (int64_t g = 0; g < kg; g++) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 32));
    b += 64;
    const int64_t off = g * 4;
#define TFJQ_ROW(i)                                                   \
  if constexpr (R > i) {                                              \
    const __m256i av = _mm256_set1_epi32(LoadU32(a##i + off));        \
    c##i##_0 = _mm256_dpbusd_avx_epi32(c##i##_0, av, b0);             \
    c##i##_1 = _mm256_dpbusd_avx_epi32(c##i##_1, av, b1);             \
  }
    TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
#undef TFJQ_ROW
  }
#define TFJQ_STORE(i)                                                    \
  if constexpr (R > i) {                                                 \
    __m256i* p = reinterpret_cast<__m256i*>(c + i * ldc);                \
    if (accumulate) {                                                    \
      c##i##_0 = _mm256_add_epi32(c##i##_0, _mm256_loadu_si256(p));     \
      c##i##_1 = _mm256_add_epi32(c##i##_1, _mm256_loadu_si256(p + 1)); \
    }                                                                    \
    _mm256_storeu_si256(p, c##i##_0);                                    \
    _mm256_storeu_si256(p + 1, c##i##_1);                                \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3) TFJQ_STORE(4) TFJQ_STORE(5)
#undef TFJQ_STORE
}

double PeakAvxVnni(double seconds) {
  volatile int32_t seed = 0x01020304;
  __m256i x0 = _mm256_set1_epi32(seed), x1 = _mm256_set1_epi32(seed + 1), x2 = _mm256_set1_epi32(seed + 2);
  __m256i y0 = _mm256_set1_epi32(seed + 3), y1 = _mm256_set1_epi32(seed + 4), y2 = _mm256_set1_epi32(seed + 5);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0;
  __m256i s9 = s0, s10 = s0, s11 = s0;
  int64_t iters = 0;
  const double t0 = NowSeconds();
  double elapsed = 0;
  do {
    for (int r = 0; r < 1024; r++) {
      s0 = _mm256_dpbusd_avx_epi32(s0, x0, y0); s1 = _mm256_dpbusd_avx_epi32(s1, x1, y0);
      s2 = _mm256_dpbusd_avx_epi32(s2, x2, y0); s3 = _mm256_dpbusd_avx_epi32(s3, x0, y1);
      s4 = _mm256_dpbusd_avx_epi32(s4, x1, y1); s5 = _mm256_dpbusd_avx_epi32(s5, x2, y1);
      s6 = _mm256_dpbusd_avx_epi32(s6, x0, y2); s7 = _mm256_dpbusd_avx_epi32(s7, x1, y2);
      s8 = _mm256_dpbusd_avx_epi32(s8, x2, y2); s9 = _mm256_dpbusd_avx_epi32(s9, y0, x0);
      s10 = _mm256_dpbusd_avx_epi32(s10, y1, x1); s11 = _mm256_dpbusd_avx_epi32(s11, y2, x2);
      TFJQ_OPAQUE(x0); TFJQ_OPAQUE(x1); TFJQ_OPAQUE(x2); TFJQ_OPAQUE(y0); TFJQ_OPAQUE(y1); TFJQ_OPAQUE(y2);
    }
    iters += 1024;
    elapsed = NowSeconds() - t0;
    if (TFJQ_SIMD_EMULATED) break;
  } while (elapsed < seconds);
  __m256i t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)),
                               _mm256_add_epi32(_mm256_add_epi32(s4, s5), _mm256_add_epi32(s6, s7)));
  t = _mm256_add_epi32(t, _mm256_add_epi32(_mm256_add_epi32(s8, s9), _mm256_add_epi32(s10, s11)));
  volatile int32_t sink = _mm256_extract_epi32(t, 0);
  (void)sink;
  // 12 VPDPBUSD ymm per iteration, 32 multiply-adds (64 ops) each.
  return static_cast<double>(iters) * 12 * 64 / elapsed * 1e-9;
}

}  // namespace

const KernelSet* AvxVnniKernels() {
  static const KernelSet ks = {
      Isa::kAvxVnni, kMr, kNr, /*kgroup=*/4, /*a_bytes_per_k=*/1, /*a_offset=*/0, /*kc_max=*/1024, simd::PackBytesXor,
      {KernelAvxVnni<1>, KernelAvxVnni<2>, KernelAvxVnni<3>, KernelAvxVnni<4>, KernelAvxVnni<5>, KernelAvxVnni<6>},
      EpilogueAvx2, PeakAvxVnni};
  return &ks;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
