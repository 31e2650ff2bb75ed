// Drivers for the float training kernels: blocking, packing (im2col / col2im), threading.
// The inner loops are the per-ISA microkernels of kernels.h.
#include "train/conv_train.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "common/thread_pool.h"
#include "train/kernels.h"

namespace tfjq {
namespace train {

// The float training family's table: ref and AVX2 (+FMA) microkernels; every x86 SIMD path
// resolves to AVX2 along the fallback chain, arm64 to ref.
const Kernels& ActiveKernels() {
  static const IsaTable<Kernels> table = [] {
    IsaTable<Kernels> t;
    t.entries[static_cast<int>(Isa::kRef)] = [] { return &RefKernels(); };
#if defined(__x86_64__) || defined(_M_X64)
    t.entries[static_cast<int>(Isa::kAvx2)] = [] { return &Avx2Kernels(); };
#endif
    return t;
  }();
  return *table.Resolve(ActiveIsa());
}

namespace {

// ---------------------------------------------------------------- scratch memory
// Per-thread scratch (pool workers are persistent, so these are reused across calls).
float* Scratch(int slot, size_t n) {
  thread_local std::vector<float> bufs[4];
  std::vector<float>& v = bufs[slot];
  if (v.size() < n) v.resize(n);
  return v.data();
}
// Packs `lanes` (≤ width) vectors of kc values into a k-major panel: dst[p * width + j] =
// src[j * lane_stride + p * k_stride], zero-padding lanes past `lanes`. Used for both GEMM
// operands (B's lanes are columns, A's are rows); the loop order follows the unit stride.
void PackPanel(const float* src, int64_t lane_stride, int64_t k_stride, int64_t lanes, int64_t kc,
               int64_t width, float* dst) {
  if (lanes < width) std::memset(dst, 0, sizeof(float) * kc * width);
  if (lane_stride == 1) {
    for (int64_t p = 0; p < kc; p++) {
      const float* s = src + p * k_stride;
      for (int64_t j = 0; j < lanes; j++) dst[p * width + j] = s[j];
    }
  } else {
    for (int64_t j = 0; j < lanes; j++) {
      const float* s = src + j * lane_stride;
      for (int64_t p = 0; p < kc; p++) dst[p * width + j] = s[p * k_stride];
    }
  }
}


// ---------------------------------------------------------------- strided GEMM
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
          bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) C[i * rsc + j * csc] = 0.f;
    return;
  }
  // Put the larger dimension on the 16-wide side of the microtile.
  if (N < kNR && M > N) {
    Gemm(kern, N, M, K, Mat{B.p, B.cs, B.rs}, Mat{A.p, A.cs, A.rs}, C, csc, rsc, accumulate);
    return;
  }
  float* bpack = Scratch(0, static_cast<size_t>(kKC * kNC));
  float* apack = Scratch(1, static_cast<size_t>(kKC * kMC));
  alignas(32) float tile[kMR * kNR];
  for (int64_t jc = 0; jc < N; jc += kNC) {
    const int64_t nc = std::min(kNC, N - jc);
    const int64_t npanels = (nc + kNR - 1) / kNR;
    for (int64_t pc = 0; pc < K; pc += kKC) {
      const int64_t kc = std::min(kKC, K - pc);
      // Pack B(pc.., jc..) into k-major panels of kNR columns, zero padded.
      for (int64_t jp = 0; jp < npanels; jp++) {
        float* dst = bpack + jp * kc * kNR;
        const int64_t j0 = jc + jp * kNR;
        const int64_t nr = std::min<int64_t>(kNR, N - j0);
        PackPanel(B.p + pc * B.rs + j0 * B.cs, B.cs, B.rs, nr, kc, kNR, dst);
      }
      for (int64_t ic = 0; ic < M; ic += kMC) {
        const int64_t mc = std::min(kMC, M - ic);
        const int64_t mpanels = (mc + kMR - 1) / kMR;
        for (int64_t ip = 0; ip < mpanels; ip++) {
          float* dst = apack + ip * kc * kMR;
          const int64_t i0 = ic + ip * kMR;
          const int64_t mr = std::min<int64_t>(kMR, M - i0);
          PackPanel(A.p + i0 * A.rs + pc * A.cs, A.rs, A.cs, mr, kc, kMR, dst);
        }
        const bool add = accumulate || pc > 0;
        for (int64_t jp = 0; jp < npanels; jp++) {
          const int64_t j0 = jc + jp * kNR;
          const int64_t nr = std::min<int64_t>(kNR, N - j0);
          for (int64_t ip = 0; ip < mpanels; ip++) {
            const int64_t i0 = ic + ip * kMR;
            const int64_t mr = std::min<int64_t>(kMR, M - i0);
            kern.gemm_tile(kc, apack + ip * kc * kMR, bpack + jp * kc * kNR, tile);
            for (int64_t r = 0; r < mr; r++) {
              float* crow = C + (i0 + r) * rsc + j0 * csc;
              const float* t = tile + r * kNR;
              if (csc == 1) {
                if (add) for (int64_t j = 0; j < nr; j++) crow[j] += t[j];
                else for (int64_t j = 0; j < nr; j++) crow[j] = t[j];
              } else {
                if (add) for (int64_t j = 0; j < nr; j++) crow[j * csc] += t[j];
                else for (int64_t j = 0; j < nr; j++) crow[j * csc] = t[j];
              }
            }
          }
        }
      }
    }
  }
}

// C = A × B over K for the columns of `npanels` prepacked B panels (panel p at
// b + p * panel_stride, element (k, j) at k * kNR + j), single-threaded. The same K blocks,
// packing of A and tile kernel as Gemm, so the same sums in the same order. (Tried: full
// tiles reading A in place and storing straight into C, skipping the A panel and the stack
// tile — MobileNetV2's 12544 × 16 × 96 layer took 3.6–4.1 ms instead of 1.5–1.9; not kept.)
// The activations of BiasActivation on n values in place.
inline void ActRow(float* v, int64_t n, Activation act, float alpha) {
  switch (act) {
    case Activation::kLinear: break;
    case Activation::kRelu:
      for (int64_t c = 0; c < n; c++) v[c] = v[c] < 0.f ? 0.f : v[c];
      break;
    case Activation::kRelu6:
      for (int64_t c = 0; c < n; c++) v[c] = v[c] < 0.f ? 0.f : (v[c] > 6.f ? 6.f : v[c]);
      break;
    case Activation::kLeakyRelu:
      for (int64_t c = 0; c < n; c++) v[c] = v[c] < 0.f ? alpha * v[c] : v[c];
      break;
  }
}

// bias (already offset to this block's first column) and act of FusedBiasAct, applied to one
// stored row segment in BiasActivation's order: v += bias[c], then the activation.
inline void BiasActRow(float* v, int64_t n, const float* bias, int act, float alpha) {
  if (bias) for (int64_t c = 0; c < n; c++) v[c] += bias[c];
  ActRow(v, n, static_cast<Activation>(act), alpha);
}

void GemmPackedB(const Kernels& kern, int64_t M, int64_t N, int64_t K, Mat A, const float* b, int64_t panel_stride,
                 float* C, int64_t rsc, const float* bias, int act, float alpha) {
  if (M <= 0 || N <= 0) return;
  const bool epi = bias != nullptr || act != 0;
  if (K <= 0) {
    for (int64_t i = 0; i < M; i++) {
      std::fill(C + i * rsc, C + i * rsc + N, 0.f);
      if (epi) BiasActRow(C + i * rsc, N, bias, act, alpha);
    }
    return;
  }
  float* apack = Scratch(1, static_cast<size_t>(kKC * kMC));
  alignas(32) float tile[kMR * kNR];
  const int64_t npanels = (N + kNR - 1) / kNR;
  for (int64_t pc = 0; pc < K; pc += kKC) {
    const int64_t kc = std::min(kKC, K - pc);
    for (int64_t ic = 0; ic < M; ic += kMC) {
      const int64_t mc = std::min(kMC, M - ic);
      const int64_t mpanels = (mc + kMR - 1) / kMR;
      for (int64_t ip = 0; ip < mpanels; ip++) {
        const int64_t i0 = ic + ip * kMR;
        PackPanel(A.p + i0 * A.rs + pc * A.cs, A.rs, A.cs, std::min<int64_t>(kMR, M - i0), kc, kMR, apack + ip * kc * kMR);
      }
      for (int64_t jp = 0; jp < npanels; jp++) {
        const int64_t j0 = jp * kNR;
        const int64_t nr = std::min<int64_t>(kNR, N - j0);
        const float* bp = b + jp * panel_stride + pc * kNR;
        for (int64_t ip = 0; ip < mpanels; ip++) {
          const int64_t i0 = ic + ip * kMR;
          const int64_t mr = std::min<int64_t>(kMR, M - i0);
          kern.gemm_tile(kc, apack + ip * kc * kMR, bp, tile);
          const bool last = pc + kc >= K;
          for (int64_t r = 0; r < mr; r++) {
            float* crow = C + (i0 + r) * rsc + j0;
            const float* t = tile + r * kNR;
            if (pc > 0) for (int64_t j = 0; j < nr; j++) crow[j] += t[j];
            else for (int64_t j = 0; j < nr; j++) crow[j] = t[j];
            if (last && epi) BiasActRow(crow, nr, bias ? bias + j0 : nullptr, act, alpha);
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------- geometry helpers
int64_t Mul(int64_t a, int64_t b, const char* what) {
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / 4 / a) {
    throw std::invalid_argument(std::string(what) + " is too large");
  }
  return a * b;
}

void CheckDim(int64_t v, int64_t lo, const char* name) {
  if (v < lo || v > (int64_t{1} << 31) - 1) {
    throw std::invalid_argument(std::string(name) + " must be in [" + std::to_string(lo) + ", 2^31 - 1], got " +
                                std::to_string(v));
  }
}

void CheckCommon(const ConvGeom& g) {
  CheckDim(g.batch, 0, "batch");
  CheckDim(g.in_h, 0, "inHeight");
  CheckDim(g.in_w, 0, "inWidth");
  CheckDim(g.in_c, 0, "inChannels");
  CheckDim(g.out_h, 0, "outHeight");
  CheckDim(g.out_w, 0, "outWidth");
  CheckDim(g.out_c, 0, "outChannels");
  CheckDim(g.filter_h, 1, "filterHeight");
  CheckDim(g.filter_w, 1, "filterWidth");
  CheckDim(g.stride_h, 1, "strideHeight");
  CheckDim(g.stride_w, 1, "strideWidth");
  CheckDim(g.dil_h, 1, "dilationHeight");
  CheckDim(g.dil_w, 1, "dilationWidth");
  CheckDim(g.pad_top, 0, "padTop");
  CheckDim(g.pad_left, 0, "padLeft");
  Mul(g.filter_h, g.dil_h, "effective filter height");
  Mul(g.filter_w, g.dil_w, "effective filter width");
  Mul(Mul(Mul(g.batch, g.in_h, "input size"), g.in_w, "input size"), g.in_c, "input size");
  Mul(Mul(Mul(g.batch, g.out_h, "output size"), g.out_w, "output size"), g.out_c, "output size");
  Mul(Mul(Mul(g.filter_h, g.filter_w, "filter size"), g.in_c, "filter size"), std::max<int64_t>(g.out_c, 1),
      "filter size");
}

// Output positions o in [0, out) whose input coordinate o * s + off lies in [0, in).
inline void ValidRange(int64_t off, int64_t s, int64_t in, int64_t out, int64_t* lo, int64_t* hi) {
  int64_t a = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t b = (in - 1 - off) < 0 ? 0 : (in - 1 - off) / s + 1;
  *lo = std::min(a, out);
  *hi = std::max(*lo, std::min(b, out));
}

bool IsPointwise(const ConvGeom& g) {
  return g.filter_h == 1 && g.filter_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 &&
         g.pad_left == 0 && g.out_h == g.in_h && g.out_w == g.in_w;
}

// im2col rows [m0, m0 + mc) (m = (b * out_h + oh) * out_w + ow), K = fh * fw * in_c each.
void Im2Col(const ConvGeom& g, const float* x, int64_t m0, int64_t mc, float* col) {
  const int64_t K = g.filter_h * g.filter_w * g.in_c;
  const int64_t row = g.filter_w * g.in_c;
  for (int64_t i = 0; i < mc; i++) {
    const int64_t m = m0 + i;
    const int64_t ow = m % g.out_w;
    const int64_t t = m / g.out_w;
    const int64_t oh = t % g.out_h;
    const int64_t b = t / g.out_h;
    float* dst = col + i * K;
    for (int64_t fh = 0; fh < g.filter_h; fh++) {
      const int64_t ih = oh * g.stride_h - g.pad_top + fh * g.dil_h;
      float* d = dst + fh * row;
      if (ih < 0 || ih >= g.in_h) {
        std::memset(d, 0, sizeof(float) * row);
        continue;
      }
      const float* xrow = x + (b * g.in_h + ih) * g.in_w * g.in_c;
      for (int64_t fw = 0; fw < g.filter_w; fw++) {
        const int64_t iw = ow * g.stride_w - g.pad_left + fw * g.dil_w;
        if (iw < 0 || iw >= g.in_w) std::memset(d + fw * g.in_c, 0, sizeof(float) * g.in_c);
        else std::memcpy(d + fw * g.in_c, xrow + iw * g.in_c, sizeof(float) * g.in_c);
      }
    }
  }
}

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
  return g.filter_h * g.filter_w * (depthwise ? g.out_c : g.in_c * g.out_c);
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
  const int64_t M = g.batch * g.out_h * g.out_w, K = g.filter_h * g.filter_w * g.in_c, N = g.out_c;
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
        Im2Col(g, x, m0, mc, col);
        a = col;
      }
      Gemm(kern, mc, N, K, Mat{a, K, 1}, Mat{w, N, 1}, y + m0 * N, N, 1, false);
    }
  });
}

static_assert(kNR == 16, "PackedB::panel assumes 16-column panels");

PackedB::PackedB(const float* b, int64_t K, int64_t N) : k_(K), n_(N) {
  for (int64_t v : {K, N}) CheckDim(v, 0, "matmul dimension");
  const int64_t panels = (N + kNR - 1) / kNR;
  data_.assign(static_cast<size_t>(Mul(Mul(panels, K, "weights"), kNR, "weights")), 0.0f);
  for (int64_t p = 0; p < panels; p++) {
    const int64_t j0 = p * kNR;
    PackPanel(b + j0, 1, N, std::min<int64_t>(kNR, N - j0), K, kNR, data_.data() + p * K * kNR);
  }
}

namespace {
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
}  // namespace

void Conv2D(const ConvGeom& g, const float* x, const PackedB& w, float* y, int threads, const FusedBiasAct& epi) {
  ValidateConvGeom(g, false);
  const Kernels& kern = ActiveKernels();
  const int64_t M = g.batch * g.out_h * g.out_w, K = g.filter_h * g.filter_w * g.in_c, N = g.out_c;
  if (K != w.k() || N != w.n()) throw std::invalid_argument("packed weights do not match the convolution");
  if (M == 0 || N == 0) return;
  const bool pw = IsPointwise(g);
  // Pointwise: A is x itself, rows in blocks of kMC; otherwise im2col chunks of ChunkRows(K).
  ForRowsCols(M, N, pw ? kMC : ChunkRows(K), threads, [&](int64_t m0, int64_t mc, int64_t n0, int64_t nc) {
    const float* a = x + m0 * K;
    if (!pw) {
      float* col = Scratch(2, static_cast<size_t>(mc * K));
      Im2Col(g, x, m0, mc, col);
      a = col;
    }
    GemmPackedB(kern, mc, nc, K, Mat{a, K, 1}, w.panel(n0 / kNR), K * kNR, y + m0 * N + n0, N,
                epi.bias ? epi.bias + n0 : nullptr, epi.act, epi.alpha);
  });
}

void MatMul(int64_t M, const float* a, const PackedB& b, float* c, int threads, const FusedBiasAct& epi) {
  CheckDim(M, 0, "matmul dimension");
  const int64_t N = b.n(), K = b.k();
  if (M == 0 || N == 0) return;
  const Kernels& kern = ActiveKernels();
  ForRowsCols(M, N, kMC, threads, [&](int64_t m0, int64_t mc, int64_t n0, int64_t nc) {
    GemmPackedB(kern, mc, nc, K, Mat{a + m0 * K, K, 1}, b.panel(n0 / kNR), K * kNR, c + m0 * N + n0, N,
                epi.bias ? epi.bias + n0 : nullptr, epi.act, epi.alpha);
  });
}

void Conv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  ValidateConvGeom(g, false);
  const Kernels& kern = ActiveKernels();
  const int64_t M = g.batch * g.out_h * g.out_w, K = g.filter_h * g.filter_w * g.in_c, N = g.out_c;
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
          Im2Col(g, x, m0, mc, col);
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
  const int64_t K = g.filter_h * g.filter_w * g.in_c, N = g.out_c;
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
  const int64_t row = g.filter_w * g.in_c;
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
          for (int64_t fh = 0; fh < g.filter_h; fh++) {
            const int64_t ih = oh * g.stride_h - g.pad_top + fh * g.dil_h;
            if (ih < 0 || ih >= g.in_h) continue;
            float* drow = dxi + ih * g.in_w * g.in_c;
            const float* s = src + fh * row;
            for (int64_t fw = 0; fw < g.filter_w; fw++) {
              const int64_t iw = ow * g.stride_w - g.pad_left + fw * g.dil_w;
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

namespace {

// Expands the input rows needed by output row (b, oh) into rows[fh] (nullptr when out of
// bounds). For mult == 1 these point into x.
void GatherRows(const ConvGeom& g, const float* x, int64_t mult, int64_t b, int64_t oh, const float** rows) {
  const int64_t C = g.out_c;
  float* buf = mult == 1 ? nullptr : Scratch(3, static_cast<size_t>(g.filter_h * g.in_w * C));
  for (int64_t fh = 0; fh < g.filter_h; fh++) {
    const int64_t ih = oh * g.stride_h - g.pad_top + fh * g.dil_h;
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
    std::vector<const float*> rows(static_cast<size_t>(g.filter_h));
    for (int64_t r = rb; r < re; r++) {
      const int64_t b = r / g.out_h, oh = r % g.out_h;
      GatherRows(g, x, mult, b, oh, rows.data());
      float* yrow = y + r * g.out_w * C;
      std::fill(yrow, yrow + g.out_w * C, 0.f);
      for (int64_t ow = 0; ow < g.out_w; ow++) {
        float* acc = yrow + ow * C;
        const int64_t off = ow * g.stride_w - g.pad_left;
        // fw with 0 <= off + fw * dil_w < in_w
        int64_t f0, f1;
        ValidRange(off, g.dil_w, g.in_w, g.filter_w, &f0, &f1);
        if (f1 <= f0) continue;
        for (int64_t fh = 0; fh < g.filter_h; fh++) {
          if (!rows[fh]) continue;
          kern.dot_rows(f1 - f0, C, rows[fh] + (off + f0 * g.dil_w) * C, g.dil_w * C,
                        w + (fh * g.filter_w + f0) * C, C, acc);
        }
      }
    }
  });
}

void DepthwiseConv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw) {
  ValidateConvGeom(g, true);
  const Kernels& kern = ActiveKernels();
  const int64_t C = g.out_c;
  const int64_t F = g.filter_h * g.filter_w * C;
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
    std::vector<const float*> rows(static_cast<size_t>(g.filter_h));
    for (int64_t gi = gb; gi < ge; gi++) {
      float* P = partial.data() + gi * F;
      const int64_t r0 = rows_total * gi / G, r1 = rows_total * (gi + 1) / G;
      for (int64_t r = r0; r < r1; r++) {
        const int64_t b = r / g.out_h, oh = r % g.out_h;
        GatherRows(g, x, mult, b, oh, rows.data());
        const float* dyrow = dy + r * g.out_w * C;
        for (int64_t fh = 0; fh < g.filter_h; fh++) {
          if (!rows[fh]) continue;
          for (int64_t fw = 0; fw < g.filter_w; fw++) {
            const int64_t off = fw * g.dil_w - g.pad_left;
            int64_t o0, o1;
            ValidRange(off, g.stride_w, g.in_w, g.out_w, &o0, &o1);
            if (o1 <= o0) continue;
            kern.dot_rows(o1 - o0, C, rows[fh] + (o0 * g.stride_w + off) * C, g.stride_w * C, dyrow + o0 * C, C,
                          P + (fh * g.filter_w + fw) * C);
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
        for (int64_t fh = 0; fh < g.filter_h; fh++) {
          const int64_t t = ih + g.pad_top - fh * g.dil_h;
          if (t < 0 || t % g.stride_h != 0) continue;
          const int64_t oh = t / g.stride_h;
          if (oh >= g.out_h) continue;
          const float* dyrow = dy + (b * g.out_h + oh) * g.out_w * C;
          for (int64_t fw = 0; fw < g.filter_w; fw++) {
            const int64_t u = iw + g.pad_left - fw * g.dil_w;
            if (u < 0 || u % g.stride_w != 0) continue;
            const int64_t ow = u / g.stride_w;
            if (ow >= g.out_w) continue;
            kern.dot_rows(1, C, dyrow + ow * C, 0, w + (fh * g.filter_w + fw) * C, 0, a);
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

void MaxPoolGrad(const ConvGeom& g, const float* x, const float* dy, float* dx) {
  ValidatePoolGeom(g);
  const int64_t C = g.in_c;
  const int64_t per_image = g.in_h * g.in_w * C;
  if (InputSize(g) == 0) return;
  const int64_t eff_h = (g.filter_h - 1) * g.dil_h + 1, eff_w = (g.filter_w - 1) * g.dil_w + 1;
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
        if (r_min < 0) r_min += (-r_min + g.dil_h - 1) / g.dil_h * g.dil_h;
        const int64_t r_max = std::min(g.in_h, eff_h + r_corner);
        for (int64_t ow = 0; ow < g.out_w; ow++) {
          const int64_t c_corner = ow * g.stride_w - g.pad_left;
          int64_t c_min = c_corner;
          if (c_min < 0) c_min += (-c_min + g.dil_w - 1) / g.dil_w * g.dil_w;
          const int64_t c_max = std::min(g.in_w, eff_w + c_corner);
          for (int64_t c = 0; c < C; c++) {
            best[c] = -std::numeric_limits<float>::infinity();
            pos[c] = -1;
          }
          for (int64_t r = r_min; r < r_max; r += g.dil_h)
            for (int64_t cc = c_min; cc < c_max; cc += g.dil_w) {
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
  const float scale = 1.0f / static_cast<float>(g.filter_h * g.filter_w);
  ParallelFor(g.batch, 1, 0, [&](int64_t bb, int64_t be) {
    for (int64_t b = bb; b < be; b++) {
      float* dxi = dx + b * per_image;
      std::fill(dxi, dxi + per_image, 0.f);
      for (int64_t oh = 0; oh < g.out_h; oh++) {
        for (int64_t ow = 0; ow < g.out_w; ow++) {
          const float* dyp = dy + ((b * g.out_h + oh) * g.out_w + ow) * C;
          for (int64_t fh = 0; fh < g.filter_h; fh++) {
            const int64_t ih = oh * g.stride_h - g.pad_top + fh * g.dil_h;
            if (ih < 0 || ih >= g.in_h) continue;
            for (int64_t fw = 0; fw < g.filter_w; fw++) {
              const int64_t iw = ow * g.stride_w - g.pad_left + fw * g.dil_w;
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

void BatchMatMul(int64_t batch_a, int64_t batch_b, int64_t M, int64_t N, int64_t K, bool ta, bool tb, const float* a,
                 const float* b, float* c, int threads) {
  for (int64_t v : {batch_a, batch_b, M, N, K}) CheckDim(v, 0, "matmul dimension");
  if (batch_a != batch_b && batch_a != 1 && batch_b != 1) {
    throw std::invalid_argument("batch sizes " + std::to_string(batch_a) + " and " + std::to_string(batch_b) +
                                " do not broadcast");
  }
  Mul(Mul(std::max(batch_a, batch_b), M, "output size"), N, "output size");
  Mul(Mul(batch_a, M, "a size"), K, "a size");
  Mul(Mul(batch_b, K, "b size"), N, "b size");
  const int64_t batch = (batch_a == 0 || batch_b == 0) ? 0 : std::max(batch_a, batch_b);
  if (batch == 0 || M == 0 || N == 0) return;
  const Kernels& kern = ActiveKernels();
  // Work items: (batch, row block of 96 rows, column block of 256) so small batches still
  // use every thread.
  const int64_t RB = 96, CB = 256;
  const int64_t rblocks = (M + RB - 1) / RB, cblocks = (N + CB - 1) / CB;
  ParallelFor(batch * rblocks * cblocks, 1, threads, [&](int64_t ib, int64_t ie) {
    for (int64_t item = ib; item < ie; item++) {
      const int64_t bi = item / (rblocks * cblocks);
      const int64_t rest = item % (rblocks * cblocks);
      const int64_t m0 = (rest / cblocks) * RB, n0 = (rest % cblocks) * CB;
      const int64_t mc = std::min(RB, M - m0), nc = std::min(CB, N - n0);
      const float* ap = a + (batch_a == 1 ? 0 : bi) * M * K;
      const float* bp = b + (batch_b == 1 ? 0 : bi) * K * N;
      Mat A = ta ? Mat{ap + m0, 1, M} : Mat{ap + m0 * K, K, 1};
      Mat B = tb ? Mat{bp + n0 * K, 1, K} : Mat{bp + n0, N, 1};
      Gemm(kern, mc, nc, K, A, B, c + bi * M * N + m0 * N + n0, N, 1, false);
    }
  });
}

void BiasActivation(float* y, int64_t rows, int64_t channels, const float* bias, int64_t bias_len, Activation act,
                    float alpha, int threads) {
  if (rows < 0 || channels < 0) throw std::invalid_argument("rows and channels must be >= 0");
  if (bias && bias_len != 1 && bias_len != channels) {
    throw std::invalid_argument("bias has " + std::to_string(bias_len) + " elements, expected 1 or " +
                                std::to_string(channels));
  }
  if (rows == 0 || channels == 0) return;
  ParallelFor(rows, std::max<int64_t>(1, 8192 / channels), threads, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++) {
      float* v = y + r * channels;
      if (bias) {
        if (bias_len == 1) for (int64_t c = 0; c < channels; c++) v[c] += bias[0];
        else for (int64_t c = 0; c < channels; c++) v[c] += bias[c];
      }
      ActRow(v, channels, act, alpha);
    }
  });
}

}  // namespace train
}  // namespace tfjq
