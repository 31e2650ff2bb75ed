// Sparse weight steps (native/sparse): the MatMul / 1×1-conv steps of a pruned weight.
//
//   sparse_matmul_i8   parameters of matmul_i8 + two trailing ints m_min, m_max
//   sparse_conv_i8     parameters of conv_i8 (1×1, stride 1, no padding only) + m_min, m_max
//   sparse_matmul_f32  parameters of matmul_f32 + m_min, m_max
//   sparse_conv_f32    parameters of conv_f32 (1×1, stride 1, no padding only) + m_min, m_max
//
// The weight is packed once into the sparse format the structure calls for (sparse.h).
// A run whose GEMM rows (batch × pixels) are in [m_min, m_max] (m_max = -1: no upper bound)
// is sparse; other runs use the dense step of the same parameters (then packed too), since
// the sparse kernel is only faster in some range of rows (src/sparse/select.ts, bench/sparse).
// m_min = 1, m_max = -1: always sparse, no dense step kept.
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
