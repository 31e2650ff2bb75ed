// arm64 baseline Advanced SIMD path: 6 rows × 16 columns, K one value at a time.
// A is packed as int16 (uint8 zero-extended), B sign-extended to int16 in registers, and
// SMLAL/SMLAL2 (vmlal_n_s16 / vmlal_high_n_s16) accumulate exact 32-bit products
// (|255·128| < 2^15·2^8) with modular 32-bit adds, like the reference.
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

void PackANeon(const uint8_t* src, int64_t kc, int64_t kcpad, uint8_t xor_mask, uint8_t* dst8) {
  int16_t* dst = reinterpret_cast<int16_t*>(dst8);
  const uint8x16_t mask = vdupq_n_u8(xor_mask);
  int64_t i = 0;
  for (; i + 16 <= kc; i += 16) {
    const uint8x16_t v = veorq_u8(vld1q_u8(src + i), mask);
    vst1q_s16(dst + i, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v))));
    vst1q_s16(dst + i + 8, vreinterpretq_s16_u16(vmovl_high_u8(v)));
  }
  for (; i < kc; i++) dst[i] = static_cast<uint8_t>(src[i] ^ xor_mask);
  for (; i < kcpad; i++) dst[i] = 0;
}

template <int R>
void KernelNeon(int64_t kg, const uint8_t* a, int64_t as, const int8_t* b, int32_t* c, int64_t ldc, bool accumulate) {
  const int32x4_t z = vdupq_n_s32(0);
  int32x4_t c0_0 = z, c0_1 = z, c0_2 = z, c0_3 = z, c1_0 = z, c1_1 = z, c1_2 = z, c1_3 = z;
  int32x4_t c2_0 = z, c2_1 = z, c2_2 = z, c2_3 = z, c3_0 = z, c3_1 = z, c3_2 = z, c3_3 = z;
  int32x4_t c4_0 = z, c4_1 = z, c4_2 = z, c4_3 = z, c5_0 = z, c5_1 = z, c5_2 = z, c5_3 = z;
  const int16_t* a0 = reinterpret_cast<const int16_t*>(a);
  const int16_t* a1 = reinterpret_cast<const int16_t*>(a + as);
  const int16_t* a2 = reinterpret_cast<const int16_t*>(a + 2 * as);
  const int16_t* a3 = reinterpret_cast<const int16_t*>(a + 3 * as);
  const int16_t* a4 = reinterpret_cast<const int16_t*>(a + 4 * as);
  const int16_t* a5 = reinterpret_cast<const int16_t*>(a + 5 * as);
  for (int64_t g = 0; g < kg; g++) {
    const int8x16_t bv = vld1q_s8(b);
    b += 16;
    const int16x8_t bl = vmovl_s8(vget_low_s8(bv)), bh = vmovl_high_s8(bv);
#define TFJQ_ROW(i)                                         \
  if constexpr (R > i) {                                    \
    const int16_t av = a##i[g];                             \
    c##i##_0 = vmlal_n_s16(c##i##_0, vget_low_s16(bl), av); \
    c##i##_1 = vmlal_high_n_s16(c##i##_1, bl, av);          \
    c##i##_2 = vmlal_n_s16(c##i##_2, vget_low_s16(bh), av); \
    c##i##_3 = vmlal_high_n_s16(c##i##_3, bh, av);          \
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

// 12 independent SMLAL (by element) per iteration (4 multiply-adds each).
__attribute__((noinline)) int32_t PeakNeonBlock(int64_t iters, int16_t seed) {
  return TwelveChains(iters, vdup_n_s16(seed), vdup_n_s16(static_cast<int16_t>(seed + 1)),
                      [](int32x4_t s, int16x4_t x, int16x4_t y) { return vmlal_lane_s16(s, x, y, 0); });
}

double PeakNeon(double seconds) {
  // 12 SMLAL per iteration, 4 multiply-adds (8 ops) each.
  return TimePeakLoop(seconds, 1 << 14, 12 * 8, false,
                      [](int64_t n, int64_t b) { return PeakNeonBlock(n, static_cast<int16_t>(3 + b)); });
}

}  // namespace

const KernelSet* NeonKernels() {
  static const KernelSet ks = {
      Isa::kNeon,
      kMr,
      kNr,
      /*kgroup=*/1,
      /*a_bytes_per_k=*/2,
      /*a_offset=*/0,
      /*kc_max=*/1024,
      PackANeon,
      {KernelNeon<1>, KernelNeon<2>, KernelNeon<3>, KernelNeon<4>, KernelNeon<5>, KernelNeon<6>},
      {nullptr, nullptr, nullptr, nullptr},
      EpilogueScalar,
      PeakNeon};
  return &ks;
}

}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
