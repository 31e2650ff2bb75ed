// N-API surface of the Deep Compression codec (native/codec): stream decoder, CRC-32,
// 1-D k-means and the per-cluster gradient sum used for centroid fine-tuning.
#include <cstring>

#include "binding/modules.h"
#include "binding/util.h"
#include "codec/codec.h"

namespace tfjq {
namespace binding {

namespace {

[[noreturn]] void ThrowCodec(Napi::Env env, const std::exception& e) {
  throw Napi::Error::New(env, std::string("tfjs-quant codec: ") + e.what());
}

// codecDecode(stream: Uint8Array) -> {shape, values, indexBits, entries, codebookSize, codebookF16}
Napi::Value CodecDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1) ThrowTypeError(env, "codecDecode expects 1 argument (stream)");
  auto stream = GetArray<uint8_t>(env, info[0], "stream");
  codec::DecodedTensor t;
  try {
    t = codec::DecodeTensor(stream.data, stream.length);
  } catch (const codec::CodecError& e) {
    ThrowCodec(env, e);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "tfjs-quant codec: out of memory while decoding");
  }
  Napi::Object out = Napi::Object::New(env);
  Napi::Array shape = Napi::Array::New(env, t.shape.size());
  for (size_t i = 0; i < t.shape.size(); ++i) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, t.shape[i]));
  Napi::Float32Array values = Napi::Float32Array::New(env, t.values.size());
  if (!t.values.empty()) std::memcpy(values.Data(), t.values.data(), t.values.size() * sizeof(float));
  out.Set("shape", shape);
  out.Set("values", values);
  out.Set("indexBits", Napi::Number::New(env, t.index_bits));
  out.Set("entries", Napi::Number::New(env, static_cast<double>(t.entries)));
  out.Set("codebookSize", Napi::Number::New(env, t.codebook_size));
  out.Set("codebookF16", Napi::Boolean::New(env, t.codebook_f16));
  return out;
}

Napi::Value CodecCrc32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1) ThrowTypeError(env, "codecCrc32 expects 1 argument (data)");
  auto data = GetArray<uint8_t>(env, info[0], "data");
  return Napi::Number::New(env, codec::Crc32(data.data, data.length));
}

// kmeans1d(values: Float32Array, init: Float64Array, {maxIter}) -> {centroids, labels, iterations, inertia}
Napi::Value KMeans1D(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3) ThrowTypeError(env, "kmeans1d expects 3 arguments (values, init, options)");
  auto values = GetArray<float>(env, info[0], "values");
  auto init = GetArray<double>(env, info[1], "init");
  const Napi::Object o = GetOptions(env, info[2], "options");
  int64_t max_iter = GetInt(env, o.Get("maxIter"), "maxIter", 0, 1 << 20);
  if (init.length < 1 || init.length > codec::kMaxCodebook) {
    ThrowRangeError(env, "init must hold 1 to 65535 centroids, got " + std::to_string(init.length));
  }
  codec::KMeansResult r;
  try {
    r = codec::KMeans1D(values.data, values.length, init.data, init.length, static_cast<int>(max_iter));
  } catch (const codec::CodecError& e) {
    throw Napi::RangeError::New(env, e.what());
  }
  Napi::Object out = Napi::Object::New(env);
  Napi::Float64Array c = Napi::Float64Array::New(env, r.centroids.size());
  std::memcpy(c.Data(), r.centroids.data(), r.centroids.size() * sizeof(double));
  Napi::Uint16Array labels = Napi::Uint16Array::New(env, r.labels.size());
  if (!r.labels.empty()) std::memcpy(labels.Data(), r.labels.data(), r.labels.size() * sizeof(uint16_t));
  out.Set("centroids", c);
  out.Set("labels", labels);
  out.Set("iterations", Napi::Number::New(env, r.iterations));
  out.Set("inertia", Napi::Number::New(env, r.inertia));
  return out;
}

// segmentSum(values: Float32Array, labels: Uint16Array, {segments}) -> Float64Array(segments):
// out[labels[i]] += values[i].
Napi::Value SegmentSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3) ThrowTypeError(env, "segmentSum expects 3 arguments (values, labels, options)");
  auto values = GetArray<float>(env, info[0], "values");
  auto labels = GetArrayOfLength<uint16_t>(env, info[1], "labels", values.length);
  int64_t segments = GetInt(env, GetOptions(env, info[2], "options").Get("segments"), "segments", 1, 65536);
  Napi::Float64Array out = Napi::Float64Array::New(env, static_cast<size_t>(segments));
  double* o = out.Data();
  std::memset(o, 0, static_cast<size_t>(segments) * sizeof(double));
  for (size_t i = 0; i < values.length; ++i) {
    if (labels.data[i] >= segments) {
      ThrowRangeError(env, "labels[" + std::to_string(i) + "] = " + std::to_string(labels.data[i]) +
                               " is not below segments (" + std::to_string(segments) + ")");
    }
    o[labels.data[i]] += values.data[i];
  }
  return out;
}

}  // namespace

void InitCodec(Napi::Env env, Napi::Object exports) {
  exports.Set("codecDecode", Napi::Function::New(env, CodecDecode, "codecDecode"));
  exports.Set("codecCrc32", Napi::Function::New(env, CodecCrc32, "codecCrc32"));
  exports.Set("kmeans1d", Napi::Function::New(env, KMeans1D, "kmeans1d"));
  exports.Set("segmentSum", Napi::Function::New(env, SegmentSum, "segmentSum"));
}

}  // namespace binding
}  // namespace tfjq
