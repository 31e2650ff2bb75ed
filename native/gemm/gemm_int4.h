// Sub-byte weight GEMM: int4 weights with one float scale (and zero point) per
// group of G values along K and per output column, times dynamically quantized uint8/int8
// activations (or float activations, weight-only path). The arithmetic is stated in
// docs/quantization.md §12.5; every kernel path equals the reference (Isa::kRef) bit for bit.
//
// Usage (the native runtime calls this directly; int4_binding.cc wraps it):
//
//   using namespace tfjq::gemm;
//   PackedInt4 w = PackInt4(q, k, n, BLayout::kKN, /*ldb=*/n, /*group_size=*/64, scales, zps, ActiveIsa());
//   DynamicInt4Args d;  d.m = m; d.x = x; d.ldx = k; d.b = &w; d.c = y; d.ldc = n;
//   DynamicGemmInt4(d);
//
// Errors: invalid arguments throw std::invalid_argument (message names the argument);
// allocation failure throws std::bad_alloc. Nothing else is thrown.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/aligned_buffer.h"
#include "common/cpu.h"
#include "gemm/gemm.h"

namespace tfjq {
namespace gemm {

// Panel geometry shared by every path: 8 columns per panel; K in blocks of 8 values, one
// 32-byte block per (panel, block): byte 4j + t holds, for column j < 8 and t < 4, the low
// nibble w'[8o + t][8p + j] and the high nibble w'[8o + 4 + t][8p + j], with w' = w + 8
// (offset binary, 0..15). Padded K values and padded columns hold w' = 0.
constexpr int kInt4PanelCols = 8;
constexpr int kInt4BlockK = 8;
constexpr int kInt4BlockBytes = 32;

// Weights packed once and reused by every call. Immutable after PackInt4; movable.
class PackedInt4 {
 public:
  PackedInt4() = default;
  PackedInt4(PackedInt4&&) noexcept = default;
  PackedInt4& operator=(PackedInt4&&) noexcept = default;

  Isa isa() const { return isa_; }
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  // Values per group (k when per column); groups = ceil(k / group_size).
  int64_t group_size() const { return group_size_; }
  int64_t groups() const { return groups_; }
  bool symmetric() const { return symmetric_; }
  int64_t kpad() const { return kpad_; }
  int64_t npad() const { return num_panels() * kInt4PanelCols; }
  int64_t num_panels() const { return (n_ + kInt4PanelCols - 1) / kInt4PanelCols; }
  int64_t panel_stride() const { return kpad_ / kInt4BlockK * kInt4BlockBytes; }  // bytes
  const uint8_t* panels() const { return panels_.data(); }
  // Per-(group, column) tables, panel-major so each panel's tables are one stream: entry
  // (g, n) at index table_index(g, n) = ((n / 8)·groups + g)·8 + n % 8. Padded columns:
  // scale 1, zero point 0, sum 0. Compact forms keep GEMV traffic low (3 bytes per group and
  // column for symmetric weights instead of 12):
  //  - scales, the smallest form that reproduces every caller scale exactly:
  //    kCode8 — sw[g][n] = fl32(code[g][n] × super[n]) with code in [1, 255] and one float32
  //    super-scale per column (found by FactorInt4Scales; double-quantized scales from
  //    quantizeWeightInt4 factor so, the product being exact), 1 byte per group and column
  //    + 4 per column (used when smaller: more than 4 groups, or 2+ when float16 cannot hold them);
  //    kF16 — every scale is a float16 value (2 bytes); kF32 — otherwise (4 bytes).
  //    The value read back is the caller's scale in every form;
  //  - sums Σ_{k∈g} w' (w' = w + 8): int16 when group_size·15 fits, else int32;
  //  - zero points zw + 8 as uint8, absent (nullptr) when every zero point is 0.
  int64_t table_index(int64_t g, int64_t n) const {
    return ((n / kInt4PanelCols) * groups_ + g) * kInt4PanelCols + n % kInt4PanelCols;
  }
  enum class ScaleKind : uint8_t { kCode8, kF16, kF32 };
  ScaleKind scale_kind() const { return scale_kind_; }
  bool scales_f16() const { return scale_kind_ == ScaleKind::kF16; }
  const uint16_t* scales16() const { return scales_.as<uint16_t>(); }
  const float* scales32() const { return scales_.as<float>(); }
  // kCode8: codes at table_index(g, n); super-scales per column n (npad entries, padded 1).
  const uint8_t* scale_codes() const { return scales_.data(); }
  const float* super_scales() const { return supers_.as<float>(); }
  bool sums_i16() const { return sums_i16_; }
  const int16_t* sums16() const { return sums_.as<int16_t>(); }
  const int32_t* sums32() const { return sums_.as<int32_t>(); }
  const uint8_t* zero_points8() const { return symmetric_ ? nullptr : zp8_.data(); }
  int64_t group_block_begin(int64_t g) const { return g * group_size_ / kInt4BlockK; }
  int64_t group_block_end(int64_t g) const {
    return g + 1 == groups_ ? kpad_ / kInt4BlockK : (g + 1) * group_size_ / kInt4BlockK;
  }
  // Values in group g (the last group may be shorter).
  int64_t group_length(int64_t g) const { return (g + 1 == groups_ ? k_ : (g + 1) * group_size_) - g * group_size_; }
  // The weight w[k][n] in [−8, 7] read back from the panels.
  int32_t weight(int64_t k, int64_t n) const;
  int32_t zero_point(int64_t g, int64_t n) const {
    return symmetric_ ? 0 : static_cast<int32_t>(zp8_.data()[table_index(g, n)]) - 8;
  }
  float scale(int64_t g, int64_t n) const;
  size_t byte_length() const { return panels_.size() + scales_.size() + supers_.size() + zp8_.size() + sums_.size(); }

 private:
  friend PackedInt4 PackInt4(const int8_t*, int64_t, int64_t, BLayout, int64_t, int64_t, const float*, const int32_t*,
                             Isa);
  Isa isa_ = Isa::kRef;
  int64_t k_ = 0, n_ = 0, kpad_ = 0, group_size_ = 0, groups_ = 0;
  bool symmetric_ = true, sums_i16_ = false;
  ScaleKind scale_kind_ = ScaleKind::kF32;
  AlignedBuffer panels_, scales_, supers_, zp8_, sums_;
};

// Whether the `count` scales s[i·stride] (finite, > 0) are fl32(code_i × super) for one float32
// super-scale (a normal number) and codes in [1, 255]; then writes super and the codes (the
// smallest codes: super is the greatest common divisor of the scales, found exactly in
// integers) and returns true. Used by PackInt4 to store double-quantized scales in 1 byte.
bool FactorInt4Scales(const float* s, int64_t count, int64_t stride, float* super, uint8_t* codes);

// Throws std::invalid_argument unless group_size is 0 (one group per column) or a multiple of 8
// in [8, kMaxK]; PackInt4 checks it, and so can a caller before sizing the group tables.
void CheckInt4GroupSize(int64_t group_size);

// Packs w (k × n values in [−8, 7], one int8 per value) with scales [groups][n] (finite,
// > 0) and zero points [groups][n] in [−8, 7] (nullptr: all 0). group_size: 0 (one group per
// column: all of K) or a multiple of 8 in [8, kMaxK]; groups = ceil(k / group_size), the
// last one shorter when k is not a multiple. 1 ≤ k ≤ kMaxK, 1 ≤ n < 2^31; ldb as PackB.
// `isa` must be usable (Int4IsaUsable).
PackedInt4 PackInt4(const int8_t* w, int64_t k, int64_t n, BLayout layout, int64_t ldb, int64_t group_size,
                    const float* scales, const int32_t* zero_points, Isa isa);

// Float epilogue shared by the three entry points: y = fl32(y + bias[n]) (when bias), then
// the activation with max(y, lo) = (y > lo ? y : lo), min(y, hi) = (y < hi ? y : hi).
struct Int4Output {
  const float* bias = nullptr;  // n entries or nullptr
  Activation activation = Activation::kLinear;
  float clamp_min = 0.0f, clamp_max = 0.0f;
  float* c = nullptr;  // C[m][n] at c[m*ldc + n]
  int64_t ldc = 0;     // ≥ n
};

// Quantized activations × int4 weights (§12.5):
//   acc_g = Σ_{k∈g} (A[m][k] − za[m])·(w[k][n] − zw[g][n])                  (int32, exact)
//   y = 0; for g = 0, 1, …: y = fl32(y + fl32(fl32(acc_g) × fl32(sa[m] × sw[g][n])))
// then Int4Output. Runs on b->isa().
struct Int4GemmArgs {
  int64_t m = 0;
  const void* a = nullptr;  // uint8, or int8 when a_signed (then +128 to values and za)
  bool a_signed = false;
  int64_t lda = 0;                         // ≥ k
  const int32_t* a_zero_points = nullptr;  // 1 or m entries, inside A's type range
  bool a_zero_point_per_row = false;
  const float* a_scales = nullptr;  // 1 or m entries, finite > 0
  bool a_scale_per_row = false;
  const PackedInt4* b = nullptr;
  Int4Output out;
  int threads = 0;  // participants from the pool (0 = pool size)
};
void GemmInt4(const Int4GemmArgs& args);

// §8 then GemmInt4: X (m × k float32) quantized to uint8 per row or per tensor.
struct DynamicInt4Args {
  int64_t m = 0;
  const float* x = nullptr;
  int64_t ldx = 0;  // ≥ k
  bool per_row = true;
  const PackedInt4* b = nullptr;
  Int4Output out;
  int threads = 0;
};
void DynamicGemmInt4(const DynamicInt4Args& args);

// Weight-only: float activations × int4 weights dequantized on the fly, no FMA:
//   p_g = 0; for k ∈ g ascending: p_g = fl32(p_g + fl32(X[m][k] × fl32(w[k][n] − zw[g][n])))
//   y = 0; for g ascending: y = fl32(y + fl32(p_g × sw[g][n]))
// then Int4Output. NaN/Inf in X propagate as IEEE arithmetic says.
struct WeightOnlyInt4Args {
  int64_t m = 0;
  const float* x = nullptr;
  int64_t ldx = 0;
  const PackedInt4* b = nullptr;
  Int4Output out;
  int threads = 0;
};
void WeightOnlyGemmInt4(const WeightOnlyInt4Args& args);

// Whether PackInt4 accepts `isa` here (kRef always; kAvx2 / kNeon when compiled and runnable).
bool Int4IsaUsable(Isa isa);
// The best int4 path usable here (the active ISA if it has an int4 path, else the best below it).
Isa Int4DefaultIsa();

// ---- between the driver (int4.cc) and the per-ISA files (gemm_int4_<isa>.cc)
namespace int4_internal {

// One resolved call: A already packed by the driver (uint8 rows of kpad values, zero padded,
// row stride a_stride bytes) with per-row za (uint8 domain), sa and per-group sums
// rs[row*groups + g] = Σ_{k∈g} (A[row][k] − za[row]); weight-only calls use x/ldx instead.
struct Call {
  const PackedInt4* b = nullptr;
  const uint8_t* a = nullptr;
  int64_t a_stride = 0;
  const int32_t* za = nullptr;
  const int32_t* rs = nullptr;
  const float* sa = nullptr;
  const float* x = nullptr;
  int64_t ldx = 0;
  Int4Output out;
  bool has_lo = false, has_hi = false;  // activation bounds actually applied
  float lo = 0.0f, hi = 0.0f;
};

// Rows [m0, m0 + R) of one column panel p (R = index + 1 in the tables below): computes
// and stores C for the panel's columns. The driver walks panels and row tiles.
using TileFn = void (*)(const Call& call, int64_t m0, int64_t p);

struct Kernels {
  Isa isa;
  TileFn gemm[4];
  // M = 1 over 4 consecutive panels p..p+3 (more independent work per broadcast of A);
  // nullptr: gemm[0] per panel.
  TileFn gemv4;
  TileFn weight_only[4];
  TileFn weight_only_gemv4;  // the same for the weight-only path (nullptr: weight_only[0])
};
const Kernels* Avx2();  // nullptr when not compiled
const Kernels* Neon();

// y → fl32(y + bias[n]) → activation (the scalar statement every path follows).
inline float Finish(const Call& c, float y, int64_t n) {
  if (c.out.bias != nullptr) y = y + c.out.bias[n];
  if (c.has_lo) y = y > c.lo ? y : c.lo;
  if (c.has_hi) y = y < c.hi ? y : c.hi;
  return y;
}

// The reference paths (gemm_int4_ref.cc): literal loops over the formulas above.
void GemmRef(const Int4GemmArgs& args, const Call& call);
void WeightOnlyRef(const WeightOnlyInt4Args& args, const Call& call);

}  // namespace int4_internal

}  // namespace gemm
}  // namespace tfjq
