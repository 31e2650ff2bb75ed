// Data movement on any element type: concatenation, padding, transposition, resizing, strided
// slices, depth-to-space and plain copies (reshapes).
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

class ConcatStep : public Step {
 public:
  ConcatStep(const Spec& p, bool q8) : q8_(q8) {
    const size_t n = p.s.inputs.size();
    if (n < 1) Bad("concat needs inputs");
    p.Arity(n, 1, q8 ? 4 + n : 1, q8 ? 1 + n : 0, 0);
    const int y = p.s.outputs[0];
    const DType t = p.Buf(y).dtype;
    for (int i : p.s.inputs)
      if (p.Buf(i).dtype != t) Bad("concat inputs and output must have one dtype");
    const int64_t rank = static_cast<int64_t>(p.Buf(y).shape.size());
    axis_ = static_cast<int>(p.Int(0, 0, rank - 1, "axis"));
    for (int64_t batch : {1, 3}) {
      std::vector<Dims> shapes;
      for (int i : p.s.inputs) shapes.push_back(p.ses.Shape(i, batch));
      if (ops::ConcatShape(shapes, axis_) != p.ses.Shape(y, batch))
        Bad("output shape is not the concatenation of the inputs");
    }
    if (q8_) {
      if (!p.Is8(y)) Bad("8-bit concat: 8-bit data");
      p.QBounds(1, 2, 3, y);
      q_.y_zero_point = static_cast<int32_t>(p.s.ints[1]);
      q_.y_min = static_cast<int32_t>(p.s.ints[2]);
      q_.y_max = static_cast<int32_t>(p.s.ints[3]);
      q_.y_scale = p.Scale(0, "output scale");
      for (size_t i = 0; i < n; i++) {
        p.Zp(4 + i, y, "input zero point");
        q_.zero_points.push_back(static_cast<int32_t>(p.s.ints[4 + i]));
        q_.scales.push_back(p.Scale(1 + i, "input scale"));
      }
    }
  }
  void Run(RunContext& c) const override {
    std::vector<const void*> xs;
    std::vector<Dims> shapes;
    for (int i : inputs) {
      xs.push_back(c.ptr[static_cast<size_t>(i)]);
      shapes.push_back(c.Shape(i));
    }
    const int y = outputs[0];
    const DType t = c.s->plan().buffers[static_cast<size_t>(y)].dtype;
    if (q8_)
      ops::ConcatQuant(t == DType::kI8, xs, shapes, axis_, q_, c.ptr[static_cast<size_t>(y)], c.threads);
    else
      ops::Concat(DTypeSize(t), xs, shapes, axis_, c.ptr[static_cast<size_t>(y)], c.threads);
  }

 private:
  bool q8_;
  int axis_ = 0;
  ops::ConcatQ q_;
};

class PadStep : public Step {
 public:
  explicit PadStep(const Spec& p) {
    const int x = p.s.inputs.size() == 1 ? p.s.inputs[0] : 0;
    const size_t rank = p.s.inputs.size() == 1 ? p.Buf(x).shape.size() : 0;
    p.Arity(1, 1, 2 * rank + 1, 1, 0);
    const int y = p.s.outputs[0];
    if (p.Buf(y).dtype != p.Buf(x).dtype || p.Buf(y).shape.size() != rank)
      Bad("output dtype/rank differ from the input's");
    for (size_t d = 0; d < rank; d++) {
      before_.push_back(p.Int(d, 0, 1 << 20, "padding"));
      after_.push_back(p.Int(rank + d, 0, 1 << 20, "padding"));
    }
    if (p.Batched(x) && (before_[0] || after_[0])) Bad("the batch dimension cannot be padded");
    for (int64_t batch : {1, 3}) {
      Dims xs = p.ses.Shape(x, batch), ys = p.ses.Shape(y, batch);
      for (size_t d = 0; d < rank; d++)
        if (xs[d] + before_[d] + after_[d] != ys[d]) Bad("output shape does not match the paddings");
    }
    // A plan's floats are finite: `infinite` (−1, 0, 1) gives a float32 pad by −∞ or +∞ (the
    // −∞ before a max pool), with value 0.
    const int64_t inf = p.Int(2 * rank, -1, 1, "infinite");
    if (inf != 0 && (p.Buf(x).dtype != DType::kF32 || p.s.floats[0] != 0)) Bad("infinite pads float32 by ±inf only");
    const double v = p.s.floats[0];
    switch (p.Buf(x).dtype) {
      case DType::kF32: {
        float f = inf == 0 ? static_cast<float>(v) : inf < 0 ? -INFINITY : INFINITY;
        std::memcpy(value_, &f, 4);
        break;
      }
      case DType::kI32: {
        int32_t i = static_cast<int32_t>(v);
        std::memcpy(value_, &i, 4);
        break;
      }
      case DType::kI8: {
        if (v < -128 || v > 127 || v != std::floor(v)) Bad("pad value outside int8");
        int8_t i = static_cast<int8_t>(v);
        std::memcpy(value_, &i, 1);
        break;
      }
      case DType::kU8: {
        if (v < 0 || v > 255 || v != std::floor(v)) Bad("pad value outside uint8");
        uint8_t i = static_cast<uint8_t>(v);
        std::memcpy(value_, &i, 1);
        break;
      }
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    ops::Pad(DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype), c.Shape(x), before_.data(), after_.data(),
             c.ptr[static_cast<size_t>(x)], value_, c.ptr[static_cast<size_t>(outputs[0])], c.threads);
  }

 private:
  std::vector<int64_t> before_, after_;
  uint8_t value_[4] = {0, 0, 0, 0};
};

class TransposeStep : public Step {
 public:
  explicit TransposeStep(const Spec& p) {
    const int x = p.s.inputs.size() == 1 ? p.s.inputs[0] : 0;
    const size_t rank = p.s.inputs.size() == 1 ? p.Buf(x).shape.size() : 0;
    p.Arity(1, 1, rank, 0, 0);
    const int y = p.s.outputs[0];
    if (p.Buf(y).dtype != p.Buf(x).dtype) Bad("output dtype differs");
    for (size_t d = 0; d < rank; d++)
      perm_.push_back(static_cast<int32_t>(p.Int(d, 0, static_cast<int64_t>(rank) - 1, "perm")));
    ops::CheckPermutation(p.Shape1(x), perm_.data(), perm_.size());
    if (p.Batched(x) && perm_[0] != 0) Bad("the batch dimension must stay first");
    const Dims xs = p.ses.Shape(x, 3), ys = p.ses.Shape(y, 3);
    for (size_t d = 0; d < rank; d++)
      if (ys[d] != xs[static_cast<size_t>(perm_[d])]) Bad("output shape does not match the permutation");
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    ops::Transpose(DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype), c.Shape(x), perm_.data(),
                   c.ptr[static_cast<size_t>(x)], c.ptr[static_cast<size_t>(outputs[0])], c.threads);
  }

 private:
  std::vector<int32_t> perm_;
};

class ResizeStep : public Step {
 public:
  ResizeStep(const Spec& p, int kind) : kind_(kind) {  // 0 nearest, 1 bilinear f32, 2 bilinear 8-bit
    p.Arity(1, 1, kind == 2 ? 6 : 2, kind == 2 ? 2 : 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).dtype != p.Buf(y).dtype) Bad("output dtype differs");
    if (kind == 1) p.Type(x, DType::kF32, "input");
    if (kind == 2 && !p.Is8(x)) Bad("8-bit input expected");
    const Dims xs = p.Shape1(x), ys = p.Shape1(y);
    if (xs.size() != 4 || ys.size() != 4 || xs[3] != ys[3]) Bad("input and output must be NHWC with equal C");
    p.SameLeading(x, y, "resize");
    align_ = p.Int(0, 0, 1, "align_corners") == 1;
    half_ = p.Int(1, 0, 1, "half_pixel_centers") == 1;
    ops::ResizeGeom g = GeomFor(xs, ys);
    ops::CheckResizeGeom(g);
    if (kind == 2) {
      ReadUnaryQ(p, x, y, 2, q_);
    }
  }
  ops::ResizeGeom GeomFor(const Dims& xs, const Dims& ys) const {
    ops::ResizeGeom g;
    g.batch = xs[0];
    g.in_h = xs[1];
    g.in_w = xs[2];
    g.channels = xs[3];
    g.out_h = ys[1];
    g.out_w = ys[2];
    g.align_corners = align_;
    g.half_pixel_centers = half_;
    return g;
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const ops::ResizeGeom g = GeomFor(c.Shape(x), c.Shape(y));
    const DType t = c.s->plan().buffers[static_cast<size_t>(x)].dtype;
    if (kind_ == 0)
      ops::ResizeNearest(DTypeSize(t), g, c.ptr[static_cast<size_t>(x)], c.ptr[static_cast<size_t>(y)], c.threads);
    else if (kind_ == 1)
      ops::ResizeBilinearF32(g, c.P<float>(x), c.P<float>(y), c.threads);
    else if (t == DType::kI8)
      ops::ResizeBilinear(g, c.P<int8_t>(x), q_, c.P<int8_t>(y), c.threads);
    else
      ops::ResizeBilinear(g, c.P<uint8_t>(x), q_, c.P<uint8_t>(y), c.threads);
  }

 private:
  int kind_;
  bool align_ = false, half_ = false;
  ops::ResizeQ q_;
};

class StridedSliceStep : public Step {
 public:
  explicit StridedSliceStep(const Spec& p) {
    p.Arity(1, 1, SIZE_MAX, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).dtype != p.Buf(y).dtype) Bad("output dtype differs");
    if (p.s.ints.empty()) Bad("missing parameters");
    const int64_t n = p.Int(0, 0, ops::kMaxRank * 2, "index count");
    if (static_cast<int64_t>(p.s.ints.size()) != 1 + 3 * n + 5) Bad("expects 1 + 3n + 5 int parameters");
    begin_.assign(p.s.ints.begin() + 1, p.s.ints.begin() + 1 + n);
    end_.assign(p.s.ints.begin() + 1 + n, p.s.ints.begin() + 1 + 2 * n);
    strides_.assign(p.s.ints.begin() + 1 + 2 * n, p.s.ints.begin() + 1 + 3 * n);
    for (int i = 0; i < 5; i++)
      masks_[i] = static_cast<int32_t>(p.Int(static_cast<size_t>(1 + 3 * n + i), 0, (1 << 16) - 1, "mask"));
    for (int64_t batch : {1, 3}) {
      if (Resolve(p.ses.Shape(x, batch)).final_shape != p.ses.Shape(y, batch))
        Bad("output shape does not match the slice");
    }
  }
  ops::StridedSliceSpec Resolve(const Dims& shape) const {
    return ops::ResolveStridedSlice(shape, begin_, end_, strides_, masks_[0], masks_[1], masks_[2], masks_[3],
                                    masks_[4]);
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    ops::StridedSlice(DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype), Resolve(c.Shape(x)),
                      c.ptr[static_cast<size_t>(x)], c.ptr[static_cast<size_t>(outputs[0])], c.threads);
  }

 private:
  std::vector<int64_t> begin_, end_, strides_;
  int32_t masks_[5] = {0, 0, 0, 0, 0};
};

class DepthToSpaceStep : public Step {
 public:
  explicit DepthToSpaceStep(const Spec& p) {
    p.Arity(1, 1, 1, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).dtype != p.Buf(y).dtype) Bad("output dtype differs");
    block_ = p.Int(0, 1, 1 << 12, "block size");
    const Dims xs = p.Shape1(x), ys = p.Shape1(y);
    if (xs.size() != 4 || ys.size() != 4) Bad("input and output must be NHWC");
    p.SameLeading(x, y, "depth_to_space");
    if (xs[3] % (block_ * block_) != 0 || ys[1] != xs[1] * block_ || ys[2] != xs[2] * block_ ||
        ys[3] != xs[3] / (block_ * block_)) {
      Bad("output shape does not match the block size");
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    const Dims xs = c.Shape(x);
    ops::DepthToSpace(DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype), xs[0], xs[1], xs[2], xs[3], block_,
                      c.ptr[static_cast<size_t>(x)], c.ptr[static_cast<size_t>(outputs[0])], c.threads);
  }

 private:
  int64_t block_ = 1;
};

class CopyStep : public Step {
 public:
  explicit CopyStep(const Spec& p) {
    p.Arity(1, 1, 0, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).dtype != p.Buf(y).dtype || p.ses.Elements(x, 3) != p.ses.Elements(y, 3) ||
        p.ses.Elements(x, 1) != p.ses.Elements(y, 1)) {
      Bad("copy: input and output must have one dtype and size");
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    std::memcpy(c.ptr[static_cast<size_t>(outputs[0])], c.ptr[static_cast<size_t>(x)],
                static_cast<size_t>(c.Elements(x)) * DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype));
  }
};

}  // namespace

std::unique_ptr<Step> MakeConcatI8(const Spec& p) { return std::make_unique<ConcatStep>(p, true); }
std::unique_ptr<Step> MakeConcat(const Spec& p) { return std::make_unique<ConcatStep>(p, false); }
std::unique_ptr<Step> MakePad(const Spec& p) { return std::make_unique<PadStep>(p); }
std::unique_ptr<Step> MakeTranspose(const Spec& p) { return std::make_unique<TransposeStep>(p); }
std::unique_ptr<Step> MakeResizeNearest(const Spec& p) { return std::make_unique<ResizeStep>(p, 0); }
std::unique_ptr<Step> MakeResizeBilinearF32(const Spec& p) { return std::make_unique<ResizeStep>(p, 1); }
std::unique_ptr<Step> MakeResizeBilinearI8(const Spec& p) { return std::make_unique<ResizeStep>(p, 2); }
std::unique_ptr<Step> MakeStridedSlice(const Spec& p) { return std::make_unique<StridedSliceStep>(p); }
std::unique_ptr<Step> MakeDepthToSpace(const Spec& p) { return std::make_unique<DepthToSpaceStep>(p); }
std::unique_ptr<Step> MakeCopy(const Spec& p) { return std::make_unique<CopyStep>(p); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
