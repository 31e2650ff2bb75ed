// Convolution geometry, im2col, depthwise (ref + dispatch) and transposed convolution.
#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "common/im2col.h"
#include "common/thread_pool.h"
#include "ops/internal.h"
#include "ops/ops.h"

namespace tfjq {
namespace ops {

using detail::Fail;

int64_t ShapeSize(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

namespace {

constexpr int64_t kMaxDim = std::numeric_limits<int32_t>::max();

void CheckPositive(int64_t v, const char* name) {
  if (v < 1) Fail(std::string(name) + " must be >= 1, got " + std::to_string(v));
}

void CheckBasics(const ConvGeom& g) {
  CheckPositive(g.batch, "batch");
  CheckPositive(g.in_h, "inHeight");
  CheckPositive(g.in_w, "inWidth");
  CheckPositive(g.in_c, "inChannels");
  CheckPositive(g.k_h, "filterHeight");
  CheckPositive(g.k_w, "filterWidth");
  CheckPositive(g.stride_h, "strideHeight");
  CheckPositive(g.stride_w, "strideWidth");
  CheckPositive(g.dilation_h, "dilationHeight");
  CheckPositive(g.dilation_w, "dilationWidth");
  const int64_t fields[] = {g.batch,    g.in_h,       g.in_w,       g.in_c,    g.k_h,        g.k_w,      g.stride_h,
                            g.stride_w, g.dilation_h, g.dilation_w, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right};
  for (int64_t v : fields)
    if (v > kMaxDim) Fail("geometry values must be at most 2^31 - 1, got " + std::to_string(v));
  if (int64_t(g.batch) * g.in_h * g.in_w * g.in_c > (int64_t(1) << 40)) Fail("input is too large");
}

}  // namespace

void CheckConvGeom(ConvGeom* g) {
  CheckBasics(*g);
  if (g->pad_top < 0 || g->pad_bottom < 0 || g->pad_left < 0 || g->pad_right < 0) Fail("pads must be >= 0");
  const int64_t ekh = EffectiveFilterSize(g->k_h, g->dilation_h), ekw = EffectiveFilterSize(g->k_w, g->dilation_w);
  const int64_t ph = int64_t(g->in_h) + g->pad_top + g->pad_bottom - ekh;
  const int64_t pw = int64_t(g->in_w) + g->pad_left + g->pad_right - ekw;
  if (ph < 0 || pw < 0) {
    Fail("the filter/window (" + std::to_string(ekh) + "x" + std::to_string(ekw) +
         " with dilation) is larger than the padded input (" +
         std::to_string(int64_t(g->in_h) + g->pad_top + g->pad_bottom) + "x" +
         std::to_string(int64_t(g->in_w) + g->pad_left + g->pad_right) + ")");
  }
  g->out_h = ConvOutSize(g->in_h, g->k_h, g->stride_h, g->dilation_h, g->pad_top, g->pad_bottom);
  g->out_w = ConvOutSize(g->in_w, g->k_w, g->stride_w, g->dilation_w, g->pad_left, g->pad_right);
  const double limit = static_cast<double>(int64_t(1) << 40);
  if (static_cast<double>(g->batch) * g->out_h * g->out_w * g->in_c > limit) Fail("output is too large");
  if (static_cast<double>(g->k_h) * g->k_w * g->in_c > limit) Fail("filter is too large");
  if (static_cast<double>(g->batch) * g->out_h * g->out_w * g->k_h * g->k_w * g->in_c > limit * 64) {
    Fail("convolution is too large");
  }
}

void MakeConvGeom(ConvGeom* g, Padding padding) {
  CheckBasics(*g);
  const int64_t ekh = EffectiveFilterSize(g->k_h, g->dilation_h), ekw = EffectiveFilterSize(g->k_w, g->dilation_w);
  if (padding == Padding::kExplicit) return CheckConvGeom(g);
  if (padding == Padding::kValid) {
    g->pad_top = g->pad_bottom = g->pad_left = g->pad_right = 0;
    return CheckConvGeom(g);
  }
  // SAME
  const int64_t oh = (int64_t(g->in_h) + g->stride_h - 1) / g->stride_h;
  const int64_t ow = (int64_t(g->in_w) + g->stride_w - 1) / g->stride_w;
  const int64_t th = std::max<int64_t>((oh - 1) * g->stride_h + ekh - g->in_h, 0);
  const int64_t tw = std::max<int64_t>((ow - 1) * g->stride_w + ekw - g->in_w, 0);
  if (th > kMaxDim || tw > kMaxDim) Fail("padding is too large");
  g->pad_top = static_cast<int32_t>(th / 2);
  g->pad_bottom = static_cast<int32_t>(th - th / 2);
  g->pad_left = static_cast<int32_t>(tw / 2);
  g->pad_right = static_cast<int32_t>(tw - tw / 2);
  CheckConvGeom(g);
}

// ---------------------------------------------------------------- im2col

void Im2Col(const ConvGeom& g, const int8_t* x, int32_t pad_value, int8_t* a, int64_t lda, int threads) {
  ::tfjq::Im2Col<int8_t>(g, x, static_cast<int8_t>(pad_value), a, lda, threads);
}
void Im2Col(const ConvGeom& g, const uint8_t* x, int32_t pad_value, uint8_t* a, int64_t lda, int threads) {
  ::tfjq::Im2Col<uint8_t>(g, x, static_cast<uint8_t>(pad_value), a, lda, threads);
}
void Im2Col(const ConvGeom& g, const float* x, float pad_value, float* a, int64_t lda, int threads) {
  ::tfjq::Im2Col<float>(g, x, pad_value, a, lda, threads);
}

// ---------------------------------------------------------------- depthwise

namespace {

// Reference: rows [rb, re) of batch·out_h.
template <typename T>
void DepthwiseRowsRef(const ConvGeom& g, const T* x, const DepthwiseQ& p, T* y, int64_t rb, int64_t re, int32_t* acc) {
  const int64_t C = g.in_c, M = p.multiplier, OC = C * M;
  std::vector<const T*> xs(static_cast<size_t>(int64_t(g.k_h) * g.k_w));
  std::vector<const int8_t*> ws(xs.size());
  for (int64_t r = rb; r < re; r++) {
    const int64_t n = r / g.out_h, oy = r % g.out_h;
    for (int64_t ox = 0; ox < g.out_w; ox++) {
      for (int64_t c = 0; c < OC; c++) acc[c] = p.bias ? p.bias[c] : 0;
      const int64_t taps = detail::WindowTaps(g, n, oy, ox, x, C, p.filter, OC, xs.data(), ws.data());
      for (int64_t t = 0; t < taps; t++) {
        const T* xp = xs[static_cast<size_t>(t)];
        const int8_t* wp = ws[static_cast<size_t>(t)];
        for (int64_t c = 0; c < OC; c++) {
          const int32_t d = int32_t(xp[c / M]) - p.x_zero_point;
          acc[c] = static_cast<int32_t>(static_cast<uint32_t>(acc[c]) + static_cast<uint32_t>(d * wp[c]));
        }
      }
      T* yp = y + (r * g.out_w + ox) * OC;
      for (int64_t c = 0; c < OC; c++) {
        yp[c] = static_cast<T>(quant::scalar::Requantize(acc[c], p.multipliers[c], p.y_zero_point, p.y_min, p.y_max));
      }
    }
  }
}

template <typename T>
void DepthwiseImpl(const ConvGeom& g, const T* x, const DepthwiseQ& p, T* y, int threads) {
  const int64_t rows = int64_t(g.batch) * g.out_h;
  const int64_t OC = int64_t(g.in_c) * p.multiplier;
  const int64_t work_per_row = std::max<int64_t>(1, int64_t(g.out_w) * OC * g.k_h * g.k_w);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / work_per_row);
  if (const detail::VectorKernels* vk = detail::ActiveVectorKernels(); vk != nullptr && p.multiplier == 1) {
    if constexpr (std::is_same<T, int8_t>::value)
      return vk->depthwise_s8(g, x, p, y, threads);
    else
      return vk->depthwise_u8(g, x, p, y, threads);
  }
  ParallelFor(rows, grain, threads, [&](int64_t rb, int64_t re) {
    std::vector<int32_t> acc(static_cast<size_t>(OC));
    DepthwiseRowsRef<T>(g, x, p, y, rb, re, acc.data());
  });
}

}  // namespace

void PrepareDepthwise(const ConvGeom& g, DepthwiseQ* p) {
  p->prepared.reset();
  const detail::VectorKernels* vk = detail::ActiveVectorKernels();
  if (vk != nullptr && p->multiplier == 1) p->prepared = vk->prepare_depthwise(g, *p);
}

void DepthwiseConv2D(const ConvGeom& g, const int8_t* x, const DepthwiseQ& p, int8_t* y, int threads) {
  DepthwiseImpl<int8_t>(g, x, p, y, threads);
}
void DepthwiseConv2D(const ConvGeom& g, const uint8_t* x, const DepthwiseQ& p, uint8_t* y, int threads) {
  DepthwiseImpl<uint8_t>(g, x, p, y, threads);
}

void DepthwiseConv2DF32(const ConvGeom& g, int32_t multiplier, const float* x, const float* filter, const float* bias,
                        float y_min, float y_max, float* y, int threads) {
  const int64_t C = g.in_c, M = multiplier, OC = C * M;
  const int64_t rows = int64_t(g.batch) * g.out_h;
  const detail::VectorKernels* vk = detail::ActiveVectorKernels();
  if (vk != nullptr && multiplier == 1) return vk->depthwise_f32(g, x, filter, bias, y_min, y_max, y, threads);
  ParallelFor(rows, 1, threads, [&](int64_t rb, int64_t re) {
    std::vector<float> acc(static_cast<size_t>(OC));
    std::vector<const float*> xs(static_cast<size_t>(int64_t(g.k_h) * g.k_w)), ws(xs.size());
    for (int64_t r = rb; r < re; r++) {
      const int64_t n = r / g.out_h, oy = r % g.out_h;
      for (int64_t ox = 0; ox < g.out_w; ox++) {
        for (int64_t c = 0; c < OC; c++) acc[c] = bias ? bias[c] : 0.0f;
        const int64_t taps = detail::WindowTaps(g, n, oy, ox, x, C, filter, OC, xs.data(), ws.data());
        for (int64_t t = 0; t < taps; t++) {
          const float* xp = xs[static_cast<size_t>(t)];
          const float* wp = ws[static_cast<size_t>(t)];
          if (M == 1) {
            for (int64_t c = 0; c < OC; c++) acc[c] += xp[c] * wp[c];
          } else {
            for (int64_t c = 0; c < OC; c++) acc[c] += xp[c / M] * wp[c];
          }
        }
        float* yp = y + (r * g.out_w + ox) * OC;
        for (int64_t c = 0; c < OC; c++) yp[c] = std::min(std::max(acc[c], y_min), y_max);
      }
    }
  });
}

// ---------------------------------------------------------------- transposed convolution

namespace {

template <typename T>
void ConvTransposeImpl(const ConvGeom& g, const T* dy, const ConvTransposeQ& p, T* y, int threads) {
  const int64_t CI = g.in_c, CO = p.dy_channels;
  const int64_t rows = int64_t(g.batch) * g.in_h;
  ParallelFor(rows, 1, threads, [&](int64_t rb, int64_t re) {
    std::vector<int32_t> acc(static_cast<size_t>(CI));
    std::vector<int32_t> d(static_cast<size_t>(CO));
    for (int64_t r = rb; r < re; r++) {
      const int64_t n = r / g.in_h, iy = r % g.in_h;
      for (int64_t ix = 0; ix < g.in_w; ix++) {
        for (int64_t ci = 0; ci < CI; ci++) acc[ci] = p.bias ? p.bias[ci] : 0;
        // iy = oy·sh + ky·dh − pt  ⇒  oy = (iy + pt − ky·dh) / sh when divisible and in range.
        for (int64_t ky = 0; ky < g.k_h; ky++) {
          const int64_t ty = iy + g.pad_top - ky * g.dilation_h;
          if (ty < 0 || ty % g.stride_h) continue;
          const int64_t oy = ty / g.stride_h;
          if (oy >= g.out_h) continue;
          for (int64_t kx = 0; kx < g.k_w; kx++) {
            const int64_t tx = ix + g.pad_left - kx * g.dilation_w;
            if (tx < 0 || tx % g.stride_w) continue;
            const int64_t ox = tx / g.stride_w;
            if (ox >= g.out_w) continue;
            const T* dp = dy + ((n * g.out_h + oy) * g.out_w + ox) * CO;
            for (int64_t co = 0; co < CO; co++) d[co] = int32_t(dp[co]) - p.dy_zero_point;
            const int8_t* wp = p.filter + (ky * g.k_w + kx) * CI * CO;
            for (int64_t ci = 0; ci < CI; ci++, wp += CO) {
              uint32_t s = static_cast<uint32_t>(acc[ci]);
              for (int64_t co = 0; co < CO; co++) s += static_cast<uint32_t>(d[co] * wp[co]);
              acc[ci] = static_cast<int32_t>(s);
            }
          }
        }
        T* yp = y + (r * g.in_w + ix) * CI;
        for (int64_t ci = 0; ci < CI; ci++) {
          yp[ci] =
              static_cast<T>(quant::scalar::Requantize(acc[ci], p.multipliers[ci], p.y_zero_point, p.y_min, p.y_max));
        }
      }
    }
  });
}

}  // namespace

void Conv2DTranspose(const ConvGeom& g, const int8_t* dy, const ConvTransposeQ& p, int8_t* y, int threads) {
  ConvTransposeImpl<int8_t>(g, dy, p, y, threads);
}
void Conv2DTranspose(const ConvGeom& g, const uint8_t* dy, const ConvTransposeQ& p, uint8_t* y, int threads) {
  ConvTransposeImpl<uint8_t>(g, dy, p, y, threads);
}

}  // namespace ops
}  // namespace tfjq
