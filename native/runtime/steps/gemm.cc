// GEMM steps: int8 (§12.2), dynamic with int8 and int4 weights (§12.4–12.5), float32
// convolutions and matrix products (native/float kernels), batched float products.
#include "runtime/steps/common.h"
#include "runtime/steps/factories.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/im2col.h"
#include "common/thread_pool.h"
#include "gemm/gemm.h"
#include "gemm/gemm_int4.h"
#include "quant/quantize.h"
#include "float/conv.h"
#include "float/gemm.h"

namespace tfjq {
namespace runtime {
namespace detail {
namespace {

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
      k_ = geo_.k_h * geo_.k_w * xs[3];
      n_ = ys.size() == 4 ? ys[3] : 0;
      CheckConvShapes(p, geo_, x, y, n_);
    } else {
      k_ = xs.back();
      n_ = ys.back();
      if (p.Buf(x).shape.size() != p.Buf(y).shape.size() || Prod(xs, 0, xs.size() - 1) != Prod(ys, 0, ys.size() - 1))
        Bad("input and output row counts differ");
      if (!std::equal(p.Buf(x).shape.begin(), p.Buf(x).shape.end() - 1, p.Buf(y).shape.begin()))
        Bad("input and output leading dimensions differ");
    }
    if (k_ < 1 || k_ > gemm::kMaxK || n_ < 1) Bad("GEMM K must be in [1, 65536] and N >= 1");
    if (w->length() != k_ * n_)
      Bad("weights have " + std::to_string(w->length()) + " values, expected K×N = " + std::to_string(k_ * n_));
    if (kind_ == kInt8) {
      p.Type(x, DType::kI8, "input");
      p.Type(y, DType::kI8, "output");
      q8_.za = static_cast<int32_t>(p.Int(at, -128, 127, "input zero point"));
      p.QBounds(at + 1, at + 2, at + 3, y);
      q8_.zo = static_cast<int32_t>(p.s.ints[at + 1]);
      q8_.qmin = static_cast<int32_t>(p.s.ints[at + 2]);
      q8_.qmax = static_cast<int32_t>(p.s.ints[at + 3]);
      if (!p.s.floats.empty()) Bad("expects no float parameters");
      q8_.bias = WPtr<int32_t>(p.W(1, DType::kI32, n_, true, "bias"));
      q8_.mult = PositiveFactors(p, 2, n_, "multipliers", &q8_.mult_per_channel);
    } else if (kind_ == kDynamicInt4) {
      ParseInt4(p, x, y, at, *w);
    } else {
      p.Type(x, DType::kF32, "input");
      p.Type(y, DType::kF32, "output");
      per_row_ = p.Int(at, 0, 1, "per_row") == 1;
      act_ = ActCode(p, at + 1);
      if (p.s.floats.size() != 1) Bad("expects 1 float parameter (alpha)");
      alpha_ = p.Float(0);
      w_scales_ = PositiveFactors(p, 1, n_, "weight scales", &ws_per_channel_);
      bias_f32_ = WPtr<float>(p.W(2, DType::kF32, n_, true, "bias"));
    }
    direct_ = !conv_ || IsPointwiseWindow(geo_);
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
      packed_ = PackWeightsKN(*w, k_, n_);
      q8_.b = &packed_;  // the step is never moved: make_unique'd, then used in place
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
      const ConvGeom g = OpsGeom(geo_, c.Shape(x));
      if (kind_ == kInt8 && RunInt8InChunks(c, g, m)) {
        return;
      } else if (kind_ == kInt8) {
        Im2Col<int8_t>(g, c.P<int8_t>(x), static_cast<int8_t>(q8_.za), c.P<int8_t>(temps[0]), k_, c.threads);
      } else if (kind_ == kDynamic && !per_row_ && QuantizeBeforeIm2Col(c, g, m)) {
        RunQuantizedIm2Col(c, g, m);
        return;
      } else if (kind_ == kDynamic && per_row_) {
        RunPerRowInChunks(c, g, m);
        return;
      } else {
        Im2Col<float>(g, c.P<float>(x), 0.0f, c.P<float>(temps[0]), k_, c.threads);
      }
      a = c.ptr[static_cast<size_t>(temps[0])];
    }
    if (kind_ == kInt8) {
      q8_.Run(m, static_cast<const int8_t*>(a), k_, c.P<int8_t>(y), n_, c.threads);
    } else if (kind_ == kDynamicInt4) {
      gemm::DynamicInt4Args d;
      SetDynamicInput(d, m, a, &packed4_, c.threads);
      d.out.bias = bias_f32_;
      d.out.activation = ClampAct();
      d.out.c = c.P<float>(y);
      d.out.ldc = n_;
      gemm::DynamicGemmInt4(d);
      if (!IsBoundsActivation(act_)) ApplyActF32(act_, alpha_, c.P<float>(y), m * n_, c.threads);
    } else {
      gemm::DynamicGemm(DynamicArgs(c, m, a));
      if (!IsBoundsActivation(act_)) ApplyActF32(act_, alpha_, c.P<float>(y), m * n_, c.threads);
    }
  }

 private:
  // int8 k×k convolution: the im2col rows are made and multiplied a chunk at a time while the
  // chunk is in cache, by each thread on its own. Written whole first, the matrix (k_h·k_w
  // times the input: 3.6 MB for a 3×3 layer on 112² × 32) went out to memory and came back,
  // and the two passes were two parallel regions. Same rows, same GEMM: the same bytes. Too few
  // chunks to give each thread two (a small picture: its GEMM splits its columns instead), it
  // does nothing and returns false.
  bool RunInt8InChunks(RunContext& c, const ConvGeom& g, int64_t m) const {
    // Rows per chunk: about 128 KB of im2col rows, in multiples of 96 (a multiple of every
    // path's microkernel rows, so chunks end on whole tiles).
    const int64_t rows = std::clamp<int64_t>((int64_t{128} << 10) / std::max<int64_t>(k_, 1) / 96, 1, 16) * 96;
    if ((m + rows - 1) / rows < 2 * std::max(1, c.threads)) return false;
    int8_t* y = c.P<int8_t>(outputs[0]);
    Im2ColInChunks<int8_t>(c, g, m, rows, static_cast<int8_t>(q8_.za),
                           [&](const int8_t* a, int64_t p0, int64_t mc) { q8_.Run(mc, a, k_, y + p0 * n_, n_, 1); });
    return true;
  }

  // The im2col rows of pixels [0, m) made `rows` at a time by each thread on its own, each chunk
  // handed to gemm(a, first pixel, pixels) while it is in cache. A call on chunks [cb, ce)
  // builds them in the place chunk cb has in the m×k buffer (calls get disjoint ranges, so
  // disjoint places).
  template <typename T, typename Fn>
  void Im2ColInChunks(RunContext& c, const ConvGeom& g, int64_t m, int64_t rows, T pad, const Fn& gemm) const {
    const T* x = c.P<T>(inputs[0]);
    T* col = c.P<T>(temps[0]);
    ParallelFor((m + rows - 1) / rows, 1, c.threads, [&](int64_t cb, int64_t ce) {
      T* a = col + cb * rows * k_;
      for (int64_t ch = cb; ch < ce; ch++) {
        const int64_t p0 = ch * rows, mc = std::min(rows, m - p0);
        Im2ColPixels<T>(g, x, pad, a, k_, p0, p0 + mc);
        gemm(a, p0, mc);
      }
    });
  }

  gemm::DynamicGemmArgs DynamicArgs(RunContext& c, int64_t m, const void* a) const {
    gemm::DynamicGemmArgs d;
    SetDynamicInput(d, m, a, &packed_, c.threads);
    d.w_scales = w_scales_;
    d.w_scale_per_channel = ws_per_channel_;
    d.bias_f32 = bias_f32_;
    d.activation = ClampAct();
    d.c = c.P<float>(outputs[0]);
    d.ldc = n_;
    return d;
  }

  // Dynamic per tensor, k×k convolution: when the windows together reach every input value,
  // the im2col matrix holds exactly the input's values (each at least once) and, with
  // padding, zeros, which the §8 range includes anyway. Its range is then the input's, so
  // the input is quantized once (H·W·C values instead of the matrix's kh·kw times as many,
  // for a stride-1 layer) and im2col copies bytes, padding with the zero point (the quantized
  // 0): the same bytes as quantizing the float32 matrix. The im2col buffer (m·k float32) holds
  // the byte matrix and the quantized input.
  bool QuantizeBeforeIm2Col(const RunContext& c, const ConvGeom& g, int64_t m) const {
    const int64_t in_elems = c.Elements(inputs[0]);
    const int64_t bytes_before_input = (m * k_ + 63) / 64 * 64;
    if (4 * c.Elements(temps[0]) < bytes_before_input + in_elems) return false;
    return TapsCover(g.in_h, g.out_h, g.k_h, g.stride_h, g.dilation_h, g.pad_top) &&
           TapsCover(g.in_w, g.out_w, g.k_w, g.stride_w, g.dilation_w, g.pad_left);
  }
  // Whether o·stride + t·dilation − pad (o < out, t < taps) reaches every index of [0, in).
  static bool TapsCover(int64_t in, int64_t out, int64_t taps, int64_t stride, int64_t dilation, int64_t pad) {
    std::vector<char> hit(static_cast<size_t>(in), 0);
    int64_t count = 0;
    for (int64_t o = 0; o < out; o++) {
      for (int64_t t = 0; t < taps; t++) {
        const int64_t i = o * stride + t * dilation - pad;
        if (i >= 0 && i < in && !hit[static_cast<size_t>(i)]) {
          hit[static_cast<size_t>(i)] = 1;
          count++;
        }
      }
    }
    return count == in;
  }
  void RunQuantizedIm2Col(RunContext& c, const ConvGeom& g, int64_t m) const {
    const float* xf = c.P<float>(inputs[0]);
    const int64_t in_elems = c.Elements(inputs[0]);
    float lo = 0.0f, hi = 0.0f;
    quant::MinMax(xf, in_elems, &lo, &hi, c.threads);
    const quant::QParams q = quant::ChooseAsymmetricU8(lo, hi);
    uint8_t* a = c.P<uint8_t>(temps[0]);
    uint8_t* qx = a + (m * k_ + 63) / 64 * 64;
    quant::Quantize(xf, quant::PerTensor(in_elems), &q.scale, &q.zero_point, 0, 255, qx, c.threads);
    Im2Col<uint8_t>(g, qx, static_cast<uint8_t>(q.zero_point), a, k_, c.threads);
    gemm::DynamicGemmPerTensorU8(DynamicArgs(c, m, nullptr), a, k_, q.scale, q.zero_point);
    if (!IsBoundsActivation(act_)) ApplyActF32(act_, alpha_, c.P<float>(outputs[0]), m * n_, c.threads);
  }

  // Dynamic per row, k×k convolution: each im2col row is quantized on its own (§12.4), so the
  // rows can be made, quantized and multiplied a chunk at a time while the chunk is in cache,
  // by each thread on its own. Written whole first, the float im2col matrix went out to
  // memory and was read back (NanoDet's 3×3, 32 → 16 layer on 104 × 104: 12.5 MB each way,
  // 3.4 ms for 50 M multiply-adds). Same rows, same quantization, same GEMM: the same bytes.
  void RunPerRowInChunks(RunContext& c, const ConvGeom& g, int64_t m) const {
    // Rows per chunk: about 256 KB of float32 im2col rows (the L2 of the cores this serves).
    const int64_t rows = std::clamp<int64_t>((int64_t{64} << 10) / std::max<int64_t>(k_, 1), 16, 1024);
    float* y = c.P<float>(outputs[0]);
    Im2ColInChunks<float>(c, g, m, rows, 0.0f, [&](const float* a, int64_t p0, int64_t mc) {
      gemm::DynamicGemmArgs d = DynamicArgs(c, mc, a);
      d.threads = 1;
      d.c = y + p0 * n_;
      gemm::DynamicGemm(d);
    });
    if (!IsBoundsActivation(act_)) ApplyActF32(act_, alpha_, y, m * n_, c.threads);
  }

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
  // The part of act_ the GEMM epilogue applies (ApplyActF32 the rest afterwards).
  Activation ClampAct() const { return IsBoundsActivation(act_) ? act_ : Activation::kLinear; }

  // conv_dyn4 / matmul_dyn4: ints [.., per_row, act, group_size], weights [w, scales, zero points|-1, bias|-1].
  void ParseInt4(const Spec& p, int x, int y, size_t at, const WeightSpec& w) {
    p.Type(x, DType::kF32, "input");
    p.Type(y, DType::kF32, "output");
    per_row_ = p.Int(at, 0, 1, "per_row") == 1;
    act_ = ActCode(p, at + 1);
    const int64_t gs = p.Int(at + 2, 0, gemm::kMaxK, "group_size");
    if (gs != 0 && gs % gemm::kInt4BlockK != 0)
      Bad("group_size must be 0 (per column) or a multiple of 8, got " + std::to_string(gs));
    if (p.s.floats.size() != 1) Bad("expects 1 float parameter (alpha)");
    alpha_ = p.Float(0);
    const int64_t groups = gs == 0 || gs >= k_ ? 1 : (k_ + gs - 1) / gs;
    const int8_t* wv = reinterpret_cast<const int8_t*>(w.bytes.data());
    for (int64_t i = 0; i < k_ * n_; i++) {
      if (wv[i] < -8 || wv[i] > 7)
        Bad("int4 weights[" + std::to_string(i) + "] = " + std::to_string(wv[i]) + " is outside [-8, 7]");
    }
    const WeightSpec* ws = p.W(1, DType::kF32, groups * n_, false, "int4 weight scales (groups × N)");
    const float* sc = WPtr<float>(ws);
    for (int64_t i = 0; i < groups * n_; i++)
      if (!(std::isfinite(sc[i]) && sc[i] > 0)) Bad("int4 weight scales must be finite and > 0");
    const WeightSpec* zs = p.W(2, DType::kI32, groups * n_, true, "int4 weight zero points (groups × N)");
    const int32_t* zp = WPtr<int32_t>(zs);
    if (zp != nullptr) {
      for (int64_t i = 0; i < groups * n_; i++)
        if (zp[i] < -8 || zp[i] > 7) Bad("int4 weight zero points must be in [-8, 7]");
    }
    bias_f32_ = WPtr<float>(p.W(3, DType::kF32, n_, true, "bias"));
    packed4_ = gemm::PackInt4(wv, k_, n_, gemm::BLayout::kKN, n_, gs, sc, zp, gemm::Int4DefaultIsa());
    scales_index_ = p.s.weights[1];
    zp_index_ = p.s.weights[2];
  }

  Kind kind_;
  bool conv_, direct_ = true;
  ConvGeom geo_{};
  int64_t k_ = 0, n_ = 0;
  Int8Gemm q8_;
  bool per_row_ = false, ws_per_channel_ = true;
  Activation act_ = Activation::kLinear;
  float alpha_ = 0.2f;
  const float* w_scales_ = nullptr;
  const float* bias_f32_ = nullptr;
  gemm::PackedB packed_;
  gemm::PackedInt4 packed4_;
  int weight_index_ = -1, scales_index_ = -1, zp_index_ = -1;
};

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
      k_ = geo_.k_h * geo_.k_w * xs[3];
      n_ = ys[3];
      CheckConvShapes(p, geo_, x, y, n_);
    } else {
      k_ = xs.back();
      n_ = ys.back();
      if (p.Buf(x).shape.size() != p.Buf(y).shape.size() ||
          !std::equal(p.Buf(x).shape.begin(), p.Buf(x).shape.end() - 1, p.Buf(y).shape.begin())) {
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
    packed_ = f32::PackedB(w, k_, n_);
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
    const bool simple = IsFloatGemmActivation(act_);
    f32::FusedBiasAct epi;
    epi.bias = bias_;
    epi.act = simple ? act_ : Activation::kLinear;
    epi.alpha = alpha_;
    if (conv_) {
      const Dims xs = c.Shape(x), ys = c.Shape(y);
      ConvGeom g = geo_;  // the shapes were checked against it when the step was made
      g.batch = xs[0];
      g.in_h = xs[1];
      g.in_w = xs[2];
      g.in_c = xs[3];
      g.out_h = ys[1];
      g.out_w = ys[2];
      g.out_c = ys[3];
      f32::Conv2D(g, c.P<float>(x), packed_, out, c.threads, epi);
    } else {
      f32::MatMul(m, c.P<float>(x), packed_, out, c.threads, epi);
    }
    if (!simple) ApplyActF32(act_, alpha_, out, m * n_, c.threads);
  }

 private:
  bool conv_;
  ConvGeom geo_{};
  int64_t k_ = 0, n_ = 0;
  Activation act_ = Activation::kLinear;
  float alpha_ = 0.2f;
  f32::PackedB packed_;
  int weight_index_ = -1;
  const float* bias_ = nullptr;
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
  struct BatchMatMulDims {
    int64_t ba, bb, m, n, k;
  };
  BatchMatMulDims Geometry(const Dims& as, const Dims& bs, const Dims& ys) const {
    if (as.size() < 2 || bs.size() < 2 || ys.size() < 2) Bad("operands must have rank >= 2");
    BatchMatMulDims g;
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
    const BatchMatMulDims g = Geometry(c.Shape(a), c.Shape(b), c.Shape(y));
    f32::BatchMatMul(g.ba, g.bb, g.m, g.n, g.k, ta_, tb_, c.P<float>(a), c.P<float>(b), c.P<float>(y), c.threads);
  }

 private:
  bool ta_ = false, tb_ = false;
};

}  // namespace

std::unique_ptr<Step> MakeConvI8(const Spec& p) { return std::make_unique<GemmStep>(p, GemmStep::kInt8, true); }
std::unique_ptr<Step> MakeMatmulI8(const Spec& p) { return std::make_unique<GemmStep>(p, GemmStep::kInt8, false); }
std::unique_ptr<Step> MakeConvDyn(const Spec& p) { return std::make_unique<GemmStep>(p, GemmStep::kDynamic, true); }
std::unique_ptr<Step> MakeMatmulDyn(const Spec& p) { return std::make_unique<GemmStep>(p, GemmStep::kDynamic, false); }
std::unique_ptr<Step> MakeConvDyn4(const Spec& p) {
  return std::make_unique<GemmStep>(p, GemmStep::kDynamicInt4, true);
}
std::unique_ptr<Step> MakeMatmulDyn4(const Spec& p) {
  return std::make_unique<GemmStep>(p, GemmStep::kDynamicInt4, false);
}
std::unique_ptr<Step> MakeConvF32(const Spec& p) { return std::make_unique<FloatGemmStep>(p, true); }
std::unique_ptr<Step> MakeMatmulF32(const Spec& p) { return std::make_unique<FloatGemmStep>(p, false); }
std::unique_ptr<Step> MakeBatchMatmulF32(const Spec& p) { return std::make_unique<BatchMatMulStep>(p); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
