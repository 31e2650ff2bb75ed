// AVX-512 span kernels for the quantize family on AVX-512 VNNI machines: §2 quantization to
// 8 bits per tensor, §4/§8 ranges and the per-row dynamic quantization of §8, 16 lanes per
// instruction with masked loads and stores for row tails. Everything else (dequantize,
// requantize, float16, per-element parameters) is the AVX2 table's.
//
// Division. §2 needs fl32(x / scale), and VDIVPS is the slowest instruction of the loop
// (one zmm every ~10 cycles on Intel cores). Here each value is first computed as
// y = fl32(x · r + zp) with r = fl32(1 / scale), which is within 2^-14 of fl32(x / scale) + zp
// wherever the result matters (see QuantizeRecip16). Only the rounded integer is stored, and
// it can differ from the reference's only when y lies that close to a half-integer: vectors
// with a value within 2^-12 of one (16 · 2 · 2^-12 ≈ 1 in 128 when fractional parts are
// spread evenly; every exact tie) are recomputed with the true division. The bytes are those
// of the reference for every input, ties and NaN/±Inf included.
//
// No std:: templates here: an instantiation compiled with AVX-512 flags could be the one the
// linker keeps for every caller in the binary (see gemm/internal.h, NowSeconds).
// GCC 12's AVX-512 headers start masked and reducing intrinsics from a self-initialized
// `__Y = __Y` (_mm512_undefined_ps), which -W(maybe-)uninitialized reports at every use.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include "common/simd_x86.h"
#include "quant/kernels.h"
#include "quant/quantize.h"
#include "quant/scalar.h"

namespace tfjq {
namespace quant {

#if !TFJQ_SIMD_EMULATED
namespace {

inline int64_t Min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Lanes < n set (0 ≤ n ≤ 16).
inline __mmask16 Lanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

// Below |x/s| = 512, fl32(x · r + zp) (one FMA, r = fl32(1/s)) is within 2^-14 of the real
// number fl32(x/s) + zp when s and 1/s are normal numbers: 1/s rounds with relative error
// ≤ 2^-24 (≤ 2^-15 absolute at 512), the FMA's result and fl32(x/s) each by at most half an
// ulp below 512 (2^-16). Beyond 512 both lie outside every clamp range: fl32(x/s) + zp with
// zp ∈ [−128, 255] is outside [qmin, qmax] ⊂ [−128, 255], and so is the FMA's result.
inline bool ReciprocalUsable(float s) { return s >= 0x1p-126f && s <= 0x1p126f; }

// Values whose distance to a half-integer is below 2^-12 are recomputed by division: four
// times the error bound above.
constexpr float kTieGuard = 0.5f - 0x1p-12f;

// §2 for 16 values with the true division: v = fl32(x / s); NaN → 0 (then zp); clamp to
// [lo, hi] = [qmin − zp, qmax − zp]; rne; + zp. (s finite > 0: the quotient is NaN only for
// NaN x.)
inline __m512i QuantizeDiv16(__m512 x, __m512 s, __m512 lo, __m512 hi, __m512i zp) {
  const __mmask16 ord = _mm512_cmp_ps_mask(x, x, _CMP_ORD_Q);
  __m512 v = _mm512_maskz_div_ps(ord, x, s);
  v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
  return _mm512_add_epi32(_mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
}

// The same from y = fl32(x · r + zp) (ReciprocalUsable(s), r = fl32(1/s), zpf = zp as a
// float), clamped to [qmin, qmax] directly: rne(clamp(v, qmin − zp, qmax − zp)) + zp equals
// rne(clamp(v + zp, qmin, qmax)) for the integer zp. t = y − rne(y) (VREDUCEPS) with
// |t| ≤ kTieGuard puts y at least 2^-12 from every half-integer, farther than fl32(x/s) + zp
// can be from y, so both round to the same integer; where y is clamped, fl32(x/s) + zp is
// within 2^-14 of the bound or beyond it and rounds or clamps to that bound too. NaN x (t is
// NaN) is flagged; ±Inf clamps like the quotient does. Sets *redo when some lane needs the
// division.
inline __m512i QuantizeRecip16(__m512 x, __m512 r, __m512 zpf, __m512 qmin, __m512 qmax, __mmask16* redo) {
  __m512 y = _mm512_fmadd_ps(x, r, zpf);
  const __m512 t = _mm512_abs_ps(_mm512_reduce_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  *redo = _kor_mask16(*redo, _mm512_cmp_ps_mask(t, _mm512_set1_ps(kTieGuard), _CMP_NLE_UQ));
  y = _mm512_min_ps(_mm512_max_ps(y, qmin), qmax);
  return _mm512_cvt_roundps_epi32(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// 16 int32 values inside the output range → 16 bytes at out (lanes in `m` only).
template <typename Out>
inline void Store16(Out* out, __mmask16 m, __m512i q) {
  if constexpr (sizeof(Out) == 1 && static_cast<Out>(-1) < 0) {
    _mm512_mask_cvtsepi32_storeu_epi8(out, m, q);
  } else {
    _mm512_mask_cvtusepi32_storeu_epi8(out, m, q);
  }
}

// One tensor's (or row's) parameters broadcast for the 16-lane loops.
struct Params16 {
  __m512 s, lo, hi;  // the division: scale, [qmin − zp, qmax − zp]
  __m512i zp;
  __m512 r, zpf, qmin, qmax;  // the reciprocal
  bool recip;
};

inline Params16 MakeParams(float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  Params16 p;
  p.s = _mm512_set1_ps(scale);
  p.lo = _mm512_set1_ps(static_cast<float>(qmin - zp));
  p.hi = _mm512_set1_ps(static_cast<float>(qmax - zp));
  p.zp = _mm512_set1_epi32(zp);
  p.recip = ReciprocalUsable(scale);
  p.r = _mm512_set1_ps(p.recip ? 1.0f / scale : 1.0f);
  p.zpf = _mm512_set1_ps(static_cast<float>(zp));
  p.qmin = _mm512_set1_ps(static_cast<float>(qmin));
  p.qmax = _mm512_set1_ps(static_cast<float>(qmax));
  return p;
}

// 16 values (lanes in m; the others are read as 0 and not stored).
template <typename Out>
inline void Quantize16(const float* x, __mmask16 m, const Params16& p, Out* out) {
  const __m512 v = _mm512_maskz_loadu_ps(m, x);
  if (p.recip) {
    __mmask16 redo = 0;
    const __m512i q = QuantizeRecip16(v, p.r, p.zpf, p.qmin, p.qmax, &redo);
    if (redo == 0) {
      Store16(out, m, q);
      return;
    }
  }
  Store16(out, m, QuantizeDiv16(v, p.s, p.lo, p.hi, p.zp));
}

// A span with one (scale, zero point): 64 values per iteration (four independent chains, one
// check of the four tie masks), then 16, then a masked tail.
template <typename Out>
void QuantizeSpan(const float* x, int64_t n, const Params16& p, Out* out) {
  int64_t i = 0;
  if (p.recip) {
    for (; i + 64 <= n; i += 64) {
      __mmask16 redo = 0;
      const __m512i q0 = QuantizeRecip16(_mm512_loadu_ps(x + i), p.r, p.zpf, p.qmin, p.qmax, &redo);
      const __m512i q1 = QuantizeRecip16(_mm512_loadu_ps(x + i + 16), p.r, p.zpf, p.qmin, p.qmax, &redo);
      const __m512i q2 = QuantizeRecip16(_mm512_loadu_ps(x + i + 32), p.r, p.zpf, p.qmin, p.qmax, &redo);
      const __m512i q3 = QuantizeRecip16(_mm512_loadu_ps(x + i + 48), p.r, p.zpf, p.qmin, p.qmax, &redo);
      if (redo != 0) {
        for (int j = 0; j < 64; j += 16) Quantize16(x + i + j, 0xFFFF, p, out + i + j);
        continue;
      }
      Store16(out + i, 0xFFFF, q0);
      Store16(out + i + 16, 0xFFFF, q1);
      Store16(out + i + 32, 0xFFFF, q2);
      Store16(out + i + 48, 0xFFFF, q3);
    }
  }
  for (; i + 16 <= n; i += 16) Quantize16(x + i, 0xFFFF, p, out + i);
  if (i < n) Quantize16(x + i, Lanes(n - i), p, out + i);
}

// A dynamic row's uint8 codes when its range [lo, hi] is finite and holds every finite value of
// the row, its scale normal and its reciprocal usable (RowGroup::bounded): then
// |x · r| ≤ (hi − lo) · r ≈ 255, so y = fl32(x · r + zp) lies within [−1, 256] and converts
// to int32 exactly, and the saturating packs (int32 → int16 → uint8) clamp rne(y) to [0, 255],
// which equals rne(clamp(y, 0, 255)) since both bounds are integers. That drops the clamp's
// VMINPS / VMAXPS and stores 64 bytes at once instead of four VPMOVUSDB: on Zen 4, whose
// zmm operations issue at half rate, 1.60 → 1.18 ns per 16 values (576-value rows, from L1).
// NaN values (left out of the range) make t NaN and go to the division path like ties.
void QuantizeRowBounded(const float* x, int64_t n, const Params16& p, uint8_t* out) {
  // After the packs, 32-bit group j of the 128-bit lane q holds values 16j + 4q … 16j + 4q + 3.
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __m512 guard = _mm512_set1_ps(kTieGuard);
  auto tie = [&](__m512 y) {
    return _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_reduce_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)), guard,
                              _CMP_NLE_UQ);
  };
  auto rne = [](__m512 y) { return _mm512_cvt_roundps_epi32(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); };
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 y0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), p.r, p.zpf);
    const __m512 y1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), p.r, p.zpf);
    const __m512 y2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), p.r, p.zpf);
    const __m512 y3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), p.r, p.zpf);
    if ((tie(y0) | tie(y1) | tie(y2) | tie(y3)) != 0) {
      for (int j = 0; j < 64; j += 16) Quantize16(x + i + j, 0xFFFF, p, out + i + j);
      continue;
    }
    const __m512i lo = _mm512_packs_epi32(rne(y0), rne(y1)), hi = _mm512_packs_epi32(rne(y2), rne(y3));
    _mm512_storeu_si512(out + i, _mm512_permutexvar_epi32(order, _mm512_packus_epi16(lo, hi)));
  }
  for (; i < n; i += 16) Quantize16(x + i, Lanes(Min64(16, n - i)), p, out + i);
}

template <typename Out>
void QuantizeAvx512(const float* x, int64_t n, const float* s, const int32_t* z, bool vec, int32_t qmin, int32_t qmax,
                    Out* out) {
  if (vec) {
    // Per-element parameters (short channel runs): the AVX2 loop.
    if constexpr (sizeof(Out) == 1 && static_cast<Out>(-1) < 0)
      Avx2Kernels().quantize_s8(x, n, s, z, vec, qmin, qmax, out);
    else
      Avx2Kernels().quantize_u8(x, n, s, z, vec, qmin, qmax, out);
    return;
  }
  QuantizeSpan(x, n, MakeParams(s[0], z[0], qmin, qmax), out);
}

// ---- ranges. Non-finite values read as 0: they are left out of the running min / max,
// which start at 0 (the ranges are widened to include 0 anyway).
//
// Testing every vector for non-finite lanes (VFPCLASSPS) issues at one zmm every two cycles
// on Zen 5 and doubled the cost of a range. So a range is taken first with plain VMINPS /
// VMAXPS, the new vector as the first operand: their result is the second operand whenever
// either is NaN, so a NaN never enters a chain. ±Inf does enter it, and then shows in the
// result (a minimum of −Inf or a maximum of +Inf: nothing else can be beyond every finite
// value), and only then the range is taken again with the test. The two agree on every value
// but the sign of a zero bound, which no caller can tell apart (see ChooseU8x16).

inline __mmask16 Finite(__m512 v) {
  return _knot_mask16(_mm512_fpclass_ps_mask(v, 0x99));  // QNaN | SNaN | +Inf | −Inf
}

// Whether a range vector pair met ±Inf: some lane of lo is −Inf or of hi is +Inf.
inline bool MetInfinity(__m512 lo, __m512 hi) {
  return (_mm512_cmp_ps_mask(lo, _mm512_set1_ps(-INFINITY), _CMP_EQ_OQ) |
          _mm512_cmp_ps_mask(hi, _mm512_set1_ps(INFINITY), _CMP_EQ_OQ)) != 0;
}

// One vector into a running (lo, hi): kTest leaves non-finite values out lane by lane (the
// slow pass, after one met ±Inf); otherwise the plain minimum and maximum, v first.
template <bool kTest>
inline void RangeStep(__m512 v, __m512& l, __m512& h) {
  if constexpr (kTest) {
    const __mmask16 f = Finite(v);
    l = _mm512_mask_min_ps(l, f, l, v);
    h = _mm512_mask_max_ps(h, f, h, v);
  } else {
    l = _mm512_min_ps(v, l);
    h = _mm512_max_ps(v, h);
  }
}

// Range of n values with four independent (lo, hi) chains; returns them folded into lanes.
template <bool kTest>
inline void RangeVectorsPass(const float* x, int64_t n, __m512* lo_out, __m512* hi_out) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 l0 = zero, l1 = zero, l2 = zero, l3 = zero, h0 = zero, h1 = zero, h2 = zero, h3 = zero;
  auto step = RangeStep<kTest>;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    step(_mm512_loadu_ps(x + i), l0, h0);
    step(_mm512_loadu_ps(x + i + 16), l1, h1);
    step(_mm512_loadu_ps(x + i + 32), l2, h2);
    step(_mm512_loadu_ps(x + i + 48), l3, h3);
  }
  // Masked-off lanes load as 0, which changes nothing.
  for (; i < n; i += 16) step(_mm512_maskz_loadu_ps(Lanes(Min64(16, n - i)), x + i), l0, h0);
  *lo_out = _mm512_min_ps(_mm512_min_ps(l0, l1), _mm512_min_ps(l2, l3));
  *hi_out = _mm512_max_ps(_mm512_max_ps(h0, h1), _mm512_max_ps(h2, h3));
}

inline void RangeVectors(const float* x, int64_t n, __m512* lo_out, __m512* hi_out) {
  RangeVectorsPass<false>(x, n, lo_out, hi_out);
  if (MetInfinity(*lo_out, *hi_out)) RangeVectorsPass<true>(x, n, lo_out, hi_out);
}

// +0, never −0 (the canonical bounds of MinMaxRef).
inline float CanonLo(float v) { return v < 0.0f ? v : 0.0f; }
inline float CanonHi(float v) { return v > 0.0f ? v : 0.0f; }

void MinMaxAvx512(const float* x, int64_t n, float* lo, float* hi) {
  __m512 l, h;
  RangeVectors(x, n, &l, &h);
  const float a = _mm512_reduce_min_ps(l), b = _mm512_reduce_max_ps(h);
  *lo = CanonLo(*lo < a ? *lo : a);
  *hi = CanonHi(*hi > b ? *hi : b);
}

void MinMaxVecAvx512(const float* x, int64_t n, float* lo, float* hi) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = Lanes(Min64(16, n - i));
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __mmask16 f = _kand_mask16(m, Finite(v));
    _mm512_mask_storeu_ps(lo + i, f, _mm512_min_ps(_mm512_maskz_loadu_ps(f, lo + i), v));
    _mm512_mask_storeu_ps(hi + i, f, _mm512_max_ps(_mm512_maskz_loadu_ps(f, hi + i), v));
  }
}

// ---- §8 per row

// Per-row minima of 16 vectors (row j's 16 partial minima in v[j]) as one vector, row j in
// lane j: a butterfly of 128-bit-lane and in-lane shuffles, 15 minima in all. Op is min or
// max. After the four levels lane 4q + e holds row q + 4e; the final permute puts row r in
// lane r.
template <bool kMin>
inline __m512 Fold16(const __m512* v) {
  auto op = [](__m512 a, __m512 b) { return kMin ? _mm512_min_ps(a, b) : _mm512_max_ps(a, b); };
  __m512 p1[8], p2[4], p3[2];
  for (int i = 0; i < 8; i++) {  // lanes 0–7: row 2i, 8–15: row 2i + 1
    const __m512 a = v[2 * i], b = v[2 * i + 1];
    p1[i] = op(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
  }
  for (int i = 0; i < 4; i++) {  // 128-bit lane q: row 4i + q
    const __m512 c = p1[2 * i], d = p1[2 * i + 1];
    p2[i] = op(_mm512_shuffle_f32x4(c, d, 0x88), _mm512_shuffle_f32x4(c, d, 0xDD));
  }
  for (int i = 0; i < 2; i++) {  // lane q: elements 0–1 row 8i + q, 2–3 row 8i + 4 + q
    const __m512 e = p2[2 * i], f = p2[2 * i + 1];
    p3[i] = op(_mm512_shuffle_ps(e, f, 0x44), _mm512_shuffle_ps(e, f, 0xEE));
  }
  const __m512 g = op(_mm512_shuffle_ps(p3[0], p3[1], 0x88), _mm512_shuffle_ps(p3[0], p3[1], 0xDD));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), g);
}

// §4 asymmetric uint8 parameters of 16 rows from their ranges, with the IEEE operations of
// ChooseAsymmetricU8 (quantize.cc) per lane: lo ≤ 0 ≤ hi are finite, never NaN (so fmin(lo, 0)
// = lo, fmax(hi, 0) = hi); scale = fl32((hi − lo) / 255), 1 when not finite and > 0;
// zp = rne(clamp(fl32(−lo / scale), 0, 255)), with −lo formed as 0 − lo (exact). A bound
// may be −0 here (a min of 0 and −0) where MinMax gives +0: hi − lo, 0 − lo and the zero
// point come out the same.
inline void ChooseU8x16(__m512 lo, __m512 hi, float* scales, int32_t* zps) {
  __m512 scale = _mm512_div_ps(_mm512_sub_ps(hi, lo), _mm512_set1_ps(255.0f));
  const __mmask16 ok = _kand_mask16(_mm512_cmp_ps_mask(scale, _mm512_setzero_ps(), _CMP_GT_OQ),
                                    _mm512_cmp_ps_mask(scale, _mm512_set1_ps(INFINITY), _CMP_LT_OQ));
  scale = _mm512_mask_blend_ps(ok, _mm512_set1_ps(1.0f), scale);
  __m512 z = _mm512_div_ps(_mm512_sub_ps(_mm512_setzero_ps(), lo), scale);
  z = _mm512_min_ps(_mm512_max_ps(z, _mm512_setzero_ps()), _mm512_set1_ps(255.0f));
  _mm512_storeu_ps(scales, scale);
  _mm512_storeu_si512(zps, _mm512_cvt_roundps_epi32(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// The §4 parameters of a group of up to 16 rows, row j in lane j: scales, zero points (as
// integers and as floats), reciprocals (one division for the group) and which rows may use
// them (ReciprocalUsable per lane).
struct RowGroup {
  __m512 scv, zpv, rv;
  __m512i zpi;
  __mmask16 recip;
  // Rows whose codes QuantizeRowBounded may compute: a finite range (no ±Inf met, hi − lo
  // finite, so the scale is its own and not the fallback 1) and a usable reciprocal.
  __mmask16 bounded;
};

// The group's parameters from its folded ranges; the first nb go to scales and zps.
inline RowGroup ChooseGroup(__m512 lo16, __m512 hi16, int nb, float* scales, int32_t* zps) {
  alignas(64) float sc[16];
  alignas(64) int32_t zp[16];
  ChooseU8x16(lo16, hi16, sc, zp);
  RowGroup g;
  g.scv = _mm512_load_ps(sc);
  g.zpi = _mm512_load_si512(zp);
  _mm512_mask_storeu_ps(scales, Lanes(nb), g.scv);
  _mm512_mask_storeu_epi32(zps, Lanes(nb), g.zpi);
  g.zpv = _mm512_cvtepi32_ps(g.zpi);
  g.rv = _mm512_div_ps(_mm512_set1_ps(1.0f), g.scv);
  g.recip = _kand_mask16(_mm512_cmp_ps_mask(g.scv, _mm512_set1_ps(0x1p-126f), _CMP_GE_OQ),
                         _mm512_cmp_ps_mask(g.scv, _mm512_set1_ps(0x1p126f), _CMP_LE_OQ));
  const __mmask16 finite = _mm512_cmp_ps_mask(_mm512_sub_ps(hi16, lo16), _mm512_set1_ps(INFINITY), _CMP_LT_OQ);
  // A row of zeros (lo = hi = 0) takes scale 1 and zero point 0: its codes are 0 either way.
  g.bounded = _kand_mask16(finite, g.recip);
  return g;
}

// Row j's parameters broadcast from its lane for QuantizeSpan / Quantize16: those MakeParams
// gives for (scale, zp, 0, 255), without the scalar division and reductions of a row-by-row
// setup (at K = 96 they cost as much as the row's quantization).
inline Params16 LaneParams(const RowGroup& g, int j) {
  const __m512i lane = _mm512_set1_epi32(j);
  Params16 p;
  p.s = _mm512_permutexvar_ps(lane, g.scv);
  p.zp = _mm512_permutexvar_epi32(lane, g.zpi);
  p.zpf = _mm512_permutexvar_ps(lane, g.zpv);
  p.lo = _mm512_sub_ps(_mm512_setzero_ps(), p.zpf);  // qmin − zp (exact: small integers)
  p.hi = _mm512_sub_ps(_mm512_set1_ps(255.0f), p.zpf);
  p.recip = ((g.recip >> j) & 1) != 0;
  p.r = p.recip ? _mm512_permutexvar_ps(lane, g.rv) : _mm512_set1_ps(1.0f);
  p.qmin = _mm512_setzero_ps();
  p.qmax = _mm512_set1_ps(255.0f);
  return p;
}

// The ranges of nb ≤ 16 rows of nv vectors each (the last under mask `last`), row j's in lane
// j of *lo16 / *hi16; kTest as in RangeStep.
template <bool kTest>
inline void ShortRowRanges(const float* x, int64_t ldx, int nb, int nv, __mmask16 last, __m512* lo16, __m512* hi16) {
  const __m512 zero = _mm512_setzero_ps();
  __m512 lo[16], hi[16];
  for (int j = 0; j < 16; j++) {
    __m512 l = zero, h = zero;
    if (j < nb) {
      const float* row = x + j * ldx;
      for (int v = 0; v < nv; v++)
        RangeStep<kTest>(_mm512_maskz_loadu_ps(v + 1 < nv ? 0xFFFF : last, row + 16 * v), l, h);
    }
    lo[j] = l;
    hi[j] = h;
  }
  *lo16 = Fold16<true>(lo);
  *hi16 = Fold16<false>(hi);
}

// The ranges of nb ≤ 16 rows of k values each, row j's in lane j of *lo16 / *hi16 (each row
// in four chains, RangeVectorsPass); kTest as in RangeStep.
template <bool kTest>
inline void LongRowRanges(const float* x, int64_t ldx, int64_t k, int nb, __m512* lo16, __m512* hi16) {
  __m512 lo[16], hi[16];
  for (int j = 0; j < 16; j++) {
    lo[j] = hi[j] = _mm512_setzero_ps();
    if (j < nb) RangeVectorsPass<kTest>(x + j * ldx, k, &lo[j], &hi[j]);
  }
  *lo16 = Fold16<true>(lo);
  *hi16 = Fold16<false>(hi);
}

// Rows of at most 64 values (im2col rows of small convolutions, narrow layers), 16 rows at a
// time: each row's range in registers (its vectors loaded once with a masked tail), the 16
// ranges folded into two vectors, the 16 rows' parameters in one vector pass, then the rows
// quantized from L1.
void DynamicShortRows(const float* x, int64_t rows, int64_t k, int64_t ldx, uint8_t* out, float* scales, int32_t* zps) {
  const int nv = static_cast<int>((k + 15) / 16);
  const __mmask16 last = Lanes(k - 16 * (nv - 1));
  const __m512 zero = _mm512_setzero_ps();
  const __m512 qmin = zero, qmax = _mm512_set1_ps(255.0f);
  // Rows stored without gaps (ldx = k): value i of a group of 16 rows belongs to row i / k,
  // computed as (i · ⌈2^16 / k⌉) >> 16, exact for i < 16·k ≤ 2^16 / k (k ≤ 64): the
  // multiplier exceeds 2^16 / k by less than 1, so the product exceeds i · 2^16 / k by less
  // than i < 2^16 / k, too little to reach the next multiple of 2^16 (a table of the rows
  // filled per call cost more than the quantization for the GEMM's blocks of a few rows).
  const bool dense = ldx == k;
  const __m512i row_mul = _mm512_set1_epi32(static_cast<int32_t>((65536 + k - 1) / k));
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int64_t r0 = 0; r0 < rows; r0 += 16) {
    const int nb = static_cast<int>(Min64(16, rows - r0));
    // The rows' ranges as RangeVectors takes them: plain minima and maxima, and the test for
    // non-finite lanes only when one of the 16 rows met ±Inf.
    __m512 lo16, hi16;
    ShortRowRanges<false>(x + r0 * ldx, ldx, nb, nv, last, &lo16, &hi16);
    const bool met_inf = MetInfinity(lo16, hi16);
    if (met_inf) ShortRowRanges<true>(x + r0 * ldx, ldx, nb, nv, last, &lo16, &hi16);
    const RowGroup grp = ChooseGroup(lo16, hi16, nb, scales + r0, zps + r0);
    if (k == 64 && !met_inf && _kand_mask16(grp.bounded, Lanes(nb)) == Lanes(nb)) {
      // Rows of one 64-value block each (the 1 × 1 convolutions of 64 channels): each row's
      // bytes in one packed store (QuantizeRowBounded), no row index per lane.
      for (int j = 0; j < nb; j++) QuantizeRowBounded(x + (r0 + j) * ldx, 64, LaneParams(grp, j), out + (r0 + j) * k);
      continue;
    }
    if (dense && grp.recip == Lanes(nb)) {
      // The group's rows side by side in x and in out: quantized as one span of nb·k values,
      // every lane used, each lane's parameters taken from its row's lane.
      const float* xs = x + r0 * k;
      uint8_t* q = out + r0 * k;
      const int64_t n = nb * k;
      for (int64_t i = 0; i < n; i += 16) {
        const __mmask16 m = Lanes(Min64(16, n - i));
        const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int32_t>(i)), iota);
        const __m512i row = _mm512_srli_epi32(_mm512_mullo_epi32(idx, row_mul), 16);
        const __m512 xv = _mm512_maskz_loadu_ps(m, xs + i);
        const __m512 zpf = _mm512_permutexvar_ps(row, grp.zpv);
        __mmask16 redo = 0;
        const __m512i qv = QuantizeRecip16(xv, _mm512_permutexvar_ps(row, grp.rv), zpf, qmin, qmax, &redo);
        if (redo == 0) {
          Store16(q + i, m, qv);
        } else {
          Store16(q + i, m,
                  QuantizeDiv16(xv, _mm512_permutexvar_ps(row, grp.scv), _mm512_sub_ps(qmin, zpf),
                                _mm512_sub_ps(qmax, zpf), _mm512_permutexvar_epi32(row, grp.zpi)));
        }
      }
      continue;
    }
    for (int j = 0; j < nb; j++) {
      const Params16 p = LaneParams(grp, j);
      for (int v = 0; v < nv; v++)
        Quantize16(x + (r0 + j) * ldx + 16 * v, v + 1 < nv ? 0xFFFF : last, p, out + (r0 + j) * k + 16 * v);
    }
  }
}

// Longer rows, 16 at a time (4 beyond K = 512, so that a group stays in L1 between its two
// sweeps): each row's range in four chains, the group's ranges folded into two vectors and
// its parameters chosen in one vector pass (as for short rows), then each row quantized.
void DynamicLongRows(const float* x, int64_t rows, int64_t k, int64_t ldx, uint8_t* out, float* scales, int32_t* zps) {
  const int64_t group = k <= 512 ? 16 : 4;
  for (int64_t r0 = 0; r0 < rows; r0 += group) {
    const int nb = static_cast<int>(Min64(group, rows - r0));
    __m512 lo16, hi16;
    LongRowRanges<false>(x + r0 * ldx, ldx, k, nb, &lo16, &hi16);
    const bool met_inf = MetInfinity(lo16, hi16);
    if (met_inf) LongRowRanges<true>(x + r0 * ldx, ldx, k, nb, &lo16, &hi16);
    const RowGroup grp = ChooseGroup(lo16, hi16, nb, scales + r0, zps + r0);
    for (int j = 0; j < nb; j++) {
      const float* row = x + (r0 + j) * ldx;
      if (!met_inf && ((grp.bounded >> j) & 1) != 0)
        QuantizeRowBounded(row, k, LaneParams(grp, j), out + (r0 + j) * k);
      else
        QuantizeSpan(row, k, LaneParams(grp, j), out + (r0 + j) * k);
    }
  }
}

void DynamicRowsU8Avx512(const float* x, int64_t rows, int64_t k, int64_t ldx, uint8_t* out, float* scales,
                         int32_t* zps) {
  if (k <= 0) {
    for (int64_t r = 0; r < rows; r++) {
      scales[r] = 1.0f;  // ChooseAsymmetricU8(0, 0)
      zps[r] = 0;
    }
    return;
  }
  if (k <= 64)
    DynamicShortRows(x, rows, k, ldx, out, scales, zps);
  else
    DynamicLongRows(x, rows, k, ldx, out, scales, zps);
}

}  // namespace

const Kernels& Avx512Kernels() {
  static const Kernels k = [] {
    Kernels t = Avx2Kernels();
    t.quantize_s8 = QuantizeAvx512<int8_t>;
    t.quantize_u8 = QuantizeAvx512<uint8_t>;
    t.minmax = MinMaxAvx512;
    t.minmax_vec = MinMaxVecAvx512;
    t.dynamic_rows_u8 = DynamicRowsU8Avx512;
    return t;
  }();
  return k;
}
#else
// SIMDe (the emulated GEMM harness) lacks several of the intrinsics above: the AVX2 kernels
// stand in, and these kernels are checked on AVX-512 hardware through the API tests.
const Kernels& Avx512Kernels() { return Avx2Kernels(); }
#endif

}  // namespace quant
}  // namespace tfjq
