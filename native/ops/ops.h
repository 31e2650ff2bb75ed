// Operator kernels of the native int8 runtime (everything except the GEMM): plain C++
// functions on raw pointers + shape/parameter structs. The formulas are stated in
// docs/quantization.md §11; every ISA path equals the reference bit for bit.
//
// Conventions
// - Tensors are dense, row-major, NHWC for images. 8-bit activations are int8 or uint8 (the
//   kernel is chosen by the pointer type); the output has the input's type unless stated.
// - Quantized parameters are per tensor (scale finite > 0, zero point inside the type);
//   weights are int8 symmetric per channel; biases int32.
// - `y_min`/`y_max` are the output clamp bounds (the type's range narrowed by a fused
//   activation, §7: see quant scheme's activationBounds).
// - Kernels assume validated arguments; the Check*/Make*/Resolve* functions validate and
//   throw std::invalid_argument with a message naming what is wrong (the N-API binding turns
//   it into a RangeError). Inputs and outputs must not overlap.
// - `threads`: maximum participants from the pool (0 = the pool size).
// - Quantize / Dequantize at float boundaries: use quant/quantize.h (quant::Quantize,
//   quant::Dequantize, quant::Requantize); they are not duplicated here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/activation.h"
#include "common/conv_geom.h"

namespace tfjq {
namespace ops {

constexpr int kMaxRank = 6;
using Shape = std::vector<int64_t>;

int64_t ShapeSize(const Shape& s);

// ---------------------------------------------------------------- parameter values
// The values of the operators' parameters (docs/quantization.md §2, §3, §11), checked for a
// caller that does not take them from a checked plan (the binding; the runtime's step
// factories check the same values while reading a plan). Each throws std::invalid_argument
// naming `name` (a q field as `q.yMin`, an entry as `q.multipliers[3]`).

// A scale: a finite float32 > 0.
void CheckScale(float s, const std::string& name);
// Each of n per-channel multipliers or scales (`name[i]`): a finite float32 > 0.
void CheckScales(const float* s, int64_t n, const std::string& name);
// A zero point within the 8-bit type (int8: [-128, 127], uint8: [0, 255]).
int32_t CheckZeroPoint(int64_t zp, bool is_signed, const std::string& name);
// Output clamp bounds `q`.yMin / `q`.yMax (yMin / yMax when q is empty) within the 8-bit type
// and in order.
void CheckBounds(int64_t lo, int64_t hi, bool is_signed, const std::string& q);
// Float clamp bounds (any value but NaN, ±Infinity allowed) in order: `lo_name` <= `hi_name`.
void CheckFloatBounds(float lo, float hi, const std::string& lo_name, const std::string& hi_name);
// Each of n values (`name[i]`) finite.
void CheckFinite(const float* v, int64_t n, const std::string& name);
// A pooling window (k_h × k_w of g, at most 2^23 elements) larger than each of its pads.
void CheckPoolWindow(const ConvGeom& g);
// DepthToSpace: `channels` divisible by block².
void CheckDepthToSpace(int64_t channels, int64_t block);

// ---------------------------------------------------------------- convolution geometry

enum class Padding : int { kValid = 0, kSame = 1, kExplicit = 2 };

// ConvGeom (common/conv_geom.h), NHWC with the padding resolved. For pooling k_h/k_w are the
// window. For Conv2DTranspose it is the geometry of the forward convolution whose input is
// the transposed convolution's output (in_*) and whose output is its input (out_*).
using ::tfjq::ConvGeom;

// TF padding (§11.1): VALID: out = ceil((in − eff_k + 1) / stride), no padding;
// SAME: out = ceil(in / stride), total = max((out − 1)·stride + eff_k − in, 0),
// top = total / 2 (floor), bottom = total − top; EXPLICIT: the four pads given in g.
// eff_k = (k − 1)·dilation + 1. Fills pads and out_*; throws on invalid sizes.
void MakeConvGeom(ConvGeom* g, Padding padding);
// Validates a geometry with explicit pads and fills out_h/out_w from them:
// out = (in + pad_a + pad_b − eff_k) / stride + 1 (floor), which must be ≥ 1.
void CheckConvGeom(ConvGeom* g);

// ---------------------------------------------------------------- im2col / depthwise / transposed conv

// Builds the GEMM A matrix of a Conv2D: row r = (n·out_h + oy)·out_w + ox, column
// (ky·k_w + kx)·in_c + c = x[n, oy·sh + ky·dh − pt, ox·sw + kx·dw − pl, c], the input zero
// point where that is outside (padding). a has rows × lda elements, lda ≥ k_h·k_w·in_c; the
// columns past k_h·k_w·in_c are left untouched. A 1×1 convolution with stride 1 and no padding
// needs no im2col: x itself is A (rows N·H·W, lda = C).
void Im2Col(const ConvGeom& g, const int8_t* x, int32_t pad_value, int8_t* a, int64_t lda, int threads = 0);
void Im2Col(const ConvGeom& g, const uint8_t* x, int32_t pad_value, uint8_t* a, int64_t lda, int threads = 0);
void Im2Col(const ConvGeom& g, const float* x, float pad_value, float* a, int64_t lda, int threads = 0);

// DepthwiseConv2D, int8 weights [k_h, k_w, in_c, multiplier] (= [k_h, k_w, out_c]), output
// channel c = i·multiplier + m reads input channel i:
//   acc = bias[c] + Σ_taps (x − x_zero_point)·w[ky, kx, c]      (int32, wraps; padding adds 0)
//   y   = §7 requantize(acc, multipliers[c], y_zero_point, y_min, y_max)
// Weights packed for one kernel path (each path derives its own form; a path given another
// path's form, e.g. after the active ISA changed, packs for itself instead).
struct PreparedDepthwise {
  virtual ~PreparedDepthwise() = default;
};

struct DepthwiseQ {
  int32_t multiplier = 1;
  int32_t x_zero_point = 0;
  const int8_t* filter = nullptr;
  const int32_t* bias = nullptr;       // out_c entries or null
  const float* multipliers = nullptr;  // out_c: fl32(fl32(sx × sw[c]) / sy)
  int32_t y_zero_point = 0, y_min = -128, y_max = 127;
  // Optional: weights packed once by PrepareDepthwise for this filter and geometry (the
  // runtime prepares at load); null = packed on every call.
  std::shared_ptr<const PreparedDepthwise> prepared;
};
// Packs the weights of p for geometry g (any batch and input height) into p->prepared when the
// running path uses a packed form; the filter, bias and zero point must not change afterwards.
void PrepareDepthwise(const ConvGeom& g, DepthwiseQ* p);
void DepthwiseConv2D(const ConvGeom& g, const int8_t* x, const DepthwiseQ& p, int8_t* y, int threads = 0);
void DepthwiseConv2D(const ConvGeom& g, const uint8_t* x, const DepthwiseQ& p, uint8_t* y, int threads = 0);
// float32: y = clamp(bias[c] + Σ x·w, y_min, y_max); bias may be null.
void DepthwiseConv2DF32(const ConvGeom& g, int32_t multiplier, const float* x, const float* filter, const float* bias,
                        float y_min, float y_max, float* y, int threads = 0);

// Conv2DTranspose (Conv2DBackpropInput), int8. g is the forward geometry (see ConvGeom);
// dy is [batch, out_h, out_w, dy_c], filter int8 [k_h, k_w, in_c, dy_c] (TF.js layout, per-channel
// along axis 2 = the output channel), y is [batch, in_h, in_w, in_c]:
//   acc[n, iy, ix, ci] = bias[ci] + Σ (dy[n, oy, ox, co] − dy_zero_point)·w[ky, kx, ci, co]
//     over iy = oy·sh + ky·dh − pt, ix = ox·sw + kx·dw − pl             (int32, wraps)
//   y = §7 requantize(acc, multipliers[ci], y_zero_point, y_min, y_max)
struct ConvTransposeQ {
  int32_t dy_channels = 1;
  int32_t dy_zero_point = 0;
  const int8_t* filter = nullptr;
  const int32_t* bias = nullptr;       // in_c entries or null
  const float* multipliers = nullptr;  // in_c entries
  int32_t y_zero_point = 0, y_min = -128, y_max = 127;
};
void Conv2DTranspose(const ConvGeom& g, const int8_t* dy, const ConvTransposeQ& p, int8_t* y, int threads = 0);
void Conv2DTranspose(const ConvGeom& g, const uint8_t* dy, const ConvTransposeQ& p, uint8_t* y, int threads = 0);

// ---------------------------------------------------------------- pooling

// Output of pooling / mean: channels = in_c, same type as the input.
// MaxPool: y = clamp(max over the window's in-bounds elements, y_min, y_max) (same parameters
// as the input: a max needs no rescaling).
void MaxPool(const ConvGeom& g, const int8_t* x, int32_t y_min, int32_t y_max, int8_t* y, int threads = 0);
void MaxPool(const ConvGeom& g, const uint8_t* x, int32_t y_min, int32_t y_max, uint8_t* y, int threads = 0);
void MaxPoolF32(const ConvGeom& g, const float* x, float* y, int threads = 0);

// AvgPool / Mean: n = number of in-bounds elements of the window (padding is not counted, as
// TF does); m = fl32(x_scale / y_scale);
//   y = fl32(fl32(Σ (q − x_zero_point)) × fl32(m / n)),  then §7 clamp, rne, + y_zero_point.
struct PoolQ {
  float x_scale = 1.0f;
  int32_t x_zero_point = 0;
  float y_scale = 1.0f;
  int32_t y_zero_point = 0, y_min = -128, y_max = 127;
};
void AvgPool(const ConvGeom& g, const int8_t* x, const PoolQ& p, int8_t* y, int threads = 0);
void AvgPool(const ConvGeom& g, const uint8_t* x, const PoolQ& p, uint8_t* y, int threads = 0);
void AvgPoolF32(const ConvGeom& g, const float* x, float* y, int threads = 0);
// Mean over H and W of [batch, h, w, c] → [batch, c] (n = h·w).
void Mean(int64_t batch, int64_t hw, int64_t c, const int8_t* x, const PoolQ& p, int8_t* y, int threads = 0);
void Mean(int64_t batch, int64_t hw, int64_t c, const uint8_t* x, const PoolQ& p, uint8_t* y, int threads = 0);
void MeanF32(int64_t batch, int64_t hw, int64_t c, const float* x, float* y, int threads = 0);
// ArgMax of x viewed as [outer, n, inner] over its middle axis: y[o·inner + i] = the first j of
// the largest x[(o·n + j)·inner + i] (a NaN never replaces a number), as tfjs's ArgMax.
void ArgMaxF32(int64_t outer, int64_t n, int64_t inner, const float* x, int32_t* y, int threads = 0);
// TopK of each row of x [rows, n] (k ≤ n): values [rows, k] and indices [rows, k], the largest
// first, equal values by ascending index (tfjs's TopK with sorted = true); a NaN ranks below
// every number.
void TopKF32(int64_t rows, int64_t n, int64_t k, const float* x, float* values, int32_t* indices, int threads = 0);

// ---------------------------------------------------------------- elementwise

enum class BinaryOp : int {
  kAdd = 0,
  kSub = 1,
  kMul = 2,
  kMaximum = 3,
  kMinimum = 4,
  kDiv = 5,
  kSquaredDifference = 6,
  // 1.0 where a == b, else 0.0 (NaN equals nothing): TF's Equal read only by a Cast to float32
  // (a keypoint head's "is this the maximum of its window" mask); float32 only.
  kEqual = 7,
  // int32 only: floor(a / b) and a − b·floor(a / b), exact (TF's and tfjs-cpu's result; tfjs-wasm
  // divides in float32 and differs above 2^24); b = 0 gives 0, the quotient of INT32_MIN / −1
  // wraps to INT32_MIN.
  kFloorDiv = 8,
  kFloorMod = 9
};

// NumPy/TF broadcasting of two shapes (rank ≤ kMaxRank, aligned at the end; a dimension
// broadcasts when it is 1). Throws when incompatible.
Shape BroadcastShape(const Shape& a, const Shape& b);

// int8/uint8 (Add, Sub, Mul, Maximum, Minimum; a, b and y of one type):
//   Add/Sub/Max/Min: va = fl32((a − za)·ma), vb = fl32((b − zb)·mb), ma = fl32(sa/sy), mb = fl32(sb/sy)
//     Add: v = fl32(va + vb)  Sub: v = fl32(va − vb)  Max: max(va, vb)  Min: min(va, vb)
//   Mul: v = fl32(fl32((a − za)·(b − zb)) × m), m = fl32(fl32(sa·sb)/sy)
//   y = rne(clamp(v, y_min − zy, y_max − zy)) + zy
struct BinaryQ {
  float a_scale = 1.0f;
  int32_t a_zero_point = 0;
  float b_scale = 1.0f;
  int32_t b_zero_point = 0;
  float y_scale = 1.0f;
  int32_t y_zero_point = 0, y_min = -128, y_max = 127;
};
void BinaryQuant(BinaryOp op, const Shape& a_shape, const int8_t* a, const Shape& b_shape, const int8_t* b,
                 const BinaryQ& p, int8_t* y, int threads = 0);
void BinaryQuant(BinaryOp op, const Shape& a_shape, const uint8_t* a, const Shape& b_shape, const uint8_t* b,
                 const BinaryQ& p, uint8_t* y, int threads = 0);
// float32 (every BinaryOp), then y = min(max(v, y_min), y_max).
void BinaryF32(BinaryOp op, const Shape& a_shape, const float* a, const Shape& b_shape, const float* b, float y_min,
               float y_max, float* y, int threads = 0);

// int32 (Add, Sub, Mul wrapping modulo 2^32 as tfjs's Int32Array stores them; Maximum, Minimum;
// FloorDiv, FloorMod as above), broadcast as BinaryF32: the index arithmetic of a model's
// post-processing (a flat argmax into row and column).
void BinaryI32(BinaryOp op, const Shape& a_shape, const int32_t* a, const Shape& b_shape, const int32_t* b, int32_t* y,
               int threads = 0);

// Casts as tfjs does them: float32 → int32 truncates toward zero and wraps modulo 2^32 (JavaScript's
// ToInt32: NaN and ±Inf give 0, 3e9 gives −1294967296); int32 → float32 rounds to nearest even.
void CastF32ToI32(int64_t n, const float* x, int32_t* y);
void CastI32ToF32(int64_t n, const int32_t* x, float* y);

// Float unary math: y = √x, 1 / √x (two roundings, as tfjs-wasm's Rsqrt), x·x, ⌊x⌋, |x|.
// kErf: std::erf in float (within an ulp; tfjs-backend-cpu uses a 1.5e-7 approximation).
enum class UnaryOp : int { kSqrt = 0, kRsqrt = 1, kSquare = 2, kFloor = 3, kAbs = 4, kErf = 5 };
void UnaryF32(UnaryOp op, int64_t n, const float* x, float* y);

// A float reduction over the axes marked in `reduced` (shape's rank, at least one marked): each
// output (the kept axes, row-major) folds its elements in row-major order of the reduced axes —
// the order tfjs's kernels take them in after moving the reduced axes innermost. Sum from 0,
// product from 1; max and min start from the first element and take a later one only when it
// compares greater / less (a NaN never replaces a number, one that comes first stays). Mean is
// the sum divided by the number of elements, as tfjs-backend-wasm's Mean does (tfjs-backend-cpu
// divides each element first: the two differ in the last bits).
enum class ReduceOp : int { kSum = 0, kMax = 1, kMin = 2, kProd = 3, kMean = 4 };
void ReduceF32(ReduceOp op, const Shape& shape, const std::vector<bool>& reduced, const float* x, float* y);

// ---------------------------------------------------------------- activations

// Activation: common/activation.h.
// The float formula of an activation (alpha: LeakyReLU slope), evaluated in double:
// relu max(x, 0); relu6 min(max(x, 0), 6); leaky x ≥ 0 ? x : αx; elu x > 0 ? x : e^x − 1;
// sigmoid 1/(1 + e^−x); tanh; hardSwish x·min(max(x + 3, 0), 6)/6; swish x/(1 + e^−x);
// hardSigmoid min(max(0.2x + 0.5, 0), 1).
double ActivationValue(Activation act, double alpha, double x);
// float32 kernel: y[i] = fl32(f(x[i])) with the formulas above (sigmoid/tanh/elu/swish via
// float libm: within a few ulp).
void ActivationF32(Activation act, float alpha, const float* x, int64_t n, float* y, int threads = 0);

// 256-entry table for an 8-bit → 8-bit activation (also "requantize + activation": kLinear).
// Index = the input's raw byte (int8 q: uint8_t(q)), entry = the output's raw byte:
//   x = fl32((q − zx) × sx)  (§3);  f = fl32(ActivationValue(act, alpha, x));
//   y = §2 quantize(f, sy, zy) clamped to [y_min, y_max]
// x_signed/y_signed: int8 (true) or uint8.
void BuildLut(Activation act, float alpha, bool x_signed, float x_scale, int32_t x_zero_point, bool y_signed,
              float y_scale, int32_t y_zero_point, int32_t y_min, int32_t y_max, uint8_t table[256]);
// y[i] = table[x[i]] (bytes; int8 data through its bytes).
void ApplyLut(const uint8_t table[256], const uint8_t* x, int64_t n, uint8_t* y, int threads = 0);

// PReLU, alpha per channel (the last dimension, `channels` values; x.size % channels == 0).
// int8: d = q − zx; mp = fl32(sx/sy); mn[c] = fl32(fl32(sx·alpha[c])/sy);
//   v = d ≥ 0 ? fl32(d·mp) : fl32(d·mn[c]); y = rne(clamp(v, y_min − zy, y_max − zy)) + zy
struct PreluQ {
  float x_scale = 1.0f;
  int32_t x_zero_point = 0;
  float y_scale = 1.0f;
  int32_t y_zero_point = 0, y_min = -128, y_max = 127;
};
void Prelu(const int8_t* x, int64_t n, int64_t channels, const float* alpha, const PreluQ& p, int8_t* y,
           int threads = 0);
void Prelu(const uint8_t* x, int64_t n, int64_t channels, const float* alpha, const PreluQ& p, uint8_t* y,
           int threads = 0);
void PreluF32(const float* x, int64_t n, int64_t channels, const float* alpha, float* y, int threads = 0);
// The int8 / uint8 PReLU as a table: table[c·256 + byte] = Prelu of that byte in channel c, made
// by Prelu itself (so applying it is bit-identical), channels ≤ kPreluTableMaxChannels. A run
// is then one lookup per element instead of a float multiply, rounding and clamp.
constexpr int64_t kPreluTableMaxChannels = 4096;
// True where Prelu runs its portable loop (no vector kernel for the active ISA): a table lookup
// per byte then beats a float multiply, rounding and clamp per byte; the vector kernels beat
// the table's dependent byte loads.
bool PreluPrefersTable();
std::vector<uint8_t> PreluTable(bool x_signed, int64_t channels, const float* alpha, const PreluQ& p);
void PreluApplyTable(const std::vector<uint8_t>& table, int64_t channels, const uint8_t* x, int64_t n, uint8_t* y,
                     int threads = 0);
// float bias add over the last dimension then clamp: y = min(max(fl32(x + bias[c]), y_min), y_max).
void BiasAddF32(const float* x, int64_t n, int64_t channels, const float* bias, float y_min, float y_max, float* y,
                int threads = 0);

// ---------------------------------------------------------------- softmax

// int8/uint8 softmax over the last dimension (rows × cols), §11.6:
//   t = fl32(beta × x_scale); T[j] = rne(2^22 · exp(−j·t)) (double) for j = 0..255
//   per row: M = max q; S = Σ T[M − q] (exact integer); r = rne_int(256·T[M − q] / S);
//   y = min(r, 255) + zy with zy = −128 (int8 out) or 0 (uint8 out); output scale 1/256.
void SoftmaxTable(float beta, float x_scale, uint32_t table[256]);
void SoftmaxQ(const int8_t* x, int64_t rows, int64_t cols, float x_scale, float beta, int8_t* y, int threads = 0);
void SoftmaxQ(const int8_t* x, int64_t rows, int64_t cols, float x_scale, float beta, uint8_t* y, int threads = 0);
void SoftmaxQ(const uint8_t* x, int64_t rows, int64_t cols, float x_scale, float beta, int8_t* y, int threads = 0);
void SoftmaxQ(const uint8_t* x, int64_t rows, int64_t cols, float x_scale, float beta, uint8_t* y, int threads = 0);
// float32: y = e^{β(x − max)} / Σ e^{β(x − max)}.
void SoftmaxF32(const float* x, int64_t rows, int64_t cols, float beta, float* y, int threads = 0);

// ---------------------------------------------------------------- data movement (any element size)

// Concat along `axis` of inputs with equal shapes except on `axis`. Raw copy of elem_size bytes.
void Concat(size_t elem_size, const std::vector<const void*>& inputs, const std::vector<Shape>& shapes, int axis,
            void* y, int threads = 0);
// Shape of the concatenation; throws on mismatch.
Shape ConcatShape(const std::vector<Shape>& shapes, int axis);
// int8/uint8 concat with per-input requantization: input i is copied when (scale, zp) equal
// the output's and the clamp bounds are the whole type, else y = §7 requantize(q − zi,
// fl32(si/sy), zy, y_min, y_max) (quant::Requantize).
struct ConcatQ {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;
  float y_scale = 1.0f;
  int32_t y_zero_point = 0, y_min = -128, y_max = 127;
};
void ConcatQuant(bool is_signed, const std::vector<const void*>& inputs, const std::vector<Shape>& shapes, int axis,
                 const ConcatQ& p, void* y, int threads = 0);

// Pad: y has shape[d] + before[d] + after[d] (all ≥ 0); outside the copy is `value`
// (elem_size bytes: the zero point for quantized tensors).
void Pad(size_t elem_size, const Shape& shape, const int64_t* before, const int64_t* after, const void* x,
         const void* value, void* y, int threads = 0);

// Transpose: y.shape[d] = shape[perm[d]].
void Transpose(size_t elem_size, const Shape& shape, const int32_t* perm, const void* x, void* y, int threads = 0);

// GatherNd: indices [..., d] (int32) into params [p0, …, p(r−1)] (d ≤ r): y[i, …] = params[idx(i), …],
// each index tuple addressing a slice of `slice` elements of elem_size bytes. Throws
// std::out_of_range naming the first index outside its dimension (TF refuses them too).
void GatherNd(size_t elem_size, const Shape& params_shape, const void* params, int64_t tuples, int64_t d,
              const int32_t* indices, void* y);

// GatherV2 with batch_dims 0: params viewed as [outer, n, inner] (n the gathered axis), y as
// [outer, count, inner] with y[o, j] = params[o, indices[j]]. Throws std::out_of_range naming an
// index outside [0, n).
void GatherAxis(size_t elem_size, int64_t outer, int64_t n, int64_t inner, const void* params, int64_t count,
                const int32_t* indices, void* y);
void CheckPermutation(const Shape& shape, const int32_t* perm, size_t perm_len);

// StridedSlice with TF semantics (begin/end/ellipsis/new-axis/shrink-axis masks, negative
// strides, clamping of out-of-range indices).
struct StridedSliceSpec {
  Shape input_shape;
  Shape final_shape;  // after new-axis insertion and shrink-axis removal
  // per input dimension: first index, step, count (count·step walks the slice)
  std::vector<int64_t> begin, step, count;
};
StridedSliceSpec ResolveStridedSlice(const Shape& shape, const std::vector<int64_t>& begin,
                                     const std::vector<int64_t>& end, const std::vector<int64_t>& strides,
                                     int32_t begin_mask, int32_t end_mask, int32_t ellipsis_mask, int32_t new_axis_mask,
                                     int32_t shrink_axis_mask);
void StridedSlice(size_t elem_size, const StridedSliceSpec& s, const void* x, void* y, int threads = 0);

// DepthToSpace (DCR, as TF): x [n, h, w, c] → y [n, h·b, w·b, c/b²],
// y[n, h·b + i, w·b + j, k] = x[n, h, w, (i·b + j)·(c/b²) + k].
void DepthToSpace(size_t elem_size, int64_t n, int64_t h, int64_t w, int64_t c, int64_t block, const void* x, void* y,
                  int threads = 0);

// Resize (§11.8). Source coordinates (double, as TF.js): ratio = in/out, or (in−1)/(out−1)
// with align_corners and out > 1; src = half_pixel ? ratio·(d + 0.5) − 0.5 : ratio·d.
struct ResizeGeom {
  int64_t batch = 1, in_h = 1, in_w = 1, channels = 1, out_h = 1, out_w = 1;
  bool align_corners = false, half_pixel_centers = false;
};
void CheckResizeGeom(const ResizeGeom& g);
// Nearest: pure copy of elem_size bytes (quantized output keeps the input's parameters).
void ResizeNearest(size_t elem_size, const ResizeGeom& g, const void* x, void* y, int threads = 0);
// Bilinear int8: v = q − zx (float); top = fl32(tl + fl32(fl32(tr − tl)·fx)), bottom likewise,
// val = fl32(top + fl32(fl32(bottom − top)·fy)); y = rne(clamp(fl32(val·m), y_min − zy, y_max − zy)) + zy,
// m = fl32(sx/sy).
struct ResizeQ {
  float x_scale = 1.0f;
  int32_t x_zero_point = 0;
  float y_scale = 1.0f;
  int32_t y_zero_point = 0, y_min = -128, y_max = 127;
};
void ResizeBilinear(const ResizeGeom& g, const int8_t* x, const ResizeQ& p, int8_t* y, int threads = 0);
void ResizeBilinear(const ResizeGeom& g, const uint8_t* x, const ResizeQ& p, uint8_t* y, int threads = 0);
void ResizeBilinearF32(const ResizeGeom& g, const float* x, float* y, int threads = 0);

}  // namespace ops
}  // namespace tfjq
