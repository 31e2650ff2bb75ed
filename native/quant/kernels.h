// Internal: the per-ISA span kernels behind quantize.h. Each ISA file fills one table; the
// dispatcher (quantize.cc) splits tensors into contiguous spans and resolves ActiveIsa()
// in its per-ISA table (common/dispatch.h). Parameter pointers are either broadcast (vec = false: p[0] for the whole
// span) or per element (vec = true: p[i] for element i).
#pragma once
#include <cstdint>

#include "common/cpu.h"

namespace tfjq {
namespace quant {

struct Kernels {
  void (*quantize_s8)(const float* x, int64_t n, const float* scales, const int32_t* zps, bool vec, int32_t qmin,
                      int32_t qmax, int8_t* out);
  void (*quantize_u8)(const float* x, int64_t n, const float* scales, const int32_t* zps, bool vec, int32_t qmin,
                      int32_t qmax, uint8_t* out);
  void (*dequantize_s8)(const int8_t* q, int64_t n, const float* scales, const int32_t* zps, bool vec, float* out);
  void (*dequantize_u8)(const uint8_t* q, int64_t n, const float* scales, const int32_t* zps, bool vec, float* out);
  void (*dequantize_s32)(const int32_t* q, int64_t n, const float* scales, const int32_t* zps, bool vec, float* out);
  // zi is ignored (null) for int32 input.
  void (*requantize_s32_s8)(const int32_t* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo,
                            int32_t lo, int32_t hi, int8_t* out);
  void (*requantize_s32_u8)(const int32_t* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo,
                            int32_t lo, int32_t hi, uint8_t* out);
  void (*requantize_s8_s8)(const int8_t* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo,
                           int32_t lo, int32_t hi, int8_t* out);
  void (*requantize_s8_u8)(const int8_t* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo,
                           int32_t lo, int32_t hi, uint8_t* out);
  void (*requantize_u8_s8)(const uint8_t* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo,
                           int32_t lo, int32_t hi, int8_t* out);
  void (*requantize_u8_u8)(const uint8_t* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo,
                           int32_t lo, int32_t hi, uint8_t* out);
  // *lo = min(*lo, finite values of x or 0), *hi likewise (non-finite values read as 0).
  void (*minmax)(const float* x, int64_t n, float* lo, float* hi);
  // Element-wise: lo[i] = min(lo[i], x[i] if finite else 0), hi[i] likewise.
  void (*minmax_vec)(const float* x, int64_t n, float* lo, float* hi);
  void (*f32_to_f16)(const float* x, int64_t n, uint16_t* out);
  void (*f16_to_f32)(const uint16_t* h, int64_t n, float* out);
  // §8 per row for `rows` rows of k values (row r at x + r·ldx, its bytes at out + r·k):
  // each row's range, parameters and values exactly as minmax + ChooseAsymmetricU8 +
  // quantize_u8 give them. Optional (null: quantize.cc loops over those three per row).
  void (*dynamic_rows_u8)(const float* x, int64_t rows, int64_t k, int64_t ldx, uint8_t* out, float* scales,
                          int32_t* zps);
};

const Kernels& RefKernels();
#if defined(__x86_64__) || defined(_M_X64)
const Kernels& Avx2Kernels();
const Kernels& Avx512Kernels();  // AVX-512 VNNI machines (AVX-512 F/BW/DQ/VL)
#endif
#if defined(__aarch64__)
const Kernels& NeonKernels();
#endif
const Kernels& KernelsFor(Isa isa);

}  // namespace quant
}  // namespace tfjq
