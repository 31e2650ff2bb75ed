// int4 kernels for arm64 Advanced SIMD (docs/quantization.md §12.5, packed layout). Each
// 32-byte block is two q registers (columns 0–3 and 4–7, byte 4j + t); nibbles are unpacked
// in registers (AND 0x0F / USHR 4) and multiplied with the broadcast uint8 activations by
// UMULL/UMLAL into uint16 (a double block puts 4 products of ≤ 255·15 in a lane: 15300),
// then UADALP folds pairs into uint32 accumulators; the K positions t of a column are summed
// with ADDP at the end of the group. The group correction and the float steps follow the
// reference operation by operation (no fused multiply-add; the activation bounds use compare
// + select so NaN behaves as the scalar `y > lo ? y : lo`): bit-identical to GemmRef.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "gemm/gemm_int4.h"

namespace tfjq {
namespace gemm {
namespace int4_internal {
namespace {

inline uint8x16_t Bcast4(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return vreinterpretq_u8_u32(vdupq_n_u32(v));
}

// 8 columns as two float32x4 (columns 0–3, 4–7).
struct F8 {
  float32x4_t lo, hi;
};

// Scales of 8 columns of panel p at table index t; kCode8: fl32(code × super) per lane.
inline F8 LoadScales(const PackedInt4& b, int64_t t, int64_t p) {
  if (b.scale_kind() == PackedInt4::ScaleKind::kCode8) {
    const uint16x8_t c = vmovl_u8(vld1_u8(b.scale_codes() + t));
    const float* sp = b.super_scales() + p * kInt4PanelCols;
    return {vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(c))), vld1q_f32(sp)),
            vmulq_f32(vcvtq_f32_u32(vmovl_high_u16(c)), vld1q_f32(sp + 4))};
  }
  if (b.scales_f16()) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(b.scales16() + t));
    return {vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)};  // exact
  }
  return {vld1q_f32(b.scales32() + t), vld1q_f32(b.scales32() + t + 4)};
}
inline void LoadSums(const PackedInt4& b, int64_t t, int32x4_t* lo, int32x4_t* hi) {
  if (b.sums_i16()) {
    const int16x8_t s = vld1q_s16(b.sums16() + t);
    *lo = vmovl_s16(vget_low_s16(s));
    *hi = vmovl_high_s16(s);
  } else {
    *lo = vld1q_s32(b.sums32() + t);
    *hi = vld1q_s32(b.sums32() + t + 4);
  }
}
inline void LoadZp8(const PackedInt4& b, int64_t t, int32x4_t* lo, int32x4_t* hi) {
  if (b.zero_points8() == nullptr) {
    *lo = *hi = vdupq_n_s32(8);
    return;
  }
  const uint16x8_t z = vmovl_u8(vld1_u8(b.zero_points8() + t));
  *lo = vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(z)));
  *hi = vreinterpretq_s32_u32(vmovl_high_u16(z));
}

inline float32x4_t Bound(const Call& c, float32x4_t y, const float* bias) {
  if (bias != nullptr) y = vaddq_f32(y, vld1q_f32(bias));
  if (c.has_lo) {
    const float32x4_t lo = vdupq_n_f32(c.lo);
    y = vbslq_f32(vcgtq_f32(y, lo), y, lo);  // (y > lo ? y : lo)
  }
  if (c.has_hi) {
    const float32x4_t hi = vdupq_n_f32(c.hi);
    y = vbslq_f32(vcltq_f32(y, hi), y, hi);  // (y < hi ? y : hi)
  }
  return y;
}

inline void StorePanel(const Call& c, F8 y, int64_t m, int64_t p) {
  const int64_t n0 = p * kInt4PanelCols, n = c.b->n();
  float* dst = c.out.c + m * c.out.ldc + n0;
  if (n0 + kInt4PanelCols <= n) {
    const float* bias = c.out.bias != nullptr ? c.out.bias + n0 : nullptr;
    vst1q_f32(dst, Bound(c, y.lo, bias));
    vst1q_f32(dst + 4, Bound(c, y.hi, bias != nullptr ? bias + 4 : nullptr));
    return;
  }
  float tmp[kInt4PanelCols];
  vst1q_f32(tmp, y.lo);
  vst1q_f32(tmp + 4, y.hi);
  for (int64_t j = 0; n0 + j < n; j++) dst[j] = Finish(c, tmp[j], n0 + j);
}

// uint16 lanes (column j, position t) of one 16-byte half of a double block, 4 products each.
inline void DoubleHalf(uint8x16_t w0, uint8x16_t w1, uint8x16_t a0, uint8x16_t a1, uint8x16_t a2, uint8x16_t a3,
                       uint32x4_t* acc_lo, uint32x4_t* acc_hi) {
  const uint8x16_t mask = vdupq_n_u8(0x0F);
  const uint8x16_t l0 = vandq_u8(w0, mask), h0 = vshrq_n_u8(w0, 4), l1 = vandq_u8(w1, mask), h1 = vshrq_n_u8(w1, 4);
  uint16x8_t s_lo = vmull_u8(vget_low_u8(l0), vget_low_u8(a0));
  uint16x8_t s_hi = vmull_high_u8(l0, a0);
  s_lo = vmlal_u8(s_lo, vget_low_u8(h0), vget_low_u8(a1));
  s_hi = vmlal_high_u8(s_hi, h0, a1);
  s_lo = vmlal_u8(s_lo, vget_low_u8(l1), vget_low_u8(a2));
  s_hi = vmlal_high_u8(s_hi, l1, a2);
  s_lo = vmlal_u8(s_lo, vget_low_u8(h1), vget_low_u8(a3));
  s_hi = vmlal_high_u8(s_hi, h1, a3);
  *acc_lo = vpadalq_u16(*acc_lo, s_lo);
  *acc_hi = vpadalq_u16(*acc_hi, s_hi);
}

inline void SingleHalf(uint8x16_t w0, uint8x16_t a0, uint8x16_t a1, uint32x4_t* acc_lo, uint32x4_t* acc_hi) {
  const uint8x16_t mask = vdupq_n_u8(0x0F);
  const uint8x16_t l0 = vandq_u8(w0, mask), h0 = vshrq_n_u8(w0, 4);
  uint16x8_t s_lo = vmull_u8(vget_low_u8(l0), vget_low_u8(a0));
  uint16x8_t s_hi = vmull_high_u8(l0, a0);
  s_lo = vmlal_u8(s_lo, vget_low_u8(h0), vget_low_u8(a1));
  s_hi = vmlal_high_u8(s_hi, h0, a1);
  *acc_lo = vpadalq_u16(*acc_lo, s_lo);
  *acc_hi = vpadalq_u16(*acc_hi, s_hi);
}

// R rows × one panel, all of K. Accumulator lanes: acc[r][h][x] for half h (columns 4h..4h+3),
// x = 0: columns 4h, 4h+1 (pairs of t), x = 1: columns 4h+2, 4h+3.
template <int R>
void Tile(const Call& c, int64_t m0, int64_t p) {
  const PackedInt4& b = *c.b;
  const int64_t groups = b.groups();
  const uint8_t* w = b.panels() + p * b.panel_stride();
  const uint8_t* a[R];
  for (int r = 0; r < R; r++) a[r] = c.a + (m0 + r) * c.a_stride;
  F8 y[R];
  for (int r = 0; r < R; r++) y[r].lo = y[r].hi = vdupq_n_f32(0.0f);
  for (int64_t g = 0; g < groups; g++) {
    uint32x4_t acc[R][2][2];
    for (int r = 0; r < R; r++)
      for (int h = 0; h < 2; h++) acc[r][h][0] = acc[r][h][1] = vdupq_n_u32(0);
    int64_t o = b.group_block_begin(g);
    const int64_t oe = b.group_block_end(g);
    for (; o + 2 <= oe; o += 2) {
      const uint8_t* wb = w + o * kInt4BlockBytes;
      const uint8x16_t w00 = vld1q_u8(wb), w01 = vld1q_u8(wb + 16), w10 = vld1q_u8(wb + 32), w11 = vld1q_u8(wb + 48);
      for (int r = 0; r < R; r++) {
        const uint8_t* ar = a[r] + o * kInt4BlockK;
        const uint8x16_t a0 = Bcast4(ar), a1 = Bcast4(ar + 4), a2 = Bcast4(ar + 8), a3 = Bcast4(ar + 12);
        DoubleHalf(w00, w10, a0, a1, a2, a3, &acc[r][0][0], &acc[r][0][1]);
        DoubleHalf(w01, w11, a0, a1, a2, a3, &acc[r][1][0], &acc[r][1][1]);
      }
    }
    if (o < oe) {
      const uint8_t* wb = w + o * kInt4BlockBytes;
      const uint8x16_t w00 = vld1q_u8(wb), w01 = vld1q_u8(wb + 16);
      for (int r = 0; r < R; r++) {
        const uint8_t* ar = a[r] + o * kInt4BlockK;
        const uint8x16_t a0 = Bcast4(ar), a1 = Bcast4(ar + 4);
        SingleHalf(w00, a0, a1, &acc[r][0][0], &acc[r][0][1]);
        SingleHalf(w01, a0, a1, &acc[r][1][0], &acc[r][1][1]);
      }
    }
    const int64_t t = (p * groups + g) * kInt4PanelCols;
    int32x4_t sums_lo, sums_hi, zp_lo, zp_hi;
    LoadSums(b, t, &sums_lo, &sums_hi);
    LoadZp8(b, t, &zp_lo, &zp_hi);
    const F8 sw = LoadScales(b, t, p);
    for (int r = 0; r < R; r++) {
      // lanes [j0 t01, j0 t23, j1 t01, j1 t23] → pairwise add → [j0, j1, j2, j3]
      const int32x4_t raw_lo = vreinterpretq_s32_u32(vpaddq_u32(acc[r][0][0], acc[r][0][1]));
      const int32x4_t raw_hi = vreinterpretq_s32_u32(vpaddq_u32(acc[r][1][0], acc[r][1][1]));
      const int32x4_t za = vdupq_n_s32(c.za[m0 + r]), rs = vdupq_n_s32(c.rs[(m0 + r) * groups + g]);
      const int32x4_t v_lo = vsubq_s32(vsubq_s32(raw_lo, vmulq_s32(za, sums_lo)), vmulq_s32(zp_lo, rs));
      const int32x4_t v_hi = vsubq_s32(vsubq_s32(raw_hi, vmulq_s32(za, sums_hi)), vmulq_s32(zp_hi, rs));
      const float32x4_t sa = vdupq_n_f32(c.sa[m0 + r]);
      const float32x4_t s_lo = vmulq_f32(sa, sw.lo), s_hi = vmulq_f32(sa, sw.hi);
      y[r].lo = vaddq_f32(y[r].lo, vmulq_f32(vcvtq_f32_s32(v_lo), s_lo));
      y[r].hi = vaddq_f32(y[r].hi, vmulq_f32(vcvtq_f32_s32(v_hi), s_hi));
    }
  }
  for (int r = 0; r < R; r++) StorePanel(c, y[r], m0 + r, p);
}

// Weight-only: each 16-byte half is transposed with TBL to K-major (4 columns per K value),
// widened to int32, offset by the zero point and converted to float.
template <int R>
void WeightOnlyTile(const Call& c, int64_t m0, int64_t p) {
  const PackedInt4& b = *c.b;
  const int64_t groups = b.groups();
  const uint8_t* w = b.panels() + p * b.panel_stride();
  const float* x[R];
  for (int r = 0; r < R; r++) x[r] = c.x + (m0 + r) * c.ldx;
  static const uint8_t kTr[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
  const uint8x16_t tr = vld1q_u8(kTr), mask = vdupq_n_u8(0x0F);
  F8 y[R];
  for (int r = 0; r < R; r++) y[r].lo = y[r].hi = vdupq_n_f32(0.0f);
  for (int64_t g = 0; g < groups; g++) {
    const int64_t t = (p * groups + g) * kInt4PanelCols;
    int32x4_t zp_lo, zp_hi;
    LoadZp8(b, t, &zp_lo, &zp_hi);
    F8 acc[R];
    for (int r = 0; r < R; r++) acc[r].lo = acc[r].hi = vdupq_n_f32(0.0f);
    const int64_t k1 = g * b.group_size() + b.group_length(g);
    for (int64_t o = b.group_block_begin(g); o < b.group_block_end(g); o++) {
      const uint8_t* wb = w + o * kInt4BlockBytes;
      const uint8x16_t v0 = vld1q_u8(wb), v1 = vld1q_u8(wb + 16);
      // K-major bytes: [t0 j0..3, t1 j0..3, t2 …, t3 …] for the low (K 0–3) and high (K 4–7) nibbles.
      const uint8x16_t q[4] = {vqtbl1q_u8(vandq_u8(v0, mask), tr), vqtbl1q_u8(vandq_u8(v1, mask), tr),
                               vqtbl1q_u8(vshrq_n_u8(v0, 4), tr), vqtbl1q_u8(vshrq_n_u8(v1, 4), tr)};
      const int64_t kb = o * kInt4BlockK;
      const int tn = static_cast<int>(k1 - kb < kInt4BlockK ? k1 - kb : kInt4BlockK);
      for (int tt = 0; tt < tn; tt++) {
        const int nib = tt / 4, pos = tt % 4;  // nib 0: low nibbles (q[0], q[1]); 1: high (q[2], q[3])
        const uint16x8_t w0 = vmovl_u8(pos < 2 ? vget_low_u8(q[2 * nib]) : vget_high_u8(q[2 * nib]));
        const uint16x8_t w1 = vmovl_u8(pos < 2 ? vget_low_u8(q[2 * nib + 1]) : vget_high_u8(q[2 * nib + 1]));
        const uint32x4_t u0 = pos % 2 == 0 ? vmovl_u16(vget_low_u16(w0)) : vmovl_high_u16(w0);
        const uint32x4_t u1 = pos % 2 == 0 ? vmovl_u16(vget_low_u16(w1)) : vmovl_high_u16(w1);
        const float32x4_t f0 = vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(u0), zp_lo));
        const float32x4_t f1 = vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(u1), zp_hi));
        for (int r = 0; r < R; r++) {
          const float32x4_t xv = vdupq_n_f32(x[r][kb + tt]);
          acc[r].lo = vaddq_f32(acc[r].lo, vmulq_f32(xv, f0));
          acc[r].hi = vaddq_f32(acc[r].hi, vmulq_f32(xv, f1));
        }
      }
    }
    const F8 sw = LoadScales(b, t, p);
    for (int r = 0; r < R; r++) {
      y[r].lo = vaddq_f32(y[r].lo, vmulq_f32(acc[r].lo, sw.lo));
      y[r].hi = vaddq_f32(y[r].hi, vmulq_f32(acc[r].hi, sw.hi));
    }
  }
  for (int r = 0; r < R; r++) StorePanel(c, y[r], m0 + r, p);
}

const Kernels kNeonKernels = {Isa::kNeon,
                              {Tile<1>, Tile<2>, Tile<3>, Tile<4>},
                              nullptr,
                              {WeightOnlyTile<1>, WeightOnlyTile<2>, WeightOnlyTile<3>, WeightOnlyTile<4>},
                              nullptr};

}  // namespace

const Kernels* Neon() { return &kNeonKernels; }

}  // namespace int4_internal
}  // namespace gemm
}  // namespace tfjq
