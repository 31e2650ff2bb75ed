// AVX2 float32 depthwise convolution, multiplier 1 (compiled with -mavx2 -mfma -mf16c -mbmi2;
// used on AVX2 and AVX-VNNI machines; depthwise_f32_avx512vnni.cc is the same loops at 16
// lanes): FMA chains in the scalar kernel's tap order (bias, then the taps row-major, then the
// clamp), so the same bits as the reference. The 8-bit kernels are in depthwise_avx2.cc.
#include "common/simd_x86.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

namespace {

// float32 depthwise (multiplier 1): interior pixels four at a time (interior4); elsewhere, per
// output pixel, the in-bounds taps are listed once, then channels go 32 at a time (four
// independent FMA chains), 8 at a time, and a masked tail; each output is bias + the taps in
// row-major order (one FMA per tap), clamped.
void DepthwiseF32Rows(const ConvGeom& g, const float* x, const float* filter, const float* bias, float y_min,
                      float y_max, float* y, int64_t rb, int64_t re) {
  const int64_t C = g.in_c;
  const int64_t max_taps = int64_t(g.k_h) * g.k_w;
  std::vector<const float*> xs(static_cast<size_t>(max_taps));
  std::vector<const float*> ws(static_cast<size_t>(max_taps));
  const __m256 lo = _mm256_set1_ps(y_min), hi = _mm256_set1_ps(y_max);
  const int64_t C8 = C / 8 * 8;
  const __m256i tail = simd::FirstLanes8(C - C8);
  auto start = [&](int64_t c) { return bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps(); };
  // Operand order keeps NaN (MAXPS/MINPS return the second operand when either is NaN), as
  // std::min(std::max(v, lo), hi) does in the scalar kernel.
  auto clamp = [&](__m256 v) { return _mm256_min_ps(hi, _mm256_max_ps(lo, v)); };
  // Element offset of each tap from the window origin (interior pixels).
  std::vector<int64_t> off(static_cast<size_t>(max_taps));
  for (int64_t t = 0; t < max_taps; t++)
    off[t] = ((t / g.k_w) * g.dilation_h * int64_t(g.in_w) + (t % g.k_w) * g.dilation_w) * C;
  const int64_t ekh = int64_t(g.k_h - 1) * g.dilation_h, ekw = int64_t(g.k_w - 1) * g.dilation_w;
  const int64_t sx = int64_t(g.stride_w) * C;
  // Four interior pixels (windows inside the input) from the window origin b0, stride sx
  // apart: each weight load serves four FMA chains. Per output the chain is the one below
  // (bias, then every tap in row-major order), so the same bits.
  auto interior4 = [&](const float* b0, float* yp) {
    auto block = [&](int64_t c, auto load, auto store) {
      __m256 a0 = bias ? load(bias, c) : _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t t = 0; t < max_taps; t++) {
        const __m256 w = load(filter + t * C, c);
        const float* xp = b0 + off[static_cast<size_t>(t)];
        a0 = _mm256_fmadd_ps(load(xp, c), w, a0);
        a1 = _mm256_fmadd_ps(load(xp + sx, c), w, a1);
        a2 = _mm256_fmadd_ps(load(xp + 2 * sx, c), w, a2);
        a3 = _mm256_fmadd_ps(load(xp + 3 * sx, c), w, a3);
      }
      store(yp, c, clamp(a0));
      store(yp + C, c, clamp(a1));
      store(yp + 2 * C, c, clamp(a2));
      store(yp + 3 * C, c, clamp(a3));
    };
    auto load8 = [](const float* q, int64_t c) { return _mm256_loadu_ps(q + c); };
    auto store8 = [](float* q, int64_t c, __m256 v) { _mm256_storeu_ps(q + c, v); };
    auto load_tail = [&](const float* q, int64_t c) { return _mm256_maskload_ps(q + c, tail); };
    auto store_tail = [&](float* q, int64_t c, __m256 v) { _mm256_maskstore_ps(q + c, tail, v); };
    for (int64_t c = 0; c < C8; c += 8) block(c, load8, store8);
    if (C8 < C) block(C8, load_tail, store_tail);
  };
  for (int64_t r = rb; r < re; r++) {
    const int64_t n = r / g.out_h, oy = r % g.out_h;
    const int64_t iy0 = oy * g.stride_h - g.pad_top;
    const bool rows_in = iy0 >= 0 && iy0 + ekh < g.in_h;
    for (int64_t ox = 0; ox < g.out_w; ox++) {
      const int64_t ix0 = ox * g.stride_w - g.pad_left;
      if (rows_in && ix0 >= 0 && ix0 + 3 * g.stride_w + ekw < g.in_w && ox + 4 <= g.out_w) {
        interior4(x + ((n * g.in_h + iy0) * g.in_w + ix0) * C, y + (r * g.out_w + ox) * C);
        ox += 3;
        continue;
      }
      const int64_t taps = WindowTaps(g, n, oy, ox, x, C, filter, C, xs.data(), ws.data());
      float* yp = y + (r * g.out_w + ox) * C;
      int64_t c = 0;
      for (; c + 32 <= C; c += 32) {
        __m256 a0 = start(c), a1 = start(c + 8), a2 = start(c + 16), a3 = start(c + 24);
        for (int64_t t = 0; t < taps; t++) {
          const float* xp = xs[static_cast<size_t>(t)] + c;
          const float* wp = ws[static_cast<size_t>(t)] + c;
          a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xp), _mm256_loadu_ps(wp), a0);
          a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 8), _mm256_loadu_ps(wp + 8), a1);
          a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 16), _mm256_loadu_ps(wp + 16), a2);
          a3 = _mm256_fmadd_ps(_mm256_loadu_ps(xp + 24), _mm256_loadu_ps(wp + 24), a3);
        }
        _mm256_storeu_ps(yp + c, clamp(a0));
        _mm256_storeu_ps(yp + c + 8, clamp(a1));
        _mm256_storeu_ps(yp + c + 16, clamp(a2));
        _mm256_storeu_ps(yp + c + 24, clamp(a3));
      }
      for (; c + 8 <= C; c += 8) {
        __m256 a = start(c);
        for (int64_t t = 0; t < taps; t++) {
          a = _mm256_fmadd_ps(_mm256_loadu_ps(xs[static_cast<size_t>(t)] + c),
                              _mm256_loadu_ps(ws[static_cast<size_t>(t)] + c), a);
        }
        _mm256_storeu_ps(yp + c, clamp(a));
      }
      if (c < C) {
        __m256 a = bias ? _mm256_maskload_ps(bias + c, tail) : _mm256_setzero_ps();
        for (int64_t t = 0; t < taps; t++) {
          a = _mm256_fmadd_ps(_mm256_maskload_ps(xs[static_cast<size_t>(t)] + c, tail),
                              _mm256_maskload_ps(ws[static_cast<size_t>(t)] + c, tail), a);
        }
        _mm256_maskstore_ps(yp + c, tail, clamp(a));
      }
    }
  }
}

}  // namespace

void DepthwiseF32Avx2(const ConvGeom& g, const float* x, const float* filter, const float* bias, float y_min,
                      float y_max, float* y, int threads) {
  const int64_t rows = int64_t(g.batch) * g.out_h;
  const int64_t work_per_row = std::max<int64_t>(1, int64_t(g.out_w) * g.in_c * g.k_h * g.k_w);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 15) / work_per_row);
  ParallelFor(rows, grain, threads,
              [&](int64_t rb, int64_t re) { DepthwiseF32Rows(g, x, filter, bias, y_min, y_max, y, rb, re); });
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
