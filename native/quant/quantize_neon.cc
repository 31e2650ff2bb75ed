// arm64 Advanced SIMD span kernels (compiled on arm64 only). Bit-exact with the reference:
// IEEE vdivq/vmulq (no FMA), FCVTNS (round to nearest, ties to even) for rounding, FCVTN /
// FCVTL for float16 (FPCR default: round to nearest even, NaN payload kept and quieted).
#include <arm_neon.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "quant/kernels.h"
#include "quant/scalar.h"

namespace tfjq {
namespace quant {
namespace {

inline float32x4_t ZeroNaN(float32x4_t v) {
  return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), vceqq_f32(v, v)));
}

// Narrows 16 int32 (inside the output range) to 16 bytes and stores them.
template <typename Out>
inline void Store16(Out* out, int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  const int16x8_t lo = vcombine_s16(vqmovn_s32(a), vqmovn_s32(b));
  const int16x8_t hi = vcombine_s16(vqmovn_s32(c), vqmovn_s32(d));
  if (std::is_same<Out, int8_t>::value) {
    vst1q_s8(reinterpret_cast<int8_t*>(out), vcombine_s8(vqmovn_s16(lo), vqmovn_s16(hi)));
  } else {
    vst1q_u8(reinterpret_cast<uint8_t*>(out), vcombine_u8(vqmovun_s16(lo), vqmovun_s16(hi)));
  }
}

// 16 values of In widened to int32 (four vectors).
template <typename In>
inline void Load16(const In* p, int32x4_t r[4]);
template <>
inline void Load16<int8_t>(const int8_t* p, int32x4_t r[4]) {
  const int8x16_t v = vld1q_s8(p);
  const int16x8_t l = vmovl_s8(vget_low_s8(v)), h = vmovl_s8(vget_high_s8(v));
  r[0] = vmovl_s16(vget_low_s16(l));
  r[1] = vmovl_s16(vget_high_s16(l));
  r[2] = vmovl_s16(vget_low_s16(h));
  r[3] = vmovl_s16(vget_high_s16(h));
}
template <>
inline void Load16<uint8_t>(const uint8_t* p, int32x4_t r[4]) {
  const uint8x16_t v = vld1q_u8(p);
  const int16x8_t l = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
  const int16x8_t h = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(v)));
  r[0] = vmovl_s16(vget_low_s16(l));
  r[1] = vmovl_s16(vget_high_s16(l));
  r[2] = vmovl_s16(vget_low_s16(h));
  r[3] = vmovl_s16(vget_high_s16(h));
}
template <>
inline void Load16<int32_t>(const int32_t* p, int32x4_t r[4]) {
  for (int j = 0; j < 4; j++) r[j] = vld1q_s32(p + 4 * j);
}

template <typename Out>
void QuantizeNeon(const float* x, int64_t n, const float* s, const int32_t* z, bool vec, int32_t qmin, int32_t qmax,
                  Out* out) {
  int64_t i = 0;
  const int32x4_t vqmin = vdupq_n_s32(qmin), vqmax = vdupq_n_s32(qmax);
  for (; i + 16 <= n; i += 16) {
    int32x4_t r[4];
    for (int j = 0; j < 4; j++) {
      const int64_t k = i + 4 * j;
      const int32x4_t vz = vec ? vld1q_s32(z + k) : vdupq_n_s32(z[0]);
      const float32x4_t vs = vec ? vld1q_f32(s + k) : vdupq_n_f32(s[0]);
      const float32x4_t lo = vcvtq_f32_s32(vsubq_s32(vqmin, vz)), hi = vcvtq_f32_s32(vsubq_s32(vqmax, vz));
      float32x4_t v = ZeroNaN(vdivq_f32(vld1q_f32(x + k), vs));
      v = vminq_f32(vmaxq_f32(v, lo), hi);
      r[j] = vaddq_s32(vcvtnq_s32_f32(v), vz);
    }
    Store16(out + i, r[0], r[1], r[2], r[3]);
  }
  for (; i < n; i++) {
    const int64_t p = vec ? i : 0;
    out[i] = static_cast<Out>(scalar::Quantize(x[i], s[p], z[p], qmin, qmax));
  }
}

// (q - zp) as exact floats; int32 goes through int64 -> double (exact) -> float (one rounding).
template <typename In>
inline void Centered(const In* q, const int32x4_t vz[4], float32x4_t out[4]) {
  int32x4_t r[4];
  Load16<In>(q, r);
  for (int j = 0; j < 4; j++) out[j] = vcvtq_f32_s32(vsubq_s32(r[j], vz[j]));
}
template <>
inline void Centered<int32_t>(const int32_t* q, const int32x4_t vz[4], float32x4_t out[4]) {
  int32x4_t r[4];
  Load16<int32_t>(q, r);
  for (int j = 0; j < 4; j++) {
    const int64x2_t lo = vsubl_s32(vget_low_s32(r[j]), vget_low_s32(vz[j]));
    const int64x2_t hi = vsubl_high_s32(r[j], vz[j]);
    out[j] = vcombine_f32(vcvt_f32_f64(vcvtq_f64_s64(lo)), vcvt_f32_f64(vcvtq_f64_s64(hi)));
  }
}

template <typename In>
void DequantizeNeon(const In* q, int64_t n, const float* s, const int32_t* z, bool vec, float* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    int32x4_t vz[4];
    float32x4_t c[4];
    for (int j = 0; j < 4; j++) vz[j] = vec ? vld1q_s32(z + i + 4 * j) : vdupq_n_s32(z[0]);
    Centered<In>(q + i, vz, c);
    for (int j = 0; j < 4; j++) {
      vst1q_f32(out + i + 4 * j, vmulq_f32(c[j], vec ? vld1q_f32(s + i + 4 * j) : vdupq_n_f32(s[0])));
    }
  }
  for (; i < n; i++) {
    const int64_t p = vec ? i : 0;
    out[i] = scalar::Dequantize(q[i], s[p], z[p]);
  }
}

template <typename In, typename Out>
void RequantizeNeon(const In* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo, int32_t lo,
                    int32_t hi, Out* out) {
  int64_t i = 0;
  const int32x4_t vzo = vdupq_n_s32(zo);
  const float32x4_t vlo = vdupq_n_f32(static_cast<float>(lo - zo)), vhi = vdupq_n_f32(static_cast<float>(hi - zo));
  for (; i + 16 <= n; i += 16) {
    int32x4_t acc[4], r[4];
    Load16<In>(a + i, acc);
    for (int j = 0; j < 4; j++) {
      const int64_t k = i + 4 * j;
      if (zi) acc[j] = vsubq_s32(acc[j], vec ? vld1q_s32(zi + k) : vdupq_n_s32(zi[0]));
      float32x4_t y = vmulq_f32(vcvtq_f32_s32(acc[j]), vec ? vld1q_f32(m + k) : vdupq_n_f32(m[0]));
      y = vminq_f32(vmaxq_f32(ZeroNaN(y), vlo), vhi);
      r[j] = vaddq_s32(vcvtnq_s32_f32(y), vzo);
    }
    Store16(out + i, r[0], r[1], r[2], r[3]);
  }
  for (; i < n; i++) {
    const int64_t p = vec ? i : 0;
    const int32_t acc = zi ? static_cast<int32_t>(a[i]) - zi[p] : static_cast<int32_t>(a[i]);
    out[i] = static_cast<Out>(scalar::Requantize(acc, m[p], zo, lo, hi));
  }
}

inline float32x4_t FiniteOrZero(float32x4_t v, float32x4_t inf) {
  return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), vcltq_f32(vabsq_f32(v), inf)));
}

void MinMaxNeon(const float* x, int64_t n, float* lo, float* hi) {
  const float32x4_t inf = vdupq_n_f32(INFINITY);
  float32x4_t l0 = vdupq_n_f32(0.0f), l1 = l0, h0 = l0, h1 = l0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t a = FiniteOrZero(vld1q_f32(x + i), inf), b = FiniteOrZero(vld1q_f32(x + i + 4), inf);
    l0 = vminq_f32(l0, a);
    h0 = vmaxq_f32(h0, a);
    l1 = vminq_f32(l1, b);
    h1 = vmaxq_f32(h1, b);
  }
  float l = std::min(*lo, vminvq_f32(vminq_f32(l0, l1)));
  float h = std::max(*hi, vmaxvq_f32(vmaxq_f32(h0, h1)));
  for (; i < n; i++) {
    const float v = scalar::FiniteOrZero(x[i]);
    l = std::min(l, v);
    h = std::max(h, v);
  }
  *lo = l < 0.0f ? l : 0.0f;
  *hi = h > 0.0f ? h : 0.0f;
}

void MinMaxVecNeon(const float* x, int64_t n, float* lo, float* hi) {
  const float32x4_t inf = vdupq_n_f32(INFINITY);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = FiniteOrZero(vld1q_f32(x + i), inf);
    vst1q_f32(lo + i, vminq_f32(vld1q_f32(lo + i), v));
    vst1q_f32(hi + i, vmaxq_f32(vld1q_f32(hi + i), v));
  }
  for (; i < n; i++) {
    const float v = scalar::FiniteOrZero(x[i]);
    lo[i] = std::min(lo[i], v);
    hi[i] = std::max(hi[i], v);
  }
}

void F32ToF16Neon(const float* x, int64_t n, uint16_t* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float16x4_t a = vcvt_f16_f32(vld1q_f32(x + i)), b = vcvt_f16_f32(vld1q_f32(x + i + 4));
    vst1q_u16(out + i, vcombine_u16(vreinterpret_u16_f16(a), vreinterpret_u16_f16(b)));
  }
  for (; i < n; i++) out[i] = scalar::FloatToHalf(x[i]);
}

void F16ToF32Neon(const uint16_t* h, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint16x8_t v = vld1q_u16(h + i);
    vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(v))));
    vst1q_f32(out + i + 4, vcvt_f32_f16(vreinterpret_f16_u16(vget_high_u16(v))));
  }
  for (; i < n; i++) out[i] = scalar::HalfToFloat(h[i]);
}

}  // namespace

const Kernels& NeonKernels() {
  static const Kernels k = {
      QuantizeNeon<int8_t>,
      QuantizeNeon<uint8_t>,
      DequantizeNeon<int8_t>,
      DequantizeNeon<uint8_t>,
      DequantizeNeon<int32_t>,
      RequantizeNeon<int32_t, int8_t>,
      RequantizeNeon<int32_t, uint8_t>,
      RequantizeNeon<int8_t, int8_t>,
      RequantizeNeon<int8_t, uint8_t>,
      RequantizeNeon<uint8_t, int8_t>,
      RequantizeNeon<uint8_t, uint8_t>,
      MinMaxNeon,
      MinMaxVecNeon,
      F32ToF16Neon,
      F16ToF32Neon,
      nullptr,
  };
  return k;
}

}  // namespace quant
}  // namespace tfjq
