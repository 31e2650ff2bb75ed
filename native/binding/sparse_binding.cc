// N-API surface of the sparse kernels (native/sparse): structure analysis, packed sparse
// weights, and the float32 / int8 products. Use src/sparse (validates first).
#include <cstring>
#include <limits>
#include <memory>

#include "binding/modules.h"
#include "binding/util.h"
#include "common/cpu.h"
#include "sparse/sparse.h"

namespace tfjq {
namespace binding {

namespace {

constexpr napi_type_tag kSparseTag = {0x7466'6a71'7370'6172ULL, 0x7365'5061'636b'6564ULL};

// w: Float32Array or Int8Array of k × n.
struct WeightArg {
  const float* f = nullptr;
  const int8_t* i = nullptr;
};

WeightArg GetWeights(Napi::Env env, const Napi::Value& v, int64_t k, int64_t n) {
  WeightArg a;
  if (!v.IsTypedArray()) ThrowTypeError(env, "w must be a Float32Array or an Int8Array");
  const auto t = v.As<Napi::TypedArray>().TypedArrayType();
  size_t len = 0;
  if (t == napi_float32_array) {
    auto view = GetArray<float>(env, v, "w");
    a.f = view.data;
    len = view.length;
  } else if (t == napi_int8_array) {
    auto view = GetArray<int8_t>(env, v, "w");
    a.i = view.data;
    len = view.length;
  } else {
    ThrowTypeError(env, std::string("w must be a Float32Array or an Int8Array, got ") + TypedArrayTypeName(t));
  }
  if (static_cast<long double>(len) != static_cast<long double>(k) * n) {
    ThrowRangeError(env, "w has " + std::to_string(len) + " elements, expected k × n = " + std::to_string(k * n));
  }
  return a;
}

Napi::Object StructureObject(Napi::Env env, const sparse::Structure& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("k", Napi::Number::New(env, static_cast<double>(s.k)));
  o.Set("n", Napi::Number::New(env, static_cast<double>(s.n)));
  o.Set("nnz", Napi::Number::New(env, static_cast<double>(s.nnz)));
  o.Set("sparsity", Napi::Number::New(env, s.sparsity));
  o.Set("nm24", Napi::Boolean::New(env, s.nm24));
  o.Set("blockRows", Napi::Number::New(env, s.block_rows));
  o.Set("blockCols", Napi::Number::New(env, s.block_cols));
  o.Set("blockFill", Napi::Number::New(env, s.block_fill));
  o.Set("format", Napi::String::New(env, sparse::FormatName(s.format)));
  return o;
}

// sparseAnalyze(w, {k, n}) -> structure
Napi::Value Analyze(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2) ThrowTypeError(env, "sparseAnalyze expects 2 arguments (w, {k, n})");
  const Napi::Object o = GetOptions(env, info[1], "options");
  const int64_t k = GetInt(env, o.Get("k"), "k", 1, 65536);
  const int64_t n = GetInt(env, o.Get("n"), "n", 1, (int64_t{1} << 31) - 1);
  const WeightArg w = GetWeights(env, info[0], k, n);
  return CallCore(
      env, [&] { return StructureObject(env, w.f ? sparse::AnalyzeF32(w.f, k, n) : sparse::AnalyzeI8(w.i, k, n)); });
}

class SparseWrap : public PackedWrap<SparseWrap, sparse::PackedSparse> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "SparsePackedWeights",
                       {InstanceMethod("dispose", &SparseWrap::Dispose), InstanceMethod("info", &SparseWrap::Info)});
  }

  // new SparsePackedWeights(w, {k, n, format: 'auto'|'csc'|'block'|'2:4', blockRows, blockCols, isa})
  explicit SparseWrap(const Napi::CallbackInfo& info) : PackedWrap(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) ThrowTypeError(env, "SparsePackedWeights must be called with new");
    if (info.Length() != 2) ThrowTypeError(env, "SparsePackedWeights expects 2 arguments (w, options)");
    const Napi::Object opts = GetOptions(env, info[1], "options");
    const int64_t k = GetInt(env, opts.Get("k"), "k", 1, 65536);
    const int64_t n = GetInt(env, opts.Get("n"), "n", 1, (int64_t{1} << 31) - 1);
    const WeightArg w = GetWeights(env, info[0], k, n);
    const std::string format = GetString(env, opts.Get("format"), "format");
    sparse::PackOptions o;
    if (format == "csc") {
      o.force_format = true;
      o.format = sparse::Format::kCsc;
    } else if (format == "block") {
      o.force_format = true;
      o.format = sparse::Format::kBlock;
    } else if (format == "2:4") {
      o.force_format = true;
      o.format = sparse::Format::kNM24;
    } else if (format != "auto")
      ThrowRangeError(env, "format must be 'auto', 'csc', 'block' or '2:4', got '" + format + "'");
    o.block_rows = static_cast<int>(GetInt(env, opts.Get("blockRows"), "blockRows", 1, 8));
    o.block_cols = static_cast<int>(GetInt(env, opts.Get("blockCols"), "blockCols", 1, 8));
    Isa isa;
    const std::string isa_name = GetString(env, opts.Get("isa"), "isa");
    if (!ParseIsa(isa_name, &isa) || !(isa == Isa::kRef || IsaSupported(isa)))
      ThrowRangeError(env, "isa '" + isa_name + "' is not available here");
    PackAndAdopt(info, &kSparseTag, "sparse weights",
                 [&] { return w.f ? sparse::PackF32(w.f, k, n, o, isa) : sparse::PackI8(w.i, k, n, o, isa); });
  }

  static std::shared_ptr<const sparse::PackedSparse> From(Napi::Env env, const Napi::Value& v) {
    return Get(env, v, &kSparseTag, "packed must be a SparsePackedWeights object", "packed has been disposed");
  }

 private:
  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!packed_) return env.Null();
    const sparse::PackedSparse& p = *packed_;
    Napi::Object o = Napi::Object::New(env);
    o.Set("k", Napi::Number::New(env, static_cast<double>(p.k())));
    o.Set("n", Napi::Number::New(env, static_cast<double>(p.n())));
    o.Set("format", Napi::String::New(env, sparse::FormatName(p.format())));
    o.Set("blockRows", Napi::Number::New(env, p.block_rows()));
    o.Set("blockCols", Napi::Number::New(env, p.block_cols()));
    o.Set("nnz", Napi::Number::New(env, static_cast<double>(p.nnz())));
    o.Set("stored", Napi::Number::New(env, static_cast<double>(p.stored())));
    o.Set("dtype", Napi::String::New(env, p.type() == sparse::ValueType::kF32 ? "float32" : "int8"));
    o.Set("isa", Napi::String::New(env, IsaName(p.isa())));
    o.Set("byteLength", Napi::Number::New(env, static_cast<double>(bytes_)));
    return o;
  }
};

// sparseMatmulF32(packed, x, out, {m, threads}): out[m × n] = x[m × k] · W
Napi::Value MatmulF32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) ThrowTypeError(env, "sparseMatmulF32 expects 4 arguments (packed, x, out, options)");
  auto p = SparseWrap::From(env, info[0]);
  const Napi::Object o = GetOptions(env, info[3], "options");
  const int64_t m = GetInt(env, o.Get("m"), "m", 0, (int64_t{1} << 31) - 1);
  auto x = GetArrayOfLength<float>(env, info[1], "x", static_cast<size_t>(m * p->k()));
  auto out = GetArrayOfLength<float>(env, info[2], "out", static_cast<size_t>(m * p->n()));
  const int threads = static_cast<int>(GetInt(env, o.Get("threads"), "threads", 0, 256));
  CallCore(env, [&] { sparse::SpmmF32(*p, x.data, p->k(), m, out.data, p->n(), threads); });
  return env.Undefined();
}

// sparseMatmulI8(packed, x, out, options: {m, aZeroPoint, outZeroPoint, qmin, qmax, threads,
// bias | null, multipliers}); values are the core's to check (sparse.h).
Napi::Value MatmulI8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) ThrowTypeError(env, "sparseMatmulI8 expects 4 arguments (packed, x, out, options)");
  auto p = SparseWrap::From(env, info[0]);
  const Napi::Object o = GetOptions(env, info[3], "options");
  const int64_t m = GetInt(env, o.Get("m"), "m", 0, (int64_t{1} << 31) - 1);
  auto x = GetArrayOfLength<int8_t>(env, info[1], "x", static_cast<size_t>(m * p->k()));
  auto out = GetArrayOfLength<int8_t>(env, info[2], "out", static_cast<size_t>(m * p->n()));
  constexpr int64_t kLo = std::numeric_limits<int32_t>::min(), kHi = std::numeric_limits<int32_t>::max();
  sparse::I8Epilogue e;
  e.za = static_cast<int32_t>(GetInt(env, o.Get("aZeroPoint"), "aZeroPoint", kLo, kHi));
  e.zo = static_cast<int32_t>(GetInt(env, o.Get("outZeroPoint"), "outZeroPoint", kLo, kHi));
  e.qmin = static_cast<int32_t>(GetInt(env, o.Get("qmin"), "qmin", kLo, kHi));
  e.qmax = static_cast<int32_t>(GetInt(env, o.Get("qmax"), "qmax", kLo, kHi));
  const int threads = static_cast<int>(GetInt(env, o.Get("threads"), "threads", 0, 256));
  std::vector<int32_t> bias;
  if (!IsAbsent(o.Get("bias"))) {
    auto b = GetArrayOfLength<int32_t>(env, o.Get("bias"), "bias", static_cast<size_t>(p->n()));
    bias.assign(b.data, b.data + b.length);
    e.bias = bias.data();
  }
  auto mv = GetArray<float>(env, o.Get("multipliers"), "multipliers");
  if (mv.length != 1 && mv.length != static_cast<size_t>(p->n()))
    ThrowRangeError(env, "multipliers must have 1 or n entries");
  std::vector<float> mult(mv.data, mv.data + mv.length);
  e.multipliers = mult.data();
  e.per_channel = mult.size() == static_cast<size_t>(p->n()) && p->n() != 1;
  CallCore(env, [&] { sparse::SpmmI8(*p, x.data, p->k(), m, e, out.data, p->n(), threads); });
  return env.Undefined();
}

}  // namespace

void InitSparse(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseAnalyze", Napi::Function::New(env, Analyze, "sparseAnalyze"));
  exports.Set("SparsePackedWeights", SparseWrap::Define(env));
  exports.Set("sparseMatmulF32", Napi::Function::New(env, MatmulF32, "sparseMatmulF32"));
  exports.Set("sparseMatmulI8", Napi::Function::New(env, MatmulI8, "sparseMatmulI8"));
}

}  // namespace binding
}  // namespace tfjq
