// arm64 8-bit matrix-multiply path (USMMLA, armv8.2-a+i8mm): 6 rows × 16 columns, K in groups
// of 8. USMMLA multiplies a 2 × 8 block of unsigned bytes (two rows of A, eight K values each)
// by the transpose of a 2 × 8 block of signed bytes (two columns of B) into a 2 × 2 int32 tile:
// 32 multiply-adds per instruction, twice SDOT's 16. Being unsigned × signed, it takes A as the
// uint8 the driver gives every path (a_offset 0, no − 128 shift as SDOT needs).
//
// Layouts: B's generic panel layout with kgroup 8 keeps each column's 8 values of a group
// together, so columns 2p and 2p + 1 of a group are the 16 contiguous bytes USMMLA reads as its
// B operand. A rows are packed one per row as on the other paths; a register pairs two rows'
// 8 bytes of a group (two 64-bit loads). Accumulator (q, p) holds rows 2q, 2q + 1 × columns
// 2p, 2p + 1 as [r00, r01, r10, r11]; 64-bit transposes of two neighbouring accumulators give
// each row's four consecutive columns for the stores.
//
// Tile: 3 row pairs × 8 column pairs = 24 accumulators, 3 A registers, 1–2 B registers (of 32).
// Per group of 8 K values: 6 A loads (+ 3 inserts), 8 B loads and 24 USMMLA for 768
// multiply-adds — 18.7 per instruction of the loop body, against 11.3 for the SDOT tile
// (docs/gemm.md counts both from the disassembly).
//
// Exactness: each lane adds 8 exact uint8 × int8 products (|Σ| ≤ 8·255·128 < 2^31) to its
// accumulator, adds wrapping modulo 2^32 like the reference; padding is zero in A and B.
#include <arm_neon.h>

#include "gemm/internal.h"
#include "gemm/peak_neon.h"

namespace tfjq {
namespace gemm {
namespace internal {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;
constexpr int kGroup = 8;

// a ^ xor_mask as uint8 (the signed input shifted into uint8 like every path), zeros up to kcpad.
void PackANeonI8mm(const uint8_t* src, int64_t kc, int64_t kcpad, uint8_t xor_mask, uint8_t* dst) {
  const uint8x16_t mask = vdupq_n_u8(xor_mask);
  int64_t i = 0;
  for (; i + 16 <= kc; i += 16) vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), mask));
  for (; i < kc; i++) dst[i] = static_cast<uint8_t>(src[i] ^ xor_mask);
  for (; i < kcpad; i++) dst[i] = 0;
}

// Row 2q's and row 2q + 1's four columns 4t..4t + 3 from accumulators (q, 2t) and (q, 2t + 1).
inline int32x4_t EvenRow(int32x4_t l, int32x4_t r) {
  return vreinterpretq_s32_s64(vtrn1q_s64(vreinterpretq_s64_s32(l), vreinterpretq_s64_s32(r)));
}
inline int32x4_t OddRow(int32x4_t l, int32x4_t r) {
  return vreinterpretq_s32_s64(vtrn2q_s64(vreinterpretq_s64_s32(l), vreinterpretq_s64_s32(r)));
}

template <int R>
void KernelNeonI8mm(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, int32_t* c, int64_t ldc,
                    bool accumulate) {
  constexpr int kPairs = (R + 1) / 2;
  const int32x4_t z = vdupq_n_s32(0);
  int32x4_t c0_0 = z, c0_1 = z, c0_2 = z, c0_3 = z, c0_4 = z, c0_5 = z, c0_6 = z, c0_7 = z;
  int32x4_t c1_0 = z, c1_1 = z, c1_2 = z, c1_3 = z, c1_4 = z, c1_5 = z, c1_6 = z, c1_7 = z;
  int32x4_t c2_0 = z, c2_1 = z, c2_2 = z, c2_3 = z, c2_4 = z, c2_5 = z, c2_6 = z, c2_7 = z;
  // Rows past R: the pair's second row repeats the first (its sums are never stored), so no
  // read goes past the R rows of packed A.
  const uint8_t* a0 = a;
  const uint8_t* a1 = R > 1 ? a + as : a0;
  const uint8_t* a2 = R > 2 ? a + 2 * as : a0;
  const uint8_t* a3 = R > 3 ? a + 3 * as : a2;
  const uint8_t* a4 = R > 4 ? a + 4 * as : a0;
  const uint8_t* a5 = R > 5 ? a + 5 * as : a4;
  for (int64_t g = 0; g < kg; g++) {
    const int64_t off = g * kGroup;
    uint8x16_t x0 = vdupq_n_u8(0), x1 = x0, x2 = x0;
    if constexpr (kPairs > 0) x0 = vcombine_u8(vld1_u8(a0 + off), vld1_u8(a1 + off));
    if constexpr (kPairs > 1) x1 = vcombine_u8(vld1_u8(a2 + off), vld1_u8(a3 + off));
    if constexpr (kPairs > 2) x2 = vcombine_u8(vld1_u8(a4 + off), vld1_u8(a5 + off));
// Two column pairs at a time (their B loads pair into one LDP), then a compiler barrier: it
// keeps GCC from hoisting all eight B loads to the top of the body, which with 24 accumulators
// and three A registers needs 35 of the 32 vector registers (it spilled four accumulators to
// the stack inside the loop).
#define TFJQ_COLS(p)                                                 \
  do {                                                               \
    const int8x16_t bv = vld1q_s8(b + 16 * (p));                     \
    if constexpr (kPairs > 0) c0_##p = vusmmlaq_s32(c0_##p, x0, bv); \
    if constexpr (kPairs > 1) c1_##p = vusmmlaq_s32(c1_##p, x1, bv); \
    if constexpr (kPairs > 2) c2_##p = vusmmlaq_s32(c2_##p, x2, bv); \
  } while (0)
#define TFJQ_BARRIER() __asm__ volatile("" ::: "memory")
    TFJQ_COLS(0);
    TFJQ_COLS(1);
    TFJQ_BARRIER();
    TFJQ_COLS(2);
    TFJQ_COLS(3);
    TFJQ_BARRIER();
    TFJQ_COLS(4);
    TFJQ_COLS(5);
    TFJQ_BARRIER();
    TFJQ_COLS(6);
    TFJQ_COLS(7);
#undef TFJQ_COLS
#undef TFJQ_BARRIER
    b += kNr * kGroup;
  }
  auto store = [&](int row, int32x4_t v0, int32x4_t v1, int32x4_t v2, int32x4_t v3) {
    int32_t* p = c + row * ldc;
    if (accumulate) {
      v0 = vaddq_s32(v0, vld1q_s32(p));
      v1 = vaddq_s32(v1, vld1q_s32(p + 4));
      v2 = vaddq_s32(v2, vld1q_s32(p + 8));
      v3 = vaddq_s32(v3, vld1q_s32(p + 12));
    }
    vst1q_s32(p, v0);
    vst1q_s32(p + 4, v1);
    vst1q_s32(p + 8, v2);
    vst1q_s32(p + 12, v3);
  };
#define TFJQ_STORE_PAIR(q)                                                                                 \
  if constexpr (kPairs > q) {                                                                              \
    store(2 * q, EvenRow(c##q##_0, c##q##_1), EvenRow(c##q##_2, c##q##_3), EvenRow(c##q##_4, c##q##_5),    \
          EvenRow(c##q##_6, c##q##_7));                                                                    \
    if constexpr (R > 2 * q + 1)                                                                           \
      store(2 * q + 1, OddRow(c##q##_0, c##q##_1), OddRow(c##q##_2, c##q##_3), OddRow(c##q##_4, c##q##_5), \
            OddRow(c##q##_6, c##q##_7));                                                                   \
  }
  TFJQ_STORE_PAIR(0) TFJQ_STORE_PAIR(1) TFJQ_STORE_PAIR(2)
#undef TFJQ_STORE_PAIR
}

// 12 independent USMMLA per iteration (32 multiply-adds each).
__attribute__((noinline)) int32_t PeakNeonI8mmBlock(int64_t iters, int8_t seed) {
  return TwelveChains(iters, vdupq_n_u8(static_cast<uint8_t>(seed)), vdupq_n_s8(static_cast<int8_t>(seed + 1)),
                      [](int32x4_t s, uint8x16_t x, int8x16_t y) { return vusmmlaq_s32(s, x, y); });
}

double PeakNeonI8mm(double seconds) {
  // 12 USMMLA per iteration, 32 multiply-adds (64 ops) each.
  return TimePeakLoop(seconds, 1 << 14, 12 * 64, false,
                      [](int64_t n, int64_t b) { return PeakNeonI8mmBlock(n, static_cast<int8_t>(3 + b)); });
}

}  // namespace

const KernelSet* NeonI8mmKernels() {
  static const KernelSet ks = {Isa::kNeonI8mm,
                               kMr,
                               kNr,
                               /*kgroup=*/kGroup,
                               /*a_bytes_per_k=*/1,
                               /*a_offset=*/0,
                               /*kc_max=*/1024,
                               PackANeonI8mm,
                               {KernelNeonI8mm<1>, KernelNeonI8mm<2>, KernelNeonI8mm<3>, KernelNeonI8mm<4>,
                                KernelNeonI8mm<5>, KernelNeonI8mm<6>},
                               {nullptr, nullptr, nullptr, nullptr},
                               EpilogueScalar,
                               PeakNeonI8mm};
  return &ks;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
