// One Init function per binding file; addon.cc calls them in order.
#pragma once
#include <napi.h>

namespace tfjq {
namespace binding {
void InitCore(Napi::Env env, Napi::Object exports);   // core_binding.cc: ISA, threads, CPU info
void InitGemm(Napi::Env env, Napi::Object exports);   // gemm_binding.cc: packed int8 GEMM
void InitQuant(Napi::Env env, Napi::Object exports);  // quant_binding.cc: (de/re)quantize, float16
}  // namespace binding
}  // namespace tfjq
