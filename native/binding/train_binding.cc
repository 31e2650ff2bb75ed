// Float training kernels for tfjs (native/train/conv_train.h, native/float/): synchronous entry points
// (tfjs kernels are synchronous). Outputs are caller-provided Float32Arrays so the wasm
// backend's heap can be written in place.
#include <memory>
#include <stdexcept>
#include <string>

#include "binding/modules.h"
#include "binding/util.h"
#include "float/conv.h"
#include "float/gemm.h"
#include "train/conv_train.h"

namespace tfjq {
namespace binding {
namespace {

constexpr int64_t kMaxDim = (int64_t{1} << 31) - 1;

ConvGeom GetGeom(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject() || v.IsArray()) ThrowTypeError(env, "geom must be an object");
  auto f = [&](const char* key, int64_t lo) {
    std::string name = std::string("geom.") + key;
    return GetInt(env, GetField(env, v, "geom", key), name.c_str(), lo, kMaxDim);
  };
  ConvGeom g;
  g.batch = f("batch", 0);
  g.in_h = f("inHeight", 0);
  g.in_w = f("inWidth", 0);
  g.in_c = f("inChannels", 0);
  g.out_h = f("outHeight", 0);
  g.out_w = f("outWidth", 0);
  g.out_c = f("outChannels", 0);
  g.k_h = f("filterHeight", 1);
  g.k_w = f("filterWidth", 1);
  g.stride_h = f("strideHeight", 1);
  g.stride_w = f("strideWidth", 1);
  g.dilation_h = f("dilationHeight", 1);
  g.dilation_w = f("dilationWidth", 1);
  g.pad_top = f("padTop", 0);
  g.pad_left = f("padLeft", 0);
  return g;
}

enum class Kind { kConv, kDepthwise, kPool };

void Validate(Napi::Env env, const ConvGeom& g, Kind kind) {
  try {
    if (kind == Kind::kPool)
      f32::ValidatePoolGeom(g);
    else
      f32::ValidateConvGeom(g, kind == Kind::kDepthwise);
  } catch (const std::exception& e) {
    ThrowRangeError(env, std::string("geom: ") + e.what());
  }
}

void CheckNoAlias(Napi::Env env, const View<float>& out, const char* out_name, const View<float>& in,
                  const char* in_name) {
  CheckNoOverlap(env, in, out, in_name, out_name);
}

// fn(geom, in0, in1, out) with the three sizes given by the geometry.
template <typename SizeA, typename SizeB, typename SizeOut, typename Fn>
Napi::Value Run3(const Napi::CallbackInfo& info, Kind kind, const char* na, const char* nb, const char* nout,
                 SizeA size_a, SizeB size_b, SizeOut size_out, Fn fn) {
  Napi::Env env = info.Env();
  if (info.Length() != 4)
    ThrowTypeError(env, "expected 4 arguments (geom, " + std::string(na) + ", " + nb + ", " + nout + ")");
  ConvGeom g = GetGeom(env, info[0]);
  Validate(env, g, kind);
  auto a = GetArrayOfLength<float>(env, info[1], na, static_cast<size_t>(size_a(g)));
  auto b = GetArrayOfLength<float>(env, info[2], nb, static_cast<size_t>(size_b(g)));
  auto out = GetArrayOfLength<float>(env, info[3], nout, static_cast<size_t>(size_out(g)));
  CheckNoAlias(env, out, nout, a, na);
  CheckNoAlias(env, out, nout, b, nb);
  CallCore(env, [&] { fn(g, a.data, b.data, out.data); });
  return env.Undefined();
}

int64_t In(const ConvGeom& g) { return f32::InputSize(g); }
int64_t Out(const ConvGeom& g) { return f32::OutputSize(g); }
int64_t Filt(const ConvGeom& g) { return f32::FilterSize(g, false); }
int64_t DwFilt(const ConvGeom& g) { return f32::FilterSize(g, true); }

Napi::Value Conv2DJs(const Napi::CallbackInfo& info) {
  return Run3(info, Kind::kConv, "x", "filter", "y", In, Filt, Out,
              [](const ConvGeom& g, const float* x, const float* w, float* y) { f32::Conv2D(g, x, w, y); });
}
Napi::Value Conv2DBackpropInputJs(const Napi::CallbackInfo& info) {
  return Run3(
      info, Kind::kConv, "dy", "filter", "dx", Out, Filt, In,
      [](const ConvGeom& g, const float* dy, const float* w, float* dx) { train::Conv2DBackpropInput(g, dy, w, dx); });
}
Napi::Value Conv2DBackpropFilterJs(const Napi::CallbackInfo& info) {
  return Run3(info, Kind::kConv, "x", "dy", "dw", In, Out, Filt, train::Conv2DBackpropFilter);
}
Napi::Value DepthwiseConv2DJs(const Napi::CallbackInfo& info) {
  return Run3(info, Kind::kDepthwise, "x", "filter", "y", In, DwFilt, Out, train::DepthwiseConv2D);
}
Napi::Value DepthwiseConv2DBackpropInputJs(const Napi::CallbackInfo& info) {
  return Run3(info, Kind::kDepthwise, "dy", "filter", "dx", Out, DwFilt, In, train::DepthwiseConv2DBackpropInput);
}
Napi::Value DepthwiseConv2DBackpropFilterJs(const Napi::CallbackInfo& info) {
  return Run3(info, Kind::kDepthwise, "x", "dy", "dw", In, Out, DwFilt, train::DepthwiseConv2DBackpropFilter);
}
Napi::Value MaxPoolGradJs(const Napi::CallbackInfo& info) {
  return Run3(info, Kind::kPool, "x", "dy", "dx", In, Out, In, train::MaxPoolGrad);
}
Napi::Value AvgPoolGradJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3) ThrowTypeError(env, "expected 3 arguments (geom, dy, dx)");
  ConvGeom g = GetGeom(env, info[0]);
  Validate(env, g, Kind::kPool);
  auto dy = GetArrayOfLength<float>(env, info[1], "dy", static_cast<size_t>(Out(g)));
  auto dx = GetArrayOfLength<float>(env, info[2], "dx", static_cast<size_t>(In(g)));
  CheckNoAlias(env, dx, "dx", dy, "dy");
  CallCore(env, [&] { train::AvgPoolGrad(g, dy.data, dx.data); });
  return env.Undefined();
}

// trainBiasActivation(y, {channels, bias | null, activation, alpha}): in place.
Napi::Value BiasActivationJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2) ThrowTypeError(env, "expected 2 arguments (y, options)");
  auto y = GetArray<float>(env, info[0], "y");
  const Napi::Object o = GetOptions(env, info[1], "options");
  const int64_t channels = GetInt(env, o.Get("channels"), "channels", 1, kMaxDim);
  if (y.length % static_cast<size_t>(channels) != 0) {
    ThrowRangeError(env, "y has " + std::to_string(y.length) + " elements, not a multiple of channels (" +
                             std::to_string(channels) + ")");
  }
  View<float> bias;
  const bool has_bias = !IsAbsent(o.Get("bias"));
  if (has_bias) {
    bias = GetArray<float>(env, o.Get("bias"), "bias");
    if (bias.length != 1 && bias.length != static_cast<size_t>(channels)) {
      ThrowRangeError(
          env, "bias has " + std::to_string(bias.length) + " elements, expected 1 or " + std::to_string(channels));
    }
    CheckNoAlias(env, y, "y", bias, "bias");
  }
  const Activation a = GetActivation(env, o.Get("activation"), "activation");
  const float alpha = static_cast<float>(GetFiniteNumber(env, o.Get("alpha"), "alpha"));
  CallCore(env, [&] {
    f32::BiasActivation(y.data, static_cast<int64_t>(y.length) / channels, channels, has_bias ? bias.data : nullptr,
                        static_cast<int64_t>(bias.length), a, alpha);
  });
  return env.Undefined();
}

// trainBatchMatMul(a, b, c, {batchA, batchB, m, n, k, transposeA, transposeB})
Napi::Value BatchMatMulJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) ThrowTypeError(env, "expected 4 arguments (a, b, c, options)");
  const Napi::Object o = GetOptions(env, info[3], "options");
  const int64_t ba = GetInt(env, o.Get("batchA"), "batchA", 0, kMaxDim);
  const int64_t bb = GetInt(env, o.Get("batchB"), "batchB", 0, kMaxDim);
  const int64_t m = GetInt(env, o.Get("m"), "m", 0, kMaxDim), n = GetInt(env, o.Get("n"), "n", 0, kMaxDim);
  const int64_t k = GetInt(env, o.Get("k"), "k", 0, kMaxDim);
  const bool ta = GetBool(env, o.Get("transposeA"), "transposeA"), tb = GetBool(env, o.Get("transposeB"), "transposeB");
  if (ba != bb && ba != 1 && bb != 1) {
    ThrowRangeError(env,
                    "batchA (" + std::to_string(ba) + ") and batchB (" + std::to_string(bb) + ") do not broadcast");
  }
  const double total = static_cast<double>(std::max(ba, bb)) * static_cast<double>(m) * static_cast<double>(n);
  if (total > 9.0e15 || static_cast<double>(ba) * m * k > 9.0e15 || static_cast<double>(bb) * k * n > 9.0e15) {
    ThrowRangeError(env, "matmul sizes are too large");
  }
  const int64_t batch = (ba == 0 || bb == 0) ? 0 : std::max(ba, bb);
  auto a = GetArrayOfLength<float>(env, info[0], "a", static_cast<size_t>(ba * m * k));
  auto b = GetArrayOfLength<float>(env, info[1], "b", static_cast<size_t>(bb * k * n));
  auto c = GetArrayOfLength<float>(env, info[2], "c", static_cast<size_t>(batch * m * n));
  CheckNoAlias(env, c, "c", a, "a");
  CheckNoAlias(env, c, "c", b, "b");
  CallCore(env, [&] { f32::BatchMatMul(ba, bb, m, n, k, ta, tb, a.data, b.data, c.data); });
  return env.Undefined();
}

const napi_type_tag kFloatPackedTag = {0x7f3a1c2e5b4d6a81ULL, 0x93c2d1e0f4a5b6c7ULL};

// new FloatPackedWeights(b, {k, n}): B [k, n] packed once as the runtime's float steps hold it.
class FloatPackedWrap : public PackedWrap<FloatPackedWrap, f32::PackedB> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FloatPackedWeights", {InstanceMethod("dispose", &FloatPackedWrap::Dispose)});
  }
  explicit FloatPackedWrap(const Napi::CallbackInfo& info) : PackedWrap(info) {
    Napi::Env env = info.Env();
    if (!info.IsConstructCall()) ThrowTypeError(env, "FloatPackedWeights must be called with new");
    if (info.Length() != 2) ThrowTypeError(env, "FloatPackedWeights expects 2 arguments (b, {k, n})");
    const Napi::Object o = GetOptions(env, info[1], "options");
    const int64_t k = GetInt(env, o.Get("k"), "k", 0, kMaxDim), n = GetInt(env, o.Get("n"), "n", 0, kMaxDim);
    if (static_cast<double>(k) * n > 9.0e15) ThrowRangeError(env, "matmul sizes are too large");
    auto b = GetArrayOfLength<float>(env, info[0], "b", static_cast<size_t>(k * n));
    PackAndAdopt(info, &kFloatPackedTag, "float weights", [&] { return f32::PackedB(b.data, k, n); });
  }
  static std::shared_ptr<const f32::PackedB> From(Napi::Env env, const Napi::Value& v) {
    return Get(env, v, &kFloatPackedTag, "b must be a Float32Array or a FloatPackedWeights object",
               "b has been disposed");
  }
};

// floatMatMul(a, b, c, {m, n, k, threads}): the runtime's float MatMul — f32::MatMul on weights
// packed into f32::PackedB. b: a FloatPackedWeights (packed once, as the runtime's steps
// hold them) or a Float32Array [k, n] (packed for this call).
Napi::Value FloatMatMulJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) ThrowTypeError(env, "expected 4 arguments (a, b, c, options)");
  const Napi::Object o = GetOptions(env, info[3], "options");
  const int64_t m = GetInt(env, o.Get("m"), "m", 0, kMaxDim), n = GetInt(env, o.Get("n"), "n", 0, kMaxDim);
  const int64_t k = GetInt(env, o.Get("k"), "k", 0, kMaxDim);
  const int threads = static_cast<int>(GetInt(env, o.Get("threads"), "threads", 0, 256));
  if (static_cast<double>(m) * n > 9.0e15 || static_cast<double>(m) * k > 9.0e15 ||
      static_cast<double>(k) * n > 9.0e15) {
    ThrowRangeError(env, "matmul sizes are too large");
  }
  auto a = GetArrayOfLength<float>(env, info[0], "a", static_cast<size_t>(m * k));
  auto c = GetArrayOfLength<float>(env, info[2], "c", static_cast<size_t>(m * n));
  CheckNoAlias(env, c, "c", a, "a");
  std::shared_ptr<const f32::PackedB> packed;
  if (info[1].IsTypedArray()) {
    auto b = GetArrayOfLength<float>(env, info[1], "b", static_cast<size_t>(k * n));
    CheckNoAlias(env, c, "c", b, "b");
    packed = std::make_shared<const f32::PackedB>(b.data, k, n);
  } else {
    packed = FloatPackedWrap::From(env, info[1]);
    if (packed->k() != k || packed->n() != n) {
      ThrowRangeError(env, "b was packed for k × n = " + std::to_string(packed->k()) + " × " +
                               std::to_string(packed->n()) + ", not " + std::to_string(k) + " × " + std::to_string(n));
    }
  }
  CallCore(env, [&] { f32::MatMul(m, a.data, *packed, c.data, threads); });
  return env.Undefined();
}

}  // namespace

void InitTrain(Napi::Env env, Napi::Object exports) {
  exports.Set("floatMatMul", Napi::Function::New(env, FloatMatMulJs, "floatMatMul"));
  exports.Set("FloatPackedWeights", FloatPackedWrap::Define(env));
  exports.Set("trainConv2D", Napi::Function::New(env, Conv2DJs, "trainConv2D"));
  exports.Set("trainConv2DBackpropInput", Napi::Function::New(env, Conv2DBackpropInputJs, "trainConv2DBackpropInput"));
  exports.Set("trainConv2DBackpropFilter",
              Napi::Function::New(env, Conv2DBackpropFilterJs, "trainConv2DBackpropFilter"));
  exports.Set("trainDepthwiseConv2D", Napi::Function::New(env, DepthwiseConv2DJs, "trainDepthwiseConv2D"));
  exports.Set("trainDepthwiseConv2DBackpropInput",
              Napi::Function::New(env, DepthwiseConv2DBackpropInputJs, "trainDepthwiseConv2DBackpropInput"));
  exports.Set("trainDepthwiseConv2DBackpropFilter",
              Napi::Function::New(env, DepthwiseConv2DBackpropFilterJs, "trainDepthwiseConv2DBackpropFilter"));
  exports.Set("trainMaxPoolGrad", Napi::Function::New(env, MaxPoolGradJs, "trainMaxPoolGrad"));
  exports.Set("trainBatchMatMul", Napi::Function::New(env, BatchMatMulJs, "trainBatchMatMul"));
  exports.Set("trainBiasActivation", Napi::Function::New(env, BiasActivationJs, "trainBiasActivation"));
  exports.Set("trainAvgPoolGrad", Napi::Function::New(env, AvgPoolGradJs, "trainAvgPoolGrad"));
}

}  // namespace binding
}  // namespace tfjq
