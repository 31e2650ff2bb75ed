// N-API surface of native/ops (binding.d.ts, ops section). The TypeScript layer
// (src/kernels/ops.ts) validates first; everything is checked again here (types, lengths,
// ranges, overlap) so no input can crash the process. Outputs are caller-allocated.
// This file: geometry, the convolution family and pooling; ops_elementwise_binding.cc and
// ops_movement_binding.cc the rest, with the shared readers in ops_args.h.
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

Napi::Value ConvGeometry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Value spec = info[0];
  const std::string pad = GetString(env, GetField(env, spec, "spec", "padding"), "spec.padding");
  ops::Padding mode;
  if (pad == "same")
    mode = ops::Padding::kSame;
  else if (pad == "valid")
    mode = ops::Padding::kValid;
  else if (pad == "explicit")
    mode = ops::Padding::kExplicit;
  else
    ThrowRangeError(env, "spec.padding must be 'same', 'valid' or 'explicit', got '" + pad + "'");
  ConvGeom g = ReadGeomFields(env, spec, "spec", mode == ops::Padding::kExplicit);
  CallCore(env, [&] { ops::MakeConvGeom(&g, mode); });
  return GeomToJs(env, g);
}

// ---------------------------------------------------------------- conv family

// im2col(geom, x, a, {padValue, lda})
Napi::Value Im2col(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ConvGeom g = GetGeom(env, info[0]);
  const Napi::Object o = GetOptions(env, info[3], "options");
  const Arr x = GetAny(env, info[1], "x", kAllowI8 | kAllowU8 | kAllowF32);
  CheckLen(env, x, Prod({g.batch, g.in_h, g.in_w, g.in_c}), "x");
  const int64_t cols = Prod({g.k_h, g.k_w, g.in_c});
  const int64_t lda = GetInt(env, o.Get("lda"), "lda", cols, int64_t(1) << 40);
  const Arr a = GetAny(env, info[2], "a", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, x, a, "x", "a");
  const int64_t rows = Prod({g.batch, g.out_h, g.out_w});
  if (rows * lda > (int64_t(1) << 40)) ThrowRangeError(env, "a is too large");
  CheckLen(env, a, rows * lda, "a");
  CheckNoOverlap(env, x, a, "x", "a");
  if (x.kind == Kind::kF32) {
    const float pv = static_cast<float>(GetFiniteNumber(env, o.Get("padValue"), "padValue"));
    ops::Im2Col(g, static_cast<const float*>(x.data), pv, static_cast<float*>(a.data), lda);
  } else if (x.kind == Kind::kI8) {
    const int32_t pv = static_cast<int32_t>(GetInt(env, o.Get("padValue"), "padValue", -128, 127));
    ops::Im2Col(g, static_cast<const int8_t*>(x.data), pv, static_cast<int8_t*>(a.data), lda);
  } else {
    const int32_t pv = static_cast<int32_t>(GetInt(env, o.Get("padValue"), "padValue", 0, 255));
    ops::Im2Col(g, static_cast<const uint8_t*>(x.data), pv, static_cast<uint8_t*>(a.data), lda);
  }
  return env.Undefined();
}

// depthwiseConv2d(geom, x, filter, y, {bias, q}): q = {multiplier, xZeroPoint, multipliers, yZeroPoint, yMin, yMax}
Napi::Value Depthwise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ConvGeom g = GetGeom(env, info[0]);
  const Napi::Object o = GetOptions(env, info[4], "options");
  const Arr x = GetAny(env, info[1], "x", kAllowI8 | kAllowU8);
  CheckLen(env, x, Prod({g.batch, g.in_h, g.in_w, g.in_c}), "x");
  const Napi::Value q = o.Get("q");
  ops::DepthwiseQ p;
  p.multiplier = I32(env, q, "q", "multiplier", 1, 1 << 16);
  const int64_t oc = int64_t(g.in_c) * p.multiplier;
  const auto filter = GetArrayOfLength<int8_t>(env, info[2], "filter", static_cast<size_t>(Prod({g.k_h, g.k_w, oc})));
  p.filter = filter.data;
  const Napi::Value bias = o.Get("bias");
  if (!IsAbsent(bias)) p.bias = GetArrayOfLength<int32_t>(env, bias, "bias", oc).data;
  const auto mult = GetArrayOfLength<float>(env, GetField(env, q, "q", "multipliers"), "q.multipliers", oc);
  CallCore(env, [&] { ops::CheckScales(mult.data, oc, "q.multipliers"); });
  p.multipliers = mult.data;
  p.x_zero_point = ZeroPoint(env, q, "q", "xZeroPoint", x.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", x.kind);
  GetBounds(env, q, "q", x.kind, p.y_zero_point, &p.y_min, &p.y_max);
  const Arr y = GetAny(env, info[3], "y", kAllowI8 | kAllowU8);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, Prod({g.batch, g.out_h, g.out_w, oc}), "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (x.kind == Kind::kI8)
    ops::DepthwiseConv2D(g, static_cast<const int8_t*>(x.data), p, static_cast<int8_t*>(y.data));
  else
    ops::DepthwiseConv2D(g, static_cast<const uint8_t*>(x.data), p, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

// depthwiseConv2dF32(geom, x, filter, y, {bias, multiplier, yMin, yMax})
Napi::Value DepthwiseF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ConvGeom g = GetGeom(env, info[0]);
  const Napi::Object o = GetOptions(env, info[4], "options");
  const int32_t m = static_cast<int32_t>(GetInt(env, o.Get("multiplier"), "multiplier", 1, 1 << 16));
  const int64_t oc = int64_t(g.in_c) * m;
  const auto x = GetArrayOfLength<float>(env, info[1], "x", Prod({g.batch, g.in_h, g.in_w, g.in_c}));
  const auto f = GetArrayOfLength<float>(env, info[2], "filter", Prod({g.k_h, g.k_w, oc}));
  const float* bias = nullptr;
  if (!IsAbsent(o.Get("bias"))) bias = GetArrayOfLength<float>(env, o.Get("bias"), "bias", oc).data;
  const float lo = GetBound(env, o.Get("yMin"), "yMin"), hi = GetBound(env, o.Get("yMax"), "yMax");
  CallCore(env, [&] { ops::CheckFloatBounds(lo, hi, "yMin", "yMax"); });
  const auto y = GetArrayOfLength<float>(env, info[3], "y", Prod({g.batch, g.out_h, g.out_w, oc}));
  CheckNoOverlap(env, x.data, x.length * 4, y.data, y.length * 4, "x", "y");
  ops::DepthwiseConv2DF32(g, m, x.data, f.data, bias, lo, hi, y.data);
  return env.Undefined();
}

// conv2dTranspose(geom, dy, filter, y, {bias, q}): q = {dyChannels, dyZeroPoint, multipliers, yZeroPoint, yMin, yMax}
Napi::Value ConvTranspose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ConvGeom g = GetGeom(env, info[0]);
  const Napi::Object o = GetOptions(env, info[4], "options");
  const Napi::Value q = o.Get("q");
  ops::ConvTransposeQ p;
  p.dy_channels = I32(env, q, "q", "dyChannels", 1, 1 << 20);
  const Arr dy = GetAny(env, info[1], "dy", kAllowI8 | kAllowU8);
  CheckLen(env, dy, Prod({g.batch, g.out_h, g.out_w, p.dy_channels}), "dy");
  const auto filter = GetArrayOfLength<int8_t>(env, info[2], "filter", Prod({g.k_h, g.k_w, g.in_c, p.dy_channels}));
  p.filter = filter.data;
  const Napi::Value bias = o.Get("bias");
  if (!IsAbsent(bias)) p.bias = GetArrayOfLength<int32_t>(env, bias, "bias", g.in_c).data;
  const auto mult = GetArrayOfLength<float>(env, GetField(env, q, "q", "multipliers"), "q.multipliers", g.in_c);
  CallCore(env, [&] { ops::CheckScales(mult.data, g.in_c, "q.multipliers"); });
  p.multipliers = mult.data;
  p.dy_zero_point = ZeroPoint(env, q, "q", "dyZeroPoint", dy.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", dy.kind);
  GetBounds(env, q, "q", dy.kind, p.y_zero_point, &p.y_min, &p.y_max);
  const Arr y = GetAny(env, info[3], "y", kAllowI8 | kAllowU8);
  CheckSameKind(env, dy, y, "dy", "y");
  CheckLen(env, y, Prod({g.batch, g.in_h, g.in_w, g.in_c}), "y");
  CheckNoOverlap(env, dy, y, "dy", "y");
  if (dy.kind == Kind::kI8)
    ops::Conv2DTranspose(g, static_cast<const int8_t*>(dy.data), p, static_cast<int8_t*>(y.data));
  else
    ops::Conv2DTranspose(g, static_cast<const uint8_t*>(dy.data), p, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

// ---------------------------------------------------------------- pooling

ops::PoolQ GetPoolQ(Napi::Env env, const Napi::Value& q, Kind k) {
  ops::PoolQ p;
  p.x_scale = Scale(env, q, "q", "xScale");
  p.y_scale = Scale(env, q, "q", "yScale");
  p.x_zero_point = ZeroPoint(env, q, "q", "xZeroPoint", k);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", k);
  GetBounds(env, q, "q", k, p.y_zero_point, &p.y_min, &p.y_max);
  return p;
}

// pool(geom, x, y, {kind, q}): q absent for float32; for 'max' only q.yMin / q.yMax are read.
Napi::Value Pool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[3], "options");
  const std::string kind = GetString(env, o.Get("kind"), "kind");
  if (kind != "max" && kind != "avg") ThrowRangeError(env, "kind must be 'max' or 'avg', got '" + kind + "'");
  const ConvGeom g = GetGeom(env, info[0]);
  CallCore(env, [&] { ops::CheckPoolWindow(g); });
  const Arr x = GetAny(env, info[1], "x", kAllowI8 | kAllowU8 | kAllowF32);
  CheckLen(env, x, Prod({g.batch, g.in_h, g.in_w, g.in_c}), "x");
  const Arr y = GetAny(env, info[2], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, Prod({g.batch, g.out_h, g.out_w, g.in_c}), "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (x.kind == Kind::kF32) {
    if (kind == "max")
      ops::MaxPoolF32(g, static_cast<const float*>(x.data), static_cast<float*>(y.data));
    else
      ops::AvgPoolF32(g, static_cast<const float*>(x.data), static_cast<float*>(y.data));
    return env.Undefined();
  }
  const Napi::Value q = o.Get("q");
  if (kind == "max") {
    int32_t lo, hi;
    GetBounds(env, q, "q", x.kind, 0, &lo, &hi);
    if (x.kind == Kind::kI8)
      ops::MaxPool(g, static_cast<const int8_t*>(x.data), lo, hi, static_cast<int8_t*>(y.data));
    else
      ops::MaxPool(g, static_cast<const uint8_t*>(x.data), lo, hi, static_cast<uint8_t*>(y.data));
  } else {
    const ops::PoolQ p = GetPoolQ(env, q, x.kind);
    if (x.kind == Kind::kI8)
      ops::AvgPool(g, static_cast<const int8_t*>(x.data), p, static_cast<int8_t*>(y.data));
    else
      ops::AvgPool(g, static_cast<const uint8_t*>(x.data), p, static_cast<uint8_t*>(y.data));
  }
  return env.Undefined();
}

// mean(x, y, {batch, hw, channels, q}): q absent for float32.
Napi::Value Mean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[2], "options");
  const int64_t b = GetInt(env, o.Get("batch"), "batch", 1, kI32Max);
  const int64_t hw = GetInt(env, o.Get("hw"), "hw", 1, int64_t(1) << 23);
  const int64_t c = GetInt(env, o.Get("channels"), "channels", 1, kI32Max);
  const Arr x = GetAny(env, info[0], "x", kAllowI8 | kAllowU8 | kAllowF32);
  if (b * hw * c > (int64_t(1) << 40)) ThrowRangeError(env, "x is too large");
  CheckLen(env, x, b * hw * c, "x");
  const Arr y = GetAny(env, info[1], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, b * c, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (x.kind == Kind::kF32) {
    ops::MeanF32(b, hw, c, static_cast<const float*>(x.data), static_cast<float*>(y.data));
    return env.Undefined();
  }
  const ops::PoolQ p = GetPoolQ(env, o.Get("q"), x.kind);
  if (x.kind == Kind::kI8)
    ops::Mean(b, hw, c, static_cast<const int8_t*>(x.data), p, static_cast<int8_t*>(y.data));
  else
    ops::Mean(b, hw, c, static_cast<const uint8_t*>(x.data), p, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

// A dimension named `name` of the options object, in [lo, 2^31 − 1].
int64_t Dim(Napi::Env env, const Napi::Object& o, const char* name, int64_t lo) {
  return GetInt(env, o.Get(name), name, lo, kI32Max);
}

// argMax(x, y, {outer, n, inner}): float32 x [outer, n, inner] → int32 y [outer, inner].
Napi::Value ArgMax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[2], "options");
  const int64_t outer = Dim(env, o, "outer", 1), n = Dim(env, o, "n", 1), inner = Dim(env, o, "inner", 1);
  if (outer * inner > (int64_t(1) << 40) || outer * n * inner > (int64_t(1) << 40))
    ThrowRangeError(env, "x is too large");
  const auto x = GetArrayOfLength<float>(env, info[0], "x", static_cast<size_t>(outer * n * inner));
  const auto y = GetArrayOfLength<int32_t>(env, info[1], "y", static_cast<size_t>(outer * inner));
  CheckNoOverlap(env, x, y, "x", "y");
  ops::ArgMaxF32(outer, n, inner, x.data, y.data);
  return env.Undefined();
}

// topK(x, values, indices, {rows, n, k}): float32 x [rows, n] → values [rows, k], int32 indices [rows, k].
Napi::Value TopK(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[3], "options");
  const int64_t rows = Dim(env, o, "rows", 0), n = Dim(env, o, "n", 0), k = Dim(env, o, "k", 0);
  if (k > n) ThrowRangeError(env, "k (" + std::to_string(k) + ") must be at most n (" + std::to_string(n) + ")");
  if (rows * n > (int64_t(1) << 40)) ThrowRangeError(env, "x is too large");
  const auto x = GetArrayOfLength<float>(env, info[0], "x", static_cast<size_t>(rows * n));
  const auto values = GetArrayOfLength<float>(env, info[1], "values", static_cast<size_t>(rows * k));
  const auto indices = GetArrayOfLength<int32_t>(env, info[2], "indices", static_cast<size_t>(rows * k));
  CheckNoOverlap(env, x, values, "x", "values");
  CheckNoOverlap(env, x, indices, "x", "indices");
  CheckNoOverlap(env, values, indices, "values", "indices");
  ops::TopKF32(rows, n, k, x.data, values.data, indices.data);
  return env.Undefined();
}

}  // namespace

void InitOps(Napi::Env env, Napi::Object exports) {
  exports.Set("opsConvGeometry", Napi::Function::New(env, ConvGeometry, "opsConvGeometry"));
  exports.Set("opsIm2col", Napi::Function::New(env, Im2col, "opsIm2col"));
  exports.Set("opsDepthwiseConv2d", Napi::Function::New(env, Depthwise, "opsDepthwiseConv2d"));
  exports.Set("opsDepthwiseConv2dF32", Napi::Function::New(env, DepthwiseF32, "opsDepthwiseConv2dF32"));
  exports.Set("opsConv2dTranspose", Napi::Function::New(env, ConvTranspose, "opsConv2dTranspose"));
  exports.Set("opsPool", Napi::Function::New(env, Pool, "opsPool"));
  exports.Set("opsMean", Napi::Function::New(env, Mean, "opsMean"));
  exports.Set("opsArgMax", Napi::Function::New(env, ArgMax, "opsArgMax"));
  exports.Set("opsTopK", Napi::Function::New(env, TopK, "opsTopK"));
  InitOpsElementwise(env, exports);
  InitOpsMovement(env, exports);
}

}  // namespace binding
}  // namespace tfjq
