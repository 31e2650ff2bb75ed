// Sparse weight products for pruned models: y = x · W with W a constant
// sparse K×N matrix (TF.js Dense kernel [in, out] or a 1×1 conv's [Cin, Cout]) and x a dense
// M×K matrix, in float32 and in int8 (the int8 PTQ layout of docs/quantization.md §6–§7).
//
// Formats (chosen once at load by Pack / Analyze, docs/compression.md §6):
//   kCsc     unstructured: per output column the nonzero (k, w) pairs in ascending k, each
//            column padded to a multiple of 8 entries with (k = 0, w = 0) so the AVX2 path
//            gathers 8 at a time for few rows, and pairs entries for VPMADDWD on x transposed
//            into row blocks for many rows (x·0 adds +0, as the dense multiply by a pruned 0).
//   kBlock   block sparsity br×bc (br along K, bc along N; bc ∈ {1, 4, 8}, br ∈ {1, 2, 4, 8},
//            not 1×1): block-CSR over panels of bc columns, each stored block br×bc values
//            row-major (zero padded past K / N).
//   kNM24    2:4 (at most 2 nonzeros in every group of 4 consecutive k of a column): per
//            panel of 8 columns and group of 4 k, the two values of each column (v0 at the
//            smaller k) and their 2-bit offsets (column j: bits 4j..4j+1 offset of v0,
//            4j+2..4j+3 offset of v1) in one uint32.
//
// Numerics
//   int8: acc[m][n] = Σ_k (x[m][k] − za)·W[k][n] + bias[n] in int32 with wrap-around, the
//   same value the dense GEMM computes (§6: Σ(a − za)(b − 0) mod 2^32, zero weights add 0),
//   then the GEMM's own §7 requantize epilogue functions (gemm/internal.h: EpilogueAvx2 or
//   EpilogueScalar), so the result equals the dense int8 step bit for bit.
//   float32: y[m][n] = Σ over the stored entries of column n of x[m][k]·W[k][n]. The
//   reference kernel adds in ascending k (mul then add); the AVX2 kernels use FMA and add in
//   ascending k per output for kBlock with bc ≥ 4, kNM24 and kCsc with ≥ 4 rows (x transposed
//   into blocks of 8–32 rows, one broadcast weight per stored entry), and in 8 (kCsc, fewer
//   rows: gathers) or br (kBlock bc = 1) interleaved partial sums reduced at the end otherwise. Pruned zeros are
//   skipped, so an Inf/NaN in x meeting a pruned weight gives no NaN (dense gives NaN·0 = NaN); NaN or Inf weights are
//   stored nonzeros and propagate as in the dense product. Results agree with the dense float kernel within 1e-5
//   relative to Σ_k |x[m][k]·W[k][n]|.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/cpu.h"

namespace tfjq {
namespace sparse {

enum class Format : int { kCsc = 0, kBlock = 1, kNM24 = 2 };
enum class ValueType : int { kF32 = 0, kI8 = 1 };

const char* FormatName(Format f);

// What Analyze found in a weight matrix.
struct Structure {
  int64_t k = 0, n = 0, nnz = 0;
  double sparsity = 0;                 // 1 − nnz / (k·n)
  bool nm24 = false;                   // every group of 4 along K (per column) has ≤ 2 nonzeros
  int block_rows = 1, block_cols = 1;  // largest detected block shape with fill ≥ 0.9 (1×1: none)
  double block_fill = 1;               // nnz / (stored blocks · br·bc) for that shape
  Format format = Format::kCsc;        // the format Pack picks by default
};

// Scans W (k × n, row-major [k][n]); zero means == 0 (float: ±0). Block shapes tried, best
// first: 4×4, 1×8, 8×1, 2×4, 1×4, 4×1; a shape qualifies with fill ≥ 0.9 (nonzeros / area of
// the blocks holding any, edge blocks clipped). Default format: the block shape if one qualifies, else 2:4 when it
// holds and the sparsity is below 62.5% (sparser matrices run faster as CSC), else CSC.
Structure AnalyzeF32(const float* w, int64_t k, int64_t n);
Structure AnalyzeI8(const int8_t* w, int64_t k, int64_t n);

struct PackOptions {
  bool force_format = false;  // else Analyze's choice
  Format format = Format::kCsc;
  int block_rows = 4, block_cols = 4;  // kBlock only (when forced)
};

// The packed weight (immutable after Pack; safe to share between threads).
class PackedSparse {
 public:
  PackedSparse() = default;
  PackedSparse(PackedSparse&&) noexcept = default;
  PackedSparse& operator=(PackedSparse&&) noexcept = default;

  Format format() const { return format_; }
  ValueType type() const { return type_; }
  Isa isa() const { return isa_; }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  int64_t nnz() const { return nnz_; }        // nonzeros of W
  int64_t stored() const { return stored_; }  // values stored (padding and block zeros included)
  int block_rows() const { return br_; }
  int block_cols() const { return bc_; }
  // Columns per panel: the unit of column work (1 for kCsc, bc for kBlock, 8 for kNM24).
  int panel_cols() const { return format_ == Format::kCsc ? 1 : format_ == Format::kBlock ? bc_ : 8; }
  int64_t panels() const { return (n_ + panel_cols() - 1) / panel_cols(); }
  size_t byte_length() const { return ptr_.size() * sizeof(int32_t) + idx_.size() * sizeof(int32_t) + vals_.size(); }

  // kCsc: ptr_[n+1] entry offsets per column; idx_[e] = k; vals at e.
  // kBlock: ptr_[panels+1] block offsets per panel; idx_[b] = first k of block b; vals at b·br·bc.
  // kNM24: ptr_ unused; idx_[p·groups + g] = offset bits; vals at (p·groups + g)·16 (v0[8], v1[8]).
  const int32_t* ptr() const { return ptr_.data(); }
  const int32_t* idx() const { return idx_.data(); }
  template <typename T>
  const T* vals() const {
    return vals_.as<T>();
  }
  int64_t groups() const { return (k_ + 3) / 4; }

 private:
  template <typename T>
  friend PackedSparse PackT(const T*, int64_t, int64_t, const PackOptions&, Isa);
  Format format_ = Format::kCsc;
  ValueType type_ = ValueType::kF32;
  Isa isa_ = Isa::kRef;
  int64_t k_ = 0, n_ = 0, nnz_ = 0, stored_ = 0;
  int br_ = 1, bc_ = 1;
  std::vector<int32_t> ptr_, idx_;
  AlignedBuffer vals_;
};

// Packs W (k × n row-major) for `isa` (kRef, or kAvx2 when usable here; any x86 path with
// AVX2 maps to kAvx2, others to kRef). 1 ≤ k ≤ 65536, 1 ≤ n < 2^31. Throws std::invalid_argument.
PackedSparse PackF32(const float* w, int64_t k, int64_t n, const PackOptions& o, Isa isa);
PackedSparse PackI8(const int8_t* w, int64_t k, int64_t n, const PackOptions& o, Isa isa);
// The sparse path for a requested ISA: kAvx2 when `isa` is an x86 path with AVX2 compiled
// and runnable, else kRef.
Isa SparseIsaFor(Isa isa);

// y[m·ldy + j] = Σ x[m·ldx + k]·W[k][j] for m < rows, all n columns (no bias).
void SpmmF32(const PackedSparse& w, const float* x, int64_t ldx, int64_t rows, float* y, int64_t ldy, int threads);

// int8: y = requantize(Σ (x − za)·W + bias) exactly as the dense GEMM's §7 int8 epilogue.
struct I8Epilogue {
  int32_t za = 0;                      // x's zero point, [−128, 127]
  const int32_t* bias = nullptr;       // n entries or nullptr
  const float* multipliers = nullptr;  // 1 or n entries (per_channel), finite > 0
  bool per_channel = false;
  int32_t zo = 0, qmin = -128, qmax = 127;
};
void SpmmI8(const PackedSparse& w, const int8_t* x, int64_t ldx, int64_t rows, const I8Epilogue& e, int8_t* y,
            int64_t ldy, int threads);

namespace internal {
// One kernel call: columns [n0, n1) (n0 a multiple of panel_cols()), rows [0, rows) of x;
// out[i·ldo + (j − n0)] = Σ ... (float: sum, int: int32 acc without bias, x already − za).
using F32Kernel = void (*)(const PackedSparse& w, const float* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                           float* out, int64_t ldo);
using I32Kernel = void (*)(const PackedSparse& w, const int32_t* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                           int32_t* out, int64_t ldo);
void SpmmF32Ref(const PackedSparse& w, const float* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1, float* out,
                int64_t ldo);
void SpmmI32Ref(const PackedSparse& w, const int32_t* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                int32_t* out, int64_t ldo);
#if defined(__x86_64__) || defined(_M_X64)
void SpmmF32Avx2(const PackedSparse& w, const float* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1, float* out,
                 int64_t ldo);
void SpmmI32Avx2(const PackedSparse& w, const int32_t* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                 int32_t* out, int64_t ldo);
// int8 on VPMADDWD (blocks with 4 or 8 columns, 2:4): x − za as int16 (MaddEligible formats only).
bool MaddEligible(const PackedSparse& w);
void SpmmI16Avx2(const PackedSparse& w, const int16_t* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                 int32_t* out, int64_t ldo);
// kCsc on transposed x blocks: xt[k·mb + i] for i < mb (rows ≤ mb used, the rest zero), 32-byte
// aligned; float mb ∈ {8, 16, 32}, int16 mb ∈ {16, 32}.
void CscTF32Avx2(const PackedSparse& w, const float* xt, int mb, int64_t rows, int64_t n0, int64_t n1, float* out,
                 int64_t ldo);
void CscTI16Avx2(const PackedSparse& w, const int16_t* xt, int mb, int64_t rows, int64_t n0, int64_t n1, int32_t* out,
                 int64_t ldo);
#endif

}  // namespace internal

}  // namespace sparse
}  // namespace tfjq
