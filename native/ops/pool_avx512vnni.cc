// AVX-512 max pooling of one output pixel (compiled with the avx512vnni flags; AVX-512 F/BW is
// all it uses): the maximum over the window's taps of C channels, 16 floats or 64 bytes per
// vector, the last channels under a mask. The portable per-tap loops ran one tap over C
// channels at a time with a scalar tail and, for float32, a NaN test as compare-and-blend on
// 4-lane vectors: 81 ns a pixel for a 2×2 pool of 64 channels (0.32 ms for 126×126×64 → 63×63),
// a third of a published anti-spoofing model's time.
#include "common/simd_x86.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

// acc = a > acc or a is NaN ? a : acc per lane, from the first tap on: the portable
// MaxIntoF32's comparison (a NaN is kept, the last in tap order; −∞ start or the first tap
// give the same bits), so the same result bit for bit.
void MaxTapsF32Avx512(const float* const* xs, int taps, int64_t C, float* y) {
  for (int64_t c = 0; c < C; c += 16) {
    const __mmask16 m = simd::FirstLanes16(C - c);
    __m512 acc = _mm512_maskz_loadu_ps(m, xs[0] + c);
    for (int t = 1; t < taps; t++) {
      const __m512 a = _mm512_maskz_loadu_ps(m, xs[t] + c);
      const __mmask16 take =
          _kor_mask16(_mm512_cmp_ps_mask(a, acc, _CMP_GT_OQ), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q));
      acc = _mm512_mask_mov_ps(acc, take, a);
    }
    _mm512_mask_storeu_ps(y + c, m, acc);
  }
}

template <bool kSigned, typename T>
void MaxTaps8(const T* const* xs, int taps, int64_t C, T lo, T hi, T* y) {
  const __m512i vlo = _mm512_set1_epi8(static_cast<char>(lo)), vhi = _mm512_set1_epi8(static_cast<char>(hi));
  for (int64_t c = 0; c < C; c += 64) {
    const __mmask64 m = C - c >= 64 ? ~__mmask64{0} : (__mmask64{1} << (C - c)) - 1;
    __m512i acc = _mm512_maskz_loadu_epi8(m, xs[0] + c);
    for (int t = 1; t < taps; t++) {
      const __m512i a = _mm512_maskz_loadu_epi8(m, xs[t] + c);
      acc = kSigned ? _mm512_max_epi8(acc, a) : _mm512_max_epu8(acc, a);
    }
    acc = kSigned ? _mm512_min_epi8(_mm512_max_epi8(acc, vlo), vhi) : _mm512_min_epu8(_mm512_max_epu8(acc, vlo), vhi);
    _mm512_mask_storeu_epi8(y + c, m, acc);
  }
}

void MaxTapsS8Avx512(const int8_t* const* xs, int taps, int64_t C, int8_t lo, int8_t hi, int8_t* y) {
  MaxTaps8<true>(xs, taps, C, lo, hi, y);
}
void MaxTapsU8Avx512(const uint8_t* const* xs, int taps, int64_t C, uint8_t lo, uint8_t hi, uint8_t* y) {
  MaxTaps8<false>(xs, taps, C, lo, hi, y);
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
