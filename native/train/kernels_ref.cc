// Portable microkernels (the reference path; also the path on arm64 for now).
#include "train/kernels.h"

namespace tfjq {
namespace train {
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

void GemvBlockRef(int64_t k, int rows, const float* x, int64_t ldx, const float* w, int64_t ldw, int cols, float* y,
                  int64_t ldy) {
  for (int r = 0; r < rows; r++) {
    for (int j = 0; j < cols; j++) {
      float acc = 0.f;
      for (int64_t p = 0; p < k; p++) acc += x[r * ldx + p] * w[p * ldw + j];
      y[r * ldy + j] = acc;
    }
  }
}

}  // namespace

const Kernels& RefKernels() {
  static const Kernels k{GemmTileRef, DotRowsRef, GemvBlockRef};
  return k;
}

}  // namespace train
}  // namespace tfjq
