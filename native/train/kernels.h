// Internal: per-ISA microkernels behind conv_train.h. Each ISA file fills one table; the
// drivers (conv_train.cc) block, pack and thread, then call these inner loops.
#pragma once
#include <cstdint>

namespace tfjq {
namespace train {

constexpr int kMR = 6;   // GEMM microtile rows
constexpr int kNR = 16;  // GEMM microtile columns

struct Kernels {
  // c[r * kNR + j] = sum_{p < kc} a[p * kMR + r] * b[p * kNR + j]   (r < kMR, j < kNR)
  // a: packed A panel (kc x kMR, k-major), b: packed B panel (kc x kNR, k-major).
  void (*gemm_tile)(int64_t kc, const float* a, const float* b, float* c);
  // acc[j] += sum_{i < n} x[i * xstep + j] * y[i * ystep + j]   (j < len)
  void (*dot_rows)(int64_t n, int64_t len, const float* x, int64_t xstep, const float* y, int64_t ystep, float* acc);
};

const Kernels& RefKernels();
#if defined(__x86_64__) || defined(_M_X64)
const Kernels& Avx2Kernels();
#endif
// The table for the active ISA.
const Kernels& ActiveKernels();

}  // namespace train
}  // namespace tfjq
