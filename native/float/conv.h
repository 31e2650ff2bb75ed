// Float32 NHWC convolution over the float GEMM (float/gemm.h): im2col (common/im2col.h) chunks
// times the weights, for the runtime's float convolution steps (weights packed once) and the
// training kernels' forward pass (src/train/kernels.ts).
//
// Semantics follow tfjs (backend_util.computeConv2DInfo): the caller resolves SAME / VALID /
// explicit padding into pad_top / pad_left and the output size (ConvGeom, common/conv_geom.h:
// pad_bottom / pad_right unused); pixels outside the input read as zero. Filters are
// [k_h, k_w, in_c, out_c] for Conv2D and [k_h, k_w, in_c, mult] for depthwise (out_c =
// in_c * mult, output channel c = ic * mult + q). Kernels throw std::invalid_argument for an
// inconsistent geometry and never read out of bounds for one they accept, given arrays of the
// sizes *Size() report.
#pragma once
#include <cstdint>

#include "common/conv_geom.h"
#include "float/gemm.h"

namespace tfjq {
namespace f32 {

// Throws std::invalid_argument naming the offending field.
void ValidateConvGeom(const ConvGeom& g, bool depthwise);
// Pooling geometry: in_c == out_c (channels); window/stride/dilation/pad as for convolution.
void ValidatePoolGeom(const ConvGeom& g);
int64_t InputSize(const ConvGeom& g);   // batch * in_h * in_w * in_c
int64_t OutputSize(const ConvGeom& g);  // batch * out_h * out_w * out_c
int64_t FilterSize(const ConvGeom& g, bool depthwise);
// 1×1, stride 1, unpadded, output as large as the input: x is the GEMM's A matrix.
inline bool IsPointwise(const ConvGeom& g) { return IsPointwiseWindow(g) && g.out_h == g.in_h && g.out_w == g.in_w; }

// y = conv2d(x, w)
void Conv2D(const ConvGeom& g, const float* x, const float* w, float* y, int threads = 0);
// The same with the weights packed once and the epilogue fused.
void Conv2D(const ConvGeom& g, const float* x, const PackedB& w, float* y, int threads, const FusedBiasAct& epi = {});

}  // namespace f32
}  // namespace tfjq
