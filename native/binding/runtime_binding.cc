// N-API binding: whole-graph inference sessions.
//
//   const s = new RuntimeSession(plan, { threads })   // plan: see native/runtime/session.h
//   const outs = await s.run(inputs, { batch })    // one TypedArray per plan output
//   s.memory()  → { weightBytes, arenaBytes };  s.profile(enable?) → [{op, seconds}];  s.dispose()
//
// Everything in the plan is validated here and in runtime::Session (RangeError/TypeError,
// never a crash). A run holds its own reference to the session, so dispose() during a run
// is safe; the run finishes and the memory goes with it.
#include <napi.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "binding/modules.h"
#include "binding/util.h"
#include "common/thread_pool.h"
#include "runtime/session.h"

namespace tfjq {
namespace binding {
namespace {

using runtime::DType;

DType ParseDType(Napi::Env env, const Napi::Value& v, const std::string& name) {
  const int64_t d = GetInt(env, v, name.c_str(), 0, 3);
  return static_cast<DType>(d);
}

std::vector<int64_t> IntList(Napi::Env env, const Napi::Value& v, const std::string& name, int64_t lo, int64_t hi) {
  if (v.IsUndefined() || v.IsNull()) return {};
  if (!v.IsArray()) ThrowTypeError(env, name + " must be an array of integers");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > (1u << 20)) ThrowRangeError(env, name + " is too long");
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++)
    out[i] = GetInt(env, a.Get(i), (name + "[" + std::to_string(i) + "]").c_str(), lo, hi);
  return out;
}

std::vector<int> IdList(Napi::Env env, const Napi::Value& v, const std::string& name) {
  std::vector<int> out;
  for (int64_t x : IntList(env, v, name, -1, (int64_t{1} << 30))) out.push_back(static_cast<int>(x));
  return out;
}

runtime::PlanSpec ParsePlan(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) ThrowTypeError(env, "plan must be an object");
  runtime::PlanSpec p;
  Napi::Value bufs = GetField(env, v, "plan", "buffers");
  if (!bufs.IsArray()) ThrowTypeError(env, "plan.buffers must be an array");
  Napi::Array ba = bufs.As<Napi::Array>();
  for (uint32_t i = 0; i < ba.Length(); i++) {
    const std::string n = "plan.buffers[" + std::to_string(i) + "]";
    Napi::Value b = ba.Get(i);
    runtime::BufferSpec s;
    s.dtype = ParseDType(env, GetField(env, b, n.c_str(), "dtype"), n + ".dtype");
    s.shape = IntList(env, GetField(env, b, n.c_str(), "shape"), n + ".shape", -1, int64_t{1} << 31);
    Napi::Value ci = GetField(env, b, n.c_str(), "constIndex");
    s.const_index = (ci.IsUndefined() || ci.IsNull())
                        ? -1
                        : static_cast<int>(GetInt(env, ci, (n + ".constIndex").c_str(), -1, 1 << 30));
    p.buffers.push_back(std::move(s));
  }
  Napi::Value ws = GetField(env, v, "plan", "weights");
  if (!ws.IsArray()) ThrowTypeError(env, "plan.weights must be an array of typed arrays");
  Napi::Array wa = ws.As<Napi::Array>();
  for (uint32_t i = 0; i < wa.Length(); i++) {
    const std::string n = "plan.weights[" + std::to_string(i) + "]";
    Napi::Value w = wa.Get(i);
    if (!w.IsTypedArray()) ThrowTypeError(env, n + " must be a typed array");
    runtime::WeightSpec s;
    auto copy = [&](const uint8_t* d, size_t bytes) { s.bytes.assign(d, d + bytes); };
    switch (w.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: {
        auto a = GetArray<float>(env, w, n.c_str());
        s.dtype = DType::kF32;
        copy(reinterpret_cast<const uint8_t*>(a.data), a.length * 4);
        break;
      }
      case napi_int8_array: {
        auto a = GetArray<int8_t>(env, w, n.c_str());
        s.dtype = DType::kI8;
        copy(reinterpret_cast<const uint8_t*>(a.data), a.length);
        break;
      }
      case napi_uint8_array: {
        auto a = GetArray<uint8_t>(env, w, n.c_str());
        s.dtype = DType::kU8;
        copy(a.data, a.length);
        break;
      }
      case napi_int32_array: {
        auto a = GetArray<int32_t>(env, w, n.c_str());
        s.dtype = DType::kI32;
        copy(reinterpret_cast<const uint8_t*>(a.data), a.length * 4);
        break;
      }
      default:
        ThrowTypeError(env, n + " must be a Float32Array, Int8Array, Uint8Array or Int32Array");
    }
    p.weights.push_back(std::move(s));
  }
  Napi::Value st = GetField(env, v, "plan", "steps");
  if (!st.IsArray()) ThrowTypeError(env, "plan.steps must be an array");
  Napi::Array sa = st.As<Napi::Array>();
  for (uint32_t i = 0; i < sa.Length(); i++) {
    const std::string n = "plan.steps[" + std::to_string(i) + "]";
    Napi::Value o = sa.Get(i);
    runtime::StepSpec s;
    s.op = GetString(env, GetField(env, o, n.c_str(), "op"), (n + ".op").c_str());
    s.inputs = IdList(env, GetField(env, o, n.c_str(), "inputs"), n + ".inputs");
    s.outputs = IdList(env, GetField(env, o, n.c_str(), "outputs"), n + ".outputs");
    s.temps = IdList(env, GetField(env, o, n.c_str(), "temps"), n + ".temps");
    s.weights = IdList(env, GetField(env, o, n.c_str(), "weights"), n + ".weights");
    s.ints = IntList(env, GetField(env, o, n.c_str(), "ints"), n + ".ints", -(int64_t{1} << 40), int64_t{1} << 40);
    Napi::Value fl = GetField(env, o, n.c_str(), "floats");
    if (!fl.IsUndefined() && !fl.IsNull()) {
      if (!fl.IsArray()) ThrowTypeError(env, n + ".floats must be an array of numbers");
      Napi::Array fa = fl.As<Napi::Array>();
      for (uint32_t j = 0; j < fa.Length(); j++)
        s.floats.push_back(GetFiniteNumber(env, fa.Get(j), (n + ".floats").c_str()));
    }
    p.steps.push_back(std::move(s));
  }
  p.inputs = IdList(env, GetField(env, v, "plan", "inputs"), "plan.inputs");
  p.outputs = IdList(env, GetField(env, v, "plan", "outputs"), "plan.outputs");
  return p;
}

class RuntimeSessionWrap : public Napi::ObjectWrap<RuntimeSessionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "RuntimeSession",
        {InstanceMethod("run", &RuntimeSessionWrap::Run), InstanceMethod("runSync", &RuntimeSessionWrap::RunSync),
         InstanceMethod("memory", &RuntimeSessionWrap::Memory), InstanceMethod("dispose", &RuntimeSessionWrap::Dispose),
         InstanceMethod("profile", &RuntimeSessionWrap::Profile)});
  }

  explicit RuntimeSessionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RuntimeSessionWrap>(info) {
    Napi::Env env = info.Env();
    runtime::PlanSpec plan = ParsePlan(env, info[0]);
    const int threads =
        static_cast<int>(GetInt(env, GetOptions(env, info[1], "options").Get("threads"), "threads", 0, 256));
    try {
      session_ = std::make_shared<runtime::Session>(std::move(plan), threads);
    } catch (const std::invalid_argument& e) {
      ThrowRangeError(env, std::string("invalid plan: ") + e.what());
    } catch (const std::bad_alloc&) {
      throw Napi::Error::New(env, "out of memory creating the session");
    }
    external_ = static_cast<int64_t>(session_->weight_bytes());
    Napi::MemoryManagement::AdjustExternalMemory(env, external_);
  }

  void Finalize(Napi::Env env) override { Release(env); }

 private:
  void Release(Napi::Env env) {
    if (!session_) return;
    session_.reset();
    Napi::MemoryManagement::AdjustExternalMemory(env, -external_);
  }

  std::shared_ptr<runtime::Session> Live(Napi::Env env) {
    if (!session_) throw Napi::Error::New(env, "the session has been disposed");
    return session_;
  }

  // The arguments of run / runSync checked and bound: input pointers, output arrays allocated.
  struct Bound {
    std::shared_ptr<runtime::Session> s;
    int64_t batch = 1;
    std::vector<Napi::Value> keep;
    std::vector<const void*> ins;
    std::vector<void*> outp;
    Napi::Array outs;
  };

  Napi::Value Run(const Napi::CallbackInfo& info) {
    Bound b = Bind(info);
    auto outs_ref = std::make_shared<Napi::Reference<Napi::Array>>(Napi::Persistent(b.outs));
    auto s = b.s;
    const int64_t batch = b.batch;
    auto ins = b.ins;
    auto outp = b.outp;
    // The run queue, not libuv's pool: its threads spin between runs (common/run_queue.h)
    // when the run leaves a core for the JS thread.
    const bool spin_after = Participants(s->threads()) < AvailableCores();
    return RunOnQueue(
        info.Env(), [s, batch, ins, outp]() { s->Run(batch, ins, outp); },
        [outs_ref](Napi::Env) -> Napi::Value {
          Napi::Value v = outs_ref->Value();
          outs_ref->Reset();
          return v;
        },
        b.keep, spin_after);
  }

  // The same run on the calling thread: for tf.InferenceModel's synchronous predict/execute,
  // which callers use where they cannot await (it blocks the event loop for the run's length).
  // Session::Run is thread-safe (one arena per concurrent run), so it may overlap async runs.
  Napi::Value RunSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Bound b = Bind(info);
    try {
      b.s->Run(b.batch, b.ins, b.outp);
    } catch (const std::bad_alloc&) {
      throw Napi::Error::New(env, "out of memory");
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    return b.outs;
  }

  Bound Bind(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<runtime::Session> s = Live(env);
    const auto& plan = s->plan();
    const int64_t batch = GetInt(env, GetOptions(env, info[1], "options").Get("batch"), "batch", 1, int64_t{1} << 24);
    if (!s->batched() && batch != 1) ThrowRangeError(env, "batch must be 1 (the plan has no batch dimension)");
    if (!info[0].IsArray()) ThrowTypeError(env, "inputs must be an array of typed arrays");
    Napi::Array in = info[0].As<Napi::Array>();
    if (in.Length() != plan.inputs.size())
      ThrowRangeError(env,
                      "expected " + std::to_string(plan.inputs.size()) + " inputs, got " + std::to_string(in.Length()));
    std::vector<Napi::Value> keep;
    std::vector<const void*> ins;
    for (uint32_t i = 0; i < in.Length(); i++) {
      const int id = plan.inputs[i];
      const size_t n = static_cast<size_t>(s->Elements(id, batch));
      const std::string name = "inputs[" + std::to_string(i) + "]";
      Napi::Value v = in.Get(i);
      switch (plan.buffers[static_cast<size_t>(id)].dtype) {
        case DType::kF32:
          ins.push_back(GetArrayOfLength<float>(env, v, name.c_str(), n).data);
          break;
        case DType::kI8:
          ins.push_back(GetArrayOfLength<int8_t>(env, v, name.c_str(), n).data);
          break;
        case DType::kU8:
          ins.push_back(GetArrayOfLength<uint8_t>(env, v, name.c_str(), n).data);
          break;
        case DType::kI32:
          ins.push_back(GetArrayOfLength<int32_t>(env, v, name.c_str(), n).data);
          break;
      }
      keep.push_back(v);
    }
    Napi::Array outs = Napi::Array::New(env, plan.outputs.size());
    std::vector<void*> outp;
    for (size_t i = 0; i < plan.outputs.size(); i++) {
      const int id = plan.outputs[i];
      const size_t n = static_cast<size_t>(s->Elements(id, batch));
      Napi::TypedArray t;
      switch (plan.buffers[static_cast<size_t>(id)].dtype) {
        case DType::kF32: {
          auto a = Napi::Float32Array::New(env, n);
          outp.push_back(a.Data());
          t = a;
          break;
        }
        case DType::kI8: {
          auto a = Napi::Int8Array::New(env, n);
          outp.push_back(a.Data());
          t = a;
          break;
        }
        case DType::kU8: {
          auto a = Napi::Uint8Array::New(env, n);
          outp.push_back(a.Data());
          t = a;
          break;
        }
        case DType::kI32: {
          auto a = Napi::Int32Array::New(env, n);
          outp.push_back(a.Data());
          t = a;
          break;
        }
      }
      outs.Set(static_cast<uint32_t>(i), t);
    }
    keep.push_back(outs);
    Bound b;
    b.s = s;
    b.batch = batch;
    b.keep = std::move(keep);
    b.ins = std::move(ins);
    b.outp = std::move(outp);
    b.outs = outs;
    return b;
  }

  Napi::Value Memory(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<runtime::Session> s = Live(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("weightBytes", Napi::Number::New(env, static_cast<double>(s->weight_bytes())));
    o.Set("arenaBytes", Napi::Number::New(env, static_cast<double>(s->arena_bytes())));
    return o;
  }

  // profile(enable?: boolean): [{op, seconds}] accumulated since profiling was (re)enabled.
  Napi::Value Profile(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<runtime::Session> s = Live(env);
    Napi::Array out = Napi::Array::New(env);
    const std::vector<double> secs = s->StepSeconds();
    for (size_t i = 0; i < secs.size() && i < s->StepOps().size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("op", Napi::String::New(env, s->StepOps()[i]));
      o.Set("seconds", Napi::Number::New(env, secs[i]));
      out.Set(static_cast<uint32_t>(i), o);
    }
    if (info.Length() > 0 && !info[0].IsUndefined()) s->SetProfiling(GetBool(env, info[0], "enable"));
    return out;
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Release(info.Env());
    return info.Env().Undefined();
  }

  std::shared_ptr<runtime::Session> session_;
  int64_t external_ = 0;
};

}  // namespace

void InitRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("RuntimeSession", RuntimeSessionWrap::Define(env));
}

}  // namespace binding
}  // namespace tfjq
