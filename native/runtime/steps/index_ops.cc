// The steps of a model's post-processing, where its outputs become indices and back: cast
// (float32 ↔ int32, as tfjs casts), binary_i32 (int32 arithmetic with broadcasting),
// argmax_f32, gather_nd (float32 or int32 values at int32 index tuples), gather (GatherV2 along
// one axis), reduce_f32 (sum, max, min, product over any axes) and unary_f32 (√, 1/√, x², ⌊x⌋,
// |x|). A pose model's keypoint decoding is these ops between its heatmaps and its output;
// without them each decoding ran as a few tfjs segments between native ones.
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/steps/factories.h"

namespace tfjq {
namespace runtime {
namespace detail {
namespace {

// Gathers: float32 or int32 values, the output of their dtype, int32 indices.
void CheckGatherTypes(const Spec& p, int values, int idx, int y, const std::string& what) {
  p.Type(idx, DType::kI32, (what + " indices").c_str());
  if (p.Buf(values).dtype != DType::kF32 && p.Buf(values).dtype != DType::kI32)
    Bad(what + ": values must be float32 or int32");
  if (p.Buf(y).dtype != p.Buf(values).dtype) Bad(what + ": output and values must have one dtype");
}

// The axis of buffer x in the step's first int, not the free batch dimension.
size_t AxisOf(const Spec& p, int x, const std::string& what) {
  const int64_t rank = static_cast<int64_t>(p.Buf(x).shape.size());
  const size_t axis = static_cast<size_t>(p.Int(0, 0, rank - 1, "axis"));
  if (axis == 0 && p.Batched(x)) Bad(what + ": not along the batch dimension");
  return axis;
}

bool SameShapes(const Spec& p, int x, int y) {
  for (int64_t batch : {1, 3})
    if (p.ses.Shape(x, batch) != p.ses.Shape(y, batch)) return false;
  return true;
}

class CastStep : public Step {
 public:
  explicit CastStep(const Spec& p) {
    p.Arity(1, 1, 0, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    const DType from = p.Buf(x).dtype, to = p.Buf(y).dtype;
    if (!((from == DType::kF32 && to == DType::kI32) || (from == DType::kI32 && to == DType::kF32)))
      Bad("cast: float32 → int32 or int32 → float32 only");
    if (!SameShapes(p, x, y)) Bad("cast: input and output shapes differ");
    to_int_ = to == DType::kI32;
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    if (to_int_)
      ops::CastF32ToI32(c.Elements(x), c.P<float>(x), c.P<int32_t>(y));
    else
      ops::CastI32ToF32(c.Elements(x), c.P<int32_t>(x), c.P<float>(y));
  }

 private:
  bool to_int_ = false;
};

class BinaryI32Step : public Step {
 public:
  explicit BinaryI32Step(const Spec& p) {
    p.Arity(2, 1, 1, 0, 0);
    const int a = p.s.inputs[0], b = p.s.inputs[1], y = p.s.outputs[0];
    const int64_t op = p.Int(0, 0, 9, "int32 binary op");
    if (op == 5 || op == 6 || op == 7) Bad("int32 binary op " + std::to_string(op) + " is float32 only");
    op_ = static_cast<ops::BinaryOp>(op);
    p.Type(a, DType::kI32, "a");
    p.Type(b, DType::kI32, "b");
    p.Type(y, DType::kI32, "output");
    CheckBroadcast(p, a, b, y);
  }
  void Run(RunContext& c) const override {
    const int a = inputs[0], b = inputs[1], y = outputs[0];
    ops::BinaryI32(op_, c.Shape(a), c.P<int32_t>(a), c.Shape(b), c.P<int32_t>(b), c.P<int32_t>(y), c.threads);
  }

 private:
  ops::BinaryOp op_ = ops::BinaryOp::kAdd;
};

class ArgMaxStep : public Step {
 public:
  explicit ArgMaxStep(const Spec& p) {
    p.Arity(1, 1, 1, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    p.Type(x, DType::kF32, "argmax input");
    p.Type(y, DType::kI32, "argmax output");
    axis_ = AxisOf(p, x, "argmax");
    for (int64_t batch : {1, 3}) {
      Dims want = p.ses.Shape(x, batch);
      want.erase(want.begin() + static_cast<std::ptrdiff_t>(axis_));
      if (p.ses.Shape(y, batch) != want) Bad("argmax: output shape must be the input's without the axis");
    }
  }
  void Run(RunContext& c) const override {
    const Dims xs = c.Shape(inputs[0]);
    ops::ArgMaxF32(Prod(xs, 0, axis_), xs[axis_], Prod(xs, axis_ + 1), c.P<float>(inputs[0]), c.P<int32_t>(outputs[0]),
                   c.threads);
  }

 private:
  size_t axis_ = 0;
};

class GatherNdStep : public Step {
 public:
  explicit GatherNdStep(const Spec& p) {
    p.Arity(2, 1, 0, 0, 0);
    const int params = p.s.inputs[0], idx = p.s.inputs[1], y = p.s.outputs[0];
    CheckGatherTypes(p, params, idx, y, "gather_nd");
    if (p.Batched(params)) Bad("gather_nd: values with a free batch dimension");
    for (int64_t batch : {1, 3}) {
      const Dims ps = p.ses.Shape(params, batch), is = p.ses.Shape(idx, batch);
      if (is.empty()) Bad("gather_nd: indices must have a last dimension");
      const int64_t d = is.back();
      if (d < 1 || d > static_cast<int64_t>(ps.size())) Bad("gather_nd: index depth outside the values' rank");
      Dims want(is.begin(), is.end() - 1);
      want.insert(want.end(), ps.begin() + d, ps.end());
      if (p.ses.Shape(y, batch) != want) Bad("gather_nd: output shape must be indices[:-1] + values[depth:]");
    }
  }
  void Run(RunContext& c) const override {
    const int params = inputs[0], idx = inputs[1];
    const Dims is = c.Shape(idx);
    const int64_t d = is.back();
    ops::GatherNd(DTypeSize(c.s->plan().buffers[static_cast<size_t>(params)].dtype), c.Shape(params),
                  c.ptr[static_cast<size_t>(params)], c.Elements(idx) / d, d, c.P<int32_t>(idx),
                  c.ptr[static_cast<size_t>(outputs[0])]);
  }
};

class UnaryStep : public Step {
 public:
  explicit UnaryStep(const Spec& p) {
    p.Arity(1, 1, 1, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    op_ = static_cast<ops::UnaryOp>(p.Int(0, 0, 5, "unary op"));
    p.Type(x, DType::kF32, "input");
    p.Type(y, DType::kF32, "output");
    if (!SameShapes(p, x, y)) Bad("unary: input and output shapes differ");
  }
  void Run(RunContext& c) const override {
    ops::UnaryF32(op_, c.Elements(inputs[0]), c.P<float>(inputs[0]), c.P<float>(outputs[0]));
  }

 private:
  ops::UnaryOp op_ = ops::UnaryOp::kSqrt;
};

class GatherStep : public Step {
 public:
  explicit GatherStep(const Spec& p) {
    p.Arity(2, 1, 1, 0, 0);
    const int params = p.s.inputs[0], idx = p.s.inputs[1], y = p.s.outputs[0];
    CheckGatherTypes(p, params, idx, y, "gather");
    if (p.Batched(idx)) Bad("gather: indices with a free batch dimension");
    axis_ = AxisOf(p, params, "gather");
    for (int64_t batch : {1, 3}) {
      const Dims ps = p.ses.Shape(params, batch), is = p.ses.Shape(idx, batch);
      Dims want(ps.begin(), ps.begin() + static_cast<std::ptrdiff_t>(axis_));
      want.insert(want.end(), is.begin(), is.end());
      want.insert(want.end(), ps.begin() + static_cast<std::ptrdiff_t>(axis_) + 1, ps.end());
      if (p.ses.Shape(y, batch) != want) Bad("gather: output shape must be values[:axis] + indices + values[axis+1:]");
    }
  }
  void Run(RunContext& c) const override {
    const int params = inputs[0], idx = inputs[1];
    const Dims ps = c.Shape(params);
    ops::GatherAxis(DTypeSize(c.s->plan().buffers[static_cast<size_t>(params)].dtype), Prod(ps, 0, axis_), ps[axis_],
                    Prod(ps, axis_ + 1), c.ptr[static_cast<size_t>(params)], c.Elements(idx), c.P<int32_t>(idx),
                    c.ptr[static_cast<size_t>(outputs[0])]);
  }

 private:
  size_t axis_ = 0;
};

class ReduceStep : public Step {
 public:
  explicit ReduceStep(const Spec& p) {
    p.Arity(1, 1, SIZE_MAX, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    p.Type(x, DType::kF32, "reduce input");
    p.Type(y, DType::kF32, "reduce output");
    const int64_t rank = static_cast<int64_t>(p.Buf(x).shape.size());
    const int64_t n = p.Int(0, 1, rank, "number of axes");
    if (static_cast<int64_t>(p.s.ints.size()) != n + 2) Bad("reduce: expects n axes and an op");
    reduced_.assign(static_cast<size_t>(rank), false);
    for (int64_t i = 0; i < n; i++) {
      const size_t a = static_cast<size_t>(p.Int(static_cast<size_t>(1 + i), 0, rank - 1, "axis"));
      if (reduced_[a]) Bad("reduce: an axis given twice");
      reduced_[a] = true;
    }
    if (reduced_[0] && p.Batched(x)) Bad("reduce: not over the batch dimension");
    op_ = static_cast<ops::ReduceOp>(p.Int(static_cast<size_t>(n + 1), 0, 4, "reduce op"));
    for (int64_t batch : {1, 3}) {
      const Dims xs = p.ses.Shape(x, batch);
      int64_t kept = 1;
      for (size_t d = 0; d < xs.size(); d++)
        if (!reduced_[d]) kept *= xs[d];
      if (p.ses.Elements(y, batch) != kept) Bad("reduce: output size must be the product of the kept dimensions");
    }
  }
  void Run(RunContext& c) const override {
    ops::ReduceF32(op_, c.Shape(inputs[0]), reduced_, c.P<float>(inputs[0]), c.P<float>(outputs[0]));
  }

 private:
  std::vector<bool> reduced_;
  ops::ReduceOp op_ = ops::ReduceOp::kSum;
};

}  // namespace

std::unique_ptr<Step> MakeGather(const Spec& p) { return std::make_unique<GatherStep>(p); }
std::unique_ptr<Step> MakeReduceF32(const Spec& p) { return std::make_unique<ReduceStep>(p); }
std::unique_ptr<Step> MakeCast(const Spec& p) { return std::make_unique<CastStep>(p); }
std::unique_ptr<Step> MakeBinaryI32(const Spec& p) { return std::make_unique<BinaryI32Step>(p); }
std::unique_ptr<Step> MakeArgMaxF32(const Spec& p) { return std::make_unique<ArgMaxStep>(p); }
std::unique_ptr<Step> MakeGatherNd(const Spec& p) { return std::make_unique<GatherNdStep>(p); }
std::unique_ptr<Step> MakeUnaryF32(const Spec& p) { return std::make_unique<UnaryStep>(p); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
