// AVX2 bilinear resize rows (compiled with -mavx2 -mfma -mf16c -mbmi2; used on every x86 SIMD
// path): 8 channels per step with the scalar kernel's arithmetic (ops.h, §11.8) — separate
// multiplies and adds (no FMA contraction, as the portable loop is built), then §7's finish —
// so the same values bit for bit; channels past the last whole 8 are left to that loop.
#include <immintrin.h>

#include "ops/avx2_common.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

namespace {

// tl + (tr − tl)·fx, then t + (b − t)·fy, each product and sum rounded to float32.
inline __m256 Lerp2(__m256 tl, __m256 tr, __m256 bl, __m256 br, __m256 fx, __m256 fy) {
  const __m256 t = _mm256_add_ps(tl, _mm256_mul_ps(_mm256_sub_ps(tr, tl), fx));
  const __m256 b = _mm256_add_ps(bl, _mm256_mul_ps(_mm256_sub_ps(br, bl), fx));
  return _mm256_add_ps(t, _mm256_mul_ps(_mm256_sub_ps(b, t), fy));
}

// The row walk both element types share: for each output pixel and each whole 8 channels,
// the four corner values (load: 8 values → float32), blended, then stored (store: the
// blended 8 floats → the output). Returns the channels done per pixel.
template <typename T, typename U, typename Load, typename Store>
int64_t RowVectors(const T* top, const T* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy, U* y,
                   Load load, Store store) {
  const __m256 vfy = _mm256_set1_ps(fy);
  const int64_t C8 = C / 8 * 8;
  for (int64_t ox = 0; ox < out_w; ox++) {
    const BilinearTap& ix = rx[ox];
    const T *tl = top + ix.lo * C, *tr = top + ix.hi * C, *bl = bot + ix.lo * C, *br = bot + ix.hi * C;
    U* yp = y + ox * C;
    const __m256 fx = _mm256_set1_ps(ix.frac);
    for (int64_t c = 0; c < C8; c += 8)
      store(yp + c, Lerp2(load(tl + c), load(tr + c), load(bl + c), load(br + c), fx, vfy));
  }
  return C8;
}

template <bool kSigned, typename T>
int64_t ResizeRowQ(const T* top, const T* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy,
                   const ResizeQ& p, T* y) {
  const __m256 vz = _mm256_set1_ps(static_cast<float>(p.x_zero_point)), vm = _mm256_set1_ps(p.x_scale / p.y_scale);
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(p.y_min - p.y_zero_point));
  const __m256 vhi = _mm256_set1_ps(static_cast<float>(p.y_max - p.y_zero_point));
  const __m256i vzo = _mm256_set1_epi32(p.y_zero_point);
  return RowVectors(
      top, bot, rx, out_w, C, fy, y,
      [&](const T* q) { return _mm256_sub_ps(_mm256_cvtepi32_ps(Load8x32<kSigned>(q)), vz); },
      [&](T* q, __m256 v) { Store8<kSigned>(q, Finish8(_mm256_mul_ps(v, vm), vlo, vhi, vzo)); });
}

}  // namespace

int64_t ResizeRowAvx2(const int8_t* top, const int8_t* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy,
                      const ResizeQ& p, int8_t* y) {
  return ResizeRowQ<true>(top, bot, rx, out_w, C, fy, p, y);
}
int64_t ResizeRowAvx2(const uint8_t* top, const uint8_t* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy,
                      const ResizeQ& p, uint8_t* y) {
  return ResizeRowQ<false>(top, bot, rx, out_w, C, fy, p, y);
}
int64_t ResizeRowF32Avx2(const float* top, const float* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy,
                         float* y) {
  return RowVectors(
      top, bot, rx, out_w, C, fy, y, [](const float* q) { return _mm256_loadu_ps(q); },
      [](float* q, __m256 v) { _mm256_storeu_ps(q, v); });
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
