// N-API binding: sub-byte weight GEMM (binding.d.ts, int4 section). The
// Int4PackedWeights class, and sync/async quantized, dynamic and weight-only int4 GEMM.
// Every argument is checked again here; small arrays are copied so an async job never reads
// memory JavaScript may change meanwhile (inputs and output are kept alive until it ends).
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "binding/modules.h"
#include "binding/util.h"
#include "common/cpu.h"
#include "gemm/gemm_int4.h"

namespace tfjq {
namespace binding {
namespace {

using gemm::PackedInt4;

constexpr napi_type_tag kInt4Tag = {0x7466'6a71'696e'7434ULL, 0x7061'636b'6564'3434ULL};

class Int4Wrap : public PackedWrap<Int4Wrap, PackedInt4> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "Int4PackedWeights",
        {InstanceMethod("dispose", &Int4Wrap::Dispose), InstanceMethod("unpack", &Int4Wrap::Unpack),
         InstanceAccessor("k", &Int4Wrap::K, nullptr), InstanceAccessor("n", &Int4Wrap::N, nullptr),
         InstanceAccessor("groupSize", &Int4Wrap::GroupSize, nullptr),
         InstanceAccessor("groups", &Int4Wrap::Groups, nullptr), InstanceAccessor("isa", &Int4Wrap::IsaJs, nullptr),
         InstanceAccessor("byteLength", &Int4Wrap::ByteLength, nullptr),
         InstanceAccessor("disposed", &Int4Wrap::Disposed, nullptr)});
  }

  // new Int4PackedWeights(w: Int8Array, {k, n, layout: 'kn' | 'nk', groupSize, scales: Float32Array,
  //                       zeroPoints: Int32Array | null, isa})
  explicit Int4Wrap(const Napi::CallbackInfo& info) : PackedWrap(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) ThrowTypeError(env, "Int4PackedWeights must be called with new");
    auto w = GetArray<int8_t>(env, info[0], "w");
    const Napi::Object o = GetOptions(env, info[1], "options");
    const int64_t k = GetInt(env, o.Get("k"), "k", 1, gemm::kMaxK);
    const int64_t n = GetInt(env, o.Get("n"), "n", 1, gemm::kMaxDim - 1);
    const std::string layout = GetString(env, o.Get("layout"), "layout");
    if (layout != "kn" && layout != "nk") ThrowRangeError(env, "layout must be 'kn' or 'nk', got '" + layout + "'");
    const int64_t group_size = GetInt(env, o.Get("groupSize"), "groupSize", 0, gemm::kMaxK);
    // The core's check, before the group count sizes the tables below.
    CallCore(env, [&] { gemm::CheckInt4GroupSize(group_size); });
    if (static_cast<long double>(w.length) != static_cast<long double>(k) * n) {
      ThrowRangeError(env,
                      "w has " + std::to_string(w.length) + " elements, expected k × n = " + std::to_string(k * n));
    }
    const int64_t g = group_size == 0 || group_size >= k ? 1 : (k + group_size - 1) / group_size;
    auto scales = GetArrayOfLength<float>(env, o.Get("scales"), "scales", static_cast<size_t>(g * n));
    const int32_t* zp = nullptr;
    const Napi::Value zero_points = o.Get("zeroPoints");
    if (!IsAbsent(zero_points))
      zp = GetArrayOfLength<int32_t>(env, zero_points, "zeroPoints", static_cast<size_t>(g * n)).data;
    Isa isa;
    const std::string isa_name = GetString(env, o.Get("isa"), "isa");
    if (!ParseIsa(isa_name, &isa)) ThrowRangeError(env, "isa '" + isa_name + "' is not a known path");
    if (!gemm::Int4IsaUsable(isa)) ThrowRangeError(env, "isa '" + isa_name + "' has no int4 path on this machine");
    PackAndAdopt(info, &kInt4Tag, "the int4 weights", [&] {
      return gemm::PackInt4(w.data, k, n, layout == "kn" ? gemm::BLayout::kKN : gemm::BLayout::kNK,
                            layout == "kn" ? n : k, group_size, scales.data, zp, isa);
    });
  }

  static std::shared_ptr<const PackedInt4> From(Napi::Env env, const Napi::Value& v, const char* name) {
    return Get(env, v, &kInt4Tag, std::string(name) + " must be an Int4PackedWeights object (from packInt4Weights)",
               std::string(name) + " has been disposed");
  }

 private:
  // The weights read back from the panels, k × n ('kn' layout).
  Napi::Value Unpack(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!packed_) ThrowRangeError(env, "the packed weights have been disposed");
    const int64_t k = packed_->k(), n = packed_->n();
    Napi::Int8Array out = Napi::Int8Array::New(env, static_cast<size_t>(k * n));
    for (int64_t kk = 0; kk < k; kk++)
      for (int64_t j = 0; j < n; j++)
        out[static_cast<size_t>(kk * n + j)] = static_cast<int8_t>(packed_->weight(kk, j));
    return out;
  }
  Napi::Value Num(const Napi::CallbackInfo& info, int64_t v) {
    return Napi::Number::New(info.Env(), packed_ ? static_cast<double>(v) : 0);
  }
  Napi::Value K(const Napi::CallbackInfo& info) { return Num(info, packed_ ? packed_->k() : 0); }
  Napi::Value N(const Napi::CallbackInfo& info) { return Num(info, packed_ ? packed_->n() : 0); }
  Napi::Value GroupSize(const Napi::CallbackInfo& info) { return Num(info, packed_ ? packed_->group_size() : 0); }
  Napi::Value Groups(const Napi::CallbackInfo& info) { return Num(info, packed_ ? packed_->groups() : 0); }
  Napi::Value ByteLength(const Napi::CallbackInfo& info) { return Num(info, bytes_); }
  Napi::Value IsaJs(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), packed_ ? IsaName(packed_->isa()) : "");
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !packed_); }
};

// A job owns copies of the small arrays and a reference to the packed weights.
struct Job {
  std::shared_ptr<const PackedInt4> packed;
  std::vector<int32_t> za;
  std::vector<float> sa, bias;
  gemm::Int4GemmArgs gemm;
  gemm::DynamicInt4Args dynamic;
  gemm::WeightOnlyInt4Args weight_only;
};

enum class Kind { kGemm, kDynamic, kWeightOnly };

// The output options common to every entry point: bias, activation (clampMin / clampMax for
// 'clamp'), threads; out is the third argument. Values are the core's to check.
gemm::Int4Output ParseOutput(Napi::Env env, const Napi::Object& o, const Napi::Value& out_v, int64_t m, int64_t n,
                             Job* job, int* threads) {
  gemm::Int4Output out;
  if (!IsAbsent(o.Get("bias"))) {
    auto b = GetArrayOfLength<float>(env, o.Get("bias"), "bias", static_cast<size_t>(n));
    job->bias.assign(b.data, b.data + b.length);
    out.bias = job->bias.data();
  }
  out.activation = GetActivation(env, o.Get("activation"), "activation");
  if (out.activation == Activation::kClamp) {
    out.clamp_min = static_cast<float>(GetFiniteNumber(env, o.Get("clampMin"), "clampMin"));
    out.clamp_max = static_cast<float>(GetFiniteNumber(env, o.Get("clampMax"), "clampMax"));
  }
  auto c = GetArrayOfLength<float>(env, out_v, "out", static_cast<size_t>(m * n));
  out.c = c.data;
  out.ldc = n;
  *threads = static_cast<int>(GetInt(env, o.Get("threads"), "threads", 0, 256));
  return out;
}

void Run(Kind kind, const Job& job) {
  if (kind == Kind::kGemm)
    gemm::GemmInt4(job.gemm);
  else if (kind == Kind::kDynamic)
    gemm::DynamicGemmInt4(job.dynamic);
  else
    gemm::WeightOnlyGemmInt4(job.weight_only);
}

// int4Gemm(a: Uint8Array | Int8Array, packed, out, {m, aZeroPoints, aScales, ...output})
// int4DynamicGemm(x: Float32Array, packed, out, {m, perRow, ...output})
// int4WeightOnlyGemm(x: Float32Array, packed, out, {m, ...output})
Napi::Value Entry(const Napi::CallbackInfo& info, Kind kind, bool async) {
  Napi::Env env = info.Env();
  auto job = std::make_shared<Job>();
  job->packed = Int4Wrap::From(env, info[1], "packed");
  const Napi::Object o = GetOptions(env, info[3], "options");
  const int64_t m = GetInt(env, o.Get("m"), "m", 0, gemm::kMaxDim - 1);
  const int64_t k = job->packed->k(), n = job->packed->n();
  const uint8_t* in_ptr = nullptr;
  size_t in_bytes = 0;
  int threads = 0;
  if (kind == Kind::kGemm) {
    if (!info[0].IsTypedArray()) ThrowTypeError(env, "a must be a Uint8Array or an Int8Array");
    const bool is_signed = info[0].As<Napi::TypedArray>().TypedArrayType() == napi_int8_array;
    const void* a_data;
    if (is_signed) {
      auto a = GetArrayOfLength<int8_t>(env, info[0], "a", static_cast<size_t>(m * k));
      a_data = a.data;
    } else {
      auto a = GetArrayOfLength<uint8_t>(env, info[0], "a", static_cast<size_t>(m * k));
      a_data = a.data;
    }
    in_ptr = static_cast<const uint8_t*>(a_data);
    in_bytes = static_cast<size_t>(m * k);
    auto za = GetArray<int32_t>(env, o.Get("aZeroPoints"), "aZeroPoints");
    auto sa = GetArray<float>(env, o.Get("aScales"), "aScales");
    if (za.length != 1 && za.length != static_cast<size_t>(m))
      ThrowRangeError(env, "aZeroPoints must have 1 or m entries");
    if (sa.length != 1 && sa.length != static_cast<size_t>(m)) ThrowRangeError(env, "aScales must have 1 or m entries");
    job->za.assign(za.data, za.data + za.length);
    job->sa.assign(sa.data, sa.data + sa.length);
    gemm::Int4GemmArgs& g = job->gemm;
    g.m = m;
    g.a = a_data;
    g.a_signed = is_signed;
    g.lda = k;
    g.a_zero_points = job->za.data();
    g.a_zero_point_per_row = za.length != 1;
    g.a_scales = job->sa.data();
    g.a_scale_per_row = sa.length != 1;
    g.b = job->packed.get();
    g.out = ParseOutput(env, o, info[2], m, n, job.get(), &threads);
    g.threads = threads;
  } else {
    auto x = GetArrayOfLength<float>(env, info[0], "x", static_cast<size_t>(m * k));
    in_ptr = reinterpret_cast<const uint8_t*>(x.data);
    in_bytes = x.length * sizeof(float);
    if (kind == Kind::kDynamic) {
      gemm::DynamicInt4Args& d = job->dynamic;
      d.m = m;
      d.x = x.data;
      d.ldx = k;
      d.per_row = GetBool(env, o.Get("perRow"), "perRow");
      d.b = job->packed.get();
      d.out = ParseOutput(env, o, info[2], m, n, job.get(), &threads);
      d.threads = threads;
    } else {
      gemm::WeightOnlyInt4Args& w = job->weight_only;
      w.m = m;
      w.x = x.data;
      w.ldx = k;
      w.b = job->packed.get();
      w.out = ParseOutput(env, o, info[2], m, n, job.get(), &threads);
      w.threads = threads;
    }
  }
  const gemm::Int4Output& out = kind == Kind::kGemm      ? job->gemm.out
                                : kind == Kind::kDynamic ? job->dynamic.out
                                                         : job->weight_only.out;
  const uint8_t* out_ptr = reinterpret_cast<const uint8_t*>(out.c);
  const size_t out_bytes = static_cast<size_t>(m * n) * sizeof(float);
  CheckNoOverlap(env, in_ptr, in_bytes, out_ptr, out_bytes, "the input", "out");
  if (!async) {
    CallCore(env, [&] { Run(kind, *job); });
    return env.Undefined();
  }
  // Validated synchronously (a bad argument rejects nothing later), then run on a worker.
  return RunAsync(
      env, [job, kind]() { Run(kind, *job); }, [](Napi::Env e2) { return e2.Undefined(); },
      {info[0], info[1], info[2]});
}

}  // namespace

void InitInt4(Napi::Env env, Napi::Object exports) {
  exports.Set("Int4PackedWeights", Int4Wrap::Define(env));
  auto add = [&](const char* name, Napi::Function::Callback cb) {
    exports.Set(name, Napi::Function::New(env, cb, name));
  };
  add("int4Gemm", [](const Napi::CallbackInfo& i) { return Entry(i, Kind::kGemm, false); });
  add("int4GemmAsync", [](const Napi::CallbackInfo& i) { return Entry(i, Kind::kGemm, true); });
  add("int4DynamicGemm", [](const Napi::CallbackInfo& i) { return Entry(i, Kind::kDynamic, false); });
  add("int4DynamicGemmAsync", [](const Napi::CallbackInfo& i) { return Entry(i, Kind::kDynamic, true); });
  add("int4WeightOnlyGemm", [](const Napi::CallbackInfo& i) { return Entry(i, Kind::kWeightOnly, false); });
  add("int4WeightOnlyGemmAsync", [](const Napi::CallbackInfo& i) { return Entry(i, Kind::kWeightOnly, true); });
  add("int4Isas", [](const Napi::CallbackInfo& i) -> Napi::Value {
    Napi::Env env = i.Env();
    Napi::Array out = Napi::Array::New(env);
    uint32_t idx = 0;
    for (Isa isa : {Isa::kRef, Isa::kAvx2, Isa::kNeon}) {
      if (gemm::Int4IsaUsable(isa)) out.Set(idx++, Napi::String::New(env, IsaName(isa)));
    }
    return out;
  });
  add("int4DefaultIsa", [](const Napi::CallbackInfo& i) -> Napi::Value {
    return Napi::String::New(i.Env(), IsaName(gemm::Int4DefaultIsa()));
  });
}

}  // namespace binding
}  // namespace tfjq
