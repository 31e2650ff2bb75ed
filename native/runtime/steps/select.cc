// Selection steps: topk_f32 (the indices of each last-axis row's k largest values, as tfjs's
// TopK orders them) and take_f32 (a row's values at given indices: TopK's values output). A
// step has one output, so TopK's two outputs are these two steps; the values are the input's
// floats at the indices, bit for bit, which is what TopK returns.
#include <cstdint>
#include <string>

#include "runtime/steps/factories.h"

namespace tfjq {
namespace runtime {
namespace detail {
namespace {

// The rows of x (every dimension but the last, the batch included) and y's last dimension,
// checked: y has x's leading dimensions.
void CheckRows(const Spec& p, int x, int y, const char* what) {
  for (int64_t batch : {1, 3}) {
    const Dims xs = p.ses.Shape(x, batch), ys = p.ses.Shape(y, batch);
    if (xs.empty() || xs.size() != ys.size()) Bad(std::string(what) + ": input and output ranks differ");
    for (size_t d = 0; d + 1 < xs.size(); d++)
      if (xs[d] != ys[d]) Bad(std::string(what) + ": output " + DimsStr(ys) + " does not match input " + DimsStr(xs));
  }
}

class TopKStep : public Step {
 public:
  explicit TopKStep(const Spec& p) {
    p.Arity(1, 1, 1, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    p.Type(x, DType::kF32, "topk input");
    p.Type(y, DType::kI32, "topk indices");
    CheckRows(p, x, y, "topk");
    const Dims xs = p.Shape1(x), ys = p.Shape1(y);
    n_ = xs.back();
    if (n_ > INT32_MAX) Bad("topk: rows longer than int32 indices reach");
    k_ = p.Int(0, 1, n_, "k");
    if (ys.back() != k_) Bad("topk: the indices' last dimension must be k");
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const int64_t rows = c.Elements(x) / n_;
    float* values = c.Scratch<float>(static_cast<size_t>(rows * k_));
    ops::TopKF32(rows, n_, k_, c.P<float>(x), values, c.P<int32_t>(y), c.threads);
  }

 private:
  int64_t n_ = 0, k_ = 0;
};

class TakeStep : public Step {
 public:
  explicit TakeStep(const Spec& p) {
    p.Arity(2, 1, 0, 0, 0);
    const int x = p.s.inputs[0], idx = p.s.inputs[1], y = p.s.outputs[0];
    p.Type(x, DType::kF32, "take input");
    p.Type(idx, DType::kI32, "take indices");
    p.Type(y, DType::kF32, "take output");
    CheckRows(p, x, idx, "take");
    CheckRows(p, x, y, "take");
    if (p.Shape1(idx) != p.Shape1(y)) Bad("take: output and indices must have one shape");
    n_ = p.Shape1(x).back();
    k_ = p.Shape1(y).back();
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], idx = inputs[1], y = outputs[0];
    const int64_t rows = c.Elements(x) / n_;
    const float* xp = c.P<float>(x);
    const int32_t* ip = c.P<int32_t>(idx);
    float* yp = c.P<float>(y);
    for (int64_t r = 0; r < rows; r++) {
      for (int64_t j = 0; j < k_; j++) {
        const int32_t i = ip[r * k_ + j];
        // The indices come from a topk step of the same plan; checked all the same.
        if (i < 0 || i >= n_) Bad("take: index " + std::to_string(i) + " outside [0, " + std::to_string(n_) + ")");
        yp[r * k_ + j] = xp[r * n_ + i];
      }
    }
  }

 private:
  int64_t n_ = 0, k_ = 0;
};

}  // namespace

std::unique_ptr<Step> MakeTopKF32(const Spec& p) { return std::make_unique<TopKStep>(p); }
std::unique_ptr<Step> MakeTakeF32(const Spec& p) { return std::make_unique<TakeStep>(p); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
