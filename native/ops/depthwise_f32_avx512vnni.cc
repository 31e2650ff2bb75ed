// AVX-512 float32 depthwise convolution, multiplier 1 (compiled with the avx512vnni flags;
// AVX-512 F is all it uses): the AVX2 kernel's loops (depthwise_f32_avx2.cc) at 16 lanes, with
// masked loads and stores for the last channels instead of a separate tail loop. Per output
// the chain is the same — bias, then one FMA per tap in row-major order, then the clamp — so
// the same bits as the AVX2 kernel.
#include <vector>

#include "common/simd_x86.h"
#include "common/thread_pool.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

namespace {

void DepthwiseF32Rows512(const ConvGeom& g, const float* x, const float* filter, const float* bias, float y_min,
                         float y_max, float* y, int64_t rb, int64_t re) {
  const int64_t C = g.in_c;
  const int64_t max_taps = int64_t(g.k_h) * g.k_w;
  std::vector<const float*> xs(static_cast<size_t>(max_taps));
  std::vector<const float*> ws(static_cast<size_t>(max_taps));
  const __m512 lo = _mm512_set1_ps(y_min), hi = _mm512_set1_ps(y_max);
  // Operand order keeps NaN (MAXPS/MINPS return the second operand when either is NaN), as
  // std::min(std::max(v, lo), hi) does in the scalar kernel.
  auto clamp = [&](__m512 v) { return _mm512_min_ps(hi, _mm512_max_ps(lo, v)); };
  std::vector<int64_t> off(static_cast<size_t>(max_taps));
  for (int64_t t = 0; t < max_taps; t++)
    off[t] = ((t / g.k_w) * g.dilation_h * int64_t(g.in_w) + (t % g.k_w) * g.dilation_w) * C;
  const int64_t ekh = int64_t(g.k_h - 1) * g.dilation_h, ekw = int64_t(g.k_w - 1) * g.dilation_w;
  const int64_t sx = int64_t(g.stride_w) * C;
  // Channels [c, c + 16) under mask m (all ones but for the last block).
  auto mask = [&](int64_t c) { return simd::FirstLanes16(C - c); };
  // Four interior pixels from the window origin b0, stride sx apart: each weight load serves
  // four FMA chains.
  auto interior4 = [&](const float* b0, float* yp) {
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = mask(c);
      __m512 a0 = bias ? _mm512_maskz_loadu_ps(m, bias + c) : _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t t = 0; t < max_taps; t++) {
        const __m512 w = _mm512_maskz_loadu_ps(m, filter + t * C + c);
        const float* xp = b0 + off[static_cast<size_t>(t)] + c;
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp), w, a0);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + sx), w, a1);
        a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + 2 * sx), w, a2);
        a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + 3 * sx), w, a3);
      }
      _mm512_mask_storeu_ps(yp + c, m, clamp(a0));
      _mm512_mask_storeu_ps(yp + C + c, m, clamp(a1));
      _mm512_mask_storeu_ps(yp + 2 * C + c, m, clamp(a2));
      _mm512_mask_storeu_ps(yp + 3 * C + c, m, clamp(a3));
    }
  };
  // Eight channels, stride 1 (BlazePose's 256 × 256 × 8 decoder): a zmm holds two adjacent
  // pixels, whose inputs at each tap are 16 adjacent floats; eight interior pixels as four
  // pairs. The weights of a tap fill both halves. Same chain per output, same bits.
  const bool pairs = C == 8 && g.stride_w == 1;
  __m512 bias2 = _mm512_setzero_ps();
  if (pairs && bias) bias2 = _mm512_broadcast_f32x8(_mm256_loadu_ps(bias));
  auto interior8 = [&](const float* b0, float* yp) {
    __m512 a0 = bias2, a1 = bias2, a2 = bias2, a3 = bias2;
    for (int64_t t = 0; t < max_taps; t++) {
      const __m512 w = _mm512_broadcast_f32x8(_mm256_loadu_ps(filter + t * 8));
      const float* xp = b0 + off[static_cast<size_t>(t)];
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xp), w, a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 16), w, a1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 32), w, a2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 48), w, a3);
    }
    _mm512_storeu_ps(yp, clamp(a0));
    _mm512_storeu_ps(yp + 16, clamp(a1));
    _mm512_storeu_ps(yp + 32, clamp(a2));
    _mm512_storeu_ps(yp + 48, clamp(a3));
  };
  for (int64_t r = rb; r < re; r++) {
    const int64_t n = r / g.out_h, oy = r % g.out_h;
    const int64_t iy0 = oy * g.stride_h - g.pad_top;
    const bool rows_in = iy0 >= 0 && iy0 + ekh < g.in_h;
    for (int64_t ox = 0; ox < g.out_w; ox++) {
      const int64_t ix0 = ox * g.stride_w - g.pad_left;
      if (pairs && rows_in && ix0 >= 0 && ix0 + 7 + ekw < g.in_w && ox + 8 <= g.out_w) {
        interior8(x + ((n * g.in_h + iy0) * g.in_w + ix0) * C, y + (r * g.out_w + ox) * C);
        ox += 7;
        continue;
      }
      if (rows_in && ix0 >= 0 && ix0 + 3 * g.stride_w + ekw < g.in_w && ox + 4 <= g.out_w) {
        interior4(x + ((n * g.in_h + iy0) * g.in_w + ix0) * C, y + (r * g.out_w + ox) * C);
        ox += 3;
        continue;
      }
      const int64_t taps = WindowTaps(g, n, oy, ox, x, C, filter, C, xs.data(), ws.data());
      float* yp = y + (r * g.out_w + ox) * C;
      for (int64_t c = 0; c < C; c += 16) {
        const __mmask16 m = mask(c);
        __m512 a = bias ? _mm512_maskz_loadu_ps(m, bias + c) : _mm512_setzero_ps();
        for (int64_t t = 0; t < taps; t++) {
          a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xs[static_cast<size_t>(t)] + c),
                              _mm512_maskz_loadu_ps(m, ws[static_cast<size_t>(t)] + c), a);
        }
        _mm512_mask_storeu_ps(yp + c, m, clamp(a));
      }
    }
  }
}

}  // namespace

void DepthwiseF32Avx512(const ConvGeom& g, const float* x, const float* filter, const float* bias, float y_min,
                        float y_max, float* y, int threads) {
  const int64_t rows = int64_t(g.batch) * g.out_h;
  const int64_t work_per_row = std::max<int64_t>(1, int64_t(g.out_w) * g.in_c * g.k_h * g.k_w);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / work_per_row);
  ParallelFor(rows, grain, threads,
              [&](int64_t rb, int64_t re) { DepthwiseF32Rows512(g, x, filter, bias, y_min, y_max, y, rb, re); });
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
