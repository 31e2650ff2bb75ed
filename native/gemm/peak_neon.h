// The NEON paths' peak loops (MeasurePeakGops): twelve independent accumulator chains of one
// multiply-accumulate instruction per iteration, call-free. The empty asm makes both operands
// opaque each iteration (no product is computed once for all iterations). Included by the
// per-ISA files only: each instantiates it under its own flags.
#pragma once
#include <arm_neon.h>

#include <cstdint>

namespace tfjq {
namespace gemm {
namespace internal {
namespace {

// step(s, x, y) → s + x·y for one instruction; returns a lane of the chains' sum (keeps the
// work observable).
template <typename X, typename Y, typename Step>
inline int32_t TwelveChains(int64_t iters, X x, Y y, Step step) {
  // Chains that start apart: started equal, GCC 12 proved them equal and kept one (the peak
  // loops written before this header timed one dependent instruction while counting twelve).
  int32x4_t s0 = vdupq_n_s32(0), s1 = vdupq_n_s32(1), s2 = vdupq_n_s32(2), s3 = vdupq_n_s32(3), s4 = vdupq_n_s32(4),
            s5 = vdupq_n_s32(5), s6 = vdupq_n_s32(6), s7 = vdupq_n_s32(7), s8 = vdupq_n_s32(8), s9 = vdupq_n_s32(9),
            s10 = vdupq_n_s32(10), s11 = vdupq_n_s32(11);
  for (int64_t i = 0; i < iters; i++) {
    s0 = step(s0, x, y);
    s1 = step(s1, x, y);
    s2 = step(s2, x, y);
    s3 = step(s3, x, y);
    s4 = step(s4, x, y);
    s5 = step(s5, x, y);
    s6 = step(s6, x, y);
    s7 = step(s7, x, y);
    s8 = step(s8, x, y);
    s9 = step(s9, x, y);
    s10 = step(s10, x, y);
    s11 = step(s11, x, y);
    __asm__ volatile("" : "+w"(x), "+w"(y));
  }
  const int32x4_t t = vaddq_s32(
      vaddq_s32(vaddq_s32(s0, s1), vaddq_s32(s2, s3)),
      vaddq_s32(vaddq_s32(vaddq_s32(s4, s5), vaddq_s32(s6, s7)), vaddq_s32(vaddq_s32(s8, s9), vaddq_s32(s10, s11))));
  return vgetq_lane_s32(t, 0);
}

}  // namespace
}  // namespace internal
}  // namespace gemm
}  // namespace tfjq
