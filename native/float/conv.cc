// The float convolution's geometry checks and forward pass (float/conv.h): im2col chunks of
// ChunkRows(K) pixels times the weights through the GEMM driver.
#include "float/conv.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "float/gemm_driver.h"
#include "float/gemm_kernels.h"

namespace tfjq {
namespace f32 {

using namespace detail;  // the shared driver helpers of gemm_driver.h

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
      const float* a = ConvRows(g, x, pw, K, m0, mc);
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
  if (kern.conv_few_columns && N <= kFewColumns && !pw && g.dilation_h == 1 && g.dilation_w == 1) {
    // The columns' taps copied out of the k-major panel once per call (K·N floats).
    std::vector<float> cols(static_cast<size_t>(N * K));
    PanelColumns(w.panel(0), K, N, cols.data());
    ParallelFor(M, std::max<int64_t>(1, ChunkRows(K)), threads, [&](int64_t mb, int64_t me) {
      kern.conv_few_columns(g, x, cols.data(), mb, me - mb, y, epi.bias, epi.act, epi.alpha);
    });
    return;
  }
  if (kern.conv_windows && !pw && K <= kKC && g.dilation_h == 1 && g.dilation_w == 1) {
    // Windows read in place: no im2col copy (small K, where the copy costs most).
    ParallelFor(M, kMC, threads, [&](int64_t mb, int64_t me) {
      kern.conv_windows(g, x, w.panel(0), K * kNR, N, mb, me - mb, y, epi.bias, epi.act, epi.alpha);
    });
    return;
  }
  // Pointwise: A is x itself, rows in blocks of kMC. Otherwise im2col chunks of ChunkRows(K),
  // but at least kMC rows: each chunk reads all of its columns' weights (K·nc floats), and at
  // ChunkRows' 6 rows for K ≥ 2731 a layer streamed its weights once per 6 pixels (Inception's
  // 3 × 3 × 288 → 384 read 4 MB from L3 49 times); kMC rows of im2col (1.5 MB at K = 4032) stay
  // in L2 while the GEMM packs them.
  const int64_t rows = pw ? kMC : std::max(ChunkRows(K), kMC);
  ForRowsCols(M, N, rows, threads, [&](int64_t m0, int64_t mc, int64_t n0, int64_t nc) {
    const float* a = ConvRows(g, x, pw, K, m0, mc);
    GemmPackedB(kern, mc, nc, K, Mat{a, K, 1}, w.panel(n0 / kNR), K * kNR, y + m0 * N + n0, N,
                epi.bias ? epi.bias + n0 : nullptr, epi.act, epi.alpha);
  });
}

}  // namespace f32
}  // namespace tfjq
