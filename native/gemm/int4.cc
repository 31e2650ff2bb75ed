// int4 weight GEMM: packing, argument checks, A preparation and threading over column
// panels (docs/quantization.md §12.5, packed layout). The per-ISA kernels live in
// gemm_int4_<isa>.cc; the reference path in gemm_int4_ref.cc.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "gemm/gemm_int4.h"
#include "quant/quantize.h"
#include "quant/scalar.h"

namespace tfjq {
namespace gemm {

using int4_internal::Call;
using int4_internal::Kernels;
using int4_internal::TileFn;

namespace {

[[noreturn]] void Bad(const std::string& msg) { throw std::invalid_argument(msg); }

// The int4 family's table: AVX2 and NEON kernel sets (packed weights are bound to the path
// they were packed for, so lookups are exact; the default path resolves along the chain).
const IsaTable<Kernels>& Int4Table() {
  static const IsaTable<Kernels> table = [] {
    IsaTable<Kernels> t;
#if defined(__x86_64__) || defined(_M_X64)
    t.entries[static_cast<int>(Isa::kAvx2)] = int4_internal::Avx2;
#endif
#if defined(__aarch64__)
    t.entries[static_cast<int>(Isa::kNeon)] = int4_internal::Neon;
#endif
    return t;
  }();
  return table;
}

const Kernels* KernelsOf(Isa isa) { return Int4Table().Exact(isa); }

// Calls under this many multiply-adds stay on the caller (the pool wake-up costs more).
constexpr double kMinParallelMacs = 4e6;

void CheckOutput(const Int4Output& o, const PackedInt4& b, int64_t m, Call* call) {
  if (o.ldc < b.n()) Bad("ldc must be at least n = " + std::to_string(b.n()) + ", got " + std::to_string(o.ldc));
  if (m > 0 && o.c == nullptr) Bad("c must not be null");
  call->out = o;
  switch (o.activation) {
    case Activation::kLinear:
      break;
    case Activation::kRelu:
      call->has_lo = true;
      call->lo = 0.0f;
      break;
    case Activation::kRelu6:
      call->has_lo = call->has_hi = true;
      call->lo = 0.0f;
      call->hi = 6.0f;
      break;
    case Activation::kClamp:
      if (!std::isfinite(o.clamp_min) || !std::isfinite(o.clamp_max) || !(o.clamp_min <= o.clamp_max)) {
        Bad("clamp_min/clamp_max must be finite with clamp_min <= clamp_max");
      }
      call->has_lo = call->has_hi = true;
      call->lo = o.clamp_min;
      call->hi = o.clamp_max;
      break;
    default:
      Bad(std::string("activation must be linear, relu, relu6 or clamp, got ") +
          kActivationNames[static_cast<int>(o.activation)]);
  }
}

void CheckPacked(const PackedInt4* b) {
  if (b == nullptr || b->n() == 0) Bad("b (packed int4 weights) must not be empty");
  if (!Int4IsaUsable(b->isa()))
    Bad(std::string("packed int4 weights are for isa '") + IsaName(b->isa()) + "', not available here");
}

void RunPanels(const Kernels* ks, bool weight_only, const Call& call, int64_t m, int threads) {
  const PackedInt4& b = *call.b;
  const int64_t panels = b.num_panels();
  const double macs =
      static_cast<double>(std::max<int64_t>(m, 1)) * static_cast<double>(b.k()) * static_cast<double>(b.n());
  const int max_threads = macs < kMinParallelMacs ? 1 : threads;
  // Chunks of whole panels; several per participant so an uneven split evens out.
  const int participants = std::max(1, max_threads == 0 ? NumThreads() : max_threads);
  const int64_t grain = std::max<int64_t>(1, panels / (4 * participants));
  const TileFn* tiles = weight_only ? ks->weight_only : ks->gemm;
  const TileFn gemv4 = m != 1 ? nullptr : weight_only ? ks->weight_only_gemv4 : ks->gemv4;
  ParallelFor(panels, grain, max_threads, [&](int64_t p0, int64_t p1) {
    int64_t p = p0;
    if (gemv4 != nullptr) {
      for (; p + 4 <= p1; p += 4) gemv4(call, 0, p);
    }
    for (; p < p1; p++) {
      int64_t r = 0;
      for (; r + 4 <= m; r += 4) tiles[3](call, r, p);
      if (r < m) tiles[m - r - 1](call, r, p);
    }
  });
}

}  // namespace

int32_t PackedInt4::weight(int64_t k, int64_t n) const {
  const int64_t p = n / kInt4PanelCols, j = n % kInt4PanelCols, o = k / kInt4BlockK, t = k % kInt4BlockK;
  const uint8_t byte = panels_.data()[p * panel_stride() + o * kInt4BlockBytes + j * 4 + (t & 3)];
  return static_cast<int32_t>(t < 4 ? byte & 0x0F : byte >> 4) - 8;
}

bool Int4IsaUsable(Isa isa) {
  if (isa == Isa::kRef) return true;
  return KernelsOf(isa) != nullptr && GemmIsaUsable(isa);
}

Isa Int4DefaultIsa() {
  Isa used = Isa::kRef;
  Int4Table().Resolve(ActiveIsa(), &used);
  return Int4IsaUsable(used) ? used : Isa::kRef;
}

void CheckInt4GroupSize(int64_t group_size) {
  if (group_size != 0 && (group_size < kInt4BlockK || group_size > kMaxK || group_size % kInt4BlockK != 0)) {
    Bad("group_size must be 0 (per column) or a multiple of 8 in [8, 65536], got " + std::to_string(group_size));
  }
}

PackedInt4 PackInt4(const int8_t* w, int64_t k, int64_t n, BLayout layout, int64_t ldb, int64_t group_size,
                    const float* scales, const int32_t* zero_points, Isa isa) {
  if (k < 1 || k > kMaxK) Bad("k must be in [1, " + std::to_string(kMaxK) + "], got " + std::to_string(k));
  if (n < 1 || n >= kMaxDim) Bad("n must be in [1, 2^31), got " + std::to_string(n));
  if (w == nullptr) Bad("w must not be null");
  if (scales == nullptr) Bad("scales must not be null");
  if (layout != BLayout::kKN && layout != BLayout::kNK) Bad("layout is not kKN or kNK");
  if (ldb < (layout == BLayout::kKN ? n : k)) Bad("ldb is smaller than the row length");
  CheckInt4GroupSize(group_size);
  if (!Int4IsaUsable(isa)) Bad(std::string("isa '") + IsaName(isa) + "' has no int4 path here");
  PackedInt4 p;
  p.isa_ = isa;
  p.k_ = k;
  p.n_ = n;
  p.group_size_ = group_size == 0 || group_size >= k ? k : group_size;
  p.groups_ = (k + p.group_size_ - 1) / p.group_size_;
  if (p.groups_ > 1 && p.group_size_ % kInt4BlockK != 0) Bad("group_size must be a multiple of 8");
  p.kpad_ = (k + kInt4BlockK - 1) / kInt4BlockK * kInt4BlockK;
  const int64_t npad = p.npad(), groups = p.groups_;
  auto at = [&](int64_t kk, int64_t nn) { return layout == BLayout::kKN ? w[kk * ldb + nn] : w[nn * ldb + kk]; };
  for (int64_t g = 0; g < groups; g++) {
    for (int64_t j = 0; j < n; j++) {
      const float s = scales[g * n + j];
      if (!(s > 0.0f) || !std::isfinite(s)) Bad("scales[" + std::to_string(g * n + j) + "] must be finite and > 0");
      if (zero_points != nullptr && (zero_points[g * n + j] < -8 || zero_points[g * n + j] > 7)) {
        Bad("zero_points[" + std::to_string(g * n + j) + "] = " + std::to_string(zero_points[g * n + j]) +
            " is outside [-8, 7]");
      }
    }
  }
  p.panels_.Reset(static_cast<size_t>(p.num_panels() * p.panel_stride()));
  p.symmetric_ = true;
  bool f16 = true;
  for (int64_t i = 0; i < groups * n; i++) {
    if (zero_points != nullptr && zero_points[i] != 0) p.symmetric_ = false;
    if (quant::scalar::HalfToFloat(quant::scalar::FloatToHalf(scales[i])) != scales[i]) f16 = false;
  }
  // The smallest exact scale form: codes × per-column super-scale, float16, float32.
  std::vector<uint8_t> codes(static_cast<size_t>(groups * n));
  std::vector<float> supers(static_cast<size_t>(npad), 1.0f);
  bool code8 = groups > 1;
  for (int64_t j = 0; j < n && code8; j++) {
    std::vector<uint8_t> col(static_cast<size_t>(groups));
    code8 = FactorInt4Scales(scales + j, groups, n, &supers[j], col.data());
    for (int64_t g = 0; code8 && g < groups; g++) codes[g * n + j] = col[g];
  }
  // Codes cost groups + 4 bytes per column (the super-scale): only when that is smaller.
  code8 = code8 && (f16 ? groups > 4 : groups > 1);
  p.scale_kind_ = code8 ? PackedInt4::ScaleKind::kCode8
                  : f16 ? PackedInt4::ScaleKind::kF16
                        : PackedInt4::ScaleKind::kF32;
  p.sums_i16_ = p.group_size_ * 15 <= 32767;
  const size_t entries = static_cast<size_t>(groups * npad);
  p.scales_.Reset(entries * (code8 ? 1 : f16 ? 2 : 4));
  if (code8) {
    p.supers_.Reset(static_cast<size_t>(npad) * 4);
    for (int64_t j = 0; j < npad; j++) p.supers_.as<float>()[j] = supers[j];
  }
  p.sums_.Reset(entries * (p.sums_i16_ ? 2 : 4));
  if (!p.symmetric_) p.zp8_.Reset(entries);
  std::vector<int32_t> sums(entries, 0);
  for (int64_t g = 0; g < groups; g++) {
    for (int64_t j = 0; j < npad; j++) {
      const int64_t t = p.table_index(g, j);
      const float s = j < n ? scales[g * n + j] : 1.0f;
      if (code8)
        p.scales_.data()[t] = j < n ? codes[g * n + j] : 1;
      else if (f16)
        p.scales_.as<uint16_t>()[t] = quant::scalar::FloatToHalf(s);
      else
        p.scales_.as<float>()[t] = s;
      if (!p.symmetric_) p.zp8_.data()[t] = static_cast<uint8_t>((j < n ? zero_points[g * n + j] : 0) + 8);
    }
  }
  uint8_t* dst = p.panels_.data();
  for (int64_t kk = 0; kk < k; kk++) {
    const int64_t g = kk / p.group_size_, o = kk / kInt4BlockK, t = kk % kInt4BlockK;
    for (int64_t nn = 0; nn < n; nn++) {
      const int32_t v = at(kk, nn);
      if (v < -8 || v > 7)
        Bad("w[" + std::to_string(kk) + "][" + std::to_string(nn) + "] = " + std::to_string(v) + " is outside [-8, 7]");
      const uint8_t u = static_cast<uint8_t>(v + 8);
      uint8_t& byte =
          dst[(nn / kInt4PanelCols) * p.panel_stride() + o * kInt4BlockBytes + (nn % kInt4PanelCols) * 4 + (t & 3)];
      byte = static_cast<uint8_t>(t < 4 ? (byte & 0xF0) | u : (byte & 0x0F) | (u << 4));
      sums[static_cast<size_t>(p.table_index(g, nn))] += u;
    }
  }
  for (size_t t = 0; t < entries; t++) {
    if (p.sums_i16_)
      p.sums_.as<int16_t>()[t] = static_cast<int16_t>(sums[t]);
    else
      p.sums_.as<int32_t>()[t] = sums[t];
  }
  return p;
}

float PackedInt4::scale(int64_t g, int64_t n) const {
  const int64_t t = table_index(g, n);
  switch (scale_kind_) {
    case ScaleKind::kCode8:
      return static_cast<float>(scale_codes()[t]) * super_scales()[n];
    case ScaleKind::kF16:
      return quant::scalar::HalfToFloat(scales16()[t]);
    default:
      return scales32()[t];
  }
}

bool FactorInt4Scales(const float* s, int64_t count, int64_t stride, float* super, uint8_t* codes) {
  if (count < 1) return false;
  // s_i = m_i · 2^e_i with m_i < 2^24 an integer; over the common exponent emin every scale is
  // the integer I_i = m_i · 2^(e_i − emin), and the largest possible super-scale is gcd(I)·2^emin.
  std::vector<uint64_t> ints(static_cast<size_t>(count));
  std::vector<int> exps(static_cast<size_t>(count));
  int emin = 0, emax = 0;
  for (int64_t i = 0; i < count; i++) {
    const float v = s[i * stride];
    if (!(v > 0.0f) || !std::isfinite(v)) return false;
    int e = 0;
    const double f = std::frexp(static_cast<double>(v), &e);  // v = f · 2^e, f ∈ [0.5, 1)
    ints[i] = static_cast<uint64_t>(std::ldexp(f, 24));       // exact: ≤ 24 significant bits
    exps[i] = e - 24;
    if (i == 0 || exps[i] < emin) emin = exps[i];
    if (i == 0 || exps[i] > emax) emax = exps[i];
  }
  if (emax - emin > 32) return false;  // a ratio above 2^8 between scales: codes cannot reach it
  uint64_t g = 0;
  for (int64_t i = 0; i < count; i++) {
    ints[i] <<= (exps[i] - emin);
    g = std::gcd(g, ints[i]);
  }
  const double d = std::ldexp(static_cast<double>(g), emin);
  const float df = static_cast<float>(d);
  if (static_cast<double>(df) != d || !(df >= std::numeric_limits<float>::min()) || !std::isfinite(df)) return false;
  for (int64_t i = 0; i < count; i++) {
    const uint64_t c = ints[i] / g;
    if (c < 1 || c > 255) return false;
    if (static_cast<float>(c) * df != s[i * stride]) return false;  // the kernels' arithmetic, checked
    codes[i] = static_cast<uint8_t>(c);
  }
  *super = df;
  return true;
}

void GemmInt4(const Int4GemmArgs& g) {
  CheckPacked(g.b);
  const PackedInt4& b = *g.b;
  const int64_t k = b.k(), m = g.m, groups = b.groups();
  if (m < 0 || m >= kMaxDim) Bad("m must be in [0, 2^31), got " + std::to_string(m));
  if (m > 0 && g.a == nullptr) Bad("a must not be null");
  if (g.lda < k) Bad("lda must be at least k = " + std::to_string(k) + ", got " + std::to_string(g.lda));
  Call call;
  call.b = &b;
  CheckOutput(g.out, b, m, &call);
  if (m == 0) return;
  if (g.a_zero_points == nullptr || g.a_scales == nullptr) Bad("a_zero_points and a_scales must not be null");
  const int32_t zlo = g.a_signed ? -128 : 0, zhi = g.a_signed ? 127 : 255;
  for (int64_t i = 0; i < (g.a_zero_point_per_row ? m : 1); i++) {
    if (g.a_zero_points[i] < zlo || g.a_zero_points[i] > zhi)
      Bad("a_zero_points[" + std::to_string(i) + "] is outside A's type range");
  }
  for (int64_t i = 0; i < (g.a_scale_per_row ? m : 1); i++) {
    if (!(g.a_scales[i] > 0.0f) || !std::isfinite(g.a_scales[i]))
      Bad("a_scales[" + std::to_string(i) + "] must be finite and > 0");
  }
  const Kernels* ks = KernelsOf(b.isa());
  if (ks == nullptr) {
    int4_internal::GemmRef(g, call);
    return;
  }
  // Pack A: uint8 rows (int8 + 128), kpad values zero padded, 64-byte row stride; per-row
  // za/sa expanded and per-group Σ (A − za).
  const int64_t stride = (b.kpad() + 63) / 64 * 64;
  AlignedBuffer abuf(static_cast<size_t>(m * stride));
  std::vector<int32_t> za(static_cast<size_t>(m)), rs(static_cast<size_t>(m * groups));
  std::vector<float> sa(static_cast<size_t>(m));
  const uint8_t xor_mask = g.a_signed ? 0x80 : 0x00;
  const uint8_t* a = static_cast<const uint8_t*>(g.a);
  for (int64_t r = 0; r < m; r++) {
    const uint8_t* src = a + r * g.lda;
    uint8_t* dst = abuf.data() + r * stride;
    za[r] = g.a_zero_points[g.a_zero_point_per_row ? r : 0] + (g.a_signed ? 128 : 0);
    sa[r] = g.a_scales[g.a_scale_per_row ? r : 0];
    for (int64_t gg = 0; gg < groups; gg++) {
      const int64_t k0 = gg * b.group_size(), k1 = k0 + b.group_length(gg);
      int32_t s = 0;
      for (int64_t kk = k0; kk < k1; kk++) {
        dst[kk] = src[kk] ^ xor_mask;
        s += dst[kk];
      }
      rs[r * groups + gg] = s - za[r] * static_cast<int32_t>(k1 - k0);
    }
  }
  call.a = abuf.data();
  call.a_stride = stride;
  call.za = za.data();
  call.rs = rs.data();
  call.sa = sa.data();
  RunPanels(ks, false, call, m, g.threads);
}

void DynamicGemmInt4(const DynamicInt4Args& d) {
  CheckPacked(d.b);
  const int64_t k = d.b->k();
  if (d.m < 0 || d.m >= kMaxDim) Bad("m must be in [0, 2^31), got " + std::to_string(d.m));
  if (d.ldx < k) Bad("ldx must be at least k = " + std::to_string(k));
  if (d.m > 0 && (d.x == nullptr || d.out.c == nullptr)) Bad("x and c must not be null");
  const int64_t rows = d.per_row ? std::max<int64_t>(d.m, 1) : 1;
  std::vector<float> scales(static_cast<size_t>(rows), 1.0f);
  std::vector<int32_t> zps(static_cast<size_t>(rows), 0);
  AlignedBuffer q(static_cast<size_t>(std::max<int64_t>(1, d.m * k)));
  if (d.m > 0) quant::DynamicQuantizeU8(d.x, d.m, k, d.ldx, d.per_row, q.data(), scales.data(), zps.data(), d.threads);
  Int4GemmArgs g;
  g.m = d.m;
  g.a = q.data();
  g.lda = k;
  g.a_zero_points = zps.data();
  g.a_zero_point_per_row = d.per_row;
  g.a_scales = scales.data();
  g.a_scale_per_row = d.per_row;
  g.b = d.b;
  g.out = d.out;
  g.threads = d.threads;
  GemmInt4(g);
}

void WeightOnlyGemmInt4(const WeightOnlyInt4Args& w) {
  CheckPacked(w.b);
  const PackedInt4& b = *w.b;
  if (w.m < 0 || w.m >= kMaxDim) Bad("m must be in [0, 2^31), got " + std::to_string(w.m));
  if (w.ldx < b.k()) Bad("ldx must be at least k = " + std::to_string(b.k()));
  if (w.m > 0 && w.x == nullptr) Bad("x must not be null");
  Call call;
  call.b = &b;
  CheckOutput(w.out, b, w.m, &call);
  call.x = w.x;
  call.ldx = w.ldx;
  if (w.m == 0) return;
  const Kernels* ks = KernelsOf(b.isa());
  if (ks == nullptr) {
    int4_internal::WeightOnlyRef(w, call);
    return;
  }
  RunPanels(ks, true, call, w.m, w.threads);
}

}  // namespace gemm
}  // namespace tfjq
