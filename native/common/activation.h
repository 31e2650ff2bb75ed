// The one activation vocabulary of the native code: the int8 GEMM's float epilogue, the int4
// GEMM, the float GEMM's fused epilogue, the operator kernels (ops/) and the runtime's steps
// all name an activation with this enum, so a code means the same thing in every layer.
//
// The numeric values are the codes that cross N-API in runtime step parameters (`act` in
// runtime/step_schema.h), mirrored by ACT and UNARY_ACT in src/runtime/step-codes.ts; the
// bindings take an activation by its name (kActivationNames below, the TypeScript type
// NativeActivation in binding.d.ts). Codes are appended,
// never renumbered: a saved plan or a TypeScript emitter would otherwise silently change
// meaning. The formulas are in ops/ops.h (ActivationValue).
#pragma once
#include <cstddef>
#include <cstring>

namespace tfjq {

enum class Activation : int {
  kLinear = 0,
  kRelu = 1,
  kRelu6 = 2,
  kLeakyRelu = 3,  // alpha is the slope below zero
  kElu = 4,
  kSigmoid = 5,
  kTanh = 6,
  kHardSwish = 7,
  kSwish = 8,
  kHardSigmoid = 9,
  // y = min(max(y, lo), hi) with bounds given beside it: the GEMMs' float epilogue only (a
  // runtime step carries no bounds for it, so a step's `act` is never this code).
  kClamp = 10,
  // Hard-swish as TF graphs write it, in their rounding order (alpha: a scale the graph applies;
  // 1 when it was folded into the next layer): fl(fl(x · relu6(fl(x + 3))) · alpha) ...
  kHardSwishProduct = 11,
  // ... fl(x · fl(relu6(fl(x + 3)) · alpha)) ...
  kHardSwishScaledGate = 12,
  // ... and fl(fl(x · alpha) · relu6(fl(x + 3))).
  kHardSwishScaledInput = 13,
};

// Names in code order, as the bindings read them.
constexpr const char* kActivationNames[] = {"linear",
                                            "relu",
                                            "relu6",
                                            "leakyRelu",
                                            "elu",
                                            "sigmoid",
                                            "tanh",
                                            "hardSwish",
                                            "swish",
                                            "hardSigmoid",
                                            "clamp",
                                            "hardSwishProduct",
                                            "hardSwishScaledGate",
                                            "hardSwishScaledInput"};
constexpr size_t kActivationCount = sizeof(kActivationNames) / sizeof(kActivationNames[0]);
static_assert(kActivationCount == static_cast<size_t>(Activation::kHardSwishScaledInput) + 1, "one name per code");

// The activation called `name`, or false.
inline bool ParseActivation(const char* name, Activation* out) {
  for (size_t i = 0; i < kActivationCount; i++) {
    if (std::strcmp(name, kActivationNames[i]) == 0) {
      *out = static_cast<Activation>(i);
      return true;
    }
  }
  return false;
}

// The last code a runtime step's `act` may hold (every code but kClamp).
constexpr int kLastStepActivation = static_cast<int>(Activation::kHardSwishScaledInput);

// Activations that are a clamp of y to [0, ∞) or [0, 6] (or nothing): the integer GEMM
// epilogues and the int8 kernels fuse these as output bounds.
constexpr bool IsBoundsActivation(Activation a) {
  return a == Activation::kLinear || a == Activation::kRelu || a == Activation::kRelu6;
}
// Activations the float GEMM applies in its epilogue (train/ BiasActivation's set).
constexpr bool IsFloatGemmActivation(Activation a) { return IsBoundsActivation(a) || a == Activation::kLeakyRelu; }

}  // namespace tfjq
