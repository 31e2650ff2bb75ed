// N-API surface of the elementwise operators of native/ops (binding.d.ts, ops section): binary
// ops, activations and tables, PReLU, bias, softmax. Checked as ops_binding.cc says.
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

ops::BinaryOp GetBinaryOp(Napi::Env env, const Napi::Value& v) {
  const std::string s = GetString(env, v, "op");
  if (s == "add") return ops::BinaryOp::kAdd;
  if (s == "sub") return ops::BinaryOp::kSub;
  if (s == "mul") return ops::BinaryOp::kMul;
  if (s == "maximum") return ops::BinaryOp::kMaximum;
  if (s == "minimum") return ops::BinaryOp::kMinimum;
  if (s == "div") return ops::BinaryOp::kDiv;
  if (s == "squaredDifference") return ops::BinaryOp::kSquaredDifference;
  ThrowRangeError(
      env, "op must be one of 'add', 'sub', 'mul', 'maximum', 'minimum', 'div', 'squaredDifference', got '" + s + "'");
}

// binary(a, b, y, {op, aShape, bShape, q}): q = {aScale, aZeroPoint, bScale, bZeroPoint, yScale, yZeroPoint, yMin,
// yMax} for 8-bit data; for float32 q = {yMin, yMax} (±Infinity allowed) or absent.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[3], "options");
  const ops::BinaryOp op = GetBinaryOp(env, o.Get("op"));
  const Shape as = GetShape(env, o.Get("aShape"), "aShape"), bs = GetShape(env, o.Get("bShape"), "bShape");
  const Arr a = GetAny(env, info[0], "a", kAllowI8 | kAllowU8 | kAllowF32);
  const Arr b = GetAny(env, info[1], "b", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, a, b, "a", "b");
  CheckLen(env, a, ops::ShapeSize(as), "a");
  CheckLen(env, b, ops::ShapeSize(bs), "b");
  const Shape os = CallCore(env, [&] { return ops::BroadcastShape(as, bs); });
  const Arr y = GetAny(env, info[2], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, a, y, "a", "y");
  CheckLen(env, y, ops::ShapeSize(os), "y");
  CheckNoOverlap(env, a, y, "a", "y");
  CheckNoOverlap(env, b, y, "b", "y");
  const Napi::Value q = o.Get("q");
  if (a.kind == Kind::kF32) {
    float lo = -INFINITY, hi = INFINITY;
    if (!IsAbsent(q)) {
      lo = GetBound(env, GetField(env, q, "q", "yMin"), "q.yMin");
      hi = GetBound(env, GetField(env, q, "q", "yMax"), "q.yMax");
      CallCore(env, [&] { ops::CheckFloatBounds(lo, hi, "q.yMin", "q.yMax"); });
    }
    CallCore(env, [&] {
      ops::BinaryF32(op, as, static_cast<const float*>(a.data), bs, static_cast<const float*>(b.data), lo, hi,
                     static_cast<float*>(y.data));
    });
    return env.Undefined();
  }
  ops::BinaryQ p;
  p.a_scale = Scale(env, q, "q", "aScale");
  p.b_scale = Scale(env, q, "q", "bScale");
  p.y_scale = Scale(env, q, "q", "yScale");
  p.a_zero_point = ZeroPoint(env, q, "q", "aZeroPoint", a.kind);
  p.b_zero_point = ZeroPoint(env, q, "q", "bZeroPoint", a.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", a.kind);
  GetBounds(env, q, "q", a.kind, p.y_zero_point, &p.y_min, &p.y_max);
  CallCore(env, [&] {
    if (a.kind == Kind::kI8) {
      ops::BinaryQuant(op, as, static_cast<const int8_t*>(a.data), bs, static_cast<const int8_t*>(b.data), p,
                       static_cast<int8_t*>(y.data));
    } else {
      ops::BinaryQuant(op, as, static_cast<const uint8_t*>(a.data), bs, static_cast<const uint8_t*>(b.data), p,
                       static_cast<uint8_t*>(y.data));
    }
  });
  return env.Undefined();
}

// activation(x, y, {activation, alpha}) float32
Napi::Value ActivationJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[2], "options");
  const Activation act = GetActivation(env, o.Get("activation"), "activation");
  const float alpha = static_cast<float>(GetFiniteNumber(env, o.Get("alpha"), "alpha"));
  const auto x = GetArray<float>(env, info[0], "x");
  const auto y = GetArrayOfLength<float>(env, info[1], "y", x.length);
  CheckNoOverlap(env, x.data, x.length * 4, y.data, y.length * 4, "x", "y");
  CallCore(env, [&] { ops::ActivationF32(act, alpha, x.data, static_cast<int64_t>(x.length), y.data); });
  return env.Undefined();
}

// prelu(x, alpha, y, {q}): alpha Float32Array (channels = its length, the last dimension); q absent for float32.
Napi::Value Prelu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowI8 | kAllowU8 | kAllowF32);
  const auto alpha = GetArray<float>(env, info[1], "alpha");
  if (alpha.length == 0) ThrowRangeError(env, "alpha must not be empty");
  CallCore(env, [&] { ops::CheckFinite(alpha.data, static_cast<int64_t>(alpha.length), "alpha"); });
  if (x.length % alpha.length)
    ThrowRangeError(env, "x has " + std::to_string(x.length) + " elements, not a multiple of alpha's " +
                             std::to_string(alpha.length) + " channels");
  const Arr y = GetAny(env, info[2], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  const Napi::Object o = GetOptions(env, info[3], "options");
  const int64_t n = x.length, C = alpha.length;
  if (x.kind == Kind::kF32) {
    ops::PreluF32(static_cast<const float*>(x.data), n, C, alpha.data, static_cast<float*>(y.data));
    return env.Undefined();
  }
  const Napi::Value q = o.Get("q");
  ops::PreluQ p;
  p.x_scale = Scale(env, q, "q", "xScale");
  p.y_scale = Scale(env, q, "q", "yScale");
  p.x_zero_point = ZeroPoint(env, q, "q", "xZeroPoint", x.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", x.kind);
  GetBounds(env, q, "q", x.kind, p.y_zero_point, &p.y_min, &p.y_max);
  if (x.kind == Kind::kI8)
    ops::Prelu(static_cast<const int8_t*>(x.data), n, C, alpha.data, p, static_cast<int8_t*>(y.data));
  else
    ops::Prelu(static_cast<const uint8_t*>(x.data), n, C, alpha.data, p, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

// biasAdd(x, bias, y, {yMin, yMax}) float32
Napi::Value BiasAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto x = GetArray<float>(env, info[0], "x");
  const auto bias = GetArray<float>(env, info[1], "bias");
  if (bias.length == 0) ThrowRangeError(env, "bias must not be empty");
  if (x.length % bias.length)
    ThrowRangeError(env, "x has " + std::to_string(x.length) + " elements, not a multiple of bias's " +
                             std::to_string(bias.length) + " channels");
  const Napi::Object o = GetOptions(env, info[3], "options");
  const float lo = GetBound(env, o.Get("yMin"), "yMin"), hi = GetBound(env, o.Get("yMax"), "yMax");
  CallCore(env, [&] { ops::CheckFloatBounds(lo, hi, "yMin", "yMax"); });
  const auto y = GetArrayOfLength<float>(env, info[2], "y", x.length);
  CheckNoOverlap(env, x.data, x.length * 4, y.data, y.length * 4, "x", "y");
  ops::BiasAddF32(x.data, x.length, bias.length, bias.data, lo, hi, y.data);
  return env.Undefined();
}

bool GetSigned(Napi::Env env, const Napi::Value& v, const char* name) {
  const std::string s = GetString(env, v, name);
  if (s == "int8") return true;
  if (s == "uint8") return false;
  ThrowRangeError(env, std::string(name) + " must be 'int8' or 'uint8', got '" + s + "'");
}

// buildLut({activation, alpha, xType, xScale, xZeroPoint, yType, yScale, yZeroPoint, yMin, yMax}): Uint8Array(256)
Napi::Value BuildLut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[0], "options");
  const Activation act = GetActivation(env, o.Get("activation"), "activation");
  const float alpha = static_cast<float>(GetFiniteNumber(env, o.Get("alpha"), "alpha"));
  const bool xs = GetSigned(env, o.Get("xType"), "xType");
  const float sx = PosScale(env, o.Get("xScale"), "xScale");
  const int64_t zx = GetInt(env, o.Get("xZeroPoint"), "xZeroPoint", INT32_MIN, INT32_MAX);
  const bool ys = GetSigned(env, o.Get("yType"), "yType");
  const float sy = PosScale(env, o.Get("yScale"), "yScale");
  const int64_t zy = GetInt(env, o.Get("yZeroPoint"), "yZeroPoint", INT32_MIN, INT32_MAX);
  const int64_t lo = GetInt(env, o.Get("yMin"), "yMin", INT32_MIN, INT32_MAX);
  const int64_t hi = GetInt(env, o.Get("yMax"), "yMax", INT32_MIN, INT32_MAX);
  Napi::Uint8Array out = Napi::Uint8Array::New(env, 256);
  CallCore(env, [&] {
    ops::CheckZeroPoint(zx, xs, "xZeroPoint");
    ops::CheckZeroPoint(zy, ys, "yZeroPoint");
    ops::CheckBounds(lo, hi, ys, "");
    ops::BuildLut(act, alpha, xs, sx, static_cast<int32_t>(zx), ys, sy, static_cast<int32_t>(zy),
                  static_cast<int32_t>(lo), static_cast<int32_t>(hi), out.Data());
  });
  return out;
}

// applyLut(table, x, y): 8-bit in and out, any signedness.
Napi::Value ApplyLut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto t = GetArrayOfLength<uint8_t>(env, info[0], "table", 256);
  const Arr x = GetAny(env, info[1], "x", kAllowI8 | kAllowU8);
  const Arr y = GetAny(env, info[2], "y", kAllowI8 | kAllowU8);
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, t.data, 256, y.data, y.length, "table", "y");
  // In place (x == y exactly) is fine: each byte is read before it is written.
  if (x.data != y.data) CheckNoOverlap(env, x, y, "x", "y");
  ops::ApplyLut(t.data, static_cast<const uint8_t*>(x.data), static_cast<int64_t>(x.length),
                static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

// softmaxTable({beta, xScale}): Uint32Array(256)
Napi::Value SoftmaxTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[0], "options");
  const float beta = PosScale(env, o.Get("beta"), "beta");
  const float sx = PosScale(env, o.Get("xScale"), "xScale");
  Napi::Uint32Array out = Napi::Uint32Array::New(env, 256);
  ops::SoftmaxTable(beta, sx, out.Data());
  return out;
}

// softmax(x, y, {rows, cols, beta, xScale}): 8-bit x → 8-bit y (scale 1/256; zp −128 int8, 0
// uint8), or float32 (xScale not read).
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowI8 | kAllowU8 | kAllowF32);
  const Napi::Object o = GetOptions(env, info[2], "options");
  const int64_t rows = GetInt(env, o.Get("rows"), "rows", 0, int64_t(1) << 40);
  const int64_t cols = GetInt(env, o.Get("cols"), "cols", 1, int64_t(1) << 32);
  CheckLen(env, x, rows * cols, "x");
  const float beta = PosScale(env, o.Get("beta"), "beta");
  const Arr y = GetAny(env, info[1], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (x.kind == Kind::kF32) {
    if (y.kind != Kind::kF32) ThrowTypeError(env, "y must be a Float32Array for float32 x");
    ops::SoftmaxF32(static_cast<const float*>(x.data), rows, cols, beta, static_cast<float*>(y.data));
    return env.Undefined();
  }
  if (y.kind == Kind::kF32) ThrowTypeError(env, "y must be an Int8Array or Uint8Array for 8-bit x");
  const float sx = PosScale(env, o.Get("xScale"), "xScale");
  if (x.kind == Kind::kI8 && y.kind == Kind::kI8)
    ops::SoftmaxQ(static_cast<const int8_t*>(x.data), rows, cols, sx, beta, static_cast<int8_t*>(y.data));
  else if (x.kind == Kind::kI8)
    ops::SoftmaxQ(static_cast<const int8_t*>(x.data), rows, cols, sx, beta, static_cast<uint8_t*>(y.data));
  else if (y.kind == Kind::kI8)
    ops::SoftmaxQ(static_cast<const uint8_t*>(x.data), rows, cols, sx, beta, static_cast<int8_t*>(y.data));
  else
    ops::SoftmaxQ(static_cast<const uint8_t*>(x.data), rows, cols, sx, beta, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

}  // namespace

void InitOpsElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("opsBinary", Napi::Function::New(env, Binary, "opsBinary"));
  exports.Set("opsActivation", Napi::Function::New(env, ActivationJs, "opsActivation"));
  exports.Set("opsPrelu", Napi::Function::New(env, Prelu, "opsPrelu"));
  exports.Set("opsBiasAdd", Napi::Function::New(env, BiasAdd, "opsBiasAdd"));
  exports.Set("opsBuildLut", Napi::Function::New(env, BuildLut, "opsBuildLut"));
  exports.Set("opsApplyLut", Napi::Function::New(env, ApplyLut, "opsApplyLut"));
  exports.Set("opsSoftmaxTable", Napi::Function::New(env, SoftmaxTable, "opsSoftmaxTable"));
  exports.Set("opsSoftmax", Napi::Function::New(env, Softmax, "opsSoftmax"));
}

}  // namespace binding
}  // namespace tfjq
