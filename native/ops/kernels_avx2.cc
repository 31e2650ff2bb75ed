// AVX2 operator kernels (compiled with -mavx2 -mfma -mf16c -mbmi2; used on AVX2, AVX-VNNI and
// AVX-512 VNNI machines); the depthwise ones are in depthwise_avx2.cc and depthwise_f32_avx2.cc. Each equals the
// reference kernel bit for bit:
// - binary ops: 8 elements at a time in float32, the same operations as the scalar formula.
// - LUT: 32 bytes per step, 16 VPSHUFB lookups over the 16-entry slices of the table.
// - PReLU: 8 channels at a time in float32, the scalar formula's operations.
#include <immintrin.h>

#include "ops/avx2_common.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

namespace {

template <bool kSigned, typename T>
int64_t BinaryQuantImpl(BinaryOp op, const T* a, const T* b, bool b_scalar, int64_t n, const BinaryQ& p, T* y) {
  const __m256i vza = _mm256_set1_epi32(p.a_zero_point), vzb = _mm256_set1_epi32(p.b_zero_point);
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(p.y_min - p.y_zero_point));
  const __m256 vhi = _mm256_set1_ps(static_cast<float>(p.y_max - p.y_zero_point));
  const __m256i vzo = _mm256_set1_epi32(p.y_zero_point);
  const float ma = p.a_scale / p.y_scale, mb = p.b_scale / p.y_scale;
  const float mm = (p.a_scale * p.b_scale) / p.y_scale;
  const __m256 vma = _mm256_set1_ps(ma), vmb = _mm256_set1_ps(mb), vmm = _mm256_set1_ps(mm);
  __m256i db_s = _mm256_setzero_si256();
  if (b_scalar) db_s = _mm256_set1_epi32(int32_t(b[0]) - p.b_zero_point);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i da = _mm256_sub_epi32(Load8x32<kSigned>(a + i), vza);
    const __m256i db = b_scalar ? db_s : _mm256_sub_epi32(Load8x32<kSigned>(b + i), vzb);
    __m256 v;
    if (op == BinaryOp::kMul) {
      v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_mullo_epi32(da, db)), vmm);
    } else {
      const __m256 va = _mm256_mul_ps(_mm256_cvtepi32_ps(da), vma);
      const __m256 vb = _mm256_mul_ps(_mm256_cvtepi32_ps(db), vmb);
      switch (op) {
        case BinaryOp::kAdd:
          v = _mm256_add_ps(va, vb);
          break;
        case BinaryOp::kSub:
          v = _mm256_sub_ps(va, vb);
          break;
        case BinaryOp::kMaximum:
          v = _mm256_max_ps(va, vb);
          break;
        default:
          v = _mm256_min_ps(va, vb);
          break;
      }
    }
    Store8<kSigned>(y + i, Finish8(v, vlo, vhi, vzo));
  }
  return i;
}

template <bool kSigned, typename T>
int64_t PreluRowsImpl(const T* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p, T* y) {
  const __m256i vzx = _mm256_set1_epi32(p.x_zero_point), vzo = _mm256_set1_epi32(p.y_zero_point);
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(p.y_min - p.y_zero_point));
  const __m256 vhi = _mm256_set1_ps(static_cast<float>(p.y_max - p.y_zero_point));
  const __m256 vmp = _mm256_set1_ps(mp);
  const int64_t whole = C / 8 * 8;
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t c = 0; c < whole; c += 8) {
      const __m256i d = _mm256_sub_epi32(Load8x32<kSigned>(x + r * C + c), vzx);
      const __m256 neg = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_setzero_si256(), d));
      const __m256 mul = _mm256_blendv_ps(vmp, _mm256_loadu_ps(mn + c), neg);
      Store8<kSigned>(y + r * C + c, Finish8(_mm256_mul_ps(_mm256_cvtepi32_ps(d), mul), vlo, vhi, vzo));
    }
  }
  return whole;
}

}  // namespace

int64_t PreluRowsAvx2S8(const int8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                        int8_t* y) {
  return PreluRowsImpl<true, int8_t>(x, rows, C, mn, mp, p, y);
}
int64_t PreluRowsAvx2U8(const uint8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                        uint8_t* y) {
  return PreluRowsImpl<false, uint8_t>(x, rows, C, mn, mp, p, y);
}

int64_t ApplyLutAvx2(const uint8_t table[256], const uint8_t* x, int64_t n, uint8_t* y) {
  __m256i slices[16];
  for (int k = 0; k < 16; k++) {
    slices[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * k)));
  }
  const __m256i low = _mm256_set1_epi8(0x0F);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i));
    const __m256i lo = _mm256_and_si256(v, low);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
    __m256i r = _mm256_setzero_si256();
    for (int k = 0; k < 16; k++) {
      const __m256i hit = _mm256_cmpeq_epi8(hi, _mm256_set1_epi8(static_cast<char>(k)));
      r = _mm256_or_si256(r, _mm256_and_si256(hit, _mm256_shuffle_epi8(slices[k], lo)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), r);
  }
  return i;
}

int64_t BinaryQuantAvx2S8(BinaryOp op, const int8_t* a, const int8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                          int8_t* y) {
  return BinaryQuantImpl<true, int8_t>(op, a, b, b_scalar, n, p, y);
}
int64_t BinaryQuantAvx2U8(BinaryOp op, const uint8_t* a, const uint8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                          uint8_t* y) {
  return BinaryQuantImpl<false, uint8_t>(op, a, b, b_scalar, n, p, y);
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
