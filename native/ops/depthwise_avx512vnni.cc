// AVX-512 VNNI depthwise convolution, int8 / uint8, multiplier 1 (compiled with the avx512vnni
// flags; reached through the ops table in ops/kernels.cc).
//
// The AVX2 kernel widens inputs to 16 bits and multiplies two taps per VPMADDWD. Here VPDPBUSD
// multiplies four taps per 32-bit lane and accumulates in the same instruction: for each
// input column, the k_h window rows of 16 channels are byte-interleaved into four vectors
// whose lane c holds (row 0, row 1, row 2, row 3) of one channel, and an output pixel is
// Σ_kx VPDPBUSD(column(ix0 + kx·dw), w[kx]) — three VPDPBUSD per 16 channels for a 3×3 window,
// each column interleaved once and used by every output pixel whose window holds it.
//
// VPDPBUSD multiplies unsigned by signed bytes: int8 inputs are offset by +128 (u = x + 128)
// and uint8 inputs are taken as they are. With zu = zx + 128 (resp. zx) and every window tap
// present — taps outside the input read the padding byte zu, which is what the padded input
// holds — the §7 accumulator is unchanged (mod 2³²):
//   bias + Σ (x − zx)·w = bias + Σ (u − zu)·w = (bias − zu·Σw) + Σ u·w,
// so bias_eff = bias − zu·Σ_taps w is folded once at packing time and every pixel, border or
// not, runs the same loop. Rows past k_h (a 3×3 window fills 3 of 4 bytes) meet zero weights.
//
// Channel order: the byte/word interleave works within 128-bit lanes, so accumulator j
// (j = 0..3) holds channels 16g + 4j .. 16g + 4j + 3 of each 16-channel group g in its lane;
// weights, biases and multipliers are laid out in that order, and PACKSSDW / PACKSSWB of the
// four finished accumulators put the bytes back in channel order. Blocks are 64 channels
// (zmm), the last one 32 (ymm) or 16 (xmm) wide when that covers it; masked loads and stores
// take the channels past C (zero bytes, zero weights, nothing stored).
//
// The finish is §7 as in the AVX2 kernel, bit for bit: fl32(acc)·m, then either a float clamp
// to [lo − zo, hi − zo], CVTPS2DQ (round to nearest even) and + zo, or — when every multiplier
// is ≤ 0.5, so that the conversion cannot overflow — CVTPS2DQ, saturating packs, + zo and a
// byte clamp (the same bytes: the bounds are integers and every saturation lies beyond them).
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common/aligned_buffer.h"
#include "common/simd_x86.h"
#include "common/thread_pool.h"
#include "ops/internal.h"

namespace tfjq {
namespace ops {
namespace detail {

namespace {

// Byte vectors of W bytes (64: zmm, 32: ymm, 16: xmm) with the operations the kernel uses;
// the narrow ones are the AVX-512 VL forms (masked byte loads and stores, VPDPBUSD).
template <int W>
struct Vec;

template <>
struct Vec<64> {
  using I = __m512i;
  using F = __m512;
  using M = __mmask64;
  static M Mask(int64_t n) { return n >= 64 ? ~M(0) : _bzhi_u64(~0ULL, static_cast<unsigned>(n)); }
  static I LoadBytes(const void* p, M m) { return _mm512_maskz_loadu_epi8(m, p); }
  static void StoreBytes(void* p, M m, I v) { _mm512_mask_storeu_epi8(p, m, v); }
  static I Load(const void* p) { return _mm512_load_si512(p); }
  static I LoadU(const void* p) { return _mm512_loadu_si512(p); }
  static void Store(void* p, I v) { _mm512_store_si512(p, v); }
  static I Set1B(int v) { return _mm512_set1_epi8(static_cast<char>(v)); }
  static I Set1W(int v) { return _mm512_set1_epi16(static_cast<int16_t>(v)); }
  static I Set1D(int v) { return _mm512_set1_epi32(v); }
  static I Zero() { return _mm512_setzero_si512(); }
  static I Xor(I a, I b) { return _mm512_xor_si512(a, b); }
  static I Lo8(I a, I b) { return _mm512_unpacklo_epi8(a, b); }
  static I Hi8(I a, I b) { return _mm512_unpackhi_epi8(a, b); }
  static I Lo16(I a, I b) { return _mm512_unpacklo_epi16(a, b); }
  static I Hi16(I a, I b) { return _mm512_unpackhi_epi16(a, b); }
  static I Dot(I acc, I u, I w) { return _mm512_dpbusd_epi32(acc, u, w); }
  static F ToF(I a) { return _mm512_cvtepi32_ps(a); }
  static F LoadF(const float* p) { return _mm512_loadu_ps(p); }
  static F Set1F(float v) { return _mm512_set1_ps(v); }
  static F Mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F Clamp(F v, F lo, F hi) { return _mm512_min_ps(_mm512_max_ps(v, lo), hi); }
  static I ToI(F a) { return _mm512_cvtps_epi32(a); }
  static I AddD(I a, I b) { return _mm512_add_epi32(a, b); }
  static I PacksD(I a, I b) { return _mm512_packs_epi32(a, b); }
  static I AddsW(I a, I b) { return _mm512_adds_epi16(a, b); }
  template <bool kSigned>
  static I PackB(I a, I b) {
    return kSigned ? _mm512_packs_epi16(a, b) : _mm512_packus_epi16(a, b);
  }
  template <bool kSigned>
  static I ClampB(I v, I lo, I hi) {
    return kSigned ? _mm512_min_epi8(_mm512_max_epi8(v, lo), hi) : _mm512_min_epu8(_mm512_max_epu8(v, lo), hi);
  }
};

template <>
struct Vec<32> {
  using I = __m256i;
  using F = __m256;
  using M = __mmask32;
  static M Mask(int64_t n) { return n >= 32 ? ~M(0) : static_cast<M>(_bzhi_u32(~0U, static_cast<unsigned>(n))); }
  static I LoadBytes(const void* p, M m) { return _mm256_maskz_loadu_epi8(m, p); }
  static void StoreBytes(void* p, M m, I v) { _mm256_mask_storeu_epi8(p, m, v); }
  static I Load(const void* p) { return _mm256_load_si256(static_cast<const __m256i*>(p)); }
  static I LoadU(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static void Store(void* p, I v) { _mm256_store_si256(static_cast<__m256i*>(p), v); }
  static I Set1B(int v) { return _mm256_set1_epi8(static_cast<char>(v)); }
  static I Set1W(int v) { return _mm256_set1_epi16(static_cast<int16_t>(v)); }
  static I Set1D(int v) { return _mm256_set1_epi32(v); }
  static I Zero() { return _mm256_setzero_si256(); }
  static I Xor(I a, I b) { return _mm256_xor_si256(a, b); }
  static I Lo8(I a, I b) { return _mm256_unpacklo_epi8(a, b); }
  static I Hi8(I a, I b) { return _mm256_unpackhi_epi8(a, b); }
  static I Lo16(I a, I b) { return _mm256_unpacklo_epi16(a, b); }
  static I Hi16(I a, I b) { return _mm256_unpackhi_epi16(a, b); }
  static I Dot(I acc, I u, I w) { return _mm256_dpbusd_epi32(acc, u, w); }
  static F ToF(I a) { return _mm256_cvtepi32_ps(a); }
  static F LoadF(const float* p) { return _mm256_loadu_ps(p); }
  static F Set1F(float v) { return _mm256_set1_ps(v); }
  static F Mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F Clamp(F v, F lo, F hi) { return _mm256_min_ps(_mm256_max_ps(v, lo), hi); }
  static I ToI(F a) { return _mm256_cvtps_epi32(a); }
  static I AddD(I a, I b) { return _mm256_add_epi32(a, b); }
  static I PacksD(I a, I b) { return _mm256_packs_epi32(a, b); }
  static I AddsW(I a, I b) { return _mm256_adds_epi16(a, b); }
  template <bool kSigned>
  static I PackB(I a, I b) {
    return kSigned ? _mm256_packs_epi16(a, b) : _mm256_packus_epi16(a, b);
  }
  template <bool kSigned>
  static I ClampB(I v, I lo, I hi) {
    return kSigned ? _mm256_min_epi8(_mm256_max_epi8(v, lo), hi) : _mm256_min_epu8(_mm256_max_epu8(v, lo), hi);
  }
};

template <>
struct Vec<16> {
  using I = __m128i;
  using F = __m128;
  using M = __mmask16;
  static M Mask(int64_t n) { return simd::FirstLanes16(n); }
  static I LoadBytes(const void* p, M m) { return _mm_maskz_loadu_epi8(m, p); }
  static void StoreBytes(void* p, M m, I v) { _mm_mask_storeu_epi8(p, m, v); }
  static I Load(const void* p) { return _mm_load_si128(static_cast<const __m128i*>(p)); }
  static I LoadU(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
  static void Store(void* p, I v) { _mm_store_si128(static_cast<__m128i*>(p), v); }
  static I Set1B(int v) { return _mm_set1_epi8(static_cast<char>(v)); }
  static I Set1W(int v) { return _mm_set1_epi16(static_cast<int16_t>(v)); }
  static I Set1D(int v) { return _mm_set1_epi32(v); }
  static I Zero() { return _mm_setzero_si128(); }
  static I Xor(I a, I b) { return _mm_xor_si128(a, b); }
  static I Lo8(I a, I b) { return _mm_unpacklo_epi8(a, b); }
  static I Hi8(I a, I b) { return _mm_unpackhi_epi8(a, b); }
  static I Lo16(I a, I b) { return _mm_unpacklo_epi16(a, b); }
  static I Hi16(I a, I b) { return _mm_unpackhi_epi16(a, b); }
  static I Dot(I acc, I u, I w) { return _mm_dpbusd_epi32(acc, u, w); }
  static F ToF(I a) { return _mm_cvtepi32_ps(a); }
  static F LoadF(const float* p) { return _mm_loadu_ps(p); }
  static F Set1F(float v) { return _mm_set1_ps(v); }
  static F Mul(F a, F b) { return _mm_mul_ps(a, b); }
  static F Clamp(F v, F lo, F hi) { return _mm_min_ps(_mm_max_ps(v, lo), hi); }
  static I ToI(F a) { return _mm_cvtps_epi32(a); }
  static I AddD(I a, I b) { return _mm_add_epi32(a, b); }
  static I PacksD(I a, I b) { return _mm_packs_epi32(a, b); }
  static I AddsW(I a, I b) { return _mm_adds_epi16(a, b); }
  template <bool kSigned>
  static I PackB(I a, I b) {
    return kSigned ? _mm_packs_epi16(a, b) : _mm_packus_epi16(a, b);
  }
  template <bool kSigned>
  static I ClampB(I v, I lo, I hi) {
    return kSigned ? _mm_min_epi8(_mm_max_epi8(v, lo), hi) : _mm_min_epu8(_mm_max_epu8(v, lo), hi);
  }
};

// The packed weights of one filter for this kernel (any geometry with the same window and
// channel count). Groups of 16 channels are padded to a multiple of 4 (gp) so a 64-channel
// block starting at any group reads only packed bytes.
struct DwPackedVnni final : PreparedDepthwise {
  int64_t c = 0, kh = 0, kw = 0;
  int64_t rg = 0;  // groups of 4 window rows (one VPDPBUSD byte quadruple each)
  int64_t gp = 0;  // 16-channel groups, padded to a multiple of 4
  int32_t x_zero_point = 0;
  // w[((r·kw + kx)·4 + j)·gp·16 + g·16 + 4·q + b] = filter[ky = 4r + b][kx][c = 16g + 4j + q]
  // (0 where ky ≥ kh or c ≥ C): accumulator j's weights of 4 groups are one 64-byte load.
  AlignedBuffer w;
  // bias_eff in the accumulators' order, [j][g][q] → channel 16g + 4j + q: for uint8 inputs
  // (zu = zx) and for int8 inputs (zu = zx + 128).
  AlignedBuffer bias_u8, bias_s8;
};

// Where channel c sits in the [j][g][q] order.
inline int64_t Slot(int64_t c, int64_t gp) { return ((c % 16) / 4 * gp + c / 16) * 4 + c % 4; }

DwPackedVnni PackDepthwiseVnni(const ConvGeom& g, const DepthwiseQ& p) {
  DwPackedVnni k;
  const int64_t C = g.in_c;
  k.c = C;
  k.kh = g.k_h;
  k.kw = g.k_w;
  k.rg = (k.kh + 3) / 4;
  k.gp = ((C + 15) / 16 + 3) / 4 * 4;
  k.x_zero_point = p.x_zero_point;
  k.w.Reset(static_cast<size_t>(k.rg * k.kw * 4 * k.gp * 16));
  int8_t* w = k.w.as<int8_t>();
  for (int64_t r = 0; r < k.rg; r++)
    for (int64_t kx = 0; kx < k.kw; kx++)
      for (int64_t c = 0; c < C; c++)
        for (int64_t b = 0; b < 4 && 4 * r + b < k.kh; b++) {
          const int64_t ky = 4 * r + b, j = (c % 16) / 4, q = c % 4, grp = c / 16;
          w[((r * k.kw + kx) * 4 + j) * k.gp * 16 + grp * 16 + 4 * q + b] = p.filter[(ky * k.kw + kx) * C + c];
        }
  k.bias_u8.Reset(static_cast<size_t>(4 * k.gp * 4) * sizeof(int32_t));
  k.bias_s8.Reset(static_cast<size_t>(4 * k.gp * 4) * sizeof(int32_t));
  int32_t* bu = k.bias_u8.as<int32_t>();
  int32_t* bs = k.bias_s8.as<int32_t>();
  const uint32_t zx = static_cast<uint32_t>(p.x_zero_point);
  const int64_t taps = k.kh * k.kw;
  for (int64_t c = 0; c < C; c++) {
    uint32_t sw = 0;
    for (int64_t t = 0; t < taps; t++) sw += static_cast<uint32_t>(int32_t(p.filter[t * C + c]));
    const uint32_t bias = static_cast<uint32_t>(p.bias ? p.bias[c] : 0);
    bu[Slot(c, k.gp)] = static_cast<int32_t>(bias - zx * sw);
    bs[Slot(c, k.gp)] = static_cast<int32_t>(bias - (zx + 128u) * sw);
  }
  return k;
}

// Output pixels per column-building pass: the interleaved columns of one pass stay in L1.
constexpr int64_t kChunk = 16;

// Per-call state shared by the rows: the geometry, the packed weights, the multipliers in
// the [j][g][q] order and the finish constants.
template <typename T>
struct DwCall {
  const ConvGeom* g;
  const T* x;
  T* y;
  const DwPackedVnni* pk;
  const float* mult;  // [j][g][q], 0 past C
  bool small;
  int32_t y_zero_point, y_min, y_max;
  const T* pad_row;  // 64 bytes of zx: padding taps (zx, taken as zu after the int8 offset)
};

// One block of W bytes (channels [c0, c0 + W), the last ones masked) of output row r, pixels
// [oa, ob). kKw > 0: the window width fixed at compile time (the weights stay in registers).
template <int W, int kKw, bool kSigned, typename T>
void DwBlock(const DwCall<T>& s, int64_t r, int64_t c0, int64_t oa, int64_t ob, uint8_t* cols) {
  using V = Vec<W>;
  using I = typename V::I;
  const ConvGeom& g = *s.g;
  const DwPackedVnni& pk = *s.pk;
  const int64_t C = g.in_c, kw = kKw > 0 ? kKw : pk.kw, rg = pk.rg, gp = pk.gp, g0 = c0 / 16;
  const auto m = V::Mask(C - c0);
  const int64_t n = r / g.out_h, oy = r % g.out_h;
  const int64_t iy0 = oy * g.stride_h - g.pad_top;
  const int64_t sw = g.stride_w, dw = g.dilation_w;
  const int64_t ix_lo = oa * sw - g.pad_left, ix_hi = (ob - 1) * sw + (kw - 1) * dw - g.pad_left;
  const int64_t col_bytes = rg * 4 * W;  // one column: rg row groups × 4 vectors

  // Interleave the columns ix_lo..ix_hi: rows iy0 + ky·dh, 4 per group, 16 channels per lane.
  // Each window row reads either the input row (step C per column) or, above and below the
  // input and past k_h, the padding row (step 0): the column loop has no per-row branches.
  const I flip = V::Set1B(0x80);
  for (int64_t rr = 0; rr < rg; rr++) {
    const T* src[4];
    int64_t step[4];
    for (int64_t b = 0; b < 4; b++) {
      const int64_t ky = 4 * rr + b, iy = iy0 + ky * g.dilation_h;
      const bool in = ky < pk.kh && iy >= 0 && iy < g.in_h;
      src[b] = in ? s.x + (n * g.in_h + iy) * g.in_w * C + c0 : s.pad_row;
      step[b] = in ? C : 0;
    }
    const T* const pad[4] = {s.pad_row, s.pad_row, s.pad_row, s.pad_row};
    for (int64_t ix = ix_lo; ix <= ix_hi; ix++) {
      const bool x_in = ix >= 0 && ix < g.in_w;
      const T* const* rows = x_in ? src : pad;
      const int64_t at = x_in ? ix : 0;
      I r0 = V::LoadBytes(rows[0] + at * step[0], m), r1 = V::LoadBytes(rows[1] + at * step[1], m);
      I r2 = V::LoadBytes(rows[2] + at * step[2], m), r3 = V::LoadBytes(rows[3] + at * step[3], m);
      if constexpr (kSigned) {
        r0 = V::Xor(r0, flip);
        r1 = V::Xor(r1, flip);
        r2 = V::Xor(r2, flip);
        r3 = V::Xor(r3, flip);
      }
      const I t0 = V::Lo8(r0, r1), t1 = V::Hi8(r0, r1), t2 = V::Lo8(r2, r3), t3 = V::Hi8(r2, r3);
      uint8_t* col = cols + (ix - ix_lo) * col_bytes + rr * 4 * W;
      V::Store(col, V::Lo16(t0, t2));
      V::Store(col + W, V::Hi16(t0, t2));
      V::Store(col + 2 * W, V::Lo16(t1, t3));
      V::Store(col + 3 * W, V::Hi16(t1, t3));
    }
  }

  const int8_t* wbase = pk.w.as<int8_t>() + g0 * 16;
  const int64_t wstride = gp * 16;  // bytes between consecutive (r, kx, j) weight rows
  const int32_t* bias = (kSigned ? pk.bias_s8 : pk.bias_u8).template as<int32_t>() + g0 * 4;
  const float* mult = s.mult + g0 * 4;
  const int64_t jstride = gp * 4;  // values between accumulators j and j + 1 in bias / mult
  const I b0 = V::LoadU(bias), b1 = V::LoadU(bias + jstride), b2 = V::LoadU(bias + 2 * jstride),
          b3 = V::LoadU(bias + 3 * jstride);
  const typename V::F m0 = V::LoadF(mult), m1 = V::LoadF(mult + jstride), m2 = V::LoadF(mult + 2 * jstride),
                      m3 = V::LoadF(mult + 3 * jstride);
  const typename V::F flo = V::Set1F(static_cast<float>(s.y_min - s.y_zero_point));
  const typename V::F fhi = V::Set1F(static_cast<float>(s.y_max - s.y_zero_point));
  const I zo32 = V::Set1D(s.y_zero_point), zo16 = V::Set1W(s.y_zero_point);
  const I qmin = V::Set1B(s.y_min), qmax = V::Set1B(s.y_max);
  T* yrow = s.y + r * g.out_w * C + c0;

  auto finish = [&](I a0, I a1, I a2, I a3, T* dst) {
    const typename V::F f0 = V::Mul(V::ToF(a0), m0), f1 = V::Mul(V::ToF(a1), m1), f2 = V::Mul(V::ToF(a2), m2),
                        f3 = V::Mul(V::ToF(a3), m3);
    I out;
    if (s.small) {
      const I w01 = V::AddsW(V::PacksD(V::ToI(f0), V::ToI(f1)), zo16);
      const I w23 = V::AddsW(V::PacksD(V::ToI(f2), V::ToI(f3)), zo16);
      out = V::template ClampB<kSigned>(V::template PackB<kSigned>(w01, w23), qmin, qmax);
    } else {
      const I q0 = V::AddD(V::ToI(V::Clamp(f0, flo, fhi)), zo32), q1 = V::AddD(V::ToI(V::Clamp(f1, flo, fhi)), zo32);
      const I q2 = V::AddD(V::ToI(V::Clamp(f2, flo, fhi)), zo32), q3 = V::AddD(V::ToI(V::Clamp(f3, flo, fhi)), zo32);
      out = V::template PackB<kSigned>(V::PacksD(q0, q1), V::PacksD(q2, q3));
    }
    V::StoreBytes(dst, m, out);
  };

  if constexpr (kKw == 3) {
    // rg == 1 (k_h ≤ 4): the 12 weight vectors are loaded once for the row.
    const I w00 = V::LoadU(wbase + 0 * wstride), w01 = V::LoadU(wbase + 1 * wstride),
            w02 = V::LoadU(wbase + 2 * wstride), w03 = V::LoadU(wbase + 3 * wstride);
    const I w10 = V::LoadU(wbase + 4 * wstride), w11 = V::LoadU(wbase + 5 * wstride),
            w12 = V::LoadU(wbase + 6 * wstride), w13 = V::LoadU(wbase + 7 * wstride);
    const I w20 = V::LoadU(wbase + 8 * wstride), w21 = V::LoadU(wbase + 9 * wstride),
            w22 = V::LoadU(wbase + 10 * wstride), w23 = V::LoadU(wbase + 11 * wstride);
    for (int64_t ox = oa; ox < ob; ox++) {
      const uint8_t* c0p = cols + ((ox - oa) * sw) * col_bytes;
      const uint8_t* c1p = c0p + dw * col_bytes;
      const uint8_t* c2p = c1p + dw * col_bytes;
      I a0 = V::Dot(b0, V::Load(c0p), w00), a1 = V::Dot(b1, V::Load(c0p + W), w01);
      I a2 = V::Dot(b2, V::Load(c0p + 2 * W), w02), a3 = V::Dot(b3, V::Load(c0p + 3 * W), w03);
      a0 = V::Dot(a0, V::Load(c1p), w10);
      a1 = V::Dot(a1, V::Load(c1p + W), w11);
      a2 = V::Dot(a2, V::Load(c1p + 2 * W), w12);
      a3 = V::Dot(a3, V::Load(c1p + 3 * W), w13);
      a0 = V::Dot(a0, V::Load(c2p), w20);
      a1 = V::Dot(a1, V::Load(c2p + W), w21);
      a2 = V::Dot(a2, V::Load(c2p + 2 * W), w22);
      a3 = V::Dot(a3, V::Load(c2p + 3 * W), w23);
      finish(a0, a1, a2, a3, yrow + ox * C);
    }
  } else {
    for (int64_t ox = oa; ox < ob; ox++) {
      I a0 = b0, a1 = b1, a2 = b2, a3 = b3;
      for (int64_t kx = 0; kx < kw; kx++) {
        const uint8_t* cp = cols + ((ox - oa) * sw + kx * dw) * col_bytes;
        for (int64_t rr = 0; rr < rg; rr++, cp += 4 * W) {
          const int8_t* wp = wbase + (rr * kw + kx) * 4 * wstride;
          a0 = V::Dot(a0, V::Load(cp), V::LoadU(wp));
          a1 = V::Dot(a1, V::Load(cp + W), V::LoadU(wp + wstride));
          a2 = V::Dot(a2, V::Load(cp + 2 * W), V::LoadU(wp + 2 * wstride));
          a3 = V::Dot(a3, V::Load(cp + 3 * W), V::LoadU(wp + 3 * wstride));
        }
      }
      finish(a0, a1, a2, a3, yrow + ox * C);
    }
  }
}

// Rows [rb, re) of batch·out_h: per row, channel blocks of 64, the last one 64, 32 or 16 wide
// (the narrowest that holds it), output pixels in chunks of kChunk.
template <int kKw, bool kSigned, typename T>
void DwRows(const DwCall<T>& s, int64_t rb, int64_t re) {
  const ConvGeom& g = *s.g;
  const int64_t C = g.in_c, kw = kKw > 0 ? kKw : s.pk->kw;
  const int64_t max_cols = (kChunk - 1) * g.stride_w + (kw - 1) * g.dilation_w + 1;
  AlignedBuffer cols(static_cast<size_t>(max_cols * s.pk->rg * 4 * 64));
  for (int64_t r = rb; r < re; r++) {
    for (int64_t c0 = 0; c0 < C; c0 += 64) {
      const int64_t left = C - c0;
      for (int64_t oa = 0; oa < g.out_w; oa += kChunk) {
        const int64_t ob = std::min<int64_t>(g.out_w, oa + kChunk);
        if (left > 32) {
          DwBlock<64, kKw, kSigned>(s, r, c0, oa, ob, cols.data());
        } else if (left > 16) {
          DwBlock<32, kKw, kSigned>(s, r, c0, oa, ob, cols.data());
        } else {
          DwBlock<16, kKw, kSigned>(s, r, c0, oa, ob, cols.data());
        }
      }
    }
  }
}

template <bool kSigned, typename T>
void DepthwiseVnniAll(const ConvGeom& g, const T* x, const DepthwiseQ& p, T* y, int threads) {
  const auto* ready = dynamic_cast<const DwPackedVnni*>(p.prepared.get());
  DwPackedVnni local;
  if (ready == nullptr || ready->c != g.in_c || ready->kh != g.k_h || ready->kw != g.k_w ||
      ready->x_zero_point != p.x_zero_point) {
    local = PackDepthwiseVnni(g, p);
    ready = &local;
  }
  const DwPackedVnni& pk = *ready;
  // The multipliers are read per call (the packed form holds only what the filter and bias fix).
  std::vector<float> mult(static_cast<size_t>(4 * pk.gp * 4), 0.0f);
  bool small = true;
  for (int64_t c = 0; c < g.in_c; c++) {
    mult[static_cast<size_t>(Slot(c, pk.gp))] = p.multipliers[c];
    small = small && p.multipliers[c] <= 0.5f;
  }
  alignas(64) T pad_row[64];
  std::fill(pad_row, pad_row + 64, static_cast<T>(p.x_zero_point));
  const DwCall<T> s{&g, x, y, &pk, mult.data(), small, p.y_zero_point, p.y_min, p.y_max, pad_row};
  const int64_t rows = int64_t(g.batch) * g.out_h;
  const int64_t work_per_row = std::max<int64_t>(1, int64_t(g.out_w) * g.in_c * g.k_h * g.k_w);
  const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 16) / work_per_row);
  const bool fixed3 = g.k_w == 3 && g.k_h <= 4;
  ParallelFor(rows, grain, threads, [&](int64_t rb, int64_t re) {
    if (fixed3) {
      DwRows<3, kSigned>(s, rb, re);
    } else {
      DwRows<0, kSigned>(s, rb, re);
    }
  });
}

}  // namespace

std::shared_ptr<const PreparedDepthwise> PrepareDepthwiseAvx512Vnni(const ConvGeom& g, const DepthwiseQ& p) {
  return std::make_shared<const DwPackedVnni>(PackDepthwiseVnni(g, p));
}
void DepthwiseAvx512Vnni(const ConvGeom& g, const int8_t* x, const DepthwiseQ& p, int8_t* y, int threads) {
  DepthwiseVnniAll<true, int8_t>(g, x, p, y, threads);
}
void DepthwiseAvx512Vnni(const ConvGeom& g, const uint8_t* x, const DepthwiseQ& p, uint8_t* y, int threads) {
  DepthwiseVnniAll<false, uint8_t>(g, x, p, y, threads);
}

}  // namespace detail
}  // namespace ops
}  // namespace tfjq
