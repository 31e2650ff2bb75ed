// Transposed convolution (Conv2DBackpropInput), int8 and float32.
//
// int8 runs on the packed GEMM (docs/quantization.md §11.3 as a product plus a scatter):
//   cols[p][(ky, kx, ci)] = Σ_co (dy[p][co] − zdy)·w[ky][kx][ci][co]      (P × kh·kw·CI, int32)
// over the dy pixels p, then every column block is added into the output accumulators
// (initialised with the bias) at iy = oy·sh + ky·dh − pt, ix = ox·sw + kx·dw − pl, skipping
// positions outside the output, and the accumulators are requantized per channel (§7).
// Both the GEMM and the scatter add in int32 with wrap-around, which is associative and
// commutative, so the result equals ops::Conv2DTranspose (the scalar scatter loop, kept as the
// reference) bit for bit.
//
// An upsampling whose kernel equals its stride (no padding, no dilation, the output exactly
// stride × dy: a segmentation head's 2×2 / stride 2) reaches every output value from exactly
// one column value: y = requantize(bias + column). The GEMM's own epilogue then does the
// requantization (the per-channel multipliers and bias laid out per column) into int8 columns,
// and the columns are only moved into place — no int32 accumulators, no scatter.
#include "runtime/steps/common.h"
#include "runtime/steps/factories.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "common/cpu.h"
#include "common/thread_pool.h"
#include "gemm/gemm.h"
#include "quant/quantize.h"
#include "float/gemm.h"

namespace tfjq {
namespace runtime {
namespace detail {
namespace {

// Scratch per run: at most this many bytes of GEMM columns and as many of accumulators (at
// least one dy pixel of columns and one output row of accumulators, whatever their size).
constexpr int64_t kScratchBytes = int64_t{4} << 20;

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
    const int64_t wl = geo_.k_h * geo_.k_w * ci_ * co_;
    if (q8_) {
      p.Type(dy, DType::kI8, "dy");
      p.Type(y, DType::kI8, "output");
      q_.dy_channels = static_cast<int32_t>(co_);
      q_.dy_zero_point = static_cast<int32_t>(p.Int(10, -128, 127, "dy zero point"));
      ReadConvQ(p, y, 11, wl, ci_, q_);
      nk_ = geo_.k_h * geo_.k_w * ci_;
      // The GEMM takes K = CO ≤ 65536 (wrap-around sums for any K only in the scalar loop).
      gemm_ = co_ <= gemm::kMaxK && nk_ < gemm::kMaxDim;
      if (gemm_) {
        // B[k = co][n = (ky, kx, ci)] = filter[n·CO + co]: the TF.js filter is B transposed.
        packed_ = gemm::PackB(q_.filter, co_, nk_, gemm::BLayout::kNK, co_, nullptr, false, ActiveIsa());
        q_.filter = nullptr;  // read only through the packed form from here on
        weight_index_ = p.s.weights[0];
        disjoint_ = geo_.k_h == geo_.stride_h && geo_.k_w == geo_.stride_w && geo_.dilation_h == 1 &&
                    geo_.dilation_w == 1 && geo_.pad_top == 0 && geo_.pad_bottom == 0 && geo_.pad_left == 0 &&
                    geo_.pad_right == 0 && ys[1] == ds[1] * geo_.stride_h && ys[2] == ds[2] * geo_.stride_w;
        if (disjoint_) {
          // Column n = (ky, kx, ci) takes channel ci's multiplier and bias.
          col_multipliers_.resize(static_cast<size_t>(nk_));
          for (int64_t n = 0; n < nk_; n++) col_multipliers_[static_cast<size_t>(n)] = q_.multipliers[n % ci_];
          if (q_.bias) {
            col_bias_.resize(static_cast<size_t>(nk_));
            for (int64_t n = 0; n < nk_; n++) col_bias_[static_cast<size_t>(n)] = q_.bias[n % ci_];
          }
        }
      }
    } else {
      p.Type(dy, DType::kF32, "dy");
      p.Type(y, DType::kF32, "output");
      wf_ = WPtr<float>(p.W(0, DType::kF32, wl, false, "weights"));
      bf_ = WPtr<float>(p.W(1, DType::kF32, ci_, true, "bias"));
      // The same GEMM-and-scatter as int8, on weights packed once: B[co][(ky, kx, ci)] =
      // filter[(ky, kx, ci)·CO + co], the filter transposed.
      nk_ = geo_.k_h * geo_.k_w * ci_;
      std::vector<float> bt(static_cast<size_t>(co_ * nk_));
      for (int64_t n = 0; n < nk_; n++)
        for (int64_t k = 0; k < co_; k++) bt[static_cast<size_t>(k * nk_ + n)] = wf_[n * co_ + k];
      packed_f_ = f32::PackedB(bt.data(), co_, nk_);
    }
  }

  size_t OwnedBytes() const override { return gemm_ ? packed_.byte_length() : packed_f_.byte_length(); }
  std::vector<int> PackedWeights() const override {
    return gemm_ ? std::vector<int>{weight_index_} : std::vector<int>{};
  }

  void Run(RunContext& c) const override {
    const int dy = inputs[0], y = outputs[0];
    if (q8_) {
      const ConvGeom g = OpsGeom(geo_, c.Shape(y));
      if (disjoint_) return RunDisjoint(g, c.P<int8_t>(dy), c.P<int8_t>(y), c);
      if (gemm_) return RunGemm(g, c.P<int8_t>(dy), c.P<int8_t>(y), c);
      ops::Conv2DTranspose(g, c.P<int8_t>(dy), q_, c.P<int8_t>(y), c.threads);
      return;
    }
    RunGemmF32(OpsGeom(geo_, c.Shape(y)), c.P<float>(dy), c.P<float>(y), c);
  }

 private:
  // The int8 GEMM of dy rows (CO values each, zero point zdy) by the packed filter into the
  // columns (NK per dy pixel); the caller sets the rows (m, a) and the epilogue.
  gemm::GemmArgs DyTimesB(void* cols, int threads) const {
    gemm::GemmArgs ga;
    ga.a_signed = true;
    ga.lda = co_;
    ga.a_zero_points = &q_.dy_zero_point;
    ga.b = &packed_;
    ga.c = cols;
    ga.ldc = nk_;
    ga.threads = threads;
    return ga;
  }

  // Kernel = stride, no overlap (see the file comment): per image, the GEMM writes requantized
  // int8 columns (dy pixel × (ky, kx, ci)), and each dy pixel's row ky of kw·CI values is the
  // run of output row oy·sh + ky starting at column ox·sw.
  void RunDisjoint(const ConvGeom& g, const int8_t* dy, int8_t* y, RunContext& c) const {
    const int64_t CI = ci_, CO = co_, NK = nk_, HY = g.in_h, WY = g.in_w, HD = g.out_h, WD = g.out_w;
    const int64_t run = geo_.k_w * CI;
    int8_t* const cols = c.Scratch<int8_t>(static_cast<size_t>(HD * WD * NK));
    gemm::GemmArgs ga = DyTimesB(cols, c.threads);
    ga.m = HD * WD;
    ga.epilogue.output = gemm::OutputType::kInt8;
    ga.epilogue.bias = col_bias_.empty() ? nullptr : col_bias_.data();
    ga.epilogue.multipliers = col_multipliers_.data();
    ga.epilogue.multiplier_per_channel = true;
    ga.epilogue.out_zero_point = q_.y_zero_point;
    ga.epilogue.qmin = q_.y_min;
    ga.epilogue.qmax = q_.y_max;
    for (int64_t n = 0; n < g.batch; n++) {
      ga.a = dy + n * HD * WD * CO;
      gemm::Gemm(ga);
      int8_t* yi = y + n * HY * WY * CI;
      ParallelFor(HD, std::max<int64_t>(1, (int64_t{1} << 14) / (WD * NK)), c.threads, [&](int64_t ob, int64_t oe) {
        for (int64_t oy = ob; oy < oe; oy++)
          for (int64_t ky = 0; ky < geo_.k_h; ky++) {
            int8_t* yrow = yi + (oy * geo_.stride_h + ky) * WY * CI;
            const int8_t* crow = cols + oy * WD * NK + ky * run;
            // Runs of a few bytes (a 2 × 2 upsampling to 1 channel moves 2 bytes at a time):
            // fixed-size copies, inlined, instead of a memcpy call per run (40% of the step).
            switch (run) {
              case 1:
                for (int64_t ox = 0; ox < WD; ox++) yrow[ox] = crow[ox * NK];
                break;
              case 2:
                for (int64_t ox = 0; ox < WD; ox++) std::memcpy(yrow + ox * 2, crow + ox * NK, 2);
                break;
              case 4:
                for (int64_t ox = 0; ox < WD; ox++) std::memcpy(yrow + ox * 4, crow + ox * NK, 4);
                break;
              case 8:
                for (int64_t ox = 0; ox < WD; ox++) std::memcpy(yrow + ox * 8, crow + ox * NK, 8);
                break;
              default:
                for (int64_t ox = 0; ox < WD; ox++)
                  std::memcpy(yrow + ox * run, crow + ox * NK, static_cast<size_t>(run));
            }
          }
      });
    }
  }

  // g: the forward geometry (in = the output y, out = dy). Per image, the output rows go in
  // bands whose accumulators fit the scratch budget; each band multiplies the dy rows that
  // reach it (in chunks of pixels that fit the budget) and scatters their columns into it.
  void RunGemm(const ConvGeom& g, const int8_t* dy, int8_t* y, RunContext& c) const {
    const int threads = c.threads;
    const int64_t CI = ci_, CO = co_, NK = nk_;
    const int64_t HY = g.in_h, WY = g.in_w, HD = g.out_h, WD = g.out_w;
    const int64_t row_acc = WY * CI;  // accumulators of one output row
    const int64_t band_rows = std::min<int64_t>(HY, std::max<int64_t>(1, kScratchBytes / 4 / row_acc));
    const int64_t chunk_px = std::max<int64_t>(1, kScratchBytes / 4 / NK);
    // Accumulators then columns, in the run's scratch (a fresh allocation per run of these
    // sizes is fresh pages: faulting them in cost more than selfie's whole 2×2 upsampling).
    const size_t acc_n = static_cast<size_t>(band_rows * row_acc);
    int32_t* const acc = c.Scratch<int32_t>(acc_n + static_cast<size_t>(std::min(chunk_px, HD * WD) * NK));
    int32_t* const cols = acc + acc_n;
    const int64_t reach = (geo_.k_h - 1) * geo_.dilation_h;  // rows a dy row reaches below oy·sh − pt

    gemm::GemmArgs ga = DyTimesB(cols, threads);
    ga.epilogue.output = gemm::OutputType::kInt32;

    for (int64_t n = 0; n < g.batch; n++) {
      for (int64_t a = 0; a < HY; a += band_rows) {
        const int64_t b = std::min(HY, a + band_rows);
        int32_t* acc_band = acc;
        for (int64_t px = 0; px < (b - a) * WY; px++) {
          int32_t* ap = acc_band + px * CI;
          if (q_.bias)
            std::memcpy(ap, q_.bias, static_cast<size_t>(CI) * sizeof(int32_t));
          else
            std::fill(ap, ap + CI, 0);
        }
        // dy rows oy with a ≤ oy·sh + ky·dh − pt < b for some ky.
        const int64_t lo_t = a + g.pad_top - reach;
        const int64_t oy0 = lo_t <= 0 ? 0 : (lo_t + g.stride_h - 1) / g.stride_h;
        const int64_t oy1 = std::min(HD, (b - 1 + g.pad_top) / g.stride_h + 1);
        for (int64_t p0 = oy0 * WD; p0 < oy1 * WD; p0 += chunk_px) {
          const int64_t p1 = std::min(oy1 * WD, p0 + chunk_px);
          ga.m = p1 - p0;
          ga.a = dy + (n * HD * WD + p0) * CO;
          gemm::Gemm(ga);
          ScatterColumns(g, cols, p0, p1, a, b, acc_band, threads);
        }
        quant::Requantize(acc_band, quant::Layout{(b - a) * WY, CI, 1}, q_.multipliers, q_.y_zero_point, q_.y_min,
                          q_.y_max, y + (n * HY + a) * WY * CI, threads);
      }
    }
  }

  // float32: per image and chunk of whole dy rows, the columns (dy · B, the packed float GEMM,
  // threaded over rows) are scattered into y. Chunks ascend and ScatterColumns adds in dy-pixel
  // order, as the training kernel's col2im does: the same sums, on threads. Each output row is
  // set to 0 just before the first chunk that reaches it and gets + bias (BiasActivation's
  // y + b) right after the last one, in the same pass as the scatter, while the row is in
  // cache: as passes of their own over the whole output, the zeroing and the bias cost half as
  // much as the scatter itself on a 368 × 368 × 16 upsampling.
  void RunGemmF32(const ConvGeom& g, const float* dy, float* y, RunContext& c) const {
    const int threads = c.threads;
    const int64_t CI = ci_, CO = co_, NK = nk_;
    const int64_t HY = g.in_h, WY = g.in_w, HD = g.out_h, WD = g.out_w;
    const int64_t chunk_rows = std::max<int64_t>(1, (int64_t{1} << 20) / 4 / NK / WD);
    float* const cols = c.Scratch<float>(static_cast<size_t>(std::min(chunk_rows, HD) * WD * NK));
    // First output row that dy row oy reaches (window row k_h − 1 at the top, clamped to 0).
    auto first_row = [&](int64_t oy) { return std::max<int64_t>(0, std::min(HY, oy * g.stride_h - g.pad_top)); };
    for (int64_t n = 0; n < g.batch; n++) {
      float* yi = y + n * HY * WY * CI;
      int64_t zeroed = 0;  // output rows [0, zeroed) are set to 0 (and maybe more)
      for (int64_t oy_a = 0; oy_a < std::max<int64_t>(HD, 1); oy_a += chunk_rows) {
        const int64_t oy_b = std::min(HD, oy_a + chunk_rows);
        const int64_t p0 = oy_a * WD, p1 = oy_b * WD;
        if (p1 > p0) f32::MatMul(p1 - p0, dy + (n * HD * WD + p0) * CO, packed_f_, cols, threads);
        // Rows the chunk reaches: [a, b); rows below the next chunk's first one are complete.
        const int64_t a = first_row(oy_a);
        const int64_t b = std::min<int64_t>(
            HY, std::max<int64_t>(a, (oy_b - 1) * g.stride_h - g.pad_top + int64_t{g.k_h - 1} * g.dilation_h + 1));
        const int64_t complete = oy_b >= HD ? HY : first_row(oy_b);
        const int64_t end = std::max(b, complete);
        if (a < end) {
          RowPass pass{zeroed, b, complete, bf_};
          ScatterColumns(g, cols, p0, p1, a, end, yi + a * WY * CI, threads, &pass);
        }
        zeroed = std::max(zeroed, end);
      }
    }
  }
  // Adds the columns of dy pixels [p0, p1) (of one image, row-major) into the accumulators of
  // output rows [a, b): one output row per task, so no two tasks touch one accumulator. Per
  // accumulator the additions come in dy-pixel order (ky descending, so dy rows ascend):
  // float sums then equal the training kernel's col2im; int32 ones wrap as the reference does.
  // float32 only: what RunGemmF32's pass does around the scatter on each row iy: zeroes it
  // first when iy ≥ zero_from, scatters into it when iy < scatter_to, adds the bias last when
  // iy < bias_to.
  struct RowPass {
    int64_t zero_from, scatter_to, bias_to;
    const float* bias;
  };
  template <typename T>
  void ScatterColumns(const ConvGeom& g, const T* cols, int64_t p0, int64_t p1, int64_t a, int64_t b, T* acc_band,
                      int threads, const RowPass* pass = nullptr) const {
    // int32 accumulators add as uint32: wrap-around, not undefined overflow.
    using A = typename std::conditional<std::is_same<T, int32_t>::value, uint32_t, T>::type;
    const int64_t CI = ci_, NK = nk_, WY = g.in_w, WD = g.out_w, HD = g.out_h;
    const int64_t work_per_row = std::max<int64_t>(1, WD * g.k_w * CI);
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 15) / work_per_row);
    ParallelFor(b - a, grain, threads, [&](int64_t rb, int64_t re) {
      for (int64_t iy = a + rb; iy < a + re; iy++) {
        A* arow = reinterpret_cast<A*>(acc_band + (iy - a) * WY * CI);
        if (pass && iy >= pass->zero_from) std::fill(arow, arow + WY * CI, A(0));
        for (int64_t ky = g.k_h - 1; ky >= 0 && (!pass || iy < pass->scatter_to); ky--) {
          const int64_t ty = iy + g.pad_top - ky * g.dilation_h;
          if (ty < 0 || ty % g.stride_h) continue;
          const int64_t oy = ty / g.stride_h;
          if (oy >= HD) continue;
          const int64_t ox0 = std::max<int64_t>(0, p0 - oy * WD), ox1 = std::min<int64_t>(WD, p1 - oy * WD);
          if constexpr (std::is_same<T, float>::value) {
            // Window column kx of dy pixels ox0…ox1 − 1 lands stride_w·CI apart in the row: one
            // AddRuns call each, on the ISA's vectors. An output value's additions from one dy row
            // come from pixels ox ascending, that is kx descending: the loop order below.
            for (int64_t kx = g.k_w - 1; kx >= 0; kx--) {
              const int64_t lo = g.pad_left - kx * g.dilation_w;  // ix ≥ 0 ⇔ ox·sw ≥ lo
              const int64_t hi = WY - 1 + lo;                     // ix < WY ⇔ ox·sw ≤ hi
              if (hi < 0) continue;
              const int64_t a0 = std::max(ox0, lo <= 0 ? 0 : (lo + g.stride_w - 1) / g.stride_w);
              const int64_t a1 = std::min(ox1, hi / g.stride_w + 1);
              if (a0 >= a1) continue;
              f32::AddRuns(arow + (a0 * g.stride_w - lo) * CI, g.stride_w * CI,
                           cols + (oy * WD + a0 - p0) * NK + (ky * g.k_w + kx) * CI, NK, a1 - a0, CI);
            }
          } else {
            for (int64_t ox = ox0; ox < ox1; ox++) {
              const A* crow = reinterpret_cast<const A*>(cols + (oy * WD + ox - p0) * NK) + ky * g.k_w * CI;
              for (int64_t kx = 0; kx < g.k_w; kx++) {
                const int64_t ix = ox * g.stride_w + kx * g.dilation_w - g.pad_left;
                if (ix < 0 || ix >= WY) continue;
                AddInto(arow + ix * CI, crow + kx * CI, CI);
              }
            }
          }
        }
        if constexpr (std::is_same<T, float>::value) {
          if (pass && pass->bias && iy < pass->bias_to) f32::AddRuns(arow, CI, pass->bias, 0, WY, CI);
        }
      }
    });
  }
  // y[i] += x[i] on non-overlapping arrays (restrict: the compiler vectorizes it).
  template <typename A>
  static void AddInto(A* __restrict y, const A* __restrict x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
  }

  bool q8_;
  ConvGeom geo_{};
  int64_t ci_ = 1, co_ = 1, nk_ = 0;
  ops::ConvTransposeQ q_;
  bool gemm_ = false;
  bool disjoint_ = false;  // kernel = stride: RunDisjoint
  std::vector<float> col_multipliers_;
  std::vector<int32_t> col_bias_;
  gemm::PackedB packed_;
  int weight_index_ = -1;
  const float* wf_ = nullptr;
  const float* bf_ = nullptr;
  f32::PackedB packed_f_;
};

}  // namespace

std::unique_ptr<Step> MakeDeconvI8(const Spec& p) { return std::make_unique<DeconvStep>(p, true); }
std::unique_ptr<Step> MakeDeconvF32(const Spec& p) { return std::make_unique<DeconvStep>(p, false); }

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
