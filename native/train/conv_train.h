// Float32 training kernels for TensorFlow.js (NHWC), registered as tfjs kernels by
// src/train/kernels.ts: the convolution / depthwise backward passes, the depthwise forward
// pass and the pooling gradients that tfjs-backend-wasm lacks or that tfjs-backend-cpu runs
// slowly. The convolution's forward pass and the GEMM they use are the float inference
// kernels (float/conv.h, float/gemm.h).
//
// Semantics follow tfjs (backend_util.computeConv2DInfo): the caller resolves SAME / VALID /
// explicit padding into pad_top / pad_left and the output size; pixels outside the input
// read as zero. Filters are [k_h, k_w, in_c, out_c] for Conv2D and [k_h, k_w, in_c, mult] for
// depthwise (out_c = in_c * mult, output channel c = ic * mult + q).
//
// Every function is synchronous, uses the shared pool (ParallelFor), picks its microkernels
// by resolving ActiveIsa() in its per-ISA table (AVX2/FMA on every x86-64 SIMD path), and
// throws std::invalid_argument for an inconsistent geometry (never reads out of bounds
// for a geometry it accepts, given arrays of the sizes *Size() report).
#pragma once
#include <cstdint>

#include "common/conv_geom.h"
#include "float/conv.h"

namespace tfjq {
namespace train {

// dx = d conv2d / dx given dy
void Conv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx, int threads = 0);
// dw = d conv2d / dw given dy
void Conv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw);

void DepthwiseConv2D(const ConvGeom& g, const float* x, const float* w, float* y);
void DepthwiseConv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx);
void DepthwiseConv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw);

// Pooling geometry (f32::ValidatePoolGeom): in_c == out_c (channels).
// MaxPoolGrad routes each dy to the first strict maximum of its window in row-major
// order (tfjs-backend-cpu's choice; a window without a value > -inf routes nowhere).
void MaxPoolGrad(const ConvGeom& g, const float* x, const float* dy, float* dx);
// AvgPoolGrad spreads dy / (k_h * k_w) over the window's in-bounds pixels
// (tfjs's divisor, padding included).
void AvgPoolGrad(const ConvGeom& g, const float* dy, float* dx);

}  // namespace train
}  // namespace tfjq
