// Definitions of the argument readers declared in ops_args.h.
#include "binding/ops_args.h"

#include <cmath>
#include <cstring>

namespace tfjq {
namespace binding {
namespace ops_args {

static std::string Allowed(unsigned allow) {
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
  if (t == napi_int8_array && (allow & kAllowI8)) {
    auto a = GetArray<int8_t>(env, v, name);
    return {Kind::kI8, a.data, a.length, 1};
  }
  if (t == napi_uint8_array && (allow & kAllowU8)) {
    auto a = GetArray<uint8_t>(env, v, name);
    return {Kind::kU8, a.data, a.length, 1};
  }
  if (t == napi_int32_array && (allow & kAllowI32)) {
    auto a = GetArray<int32_t>(env, v, name);
    return {Kind::kI32, a.data, a.length, 4};
  }
  if (t == napi_float32_array && (allow & kAllowF32)) {
    auto a = GetArray<float>(env, v, name);
    return {Kind::kF32, a.data, a.length, 4};
  }
  ThrowTypeError(env, std::string(name) + " must be a " + Allowed(allow) + ", got " + TypedArrayTypeName(t));
}

void CheckLen(Napi::Env env, const Arr& a, int64_t n, const char* name) {
  if (static_cast<int64_t>(a.length) != n) {
    ThrowRangeError(
        env, std::string(name) + " has " + std::to_string(a.length) + " elements, expected " + std::to_string(n));
  }
}

void CheckSameKind(Napi::Env env, const Arr& x, const Arr& y, const char* xn, const char* yn) {
  if (x.kind != y.kind) ThrowTypeError(env, std::string(yn) + " must have the same element type as " + xn);
}

void CheckNoOverlap(Napi::Env env, const Arr& a, const Arr& b, const char* an, const char* bn) {
  CheckNoOverlap(env, a.data, a.bytes(), b.data, b.bytes(), an, bn);
}

int32_t I32(Napi::Env env, const Napi::Value& obj, const char* objname, const char* key, int64_t lo, int64_t hi) {
  const std::string n = std::string(objname) + "." + key;
  return static_cast<int32_t>(GetInt(env, GetField(env, obj, objname, key), n.c_str(), lo, hi));
}

float PosScale(Napi::Env env, const Napi::Value& v, const std::string& name) {
  const float f = static_cast<float>(GetFiniteNumber(env, v, name.c_str()));
  CallCore(env, [&] { ops::CheckScale(f, name); });
  return f;
}
float Scale(Napi::Env env, const Napi::Value& obj, const char* objname, const char* key) {
  return PosScale(env, GetField(env, obj, objname, key), std::string(objname) + "." + key);
}

Shape GetShape(Napi::Env env, const Napi::Value& v, const char* name, size_t max_rank) {
  if (!v.IsArray()) ThrowTypeError(env, std::string(name) + " must be an array of dimensions");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > max_rank)
    ThrowRangeError(env, std::string(name) + " has rank " + std::to_string(a.Length()) + ", at most " +
                             std::to_string(max_rank) + " supported");
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

// Output clamp bounds (their values are the core's: ops::CheckBounds).
void GetBounds(Napi::Env env, const Napi::Value& q, const char* qn, Kind k, int32_t zp, int32_t* lo, int32_t* hi) {
  *lo = I32(env, q, qn, "yMin", INT32_MIN, INT32_MAX);
  *hi = I32(env, q, qn, "yMax", INT32_MIN, INT32_MAX);
  CallCore(env, [&] { ops::CheckBounds(*lo, *hi, k == Kind::kI8, qn); });
  (void)zp;
}

int32_t ZeroPoint(Napi::Env env, const Napi::Value& q, const char* qn, const char* key, Kind k) {
  const int32_t zp = I32(env, q, qn, key, INT32_MIN, INT32_MAX);
  return CallCore(env, [&] { return ops::CheckZeroPoint(zp, k == Kind::kI8, std::string(qn) + "." + key); });
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
  o.Set("batch", g.batch);
  o.Set("inHeight", g.in_h);
  o.Set("inWidth", g.in_w);
  o.Set("inChannels", g.in_c);
  o.Set("filterHeight", g.k_h);
  o.Set("filterWidth", g.k_w);
  o.Set("strideHeight", g.stride_h);
  o.Set("strideWidth", g.stride_w);
  o.Set("dilationHeight", g.dilation_h);
  o.Set("dilationWidth", g.dilation_w);
  o.Set("padTop", g.pad_top);
  o.Set("padBottom", g.pad_bottom);
  o.Set("padLeft", g.pad_left);
  o.Set("padRight", g.pad_right);
  o.Set("outHeight", g.out_h);
  o.Set("outWidth", g.out_w);
  return o;
}

// A geometry with explicit pads, validated; out_* recomputed.
ConvGeom GetGeom(Napi::Env env, const Napi::Value& v) {
  ConvGeom g = ReadGeomFields(env, v, "geom", true);
  CallCore(env, [&] { ops::CheckConvGeom(&g); });
  return g;
}

int64_t Prod(std::initializer_list<int64_t> l) {
  int64_t p = 1;
  for (int64_t v : l) p *= v;
  return p;
}

float GetBound(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) ThrowTypeError(env, std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  return static_cast<float>(d);
}

}  // namespace ops_args
}  // namespace binding
}  // namespace tfjq
