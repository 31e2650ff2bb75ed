// Internal: the sparse family's per-ISA kernel sets and their table (common/dispatch.h),
// read by the drivers in spmm.cc and by PackT (pack.cc) to pick the path weights are packed for.
#pragma once
#include <cstdint>

#include "common/dispatch.h"
#include "gemm/internal.h"
#include "sparse/sparse.h"

namespace tfjq {
namespace sparse {
namespace internal {

// The sparse family's kernels for one path (table in spmm.cc, common/dispatch.h). The
// optional members are nullptr where the path has none (then the generic kernels run).
struct SparseKernels {
  F32Kernel spmm_f32;
  I32Kernel spmm_i32;
  gemm::internal::EpilogueFn epilogue;
  // int8 on VPMADDWD for MaddEligible formats: x − za as int16.
  bool (*madd_eligible)(const PackedSparse& w) = nullptr;
  void (*spmm_i16)(const PackedSparse& w, const int16_t* x, int64_t ldx, int64_t rows, int64_t n0, int64_t n1,
                   int32_t* out, int64_t ldo) = nullptr;
  // kCsc on transposed x blocks.
  void (*csct_f32)(const PackedSparse& w, const float* xt, int mb, int64_t rows, int64_t n0, int64_t n1, float* out,
                   int64_t ldo) = nullptr;
  void (*csct_i16)(const PackedSparse& w, const int16_t* xt, int mb, int64_t rows, int64_t n0, int64_t n1, int32_t* out,
                   int64_t ldo) = nullptr;
};
// The family's table: ref and AVX2 sets; every x86 SIMD path resolves to AVX2 (spmm.cc).
const IsaTable<SparseKernels>& SparseKernelTable();
}  // namespace internal
}  // namespace sparse
}  // namespace tfjq
