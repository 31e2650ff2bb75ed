// A 1 × 1 convolution and the depthwise convolution that alone reads it, as one step — float
// (pw_dw_f32), int8 (pw_dw_i8), or a dynamic pointwise convolution (§12.4, activations
// quantized per row) into a float depthwise one (pw_dw_dyn): the expanded tensor between them — MobileNet-style blocks
// widen 16–32 channels to 64–192 at 112² or more, megabytes that went out to memory and came
// back — exists only as a band of rows in a per-thread buffer that stays in L2. The two
// convolutions then also share one parallel region instead of two, so at batch 1 on two cores
// the rows a core widens are the rows it filters, with no hand-over between them.
//
// Each thread takes a contiguous range of output rows of the batch and walks it in bands: the
// pointwise rows a band's windows need are computed into the buffer (rows the previous band
// already computed are kept, moved to the buffer's top, not computed again), then the depthwise
// kernel runs on the buffer as on a picture of those rows. Both are the unfused steps' own
// kernels on a sub-picture — the GEMM on whole rows of the input (a 1 × 1 convolution's value
// at a pixel does not depend on the other rows; nor, quantized per row, its dynamic form's),
// the depthwise kernel with the geometry moved
// to the band (the same windows, cut at the same input edges; the int8 kernel pads with the
// same zero point) — so the output equals the two steps' bit for bit.
//
// A small picture split by rows loses most of the second thread to the depthwise halo: at
// 7 × 7, two parts of 4 and 3 output rows compute 5 and 4 pointwise rows, and the step ran
// 1.37× faster on two threads than on one. The int8 step can split such a picture by channel
// groups instead (ChannelGroups): each group's pointwise columns over the whole picture, then
// its depthwise channels, no row computed twice. Columns and channels are independent in both
// kernels, so the output is again the unfused steps' bit for bit. Any kind can also run such a
// picture in two phases (RunByPhases): the pointwise rows split between the threads into one
// buffer holding the whole expansion, then, after the join, the depthwise rows split again —
// a second fork-join in place of the halo rows computed twice (at 14 × 14, two parts of 7
// output rows compute 8 pointwise rows each, 16 of 14) and of the channel groups' uneven deal
// (576 channels are 9 groups of 64: 5 and 4). The kernels are the band walk's, on the same
// sub-pictures, so the output is once more the unfused steps' bit for bit.
#include "runtime/steps/common.h"
#include "runtime/steps/factories.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "common/thread_pool.h"
#include "float/conv.h"
#include "float/gemm.h"
#include "gemm/gemm.h"

namespace tfjq {
namespace runtime {
namespace detail {
namespace {

// A band's pointwise rows take at most this much of a thread's buffer (more when one band of
// one output row needs more): well inside a core's L2 beside the weights and the input rows.
constexpr int64_t kBandBytes = int64_t{512} << 10;

// Output rows [oa, ob) of one picture as a band: the pointwise rows [i0, i1) their windows
// read, and the depthwise geometry of those output rows over just those rows (the same windows,
// cut at the same input edges).
struct Band {
  int64_t i0, i1;
  ConvGeom geom;
};
Band BandOf(const ConvGeom& g, int64_t oa, int64_t ob) {
  const int64_t s = g.stride_h, reach = int64_t(g.k_h - 1) * g.dilation_h;
  Band b;
  b.i0 = std::clamp<int64_t>(oa * s - g.pad_top, 0, g.in_h);
  b.i1 = std::clamp<int64_t>((ob - 1) * s - g.pad_top + reach + 1, b.i0, g.in_h);
  b.geom = g;
  b.geom.batch = 1;
  b.geom.in_h = b.i1 - b.i0;
  b.geom.out_h = ob - oa;
  b.geom.pad_top = g.pad_top + b.i0 - oa * s;
  return b;
}

// Part `part` of `parts` contiguous shares of `total` rows of a batch of `per_image` rows each:
// f(n, first, end) for each image's run [first, end) of the share, in order.
template <typename F>
void ForEachRun(int64_t total, int64_t per_image, int64_t part, int64_t parts, F&& f) {
  for (int64_t r = total * part / parts, r_end = total * (part + 1) / parts; r < r_end;) {
    const int64_t n = r / per_image, first = r % per_image, end = std::min(per_image, first + (r_end - r));
    r += end - first;
    f(n, first, end);
  }
}

// The band walk, for both element types. A kind supplies Pointwise(n, h, rows, dst): pointwise
// rows [h, h + rows) of image n into dst, and Depthwise(dg, band, out): the depthwise kernel on
// a band (dg.batch 1), one thread each.
template <typename T>
class PointwiseDepthwiseStep : public Step {
 public:
  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const Dims xs = c.Shape(x);
    const ConvGeom g = OpsGeom(geo_, {xs[0], xs[1], xs[2], c_});
    const int64_t H = g.in_h, W = g.in_w, OH = g.out_h, OW = g.out_w, C = c_;
    const int64_t s = g.stride_h, reach = int64_t(g.k_h - 1) * g.dilation_h;
    // The output rows of the whole batch in order, one contiguous share per part, as the
    // row-parallel steps around this one split them: each core then filters the rows it wrote
    // before (at batch 8, a split of each image in two sent half of every image across cores,
    // and the step ran no faster on two threads than on one).
    const int64_t rows = g.batch * OH;
    const int parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(c.threads, rows)));
    // Output rows per band: as many as keep the band's pointwise rows within kBandBytes, and no
    // more than a part has (a small picture's buffer is its pointwise rows, not kBandBytes).
    const int64_t row_values = W * C;
    const int64_t fit_rows = std::max<int64_t>(1, kBandBytes / int64_t(sizeof(T)) / row_values);
    const int64_t most = std::min<int64_t>(OH, (rows + parts - 1) / parts);
    const int64_t band = std::clamp<int64_t>((fit_rows - reach - 1) / s + 1, 1, most);
    const int64_t cap_rows = std::min<int64_t>(H, (band - 1) * s + reach + 1);
    T* yd = c.P<T>(y);
    if (parts > 1) {
      switch (ChooseSplit(g, parts, rows)) {
        case Split::kChannels:
          RunByChannels(c, g, yd, parts);
          return;
        case Split::kPhases:
          RunByPhases(c, g, yd, parts);
          return;
        case Split::kRows:
          break;
      }
    }
    T* const buffers = c.Scratch<T>(static_cast<size_t>(parts * cap_rows * row_values));
    ParallelFor(parts, 1, parts, [&](int64_t pb, int64_t pe) {
      for (int64_t part = pb; part < pe; part++) {
        T* buf = buffers + part * cap_rows * row_values;
        // The share's rows of image n: output rows [first, end).
        ForEachRun(rows, OH, part, parts, [&](int64_t n, int64_t first, int64_t end) {
          int64_t h0 = 0, h1 = 0;  // pointwise rows [h0, h1) of image n are at buf rows [0, h1 − h0)
          bool empty = true;
          for (int64_t oa = first; oa < end; oa += band) {
            const Band b = BandOf(g, oa, std::min(end, oa + band));
            if (empty || h1 <= b.i0) {
              h0 = h1 = b.i0;
              empty = false;
            } else if (h0 < b.i0) {
              std::memmove(buf, buf + (b.i0 - h0) * row_values,
                           sizeof(T) * static_cast<size_t>((h1 - b.i0) * row_values));
              h0 = b.i0;
            }
            if (h1 < b.i1) {
              Pointwise(c, n, h1, b.i1 - h1, buf + (h1 - h0) * row_values);
              h1 = b.i1;
            }
            Depthwise(b.geom, buf, yd + ((n * OH + oa) * OW) * C);
          }
        });
      }
    });
  }

 protected:
  // Channel groups (a subclass builds them for pictures of group_h_ × group_w_): group k holds
  // channels [GroupBegin(k), GroupBegin(k + 1)); 0 = none.
  virtual int ChannelGroups() const { return 0; }
  virtual int64_t GroupBegin(int) const { return 0; }
  // Group k's pointwise columns of image n, all rows, into dst (GroupBegin(k + 1) − GroupBegin(k) a pixel).
  virtual void PointwiseGroup(RunContext&, int, int64_t, T*) const {}
  // Group k's depthwise channels of one picture (dg: batch 1, the group's channels).
  virtual void DepthwiseGroup(int, const ConvGeom&, const T*, T*) const {}

  int64_t group_h_ = -1, group_w_ = -1;

 private:
  enum class Split { kRows, kChannels, kPhases };

  // How a picture is split between `parts` threads: the split whose longest part costs least, in
  // multiply-adds per channel, a depthwise one counted as 4 pointwise ones (its kernel's rate per
  // product is about a quarter of the GEMM's). Channel groups give a tenth away for the group
  // copies and narrower GEMMs, the two phases a twentieth for their second fork-join; the phases
  // only where the whole expansion of the batch fits kBandBytes (a larger picture's halo rows
  // are a small share of it, and its expansion would leave L2 between the phases).
  Split ChooseSplit(const ConvGeom& g, int parts, int64_t rows) const {
    const int64_t H = g.in_h, OH = g.out_h;
    const double pw_row = double(g.in_w) * double(cin_), dw_row = 4.0 * double(g.out_w) * g.k_h * g.k_w;
    double by_rows = 0;
    for (int part = 0; part < parts; part++) {
      double cost = 0;
      ForEachRun(rows, OH, part, parts, [&](int64_t, int64_t first, int64_t end) {
        const Band b = BandOf(g, first, end);
        cost += double(b.i1 - b.i0) * pw_row + double(end - first) * dw_row;
      });
      by_rows = std::max(by_rows, cost);
    }
    Split best = Split::kRows;
    double least = by_rows;
    const int groups = ChannelGroups();
    if (groups >= parts && H == group_h_ && g.in_w == group_w_) {
      // Groups are dealt to parts in order, ⌈groups / parts⌉ at most each.
      const double per_part = double(WidestGroup()) * double((groups + parts - 1) / parts) / double(c_);
      const double by_channels = per_part * double(g.batch) * (double(H) * pw_row + double(OH) * dw_row) / 0.9;
      if (by_channels < least) {
        best = Split::kChannels;
        least = by_channels;
      }
    }
    if (int64_t(g.batch) * H * g.in_w * c_ * int64_t(sizeof(T)) <= kBandBytes) {
      const int64_t in_rows = int64_t(g.batch) * H;
      const double by_phases =
          (double((in_rows + parts - 1) / parts) * pw_row + double((rows + parts - 1) / parts) * dw_row) / 0.95;
      if (by_phases < least) best = Split::kPhases;
    }
    return best;
  }

  // Channels of the widest group.
  int64_t WidestGroup() const {
    int64_t widest = 0;
    for (int k = 0; k < ChannelGroups(); k++) widest = std::max(widest, GroupBegin(k + 1) - GroupBegin(k));
    return widest;
  }

  void RunByChannels(RunContext& c, const ConvGeom& g, T* yd, int parts) const {
    const int groups = ChannelGroups();
    const int64_t widest = WidestGroup();
    const int64_t HW = g.in_h * g.in_w, OHW = g.out_h * g.out_w;
    const int64_t each = (HW + OHW) * widest;
    T* const scratch = c.Scratch<T>(static_cast<size_t>(groups * each));
    ParallelFor(groups, 1, parts, [&](int64_t kb, int64_t ke) {
      for (int64_t k = kb; k < ke; k++) {
        const int64_t c0 = GroupBegin(static_cast<int>(k)), cg = GroupBegin(static_cast<int>(k) + 1) - c0;
        T* pw = scratch + k * each;
        T* dw = pw + HW * widest;
        ConvGeom dg = g;
        dg.batch = 1;
        dg.in_c = dg.out_c = static_cast<int>(cg);
        for (int64_t n = 0; n < g.batch; n++) {
          PointwiseGroup(c, static_cast<int>(k), n, pw);
          DepthwiseGroup(static_cast<int>(k), dg, pw, dw);
          T* yn = yd + n * OHW * c_ + c0;
          for (int64_t px = 0; px < OHW; px++)
            std::memcpy(yn + px * c_, dw + px * cg, sizeof(T) * static_cast<size_t>(cg));
        }
      }
    });
  }

  void RunByPhases(RunContext& c, const ConvGeom& g, T* yd, int parts) const {
    const int64_t H = g.in_h, OH = g.out_h, OW = g.out_w, C = c_, row_values = g.in_w * C;
    T* const pw = c.Scratch<T>(static_cast<size_t>(g.batch * H * row_values));
    ParallelFor(parts, 1, parts, [&](int64_t pb, int64_t pe) {
      for (int64_t part = pb; part < pe; part++)
        ForEachRun(g.batch * H, H, part, parts, [&](int64_t n, int64_t first, int64_t end) {
          Pointwise(c, n, first, end - first, pw + (n * H + first) * row_values);
        });
    });
    ParallelFor(parts, 1, parts, [&](int64_t pb, int64_t pe) {
      for (int64_t part = pb; part < pe; part++)
        ForEachRun(g.batch * OH, OH, part, parts, [&](int64_t n, int64_t oa, int64_t ob) {
          const Band b = BandOf(g, oa, ob);
          Depthwise(b.geom, pw + (n * H + b.i0) * row_values, yd + ((n * OH + oa) * OW) * C);
        });
    });
  }

 protected:
  // The slot counts, dtypes, geometry and shapes both kinds check alike.
  void ParseCommon(const Spec& p, DType t, size_t nint, size_t nfloat, size_t nweights) {
    p.Arity(1, 1, nint, nfloat, nweights);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    p.Type(x, t, "input");
    p.Type(y, t, "output");
    geo_ = ParseGeo(p, 0);
    // x [-1, H, W, Cin], y [-1, OH, OW, C]: the depthwise window maps the pointwise output
    // [-1, H, W, C] to y as it would map x (its height and width), so the convolution steps' own
    // shape check applies.
    const Dims ys = p.Shape1(y);
    c_ = ys.empty() ? 0 : ys.back();
    CheckConvShapes(p, geo_, x, y, c_);
    cin_ = p.Shape1(x)[3];
  }
  // The first of the input rows [h, …) of image n.
  const T* InputRows(RunContext& c, int64_t n, int64_t h) const {
    const Dims xs = c.Shape(inputs[0]);
    return c.P<T>(inputs[0]) + ((n * xs[1] + h) * xs[2]) * cin_;
  }
  // The pixels of `rows` input rows.
  int64_t RowPixels(RunContext& c, int64_t rows) const { return rows * c.Shape(inputs[0])[2]; }
  virtual void Pointwise(RunContext& c, int64_t n, int64_t h, int64_t rows, T* dst) const = 0;
  virtual void Depthwise(const ConvGeom& dg, const T* band, T* out) const = 0;

  ConvGeom geo_{};
  int64_t cin_ = 0, c_ = 0;
};

// The float depthwise half of pw_dw_f32 and pw_dw_dyn: ints[10..11] the activations, weights
// from slot `w0` on (depthwise weights, bias).
class FloatDepthwiseHalf : public PointwiseDepthwiseStep<float> {
 protected:
  void ParseFloatDepthwise(const Spec& p, size_t w0) {
    pw_act_ = ActCode(p, 10);
    dw_act_ = ActCode(p, 11);
    if (!IsBoundsActivation(dw_act_)) Bad("depthwise activation must be linear, relu or relu6");
    dw_w_ = WPtr<float>(p.W(w0, DType::kF32, geo_.k_h * geo_.k_w * c_, false, "depthwise weights"));
    dw_bias_ = WPtr<float>(p.W(w0 + 1, DType::kF32, c_, true, "depthwise bias"));
    const float inf = std::numeric_limits<float>::infinity();
    lo_ = dw_act_ == Activation::kLinear ? -inf : 0.0f;
    hi_ = dw_act_ == Activation::kRelu6 ? 6.0f : inf;
  }
  void Depthwise(const ConvGeom& dg, const float* band, float* out) const override {
    ops::DepthwiseConv2DF32(dg, 1, band, dw_w_, dw_bias_, lo_, hi_, out, 1);
  }

  Activation pw_act_ = Activation::kLinear, dw_act_ = Activation::kLinear;

 private:
  float lo_ = 0.0f, hi_ = 0.0f;
  const float* dw_w_ = nullptr;
  const float* dw_bias_ = nullptr;
};

class PointwiseDepthwiseF32 : public FloatDepthwiseHalf {
 public:
  explicit PointwiseDepthwiseF32(const Spec& p) {
    ParseCommon(p, DType::kF32, 12, 1, 4);
    ParseFloatDepthwise(p, 2);
    // The pointwise activation goes with the GEMM's stores, the depthwise one is its clamp:
    // others would need passes of their own over the band, which the planner does not fuse.
    if (!IsFloatGemmActivation(pw_act_))
      Bad("pointwise activation must be one the GEMM applies (linear, relu, relu6, leaky relu)");
    const float* w = WPtr<float>(p.W(0, DType::kF32, cin_ * c_, false, "pointwise weights"));
    epi_.bias = WPtr<float>(p.W(1, DType::kF32, c_, true, "pointwise bias"));
    epi_.act = pw_act_;
    epi_.alpha = p.Float(0);
    packed_ = f32::PackedB(w, cin_, c_);
    weight_index_ = p.s.weights[0];
  }
  size_t OwnedBytes() const override { return packed_.byte_length(); }
  std::vector<int> PackedWeights() const override { return {weight_index_}; }

 private:
  void Pointwise(RunContext& c, int64_t n, int64_t h, int64_t rows, float* dst) const override {
    ConvGeom pg{};
    pg.batch = 1;
    pg.in_h = pg.out_h = rows;
    pg.in_w = pg.out_w = RowPixels(c, 1);
    pg.in_c = cin_;
    pg.out_c = c_;
    pg.k_h = pg.k_w = pg.stride_h = pg.stride_w = pg.dilation_h = pg.dilation_w = 1;
    f32::Conv2D(pg, InputRows(c, n, h), packed_, dst, 1, epi_);
  }

  f32::FusedBiasAct epi_;
  f32::PackedB packed_;
  int weight_index_ = -1;
};

// Dynamic: the pointwise rows are conv_dyn's per row (int8 weights K×N with N scales, each
// input row quantized on its own as it is packed, dequantized to float with the bias and the
// activation's bounds), the depthwise band dw_f32's.
class PointwiseDepthwiseDyn : public FloatDepthwiseHalf {
 public:
  explicit PointwiseDepthwiseDyn(const Spec& p) {
    ParseCommon(p, DType::kF32, 12, 0, 5);
    ParseFloatDepthwise(p, 3);
    if (!IsBoundsActivation(pw_act_)) Bad("pointwise activation must be linear, relu or relu6");
    const WeightSpec* w = p.W(0, DType::kI8, cin_ * c_, false, "pointwise weights");
    w_scales_ = PositiveFactors(p, 1, c_, "pointwise weight scales", &ws_per_channel_);
    bias_ = WPtr<float>(p.W(2, DType::kF32, c_, true, "pointwise bias"));
    packed_ = PackWeightsKN(*w, cin_, c_);
    weight_index_ = p.s.weights[0];
  }
  size_t OwnedBytes() const override { return packed_.byte_length(); }
  std::vector<int> PackedWeights() const override { return {weight_index_}; }

 private:
  void Pointwise(RunContext& c, int64_t n, int64_t h, int64_t rows, float* dst) const override {
    gemm::DynamicGemmArgs d;
    d.m = RowPixels(c, rows);
    d.x = InputRows(c, n, h);
    d.ldx = cin_;
    d.per_row = true;
    d.b = &packed_;
    d.w_scales = w_scales_;
    d.w_scale_per_channel = ws_per_channel_;
    d.bias_f32 = bias_;
    d.activation = pw_act_;
    d.c = dst;
    d.ldc = c_;
    d.threads = 1;
    gemm::DynamicGemm(d);
  }

  const float* w_scales_ = nullptr;
  bool ws_per_channel_ = true;
  const float* bias_ = nullptr;
  gemm::PackedB packed_;
  int weight_index_ = -1;
};

// int8: the pointwise rows are conv_i8's (the packed GEMM with its requantizing epilogue, the
// activation in its bounds), the depthwise band dw_i8's (multiplier 1); the tensor between them
// has the pointwise output's parameters, which are the depthwise input's.
class PointwiseDepthwiseI8 : public PointwiseDepthwiseStep<int8_t> {
 public:
  explicit PointwiseDepthwiseI8(const Spec& p) {
    ParseCommon(p, DType::kI8, 17, 0, 6);
    pw_.za = static_cast<int32_t>(p.Int(10, -128, 127, "input zero point"));
    pw_.zo = static_cast<int32_t>(p.Int(11, -128, 127, "pointwise output zero point"));
    pw_.qmin = static_cast<int32_t>(p.Int(12, -128, 127, "pointwise qmin"));
    pw_.qmax = static_cast<int32_t>(p.Int(13, -128, 127, "pointwise qmax"));
    if (pw_.qmin > pw_.qmax) Bad("pointwise qmin > qmax");
    const int64_t n = c_;
    pw_.bias = WPtr<int32_t>(p.W(1, DType::kI32, n, true, "pointwise bias"));
    pw_.mult = WPtr<float>(p.W(2, DType::kF32, n, false, "pointwise multipliers"));
    pw_.mult_per_channel = n != 1;
    for (int64_t i = 0; i < n; i++)
      if (!(std::isfinite(pw_.mult[i]) && pw_.mult[i] > 0)) Bad("pointwise multipliers must be finite and > 0");
    dw_.multiplier = 1;
    dw_.x_zero_point = pw_.zo;
    ReadConvQ(p, p.s.outputs[0], 14, geo_.k_h * geo_.k_w * n, n, dw_, 3);
    const Dims xs = p.Shape1(p.s.inputs[0]);
    ops::PrepareDepthwise(OpsGeom(geo_, {xs[0], xs[1], xs[2], n}), &dw_);  // packed once, not per run
    const WeightSpec* w = p.W(0, DType::kI8, cin_ * n, false, "pointwise weights");
    packed_ = PackWeightsKN(*w, cin_, n);
    pw_.b = &packed_;  // the step is never moved: make_unique'd, then used in place
    weight_index_ = p.s.weights[0];
    MakeGroups(reinterpret_cast<const int8_t*>(w->bytes.data()), xs, Participants(p.ses.threads()));
  }
  size_t OwnedBytes() const override {
    size_t bytes = packed_.byte_length();
    for (const auto& gr : groups_) bytes += gr->packed.byte_length() + gr->filter.size();
    return bytes;
  }
  std::vector<int> PackedWeights() const override { return {weight_index_}; }

 private:
  void Pointwise(RunContext& c, int64_t n, int64_t h, int64_t rows, int8_t* dst) const override {
    pw_.Run(RowPixels(c, rows), InputRows(c, n, h), cin_, dst, c_, 1);
  }
  void Depthwise(const ConvGeom& dg, const int8_t* band, int8_t* out) const override {
    ops::DepthwiseConv2D(dg, band, dw_, out, 1);
  }

  // A group's own packed pointwise columns and depthwise filter slice; bias and multipliers
  // point into the step's.
  struct Group {
    int64_t c0 = 0, cg = 0;
    gemm::PackedB packed;
    Int8Gemm pw;
    std::vector<int8_t> filter;
    ops::DepthwiseQ dw;
  };

  // Channel groups for a picture of at most kBandBytes of pointwise output whose height and
  // width the plan fixes, split at 64-column boundaries (whole GEMM panels on every path), one
  // group per thread of the session: only where the row split would leave a part few output
  // rows, and not for a 1-thread session (the groups hold a second copy of the weights).
  void MakeGroups(const int8_t* pw_w, const Dims& xs, int threads) {
    const int64_t H = xs[1], W = xs[2], C = c_;
    const int64_t panels = (C + 63) / 64;
    const int64_t count = std::min<int64_t>(threads, panels);
    if (H <= 0 || W <= 0 || count < 2 || H * W * C > kBandBytes) return;
    if (OpsGeom(geo_, {1, H, W, C}).out_h > 16) return;
    group_h_ = H;
    group_w_ = W;
    const int64_t taps = int64_t(geo_.k_h) * geo_.k_w;
    for (int64_t k = 0; k < count; k++) {
      auto gr = std::make_unique<Group>();
      gr->c0 = 64 * (panels * k / count);
      gr->cg = std::min(C, 64 * (panels * (k + 1) / count)) - gr->c0;
      gr->packed = gemm::PackB(pw_w + gr->c0, cin_, gr->cg, gemm::BLayout::kKN, C, nullptr, false, ActiveIsa());
      gr->pw = pw_;
      gr->pw.b = &gr->packed;
      gr->pw.bias = pw_.bias ? pw_.bias + gr->c0 : nullptr;
      gr->pw.mult = pw_.mult_per_channel ? pw_.mult + gr->c0 : pw_.mult;
      gr->filter.resize(static_cast<size_t>(taps * gr->cg));
      for (int64_t t = 0; t < taps; t++)
        std::memcpy(gr->filter.data() + t * gr->cg, dw_.filter + t * C + gr->c0, static_cast<size_t>(gr->cg));
      gr->dw = dw_;
      gr->dw.prepared = nullptr;
      gr->dw.filter = gr->filter.data();
      gr->dw.bias = dw_.bias ? dw_.bias + gr->c0 : nullptr;
      gr->dw.multipliers = dw_.multipliers + gr->c0;
      ops::PrepareDepthwise(OpsGeom(geo_, {xs[0], H, W, gr->cg}), &gr->dw);
      groups_.push_back(std::move(gr));
    }
  }
  int ChannelGroups() const override { return static_cast<int>(groups_.size()); }
  int64_t GroupBegin(int k) const override {
    return k < static_cast<int>(groups_.size()) ? groups_[static_cast<size_t>(k)]->c0 : c_;
  }
  void PointwiseGroup(RunContext& c, int k, int64_t n, int8_t* dst) const override {
    const Group& gr = *groups_[static_cast<size_t>(k)];
    gr.pw.Run(RowPixels(c, group_h_), InputRows(c, n, 0), cin_, dst, gr.cg, 1);
  }
  void DepthwiseGroup(int k, const ConvGeom& dg, const int8_t* band, int8_t* out) const override {
    ops::DepthwiseConv2D(dg, band, groups_[static_cast<size_t>(k)]->dw, out, 1);
  }

  Int8Gemm pw_;
  ops::DepthwiseQ dw_;
  std::vector<std::unique_ptr<Group>> groups_;
  gemm::PackedB packed_;
  int weight_index_ = -1;
};

}  // namespace

std::unique_ptr<Step> MakePwDwF32(const Spec& p) { return std::make_unique<PointwiseDepthwiseF32>(p); }
std::unique_ptr<Step> MakePwDwI8(const Spec& p) { return std::make_unique<PointwiseDepthwiseI8>(p); }
std::unique_ptr<Step> MakePwDwDyn(const Spec& p) { return std::make_unique<PointwiseDepthwiseDyn>(p); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
