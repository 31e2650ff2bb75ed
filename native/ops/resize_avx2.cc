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

template <bool kSigned, typename T>
int64_t ResizeRowQ(const T* top, const T* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy,
                   const ResizeQ& p, T* y) {
  const float m = p.x_scale / p.y_scale, z = static_cast<float>(p.x_zero_point);
  const __m256 vz = _mm256_set1_ps(z), vm = _mm256_set1_ps(m), vfy = _mm256_set1_ps(fy);
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(p.y_min - p.y_zero_point));
  const __m256 vhi = _mm256_set1_ps(static_cast<float>(p.y_max - p.y_zero_point));
  const __m256i vzo = _mm256_set1_epi32(p.y_zero_point);
  auto load = [&](const T* q) { return _mm256_sub_ps(_mm256_cvtepi32_ps(Load8x32<kSigned>(q)), vz); };
  const int64_t C8 = C / 8 * 8;
  for (int64_t ox = 0; ox < out_w; ox++) {
    const BilinearTap& ix = rx[ox];
    const T *tl = top + ix.lo * C, *tr = top + ix.hi * C, *bl = bot + ix.lo * C, *br = bot + ix.hi * C;
    T* yp = y + ox * C;
    const __m256 fx = _mm256_set1_ps(ix.frac);
    for (int64_t c = 0; c < C8; c += 8) {
      const __m256 v = Lerp2(load(tl + c), load(tr + c), load(bl + c), load(br + c), fx, vfy);
      Store8<kSigned>(yp + c, Finish8(_mm256_mul_ps(v, vm), vlo, vhi, vzo));
    }
  }
  return C8;
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
  const __m256 vfy = _mm256_set1_ps(fy);
  const int64_t C8 = C / 8 * 8;
  for (int64_t ox = 0; ox < out_w; ox++) {
    const BilinearTap& ix = rx[ox];
    const float *tl = top + ix.lo * C, *tr = top + ix.hi * C, *bl = bot + ix.lo * C, *br = bot + ix.hi * C;
    float* yp = y + ox * C;
    const __m256 fx = _mm256_set1_ps(ix.frac);
    for (int64_t c = 0; c < C8; c += 8) {
      _mm256_storeu_ps(yp + c, Lerp2(_mm256_loadu_ps(tl + c), _mm256_loadu_ps(tr + c), _mm256_loadu_ps(bl + c),
                                     _mm256_loadu_ps(br + c), fx, vfy));
    }
  }
  return C8;
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
