// N-API surface of native/ops (binding.d.ts, ops section). The TypeScript layer
// (src/kernels/ops.ts) validates first; everything is checked again here (types, lengths,
// ranges, overlap) so no input can crash the process. Outputs are caller-allocated.
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "binding/modules.h"
#include "binding/util.h"
#include "ops/ops.h"

namespace tfjq {
namespace binding {
namespace {

using ops::ConvGeom;
using ops::Shape;

constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();

// Runs f, turning core validation errors into RangeError.
template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    ThrowRangeError(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "out of memory");
  }
}

enum class Kind { kI8, kU8, kI32, kF32 };
constexpr unsigned kAllowI8 = 1, kAllowU8 = 2, kAllowI32 = 4, kAllowF32 = 8;

struct Arr {
  Kind kind;
  void* data;
  size_t length;
  size_t es;
  size_t bytes() const { return length * es; }
};

std::string Allowed(unsigned allow) {
  std::vector<std::string> v;
  if (allow & kAllowI8) v.push_back("Int8Array");
  if (allow & kAllowU8) v.push_back("Uint8Array");
  if (allow & kAllowI32) v.push_back("Int32Array");
  if (allow & kAllowF32) v.push_back("Float32Array");
  std::string s;
  for (size_t i = 0; i < v.size(); i++) s += (i ? (i + 1 == v.size() ? " or " : ", ") : "") + v[i];
  return s;
}

Arr GetAny(Napi::Env env, const Napi::Value& v, const char* name, unsigned allow) {
  if (!v.IsTypedArray()) ThrowTypeError(env, std::string(name) + " must be a " + Allowed(allow));
  const napi_typedarray_type t = v.As<Napi::TypedArray>().TypedArrayType();
  if (t == napi_int8_array && (allow & kAllowI8)) { auto a = GetArray<int8_t>(env, v, name); return {Kind::kI8, a.data, a.length, 1}; }
  if (t == napi_uint8_array && (allow & kAllowU8)) { auto a = GetArray<uint8_t>(env, v, name); return {Kind::kU8, a.data, a.length, 1}; }
  if (t == napi_int32_array && (allow & kAllowI32)) { auto a = GetArray<int32_t>(env, v, name); return {Kind::kI32, a.data, a.length, 4}; }
  if (t == napi_float32_array && (allow & kAllowF32)) { auto a = GetArray<float>(env, v, name); return {Kind::kF32, a.data, a.length, 4}; }
  ThrowTypeError(env, std::string(name) + " must be a " + Allowed(allow) + ", got " + TypedArrayTypeName(t));
}

void CheckLen(Napi::Env env, const Arr& a, int64_t n, const char* name) {
  if (static_cast<int64_t>(a.length) != n) {
    ThrowRangeError(env, std::string(name) + " has " + std::to_string(a.length) + " elements, expected " + std::to_string(n));
  }
}

void CheckSameKind(Napi::Env env, const Arr& x, const Arr& y, const char* xn, const char* yn) {
  if (x.kind != y.kind) ThrowTypeError(env, std::string(yn) + " must have the same element type as " + xn);
}

void CheckNoOverlap(Napi::Env env, const void* a, size_t an, const void* b, size_t bn, const char* aname, const char* bname) {
  const uint8_t* pa = static_cast<const uint8_t*>(a);
  const uint8_t* pb = static_cast<const uint8_t*>(b);
  if (an == 0 || bn == 0) return;
  if (pa < pb + bn && pb < pa + an) ThrowRangeError(env, std::string(bname) + " must not overlap " + aname);
}
void CheckNoOverlap(Napi::Env env, const Arr& a, const Arr& b, const char* an, const char* bn) {
  CheckNoOverlap(env, a.data, a.bytes(), b.data, b.bytes(), an, bn);
}

int32_t I32(Napi::Env env, const Napi::Value& obj, const char* objname, const char* key, int64_t lo, int64_t hi) {
  const std::string n = std::string(objname) + "." + key;
  return static_cast<int32_t>(GetInt(env, GetField(env, obj, objname, key), n.c_str(), lo, hi));
}

float PosScale(Napi::Env env, const Napi::Value& v, const std::string& name) {
  const double d = GetFiniteNumber(env, v, name.c_str());
  const float f = static_cast<float>(d);
  if (!(f > 0) || !std::isfinite(f)) ThrowRangeError(env, name + " must be a finite float32 > 0");
  return f;
}
float Scale(Napi::Env env, const Napi::Value& obj, const char* objname, const char* key) {
  return PosScale(env, GetField(env, obj, objname, key), std::string(objname) + "." + key);
}

Shape GetShape(Napi::Env env, const Napi::Value& v, const char* name, size_t max_rank = ops::kMaxRank) {
  if (!v.IsArray()) ThrowTypeError(env, std::string(name) + " must be an array of dimensions");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > max_rank) ThrowRangeError(env, std::string(name) + " has rank " + std::to_string(a.Length()) + ", at most " + std::to_string(max_rank) + " supported");
  Shape s(a.Length());
  int64_t total = 1;
  for (uint32_t i = 0; i < a.Length(); i++) {
    const std::string n = std::string(name) + "[" + std::to_string(i) + "]";
    s[i] = GetInt(env, a.Get(i), n.c_str(), 0, kI32Max);
    total *= s[i] == 0 ? 1 : s[i];
    if (total > (int64_t(1) << 40)) ThrowRangeError(env, std::string(name) + " is too large");
  }
  return s;
}

std::vector<int64_t> GetIntVec(Napi::Env env, const Napi::Value& v, const char* name, int64_t lo, int64_t hi) {
  if (!v.IsArray()) ThrowTypeError(env, std::string(name) + " must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > 64) ThrowRangeError(env, std::string(name) + " is too long");
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    const std::string n = std::string(name) + "[" + std::to_string(i) + "]";
    out[i] = GetInt(env, a.Get(i), n.c_str(), lo, hi);
  }
  return out;
}

// Output clamp bounds inside the type's range.
void GetBounds(Napi::Env env, const Napi::Value& q, const char* qn, Kind k, int32_t zp, int32_t* lo, int32_t* hi) {
  const int32_t tmin = k == Kind::kI8 ? -128 : 0, tmax = k == Kind::kI8 ? 127 : 255;
  *lo = I32(env, q, qn, "yMin", tmin, tmax);
  *hi = I32(env, q, qn, "yMax", tmin, tmax);
  if (*lo > *hi) ThrowRangeError(env, std::string(qn) + ".yMin must be <= yMax");
  (void)zp;
}

int32_t ZeroPoint(Napi::Env env, const Napi::Value& q, const char* qn, const char* key, Kind k) {
  return k == Kind::kI8 ? I32(env, q, qn, key, -128, 127) : I32(env, q, qn, key, 0, 255);
}

bool IsQ(Kind k) { return k == Kind::kI8 || k == Kind::kU8; }

// ---------------------------------------------------------------- geometry

ConvGeom ReadGeomFields(Napi::Env env, const Napi::Value& o, const char* name, bool pads) {
  ConvGeom g;
  g.batch = I32(env, o, name, "batch", 1, kI32Max);
  g.in_h = I32(env, o, name, "inHeight", 1, kI32Max);
  g.in_w = I32(env, o, name, "inWidth", 1, kI32Max);
  g.in_c = I32(env, o, name, "inChannels", 1, kI32Max);
  g.k_h = I32(env, o, name, "filterHeight", 1, kI32Max);
  g.k_w = I32(env, o, name, "filterWidth", 1, kI32Max);
  g.stride_h = I32(env, o, name, "strideHeight", 1, kI32Max);
  g.stride_w = I32(env, o, name, "strideWidth", 1, kI32Max);
  g.dilation_h = I32(env, o, name, "dilationHeight", 1, kI32Max);
  g.dilation_w = I32(env, o, name, "dilationWidth", 1, kI32Max);
  if (pads) {
    g.pad_top = I32(env, o, name, "padTop", 0, kI32Max);
    g.pad_bottom = I32(env, o, name, "padBottom", 0, kI32Max);
    g.pad_left = I32(env, o, name, "padLeft", 0, kI32Max);
    g.pad_right = I32(env, o, name, "padRight", 0, kI32Max);
  }
  return g;
}

Napi::Object GeomToJs(Napi::Env env, const ConvGeom& g) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("batch", g.batch); o.Set("inHeight", g.in_h); o.Set("inWidth", g.in_w); o.Set("inChannels", g.in_c);
  o.Set("filterHeight", g.k_h); o.Set("filterWidth", g.k_w);
  o.Set("strideHeight", g.stride_h); o.Set("strideWidth", g.stride_w);
  o.Set("dilationHeight", g.dilation_h); o.Set("dilationWidth", g.dilation_w);
  o.Set("padTop", g.pad_top); o.Set("padBottom", g.pad_bottom); o.Set("padLeft", g.pad_left); o.Set("padRight", g.pad_right);
  o.Set("outHeight", g.out_h); o.Set("outWidth", g.out_w);
  return o;
}

// A geometry with explicit pads, validated; out_* recomputed.
ConvGeom GetGeom(Napi::Env env, const Napi::Value& v) {
  ConvGeom g = ReadGeomFields(env, v, "geom", true);
  Guard(env, [&] { ops::CheckConvGeom(&g); });
  return g;
}

int64_t Prod(std::initializer_list<int64_t> l) {
  int64_t p = 1;
  for (int64_t v : l) p *= v;
  return p;
}

Napi::Value ConvGeometry(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Value spec = info[0];
  const std::string pad = GetString(env, GetField(env, spec, "spec", "padding"), "spec.padding");
  ops::Padding mode;
  if (pad == "same") mode = ops::Padding::kSame;
  else if (pad == "valid") mode = ops::Padding::kValid;
  else if (pad == "explicit") mode = ops::Padding::kExplicit;
  else ThrowRangeError(env, "spec.padding must be 'same', 'valid' or 'explicit', got '" + pad + "'");
  ConvGeom g = ReadGeomFields(env, spec, "spec", mode == ops::Padding::kExplicit);
  Guard(env, [&] { ops::MakeConvGeom(&g, mode); });
  return GeomToJs(env, g);
}

// ---------------------------------------------------------------- conv family

Napi::Value Im2col(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ConvGeom g = GetGeom(env, info[0]);
  const Arr x = GetAny(env, info[1], "x", kAllowI8 | kAllowU8 | kAllowF32);
  CheckLen(env, x, Prod({g.batch, g.in_h, g.in_w, g.in_c}), "x");
  const int64_t cols = Prod({g.k_h, g.k_w, g.in_c});
  const int64_t lda = GetInt(env, info[4], "lda", cols, int64_t(1) << 40);
  const Arr a = GetAny(env, info[3], "a", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, x, a, "x", "a");
  const int64_t rows = Prod({g.batch, g.out_h, g.out_w});
  if (rows * lda > (int64_t(1) << 40)) ThrowRangeError(env, "a is too large");
  CheckLen(env, a, rows * lda, "a");
  CheckNoOverlap(env, x, a, "x", "a");
  if (x.kind == Kind::kF32) {
    const float pv = static_cast<float>(GetFiniteNumber(env, info[2], "padValue"));
    ops::Im2Col(g, static_cast<const float*>(x.data), pv, static_cast<float*>(a.data), lda);
  } else if (x.kind == Kind::kI8) {
    const int32_t pv = static_cast<int32_t>(GetInt(env, info[2], "padValue", -128, 127));
    ops::Im2Col(g, static_cast<const int8_t*>(x.data), pv, static_cast<int8_t*>(a.data), lda);
  } else {
    const int32_t pv = static_cast<int32_t>(GetInt(env, info[2], "padValue", 0, 255));
    ops::Im2Col(g, static_cast<const uint8_t*>(x.data), pv, static_cast<uint8_t*>(a.data), lda);
  }
  return env.Undefined();
}

// depthwiseConv2d(geom, x, filter, bias, q, y): q = {multiplier, xZeroPoint, multipliers, yZeroPoint, yMin, yMax}
Napi::Value Depthwise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ConvGeom g = GetGeom(env, info[0]);
  const Arr x = GetAny(env, info[1], "x", kAllowI8 | kAllowU8);
  CheckLen(env, x, Prod({g.batch, g.in_h, g.in_w, g.in_c}), "x");
  const Napi::Value q = info[4];
  ops::DepthwiseQ p;
  p.multiplier = I32(env, q, "q", "multiplier", 1, 1 << 16);
  const int64_t oc = int64_t(g.in_c) * p.multiplier;
  const auto filter = GetArrayOfLength<int8_t>(env, info[2], "filter", static_cast<size_t>(Prod({g.k_h, g.k_w, oc})));
  p.filter = filter.data;
  if (!info[3].IsNull() && !info[3].IsUndefined()) p.bias = GetArrayOfLength<int32_t>(env, info[3], "bias", oc).data;
  const auto mult = GetArrayOfLength<float>(env, GetField(env, q, "q", "multipliers"), "q.multipliers", oc);
  for (int64_t c = 0; c < oc; c++) {
    if (!(mult.data[c] > 0) || !std::isfinite(mult.data[c])) ThrowRangeError(env, "q.multipliers[" + std::to_string(c) + "] must be a finite float32 > 0");
  }
  p.multipliers = mult.data;
  p.x_zero_point = ZeroPoint(env, q, "q", "xZeroPoint", x.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", x.kind);
  GetBounds(env, q, "q", x.kind, p.y_zero_point, &p.y_min, &p.y_max);
  const Arr y = GetAny(env, info[5], "y", kAllowI8 | kAllowU8);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, Prod({g.batch, g.out_h, g.out_w, oc}), "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (x.kind == Kind::kI8) ops::DepthwiseConv2D(g, static_cast<const int8_t*>(x.data), p, static_cast<int8_t*>(y.data));
  else ops::DepthwiseConv2D(g, static_cast<const uint8_t*>(x.data), p, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

float GetBound(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) ThrowTypeError(env, std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != d) ThrowRangeError(env, std::string(name) + " must not be NaN");
  return static_cast<float>(d);
}

// depthwiseConv2dF32(geom, multiplier, x, filter, bias, yMin, yMax, y)
Napi::Value DepthwiseF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ConvGeom g = GetGeom(env, info[0]);
  const int32_t m = static_cast<int32_t>(GetInt(env, info[1], "multiplier", 1, 1 << 16));
  const int64_t oc = int64_t(g.in_c) * m;
  const auto x = GetArrayOfLength<float>(env, info[2], "x", Prod({g.batch, g.in_h, g.in_w, g.in_c}));
  const auto f = GetArrayOfLength<float>(env, info[3], "filter", Prod({g.k_h, g.k_w, oc}));
  const float* bias = nullptr;
  if (!info[4].IsNull() && !info[4].IsUndefined()) bias = GetArrayOfLength<float>(env, info[4], "bias", oc).data;
  const float lo = GetBound(env, info[5], "yMin"), hi = GetBound(env, info[6], "yMax");
  if (lo > hi) ThrowRangeError(env, "yMin must be <= yMax");
  const auto y = GetArrayOfLength<float>(env, info[7], "y", Prod({g.batch, g.out_h, g.out_w, oc}));
  CheckNoOverlap(env, x.data, x.length * 4, y.data, y.length * 4, "x", "y");
  ops::DepthwiseConv2DF32(g, m, x.data, f.data, bias, lo, hi, y.data);
  return env.Undefined();
}

// conv2dTranspose(geom, dy, filter, bias, q, y): q = {dyChannels, dyZeroPoint, multipliers, yZeroPoint, yMin, yMax}
Napi::Value ConvTranspose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ConvGeom g = GetGeom(env, info[0]);
  const Napi::Value q = info[4];
  ops::ConvTransposeQ p;
  p.dy_channels = I32(env, q, "q", "dyChannels", 1, 1 << 20);
  const Arr dy = GetAny(env, info[1], "dy", kAllowI8 | kAllowU8);
  CheckLen(env, dy, Prod({g.batch, g.out_h, g.out_w, p.dy_channels}), "dy");
  const auto filter = GetArrayOfLength<int8_t>(env, info[2], "filter", Prod({g.k_h, g.k_w, g.in_c, p.dy_channels}));
  p.filter = filter.data;
  if (!info[3].IsNull() && !info[3].IsUndefined()) p.bias = GetArrayOfLength<int32_t>(env, info[3], "bias", g.in_c).data;
  const auto mult = GetArrayOfLength<float>(env, GetField(env, q, "q", "multipliers"), "q.multipliers", g.in_c);
  for (int64_t c = 0; c < g.in_c; c++) {
    if (!(mult.data[c] > 0) || !std::isfinite(mult.data[c])) ThrowRangeError(env, "q.multipliers[" + std::to_string(c) + "] must be a finite float32 > 0");
  }
  p.multipliers = mult.data;
  p.dy_zero_point = ZeroPoint(env, q, "q", "dyZeroPoint", dy.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", dy.kind);
  GetBounds(env, q, "q", dy.kind, p.y_zero_point, &p.y_min, &p.y_max);
  const Arr y = GetAny(env, info[5], "y", kAllowI8 | kAllowU8);
  CheckSameKind(env, dy, y, "dy", "y");
  CheckLen(env, y, Prod({g.batch, g.in_h, g.in_w, g.in_c}), "y");
  CheckNoOverlap(env, dy, y, "dy", "y");
  if (dy.kind == Kind::kI8) ops::Conv2DTranspose(g, static_cast<const int8_t*>(dy.data), p, static_cast<int8_t*>(y.data));
  else ops::Conv2DTranspose(g, static_cast<const uint8_t*>(dy.data), p, static_cast<uint8_t*>(y.data));
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

// pool(kind, geom, x, q, y): q null for float32; for 'max' only q.yMin / q.yMax are read.
Napi::Value Pool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string kind = GetString(env, info[0], "kind");
  if (kind != "max" && kind != "avg") ThrowRangeError(env, "kind must be 'max' or 'avg', got '" + kind + "'");
  const ConvGeom g = GetGeom(env, info[1]);
  if (g.pad_top >= (g.k_h - 1) * g.dilation_h + 1 || g.pad_bottom >= (g.k_h - 1) * g.dilation_h + 1 ||
      g.pad_left >= (g.k_w - 1) * g.dilation_w + 1 || g.pad_right >= (g.k_w - 1) * g.dilation_w + 1) {
    ThrowRangeError(env, "pooling pads must be smaller than the window");
  }
  if (int64_t(g.k_h) * g.k_w > (int64_t(1) << 23)) ThrowRangeError(env, "pooling window is too large (at most 2^23 elements)");
  const Arr x = GetAny(env, info[2], "x", kAllowI8 | kAllowU8 | kAllowF32);
  CheckLen(env, x, Prod({g.batch, g.in_h, g.in_w, g.in_c}), "x");
  const Arr y = GetAny(env, info[4], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, Prod({g.batch, g.out_h, g.out_w, g.in_c}), "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (x.kind == Kind::kF32) {
    if (kind == "max") ops::MaxPoolF32(g, static_cast<const float*>(x.data), static_cast<float*>(y.data));
    else ops::AvgPoolF32(g, static_cast<const float*>(x.data), static_cast<float*>(y.data));
    return env.Undefined();
  }
  const Napi::Value q = info[3];
  if (kind == "max") {
    int32_t lo, hi;
    GetBounds(env, q, "q", x.kind, 0, &lo, &hi);
    if (x.kind == Kind::kI8) ops::MaxPool(g, static_cast<const int8_t*>(x.data), lo, hi, static_cast<int8_t*>(y.data));
    else ops::MaxPool(g, static_cast<const uint8_t*>(x.data), lo, hi, static_cast<uint8_t*>(y.data));
  } else {
    const ops::PoolQ p = GetPoolQ(env, q, x.kind);
    if (x.kind == Kind::kI8) ops::AvgPool(g, static_cast<const int8_t*>(x.data), p, static_cast<int8_t*>(y.data));
    else ops::AvgPool(g, static_cast<const uint8_t*>(x.data), p, static_cast<uint8_t*>(y.data));
  }
  return env.Undefined();
}

// mean(batch, hw, channels, x, q, y)
Napi::Value Mean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t b = GetInt(env, info[0], "batch", 1, kI32Max);
  const int64_t hw = GetInt(env, info[1], "hw", 1, int64_t(1) << 23);
  const int64_t c = GetInt(env, info[2], "channels", 1, kI32Max);
  const Arr x = GetAny(env, info[3], "x", kAllowI8 | kAllowU8 | kAllowF32);
  if (b * hw * c > (int64_t(1) << 40)) ThrowRangeError(env, "x is too large");
  CheckLen(env, x, b * hw * c, "x");
  const Arr y = GetAny(env, info[5], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, b * c, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (x.kind == Kind::kF32) {
    ops::MeanF32(b, hw, c, static_cast<const float*>(x.data), static_cast<float*>(y.data));
    return env.Undefined();
  }
  const ops::PoolQ p = GetPoolQ(env, info[4], x.kind);
  if (x.kind == Kind::kI8) ops::Mean(b, hw, c, static_cast<const int8_t*>(x.data), p, static_cast<int8_t*>(y.data));
  else ops::Mean(b, hw, c, static_cast<const uint8_t*>(x.data), p, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

// ---------------------------------------------------------------- elementwise

ops::BinaryOp GetBinaryOp(Napi::Env env, const Napi::Value& v) {
  const std::string s = GetString(env, v, "op");
  if (s == "add") return ops::BinaryOp::kAdd;
  if (s == "sub") return ops::BinaryOp::kSub;
  if (s == "mul") return ops::BinaryOp::kMul;
  if (s == "maximum") return ops::BinaryOp::kMaximum;
  if (s == "minimum") return ops::BinaryOp::kMinimum;
  if (s == "div") return ops::BinaryOp::kDiv;
  if (s == "squaredDifference") return ops::BinaryOp::kSquaredDifference;
  ThrowRangeError(env, "op must be one of 'add', 'sub', 'mul', 'maximum', 'minimum', 'div', 'squaredDifference', got '" + s + "'");
}

// binary(op, aShape, a, bShape, b, q, y): q = {aScale, aZeroPoint, bScale, bZeroPoint, yScale, yZeroPoint, yMin, yMax}
// for 8-bit data; for float32 q = {yMin, yMax} (±Infinity allowed) or null.
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ops::BinaryOp op = GetBinaryOp(env, info[0]);
  const Shape as = GetShape(env, info[1], "aShape"), bs = GetShape(env, info[3], "bShape");
  const Arr a = GetAny(env, info[2], "a", kAllowI8 | kAllowU8 | kAllowF32);
  const Arr b = GetAny(env, info[4], "b", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, a, b, "a", "b");
  CheckLen(env, a, ops::ShapeSize(as), "a");
  CheckLen(env, b, ops::ShapeSize(bs), "b");
  const Shape os = Guard(env, [&] { return ops::BroadcastShape(as, bs); });
  const Arr y = GetAny(env, info[6], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, a, y, "a", "y");
  CheckLen(env, y, ops::ShapeSize(os), "y");
  CheckNoOverlap(env, a, y, "a", "y");
  CheckNoOverlap(env, b, y, "b", "y");
  const Napi::Value q = info[5];
  if (a.kind == Kind::kF32) {
    float lo = -INFINITY, hi = INFINITY;
    if (!q.IsNull() && !q.IsUndefined()) {
      lo = GetBound(env, GetField(env, q, "q", "yMin"), "q.yMin");
      hi = GetBound(env, GetField(env, q, "q", "yMax"), "q.yMax");
      if (lo > hi) ThrowRangeError(env, "q.yMin must be <= q.yMax");
    }
    Guard(env, [&] {
      ops::BinaryF32(op, as, static_cast<const float*>(a.data), bs, static_cast<const float*>(b.data), lo, hi,
                     static_cast<float*>(y.data));
    });
    return env.Undefined();
  }
  if (op == ops::BinaryOp::kDiv || op == ops::BinaryOp::kSquaredDifference) {
    ThrowRangeError(env, "op must be 'add', 'sub', 'mul', 'maximum' or 'minimum' for 8-bit data");
  }
  ops::BinaryQ p;
  p.a_scale = Scale(env, q, "q", "aScale");
  p.b_scale = Scale(env, q, "q", "bScale");
  p.y_scale = Scale(env, q, "q", "yScale");
  p.a_zero_point = ZeroPoint(env, q, "q", "aZeroPoint", a.kind);
  p.b_zero_point = ZeroPoint(env, q, "q", "bZeroPoint", a.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", a.kind);
  GetBounds(env, q, "q", a.kind, p.y_zero_point, &p.y_min, &p.y_max);
  Guard(env, [&] {
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

ops::Act GetAct(Napi::Env env, const Napi::Value& v) {
  const std::string s = GetString(env, v, "activation");
  static const char* names[] = {"linear", "relu", "relu6", "leakyRelu", "elu", "sigmoid", "tanh", "hardSwish", "swish", "hardSigmoid"};
  for (int i = 0; i < 10; i++) if (s == names[i]) return static_cast<ops::Act>(i);
  ThrowRangeError(env, "activation must be one of 'linear', 'relu', 'relu6', 'leakyRelu', 'elu', 'sigmoid', 'tanh', 'hardSwish', 'swish', 'hardSigmoid', got '" + s + "'");
}

// activation(kind, alpha, x, y) float32
Napi::Value Activation(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ops::Act act = GetAct(env, info[0]);
  const float alpha = static_cast<float>(GetFiniteNumber(env, info[1], "alpha"));
  const auto x = GetArray<float>(env, info[2], "x");
  const auto y = GetArrayOfLength<float>(env, info[3], "y", x.length);
  CheckNoOverlap(env, x.data, x.length * 4, y.data, y.length * 4, "x", "y");
  ops::ActivationF32(act, alpha, x.data, static_cast<int64_t>(x.length), y.data);
  return env.Undefined();
}

// prelu(x, alpha, q, y): alpha Float32Array (channels = its length, the last dimension).
Napi::Value Prelu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowI8 | kAllowU8 | kAllowF32);
  const auto alpha = GetArray<float>(env, info[1], "alpha");
  if (alpha.length == 0) ThrowRangeError(env, "alpha must not be empty");
  for (size_t i = 0; i < alpha.length; i++) if (!std::isfinite(alpha.data[i])) ThrowRangeError(env, "alpha[" + std::to_string(i) + "] must be finite");
  if (x.length % alpha.length) ThrowRangeError(env, "x has " + std::to_string(x.length) + " elements, not a multiple of alpha's " + std::to_string(alpha.length) + " channels");
  const Arr y = GetAny(env, info[3], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  const int64_t n = x.length, C = alpha.length;
  if (x.kind == Kind::kF32) {
    ops::PreluF32(static_cast<const float*>(x.data), n, C, alpha.data, static_cast<float*>(y.data));
    return env.Undefined();
  }
  const Napi::Value q = info[2];
  ops::PreluQ p;
  p.x_scale = Scale(env, q, "q", "xScale");
  p.y_scale = Scale(env, q, "q", "yScale");
  p.x_zero_point = ZeroPoint(env, q, "q", "xZeroPoint", x.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", x.kind);
  GetBounds(env, q, "q", x.kind, p.y_zero_point, &p.y_min, &p.y_max);
  if (x.kind == Kind::kI8) ops::Prelu(static_cast<const int8_t*>(x.data), n, C, alpha.data, p, static_cast<int8_t*>(y.data));
  else ops::Prelu(static_cast<const uint8_t*>(x.data), n, C, alpha.data, p, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

// biasAdd(x, bias, yMin, yMax, y) float32
Napi::Value BiasAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto x = GetArray<float>(env, info[0], "x");
  const auto bias = GetArray<float>(env, info[1], "bias");
  if (bias.length == 0) ThrowRangeError(env, "bias must not be empty");
  if (x.length % bias.length) ThrowRangeError(env, "x has " + std::to_string(x.length) + " elements, not a multiple of bias's " + std::to_string(bias.length) + " channels");
  const float lo = GetBound(env, info[2], "yMin"), hi = GetBound(env, info[3], "yMax");
  if (lo > hi) ThrowRangeError(env, "yMin must be <= yMax");
  const auto y = GetArrayOfLength<float>(env, info[4], "y", x.length);
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

// buildLut(activation, alpha, xType, xScale, xZeroPoint, yType, yScale, yZeroPoint, yMin, yMax): Uint8Array(256)
Napi::Value BuildLut(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ops::Act act = GetAct(env, info[0]);
  const float alpha = static_cast<float>(GetFiniteNumber(env, info[1], "alpha"));
  const bool xs = GetSigned(env, info[2], "xType");
  const float sx = PosScale(env, info[3], "xScale");
  const int32_t zx = static_cast<int32_t>(GetInt(env, info[4], "xZeroPoint", xs ? -128 : 0, xs ? 127 : 255));
  const bool ys = GetSigned(env, info[5], "yType");
  const float sy = PosScale(env, info[6], "yScale");
  const int32_t zy = static_cast<int32_t>(GetInt(env, info[7], "yZeroPoint", ys ? -128 : 0, ys ? 127 : 255));
  const int32_t lo = static_cast<int32_t>(GetInt(env, info[8], "yMin", ys ? -128 : 0, ys ? 127 : 255));
  const int32_t hi = static_cast<int32_t>(GetInt(env, info[9], "yMax", ys ? -128 : 0, ys ? 127 : 255));
  if (lo > hi) ThrowRangeError(env, "yMin must be <= yMax");
  Napi::Uint8Array out = Napi::Uint8Array::New(env, 256);
  ops::BuildLut(act, alpha, xs, sx, zx, ys, sy, zy, lo, hi, out.Data());
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
  ops::ApplyLut(t.data, static_cast<const uint8_t*>(x.data), static_cast<int64_t>(x.length), static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

Napi::Value SoftmaxTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const float beta = PosScale(env, info[0], "beta");
  const float sx = PosScale(env, info[1], "xScale");
  Napi::Uint32Array out = Napi::Uint32Array::New(env, 256);
  ops::SoftmaxTable(beta, sx, out.Data());
  return out;
}

// softmax(x, rows, cols, beta, xScale, y): 8-bit x → 8-bit y (scale 1/256; zp −128 int8, 0 uint8), or float32.
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowI8 | kAllowU8 | kAllowF32);
  const int64_t rows = GetInt(env, info[1], "rows", 0, int64_t(1) << 40);
  const int64_t cols = GetInt(env, info[2], "cols", 1, int64_t(1) << 32);
  CheckLen(env, x, rows * cols, "x");
  const float beta = PosScale(env, info[3], "beta");
  const Arr y = GetAny(env, info[5], "y", kAllowI8 | kAllowU8 | kAllowF32);
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  if (x.kind == Kind::kF32) {
    if (y.kind != Kind::kF32) ThrowTypeError(env, "y must be a Float32Array for float32 x");
    ops::SoftmaxF32(static_cast<const float*>(x.data), rows, cols, beta, static_cast<float*>(y.data));
    return env.Undefined();
  }
  if (y.kind == Kind::kF32) ThrowTypeError(env, "y must be an Int8Array or Uint8Array for 8-bit x");
  const float sx = PosScale(env, info[4], "xScale");
  if (x.kind == Kind::kI8 && y.kind == Kind::kI8) ops::SoftmaxQ(static_cast<const int8_t*>(x.data), rows, cols, sx, beta, static_cast<int8_t*>(y.data));
  else if (x.kind == Kind::kI8) ops::SoftmaxQ(static_cast<const int8_t*>(x.data), rows, cols, sx, beta, static_cast<uint8_t*>(y.data));
  else if (y.kind == Kind::kI8) ops::SoftmaxQ(static_cast<const uint8_t*>(x.data), rows, cols, sx, beta, static_cast<int8_t*>(y.data));
  else ops::SoftmaxQ(static_cast<const uint8_t*>(x.data), rows, cols, sx, beta, static_cast<uint8_t*>(y.data));
  return env.Undefined();
}

// ---------------------------------------------------------------- data movement

constexpr unsigned kAllowAll = kAllowI8 | kAllowU8 | kAllowI32 | kAllowF32;

// concat(inputs, shapes, axis, q, y): q null (raw copy) or {scales, zeroPoints, yScale, yZeroPoint, yMin, yMax}.
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) ThrowTypeError(env, "inputs must be an array of typed arrays");
  if (!info[1].IsArray()) ThrowTypeError(env, "shapes must be an array of shapes");
  Napi::Array ins = info[0].As<Napi::Array>(), shs = info[1].As<Napi::Array>();
  if (ins.Length() == 0) ThrowRangeError(env, "inputs must not be empty");
  if (ins.Length() != shs.Length()) ThrowRangeError(env, "shapes must have one entry per input");
  if (ins.Length() > 4096) ThrowRangeError(env, "too many inputs");
  const Arr y = GetAny(env, info[4], "y", kAllowAll);
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
  int64_t axis = GetInt(env, info[2], "axis", -rank, rank - 1);
  if (axis < 0) axis += rank;
  const Shape out = Guard(env, [&] { return ops::ConcatShape(shapes, static_cast<int>(axis)); });
  CheckLen(env, y, ops::ShapeSize(out), "y");
  const Napi::Value q = info[3];
  if (q.IsNull() || q.IsUndefined()) {
    ops::Concat(y.es, ptrs, shapes, static_cast<int>(axis), y.data);
    return env.Undefined();
  }
  if (!IsQ(y.kind)) ThrowTypeError(env, "q is only for Int8Array / Uint8Array data");
  ops::ConcatQ p;
  const auto sc = GetArrayOfLength<float>(env, GetField(env, q, "q", "scales"), "q.scales", ins.Length());
  const auto zp = GetArrayOfLength<int32_t>(env, GetField(env, q, "q", "zeroPoints"), "q.zeroPoints", ins.Length());
  const int32_t tmin = y.kind == Kind::kI8 ? -128 : 0, tmax = y.kind == Kind::kI8 ? 127 : 255;
  for (uint32_t i = 0; i < ins.Length(); i++) {
    if (!(sc.data[i] > 0) || !std::isfinite(sc.data[i])) ThrowRangeError(env, "q.scales[" + std::to_string(i) + "] must be a finite float32 > 0");
    if (zp.data[i] < tmin || zp.data[i] > tmax) ThrowRangeError(env, "q.zeroPoints[" + std::to_string(i) + "] is outside the type's range");
    p.scales.push_back(sc.data[i]);
    p.zero_points.push_back(zp.data[i]);
  }
  p.y_scale = Scale(env, q, "q", "yScale");
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", y.kind);
  GetBounds(env, q, "q", y.kind, p.y_zero_point, &p.y_min, &p.y_max);
  ops::ConcatQuant(y.kind == Kind::kI8, ptrs, shapes, static_cast<int>(axis), p, y.data);
  return env.Undefined();
}

// Writes `value` as one element of the array's type; integers must fit.
void ElementBytes(Napi::Env env, const Arr& a, const Napi::Value& v, const char* name, uint8_t out[4]) {
  switch (a.kind) {
    case Kind::kI8: { const int8_t t = static_cast<int8_t>(GetInt(env, v, name, -128, 127)); std::memcpy(out, &t, 1); break; }
    case Kind::kU8: { const uint8_t t = static_cast<uint8_t>(GetInt(env, v, name, 0, 255)); std::memcpy(out, &t, 1); break; }
    case Kind::kI32: { const int32_t t = static_cast<int32_t>(GetInt(env, v, name, INT32_MIN, INT32_MAX)); std::memcpy(out, &t, 4); break; }
    case Kind::kF32: {
      if (!v.IsNumber()) ThrowTypeError(env, std::string(name) + " must be a number");
      const float t = static_cast<float>(v.As<Napi::Number>().DoubleValue());
      std::memcpy(out, &t, 4);
      break;
    }
  }
}

// pad(x, shape, before, after, value, y)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowAll);
  const Shape s = GetShape(env, info[1], "shape");
  CheckLen(env, x, ops::ShapeSize(s), "x");
  const auto before = GetIntVec(env, info[2], "before", 0, kI32Max);
  const auto after = GetIntVec(env, info[3], "after", 0, kI32Max);
  if (before.size() != s.size()) ThrowRangeError(env, "before has " + std::to_string(before.size()) + " entries, expected the rank " + std::to_string(s.size()));
  if (after.size() != s.size()) ThrowRangeError(env, "after has " + std::to_string(after.size()) + " entries, expected the rank " + std::to_string(s.size()));
  int64_t total = 1;
  for (size_t d = 0; d < s.size(); d++) {
    total *= s[d] + before[d] + after[d];
    if (total > (int64_t(1) << 40)) ThrowRangeError(env, "the padded tensor is too large");
  }
  const Arr y = GetAny(env, info[5], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, total, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  uint8_t value[4];
  ElementBytes(env, x, info[4], "value", value);
  ops::Pad(x.es, s, before.data(), after.data(), x.data, value, y.data);
  return env.Undefined();
}

// transpose(x, shape, perm, y)
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowAll);
  const Shape s = GetShape(env, info[1], "shape");
  CheckLen(env, x, ops::ShapeSize(s), "x");
  const auto pv = GetIntVec(env, info[2], "perm", -1, 64);
  std::vector<int32_t> perm(pv.begin(), pv.end());
  Guard(env, [&] { ops::CheckPermutation(s, perm.data(), perm.size()); });
  const Arr y = GetAny(env, info[3], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  ops::Transpose(x.es, s, perm.data(), x.data, y.data);
  return env.Undefined();
}

ops::StridedSliceSpec GetSliceSpec(Napi::Env env, const Napi::CallbackInfo& info, int first) {
  const Shape s = GetShape(env, info[first], "shape");
  const int64_t big = int64_t(1) << 53;
  const auto b = GetIntVec(env, info[first + 1], "begin", -big, big);
  const auto e = GetIntVec(env, info[first + 2], "end", -big, big);
  const auto st = GetIntVec(env, info[first + 3], "strides", -big, big);
  const Napi::Value m = info[first + 4];
  const int32_t bm = I32(env, m, "masks", "beginMask", 0, kI32Max);
  const int32_t em = I32(env, m, "masks", "endMask", 0, kI32Max);
  const int32_t elm = I32(env, m, "masks", "ellipsisMask", 0, kI32Max);
  const int32_t nm = I32(env, m, "masks", "newAxisMask", 0, kI32Max);
  const int32_t sm = I32(env, m, "masks", "shrinkAxisMask", 0, kI32Max);
  return Guard(env, [&] { return ops::ResolveStridedSlice(s, b, e, st, bm, em, elm, nm, sm); });
}

// stridedSliceShape(shape, begin, end, strides, masks): number[]
Napi::Value StridedSliceShape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ops::StridedSliceSpec spec = GetSliceSpec(env, info, 0);
  Napi::Array out = Napi::Array::New(env, spec.final_shape.size());
  for (size_t i = 0; i < spec.final_shape.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(spec.final_shape[i])));
  return out;
}

// stridedSlice(x, shape, begin, end, strides, masks, y)
Napi::Value StridedSlice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowAll);
  const ops::StridedSliceSpec spec = GetSliceSpec(env, info, 1);
  CheckLen(env, x, ops::ShapeSize(spec.input_shape), "x");
  const Arr y = GetAny(env, info[6], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, ops::ShapeSize(spec.final_shape), "y");
  CheckNoOverlap(env, x, y, "x", "y");
  ops::StridedSlice(x.es, spec, x.data, y.data);
  return env.Undefined();
}

// depthToSpace(x, shape[4], blockSize, y)
Napi::Value DepthToSpace(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Arr x = GetAny(env, info[0], "x", kAllowAll);
  const Shape s = GetShape(env, info[1], "shape");
  if (s.size() != 4) ThrowRangeError(env, "shape must be [batch, height, width, channels]");
  CheckLen(env, x, ops::ShapeSize(s), "x");
  const int64_t bs = GetInt(env, info[2], "blockSize", 2, 1 << 16);
  if (s[3] % (bs * bs)) ThrowRangeError(env, "channels (" + std::to_string(s[3]) + ") must be divisible by blockSize² (" + std::to_string(bs * bs) + ")");
  const Arr y = GetAny(env, info[3], "y", kAllowAll);
  CheckSameKind(env, x, y, "x", "y");
  CheckLen(env, y, x.length, "y");
  CheckNoOverlap(env, x, y, "x", "y");
  ops::DepthToSpace(x.es, s[0], s[1], s[2], s[3], bs, x.data, y.data);
  return env.Undefined();
}

// resize(mode, x, shape[4], outHeight, outWidth, alignCorners, halfPixelCenters, q, y)
Napi::Value Resize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string mode = GetString(env, info[0], "mode");
  if (mode != "bilinear" && mode != "nearest") ThrowRangeError(env, "mode must be 'bilinear' or 'nearest', got '" + mode + "'");
  const Arr x = GetAny(env, info[1], "x", mode == "nearest" ? kAllowAll : (kAllowI8 | kAllowU8 | kAllowF32));
  const Shape s = GetShape(env, info[2], "shape");
  if (s.size() != 4) ThrowRangeError(env, "shape must be [batch, height, width, channels]");
  CheckLen(env, x, ops::ShapeSize(s), "x");
  ops::ResizeGeom g;
  g.batch = s[0]; g.in_h = s[1]; g.in_w = s[2]; g.channels = s[3];
  g.out_h = GetInt(env, info[3], "outHeight", 1, kI32Max);
  g.out_w = GetInt(env, info[4], "outWidth", 1, kI32Max);
  g.align_corners = GetBool(env, info[5], "alignCorners");
  g.half_pixel_centers = GetBool(env, info[6], "halfPixelCenters");
  Guard(env, [&] { ops::CheckResizeGeom(g); });
  const int64_t total = g.batch * g.out_h * g.out_w * g.channels;
  if (total > (int64_t(1) << 40)) ThrowRangeError(env, "the output is too large");
  const Arr y = GetAny(env, info[8], "y", kAllowAll);
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
  const Napi::Value q = info[7];
  ops::ResizeQ p;
  p.x_scale = Scale(env, q, "q", "xScale");
  p.y_scale = Scale(env, q, "q", "yScale");
  p.x_zero_point = ZeroPoint(env, q, "q", "xZeroPoint", x.kind);
  p.y_zero_point = ZeroPoint(env, q, "q", "yZeroPoint", x.kind);
  GetBounds(env, q, "q", x.kind, p.y_zero_point, &p.y_min, &p.y_max);
  if (x.kind == Kind::kI8) ops::ResizeBilinear(g, static_cast<const int8_t*>(x.data), p, static_cast<int8_t*>(y.data));
  else ops::ResizeBilinear(g, static_cast<const uint8_t*>(x.data), p, static_cast<uint8_t*>(y.data));
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
  exports.Set("opsBinary", Napi::Function::New(env, Binary, "opsBinary"));
  exports.Set("opsActivation", Napi::Function::New(env, Activation, "opsActivation"));
  exports.Set("opsPrelu", Napi::Function::New(env, Prelu, "opsPrelu"));
  exports.Set("opsBiasAdd", Napi::Function::New(env, BiasAdd, "opsBiasAdd"));
  exports.Set("opsBuildLut", Napi::Function::New(env, BuildLut, "opsBuildLut"));
  exports.Set("opsApplyLut", Napi::Function::New(env, ApplyLut, "opsApplyLut"));
  exports.Set("opsSoftmaxTable", Napi::Function::New(env, SoftmaxTable, "opsSoftmaxTable"));
  exports.Set("opsSoftmax", Napi::Function::New(env, Softmax, "opsSoftmax"));
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
