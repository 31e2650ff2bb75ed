// AVX-512 VNNI path (VPDPBUSD on zmm): the AVX2 kernel's structure widened — 6 rows × 64
// columns (4 zmm per row, 24 named accumulators, 4 B vectors + 1 broadcast of A live), K in
// groups of 4. Exactness as for AVX-VNNI: each lane sums 4 exact uint8 × int8 products and
// the accumulation wraps modulo 2^32 like the reference.
// Builds with -mavx512f/bw/vl/vnni, or on SIMDe with -DTFJQ_EMULATE_SIMD (emulated harness).
// GCC 12's AVX-512 headers start several conversions from a self-initialized `__Y = __Y`
// (_mm512_undefined_*), which -W(maybe-)uninitialized reports at every use.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <cstring>
#include <type_traits>

#include "common/simd_x86.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {
namespace {

using simd::LoadU32;

// VPDPBUSD accumulating in place. In the kernels whose accumulators stay live into a
// register epilogue, GCC 12 allocated the intrinsic's result apart from its input and copied
// every accumulator back on each K step (two moves per multiply-add); the asm ties them.
inline __m512i DpbusdInPlace(__m512i acc, __m512i a, __m512i b) {
#if TFJQ_SIMD_EMULATED
  return _mm512_dpbusd_epi32(acc, a, b);
#else
  __asm__("vpdpbusd %[b], %[a], %[acc]" : [acc] "+v"(acc) : [a] "v"(a), [b] "v"(b));
  return acc;
#endif
}

// One K group of row i of an R-row tile of W columns: the broadcast of the row's 4 bytes at
// `off` times b0..b3 (W / 16 of them) into c<i>_0..c<i>_3, with DP the multiply-add. Shared
// by the plain kernels and the register tiles (named accumulators: GCC 12 spills arrays).
#define TFJQ_VNNI_ROW(i, DP)                                   \
  if constexpr (R > i) {                                       \
    const __m512i av = _mm512_set1_epi32(LoadU32(a##i + off)); \
    c##i##_0 = DP(c##i##_0, av, b0);                           \
    if constexpr (W >= 32) c##i##_1 = DP(c##i##_1, av, b1);    \
    if constexpr (W == 64) {                                   \
      c##i##_2 = DP(c##i##_2, av, b2);                         \
      c##i##_3 = DP(c##i##_3, av, b3);                         \
    }                                                          \
  }

// The B vectors of one K group at b (256 bytes: 64 columns × 4 K values) that a tile of W
// columns reads; the unread ones alias b0 / b1 so that every name is defined.
#define TFJQ_VNNI_LOAD_B(b)                                        \
  const __m512i b0 = _mm512_loadu_si512(b);                        \
  const __m512i b1 = W >= 32 ? _mm512_loadu_si512((b) + 64) : b0;  \
  const __m512i b2 = W == 64 ? _mm512_loadu_si512((b) + 128) : b0; \
  const __m512i b3 = W == 64 ? _mm512_loadu_si512((b) + 192) : b1

// The 24 named accumulators of a 6 × 64 tile, zeroed.
#define TFJQ_VNNI_ZERO_6x64()                                                   \
  __m512i c0_0 = _mm512_setzero_si512(), c0_1 = c0_0, c0_2 = c0_0, c0_3 = c0_0; \
  __m512i c1_0 = c0_0, c1_1 = c0_0, c1_2 = c0_0, c1_3 = c0_0;                   \
  __m512i c2_0 = c0_0, c2_1 = c0_0, c2_2 = c0_0, c2_3 = c0_0;                   \
  __m512i c3_0 = c0_0, c3_1 = c0_0, c3_2 = c0_0, c3_3 = c0_0;                   \
  __m512i c4_0 = c0_0, c4_1 = c0_0, c4_2 = c0_0, c4_3 = c0_0;                   \
  __m512i c5_0 = c0_0, c5_1 = c0_0, c5_2 = c0_0, c5_3 = c0_0

constexpr int kMr = 6;
constexpr int kNr = 64;

// R rows × W columns of a panel: W = 64 the full panel (4 zmm per row, 24 accumulators);
// W = 32 its first 32 columns (the first 128 bytes of each 256-byte K group), for a last
// panel with at most 32 real columns (N = 32 stem convolutions), which then does half the
// multiply-adds; W = 16 its first 16 (N = 16 pointwise convolutions, the 16 left of 144).
template <int R, int W = 64>
void KernelAvx512Vnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, int32_t* c, int64_t ldc,
                      bool accumulate) {
  TFJQ_VNNI_ZERO_6x64();
  TFJQ_A_ROWS_6(a, as);
  for (int64_t g = 0; g < kg; g++) {
    TFJQ_VNNI_LOAD_B(b);
    b += 256;
    const int64_t off = g * 4;
#define TFJQ_ROW(i) TFJQ_VNNI_ROW(i, _mm512_dpbusd_epi32)
    TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
#undef TFJQ_ROW
  }
#define TFJQ_STORE(i)                                                                           \
  if constexpr (R > i) {                                                                        \
    int32_t* p = c + i * ldc;                                                                   \
    if (accumulate) {                                                                           \
      c##i##_0 = _mm512_add_epi32(c##i##_0, _mm512_loadu_si512(p));                             \
      if constexpr (W >= 32) c##i##_1 = _mm512_add_epi32(c##i##_1, _mm512_loadu_si512(p + 16)); \
      if constexpr (W == 64) {                                                                  \
        c##i##_2 = _mm512_add_epi32(c##i##_2, _mm512_loadu_si512(p + 32));                      \
        c##i##_3 = _mm512_add_epi32(c##i##_3, _mm512_loadu_si512(p + 48));                      \
      }                                                                                         \
    }                                                                                           \
    _mm512_storeu_si512(p, c##i##_0);                                                           \
    if constexpr (W >= 32) _mm512_storeu_si512(p + 16, c##i##_1);                               \
    if constexpr (W == 64) {                                                                    \
      _mm512_storeu_si512(p + 32, c##i##_2);                                                    \
      _mm512_storeu_si512(p + 48, c##i##_3);                                                    \
    }                                                                                           \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3) TFJQ_STORE(4) TFJQ_STORE(5)
#undef TFJQ_STORE
}

#if !TFJQ_SIMD_EMULATED
// Rows of K ≤ 64 (first convolutions, narrow pointwise ones) for PackARowsAvx512Vnni: one
// masked load, xor and store per row, two rows per step. Everything the loop reads is a
// by-value local: the general loop re-read its bounds, strides and mask from the stack on
// every row (byte stores may alias any memory), which cost a fifth of a K = 27 GEMM; not
// inlined, so that its arguments stay in registers. No vector arguments: with one, GCC 12
// left the upper zmm state dirty on return (no VZEROUPPER in callee or caller), and every
// legacy-SSE instruction of the driver after it paid a transition penalty (K = 27: +25%).
__attribute__((noinline)) void PackShortRowsAvx512Vnni(const uint8_t* src, int64_t lda, int64_t rows, int64_t kc,
                                                       uint8_t xor_mask, uint8_t* dst, int64_t dst_stride) {
  const __mmask64 tail = ~uint64_t{0} >> (64 - kc);
  const __m512i flip = _mm512_maskz_set1_epi8(tail, static_cast<char>(xor_mask));  // xor only the loaded bytes
  for (int64_t r = 0; r < rows; r++, src += lda, dst += dst_stride) {
    _mm512_storeu_si512(dst, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, src), flip));
  }
}
#endif

// `rows` rows of A as bytes (a ^ mask), each zero-padded to its 64-byte-rounded length (the
// driver's row stride covers that): one masked load per 64 bytes reads exactly the row's kc
// values (masked-off bytes are never touched, so no bound on reads past the row is needed),
// one full store. The same bytes as PackBytesXor up to kcpad.
void PackARowsAvx512Vnni(const uint8_t* src, int64_t lda, int64_t rows, int64_t kc, int64_t kcpad, uint8_t xor_mask,
                         uint8_t* dst, int64_t dst_stride, const uint8_t* /*src_end*/) {
#if !TFJQ_SIMD_EMULATED
  if (kc <= 64 && kcpad <= 64) {
    PackShortRowsAvx512Vnni(src, lda, rows, kc, xor_mask, dst, dst_stride);
    return;
  }
#endif
  const int64_t full = kc / 64 * 64, rem = kc - full;
  const __m512i mask = _mm512_set1_epi8(static_cast<char>(xor_mask));
  alignas(64) uint8_t tail_bytes[64] = {0};  // xor only the loaded bytes
  std::memset(tail_bytes, xor_mask, static_cast<size_t>(rem));
  const __m512i tail_mask = _mm512_load_si512(tail_bytes);
#if TFJQ_SIMD_EMULATED
  // SIMDe has no masked byte load: the tail through a zeroed buffer (same bytes).
  auto load_tail = [rem](const uint8_t* p) {
    alignas(64) uint8_t buf[64] = {0};
    std::memcpy(buf, p, static_cast<size_t>(rem));
    return _mm512_load_si512(buf);
  };
#else
  const __mmask64 tail = rem ? (~uint64_t{0} >> (64 - rem)) : 0;
  auto load_tail = [tail](const uint8_t* p) { return _mm512_maskz_loadu_epi8(tail, p); };
#endif
  const int64_t written = rem ? full + 64 : full;
  for (int64_t r = 0; r < rows; r++, src += lda, dst += dst_stride) {
    int64_t i = 0;
    for (; i < full; i += 64) _mm512_storeu_si512(dst + i, _mm512_xor_si512(_mm512_loadu_si512(src + i), mask));
    if (rem) _mm512_storeu_si512(dst + i, _mm512_xor_si512(load_tail(src + i), tail_mask));
    for (int64_t j = written; j < kcpad; j++) dst[j] = 0;
  }
}

void PackAAvx512Vnni(const uint8_t* src, int64_t kc, int64_t kcpad, uint8_t xor_mask, uint8_t* dst) {
  PackARowsAvx512Vnni(src, 0, 1, kc, kcpad, xor_mask, dst, 0, nullptr);
}

// §7 requantize of 16 accumulators (acc + column term, × multiplier, clamped, rounded to
// nearest even by the conversion, + zo) to 16 output bytes: the float operations of
// RequantRowsAvx2 in the same order. The value is inside [qmin, qmax] after the clamp, so
// the saturating narrowings (VPMOVSDB / VPMOVUSDB) equal the two packs of the AVX2 loop.
#if !TFJQ_SIMD_EMULATED
template <bool kSigned>
inline __m128i Requant16(__m512i acc, __m512i ct, __m512 mu, __m512 qlo, __m512 qhi, __m512i zo) {
  __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc, ct)), mu);
  y = _mm512_min_ps(_mm512_max_ps(y, qlo), qhi);
  const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(y), zo);
  return kSigned ? _mm512_cvtsepi32_epi8(q) : _mm512_cvtusepi32_epi8(_mm512_max_epi32(q, _mm512_setzero_si512()));
}
#endif

// Kernel + requantize of one full 6-row tile of W columns (64: the full kernel; 32: the half
// kernel), all of K in one block. The tile goes through a 1.5 KiB stack buffer that stays in
// L1: with the requantize written in registers after the loop, GCC 12 runs out of the 32 zmm
// (24 accumulators + 11 per-column constants) and spills every accumulator inside the K loop
// (half the speed). The shared acc buffer and the generic epilogue call are still avoided.
template <bool kSigned, int W>
void FusedRequantAvx512Vnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx, int64_t m0,
                            int64_t n0) {
  using T = typename std::conditional<kSigned, int8_t, uint8_t>::type;
  alignas(64) int32_t tile[6 * W];
  KernelAvx512Vnni<6, W>(kg, a, as, b, tile, W, false);
#if TFJQ_SIMD_EMULATED
  // SIMDe lacks the AVX-512 float conversions: the AVX2 loop (same operations) stands in;
  // Requant16 itself is checked on AVX-512 hardware by the tests through the API.
  (kSigned ? RequantRowsAvx2S8 : RequantRowsAvx2U8)(ctx, tile, W, m0, 6, n0, W);
#else
  T* out = static_cast<T*>(ctx.c) + m0 * ctx.ldc + n0;
  const int64_t ldc = ctx.ldc;
  if (ctx.mult_small) {
    // 64 values per step (one row of a full tile, two rows of a half tile), clamped as bytes:
    // rne(fl32(acc)·mult) converts without overflow (every multiplier ≤ 0.5, see EpiCtx), is
    // saturated to int16, + zo with int16 saturation, saturated to 8 bits, clamped to
    // [qmin, qmax]. Every saturation lies beyond the final clamp, and the float clamp of
    // Requant16 commutes with the rounding (integer bounds): the same bytes, as in the AVX2
    // fused tile, with about half the instructions.
    const __m512i zo16 = _mm512_set1_epi16(static_cast<int16_t>(ctx.zo));
    const __m512i qmin8 = _mm512_set1_epi8(static_cast<char>(ctx.qmin)),
                  qmax8 = _mm512_set1_epi8(static_cast<char>(ctx.qmax));
    // The packs work per 128-bit lane: dword j of the result holds the 4 values of group
    // 4·(j % 4) + j / 4; this puts groups back in order.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const int32_t* ct = ctx.col_term + n0;
    const float* mu = ctx.mult + n0;
    const __m512i ct0 = _mm512_loadu_si512(ct), ct1 = _mm512_loadu_si512(ct + 16);
    const __m512 mu0 = _mm512_loadu_ps(mu), mu1 = _mm512_loadu_ps(mu + 16);
    const __m512i ct2 = W == 64 ? _mm512_loadu_si512(ct + 32) : ct0, ct3 = W == 64 ? _mm512_loadu_si512(ct + 48) : ct1;
    const __m512 mu2 = W == 64 ? _mm512_loadu_ps(mu + 32) : mu0, mu3 = W == 64 ? _mm512_loadu_ps(mu + 48) : mu1;
    auto cv = [](__m512i acc, __m512i c, __m512 m) {
      return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc, c)), m));
    };
    // 64 accumulators at t (W = 64: one row; W = 32: rows i and i + 1) → 64 bytes in order.
    for (int i = 0; i < 6; i += 64 / W) {
      const int32_t* t = tile + i * W;
      const __m512i p01 = _mm512_adds_epi16(
          _mm512_packs_epi32(cv(_mm512_load_si512(t), ct0, mu0), cv(_mm512_load_si512(t + 16), ct1, mu1)), zo16);
      const __m512i p23 = _mm512_adds_epi16(
          _mm512_packs_epi32(cv(_mm512_load_si512(t + 32), ct2, mu2), cv(_mm512_load_si512(t + 48), ct3, mu3)), zo16);
      __m512i q =
          _mm512_permutexvar_epi32(order, kSigned ? _mm512_packs_epi16(p01, p23) : _mm512_packus_epi16(p01, p23));
      q = kSigned ? _mm512_min_epi8(_mm512_max_epi8(q, qmin8), qmax8)
                  : _mm512_min_epu8(_mm512_max_epu8(q, qmin8), qmax8);
      if constexpr (W == 64) {
        _mm512_storeu_si512(out + i * ldc, q);
      } else {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i * ldc), _mm512_castsi512_si256(q));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (i + 1) * ldc), _mm512_extracti64x4_epi64(q, 1));
      }
    }
    return;
  }
  const __m512 qlo = _mm512_set1_ps(ctx.qlo_f), qhi = _mm512_set1_ps(ctx.qhi_f);
  const __m512i zo = _mm512_set1_epi32(ctx.zo);
  for (int j = 0; j < W; j += 16) {
    const __m512i ct = _mm512_loadu_si512(ctx.col_term + n0 + j);
    const __m512 mu = _mm512_loadu_ps(ctx.mult + n0 + j);
    for (int i = 0; i < 6; i++) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i * ldc + j),
                       Requant16<kSigned>(_mm512_load_si512(tile + i * W + j), ct, mu, qlo, qhi, zo));
    }
  }
#endif
}

// A full 6-row tile of W columns (64: the full panel, 24 accumulators; 32: the half panel,
// 12) with every multiplier ≤ 0.5, requantized in registers; other cases go through the
// stack tile of FusedRequantAvx512Vnni. The accumulators start at the column term instead of
// zero (the same sum modulo 2^32), so the epilogue adds nothing and keeps no column term
// live, and the multipliers are memory operands of the multiplies: the 24 accumulators and
// the 4 constants of the narrowing then fit the 32 zmm. The same operations as the
// mult_small loop of FusedRequantAvx512Vnni (bit-identical). kPartial: only the first
// `cols` columns are real (a last panel): the column terms and multipliers past them are
// read as zeros through masks and the stores are masked. R = 12 (W ≤ 32 only: 24
// accumulators at W = 32): twice the rows per B vector and per call, for K ≤ 64 where the
// per-tile costs (call, B loads, setup) are a large part of a tile.
template <bool kSigned, int W, bool kPartial, int R = 6>
void FusedRequantRegsImpl(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx, int64_t m0,
                          int64_t n0, int64_t cols) {
#if !TFJQ_SIMD_EMULATED
  if (ctx.mult_small) {
    const int32_t* ct = ctx.col_term + n0;
    const float* mu = ctx.mult + n0;
    // Lane masks of the four 16-column vectors (all ones unless kPartial).
    auto lanes = [cols](int v) -> __mmask16 {
      const int64_t left = cols - 16 * v;
      return kPartial ? simd::FirstLanes16(left) : __mmask16(0xFFFF);
    };
    const __mmask16 k0 = lanes(0), k1 = lanes(1), k2 = lanes(2), k3 = lanes(3);
    auto ld_ct = [&](int v, __mmask16 k) {
      return kPartial ? _mm512_maskz_loadu_epi32(k, ct + 16 * v) : _mm512_loadu_si512(ct + 16 * v);
    };
#define TFJQ_INIT(i)                                                  \
  __m512i c##i##_0 = ld_ct(0, k0);                                    \
  __m512i c##i##_1 = W >= 32 ? ld_ct(1, k1) : _mm512_setzero_si512(); \
  __m512i c##i##_2 = W == 64 ? ld_ct(2, k2) : _mm512_setzero_si512(); \
  __m512i c##i##_3 = W == 64 ? ld_ct(3, k3) : _mm512_setzero_si512();
    // clang-format off
    TFJQ_INIT(0) TFJQ_INIT(1) TFJQ_INIT(2) TFJQ_INIT(3) TFJQ_INIT(4) TFJQ_INIT(5)
    TFJQ_INIT(6) TFJQ_INIT(7) TFJQ_INIT(8) TFJQ_INIT(9) TFJQ_INIT(10) TFJQ_INIT(11)
#undef TFJQ_INIT
    TFJQ_A_ROWS_6(a, as);
    // clang-format on
    const uint8_t *a6 = a + 6 * as, *a7 = a + 7 * as, *a8 = a + 8 * as, *a9 = a + 9 * as, *a10 = a + 10 * as,
                  *a11 = a + 11 * as;
    for (int64_t g = 0; g < kg; g++, b += 256) {
      TFJQ_VNNI_LOAD_B(b);
      const int64_t off = g * 4;
#define TFJQ_ROW(i) TFJQ_VNNI_ROW(i, DpbusdInPlace)
      // clang-format off
      TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
      TFJQ_ROW(6) TFJQ_ROW(7) TFJQ_ROW(8) TFJQ_ROW(9) TFJQ_ROW(10) TFJQ_ROW(11)
      // clang-format on
#undef TFJQ_ROW
    }
    using T = typename std::conditional<kSigned, int8_t, uint8_t>::type;
    T* out = static_cast<T*>(ctx.c) + m0 * ctx.ldc + n0;
    const int64_t ldc = ctx.ldc;
    const __m512i zo16 = _mm512_set1_epi16(static_cast<int16_t>(ctx.zo));
    const __m512i qmin8 = _mm512_set1_epi8(static_cast<char>(ctx.qmin)),
                  qmax8 = _mm512_set1_epi8(static_cast<char>(ctx.qmax));
    // The packs work per 128-bit lane: dword j of the result holds the 4 values of group
    // 4·(j % 4) + j / 4; this puts groups back in order.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    auto cv = [&](__m512i acc, int v, __mmask16 k) {
      const __m512 m = kPartial ? _mm512_maskz_loadu_ps(k, mu + 16 * v) : _mm512_loadu_ps(mu + 16 * v);
      return _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), m));
    };
    // 64 values (x0..x3: columns 0, 16, 32, 48 of one row, or columns 0 and 16 of two rows
    // for the half tile) → 64 bytes in order.
    auto narrow = [&](__m512i x0, __m512i x1, __m512i x2, __m512i x3) {
      const __m512i p01 = _mm512_adds_epi16(_mm512_packs_epi32(x0, x1), zo16);
      const __m512i p23 = _mm512_adds_epi16(_mm512_packs_epi32(x2, x3), zo16);
      const __m512i q =
          _mm512_permutexvar_epi32(order, kSigned ? _mm512_packs_epi16(p01, p23) : _mm512_packus_epi16(p01, p23));
      return kSigned ? _mm512_min_epi8(_mm512_max_epi8(q, qmin8), qmax8)
                     : _mm512_min_epu8(_mm512_max_epu8(q, qmin8), qmax8);
    };
    if constexpr (W == 64) {
      const __mmask64 store_mask = kPartial ? ~uint64_t{0} >> (64 - cols) : ~uint64_t{0};
#define TFJQ_OUT(i)                                                                                               \
  {                                                                                                               \
    const __m512i q = narrow(cv(c##i##_0, 0, k0), cv(c##i##_1, 1, k1), cv(c##i##_2, 2, k2), cv(c##i##_3, 3, k3)); \
    if (kPartial)                                                                                                 \
      _mm512_mask_storeu_epi8(out + i * ldc, store_mask, q);                                                      \
    else                                                                                                          \
      _mm512_storeu_si512(out + i * ldc, q);                                                                      \
  }
      TFJQ_OUT(0) TFJQ_OUT(1) TFJQ_OUT(2) TFJQ_OUT(3) TFJQ_OUT(4) TFJQ_OUT(5)
#undef TFJQ_OUT
    } else if constexpr (W == 16) {
      // Four rows per 64 output bytes.
      const __mmask16 store_mask = k0;
      const __m512i z = _mm512_setzero_si512();
      auto store4 = [&](__m512i q, int i, int rows) {
        _mm_mask_storeu_epi8(out + i * ldc, store_mask, _mm512_castsi512_si128(q));
        _mm_mask_storeu_epi8(out + (i + 1) * ldc, store_mask, _mm512_extracti32x4_epi32(q, 1));
        if (rows == 4) {
          _mm_mask_storeu_epi8(out + (i + 2) * ldc, store_mask, _mm512_extracti32x4_epi32(q, 2));
          _mm_mask_storeu_epi8(out + (i + 3) * ldc, store_mask, _mm512_extracti32x4_epi32(q, 3));
        }
      };
      store4(narrow(cv(c0_0, 0, k0), cv(c1_0, 0, k0), cv(c2_0, 0, k0), cv(c3_0, 0, k0)), 0, 4);
      if constexpr (R == 12) {
        store4(narrow(cv(c4_0, 0, k0), cv(c5_0, 0, k0), cv(c6_0, 0, k0), cv(c7_0, 0, k0)), 4, 4);
        store4(narrow(cv(c8_0, 0, k0), cv(c9_0, 0, k0), cv(c10_0, 0, k0), cv(c11_0, 0, k0)), 8, 4);
      } else {
        store4(narrow(cv(c4_0, 0, k0), cv(c5_0, 0, k0), z, z), 4, 2);
      }
    } else {
      const __mmask32 store_mask = kPartial ? ~uint32_t{0} >> (32 - cols) : ~uint32_t{0};
#define TFJQ_OUT2(i, j)                                                                                           \
  {                                                                                                               \
    const __m512i q = narrow(cv(c##i##_0, 0, k0), cv(c##i##_1, 1, k1), cv(c##j##_0, 0, k0), cv(c##j##_1, 1, k1)); \
    const __m256i lo = _mm512_castsi512_si256(q), hi = _mm512_extracti64x4_epi64(q, 1);                           \
    if (kPartial) {                                                                                               \
      _mm256_mask_storeu_epi8(out + i * ldc, store_mask, lo);                                                     \
      _mm256_mask_storeu_epi8(out + j * ldc, store_mask, hi);                                                     \
    } else {                                                                                                      \
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i * ldc), lo);                                         \
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j * ldc), hi);                                         \
    }                                                                                                             \
  }
      TFJQ_OUT2(0, 1) TFJQ_OUT2(2, 3) TFJQ_OUT2(4, 5) if constexpr (R == 12) {
        TFJQ_OUT2(6, 7) TFJQ_OUT2(8, 9) TFJQ_OUT2(10, 11)
      }
#undef TFJQ_OUT2
    }
    return;
  }
#endif
  if constexpr (R == 12) {
    FusedRequantRegsImpl<kSigned, W, kPartial>(kg, a, as, b, ctx, m0, n0, cols);
    FusedRequantRegsImpl<kSigned, W, kPartial>(kg, a + 6 * as, as, b, ctx, m0 + 6, n0, cols);
  } else if constexpr (kPartial) {
    alignas(64) int32_t tile[6 * W];
    KernelAvx512Vnni<6, W>(kg, a, as, b, tile, W, false);
    (kSigned ? RequantRowsAvx2S8 : RequantRowsAvx2U8)(ctx, tile, W, m0, 6, n0, cols);
  } else {
    FusedRequantAvx512Vnni<kSigned, W>(kg, a, as, b, ctx, m0, n0);
  }
}

template <bool kSigned, int W>
void FusedRequantRegsAvx512Vnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx,
                                int64_t m0, int64_t n0) {
  FusedRequantRegsImpl<kSigned, W, false>(kg, a, as, b, ctx, m0, n0, W);
}

// A last panel of 1..63 real columns: a quarter tile up to 16 columns, a half tile up to 32
// (a quarter or half of the multiply-adds and conversions).
template <bool kSigned>
void FusedRequantPartAvx512Vnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx,
                                int64_t m0, int64_t n0, int64_t cols) {
  if (cols <= 16)
    FusedRequantRegsImpl<kSigned, 16, true>(kg, a, as, b, ctx, m0, n0, cols);
  else if (cols <= 32)
    FusedRequantRegsImpl<kSigned, 32, true>(kg, a, as, b, ctx, m0, n0, cols);
  else
    FusedRequantRegsImpl<kSigned, 64, true>(kg, a, as, b, ctx, m0, n0, cols);
}

// The same for 12 rows and a last panel of 1..32 real columns.
template <bool kSigned>
void FusedRequantPart12Avx512Vnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx,
                                  int64_t m0, int64_t n0, int64_t cols) {
  if (cols <= 16)
    FusedRequantRegsImpl<kSigned, 16, true, 12>(kg, a, as, b, ctx, m0, n0, cols);
  else
    FusedRequantRegsImpl<kSigned, 32, true, 12>(kg, a, as, b, ctx, m0, n0, cols);
}

// Kernel + dequantize to float32 of a 6-row tile (all of K in one block, no weight zero
// points), in registers: the dynamic quantization path (a za and sa per row) and
// float-output layers. Without it every tile went through the int32 buffer and
// DequantRowsAvx512 as a second pass: 19 % of a 3136 × 64 × 384 dynamic GEMM on Zen 4. The
// operations and their order are DequantRowsAvx512's (bit-identical); the per-column vectors
// are memory operands, read once per row, so that the 24 accumulators keep their registers.
// W columns of the panel (64, or the first 32 / 16 for a last panel, as the kernels' W);
// kPartial: only the first `cols` are real (masked loads of the column vectors, masked stores).
template <int W, bool kPartial>
void FusedDequantImpl(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx,
                      const EpiRow* rows_info, int64_t m0, int64_t n0, int64_t cols) {
#if TFJQ_SIMD_EMULATED
  alignas(64) int32_t tile[6 * W];
  KernelAvx512Vnni<6, W>(kg, a, as, b, tile, W, false);
  EpilogueAvx512(ctx, tile, W, rows_info, m0, 6, n0, cols);
#else
  TFJQ_VNNI_ZERO_6x64();
  constexpr int R = 6;
  TFJQ_A_ROWS_6(a, as);
  for (int64_t g = 0; g < kg; g++, b += 256) {
    TFJQ_VNNI_LOAD_B(b);
    const int64_t off = g * 4;
#define TFJQ_ROW(i) TFJQ_VNNI_ROW(i, DpbusdInPlace)
    TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
#undef TFJQ_ROW
  }
  const bool col_term = ctx.col_term != nullptr;
  const bool ibias = !col_term && ctx.bias != nullptr;
  const bool fbias = ctx.bias_f32 != nullptr;
  const bool act_lo = ctx.act != Activation::kLinear;
  const bool act_hi = ctx.act == Activation::kRelu6 || ctx.act == Activation::kClamp;
  const __m512 alo = _mm512_set1_ps(ctx.act_lo), ahi = _mm512_set1_ps(ctx.act_hi);
  const int32_t* ct = (col_term ? ctx.col_term : ctx.col_sums) + n0;
  const int32_t* bi = ibias ? ctx.bias + n0 : nullptr;
  const float* ws = ctx.w_scales + n0;
  const float* bf = fbias ? ctx.bias_f32 + n0 : nullptr;
  float* out = static_cast<float*>(ctx.c) + m0 * ctx.ldc + n0;
  const int64_t ldc = ctx.ldc;
  // Lanes of column vector j that are real columns (all of them unless kPartial).
  auto lanes = [cols](int j) -> __mmask16 {
    return kPartial ? simd::FirstLanes16(cols - 16 * j) : static_cast<__mmask16>(0xFFFF);
  };
  auto ld_i = [](__mmask16 k, const int32_t* q) {
    return kPartial ? _mm512_maskz_loadu_epi32(k, q) : _mm512_loadu_si512(q);
  };
  auto ld_f = [](__mmask16 k, const float* q) { return kPartial ? _mm512_maskz_loadu_ps(k, q) : _mm512_loadu_ps(q); };
  auto one = [&](__m512i v, int j, __m512i za, __m512 sa, float* dst) {
    const __mmask16 k = lanes(j);
    if (kPartial && k == 0) return;
    const __m512i ctv = ld_i(k, ct + 16 * j);
    if (col_term) {
      v = _mm512_add_epi32(v, ctv);
    } else {
      v = _mm512_sub_epi32(v, _mm512_mullo_epi32(za, ctv));
      if (ibias) v = _mm512_add_epi32(v, ld_i(k, bi + 16 * j));
    }
    const __m512 sc = _mm512_mul_ps(sa, ld_f(k, ws + 16 * j));
    __m512 y = _mm512_mul_ps(_mm512_cvtepi32_ps(v), sc);
    if (fbias) y = _mm512_add_ps(y, ld_f(k, bf + 16 * j));
    if (act_lo) y = _mm512_max_ps(y, alo);
    if (act_hi) y = _mm512_min_ps(y, ahi);
    if (kPartial)
      _mm512_mask_storeu_ps(dst + 16 * j, k, y);
    else
      _mm512_storeu_ps(dst + 16 * j, y);
  };
#define TFJQ_OUT(i)                                       \
  {                                                       \
    const EpiRow& r = rows_info[i];                       \
    const __m512i za = _mm512_set1_epi32(r.za);           \
    const __m512 sa = _mm512_set1_ps(r.sa);               \
    float* dst = out + (i) * ldc;                         \
    one(c##i##_0, 0, za, sa, dst);                        \
    if constexpr (W >= 32) one(c##i##_1, 1, za, sa, dst); \
    if constexpr (W == 64) {                              \
      one(c##i##_2, 2, za, sa, dst);                      \
      one(c##i##_3, 3, za, sa, dst);                      \
    }                                                     \
  }
  TFJQ_OUT(0) TFJQ_OUT(1) TFJQ_OUT(2) TFJQ_OUT(3) TFJQ_OUT(4) TFJQ_OUT(5)
#undef TFJQ_OUT
#endif
}

void FusedDequantAvx512Vnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx,
                            const EpiRow* rows_info, int64_t m0, int64_t n0) {
  FusedDequantImpl<64, false>(kg, a, as, b, ctx, rows_info, m0, n0, kNr);
}

// A last panel of 1..63 real columns: the narrowest kernel width that holds them (no
// multiply-adds on the padding beyond it), masked.
void FusedDequantPartAvx512Vnni(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx,
                                const EpiRow* rows_info, int64_t m0, int64_t n0, int64_t cols) {
  if (cols <= 16)
    FusedDequantImpl<16, true>(kg, a, as, b, ctx, rows_info, m0, n0, cols);
  else if (cols <= 32)
    FusedDequantImpl<32, true>(kg, a, as, b, ctx, rows_info, m0, n0, cols);
  else
    FusedDequantImpl<64, true>(kg, a, as, b, ctx, rows_info, m0, n0, cols);
}

template <int P>
void GemvAvx512Vnni(int64_t kg, const uint8_t* a, const int8_t* b, int64_t ps, int32_t* c) {
  const __m512i z = _mm512_setzero_si512();
  __m512i c0_0 = z, c0_1 = z, c0_2 = z, c0_3 = z, c1_0 = z, c1_1 = z, c1_2 = z, c1_3 = z, c2_0 = z, c2_1 = z, c2_2 = z,
          c2_3 = z, c3_0 = z, c3_1 = z, c3_2 = z, c3_3 = z;
  const int8_t* b0 = b;
  const int8_t* b1 = b + ps;
  const int8_t* b2 = b + 2 * ps;
  const int8_t* b3 = b + 3 * ps;
  for (int64_t g = 0; g < kg; g++) {
    const __m512i av = _mm512_set1_epi32(LoadU32(a + 4 * g));
    const int64_t o = 256 * g;
#define TFJQ_PANEL(p)                                                                 \
  if constexpr (P > p) {                                                              \
    c##p##_0 = _mm512_dpbusd_epi32(c##p##_0, av, _mm512_loadu_si512(b##p + o));       \
    c##p##_1 = _mm512_dpbusd_epi32(c##p##_1, av, _mm512_loadu_si512(b##p + o + 64));  \
    c##p##_2 = _mm512_dpbusd_epi32(c##p##_2, av, _mm512_loadu_si512(b##p + o + 128)); \
    c##p##_3 = _mm512_dpbusd_epi32(c##p##_3, av, _mm512_loadu_si512(b##p + o + 192)); \
  }
    TFJQ_PANEL(0) TFJQ_PANEL(1) TFJQ_PANEL(2) TFJQ_PANEL(3)
#undef TFJQ_PANEL
  }
#define TFJQ_STORE(p)                               \
  if constexpr (P > p) {                            \
    _mm512_storeu_si512(c + 64 * p, c##p##_0);      \
    _mm512_storeu_si512(c + 64 * p + 16, c##p##_1); \
    _mm512_storeu_si512(c + 64 * p + 32, c##p##_2); \
    _mm512_storeu_si512(c + 64 * p + 48, c##p##_3); \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3)
#undef TFJQ_STORE
}

// 12 independent VPDPBUSD per iteration (each into its own accumulator), `iters`
// iterations, in a call-free function so nothing is spilled.
__attribute__((noinline)) int32_t PeakAvx512VnniBlock(int64_t iters, int32_t seed) {
  __m512i x = _mm512_set1_epi32(seed), y = _mm512_set1_epi32(seed + 1);
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0,
          s10 = s0, s11 = s0;
#if !TFJQ_SIMD_EMULATED
  // Written out: with intrinsics GCC proves the 12 chains equal (same inputs, same start)
  // and merges them into one, so the loop measured one dependent VPDPBUSD per iteration
  // while counting twelve (a "peak" above what the core can issue).
  __asm__ volatile(
      "1:\n\t"
      "vpdpbusd %[y], %[x], %[s0]\n\t"
      "vpdpbusd %[y], %[x], %[s1]\n\t"
      "vpdpbusd %[y], %[x], %[s2]\n\t"
      "vpdpbusd %[y], %[x], %[s3]\n\t"
      "vpdpbusd %[y], %[x], %[s4]\n\t"
      "vpdpbusd %[y], %[x], %[s5]\n\t"
      "vpdpbusd %[y], %[x], %[s6]\n\t"
      "vpdpbusd %[y], %[x], %[s7]\n\t"
      "vpdpbusd %[y], %[x], %[s8]\n\t"
      "vpdpbusd %[y], %[x], %[s9]\n\t"
      "vpdpbusd %[y], %[x], %[s10]\n\t"
      "vpdpbusd %[y], %[x], %[s11]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      : [s0] "+v"(s0), [s1] "+v"(s1), [s2] "+v"(s2), [s3] "+v"(s3), [s4] "+v"(s4), [s5] "+v"(s5), [s6] "+v"(s6),
        [s7] "+v"(s7), [s8] "+v"(s8), [s9] "+v"(s9), [s10] "+v"(s10), [s11] "+v"(s11), [n] "+r"(iters)
      : [x] "v"(x), [y] "v"(y)
      : "cc");
#else
  for (int64_t i = 0; i < iters; i++) {
    s0 = _mm512_dpbusd_epi32(s0, x, y);
    s1 = _mm512_dpbusd_epi32(s1, x, y);
    s2 = _mm512_dpbusd_epi32(s2, x, y);
    s3 = _mm512_dpbusd_epi32(s3, x, y);
    s4 = _mm512_dpbusd_epi32(s4, x, y);
    s5 = _mm512_dpbusd_epi32(s5, x, y);
    s6 = _mm512_dpbusd_epi32(s6, x, y);
    s7 = _mm512_dpbusd_epi32(s7, x, y);
    s8 = _mm512_dpbusd_epi32(s8, x, y);
    s9 = _mm512_dpbusd_epi32(s9, x, y);
    s10 = _mm512_dpbusd_epi32(s10, x, y);
    s11 = _mm512_dpbusd_epi32(s11, x, y);
    TFJQ_OPAQUE(x);
    TFJQ_OPAQUE(y);
  }
#endif
  __m512i t = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3)),
                               _mm512_add_epi32(_mm512_add_epi32(s4, s5), _mm512_add_epi32(s6, s7)));
  t = _mm512_add_epi32(t, _mm512_add_epi32(_mm512_add_epi32(s8, s9), _mm512_add_epi32(s10, s11)));
  alignas(64) int32_t lanes[sizeof(__m512i) / 4];
  std::memcpy(lanes, &t, sizeof(t));
  return lanes[0];
}

double PeakAvx512Vnni(double seconds) {
  // 12 VPDPBUSD per iteration, 64 multiply-adds (128 ops) each.
  return TimePeakLoop(
      seconds, TFJQ_SIMD_EMULATED ? 64 : (1 << 16), 12 * 128, TFJQ_SIMD_EMULATED,
      [](int64_t n, int64_t b) { return PeakAvx512VnniBlock(n, 0x01020304 + static_cast<int32_t>(b)); });
}

}  // namespace

const KernelSet* Avx512VnniKernels() {
  static const KernelSet ks = {Isa::kAvx512Vnni,
                               kMr,
                               kNr,
                               /*kgroup=*/4,
                               /*a_bytes_per_k=*/1,
                               /*a_offset=*/0,
                               /*kc_max=*/2048,
                               PackAAvx512Vnni,
                               {KernelAvx512Vnni<1>, KernelAvx512Vnni<2>, KernelAvx512Vnni<3>, KernelAvx512Vnni<4>,
                                KernelAvx512Vnni<5>, KernelAvx512Vnni<6>},
                               {GemvAvx512Vnni<1>, GemvAvx512Vnni<2>, GemvAvx512Vnni<3>, GemvAvx512Vnni<4>},
                               EpilogueAvx512,
                               PeakAvx512Vnni,
                               {FusedRequantRegsAvx512Vnni<true, 64>, FusedRequantRegsAvx512Vnni<false, 64>},
                               FusedDequantAvx512Vnni,
                               PackARowsAvx512Vnni,
                               {KernelAvx512Vnni<1, 32>, KernelAvx512Vnni<2, 32>, KernelAvx512Vnni<3, 32>,
                                KernelAvx512Vnni<4, 32>, KernelAvx512Vnni<5, 32>, KernelAvx512Vnni<6, 32>},
                               {FusedRequantRegsAvx512Vnni<true, 32>, FusedRequantRegsAvx512Vnni<false, 32>},
                               {FusedRequantPartAvx512Vnni<true>, FusedRequantPartAvx512Vnni<false>},
                               {FusedRequantPart12Avx512Vnni<true>, FusedRequantPart12Avx512Vnni<false>},
                               FusedDequantPartAvx512Vnni};
  return &ks;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
