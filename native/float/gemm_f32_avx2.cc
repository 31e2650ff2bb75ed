// AVX2 + FMA microkernels (compiled with -mavx2 -mfma; explicit FMA intrinsics because the
// build uses -ffp-contract=off).
#include <algorithm>

#include "common/simd_x86.h"
#include "float/gemm_driver.h"
#include "float/gemm_kernels.h"

namespace tfjq {
namespace f32 {
namespace {

// The 6 × 16 register tile and its K loop: row r's k-th A value at ar[k · as] (as = kMR: a
// packed A panel; 1: an A row read in place), B a packed panel (kNR per k). Named accumulators
// in a struct whose loop is always inlined: GCC 12 spills accumulators kept in an array.
struct Acc6x16 {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;

  __attribute__((always_inline)) inline void Run(int64_t kc, const float* a0, const float* a1, const float* a2,
                                                 const float* a3, const float* a4, const float* a5, int64_t as,
                                                 const float* b) {
    for (int64_t p = 0; p < kc; p++) {
      const __m256 b0 = _mm256_loadu_ps(b);
      const __m256 b1 = _mm256_loadu_ps(b + 8);
      const int64_t o = p * as;
      __m256 av;
      av = _mm256_broadcast_ss(a0 + o);
      c00 = _mm256_fmadd_ps(av, b0, c00);
      c01 = _mm256_fmadd_ps(av, b1, c01);
      av = _mm256_broadcast_ss(a1 + o);
      c10 = _mm256_fmadd_ps(av, b0, c10);
      c11 = _mm256_fmadd_ps(av, b1, c11);
      av = _mm256_broadcast_ss(a2 + o);
      c20 = _mm256_fmadd_ps(av, b0, c20);
      c21 = _mm256_fmadd_ps(av, b1, c21);
      av = _mm256_broadcast_ss(a3 + o);
      c30 = _mm256_fmadd_ps(av, b0, c30);
      c31 = _mm256_fmadd_ps(av, b1, c31);
      av = _mm256_broadcast_ss(a4 + o);
      c40 = _mm256_fmadd_ps(av, b0, c40);
      c41 = _mm256_fmadd_ps(av, b1, c41);
      av = _mm256_broadcast_ss(a5 + o);
      c50 = _mm256_fmadd_ps(av, b0, c50);
      c51 = _mm256_fmadd_ps(av, b1, c51);
      b += kNR;
    }
  }
};

void GemmTileAvx2(int64_t kc, const float* a, const float* b, float* c) {
  Acc6x16 t;
  t.Run(kc, a, a + 1, a + 2, a + 3, a + 4, a + 5, kMR, b);
  _mm256_storeu_ps(c + 0 * kNR, t.c00);
  _mm256_storeu_ps(c + 0 * kNR + 8, t.c01);
  _mm256_storeu_ps(c + 1 * kNR, t.c10);
  _mm256_storeu_ps(c + 1 * kNR + 8, t.c11);
  _mm256_storeu_ps(c + 2 * kNR, t.c20);
  _mm256_storeu_ps(c + 2 * kNR + 8, t.c21);
  _mm256_storeu_ps(c + 3 * kNR, t.c30);
  _mm256_storeu_ps(c + 3 * kNR + 8, t.c31);
  _mm256_storeu_ps(c + 4 * kNR, t.c40);
  _mm256_storeu_ps(c + 4 * kNR + 8, t.c41);
  _mm256_storeu_ps(c + 5 * kNR, t.c50);
  _mm256_storeu_ps(c + 5 * kNR + 8, t.c51);
}

// The activations of the driver's ActRow on 8 lanes. VMAXPS(a, b) is a > b ? a : b and
// VMINPS(a, b) a < b ? a : b, b when either is NaN: with the bound as a, exactly ActRow's
// comparisons (−0 and NaN pass through).
inline __m256 Act(__m256 v, Activation act, __m256 alpha) {
  const __m256 zero = _mm256_setzero_ps();
  switch (act) {
    case Activation::kRelu:
      return _mm256_max_ps(zero, v);
    case Activation::kRelu6:
      return _mm256_max_ps(zero, _mm256_min_ps(_mm256_set1_ps(6.f), v));
    case Activation::kLeakyRelu:
      return _mm256_blendv_ps(v, _mm256_mul_ps(alpha, v), _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
    default:
      return v;
  }
}

// The tile's loop with A read in place (row r at a + r·lda; rows past mr repeat the last one:
// their sums are not stored), then each row's 16 sums (+ C) (+ bias, activation) stored
// straight into C, the columns past nr masked. The same products in the same k order as
// GemmTileAvx2 over a packed A panel, so the same sums.
void TileStore(int64_t kc, const float* a, int64_t lda, const float* b, float* c, int64_t rsc, int64_t mr, int64_t nr,
               bool add, bool finish, const float* bias, Activation act, float alpha) {
  Acc6x16 t;
  t.Run(kc, a, a + std::min<int64_t>(1, mr - 1) * lda, a + std::min<int64_t>(2, mr - 1) * lda,
        a + std::min<int64_t>(3, mr - 1) * lda, a + std::min<int64_t>(4, mr - 1) * lda,
        a + std::min<int64_t>(5, mr - 1) * lda, 1, b);
  const __m256 alpha_v = _mm256_set1_ps(alpha);
  const bool full = nr == kNR;
  // Lanes of the two 8-column halves that exist (a partial last panel).
  const __m256i m0 = simd::FirstLanes8(nr), m1 = simd::FirstLanes8(nr - 8);
  const __m256 bias0 = finish && bias ? _mm256_maskload_ps(bias, m0) : _mm256_setzero_ps();
  const __m256 bias1 = finish && bias && nr > 8 ? _mm256_maskload_ps(bias + 8, m1) : _mm256_setzero_ps();
  auto put = [&](float* p, __m256 v, __m256 bv, __m256i m) {
    if (add) v = _mm256_add_ps(v, full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m));
    if (finish) {
      if (bias) v = _mm256_add_ps(v, bv);
      v = Act(v, act, alpha_v);
    }
    if (full)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, m, v);
  };
  auto row = [&](int64_t r, __m256 x0, __m256 x1) {
    if (r >= mr) return;
    float* p = c + r * rsc;
    put(p, x0, bias0, m0);
    if (nr > 8) put(p + 8, x1, bias1, m1);
  };
  row(0, t.c00, t.c01);
  row(1, t.c10, t.c11);
  row(2, t.c20, t.c21);
  row(3, t.c30, t.c31);
  row(4, t.c40, t.c41);
  row(5, t.c50, t.c51);
}

// Kernels::gemm_packed_b: the driver's GemmPackedB loops (K blocks, row blocks, panels, row
// tiles) with A read in place and the tile stored straight into C. The driver's own loop packs
// A (a scalar transpose per K block), computes into a stack tile, copies it out and then adds
// the bias and activation in scalar loops: on the narrow float layers an int8 model keeps
// (K of 16–144) that bookkeeping cost as much as the tile kernel. Measured on Zen 3 (one
// thread, per call): 12544 × 16 × 96 709 → 503 µs, 3136 × 144 × 24 449 → 319, 3136 × 27 × 32
// 104 → 64, 784 × 576 × 128 1376 → 1215.
void GemmPackedBAvx2(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b, int64_t panel_stride,
                     float* C, int64_t rsc, const float* bias, Activation act, float alpha) {
  const bool epi = bias != nullptr || act != Activation::kLinear;
  const int64_t npanels = (N + kNR - 1) / kNR;
  for (int64_t pc = 0; pc < K; pc += detail::kKC) {
    const int64_t kc = std::min(detail::kKC, K - pc);
    const bool finish = epi && pc + kc >= K;
    for (int64_t ic = 0; ic < M; ic += detail::kMC) {
      const int64_t mc = std::min(detail::kMC, M - ic);
      for (int64_t jp = 0; jp < npanels; jp++) {
        const int64_t j0 = jp * kNR;
        const int64_t nr = std::min<int64_t>(kNR, N - j0);
        const float* bp = b + jp * panel_stride + pc * kNR;
        for (int64_t i0 = ic; i0 < ic + mc; i0 += kMR) {
          const int64_t mr = std::min<int64_t>(kMR, M - i0);
          TileStore(kc, a + i0 * lda + pc, lda, bp, C + i0 * rsc + j0, rsc, mr, nr, pc > 0, finish,
                    bias ? bias + j0 : nullptr, act, alpha);
        }
      }
    }
  }
}

void DotRowsAvx2(int64_t n, int64_t len, const float* x, int64_t xstep, const float* y, int64_t ystep, float* acc) {
  int64_t j = 0;
  for (; j + 32 <= len; j += 32) {
    __m256 a0 = _mm256_loadu_ps(acc + j), a1 = _mm256_loadu_ps(acc + j + 8);
    __m256 a2 = _mm256_loadu_ps(acc + j + 16), a3 = _mm256_loadu_ps(acc + j + 24);
    const float* xi = x + j;
    const float* yi = y + j;
    for (int64_t i = 0; i < n; i++, xi += xstep, yi += ystep) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xi), _mm256_loadu_ps(yi), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xi + 8), _mm256_loadu_ps(yi + 8), a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xi + 16), _mm256_loadu_ps(yi + 16), a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(xi + 24), _mm256_loadu_ps(yi + 24), a3);
    }
    _mm256_storeu_ps(acc + j, a0);
    _mm256_storeu_ps(acc + j + 8, a1);
    _mm256_storeu_ps(acc + j + 16, a2);
    _mm256_storeu_ps(acc + j + 24, a3);
  }
  for (; j + 8 <= len; j += 8) {
    __m256 a0 = _mm256_loadu_ps(acc + j);
    const float* xi = x + j;
    const float* yi = y + j;
    for (int64_t i = 0; i < n; i++, xi += xstep, yi += ystep)
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xi), _mm256_loadu_ps(yi), a0);
    _mm256_storeu_ps(acc + j, a0);
  }
  if (j < len) {
    const __m256i m = simd::FirstLanes8(len - j);
    __m256 a0 = _mm256_maskload_ps(acc + j, m);
    const float* xi = x + j;
    const float* yi = y + j;
    for (int64_t i = 0; i < n; i++, xi += xstep, yi += ystep)
      a0 = _mm256_fmadd_ps(_mm256_maskload_ps(xi, m), _mm256_maskload_ps(yi, m), a0);
    _mm256_maskstore_ps(acc + j, m, a0);
  }
}

// Kernels::add_runs: 8 floats per add, the last ones of each run masked.
void AddRunsAvx2(float* y, int64_t y_step, const float* x, int64_t x_step, int64_t runs, int64_t len) {
  const int64_t full = len / 8 * 8;
  const __m256i tail = simd::FirstLanes8(len - full);
  for (int64_t r = 0; r < runs; r++) {
    float* yr = y + r * y_step;
    const float* xr = x + r * x_step;
    for (int64_t i = 0; i < full; i += 8)
      _mm256_storeu_ps(yr + i, _mm256_add_ps(_mm256_loadu_ps(yr + i), _mm256_loadu_ps(xr + i)));
    if (full < len)
      _mm256_maskstore_ps(yr + full, tail,
                          _mm256_add_ps(_mm256_maskload_ps(yr + full, tail), _mm256_maskload_ps(xr + full, tail)));
  }
}

}  // namespace

const Kernels& Avx2Kernels() {
  static const Kernels k{GemmTileAvx2, DotRowsAvx2, GemmPackedBAvx2, nullptr, nullptr, AddRunsAvx2};
  return k;
}

}  // namespace f32
}  // namespace tfjq
