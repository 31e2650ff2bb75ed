// Elementwise steps: binary ops with broadcasting, lookup tables, float activations, softmax,
// PReLU, and the int8 ⇄ float32 conversions.
#include "runtime/steps/common.h"
#include "runtime/steps/factories.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "quant/quantize.h"

namespace tfjq {
namespace runtime {
namespace detail {
namespace {

class BinaryStep : public Step {
 public:
  BinaryStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(2, 1, q8 ? 6 : 2, q8 ? 3 : 0, 0);
    const int a = p.s.inputs[0], b = p.s.inputs[1], y = p.s.outputs[0];
    op_ = static_cast<ops::BinaryOp>(p.Int(0, 0, 7, "binary op"));
    if (q8_) {
      if (p.Int(0, 0, 4, "int8 binary op") < 0) Bad("int8 binary op");
      if (!p.Is8(a) || p.Buf(b).dtype != p.Buf(a).dtype || p.Buf(y).dtype != p.Buf(a).dtype)
        Bad("8-bit binary: a, b and y must be of one 8-bit type");
      p.Zp(1, a, "a zero point");
      p.Zp(2, b, "b zero point");
      p.QBounds(3, 4, 5, y);
      q_.a_zero_point = static_cast<int32_t>(p.s.ints[1]);
      q_.b_zero_point = static_cast<int32_t>(p.s.ints[2]);
      q_.y_zero_point = static_cast<int32_t>(p.s.ints[3]);
      q_.y_min = static_cast<int32_t>(p.s.ints[4]);
      q_.y_max = static_cast<int32_t>(p.s.ints[5]);
      q_.a_scale = p.Scale(0, "a scale");
      q_.b_scale = p.Scale(1, "b scale");
      q_.y_scale = p.Scale(2, "output scale");
    } else {
      p.Type(a, DType::kF32, "a");
      p.Type(b, DType::kF32, "b");
      p.Type(y, DType::kF32, "output");
      const int act = static_cast<int>(p.Int(1, 0, 2, "activation"));
      const float inf = std::numeric_limits<float>::infinity();
      lo_ = act ? 0.0f : -inf;
      hi_ = act == 2 ? 6.0f : inf;
    }
    CheckBroadcast(p, a, b, y);
  }
  void Run(RunContext& c) const override {
    const int a = inputs[0], b = inputs[1], y = outputs[0];
    const Dims as = c.Shape(a), bs = c.Shape(b);
    if (!q8_) {
      ops::BinaryF32(op_, as, c.P<float>(a), bs, c.P<float>(b), lo_, hi_, c.P<float>(y), c.threads);
    } else if (c.s->plan().buffers[static_cast<size_t>(a)].dtype == DType::kI8) {
      ops::BinaryQuant(op_, as, c.P<int8_t>(a), bs, c.P<int8_t>(b), q_, c.P<int8_t>(y), c.threads);
    } else {
      ops::BinaryQuant(op_, as, c.P<uint8_t>(a), bs, c.P<uint8_t>(b), q_, c.P<uint8_t>(y), c.threads);
    }
  }

 private:
  bool q8_;
  ops::BinaryOp op_ = ops::BinaryOp::kAdd;
  ops::BinaryQ q_;
  float lo_ = 0, hi_ = 0;
};

class LutStep : public Step {
 public:
  explicit LutStep(const Spec& p) {
    p.Arity(1, 1, 0, 0, 1);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (!p.Is8(x) || !p.Is8(y)) Bad("lut: 8-bit input and output");
    if (p.ses.Elements(x, 3) != p.ses.Elements(y, 3)) Bad("lut: input and output sizes differ");
    table_ = WPtr<uint8_t>(p.W(0, DType::kU8, 256, false, "table"));
  }
  void Run(RunContext& c) const override {
    ops::ApplyLut(table_, c.P<uint8_t>(inputs[0]), c.Elements(inputs[0]), c.P<uint8_t>(outputs[0]), c.threads);
  }

 private:
  const uint8_t* table_ = nullptr;
};

class ActStep : public Step {
 public:
  explicit ActStep(const Spec& p) {
    p.Arity(1, 1, 1, 1, 0);
    p.Type(p.s.inputs[0], DType::kF32, "input");
    p.Type(p.s.outputs[0], DType::kF32, "output");
    if (p.ses.Elements(p.s.inputs[0], 3) != p.ses.Elements(p.s.outputs[0], 3)) Bad("input and output sizes differ");
    act_ = ActCode(p, 0);
    alpha_ = p.Float(0);
  }
  void Run(RunContext& c) const override {
    ops::ActivationF32(act_, alpha_, c.P<float>(inputs[0]), c.Elements(inputs[0]), c.P<float>(outputs[0]), c.threads);
  }

 private:
  Activation act_ = Activation::kLinear;
  float alpha_ = 0;
};

class SoftmaxStep : public Step {
 public:
  SoftmaxStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, 0, q8 ? 2 : 1, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).shape != p.Buf(y).shape || p.Buf(x).shape.empty())
      Bad("input and output shapes must be equal (rank >= 1)");
    cols_ = p.Buf(x).shape.back();
    if (cols_ < 1) Bad("empty rows");
    if (q8_) {
      if (!p.Is8(x) || !p.Is8(y)) Bad("8-bit softmax: 8-bit input and output");
      sx_ = p.Scale(0, "input scale");
      beta_ = p.Scale(1, "beta");
    } else {
      p.Type(x, DType::kF32, "input");
      p.Type(y, DType::kF32, "output");
      beta_ = p.Scale(0, "beta");
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const int64_t rows = c.Elements(x) / cols_;
    const auto& bufs = c.s->plan().buffers;
    const bool xs = bufs[static_cast<size_t>(x)].dtype == DType::kI8,
               ys = bufs[static_cast<size_t>(y)].dtype == DType::kI8;
    if (!q8_)
      ops::SoftmaxF32(c.P<float>(x), rows, cols_, beta_, c.P<float>(y), c.threads);
    else if (xs && ys)
      ops::SoftmaxQ(c.P<int8_t>(x), rows, cols_, sx_, beta_, c.P<int8_t>(y), c.threads);
    else if (xs)
      ops::SoftmaxQ(c.P<int8_t>(x), rows, cols_, sx_, beta_, c.P<uint8_t>(y), c.threads);
    else if (ys)
      ops::SoftmaxQ(c.P<uint8_t>(x), rows, cols_, sx_, beta_, c.P<int8_t>(y), c.threads);
    else
      ops::SoftmaxQ(c.P<uint8_t>(x), rows, cols_, sx_, beta_, c.P<uint8_t>(y), c.threads);
  }

 private:
  bool q8_;
  int64_t cols_ = 1;
  float sx_ = 1, beta_ = 1;
};

class PreluStep : public Step {
 public:
  PreluStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, q8 ? 4 : 0, q8 ? 2 : 0, 1);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).shape != p.Buf(y).shape || p.Buf(x).shape.empty()) Bad("input and output shapes must be equal");
    channels_ = p.Buf(x).shape.back();
    if (channels_ < 1) Bad("no channels");
    alpha_ = WPtr<float>(p.W(0, DType::kF32, channels_, false, "alpha"));
    ReadUnaryTyped(p, x, y, q8_, 0, q_, "prelu");
    if (q8_ && channels_ <= ops::kPreluTableMaxChannels && ops::PreluPrefersTable())
      table_ = ops::PreluTable(p.Buf(x).dtype == DType::kI8, channels_, alpha_, q_);
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const int64_t n = c.Elements(x);
    if (!table_.empty()) return ops::PreluApplyTable(table_, channels_, c.P<uint8_t>(x), n, c.P<uint8_t>(y), c.threads);
    if (!q8_)
      ops::PreluF32(c.P<float>(x), n, channels_, alpha_, c.P<float>(y), c.threads);
    else if (c.s->plan().buffers[static_cast<size_t>(x)].dtype == DType::kI8)
      ops::Prelu(c.P<int8_t>(x), n, channels_, alpha_, q_, c.P<int8_t>(y), c.threads);
    else
      ops::Prelu(c.P<uint8_t>(x), n, channels_, alpha_, q_, c.P<uint8_t>(y), c.threads);
  }

 private:
  bool q8_;
  int64_t channels_ = 1;
  const float* alpha_ = nullptr;
  ops::PreluQ q_;
  // Per channel, the output byte of every input byte (int8 steps; see ops::PreluTable).
  std::vector<uint8_t> table_;
};

class ConvertStep : public Step {
 public:
  ConvertStep(const Spec& p, bool quantize) : quantize_(quantize) {
    p.Arity(1, 1, 1, 1, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).shape != p.Buf(y).shape) Bad("input and output shapes must be equal");
    const int q = quantize ? y : x;
    if (!p.Is8(q)) Bad("8-bit side must be int8 or uint8");
    p.Type(quantize ? x : y, DType::kF32, "float side");
    p.Zp(0, q, "zero point");
    zp_ = static_cast<int32_t>(p.s.ints[0]);
    scale_ = p.Scale(0, "scale");
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const quant::Layout l = quant::PerTensor(c.Elements(x));
    const bool sgn = c.s->plan().buffers[static_cast<size_t>(quantize_ ? y : x)].dtype == DType::kI8;
    if (quantize_) {
      if (sgn)
        quant::Quantize(c.P<float>(x), l, &scale_, &zp_, -128, 127, c.P<int8_t>(y), c.threads);
      else
        quant::Quantize(c.P<float>(x), l, &scale_, &zp_, 0, 255, c.P<uint8_t>(y), c.threads);
    } else {
      if (sgn)
        quant::Dequantize(c.P<int8_t>(x), l, &scale_, &zp_, c.P<float>(y), c.threads);
      else
        quant::Dequantize(c.P<uint8_t>(x), l, &scale_, &zp_, c.P<float>(y), c.threads);
    }
  }

 private:
  bool quantize_;
  int32_t zp_ = 0;
  float scale_ = 1;
};

}  // namespace

std::unique_ptr<Step> MakeBinaryI8(const Spec& p) { return std::make_unique<BinaryStep>(p, true); }
std::unique_ptr<Step> MakeBinaryF32(const Spec& p) { return std::make_unique<BinaryStep>(p, false); }
std::unique_ptr<Step> MakeLut(const Spec& p) { return std::make_unique<LutStep>(p); }
std::unique_ptr<Step> MakeActF32(const Spec& p) { return std::make_unique<ActStep>(p); }
std::unique_ptr<Step> MakeSoftmaxI8(const Spec& p) { return std::make_unique<SoftmaxStep>(p, true); }
std::unique_ptr<Step> MakeSoftmaxF32(const Spec& p) { return std::make_unique<SoftmaxStep>(p, false); }
std::unique_ptr<Step> MakePreluI8(const Spec& p) { return std::make_unique<PreluStep>(p, true); }
std::unique_ptr<Step> MakePreluF32(const Spec& p) { return std::make_unique<PreluStep>(p, false); }
std::unique_ptr<Step> MakeQuantize(const Spec& p) { return std::make_unique<ConvertStep>(p, true); }
std::unique_ptr<Step> MakeDequantize(const Spec& p) { return std::make_unique<ConvertStep>(p, false); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
