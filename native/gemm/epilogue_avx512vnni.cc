// The AVX-512 VNNI path's epilogue: dequantize to float32 (dynamic quantization, float
// outputs; docs/quantization.md §7) 16 columns per instruction, with masked loads and stores
// for a panel's last columns instead of the scalar tail. Every other case (int32 output,
// requantize, weight zero points) is the AVX2 epilogue's. The float operations are those of
// DequantRowsAvx2 and the scalar StoreOne, in the same order (bit-identical).
// GCC 12's AVX-512 headers start masked and reducing intrinsics from a self-initialized
// `__Y = __Y` (_mm512_undefined_ps), which -W(maybe-)uninitialized reports at every use.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "common/simd_x86.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {

#if !TFJQ_SIMD_EMULATED
namespace {

// Lanes < n set (0 < n ≤ 16).
inline __mmask16 Lanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

// Column blocks of 16 outside, rows inside: the column term (or column sums and int32 bias),
// weight scales and float bias of a block are loaded once for every row of the call.
void DequantRowsAvx512(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0,
                       int rows, int64_t n0, int64_t cols) {
  const __m512 alo = _mm512_set1_ps(ctx.act_lo), ahi = _mm512_set1_ps(ctx.act_hi);
  const bool act_lo = ctx.act != Activation::kLinear;
  const bool act_hi = ctx.act == Activation::kRelu6 || ctx.act == Activation::kClamp;
  float* const out = static_cast<float*>(ctx.c) + m0 * ctx.ldc + n0;
  const int64_t ldc = ctx.ldc;
  for (int64_t j = 0; j < cols; j += 16) {
    const __mmask16 m = cols - j >= 16 ? static_cast<__mmask16>(0xFFFF) : Lanes(cols - j);
    const int64_t n = n0 + j;
    const __m512i ct = ctx.col_term ? _mm512_maskz_loadu_epi32(m, ctx.col_term + n) : _mm512_setzero_si512();
    const __m512i cs = ctx.col_term ? _mm512_setzero_si512() : _mm512_maskz_loadu_epi32(m, ctx.col_sums + n);
    const __m512i bias = !ctx.col_term && ctx.bias ? _mm512_maskz_loadu_epi32(m, ctx.bias + n) : _mm512_setzero_si512();
    const __m512 ws = _mm512_maskz_loadu_ps(m, ctx.w_scales + n);
    const __m512 bf = ctx.bias_f32 ? _mm512_maskz_loadu_ps(m, ctx.bias_f32 + n) : _mm512_setzero_ps();
    for (int i = 0; i < rows; i++) {
      const EpiRow& r = rows_info[i];
      __m512i v = _mm512_maskz_loadu_epi32(m, acc + i * ldacc + j);
      if (ctx.col_term) {
        v = _mm512_add_epi32(v, ct);
      } else {
        v = _mm512_sub_epi32(v, _mm512_mullo_epi32(_mm512_set1_epi32(r.za), cs));
        if (ctx.bias) v = _mm512_add_epi32(v, bias);
      }
      const __m512 sc = _mm512_mul_ps(_mm512_set1_ps(r.sa), ws);
      __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(v), sc);
      if (ctx.bias_f32) y = _mm512_add_ps(y, bf);
      if (act_lo) y = _mm512_max_ps(y, alo);
      if (act_hi) y = _mm512_min_ps(y, ahi);
      _mm512_mask_storeu_ps(out + i * ldc + j, m, y);
    }
  }
}

}  // namespace

void EpilogueAvx512(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0, int rows,
                    int64_t n0, int64_t cols) {
  if (!ctx.zb && ctx.output == OutputType::kFloat32) {
    DequantRowsAvx512(ctx, acc, ldacc, rows_info, m0, rows, n0, cols);
    return;
  }
  EpilogueAvx2(ctx, acc, ldacc, rows_info, m0, rows, n0, cols);
}
#else
// SIMDe (the emulated harness): the AVX2 epilogue, the same values.
void EpilogueAvx512(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0, int rows,
                    int64_t n0, int64_t cols) {
  EpilogueAvx2(ctx, acc, ldacc, rows_info, m0, rows, n0, cols);
}
#endif

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
