// Sparse weight steps (native/sparse): the MatMul / 1×1-conv steps of a pruned weight.
//
//   sparse_matmul_i8   parameters of matmul_i8 + one trailing int m_max
//   sparse_conv_i8     parameters of conv_i8 (1×1, stride 1, no padding only) + m_max
//   sparse_matmul_f32  parameters of matmul_f32 + m_max
//   sparse_conv_f32    parameters of conv_f32 (1×1, stride 1, no padding only) + m_max
//
// The weight is packed once into the sparse format the structure calls for (sparse.h).
// m_max = -1: every run is sparse. m_max >= 1: a run with more GEMM rows (batch × pixels)
// than m_max uses the dense step of the same parameters (packed too), since the sparse
// kernel is only faster up to some row count (src/sparse/select.ts, bench/sparse).
// int8 results equal the dense step bit for bit; float32 within 1e-5 relative.
#pragma once
#include <memory>

#include "runtime/session.h"

namespace tfjq {
namespace runtime {

// Builds a sparse_* step; throws std::invalid_argument for a bad spec or an unknown op.
std::unique_ptr<Step> MakeSparseStep(const StepSpec& s, const Session& session);

}  // namespace runtime
}  // namespace tfjq
