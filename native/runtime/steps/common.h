// Shared by the step families (native/runtime/steps/*.cc): the parsed view of a step spec,
// parameter readers with range checks, and the convolution geometry the image steps check
// their shapes against (docs/quantization.md §11.1). Internal to the runtime.
#pragma once
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "gemm/gemm.h"
#include "ops/ops.h"
#include "runtime/session.h"

namespace tfjq {
namespace runtime {
namespace detail {

[[noreturn]] inline void Bad(const std::string& m) { throw std::invalid_argument(m); }

using Dims = std::vector<int64_t>;

inline int64_t Prod(const Dims& d, size_t from = 0, size_t to = SIZE_MAX) {
  int64_t p = 1;
  for (size_t i = from; i < d.size() && i < to; i++) p *= d[i];
  return p;
}

inline std::string DimsStr(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); i++) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

// Parsed view of a StepSpec plus the session it belongs to (for buffer shapes at batch 1).
struct Spec {
  const StepSpec& s;
  const Session& ses;
  const BufferSpec& Buf(int id) const { return ses.plan().buffers[static_cast<size_t>(id)]; }
  void Arity(size_t in, size_t out, size_t nint, size_t nfloat, size_t nw) const {
    if (s.inputs.size() != in) Bad("expects " + std::to_string(in) + " inputs");
    if (s.outputs.size() != out) Bad("expects " + std::to_string(out) + " outputs");
    if (nint != SIZE_MAX && s.ints.size() != nint)
      Bad("expects " + std::to_string(nint) + " int parameters, got " + std::to_string(s.ints.size()));
    if (nfloat != SIZE_MAX && s.floats.size() != nfloat) Bad("expects " + std::to_string(nfloat) + " float parameters");
    if (nw != SIZE_MAX && s.weights.size() != nw) Bad("expects " + std::to_string(nw) + " weights");
  }
  void Type(int id, DType t, const char* what) const {
    if (Buf(id).dtype != t) Bad(std::string(what) + ": wrong dtype");
  }
  bool Is8(int id) const { return Buf(id).dtype == DType::kI8 || Buf(id).dtype == DType::kU8; }
  bool Batched(int id) const { return !Buf(id).shape.empty() && Buf(id).shape[0] == -1; }
  // x and y share their leading (batch) dimension: both the free batch (-1) or one fixed size.
  // Image ops treat dimension 0 as the images of a batch, whichever it is.
  void SameLeading(int x, int y, const char* what) const {
    const Dims& xs = Buf(x).shape;
    const Dims& ys = Buf(y).shape;
    if (xs.empty() || ys.empty() || xs[0] != ys[0])
      Bad(std::string(what) + ": input and output must have one leading (batch) dimension");
  }
  Dims Shape1(int id) const { return ses.Shape(id, 1); }
  int64_t Int(size_t i, int64_t lo, int64_t hi, const char* what) const {
    const int64_t v = s.ints[i];
    if (v < lo || v > hi)
      Bad(std::string(what) + " = " + std::to_string(v) + " outside [" + std::to_string(lo) + ", " +
          std::to_string(hi) + "]");
    return v;
  }
  float Scale(size_t i, const char* what) const {
    const double v = s.floats[i];
    const float f = static_cast<float>(v);
    if (!(std::isfinite(f) && f > 0)) Bad(std::string(what) + " must be a finite float32 > 0");
    return f;
  }
  float Float(size_t i) const { return static_cast<float>(s.floats[i]); }
  // Weight array `slot` (required unless optional), of dtype t and `len` elements (len < 0: any).
  const WeightSpec* W(size_t slot, DType t, int64_t len, bool optional, const char* what) const {
    if (slot >= s.weights.size()) Bad(std::string(what) + ": missing weight");
    const int wi = s.weights[slot];
    if (wi < 0) {
      if (!optional) Bad(std::string(what) + " is required");
      return nullptr;
    }
    const WeightSpec& w = ses.plan().weights[static_cast<size_t>(wi)];
    if (w.dtype != t) Bad(std::string(what) + ": wrong dtype");
    if (len >= 0 && w.length() != len)
      Bad(std::string(what) + " has " + std::to_string(w.length()) + " elements, expected " + std::to_string(len));
    return &w;
  }
  // 8-bit bounds for the output buffer's type.
  void QBounds(size_t zo_i, size_t lo_i, size_t hi_i, int id) const {
    const bool sgn = Buf(id).dtype == DType::kI8;
    const int64_t tmin = sgn ? -128 : 0, tmax = sgn ? 127 : 255;
    Int(zo_i, tmin, tmax, "output zero point");
    const int64_t lo = Int(lo_i, tmin, tmax, "qmin");
    const int64_t hi = Int(hi_i, tmin, tmax, "qmax");
    if (lo > hi) Bad("qmin > qmax");
  }
  void Zp(size_t i, int id, const char* what) const {
    const bool sgn = Buf(id).dtype == DType::kI8;
    Int(i, sgn ? -128 : 0, sgn ? 127 : 255, what);
  }
};

// y's shape is the broadcast of a's and b's, at two batch sizes (the binary steps).
inline void CheckBroadcast(const Spec& p, int a, int b, int y) {
  for (int64_t batch : {1, 3}) {
    const Dims as = p.ses.Shape(a, batch), bs = p.ses.Shape(b, batch), ys = p.ses.Shape(y, batch);
    const Dims r = ops::BroadcastShape(as, bs);
    if (r != ys) Bad("output shape " + DimsStr(ys) + " is not the broadcast of " + DimsStr(as) + " and " + DimsStr(bs));
  }
}

template <typename T>
const T* WPtr(const WeightSpec* w) {
  return w ? reinterpret_cast<const T*>(w->bytes.data()) : nullptr;
}

inline Activation ActCode(const Spec& p, size_t i) {
  const auto a = static_cast<Activation>(p.Int(i, 0, kLastStepActivation, "activation"));
  if (a == Activation::kClamp) Bad("activation 10 (clamp) needs bounds, which a step does not carry");
  return a;
}

// Applies a float activation in place (relu/relu6 are usually folded into a clamp by the caller).
inline void ApplyActF32(Activation act, float alpha, float* y, int64_t n, int threads) {
  if (act == Activation::kLinear || n == 0) return;
  ops::ActivationF32(act, alpha, y, n, y, threads);
}

// The 8-bit unary parameters every per-tensor requantizing op takes: ints[at..at+3] =
// input zero point, output zero point, output bounds; floats[0..1] = input and output scales.
template <class Q>
void ReadUnaryQ(const Spec& p, int x, int y, size_t at, Q& q) {
  p.Zp(at, x, "input zero point");
  p.QBounds(at + 1, at + 2, at + 3, y);
  q.x_zero_point = static_cast<int32_t>(p.s.ints[at]);
  q.y_zero_point = static_cast<int32_t>(p.s.ints[at + 1]);
  q.y_min = static_cast<int32_t>(p.s.ints[at + 2]);
  q.y_max = static_cast<int32_t>(p.s.ints[at + 3]);
  q.x_scale = p.Scale(0, "input scale");
  q.y_scale = p.Scale(1, "output scale");
}

// An op on one tensor that is either 8-bit (one type in and out, ReadUnaryQ's parameters)
// or float32.
template <class Q>
void ReadUnaryTyped(const Spec& p, int x, int y, bool q8, size_t at, Q& q, const char* op) {
  if (q8) {
    if (!p.Is8(x) || p.Buf(y).dtype != p.Buf(x).dtype)
      Bad(std::string("8-bit ") + op + ": input and output must be of one 8-bit type");
    ReadUnaryQ(p, x, y, at, q);
  } else {
    p.Type(x, DType::kF32, "input");
    p.Type(y, DType::kF32, "output");
  }
}

// ---------------------------------------------------------------- conv geometry

// The window of a convolution step (geom[10]: kernel, stride, dilation, pads); OpsGeom adds
// the input's dimensions.
inline ConvGeom ParseGeo(const Spec& p, size_t at) {
  ConvGeom g;
  g.k_h = p.Int(at + 0, 1, 1 << 16, "kernel height");
  g.k_w = p.Int(at + 1, 1, 1 << 16, "kernel width");
  g.stride_h = p.Int(at + 2, 1, 1 << 16, "stride");
  g.stride_w = p.Int(at + 3, 1, 1 << 16, "stride");
  g.dilation_h = p.Int(at + 4, 1, 1 << 16, "dilation");
  g.dilation_w = p.Int(at + 5, 1, 1 << 16, "dilation");
  g.pad_top = p.Int(at + 6, 0, 1 << 16, "padding");
  g.pad_bottom = p.Int(at + 7, 0, 1 << 16, "padding");
  g.pad_left = p.Int(at + 8, 0, 1 << 16, "padding");
  g.pad_right = p.Int(at + 9, 0, 1 << 16, "padding");
  return g;
}

// x: the resolved NHWC shape of the input (its dimension 0 is the number of images).
inline ConvGeom OpsGeom(const ConvGeom& window, const Dims& x) {
  ConvGeom g = window;
  g.batch = x[0];
  g.in_h = x[1];
  g.in_w = x[2];
  g.in_c = x[3];
  ops::CheckConvGeom(&g);
  return g;
}

// Checks x [-1, H, W, C] and y [-1, OH, OW, OC] against the geometry.
inline ConvGeom CheckConvShapes(const Spec& p, const ConvGeom& q, int x, int y, int64_t out_c) {
  p.SameLeading(x, y, "conv");
  const Dims xs = p.Shape1(x), ys = p.Shape1(y);
  if (xs.size() != 4 || ys.size() != 4) Bad("conv input and output must be NHWC (rank 4)");
  ConvGeom g = OpsGeom(q, xs);
  if (ys[1] != g.out_h || ys[2] != g.out_w || ys[3] != out_c) {
    Bad("output shape " + DimsStr(ys) + " does not match the geometry ([-1, " + std::to_string(g.out_h) + ", " +
        std::to_string(g.out_w) + ", " + std::to_string(out_c) + "])");
  }
  return g;
}

// Output bounds at ints[at..at+2] and the weights of a per-channel requantizing convolution
// from weight slot w0 on (w0: int8 filter of wl values; w0 + 1: int32 bias, w0 + 2: float
// multipliers, `channels` each).
template <class Q>
void ReadConvQ(const Spec& p, int y, size_t at, int64_t wl, int64_t channels, Q& q, size_t w0 = 0) {
  p.QBounds(at, at + 1, at + 2, y);
  q.y_zero_point = static_cast<int32_t>(p.s.ints[at]);
  q.y_min = static_cast<int32_t>(p.s.ints[at + 1]);
  q.y_max = static_cast<int32_t>(p.s.ints[at + 2]);
  q.filter = WPtr<int8_t>(p.W(w0, DType::kI8, wl, false, "weights"));
  q.bias = WPtr<int32_t>(p.W(w0 + 1, DType::kI32, channels, true, "bias"));
  q.multipliers = WPtr<float>(p.W(w0 + 2, DType::kF32, channels, false, "multipliers"));
  for (int64_t i = 0; i < channels; i++)
    if (!(std::isfinite(q.multipliers[i]) && q.multipliers[i] > 0)) Bad("multipliers must be finite and > 0");
}

// Per-channel or per-tensor positive float factors at weight `slot` (multipliers, weight
// scales): n or 1 entries, each finite and > 0; *per_channel says which.
inline const float* PositiveFactors(const Spec& p, size_t slot, int64_t n, const std::string& what, bool* per_channel) {
  const WeightSpec* w = p.W(slot, DType::kF32, -1, false, what.c_str());
  if (w->length() != n && w->length() != 1) Bad(what + " must have N or 1 entries");
  const float* v = WPtr<float>(w);
  for (int64_t i = 0; i < w->length(); i++)
    if (!(std::isfinite(v[i]) && v[i] > 0)) Bad(what + " must be finite and > 0");
  *per_channel = w->length() == n && n != 1;
  return v;
}

// Int8 weights K×N (row-major, the plan's layout) packed for the GEMM on the running path.
inline gemm::PackedB PackWeightsKN(const WeightSpec& w, int64_t k, int64_t n) {
  return gemm::PackB(reinterpret_cast<const int8_t*>(w.bytes.data()), k, n, gemm::BLayout::kKN, n, nullptr, false,
                     ActiveIsa());
}

// The int8 GEMM of a conv_i8 / matmul_i8 step (and the pointwise half of pw_dw_i8): int8 rows
// with one zero point, packed int8 weights, the §5 requantization to int8 with bounds.
struct Int8Gemm {
  int32_t za = 0, zo = 0, qmin = -128, qmax = 127;
  const int32_t* bias = nullptr;  // N entries or null
  const float* mult = nullptr;    // N entries, or 1 when !mult_per_channel
  bool mult_per_channel = false;
  const gemm::PackedB* b = nullptr;

  // C (m × ldc int8, from y) = requantized A (m rows of lda int8 from a) · B.
  void Run(int64_t m, const int8_t* a, int64_t lda, int8_t* y, int64_t ldc, int threads) const {
    gemm::GemmArgs g;
    g.m = m;
    g.a = a;
    g.a_signed = true;
    g.lda = lda;
    g.a_zero_points = &za;
    g.b = b;
    g.c = y;
    g.ldc = ldc;
    g.threads = threads;
    g.epilogue.output = gemm::OutputType::kInt8;
    g.epilogue.bias = bias;
    g.epilogue.multipliers = mult;
    g.epilogue.multiplier_per_channel = mult_per_channel;
    g.epilogue.out_zero_point = zo;
    g.epilogue.qmin = qmin;
    g.epilogue.qmax = qmax;
    gemm::Gemm(g);
  }
};

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
