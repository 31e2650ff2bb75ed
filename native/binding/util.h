// Helpers shared by every N-API binding file: strict argument extraction (the TypeScript
// layer validates first, but native code trusts nothing it has not checked) and a
// promise-returning async runner that keeps its JS inputs alive while it works.
#pragma once
#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/activation.h"

namespace tfjq {
namespace binding {

[[noreturn]] inline void ThrowTypeError(Napi::Env env, const std::string& msg) { throw Napi::TypeError::New(env, msg); }
[[noreturn]] inline void ThrowRangeError(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

template <typename T>
struct View {
  T* data = nullptr;
  size_t length = 0;  // elements
};

template <typename T>
constexpr napi_typedarray_type TypedArrayTypeOf();
template <>
constexpr napi_typedarray_type TypedArrayTypeOf<int8_t>() {
  return napi_int8_array;
}
template <>
constexpr napi_typedarray_type TypedArrayTypeOf<uint8_t>() {
  return napi_uint8_array;
}
template <>
constexpr napi_typedarray_type TypedArrayTypeOf<int16_t>() {
  return napi_int16_array;
}
template <>
constexpr napi_typedarray_type TypedArrayTypeOf<uint16_t>() {
  return napi_uint16_array;
}
template <>
constexpr napi_typedarray_type TypedArrayTypeOf<int32_t>() {
  return napi_int32_array;
}
template <>
constexpr napi_typedarray_type TypedArrayTypeOf<uint32_t>() {
  return napi_uint32_array;
}
template <>
constexpr napi_typedarray_type TypedArrayTypeOf<float>() {
  return napi_float32_array;
}
template <>
constexpr napi_typedarray_type TypedArrayTypeOf<double>() {
  return napi_float64_array;
}

const char* TypedArrayTypeName(napi_typedarray_type t);

// `v` must be a TypedArray of exactly element type T (Uint8ClampedArray is not Uint8Array).
template <typename T>
View<T> GetArray(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray())
    ThrowTypeError(env, std::string(name) + " must be a " + TypedArrayTypeName(TypedArrayTypeOf<T>()));
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != TypedArrayTypeOf<T>()) {
    ThrowTypeError(env, std::string(name) + " must be a " + TypedArrayTypeName(TypedArrayTypeOf<T>()) + ", got " +
                            TypedArrayTypeName(ta.TypedArrayType()));
  }
  View<T> out;
  Napi::ArrayBuffer ab = ta.ArrayBuffer();
  if (ta.ElementLength() > 0 && (ab.Data() == nullptr)) ThrowTypeError(env, std::string(name) + " is detached");
  out.data = reinterpret_cast<T*>(static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset());
  out.length = ta.ElementLength();
  return out;
}

// Requires length == expected (elements), naming the argument in the error.
template <typename T>
View<T> GetArrayOfLength(Napi::Env env, const Napi::Value& v, const char* name, size_t expected) {
  View<T> a = GetArray<T>(env, v, name);
  if (a.length != expected) {
    ThrowRangeError(env, std::string(name) + " has " + std::to_string(a.length) + " elements, expected " +
                             std::to_string(expected));
  }
  return a;
}

// Throws RangeError "<bname> must not overlap <aname>" when the byte ranges [a, a + an) and
// [b, b + bn) share a byte (an output written while an input is read: the kernels assume they
// do not). Empty ranges overlap nothing.
inline void CheckNoOverlap(Napi::Env env, const void* a, size_t an, const void* b, size_t bn, const char* aname,
                           const char* bname) {
  const uint8_t* pa = static_cast<const uint8_t*>(a);
  const uint8_t* pb = static_cast<const uint8_t*>(b);
  if (an == 0 || bn == 0) return;
  if (pa < pb + bn && pb < pa + an) ThrowRangeError(env, std::string(bname) + " must not overlap " + aname);
}
template <typename A, typename B>
void CheckNoOverlap(Napi::Env env, const View<A>& a, const View<B>& b, const char* aname, const char* bname) {
  CheckNoOverlap(env, a.data, a.length * sizeof(A), b.data, b.length * sizeof(B), aname, bname);
}
// A byte range of an array whose element type is known only at run time.
struct ByteSpan {
  const void* p;
  size_t n;
};
inline void CheckNoOverlap(Napi::Env env, ByteSpan a, ByteSpan b, const char* aname, const char* bname) {
  CheckNoOverlap(env, a.p, a.n, b.p, b.n, aname, bname);
}

// An integer-valued number in [lo, hi].
int64_t GetInt(Napi::Env env, const Napi::Value& v, const char* name, int64_t lo, int64_t hi);
// A finite number.
double GetFiniteNumber(Napi::Env env, const Napi::Value& v, const char* name);
bool GetBool(Napi::Env env, const Napi::Value& v, const char* name);
std::string GetString(Napi::Env env, const Napi::Value& v, const char* name);
// An activation by its name (common/activation.h kActivationNames); which ones a kernel
// accepts is the core's to say.
Activation GetActivation(Napi::Env env, const Napi::Value& v, const char* name);
// obj[key] or undefined; obj must be an object.
Napi::Value GetField(Napi::Env env, const Napi::Value& obj, const char* name, const char* key);

// The named options object `v` of a call (TypeError naming `name` otherwise). Options cross
// N-API by name only: every binding reads its scalars and optional arrays from one such
// object (obj.Get(key)), never by position in an array.
Napi::Object GetOptions(Napi::Env env, const Napi::Value& v, const char* name);
// obj[key] is null or undefined.
inline bool IsAbsent(const Napi::Value& v) { return v.IsNull() || v.IsUndefined(); }

// The one mapping of core errors to JavaScript, for a call into the core on the JS thread:
// std::invalid_argument (the core rejecting a value) becomes a RangeError with its message,
// std::bad_alloc an Error `out_of_memory`; Napi errors pass through. RunAsync maps a job's
// exceptions the same way.
template <typename F>
auto CallCore(Napi::Env env, F&& f, const char* out_of_memory = "out of memory") -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::invalid_argument& e) {
    ThrowRangeError(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, out_of_memory);
  }
}

// Runs `work` on a libuv worker thread (it may itself use the pool via ParallelFor), then
// resolves the returned promise with `done(env)` on the JS thread. Exceptions thrown by
// `work` reject the promise as CallCore maps them (std::invalid_argument: RangeError;
// std::bad_alloc: Error "out of memory"; other std::exception: Error with its message);
// `done` may throw Napi::Error. Every value in keep_alive stays referenced until completion.
Napi::Promise RunAsync(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done,
                       const std::vector<Napi::Value>& keep_alive);

// RunAsync's contract, with `work` run on the run queue (common/run_queue.h: threads that spin
// between jobs, for whole-model runs requested back to back) instead of a libuv worker; the
// promise settles on the JS thread through a thread-safe function. spin_after: SubmitRun's.
Napi::Promise RunOnQueue(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done,
                         const std::vector<Napi::Value>& keep_alive, bool spin_after);

// Base of the N-API objects that own packed weights (PackedWeights, Int4PackedWeights,
// SparsePackedWeights): the packed data is shared with in-flight async jobs, counted as V8
// external memory while the object holds it, released by dispose() or the finalizer, and the
// JS object is type-tagged so a look-alike object cannot be unwrapped as one.
template <class Derived, class Packed>
class PackedWrap : public Napi::ObjectWrap<Derived> {
 public:
  explicit PackedWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {}
  void Finalize(Napi::Env env) override { Release(env); }

 protected:
  // Takes the packed data: external-memory accounting and the type tag.
  void Adopt(const Napi::CallbackInfo& info, std::shared_ptr<Packed> p, const napi_type_tag* tag) {
    packed_ = std::move(p);
    bytes_ = static_cast<int64_t>(packed_->byte_length());
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), bytes_);
    info.This().As<Napi::Object>().TypeTag(tag);
  }
  // Adopt(pack()): std::invalid_argument from the packing becomes a RangeError with its
  // message, std::bad_alloc an Error "out of memory packing <what>".
  template <typename Pack>
  void PackAndAdopt(const Napi::CallbackInfo& info, const napi_type_tag* tag, const char* what, Pack pack) {
    const std::string oom = std::string("out of memory packing ") + what;
    Adopt(info, CallCore(info.Env(), [&] { return std::make_shared<Packed>(pack()); }, oom.c_str()), tag);
  }
  // The packed data of v: TypeError `not_this` when v is not such an object, RangeError
  // `disposed` after dispose().
  static std::shared_ptr<const Packed> Get(Napi::Env env, const Napi::Value& v, const napi_type_tag* tag,
                                           const std::string& not_this, const std::string& disposed) {
    if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(tag)) ThrowTypeError(env, not_this);
    Derived* w = Napi::ObjectWrap<Derived>::Unwrap(v.As<Napi::Object>());
    if (w == nullptr || !w->packed_) ThrowRangeError(env, disposed);
    return w->packed_;
  }
  void Release(Napi::Env env) {
    if (!packed_) return;
    packed_.reset();  // in-flight async jobs hold their own reference
    Napi::MemoryManagement::AdjustExternalMemory(env, -bytes_);
  }
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Release(info.Env());
    return info.Env().Undefined();
  }

  std::shared_ptr<Packed> packed_;
  int64_t bytes_ = 0;
};

}  // namespace binding
}  // namespace tfjq
