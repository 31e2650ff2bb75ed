// AVX2 + FMA microkernels (compiled with -mavx2 -mfma; explicit FMA intrinsics because the
// build uses -ffp-contract=off).
#include <immintrin.h>

#include "train/kernels.h"

namespace tfjq {
namespace train {
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
    av = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
    a += kMR;
    b += kNR;
  }
  _mm256_storeu_ps(c + 0 * kNR, c00); _mm256_storeu_ps(c + 0 * kNR + 8, c01);
  _mm256_storeu_ps(c + 1 * kNR, c10); _mm256_storeu_ps(c + 1 * kNR + 8, c11);
  _mm256_storeu_ps(c + 2 * kNR, c20); _mm256_storeu_ps(c + 2 * kNR + 8, c21);
  _mm256_storeu_ps(c + 3 * kNR, c30); _mm256_storeu_ps(c + 3 * kNR + 8, c31);
  _mm256_storeu_ps(c + 4 * kNR, c40); _mm256_storeu_ps(c + 4 * kNR + 8, c41);
  _mm256_storeu_ps(c + 5 * kNR, c50); _mm256_storeu_ps(c + 5 * kNR + 8, c51);
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
    _mm256_storeu_ps(acc + j, a0); _mm256_storeu_ps(acc + j + 8, a1);
    _mm256_storeu_ps(acc + j + 16, a2); _mm256_storeu_ps(acc + j + 24, a3);
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

// R rows (1 or 2) × 32 columns (4 vectors; masked past `cols`), one FMA chain per output in
// K order. Weights are streamed from their row-major layout: at batch 1–4 packing B costs
// more than the product (768 × 3072 at one row: 3.6–3.9 ms packing every call, 0.8–1.1 streamed).
template <int R>
void GemvBlockAvx2T(int64_t k, const float* x, int64_t ldx, const float* w, int64_t ldw, int cols, float* y,
                    int64_t ldy) {
  auto mask = [](int64_t rem) { return TailMask(rem < 0 ? 0 : rem > 8 ? 8 : rem); };  // lanes < rem
  const __m256i m0 = mask(cols), m1 = mask(cols - 8), m2 = mask(cols - 16), m3 = mask(cols - 24);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const float* x1 = x + ldx;
  auto step = [&](int64_t p, __m256 w0, __m256 w1, __m256 w2, __m256 w3) {
    const __m256 xa = _mm256_broadcast_ss(x + p);
    a0 = _mm256_fmadd_ps(xa, w0, a0); a1 = _mm256_fmadd_ps(xa, w1, a1);
    a2 = _mm256_fmadd_ps(xa, w2, a2); a3 = _mm256_fmadd_ps(xa, w3, a3);
    if constexpr (R == 2) {
      const __m256 xb = _mm256_broadcast_ss(x1 + p);
      b0 = _mm256_fmadd_ps(xb, w0, b0); b1 = _mm256_fmadd_ps(xb, w1, b1);
      b2 = _mm256_fmadd_ps(xb, w2, b2); b3 = _mm256_fmadd_ps(xb, w3, b3);
    }
  };
  if (cols == 32) {
    for (int64_t p = 0; p < k; p++, w += ldw) step(p, _mm256_loadu_ps(w), _mm256_loadu_ps(w + 8), _mm256_loadu_ps(w + 16), _mm256_loadu_ps(w + 24));
  } else {
    for (int64_t p = 0; p < k; p++, w += ldw) {
      step(p, _mm256_maskload_ps(w, m0), _mm256_maskload_ps(w + 8, m1), _mm256_maskload_ps(w + 16, m2), _mm256_maskload_ps(w + 24, m3));
    }
  }
  _mm256_maskstore_ps(y, m0, a0); _mm256_maskstore_ps(y + 8, m1, a1);
  _mm256_maskstore_ps(y + 16, m2, a2); _mm256_maskstore_ps(y + 24, m3, a3);
  if constexpr (R == 2) {
    _mm256_maskstore_ps(y + ldy, m0, b0); _mm256_maskstore_ps(y + ldy + 8, m1, b1);
    _mm256_maskstore_ps(y + ldy + 16, m2, b2); _mm256_maskstore_ps(y + ldy + 24, m3, b3);
  }
}

// 3–4 rows × 16 columns (2 vectors): all rows in one pass over the weights. Passes per row
// pair would re-read B's column strip, which (rows N·4 bytes apart) maps onto a few L2 sets
// and does not stay cached.
template <int R>
void GemvBlock4Avx2T(int64_t k, const float* x, int64_t ldx, const float* w, int64_t ldw, int cols, float* y,
                     int64_t ldy) {
  auto mask = [](int64_t rem) { return TailMask(rem < 0 ? 0 : rem > 8 ? 8 : rem); };
  const __m256i m0 = mask(cols), m1 = mask(cols - 8);
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
  const float* x1 = x + ldx;
  const float* x2 = x + 2 * ldx;
  const float* x3 = x + 3 * ldx;
  for (int64_t p = 0; p < k; p++, w += ldw) {
    const __m256 w0 = _mm256_maskload_ps(w, m0), w1 = _mm256_maskload_ps(w + 8, m1);
    const __m256 xa = _mm256_broadcast_ss(x + p), xb = _mm256_broadcast_ss(x1 + p), xc = _mm256_broadcast_ss(x2 + p);
    a0 = _mm256_fmadd_ps(xa, w0, a0); a1 = _mm256_fmadd_ps(xa, w1, a1);
    b0 = _mm256_fmadd_ps(xb, w0, b0); b1 = _mm256_fmadd_ps(xb, w1, b1);
    c0 = _mm256_fmadd_ps(xc, w0, c0); c1 = _mm256_fmadd_ps(xc, w1, c1);
    if constexpr (R == 4) {
      const __m256 xd = _mm256_broadcast_ss(x3 + p);
      d0 = _mm256_fmadd_ps(xd, w0, d0); d1 = _mm256_fmadd_ps(xd, w1, d1);
    }
  }
  _mm256_maskstore_ps(y, m0, a0); _mm256_maskstore_ps(y + 8, m1, a1);
  _mm256_maskstore_ps(y + ldy, m0, b0); _mm256_maskstore_ps(y + ldy + 8, m1, b1);
  _mm256_maskstore_ps(y + 2 * ldy, m0, c0); _mm256_maskstore_ps(y + 2 * ldy + 8, m1, c1);
  if constexpr (R == 4) { _mm256_maskstore_ps(y + 3 * ldy, m0, d0); _mm256_maskstore_ps(y + 3 * ldy + 8, m1, d1); }
}

void GemvBlockAvx2(int64_t k, int rows, const float* x, int64_t ldx, const float* w, int64_t ldw, int cols, float* y,
                   int64_t ldy) {
  switch (rows) {
    case 1: GemvBlockAvx2T<1>(k, x, ldx, w, ldw, cols, y, ldy); break;
    case 2: GemvBlockAvx2T<2>(k, x, ldx, w, ldw, cols, y, ldy); break;
    default:  // 3 or 4 rows: 16 columns at a time
      for (int c0 = 0; c0 < cols; c0 += 16) {
        const int cc = cols - c0 < 16 ? cols - c0 : 16;
        if (rows == 3) GemvBlock4Avx2T<3>(k, x, ldx, w + c0, ldw, cc, y + c0, ldy);
        else GemvBlock4Avx2T<4>(k, x, ldx, w + c0, ldw, cc, y + c0, ldy);
      }
  }
}

}  // namespace

const Kernels& Avx2Kernels() {
  static const Kernels k{GemmTileAvx2, DotRowsAvx2, GemvBlockAvx2};
  return k;
}

}  // namespace train
}  // namespace tfjq
