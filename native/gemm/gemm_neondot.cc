// arm64 dot-product path (SDOT, armv8.2-a+dotprod): 6 rows × 16 columns, K in groups of 4.
// SDOT is signed × signed, so A is packed as a' = a − 128 (int8) and the driver folds the
// offset into the zero-point correction (a_offset = 128: acc = Σ a'·b + (128 − za)·Σ b …,
// exact modulo 2^32). Each lane sums 4 exact int8 × int8 products; adds wrap like the ref.
#include <arm_neon.h>

#include <cstring>

#include "gemm/internal.h"
#include "gemm/peak_neon.h"

namespace tfjq {
namespace gemm {
namespace internal {
namespace {

constexpr int kMr = 6;
constexpr int kNr = 16;

// a' = (a ^ mask) − 128 = a ^ mask ^ 0x80 as int8; padding is 0 (B is zero-padded too).
void PackANeonDot(const uint8_t* src, int64_t kc, int64_t kcpad, uint8_t xor_mask, uint8_t* dst) {
  const uint8_t m = static_cast<uint8_t>(xor_mask ^ 0x80);
  const uint8x16_t mask = vdupq_n_u8(m);
  int64_t i = 0;
  for (; i + 16 <= kc; i += 16) vst1q_u8(dst + i, veorq_u8(vld1q_u8(src + i), mask));
  for (; i < kc; i++) dst[i] = static_cast<uint8_t>(src[i] ^ m);
  for (; i < kcpad; i++) dst[i] = 0;
}

inline int8x16_t Dup4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

template <int R>
void KernelNeonDot(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, int32_t* c, int64_t ldc,
                   bool accumulate) {
  const int32x4_t z = vdupq_n_s32(0);
  int32x4_t c0_0 = z, c0_1 = z, c0_2 = z, c0_3 = z, c1_0 = z, c1_1 = z, c1_2 = z, c1_3 = z;
  int32x4_t c2_0 = z, c2_1 = z, c2_2 = z, c2_3 = z, c3_0 = z, c3_1 = z, c3_2 = z, c3_3 = z;
  int32x4_t c4_0 = z, c4_1 = z, c4_2 = z, c4_3 = z, c5_0 = z, c5_1 = z, c5_2 = z, c5_3 = z;
  TFJQ_A_ROWS_6(a, as);
  for (int64_t g = 0; g < kg; g++) {
    const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16), b2 = vld1q_s8(b + 32), b3 = vld1q_s8(b + 48);
    b += 64;
    const int64_t off = g * 4;
// One row's step, then a compiler barrier: it keeps GCC from loading all six A broadcasts up
// front, which with 24 accumulators and four B registers needs 34 of the 32 vector registers
// (it spilled three accumulators to the stack inside the loop: five loads and stores per K
// group).
#define TFJQ_ROW(i)                         \
  if constexpr (R > i) {                    \
    const int8x16_t av = Dup4(a##i + off);  \
    c##i##_0 = vdotq_s32(c##i##_0, b0, av); \
    c##i##_1 = vdotq_s32(c##i##_1, b1, av); \
    c##i##_2 = vdotq_s32(c##i##_2, b2, av); \
    c##i##_3 = vdotq_s32(c##i##_3, b3, av); \
    __asm__ volatile("" ::: "memory");      \
  }
    TFJQ_ROW(0) TFJQ_ROW(1) TFJQ_ROW(2) TFJQ_ROW(3) TFJQ_ROW(4) TFJQ_ROW(5)
#undef TFJQ_ROW
  }
#define TFJQ_STORE(i)                                    \
  if constexpr (R > i) {                                 \
    int32_t* p = c + i * ldc;                            \
    if (accumulate) {                                    \
      c##i##_0 = vaddq_s32(c##i##_0, vld1q_s32(p));      \
      c##i##_1 = vaddq_s32(c##i##_1, vld1q_s32(p + 4));  \
      c##i##_2 = vaddq_s32(c##i##_2, vld1q_s32(p + 8));  \
      c##i##_3 = vaddq_s32(c##i##_3, vld1q_s32(p + 12)); \
    }                                                    \
    vst1q_s32(p, c##i##_0);                              \
    vst1q_s32(p + 4, c##i##_1);                          \
    vst1q_s32(p + 8, c##i##_2);                          \
    vst1q_s32(p + 12, c##i##_3);                         \
  }
  TFJQ_STORE(0) TFJQ_STORE(1) TFJQ_STORE(2) TFJQ_STORE(3) TFJQ_STORE(4) TFJQ_STORE(5)
#undef TFJQ_STORE
}

// 12 independent SDOT per iteration (16 multiply-adds each).
__attribute__((noinline)) int32_t PeakNeonDotBlock(int64_t iters, int8_t seed) {
  return TwelveChains(iters, vdupq_n_s8(seed), vdupq_n_s8(static_cast<int8_t>(seed + 1)),
                      [](int32x4_t s, int8x16_t x, int8x16_t y) { return vdotq_s32(s, x, y); });
}

double PeakNeonDot(double seconds) {
  // 12 SDOT per iteration, 16 multiply-adds (32 ops) each.
  return TimePeakLoop(seconds, 1 << 14, 12 * 32, false,
                      [](int64_t n, int64_t b) { return PeakNeonDotBlock(n, static_cast<int8_t>(3 + b)); });
}

}  // namespace

const KernelSet* NeonDotKernels() {
  static const KernelSet ks = {
      Isa::kNeonDot,
      kMr,
      kNr,
      /*kgroup=*/4,
      /*a_bytes_per_k=*/1,
      /*a_offset=*/128,
      /*kc_max=*/1024,
      PackANeonDot,
      {KernelNeonDot<1>, KernelNeonDot<2>, KernelNeonDot<3>, KernelNeonDot<4>, KernelNeonDot<5>, KernelNeonDot<6>},
      {nullptr, nullptr, nullptr, nullptr},
      EpilogueScalar,
      PeakNeonDot};
  return &ks;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
