#include <string>

#include "binding/modules.h"
#include "binding/util.h"
#include "common/cpu.h"
#include "common/thread_pool.h"

namespace tfjq {
namespace binding {
namespace {

Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CpuFeatures& f = GetCpuFeatures();
  Napi::Object o = Napi::Object::New(env);
  o.Set("vendor", f.vendor);
  o.Set("brand", f.brand);
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("avx2", f.avx2);
  flags.Set("fma", f.fma);
  flags.Set("f16c", f.f16c);
  flags.Set("bmi2", f.bmi2);
  flags.Set("avx512f", f.avx512f);
  flags.Set("avx512bw", f.avx512bw);
  flags.Set("avx512dq", f.avx512dq);
  flags.Set("avx512vl", f.avx512vl);
  flags.Set("avx512vnni", f.avx512vnni);
  flags.Set("avxvnni", f.avxvnni);
  flags.Set("neon", f.neon);
  flags.Set("neonDot", f.neon_dot);
  flags.Set("neonFp16", f.neon_fp16);
  flags.Set("neonI8mm", f.neon_i8mm);
  o.Set("features", flags);
  o.Set("availableCores", AvailableCores());
  return o;
}

Napi::Value SupportedIsasJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto isas = SupportedIsas();
  Napi::Array a = Napi::Array::New(env, isas.size());
  for (size_t i = 0; i < isas.size(); i++) a.Set(static_cast<uint32_t>(i), IsaName(isas[i]));
  return a;
}

Napi::Value GetIsa(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), IsaName(ActiveIsa())); }

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = GetString(env, info[0], "isa");
  Isa isa;
  if (!ParseIsa(name, &isa)) ThrowRangeError(env, "isa: unknown path '" + name + "'");
  if (!IsaSupported(isa)) ThrowRangeError(env, "isa: '" + name + "' is not supported on this CPU or build");
  SetActiveIsa(isa);
  return env.Undefined();
}

Napi::Value IsaWarning(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), IsaEnvWarning()); }

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), NumThreads()); }

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  SetNumThreads(static_cast<int>(GetInt(env, info[0], "threads", 1, 256)));
  return env.Undefined();
}

}  // namespace

void InitCore(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuInfo", Napi::Function::New(env, CpuInfo, "cpuInfo"));
  exports.Set("supportedIsas", Napi::Function::New(env, SupportedIsasJs, "supportedIsas"));
  exports.Set("getIsa", Napi::Function::New(env, GetIsa, "getIsa"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("isaWarning", Napi::Function::New(env, IsaWarning, "isaWarning"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
}

}  // namespace binding
}  // namespace tfjq
