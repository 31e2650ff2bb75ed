// AVX2 + FMA microkernels (compiled with -mavx2 -mfma; explicit FMA intrinsics because the
// build uses -ffp-contract=off).
#include <immintrin.h>

#include "float/gemm_kernels.h"

namespace tfjq {
namespace f32 {
namespace {

void GemmTileAvx2(int64_t kc, const float* a, const float* b, float* c) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 av;
    av = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
    a += kMR;
    b += kNR;
  }
  _mm256_storeu_ps(c + 0 * kNR, c00);
  _mm256_storeu_ps(c + 0 * kNR + 8, c01);
  _mm256_storeu_ps(c + 1 * kNR, c10);
  _mm256_storeu_ps(c + 1 * kNR + 8, c11);
  _mm256_storeu_ps(c + 2 * kNR, c20);
  _mm256_storeu_ps(c + 2 * kNR + 8, c21);
  _mm256_storeu_ps(c + 3 * kNR, c30);
  _mm256_storeu_ps(c + 3 * kNR + 8, c31);
  _mm256_storeu_ps(c + 4 * kNR, c40);
  _mm256_storeu_ps(c + 4 * kNR + 8, c41);
  _mm256_storeu_ps(c + 5 * kNR, c50);
  _mm256_storeu_ps(c + 5 * kNR + 8, c51);
}

inline __m256i TailMask(int64_t rem) {
  alignas(32) static const int32_t kMask[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMask + 8 - rem));
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
    const __m256i m = TailMask(len - j);
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
  const __m256i tail = TailMask(len - full);
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
  static const Kernels k{GemmTileAvx2, DotRowsAvx2, nullptr, nullptr, nullptr, AddRunsAvx2};
  return k;
}

}  // namespace f32
}  // namespace tfjq
