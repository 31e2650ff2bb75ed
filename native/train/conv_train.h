// Float32 training kernels for TensorFlow.js (NHWC), registered as tfjs kernels by
// src/train/kernels.ts: the convolution/depthwise forward and backward passes and the
// pooling gradients that tfjs-backend-wasm lacks or that tfjs-backend-cpu runs slowly.
//
// Semantics follow tfjs (backend_util.computeConv2DInfo): the caller resolves SAME / VALID /
// explicit padding into pad_top / pad_left and the output size; pixels outside the input
// read as zero. Filters are [fh, fw, in_c, out_c] for Conv2D and [fh, fw, in_c, mult] for
// depthwise (out_c = in_c * mult, output channel c = ic * mult + q).
//
// Every function is synchronous, uses the shared pool (ParallelFor), picks its microkernels
// by resolving ActiveIsa() in its per-ISA table (AVX2/FMA on every x86-64 SIMD path), and
// throws std::invalid_argument for an inconsistent geometry (never reads out of bounds
// for a geometry it accepts, given arrays of the sizes *Size() report).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/activation.h"
#include "common/conv_geom.h"

namespace tfjq {
namespace train {

// ConvGeom: common/conv_geom.h (out_h / out_w given, pad_bottom / pad_right unused).

// Throws std::invalid_argument naming the offending field.
void ValidateConvGeom(const ConvGeom& g, bool depthwise);
int64_t InputSize(const ConvGeom& g);   // batch * in_h * in_w * in_c
int64_t OutputSize(const ConvGeom& g);  // batch * out_h * out_w * out_c
int64_t FilterSize(const ConvGeom& g, bool depthwise);

// y = conv2d(x, w)
void Conv2D(const ConvGeom& g, const float* x, const float* w, float* y, int threads = 0);
// dx = d conv2d / dx given dy
void Conv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx, int threads = 0);
// dw = d conv2d / dw given dy
void Conv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw);

void DepthwiseConv2D(const ConvGeom& g, const float* x, const float* w, float* y);
void DepthwiseConv2DBackpropInput(const ConvGeom& g, const float* dy, const float* w, float* dx);
void DepthwiseConv2DBackpropFilter(const ConvGeom& g, const float* x, const float* dy, float* dw);

// Pooling geometry: in_c == out_c (channels); filter/stride/dilation/pad as for ConvGeom.
// MaxPoolGrad routes each dy to the first strict maximum of its window in row-major
// order (tfjs-backend-cpu's choice; a window without a value > -inf routes nowhere).
void MaxPoolGrad(const ConvGeom& g, const float* x, const float* dy, float* dx);
// AvgPoolGrad spreads dy / (k_h * k_w) over the window's in-bounds pixels
// (tfjs's divisor, padding included).
void AvgPoolGrad(const ConvGeom& g, const float* dy, float* dx);
void ValidatePoolGeom(const ConvGeom& g);

// c[i] = op(a[i % batch_a]) x op(b[i % batch_b]) for i < max(batch_a, batch_b), where each
// batch_a / batch_b is 1 or the common batch; op transposes when ta / tb. a is [M, K]
// ([K, M] when ta), b is [K, N] ([N, K] when tb), c is [M, N]. Throws std::invalid_argument.
void BatchMatMul(int64_t batch_a, int64_t batch_b, int64_t M, int64_t N, int64_t K, bool ta, bool tb, const float* a,
                 const float* b, float* c, int threads = 0);

// Inference with constant weights: B [K, N] (row-major) packed once into the panels the
// GEMM reads (kNR = 16 columns per panel, k-major, columns zero-padded), so the runtime's
// float steps do not repack their weights on every call and for every chunk of rows (a
// 49 × 960 × 320 layer packed its 1.2 MB of weights four times per run). Results equal
// Conv2D / BatchMatMul on the unpacked weights bit for bit (same blocking of K, same tile kernel).
class PackedB {
 public:
  PackedB() = default;
  PackedB(const float* b, int64_t K, int64_t N);
  int64_t k() const { return k_; }
  int64_t n() const { return n_; }
  const float* panel(int64_t p) const { return data_.data() + p * k_ * 16; }
  size_t byte_length() const { return data_.size() * sizeof(float); }

 private:
  std::vector<float> data_;
  int64_t k_ = 0, n_ = 0;
};
// The fused epilogue of the packed GEMM: y = act(y + bias[c]) as BiasActivation computes it
// (same operations, applied while the last K block's tile is stored instead of in a second
// pass over the output). bias may be null.
struct FusedBiasAct {
  const float* bias = nullptr;           // N entries or null
  Activation act = Activation::kLinear;  // one IsFloatGemmActivation accepts
  float alpha = 0.0f;
};
void Conv2D(const ConvGeom& g, const float* x, const PackedB& w, float* y, int threads, const FusedBiasAct& epi = {});
// c [M, N] = a [M, K] × b, row-major.
void MatMul(int64_t M, const float* a, const PackedB& b, float* c, int threads, const FusedBiasAct& epi = {});

// threads (here and above): pool participants, 0 = all (the runtime passes its session's).
// Fused-conv epilogue, in place on y viewed as [rows, channels]:
// y = act(y + bias[c]) (bias may be null; bias_len 1 broadcasts one value).
void BiasActivation(float* y, int64_t rows, int64_t channels, const float* bias, int64_t bias_len, Activation act,
                    float alpha, int threads = 0);

}  // namespace train
}  // namespace tfjq
