// Internal interface between the GEMM driver (gemm.cc) and the per-ISA kernel files.
// Each path provides a KernelSet; the driver owns blocking, threading, packing of A into
// per-row buffers and zero-point/bias corrections, so a new kernel family (e.g. int4) only
// has to supply these functions. See docs/gemm.md.
#pragma once
#include <cstdint>

#include "common/cpu.h"
#include "gemm/gemm.h"

namespace tfjq {
namespace gemm {
namespace internal {

// Per-call epilogue context, resolved by the driver. Per row m the kernels' raw sums
// raw = Σ_k A'[m][k]·B[k][n] (A' = A as uint8 − a_offset) become
//   acc = raw − row_za[m]·col_sums[n] + row_zbc[m]·zb[n] + bias[n]          (mod 2^32)
// with row_za[m] = za_u8[m] − a_offset and row_zbc[m] = K·za_u8[m] − Σ_k A_u8[m][k]
// (the latter only when zb is not all zero), then the output conversion of §7.
struct EpiCtx {
  OutputType output = OutputType::kInt32;
  const int32_t* col_sums = nullptr;  // n
  // When set (one za for the whole call), col_term[n] = bias[n] − row_za·col_sums[n]
  // precomputed once (mod 2^32); then acc = raw + col_term[n] + row_zbc[m]·zb[n] and
  // col_sums/bias are not read by the epilogue.
  const int32_t* col_term = nullptr;
  const int32_t* zb = nullptr;    // n entries, or nullptr when all zero
  const int32_t* bias = nullptr;  // n or nullptr
  // requantize
  const float* mult = nullptr;  // n entries (a per-tensor multiplier is expanded)
  int32_t zo = 0;
  float qlo_f = 0, qhi_f = 0;  // qmin − zo, qmax − zo
  int32_t qmin = 0, qmax = 0;
  // Every multiplier ≤ 0.5: |fl32(acc)·mult| ≤ 2^30, so the rounded product converts to int32
  // without overflow and kernels may clamp after the conversion, in the integer domain
  // (clamp and round-to-nearest commute for integer bounds).
  bool mult_small = false;
  // dequantize
  const float* w_scales = nullptr;  // n entries (expanded)
  const float* bias_f32 = nullptr;  // n or nullptr
  Activation act = Activation::kLinear;
  float act_lo = 0, act_hi = 0;  // bounds actually applied (ReLU: 0; ReLU6: 0, 6)
  void* c = nullptr;
  int64_t ldc = 0;
};

// Per-row values for one tile of rows.
struct EpiRow {
  int32_t za;   // row_za
  int32_t zbc;  // row_zbc (0 when zb all zero)
  float sa;     // activation scale (float output)
};

// raw tile acc[i*ldacc + j] for rows m0..m0+rows, columns n0..n0+cols → C.
using EpilogueFn = void (*)(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0,
                            int rows, int64_t n0, int64_t cols);

// c[i*ldc + j] (=, or += when accumulate) Σ_{g<kg} Σ_t a_i[g*kgroup + t]·b[(g*nr + j)*kgroup + t],
// i < R rows (the template's row count), j < nr. a_i = a + i*a_stride (bytes); the packed
// element type of A depends on the path (uint16 for avx2, uint8 for vnni, ...).
using KernelFn = void (*)(int64_t kg, const uint8_t* a, int64_t a_stride, const int8_t* b, int32_t* c, int64_t ldc,
                          bool accumulate);

// The row pointers a0..a5 of a 6-row microkernel over packed A rows `as` bytes apart (named
// variables: the kernels' per-row macros paste the row number onto them).
#define TFJQ_A_ROWS_6(a, as)                                                                                   \
  const uint8_t *a0 = (a), *a1 = (a) + (as), *a2 = (a) + 2 * (as), *a3 = (a) + 3 * (as), *a4 = (a) + 4 * (as), \
                *a5 = (a) + 5 * (as)

// GEMV (one row of A): c[p*nr + j] = Σ_g Σ_t a[g*kgroup + t]·b_p[(g*nr + j)*kgroup + t] for
// P panels p < P (the template's count, 1..4), b_p = b + p*panel_stride. Several panels per
// call give the core independent work per broadcast of A (memory-bound, not latency-bound).
using GemvFn = void (*)(int64_t kg, const uint8_t* a, const int8_t* b, int64_t panel_stride, int32_t* c);

// Packs `kc` values of one row of A (uint8 after xor with xor_mask) starting at src into
// dst, padding with zeros up to kcpad (a multiple of kgroup). Element type/offset per path.
// It may write zeros up to 16 values past kc: the driver's row stride is kcpad values
// rounded up to 64 bytes, which always covers that (docs/gemm.md).
using PackAFn = void (*)(const uint8_t* src, int64_t kc, int64_t kcpad, uint8_t xor_mask, uint8_t* dst);
// Optional: `rows` rows of A at stride lda, row i into dst + i·dst_stride, each exactly as
// pack_a packs it. It may read (never use) bytes past a row's kc values as long as they lie
// below src_end (the end of A's allocation): short rows (K = 16–32) then take one vector
// load per 16 values instead of a call per row and a buffered tail.
using PackARowsFn = void (*)(const uint8_t* src, int64_t lda, int64_t rows, int64_t kc, int64_t kcpad, uint8_t xor_mask,
                             uint8_t* dst, int64_t dst_stride, const uint8_t* src_end);

// kernel (K groups kg, A rows at stride a_stride) + requantize of the mr × nr tile of output
// rows m0.., columns n0.. (written into ctx.c like the epilogue does).
using FusedRequantFn = void (*)(int64_t kg, const uint8_t* a, int64_t a_stride, const int8_t* b, const EpiCtx& ctx,
                                int64_t m0, int64_t n0);

// The same for the first `cols` columns of the tile only (1 ≤ cols < nr).
using FusedRequantPartFn = void (*)(int64_t kg, const uint8_t* a, int64_t a_stride, const int8_t* b, const EpiCtx& ctx,
                                    int64_t m0, int64_t n0, int64_t cols);

// kernel + dequantize to float32 of the mr × nr tile (one K block, no weight zero points;
// one za per call through ctx.col_term or a za per row from rows_info), in registers.
using FusedDequantFn = void (*)(int64_t kg, const uint8_t* a, int64_t a_stride, const int8_t* b, const EpiCtx& ctx,
                                const EpiRow* rows_info, int64_t m0, int64_t n0);

// The same for the first `cols` columns of the tile only (1 ≤ cols < nr; masked stores).
using FusedDequantPartFn = void (*)(int64_t kg, const uint8_t* a, int64_t a_stride, const int8_t* b, const EpiCtx& ctx,
                                    const EpiRow* rows_info, int64_t m0, int64_t n0, int64_t cols);

struct KernelSet {
  Isa isa;
  int mr;             // max rows per microkernel call (kernels[r - 1] handles r rows)
  int nr;             // columns per panel (B layout)
  int kgroup;         // K values per group in the B layout
  int a_bytes_per_k;  // bytes per K value in packed A (2 for uint16, 1 for bytes)
  int a_offset;       // packed A holds a − a_offset (neondot: 128, SDOT is signed × signed)
  int kc_max;         // K values per cache block (multiple of kgroup)
  PackAFn pack_a;
  KernelFn kernels[16];
  GemvFn gemv[4];  // gemv[p - 1] handles p panels; all null → kernels[0] per panel
  EpilogueFn epilogue;
  double (*peak)(double seconds);
  // Optional: a full mr × nr tile over all of K (one K block) requantized in registers and
  // stored as int8 (index 0) / uint8 (index 1), for the common case the specialised
  // requantize epilogue handles (ctx.col_term set, no weight zero points). Must equal
  // kernels[mr - 1] followed by `epilogue` bit for bit. nullptr: not provided.
  FusedRequantFn fused_requant[2];
  // Optional: the same for the dequantize-to-float32 epilogue (dynamic quantization, float
  // outputs), for ctx.zb == nullptr. Must equal kernels[mr - 1] + `epilogue` bit for bit.
  FusedDequantFn fused_dequant = nullptr;
  PackARowsFn pack_a_rows = nullptr;
  // Optional: like kernels[], for the first nr / 2 columns of a panel only (a last panel with
  // at most nr / 2 real columns, e.g. N = 24 = 16 + 8: no multiply-adds on zero padding).
  KernelFn half_kernels[16] = {};
  // Optional: fused_requant for a last panel of exactly nr / 2 columns (with half_kernels).
  FusedRequantFn fused_requant_half[2] = {};
  // Optional: fused_requant for a last panel of `cols` (1..nr − 1) real columns, e.g. the
  // N = 24 of a pointwise convolution or the 16 left of N = 144 (masked stores).
  FusedRequantPartFn fused_requant_part[2] = {};
  // Optional: fused_requant_part for 2·mr rows and a last panel of 1..nr / 2 columns (small
  // K: one call and one load of each B vector serve twice the rows).
  FusedRequantPartFn fused_requant_part_2mr[2] = {};
  // Optional: fused_dequant for a last panel of `cols` (1..nr − 1) real columns.
  FusedDequantPartFn fused_dequant_part = nullptr;
};

// Scalar §7 epilogue over a tile (ref semantics, element by element): shared as the tail /
// fallback of vectorized epilogues. Defined in gemm_ref.cc.
void EpilogueScalar(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0, int rows,
                    int64_t n0, int64_t cols);
// Scalar per-element helpers (the statement of §7 used by every epilogue tail).
int32_t CorrectAcc(const EpiCtx& ctx, int32_t raw, const EpiRow& r, int64_t n);
void StoreOne(const EpiCtx& ctx, int32_t acc, const EpiRow& r, int64_t m, int64_t n);

// AVX2 vectorized epilogue (epilogue_avx2.cc), used by every x86 path and the sparse kernels,
// and its two specialised loops, which fused kernels reuse for their tails: requantize with
// ctx.col_term set and no weight zero points (int8 / uint8 output), and dequantize to float32
// without weight zero points.
void EpilogueAvx2(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0, int rows,
                  int64_t n0, int64_t cols);
void RequantRowsAvx2S8(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, int64_t m0, int rows, int64_t n0,
                       int64_t cols);
void RequantRowsAvx2U8(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, int64_t m0, int rows, int64_t n0,
                       int64_t cols);
void DequantRowsAvx2(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0,
                     int rows, int64_t n0, int64_t cols);
// The AVX-512 VNNI path's epilogue (epilogue_avx512vnni.cc): dequantize to float32 in zmm
// with masked column tails; every other case through EpilogueAvx2.
void EpilogueAvx512(const EpiCtx& ctx, const int32_t* acc, int64_t ldacc, const EpiRow* rows_info, int64_t m0, int rows,
                    int64_t n0, int64_t cols);

// Monotonic clock in seconds (defined in a file compiled without ISA flags, so that no
// std:: template instantiated under -mavx512f can be picked by the linker for other paths).
double NowSeconds();
// CPU time of the calling thread in seconds: the peak loops are timed with it, so a busy
// shared machine (time slices lost to other processes) does not lower the measured peak.
double ThreadCpuSeconds();

// Runs block(iters, seed) repeatedly for `seconds` of thread CPU time (once when `once`) and
// returns GOPS for `ops_per_iter` operations per iteration. In an anonymous namespace so each
// per-ISA file gets its own copy, compiled with its own flags.
namespace {
template <typename Block>
double TimePeakLoop(double seconds, int64_t iters, double ops_per_iter, bool once, Block block) {
  volatile int32_t sink = 0;
  int64_t blocks = 0;
  const double t0 = ThreadCpuSeconds();
  double elapsed = 0;
  do {
    // Unsigned: the sum only keeps the work observable and may wrap (signed overflow is UB).
    sink = static_cast<int32_t>(static_cast<uint32_t>(sink) + static_cast<uint32_t>(block(iters, blocks)));
    blocks++;
    elapsed = ThreadCpuSeconds() - t0;
  } while (elapsed < seconds && !once);
  return static_cast<double>(blocks) * static_cast<double>(iters) * ops_per_iter / elapsed * 1e-9;
}
}  // namespace

// The reference path: a literal loop over §6–§7 (no packing tricks, no column sums).
void GemmRef(const GemmArgs& args, const EpiCtx& ctx, const float* a_scales_rows);
double PeakRef(double seconds);

const KernelSet* Avx2Kernels();
const KernelSet* AvxVnniKernels();
const KernelSet* Avx512VnniKernels();
const KernelSet* NeonKernels();
const KernelSet* NeonDotKernels();
const KernelSet* NeonI8mmKernels();

// The GEMM family's per-ISA table (exact entries only: see gemm.cc) and its lookup: the
// kernel set of a path compiled into this build (nullptr for kRef / not compiled).
const IsaTable<KernelSet>& GemmKernelTable();
const KernelSet* KernelsFor(Isa isa);

// Panel geometry per path (used by PackB): {nr, kgroup} of the path's kernel set.
void LayoutFor(Isa isa, int* nr, int* kgroup);

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
