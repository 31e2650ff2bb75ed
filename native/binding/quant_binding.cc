// N-API surface of native/quant (binding.d.ts, quant section). Every argument is checked
// again here (types, lengths, ranges, overlap) before a kernel runs; parameter arrays are
// copied so an async job never reads memory JavaScript may change meanwhile.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "binding/modules.h"
#include "binding/util.h"
#include "quant/quantize.h"

namespace tfjq {
namespace binding {
namespace {

using quant::Layout;

enum class Elem { kInt8, kUint8, kInt32 };

using Bytes = ByteSpan;

int32_t TypeMin(Elem e) {
  return e == Elem::kInt8 ? -128 : e == Elem::kUint8 ? 0 : std::numeric_limits<int32_t>::min();
}
int32_t TypeMax(Elem e) {
  return e == Elem::kInt8 ? 127 : e == Elem::kUint8 ? 255 : std::numeric_limits<int32_t>::max();
}

// The element type of an integer array argument among `allowed`.
Elem GetElem(Napi::Env env, const Napi::Value& v, const char* name, bool allow32, bool allow8) {
  std::string kinds =
      allow8 ? (allow32 ? "an Int8Array, Uint8Array or Int32Array" : "an Int8Array or Uint8Array") : "an Int32Array";
  if (!v.IsTypedArray()) ThrowTypeError(env, std::string(name) + " must be " + kinds);
  const napi_typedarray_type t = v.As<Napi::TypedArray>().TypedArrayType();
  if (allow8 && t == napi_int8_array) return Elem::kInt8;
  if (allow8 && t == napi_uint8_array) return Elem::kUint8;
  if (allow32 && t == napi_int32_array) return Elem::kInt32;
  ThrowTypeError(env, std::string(name) + " must be " + kinds + ", got " + TypedArrayTypeName(t));
}

struct Raw {
  void* data;
  size_t length;
  size_t elem_bytes;
  Bytes bytes() const { return Bytes{data, length * elem_bytes}; }
};

Raw GetRaw(Napi::Env env, const Napi::Value& v, Elem e, const char* name) {
  switch (e) {
    case Elem::kInt8: {
      auto a = GetArray<int8_t>(env, v, name);
      return Raw{a.data, a.length, 1};
    }
    case Elem::kUint8: {
      auto a = GetArray<uint8_t>(env, v, name);
      return Raw{a.data, a.length, 1};
    }
    default: {
      auto a = GetArray<int32_t>(env, v, name);
      return Raw{a.data, a.length, 4};
    }
  }
}

std::string Count(long double v) {
  if (v < 9.2e18L) return std::to_string(static_cast<long long>(v));
  return std::to_string(static_cast<double>(v));
}

// [outer, channels, inner] from the options' fields; their product must equal n.
Layout GetLayout(Napi::Env env, const Napi::Object& o, size_t n, const char* what) {
  Layout l;
  l.outer = GetInt(env, o.Get("outer"), "outer", 0, int64_t{1} << 40);
  l.channels = GetInt(env, o.Get("channels"), "channels", 1, int64_t{1} << 40);
  l.inner = GetInt(env, o.Get("inner"), "inner", 0, int64_t{1} << 40);
  const long double prod = static_cast<long double>(l.outer) * l.channels * l.inner;
  if (prod != static_cast<long double>(n)) {
    ThrowRangeError(env, std::string("outer × channels × inner = ") + Count(prod) + " does not match " + what +
                             " length " + std::to_string(n));
  }
  return l;
}

// The checks of the values are the core's (quant::CheckScales, quant::CheckZeroPoints).
std::vector<float> GetScales(Napi::Env env, const Napi::Value& v, const char* name, size_t channels) {
  auto a = GetArrayOfLength<float>(env, v, name, channels);
  std::vector<float> out(a.data, a.data + a.length);
  CallCore(env, [&] { quant::CheckScales(out.data(), out.size(), name); });
  return out;
}

std::vector<int32_t> GetZeroPoints(Napi::Env env, const Napi::Value& v, const char* name, size_t channels, int32_t lo,
                                   int32_t hi) {
  auto a = GetArrayOfLength<int32_t>(env, v, name, channels);
  std::vector<int32_t> out(a.data, a.data + a.length);
  CallCore(env, [&] { quant::CheckZeroPoints(out.data(), out.size(), lo, hi, name); });
  return out;
}

// Runs `work` now (sync) or on a worker thread (async: returns a promise).
Napi::Value Run(Napi::Env env, bool async, std::function<void()> work, const std::vector<Napi::Value>& keep) {
  if (!async) {
    work();
    return env.Undefined();
  }
  return RunAsync(env, std::move(work), [](Napi::Env e) { return e.Undefined(); }, keep);
}

// quantize(x, out, {outer, channels, inner, scales, zeroPoints, qmin, qmax})
Napi::Value QuantizeJs(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(env, info[0], "x");
  const Elem oe = GetElem(env, info[1], "out", false, true);
  Raw out = GetRaw(env, info[1], oe, "out");
  if (out.length != x.length) {
    ThrowRangeError(env, "out has " + std::to_string(out.length) + " elements, expected " + std::to_string(x.length));
  }
  CheckNoOverlap(env, Bytes{reinterpret_cast<const uint8_t*>(x.data), x.length * 4}, out.bytes(), "x", "out");
  const Napi::Object o = GetOptions(env, info[2], "options");
  const Layout l = GetLayout(env, o, x.length, "x");
  const int32_t qmin = static_cast<int32_t>(GetInt(env, o.Get("qmin"), "qmin", TypeMin(oe), TypeMax(oe)));
  const int32_t qmax = static_cast<int32_t>(GetInt(env, o.Get("qmax"), "qmax", qmin, TypeMax(oe)));
  auto scales = GetScales(env, o.Get("scales"), "scales", static_cast<size_t>(l.channels));
  auto zps = GetZeroPoints(env, o.Get("zeroPoints"), "zeroPoints", static_cast<size_t>(l.channels), qmin, qmax);
  const float* xp = x.data;
  void* op = out.data;
  return Run(env, async,
             [=]() {
               if (oe == Elem::kInt8)
                 quant::Quantize(xp, l, scales.data(), zps.data(), qmin, qmax, static_cast<int8_t*>(op));
               else
                 quant::Quantize(xp, l, scales.data(), zps.data(), qmin, qmax, static_cast<uint8_t*>(op));
             },
             {info[0], info[1]});
}

// dequantize(q, out, {outer, channels, inner, scales, zeroPoints})
Napi::Value DequantizeJs(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  const Elem qe = GetElem(env, info[0], "q", true, true);
  Raw q = GetRaw(env, info[0], qe, "q");
  auto out = GetArrayOfLength<float>(env, info[1], "out", q.length);
  CheckNoOverlap(env, q.bytes(), Bytes{reinterpret_cast<const uint8_t*>(out.data), out.length * 4}, "q", "out");
  const Napi::Object o = GetOptions(env, info[2], "options");
  const Layout l = GetLayout(env, o, q.length, "q");
  auto scales = GetScales(env, o.Get("scales"), "scales", static_cast<size_t>(l.channels));
  auto zps =
      GetZeroPoints(env, o.Get("zeroPoints"), "zeroPoints", static_cast<size_t>(l.channels), TypeMin(qe), TypeMax(qe));
  const void* qp = q.data;
  float* op = out.data;
  return Run(env, async,
             [=]() {
               if (qe == Elem::kInt8)
                 quant::Dequantize(static_cast<const int8_t*>(qp), l, scales.data(), zps.data(), op);
               else if (qe == Elem::kUint8)
                 quant::Dequantize(static_cast<const uint8_t*>(qp), l, scales.data(), zps.data(), op);
               else
                 quant::Dequantize(static_cast<const int32_t*>(qp), l, scales.data(), zps.data(), op);
             },
             {info[0], info[1]});
}

// requantize(input, out, {outer, channels, inner, multipliers, inZeroPoints | null, outZeroPoint, lo, hi})
Napi::Value RequantizeJs(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  const Elem ie = GetElem(env, info[0], "input", true, true);
  Raw in = GetRaw(env, info[0], ie, "input");
  const Elem oe = GetElem(env, info[1], "out", false, true);
  Raw out = GetRaw(env, info[1], oe, "out");
  if (out.length != in.length) {
    ThrowRangeError(env, "out has " + std::to_string(out.length) + " elements, expected " + std::to_string(in.length));
  }
  CheckNoOverlap(env, in.bytes(), out.bytes(), "input", "out");
  const Napi::Object o = GetOptions(env, info[2], "options");
  const Layout l = GetLayout(env, o, in.length, "input");
  auto mults = GetScales(env, o.Get("multipliers"), "multipliers", static_cast<size_t>(l.channels));
  std::vector<int32_t> zi;
  const Napi::Value zin = o.Get("inZeroPoints");
  if (ie == Elem::kInt32) {
    if (!IsAbsent(zin))
      ThrowTypeError(env, "inZeroPoints must be null for Int32Array input (accumulators have no zero point)");
  } else {
    if (IsAbsent(zin)) ThrowTypeError(env, "inZeroPoints must be an Int32Array for 8-bit input");
    zi = GetZeroPoints(env, zin, "inZeroPoints", static_cast<size_t>(l.channels), TypeMin(ie), TypeMax(ie));
  }
  const int32_t zo = static_cast<int32_t>(GetInt(env, o.Get("outZeroPoint"), "outZeroPoint", TypeMin(oe), TypeMax(oe)));
  const int32_t lo = static_cast<int32_t>(GetInt(env, o.Get("lo"), "lo", TypeMin(oe), TypeMax(oe)));
  const int32_t hi = static_cast<int32_t>(GetInt(env, o.Get("hi"), "hi", lo, TypeMax(oe)));
  const void* ip = in.data;
  void* op = out.data;
  return Run(env, async,
             [=]() {
               const float* m = mults.data();
               const int32_t* z = zi.data();
               if (ie == Elem::kInt32) {
                 if (oe == Elem::kInt8)
                   quant::Requantize(static_cast<const int32_t*>(ip), l, m, zo, lo, hi, static_cast<int8_t*>(op));
                 else
                   quant::Requantize(static_cast<const int32_t*>(ip), l, m, zo, lo, hi, static_cast<uint8_t*>(op));
               } else if (ie == Elem::kInt8) {
                 if (oe == Elem::kInt8)
                   quant::Requantize(static_cast<const int8_t*>(ip), l, m, z, zo, lo, hi, static_cast<int8_t*>(op));
                 else
                   quant::Requantize(static_cast<const int8_t*>(ip), l, m, z, zo, lo, hi, static_cast<uint8_t*>(op));
               } else {
                 if (oe == Elem::kInt8)
                   quant::Requantize(static_cast<const uint8_t*>(ip), l, m, z, zo, lo, hi, static_cast<int8_t*>(op));
                 else
                   quant::Requantize(static_cast<const uint8_t*>(ip), l, m, z, zo, lo, hi, static_cast<uint8_t*>(op));
               }
             },
             {info[0], info[1]});
}

quant::ParamScheme GetScheme(Napi::Env env, const Napi::Value& v) {
  const std::string s = GetString(env, v, "scheme");
  if (s == "asymmetricU8") return quant::ParamScheme::kAsymmetricU8;
  if (s == "asymmetricI8") return quant::ParamScheme::kAsymmetricS8;
  if (s == "symmetricI8") return quant::ParamScheme::kSymmetricS8;
  ThrowRangeError(env, "scheme must be 'asymmetricU8', 'asymmetricI8' or 'symmetricI8', got '" + s + "'");
}

float GetFloat32(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) ThrowTypeError(env, std::string(name) + " must be a number");
  return static_cast<float>(v.As<Napi::Number>().DoubleValue());
}

// chooseParams({scheme, lo, hi}) -> { scale, zeroPoint }. lo/hi are rounded to float32 first;
// NaN bounds read as 0 (the TypeScript layer rejects them before).
Napi::Value ChooseParamsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[0], "options");
  const auto scheme = GetScheme(env, o.Get("scheme"));
  const quant::QParams p =
      quant::ChooseParams(scheme, GetFloat32(env, o.Get("lo"), "lo"), GetFloat32(env, o.Get("hi"), "hi"));
  Napi::Object out = Napi::Object::New(env);
  out.Set("scale", p.scale);
  out.Set("zeroPoint", p.zero_point);
  return out;
}

// requantizeMultiplier({inputScale, weightScale, outputScale})
Napi::Value RequantizeMultiplierJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[0], "options");
  const char* names[3] = {"inputScale", "weightScale", "outputScale"};
  float v[3];
  for (int i = 0; i < 3; i++) v[i] = static_cast<float>(GetFiniteNumber(env, o.Get(names[i]), names[i]));
  return Napi::Number::New(env, CallCore(env, [&] { return quant::RequantizeMultiplier(v[0], v[1], v[2]); }));
}

// channelMinMax(x, lo, hi, {outer, channels, inner})
Napi::Value ChannelMinMaxJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(env, info[0], "x");
  const Layout l = GetLayout(env, GetOptions(env, info[3], "options"), x.length, "x");
  auto lo = GetArrayOfLength<float>(env, info[1], "lo", static_cast<size_t>(l.channels));
  auto hi = GetArrayOfLength<float>(env, info[2], "hi", static_cast<size_t>(l.channels));
  std::vector<float> tl(lo.length), th(hi.length);
  quant::ChannelMinMax(x.data, l, tl.data(), th.data());
  std::memcpy(lo.data, tl.data(), tl.size() * 4);
  std::memcpy(hi.data, th.data(), th.size() * 4);
  return env.Undefined();
}

// chooseChannelParams(x, scales, zeroPoints, {outer, channels, inner, scheme})
Napi::Value ChooseChannelParamsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(env, info[0], "x");
  const Napi::Object o = GetOptions(env, info[3], "options");
  const Layout l = GetLayout(env, o, x.length, "x");
  const auto scheme = GetScheme(env, o.Get("scheme"));
  auto scales = GetArrayOfLength<float>(env, info[1], "scales", static_cast<size_t>(l.channels));
  auto zps = GetArrayOfLength<int32_t>(env, info[2], "zeroPoints", static_cast<size_t>(l.channels));
  std::vector<float> ts(scales.length);
  std::vector<int32_t> tz(zps.length);
  quant::ChooseChannelParams(x.data, l, scheme, ts.data(), tz.data());
  std::memcpy(scales.data, ts.data(), ts.size() * 4);
  std::memcpy(zps.data, tz.data(), tz.size() * 4);
  return env.Undefined();
}

// dynamicQuantizeU8(x, out, scales, zeroPoints, {m, k, perRow})
Napi::Value DynamicQuantizeU8Js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(env, info[0], "x");
  const Napi::Object o = GetOptions(env, info[4], "options");
  const int64_t m = GetInt(env, o.Get("m"), "m", 0, int64_t{1} << 40);
  const int64_t k = GetInt(env, o.Get("k"), "k", 0, int64_t{1} << 40);
  if (static_cast<long double>(m) * k != static_cast<long double>(x.length)) {
    ThrowRangeError(env, "m × k = " + Count(static_cast<long double>(m) * k) + " does not match x length " +
                             std::to_string(x.length));
  }
  const bool per_row = GetBool(env, o.Get("perRow"), "perRow");
  auto out = GetArrayOfLength<uint8_t>(env, info[1], "out", x.length);
  const size_t np = per_row ? static_cast<size_t>(m) : 1;
  auto scales = GetArrayOfLength<float>(env, info[2], "scales", np);
  auto zps = GetArrayOfLength<int32_t>(env, info[3], "zeroPoints", np);
  const Bytes xb{reinterpret_cast<const uint8_t*>(x.data), x.length * 4};
  CheckNoOverlap(env, xb, Bytes{out.data, out.length}, "x", "out");
  CheckNoOverlap(env, xb, Bytes{reinterpret_cast<const uint8_t*>(scales.data), np * 4}, "x", "scales");
  CheckNoOverlap(env, xb, Bytes{reinterpret_cast<const uint8_t*>(zps.data), np * 4}, "x", "zeroPoints");
  quant::DynamicQuantizeU8(x.data, m, k, k, per_row, out.data, scales.data, zps.data, 0);
  return env.Undefined();
}

Napi::Value FloatToHalfJs(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  auto x = GetArray<float>(env, info[0], "x");
  auto out = GetArrayOfLength<uint16_t>(env, info[1], "out", x.length);
  CheckNoOverlap(env, Bytes{reinterpret_cast<const uint8_t*>(x.data), x.length * 4},
                 Bytes{reinterpret_cast<const uint8_t*>(out.data), out.length * 2}, "x", "out");
  const float* xp = x.data;
  uint16_t* op = out.data;
  const int64_t n = static_cast<int64_t>(x.length);
  return Run(env, async, [=]() { quant::FloatToHalf(xp, n, op); }, {info[0], info[1]});
}

Napi::Value HalfToFloatJs(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  auto h = GetArray<uint16_t>(env, info[0], "h");
  auto out = GetArrayOfLength<float>(env, info[1], "out", h.length);
  CheckNoOverlap(env, Bytes{reinterpret_cast<const uint8_t*>(h.data), h.length * 2},
                 Bytes{reinterpret_cast<const uint8_t*>(out.data), out.length * 4}, "h", "out");
  const uint16_t* hp = h.data;
  float* op = out.data;
  const int64_t n = static_cast<int64_t>(h.length);
  return Run(env, async, [=]() { quant::HalfToFloat(hp, n, op); }, {info[0], info[1]});
}

template <Napi::Value (*F)(const Napi::CallbackInfo&, bool), bool A>
Napi::Value Bind(const Napi::CallbackInfo& info) {
  return F(info, A);
}

}  // namespace

void InitQuant(Napi::Env env, Napi::Object exports) {
  auto add = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name));
  };
  add("quantize", Bind<QuantizeJs, false>);
  add("quantizeAsync", Bind<QuantizeJs, true>);
  add("dequantize", Bind<DequantizeJs, false>);
  add("dequantizeAsync", Bind<DequantizeJs, true>);
  add("requantize", Bind<RequantizeJs, false>);
  add("requantizeAsync", Bind<RequantizeJs, true>);
  add("chooseParams", ChooseParamsJs);
  add("requantizeMultiplier", RequantizeMultiplierJs);
  add("channelMinMax", ChannelMinMaxJs);
  add("chooseChannelParams", ChooseChannelParamsJs);
  add("dynamicQuantizeU8", DynamicQuantizeU8Js);
  add("float32ToFloat16", Bind<FloatToHalfJs, false>);
  add("float32ToFloat16Async", Bind<FloatToHalfJs, true>);
  add("float16ToFloat32", Bind<HalfToFloatJs, false>);
  add("float16ToFloat32Async", Bind<HalfToFloatJs, true>);
}

}  // namespace binding
}  // namespace tfjq
