// Portable microkernels (the reference path; also the path on arm64 for now).
#include "float/gemm_kernels.h"

namespace tfjq {
namespace f32 {
namespace {

void GemmTileRef(int64_t kc, const float* a, const float* b, float* c) {
  float acc[kMR][kNR] = {};
  for (int64_t p = 0; p < kc; p++) {
    const float* ap = a + p * kMR;
    const float* bp = b + p * kNR;
    for (int r = 0; r < kMR; r++) {
      const float av = ap[r];
      for (int j = 0; j < kNR; j++) acc[r][j] += av * bp[j];
    }
  }
  for (int r = 0; r < kMR; r++)
    for (int j = 0; j < kNR; j++) c[r * kNR + j] = acc[r][j];
}

void DotRowsRef(int64_t n, int64_t len, const float* x, int64_t xstep, const float* y, int64_t ystep, float* acc) {
  for (int64_t i = 0; i < n; i++) {
    const float* xi = x + i * xstep;
    const float* yi = y + i * ystep;
    for (int64_t j = 0; j < len; j++) acc[j] += xi[j] * yi[j];
  }
}

void AddRunsRef(float* y, int64_t y_step, const float* x, int64_t x_step, int64_t runs, int64_t len) {
  for (int64_t r = 0; r < runs; r++)
    for (int64_t i = 0; i < len; i++) y[r * y_step + i] += x[r * x_step + i];
}

}  // namespace

const Kernels& RefKernels() {
  static const Kernels k{GemmTileRef, DotRowsRef, nullptr, nullptr, nullptr, AddRunsRef};
  return k;
}

}  // namespace f32
}  // namespace tfjq
