// AVX-512 quantized binary ops (compiled with the avx512vnni flags; AVX-512 F/BW is all it
// uses): the AVX2 kernel's arithmetic (kernels_avx2.cc) at 16 lanes, the last values under a
// mask, so the same bytes as the AVX2 and scalar kernels and the whole run in one call.
#include "common/simd_x86.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

namespace {

template <bool kSigned>
inline __m512i Load16x32(const void* p, __mmask16 m) {
  const __m128i v = _mm_maskz_loadu_epi8(m, p);
  return kSigned ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}

template <bool kSigned, typename T>
int64_t BinaryQuant512(BinaryOp op, const T* a, const T* b, bool b_scalar, int64_t n, const BinaryQ& p, T* y) {
  const __m512i vza = _mm512_set1_epi32(p.a_zero_point), vzb = _mm512_set1_epi32(p.b_zero_point);
  const __m512 vlo = _mm512_set1_ps(static_cast<float>(p.y_min - p.y_zero_point));
  const __m512 vhi = _mm512_set1_ps(static_cast<float>(p.y_max - p.y_zero_point));
  const __m512i vzo = _mm512_set1_epi32(p.y_zero_point);
  const float ma = p.a_scale / p.y_scale, mb = p.b_scale / p.y_scale;
  const float mm = (p.a_scale * p.b_scale) / p.y_scale;
  const __m512 vma = _mm512_set1_ps(ma), vmb = _mm512_set1_ps(mb), vmm = _mm512_set1_ps(mm);
  const __m512i db_s = b_scalar ? _mm512_set1_epi32(int32_t(b[0]) - p.b_zero_point) : _mm512_setzero_si512();
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t left = n - i;
    const __mmask16 m = simd::FirstLanes16(left);
    const __m512i da = _mm512_sub_epi32(Load16x32<kSigned>(a + i, m), vza);
    const __m512i db = b_scalar ? db_s : _mm512_sub_epi32(Load16x32<kSigned>(b + i, m), vzb);
    __m512 v;
    if (op == BinaryOp::kMul) {
      v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_mullo_epi32(da, db)), vmm);
    } else {
      const __m512 va = _mm512_mul_ps(_mm512_cvtepi32_ps(da), vma);
      const __m512 vb = _mm512_mul_ps(_mm512_cvtepi32_ps(db), vmb);
      switch (op) {
        case BinaryOp::kAdd:
          v = _mm512_add_ps(va, vb);
          break;
        case BinaryOp::kSub:
          v = _mm512_sub_ps(va, vb);
          break;
        case BinaryOp::kMaximum:
          v = _mm512_max_ps(va, vb);
          break;
        default:
          v = _mm512_min_ps(va, vb);
          break;
      }
    }
    // §7 finish (as Finish8): clamp in output units, round to nearest even, + zo; the values
    // are then inside the output type, so keeping each lane's low byte stores them.
    v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi);
    _mm512_mask_cvtepi32_storeu_epi8(y + i, m, _mm512_add_epi32(_mm512_cvtps_epi32(v), vzo));
  }
  return n;
}

}  // namespace

int64_t BinaryQuantAvx512S8(BinaryOp op, const int8_t* a, const int8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                            int8_t* y) {
  return BinaryQuant512<true, int8_t>(op, a, b, b_scalar, n, p, y);
}
int64_t BinaryQuantAvx512U8(BinaryOp op, const uint8_t* a, const uint8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                            uint8_t* y) {
  return BinaryQuant512<false, uint8_t>(op, a, b, b_scalar, n, p, y);
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
