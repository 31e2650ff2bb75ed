// Drivers for the float convolution kernels (forward, packed-weight inference, input and filter
// gradients): im2col and threading around the GEMM driver (gemm_driver.cc). Depthwise in
// depthwise_train.cc, pooling gradients in pool_grad.cc.
#include "train/conv_train.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/im2col.h"
#include "common/thread_pool.h"
#include "train/driver.h"
#include "train/kernels.h"

namespace tfjq {
namespace train {

using namespace detail;  // the shared driver helpers of driver.h

namespace {

void CheckCommon(const ConvGeom& g) {
  CheckDim(g.batch, 0, "batch");
  CheckDim(g.in_h, 0, "inHeight");
  CheckDim(g.in_w, 0, "inWidth");
  CheckDim(g.in_c, 0, "inChannels");
  CheckDim(g.out_h, 0, "outHeight");
  CheckDim(g.out_w, 0, "outWidth");
  CheckDim(g.out_c, 0, "outChannels");
  CheckDim(g.k_h, 1, "filterHeight");
  CheckDim(g.k_w, 1, "filterWidth");
  CheckDim(g.stride_h, 1, "strideHeight");
  CheckDim(g.stride_w, 1, "strideWidth");
  CheckDim(g.dilation_h, 1, "dilationHeight");
  CheckDim(g.dilation_w, 1, "dilationWidth");
  CheckDim(g.pad_top, 0, "padTop");
  CheckDim(g.pad_left, 0, "padLeft");
  Mul(g.k_h, g.dilation_h, "effective filter height");
  Mul(g.k_w, g.dilation_w, "effective filter width");
  Mul(Mul(Mul(g.batch, g.in_h, "input size"), g.in_w, "input size"), g.in_c, "input size");
  Mul(Mul(Mul(g.batch, g.out_h, "output size"), g.out_w, "output size"), g.out_c, "output size");
  Mul(Mul(Mul(g.k_h, g.k_w, "filter size"), g.in_c, "filter size"), std::max<int64_t>(g.out_c, 1), "filter size");
}

bool IsPointwise(const ConvGeom& g) { return IsPointwiseWindow(g) && g.out_h == g.in_h && g.out_w == g.in_w; }

// Rows per im2col chunk: about 64 KiB floats of columns, a multiple of kMR.
int64_t ChunkRows(int64_t K) {
  int64_t r = std::max<int64_t>(kMR, (int64_t{16384} / std::max<int64_t>(K, 1)) / kMR * kMR);
  return std::min<int64_t>(r, 512);
}
}  // namespace

// ---------------------------------------------------------------- public API
int64_t InputSize(const ConvGeom& g) { return g.batch * g.in_h * g.in_w * g.in_c; }
int64_t OutputSize(const ConvGeom& g) { return g.batch * g.out_h * g.out_w * g.out_c; }
int64_t FilterSize(const ConvGeom& g, bool depthwise) {
  return g.k_h * g.k_w * (depthwise ? g.out_c : g.in_c * g.out_c);
}

void ValidateConvGeom(const ConvGeom& g, bool depthwise) {
  CheckCommon(g);
  if (depthwise) {
    if (g.in_c == 0 ? g.out_c != 0 : g.out_c % g.in_c != 0) {
      throw std::invalid_argument("depthwise: outChannels (" + std::to_string(g.out_c) +
                                  ") must be a multiple of inChannels (" + std::to_string(g.in_c) + ")");
    }
  }
}

void ValidatePoolGeom(const ConvGeom& g) {
  CheckCommon(g);
  if (g.in_c != g.out_c) {
    throw std::invalid_argument("pooling: outChannels (" + std::to_string(g.out_c) + ") must equal inChannels (" +
                                std::to_string(g.in_c) + ")");
  }
}

void Conv2D(const ConvGeom& g, const float* x, const float* w, float* y, int threads) {
  ValidateConvGeom(g, false);
  const Kernels& kern = ActiveKernels();
  const int64_t M = g.batch * g.out_h * g.out_w, K = g.k_h * g.k_w * g.in_c, N = g.out_c;
  if (M == 0 || N == 0) return;
  const bool pw = IsPointwise(g);
  const int64_t R = ChunkRows(K);
  const int64_t chunks = (M + R - 1) / R;
  ParallelFor(chunks, 1, threads, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; c++) {
      const int64_t m0 = c * R, mc = std::min(R, M - m0);
      const float* a = x + m0 * K;
      if (!pw) {
        float* col = Scratch(2, static_cast<size_t>(mc * K));
        Im2ColPixels(g, x, 0.0f, col, K, m0, m0 + mc);
        a = col;
      }
      Gemm(kern, mc, N, K, Mat{a, K, 1}, Mat{w, N, 1}, y + m0 * N, N, 1, false);
    }
  });
}

void Conv2D(const ConvGeom& g, const float* x, const PackedB& w, float* y, int threads, const FusedBiasAct& epi) {
  ValidateConvGeom(g, false);
  const Kernels& kern = ActiveKernels();
  const int64_t M = g.batch * g.out_h * g.out_w, K = g.k_h * g.k_w * g.in_c, N = g.out_c;
  if (K != w.k() || N != w.n()) throw std::invalid_argument("packed weights do not match the convolution");
  CheckEpilogueActivation(epi.act);
  if (M == 0 || N == 0) return;
  const bool pw = IsPointwise(g);
  // Pointwise: A is x itself, rows in blocks of kMC; otherwise im2col chunks of ChunkRows(K).
  ForRowsCols(M, N, pw ? kMC : ChunkRows(K), threads, [&](int64_t m0, int64_t mc, int64_t n0, int64_t nc) {
    const float* a = x + m0 * K;
    if (!pw) {
      float* col = Scratch(2, static_cast<size_t>(mc * K));
      Im2ColPixels(g, x, 0.0f, col, K, m0, m0 + mc);
      a = col;
    }
    GemmPackedB(kern, mc, nc, K, Mat{a, K, 1}, w.panel(n0 / kNR), K * kNR, y + m0 * N + n0, N,
                epi.bias ? epi.bias + n0 : nullptr, epi.act, epi.alpha);
  });
}

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
        const float* a = x + m0 * K;
        if (!pw) {
          float* col = Scratch(2, static_cast<size_t>(mc * K));
          Im2ColPixels(g, x, 0.0f, col, K, m0, m0 + mc);
          a = col;
        }
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
