// Drivers for the float depthwise convolution kernels: forward, input and filter gradients.
#include <algorithm>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "train/conv_train.h"
#include "float/gemm_driver.h"
#include "float/gemm_kernels.h"

namespace tfjq {
namespace train {

using namespace f32;          // the float kernels and the convolution checks
using namespace f32::detail;  // the shared driver helpers of gemm_driver.h

namespace {

// Expands the input rows needed by output row (b, oh) into rows[fh] (nullptr when out of
// bounds). For mult == 1 these point into x.
void GatherRows(const ConvGeom& g, const float* x, int64_t mult, int64_t b, int64_t oh, const float** rows) {
  const int64_t C = g.out_c;
  float* buf = mult == 1 ? nullptr : Scratch(3, static_cast<size_t>(g.k_h * g.in_w * C));
  for (int64_t fh = 0; fh < g.k_h; fh++) {
    const int64_t ih = oh * g.stride_h - g.pad_top + fh * g.dilation_h;
    if (ih < 0 || ih >= g.in_h) {
      rows[fh] = nullptr;
      continue;
    }
    const float* src = x + (b * g.in_h + ih) * g.in_w * g.in_c;
    if (mult == 1) {
      rows[fh] = src;
      continue;
    }
    float* dst = buf + fh * g.in_w * C;
    for (int64_t iw = 0; iw < g.in_w; iw++)
      for (int64_t ic = 0; ic < g.in_c; ic++) {
        const float v = src[iw * g.in_c + ic];
        float* d = dst + iw * C + ic * mult;
        for (int64_t q = 0; q < mult; q++) d[q] = v;
      }
    rows[fh] = dst;
  }
}

}  // namespace

void DepthwiseConv2D(const ConvGeom& g, const float* x, const float* w, float* y) {
  ValidateConvGeom(g, true);
  const Kernels& kern = ActiveKernels();
  const int64_t C = g.out_c;
  if (OutputSize(g) == 0) return;
  const int64_t mult = C / g.in_c;
  ParallelFor(g.batch * g.out_h, 1, 0, [&](int64_t rb, int64_t re) {
    std::vector<const float*> rows(static_cast<size_t>(g.k_h));
    for (int64_t r = rb; r < re; r++) {
      const int64_t b = r / g.out_h, oh = r % g.out_h;
      GatherRows(g, x, mult, b, oh, rows.data());
      float* yrow = y + r * g.out_w * C;
      std::fill(yrow, yrow + g.out_w * C, 0.f);
      for (int64_t ow = 0; ow < g.out_w; ow++) {
        float* acc = yrow + ow * C;
        const int64_t off = ow * g.stride_w - g.pad_left;
        // fw with 0 <= off + fw * dilation_w < in_w
        int64_t f0, f1;
        ValidRange(off, g.dilation_w, g.in_w, g.k_w, &f0, &f1);
        if (f1 <= f0) continue;
        for (int64_t fh = 0; fh < g.k_h; fh++) {
          if (!rows[fh]) continue;
          kern.dot_rows(f1 - f0, C, rows[fh] + (off + f0 * g.dilation_w) * C, g.dilation_w * C,
                        w + (fh * g.k_w + f0) * C, C, acc);
        }
      }
    }
  });
}

void DepthwiseConv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  ValidateConvGeom(g, true);
  const Kernels& kern = ActiveKernels();
  const int64_t C = g.out_c;
  const int64_t F = g.k_h * g.k_w * C;
  if (F == 0) return;
  const int64_t rows_total = g.batch * g.out_h;
  if (rows_total == 0 || g.out_w == 0) {
    std::fill(dw, dw + F, 0.f);
    return;
  }
  const int64_t mult = C / g.in_c;
  int64_t G = std::min<int64_t>(rows_total, 16);
  G = std::max<int64_t>(1, std::min<int64_t>(G, (int64_t{1} << 23) / F));
  std::vector<float> partial(static_cast<size_t>(G * F));
  ParallelFor(G, 1, 0, [&](int64_t gb, int64_t ge) {
    std::vector<const float*> rows(static_cast<size_t>(g.k_h));
    for (int64_t gi = gb; gi < ge; gi++) {
      float* P = partial.data() + gi * F;
      const int64_t r0 = rows_total * gi / G, r1 = rows_total * (gi + 1) / G;
      for (int64_t r = r0; r < r1; r++) {
        const int64_t b = r / g.out_h, oh = r % g.out_h;
        GatherRows(g, x, mult, b, oh, rows.data());
        const float* dyrow = dy + r * g.out_w * C;
        for (int64_t fh = 0; fh < g.k_h; fh++) {
          if (!rows[fh]) continue;
          for (int64_t fw = 0; fw < g.k_w; fw++) {
            const int64_t off = fw * g.dilation_w - g.pad_left;
            int64_t o0, o1;
            ValidRange(off, g.stride_w, g.in_w, g.out_w, &o0, &o1);
            if (o1 <= o0) continue;
            kern.dot_rows(o1 - o0, C, rows[fh] + (o0 * g.stride_w + off) * C, g.stride_w * C, dyrow + o0 * C, C,
                          P + (fh * g.k_w + fw) * C);
          }
        }
      }
    }
  });
  ParallelFor(F, 4096, 0, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) {
      float s = partial[static_cast<size_t>(i)];
      for (int64_t gi = 1; gi < G; gi++) s += partial[static_cast<size_t>(gi * F + i)];
      dw[i] = s;
    }
  });
}

void DepthwiseConv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx) {
  ValidateConvGeom(g, true);
  const Kernels& kern = ActiveKernels();
  const int64_t C = g.out_c;
  if (InputSize(g) == 0) return;
  const int64_t mult = C == 0 ? 1 : C / g.in_c;
  ParallelFor(g.batch * g.in_h, 1, 0, [&](int64_t rb, int64_t re) {
    float* acc = mult == 1 ? nullptr : Scratch(2, static_cast<size_t>(C));
    for (int64_t r = rb; r < re; r++) {
      const int64_t b = r / g.in_h, ih = r % g.in_h;
      float* dxrow = dx + r * g.in_w * g.in_c;
      std::fill(dxrow, dxrow + g.in_w * g.in_c, 0.f);
      if (C == 0) continue;
      for (int64_t iw = 0; iw < g.in_w; iw++) {
        float* a = mult == 1 ? dxrow + iw * C : acc;
        if (mult != 1) std::fill(acc, acc + C, 0.f);
        for (int64_t fh = 0; fh < g.k_h; fh++) {
          const int64_t t = ih + g.pad_top - fh * g.dilation_h;
          if (t < 0 || t % g.stride_h != 0) continue;
          const int64_t oh = t / g.stride_h;
          if (oh >= g.out_h) continue;
          const float* dyrow = dy + (b * g.out_h + oh) * g.out_w * C;
          for (int64_t fw = 0; fw < g.k_w; fw++) {
            const int64_t u = iw + g.pad_left - fw * g.dilation_w;
            if (u < 0 || u % g.stride_w != 0) continue;
            const int64_t ow = u / g.stride_w;
            if (ow >= g.out_w) continue;
            kern.dot_rows(1, C, dyrow + ow * C, 0, w + (fh * g.k_w + fw) * C, 0, a);
          }
        }
        if (mult != 1) {
          float* d = dxrow + iw * g.in_c;
          for (int64_t ic = 0; ic < g.in_c; ic++) {
            float s = 0.f;
            for (int64_t q = 0; q < mult; q++) s += acc[ic * mult + q];
            d[ic] = s;
          }
        }
      }
    }
  });
}

}  // namespace train
}  // namespace tfjq
