// AVX-512 int8 / uint8 PReLU (compiled with the avx512vnni flags; AVX-512 F/BW is all it
// uses): the scalar formula (ops.h, PreluQ) at 16 lanes, the row's last channels under a mask,
// so the same bytes as the scalar kernel. Per row of C channels: d = q − zx,
// v = fl32(d · (d < 0 ? mn[c] : mp)), then the §7 finish. The per-channel table the portable
// path uses costs one dependent byte load per value (0.76 ns each on iris's 32×32×64 maps);
// this is about 12 instructions per 16 values.
#include "common/simd_x86.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

namespace {

template <bool kSigned, typename T>
int64_t PreluRows512(const T* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p, T* y) {
  const __m512i vzx = _mm512_set1_epi32(p.x_zero_point), vzo = _mm512_set1_epi32(p.y_zero_point);
  const __m512 vlo = _mm512_set1_ps(static_cast<float>(p.y_min - p.y_zero_point));
  const __m512 vhi = _mm512_set1_ps(static_cast<float>(p.y_max - p.y_zero_point));
  const __m512 vmp = _mm512_set1_ps(mp);
  for (int64_t r = 0; r < rows; r++) {
    const T* xr = x + r * C;
    T* yr = y + r * C;
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = simd::FirstLanes16(C - c);
      const __m128i raw = _mm_maskz_loadu_epi8(m, xr + c);
      const __m512i d = _mm512_sub_epi32(kSigned ? _mm512_cvtepi8_epi32(raw) : _mm512_cvtepu8_epi32(raw), vzx);
      const __mmask16 neg = _mm512_cmplt_epi32_mask(d, _mm512_setzero_si512());
      const __m512 mul = _mm512_mask_blend_ps(neg, vmp, _mm512_maskz_loadu_ps(m, mn + c));
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(d), mul);
      // §7 finish (as Finish8): clamp in output units, round to nearest even, + zo; the values
      // are then inside the output type, so each lane's low byte is the stored value.
      v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi);
      _mm512_mask_cvtepi32_storeu_epi8(yr + c, m, _mm512_add_epi32(_mm512_cvtps_epi32(v), vzo));
    }
  }
  return C;
}

}  // namespace

int64_t PreluRowsAvx512S8(const int8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                          int8_t* y) {
  return PreluRows512<true, int8_t>(x, rows, C, mn, mp, p, y);
}
int64_t PreluRowsAvx512U8(const uint8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                          uint8_t* y) {
  return PreluRows512<false, uint8_t>(x, rows, C, mn, mp, p, y);
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
