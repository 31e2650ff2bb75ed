// The vectorized §7 epilogues of the x86 paths (AVX2 instructions): int32 tiles → int32,
// requantized int8 / uint8, or dequantized float32 (docs/quantization.md §7). Shared by every
// x86 GEMM path (AVX2, AVX-VNNI, AVX-512 VNNI) and the AVX2 sparse kernels, so it lives
// apart from any one path's microkernels. Each loop performs the same float operations in
// the same order as the scalar StoreOne / CorrectAcc of gemm_ref.cc (bit-identical).
#include <cstring>
#include <type_traits>

#include "common/simd_x86.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {
namespace {

// The low `rem` bytes of v (1 ≤ rem ≤ 7) stored at p, by fixed-size stores (a variable-size
// memcpy would be a call per row).
inline void StoreLowBytes(void* p, __m128i v, int64_t rem) {
  uint64_t x = static_cast<uint64_t>(_mm_cvtsi128_si64(v));
  uint8_t* d = static_cast<uint8_t*>(p);
  if (rem & 4) {
    const uint32_t w = static_cast<uint32_t>(x);
    std::memcpy(d, &w, 4);
    d += 4;
    x >>= 32;
  }
  if (rem & 2) {
    const uint16_t w = static_cast<uint16_t>(x);
    std::memcpy(d, &w, 2);
    d += 2;
    x >>= 16;
  }
  if (rem & 1) *d = static_cast<uint8_t>(x);
}

// The common int8-inference case (one activation zero point per call, so the column term is
// precomputed; zero weight zero points): requantize 16 values per iteration with two
// independent chains, output type fixed at compile time. Same float operations, in the same
// order, as the general loop below and the scalar StoreOne.
template <bool kSigned>
void RequantRows(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, int64_t m0, int rows, int64_t n0, int64_t cols) {
  using T = typename std::conditional<kSigned, int8_t, uint8_t>::type;
  const __m256 qlo = _mm256_set1_ps(ctx.qlo_f), qhi = _mm256_set1_ps(ctx.qhi_f);
  const __m256i zo = _mm256_set1_epi32(ctx.zo);
  const int32_t* ct = ctx.col_term + n0;
  const float* mult = ctx.mult + n0;
  auto requant_v = [&](__m256i acc_v, __m256i ctv, __m256 mv) {
    const __m256i v = _mm256_add_epi32(acc_v, ctv);
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), mv);
    y = _mm256_min_ps(_mm256_max_ps(y, qlo), qhi);
    const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(y), zo);
    return _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));  // 8 × int16
  };
  auto requant = [&](const int32_t* src, __m256i ctv, __m256 mv) {
    return requant_v(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)), ctv, mv);
  };
  auto ld_i = [](const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  T* const out = static_cast<T*>(ctx.c) + m0 * ctx.ldc + n0;
  int64_t j = 0;
  // Column blocks outside, rows inside: the column term and multipliers of a block are
  // loaded once for all the rows (the driver passes a whole row block per panel).
  for (; j + 16 <= cols; j += 16) {
    const __m256i ct0 = ld_i(ct + j), ct1 = ld_i(ct + j + 8);
    const __m256 mu0 = _mm256_loadu_ps(mult + j), mu1 = _mm256_loadu_ps(mult + j + 8);
    for (int i = 0; i < rows; i++) {
      const int32_t* src = acc + i * ldacc + j;
      const __m128i w0 = requant(src, ct0, mu0), w1 = requant(src + 8, ct1, mu1);
      const __m128i q = kSigned ? _mm_packs_epi16(w0, w1) : _mm_packus_epi16(w0, w1);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i * ctx.ldc + j), q);
    }
  }
  if (j + 8 <= cols) {
    const __m256i ct0 = ld_i(ct + j);
    const __m256 mu0 = _mm256_loadu_ps(mult + j);
    for (int i = 0; i < rows; i++) {
      const __m128i w = requant(acc + i * ldacc + j, ct0, mu0);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i * ctx.ldc + j),
                       kSigned ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w));
    }
    j += 8;
  }
  if (j < cols) {
    // The last 1–7 columns (a 4-column upsampling, a 1-channel head): the same operations on
    // masked lanes. Scalar, they took half of a 16384 × 16 × 4 GEMM.
    const int64_t rem = cols - j;
    const __m256i mask = simd::FirstLanes8(rem);
    const __m256i ct0 = _mm256_maskload_epi32(ct + j, mask);
    const __m256 mu0 = _mm256_maskload_ps(mult + j, mask);
    for (int i = 0; i < rows; i++) {
      const __m128i w = requant_v(_mm256_maskload_epi32(acc + i * ldacc + j, mask), ct0, mu0);
      StoreLowBytes(out + i * ctx.ldc + j, kSigned ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w), rem);
    }
  }
}

}  // namespace

void RequantRowsAvx2S8(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, int64_t m0, int rows, int64_t n0,
                       int64_t cols) {
  RequantRows<true>(ctx, acc, ldacc, m0, rows, n0, cols);
}
void RequantRowsAvx2U8(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, int64_t m0, int rows, int64_t n0,
                       int64_t cols) {
  RequantRows<false>(ctx, acc, ldacc, m0, rows, n0, cols);
}

// Dequantize to float32 (the dynamic-quantization path and float-output layers) without
// weight zero points: column blocks of 8 outside, rows inside, so the column sums, bias,
// weight scales and float bias of a block are loaded once for all the rows of the call.
// Same operations in the same order as the general loop below and StoreOne.
void DequantRowsAvx2(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0,
                     int rows, int64_t n0, int64_t cols) {
  const __m256 alo = _mm256_set1_ps(ctx.act_lo), ahi = _mm256_set1_ps(ctx.act_hi);
  const bool act_lo = ctx.act != Activation::kLinear;
  const bool act_hi = ctx.act == Activation::kRelu6 || ctx.act == Activation::kClamp;
  float* const out = static_cast<float*>(ctx.c) + m0 * ctx.ldc + n0;
  // The 8 columns from j for every row; masked: the last 1–7 columns, on masked lanes (nothing
  // read or written past column cols), the same operations.
  auto block = [&](int64_t j, auto masked) {
    constexpr bool kMasked = decltype(masked)::value;
    const __m256i mask = simd::FirstLanes8(cols - j);
    auto li = [&](const int32_t* p) {
      return kMasked ? _mm256_maskload_epi32(p, mask) : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    };
    auto lf = [&](const float* p) { return kMasked ? _mm256_maskload_ps(p, mask) : _mm256_loadu_ps(p); };
    const int64_t n = n0 + j;
    const __m256i ct = ctx.col_term ? li(ctx.col_term + n) : _mm256_setzero_si256();
    const __m256i cs = ctx.col_term ? _mm256_setzero_si256() : li(ctx.col_sums + n);
    const __m256i bias = !ctx.col_term && ctx.bias ? li(ctx.bias + n) : _mm256_setzero_si256();
    const __m256 ws = lf(ctx.w_scales + n);
    const __m256 bf = ctx.bias_f32 ? lf(ctx.bias_f32 + n) : _mm256_setzero_ps();
    for (int i = 0; i < rows; i++) {
      const EpiRow& r = rows_info[i];
      __m256i v = li(acc + i * ldacc + j);
      if (ctx.col_term) {
        v = _mm256_add_epi32(v, ct);
      } else {
        v = _mm256_sub_epi32(v, _mm256_mullo_epi32(_mm256_set1_epi32(r.za), cs));
        if (ctx.bias) v = _mm256_add_epi32(v, bias);
      }
      const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(r.sa), ws);
      __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), sc);
      if (ctx.bias_f32) y = _mm256_add_ps(y, bf);
      if (act_lo) y = _mm256_max_ps(y, alo);
      if (act_hi) y = _mm256_min_ps(y, ahi);
      if constexpr (kMasked)
        _mm256_maskstore_ps(out + i * ctx.ldc + j, mask, y);
      else
        _mm256_storeu_ps(out + i * ctx.ldc + j, y);
    }
  };
  int64_t j = 0;
  for (; j + 8 <= cols; j += 8) block(j, std::false_type{});
  if (j < cols) block(j, std::true_type{});
}

void EpilogueAvx2(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0, int rows,
                  int64_t n0, int64_t cols) {
  if (ctx.col_term && !ctx.zb && (ctx.output == OutputType::kInt8 || ctx.output == OutputType::kUint8)) {
    if (ctx.output == OutputType::kInt8)
      RequantRowsAvx2S8(ctx, acc, ldacc, m0, rows, n0, cols);
    else
      RequantRowsAvx2U8(ctx, acc, ldacc, m0, rows, n0, cols);
    return;
  }
  if (!ctx.zb && ctx.output == OutputType::kFloat32) {
    DequantRowsAvx2(ctx, acc, ldacc, rows_info, m0, rows, n0, cols);
    return;
  }
  const __m256 qlo = _mm256_set1_ps(ctx.qlo_f), qhi = _mm256_set1_ps(ctx.qhi_f);
  const __m256i zo = _mm256_set1_epi32(ctx.zo);
  const __m256 alo = _mm256_set1_ps(ctx.act_lo), ahi = _mm256_set1_ps(ctx.act_hi);
  const bool act_lo = ctx.act != Activation::kLinear;
  const bool act_hi = ctx.act == Activation::kRelu6 || ctx.act == Activation::kClamp;
  for (int i = 0; i < rows; i++) {
    const EpiRow& r = rows_info[i];
    const int32_t* src = acc + i * ldacc;
    const int64_t m = m0 + i;
    const __m256i za = _mm256_set1_epi32(r.za), zbc = _mm256_set1_epi32(r.zbc);
    const __m256 sa = _mm256_set1_ps(r.sa);
    int64_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      const int64_t n = n0 + j;
      __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + j));
      if (ctx.col_term) {
        v = _mm256_add_epi32(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctx.col_term + n)));
      } else {
        v = _mm256_sub_epi32(
            v, _mm256_mullo_epi32(za, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctx.col_sums + n))));
        if (ctx.bias) v = _mm256_add_epi32(v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctx.bias + n)));
      }
      if (ctx.zb)
        v = _mm256_add_epi32(v,
                             _mm256_mullo_epi32(zbc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctx.zb + n))));
      const int64_t at = m * ctx.ldc + n;
      switch (ctx.output) {
        case OutputType::kInt32:
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(static_cast<int32_t*>(ctx.c) + at), v);
          break;
        case OutputType::kInt8:
        case OutputType::kUint8: {
          __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(ctx.mult + n));
          y = _mm256_min_ps(_mm256_max_ps(y, qlo), qhi);
          const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(y), zo);
          const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
          if (ctx.output == OutputType::kInt8) {
            _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<int8_t*>(ctx.c) + at), _mm_packs_epi16(w, w));
          } else {
            _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<uint8_t*>(ctx.c) + at), _mm_packus_epi16(w, w));
          }
          break;
        }
        case OutputType::kFloat32: {
          const __m256 s = _mm256_mul_ps(sa, _mm256_loadu_ps(ctx.w_scales + n));
          __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), s);
          if (ctx.bias_f32) y = _mm256_add_ps(y, _mm256_loadu_ps(ctx.bias_f32 + n));
          if (act_lo) y = _mm256_max_ps(y, alo);
          if (act_hi) y = _mm256_min_ps(y, ahi);
          _mm256_storeu_ps(static_cast<float*>(ctx.c) + at, y);
          break;
        }
      }
    }
    for (; j < cols; j++) StoreOne(ctx, CorrectAcc(ctx, src[j], r, n0 + j), r, m, n0 + j);
  }
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
