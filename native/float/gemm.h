// The float32 GEMM of the runtime's float steps and of the training kernels: a blocked,
// packed GEMM over per-ISA microkernels (gemm_f32_{ref,avx2,avx512vnni}.cc: a 6×16 AVX2/FMA
// tile, a 6×64 AVX-512 one over prepacked weights), with the bias-and-activation epilogue
// fused into its stores. Convolutions over it: float/conv.h; gradients: train/.
//
// Every function is synchronous, splits its work over the shared pool (ParallelFor), picks
// its microkernels from the per-ISA table of the active ISA (AVX2/FMA on every x86-64 SIMD
// path below AVX-512), and throws std::invalid_argument for inconsistent arguments.
// threads: pool participants, 0 = all (the runtime passes its session's).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/activation.h"

namespace tfjq {
namespace f32 {

// c[i] = op(a[i % batch_a]) x op(b[i % batch_b]) for i < max(batch_a, batch_b), where each
// batch_a / batch_b is 1 or the common batch; op transposes when ta / tb. a is [M, K]
// ([K, M] when ta), b is [K, N] ([N, K] when tb), c is [M, N].
void BatchMatMul(int64_t batch_a, int64_t batch_b, int64_t M, int64_t N, int64_t K, bool ta, bool tb, const float* a,
                 const float* b, float* c, int threads = 0);

// Inference with constant weights: B [K, N] (row-major) packed once into the panels the
// GEMM reads (kNR = 16 columns per panel, k-major, columns zero-padded), so the runtime's
// float steps do not repack their weights on every call and for every chunk of rows (a
// 49 × 960 × 320 layer packed its 1.2 MB of weights four times per run). Results equal
// Conv2D / BatchMatMul on the unpacked weights bit for bit (same blocking of K, same tile kernel).
class PackedB {
 public:
  PackedB() = default;
  PackedB(const float* b, int64_t K, int64_t N);
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  const float* panel(int64_t p) const { return data_.data() + p * k_ * 16; }
  size_t byte_length() const { return data_.size() * sizeof(float); }

 private:
  std::vector<float> data_;
  int64_t k_ = 0, n_ = 0;
};

// The fused epilogue of the packed GEMM: y = act(y + bias[c]) as BiasActivation computes it
// (same operations, applied while the last K block's tile is stored instead of in a second
// pass over the output). bias may be null.
struct FusedBiasAct {
  const float* bias = nullptr;           // N entries or null
  Activation act = Activation::kLinear;  // one IsFloatGemmActivation accepts
  float alpha = 0.0f;
};
// c [M, N] = a [M, K] × b, row-major.
void MatMul(int64_t M, const float* a, const PackedB& b, float* c, int threads, const FusedBiasAct& epi = {});

// y[r · y_step + i] += x[r · x_step + i] for r < runs, i < len, on the active ISA's vectors (one
// float addition per element, so every path gives the same sums). The runs of y must not overlap
// each other or x's (x_step may be 0: one run added to every run of y).
void AddRuns(float* y, int64_t y_step, const float* x, int64_t x_step, int64_t runs, int64_t len);

// The epilogue as a pass of its own, in place on y viewed as [rows, channels]:
// y = act(y + bias[c]) (bias may be null; bias_len 1 broadcasts one value).
void BiasActivation(float* y, int64_t rows, int64_t channels, const float* bias, int64_t bias_len, Activation act,
                    float alpha, int threads = 0);

}  // namespace f32
}  // namespace tfjq
