// Quantize / dequantize / requantize and float16 kernels: docs/quantization.md §2–§5, §8, §9.
// (Declarations agreed between the GEMM and quantization code; implemented in native/quant/.)
//
// Every function dispatches on tfjq::ActiveIsa() (ref, AVX2 — also used on AVX-VNNI
// machines —, AVX-512 on AVX-512 VNNI machines, NEON on arm64); every path equals the
// scalar reference bit for bit. Large arrays are split over the thread pool (`threads`: maximum participants, 0 = pool
// size). Arguments are assumed valid (the N-API binding checks them): scales finite > 0,
// zero points inside [qmin, qmax], qmin <= qmax inside the type's range.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tfjq {
namespace quant {

struct QParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// §4: asymmetric uint8 parameters for the range [lo, hi] (widened to include 0).
QParams ChooseAsymmetricU8(float lo, float hi);

// §8: dynamic quantization of a float32 matrix x (m rows of k values, row stride ldx) to
// uint8 (row stride k). per_row: one (scale, zero point) per row in scales[m], zero_points[m];
// otherwise one pair for the whole matrix in scales[0], zero_points[0]. The range is computed
// in the same pass over the data as far as possible. NaN reads as 0, ±Inf saturate.
// threads: maximum participants from the pool (0 = pool size).
void DynamicQuantizeU8(const float* x, int64_t m, int64_t k, int64_t ldx, bool per_row, uint8_t* out, float* scales,
                       int32_t* zero_points, int threads);

// §8 per row for `rows` rows on the calling thread (row r at x + r·ldx, its bytes at
// out + r·ldo): exactly the per-row results of DynamicQuantizeU8.
void DynamicQuantizeRowsU8(const float* x, int64_t rows, int64_t k, int64_t ldx, uint8_t* out, int64_t ldo,
                           float* scales, int32_t* zero_points);

// ---- §4 parameter choice (ranges are widened to include 0; NaN bounds read as 0).
// Asymmetric int8: the uint8 parameters with zero_point - 128.
QParams ChooseAsymmetricS8(float lo, float hi);
// Symmetric int8 (narrow range weights): scale = fl32(max(|lo|, |hi|) / 127), zero point 0.
QParams ChooseSymmetricS8(float lo, float hi);

enum class ParamScheme : int { kAsymmetricU8 = 0, kAsymmetricS8 = 1, kSymmetricS8 = 2 };
QParams ChooseParams(ParamScheme scheme, float lo, float hi);

// §7: the requantization multiplier fl32(fl32(sa × sw) / so); std::invalid_argument unless
// every scale is a finite float32 > 0.
float RequantizeMultiplier(float sa, float sw, float so);

// ---- Layout of a per-channel tensor (§5): [outer, channels, inner], parameter index = the
// channel. Per-tensor is {1, 1, n}.
struct Layout {
  int64_t outer = 1, channels = 1, inner = 0;
  int64_t size() const { return outer * channels * inner; }
};
inline Layout PerTensor(int64_t n) { return Layout{1, 1, n}; }

// §2 quantize: out = clamp(rne(fl32(x / scale)), qmin - zp, qmax - zp) + zp per channel;
// NaN -> zp, +Inf -> qmax, -Inf -> qmin. scales/zero_points have layout.channels entries.
void Quantize(const float* x, const Layout& layout, const float* scales, const int32_t* zero_points, int32_t qmin,
              int32_t qmax, int8_t* out, int threads = 0);
void Quantize(const float* x, const Layout& layout, const float* scales, const int32_t* zero_points, int32_t qmin,
              int32_t qmax, uint8_t* out, int threads = 0);

// §3 dequantize: out = fl32((q - zp) × scale). For int32 q - zp is formed exactly (64-bit) and
// rounded once to float32 before the multiply: fl32(fl32(q - zp) × scale).
void Dequantize(const int8_t* q, const Layout& layout, const float* scales, const int32_t* zero_points, float* out,
                int threads = 0);
void Dequantize(const uint8_t* q, const Layout& layout, const float* scales, const int32_t* zero_points, float* out,
                int threads = 0);
void Dequantize(const int32_t* q, const Layout& layout, const float* scales, const int32_t* zero_points, float* out,
                int threads = 0);

// §7 requantize int32 accumulators: y = fl32(fl32(acc) × mult[c]); q = rne(clamp(y, lo - zo,
// hi - zo)) + zo. [lo, hi] is the output range (possibly narrowed by a fused activation).
void Requantize(const int32_t* acc, const Layout& layout, const float* multipliers, int32_t zo, int32_t lo, int32_t hi,
                int8_t* out, int threads = 0);
void Requantize(const int32_t* acc, const Layout& layout, const float* multipliers, int32_t zo, int32_t lo, int32_t hi,
                uint8_t* out, int threads = 0);
// Rescale 8-bit values between two affine parameter sets: §7 with acc = q - zi[c] and
// mult[c] = fl32(s_in[c] / s_out). With equal scales this is exact: q - zi + zo.
void Requantize(const int8_t* q, const Layout& layout, const float* multipliers, const int32_t* zi, int32_t zo,
                int32_t lo, int32_t hi, int8_t* out, int threads = 0);
void Requantize(const int8_t* q, const Layout& layout, const float* multipliers, const int32_t* zi, int32_t zo,
                int32_t lo, int32_t hi, uint8_t* out, int threads = 0);
void Requantize(const uint8_t* q, const Layout& layout, const float* multipliers, const int32_t* zi, int32_t zo,
                int32_t lo, int32_t hi, int8_t* out, int threads = 0);
void Requantize(const uint8_t* q, const Layout& layout, const float* multipliers, const int32_t* zi, int32_t zo,
                int32_t lo, int32_t hi, uint8_t* out, int threads = 0);

// Range of the finite values of x, widened to include 0 (§4): *lo <= 0 <= *hi.
void MinMax(const float* x, int64_t n, float* lo, float* hi, int threads = 0);
// The same per channel: lo[c], hi[c] for c < layout.channels, in one pass over x.
void ChannelMinMax(const float* x, const Layout& layout, float* lo, float* hi, int threads = 0);
// Per-channel parameters from a weight tensor in one pass (ChannelMinMax + ChooseParams).
void ChooseChannelParams(const float* x, const Layout& layout, ParamScheme scheme, float* scales, int32_t* zero_points,
                         int threads = 0);

// §9 float16 (IEEE binary16 bit patterns). float32 -> float16 rounds to nearest even,
// overflows to ±Inf, produces subnormals; NaN -> quiet NaN, sign and top 10 payload bits kept
// (what F16C and NEON FCVT do). float16 -> float32 is exact (signaling NaN is quieted).
void FloatToHalf(const float* x, int64_t n, uint16_t* out, int threads = 0);
void HalfToFloat(const uint16_t* h, int64_t n, float* out, int threads = 0);
// Value checks of quantization parameters, for callers that take them from outside (the
// binding): each scale finite and > 0; each zero point in [lo, hi]. They throw
// std::invalid_argument naming the entry ("scales[3] must be a finite number > 0, got 0.000000").
void CheckScales(const float* scales, size_t n, const char* name);
void CheckZeroPoints(const int32_t* zero_points, size_t n, int32_t lo, int32_t hi, const char* name);

uint16_t FloatToHalfScalar(float x);
float HalfToFloatScalar(uint16_t h);

}  // namespace quant
}  // namespace tfjq
