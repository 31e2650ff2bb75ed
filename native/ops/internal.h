// Internal helpers shared by the operator kernels (not part of the runtime API).
#pragma once
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/cpu.h"
#include "ops/ops.h"
#include "quant/scalar.h"

namespace tfjq {
namespace ops {
namespace detail {

[[noreturn]] inline void Fail(const std::string& msg) { throw std::invalid_argument(msg); }

// §7 final stage on a float value already scaled to output units:
// rne(clamp(v, lo − zo, hi − zo)) + zo (NaN → zo).
inline int32_t Finish(float v, int32_t zo, int32_t lo, int32_t hi) {
  if (v != v) return zo;
  v = quant::scalar::Clamp(v, static_cast<float>(lo - zo), static_cast<float>(hi - zo));
  // rne(v) = nearbyintf(v) for |v| ≤ 2^22 (here |v| ≤ 383): v + 1.5·2^23 lands where the
  // float spacing is 1, so the addition rounds to nearest even and the subtraction is exact.
  // Without SSE4.1 (the portable files) nearbyintf is a libm call per value.
  const float r = (v + 12582912.0f) - 12582912.0f;
  return static_cast<int32_t>(r) + zo;
}

namespace {
// The in-bounds taps of output pixel (n, oy, ox) of a depthwise window, in row-major tap order:
// input pixel pointers (x_stride values per pixel) and weight rows (w_stride values per tap).
// Returns how many. In an anonymous namespace so each file, compiled with its own ISA flags,
// keeps its own copy (the linker cannot pick an AVX2 instantiation for the portable path).
template <typename T, typename W>
int64_t WindowTaps(const ConvGeom& g, int64_t n, int64_t oy, int64_t ox, const T* x, int64_t x_stride, const W* filter,
                   int64_t w_stride, const T** xs, const W** ws) {
  int64_t taps = 0;
  for (int64_t ky = 0; ky < g.k_h; ky++) {
    const int64_t iy = oy * g.stride_h + ky * g.dilation_h - g.pad_top;
    if (iy < 0 || iy >= g.in_h) continue;
    for (int64_t kx = 0; kx < g.k_w; kx++) {
      const int64_t ix = ox * g.stride_w + kx * g.dilation_w - g.pad_left;
      if (ix < 0 || ix >= g.in_w) continue;
      xs[taps] = x + ((n * g.in_h + iy) * g.in_w + ix) * x_stride;
      ws[taps] = filter + (ky * g.k_w + kx) * w_stride;
      taps++;
    }
  }
  return taps;
}
}  // namespace

// One output column's bilinear taps along an axis: input columns lo and hi and the weight of hi.
struct BilinearTap {
  int64_t lo, hi;
  float frac;
};

// The operator kernels with vector implementations, for one path (ops/*_avx2.cc). Where
// the active path resolves to no set (kRef, arm64) the callers run their portable loops.
struct VectorKernels {
  // Depthwise, multiplier 1 (packs the weights, then splits rows over the pool).
  std::shared_ptr<const PreparedDepthwise> (*prepare_depthwise)(const ConvGeom& g, const DepthwiseQ& p);
  void (*depthwise_s8)(const ConvGeom& g, const int8_t* x, const DepthwiseQ& p, int8_t* y, int threads);
  void (*depthwise_u8)(const ConvGeom& g, const uint8_t* x, const DepthwiseQ& p, uint8_t* y, int threads);
  // float32 depthwise, multiplier 1: y = clamp(bias + Σ taps x·w) with FMA, taps in row-major order.
  void (*depthwise_f32)(const ConvGeom& g, const float* x, const float* filter, const float* bias, float y_min,
                        float y_max, float* y, int threads);
  // y[i] = table[x[i]] for i < n rounded down to the vector width; returns how many (the
  // caller finishes the tail).
  int64_t (*apply_lut)(const uint8_t table[256], const uint8_t* x, int64_t n, uint8_t* y);
  // Quantized binary op over n contiguous elements; b_scalar: b[0] for every element.
  // Returns how many leading elements it did (AVX2: a multiple of 8; AVX-512: all); the
  // caller finishes the rest.
  int64_t (*binary_s8)(BinaryOp op, const int8_t* a, const int8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                       int8_t* y);
  int64_t (*binary_u8)(BinaryOp op, const uint8_t* a, const uint8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                       uint8_t* y);
  // One output row of a bilinear resize (ResizeBilinear's arithmetic, ops.h): out_w pixels of C
  // channels from input rows top and bottom, blended by rx along x and fy along y. Returns how
  // many leading channels of every pixel it did (whole vectors); the caller does the rest.
  int64_t (*resize_row_s8)(const int8_t* top, const int8_t* bot, const BilinearTap* rx, int64_t out_w, int64_t C,
                           float fy, const ResizeQ& p, int8_t* y);
  int64_t (*resize_row_u8)(const uint8_t* top, const uint8_t* bot, const BilinearTap* rx, int64_t out_w, int64_t C,
                           float fy, const ResizeQ& p, uint8_t* y);
  int64_t (*resize_row_f32)(const float* top, const float* bot, const BilinearTap* rx, int64_t out_w, int64_t C,
                            float fy, float* y);
  // int8 / uint8 PReLU over `rows` rows of C channels (Prelu's arithmetic, ops.h; mn[c] and mp
  // its per-channel negative and positive multipliers). Returns how many leading channels of
  // every row it did (AVX2: C rounded down to 8; AVX-512: all); the caller does the rest.
  int64_t (*prelu_s8)(const int8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p, int8_t* y);
  int64_t (*prelu_u8)(const uint8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                      uint8_t* y);
  // Max pooling of one output pixel: y[c] = the maximum over taps t of xs[t][c], c < C
  // (float32: the first NaN in tap order is kept; 8-bit: then clamped to [lo, hi]), as the
  // portable loops of pool.cc compute it. nullptr: those loops.
  void (*max_taps_f32)(const float* const* xs, int taps, int64_t C, float* y) = nullptr;
  void (*max_taps_s8)(const int8_t* const* xs, int taps, int64_t C, int8_t lo, int8_t hi, int8_t* y) = nullptr;
  void (*max_taps_u8)(const uint8_t* const* xs, int taps, int64_t C, uint8_t lo, uint8_t hi, uint8_t* y) = nullptr;
  // Float average pooling of one output pixel: y[c] = (0 + xs[0][c] + … + xs[taps − 1][c]) · scale,
  // as pool.cc's loops compute it. nullptr: those loops.
  void (*avg_taps_f32)(const float* const* xs, int taps, int64_t C, float scale, float* y) = nullptr;
  // A float32 activation over n values; returns how many it did (n, or 0 for an activation it
  // does not vectorize: the caller's loop then runs). nullptr: that loop.
  int64_t (*activation_f32)(Activation act, const float* x, int64_t n, float* y) = nullptr;
};
// The ops family's table resolved for ActiveIsa() (kernels.cc); nullptr: portable loops.
const VectorKernels* ActiveVectorKernels();

// ---- AVX2 kernels (ops/*_avx2.cc), reached through the table.
#if defined(__x86_64__) || defined(_M_X64)
std::shared_ptr<const PreparedDepthwise> PrepareDepthwiseAvx2(const ConvGeom& g, const DepthwiseQ& p);
void DepthwiseAvx2(const ConvGeom& g, const int8_t* x, const DepthwiseQ& p, int8_t* y, int threads);
void DepthwiseAvx2(const ConvGeom& g, const uint8_t* x, const DepthwiseQ& p, uint8_t* y, int threads);
void DepthwiseF32Avx2(const ConvGeom& g, const float* x, const float* filter, const float* bias, float y_min,
                      float y_max, float* y, int threads);
int64_t ApplyLutAvx2(const uint8_t table[256], const uint8_t* x, int64_t n, uint8_t* y);
int64_t BinaryQuantAvx2S8(BinaryOp op, const int8_t* a, const int8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                          int8_t* y);
int64_t BinaryQuantAvx2U8(BinaryOp op, const uint8_t* a, const uint8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                          uint8_t* y);
int64_t ResizeRowAvx2(const int8_t* top, const int8_t* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy,
                      const ResizeQ& p, int8_t* y);
int64_t ResizeRowAvx2(const uint8_t* top, const uint8_t* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy,
                      const ResizeQ& p, uint8_t* y);
int64_t ResizeRowF32Avx2(const float* top, const float* bot, const BilinearTap* rx, int64_t out_w, int64_t C, float fy,
                         float* y);
int64_t PreluRowsAvx2S8(const int8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                        int8_t* y);
int64_t PreluRowsAvx2U8(const uint8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                        uint8_t* y);

// ---- AVX-512 VNNI kernels (ops/*_avx512vnni.cc), reached through the table.
std::shared_ptr<const PreparedDepthwise> PrepareDepthwiseAvx512Vnni(const ConvGeom& g, const DepthwiseQ& p);
void DepthwiseAvx512Vnni(const ConvGeom& g, const int8_t* x, const DepthwiseQ& p, int8_t* y, int threads);
void DepthwiseAvx512Vnni(const ConvGeom& g, const uint8_t* x, const DepthwiseQ& p, uint8_t* y, int threads);
int64_t ApplyLutAvx512(const uint8_t table[256], const uint8_t* x, int64_t n, uint8_t* y);
void DepthwiseF32Avx512(const ConvGeom& g, const float* x, const float* filter, const float* bias, float y_min,
                        float y_max, float* y, int threads);
int64_t BinaryQuantAvx512S8(BinaryOp op, const int8_t* a, const int8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                            int8_t* y);
int64_t BinaryQuantAvx512U8(BinaryOp op, const uint8_t* a, const uint8_t* b, bool b_scalar, int64_t n, const BinaryQ& p,
                            uint8_t* y);
int64_t PreluRowsAvx512S8(const int8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                          int8_t* y);
int64_t ActivationF32Avx512(Activation act, const float* x, int64_t n, float* y);
void AvgTapsF32Avx512(const float* const* xs, int taps, int64_t C, float scale, float* y);
void MaxTapsF32Avx512(const float* const* xs, int taps, int64_t C, float* y);
void MaxTapsS8Avx512(const int8_t* const* xs, int taps, int64_t C, int8_t lo, int8_t hi, int8_t* y);
void MaxTapsU8Avx512(const uint8_t* const* xs, int taps, int64_t C, uint8_t lo, uint8_t hi, uint8_t* y);
int64_t PreluRowsAvx512U8(const uint8_t* x, int64_t rows, int64_t C, const float* mn, float mp, const PreluQ& p,
                          uint8_t* y);
#endif

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
