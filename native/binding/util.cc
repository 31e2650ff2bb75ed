#include "binding/util.h"

#include "common/run_queue.h"

#include <cmath>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <unordered_map>

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

// One asynchronous call's promise, its work and what the work reads: created on the JS thread,
// Execute()d on another, Settle()d back on the JS thread. The work's exceptions reject the
// promise as CallCore maps them (std::invalid_argument: RangeError; std::bad_alloc: Error "out
// of memory"; other std::exception: Error with its message); `done` may throw Napi::Error.
struct PromiseJob {
  PromiseJob(Napi::Env env, std::function<void()> w, std::function<Napi::Value(Napi::Env)> d,
             const std::vector<Napi::Value>& keep_alive)
      : deferred(Napi::Promise::Deferred::New(env)), work(std::move(w)), done(std::move(d)) {
    for (const auto& v : keep_alive) {
      if (v.IsObject()) refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }
  }

  void Execute() {
    try {
      work();
    } catch (const std::invalid_argument& e) {
      Fail(e.what(), true);
    } catch (const std::bad_alloc&) {
      Fail("out of memory", false);
    } catch (const std::exception& e) {
      Fail(e.what(), false);
    } catch (...) {
      Fail("unknown native error", false);
    }
  }

  void Settle(Napi::Env env) {
    try {
      if (!failed) {
        deferred.Resolve(done(env));
      } else {
        Napi::Error e = range_error ? Napi::RangeError::New(env, message) : Napi::Error::New(env, message);
        deferred.Reject(e.Value());
      }
    } catch (const Napi::Error& e) {
      deferred.Reject(e.Value());
    }
    refs.clear();
  }

  Napi::Promise::Deferred deferred;
  std::function<void()> work;
  std::function<Napi::Value(Napi::Env)> done;
  std::vector<Napi::ObjectReference> refs;
  // Set by Execute on its thread, read by Settle on the JS thread after it.
  bool failed = false;
  bool range_error = false;
  std::string message;

 private:
  void Fail(const char* m, bool range) {
    failed = true;
    range_error = range;
    message = m;
  }
};

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done,
                const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncWorker(env, "tfjs-quant"), job_(env, std::move(work), std::move(done), keep_alive) {}

  Napi::Promise Promise() { return job_.deferred.Promise(); }
  void Execute() override { job_.Execute(); }
  // The job keeps its own error, so the worker always ends in OnOK.
  void OnOK() override { job_.Settle(Env()); }

 private:
  PromiseJob job_;
};

// The runs of one environment (the main thread's, or a worker thread's) and the one
// thread-safe function that settles them. Teardown of the environment frees the arrays those
// runs read and write, and then the thread-safe function, so its cleanup hook (registered
// after the function's own, hence run before it) waits: runs not started are skipped, a run in
// progress is waited for, and every run has handed its result to the thread-safe function
// before the hook returns. (libuv's pool, under napi_async_work, is drained by node itself.)
struct EnvRuns {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;  // submitted, not yet handed back (queue threads and JS thread, under mu)
  bool closing = false;
  napi_threadsafe_function tsfn = nullptr;
  int unsettled = 0;  // JS thread only: while > 0 the function holds the event loop open
};

std::mutex g_envs_mu;
std::unordered_map<napi_env, std::shared_ptr<EnvRuns>> g_envs;

void SettleOnJsThread(napi_env raw, napi_value, void* context, void* data) {
  auto* job = static_cast<PromiseJob*>(data);
  // The environment is being torn down with this run unsettled: nothing can be settled, and
  // its references must not be released into a dying environment, so it is left (a few
  // bytes per run, only when a worker thread is terminated with runs queued).
  if (raw == nullptr) return;
  auto* runs = static_cast<EnvRuns*>(context);
  // Nothing may escape this callback: while a worker thread is being terminated, N-API calls
  // fail and node-addon-api turns that into a throw.
  try {
    job->Settle(Napi::Env(raw));
  } catch (...) {}
  delete job;
  if (--runs->unsettled == 0) napi_unref_threadsafe_function(raw, runs->tsfn);
}

// The environment cleanup hook: no new run starts; returns when none is running.
void CloseEnvRuns(void* arg) {
  std::shared_ptr<EnvRuns> runs;
  {
    std::lock_guard<std::mutex> lock(g_envs_mu);
    auto it = g_envs.find(static_cast<napi_env>(arg));
    if (it == g_envs.end()) return;
    runs = it->second;
    g_envs.erase(it);
  }
  std::unique_lock<std::mutex> lock(runs->mu);
  runs->closing = true;
  runs->cv.wait(lock, [&] { return runs->in_flight == 0; });
}

std::shared_ptr<EnvRuns> RunsOf(Napi::Env env) {
  std::lock_guard<std::mutex> lock(g_envs_mu);
  auto it = g_envs.find(env);
  if (it != g_envs.end()) return it->second;
  auto runs = std::make_shared<EnvRuns>();
  napi_value name;
  NAPI_THROW_IF_FAILED(env, napi_create_string_utf8(env, "tfjs-quant run", NAPI_AUTO_LENGTH, &name), runs);
  NAPI_THROW_IF_FAILED(env,
                       napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, nullptr, nullptr, runs.get(),
                                                       SettleOnJsThread, &runs->tsfn),
                       runs);
  // Idle, the function must not keep the process alive.
  napi_unref_threadsafe_function(env, runs->tsfn);
  napi_add_env_cleanup_hook(env, CloseEnvRuns, static_cast<napi_env>(env));
  g_envs.emplace(env, runs);
  return runs;
}

}  // namespace

Napi::Promise RunOnQueue(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done,
                         const std::vector<Napi::Value>& keep_alive, bool spin_after) {
  std::shared_ptr<EnvRuns> runs = RunsOf(env);
  auto* r = new PromiseJob(env, std::move(work), std::move(done), keep_alive);
  Napi::Promise promise = r->deferred.Promise();
  if (runs->unsettled++ == 0) napi_ref_threadsafe_function(env, runs->tsfn);
  {
    std::lock_guard<std::mutex> lock(runs->mu);
    runs->in_flight++;
  }
  SubmitRun(
      [r, runs] {
        bool skip;
        {
          std::lock_guard<std::mutex> lock(runs->mu);
          skip = runs->closing;
        }
        if (!skip) r->Execute();
        // From here the JS thread owns r. The call precedes the in-flight count's decrement, so the
        // cleanup hook cannot let the function be torn down under it.
        napi_call_threadsafe_function(runs->tsfn, r, napi_tsfn_nonblocking);
        {
          std::lock_guard<std::mutex> lock(runs->mu);
          runs->in_flight--;
        }
        runs->cv.notify_all();
      },
      spin_after);
  return promise;
}

Napi::Promise RunAsync(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done,
                       const std::vector<Napi::Value>& keep_alive) {
  auto* w = new PromiseWorker(env, std::move(work), std::move(done), keep_alive);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace binding
}  // namespace tfjq
