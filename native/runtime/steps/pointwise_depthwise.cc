// A float 1 × 1 convolution and the depthwise convolution that alone reads it, as one step
// (pw_dw_f32): the expanded tensor between them — MobileNet-style blocks widen 16–32 channels
// to 64–192 at 112² or more, megabytes that went out to memory and came back — exists only as
// a band of rows in a per-thread buffer that stays in L2.
//
// Each thread takes a contiguous range of output rows of an image and walks it in bands: the
// pointwise rows a band's windows need are computed into the buffer (rows the previous band
// already computed are kept, moved to the buffer's top, not computed again), then the depthwise
// kernel runs on the buffer as on a picture of those rows. Both are the unfused steps' own
// kernels on a sub-picture — f32::Conv2D on whole rows of the input (a 1 × 1 convolution's
// value at a pixel does not depend on the other rows), ops::DepthwiseConv2DF32 with the
// geometry moved to the band (the same windows, cut at the same input edges) — so the output
// equals conv_f32 then dw_f32 bit for bit.
#include "runtime/steps/common.h"
#include "runtime/steps/factories.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "common/thread_pool.h"
#include "float/conv.h"
#include "float/gemm.h"

namespace tfjq {
namespace runtime {
namespace detail {
namespace {

// A band's pointwise rows take at most this much of a thread's buffer (more when one band of
// one output row needs more): well inside a core's L2 beside the weights and the input rows.
constexpr int64_t kBandBytes = int64_t{512} << 10;

class PointwiseDepthwiseStep : public Step {
 public:
  explicit PointwiseDepthwiseStep(const Spec& p) {
    p.Arity(1, 1, 12, 1, 4);
    const int x = p.s.inputs[0], y = p.s.outputs[0];
    p.Type(x, DType::kF32, "input");
    p.Type(y, DType::kF32, "output");
    geo_ = ParseGeo(p, 0);
    pw_act_ = ActCode(p, 10);
    dw_act_ = ActCode(p, 11);
    // The pointwise activation goes with the GEMM's stores, the depthwise one is its clamp:
    // others would need passes of their own over the band, which the planner does not fuse.
    if (!IsFloatGemmActivation(pw_act_))
      Bad("pointwise activation must be one the GEMM applies (linear, relu, relu6, leaky relu)");
    if (!IsBoundsActivation(dw_act_)) Bad("depthwise activation must be linear, relu or relu6");
    pw_alpha_ = p.Float(0);
    // x [-1, H, W, Cin], y [-1, OH, OW, C]: the depthwise window maps the pointwise output
    // [-1, H, W, C] to y as it would map x (its height and width), so the convolution steps' own
    // shape check applies.
    const Dims ys = p.Shape1(y);
    c_ = ys.empty() ? 0 : ys.back();
    CheckConvShapes(p, geo_, x, y, c_);
    cin_ = p.Shape1(x)[3];
    const float* w = WPtr<float>(p.W(0, DType::kF32, cin_ * c_, false, "pointwise weights"));
    pw_bias_ = WPtr<float>(p.W(1, DType::kF32, c_, true, "pointwise bias"));
    dw_w_ = WPtr<float>(p.W(2, DType::kF32, geo_.k_h * geo_.k_w * c_, false, "depthwise weights"));
    dw_bias_ = WPtr<float>(p.W(3, DType::kF32, c_, true, "depthwise bias"));
    packed_ = f32::PackedB(w, cin_, c_);
    weight_index_ = p.s.weights[0];
  }
  size_t OwnedBytes() const override { return packed_.byte_length(); }
  std::vector<int> PackedWeights() const override { return {weight_index_}; }

  void Run(RunContext& c) const override {
    const int x = inputs[0], y = outputs[0];
    const Dims xs = c.Shape(x);
    const ConvGeom g = OpsGeom(geo_, {xs[0], xs[1], xs[2], c_});
    const int64_t H = g.in_h, W = g.in_w, OH = g.out_h, OW = g.out_w, C = c_, CI = cin_;
    const int64_t s = g.stride_h, reach = int64_t(g.k_h - 1) * g.dilation_h;
    // Output rows per band: as many as keep the band's pointwise rows within kBandBytes.
    const int64_t row_values = W * C;
    const int64_t fit_rows = std::max<int64_t>(1, kBandBytes / 4 / row_values);
    const int64_t band = std::max<int64_t>(1, (fit_rows - reach - 1) / s + 1);
    const int64_t cap_rows = (band - 1) * s + reach + 1;
    const int parts = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(c.threads, OH)));
    float* const buffers = c.Scratch<float>(static_cast<size_t>(parts * cap_rows * row_values));
    const float inf = std::numeric_limits<float>::infinity();
    const float lo = dw_act_ == Activation::kLinear ? -inf : 0.0f;
    const float hi = dw_act_ == Activation::kRelu6 ? 6.0f : inf;
    f32::FusedBiasAct epi;
    epi.bias = pw_bias_;
    epi.act = pw_act_;
    epi.alpha = pw_alpha_;
    const float* xd = c.P<float>(x);
    float* yd = c.P<float>(y);
    for (int64_t n = 0; n < g.batch; n++) {
      // One task per part: output rows [OH·part/parts, OH·(part + 1)/parts) with buffer `part`.
      ParallelFor(parts, 1, parts, [&](int64_t pb, int64_t pe) {
        for (int64_t part = pb; part < pe; part++) {
          float* buf = buffers + part * cap_rows * row_values;
          int64_t h0 = 0, h1 = 0;  // pointwise rows [h0, h1) are at buf rows [0, h1 − h0)
          bool empty = true;
          for (int64_t oa = OH * part / parts, end = OH * (part + 1) / parts; oa < end; oa += band) {
            const int64_t ob = std::min(end, oa + band);
            // The pointwise rows the band's windows read: [i0, i1).
            const int64_t i0 = std::clamp<int64_t>(oa * s - g.pad_top, 0, H);
            const int64_t i1 = std::clamp<int64_t>((ob - 1) * s - g.pad_top + reach + 1, i0, H);
            if (empty || h1 <= i0) {
              h0 = h1 = i0;
              empty = false;
            } else if (h0 < i0) {
              std::memmove(buf, buf + (i0 - h0) * row_values,
                           sizeof(float) * static_cast<size_t>((h1 - i0) * row_values));
              h0 = i0;
            }
            if (h1 < i1) {
              ConvGeom pg{};
              pg.batch = 1;
              pg.in_h = pg.out_h = i1 - h1;
              pg.in_w = pg.out_w = W;
              pg.in_c = CI;
              pg.out_c = C;
              pg.k_h = pg.k_w = pg.stride_h = pg.stride_w = pg.dilation_h = pg.dilation_w = 1;
              f32::Conv2D(pg, xd + ((n * H + h1) * W) * CI, packed_, buf + (h1 - h0) * row_values, 1, epi);
              h1 = i1;
            }
            // The depthwise convolution of output rows [oa, ob) over pointwise rows [i0, i1).
            ConvGeom dg = g;
            dg.batch = 1;
            dg.in_h = i1 - i0;
            dg.out_h = ob - oa;
            dg.pad_top = g.pad_top + i0 - oa * s;
            ops::DepthwiseConv2DF32(dg, 1, buf, dw_w_, dw_bias_, lo, hi, yd + ((n * OH + oa) * OW) * C, 1);
          }
        }
      });
    }
  }

 private:
  ConvGeom geo_{};
  int64_t cin_ = 0, c_ = 0;
  Activation pw_act_ = Activation::kLinear, dw_act_ = Activation::kLinear;
  float pw_alpha_ = 0.2f;
  const float* pw_bias_ = nullptr;
  const float* dw_w_ = nullptr;
  const float* dw_bias_ = nullptr;
  f32::PackedB packed_;
  int weight_index_ = -1;
};

}  // namespace

std::unique_ptr<Step> MakePwDwF32(const Spec& p) { return std::make_unique<PointwiseDepthwiseStep>(p); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
