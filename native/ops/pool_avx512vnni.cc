// AVX-512 max and average pooling of one output pixel (compiled with the avx512vnni flags;
// AVX-512 F/BW is all it uses): over the window's taps, C channels at 16 floats or 64 bytes a
// vector, the last channels under a mask. The portable per-tap loops ran one tap over C
// channels at a time with a scalar tail and, for float32, a NaN test as compare-and-blend on
// 4-lane vectors: 81 ns a pixel for a 2×2 pool of 64 channels (0.32 ms for 126×126×64 → 63×63),
// a third of a published anti-spoofing model's time.
#include "common/simd_x86.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

// The portable MaxIntoF32's rule, per lane: y = a > y or a is NaN ? a : y over the taps in
// order, so the maximum (the earlier of equal values, as for ±0) unless some tap is NaN, and
// then the last NaN. Written as that comparison and a masked move, every tap waited for the
// previous one (about 6 cycles a tap and vector: 0.8 ms for Inception's 147 × 147 × 64 pool);
// here the maximum is VMAXPS(a, acc) — a > acc ? a : acc, a 2-cycle chain — and the last NaN
// is kept apart, off that chain. Two channel vectors at a time: two chains in flight.
void MaxTapsF32Avx512(const float* const* xs, int taps, int64_t C, float* y) {
  for (int64_t c = 0; c < C; c += 32) {
    const __mmask16 m0 = simd::FirstLanes16(C - c), m1 = simd::FirstLanes16(C - c - 16);
    __m512 acc0 = _mm512_maskz_loadu_ps(m0, xs[0] + c), acc1 = _mm512_maskz_loadu_ps(m1, xs[0] + c + 16);
    __m512 nan0 = acc0, nan1 = acc1;
    for (int t = 1; t < taps; t++) {
      const __m512 a0 = _mm512_maskz_loadu_ps(m0, xs[t] + c), a1 = _mm512_maskz_loadu_ps(m1, xs[t] + c + 16);
      acc0 = _mm512_max_ps(a0, acc0);
      acc1 = _mm512_max_ps(a1, acc1);
      nan0 = _mm512_mask_mov_ps(nan0, _mm512_cmp_ps_mask(a0, a0, _CMP_UNORD_Q), a0);
      nan1 = _mm512_mask_mov_ps(nan1, _mm512_cmp_ps_mask(a1, a1, _CMP_UNORD_Q), a1);
    }
    acc0 = _mm512_mask_mov_ps(acc0, _mm512_cmp_ps_mask(nan0, nan0, _CMP_UNORD_Q), nan0);
    acc1 = _mm512_mask_mov_ps(acc1, _mm512_cmp_ps_mask(nan1, nan1, _CMP_UNORD_Q), nan1);
    _mm512_mask_storeu_ps(y + c, m0, acc0);
    if (m1) _mm512_mask_storeu_ps(y + c + 16, m1, acc1);
  }
}

// The portable AvgPoolF32's arithmetic per lane: 0, + each tap in order, × scale (1 / taps):
// the same bits. Two channel vectors in flight.
void AvgTapsF32Avx512(const float* const* xs, int taps, int64_t C, float scale, float* y) {
  const __m512 s = _mm512_set1_ps(scale);
  for (int64_t c = 0; c < C; c += 32) {
    const __mmask16 m0 = simd::FirstLanes16(C - c), m1 = simd::FirstLanes16(C - c - 16);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0;
    for (int t = 0; t < taps; t++) {
      acc0 = _mm512_add_ps(acc0, _mm512_maskz_loadu_ps(m0, xs[t] + c));
      acc1 = _mm512_add_ps(acc1, _mm512_maskz_loadu_ps(m1, xs[t] + c + 16));
    }
    _mm512_mask_storeu_ps(y + c, m0, _mm512_mul_ps(acc0, s));
    if (m1) _mm512_mask_storeu_ps(y + c + 16, m1, _mm512_mul_ps(acc1, s));
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
