// The one NHWC convolution / pooling geometry of the native code: the int8 and float operator
// kernels (ops/), the runtime's convolution steps, the float GEMM convolutions (float/) and the
// training gradients (train/) all describe a convolution with this struct, and im2col
// (common/im2col.h) reads it. Fields are int64 so every product of them is formed without
// overflow; validation keeps each one inside int32.
//
// Two ways to fill it, one formula (docs/quantization.md §11.1):
// - MakeConvGeom / CheckConvGeom (ops/ops.h) resolve TF padding and compute out_h / out_w from
//   the four pads with ConvOutSize below;
// - the training kernels take tfjs's resolved geometry (out_h / out_w, pad_top / pad_left given
//   by computeConv2DInfo; pad_bottom / pad_right unused), checked by train's ValidateConvGeom.
#pragma once
#include <cstdint>

namespace tfjq {

struct ConvGeom {
  int64_t batch = 1, in_h = 1, in_w = 1, in_c = 1;
  int64_t k_h = 1, k_w = 1;  // filter or pooling window
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int64_t out_h = 0, out_w = 0;
  // Output channels where a kernel needs them (float and training kernels: depthwise
  // in_c · multiplier, pooling in_c); the int8 operator kernels take theirs separately.
  int64_t out_c = 0;
};

// The extent a dilated filter covers: (k − 1)·dilation + 1.
constexpr int64_t EffectiveFilterSize(int64_t k, int64_t dilation) { return (k - 1) * dilation + 1; }

// Output size along one axis with explicit pads: (in + pad_a + pad_b − eff_k) / stride + 1
// (floor); < 1 when the padded input is smaller than the filter.
constexpr int64_t ConvOutSize(int64_t in, int64_t k, int64_t stride, int64_t dilation, int64_t pad_a, int64_t pad_b) {
  return in + pad_a + pad_b - EffectiveFilterSize(k, dilation) < 0
             ? 0
             : (in + pad_a + pad_b - EffectiveFilterSize(k, dilation)) / stride + 1;
}

// A 1×1 window with stride 1 and no padding: the input is the GEMM's A matrix as it is.
inline bool IsPointwiseWindow(const ConvGeom& g) {
  return g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 && g.pad_bottom == 0 &&
         g.pad_left == 0 && g.pad_right == 0;
}

}  // namespace tfjq
