// Depthwise convolution steps (int8 and float32); the transposed convolution is in deconv.cc.
#include "runtime/steps/common.h"
#include "runtime/steps/factories.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace tfjq {
namespace runtime {
namespace detail {
namespace {

class DepthwiseStep : public Step {
 public:
  DepthwiseStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, q8 ? 15 : 12, q8 ? 0 : 1, 2 + (q8 ? 1 : 0));
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    geo_ = ParseGeo(p, 0);
    mult_ch_ = static_cast<int32_t>(p.Int(10, 1, 1 << 16, "multiplier"));
    const Dims xs = p.Shape1(x);
    if (xs.size() != 4) Bad("input must be NHWC");
    out_c_ = xs[3] * mult_ch_;
    CheckConvShapes(p, geo_, x, y, out_c_);
    const int64_t wl = geo_.k_h * geo_.k_w * out_c_;
    if (q8_) {
      p.Type(x, DType::kI8, "input");
      p.Type(y, DType::kI8, "output");
      q_.multiplier = mult_ch_;
      q_.x_zero_point = static_cast<int32_t>(p.Int(11, -128, 127, "input zero point"));
      ReadConvQ(p, y, 12, wl, out_c_, q_);
      ops::PrepareDepthwise(OpsGeom(geo_, xs), &q_);  // packed once, not per run
    } else {
      p.Type(x, DType::kF32, "input");
      p.Type(y, DType::kF32, "output");
      act_ = ActCode(p, 11);
      alpha_ = p.Float(0);
      wf_ = WPtr<float>(p.W(0, DType::kF32, wl, false, "weights"));
      bf_ = WPtr<float>(p.W(1, DType::kF32, out_c_, true, "bias"));
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const ConvGeom g = OpsGeom(geo_, c.Shape(x));
    if (q8_) {
      ops::DepthwiseConv2D(g, c.P<int8_t>(x), q_, c.P<int8_t>(y), c.threads);
    } else {
      const float inf = std::numeric_limits<float>::infinity();
      const float lo = (act_ == Activation::kRelu || act_ == Activation::kRelu6) ? 0.0f : -inf;
      const float hi = act_ == Activation::kRelu6 ? 6.0f : inf;
      ops::DepthwiseConv2DF32(g, mult_ch_, c.P<float>(x), wf_, bf_, lo, hi, c.P<float>(y), c.threads);
      if (!IsBoundsActivation(act_)) ApplyActF32(act_, alpha_, c.P<float>(y), c.Elements(y), c.threads);
    }
  }

 private:
  bool q8_;
  ConvGeom geo_{};
  int32_t mult_ch_ = 1;
  int64_t out_c_ = 0;
  ops::DepthwiseQ q_;
  Activation act_ = Activation::kLinear;
  float alpha_ = 0.2f;
  const float* wf_ = nullptr;
  const float* bf_ = nullptr;
};

}  // namespace

std::unique_ptr<Step> MakeDwI8(const Spec& p) { return std::make_unique<DepthwiseStep>(p, true); }
std::unique_ptr<Step> MakeDwF32(const Spec& p) { return std::make_unique<DepthwiseStep>(p, false); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
