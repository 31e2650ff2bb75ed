// AVX2 depthwise convolution kernels (compiled with -mavx2 -mfma -mf16c -mbmi2; used on AVX2
// and AVX-VNNI machines; AVX-512 VNNI has depthwise_avx512vnni.cc and depthwise_f32_avx512vnni.cc).
// - int8 / uint8 (this file): 16 channels at a time (a partial last block on zero-padded weights), two
//   taps interleaved, widened to 16 bits, VPMADDWD (|(x − zx)·w| ≤ 255·128: a pair of
//   products never leaves int32), int32 wrap-around adds, then §7 with CVTDQ2PS / MULPS /
//   MAXPS / MINPS / CVTPS2DQ (round to nearest even): equal to the reference kernel bit for bit.
// - float32 (depthwise_f32_avx2.cc): FMA chains in the scalar kernel's tap order.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common/thread_pool.h"
#include "ops/avx2_common.h"
#include "ops/internal.h"

// Called once per pixel and block from the hot loops with vector arguments: GCC would keep
// them out of line (a call per pixel, the vectors through memory).
#define TFJQ_INLINE __attribute__((always_inline))

namespace tfjq {
namespace ops {
namespace detail {

namespace {

// Weights of the full window, interleaved per tap pair for VPMADDWD: for 16-channel block b and
// pair t (taps 2t, 2t + 1; an odd last tap is paired with zero weights), two vectors: the
// unpacklo / unpackhi of the two taps' 16-bit weights. bias_eff[c] = bias[c] − zx·Σ_taps w[c]
// (mod 2³²) so interior pixels need no zero-point subtraction:
// Σ (x − zx)·w + bias ≡ Σ x·w + bias_eff (mod 2³²).
// Channels are padded with zero weights to whole 16-channel blocks (cp of them): the last,
// partial block runs the same vector code as the others, its extra lanes multiply whatever
// input bytes follow by 0 and are never stored.
struct DwPacked final : PreparedDepthwise {
  std::vector<__m256i> w;      // [block][pair][2]
  std::vector<int8_t> filter;  // [tap][cp], zero-padded (the per-pixel border path reads it)
  std::vector<int32_t> bias_eff;
  std::vector<int32_t> bias;  // [cp], 0 where the step has none or past C
  std::vector<int64_t> off;   // element offset of each tap (2·pairs entries) from the window origin
  int64_t pairs = 0, cp = 0;
  // 3×3, stride-1-along-x sliding window (SlideRow3x3): per 16-channel block, for kx = 0..2,
  // (w[0][kx], w[1][kx]) interleaved (lo, hi) then (w[2][kx], 0) interleaved (lo, hi).
  std::vector<__m256i> w3;  // [block][kx][4]
  // The same for a partial last block of at most 8 channels, in SlideRow3x3Pairs' form: both
  // 128-bit lanes hold that block's 8 weights (one lane per output pixel of a pair).
  std::vector<__m256i> w3h;    // [kx][4]
  int64_t in_w = 0, in_c = 0;  // the geometry it was packed for (offsets depend on in_w)
};

// The sliding-window path applies to 3×3 kernels, stride 1 along x, no dilation.
inline bool Slides3x3(const ConvGeom& g) {
  return g.k_h == 3 && g.k_w == 3 && g.stride_w == 1 && g.dilation_h == 1 && g.dilation_w == 1 && g.in_c > 0;
}

// Copies n < 16 bytes in fixed-size moves: a variable-length memcpy is a call, and a call
// on any path of the hot loops makes GCC keep their vectors in memory.
template <typename T>
inline void CopySmall(T* d, const T* s, int64_t n) {
  static_assert(sizeof(T) == 1, "8-bit elements");
  if (n & 8) {
    std::memcpy(d, s, 8);
    d += 8;
    s += 8;
  }
  if (n & 4) {
    std::memcpy(d, s, 4);
    d += 4;
    s += 4;
  }
  if (n & 2) {
    std::memcpy(d, s, 2);
    d += 2;
    s += 2;
  }
  if (n & 1) *d = *s;
}

// 16 channels of input at p, widened. kTail: the block holds the last C % 16 channels; its
// extra lanes meet zero weights, so any bytes do, but the 16-byte load must not run past `end`
// (the end of the input allocation): there the valid bytes go through a zeroed staging copy.
template <bool kSigned, bool kTail, typename T>
inline __m256i LoadX(const T* p, const T* end) {
  if (kTail && end - p < 16) {
    alignas(16) T staged[16] = {};
    CopySmall(staged, p, end - p);
    return Load16x16<kSigned>(staged);
  }
  return Load16x16<kSigned>(p);
}

// 8 channels at p (column ix) and 8 at p + C (column ix + 1), widened: [col ix | col ix + 1]
// as two 128-bit lanes of 8 int16. Near the end of the input allocation (`end`) the bytes
// that exist go through a zeroed staging copy.
template <bool kSigned, typename T>
inline __m256i LoadPair8(const T* p, int64_t C, const T* end) {
  const int64_t left = end - p;  // ≥ 1: p is a channel of the input
  __m128i v;
  if (left - C >= 8) {
    v = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                           _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + C)));
  } else {
    alignas(16) T staged[16] = {};
    CopySmall(staged, p, std::min<int64_t>(8, left));
    const int64_t second = std::min<int64_t>(8, left - C);
    if (second > 0) CopySmall(staged + 8, p + C, second);
    v = _mm_load_si128(reinterpret_cast<const __m128i*>(staged));
  }
  return kSigned ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

// Whether the partial last block holds 1..8 channels (SlideRow3x3Pairs takes it).
inline bool HalfTail(int64_t C) { return C % 16 != 0 && C % 16 <= 8; }

// One kx column of 3×3 weights (rows ky = 0..2, widened) in SlideRow3x3's form: (w0, w1)
// interleaved (lo, hi), then (w2, 0) interleaved (lo, hi).
inline void Interleave3(__m256i w0, __m256i w1, __m256i w2, __m256i* d) {
  const __m256i z = _mm256_setzero_si256();
  d[0] = _mm256_unpacklo_epi16(w0, w1);
  d[1] = _mm256_unpackhi_epi16(w0, w1);
  d[2] = _mm256_unpacklo_epi16(w2, z);
  d[3] = _mm256_unpackhi_epi16(w2, z);
}

template <typename T>
DwPacked PackDepthwise(const ConvGeom& g, const DepthwiseQ& p) {
  DwPacked k;
  const int64_t C = g.in_c, taps = int64_t(g.k_h) * g.k_w;
  const int64_t blocks = (C + 15) / 16, Cp = blocks * 16;
  k.cp = Cp;
  k.pairs = (taps + 1) / 2;
  k.filter.assign(static_cast<size_t>(taps * Cp), 0);
  for (int64_t t = 0; t < taps; t++)
    std::memcpy(&k.filter[static_cast<size_t>(t * Cp)], p.filter + t * C, static_cast<size_t>(C));
  const int8_t* f = k.filter.data();
  k.w.resize(static_cast<size_t>(blocks * k.pairs * 2));
  std::vector<int8_t> zero(16, 0);
  for (int64_t b = 0; b < blocks; b++) {
    for (int64_t t = 0; t < k.pairs; t++) {
      const int8_t* wa = f + (2 * t) * Cp + b * 16;
      const int8_t* wb = 2 * t + 1 < taps ? f + (2 * t + 1) * Cp + b * 16 : zero.data();
      const __m256i va = Load16x16<true>(wa), vb = Load16x16<true>(wb);
      k.w[(b * k.pairs + t) * 2] = _mm256_unpacklo_epi16(va, vb);
      k.w[(b * k.pairs + t) * 2 + 1] = _mm256_unpackhi_epi16(va, vb);
    }
  }
  if (Slides3x3(g)) {
    k.w3.resize(static_cast<size_t>(blocks * 12));
    for (int64_t b = 0; b < blocks; b++) {
      for (int64_t kx = 0; kx < 3; kx++) {
        const __m256i w0 = Load16x16<true>(f + (0 * 3 + kx) * Cp + b * 16);
        const __m256i w1 = Load16x16<true>(f + (1 * 3 + kx) * Cp + b * 16);
        const __m256i w2 = Load16x16<true>(f + (2 * 3 + kx) * Cp + b * 16);
        Interleave3(w0, w1, w2, &k.w3[static_cast<size_t>((b * 3 + kx) * 4)]);
      }
    }
    if (HalfTail(C)) {
      k.w3h.resize(12);
      const int64_t c = C / 16 * 16;
      auto both = [&](int64_t tap) {  // the block's 8 weights of one tap in both lanes
        const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(f + tap * Cp + c));
        return _mm256_cvtepi8_epi16(_mm_unpacklo_epi64(v, v));
      };
      for (int64_t kx = 0; kx < 3; kx++) {
        const __m256i w0 = both(0 * 3 + kx), w1 = both(1 * 3 + kx), w2 = both(2 * 3 + kx);
        Interleave3(w0, w1, w2, &k.w3h[static_cast<size_t>(kx * 4)]);
      }
    }
  }
  k.in_w = g.in_w;
  k.in_c = g.in_c;
  k.bias.assign(static_cast<size_t>(Cp), 0);
  k.bias_eff.assign(static_cast<size_t>(Cp), 0);
  for (int64_t c = 0; c < C; c++) {
    uint32_t sw = 0;
    for (int64_t t = 0; t < taps; t++) sw += static_cast<uint32_t>(int32_t(p.filter[t * C + c]));
    k.bias[c] = p.bias ? p.bias[c] : 0;
    k.bias_eff[c] = static_cast<int32_t>(static_cast<uint32_t>(k.bias[c]) - static_cast<uint32_t>(p.x_zero_point) * sw);
  }
  k.off.resize(static_cast<size_t>(k.pairs * 2));
  for (int64_t t = 0; t < k.pairs * 2; t++) {
    const int64_t tt = t < taps ? t : t - 1;  // phantom tap: any valid pixel (its weights are 0)
    const int64_t ky = tt / g.k_w, kx = tt % g.k_w;
    k.off[t] = (ky * g.dilation_h * int64_t(g.in_w) + kx * g.dilation_w) * C;
  }
  return k;
}

// One 3×3 window from its three columns kx = 0..2, each as (x0, x1) pairs (a·l, a·h) and
// (x2, 0) pairs (b·l, b·h), against w[4·kx .. 4·kx + 3] (the w3 / w3h layout): lo, hi.
TFJQ_INLINE inline void Taps3x3(const __m256i* w, __m256i a0l, __m256i a0h, __m256i b0l, __m256i b0h, __m256i a1l,
                                __m256i a1h, __m256i b1l, __m256i b1h, __m256i a2l, __m256i a2h, __m256i b2l,
                                __m256i b2h, __m256i& lo, __m256i& hi) {
  lo = _mm256_add_epi32(_mm256_madd_epi16(a0l, w[0]), _mm256_madd_epi16(b0l, w[2]));
  hi = _mm256_add_epi32(_mm256_madd_epi16(a0h, w[1]), _mm256_madd_epi16(b0h, w[3]));
  lo = _mm256_add_epi32(lo, _mm256_add_epi32(_mm256_madd_epi16(a1l, w[4]), _mm256_madd_epi16(b1l, w[6])));
  hi = _mm256_add_epi32(hi, _mm256_add_epi32(_mm256_madd_epi16(a1h, w[5]), _mm256_madd_epi16(b1h, w[7])));
  lo = _mm256_add_epi32(lo, _mm256_add_epi32(_mm256_madd_epi16(a2l, w[8]), _mm256_madd_epi16(b2l, w[10])));
  hi = _mm256_add_epi32(hi, _mm256_add_epi32(_mm256_madd_epi16(a2h, w[9]), _mm256_madd_epi16(b2h, w[11])));
}

// Output pixels [ox0, ox1) of one row whose 3×3 windows lie inside the input (rows x0, x1, x2
// at the window's first column ox0 − pad_left), 3×3 stride 1 along x: each input column is
// widened and interleaved once — (x0, x1) pairs and (x2, 0) pairs — and then feeds the three
// output pixels whose windows contain it, instead of being re-widened for each of them.
// Channel blocks [c0, c1) outside, pixels inside. Σ x·w + bias_eff in int32 (wrap-around adds:
// any order gives the same sum), then the same finish as the other paths: bit-identical.
template <bool kSigned, bool kTail, typename T, typename Store>
TFJQ_INLINE inline void SlideRow3x3(const DwPacked& pk, const T* x0, const T* x1, const T* x2, const T* x_end,
                                    int64_t C, int64_t c0, int64_t c1, int64_t n_px, T* yp, Store store) {
  const __m256i z = _mm256_setzero_si256();
  for (int64_t c = c0; c < c1; c += 16) {
    const __m256i* w = &pk.w3[static_cast<size_t>((c / 16) * 12)];
    auto column = [&](int64_t ix, __m256i& a_lo, __m256i& a_hi, __m256i& b_lo, __m256i& b_hi) {
      const __m256i v0 = LoadX<kSigned, kTail>(x0 + ix * C + c, x_end);
      const __m256i v1 = LoadX<kSigned, kTail>(x1 + ix * C + c, x_end);
      const __m256i v2 = LoadX<kSigned, kTail>(x2 + ix * C + c, x_end);
      a_lo = _mm256_unpacklo_epi16(v0, v1);
      a_hi = _mm256_unpackhi_epi16(v0, v1);
      b_lo = _mm256_unpacklo_epi16(v2, z);
      b_hi = _mm256_unpackhi_epi16(v2, z);
    };
    __m256i a0l, a0h, b0l, b0h, a1l, a1h, b1l, b1h, a2l, a2h, b2l, b2h;
    column(0, a0l, a0h, b0l, b0h);
    column(1, a1l, a1h, b1l, b1h);
    for (int64_t i = 0; i < n_px; i++) {
      column(i + 2, a2l, a2h, b2l, b2h);
      __m256i lo, hi;
      Taps3x3(w, a0l, a0h, b0l, b0h, a1l, a1h, b1l, b1h, a2l, a2h, b2l, b2h, lo, hi);
      store(std::integral_constant<bool, kTail>{}, yp + i * C, c, lo, hi, pk.bias_eff.data());
      a0l = a1l;
      a0h = a1h;
      b0l = b1l;
      b0h = b1h;
      a1l = a2l;
      a1h = a2h;
      b1l = b2l;
      b1h = b2h;
    }
  }
}

// SlideRow3x3 for a partial last block of at most 8 channels (at c): instead of one pixel in
// a half-empty 16-lane block, two output pixels per vector — lane 0 pixel i, lane 1 pixel
// i + 1 — against pk.w3h. E(i) = [col i | col i + 1] is loaded for even i; the odd
// O(i + 1) = [col i + 1 | col i + 2] is the lane swap of E(i) and E(i + 2) (the interleaving
// stays inside lanes). store_pair(pixel i's output, whether pixel i + 1 is in the row, lo, hi).
template <bool kSigned, typename T, typename StorePair>
inline void SlideRow3x3Pairs(const DwPacked& pk, const T* x0, const T* x1, const T* x2, const T* x_end, int64_t C,
                             int64_t c, int64_t n_px, T* yp, StorePair store_pair) {
  const __m256i z = _mm256_setzero_si256();
  const __m256i* w = pk.w3h.data();
  auto column_pair = [&](int64_t ix, __m256i& a_lo, __m256i& a_hi, __m256i& b_lo, __m256i& b_hi) {
    const __m256i v0 = LoadPair8<kSigned>(x0 + ix * C + c, C, x_end);
    const __m256i v1 = LoadPair8<kSigned>(x1 + ix * C + c, C, x_end);
    const __m256i v2 = LoadPair8<kSigned>(x2 + ix * C + c, C, x_end);
    a_lo = _mm256_unpacklo_epi16(v0, v1);
    a_hi = _mm256_unpackhi_epi16(v0, v1);
    b_lo = _mm256_unpacklo_epi16(v2, z);
    b_hi = _mm256_unpackhi_epi16(v2, z);
  };
  __m256i e0l, e0h, f0l, f0h, e2l, e2h, f2l, f2h;
  column_pair(0, e0l, e0h, f0l, f0h);
  for (int64_t i = 0; i < n_px; i += 2) {
    column_pair(i + 2, e2l, e2h, f2l, f2h);
    const __m256i o1l = _mm256_permute2x128_si256(e0l, e2l, 0x21), o1h = _mm256_permute2x128_si256(e0h, e2h, 0x21);
    const __m256i g1l = _mm256_permute2x128_si256(f0l, f2l, 0x21), g1h = _mm256_permute2x128_si256(f0h, f2h, 0x21);
    __m256i lo, hi;
    Taps3x3(w, e0l, e0h, f0l, f0h, o1l, o1h, g1l, g1h, e2l, e2h, f2l, f2h, lo, hi);
    store_pair(yp + i * C, i + 1 < n_px, lo, hi);
    e0l = e2l;
    e0h = e2h;
    f0l = f2l;
    f0h = f2h;
  }
}

// mult: the multipliers padded with zeros to pk.cp; small: every one ≤ 0.5.
template <bool kSigned, typename T>
void DepthwiseRows(const ConvGeom& g, const T* x, const DepthwiseQ& p, const DwPacked& pk, const float* mult,
                   bool small, T* y, int64_t rb, int64_t re) {
  const int64_t C = g.in_c, Cp = pk.cp;
  const int64_t C16 = C / 16 * 16;  // whole blocks; [C16, Cp) is the partial one, if any
  const T* x_end = x + int64_t(g.batch) * g.in_h * g.in_w * C;
  const int64_t max_taps = int64_t(g.k_h) * g.k_w;
  std::vector<const T*> xs(static_cast<size_t>(max_taps + 1));
  std::vector<const int8_t*> ws(static_cast<size_t>(max_taps + 1));
  std::vector<int8_t> zero_w(static_cast<size_t>(Cp), 0);
  const __m256i vzx = _mm256_set1_epi16(static_cast<int16_t>(p.x_zero_point));
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(p.y_min - p.y_zero_point));
  const __m256 vhi = _mm256_set1_ps(static_cast<float>(p.y_max - p.y_zero_point));
  const __m256i vzo = _mm256_set1_epi32(p.y_zero_point);
  const int64_t ekh = int64_t(g.k_h - 1) * g.dilation_h, ekw = int64_t(g.k_w - 1) * g.dilation_w;

  // With every multiplier ≤ 0.5, rne(fl32(acc)·m) converts to int32 without overflow, so the
  // clamp can follow the conversion, on bytes (it commutes with rounding for integer bounds;
  // every saturation on the way lies beyond it) — the same bytes as Finish8 with fewer instructions.
  const __m256i zo16 = _mm256_set1_epi16(static_cast<int16_t>(p.y_zero_point));
  const __m128i qmin8 = _mm_set1_epi8(static_cast<char>(p.y_min)), qmax8 = _mm_set1_epi8(static_cast<char>(p.y_max));
  // 16 accumulators with their 16 biases and multipliers (bias16, mult16) → 16 bytes at dst.
  // The finish and store lambdas capture by value and are passed by value: every output
  // store is through an 8-bit pointer, which may alias anything, so values reached through
  // references would be reloaded from memory after each one.
  auto finish16 = [=](T* dst, const int32_t* bias16, const float* mult16, __m256i acc_lo, __m256i acc_hi) TFJQ_INLINE {
    // acc_lo = lanes [0..3 | 8..11], acc_hi = [4..7 | 12..15]
    __m256i a0 = _mm256_permute2x128_si256(acc_lo, acc_hi, 0x20);
    __m256i a1 = _mm256_permute2x128_si256(acc_lo, acc_hi, 0x31);
    a0 = _mm256_add_epi32(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias16)));
    a1 = _mm256_add_epi32(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias16 + 8)));
    const __m256 f0 = _mm256_mul_ps(_mm256_cvtepi32_ps(a0), _mm256_loadu_ps(mult16));
    const __m256 f1 = _mm256_mul_ps(_mm256_cvtepi32_ps(a1), _mm256_loadu_ps(mult16 + 8));
    if (small) {
      // packs: [0-3, 8-11 | 4-7, 12-15] as int16, + zo (saturating), → bytes, dwords back in order.
      const __m256i w = _mm256_adds_epi16(_mm256_packs_epi32(_mm256_cvtps_epi32(f0), _mm256_cvtps_epi32(f1)), zo16);
      const __m128i lo = _mm256_castsi256_si128(w), hi = _mm256_extracti128_si256(w, 1);
      __m128i b = _mm_shuffle_epi32(kSigned ? _mm_packs_epi16(lo, hi) : _mm_packus_epi16(lo, hi), 0xD8);
      b = kSigned ? _mm_min_epi8(_mm_max_epi8(b, qmin8), qmax8) : _mm_min_epu8(_mm_max_epu8(b, qmin8), qmax8);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), b);
      return;
    }
    Store8<kSigned>(dst, Finish8(f0, vlo, vhi, vzo));
    Store8<kSigned>(dst + 8, Finish8(f1, vlo, vhi, vzo));
  };
  // Block c of the pixel at yp: a whole block in place, the partial one (tail tag true)
  // through a staging copy (only its C − c valid channels are written).
  auto store = [=](auto tail, T* yp, int64_t c, __m256i acc_lo, __m256i acc_hi, const int32_t* bias) TFJQ_INLINE {
    if constexpr (!decltype(tail)::value) {
      finish16(yp + c, bias + c, mult + c, acc_lo, acc_hi);
    } else {
      alignas(16) T staged[16];
      finish16(staged, bias + c, mult + c, acc_lo, acc_hi);
      CopySmall(yp + c, staged, C - c);
    }
  };
  // SlideRow3x3Pairs' output: the half tail's biases and multipliers twice (one copy per pixel),
  // pixel i's C − C16 channels from lanes 0..7, pixel i + 1's from lanes 8..15.
  const bool pairs = !pk.w3h.empty();
  alignas(32) int32_t bias_pair[16] = {};
  alignas(32) float mult_pair[16] = {};
  if (pairs) {
    for (int64_t j = 0; j < 8; j++) {
      bias_pair[j] = bias_pair[j + 8] = pk.bias_eff[static_cast<size_t>(C16 + j)];
      mult_pair[j] = mult_pair[j + 8] = mult[C16 + j];
    }
  }
  auto store_pair = [=](T* yp, bool second, __m256i acc_lo, __m256i acc_hi) TFJQ_INLINE {
    alignas(16) T staged[16];
    finish16(staged, bias_pair, mult_pair, acc_lo, acc_hi);
    CopySmall(yp + C16, staged, C - C16);
    if (second) CopySmall(yp + C + C16, staged + 8, C - C16);
  };
  // Runs body(tail tag, c0, c1) over the whole blocks, then over the partial one.
  auto blocks = [&](const auto& body) {
    if (C16 > 0) body(std::false_type{}, int64_t{0}, C16);
    if (C16 < Cp) body(std::true_type{}, C16, Cp);
  };

  // Output columns whose whole window is inside the input along x (sliding path).
  const bool slide = !pk.w3.empty();
  const int64_t sx0 = std::min<int64_t>(g.out_w, std::max<int64_t>(0, g.pad_left));
  const int64_t sx1 = std::max<int64_t>(sx0, std::min<int64_t>(g.out_w, int64_t(g.in_w) - 2 + g.pad_left));
  for (int64_t r = rb; r < re; r++) {
    const int64_t n = r / g.out_h, oy = r % g.out_h;
    const int64_t iy0 = oy * g.stride_h - g.pad_top;
    const bool rows_in = iy0 >= 0 && iy0 + ekh < g.in_h;
    const bool slide_row = slide && rows_in && sx1 > sx0;
    if (slide_row) {
      const T* x0 = x + ((n * g.in_h + iy0) * g.in_w + (sx0 - g.pad_left)) * C;
      const T* x1 = x0 + int64_t(g.in_w) * C;
      const T* x2 = x1 + int64_t(g.in_w) * C;
      T* yp = y + (r * g.out_w + sx0) * C;
      blocks([&](auto tail, int64_t c0, int64_t c1) {
        if (decltype(tail)::value && pairs) {
          SlideRow3x3Pairs<kSigned>(pk, x0, x1, x2, x_end, C, c0, sx1 - sx0, yp, store_pair);
        } else {
          SlideRow3x3<kSigned, decltype(tail)::value>(pk, x0, x1, x2, x_end, C, c0, c1, sx1 - sx0, yp, store);
        }
      });
    }
    for (int64_t ox = 0; ox < g.out_w; ox++) {
      if (slide_row && ox == sx0) {
        ox = sx1 - 1;
        continue;
      }
      T* yp = y + (r * g.out_w + ox) * C;
      const int64_t ix0 = ox * g.stride_w - g.pad_left;
      const int64_t ix1 = ix0 + g.stride_w;
      if (rows_in && ix0 >= 0 && ix1 + ekw < g.in_w && ox + 1 < g.out_w) {
        // Two interior pixels at once: each weight pair is loaded once for both.
        const T* base0 = x + ((n * g.in_h + iy0) * g.in_w + ix0) * C;
        const T* base1 = base0 + int64_t(g.stride_w) * C;
        blocks([&](auto tail, int64_t c0, int64_t c1) {
          constexpr bool kTail = decltype(tail)::value;
          const __m256i* wp = pk.w.data() + (c0 / 16) * pk.pairs * 2;
          for (int64_t c = c0; c < c1; c += 16) {
            __m256i lo0 = _mm256_setzero_si256(), hi0 = lo0, lo1 = lo0, hi1 = lo0;
            for (int64_t t = 0; t < pk.pairs; t++, wp += 2) {
              const __m256i w0 = wp[0], w1 = wp[1];
              const int64_t oa = pk.off[2 * t] + c, ob = pk.off[2 * t + 1] + c;
              const __m256i xa0 = LoadX<kSigned, kTail>(base0 + oa, x_end),
                            xb0 = LoadX<kSigned, kTail>(base0 + ob, x_end);
              const __m256i xa1 = LoadX<kSigned, kTail>(base1 + oa, x_end),
                            xb1 = LoadX<kSigned, kTail>(base1 + ob, x_end);
              lo0 = _mm256_add_epi32(lo0, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa0, xb0), w0));
              hi0 = _mm256_add_epi32(hi0, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa0, xb0), w1));
              lo1 = _mm256_add_epi32(lo1, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa1, xb1), w0));
              hi1 = _mm256_add_epi32(hi1, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa1, xb1), w1));
            }
            store(tail, yp, c, lo0, hi0, pk.bias_eff.data());
            store(tail, yp + C, c, lo1, hi1, pk.bias_eff.data());
          }
        });
        ox++;
        continue;
      }
      if (rows_in && ix0 >= 0 && ix0 + ekw < g.in_w) {
        // Interior: the whole window is in bounds; packed weights, zero point folded into the bias.
        const T* base = x + ((n * g.in_h + iy0) * g.in_w + ix0) * C;
        blocks([&](auto tail, int64_t c0, int64_t c1) {
          constexpr bool kTail = decltype(tail)::value;
          const __m256i* wp = pk.w.data() + (c0 / 16) * pk.pairs * 2;
          for (int64_t c = c0; c < c1; c += 16) {
            __m256i acc_lo = _mm256_setzero_si256(), acc_hi = _mm256_setzero_si256();
            for (int64_t t = 0; t < pk.pairs; t++, wp += 2) {
              const __m256i xa = LoadX<kSigned, kTail>(base + pk.off[2 * t] + c, x_end);
              const __m256i xb = LoadX<kSigned, kTail>(base + pk.off[2 * t + 1] + c, x_end);
              acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), wp[0]));
              acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), wp[1]));
            }
            store(tail, yp, c, acc_lo, acc_hi, pk.bias_eff.data());
          }
        });
        continue;
      }
      // Border: the in-bounds taps only, zero point subtracted per tap.
      const int64_t taps = WindowTaps(g, n, oy, ox, x, C, pk.filter.data(), Cp, xs.data(), ws.data());
      if (taps & 1) {  // pair the last tap with a zero-weight one (any in-bounds pixel)
        xs[taps] = xs[taps - 1];
        ws[taps] = zero_w.data();
      }
      const int64_t pairs = (taps + 1) / 2;
      blocks([&](auto tail, int64_t c0, int64_t c1) {
        constexpr bool kTail = decltype(tail)::value;
        for (int64_t c = c0; c < c1; c += 16) {
          __m256i acc_lo = _mm256_setzero_si256(), acc_hi = _mm256_setzero_si256();
          for (int64_t t = 0; t < pairs; t++) {
            const __m256i xa = _mm256_sub_epi16(LoadX<kSigned, kTail>(xs[2 * t] + c, x_end), vzx);
            const __m256i xb = _mm256_sub_epi16(LoadX<kSigned, kTail>(xs[2 * t + 1] + c, x_end), vzx);
            const __m256i wa = Load16x16<true>(ws[2 * t] + c);
            const __m256i wb = Load16x16<true>(ws[2 * t + 1] + c);
            acc_lo = _mm256_add_epi32(acc_lo,
                                      _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), _mm256_unpacklo_epi16(wa, wb)));
            acc_hi = _mm256_add_epi32(acc_hi,
                                      _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), _mm256_unpackhi_epi16(wa, wb)));
          }
          store(tail, yp, c, acc_lo, acc_hi, pk.bias.data());
        }
      });
    }
  }
}

template <bool kSigned, typename T>
void DepthwiseAll(const ConvGeom& g, const T* x, const DepthwiseQ& p, T* y, int threads) {
  const auto* ready = dynamic_cast<const DwPacked*>(p.prepared.get());
  DwPacked local;
  if (ready == nullptr || ready->in_w != g.in_w || ready->in_c != g.in_c || ready->w3.empty() != !Slides3x3(g)) {
    local = PackDepthwise<T>(g, p);
    ready = &local;
  }
  const DwPacked& pk = *ready;
  // The multipliers are read per call (the packed form holds only what the filter and bias fix).
  std::vector<float> mult(static_cast<size_t>(pk.cp), 0.0f);
  std::copy(p.multipliers, p.multipliers + g.in_c, mult.begin());
  bool small = true;
  for (int64_t c = 0; c < g.in_c && small; c++) small = p.multipliers[c] <= 0.5f;
  const int64_t rows = int64_t(g.batch) * g.out_h;
  const int64_t work_per_row = std::max<int64_t>(1, int64_t(g.out_w) * g.in_c * g.k_h * g.k_w);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / work_per_row);
  ParallelFor(rows, grain, threads,
              [&](int64_t rb, int64_t re) { DepthwiseRows<kSigned, T>(g, x, p, pk, mult.data(), small, y, rb, re); });
}

}  // namespace

std::shared_ptr<const PreparedDepthwise> PrepareDepthwiseAvx2(const ConvGeom& g, const DepthwiseQ& p) {
  return std::make_shared<const DwPacked>(PackDepthwise<int8_t>(g, p));
}
void DepthwiseAvx2(const ConvGeom& g, const int8_t* x, const DepthwiseQ& p, int8_t* y, int threads) {
  DepthwiseAll<true, int8_t>(g, x, p, y, threads);
}
void DepthwiseAvx2(const ConvGeom& g, const uint8_t* x, const DepthwiseQ& p, uint8_t* y, int threads) {
  DepthwiseAll<false, uint8_t>(g, x, p, y, threads);
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq

#undef TFJQ_INLINE
