// AVX2 + F16C span kernels (also used on AVX-VNNI and AVX-512 VNNI machines). Every result
// equals the reference kernels bit for bit: true IEEE division and multiplication (no FMA,
// no reciprocal), rounding with _MM_FROUND_TO_NEAREST_INT (ties to even), tails in scalar.h.
#include "common/simd_x86.h"

#include <algorithm>
#include <type_traits>

#include "quant/kernels.h"
#include "quant/scalar.h"

namespace tfjq {
namespace quant {
namespace {

inline __m256 ZeroNaN(__m256 v) { return _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q)); }

inline __m256i RoundToInt(__m256 v) {
  return _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Packs four vectors of 8 int32 (already inside the output range) into 32 bytes, in order.
template <typename Out>
inline void Store32(Out* out, __m256i r0, __m256i r1, __m256i r2, __m256i r3) {
  const __m256i p01 = _mm256_packs_epi32(r0, r1);
  const __m256i p23 = _mm256_packs_epi32(r2, r3);
  __m256i b = std::is_same<Out, int8_t>::value ? _mm256_packs_epi16(p01, p23) : _mm256_packus_epi16(p01, p23);
  b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), b);
}

// Loads 8 values of In widened to int32.
template <typename In>
inline __m256i Load8(const In* p);
template <>
inline __m256i Load8<int8_t>(const int8_t* p) {
  return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
template <>
inline __m256i Load8<uint8_t>(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}
template <>
inline __m256i Load8<int32_t>(const int32_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

template <typename Out>
void QuantizeAvx2(const float* x, int64_t n, const float* s, const int32_t* z, bool vec, int32_t qmin, int32_t qmax,
                  Out* out) {
  int64_t i = 0;
  if (!vec) {
    const __m256 vs = _mm256_set1_ps(s[0]);
    const __m256i vz = _mm256_set1_epi32(z[0]);
    const __m256 lo = _mm256_set1_ps(static_cast<float>(qmin - z[0]));
    const __m256 hi = _mm256_set1_ps(static_cast<float>(qmax - z[0]));
    for (; i + 32 <= n; i += 32) {
      __m256i r[4];
      for (int j = 0; j < 4; j++) {
        __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i + 8 * j), vs);
        v = _mm256_min_ps(_mm256_max_ps(ZeroNaN(v), lo), hi);
        r[j] = _mm256_add_epi32(RoundToInt(v), vz);
      }
      Store32(out + i, r[0], r[1], r[2], r[3]);
    }
    // 8 at a time, then the last < 8 through zero-padded copies: short rows (the per-row
    // dynamic quantization of a K = 27 convolution) no longer pay the scalar division per value.
    auto eight = [&](const float* src, Out* dst) {
      __m256 v = _mm256_div_ps(_mm256_loadu_ps(src), vs);
      v = _mm256_min_ps(_mm256_max_ps(ZeroNaN(v), lo), hi);
      const __m256i q = _mm256_add_epi32(RoundToInt(v), vz);
      const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(dst),
                       std::is_same<Out, int8_t>::value ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w));
    };
    for (; i + 8 <= n; i += 8) eight(x + i, out + i);
    if (i < n) {
      // Masked load (lanes past n read as 0, nothing past n is touched), then the rem bytes.
      alignas(32) float tx[8];
      alignas(16) Out tq[16];
      const int64_t rem = n - i;
      _mm256_store_ps(tx, _mm256_maskload_ps(x + i, simd::FirstLanes8(rem)));
      eight(tx, tq);
      for (int64_t j = 0; j < rem; j++) out[i + j] = tq[j];
      i = n;
    }
  } else {
    const __m256i vqmin = _mm256_set1_epi32(qmin), vqmax = _mm256_set1_epi32(qmax);
    for (; i + 32 <= n; i += 32) {
      __m256i r[4];
      for (int j = 0; j < 4; j++) {
        const __m256i vz = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(z + i + 8 * j));
        const __m256 lo = _mm256_cvtepi32_ps(_mm256_sub_epi32(vqmin, vz));
        const __m256 hi = _mm256_cvtepi32_ps(_mm256_sub_epi32(vqmax, vz));
        __m256 v = _mm256_div_ps(_mm256_loadu_ps(x + i + 8 * j), _mm256_loadu_ps(s + i + 8 * j));
        v = _mm256_min_ps(_mm256_max_ps(ZeroNaN(v), lo), hi);
        r[j] = _mm256_add_epi32(RoundToInt(v), vz);
      }
      Store32(out + i, r[0], r[1], r[2], r[3]);
    }
  }
  for (; i < n; i++) {
    const int64_t p = vec ? i : 0;
    out[i] = static_cast<Out>(scalar::Quantize(x[i], s[p], z[p], qmin, qmax));
  }
}

// (q - zp) as 8 exact floats. For int32 the difference is formed in double (exact: 33 bits)
// and rounded once to float, like the int64 -> float conversion of the reference.
template <typename In>
inline __m256 Centered(const In* q, __m256i vz) {
  return _mm256_cvtepi32_ps(_mm256_sub_epi32(Load8<In>(q), vz));
}
template <>
inline __m256 Centered<int32_t>(const int32_t* q, __m256i vz) {
  const __m256i v = Load8<int32_t>(q);
  const __m256d lo =
      _mm256_sub_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(v)), _mm256_cvtepi32_pd(_mm256_castsi256_si128(vz)));
  const __m256d hi = _mm256_sub_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(v, 1)),
                                   _mm256_cvtepi32_pd(_mm256_extracti128_si256(vz, 1)));
  return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

template <typename In>
void DequantizeAvx2(const In* q, int64_t n, const float* s, const int32_t* z, bool vec, float* out) {
  int64_t i = 0;
  if (!vec) {
    const __m256 vs = _mm256_set1_ps(s[0]);
    const __m256i vz = _mm256_set1_epi32(z[0]);
    for (; i + 16 <= n; i += 16) {
      _mm256_storeu_ps(out + i, _mm256_mul_ps(Centered<In>(q + i, vz), vs));
      _mm256_storeu_ps(out + i + 8, _mm256_mul_ps(Centered<In>(q + i + 8, vz), vs));
    }
  } else {
    for (; i + 8 <= n; i += 8) {
      const __m256i vz = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(z + i));
      _mm256_storeu_ps(out + i, _mm256_mul_ps(Centered<In>(q + i, vz), _mm256_loadu_ps(s + i)));
    }
  }
  for (; i < n; i++) {
    const int64_t p = vec ? i : 0;
    out[i] = scalar::Dequantize(q[i], s[p], z[p]);
  }
}

template <typename In, typename Out>
void RequantizeAvx2(const In* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo, int32_t lo,
                    int32_t hi, Out* out) {
  int64_t i = 0;
  const __m256i vzo = _mm256_set1_epi32(zo);
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(lo - zo));
  const __m256 vhi = _mm256_set1_ps(static_cast<float>(hi - zo));
  const __m256 vm0 = _mm256_set1_ps(m[0]);
  const __m256i vzi0 = _mm256_set1_epi32(zi ? zi[0] : 0);
  for (; i + 32 <= n; i += 32) {
    __m256i r[4];
    for (int j = 0; j < 4; j++) {
      const int64_t k = i + 8 * j;
      __m256i acc = Load8<In>(a + k);
      if (zi) acc = _mm256_sub_epi32(acc, vec ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(zi + k)) : vzi0);
      __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), vec ? _mm256_loadu_ps(m + k) : vm0);
      y = _mm256_min_ps(_mm256_max_ps(ZeroNaN(y), vlo), vhi);
      r[j] = _mm256_add_epi32(RoundToInt(y), vzo);
    }
    Store32(out + i, r[0], r[1], r[2], r[3]);
  }
  for (; i < n; i++) {
    const int64_t p = vec ? i : 0;
    const int32_t acc = zi ? static_cast<int32_t>(a[i]) - zi[p] : static_cast<int32_t>(a[i]);
    out[i] = static_cast<Out>(scalar::Requantize(acc, m[p], zo, lo, hi));
  }
}

inline __m256 FiniteOrZero(__m256 v, __m256 abs_mask, __m256 inf) {
  return _mm256_and_ps(v, _mm256_cmp_ps(_mm256_and_ps(v, abs_mask), inf, _CMP_LT_OQ));
}

inline float HMin(__m256 v) {
  __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_min_ps(m, _mm_movehl_ps(m, m));
  m = _mm_min_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
inline float HMax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

void MinMaxAvx2(const float* x, int64_t n, float* lo, float* hi) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 inf = _mm256_set1_ps(INFINITY);
  __m256 l0 = _mm256_setzero_ps(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 v0 = FiniteOrZero(_mm256_loadu_ps(x + i), abs_mask, inf);
    const __m256 v1 = FiniteOrZero(_mm256_loadu_ps(x + i + 8), abs_mask, inf);
    const __m256 v2 = FiniteOrZero(_mm256_loadu_ps(x + i + 16), abs_mask, inf);
    const __m256 v3 = FiniteOrZero(_mm256_loadu_ps(x + i + 24), abs_mask, inf);
    l0 = _mm256_min_ps(l0, v0);
    h0 = _mm256_max_ps(h0, v0);
    l1 = _mm256_min_ps(l1, v1);
    h1 = _mm256_max_ps(h1, v1);
    l2 = _mm256_min_ps(l2, v2);
    h2 = _mm256_max_ps(h2, v2);
    l3 = _mm256_min_ps(l3, v3);
    h3 = _mm256_max_ps(h3, v3);
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 v = FiniteOrZero(_mm256_loadu_ps(x + i), abs_mask, inf);
    l0 = _mm256_min_ps(l0, v);
    h0 = _mm256_max_ps(h0, v);
  }
  if (i < n) {
    // Masked lanes read as 0, which changes nothing: the bounds start at 0 and are widened
    // to include it.
    const __m256 v = FiniteOrZero(_mm256_maskload_ps(x + i, simd::FirstLanes8(n - i)), abs_mask, inf);
    l1 = _mm256_min_ps(l1, v);
    h1 = _mm256_max_ps(h1, v);
    i = n;
  }
  float l = std::min(*lo, HMin(_mm256_min_ps(_mm256_min_ps(l0, l1), _mm256_min_ps(l2, l3))));
  float h = std::max(*hi, HMax(_mm256_max_ps(_mm256_max_ps(h0, h1), _mm256_max_ps(h2, h3))));
  for (; i < n; i++) {
    const float v = scalar::FiniteOrZero(x[i]);
    l = std::min(l, v);
    h = std::max(h, v);
  }
  *lo = l < 0.0f ? l : 0.0f;
  *hi = h > 0.0f ? h : 0.0f;
}

void MinMaxVecAvx2(const float* x, int64_t n, float* lo, float* hi) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  const __m256 inf = _mm256_set1_ps(INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = FiniteOrZero(_mm256_loadu_ps(x + i), abs_mask, inf);
    _mm256_storeu_ps(lo + i, _mm256_min_ps(_mm256_loadu_ps(lo + i), v));
    _mm256_storeu_ps(hi + i, _mm256_max_ps(_mm256_loadu_ps(hi + i), v));
  }
  for (; i < n; i++) {
    const float v = scalar::FiniteOrZero(x[i]);
    lo[i] = std::min(lo[i], v);
    hi[i] = std::max(hi[i], v);
  }
}

void F32ToF16Avx2(const float* x, int64_t n, uint16_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i a = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m128i b = _mm256_cvtps_ph(_mm256_loadu_ps(x + i + 8), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_set_m128i(b, a));
  }
  for (; i < n; i++) out[i] = scalar::FloatToHalf(x[i]);
}

void F16ToF32Avx2(const uint16_t* h, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(h + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm256_castsi256_si128(v)));
    _mm256_storeu_ps(out + i + 8, _mm256_cvtph_ps(_mm256_extracti128_si256(v, 1)));
  }
  for (; i < n; i++) out[i] = scalar::HalfToFloat(h[i]);
}

// §8 per row, 8 rows at a time. For short rows (the im2col matrix of a K = 27 convolution)
// the per-row parameter choice dominated: two dependent scalar divisions and three libm
// calls (fmin, fmax, nearbyintf) per row. Here the ranges of 8 rows are gathered and their
// parameters computed in one vector pass, with the same IEEE operations per lane as
// ChooseAsymmetricU8 (quantize.cc): MinMaxAvx2 returns lo ≤ 0 ≤ hi, finite, never −0 or
// NaN, so fmin(lo, 0) = lo and fmax(hi, 0) = hi; scale = fl32((hi − lo) / 255), 1 when not
// finite and > 0; zp = rne(clamp(fl32(−lo / scale), 0, 255)) (z is never NaN: lo is finite
// and scale in (0, ∞); a −0 z gives zero point 0 either way).
void DynamicRowsU8Avx2(const float* x, int64_t rows, int64_t k, int64_t ldx, uint8_t* out, float* scales,
                       int32_t* zps) {
  const __m256 zero = _mm256_setzero_ps(), inf = _mm256_set1_ps(INFINITY);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  for (int64_t r0 = 0; r0 < rows; r0 += 8) {
    const int nb = static_cast<int>(std::min<int64_t>(8, rows - r0));
    alignas(32) float lo[8] = {0}, hi[8] = {0}, sc[8];
    alignas(32) int32_t zp[8];
    for (int j = 0; j < nb; j++) MinMaxAvx2(x + (r0 + j) * ldx, k, &lo[j], &hi[j]);
    const __m256 vlo = _mm256_load_ps(lo), vhi = _mm256_load_ps(hi);
    __m256 scale = _mm256_div_ps(_mm256_sub_ps(vhi, vlo), _mm256_set1_ps(255.0f));
    const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(scale, zero, _CMP_GT_OQ),
                                    _mm256_cmp_ps(_mm256_and_ps(scale, abs_mask), inf, _CMP_LT_OQ));
    scale = _mm256_blendv_ps(_mm256_set1_ps(1.0f), scale, ok);
    __m256 z = _mm256_div_ps(_mm256_xor_ps(vlo, _mm256_set1_ps(-0.0f)), scale);
    z = _mm256_min_ps(_mm256_max_ps(z, zero), _mm256_set1_ps(255.0f));
    _mm256_store_ps(sc, scale);
    _mm256_store_si256(reinterpret_cast<__m256i*>(zp), RoundToInt(z));
    for (int j = 0; j < nb; j++) {
      scales[r0 + j] = sc[j];
      zps[r0 + j] = zp[j];
      QuantizeAvx2<uint8_t>(x + (r0 + j) * ldx, k, &sc[j], &zp[j], false, 0, 255, out + (r0 + j) * k);
    }
  }
}

}  // namespace

const Kernels& Avx2Kernels() {
  static const Kernels k = {
      QuantizeAvx2<int8_t>,
      QuantizeAvx2<uint8_t>,
      DequantizeAvx2<int8_t>,
      DequantizeAvx2<uint8_t>,
      DequantizeAvx2<int32_t>,
      RequantizeAvx2<int32_t, int8_t>,
      RequantizeAvx2<int32_t, uint8_t>,
      RequantizeAvx2<int8_t, int8_t>,
      RequantizeAvx2<int8_t, uint8_t>,
      RequantizeAvx2<uint8_t, int8_t>,
      RequantizeAvx2<uint8_t, uint8_t>,
      MinMaxAvx2,
      MinMaxVecAvx2,
      F32ToF16Avx2,
      F16ToF32Avx2,
      DynamicRowsU8Avx2,
  };
  return k;
}

}  // namespace quant
}  // namespace tfjq
