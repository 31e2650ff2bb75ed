// AVX2 path: 6×16 microkernel, B panels with K in pairs, A zero-extended to uint16 pairs.
// Exactness: both operands are widened to 16 bits and multiplied with VPMADDWD, which sums
// two exact 32-bit products (|255·128·2| < 2^31), then VPADDD wraps like the reference.
// VPMADDUBSW (16-bit saturation) is never used.
#include <cstring>
#include <type_traits>

#include "common/simd_x86.h"
#include "gemm/internal.h"

namespace tfjq {
namespace gemm {
namespace internal {
namespace {

using simd::LoadU32;

constexpr int kMr = 6;
constexpr int kNr = 16;

// One row of A → uint16 (a ^ mask), zero-padded to kcpad values.
void PackAAvx2(const uint8_t* src, int64_t kc, int64_t kcpad, uint8_t xor_mask, uint8_t* dst8) {
  uint16_t* dst = reinterpret_cast<uint16_t*>(dst8);
  const __m128i mask = _mm_set1_epi8(static_cast<char>(xor_mask));
  int64_t i = 0;
  for (; i + 16 <= kc; i += 16) {
    const __m128i v = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)), mask);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_cvtepu8_epi16(v));
  }
  if (i < kc) {
    // Tail (< 16 values) through a zeroed buffer: one vector store of 16 values. It may
    // write zeros past kcpad, which stays inside the 64-byte-rounded row stride (gemm.cc).
    alignas(16) uint8_t tail[16] = {0};
    std::memcpy(tail, src + i, static_cast<size_t>(kc - i));
    const __m128i v = _mm_xor_si128(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)), mask);
    const __m128i keep = _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(kc - i)),
                                        _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_cvtepu8_epi16(_mm_and_si128(v, keep)));
    i += 16;
  }
  for (; i < kcpad; i++) dst[i] = 0;
}

// PackAAvx2 over `rows` rows. The last partial 16-value chunk of a row is one masked vector
// load when the 16 bytes lie below src_end (bytes past kc are read but zeroed), else the
// buffered tail of PackAAvx2 — bit-identical results either way.
void PackARowsAvx2(const uint8_t* src, int64_t lda, int64_t rows, int64_t kc, int64_t kcpad, uint8_t xor_mask,
                   uint8_t* dst8, int64_t dst_stride, const uint8_t* src_end) {
  const __m128i mask = _mm_set1_epi8(static_cast<char>(xor_mask));
  const int64_t full = kc / 16 * 16, rem = kc - full;
  const __m128i keep = _mm_cmpgt_epi8(_mm_set1_epi8(static_cast<char>(rem)),
                                      _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  // Values written per row by the vector stores; zeros after that up to kcpad.
  const int64_t written = rem ? full + 16 : full;
  for (int64_t r = 0; r < rows; r++, src += lda, dst8 += dst_stride) {
    uint16_t* dst = reinterpret_cast<uint16_t*>(dst8);
    if (rem && src + full + 16 > src_end) {
      PackAAvx2(src, kc, kcpad, xor_mask, dst8);
      continue;
    }
    int64_t i = 0;
    for (; i < full; i += 16) {
      const __m128i v = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)), mask);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_cvtepu8_epi16(v));
    }
    if (rem) {
      const __m128i v =
          _mm_and_si128(_mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)), mask), keep);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm256_cvtepu8_epi16(v));
    }
    for (int64_t j = written; j < kcpad; j++) dst[j] = 0;
  }
}

// The 6 × 16 tile loop over kg K groups: zeroes c00..c51 and accumulates into them. Needs
// locals a0, a3, as, b (advanced), kg. Written out in assembly: GCC 12 spills accumulators
// when this loop is written with intrinsics (all 16 ymm registers are in use).
#if !TFJQ_SIMD_EMULATED
#define TFJQ_AVX2_TILE_6x16()                                                                                        \
  __m256i t0, t1, t2, t3;                                                                                            \
  const uint8_t* ap = a0;                                                                                            \
  const uint8_t* ap3 = a3;                                                                                           \
  int64_t count = kg;                                                                                                \
  __asm__ volatile(                                                                                                  \
      "vpxor %[c00], %[c00], %[c00]\n\t vpxor %[c01], %[c01], %[c01]\n\t"                                            \
      "vpxor %[c10], %[c10], %[c10]\n\t vpxor %[c11], %[c11], %[c11]\n\t"                                            \
      "vpxor %[c20], %[c20], %[c20]\n\t vpxor %[c21], %[c21], %[c21]\n\t"                                            \
      "vpxor %[c30], %[c30], %[c30]\n\t vpxor %[c31], %[c31], %[c31]\n\t"                                            \
      "vpxor %[c40], %[c40], %[c40]\n\t vpxor %[c41], %[c41], %[c41]\n\t"                                            \
      "vpxor %[c50], %[c50], %[c50]\n\t vpxor %[c51], %[c51], %[c51]\n\t"                                            \
      ".p2align 4\n\t"                                                                                               \
      "1:\n\t"                                                                                                       \
      "vpmovsxbw (%[b]), %[t0]\n\t"                                                                                  \
      "vpmovsxbw 16(%[b]), %[t1]\n\t"                                                                                \
      "vpbroadcastd (%[ap]), %[t2]\n\t"                                                                              \
      "vpmaddwd %[t0], %[t2], %[t3]\n\t vpaddd %[t3], %[c00], %[c00]\n\t"                                            \
      "vpmaddwd %[t1], %[t2], %[t3]\n\t vpaddd %[t3], %[c01], %[c01]\n\t"                                            \
      "vpbroadcastd (%[ap],%[as],1), %[t2]\n\t"                                                                      \
      "vpmaddwd %[t0], %[t2], %[t3]\n\t vpaddd %[t3], %[c10], %[c10]\n\t"                                            \
      "vpmaddwd %[t1], %[t2], %[t3]\n\t vpaddd %[t3], %[c11], %[c11]\n\t"                                            \
      "vpbroadcastd (%[ap],%[as],2), %[t2]\n\t"                                                                      \
      "vpmaddwd %[t0], %[t2], %[t3]\n\t vpaddd %[t3], %[c20], %[c20]\n\t"                                            \
      "vpmaddwd %[t1], %[t2], %[t3]\n\t vpaddd %[t3], %[c21], %[c21]\n\t"                                            \
      "vpbroadcastd (%[ap3]), %[t2]\n\t"                                                                             \
      "vpmaddwd %[t0], %[t2], %[t3]\n\t vpaddd %[t3], %[c30], %[c30]\n\t"                                            \
      "vpmaddwd %[t1], %[t2], %[t3]\n\t vpaddd %[t3], %[c31], %[c31]\n\t"                                            \
      "vpbroadcastd (%[ap3],%[as],1), %[t2]\n\t"                                                                     \
      "vpmaddwd %[t0], %[t2], %[t3]\n\t vpaddd %[t3], %[c40], %[c40]\n\t"                                            \
      "vpmaddwd %[t1], %[t2], %[t3]\n\t vpaddd %[t3], %[c41], %[c41]\n\t"                                            \
      "vpbroadcastd (%[ap3],%[as],2), %[t2]\n\t"                                                                     \
      "vpmaddwd %[t0], %[t2], %[t3]\n\t vpaddd %[t3], %[c50], %[c50]\n\t"                                            \
      "vpmaddwd %[t1], %[t2], %[t3]\n\t vpaddd %[t3], %[c51], %[c51]\n\t"                                            \
      "add $32, %[b]\n\t"                                                                                            \
      "add $4, %[ap]\n\t"                                                                                            \
      "add $4, %[ap3]\n\t"                                                                                           \
      "dec %[count]\n\t"                                                                                             \
      "jnz 1b\n\t"                                                                                                   \
      : [c00] "=&x"(c00), [c01] "=&x"(c01), [c10] "=&x"(c10), [c11] "=&x"(c11), [c20] "=&x"(c20), [c21] "=&x"(c21),  \
        [c30] "=&x"(c30), [c31] "=&x"(c31), [c40] "=&x"(c40), [c41] "=&x"(c41), [c50] "=&x"(c50), [c51] "=&x"(c51),  \
        [t0] "=&x"(t0), [t1] "=&x"(t1), [t2] "=&x"(t2), [t3] "=&x"(t3), [b] "+r"(b), [ap] "+r"(ap), [ap3] "+r"(ap3), \
        [count] "+r"(count)                                                                                          \
      : [as] "r"(as)                                                                                                 \
      : "cc", "memory");                                                                                             \
  do {                                                                                                               \
  } while (0)
#endif

// Applies f(lo, hi, row) to the 12 accumulators of the 6 × 16 tile, row by row.
#define TFJQ_EACH_ROW_6x16(f) \
  f(c00, c01, 0);             \
  f(c10, c11, 1);             \
  f(c20, c21, 2);             \
  f(c30, c31, 3);             \
  f(c40, c41, 4);             \
  f(c50, c51, 5)

// R rows × 16 columns; named accumulators (arrays of __m256i get spilled by GCC).
template <int R>
void KernelAvx2(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, int32_t* c, int64_t ldc, bool accumulate) {
  __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
  __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
  __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
  __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
  __m256i c40 = _mm256_setzero_si256(), c41 = _mm256_setzero_si256();
  __m256i c50 = _mm256_setzero_si256(), c51 = _mm256_setzero_si256();
  TFJQ_A_ROWS_6(a, as);
#if !TFJQ_SIMD_EMULATED
  if constexpr (R == 6) {
    // The full tile needs all 16 ymm registers (12 accumulators, 2 B, 1 A, 1 product);
    // GCC 12 spills accumulators when this loop is written with intrinsics, so it is
    // written out. Same instructions as the intrinsic loop below.
    TFJQ_AVX2_TILE_6x16();
  } else
#endif
    for (int64_t g = 0; g < kg; g++) {
      const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
      const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + 16)));
      b += 32;
      const int64_t off = g * 4;
#define TFJQ_ROW(i)                                                 \
  if constexpr (R > i) {                                            \
    const __m256i av = _mm256_set1_epi32(LoadU32(a##i + off));      \
    c##i##0 = _mm256_add_epi32(c##i##0, _mm256_madd_epi16(av, b0)); \
    c##i##1 = _mm256_add_epi32(c##i##1, _mm256_madd_epi16(av, b1)); \
  }
      TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
#undef TFJQ_ROW
    }
#define TFJQ_STORE(i)                                                 \
  if constexpr (R > i) {                                              \
    __m256i* p = reinterpret_cast<__m256i*>(c + i * ldc);             \
    if (accumulate) {                                                 \
      c##i##0 = _mm256_add_epi32(c##i##0, _mm256_loadu_si256(p));     \
      c##i##1 = _mm256_add_epi32(c##i##1, _mm256_loadu_si256(p + 1)); \
    }                                                                 \
    _mm256_storeu_si256(p, c##i##0);                                  \
    _mm256_storeu_si256(p + 1, c##i##1);                              \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3) TFJQ_STORE(4) TFJQ_STORE(5)
#undef TFJQ_STORE
}

// R rows × the first 8 columns of a panel (the first 16 bytes of each 32-byte K group).
template <int R>
void KernelHalfAvx2(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, int32_t* c, int64_t ldc,
                    bool accumulate) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  TFJQ_A_ROWS_6(a, as);
  for (int64_t g = 0; g < kg; g++, b += 32) {
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
    const int64_t off = g * 4;
#define TFJQ_ROW(i) \
  if constexpr (R > i) c##i = _mm256_add_epi32(c##i, _mm256_madd_epi16(_mm256_set1_epi32(LoadU32(a##i + off)), b0));
    TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
#undef TFJQ_ROW
  }
#define TFJQ_STORE(i)                                                                          \
  if constexpr (R > i) {                                                                       \
    __m256i* p = reinterpret_cast<__m256i*>(c + i * ldc);                                      \
    _mm256_storeu_si256(p, accumulate ? _mm256_add_epi32(c##i, _mm256_loadu_si256(p)) : c##i); \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3) TFJQ_STORE(4) TFJQ_STORE(5)
#undef TFJQ_STORE
}

template <int P>
void GemvAvx2(int64_t kg, const uint8_t* a, const int8_t* b, int64_t ps, int32_t* c) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const int8_t* b0 = b;
  const int8_t* b1 = b + ps;
  const int8_t* b2 = b + 2 * ps;
  const int8_t* b3 = b + 3 * ps;
  for (int64_t g = 0; g < kg; g++) {
    const __m256i av = _mm256_set1_epi32(LoadU32(a + 4 * g));
    const int64_t o = 32 * g;
#define TFJQ_PANEL(p, x, y)                                                                                            \
  if constexpr (P > p) {                                                                                               \
    x = _mm256_add_epi32(                                                                                              \
        x, _mm256_madd_epi16(av, _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b##p + o)))));  \
    y = _mm256_add_epi32(                                                                                              \
        y, _mm256_madd_epi16(av,                                                                                       \
                             _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b##p + o + 16))))); \
  }
    TFJQ_PANEL(0, c0, c1) TFJQ_PANEL(1, c2, c3) TFJQ_PANEL(2, c4, c5) TFJQ_PANEL(3, c6, c7)
#undef TFJQ_PANEL
  }
  __m256i* p = reinterpret_cast<__m256i*>(c);
  _mm256_storeu_si256(p, c0);
  _mm256_storeu_si256(p + 1, c1);
  if constexpr (P > 1) {
    _mm256_storeu_si256(p + 2, c2);
    _mm256_storeu_si256(p + 3, c3);
  }
  if constexpr (P > 2) {
    _mm256_storeu_si256(p + 4, c4);
    _mm256_storeu_si256(p + 5, c5);
  }
  if constexpr (P > 3) {
    _mm256_storeu_si256(p + 6, c6);
    _mm256_storeu_si256(p + 7, c7);
  }
}

// 8 independent VPMADDWD+VPADDD pairs per iteration, `iters` iterations (written out so the
// measured loop is exactly these instructions).
__attribute__((noinline)) int32_t PeakAvx2Block(int64_t iters, int32_t seed) {
  __m256i x = _mm256_set1_epi32(seed), y = _mm256_set1_epi32(seed + 1);
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
#if !TFJQ_SIMD_EMULATED
  __m256i t0, t1, t2, t3;
  __asm__ volatile(
      "1:\n\t"
      "vpmaddwd %[x], %[y], %[t0]\n\t vpaddd %[t0], %[s0], %[s0]\n\t"
      "vpmaddwd %[x], %[y], %[t1]\n\t vpaddd %[t1], %[s1], %[s1]\n\t"
      "vpmaddwd %[x], %[y], %[t2]\n\t vpaddd %[t2], %[s2], %[s2]\n\t"
      "vpmaddwd %[x], %[y], %[t3]\n\t vpaddd %[t3], %[s3], %[s3]\n\t"
      "vpmaddwd %[x], %[y], %[t0]\n\t vpaddd %[t0], %[s4], %[s4]\n\t"
      "vpmaddwd %[x], %[y], %[t1]\n\t vpaddd %[t1], %[s5], %[s5]\n\t"
      "vpmaddwd %[x], %[y], %[t2]\n\t vpaddd %[t2], %[s6], %[s6]\n\t"
      "vpmaddwd %[x], %[y], %[t3]\n\t vpaddd %[t3], %[s7], %[s7]\n\t"
      "dec %[n]\n\t"
      "jnz 1b\n\t"
      : [s0] "+x"(s0), [s1] "+x"(s1), [s2] "+x"(s2), [s3] "+x"(s3), [s4] "+x"(s4), [s5] "+x"(s5), [s6] "+x"(s6),
        [s7] "+x"(s7), [t0] "=&x"(t0), [t1] "=&x"(t1), [t2] "=&x"(t2), [t3] "=&x"(t3), [n] "+r"(iters)
      : [x] "x"(x), [y] "x"(y)
      : "cc");
#else
  for (int64_t i = 0; i < iters; i++) {
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(x, y));
    TFJQ_OPAQUE(x);
  }
#endif
  const __m256i t = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)),
                                     _mm256_add_epi32(_mm256_add_epi32(s4, s5), _mm256_add_epi32(s6, s7)));
  return _mm256_extract_epi32(t, 0);
}

double PeakAvx2(double seconds) {
  // 8 VPMADDWD per iteration, 16 multiply-adds (32 ops) each.
  return TimePeakLoop(seconds, 1 << 16, 8 * 32, false,
                      [](int64_t n, int64_t b) { return PeakAvx2Block(n, 0x00030002 + static_cast<int32_t>(b)); });
}

// Kernel + requantize of one full 6 × 16 tile (all of K in one block), in registers: the
// int32 tile never goes to memory. The same float operations in the same order as
// RequantRowsAvx2 (bit-identical; test/gemm forces both through the session and the API).
template <bool kSigned>
void FusedRequantAvx2(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx, int64_t m0,
                      int64_t n0) {
#if TFJQ_SIMD_EMULATED
  alignas(32) int32_t tile[6 * 16];
  KernelAvx2<6>(kg, a, as, b, tile, 16, false);
  (kSigned ? RequantRowsAvx2S8 : RequantRowsAvx2U8)(ctx, tile, 16, m0, 6, n0, 16);
#else
  using T = typename std::conditional<kSigned, int8_t, uint8_t>::type;
  __m256i c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  const uint8_t* a0 = a;
  const uint8_t* a3 = a + 3 * as;
  TFJQ_AVX2_TILE_6x16();
  const __m256i ct0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctx.col_term + n0));
  const __m256i ct1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ctx.col_term + n0 + 8));
  const __m256 mu0 = _mm256_loadu_ps(ctx.mult + n0), mu1 = _mm256_loadu_ps(ctx.mult + n0 + 8);
  if (ctx.mult_small) {
    // Two rows per step, clamped as bytes: rne(fl32(acc)·mult) (no overflow, see EpiCtx),
    // saturated to int16, + zo with int16 saturation, saturated to 8 bits, clamped to
    // [qmin, qmax]. Every saturation happens only beyond the final clamp, and the float clamp
    // of the general path commutes with the rounding (integer bounds): the same bytes with
    // about a third fewer instructions (no float min/max, zo added 16 at a time, one pack
    // and one permute per two rows).
    const __m256i zo16 = _mm256_set1_epi16(static_cast<int16_t>(ctx.zo));
    const __m256i qmin8 = _mm256_set1_epi8(static_cast<char>(ctx.qmin)),
                  qmax8 = _mm256_set1_epi8(static_cast<char>(ctx.qmax));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    T* out = static_cast<T*>(ctx.c) + m0 * ctx.ldc + n0;
    const int64_t ldc = ctx.ldc;
    auto cv = [](__m256i acc, __m256i ct, __m256 mu) {
      return _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc, ct)), mu));
    };
    auto two_rows = [&](__m256i a0, __m256i a1, __m256i b0, __m256i b1, int i) {
      const __m256i pa = _mm256_adds_epi16(_mm256_packs_epi32(cv(a0, ct0, mu0), cv(a1, ct1, mu1)), zo16);
      const __m256i pb = _mm256_adds_epi16(_mm256_packs_epi32(cv(b0, ct0, mu0), cv(b1, ct1, mu1)), zo16);
      // dwords of the pack: [a0-3, a8-11, b0-3, b8-11 | a4-7, a12-15, b4-7, b12-15] → rows in order.
      __m256i q =
          _mm256_permutevar8x32_epi32(kSigned ? _mm256_packs_epi16(pa, pb) : _mm256_packus_epi16(pa, pb), order);
      q = kSigned ? _mm256_min_epi8(_mm256_max_epi8(q, qmin8), qmax8)
                  : _mm256_min_epu8(_mm256_max_epu8(q, qmin8), qmax8);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i * ldc), _mm256_castsi256_si128(q));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (i + 1) * ldc), _mm256_extracti128_si256(q, 1));
    };
    two_rows(c00, c01, c10, c11, 0);
    two_rows(c20, c21, c30, c31, 2);
    two_rows(c40, c41, c50, c51, 4);
    return;
  }
  const __m256 qlo = _mm256_set1_ps(ctx.qlo_f), qhi = _mm256_set1_ps(ctx.qhi_f);
  const __m256i zo = _mm256_set1_epi32(ctx.zo);
  auto requant = [&](__m256i acc, __m256i ctv, __m256 mv) {
    const __m256i v = _mm256_add_epi32(acc, ctv);
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), mv);
    y = _mm256_min_ps(_mm256_max_ps(y, qlo), qhi);
    const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(y), zo);
    return _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
  };
  T* out = static_cast<T*>(ctx.c) + m0 * ctx.ldc + n0;
  const int64_t ldc = ctx.ldc;
  auto row = [&](__m256i x0, __m256i x1, int i) {
    const __m128i w0 = requant(x0, ct0, mu0), w1 = requant(x1, ct1, mu1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i * ldc),
                     kSigned ? _mm_packs_epi16(w0, w1) : _mm_packus_epi16(w0, w1));
  };
  TFJQ_EACH_ROW_6x16(row);
#endif
}

// Kernel + dequantize of one full 6 × 16 tile (all of K in one block, no weight zero
// points), in registers: the float counterpart of FusedRequantAvx2 for the dynamic
// quantization path (per-row za, per-row sa) and float-output layers. The same operations
// in the same order as DequantRowsAvx2 (bit-identical).
void FusedDequantAvx2(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, const EpiCtx& ctx,
                      const EpiRow* rows_info, int64_t m0, int64_t n0) {
#if TFJQ_SIMD_EMULATED
  alignas(32) int32_t tile[6 * 16];
  KernelAvx2<6>(kg, a, as, b, tile, 16, false);
  DequantRowsAvx2(ctx, tile, 16, rows_info, m0, 6, n0, 16);
#else
  __m256i c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  const uint8_t* a0 = a;
  const uint8_t* a3 = a + 3 * as;
  TFJQ_AVX2_TILE_6x16();
  auto ld_i = [](const int32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); };
  const bool col_term = ctx.col_term != nullptr;
  const __m256i ct0 = col_term ? ld_i(ctx.col_term + n0) : ld_i(ctx.col_sums + n0);
  const __m256i ct1 = col_term ? ld_i(ctx.col_term + n0 + 8) : ld_i(ctx.col_sums + n0 + 8);
  const bool ibias = !col_term && ctx.bias;
  const __m256i bi0 = ibias ? ld_i(ctx.bias + n0) : _mm256_setzero_si256();
  const __m256i bi1 = ibias ? ld_i(ctx.bias + n0 + 8) : _mm256_setzero_si256();
  const __m256 ws0 = _mm256_loadu_ps(ctx.w_scales + n0), ws1 = _mm256_loadu_ps(ctx.w_scales + n0 + 8);
  const bool fbias = ctx.bias_f32 != nullptr;
  const __m256 bf0 = fbias ? _mm256_loadu_ps(ctx.bias_f32 + n0) : _mm256_setzero_ps();
  const __m256 bf1 = fbias ? _mm256_loadu_ps(ctx.bias_f32 + n0 + 8) : _mm256_setzero_ps();
  const bool act_lo = ctx.act != Activation::kLinear;
  const bool act_hi = ctx.act == Activation::kRelu6 || ctx.act == Activation::kClamp;
  const __m256 alo = _mm256_set1_ps(ctx.act_lo), ahi = _mm256_set1_ps(ctx.act_hi);
  float* out = static_cast<float*>(ctx.c) + m0 * ctx.ldc + n0;
  const int64_t ldc = ctx.ldc;
  auto one = [&](__m256i v, __m256i ct, __m256i bi, __m256 ws, __m256 bf, const EpiRow& r, float* dst) {
    if (col_term) {
      v = _mm256_add_epi32(v, ct);
    } else {
      v = _mm256_sub_epi32(v, _mm256_mullo_epi32(_mm256_set1_epi32(r.za), ct));
      if (ibias) v = _mm256_add_epi32(v, bi);
    }
    const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(r.sa), ws);
    __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(v), sc);
    if (fbias) y = _mm256_add_ps(y, bf);
    if (act_lo) y = _mm256_max_ps(y, alo);
    if (act_hi) y = _mm256_min_ps(y, ahi);
    _mm256_storeu_ps(dst, y);
  };
  auto row = [&](__m256i x0, __m256i x1, int i) {
    one(x0, ct0, bi0, ws0, bf0, rows_info[i], out + i * ldc);
    one(x1, ct1, bi1, ws1, bf1, rows_info[i], out + i * ldc + 8);
  };
  TFJQ_EACH_ROW_6x16(row);
#endif
}

}  // namespace

const KernelSet* Avx2Kernels() {
  static const KernelSet ks = {
      Isa::kAvx2,
      kMr,
      kNr,
      /*kgroup=*/2,
      /*a_bytes_per_k=*/2,
      /*a_offset=*/0,
      /*kc_max=*/1024,
      PackAAvx2,
      {KernelAvx2<1>, KernelAvx2<2>, KernelAvx2<3>, KernelAvx2<4>, KernelAvx2<5>, KernelAvx2<6>},
      {GemvAvx2<1>, GemvAvx2<2>, GemvAvx2<3>, GemvAvx2<4>},
      EpilogueAvx2,
      PeakAvx2,
      {FusedRequantAvx2<true>, FusedRequantAvx2<false>},
      FusedDequantAvx2,
      PackARowsAvx2,
      {KernelHalfAvx2<1>, KernelHalfAvx2<2>, KernelHalfAvx2<3>, KernelHalfAvx2<4>, KernelHalfAvx2<5>,
       KernelHalfAvx2<6>}};
  return &ks;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
