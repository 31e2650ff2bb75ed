// Argument readers shared by the operator bindings (ops_binding.cc: geometry, convolutions and
// pooling; ops_elementwise_binding.cc; ops_movement_binding.cc): element kinds, lengths, overlap,
// scales, shapes, clamp bounds and convolution geometry, each failing with a clear JS error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "binding/util.h"
#include "ops/ops.h"

namespace tfjq {
namespace binding {
namespace ops_args {

using ops::Shape;
using ::tfjq::ConvGeom;

constexpr int64_t kI32Max = std::numeric_limits<int32_t>::max();

enum class Kind { kI8, kU8, kI32, kF32 };
constexpr unsigned kAllowI8 = 1, kAllowU8 = 2, kAllowI32 = 4, kAllowF32 = 8;

struct Arr {
  Kind kind;
  void* data;
  size_t length;
  size_t es;
  size_t bytes() const { return length * es; }
};

// The typed array `v`, one of the `allow` kinds.
Arr GetAny(Napi::Env env, const Napi::Value& v, const char* name, unsigned allow);
void CheckLen(Napi::Env env, const Arr& a, int64_t n, const char* name);
void CheckSameKind(Napi::Env env, const Arr& x, const Arr& y, const char* xn, const char* yn);
using binding::CheckNoOverlap;  // the byte-range and View forms (util.h)
void CheckNoOverlap(Napi::Env env, const Arr& a, const Arr& b, const char* an, const char* bn);
int32_t I32(Napi::Env env, const Napi::Value& obj, const char* objname, const char* key, int64_t lo, int64_t hi);
float PosScale(Napi::Env env, const Napi::Value& v, const std::string& name);
float Scale(Napi::Env env, const Napi::Value& obj, const char* objname, const char* key);
Shape GetShape(Napi::Env env, const Napi::Value& v, const char* name, size_t max_rank = ops::kMaxRank);
std::vector<int64_t> GetIntVec(Napi::Env env, const Napi::Value& v, const char* name, int64_t lo, int64_t hi);
// Output clamp bounds (their values are the core's: ops::CheckBounds).
void GetBounds(Napi::Env env, const Napi::Value& q, const char* qn, Kind k, int32_t zp, int32_t* lo, int32_t* hi);
int32_t ZeroPoint(Napi::Env env, const Napi::Value& q, const char* qn, const char* key, Kind k);
bool IsQ(Kind k);
ConvGeom ReadGeomFields(Napi::Env env, const Napi::Value& o, const char* name, bool pads);
Napi::Object GeomToJs(Napi::Env env, const ConvGeom& g);
// A geometry with explicit pads, validated; out_* recomputed.
ConvGeom GetGeom(Napi::Env env, const Napi::Value& v);
int64_t Prod(std::initializer_list<int64_t> l);
// A float clamp bound: a number (a pair's values are the core's: ops::CheckFloatBounds).
float GetBound(Napi::Env env, const Napi::Value& v, const char* name);

}  // namespace ops_args

// The elementwise and data-movement registrations, called by InitOps (ops_binding.cc) after its own.
void InitOpsElementwise(Napi::Env env, Napi::Object exports);
void InitOpsMovement(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace tfjq
