// N-API surface of the data-movement operators of native/ops (binding.d.ts, ops section): concat,
// pad, transpose, slices, depth-to-space, resize. Checked as ops_binding.cc says.
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "binding/modules.h"
#include "binding/ops_args.h"
#include "binding/util.h"
#include "ops/ops.h"

namespace tfjq {
namespace binding {
namespace {

using namespace ops_args;  // the readers shared by the operator bindings

constexpr unsigned kAllowAll = kAllowI8 | kAllowU8 | kAllowI32 | kAllowF32;

// concat(inputs, y, {shapes, axis, q}): q absent (raw copy) or {scales, zeroPoints, yScale, yZeroPoint, yMin, yMax}.
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[2], "options");
  if (!info[0].IsArray()) ThrowTypeError(env, "inputs must be an array of typed arrays");
  const Napi::Value shapes_v = o.Get("shapes");
  if (!shapes_v.IsArray()) ThrowTypeError(env, "shapes must be an array of shapes");
  Napi::Array ins = info[0].As<Napi::Array>(), shs = shapes_v.As<Napi::Array>();
  if (ins.Length() == 0) ThrowRangeError(env, "inputs must not be empty");
  if (ins.Length() != shs.Length()) ThrowRangeError(env, "shapes must have one entry per input");
  if (ins.Length() > 4096) ThrowRangeError(env, "too many inputs");
  const Arr y = GetAny(env, info[1], "y", kAllowAll);
  std::vector<const void*> ptrs;
  std::vector<Shape> shapes;
  for (uint32_t i = 0; i < ins.Length(); i++) {
    const std::string in = "inputs[" + std::to_string(i) + "]", sn = "shapes[" + std::to_string(i) + "]";
    const Arr a = GetAny(env, ins.Get(i), in.c_str(), kAllowAll);
    CheckSameKind(env, a, y, in.c_str(), "y");
    shapes.push_back(GetShape(env, shs.Get(i), sn.c_str()));
    CheckLen(env, a, ops::ShapeSize(shapes.back()), in.c_str());
    CheckNoOverlap(env, a, y, in.c_str(), "y");
    ptrs.push_back(a.data);
  }
  const int64_t rank = static_cast<int64_t>(shapes[0].size());
  int64_t axis = GetInt(env, o.Get("axis"), "axis", -rank, rank - 1);
  if (axis < 0) axis += rank;
  const Shape out = CallCore(env, [&] { return ops::ConcatShape(shapes, static_cast<int>(axis)); });
  CheckLen(env, y, ops::ShapeSize(out), "y");
  const Napi::Value q = o.Get("q");
  if (IsAbsent(q)) {
    ops::Concat(y.es, ptrs, shapes, static_cast<int>(axis), y.data);
    return env.Undefined();
  }
  if (!IsQ(y.kind)) ThrowTypeError(env, "q is only for Int8Array / Uint8Array data");
  ops::ConcatQ p;
  const auto sc = GetArrayOfLength<float>(env, GetField(env, q, "q", "scales"), "q.scales", ins.Length());
  const auto zp = GetArrayOfLength<int32_t>(env, GetField(env, q, "q", "zeroPoints"), "q.zeroPoints", ins.Length());
  CallCore(env, [&] {
    ops::CheckScales(sc.data, ins.Length(), "q.scales");
    for (uint32_t i = 0; i < ins.Length(); i++)
      ops::CheckZeroPoint(zp.data[i], y.kind == Kind::kI8, "q.zeroPoints[" + std::to_string(i) + "]");
  });
  p.scales.assign(sc.data, sc.data + ins.Length());
  p.zero_points.assign(zp.data, zp.data + ins.Length());
  p.y_scale = Scale(env, q, "q", "yScale");
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", y.kind);
  GetBounds(env, q, "q", y.kind, p.y_zero_point, &p.y_min, &p.y_max);
  ops::ConcatQuant(y.kind == Kind::kI8, ptrs, shapes, static_cast<int>(axis), p, y.data);
  return env.Undefined();
}

// Writes `value` as one element of the array's type; integers must fit.
void ElementBytes(Napi::Env env, const Arr& a, const Napi::Value& v, const char* name, uint8_t out[4]) {
  switch (a.kind) {
    case Kind::kI8: {
      const int8_t t = static_cast<int8_t>(GetInt(env, v, name, -128, 127));
      std::memcpy(out, &t, 1);
      break;
    }
    case Kind::kU8: {
      const uint8_t t = static_cast<uint8_t>(GetInt(env, v, name, 0, 255));
      std::memcpy(out, &t, 1);
      break;
    }
    case Kind::kI32: {
      const int32_t t = static_cast<int32_t>(GetInt(env, v, name, INT32_MIN, INT32_MAX));
      std::memcpy(out, &t, 4);
      break;
    }
    case Kind::kF32: {
      if (!v.IsNumber()) ThrowTypeError(env, std::string(name) + " must be a number");
      const float t = static_cast<float>(v.As<Napi::Number>().DoubleValue());
      std::memcpy(out, &t, 4);
      break;
    }
  }
}

// pad(x, y, {shape, before, after, value})
Napi::Value Pad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[2], "options");
  const Arr x = GetAny(env, info[0], "x", kAllowAll);
  const Shape s = GetShape(env, o.Get("shape"), "shape");
  CheckLen(env, x, ops::ShapeSize(s), "x");
  const auto before = GetIntVec(env, o.Get("before"), "before", 0, kI32Max);
  const auto after = GetIntVec(env, o.Get("after"), "after", 0, kI32Max);
  if (before.size() != s.size())
    ThrowRangeError(
        env, "before has " + std::to_string(before.size()) + " entries, expected the rank " + std::to_string(s.size()));
  if (after.size() != s.size())
    ThrowRangeError(
        env, "after has " + std::to_string(after.size()) + " entries, expected the rank " + std::to_string(s.size()));
  int64_t total = 1;
  for (size_t d = 0; d < s.size(); d++) {
    total *= s[d] + before[d] + after[d];
    if (total > (int64_t(1) << 40)) ThrowRangeError(env, "the padded tensor is too large");
  }
  const Arr y = GetAny(env, info[1], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, total, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  uint8_t value[4];
  ElementBytes(env, x, o.Get("value"), "value", value);
  ops::Pad(x.es, s, before.data(), after.data(), x.data, value, y.data);
  return env.Undefined();
}

// transpose(x, y, {shape, perm})
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[2], "options");
  const Arr x = GetAny(env, info[0], "x", kAllowAll);
  const Shape s = GetShape(env, o.Get("shape"), "shape");
  CheckLen(env, x, ops::ShapeSize(s), "x");
  const auto pv = GetIntVec(env, o.Get("perm"), "perm", -1, 64);
  std::vector<int32_t> perm(pv.begin(), pv.end());
  CallCore(env, [&] { ops::CheckPermutation(s, perm.data(), perm.size()); });
  const Arr y = GetAny(env, info[1], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  ops::Transpose(x.es, s, perm.data(), x.data, y.data);
  return env.Undefined();
}

// The slice of options {shape, begin, end, strides, beginMask, endMask, ellipsisMask,
// newAxisMask, shrinkAxisMask}, resolved by the core.
ops::StridedSliceSpec GetSliceSpec(Napi::Env env, const Napi::Value& v) {
  const Napi::Object o = GetOptions(env, v, "options");
  const Shape s = GetShape(env, o.Get("shape"), "shape");
  const int64_t big = int64_t(1) << 53;
  const auto b = GetIntVec(env, o.Get("begin"), "begin", -big, big);
  const auto e = GetIntVec(env, o.Get("end"), "end", -big, big);
  const auto st = GetIntVec(env, o.Get("strides"), "strides", -big, big);
  const int32_t bm = I32(env, o, "options", "beginMask", 0, kI32Max);
  const int32_t em = I32(env, o, "options", "endMask", 0, kI32Max);
  const int32_t elm = I32(env, o, "options", "ellipsisMask", 0, kI32Max);
  const int32_t nm = I32(env, o, "options", "newAxisMask", 0, kI32Max);
  const int32_t sm = I32(env, o, "options", "shrinkAxisMask", 0, kI32Max);
  return CallCore(env, [&] { return ops::ResolveStridedSlice(s, b, e, st, bm, em, elm, nm, sm); });
}

// stridedSliceShape(slice): number[]
Napi::Value StridedSliceShape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ops::StridedSliceSpec spec = GetSliceSpec(env, info[0]);
  Napi::Array out = Napi::Array::New(env, spec.final_shape.size());
  for (size_t i = 0; i < spec.final_shape.size(); i++)
    out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(spec.final_shape[i])));
  return out;
}

// stridedSlice(x, y, slice)
Napi::Value StridedSlice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowAll);
  const ops::StridedSliceSpec spec = GetSliceSpec(env, info[2]);
  CheckLen(env, x, ops::ShapeSize(spec.input_shape), "x");
  const Arr y = GetAny(env, info[1], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, ops::ShapeSize(spec.final_shape), "y");
  CheckNoOverlap(env, x, y, "x", "y");
  ops::StridedSlice(x.es, spec, x.data, y.data);
  return env.Undefined();
}

// depthToSpace(x, y, {shape[4], blockSize})
Napi::Value DepthToSpace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[2], "options");
  const Arr x = GetAny(env, info[0], "x", kAllowAll);
  const Shape s = GetShape(env, o.Get("shape"), "shape");
  if (s.size() != 4) ThrowRangeError(env, "shape must be [batch, height, width, channels]");
  CheckLen(env, x, ops::ShapeSize(s), "x");
  const int64_t bs = GetInt(env, o.Get("blockSize"), "blockSize", 2, 1 << 16);
  CallCore(env, [&] { ops::CheckDepthToSpace(s[3], bs); });
  const Arr y = GetAny(env, info[1], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  ops::DepthToSpace(x.es, s[0], s[1], s[2], s[3], bs, x.data, y.data);
  return env.Undefined();
}

// resize(x, y, {mode, shape[4], outHeight, outWidth, alignCorners, halfPixelCenters, q})
Napi::Value Resize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[2], "options");
  const std::string mode = GetString(env, o.Get("mode"), "mode");
  if (mode != "bilinear" && mode != "nearest")
    ThrowRangeError(env, "mode must be 'bilinear' or 'nearest', got '" + mode + "'");
  const Arr x = GetAny(env, info[0], "x", mode == "nearest" ? kAllowAll : (kAllowI8 | kAllowU8 | kAllowF32));
  const Shape s = GetShape(env, o.Get("shape"), "shape");
  if (s.size() != 4) ThrowRangeError(env, "shape must be [batch, height, width, channels]");
  CheckLen(env, x, ops::ShapeSize(s), "x");
  ops::ResizeGeom g;
  g.batch = s[0];
  g.in_h = s[1];
  g.in_w = s[2];
  g.channels = s[3];
  g.out_h = GetInt(env, o.Get("outHeight"), "outHeight", 1, kI32Max);
  g.out_w = GetInt(env, o.Get("outWidth"), "outWidth", 1, kI32Max);
  g.align_corners = GetBool(env, o.Get("alignCorners"), "alignCorners");
  g.half_pixel_centers = GetBool(env, o.Get("halfPixelCenters"), "halfPixelCenters");
  CallCore(env, [&] { ops::CheckResizeGeom(g); });
  const int64_t total = g.batch * g.out_h * g.out_w * g.channels;
  if (total > (int64_t(1) << 40)) ThrowRangeError(env, "the output is too large");
  const Arr y = GetAny(env, info[1], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, total, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (mode == "nearest") {
    ops::ResizeNearest(x.es, g, x.data, y.data);
    return env.Undefined();
  }
  if (x.kind == Kind::kF32) {
    ops::ResizeBilinearF32(g, static_cast<const float*>(x.data), static_cast<float*>(y.data));
    return env.Undefined();
  }
  const Napi::Value q = o.Get("q");
  ops::ResizeQ p;
  p.x_scale = Scale(env, q, "q", "xScale");
  p.y_scale = Scale(env, q, "q", "yScale");
  p.x_zero_point = ZeroPoint(env, q, "q", "xZeroPoint", x.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", x.kind);
  GetBounds(env, q, "q", x.kind, p.y_zero_point, &p.y_min, &p.y_max);
  if (x.kind == Kind::kI8)
    ops::ResizeBilinear(g, static_cast<const int8_t*>(x.data), p, static_cast<int8_t*>(y.data));
  else
    ops::ResizeBilinear(g, static_cast<const uint8_t*>(x.data), p, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

}  // namespace

void InitOpsMovement(Napi::Env env, Napi::Object exports) {
  exports.Set("opsConcat", Napi::Function::New(env, Concat, "opsConcat"));
  exports.Set("opsPad", Napi::Function::New(env, Pad, "opsPad"));
  exports.Set("opsTranspose", Napi::Function::New(env, Transpose, "opsTranspose"));
  exports.Set("opsStridedSliceShape", Napi::Function::New(env, StridedSliceShape, "opsStridedSliceShape"));
  exports.Set("opsStridedSlice", Napi::Function::New(env, StridedSlice, "opsStridedSlice"));
  exports.Set("opsDepthToSpace", Napi::Function::New(env, DepthToSpace, "opsDepthToSpace"));
  exports.Set("opsResize", Napi::Function::New(env, Resize, "opsResize"));
}

}  // namespace binding
}  // namespace tfjq
