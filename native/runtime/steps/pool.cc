// Pooling windows and the global mean (int8 per §7 and float32).
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

class PoolStep : public Step {
 public:
  PoolStep(const Spec& p, bool max, bool q8) : max_(max), q8_(q8) {
    const size_t nint = 8 + (q8 ? (max ? 2 : 4) : 0);
    p.Arity(1, 1, nint, q8 && !max ? 2 : 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    geo_.k_h = p.Int(0, 1, 1 << 16, "window");
    geo_.k_w = p.Int(1, 1, 1 << 16, "window");
    geo_.stride_h = p.Int(2, 1, 1 << 16, "stride");
    geo_.stride_w = p.Int(3, 1, 1 << 16, "stride");
    geo_.pad_top = p.Int(4, 0, geo_.k_h - 1, "padding");
    geo_.pad_bottom = p.Int(5, 0, geo_.k_h - 1, "padding");
    geo_.pad_left = p.Int(6, 0, geo_.k_w - 1, "padding");
    geo_.pad_right = p.Int(7, 0, geo_.k_w - 1, "padding");
    const Dims xs = p.Shape1(x);
    if (xs.size() != 4) Bad("input must be NHWC");
    CheckConvShapes(p, geo_, x, y, xs[3]);
    if (q8_) {
      if (!p.Is8(x) || p.Buf(y).dtype != p.Buf(x).dtype)
        Bad("8-bit pooling: input and output must be of one 8-bit type");
      if (max_) {
        p.QBounds(8, 8, 9, y);
        qmin_ = static_cast<int32_t>(p.s.ints[8]);
        qmax_ = static_cast<int32_t>(p.s.ints[9]);
      } else {
        ReadUnaryQ(p, x, y, 8, q_);
      }
    } else {
      p.Type(x, DType::kF32, "input");
      p.Type(y, DType::kF32, "output");
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const ConvGeom g = OpsGeom(geo_, c.Shape(x));
    const bool sgn = c.s->plan().buffers[static_cast<size_t>(x)].dtype == DType::kI8;
    if (!q8_) {
      if (max_)
        ops::MaxPoolF32(g, c.P<float>(x), c.P<float>(y), c.threads);
      else
        ops::AvgPoolF32(g, c.P<float>(x), c.P<float>(y), c.threads);
    } else if (max_) {
      if (sgn)
        ops::MaxPool(g, c.P<int8_t>(x), qmin_, qmax_, c.P<int8_t>(y), c.threads);
      else
        ops::MaxPool(g, c.P<uint8_t>(x), qmin_, qmax_, c.P<uint8_t>(y), c.threads);
    } else {
      if (sgn)
        ops::AvgPool(g, c.P<int8_t>(x), q_, c.P<int8_t>(y), c.threads);
      else
        ops::AvgPool(g, c.P<uint8_t>(x), q_, c.P<uint8_t>(y), c.threads);
    }
  }

 private:
  bool max_, q8_;
  ConvGeom geo_{};
  int32_t qmin_ = -128, qmax_ = 127;
  ops::PoolQ q_;
};

class MeanStep : public Step {
 public:
  MeanStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, q8 ? 4 : 0, q8 ? 2 : 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    const Dims xs = p.Shape1(x);
    if (xs.size() != 4) Bad("input must be NHWC");
    p.SameLeading(x, y, "mean");
    for (int64_t batch : {1, 3}) {
      if (p.ses.Elements(y, batch) != p.ses.Shape(x, batch)[0] * xs[3]) Bad("output must have C elements per image");
    }
    ReadUnaryTyped(p, x, y, q8_, 0, q_, "mean");
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const Dims xs = c.Shape(x);
    const bool sgn = c.s->plan().buffers[static_cast<size_t>(x)].dtype == DType::kI8;
    if (!q8_)
      ops::MeanF32(xs[0], xs[1] * xs[2], xs[3], c.P<float>(x), c.P<float>(y), c.threads);
    else if (sgn)
      ops::Mean(xs[0], xs[1] * xs[2], xs[3], c.P<int8_t>(x), q_, c.P<int8_t>(y), c.threads);
    else
      ops::Mean(xs[0], xs[1] * xs[2], xs[3], c.P<uint8_t>(x), q_, c.P<uint8_t>(y), c.threads);
  }

 private:
  bool q8_;
  ops::PoolQ q_;
};

}  // namespace

std::unique_ptr<Step> MakeMaxpoolI8(const Spec& p) { return std::make_unique<PoolStep>(p, true, true); }
std::unique_ptr<Step> MakeMaxpoolF32(const Spec& p) { return std::make_unique<PoolStep>(p, true, false); }
std::unique_ptr<Step> MakeAvgpoolI8(const Spec& p) { return std::make_unique<PoolStep>(p, false, true); }
std::unique_ptr<Step> MakeAvgpoolF32(const Spec& p) { return std::make_unique<PoolStep>(p, false, false); }
std::unique_ptr<Step> MakeMeanI8(const Spec& p) { return std::make_unique<MeanStep>(p, true); }
std::unique_ptr<Step> MakeMeanF32(const Spec& p) { return std::make_unique<MeanStep>(p, false); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
