// The float convolution's input and filter gradients: im2col and threading around the float
// GEMM driver (float/gemm_driver.h). Depthwise in depthwise_train.cc, pooling gradients in
// pool_grad.cc, the forward pass in float/conv.cc.
#include "train/conv_train.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "float/gemm_driver.h"
#include "float/gemm_kernels.h"

namespace tfjq {
namespace train {

using namespace f32;          // the float GEMM, its kernels and the convolution checks
using namespace f32::detail;  // the shared driver helpers of gemm_driver.h

void Conv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  ValidateConvGeom(g, false);
  const Kernels& kern = ActiveKernels();
  const int64_t M = g.batch * g.out_h * g.out_w, K = g.k_h * g.k_w * g.in_c, N = g.out_c;
  const int64_t KN = K * N;
  if (KN == 0) return;
  if (M == 0) {
    std::fill(dw, dw + KN, 0.f);
    return;
  }
  const bool pw = IsPointwise(g);
  const int64_t R = ChunkRows(K);
  const int64_t chunks = (M + R - 1) / R;
  // Reduction over M: G groups of whole chunks, each summing into its own partial dW; then
  // a fixed-order sum. G and S depend only on the shapes, so results do not depend on the
  // number of threads.
  int64_t G = std::min<int64_t>(chunks, 16);
  G = std::max<int64_t>(1, std::min<int64_t>(G, (int64_t{1} << 23) / KN));
  // Column slices of N when there are few groups and enough columns.
  int64_t S = 1;
  if (G < 4 && N >= 4 * kNR) S = std::min<int64_t>(4, N / (2 * kNR));
  const int64_t slice = ((N + S - 1) / S + kNR - 1) / kNR * kNR;
  S = (N + slice - 1) / slice;
  std::vector<float> partial(static_cast<size_t>(G > 1 ? (G - 1) * KN : 0));
  auto out_of = [&](int64_t gi) { return gi == 0 ? dw : partial.data() + (gi - 1) * KN; };
  ParallelFor(G * S, 1, 0, [&](int64_t ib, int64_t ie) {
    for (int64_t item = ib; item < ie; item++) {
      const int64_t gi = item / S, si = item % S;
      const int64_t n0 = si * slice, nn = std::min(slice, N - n0);
      const int64_t c0 = chunks * gi / G, c1 = chunks * (gi + 1) / G;
      float* P = out_of(gi);
      for (int64_t c = c0; c < c1; c++) {
        const int64_t m0 = c * R, mc = std::min(R, M - m0);
        const float* a = ConvRows(g, x, pw, K, m0, mc);
        // P[k][n] (+)= sum_m col[m][k] * dy[m][n]
        Gemm(kern, K, nn, mc, Mat{a, 1, K}, Mat{dy + m0 * N + n0, N, 1}, P + n0, N, 1, c != c0);
      }
    }
  });
  if (G > 1) {
    ParallelFor(KN, 4096, 0, [&](int64_t b, int64_t e) {
      for (int64_t gi = 1; gi < G; gi++) {
        const float* p = out_of(gi);
        for (int64_t i = b; i < e; i++) dw[i] += p[i];
      }
    });
  }
}

void Conv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx, int threads) {
  ValidateConvGeom(g, false);
  const Kernels& kern = ActiveKernels();
  const int64_t K = g.k_h * g.k_w * g.in_c, N = g.out_c;
  const int64_t per_image_in = g.in_h * g.in_w * g.in_c;
  const int64_t P = g.out_h * g.out_w;  // output pixels per image
  if (InputSize(g) == 0) return;
  if (IsPointwise(g)) {
    // dx[m][ic] = sum_oc dy[m][oc] * w[ic][oc]
    const int64_t M = g.batch * P;
    const int64_t R = 256;
    ParallelFor((M + R - 1) / R, 1, threads, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; c++) {
        const int64_t m0 = c * R, mc = std::min(R, M - m0);
        Gemm(kern, mc, g.in_c, N, Mat{dy + m0 * N, N, 1}, Mat{w, 1, N}, dx + m0 * g.in_c, g.in_c, 1, false);
      }
    });
    return;
  }
  const int64_t R = ChunkRows(K);
  const int64_t row = g.k_w * g.in_c;
  ParallelFor(g.batch, 1, threads, [&](int64_t bb, int64_t be) {
    for (int64_t b = bb; b < be; b++) {
      float* dxi = dx + b * per_image_in;
      std::fill(dxi, dxi + per_image_in, 0.f);
      for (int64_t p0 = 0; p0 < P; p0 += R) {
        const int64_t mc = std::min(R, P - p0);
        float* dcol = Scratch(2, static_cast<size_t>(mc * K));
        // dcol[m][k] = sum_oc dy[m][oc] * w[k][oc]
        Gemm(kern, mc, K, N, Mat{dy + (b * P + p0) * N, N, 1}, Mat{w, 1, N}, dcol, K, 1, false);
        // col2im: scatter-add into the image.
        for (int64_t i = 0; i < mc; i++) {
          const int64_t oh = (p0 + i) / g.out_w, ow = (p0 + i) % g.out_w;
          const float* src = dcol + i * K;
          for (int64_t fh = 0; fh < g.k_h; fh++) {
            const int64_t ih = oh * g.stride_h - g.pad_top + fh * g.dilation_h;
            if (ih < 0 || ih >= g.in_h) continue;
            float* drow = dxi + ih * g.in_w * g.in_c;
            const float* s = src + fh * row;
            for (int64_t fw = 0; fw < g.k_w; fw++) {
              const int64_t iw = ow * g.stride_w - g.pad_left + fw * g.dilation_w;
              if (iw < 0 || iw >= g.in_w) continue;
              float* d = drow + iw * g.in_c;
              const float* sv = s + fw * g.in_c;
              for (int64_t c = 0; c < g.in_c; c++) d[c] += sv[c];
            }
          }
        }
      }
    }
  });
}

}  // namespace train
}  // namespace tfjq
