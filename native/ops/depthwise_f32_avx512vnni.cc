// AVX-512 float32 depthwise convolution, multiplier 1 (compiled with the avx512vnni flags;
// AVX-512 F is all it uses). Per output the chain is the AVX2 kernel's (depthwise_f32_avx2.cc)
// — bias, then one FMA per tap inside the input in row-major order, then the clamp — so the
// same bits; masked loads and stores take the last channels. The order of the work differs:
// within an output row, the columns whose windows lie inside the input go one 16-channel block
// at a time, eight columns per weight load (see interior_block).
#include <algorithm>
#include <numeric>
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
  const int64_t ekw = int64_t(g.k_w - 1) * g.dilation_w;
  const int64_t sx = int64_t(g.stride_w) * C;
  // Channels [c, c + 16) under mask m (all ones but for the last block).
  auto mask = [&](int64_t c) { return simd::FirstLanes16(C - c); };
  // Output columns whose windows lie inside the input along x: [ox_in0, ox_in1).
  const int64_t ox_in0 = std::min<int64_t>(g.out_w, (int64_t(g.pad_left) + g.stride_w - 1) / g.stride_w);
  const int64_t ox_in1 = std::max<int64_t>(
      ox_in0, std::min<int64_t>(
                  g.out_w, g.in_w - 1 - ekw + g.pad_left >= 0 ? (g.in_w - 1 - ekw + g.pad_left) / g.stride_w + 1 : 0));
  // Those columns of one output row, one 16-channel block at a time: the block's input rows
  // (k_h rows of in_w × 64 bytes) stay in L1 while every column reads them, where a pixel-major
  // order walked all C channels of k_h rows (hundreds of KB at C = 336) between two reuses.
  // Taps [t0, t1) are the window rows inside the input (all of them but on border rows), in
  // row-major order: per output the chain is bias, then one FMA per tap inside the input in
  // row-major order, then the clamp — the chain of the per-pixel path below, so the same bits.
  auto interior_block = [&](int64_t xb, float* yrow, int64_t c, int64_t t0, int64_t t1) {
    const __mmask16 m = mask(c);
    const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias + c) : _mm512_setzero_ps();
    int64_t ox = ox_in0;
    for (; ox + 8 <= ox_in1; ox += 8) {
      const int64_t o0 = xb + (ox * g.stride_w - g.pad_left) * C + c;
      __m512 a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
      for (int64_t t = t0; t < t1; t++) {
        const __m512 w = _mm512_maskz_loadu_ps(m, filter + t * C + c);
        const float* xp = x + (o0 + off[static_cast<size_t>(t)]);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp), w, a0);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + sx), w, a1);
        a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + 2 * sx), w, a2);
        a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + 3 * sx), w, a3);
        a4 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + 4 * sx), w, a4);
        a5 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + 5 * sx), w, a5);
        a6 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + 6 * sx), w, a6);
        a7 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xp + 7 * sx), w, a7);
      }
      float* yp = yrow + ox * C + c;
      _mm512_mask_storeu_ps(yp, m, clamp(a0));
      _mm512_mask_storeu_ps(yp + C, m, clamp(a1));
      _mm512_mask_storeu_ps(yp + 2 * C, m, clamp(a2));
      _mm512_mask_storeu_ps(yp + 3 * C, m, clamp(a3));
      _mm512_mask_storeu_ps(yp + 4 * C, m, clamp(a4));
      _mm512_mask_storeu_ps(yp + 5 * C, m, clamp(a5));
      _mm512_mask_storeu_ps(yp + 6 * C, m, clamp(a6));
      _mm512_mask_storeu_ps(yp + 7 * C, m, clamp(a7));
    }
    for (; ox < ox_in1; ox++) {
      const int64_t o0 = xb + (ox * g.stride_w - g.pad_left) * C + c;
      __m512 a = b;
      for (int64_t t = t0; t < t1; t++)
        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + (o0 + off[static_cast<size_t>(t)])),
                            _mm512_maskz_loadu_ps(m, filter + t * C + c), a);
      _mm512_mask_storeu_ps(yrow + ox * C + c, m, clamp(a));
    }
  };
  // Eight channels, stride 1 (BlazePose's 256 × 256 × 8 decoder): a zmm holds two adjacent
  // pixels, whose inputs at each tap are 16 adjacent floats; eight interior pixels as four
  // pairs. The weights of a tap fill both halves. Same chain per output, same bits.
  const bool pairs = C == 8 && g.stride_w == 1;
  __m512 bias2 = _mm512_setzero_ps();
  if (pairs && bias) bias2 = _mm512_broadcast_f32x8(_mm256_loadu_ps(bias));
  auto interior_pairs = [&](int64_t xb, float* yrow, int64_t t0, int64_t t1) {
    int64_t ox = ox_in0;
    for (; ox + 8 <= ox_in1; ox += 8) {
      const int64_t o0 = xb + (ox - g.pad_left) * C;
      __m512 a0 = bias2, a1 = bias2, a2 = bias2, a3 = bias2;
      for (int64_t t = t0; t < t1; t++) {
        const __m512 w = _mm512_broadcast_f32x8(_mm256_loadu_ps(filter + t * 8));
        const float* xp = x + (o0 + off[static_cast<size_t>(t)]);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xp), w, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 16), w, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 32), w, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 48), w, a3);
      }
      float* yp = yrow + ox * C;
      _mm512_storeu_ps(yp, clamp(a0));
      _mm512_storeu_ps(yp + 16, clamp(a1));
      _mm512_storeu_ps(yp + 32, clamp(a2));
      _mm512_storeu_ps(yp + 48, clamp(a3));
    }
    return ox;
  };
  // Channel counts whose weights repeat every three vectors (C = 24, 12, 6, 3; lcm(C, 16) = 48)
  // at stride 1: interior_block would run a masked vector per pixel for the last channels
  // (C = 24: two vectors a pixel, one of them half empty). At stride 1 the interior outputs of
  // a row are one contiguous run of floats, and so is each tap's input run beside them; output
  // float j reads weight j mod C. So the run goes 16 floats at a time whatever the pixel
  // borders, each tap's weights tiled over the 48-float period (plus 16, so that any phase has
  // a whole vector); twelve vectors share each tap's three weight vectors, 15 loads per 12
  // FMAs. (With a longer period, a weight load per FMA made the loop slower than the masked
  // vectors.) Per output the chain is the same: bias, one FMA per tap in row-major order, the
  // clamp.
  constexpr int64_t kPeriod = 48, kWStride = kPeriod + 16;
  const bool periodic = C % 16 != 0 && g.stride_w == 1 && !pairs && std::lcm<int64_t>(C, 16) == kPeriod;
  std::vector<float> wt, bt;
  if (periodic) {
    wt.resize(static_cast<size_t>(max_taps * kWStride));
    bt.resize(static_cast<size_t>(kWStride));
    for (int64_t t = 0; t < max_taps; t++)
      for (int64_t k = 0; k < kWStride; k++) wt[static_cast<size_t>(t * kWStride + k)] = filter[t * C + k % C];
    for (int64_t k = 0; k < kWStride; k++) bt[static_cast<size_t>(k)] = bias ? bias[k % C] : 0.0f;
  }
  // The phase of the vector 16 floats on.
  auto next = [](int64_t phase) { return phase + 16 >= kPeriod ? phase + 16 - kPeriod : phase + 16; };
  auto interior_periodic = [&](int64_t xb, float* yrow, int64_t t0, int64_t t1) {
    const int64_t f0 = ox_in0 * C, f1 = ox_in1 * C;
    // Input float of output float j at tap t: x[xin + off[t] + j].
    const float* xin = x + xb - int64_t(g.pad_left) * C;
    const float* bb = bt.data();
    // 192 floats are four periods: the twelve-vector loop leaves the phase as it was.
    const int64_t phase = f0 % kPeriod, p1 = next(phase), p2 = next(p1);
    int64_t j = f0;
    for (; j + 192 <= f1; j += 192) {
      __m512 a0 = _mm512_loadu_ps(bb + phase), a1 = _mm512_loadu_ps(bb + p1), a2 = _mm512_loadu_ps(bb + p2);
      __m512 a3 = a0, a4 = a1, a5 = a2, a6 = a0, a7 = a1, a8 = a2, a9 = a0, a10 = a1, a11 = a2;
      for (int64_t t = t0; t < t1; t++) {
        const float* xp = xin + off[static_cast<size_t>(t)] + j;
        const float* w = wt.data() + t * kWStride;
        const __m512 w0 = _mm512_loadu_ps(w + phase), w1 = _mm512_loadu_ps(w + p1), w2 = _mm512_loadu_ps(w + p2);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xp), w0, a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 16), w1, a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 32), w2, a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 48), w0, a3);
        a4 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 64), w1, a4);
        a5 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 80), w2, a5);
        a6 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 96), w0, a6);
        a7 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 112), w1, a7);
        a8 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 128), w2, a8);
        a9 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 144), w0, a9);
        a10 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 160), w1, a10);
        a11 = _mm512_fmadd_ps(_mm512_loadu_ps(xp + 176), w2, a11);
      }
      float* yp = yrow + j;
      _mm512_storeu_ps(yp, clamp(a0));
      _mm512_storeu_ps(yp + 16, clamp(a1));
      _mm512_storeu_ps(yp + 32, clamp(a2));
      _mm512_storeu_ps(yp + 48, clamp(a3));
      _mm512_storeu_ps(yp + 64, clamp(a4));
      _mm512_storeu_ps(yp + 80, clamp(a5));
      _mm512_storeu_ps(yp + 96, clamp(a6));
      _mm512_storeu_ps(yp + 112, clamp(a7));
      _mm512_storeu_ps(yp + 128, clamp(a8));
      _mm512_storeu_ps(yp + 144, clamp(a9));
      _mm512_storeu_ps(yp + 160, clamp(a10));
      _mm512_storeu_ps(yp + 176, clamp(a11));
    }
    // The rest, four vectors at a time (four chains in flight), the last ones masked.
    for (int64_t ph = phase; j < f1; j += 64) {
      const int64_t q1 = next(ph), q2 = next(q1), q3 = next(q2);
      const __mmask16 m0 = simd::FirstLanes16(f1 - j), m1 = simd::FirstLanes16(f1 - j - 16),
                      m2 = simd::FirstLanes16(f1 - j - 32), m3 = simd::FirstLanes16(f1 - j - 48);
      __m512 a0 = _mm512_loadu_ps(bb + ph), a1 = _mm512_loadu_ps(bb + q1);
      __m512 a2 = _mm512_loadu_ps(bb + q2), a3 = _mm512_loadu_ps(bb + q3);
      for (int64_t t = t0; t < t1; t++) {
        const float* xp = xin + off[static_cast<size_t>(t)] + j;
        const float* w = wt.data() + t * kWStride;
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, xp), _mm512_loadu_ps(w + ph), a0);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, xp + 16), _mm512_loadu_ps(w + q1), a1);
        a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m2, xp + 32), _mm512_loadu_ps(w + q2), a2);
        a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m3, xp + 48), _mm512_loadu_ps(w + q3), a3);
      }
      _mm512_mask_storeu_ps(yrow + j, m0, clamp(a0));
      _mm512_mask_storeu_ps(yrow + j + 16, m1, clamp(a1));
      _mm512_mask_storeu_ps(yrow + j + 32, m2, clamp(a2));
      _mm512_mask_storeu_ps(yrow + j + 48, m3, clamp(a3));
      ph = next(q3);
    }
  };
  // One output pixel whose window crosses the input's edge: the in-bounds taps listed once,
  // then every channel block.
  auto border_pixel = [&](int64_t n, int64_t oy, int64_t ox, float* yp) {
    const int64_t taps = WindowTaps(g, n, oy, ox, x, C, filter, C, xs.data(), ws.data());
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = mask(c);
      __m512 a = bias ? _mm512_maskz_loadu_ps(m, bias + c) : _mm512_setzero_ps();
      for (int64_t t = 0; t < taps; t++) {
        a = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, xs[static_cast<size_t>(t)] + c),
                            _mm512_maskz_loadu_ps(m, ws[static_cast<size_t>(t)] + c), a);
      }
      _mm512_mask_storeu_ps(yp + c, m, clamp(a));
    }
  };
  for (int64_t r = rb; r < re; r++) {
    const int64_t n = r / g.out_h, oy = r % g.out_h;
    const int64_t iy0 = oy * g.stride_h - g.pad_top;
    // Window rows inside the input: ky in [ky0, ky1).
    const int64_t dh = g.dilation_h;
    const int64_t ky0 = std::min<int64_t>(g.k_h, iy0 >= 0 ? 0 : (-iy0 + dh - 1) / dh);
    const int64_t ky1 =
        std::max<int64_t>(ky0, std::min<int64_t>(g.k_h, iy0 < g.in_h ? (g.in_h - 1 - iy0) / dh + 1 : 0));
    float* yrow = y + r * g.out_w * C;
    for (int64_t ox = 0; ox < ox_in0; ox++) border_pixel(n, oy, ox, yrow + ox * C);
    if (ox_in0 < ox_in1) {
      // Element offset of window row 0 at input column 0 (row 0 itself may lie above the input;
      // only taps of rows inside it are added to it).
      const int64_t xb = ((n * g.in_h + iy0) * g.in_w) * C;
      const int64_t t0 = ky0 * g.k_w, t1 = ky1 * g.k_w;
      if (pairs) {
        const int64_t done = interior_pairs(xb, yrow, t0, t1);
        for (int64_t ox = done; ox < ox_in1; ox++) border_pixel(n, oy, ox, yrow + ox * C);
      } else if (periodic) {
        interior_periodic(xb, yrow, t0, t1);
      } else {
        for (int64_t c = 0; c < C; c += 16) interior_block(xb, yrow, c, t0, t1);
      }
    }
    for (int64_t ox = ox_in1; ox < g.out_w; ox++) border_pixel(n, oy, ox, yrow + ox * C);
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
