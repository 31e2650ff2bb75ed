// Quantize / dequantize / requantize and float16 kernels: docs/quantization.md §2–§5, §8, §9.
// (Declarations agreed between the GEMM and quantization code; implemented in native/quant/.)
#pragma once
#include <cstdint>

namespace tfjq {
namespace quant {

struct QParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// §4: asymmetric uint8 parameters for the range [lo, hi] (widened to include 0).
QParams ChooseAsymmetricU8(float lo, float hi);

// §8: dynamic quantization of a float32 matrix x (m rows of k values, row stride ldx) to
// uint8 (row stride k). per_row: one (scale, zero point) per row in scales[m], zero_points[m];
// otherwise one pair for the whole matrix in scales[0], zero_points[0]. The range is computed
// in the same pass over the data as far as possible. NaN reads as 0, ±Inf saturate.
// threads: maximum participants from the pool (0 = pool size).
void DynamicQuantizeU8(const float* x, int64_t m, int64_t k, int64_t ldx, bool per_row, uint8_t* out,
                       float* scales, int32_t* zero_points, int threads);

}  // namespace quant
}  // namespace tfjq
