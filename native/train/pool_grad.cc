// Gradients of max and average pooling (float, NHWC), as tfjs computes them (conv_train.h).
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common/thread_pool.h"
#include "train/conv_train.h"
#include "float/gemm_driver.h"
#include "float/gemm_kernels.h"

namespace tfjq {
namespace train {

using namespace f32;          // the float kernels and the convolution checks
using namespace f32::detail;  // the shared driver helpers of gemm_driver.h

void MaxPoolGrad(const ConvGeom& g, const float* x, const float* dy, float* dx) {
  ValidatePoolGeom(g);
  const int64_t C = g.in_c;
  const int64_t per_image = g.in_h * g.in_w * C;
  if (InputSize(g) == 0) return;
  const int64_t eff_h = (g.k_h - 1) * g.dilation_h + 1, eff_w = (g.k_w - 1) * g.dilation_w + 1;
  ParallelFor(g.batch, 1, 0, [&](int64_t bb, int64_t be) {
    float* best = Scratch(2, static_cast<size_t>(2 * C));
    int64_t* pos = reinterpret_cast<int64_t*>(Scratch(3, static_cast<size_t>(2 * C)));
    for (int64_t b = bb; b < be; b++) {
      const float* xi = x + b * per_image;
      float* dxi = dx + b * per_image;
      std::fill(dxi, dxi + per_image, 0.f);
      for (int64_t oh = 0; oh < g.out_h; oh++) {
        const int64_t r_corner = oh * g.stride_h - g.pad_top;
        int64_t r_min = r_corner;
        if (r_min < 0) r_min += (-r_min + g.dilation_h - 1) / g.dilation_h * g.dilation_h;
        const int64_t r_max = std::min(g.in_h, eff_h + r_corner);
        for (int64_t ow = 0; ow < g.out_w; ow++) {
          const int64_t c_corner = ow * g.stride_w - g.pad_left;
          int64_t c_min = c_corner;
          if (c_min < 0) c_min += (-c_min + g.dilation_w - 1) / g.dilation_w * g.dilation_w;
          const int64_t c_max = std::min(g.in_w, eff_w + c_corner);
          for (int64_t c = 0; c < C; c++) {
            best[c] = -std::numeric_limits<float>::infinity();
            pos[c] = -1;
          }
          for (int64_t r = r_min; r < r_max; r += g.dilation_h)
            for (int64_t cc = c_min; cc < c_max; cc += g.dilation_w) {
              const int64_t pix = (r * g.in_w + cc) * C;
              const float* xp = xi + pix;
              for (int64_t c = 0; c < C; c++)
                if (xp[c] > best[c]) {
                  best[c] = xp[c];
                  pos[c] = pix + c;
                }
            }
          const float* dyp = dy + ((b * g.out_h + oh) * g.out_w + ow) * C;
          for (int64_t c = 0; c < C; c++)
            if (pos[c] >= 0) dxi[pos[c]] += dyp[c];
        }
      }
    }
  });
}

void AvgPoolGrad(const ConvGeom& g, const float* dy, float* dx) {
  ValidatePoolGeom(g);
  const int64_t C = g.in_c;
  const int64_t per_image = g.in_h * g.in_w * C;
  if (InputSize(g) == 0) return;
  const float scale = 1.0f / static_cast<float>(g.k_h * g.k_w);
  ParallelFor(g.batch, 1, 0, [&](int64_t bb, int64_t be) {
    for (int64_t b = bb; b < be; b++) {
      float* dxi = dx + b * per_image;
      std::fill(dxi, dxi + per_image, 0.f);
      for (int64_t oh = 0; oh < g.out_h; oh++) {
        for (int64_t ow = 0; ow < g.out_w; ow++) {
          const float* dyp = dy + ((b * g.out_h + oh) * g.out_w + ow) * C;
          for (int64_t fh = 0; fh < g.k_h; fh++) {
            const int64_t ih = oh * g.stride_h - g.pad_top + fh * g.dilation_h;
            if (ih < 0 || ih >= g.in_h) continue;
            for (int64_t fw = 0; fw < g.k_w; fw++) {
              const int64_t iw = ow * g.stride_w - g.pad_left + fw * g.dilation_w;
              if (iw < 0 || iw >= g.in_w) continue;
              float* d = dxi + (ih * g.in_w + iw) * C;
              for (int64_t c = 0; c < C; c++) d[c] += dyp[c];
            }
          }
        }
      }
      for (int64_t i = 0; i < per_image; i++) dxi[i] *= scale;
    }
  });
}

}  // namespace train
}  // namespace tfjq
