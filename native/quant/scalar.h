// Internal: the scalar statement of docs/quantization.md, one element at a time. The ref
// kernels are loops over these; SIMD kernels use them for tails. Compiled with
// -ffp-contract=off, no fast-math, default rounding mode (round to nearest even).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tfjq {
namespace quant {
namespace scalar {

inline float Clamp(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// §2: v = fl32(x / scale); NaN -> zp; clamp to [qmin - zp, qmax - zp]; rne; + zp.
inline int32_t Quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  float v = x / scale;
  if (v != v) return zp;
  v = Clamp(v, static_cast<float>(qmin - zp), static_cast<float>(qmax - zp));
  return static_cast<int32_t>(std::nearbyintf(v)) + zp;
}

// §3: for 8-bit q the difference is exact in float; for int32 it is formed in 64 bits and
// rounded once (int64 -> float conversion rounds to nearest even).
inline float Dequantize(int64_t q, float scale, int32_t zp) {
  return static_cast<float>(q - static_cast<int64_t>(zp)) * scale;
}

// §7: y = fl32(fl32(acc) × mult); clamp to [lo - zo, hi - zo]; rne; + zo.
inline int32_t Requantize(int32_t acc, float mult, int32_t zo, int32_t lo, int32_t hi) {
  float y = static_cast<float>(acc) * mult;
  if (y != y) return zo;
  y = Clamp(y, static_cast<float>(lo - zo), static_cast<float>(hi - zo));
  return static_cast<int32_t>(std::nearbyintf(y)) + zo;
}

inline float FiniteOrZero(float x) { return std::fabs(x) < INFINITY ? x : 0.0f; }

inline uint32_t Bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}
inline float FromBits(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// §9 float32 -> float16, round to nearest even, by integer arithmetic only.
inline uint16_t FloatToHalf(float x) {
  const uint32_t f = Bits(x);
  const uint32_t sign = (f >> 16) & 0x8000u;
  const uint32_t a = f & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));  // NaN: quiet
  if (a >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65520 (incl. Inf) -> Inf
  if (a < 0x38800000u) {                                               // below 2^-14: subnormal half or zero
    if (a < 0x33000000u) return static_cast<uint16_t>(sign);           // < 2^-25 rounds to 0
    const uint32_t e = a >> 23;                                        // 102..112
    const uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
    const uint32_t shift = 126 - e;  // 14..24
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (r & 1))) r++;
    return static_cast<uint16_t>(sign | r);
  }
  const uint32_t b = a - 0x38000000u;  // rebias the exponent 127 -> 15
  uint32_t h = b >> 13;
  const uint32_t rem = b & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;  // a carry into the exponent is right
  return static_cast<uint16_t>(sign | h);
}

// §9 float16 -> float32, exact; a signaling NaN is quieted (as F16C / NEON do).
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
  if (e == 31) return FromBits(sign | 0x7F800000u | (m << 13) | (m ? 0x400000u : 0u));
  if (e == 0) {
    if (m == 0) return FromBits(sign);
    // m × 2^-24: normalize.
    uint32_t exp = 113, mm = m;  // biased exponent of 2^-14
    while (!(mm & 0x400u)) {
      mm <<= 1;
      exp--;
    }
    return FromBits(sign | (exp << 23) | ((mm & 0x3FFu) << 13));
  }
  return FromBits(sign | ((e + 112) << 23) | (m << 13));
}

}  // namespace scalar
}  // namespace quant
}  // namespace tfjq
