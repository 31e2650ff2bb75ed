// The float GEMM driver (blocking and packing around the microkernels of gemm_kernels.h) and
// the helpers shared by the float kernels' drivers: gemm_driver.cc, conv.cc, and the
// gradients of train/ (conv_train.cc, depthwise_train.cc, pool_grad.cc). Internal to the
// float kernels and their gradients.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "common/conv_geom.h"
#include "common/im2col.h"
#include "common/thread_pool.h"
#include "float/gemm.h"
#include "float/gemm_kernels.h"

namespace tfjq {
namespace f32 {
namespace detail {

// Per-thread scratch (pool workers are persistent, so these are reused across calls).
float* Scratch(int slot, size_t n);

// Packs `lanes` (≤ width) vectors of kc values into a k-major panel: dst[p * width + j] =
// src[j * lane_stride + p * k_stride], zero-padding lanes past `lanes`. Used for both GEMM
// operands (B's lanes are columns, A's are rows); the loop order follows the unit stride.
void PackPanel(const float* src, int64_t lane_stride, int64_t k_stride, int64_t lanes, int64_t kc, int64_t width,
               float* dst);

// A strided matrix view.
struct Mat {
  const float* p;
  int64_t rs, cs;  // element (i, j) at p[i * rs + j * cs]
  float at(int64_t i, int64_t j) const { return p[i * rs + j * cs]; }
};

constexpr int64_t kKC = 256;
constexpr int64_t kMC = 96;    // multiple of kMR
constexpr int64_t kNC = 1024;  // multiple of kNR

// C(i, j) = (accumulate ? C(i, j) : 0) + sum_k A(i, k) * B(k, j), single-threaded.
void Gemm(const Kernels& kern, int64_t M, int64_t N, int64_t K, Mat A, Mat B, float* C, int64_t rsc, int64_t csc,
          bool accumulate);

// C = A × B over K for the columns of `npanels` prepacked B panels (panel p at
// b + p * panel_stride, element (k, j) at k * kNR + j), single-threaded. The same K blocks,
// packing of A and tile kernel as Gemm, so the same sums in the same order. (Tried: full
// tiles reading A in place and storing straight into C, skipping the A panel and the stack
// tile — MobileNetV2's 12544 × 16 × 96 layer took 3.6–4.1 ms instead of 1.5–1.9; not kept.)
// A path with its own gemm_packed_b (kernels.h) runs that instead: the AVX-512 one reads A in
// place for K ≤ 64, where its wider tile makes the packing the larger cost.
void GemmPackedB(const Kernels& kern, int64_t M, int64_t N, int64_t K, Mat A, const float* b, int64_t panel_stride,
                 float* C, int64_t rsc, const float* bias, Activation act, float alpha);

// Throws std::invalid_argument unless IsFloatGemmActivation(act) (what the epilogue applies).
void CheckEpilogueActivation(Activation act);

// Rows per im2col chunk: about 64 KiB floats of columns, a multiple of kMR.
inline int64_t ChunkRows(int64_t K) {
  int64_t r = std::max<int64_t>(kMR, (int64_t{16384} / std::max<int64_t>(K, 1)) / kMR * kMR);
  return std::min<int64_t>(r, 512);
}

// The convolution's GEMM A rows [m0, m0 + mc) (K = k_h·k_w·in_c columns): x itself for a
// pointwise convolution, else an im2col chunk in this thread's scratch slot 2.
inline const float* ConvRows(const ConvGeom& g, const float* x, bool pointwise, int64_t K, int64_t m0, int64_t mc) {
  if (pointwise) return x + m0 * K;
  float* col = Scratch(2, static_cast<size_t>(mc * K));
  Im2ColPixels(g, x, 0.0f, col, K, m0, m0 + mc);
  return col;
}

// a * b, throwing std::invalid_argument naming `what` when it nears int64 overflow.
int64_t Mul(int64_t a, int64_t b, const char* what);
// Throws std::invalid_argument unless lo <= v <= 2^31 - 1.
void CheckDim(int64_t v, int64_t lo, const char* name);

// Output positions o in [0, out) whose input coordinate o * s + off lies in [0, in).
inline void ValidRange(int64_t off, int64_t s, int64_t in, int64_t out, int64_t* lo, int64_t* hi) {
  int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t b = (in - 1 - off) < 0 ? 0 : (in - 1 - off) / s + 1;
  *lo = std::min(a, out);
  *hi = std::max(*lo, std::min(b, out));
}

// Work items over rows (chunks of `rows`) × columns (blocks of kCB columns = whole panels).
constexpr int64_t kCB = 256;
template <typename RowsFn>
void ForRowsCols(int64_t M, int64_t N, int64_t rows, int threads, RowsFn fn) {
  const int64_t rblocks = (M + rows - 1) / rows, cblocks = (N + kCB - 1) / kCB;
  ParallelFor(rblocks * cblocks, 1, threads, [&](int64_t ib, int64_t ie) {
    for (int64_t item = ib; item < ie; item++) {
      const int64_t m0 = (item / cblocks) * rows, n0 = (item % cblocks) * kCB;
      fn(m0, std::min(rows, M - m0), n0, std::min(kCB, N - n0));
    }
  });
}

}  // namespace detail
}  // namespace f32
}  // namespace tfjq
