// N-API binding: calibration histograms and range search (native/calib/calib.h).
// Checks what memory safety needs (array kinds, bin counts, finite numbers); the core checks
// the ranges' values (lo <= 0 <= hi, counts finite and >= 0).
#include <napi.h>

#include <string>

#include "binding/modules.h"
#include "binding/util.h"
#include "calib/calib.h"

namespace tfjq {
namespace binding {
namespace {

constexpr int64_t kMaxBins = int64_t{1} << 24;

struct Range {
  double lo, hi;
};

// The histogram range {lo, hi} of `o` (finite numbers; their order against 0 is the core's to check).
Range GetRange(Napi::Env env, const Napi::Object& o, const char* lo_key, const char* hi_key) {
  return {GetFiniteNumber(env, o.Get(lo_key), lo_key), GetFiniteNumber(env, o.Get(hi_key), hi_key)};
}

View<double> GetCounts(Napi::Env env, const Napi::Value& v, const char* name) {
  View<double> c = GetArray<double>(env, v, name);
  if (c.length == 0 || static_cast<int64_t>(c.length) > kMaxBins)
    ThrowRangeError(env, std::string(name) + " must have 1 to 2^24 bins");
  return c;
}

// calibAccumulate(x: Float32Array, counts: Float64Array, {lo, hi}) → values counted
Napi::Value Accumulate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3) ThrowTypeError(env, "calibAccumulate(x, counts, {lo, hi}) takes 3 arguments");
  View<float> x = GetArray<float>(env, info[0], "x");
  View<double> c = GetCounts(env, info[1], "counts");
  const Range r = GetRange(env, GetOptions(env, info[2], "options"), "lo", "hi");
  const size_t n = CallCore(env, [&] { return calib::Accumulate(x.data, x.length, r.lo, r.hi, c.data, c.length); });
  return Napi::Number::New(env, static_cast<double>(n));
}

// calibRebin(counts, out, {lo, hi, newLo, newHi})
Napi::Value Rebin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3) ThrowTypeError(env, "calibRebin(counts, out, {lo, hi, newLo, newHi}) takes 3 arguments");
  View<double> c = GetCounts(env, info[0], "counts");
  View<double> out = GetCounts(env, info[1], "out");
  const Napi::Object o = GetOptions(env, info[2], "options");
  const Range r = GetRange(env, o, "lo", "hi"), nr = GetRange(env, o, "newLo", "newHi");
  CheckNoOverlap(env, c, out, "counts", "out");
  CallCore(env, [&] { calib::Rebin(c.data, c.length, r.lo, r.hi, out.data, out.length, nr.lo, nr.hi); });
  return env.Undefined();
}

// calibCandidate({bins, lo, hi, i}) → [start, end]
Napi::Value Candidate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1) ThrowTypeError(env, "calibCandidate({bins, lo, hi, i}) takes 1 argument");
  const Napi::Object o = GetOptions(env, info[0], "options");
  const int64_t bins = GetInt(env, o.Get("bins"), "bins", 1, kMaxBins);
  const Range r = GetRange(env, o, "lo", "hi");
  const int64_t i = GetInt(env, o.Get("i"), "i", 1, bins);
  size_t s, e;
  CallCore(env, [&] { calib::Candidate(static_cast<size_t>(bins), r.lo, r.hi, static_cast<size_t>(i), &s, &e); });
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t{0}, Napi::Number::New(env, static_cast<double>(s)));
  out.Set(uint32_t{1}, Napi::Number::New(env, static_cast<double>(e)));
  return out;
}

// calibKlSearch / calibMseSearch(counts, {lo, hi, levels}) → {start, end, value} | null
template <bool (*Search)(const double*, size_t, double, double, size_t, size_t*, size_t*, double*)>
Napi::Value RunSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2) ThrowTypeError(env, "search(counts, {lo, hi, levels}) takes 2 arguments");
  View<double> c = GetCounts(env, info[0], "counts");
  const Napi::Object o = GetOptions(env, info[1], "options");
  const Range r = GetRange(env, o, "lo", "hi");
  const int64_t levels = GetInt(env, o.Get("levels"), "levels", 1, kMaxBins);
  size_t s = 0, e = 0;
  double v = 0;
  if (!CallCore(env, [&] { return Search(c.data, c.length, r.lo, r.hi, static_cast<size_t>(levels), &s, &e, &v); }))
    return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("start", Napi::Number::New(env, static_cast<double>(s)));
  out.Set("end", Napi::Number::New(env, static_cast<double>(e)));
  out.Set("value", Napi::Number::New(env, v));
  return out;
}

}  // namespace

void InitCalib(Napi::Env env, Napi::Object exports) {
  exports.Set("calibAccumulate", Napi::Function::New(env, Accumulate, "calibAccumulate"));
  exports.Set("calibRebin", Napi::Function::New(env, Rebin, "calibRebin"));
  exports.Set("calibCandidate", Napi::Function::New(env, Candidate, "calibCandidate"));
  exports.Set("calibKlSearch", Napi::Function::New(env, RunSearch<calib::KlSearch>, "calibKlSearch"));
  exports.Set("calibMseSearch", Napi::Function::New(env, RunSearch<calib::MseSearch>, "calibMseSearch"));
}

}  // namespace binding
}  // namespace tfjq
