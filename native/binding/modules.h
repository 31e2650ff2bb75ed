// One Init function per binding file; addon.cc calls them in order.
#pragma once
#include <napi.h>

namespace tfjq {
namespace binding {
void InitCore(Napi::Env env, Napi::Object exports);     // core_binding.cc: ISA, threads, CPU info
void InitGemm(Napi::Env env, Napi::Object exports);     // gemm_binding.cc: packed int8 GEMM
void InitQuant(Napi::Env env, Napi::Object exports);    // quant_binding.cc: (de/re)quantize, float16
void InitCodec(Napi::Env env, Napi::Object exports);    // codec_binding.cc: sparse + Huffman weight codec
void InitTrain(Napi::Env env, Napi::Object exports);    // train_binding.cc: float training kernels for tfjs
void InitOps(Napi::Env env, Napi::Object exports);      // ops_binding.cc (+ ops_elementwise_binding.cc,
                                                        // ops_movement_binding.cc): int8/float operator kernels
void InitRuntime(Napi::Env env, Napi::Object exports);  // runtime_binding.cc: whole-graph inference sessions
void InitInt4(Napi::Env env, Napi::Object exports);     // int4_binding.cc: sub-byte (4-bit) weight GEMM
void InitCalib(Napi::Env env, Napi::Object exports);    // calib_binding.cc: calibration histograms and range search
void InitSparse(Napi::Env env, Napi::Object exports);   // sparse_binding.cc: sparse weights of pruned models
}  // namespace binding
}  // namespace tfjq
