// Step kinds. Parameter layouts (ints / floats / weights) per op — the plan compiler
// (src/runtime/plan.ts) writes exactly these:
//
//   geom = [kh, kw, sh, sw, dh, dw, pad_top, pad_bottom, pad_left, pad_right]
//   act  = ops::Act code (0 linear, 1 relu, 2 relu6, 3 leaky, 4 elu, 5 sigmoid, 6 tanh, 7 hardSwish, ...)
//
//   quantize      f32 → i8     ints [zp]                 floats [scale]
//   dequantize    i8 → f32     ints [zp]                 floats [scale]
//   conv_i8       x i8 NHWC → y i8, temps [col i8] unless 1×1/stride 1/no pad
//                 ints [geom, za, zo, qmin, qmax]        weights [w i8 K×N, bias i32|-1, mult f32 (N or 1)]
//   matmul_i8     x i8 [..., K] → y i8 [..., N]          ints [za, zo, qmin, qmax], weights as conv_i8
//   conv_dyn      x f32 → y f32, temps [col f32] unless direct
//                 ints [geom, per_row, act] floats [alpha] weights [w i8 K×N, w_scales f32 N, bias f32|-1]
//   matmul_dyn    ints [per_row, act] floats [alpha], weights as conv_dyn
//   conv_dyn4     int4 weights (§12.5, DynamicGemmInt4), packed once by PackInt4; temps as conv_dyn
//                 ints [geom, per_row, act, group_size] floats [alpha]
//                 weights [w i8 K×N in [-8, 7], w_scales f32 groups×N, w_zero_points i32 groups×N|-1, bias f32|-1]
//                 (groups = ceil(K / group_size), 1 when group_size is 0 or >= K)
//   matmul_dyn4   ints [per_row, act, group_size] floats [alpha], weights as conv_dyn4
//   conv_f32      ints [geom, act] floats [alpha]        weights [w f32 kh·kw·C·N, bias f32|-1]
//   matmul_f32    ints [act] floats [alpha]              weights [w f32 K×N, bias f32|-1]
//   dw_i8         ints [geom, multiplier, za, zo, qmin, qmax]  weights [w i8, bias i32|-1, mult f32]
//   dw_f32        ints [geom, multiplier, act] floats [alpha]  weights [w f32, bias f32|-1]
//   maxpool_i8    ints [kh, kw, sh, sw, pt, pb, pl, pr, qmin, qmax]
//   maxpool_f32   ints [kh, kw, sh, sw, pt, pb, pl, pr]
//   avgpool_i8    ints [kh, kw, sh, sw, pt, pb, pl, pr, zx, zo, qmin, qmax] floats [sx, so]
//   avgpool_f32   ints [kh, kw, sh, sw, pt, pb, pl, pr]
//   mean_i8       x [-1, H, W, C] → [-1, C] (any shape of N·C)  ints [zx, zo, qmin, qmax] floats [sx, so]
//   mean_f32
//   binary_i8     a, b → y   ints [op, za, zb, zo, qmin, qmax] floats [sa, sb, so]
//   binary_f32    a, b → y   ints [op, act]
//   lut           8-bit → 8-bit  weights [table u8 256]
//   act_f32       ints [act] floats [alpha]
//   softmax_i8    floats [sx, beta]     softmax_f32 floats [beta]
//   concat_i8     ints [axis, zo, qmin, qmax, zi...] floats [so, si...]
//   concat        (raw, any dtype) ints [axis]
//   prelu_i8      ints [zx, zo, qmin, qmax] floats [sx, so] weights [alpha f32 C]
//   prelu_f32     weights [alpha f32 C]
//   pad           ints [before × rank, after × rank] floats [value]
//   transpose     ints perm
//   resize_nearest     ints [align_corners, half_pixel]
//   resize_bilinear_i8 ints [align_corners, half_pixel, zx, zo, qmin, qmax] floats [sx, so]
//   resize_bilinear_f32 ints [align_corners, half_pixel]
//   copy          raw copy of equal byte sizes
//   strided_slice ints [n, begin × n, end × n, strides × n, begin_mask, end_mask, ellipsis_mask,
//                 new_axis_mask, shrink_axis_mask] (TF semantics, resolved per batch size)
//   depth_to_space ints [block]
//   deconv_i8     dy i8 [-1, OH, OW, CO] → y i8 [-1, H, W, CI] (geometry of the forward conv y → dy)
//                 ints [geom, zdy, zo, qmin, qmax] weights [w i8 kh·kw·CI·CO, bias i32|-1, mult f32 CI]
//   deconv_f32    ints [geom] weights [w f32 kh·kw·CI·CO, bias f32|-1]
//   sparse_matmul_i8 / sparse_conv_i8 / sparse_matmul_f32 / sparse_conv_f32: the dense op's
//                 parameters + trailing [m_min, m_max] (pruned weights, 1×1 convs only; steps_sparse.h)
//   batch_matmul_f32  a [..., M, K] (or [..., K, M] with ta), b [..., K, N] (or [..., N, K] with tb) → y [..., M, N];
//                 leading dimensions: equal, or one side's product is 1   ints [ta, tb]
#include "runtime/steps.h"
#include "runtime/steps_sparse.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "common/cpu.h"
#include "common/thread_pool.h"
#include "gemm/gemm.h"
#include "gemm/gemm_int4.h"
#include "ops/ops.h"
#include "quant/quantize.h"
#include "train/conv_train.h"

namespace tfjq {
namespace runtime {
namespace {

[[noreturn]] void Bad(const std::string& m) { throw std::invalid_argument(m); }

using Dims = std::vector<int64_t>;

int64_t Prod(const Dims& d, size_t from = 0, size_t to = SIZE_MAX) {
  int64_t p = 1;
  for (size_t i = from; i < d.size() && i < to; i++) p *= d[i];
  return p;
}

std::string DimsStr(const Dims& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); i++) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

// Parsed view of a StepSpec plus the session it belongs to (for buffer shapes at batch 1).
struct Spec {
  const StepSpec& s;
  const Session& ses;
  const BufferSpec& Buf(int id) const { return ses.plan().buffers[static_cast<size_t>(id)]; }
  void Arity(size_t in, size_t out, size_t nint, size_t nfloat, size_t nw) const {
    if (s.inputs.size() != in) Bad("expects " + std::to_string(in) + " inputs");
    if (s.outputs.size() != out) Bad("expects " + std::to_string(out) + " outputs");
    if (nint != SIZE_MAX && s.ints.size() != nint) Bad("expects " + std::to_string(nint) + " int parameters, got " + std::to_string(s.ints.size()));
    if (nfloat != SIZE_MAX && s.floats.size() != nfloat) Bad("expects " + std::to_string(nfloat) + " float parameters");
    if (nw != SIZE_MAX && s.weights.size() != nw) Bad("expects " + std::to_string(nw) + " weights");
  }
  void Type(int id, DType t, const char* what) const {
    if (Buf(id).dtype != t) Bad(std::string(what) + ": wrong dtype");
  }
  bool Is8(int id) const { return Buf(id).dtype == DType::kI8 || Buf(id).dtype == DType::kU8; }
  bool Batched(int id) const { return !Buf(id).shape.empty() && Buf(id).shape[0] == -1; }
  // x and y share their leading (batch) dimension: both the free batch (-1) or one fixed size.
  // Image ops treat dimension 0 as the images of a batch, whichever it is.
  void SameLeading(int x, int y, const char* what) const {
    const Dims& xs = Buf(x).shape;
    const Dims& ys = Buf(y).shape;
    if (xs.empty() || ys.empty() || xs[0] != ys[0]) Bad(std::string(what) + ": input and output must have one leading (batch) dimension");
  }
  Dims Shape1(int id) const { return ses.Shape(id, 1); }
  int64_t Int(size_t i, int64_t lo, int64_t hi, const char* what) const {
    const int64_t v = s.ints[i];
    if (v < lo || v > hi) Bad(std::string(what) + " = " + std::to_string(v) + " outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  }
  float Scale(size_t i, const char* what) const {
    const double v = s.floats[i];
    const float f = static_cast<float>(v);
    if (!(std::isfinite(f) && f > 0)) Bad(std::string(what) + " must be a finite float32 > 0");
    return f;
  }
  float Float(size_t i) const { return static_cast<float>(s.floats[i]); }
  // Weight array `slot` (required unless optional), of dtype t and `len` elements (len < 0: any).
  const WeightSpec* W(size_t slot, DType t, int64_t len, bool optional, const char* what) const {
    if (slot >= s.weights.size()) Bad(std::string(what) + ": missing weight");
    const int wi = s.weights[slot];
    if (wi < 0) {
      if (!optional) Bad(std::string(what) + " is required");
      return nullptr;
    }
    const WeightSpec& w = ses.plan().weights[static_cast<size_t>(wi)];
    if (w.dtype != t) Bad(std::string(what) + ": wrong dtype");
    if (len >= 0 && w.length() != len) Bad(std::string(what) + " has " + std::to_string(w.length()) + " elements, expected " + std::to_string(len));
    return &w;
  }
  // 8-bit bounds for the output buffer's type.
  void QBounds(size_t zo_i, size_t lo_i, size_t hi_i, int id) const {
    const bool sgn = Buf(id).dtype == DType::kI8;
    const int64_t tmin = sgn ? -128 : 0, tmax = sgn ? 127 : 255;
    Int(zo_i, tmin, tmax, "output zero point");
    const int64_t lo = Int(lo_i, tmin, tmax, "qmin");
    const int64_t hi = Int(hi_i, tmin, tmax, "qmax");
    if (lo > hi) Bad("qmin > qmax");
  }
  void Zp(size_t i, int id, const char* what) const {
    const bool sgn = Buf(id).dtype == DType::kI8;
    Int(i, sgn ? -128 : 0, sgn ? 127 : 255, what);
  }
};

template <typename T> const T* WPtr(const WeightSpec* w) { return w ? reinterpret_cast<const T*>(w->bytes.data()) : nullptr; }

int ActCode(const Spec& p, size_t i) { return static_cast<int>(p.Int(i, 0, 9, "activation")); }

// Applies a float activation in place (relu/relu6 are usually folded into a clamp by the caller).
void ApplyActF32(int act, float alpha, float* y, int64_t n, int threads) {
  if (act == 0 || n == 0) return;
  ops::ActivationF32(static_cast<ops::Act>(act), alpha, y, n, y, threads);
}

// The 8-bit unary parameters every per-tensor requantizing op takes: ints[at..at+3] =
// input zero point, output zero point, output bounds; floats[0..1] = input and output scales.
template <class Q>
void ReadUnaryQ(const Spec& p, int x, int y, size_t at, Q& q) {
  p.Zp(at, x, "input zero point");
  p.QBounds(at + 1, at + 2, at + 3, y);
  q.x_zero_point = static_cast<int32_t>(p.s.ints[at]);
  q.y_zero_point = static_cast<int32_t>(p.s.ints[at + 1]);
  q.y_min = static_cast<int32_t>(p.s.ints[at + 2]);
  q.y_max = static_cast<int32_t>(p.s.ints[at + 3]);
  q.x_scale = p.Scale(0, "input scale");
  q.y_scale = p.Scale(1, "output scale");
}

// An op on one tensor that is either 8-bit (one type in and out, ReadUnaryQ's parameters)
// or float32.
template <class Q>
void ReadUnaryTyped(const Spec& p, int x, int y, bool q8, size_t at, Q& q, const char* op) {
  if (q8) {
    if (!p.Is8(x) || p.Buf(y).dtype != p.Buf(x).dtype) Bad(std::string("8-bit ") + op + ": input and output must be of one 8-bit type");
    ReadUnaryQ(p, x, y, at, q);
  } else {
    p.Type(x, DType::kF32, "input");
    p.Type(y, DType::kF32, "output");
  }
}

// ---------------------------------------------------------------- conv geometry

struct Geo {
  int32_t kh, kw, sh, sw, dh, dw, pt, pb, pl, pr;
  bool Direct() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pb == 0 && pl == 0 && pr == 0; }
};

Geo ParseGeo(const Spec& p, size_t at) {
  Geo g;
  g.kh = static_cast<int32_t>(p.Int(at + 0, 1, 1 << 16, "kernel height"));
  g.kw = static_cast<int32_t>(p.Int(at + 1, 1, 1 << 16, "kernel width"));
  g.sh = static_cast<int32_t>(p.Int(at + 2, 1, 1 << 16, "stride"));
  g.sw = static_cast<int32_t>(p.Int(at + 3, 1, 1 << 16, "stride"));
  g.dh = static_cast<int32_t>(p.Int(at + 4, 1, 1 << 16, "dilation"));
  g.dw = static_cast<int32_t>(p.Int(at + 5, 1, 1 << 16, "dilation"));
  g.pt = static_cast<int32_t>(p.Int(at + 6, 0, 1 << 16, "padding"));
  g.pb = static_cast<int32_t>(p.Int(at + 7, 0, 1 << 16, "padding"));
  g.pl = static_cast<int32_t>(p.Int(at + 8, 0, 1 << 16, "padding"));
  g.pr = static_cast<int32_t>(p.Int(at + 9, 0, 1 << 16, "padding"));
  return g;
}

// x: the resolved NHWC shape of the input (its dimension 0 is the number of images).
ops::ConvGeom OpsGeom(const Geo& q, const Dims& x) {
  ops::ConvGeom g;
  g.batch = static_cast<int32_t>(x[0]);
  g.in_h = static_cast<int32_t>(x[1]);
  g.in_w = static_cast<int32_t>(x[2]);
  g.in_c = static_cast<int32_t>(x[3]);
  g.k_h = q.kh; g.k_w = q.kw; g.stride_h = q.sh; g.stride_w = q.sw; g.dilation_h = q.dh; g.dilation_w = q.dw;
  g.pad_top = q.pt; g.pad_bottom = q.pb; g.pad_left = q.pl; g.pad_right = q.pr;
  ops::CheckConvGeom(&g);
  return g;
}

// Checks x [-1, H, W, C] and y [-1, OH, OW, OC] against the geometry.
ops::ConvGeom CheckConvShapes(const Spec& p, const Geo& q, int x, int y, int64_t out_c) {
  p.SameLeading(x, y, "conv");
  const Dims xs = p.Shape1(x), ys = p.Shape1(y);
  if (xs.size() != 4 || ys.size() != 4) Bad("conv input and output must be NHWC (rank 4)");
  ops::ConvGeom g = OpsGeom(q, xs);
  if (ys[1] != g.out_h || ys[2] != g.out_w || ys[3] != out_c) {
    Bad("output shape " + DimsStr(ys) + " does not match the geometry ([-1, " + std::to_string(g.out_h) + ", " +
        std::to_string(g.out_w) + ", " + std::to_string(out_c) + "])");
  }
  return g;
}

// ---------------------------------------------------------------- im2col

// memcpy for the short runs of an im2col row (a 3×3 stem on RGB input copies 3 runs of 9
// bytes per pixel): two overlapping fixed-size moves instead of a byte loop or a libc call.
// Reads and writes exactly [0, n) of each side.
inline void CopySmall(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const auto* s = static_cast<const uint8_t*>(src);
  auto two = [&](auto word) {
    using W = decltype(word);
    W a, b;
    std::memcpy(&a, s, sizeof(W));
    std::memcpy(&b, s + n - sizeof(W), sizeof(W));
    std::memcpy(d, &a, sizeof(W));
    std::memcpy(d + n - sizeof(W), &b, sizeof(W));
  };
  struct W16 { uint64_t lo, hi; };
  if (n > 32) std::memcpy(d, s, n);
  else if (n >= 16) two(W16{});
  else if (n >= 8) two(uint64_t{});
  else if (n >= 4) two(uint32_t{});
  else for (size_t i = 0; i < n; i++) d[i] = s[i];
}

// Output rows [rb, re) of Im2Col below. Per output row, the k_h source rows are resolved
// once; pixels whose window lies inside the input along x take a short loop (one copy per
// filter row), the others the general one with its padding fills.
template <typename T>
void Im2ColRows(const T* x, const T* x_end, T* a, T pad, bool wide, int64_t C, int64_t kwc, int64_t lda, int64_t out_h,
                int64_t out_w, int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w, int64_t stride_h, int64_t stride_w,
                int64_t dil_h, int64_t pad_top, int64_t pad_left, int64_t rb, int64_t re) {
  constexpr int kMaxRows = 16;
  const T* rows_p[kMaxRows];
  const bool fast_rows = k_h <= kMaxRows;
  // Pixels [ox_lo, ox_hi) have kx0 = 0 and kx1 = k_w.
  const int64_t ox_lo = std::min<int64_t>(out_w, (pad_left + stride_w - 1) / stride_w);
  const int64_t ox_hi = std::max<int64_t>(ox_lo, std::min<int64_t>(out_w, in_w - k_w + pad_left >= 0 ? (in_w - k_w + pad_left) / stride_w + 1 : 0));
  for (int64_t r = rb; r < re; r++) {
    const int64_t n = r / out_h, oy = r % out_h;
    if (fast_rows) {
      for (int64_t ky = 0; ky < k_h; ky++) {
        const int64_t iy = oy * stride_h + ky * dil_h - pad_top;
        rows_p[ky] = iy < 0 || iy >= in_h ? nullptr : x + ((n * in_h + iy) * in_w - pad_left) * C;
      }
    }
    for (int64_t ox = 0; ox < out_w; ox++) {
      T* dst = a + (r * out_w + ox) * lda;
      if (fast_rows && ox >= ox_lo && ox < ox_hi) {
        // Whole window along x; a 16-byte move per run unless this is the row's last pixel.
        const bool w16 = wide && ox + 1 < out_w;
        const int64_t off = ox * stride_w * C;
        for (int64_t ky = 0; ky < k_h; ky++, dst += kwc) {
          const T* src = rows_p[ky];
          if (src == nullptr) {
            std::fill(dst, dst + kwc, pad);
            continue;
          }
          src += off;
          if (w16 && src + 16 / sizeof(T) <= x_end) {
            uint8_t v[16];
            std::memcpy(v, src, 16);
            std::memcpy(dst, v, 16);
          } else {
            CopySmall(dst, src, static_cast<size_t>(kwc) * sizeof(T));
          }
        }
        continue;
      }
      const int64_t ix0 = ox * stride_w - pad_left;
      const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min<int64_t>(k_w, in_w - ix0);
      for (int64_t ky = 0; ky < k_h; ky++, dst += kwc) {
        const int64_t iy = oy * stride_h + ky * dil_h - pad_top;
        if (iy < 0 || iy >= in_h || kx1 <= kx0) {
          std::fill(dst, dst + kwc, pad);
          continue;
        }
        const T* src = x + ((n * in_h + iy) * in_w + ix0 + kx0) * C;
        if (kx0 > 0) std::fill(dst, dst + kx0 * C, pad);
        CopySmall(dst + kx0 * C, src, static_cast<size_t>((kx1 - kx0) * C) * sizeof(T));
        if (kx1 < k_w) std::fill(dst + kx1 * C, dst + kwc, pad);
      }
    }
  }
}

// The GEMM A matrix of a convolution (docs/quantization.md §11.2, same result as ops::Im2Col):
// with dilation_w = 1 the in-bounds taps of one filter row are contiguous in x, so each
// (output pixel, ky) is one copy of up to kw·C elements plus the padding fills — instead of
// one copy per tap, which dominates for the small C of first layers (C = 1 or 3).
template <typename T>
void Im2Col(const ops::ConvGeom& g, const T* x, T pad, T* a, int64_t lda, int threads) {
  if (g.dilation_w != 1) {
    ops::Im2Col(g, x, pad, a, lda, threads);
    return;
  }
  const int64_t C = g.in_c, rows = int64_t(g.batch) * g.out_h, kwc = int64_t{g.k_w} * C;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.out_w * g.k_h * kwc));
  const int64_t out_h = g.out_h, out_w = g.out_w, in_h = g.in_h, in_w = g.in_w, k_h = g.k_h, k_w = g.k_w;
  const int64_t stride_h = g.stride_h, stride_w = g.stride_w, dil_h = g.dilation_h, pad_top = g.pad_top,
                pad_left = g.pad_left;
  // Short runs (kw·C ≤ 16 bytes, e.g. a 3×3 stem on RGB: 9 bytes): one 16-byte move per run
  // when the run is whole and its pixel is not the last of its output row. The extra bytes
  // (at most 16 − kw·C past the pixel's K values, inside the next pixel's row of A since
  // K ≥ 16 and lda ≥ K) are written again afterwards: later runs of the same output row,
  // and rows are the unit of parallel work, so no other thread writes there. The 16-byte
  // read stays inside x.
  const bool wide = static_cast<size_t>(kwc) * sizeof(T) <= 16 && static_cast<size_t>(k_h * kwc) * sizeof(T) >= 16;
  const T* const x_end = x + int64_t(g.batch) * in_h * in_w * C;
  // The loop runs in a function of its own: its geometry arrives as parameters (locals).
  // Read as captures of the lambda — members of the closure object, which the char stores
  // may alias — it was reloaded on every iteration (callgrind: 164 instructions per output
  // pixel of the RGB stem).
  ParallelFor(rows, grain, threads, [=](int64_t rb, int64_t re) {
    Im2ColRows(x, x_end, a, pad, wide, C, kwc, lda, out_h, out_w, in_h, in_w, k_h, k_w, stride_h, stride_w, dil_h, pad_top,
               pad_left, rb, re);
  });
}

// ---------------------------------------------------------------- GEMM steps (int8, dynamic, dynamic int4)

class GemmStep : public Step {
 public:
  enum Kind { kInt8, kDynamic, kDynamicInt4 };
  GemmStep(const Spec& p, Kind kind, bool conv) : kind_(kind), conv_(conv) {
    const int x = p.s.inputs.size() == 1 ? p.s.inputs[0] : -1;
    p.Arity(1, 1, SIZE_MAX, SIZE_MAX, kind == kDynamicInt4 ? 4 : 3);
    const int y = p.s.outputs[0];
    size_t at = 0;
    if (conv_) {
      if (p.s.ints.size() < 10) Bad("missing geometry");
      geo_ = ParseGeo(p, 0);
      at = 10;
    }
    const size_t nint = at + (kind == kInt8 ? 4 : kind == kDynamic ? 2 : 3);
    if (p.s.ints.size() != nint) Bad("expects " + std::to_string(nint) + " int parameters");
    const WeightSpec* w = p.W(0, DType::kI8, -1, false, "weights");
    Dims xs = p.Shape1(x), ys = p.Shape1(y);
    if (xs.empty() || ys.empty()) Bad("input and output must have rank >= 1");
    if (conv_) {
      if (xs.size() != 4) Bad("conv input must be NHWC");
      k_ = int64_t{geo_.kh} * geo_.kw * xs[3];
      n_ = ys.size() == 4 ? ys[3] : 0;
      CheckConvShapes(p, geo_, x, y, n_);
    } else {
      k_ = xs.back();
      n_ = ys.back();
      if (p.Buf(x).shape.size() != p.Buf(y).shape.size() || Prod(xs, 0, xs.size() - 1) != Prod(ys, 0, ys.size() - 1)) Bad("input and output row counts differ");
      if (!std::equal(p.Buf(x).shape.begin(), p.Buf(x).shape.end() - 1, p.Buf(y).shape.begin())) Bad("input and output leading dimensions differ");
    }
    if (k_ < 1 || k_ > gemm::kMaxK || n_ < 1) Bad("GEMM K must be in [1, 65536] and N >= 1");
    if (w->length() != k_ * n_) Bad("weights have " + std::to_string(w->length()) + " values, expected K×N = " + std::to_string(k_ * n_));
    if (kind_ == kInt8) {
      p.Type(x, DType::kI8, "input");
      p.Type(y, DType::kI8, "output");
      za_ = static_cast<int32_t>(p.Int(at, -128, 127, "input zero point"));
      p.QBounds(at + 1, at + 2, at + 3, y);
      zo_ = static_cast<int32_t>(p.s.ints[at + 1]);
      qmin_ = static_cast<int32_t>(p.s.ints[at + 2]);
      qmax_ = static_cast<int32_t>(p.s.ints[at + 3]);
      if (!p.s.floats.empty()) Bad("expects no float parameters");
      bias_i32_ = WPtr<int32_t>(p.W(1, DType::kI32, n_, true, "bias"));
      const WeightSpec* m = p.W(2, DType::kF32, -1, false, "multipliers");
      if (m->length() != n_ && m->length() != 1) Bad("multipliers must have N or 1 entries");
      mult_ = WPtr<float>(m);
      mult_per_channel_ = m->length() == n_ && n_ != 1;
      for (int64_t i = 0; i < m->length(); i++) if (!(std::isfinite(mult_[i]) && mult_[i] > 0)) Bad("multipliers must be finite and > 0");
    } else if (kind_ == kDynamicInt4) {
      ParseInt4(p, x, y, at, *w);
    } else {
      p.Type(x, DType::kF32, "input");
      p.Type(y, DType::kF32, "output");
      per_row_ = p.Int(at, 0, 1, "per_row") == 1;
      act_ = ActCode(p, at + 1);
      if (p.s.floats.size() != 1) Bad("expects 1 float parameter (alpha)");
      alpha_ = p.Float(0);
      const WeightSpec* ws = p.W(1, DType::kF32, -1, false, "weight scales");
      if (ws->length() != n_ && ws->length() != 1) Bad("weight scales must have N or 1 entries");
      w_scales_ = WPtr<float>(ws);
      ws_per_channel_ = ws->length() == n_ && n_ != 1;
      for (int64_t i = 0; i < ws->length(); i++) if (!(std::isfinite(w_scales_[i]) && w_scales_[i] > 0)) Bad("weight scales must be finite and > 0");
      bias_f32_ = WPtr<float>(p.W(2, DType::kF32, n_, true, "bias"));
    }
    direct_ = !conv_ || geo_.Direct();
    if (!direct_) {
      if (p.s.temps.size() != 1) Bad("a k×k convolution needs one temporary (im2col) buffer");
      const int t = p.s.temps[0];
      const DType want = kind_ == kInt8 ? DType::kI8 : DType::kF32;
      p.Type(t, want, "im2col buffer");
      for (int64_t batch : {1, 3}) {
        if (p.ses.Elements(t, batch) < p.ses.Elements(y, batch) / n_ * k_) Bad("im2col buffer too small");
      }
    } else if (!p.s.temps.empty()) {
      Bad("unexpected temporary buffer");
    }
    if (kind_ != kDynamicInt4) {
      packed_ = gemm::PackB(reinterpret_cast<const int8_t*>(w->bytes.data()), k_, n_, gemm::BLayout::kKN, n_, nullptr, false, ActiveIsa());
    }
    weight_index_ = p.s.weights[0];
  }

  size_t OwnedBytes() const override { return kind_ == kDynamicInt4 ? packed4_.byte_length() : packed_.byte_length(); }
  // int4: values, scales and zero points live only in the packed form (the bias is read at run time).
  std::vector<int> PackedWeights() const override {
    if (kind_ != kDynamicInt4) return {weight_index_};
    std::vector<int> v{weight_index_, scales_index_};
    if (zp_index_ >= 0) v.push_back(zp_index_);
    return v;
  }

  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const int64_t m = c.Elements(y) / n_;
    const void* a = c.ptr[static_cast<size_t>(x)];
    if (!direct_) {
      const ops::ConvGeom g = OpsGeom(geo_, c.Shape(x));
      if (kind_ == kInt8) {
        Im2Col<int8_t>(g, c.P<int8_t>(x), static_cast<int8_t>(za_), c.P<int8_t>(temps[0]), k_, c.threads);
      } else {
        Im2Col<float>(g, c.P<float>(x), 0.0f, c.P<float>(temps[0]), k_, c.threads);
      }
      a = c.ptr[static_cast<size_t>(temps[0])];
    }
    if (kind_ == kInt8) {
      gemm::GemmArgs g;
      g.m = m;
      g.a = a;
      g.a_signed = true;
      g.lda = k_;
      g.a_zero_points = &za_;
      g.b = &packed_;
      g.c = c.ptr[static_cast<size_t>(y)];
      g.ldc = n_;
      g.threads = c.threads;
      g.epilogue.output = gemm::OutputType::kInt8;
      g.epilogue.bias = bias_i32_;
      g.epilogue.multipliers = mult_;
      g.epilogue.multiplier_per_channel = mult_per_channel_;
      g.epilogue.out_zero_point = zo_;
      g.epilogue.qmin = qmin_;
      g.epilogue.qmax = qmax_;
      gemm::Gemm(g);
    } else if (kind_ == kDynamicInt4) {
      gemm::DynamicInt4Args d;
      SetDynamicInput(d, m, a, &packed4_, c.threads);
      d.out.bias = bias_f32_;
      d.out.activation = ClampAct();
      d.out.c = c.P<float>(y);
      d.out.ldc = n_;
      gemm::DynamicGemmInt4(d);
      if (act_ > 2) ApplyActF32(act_, alpha_, c.P<float>(y), m * n_, c.threads);
    } else {
      gemm::DynamicGemmArgs d;
      SetDynamicInput(d, m, a, &packed_, c.threads);
      d.w_scales = w_scales_;
      d.w_scale_per_channel = ws_per_channel_;
      d.bias_f32 = bias_f32_;
      d.activation = ClampAct();
      d.c = c.P<float>(y);
      d.ldc = n_;
      gemm::DynamicGemm(d);
      if (act_ > 2) ApplyActF32(act_, alpha_, c.P<float>(y), m * n_, c.threads);
    }
  }

 private:
  // The float input side shared by DynamicGemmArgs and DynamicInt4Args.
  template <typename Args, typename Packed>
  void SetDynamicInput(Args& d, int64_t m, const void* a, const Packed* b, int threads) const {
    d.m = m;
    d.x = static_cast<const float*>(a);
    d.ldx = k_;
    d.per_row = per_row_;
    d.b = b;
    d.threads = threads;
  }
  gemm::Activation ClampAct() const { return act_ == 1 ? gemm::Activation::kRelu : act_ == 2 ? gemm::Activation::kRelu6 : gemm::Activation::kNone; }

  // conv_dyn4 / matmul_dyn4: ints [.., per_row, act, group_size], weights [w, scales, zero points|-1, bias|-1].
  void ParseInt4(const Spec& p, int x, int y, size_t at, const WeightSpec& w) {
    p.Type(x, DType::kF32, "input");
    p.Type(y, DType::kF32, "output");
    per_row_ = p.Int(at, 0, 1, "per_row") == 1;
    act_ = ActCode(p, at + 1);
    const int64_t gs = p.Int(at + 2, 0, gemm::kMaxK, "group_size");
    if (gs != 0 && gs % gemm::kInt4BlockK != 0) Bad("group_size must be 0 (per column) or a multiple of 8, got " + std::to_string(gs));
    if (p.s.floats.size() != 1) Bad("expects 1 float parameter (alpha)");
    alpha_ = p.Float(0);
    const int64_t groups = gs == 0 || gs >= k_ ? 1 : (k_ + gs - 1) / gs;
    const int8_t* wv = reinterpret_cast<const int8_t*>(w.bytes.data());
    for (int64_t i = 0; i < k_ * n_; i++) {
      if (wv[i] < -8 || wv[i] > 7) Bad("int4 weights[" + std::to_string(i) + "] = " + std::to_string(wv[i]) + " is outside [-8, 7]");
    }
    const WeightSpec* ws = p.W(1, DType::kF32, groups * n_, false, "int4 weight scales (groups × N)");
    const float* sc = WPtr<float>(ws);
    for (int64_t i = 0; i < groups * n_; i++) if (!(std::isfinite(sc[i]) && sc[i] > 0)) Bad("int4 weight scales must be finite and > 0");
    const WeightSpec* zs = p.W(2, DType::kI32, groups * n_, true, "int4 weight zero points (groups × N)");
    const int32_t* zp = WPtr<int32_t>(zs);
    if (zp != nullptr) {
      for (int64_t i = 0; i < groups * n_; i++) if (zp[i] < -8 || zp[i] > 7) Bad("int4 weight zero points must be in [-8, 7]");
    }
    bias_f32_ = WPtr<float>(p.W(3, DType::kF32, n_, true, "bias"));
    packed4_ = gemm::PackInt4(wv, k_, n_, gemm::BLayout::kKN, n_, gs, sc, zp, gemm::Int4DefaultIsa());
    scales_index_ = p.s.weights[1];
    zp_index_ = p.s.weights[2];
  }

  Kind kind_;
  bool conv_, direct_ = true;
  Geo geo_{};
  int64_t k_ = 0, n_ = 0;
  int32_t za_ = 0, zo_ = 0, qmin_ = -128, qmax_ = 127;
  const int32_t* bias_i32_ = nullptr;
  const float* mult_ = nullptr;
  bool mult_per_channel_ = false;
  bool per_row_ = false, ws_per_channel_ = true;
  int act_ = 0;
  float alpha_ = 0.2f;
  const float* w_scales_ = nullptr;
  const float* bias_f32_ = nullptr;
  gemm::PackedB packed_;
  gemm::PackedInt4 packed4_;
  int weight_index_ = -1, scales_index_ = -1, zp_index_ = -1;
};

// ---------------------------------------------------------------- float conv / matmul (native/train kernels)

train::Activation TrainAct(int act) {
  switch (act) {
    case 1: return train::Activation::kRelu;
    case 2: return train::Activation::kRelu6;
    case 3: return train::Activation::kLeakyRelu;
    default: return train::Activation::kLinear;
  }
}

class FloatGemmStep : public Step {
 public:
  FloatGemmStep(const Spec& p, bool conv) : conv_(conv) {
    p.Arity(1, 1, conv ? 11 : 1, 1, 2);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    p.Type(x, DType::kF32, "input");
    p.Type(y, DType::kF32, "output");
    Dims xs = p.Shape1(x), ys = p.Shape1(y);
    if (xs.empty() || ys.empty()) Bad("input and output must have rank >= 1");
    size_t at = 0;
    if (conv_) {
      geo_ = ParseGeo(p, 0);
      at = 10;
      if (xs.size() != 4 || ys.size() != 4) Bad("conv input and output must be NHWC");
      k_ = int64_t{geo_.kh} * geo_.kw * xs[3];
      n_ = ys[3];
      CheckConvShapes(p, geo_, x, y, n_);
    } else {
      k_ = xs.back();
      n_ = ys.back();
      if (p.Buf(x).shape.size() != p.Buf(y).shape.size() || !std::equal(p.Buf(x).shape.begin(), p.Buf(x).shape.end() - 1, p.Buf(y).shape.begin())) {
        Bad("input and output leading dimensions differ");
      }
    }
    act_ = ActCode(p, at);
    alpha_ = p.Float(0);
    const float* w = WPtr<float>(p.W(0, DType::kF32, k_ * n_, false, "weights"));
    bias_ = WPtr<float>(p.W(1, DType::kF32, n_, true, "bias"));
    if (!p.s.temps.empty()) Bad("unexpected temporary buffer");
    // Weights packed once here (the row-major originals are then released by the session).
    // Also at batch 1: on the packed panels a 1 × 1280 × 1000 dense layer took 0.42–0.48 ms
    // against 0.53–0.60 ms streaming the row-major weights (the former few-row kernel), and
    // 768 × 3072 0.42 against 0.95–1.02 ms.
    packed_ = train::PackedB(w, k_, n_);
    weight_index_ = p.s.weights[0];
  }
  size_t OwnedBytes() const override { return packed_.byte_length(); }
  std::vector<int> PackedWeights() const override { return {weight_index_}; }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const int64_t m = c.Elements(y) / n_;
    float* out = c.P<float>(y);
    // Bias and the activations BiasActivation knows are applied as the GEMM stores its tiles
    // (the same operations, no second pass over the output); others afterwards.
    const bool simple = act_ <= 3;
    train::FusedBiasAct epi;
    epi.bias = bias_;
    epi.act = simple ? static_cast<int>(TrainAct(act_)) : 0;
    epi.alpha = alpha_;
    if (conv_) {
      const Dims xs = c.Shape(x), ys = c.Shape(y);
      train::ConvGeom g;
      g.batch = xs[0]; g.in_h = xs[1]; g.in_w = xs[2]; g.in_c = xs[3];
      g.out_h = ys[1]; g.out_w = ys[2]; g.out_c = ys[3];
      g.filter_h = geo_.kh; g.filter_w = geo_.kw; g.stride_h = geo_.sh; g.stride_w = geo_.sw;
      g.dil_h = geo_.dh; g.dil_w = geo_.dw; g.pad_top = geo_.pt; g.pad_left = geo_.pl;
      train::Conv2D(g, c.P<float>(x), packed_, out, c.threads, epi);
    } else {
      train::MatMul(m, c.P<float>(x), packed_, out, c.threads, epi);
    }
    if (!simple) ApplyActF32(act_, alpha_, out, m * n_, c.threads);
  }

 private:
  bool conv_;
  Geo geo_{};
  int64_t k_ = 0, n_ = 0;
  int act_ = 0;
  float alpha_ = 0.2f;
  train::PackedB packed_;
  int weight_index_ = -1;
  const float* bias_ = nullptr;
};

// ---------------------------------------------------------------- depthwise

// Output bounds at ints[at..at+2] and the weights of a per-channel requantizing convolution
// (0: int8 filter of wl values; 1: int32 bias, 2: float multipliers, `channels` each).
template <class Q>
void ReadConvQ(const Spec& p, int y, size_t at, int64_t wl, int64_t channels, Q& q) {
  p.QBounds(at, at + 1, at + 2, y);
  q.y_zero_point = static_cast<int32_t>(p.s.ints[at]);
  q.y_min = static_cast<int32_t>(p.s.ints[at + 1]);
  q.y_max = static_cast<int32_t>(p.s.ints[at + 2]);
  q.filter = WPtr<int8_t>(p.W(0, DType::kI8, wl, false, "weights"));
  q.bias = WPtr<int32_t>(p.W(1, DType::kI32, channels, true, "bias"));
  q.multipliers = WPtr<float>(p.W(2, DType::kF32, channels, false, "multipliers"));
  for (int64_t i = 0; i < channels; i++) if (!(std::isfinite(q.multipliers[i]) && q.multipliers[i] > 0)) Bad("multipliers must be finite and > 0");
}

class DepthwiseStep : public Step {
 public:
  DepthwiseStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, q8 ? 15 : 12, q8 ? 0 : 1, 2 + (q8 ? 1 : 0));
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    geo_ = ParseGeo(p, 0);
    mult_ch_ = static_cast<int32_t>(p.Int(10, 1, 1 << 16, "multiplier"));
    const Dims xs = p.Shape1(x);
    if (xs.size() != 4) Bad("input must be NHWC");
    out_c_ = xs[3] * mult_ch_;
    CheckConvShapes(p, geo_, x, y, out_c_);
    const int64_t wl = int64_t{geo_.kh} * geo_.kw * out_c_;
    if (q8_) {
      p.Type(x, DType::kI8, "input");
      p.Type(y, DType::kI8, "output");
      q_.multiplier = mult_ch_;
      q_.x_zero_point = static_cast<int32_t>(p.Int(11, -128, 127, "input zero point"));
      ReadConvQ(p, y, 12, wl, out_c_, q_);
      ops::PrepareDepthwise(OpsGeom(geo_, xs), &q_);  // packed once, not per run
    } else {
      p.Type(x, DType::kF32, "input");
      p.Type(y, DType::kF32, "output");
      act_ = ActCode(p, 11);
      alpha_ = p.Float(0);
      wf_ = WPtr<float>(p.W(0, DType::kF32, wl, false, "weights"));
      bf_ = WPtr<float>(p.W(1, DType::kF32, out_c_, true, "bias"));
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const ops::ConvGeom g = OpsGeom(geo_, c.Shape(x));
    if (q8_) {
      ops::DepthwiseConv2D(g, c.P<int8_t>(x), q_, c.P<int8_t>(y), c.threads);
    } else {
      const float inf = std::numeric_limits<float>::infinity();
      const float lo = (act_ == 1 || act_ == 2) ? 0.0f : -inf;
      const float hi = act_ == 2 ? 6.0f : inf;
      ops::DepthwiseConv2DF32(g, mult_ch_, c.P<float>(x), wf_, bf_, lo, hi, c.P<float>(y), c.threads);
      if (act_ > 2) ApplyActF32(act_, alpha_, c.P<float>(y), c.Elements(y), c.threads);
    }
  }

 private:
  bool q8_;
  Geo geo_{};
  int32_t mult_ch_ = 1;
  int64_t out_c_ = 0;
  ops::DepthwiseQ q_;
  int act_ = 0;
  float alpha_ = 0.2f;
  const float* wf_ = nullptr;
  const float* bf_ = nullptr;
};

// ---------------------------------------------------------------- pooling / mean

class PoolStep : public Step {
 public:
  PoolStep(const Spec& p, bool max, bool q8) : max_(max), q8_(q8) {
    const size_t nint = 8 + (q8 ? (max ? 2 : 4) : 0);
    p.Arity(1, 1, nint, q8 && !max ? 2 : 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    geo_.kh = static_cast<int32_t>(p.Int(0, 1, 1 << 16, "window"));
    geo_.kw = static_cast<int32_t>(p.Int(1, 1, 1 << 16, "window"));
    geo_.sh = static_cast<int32_t>(p.Int(2, 1, 1 << 16, "stride"));
    geo_.sw = static_cast<int32_t>(p.Int(3, 1, 1 << 16, "stride"));
    geo_.dh = geo_.dw = 1;
    geo_.pt = static_cast<int32_t>(p.Int(4, 0, geo_.kh - 1, "padding"));
    geo_.pb = static_cast<int32_t>(p.Int(5, 0, geo_.kh - 1, "padding"));
    geo_.pl = static_cast<int32_t>(p.Int(6, 0, geo_.kw - 1, "padding"));
    geo_.pr = static_cast<int32_t>(p.Int(7, 0, geo_.kw - 1, "padding"));
    const Dims xs = p.Shape1(x);
    if (xs.size() != 4) Bad("input must be NHWC");
    CheckConvShapes(p, geo_, x, y, xs[3]);
    if (q8_) {
      if (!p.Is8(x) || p.Buf(y).dtype != p.Buf(x).dtype) Bad("8-bit pooling: input and output must be of one 8-bit type");
      if (max_) {
        p.QBounds(8, 8, 9, y);
        qmin_ = static_cast<int32_t>(p.s.ints[8]);
        qmax_ = static_cast<int32_t>(p.s.ints[9]);
      } else {
        ReadUnaryQ(p, x, y, 8, q_);
      }
    } else {
      p.Type(x, DType::kF32, "input");
      p.Type(y, DType::kF32, "output");
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const ops::ConvGeom g = OpsGeom(geo_, c.Shape(x));
    const bool sgn = c.s->plan().buffers[static_cast<size_t>(x)].dtype == DType::kI8;
    if (!q8_) {
      if (max_) ops::MaxPoolF32(g, c.P<float>(x), c.P<float>(y), c.threads);
      else ops::AvgPoolF32(g, c.P<float>(x), c.P<float>(y), c.threads);
    } else if (max_) {
      if (sgn) ops::MaxPool(g, c.P<int8_t>(x), qmin_, qmax_, c.P<int8_t>(y), c.threads);
      else ops::MaxPool(g, c.P<uint8_t>(x), qmin_, qmax_, c.P<uint8_t>(y), c.threads);
    } else {
      if (sgn) ops::AvgPool(g, c.P<int8_t>(x), q_, c.P<int8_t>(y), c.threads);
      else ops::AvgPool(g, c.P<uint8_t>(x), q_, c.P<uint8_t>(y), c.threads);
    }
  }

 private:
  bool max_, q8_;
  Geo geo_{};
  int32_t qmin_ = -128, qmax_ = 127;
  ops::PoolQ q_;
};

class MeanStep : public Step {
 public:
  MeanStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, q8 ? 4 : 0, q8 ? 2 : 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    const Dims xs = p.Shape1(x);
    if (xs.size() != 4) Bad("input must be NHWC");
    p.SameLeading(x, y, "mean");
    for (int64_t batch : {1, 3}) {
      if (p.ses.Elements(y, batch) != p.ses.Shape(x, batch)[0] * xs[3]) Bad("output must have C elements per image");
    }
    ReadUnaryTyped(p, x, y, q8_, 0, q_, "mean");
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const Dims xs = c.Shape(x);
    const bool sgn = c.s->plan().buffers[static_cast<size_t>(x)].dtype == DType::kI8;
    if (!q8_) ops::MeanF32(xs[0], xs[1] * xs[2], xs[3], c.P<float>(x), c.P<float>(y), c.threads);
    else if (sgn) ops::Mean(xs[0], xs[1] * xs[2], xs[3], c.P<int8_t>(x), q_, c.P<int8_t>(y), c.threads);
    else ops::Mean(xs[0], xs[1] * xs[2], xs[3], c.P<uint8_t>(x), q_, c.P<uint8_t>(y), c.threads);
  }

 private:
  bool q8_;
  ops::PoolQ q_;
};

// ---------------------------------------------------------------- elementwise

void CheckBroadcast(const Spec& p, int a, int b, int y) {
  for (int64_t batch : {1, 3}) {
    const Dims as = p.ses.Shape(a, batch), bs = p.ses.Shape(b, batch), ys = p.ses.Shape(y, batch);
    const Dims r = ops::BroadcastShape(as, bs);
    if (r != ys) Bad("output shape " + DimsStr(ys) + " is not the broadcast of " + DimsStr(as) + " and " + DimsStr(bs));
  }
}

class BinaryStep : public Step {
 public:
  BinaryStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(2, 1, q8 ? 6 : 2, q8 ? 3 : 0, 0);
    const int a = p.s.inputs[0], b = p.s.inputs[1], y = p.s.outputs[0];
    op_ = static_cast<ops::BinaryOp>(p.Int(0, 0, 6, "binary op"));
    if (q8_) {
      if (p.Int(0, 0, 4, "int8 binary op") < 0) Bad("int8 binary op");
      if (!p.Is8(a) || p.Buf(b).dtype != p.Buf(a).dtype || p.Buf(y).dtype != p.Buf(a).dtype) Bad("8-bit binary: a, b and y must be of one 8-bit type");
      p.Zp(1, a, "a zero point");
      p.Zp(2, b, "b zero point");
      p.QBounds(3, 4, 5, y);
      q_.a_zero_point = static_cast<int32_t>(p.s.ints[1]);
      q_.b_zero_point = static_cast<int32_t>(p.s.ints[2]);
      q_.y_zero_point = static_cast<int32_t>(p.s.ints[3]);
      q_.y_min = static_cast<int32_t>(p.s.ints[4]);
      q_.y_max = static_cast<int32_t>(p.s.ints[5]);
      q_.a_scale = p.Scale(0, "a scale");
      q_.b_scale = p.Scale(1, "b scale");
      q_.y_scale = p.Scale(2, "output scale");
    } else {
      p.Type(a, DType::kF32, "a");
      p.Type(b, DType::kF32, "b");
      p.Type(y, DType::kF32, "output");
      const int act = static_cast<int>(p.Int(1, 0, 2, "activation"));
      const float inf = std::numeric_limits<float>::infinity();
      lo_ = act ? 0.0f : -inf;
      hi_ = act == 2 ? 6.0f : inf;
    }
    CheckBroadcast(p, a, b, y);
  }
  void Run(RunContext& c) const override {
    const int a = inputs[0], b = inputs[1], y = outputs[0];
    const Dims as = c.Shape(a), bs = c.Shape(b);
    if (!q8_) {
      ops::BinaryF32(op_, as, c.P<float>(a), bs, c.P<float>(b), lo_, hi_, c.P<float>(y), c.threads);
    } else if (c.s->plan().buffers[static_cast<size_t>(a)].dtype == DType::kI8) {
      ops::BinaryQuant(op_, as, c.P<int8_t>(a), bs, c.P<int8_t>(b), q_, c.P<int8_t>(y), c.threads);
    } else {
      ops::BinaryQuant(op_, as, c.P<uint8_t>(a), bs, c.P<uint8_t>(b), q_, c.P<uint8_t>(y), c.threads);
    }
  }

 private:
  bool q8_;
  ops::BinaryOp op_ = ops::BinaryOp::kAdd;
  ops::BinaryQ q_;
  float lo_ = 0, hi_ = 0;
};

class LutStep : public Step {
 public:
  explicit LutStep(const Spec& p) {
    p.Arity(1, 1, 0, 0, 1);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (!p.Is8(x) || !p.Is8(y)) Bad("lut: 8-bit input and output");
    if (p.ses.Elements(x, 3) != p.ses.Elements(y, 3)) Bad("lut: input and output sizes differ");
    table_ = WPtr<uint8_t>(p.W(0, DType::kU8, 256, false, "table"));
  }
  void Run(RunContext& c) const override {
    ops::ApplyLut(table_, c.P<uint8_t>(inputs[0]), c.Elements(inputs[0]), c.P<uint8_t>(outputs[0]), c.threads);
  }

 private:
  const uint8_t* table_ = nullptr;
};

class ActStep : public Step {
 public:
  explicit ActStep(const Spec& p) {
    p.Arity(1, 1, 1, 1, 0);
    p.Type(p.s.inputs[0], DType::kF32, "input");
    p.Type(p.s.outputs[0], DType::kF32, "output");
    if (p.ses.Elements(p.s.inputs[0], 3) != p.ses.Elements(p.s.outputs[0], 3)) Bad("input and output sizes differ");
    act_ = ActCode(p, 0);
    alpha_ = p.Float(0);
  }
  void Run(RunContext& c) const override {
    ops::ActivationF32(static_cast<ops::Act>(act_), alpha_, c.P<float>(inputs[0]), c.Elements(inputs[0]), c.P<float>(outputs[0]), c.threads);
  }

 private:
  int act_ = 0;
  float alpha_ = 0;
};

class SoftmaxStep : public Step {
 public:
  SoftmaxStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, 0, q8 ? 2 : 1, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).shape != p.Buf(y).shape || p.Buf(x).shape.empty()) Bad("input and output shapes must be equal (rank >= 1)");
    cols_ = p.Buf(x).shape.back();
    if (cols_ < 1) Bad("empty rows");
    if (q8_) {
      if (!p.Is8(x) || !p.Is8(y)) Bad("8-bit softmax: 8-bit input and output");
      sx_ = p.Scale(0, "input scale");
      beta_ = p.Scale(1, "beta");
    } else {
      p.Type(x, DType::kF32, "input");
      p.Type(y, DType::kF32, "output");
      beta_ = p.Scale(0, "beta");
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const int64_t rows = c.Elements(x) / cols_;
    const auto& bufs = c.s->plan().buffers;
    const bool xs = bufs[static_cast<size_t>(x)].dtype == DType::kI8, ys = bufs[static_cast<size_t>(y)].dtype == DType::kI8;
    if (!q8_) ops::SoftmaxF32(c.P<float>(x), rows, cols_, beta_, c.P<float>(y), c.threads);
    else if (xs && ys) ops::SoftmaxQ(c.P<int8_t>(x), rows, cols_, sx_, beta_, c.P<int8_t>(y), c.threads);
    else if (xs) ops::SoftmaxQ(c.P<int8_t>(x), rows, cols_, sx_, beta_, c.P<uint8_t>(y), c.threads);
    else if (ys) ops::SoftmaxQ(c.P<uint8_t>(x), rows, cols_, sx_, beta_, c.P<int8_t>(y), c.threads);
    else ops::SoftmaxQ(c.P<uint8_t>(x), rows, cols_, sx_, beta_, c.P<uint8_t>(y), c.threads);
  }

 private:
  bool q8_;
  int64_t cols_ = 1;
  float sx_ = 1, beta_ = 1;
};

class ConcatStep : public Step {
 public:
  ConcatStep(const Spec& p, bool q8) : q8_(q8) {
    const size_t n = p.s.inputs.size();
    if (n < 1) Bad("concat needs inputs");
    p.Arity(n, 1, q8 ? 4 + n : 1, q8 ? 1 + n : 0, 0);
    const int y = p.s.outputs[0];
    const DType t = p.Buf(y).dtype;
    for (int i : p.s.inputs) if (p.Buf(i).dtype != t) Bad("concat inputs and output must have one dtype");
    const int64_t rank = static_cast<int64_t>(p.Buf(y).shape.size());
    axis_ = static_cast<int>(p.Int(0, 0, rank - 1, "axis"));
    for (int64_t batch : {1, 3}) {
      std::vector<Dims> shapes;
      for (int i : p.s.inputs) shapes.push_back(p.ses.Shape(i, batch));
      if (ops::ConcatShape(shapes, axis_) != p.ses.Shape(y, batch)) Bad("output shape is not the concatenation of the inputs");
    }
    if (q8_) {
      if (!p.Is8(y)) Bad("8-bit concat: 8-bit data");
      p.QBounds(1, 2, 3, y);
      q_.y_zero_point = static_cast<int32_t>(p.s.ints[1]);
      q_.y_min = static_cast<int32_t>(p.s.ints[2]);
      q_.y_max = static_cast<int32_t>(p.s.ints[3]);
      q_.y_scale = p.Scale(0, "output scale");
      for (size_t i = 0; i < n; i++) {
        p.Zp(4 + i, y, "input zero point");
        q_.zero_points.push_back(static_cast<int32_t>(p.s.ints[4 + i]));
        q_.scales.push_back(p.Scale(1 + i, "input scale"));
      }
    }
  }
  void Run(RunContext& c) const override {
    std::vector<const void*> xs;
    std::vector<Dims> shapes;
    for (int i : inputs) {
      xs.push_back(c.ptr[static_cast<size_t>(i)]);
      shapes.push_back(c.Shape(i));
    }
    const int y = outputs[0];
    const DType t = c.s->plan().buffers[static_cast<size_t>(y)].dtype;
    if (q8_) ops::ConcatQuant(t == DType::kI8, xs, shapes, axis_, q_, c.ptr[static_cast<size_t>(y)], c.threads);
    else ops::Concat(DTypeSize(t), xs, shapes, axis_, c.ptr[static_cast<size_t>(y)], c.threads);
  }

 private:
  bool q8_;
  int axis_ = 0;
  ops::ConcatQ q_;
};

class PreluStep : public Step {
 public:
  PreluStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, q8 ? 4 : 0, q8 ? 2 : 0, 1);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).shape != p.Buf(y).shape || p.Buf(x).shape.empty()) Bad("input and output shapes must be equal");
    channels_ = p.Buf(x).shape.back();
    if (channels_ < 1) Bad("no channels");
    alpha_ = WPtr<float>(p.W(0, DType::kF32, channels_, false, "alpha"));
    ReadUnaryTyped(p, x, y, q8_, 0, q_, "prelu");
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const int64_t n = c.Elements(x);
    if (!q8_) ops::PreluF32(c.P<float>(x), n, channels_, alpha_, c.P<float>(y), c.threads);
    else if (c.s->plan().buffers[static_cast<size_t>(x)].dtype == DType::kI8) ops::Prelu(c.P<int8_t>(x), n, channels_, alpha_, q_, c.P<int8_t>(y), c.threads);
    else ops::Prelu(c.P<uint8_t>(x), n, channels_, alpha_, q_, c.P<uint8_t>(y), c.threads);
  }

 private:
  bool q8_;
  int64_t channels_ = 1;
  const float* alpha_ = nullptr;
  ops::PreluQ q_;
};

// ---------------------------------------------------------------- data movement / conversions

class ConvertStep : public Step {
 public:
  ConvertStep(const Spec& p, bool quantize) : quantize_(quantize) {
    p.Arity(1, 1, 1, 1, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).shape != p.Buf(y).shape) Bad("input and output shapes must be equal");
    const int q = quantize ? y : x;
    if (!p.Is8(q)) Bad("8-bit side must be int8 or uint8");
    p.Type(quantize ? x : y, DType::kF32, "float side");
    p.Zp(0, q, "zero point");
    zp_ = static_cast<int32_t>(p.s.ints[0]);
    scale_ = p.Scale(0, "scale");
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const quant::Layout l = quant::PerTensor(c.Elements(x));
    const bool sgn = c.s->plan().buffers[static_cast<size_t>(quantize_ ? y : x)].dtype == DType::kI8;
    if (quantize_) {
      if (sgn) quant::Quantize(c.P<float>(x), l, &scale_, &zp_, -128, 127, c.P<int8_t>(y), c.threads);
      else quant::Quantize(c.P<float>(x), l, &scale_, &zp_, 0, 255, c.P<uint8_t>(y), c.threads);
    } else {
      if (sgn) quant::Dequantize(c.P<int8_t>(x), l, &scale_, &zp_, c.P<float>(y), c.threads);
      else quant::Dequantize(c.P<uint8_t>(x), l, &scale_, &zp_, c.P<float>(y), c.threads);
    }
  }

 private:
  bool quantize_;
  int32_t zp_ = 0;
  float scale_ = 1;
};

class PadStep : public Step {
 public:
  explicit PadStep(const Spec& p) {
    const int x = p.s.inputs.size() == 1 ? p.s.inputs[0] : 0;
    const size_t rank = p.s.inputs.size() == 1 ? p.Buf(x).shape.size() : 0;
    p.Arity(1, 1, 2 * rank, 1, 0);
    const int y = p.s.outputs[0];
    if (p.Buf(y).dtype != p.Buf(x).dtype || p.Buf(y).shape.size() != rank) Bad("output dtype/rank differ from the input's");
    for (size_t d = 0; d < rank; d++) {
      before_.push_back(p.Int(d, 0, 1 << 20, "padding"));
      after_.push_back(p.Int(rank + d, 0, 1 << 20, "padding"));
    }
    if (p.Batched(x) && (before_[0] || after_[0])) Bad("the batch dimension cannot be padded");
    for (int64_t batch : {1, 3}) {
      Dims xs = p.ses.Shape(x, batch), ys = p.ses.Shape(y, batch);
      for (size_t d = 0; d < rank; d++) if (xs[d] + before_[d] + after_[d] != ys[d]) Bad("output shape does not match the paddings");
    }
    const double v = p.s.floats[0];
    switch (p.Buf(x).dtype) {
      case DType::kF32: { float f = static_cast<float>(v); std::memcpy(value_, &f, 4); break; }
      case DType::kI32: { int32_t i = static_cast<int32_t>(v); std::memcpy(value_, &i, 4); break; }
      case DType::kI8: { if (v < -128 || v > 127 || v != std::floor(v)) Bad("pad value outside int8"); int8_t i = static_cast<int8_t>(v); std::memcpy(value_, &i, 1); break; }
      case DType::kU8: { if (v < 0 || v > 255 || v != std::floor(v)) Bad("pad value outside uint8"); uint8_t i = static_cast<uint8_t>(v); std::memcpy(value_, &i, 1); break; }
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    ops::Pad(DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype), c.Shape(x), before_.data(), after_.data(),
             c.ptr[static_cast<size_t>(x)], value_, c.ptr[static_cast<size_t>(outputs[0])], c.threads);
  }

 private:
  std::vector<int64_t> before_, after_;
  uint8_t value_[4] = {0, 0, 0, 0};
};

class TransposeStep : public Step {
 public:
  explicit TransposeStep(const Spec& p) {
    const int x = p.s.inputs.size() == 1 ? p.s.inputs[0] : 0;
    const size_t rank = p.s.inputs.size() == 1 ? p.Buf(x).shape.size() : 0;
    p.Arity(1, 1, rank, 0, 0);
    const int y = p.s.outputs[0];
    if (p.Buf(y).dtype != p.Buf(x).dtype) Bad("output dtype differs");
    for (size_t d = 0; d < rank; d++) perm_.push_back(static_cast<int32_t>(p.Int(d, 0, static_cast<int64_t>(rank) - 1, "perm")));
    ops::CheckPermutation(p.Shape1(x), perm_.data(), perm_.size());
    if (p.Batched(x) && perm_[0] != 0) Bad("the batch dimension must stay first");
    const Dims xs = p.ses.Shape(x, 3), ys = p.ses.Shape(y, 3);
    for (size_t d = 0; d < rank; d++) if (ys[d] != xs[static_cast<size_t>(perm_[d])]) Bad("output shape does not match the permutation");
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    ops::Transpose(DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype), c.Shape(x), perm_.data(),
                   c.ptr[static_cast<size_t>(x)], c.ptr[static_cast<size_t>(outputs[0])], c.threads);
  }

 private:
  std::vector<int32_t> perm_;
};

class ResizeStep : public Step {
 public:
  ResizeStep(const Spec& p, int kind) : kind_(kind) {  // 0 nearest, 1 bilinear f32, 2 bilinear 8-bit
    p.Arity(1, 1, kind == 2 ? 6 : 2, kind == 2 ? 2 : 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).dtype != p.Buf(y).dtype) Bad("output dtype differs");
    if (kind == 1) p.Type(x, DType::kF32, "input");
    if (kind == 2 && !p.Is8(x)) Bad("8-bit input expected");
    const Dims xs = p.Shape1(x), ys = p.Shape1(y);
    if (xs.size() != 4 || ys.size() != 4 || xs[3] != ys[3]) Bad("input and output must be NHWC with equal C");
    p.SameLeading(x, y, "resize");
    align_ = p.Int(0, 0, 1, "align_corners") == 1;
    half_ = p.Int(1, 0, 1, "half_pixel_centers") == 1;
    ops::ResizeGeom g = GeomFor(xs, ys);
    ops::CheckResizeGeom(g);
    if (kind == 2) {
      ReadUnaryQ(p, x, y, 2, q_);
    }
  }
  ops::ResizeGeom GeomFor(const Dims& xs, const Dims& ys) const {
    ops::ResizeGeom g;
    g.batch = xs[0]; g.in_h = xs[1]; g.in_w = xs[2]; g.channels = xs[3]; g.out_h = ys[1]; g.out_w = ys[2];
    g.align_corners = align_; g.half_pixel_centers = half_;
    return g;
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const ops::ResizeGeom g = GeomFor(c.Shape(x), c.Shape(y));
    const DType t = c.s->plan().buffers[static_cast<size_t>(x)].dtype;
    if (kind_ == 0) ops::ResizeNearest(DTypeSize(t), g, c.ptr[static_cast<size_t>(x)], c.ptr[static_cast<size_t>(y)], c.threads);
    else if (kind_ == 1) ops::ResizeBilinearF32(g, c.P<float>(x), c.P<float>(y), c.threads);
    else if (t == DType::kI8) ops::ResizeBilinear(g, c.P<int8_t>(x), q_, c.P<int8_t>(y), c.threads);
    else ops::ResizeBilinear(g, c.P<uint8_t>(x), q_, c.P<uint8_t>(y), c.threads);
  }

 private:
  int kind_;
  bool align_ = false, half_ = false;
  ops::ResizeQ q_;
};

class StridedSliceStep : public Step {
 public:
  explicit StridedSliceStep(const Spec& p) {
    p.Arity(1, 1, SIZE_MAX, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).dtype != p.Buf(y).dtype) Bad("output dtype differs");
    if (p.s.ints.empty()) Bad("missing parameters");
    const int64_t n = p.Int(0, 0, ops::kMaxRank * 2, "index count");
    if (static_cast<int64_t>(p.s.ints.size()) != 1 + 3 * n + 5) Bad("expects 1 + 3n + 5 int parameters");
    begin_.assign(p.s.ints.begin() + 1, p.s.ints.begin() + 1 + n);
    end_.assign(p.s.ints.begin() + 1 + n, p.s.ints.begin() + 1 + 2 * n);
    strides_.assign(p.s.ints.begin() + 1 + 2 * n, p.s.ints.begin() + 1 + 3 * n);
    for (int i = 0; i < 5; i++) masks_[i] = static_cast<int32_t>(p.Int(static_cast<size_t>(1 + 3 * n + i), 0, (1 << 16) - 1, "mask"));
    for (int64_t batch : {1, 3}) {
      if (Resolve(p.ses.Shape(x, batch)).final_shape != p.ses.Shape(y, batch)) Bad("output shape does not match the slice");
    }
  }
  ops::StridedSliceSpec Resolve(const Dims& shape) const {
    return ops::ResolveStridedSlice(shape, begin_, end_, strides_, masks_[0], masks_[1], masks_[2], masks_[3], masks_[4]);
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    ops::StridedSlice(DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype), Resolve(c.Shape(x)), c.ptr[static_cast<size_t>(x)],
                      c.ptr[static_cast<size_t>(outputs[0])], c.threads);
  }

 private:
  std::vector<int64_t> begin_, end_, strides_;
  int32_t masks_[5] = {0, 0, 0, 0, 0};
};

class DepthToSpaceStep : public Step {
 public:
  explicit DepthToSpaceStep(const Spec& p) {
    p.Arity(1, 1, 1, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).dtype != p.Buf(y).dtype) Bad("output dtype differs");
    block_ = p.Int(0, 1, 1 << 12, "block size");
    const Dims xs = p.Shape1(x), ys = p.Shape1(y);
    if (xs.size() != 4 || ys.size() != 4) Bad("input and output must be NHWC");
    p.SameLeading(x, y, "depth_to_space");
    if (xs[3] % (block_ * block_) != 0 || ys[1] != xs[1] * block_ || ys[2] != xs[2] * block_ || ys[3] != xs[3] / (block_ * block_)) {
      Bad("output shape does not match the block size");
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    const Dims xs = c.Shape(x);
    ops::DepthToSpace(DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype), xs[0], xs[1], xs[2], xs[3], block_,
                      c.ptr[static_cast<size_t>(x)], c.ptr[static_cast<size_t>(outputs[0])], c.threads);
  }

 private:
  int64_t block_ = 1;
};

class DeconvStep : public Step {
 public:
  DeconvStep(const Spec& p, bool q8) : q8_(q8) {
    p.Arity(1, 1, q8 ? 14 : 10, 0, q8 ? 3 : 2);
    const int dy = p.s.inputs[0], y = p.s.outputs[0];
    geo_ = ParseGeo(p, 0);
    const Dims ds = p.Shape1(dy), ys = p.Shape1(y);
    if (ds.size() != 4 || ys.size() != 4) Bad("dy and output must be NHWC");
    co_ = ds[3];
    ci_ = ys[3];
    CheckConvShapes(p, geo_, y, dy, co_);  // the forward convolution maps y → dy
    const int64_t wl = int64_t{geo_.kh} * geo_.kw * ci_ * co_;
    if (q8_) {
      p.Type(dy, DType::kI8, "dy");
      p.Type(y, DType::kI8, "output");
      q_.dy_channels = static_cast<int32_t>(co_);
      q_.dy_zero_point = static_cast<int32_t>(p.Int(10, -128, 127, "dy zero point"));
      ReadConvQ(p, y, 11, wl, ci_, q_);
    } else {
      p.Type(dy, DType::kF32, "dy");
      p.Type(y, DType::kF32, "output");
      wf_ = WPtr<float>(p.W(0, DType::kF32, wl, false, "weights"));
      bf_ = WPtr<float>(p.W(1, DType::kF32, ci_, true, "bias"));
    }
  }
  void Run(RunContext& c) const override {
    const int dy = inputs[0], y = outputs[0];
    if (q8_) {
      const ops::ConvGeom g = OpsGeom(geo_, c.Shape(y));
      ops::Conv2DTranspose(g, c.P<int8_t>(dy), q_, c.P<int8_t>(y), c.threads);
      return;
    }
    const Dims ys = c.Shape(y), ds = c.Shape(dy);
    train::ConvGeom g;
    g.batch = ys[0]; g.in_h = ys[1]; g.in_w = ys[2]; g.in_c = ci_;
    g.out_h = ds[1]; g.out_w = ds[2]; g.out_c = co_;
    g.filter_h = geo_.kh; g.filter_w = geo_.kw; g.stride_h = geo_.sh; g.stride_w = geo_.sw;
    g.dil_h = geo_.dh; g.dil_w = geo_.dw; g.pad_top = geo_.pt; g.pad_left = geo_.pl;
    train::Conv2DBackpropInput(g, c.P<float>(dy), wf_, c.P<float>(y), c.threads);
    if (bf_) train::BiasActivation(c.P<float>(y), c.Elements(y) / ci_, ci_, bf_, ci_, train::Activation::kLinear, 0.0f, c.threads);
  }

 private:
  bool q8_;
  Geo geo_{};
  int64_t ci_ = 1, co_ = 1;
  ops::ConvTransposeQ q_;
  const float* wf_ = nullptr;
  const float* bf_ = nullptr;
};

class BatchMatMulStep : public Step {
 public:
  explicit BatchMatMulStep(const Spec& p) {
    p.Arity(2, 1, 2, 0, 0);
    const int a = p.s.inputs[0], b = p.s.inputs[1], y = p.s.outputs[0];
    p.Type(a, DType::kF32, "a");
    p.Type(b, DType::kF32, "b");
    p.Type(y, DType::kF32, "output");
    ta_ = p.Int(0, 0, 1, "transpose_a") == 1;
    tb_ = p.Int(1, 0, 1, "transpose_b") == 1;
    for (int64_t batch : {1, 3}) Geometry(p.ses.Shape(a, batch), p.ses.Shape(b, batch), p.ses.Shape(y, batch));
  }
  struct Geo { int64_t ba, bb, m, n, k; };
  Geo Geometry(const Dims& as, const Dims& bs, const Dims& ys) const {
    if (as.size() < 2 || bs.size() < 2 || ys.size() < 2) Bad("operands must have rank >= 2");
    Geo g;
    g.m = ta_ ? as[as.size() - 1] : as[as.size() - 2];
    const int64_t ka = ta_ ? as[as.size() - 2] : as[as.size() - 1];
    g.k = tb_ ? bs[bs.size() - 1] : bs[bs.size() - 2];
    g.n = tb_ ? bs[bs.size() - 2] : bs[bs.size() - 1];
    if (ka != g.k) Bad("inner dimensions differ");
    g.ba = Prod(as, 0, as.size() - 2);
    g.bb = Prod(bs, 0, bs.size() - 2);
    const int64_t by = Prod(ys, 0, ys.size() - 2);
    if (ys[ys.size() - 2] != g.m || ys[ys.size() - 1] != g.n) Bad("output shape does not match the product");
    if (!((g.ba == by && (g.bb == by || g.bb == 1)) || (g.bb == by && g.ba == 1))) Bad("batch dimensions do not match");
    return g;
  }
  void Run(RunContext& c) const override {
    const int a = inputs[0], b = inputs[1], y = outputs[0];
    const Geo g = Geometry(c.Shape(a), c.Shape(b), c.Shape(y));
    train::BatchMatMul(g.ba, g.bb, g.m, g.n, g.k, ta_, tb_, c.P<float>(a), c.P<float>(b), c.P<float>(y), c.threads);
  }

 private:
  bool ta_ = false, tb_ = false;
};

class CopyStep : public Step {
 public:
  explicit CopyStep(const Spec& p) {
    p.Arity(1, 1, 0, 0, 0);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    if (p.Buf(x).dtype != p.Buf(y).dtype || p.ses.Elements(x, 3) != p.ses.Elements(y, 3) || p.ses.Elements(x, 1) != p.ses.Elements(y, 1)) {
      Bad("copy: input and output must have one dtype and size");
    }
  }
  void Run(RunContext& c) const override {
    const int x = inputs[0];
    std::memcpy(c.ptr[static_cast<size_t>(outputs[0])], c.ptr[static_cast<size_t>(x)],
                static_cast<size_t>(c.Elements(x)) * DTypeSize(c.s->plan().buffers[static_cast<size_t>(x)].dtype));
  }
};

}  // namespace

std::unique_ptr<Step> MakeStep(const StepSpec& s, const Session& session) {
  const Spec p{s, session};
  const std::string& op = s.op;
  if (op == "conv_i8") return std::make_unique<GemmStep>(p, GemmStep::kInt8, true);
  if (op == "matmul_i8") return std::make_unique<GemmStep>(p, GemmStep::kInt8, false);
  if (op == "conv_dyn") return std::make_unique<GemmStep>(p, GemmStep::kDynamic, true);
  if (op == "matmul_dyn") return std::make_unique<GemmStep>(p, GemmStep::kDynamic, false);
  if (op == "conv_dyn4") return std::make_unique<GemmStep>(p, GemmStep::kDynamicInt4, true);
  if (op == "matmul_dyn4") return std::make_unique<GemmStep>(p, GemmStep::kDynamicInt4, false);
  if (op == "conv_f32") return std::make_unique<FloatGemmStep>(p, true);
  if (op == "matmul_f32") return std::make_unique<FloatGemmStep>(p, false);
  if (op == "dw_i8") return std::make_unique<DepthwiseStep>(p, true);
  if (op == "dw_f32") return std::make_unique<DepthwiseStep>(p, false);
  if (op == "maxpool_i8") return std::make_unique<PoolStep>(p, true, true);
  if (op == "maxpool_f32") return std::make_unique<PoolStep>(p, true, false);
  if (op == "avgpool_i8") return std::make_unique<PoolStep>(p, false, true);
  if (op == "avgpool_f32") return std::make_unique<PoolStep>(p, false, false);
  if (op == "mean_i8") return std::make_unique<MeanStep>(p, true);
  if (op == "mean_f32") return std::make_unique<MeanStep>(p, false);
  if (op == "binary_i8") return std::make_unique<BinaryStep>(p, true);
  if (op == "binary_f32") return std::make_unique<BinaryStep>(p, false);
  if (op == "lut") return std::make_unique<LutStep>(p);
  if (op == "act_f32") return std::make_unique<ActStep>(p);
  if (op == "softmax_i8") return std::make_unique<SoftmaxStep>(p, true);
  if (op == "softmax_f32") return std::make_unique<SoftmaxStep>(p, false);
  if (op == "concat_i8") return std::make_unique<ConcatStep>(p, true);
  if (op == "concat") return std::make_unique<ConcatStep>(p, false);
  if (op == "prelu_i8") return std::make_unique<PreluStep>(p, true);
  if (op == "prelu_f32") return std::make_unique<PreluStep>(p, false);
  if (op == "quantize") return std::make_unique<ConvertStep>(p, true);
  if (op == "dequantize") return std::make_unique<ConvertStep>(p, false);
  if (op == "pad") return std::make_unique<PadStep>(p);
  if (op == "transpose") return std::make_unique<TransposeStep>(p);
  if (op == "resize_nearest") return std::make_unique<ResizeStep>(p, 0);
  if (op == "resize_bilinear_f32") return std::make_unique<ResizeStep>(p, 1);
  if (op == "resize_bilinear_i8") return std::make_unique<ResizeStep>(p, 2);
  if (op == "copy") return std::make_unique<CopyStep>(p);
  if (op == "strided_slice") return std::make_unique<StridedSliceStep>(p);
  if (op == "depth_to_space") return std::make_unique<DepthToSpaceStep>(p);
  if (op == "deconv_i8") return std::make_unique<DeconvStep>(p, true);
  if (op == "deconv_f32") return std::make_unique<DeconvStep>(p, false);
  if (op == "batch_matmul_f32") return std::make_unique<BatchMatMulStep>(p);
  if (op.rfind("sparse_", 0) == 0) return MakeSparseStep(s, session);
  Bad("unknown op '" + op + "'");
}

}  // namespace runtime
}  // namespace tfjq
