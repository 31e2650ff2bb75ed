// The floating-point environment native work runs in: denormals flushed to zero.
//
// A float kernel whose operands or results are denormal (below 1.2e-38 in magnitude) takes a
// microcode assist of about a hundred cycles per instruction on x86: MobileFaceNet's float
// depthwise layers, whose activations reach that range, ran 25 ns per output instead of 1
// (0.67 ms for a 28 × 28 × 32 layer). Flush-to-zero (results) and denormals-are-zero (inputs)
// treat such values as 0, as ONNX Runtime's set_denormal_as_zero and TFLite's flush option do;
// the error is below 1.2e-38 per value. The mode is set for the span of a session run on the
// calling thread (it is the JavaScript thread or a libuv worker, whose other work must keep
// IEEE denormals) and carried to the pool's workers with each parallel job, so a kernel gets
// the same arithmetic whichever thread runs a chunk of it. On other architectures these are
// no-ops for now.
#pragma once
#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define TFJQ_HAS_MXCSR 1
#endif

namespace tfjq {

// The calling thread's floating-point control state (MXCSR on x86; 0 elsewhere).
inline uint32_t CurrentFpMode() {
#ifdef TFJQ_HAS_MXCSR
  return _mm_getcsr();
#else
  return 0;
#endif
}

// Sets the thread's floating-point control state for the object's lifetime, then restores it.
class ScopedFpMode {
 public:
  explicit ScopedFpMode(uint32_t mode) : saved_(CurrentFpMode()) {
#ifdef TFJQ_HAS_MXCSR
    if (mode != saved_) _mm_setcsr(mode);
#else
    (void)mode;
#endif
  }
  ~ScopedFpMode() {
#ifdef TFJQ_HAS_MXCSR
    if (CurrentFpMode() != saved_) _mm_setcsr(saved_);
#endif
  }
  ScopedFpMode(const ScopedFpMode&) = delete;
  ScopedFpMode& operator=(const ScopedFpMode&) = delete;

 private:
  uint32_t saved_;
};

// The calling thread's state with denormals flushed to zero (FTZ, bit 15) and read as zero
// (DAZ, bit 6).
inline uint32_t FlushDenormalsMode() {
#ifdef TFJQ_HAS_MXCSR
  return CurrentFpMode() | 0x8040u;
#else
  return 0;
#endif
}

}  // namespace tfjq
