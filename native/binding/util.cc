#include "binding/util.h"

#include <cmath>
#include <exception>

namespace tfjq {
namespace binding {

const char* TypedArrayTypeName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array:
      return "Int8Array";
    case napi_uint8_array:
      return "Uint8Array";
    case napi_uint8_clamped_array:
      return "Uint8ClampedArray";
    case napi_int16_array:
      return "Int16Array";
    case napi_uint16_array:
      return "Uint16Array";
    case napi_int32_array:
      return "Int32Array";
    case napi_uint32_array:
      return "Uint32Array";
    case napi_float32_array:
      return "Float32Array";
    case napi_float64_array:
      return "Float64Array";
    case napi_bigint64_array:
      return "BigInt64Array";
    case napi_biguint64_array:
      return "BigUint64Array";
    default:
      return "TypedArray";
  }
}

int64_t GetInt(Napi::Env env, const Napi::Value& v, const char* name, int64_t lo, int64_t hi) {
  if (!v.IsNumber()) ThrowTypeError(env, std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) ThrowTypeError(env, std::string(name) + " must be an integer");
  if (d < static_cast<double>(lo) || d > static_cast<double>(hi)) {
    ThrowRangeError(env, std::string(name) + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                             "], got " + std::to_string(static_cast<long long>(d)));
  }
  return static_cast<int64_t>(d);
}

double GetFiniteNumber(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) ThrowTypeError(env, std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) ThrowRangeError(env, std::string(name) + " must be finite");
  return d;
}

bool GetBool(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsBoolean()) ThrowTypeError(env, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string GetString(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsString()) ThrowTypeError(env, std::string(name) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Activation GetActivation(Napi::Env env, const Napi::Value& v, const char* name) {
  const std::string s = GetString(env, v, name);
  Activation a;
  if (ParseActivation(s.c_str(), &a)) return a;
  std::string names;
  for (const char* n : kActivationNames) names += std::string(names.empty() ? "'" : ", '") + n + "'";
  ThrowRangeError(env, std::string(name) + " must be one of " + names + ", got '" + s + "'");
}

Napi::Object GetOptions(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) ThrowTypeError(env, std::string(name) + " must be an object");
  return v.As<Napi::Object>();
}

Napi::Value GetField(Napi::Env env, const Napi::Value& obj, const char* name, const char* key) {
  if (!obj.IsObject()) ThrowTypeError(env, std::string(name) + " must be an object");
  return obj.As<Napi::Object>().Get(key);
}

namespace {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done,
                const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncWorker(env, "tfjs-quant"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        done_(std::move(done)) {
    for (const auto& v : keep_alive) {
      if (v.IsObject()) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      work_();
    } catch (const std::invalid_argument& e) {
      range_error_ = true;
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      SetError("out of memory");
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(done_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
    refs_.clear();
  }

  void OnError(const Napi::Error& e) override {
    deferred_.Reject(range_error_ ? Napi::RangeError::New(Env(), e.Message()).Value() : e.Value());
    refs_.clear();
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
  std::vector<Napi::ObjectReference> refs_;
  bool range_error_ = false;  // set on the worker thread before OnError runs on the JS thread
};

}  // namespace

Napi::Promise RunAsync(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done,
                       const std::vector<Napi::Value>& keep_alive) {
  auto* w = new PromiseWorker(env, std::move(work), std::move(done), keep_alive);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace binding
}  // namespace tfjq
