// Packed int8 GEMM: C[M×N] = epilogue(A[M×K] · B[K×N]) — docs/quantization.md §6–§7,
// layouts and blocking in docs/gemm.md.
//
// Usage (the native runtime calls this directly; the N-API binding wraps it):
//
//   using namespace tfjq::gemm;
//   PackedB w = PackB(weights, k, n, BLayout::kKN, /*ldb=*/n, nullptr, false, ActiveIsa());
//   GemmArgs g;  g.m = m; g.a = act; g.lda = k; g.a_zero_points = &za; g.b = &w;
//   g.c = out; g.ldc = n; g.epilogue.output = OutputType::kInt8; ...
//   Gemm(g);
//
// Arithmetic: acc[m][n] = Σ_k (A[m][k] − za[m])·(B[k][n] − zb[n]) + bias[n], in int32 with
// two's-complement wrap-around (exact whenever the true value fits, always for K ≤ 32768),
// then the epilogue of §7. Every kernel path computes exactly what the reference path
// (Isa::kRef, a literal loop over that formula) computes, bit for bit.
//
// Errors: invalid arguments throw std::invalid_argument (message names the argument);
// allocation failure throws std::bad_alloc. Nothing else is thrown.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/activation.h"
#include "common/aligned_buffer.h"
#include "common/cpu.h"

namespace tfjq {
namespace gemm {

constexpr int64_t kMaxK = 65536;  // §6: the API rejects K > 65536
constexpr int64_t kMaxDim = int64_t{1} << 31;

// How the caller's weight matrix is laid out.
enum class BLayout : int {
  kKN = 0,  // B[k][n] at b[k*ldb + n] (TF.js Dense kernel [in, out])
  kNK = 1,  // B[k][n] at b[n*ldb + k] (transposed: one row of K per output column)
};

// The storage format of packed weights: int8 only. int4 weights are a separate family with
// their own packing, driver and kernels (gemm_int4.h, docs/gemm.md "int4").
enum class WeightFormat : int { kInt8 = 0 };

// Weights packed once for one kernel path and reused by every Gemm call. Immutable after
// PackB; safe to share between threads. Movable, not copyable.
class PackedB {
 public:
  PackedB() = default;
  PackedB(PackedB&&) noexcept = default;
  PackedB& operator=(PackedB&&) noexcept = default;

  bool empty() const { return n_ == 0 || k_ == 0; }
  Isa isa() const { return isa_; }
  WeightFormat format() const { return WeightFormat::kInt8; }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  // Bytes held (panels + column sums + zero points).
  size_t byte_length() const;
  // zb[n]: per column (n entries) or per tensor (1 entry); all zero is the common case.
  int32_t zero_point(int64_t col) const { return zb_per_col_ ? zb_.get()[col] : zb_scalar_; }
  bool zero_points_all_zero() const { return zb_all_zero_; }
  // Σ_k B[k][n] (int32; exact since |Σ| ≤ 65536·128).
  const int32_t* col_sums() const { return col_sums_.get(); }

  // ---- layout (docs/gemm.md): panels of `nr` columns; inside a panel, K in groups of
  // `kgroup` consecutive values per column: panel p, group g, column j, lane t at
  // panels()[p*panel_stride() + (g*nr + j)*kgroup + t]; K is zero-padded to kpad, columns
  // to a multiple of nr. The reference path uses nr = kgroup = 1, i.e. plain B transposed.
  int nr() const { return nr_; }
  int kgroup() const { return kgroup_; }
  int64_t kpad() const { return kpad_; }
  int64_t num_panels() const { return (n_ + nr_ - 1) / nr_; }
  int64_t panel_stride() const { return kpad_ * nr_; }
  const int8_t* panels() const { return panels_.as<int8_t>(); }

 private:
  friend PackedB PackB(const int8_t*, int64_t, int64_t, BLayout, int64_t, const int32_t*, bool, Isa);
  Isa isa_ = Isa::kRef;
  int64_t k_ = 0, n_ = 0, kpad_ = 0;
  int nr_ = 1, kgroup_ = 1;
  AlignedBuffer panels_;
  std::unique_ptr<int32_t[]> col_sums_;
  std::unique_ptr<int32_t[]> zb_;
  int32_t zb_scalar_ = 0;
  bool zb_per_col_ = false, zb_all_zero_ = true;
};

// Packs B (k × n int8, any values −128..127) for `isa`, which must be usable here
// (GemmIsaUsable). zero_points: nullptr (zb = 0), one value (zb_per_column false) or n
// values; each in [−128, 127]. 1 ≤ k ≤ kMaxK, 1 ≤ n < 2^31, ldb ≥ n (kKN) or ≥ k (kNK).
PackedB PackB(const int8_t* b, int64_t k, int64_t n, BLayout layout, int64_t ldb, const int32_t* zero_points,
              bool zb_per_column, Isa isa);

enum class OutputType : int { kInt32 = 0, kInt8 = 1, kUint8 = 2, kFloat32 = 3 };

// What happens to acc (§7). Pointers are borrowed for the duration of the call.
struct Epilogue {
  OutputType output = OutputType::kInt32;
  // int32 bias added to acc (n entries) — any output type. Not together with bias_f32.
  const int32_t* bias = nullptr;

  // kInt8 / kUint8: y = fl32(fl32(acc) × mult[n]); q = rne(clamp(y, qmin − zo, qmax − zo)) + zo.
  // multipliers: 1 entry (per tensor) or n (per channel); finite and > 0.
  const float* multipliers = nullptr;
  bool multiplier_per_channel = false;
  int32_t out_zero_point = 0;
  int32_t qmin = -128, qmax = 127;  // inside the output type's range; ReLU etc. narrow these

  // kFloat32: y = fl32(fl32(acc) × fl32(sa[m] × sw[n])); y = fl32(y + bias_f32[n]);
  // y = activation(y) with max(y, lo) = (y > lo ? y : lo), min(y, hi) = (y < hi ? y : hi)
  // (ReLU: lo = 0; ReLU6: lo = 0, hi = 6; kClamp: clamp_min, clamp_max).
  const float* a_scales = nullptr;  // 1 entry or m (a_scale_per_row); finite > 0
  bool a_scale_per_row = false;
  const float* w_scales = nullptr;  // n entries, or 1 when !w_scale_per_channel; finite > 0
  bool w_scale_per_channel = true;
  const float* bias_f32 = nullptr;  // n entries or nullptr
  Activation activation = Activation::kLinear;
  float clamp_min = 0.0f, clamp_max = 0.0f;
};

struct GemmArgs {
  int64_t m = 0;            // rows of A and C (≥ 0); n and k come from b
  const void* a = nullptr;  // A[m][k] at a[m*lda + k]; uint8, or int8 when a_signed
  bool a_signed = false;    // int8 activations: treated as uint8 with +128 (values and za)
  int64_t lda = 0;          // ≥ k
  // za: 1 entry (per tensor) or m entries (a_zero_point_per_row), inside A's type range.
  const int32_t* a_zero_points = nullptr;
  bool a_zero_point_per_row = false;
  const PackedB* b = nullptr;
  // Instead of a (internal, DynamicGemm per row): float32 rows a_f32[m*lda + k], quantized to
  // uint8 per row (§8, quant::DynamicQuantizeRowsU8) as each block of rows is packed; their
  // za and sa replace a_zero_points and epilogue.a_scales (ignored). Float32 output only.
  const float* a_f32 = nullptr;
  void* c = nullptr;  // C[m][n] at c[m*ldc + n], element type per epilogue.output
  int64_t ldc = 0;    // ≥ n
  Epilogue epilogue;
  int threads = 0;  // maximum participants from the pool (0 = pool size)
};

// Runs on the path b->isa() was packed for. C must not overlap A or the epilogue arrays.
void Gemm(const GemmArgs& args);

// §8 + §6–§7 in one call: X (m × k float32, row stride ldx) is quantized to uint8 per row or
// per tensor (quant::DynamicQuantizeU8), multiplied by b, and dequantized to float32 with
// sa from the quantization and sw = w_scales.
struct DynamicGemmArgs {
  int64_t m = 0;
  const float* x = nullptr;
  int64_t ldx = 0;  // ≥ k
  bool per_row = true;
  const PackedB* b = nullptr;
  const float* w_scales = nullptr;
  bool w_scale_per_channel = true;
  const float* bias_f32 = nullptr;
  Activation activation = Activation::kLinear;
  float clamp_min = 0.0f, clamp_max = 0.0f;
  float* c = nullptr;
  int64_t ldc = 0;  // ≥ n
  int threads = 0;
};
void DynamicGemm(const DynamicGemmArgs& args);
// The GEMM half of DynamicGemm per tensor, for an A already quantized (uint8 rows of k
// bytes, stride lda ≥ k, with its §8 scale and zero point; args.x is not read): equal to
// DynamicGemm with per_row false on the float32 matrix those bytes were quantized from.
void DynamicGemmPerTensorU8(const DynamicGemmArgs& args, const uint8_t* a, int64_t lda, float scale,
                            int32_t zero_point);

// GOPS (2 ops per multiply-accumulate) of a dependency-free multiply-accumulate loop on one
// thread for `isa` (timed in thread CPU time) — VPMADDWD+VPADDD (avx2), VPDPBUSD ymm (avxvnni) / zmm (avx512vnni),
// SMLAL (neon), SDOT (neondot), scalar int32 (ref) — run for about `seconds`.
double MeasurePeakGops(Isa isa, double seconds);

// Whether PackB/Gemm accept `isa` in this process: IsaSupported(isa), or, in a harness
// built with TFJQ_GEMM_ALLOW_UNSUPPORTED (SIMDe emulation), every compiled path.
bool GemmIsaUsable(Isa isa);

}  // namespace gemm
}  // namespace tfjq
