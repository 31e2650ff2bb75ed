// The float GEMM driver: blocking, packing and threading around the per-ISA microkernels of
// gemm_kernels.h, for the runtime's float steps and the training kernels (PackedB, MatMul,
// BatchMatMul, BiasActivation).
#include "float/gemm_driver.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "common/thread_pool.h"
#include "float/gemm_kernels.h"

namespace tfjq {
namespace f32 {

using namespace detail;  // the shared driver helpers of gemm_driver.h

// The float training family's table: ref and AVX2 (+FMA) microkernels, and AVX-512's own
// packed-B GEMM (inference); the other x86 SIMD paths resolve to AVX2, arm64 to ref.
const Kernels& ActiveKernels() {
  static const IsaTable<Kernels> table = [] {
    IsaTable<Kernels> t;
    t.entries[static_cast<int>(Isa::kRef)] = [] { return &RefKernels(); };
#if defined(__x86_64__) || defined(_M_X64)
    t.entries[static_cast<int>(Isa::kAvx2)] = [] { return &Avx2Kernels(); };
    t.entries[static_cast<int>(Isa::kAvx512Vnni)] = [] { return &Avx512Kernels(); };
#endif
    return t;
  }();
  return *table.Resolve(ActiveIsa());
}

namespace detail {

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
void PackPanel(const float* src, int64_t lane_stride, int64_t k_stride, int64_t lanes, int64_t kc, int64_t width,
               float* dst) {
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
                if (add)
                  for (int64_t j = 0; j < nr; j++) crow[j] += t[j];
                else
                  for (int64_t j = 0; j < nr; j++) crow[j] = t[j];
              } else {
                if (add)
                  for (int64_t j = 0; j < nr; j++) crow[j * csc] += t[j];
                else
                  for (int64_t j = 0; j < nr; j++) crow[j * csc] = t[j];
              }
            }
          }
        }
      }
    }
  }
}

void CheckEpilogueActivation(Activation act) {
  if (!IsFloatGemmActivation(act))
    throw std::invalid_argument(
        std::string("the float GEMM's epilogue applies linear, relu, relu6 or leakyRelu, not ") +
        kActivationNames[static_cast<int>(act)]);
}

// The activations of BiasActivation on n values in place.
static inline void ActRow(float* v, int64_t n, Activation act, float alpha) {
  switch (act) {
    case Activation::kLinear:
      break;
    case Activation::kRelu:
      for (int64_t c = 0; c < n; c++) v[c] = v[c] < 0.f ? 0.f : v[c];
      break;
    case Activation::kRelu6:
      for (int64_t c = 0; c < n; c++) v[c] = v[c] < 0.f ? 0.f : (v[c] > 6.f ? 6.f : v[c]);
      break;
    case Activation::kLeakyRelu:
      for (int64_t c = 0; c < n; c++) v[c] = v[c] < 0.f ? alpha * v[c] : v[c];
      break;
    default:  // outside IsFloatGemmActivation: rejected before any row is computed
      break;
  }
}

// bias (already offset to this block's first column) and act of FusedBiasAct, applied to one
// stored row segment in BiasActivation's order: v += bias[c], then the activation.
static inline void BiasActRow(float* v, int64_t n, const float* bias, Activation act, float alpha) {
  if (bias)
    for (int64_t c = 0; c < n; c++) v[c] += bias[c];
  ActRow(v, n, act, alpha);
}
// C = A × B over K for the columns of `npanels` prepacked B panels (panel p at
// b + p * panel_stride, element (k, j) at k * kNR + j), single-threaded. The same K blocks,
// packing of A and tile kernel as Gemm, so the same sums in the same order. The AVX2 and
// AVX-512 paths replace it (Kernels::gemm_packed_b) with tiles that read A in place and store
// straight into C; the same sums again.
void GemmPackedB(const Kernels& kern, int64_t M, int64_t N, int64_t K, Mat A, const float* b, int64_t panel_stride,
                 float* C, int64_t rsc, const float* bias, Activation act, float alpha) {
  if (M <= 0 || N <= 0) return;
  if (kern.gemm_packed_b != nullptr && A.cs == 1 && K > 0)
    return kern.gemm_packed_b(M, N, K, A.p, A.rs, b, panel_stride, C, rsc, bias, act, alpha);
  const bool epi = bias != nullptr || act != Activation::kLinear;
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
        PackPanel(A.p + i0 * A.rs + pc * A.cs, A.rs, A.cs, std::min<int64_t>(kMR, M - i0), kc, kMR,
                  apack + ip * kc * kMR);
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
            if (pc > 0)
              for (int64_t j = 0; j < nr; j++) crow[j] += t[j];
            else
              for (int64_t j = 0; j < nr; j++) crow[j] = t[j];
            if (last && epi) BiasActRow(crow, nr, bias ? bias + j0 : nullptr, act, alpha);
          }
        }
      }
    }
  }
}

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

}  // namespace detail

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

void MatMul(int64_t M, const float* a, const PackedB& b, float* c, int threads, const FusedBiasAct& epi) {
  CheckDim(M, 0, "matmul dimension");
  CheckEpilogueActivation(epi.act);
  const int64_t N = b.n(), K = b.k();
  if (M == 0 || N == 0) return;
  const Kernels& kern = ActiveKernels();
  ForRowsCols(M, N, kMC, threads, [&](int64_t m0, int64_t mc, int64_t n0, int64_t nc) {
    GemmPackedB(kern, mc, nc, K, Mat{a + m0 * K, K, 1}, b.panel(n0 / kNR), K * kNR, c + m0 * N + n0, N,
                epi.bias ? epi.bias + n0 : nullptr, epi.act, epi.alpha);
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

void AddRuns(float* y, int64_t y_step, const float* x, int64_t x_step, int64_t runs, int64_t len) {
  if (runs > 0 && len > 0) ActiveKernels().add_runs(y, y_step, x, x_step, runs, len);
}

void BiasActivation(float* y, int64_t rows, int64_t channels, const float* bias, int64_t bias_len, Activation act,
                    float alpha, int threads) {
  if (rows < 0 || channels < 0) throw std::invalid_argument("rows and channels must be >= 0");
  CheckEpilogueActivation(act);
  if (bias && bias_len != 1 && bias_len != channels) {
    throw std::invalid_argument("bias has " + std::to_string(bias_len) + " elements, expected 1 or " +
                                std::to_string(channels));
  }
  if (rows == 0 || channels == 0) return;
  ParallelFor(rows, std::max<int64_t>(1, 8192 / channels), threads, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++) {
      float* v = y + r * channels;
      if (bias) {
        if (bias_len == 1)
          for (int64_t c = 0; c < channels; c++) v[c] += bias[0];
        else
          for (int64_t c = 0; c < channels; c++) v[c] += bias[c];
      }
      ActRow(v, channels, act, alpha);
    }
  });
}

}  // namespace f32
}  // namespace tfjq
