// N-API surface of native/gemm (binding.d.ts, gemm section): the PackedWeights class, sync
// and async int8 GEMM, dynamic-quantization GEMM and the peak-throughput probe. Options
// arrive as one named object; this file checks what memory safety needs (types, lengths,
// overlap) and leaves value ranges to the core (gemm.h); small parameter arrays are copied so
// an async job never reads memory JavaScript may change meanwhile (A and the output are
// used in place and kept alive until the job ends).
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "binding/modules.h"
#include "binding/util.h"
#include "common/cpu.h"
#include "gemm/gemm.h"

namespace tfjq {
namespace binding {
namespace {

using gemm::PackedB;

// Distinguishes our PackedWeights objects from any other wrapped object.
constexpr napi_type_tag kPackedTag = {0x7466'6a71'6765'6d6dULL, 0x7061'636b'6564'4231ULL};

class PackedWeightsWrap : public PackedWrap<PackedWeightsWrap, PackedB> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "PackedWeights",
        {InstanceMethod("dispose", &PackedWeightsWrap::Dispose), InstanceAccessor("k", &PackedWeightsWrap::K, nullptr),
         InstanceAccessor("n", &PackedWeightsWrap::N, nullptr),
         InstanceAccessor("isa", &PackedWeightsWrap::IsaJs, nullptr),
         InstanceAccessor("byteLength", &PackedWeightsWrap::ByteLength, nullptr),
         InstanceAccessor("disposed", &PackedWeightsWrap::Disposed, nullptr)});
  }

  // new PackedWeights(b: Int8Array, {k, n, layout: 'kn' | 'nk', zeroPoints: Int32Array | null, isa})
  explicit PackedWeightsWrap(const Napi::CallbackInfo& info) : PackedWrap(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) ThrowTypeError(env, "PackedWeights must be called with new");
    auto b = GetArray<int8_t>(env, info[0], "b");
    const Napi::Object o = GetOptions(env, info[1], "options");
    const int64_t k = GetInt(env, o.Get("k"), "k", 1, gemm::kMaxK);
    const int64_t n = GetInt(env, o.Get("n"), "n", 1, gemm::kMaxDim - 1);
    const std::string layout = GetString(env, o.Get("layout"), "layout");
    if (layout != "kn" && layout != "nk") ThrowRangeError(env, "layout must be 'kn' or 'nk', got '" + layout + "'");
    if (static_cast<long double>(b.length) != static_cast<long double>(k) * n) {
      ThrowRangeError(env, "b has " + std::to_string(b.length) +
                               " elements, expected k × n = " + std::to_string(static_cast<long long>(k * n)));
    }
    std::vector<int32_t> zp;
    bool per_col = false;
    const Napi::Value zero_points = o.Get("zeroPoints");
    if (!IsAbsent(zero_points)) {
      auto z = GetArray<int32_t>(env, zero_points, "zeroPoints");
      if (z.length != 1 && z.length != static_cast<size_t>(n)) {
        ThrowRangeError(
            env, "zeroPoints has " + std::to_string(z.length) + " elements, expected 1 or n = " + std::to_string(n));
      }
      zp.assign(z.data, z.data + z.length);  // values: PackB checks them
      per_col = z.length == static_cast<size_t>(n) && n != 1;
    }
    Isa isa;
    const std::string isa_name = GetString(env, o.Get("isa"), "isa");
    if (!ParseIsa(isa_name, &isa)) ThrowRangeError(env, "isa '" + isa_name + "' is not a known path");
    if (!gemm::GemmIsaUsable(isa)) ThrowRangeError(env, "isa '" + isa_name + "' is not available on this machine");
    PackAndAdopt(info, &kPackedTag, "the weights", [&] {
      return gemm::PackB(b.data, k, n, layout == "kn" ? gemm::BLayout::kKN : gemm::BLayout::kNK, layout == "kn" ? n : k,
                         zp.empty() ? nullptr : zp.data(), per_col, isa);
    });
  }

  // The packed weights, or a TypeError/RangeError when v is not a live PackedWeights.
  static std::shared_ptr<const PackedB> From(Napi::Env env, const Napi::Value& v, const char* name) {
    return Get(env, v, &kPackedTag, std::string(name) + " must be a PackedWeights object (from packWeights)",
               std::string(name) + " has been disposed");
  }

 private:
  Napi::Value K(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), packed_ ? static_cast<double>(packed_->k()) : 0);
  }
  Napi::Value N(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), packed_ ? static_cast<double>(packed_->n()) : 0);
  }
  Napi::Value IsaJs(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), packed_ ? IsaName(packed_->isa()) : "");
  }
  Napi::Value ByteLength(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), packed_ ? static_cast<double>(bytes_) : 0);
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !packed_); }
};

// Optional typed array of 1 or `n` entries (null/undefined → empty); copied.
template <typename T>
std::vector<T> OptionalArray(Napi::Env env, const Napi::Value& v, const char* key, int64_t n, bool allow_one) {
  if (v.IsNull() || v.IsUndefined()) return {};
  auto a = GetArray<T>(env, v, key);
  if (!(a.length == static_cast<size_t>(n) || (allow_one && a.length == 1))) {
    ThrowRangeError(env, std::string(key) + " has " + std::to_string(a.length) + " elements, expected " +
                             (allow_one ? "1 or " : "") + std::to_string(n));
  }
  return std::vector<T>(a.data, a.data + a.length);
}

// The activation of the float32 output and its clamp bounds (read only for 'clamp'); which
// activations the GEMM applies and whether the bounds are ordered is the core's to check.
Activation ReadActivation(Napi::Env env, const Napi::Object& o, float* lo, float* hi) {
  const Activation act = GetActivation(env, o.Get("activation"), "activation");
  if (act == Activation::kClamp) {
    *lo = static_cast<float>(GetFiniteNumber(env, o.Get("clampMin"), "clampMin"));
    *hi = static_cast<float>(GetFiniteNumber(env, o.Get("clampMax"), "clampMax"));
  }
  return act;
}

// Everything a GEMM job needs, owning copies of the parameter arrays.
struct GemmJob {
  std::shared_ptr<const PackedB> packed;
  gemm::GemmArgs args;
  std::vector<int32_t> za, bias;
  std::vector<float> mult, a_scales, w_scales, bias_f32;
  void Bind() {
    args.b = packed.get();
    args.a_zero_points = za.data();
    args.epilogue.bias = bias.empty() ? nullptr : bias.data();
    args.epilogue.multipliers = mult.empty() ? nullptr : mult.data();
    args.epilogue.a_scales = a_scales.empty() ? nullptr : a_scales.data();
    args.epilogue.w_scales = w_scales.empty() ? nullptr : w_scales.data();
    args.epilogue.bias_f32 = bias_f32.empty() ? nullptr : bias_f32.data();
  }
};

constexpr int64_t kMaxStride = int64_t{1} << 40;
constexpr int64_t kI32Min = std::numeric_limits<int32_t>::min(), kI32Max = std::numeric_limits<int32_t>::max();

// gemm(a, packed, out, options: {m, lda, ldc, threads, aZeroPoints, output, bias, multipliers,
// outZeroPoint, qmin, qmax, aScales, wScales, biasF32, activation, clampMin, clampMax}).
// Checked here: types, lengths, overlap (memory safety); values: the core (gemm.h).
Napi::Value GemmJs(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  auto job = std::make_shared<GemmJob>();
  job->packed = PackedWeightsWrap::From(env, info[1], "packed");
  const int64_t n = job->packed->n(), k = job->packed->k();
  const Napi::Object o = GetOptions(env, info[3], "options");
  gemm::GemmArgs& g = job->args;
  g.m = GetInt(env, o.Get("m"), "m", 0, gemm::kMaxDim - 1);
  g.lda = GetInt(env, o.Get("lda"), "lda", k, kMaxStride);
  g.ldc = GetInt(env, o.Get("ldc"), "ldc", n, kMaxStride);
  g.threads = static_cast<int>(GetInt(env, o.Get("threads"), "threads", 0, 256));
  // A: Uint8Array, or Int8Array (signed activations).
  if (!info[0].IsTypedArray()) ThrowTypeError(env, "a must be a Uint8Array or Int8Array");
  const napi_typedarray_type at = info[0].As<Napi::TypedArray>().TypedArrayType();
  if (at != napi_uint8_array && at != napi_int8_array) {
    ThrowTypeError(env, std::string("a must be a Uint8Array or Int8Array, got ") + TypedArrayTypeName(at));
  }
  g.a_signed = at == napi_int8_array;
  View<uint8_t> a;
  if (g.a_signed) {
    auto s = GetArray<int8_t>(env, info[0], "a");
    a = View<uint8_t>{reinterpret_cast<uint8_t*>(s.data), s.length};
  } else {
    a = GetArray<uint8_t>(env, info[0], "a");
  }
  const long double a_need = g.m == 0 ? 0.0L : static_cast<long double>(g.m - 1) * g.lda + k;
  if (static_cast<long double>(a.length) < a_need) {
    ThrowRangeError(env, "a has " + std::to_string(a.length) + " elements, needs at least " +
                             std::to_string(static_cast<long long>(a_need)) + " for m = " + std::to_string(g.m) +
                             ", k = " + std::to_string(k) + ", lda = " + std::to_string(g.lda));
  }
  g.a = a.data;
  // Output.
  const std::string output = GetString(env, o.Get("output"), "output");
  void* out_ptr = nullptr;
  size_t out_len = 0, out_bytes = 0;
  auto take_out = [&](auto view) {
    out_ptr = view.data;
    out_len = view.length;
    out_bytes = view.length * sizeof(*view.data);
  };
  if (output == "int32") {
    g.epilogue.output = gemm::OutputType::kInt32;
    take_out(GetArray<int32_t>(env, info[2], "out"));
  } else if (output == "int8") {
    g.epilogue.output = gemm::OutputType::kInt8;
    take_out(GetArray<int8_t>(env, info[2], "out"));
  } else if (output == "uint8") {
    g.epilogue.output = gemm::OutputType::kUint8;
    take_out(GetArray<uint8_t>(env, info[2], "out"));
  } else if (output == "float32") {
    g.epilogue.output = gemm::OutputType::kFloat32;
    take_out(GetArray<float>(env, info[2], "out"));
  } else {
    ThrowRangeError(env, "output must be 'int32', 'int8', 'uint8' or 'float32', got '" + output + "'");
  }
  const long double c_need = g.m == 0 ? 0.0L : static_cast<long double>(g.m - 1) * g.ldc + n;
  if (static_cast<long double>(out_len) < c_need) {
    ThrowRangeError(env, "out has " + std::to_string(out_len) + " elements, needs at least " +
                             std::to_string(static_cast<long long>(c_need)) + " for m = " + std::to_string(g.m) +
                             ", n = " + std::to_string(n) + ", ldc = " + std::to_string(g.ldc));
  }
  g.c = out_ptr;
  CheckNoOverlap(env, a.data, a.length, out_ptr, out_bytes, "a", "out");
  {
    auto z = GetArray<int32_t>(env, o.Get("aZeroPoints"), "aZeroPoints");
    if (z.length != 1 && z.length != static_cast<size_t>(g.m)) {
      ThrowRangeError(
          env, "aZeroPoints has " + std::to_string(z.length) + " elements, expected 1 or m = " + std::to_string(g.m));
    }
    job->za.assign(z.data, z.data + z.length);
    g.a_zero_point_per_row = job->za.size() != 1;
  }
  job->bias = OptionalArray<int32_t>(env, o.Get("bias"), "bias", n, false);
  gemm::Epilogue& e = g.epilogue;
  if (e.output == gemm::OutputType::kInt8 || e.output == gemm::OutputType::kUint8) {
    job->mult = OptionalArray<float>(env, o.Get("multipliers"), "multipliers", n, true);
    if (job->mult.empty()) ThrowTypeError(env, "multipliers is required for int8/uint8 output");
    e.multiplier_per_channel = job->mult.size() != 1;
    e.out_zero_point = static_cast<int32_t>(GetInt(env, o.Get("outZeroPoint"), "outZeroPoint", kI32Min, kI32Max));
    e.qmin = static_cast<int32_t>(GetInt(env, o.Get("qmin"), "qmin", kI32Min, kI32Max));
    e.qmax = static_cast<int32_t>(GetInt(env, o.Get("qmax"), "qmax", kI32Min, kI32Max));
  } else if (e.output == gemm::OutputType::kFloat32) {
    job->a_scales = OptionalArray<float>(env, o.Get("aScales"), "aScales", g.m, true);
    job->w_scales = OptionalArray<float>(env, o.Get("wScales"), "wScales", n, true);
    if (job->a_scales.empty()) ThrowTypeError(env, "aScales is required for float32 output");
    if (job->w_scales.empty()) ThrowTypeError(env, "wScales is required for float32 output");
    e.a_scale_per_row = job->a_scales.size() != 1;
    e.w_scale_per_channel = job->w_scales.size() != 1;
    job->bias_f32 = OptionalArray<float>(env, o.Get("biasF32"), "biasF32", n, false);
    if (!job->bias.empty() && !job->bias_f32.empty()) ThrowTypeError(env, "bias (int32) and biasF32 are exclusive");
    e.activation = ReadActivation(env, o, &e.clamp_min, &e.clamp_max);
  }
  job->Bind();
  if (!async) {
    CallCore(env, [&] { gemm::Gemm(job->args); });
    return env.Undefined();
  }
  return RunAsync(
      env, [job]() { gemm::Gemm(job->args); }, [](Napi::Env e2) { return e2.Undefined(); },
      {info[0], info[1], info[2]});
}

struct DynJob {
  std::shared_ptr<const PackedB> packed;
  gemm::DynamicGemmArgs args;
  std::vector<float> w_scales, bias_f32;
};

// gemmDynamic(x, packed, out, options: {m, ldx, ldc, threads, perRow, wScales, biasF32,
// activation, clampMin, clampMax})
Napi::Value DynamicJs(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  auto job = std::make_shared<DynJob>();
  job->packed = PackedWeightsWrap::From(env, info[1], "packed");
  const int64_t n = job->packed->n(), k = job->packed->k();
  const Napi::Object o = GetOptions(env, info[3], "options");
  gemm::DynamicGemmArgs& d = job->args;
  d.m = GetInt(env, o.Get("m"), "m", 0, gemm::kMaxDim - 1);
  d.ldx = GetInt(env, o.Get("ldx"), "ldx", k, kMaxStride);
  d.ldc = GetInt(env, o.Get("ldc"), "ldc", n, kMaxStride);
  d.threads = static_cast<int>(GetInt(env, o.Get("threads"), "threads", 0, 256));
  d.per_row = GetBool(env, o.Get("perRow"), "perRow");
  auto x = GetArray<float>(env, info[0], "x");
  auto out = GetArray<float>(env, info[2], "out");
  const long double x_need = d.m == 0 ? 0.0L : static_cast<long double>(d.m - 1) * d.ldx + k;
  const long double c_need = d.m == 0 ? 0.0L : static_cast<long double>(d.m - 1) * d.ldc + n;
  if (static_cast<long double>(x.length) < x_need) {
    ThrowRangeError(env, "x has " + std::to_string(x.length) + " elements, needs at least " +
                             std::to_string(static_cast<long long>(x_need)));
  }
  if (static_cast<long double>(out.length) < c_need) {
    ThrowRangeError(env, "out has " + std::to_string(out.length) + " elements, needs at least " +
                             std::to_string(static_cast<long long>(c_need)));
  }
  CheckNoOverlap(env, x, out, "x", "out");
  job->w_scales = OptionalArray<float>(env, o.Get("wScales"), "wScales", n, true);
  if (job->w_scales.empty()) ThrowTypeError(env, "wScales is required");
  job->bias_f32 = OptionalArray<float>(env, o.Get("biasF32"), "biasF32", n, false);
  d.activation = ReadActivation(env, o, &d.clamp_min, &d.clamp_max);
  d.x = x.data;
  d.c = out.data;
  d.b = job->packed.get();
  d.w_scales = job->w_scales.data();
  d.w_scale_per_channel = job->w_scales.size() != 1;
  d.bias_f32 = job->bias_f32.empty() ? nullptr : job->bias_f32.data();
  if (!async) {
    CallCore(env, [&] { gemm::DynamicGemm(d); });
    return env.Undefined();
  }
  return RunAsync(
      env, [job]() { gemm::DynamicGemm(job->args); }, [](Napi::Env e2) { return e2.Undefined(); },
      {info[0], info[1], info[2]});
}

// gemmMeasurePeak({isa, seconds})
Napi::Value MeasurePeakJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Object o = GetOptions(env, info[0], "options");
  Isa isa;
  const std::string name = GetString(env, o.Get("isa"), "isa");
  if (!ParseIsa(name, &isa)) ThrowRangeError(env, "isa '" + name + "' is not a known path");
  if (!gemm::GemmIsaUsable(isa)) ThrowRangeError(env, "isa '" + name + "' is not available on this machine");
  const double seconds = GetFiniteNumber(env, o.Get("seconds"), "seconds");
  return Napi::Number::New(env, CallCore(env, [&] { return gemm::MeasurePeakGops(isa, seconds); }));
}

}  // namespace

void InitGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("GemmPackedWeights", PackedWeightsWrap::Define(env));
  exports.Set("gemmMaxK", Napi::Number::New(env, static_cast<double>(gemm::kMaxK)));
  auto add = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name));
  };
  add("gemm", [](const Napi::CallbackInfo& i) { return GemmJs(i, false); });
  add("gemmAsync", [](const Napi::CallbackInfo& i) { return GemmJs(i, true); });
  add("gemmDynamic", [](const Napi::CallbackInfo& i) { return DynamicJs(i, false); });
  add("gemmDynamicAsync", [](const Napi::CallbackInfo& i) { return DynamicJs(i, true); });
  add("gemmMeasurePeak", MeasurePeakJs);
}

}  // namespace binding
}  // namespace tfjq
