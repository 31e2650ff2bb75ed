// N-API binding: calibration histograms and range search (native/calib/calib.h).
// Every argument is checked here again (types, lengths, finite ranges) before the loops run.
#include <napi.h>

#include <cmath>
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

Range GetRange(Napi::Env env, const Napi::Value& lo_v, const Napi::Value& hi_v, const char* lo_name,
               const char* hi_name) {
  const double lo = GetFiniteNumber(env, lo_v, lo_name), hi = GetFiniteNumber(env, hi_v, hi_name);
  if (lo > 0 || hi < 0 || lo > hi) {
    ThrowRangeError(env, std::string("histogram range [") + lo_name + ", " + hi_name + "] must satisfy " + lo_name +
                             " <= 0 <= " + hi_name);
  }
  return {lo, hi};
}

View<double> GetCounts(Napi::Env env, const Napi::Value& v, const char* name) {
  View<double> c = GetArray<double>(env, v, name);
  if (c.length == 0 || static_cast<int64_t>(c.length) > kMaxBins)
    ThrowRangeError(env, std::string(name) + " must have 1 to 2^24 bins");
  return c;
}

// calibAccumulate(x: Float32Array, lo, hi, counts: Float64Array) → values counted
Napi::Value Accumulate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) ThrowTypeError(env, "calibAccumulate(x, lo, hi, counts) takes 4 arguments");
  View<float> x = GetArray<float>(env, info[0], "x");
  Range r = GetRange(env, info[1], info[2], "lo", "hi");
  View<double> c = GetCounts(env, info[3], "counts");
  const size_t n = calib::Accumulate(x.data, x.length, r.lo, r.hi, c.data, c.length);
  return Napi::Number::New(env, static_cast<double>(n));
}

// calibRebin(counts, lo, hi, out, newLo, newHi)
Napi::Value Rebin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 6) ThrowTypeError(env, "calibRebin(counts, lo, hi, out, newLo, newHi) takes 6 arguments");
  View<double> c = GetCounts(env, info[0], "counts");
  Range r = GetRange(env, info[1], info[2], "lo", "hi");
  View<double> out = GetCounts(env, info[3], "out");
  Range nr = GetRange(env, info[4], info[5], "newLo", "newHi");
  if (nr.lo > r.lo || nr.hi < r.hi) ThrowRangeError(env, "[newLo, newHi] must contain [lo, hi]");
  CheckNoOverlap(env, c, out, "counts", "out");
  calib::Rebin(c.data, c.length, r.lo, r.hi, out.data, out.length, nr.lo, nr.hi);
  return env.Undefined();
}

// calibCandidate(bins, lo, hi, i) → [start, end]
Napi::Value Candidate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) ThrowTypeError(env, "calibCandidate(bins, lo, hi, i) takes 4 arguments");
  const int64_t bins = GetInt(env, info[0], "bins", 1, kMaxBins);
  Range r = GetRange(env, info[1], info[2], "lo", "hi");
  const int64_t i = GetInt(env, info[3], "i", 1, bins);
  size_t s, e;
  calib::Candidate(static_cast<size_t>(bins), r.lo, r.hi, static_cast<size_t>(i), &s, &e);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t{0}, Napi::Number::New(env, static_cast<double>(s)));
  out.Set(uint32_t{1}, Napi::Number::New(env, static_cast<double>(e)));
  return out;
}

template <bool (*Search)(const double*, size_t, double, double, size_t, size_t*, size_t*, double*)>
Napi::Value RunSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) ThrowTypeError(env, "search(counts, lo, hi, levels) takes 4 arguments");
  View<double> c = GetCounts(env, info[0], "counts");
  Range r = GetRange(env, info[1], info[2], "lo", "hi");
  const int64_t levels = GetInt(env, info[3], "levels", 1, kMaxBins);
  for (size_t i = 0; i < c.length; i++) {
    if (!(c.data[i] >= 0) || !std::isfinite(c.data[i]))
      ThrowRangeError(env, "counts must be finite and >= 0 (index " + std::to_string(i) + ")");
  }
  size_t s = 0, e = 0;
  double v = 0;
  if (!Search(c.data, c.length, r.lo, r.hi, static_cast<size_t>(levels), &s, &e, &v)) return env.Null();
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
