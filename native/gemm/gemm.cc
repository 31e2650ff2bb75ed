// The GEMM driver: argument checks, dispatch, blocking and threading around the per-path
// microkernels (docs/gemm.md). Packing of B is in pack.cc, the oracle in gemm_ref.cc.
#include <algorithm>
#include <atomic>
#include <memory>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/thread_pool.h"
#include "gemm/gemm.h"
#include "quant/quantize.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {

// The GEMM family's table. No fallback: packed weights are laid out for exactly one path
// (PackedB::isa), and kRef has no KernelSet (GemmRef is a literal loop, not a kernel set).
const IsaTable<KernelSet>& GemmKernelTable() {
  static const IsaTable<KernelSet> table = [] {
    IsaTable<KernelSet> t;
#if defined(__x86_64__) || defined(_M_X64)
    t.entries[static_cast<int>(Isa::kAvx2)] = Avx2Kernels;
    t.entries[static_cast<int>(Isa::kAvxVnni)] = AvxVnniKernels;
    t.entries[static_cast<int>(Isa::kAvx512Vnni)] = Avx512VnniKernels;
#endif
#if defined(__aarch64__)
    t.entries[static_cast<int>(Isa::kNeon)] = NeonKernels;
    t.entries[static_cast<int>(Isa::kNeonDot)] = NeonDotKernels;
    t.entries[static_cast<int>(Isa::kNeonI8mm)] = NeonI8mmKernels;
#endif
    return t;
  }();
  return table;
}

const KernelSet* KernelsFor(Isa isa) { return GemmKernelTable().Exact(isa); }

}  // namespace internal

namespace {

using internal::EpiCtx;
using internal::EpilogueFn;
using internal::EpiRow;
using internal::FusedDequantFn;
using internal::FusedRequantFn;
using internal::KernelSet;
using internal::PackAFn;
using internal::PackARowsFn;

[[noreturn]] void Bad(const std::string& msg) { throw std::invalid_argument(msg); }

bool FinitePositive(float v) { return std::isfinite(v) && v > 0.0f; }

void CheckScales(const float* s, int64_t count, const char* name) {
  if (s == nullptr) Bad(std::string(name) + " must not be null");
  for (int64_t i = 0; i < count; i++) {
    if (!FinitePositive(s[i])) Bad(std::string(name) + "[" + std::to_string(i) + "] must be a finite number > 0");
  }
}

// Checks everything, fills ctx (expanding per-tensor parameters to n entries into storage).
void Prepare(const GemmArgs& g, EpiCtx* ctx, std::vector<float>* mult_store, std::vector<float>* ws_store) {
  if (g.b == nullptr || g.b->empty()) Bad("b (packed weights) must not be empty");
  const PackedB& b = *g.b;
  if (!GemmIsaUsable(b.isa()))
    Bad(std::string("packed weights are for isa '") + IsaName(b.isa()) + "', not available here");
  const int64_t n = b.n(), k = b.k();
  if (g.m < 0 || g.m >= kMaxDim) Bad("m must be in [0, 2^31), got " + std::to_string(g.m));
  const bool quant_rows = g.a_f32 != nullptr;
  if (g.m > 0 && g.a == nullptr && !quant_rows) Bad("a must not be null");
  if (quant_rows && g.epilogue.output != OutputType::kFloat32) Bad("a_f32 requires float32 output");
  if (g.m > 0 && g.c == nullptr) Bad("c must not be null");
  if (g.lda < k) Bad("lda must be at least k = " + std::to_string(k) + ", got " + std::to_string(g.lda));
  if (g.ldc < n) Bad("ldc must be at least n = " + std::to_string(n) + ", got " + std::to_string(g.ldc));
  if (g.a_zero_points == nullptr && !quant_rows) Bad("a_zero_points must not be null");
  const int32_t zlo = g.a_signed ? -128 : 0, zhi = g.a_signed ? 127 : 255;
  const int64_t nza = quant_rows ? 0 : g.a_zero_point_per_row ? g.m : 1;
  for (int64_t i = 0; i < nza; i++) {
    if (g.a_zero_points[i] < zlo || g.a_zero_points[i] > zhi) {
      Bad("a_zero_points[" + std::to_string(i) + "] = " + std::to_string(g.a_zero_points[i]) + " is outside [" +
          std::to_string(zlo) + ", " + std::to_string(zhi) + "]");
    }
  }
  if (g.threads < 0) Bad("threads must be >= 0");
  const Epilogue& e = g.epilogue;
  if (e.bias && e.bias_f32) Bad("bias (int32) and bias_f32 are exclusive");
  if (e.bias_f32 && e.output != OutputType::kFloat32) Bad("bias_f32 requires float32 output");
  *ctx = EpiCtx{};
  ctx->output = e.output;
  ctx->col_sums = b.col_sums();
  ctx->bias = e.bias;
  ctx->c = g.c;
  ctx->ldc = g.ldc;
  switch (e.output) {
    case OutputType::kInt32:
      break;
    case OutputType::kInt8:
    case OutputType::kUint8: {
      const int32_t lo = e.output == OutputType::kInt8 ? -128 : 0, hi = e.output == OutputType::kInt8 ? 127 : 255;
      if (e.out_zero_point < lo || e.out_zero_point > hi) Bad("out_zero_point is outside the output type's range");
      if (e.qmin < lo || e.qmax > hi || e.qmin > e.qmax) {
        Bad("clamp bounds [" + std::to_string(e.qmin) + ", " + std::to_string(e.qmax) + "] must satisfy " +
            std::to_string(lo) + " <= qmin <= qmax <= " + std::to_string(hi));
      }
      const int64_t cnt = e.multiplier_per_channel ? n : 1;
      CheckScales(e.multipliers, cnt, "multipliers");
      mult_store->assign(static_cast<size_t>(n), e.multipliers[0]);
      if (e.multiplier_per_channel) mult_store->assign(e.multipliers, e.multipliers + n);
      ctx->mult = mult_store->data();
      ctx->zo = e.out_zero_point;
      ctx->qlo_f = static_cast<float>(e.qmin - e.out_zero_point);
      ctx->qhi_f = static_cast<float>(e.qmax - e.out_zero_point);
      ctx->qmin = e.qmin;
      ctx->qmax = e.qmax;
      ctx->mult_small = std::all_of(mult_store->begin(), mult_store->end(), [](float v) { return v <= 0.5f; });
      break;
    }
    case OutputType::kFloat32: {
      if (!quant_rows) CheckScales(e.a_scales, e.a_scale_per_row ? g.m : 1, "a_scales");
      CheckScales(e.w_scales, e.w_scale_per_channel ? n : 1, "w_scales");
      ws_store->assign(static_cast<size_t>(n), e.w_scales[0]);
      if (e.w_scale_per_channel) ws_store->assign(e.w_scales, e.w_scales + n);
      ctx->w_scales = ws_store->data();
      ctx->bias_f32 = e.bias_f32;
      ctx->act = e.activation;
      switch (e.activation) {
        case Activation::kLinear:
          break;
        case Activation::kRelu:
          ctx->act_lo = 0.0f;
          break;
        case Activation::kRelu6:
          ctx->act_lo = 0.0f;
          ctx->act_hi = 6.0f;
          break;
        case Activation::kClamp:
          if (!(std::isfinite(e.clamp_min) && std::isfinite(e.clamp_max) && e.clamp_min <= e.clamp_max)) {
            Bad("clamp bounds must be finite with clamp_min <= clamp_max");
          }
          ctx->act_lo = e.clamp_min;
          ctx->act_hi = e.clamp_max;
          break;
        default:
          Bad(std::string("activation must be linear, relu, relu6 or clamp, got ") +
              kActivationNames[static_cast<int>(e.activation)]);
      }
      break;
    }
    default:
      Bad("unknown output type");
  }
}

// Per-thread scratch, reused across calls (grows, never shrinks).
struct Scratch {
  AlignedBuffer apack, acc;
  std::vector<EpiRow> rows;
  // a_f32 (dynamic per row): one block's quantized rows and their parameters.
  AlignedBuffer qrows;
  std::vector<float> qscale;
  std::vector<int32_t> qzp;
  uint64_t packed_call = 0;
  int64_t packed_mb = -1;
  // rows[0..const_rows) all hold const_row (left from an earlier block or call): a block whose
  // rows share one value need not rewrite them (12 bytes a row, as much as packing a K = 16 row).
  int64_t const_rows = 0;
  EpiRow const_row{0, 0, 0.0f};
};
thread_local Scratch t_scratch;
std::atomic<uint64_t> g_call_id{1};

struct Plan {
  int64_t mc, nc_panels, mblocks, nblocks, kc_groups, kblocks;
};

// register_tiles: every tile of the call is requantized in registers (no int32 tile buffer).
Plan MakePlan(const KernelSet& ks, int64_t m, int64_t panels, int64_t kg_total, int threads, bool register_tiles) {
  Plan p;
  const int64_t mr = ks.mr;
  if (m == 1) {
    p.mc = 1;
    p.nc_panels = threads > 1 ? std::max<int64_t>(2, (panels + 4 * threads - 1) / (4 * threads)) : panels;
  } else {
    // Rows of K ≤ 64 whose tiles never go through the int32 buffer: 96 rows per block halve
    // the per-block costs (task, row packing call, panel loop), which at K = 16–32 are a tenth
    // of the call (12544 × 27 × 32: −4 %, 12544 × 32 × 16: −7 %); the packed block is 6 KiB.
    const int64_t rows_cap = register_tiles && kg_total * ks.kgroup <= 64 ? 96 : 48;
    p.mc = std::min<int64_t>((m + mr - 1) / mr, std::max<int64_t>(1, rows_cap / mr)) * mr;
    // Even row blocks: 49 rows as 30 + 19, not 48 + 1 (a 1-row block runs the slow 1-row
    // kernel over every panel, and with threads the blocks are the unit of balance).
    {
      const int64_t blocks = (m + p.mc - 1) / p.mc;
      p.mc = ((m + blocks - 1) / blocks + mr - 1) / mr * mr;
    }
    p.nc_panels = std::max<int64_t>(1, std::min<int64_t>(panels, 256 / ks.nr));
    auto tasks = [&] { return ((m + p.mc - 1) / p.mc) * ((panels + p.nc_panels - 1) / p.nc_panels); };
    if (threads > 1) {
      while (tasks() < 4 * threads && p.nc_panels > 2) p.nc_panels = (p.nc_panels + 1) / 2;
      while (tasks() < 4 * threads && p.mc > mr) p.mc = std::max<int64_t>(mr, (p.mc / 2 + mr - 1) / mr * mr);
    }
  }
  p.mblocks = (m + p.mc - 1) / p.mc;
  p.nblocks = (panels + p.nc_panels - 1) / p.nc_panels;
  // GEMV streams B once whatever the blocking: no K blocks (no accumulation passes).
  const int64_t kc_max_groups = m == 1 ? kg_total : std::max<int64_t>(1, ks.kc_max / ks.kgroup);
  p.kblocks = (kg_total + kc_max_groups - 1) / kc_max_groups;
  p.kc_groups = (kg_total + p.kblocks - 1) / p.kblocks;
  return p;
}

void GemmPacked(const GemmArgs& g, const EpiCtx& ctx, const KernelSet& ks) {
  const PackedB& b = *g.b;
  const int64_t m = g.m, n = b.n(), k = b.k(), kpad = b.kpad();
  const int64_t kg_total = kpad / ks.kgroup;
  const int64_t panels = b.num_panels();
  const int nr = ks.nr;
  int threads = Participants(g.threads);
  // Handing work to the pool costs a few microseconds (more when its worker sleeps): calls
  // below 1 M multiply-adds run on the caller alone (a 768 × 768 GEMV: ~5 µs on one VNNI
  // core). The bound was 4 M; in a model run the worker spins between steps, and MobileNetV2's
  // 28² 144 → 32 projection (3.6 M), 14² 192 → 64 (2.4 M) and 1280 → 1000 classifier (1.3 M)
  // then ran on one of two threads: per-step minima at 2 threads 20.6 → 11.5, 11.8 → 7.1 and
  // 17.6 → 11.5 µs on Zen 4's avx512vnni path, 49.7 → 26.5, 31.8 → 18.4, 31 → 23–26 µs on its
  // avx2 path (TFJS_QUANT_ISA=avx2).
  if (static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < 1.0e6) threads = 1;
  const bool int8_out = g.epilogue.output == OutputType::kInt8 || g.epilogue.output == OutputType::kUint8;
  const bool one_za = g.a_f32 == nullptr && (!g.a_zero_point_per_row || m == 1);
  const bool register_tiles = int8_out && one_za && b.zero_points_all_zero() && ks.fused_requant[0] != nullptr &&
                              ks.fused_requant_part[0] != nullptr;
  const Plan plan = MakePlan(ks, m, panels, kg_total, threads, register_tiles);
  // Packed A rows: kpad values, stride rounded to 64 bytes, and moved off multiples of 4 KiB
  // (rows read together by the microkernel would otherwise share L1 sets).
  int64_t astride = (kpad * ks.a_bytes_per_k + 63) / 64 * 64;
  if (astride % 4096 == 0) astride += 64;
  // A read where it is, not packed: the packed row would be a copy (a byte per value, no
  // offset, unsigned, K a whole number of groups, so no padding), and copying it was a pass
  // over A per call — a tenth of a 3136 × 576 × 64 layer, whose one 64-column panel uses each
  // packed row once. Rows a multiple of 4 KiB apart would share L1 sets: those are packed.
  // Rows quantized per task (a_f32) are such rows too, at stride k in the task's buffer.
  const bool plain_rows = ks.a_bytes_per_k == 1 && ks.a_offset == 0 && k == kpad;
  const bool a_in_place = plain_rows && g.a_f32 == nullptr && !g.a_signed && g.lda % 4096 != 0;
  const bool qrows_in_place = plain_rows && g.a_f32 != nullptr && k % 4096 != 0;
  const bool unpacked = a_in_place || qrows_in_place;
  if (unpacked) astride = a_in_place ? g.lda : k;
  const uint8_t xor_mask = g.a_signed ? 0x80 : 0x00;
  const int32_t za_shift = g.a_signed ? 128 : 0;
  const bool need_rowsum = !b.zero_points_all_zero();
  EpiCtx c = ctx;
  std::vector<int32_t> zb_store;
  if (need_rowsum) {
    zb_store.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; j++) zb_store[static_cast<size_t>(j)] = b.zero_point(j);
    c.zb = zb_store.data();
  }
  const bool quant_rows = g.a_f32 != nullptr;
  std::vector<int32_t> col_term;
  if (!quant_rows && (!g.a_zero_point_per_row || m == 1)) {
    // One za for the call: fold it and the bias into one per-column term.
    const uint32_t za_eff = static_cast<uint32_t>(g.a_zero_points[0] + za_shift - ks.a_offset);
    col_term.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; j++) {
      uint32_t t = static_cast<uint32_t>(0) - za_eff * static_cast<uint32_t>(b.col_sums()[j]);
      if (c.bias) t += static_cast<uint32_t>(c.bias[j]);
      col_term[static_cast<size_t>(j)] = static_cast<int32_t>(t);
    }
    c.col_term = col_term.data();
  }
  const uint64_t call_id = g_call_id.fetch_add(1, std::memory_order_relaxed);
  const int64_t ntasks = plan.mblocks * plan.nblocks;
  const uint8_t* a_base = static_cast<const uint8_t*>(g.a);

  // Loop-invariant values as locals: the per-row packing loop below must not reload them
  // through the lambda's captures or re-resolve the thread_local scratch (a
  // __tls_get_addr call per row in a shared object) — at K = 16–32 that bookkeeping cost
  // as much as the microkernel.
  const int64_t lda = g.lda;
  const int32_t* a_zps = g.a_zero_points;
  const bool za_per_row = g.a_zero_point_per_row || quant_rows;
  const float* a_f32 = g.a_f32;
  const bool float_out = g.epilogue.output == OutputType::kFloat32;
  const float* a_scales = g.epilogue.a_scales;
  const bool sa_per_row = g.epilogue.a_scale_per_row;
  const int8_t* b_panels = b.panels();
  const int64_t panel_stride = b.panel_stride();
  const int a_offset = ks.a_offset;
  const PackAFn pack_a = ks.pack_a;
  const PackARowsFn pack_a_rows = ks.pack_a_rows;
  // Last byte of A + 1: how far a row pack may read past a row's K values.
  const uint8_t* const a_end = quant_rows ? nullptr : a_base + (m - 1) * lda + k;
  // Row info differs from row to row only with per-row zero points, row sums (weight zero
  // points) or per-row activation scales; otherwise one value serves every row.
  const bool rows_vary = za_per_row || need_rowsum || (float_out && sa_per_row);
  const EpiRow rows_const =
      rows_vary ? EpiRow{0, 0, 0.0f} : EpiRow{a_zps[0] + za_shift - ks.a_offset, 0, float_out ? a_scales[0] : 0.0f};
  const EpilogueFn epilogue = ks.epilogue;
  const int mr = ks.mr;

  // Small K (the packed A block fits in half of L1): one epilogue call per panel and row
  // block, so the per-column parameters are loaded once per call, not once per 6-row tile,
  // and the tile is still in L1. Larger K: the A rows streamed by the microkernel would
  // evict the earlier tiles first, so each tile is converted right after its kernel call
  // (3136 × 576 × 64 was ~10% slower with per-panel calls).
  const bool epi_per_panel = plan.mc * astride <= 16384;
  // All of K in one block and the plain requantize epilogue: full tiles go through the
  // path's fused kernel (requantized in registers, no int32 tile round trip).
  const bool fusable = plan.kblocks == 1 && c.col_term != nullptr && c.zb == nullptr && int8_out;
  const int out_index = g.epilogue.output == OutputType::kInt8 ? 0 : 1;
  const FusedRequantFn fused = fusable ? ks.fused_requant[out_index] : nullptr;
  const FusedRequantFn fused_half = fusable ? ks.fused_requant_half[out_index] : nullptr;
  const internal::FusedRequantPartFn fused_part = fusable ? ks.fused_requant_part[out_index] : nullptr;
  const internal::FusedRequantPartFn fused_part2 = fusable ? ks.fused_requant_part_2mr[out_index] : nullptr;
  const bool dequant_fusable = plan.kblocks == 1 && float_out && c.zb == nullptr;
  const FusedDequantFn fused_dq = dequant_fusable ? ks.fused_dequant : nullptr;
  const internal::FusedDequantPartFn fused_dq_part = dequant_fusable ? ks.fused_dequant_part : nullptr;

  auto run_task = [&](int64_t t) {
    Scratch& s = t_scratch;
    const int64_t mb = t / plan.nblocks, nb = t % plan.nblocks;
    const int64_t m0 = mb * plan.mc, mc = std::min(plan.mc, m - m0);
    const int64_t p0 = nb * plan.nc_panels, p1 = std::min(panels, p0 + plan.nc_panels);
    const int64_t ldacc = (p1 - p0) * nr;
    if (s.packed_call != call_id || s.packed_mb != mb) {
      const size_t need = static_cast<size_t>(plan.mc * astride);
      if (!unpacked && s.apack.size() < need) s.apack.Reset(need);
      if (s.rows.size() < static_cast<size_t>(plan.mc)) s.rows.resize(static_cast<size_t>(plan.mc));
      uint8_t* apack = s.apack.data();
      EpiRow* rows_info = s.rows.data();
      const uint8_t* src = quant_rows ? nullptr : a_base + m0 * lda;
      int64_t src_ld = lda;
      const uint8_t* src_end = a_end;
      if (quant_rows) {
        // §8 per row for this block, into a per-thread uint8 block (16 spare bytes for the
        // row pack's vector reads), then packed like any uint8 A.
        const size_t qneed = static_cast<size_t>(plan.mc * k + 16);
        if (s.qrows.size() < qneed) s.qrows.Reset(qneed);
        if (s.qscale.size() < static_cast<size_t>(plan.mc)) {
          s.qscale.resize(static_cast<size_t>(plan.mc));
          s.qzp.resize(static_cast<size_t>(plan.mc));
        }
        quant::DynamicQuantizeRowsU8(a_f32 + m0 * lda, mc, k, lda, s.qrows.data(), k, s.qscale.data(), s.qzp.data());
        src = s.qrows.data();
        src_ld = k;
        src_end = s.qrows.data() + qneed;
      }
      if (unpacked) {
        // Nothing to pack (ap below points at A itself, or at the quantized rows).
      } else if (pack_a_rows != nullptr) {
        pack_a_rows(src, src_ld, mc, k, kpad, xor_mask, apack, astride, src_end);
      } else {
        for (int64_t i = 0; i < mc; i++) pack_a(src + i * src_ld, k, kpad, xor_mask, apack + i * astride);
      }
      if (!rows_vary) {
        const EpiRow& had = s.const_row;
        if (s.const_rows < mc || had.za != rows_const.za || had.zbc != rows_const.zbc || had.sa != rows_const.sa) {
          for (int64_t i = 0; i < plan.mc; i++) rows_info[i] = rows_const;  // one value for every row
          s.const_rows = plan.mc;
          s.const_row = rows_const;
        }
      } else {
        s.const_rows = 0;  // overwritten below
      }
      for (int64_t i = 0; i < mc && rows_vary; i++, src += src_ld) {
        const int64_t row = m0 + i;
        const int32_t za_u8 = quant_rows ? s.qzp[static_cast<size_t>(i)] : a_zps[za_per_row ? row : 0] + za_shift;
        EpiRow& r = rows_info[i];
        r.za = za_u8 - a_offset;
        r.zbc = 0;
        if (need_rowsum) {
          uint32_t sum = 0;
          for (int64_t kk = 0; kk < k; kk++) sum += static_cast<uint8_t>(src[kk] ^ xor_mask);
          r.zbc = static_cast<int32_t>(static_cast<uint32_t>(k) * static_cast<uint32_t>(za_u8) - sum);
        }
        r.sa = quant_rows ? s.qscale[static_cast<size_t>(i)] : float_out ? a_scales[sa_per_row ? row : 0] : 0.0f;
      }
      s.packed_call = call_id;
      s.packed_mb = mb;
    }
    const size_t acc_need = static_cast<size_t>(plan.mc * ldacc) * sizeof(int32_t);
    if (s.acc.size() < acc_need) s.acc.Reset(acc_need);
    int32_t* acc = s.acc.as<int32_t>();
    const uint8_t* ap = a_in_place ? a_base + m0 * lda : qrows_in_place ? s.qrows.data() : s.apack.data();
    const EpiRow* rows_info = s.rows.data();
    if (mc == 1 && plan.kblocks == 1 && ks.gemv[0] != nullptr) {
      // Dedicated GEMV: up to 4 panels per call.
      for (int64_t p = p0; p < p1; p += 4) {
        const int np = static_cast<int>(std::min<int64_t>(4, p1 - p));
        ks.gemv[np - 1](kg_total, ap, b_panels + p * panel_stride, panel_stride, acc + (p - p0) * nr);
        const int64_t n0 = p * nr;
        epilogue(c, acc + (p - p0) * nr, ldacc, rows_info, m0, 1, n0, std::min<int64_t>(np * nr, n - n0));
      }
      return;
    }
    for (int64_t kb = 0; kb < plan.kblocks; kb++) {
      const int64_t g0 = kb * plan.kc_groups;
      const int64_t gcount = std::min(plan.kc_groups, kg_total - g0);
      const bool last = kb + 1 == plan.kblocks;
      const int64_t a_off = g0 * ks.kgroup * ks.a_bytes_per_k;
      for (int64_t p = p0; p < p1; p++) {
        const int8_t* bp = b_panels + p * panel_stride + g0 * nr * ks.kgroup;
        const int64_t n0 = p * nr;
        const int64_t cols = std::min<int64_t>(nr, n - n0);
        int32_t* accp = acc + (p - p0) * nr;
        const bool half = cols <= nr / 2 && ks.half_kernels[0] != nullptr;
        const internal::KernelFn* kern = half ? ks.half_kernels : ks.kernels;
        const FusedRequantFn fused_tile = cols == nr ? fused : cols == nr / 2 && half ? fused_half : nullptr;
        const bool part = fused_tile == nullptr && cols < nr && fused_part != nullptr;
        // Two tiles' rows in one call for a last panel of at most nr / 4 columns, or nr / 2 with
        // K ≥ 64: measured on AVX-512 VNNI, 12 × 16 tiles beat 6 × 16 by 10 % (12544 × 32 × 16),
        // 12 × 32 beat 6 × 32 by 10 % at K = 144 (3136 × 144 × 24) but lost 9 % at K = 27
        // (its setup and register spills around a 7-step K loop).
        const bool part2 = fused_part2 != nullptr && (cols <= nr / 4 || (cols <= nr / 2 && gcount * ks.kgroup >= 64));
        const bool dq_full = fused_dq != nullptr && cols == nr;
        const bool dq_part = fused_dq_part != nullptr && cols < nr;
        if (fused_tile != nullptr || part || dq_full || dq_part) {
          for (int64_t i0 = 0; i0 < mc; i0 += mr) {
            const int rows = static_cast<int>(std::min<int64_t>(mr, mc - i0));
            const uint8_t* ai = ap + i0 * astride + a_off;
            if (part2 && mc - i0 >= 2 * mr) {
              fused_part2(gcount, ai, astride, bp, c, m0 + i0, n0, cols);
              i0 += mr;
            } else if (rows == mr) {
              if (fused_tile != nullptr)
                fused_tile(gcount, ai, astride, bp, c, m0 + i0, n0);
              else if (part)
                fused_part(gcount, ai, astride, bp, c, m0 + i0, n0, cols);
              else if (dq_full)
                fused_dq(gcount, ai, astride, bp, c, rows_info + i0, m0 + i0, n0);
              else
                fused_dq_part(gcount, ai, astride, bp, c, rows_info + i0, m0 + i0, n0, cols);
            } else {
              kern[rows - 1](gcount, ai, astride, bp, accp + i0 * ldacc, ldacc, false);
              epilogue(c, accp + i0 * ldacc, ldacc, rows_info + i0, m0 + i0, rows, n0, cols);
            }
          }
          continue;
        }
        for (int64_t i0 = 0; i0 < mc; i0 += mr) {
          const int rows = static_cast<int>(std::min<int64_t>(mr, mc - i0));
          kern[rows - 1](gcount, ap + i0 * astride + a_off, astride, bp, accp + i0 * ldacc, ldacc, kb > 0);
          if (last && !epi_per_panel) epilogue(c, accp + i0 * ldacc, ldacc, rows_info + i0, m0 + i0, rows, n0, cols);
        }
        if (last && epi_per_panel) epilogue(c, accp, ldacc, rows_info, m0, static_cast<int>(mc), n0, cols);
      }
    }
  };

  if (ntasks == 1 || threads <= 1) {
    for (int64_t t = 0; t < ntasks; t++) run_task(t);
    return;
  }
  const int participants = static_cast<int>(std::min<int64_t>(threads, ntasks));
  // Participant p owns the p-th contiguous share of the tasks (rows in order), so across the
  // layers of a model each core keeps producing and consuming the same rows (they stay in its
  // L2); it claims its share in guided pieces (a quarter of what is left, at least one task:
  // hundreds of microsecond-sized tasks must not cost a shared-counter transfer each), then
  // helps with the others' leftovers. Counters on their own cache lines: participants read the
  // caller's locals through the lambda's references.
  struct alignas(64) Share {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };
  Share inline_shares[4];  // no allocation per call for up to 4 participants
  std::unique_ptr<Share[]> heap_shares(participants > 4 ? new Share[static_cast<size_t>(participants)] : nullptr);
  Share* shares = participants > 4 ? heap_shares.get() : inline_shares;
  for (int p = 0; p < participants; p++) {
    shares[p].next.store(ntasks * p / participants, std::memory_order_relaxed);
    shares[p].end = ntasks * (p + 1) / participants;
  }
  ParallelFor(participants, 1, participants, [&](int64_t home, int64_t) {
    for (int i = 0; i < participants; i++) {
      Share& sh = shares[(home + i) % participants];
      int64_t cur = sh.next.load(std::memory_order_relaxed);
      for (;;) {
        if (cur >= sh.end) break;
        const int64_t take = std::max<int64_t>(1, (sh.end - cur) / 4);
        if (!sh.next.compare_exchange_weak(cur, cur + take, std::memory_order_relaxed)) continue;
        const int64_t stop = std::min(cur + take, sh.end);
        for (int64_t t = cur; t < stop; t++) run_task(t);
        cur = sh.next.load(std::memory_order_relaxed);
      }
    }
  });
}

}  // namespace

void Gemm(const GemmArgs& args) {
  EpiCtx ctx;
  std::vector<float> mult, ws;
  Prepare(args, &ctx, &mult, &ws);
  if (args.m == 0) return;
  const Isa isa = args.b->isa();
  if (isa == Isa::kRef) {
    if (args.a_f32 != nullptr) Bad("a_f32 is not supported on the ref path");
    internal::GemmRef(args, ctx, args.epilogue.output == OutputType::kFloat32 ? args.epilogue.a_scales : nullptr);
    return;
  }
  const KernelSet* ks = internal::KernelsFor(isa);
  if (ks == nullptr) Bad(std::string("isa '") + IsaName(isa) + "' is not compiled into this build");
  GemmPacked(args, ctx, *ks);
}

double MeasurePeakGops(Isa isa, double seconds) {
  if (!(seconds > 0) || seconds > 60) Bad("seconds must be in (0, 60]");
  if (!GemmIsaUsable(isa)) Bad(std::string("isa '") + IsaName(isa) + "' is not available");
  if (isa == Isa::kRef) return internal::PeakRef(seconds);
  const KernelSet* ks = internal::KernelsFor(isa);
  if (ks == nullptr || ks->peak == nullptr) Bad(std::string("isa '") + IsaName(isa) + "' has no peak loop");
  return ks->peak(seconds);
}

}  // namespace gemm
}  // namespace tfjq
