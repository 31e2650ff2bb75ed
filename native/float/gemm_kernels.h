// Internal: the per-ISA microkernels of the float GEMM (gemm_f32_ref.cc, gemm_f32_avx2.cc,
// gemm_f32_avx512vnni.cc). Each ISA file fills one table; the drivers (gemm_driver.cc,
// conv.cc, train/) block, pack and thread, then call these inner loops.
#pragma once
#include <cstdint>

#include "common/activation.h"
#include "common/conv_geom.h"

namespace tfjq {
namespace f32 {

constexpr int kMR = 6;   // GEMM microtile rows
constexpr int kNR = 16;  // GEMM microtile columns
// Outputs of at most this many columns are dot products (gemm_packed_b, conv_few_columns)
// instead of tiles, on the paths that have them.
constexpr int64_t kFewColumns = 4;

// Columns [0, n) of a k-major B panel (panel[p · kNR + j], kc = k) as rows: cols[j · k + p].
inline void PanelColumns(const float* panel, int64_t k, int64_t n, float* cols) {
  for (int64_t j = 0; j < n; j++)
    for (int64_t p = 0; p < k; p++) cols[j * k + p] = panel[p * kNR + j];
}

struct Kernels {
  // c[r * kNR + j] = sum_{p < kc} a[p * kMR + r] * b[p * kNR + j]   (r < kMR, j < kNR)
  // a: packed A panel (kc x kMR, k-major), b: packed B panel (kc x kNR, k-major).
  void (*gemm_tile)(int64_t kc, const float* a, const float* b, float* c);
  // acc[j] += sum_{i < n} x[i * xstep + j] * y[i * ystep + j]   (j < len)
  void (*dot_rows)(int64_t n, int64_t len, const float* x, int64_t xstep, const float* y, int64_t ystep, float* acc);
  // Optional (null: the driver's loop over gemm_tile): GemmPackedB (driver.h) whole, with A
  // row-major (lda apart), for a path whose register tile differs from kMR × kNR.
  void (*gemm_packed_b)(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b,
                        int64_t panel_stride, float* C, int64_t rsc, const float* bias, Activation act, float alpha);
  // Optional (null: im2col and the GEMM): a convolution of N = g.out_c ≤ kFewColumns output
  // channels with dilation 1, output pixels [m0, m0 + mc) into y + m0·N. Each output is k_h
  // dot products of k_w·in_c input floats read in place with w (column j's K = k_h·k_w·in_c
  // taps at w + j·K, in (ky, kx, c) order), then + bias and the activation.
  void (*conv_few_columns)(const ConvGeom& g, const float* x, const float* w, int64_t m0, int64_t mc, float* y,
                           const float* bias, Activation act, float alpha);
  // Optional (null: im2col and the GEMM): a convolution with dilation 1 and K = k_h·k_w·in_c ≤
  // kKC over prepacked B panels (b, panel_stride apart, N columns), output pixels [m0, m0 + mc)
  // into y + m0·N, its windows read in place from x; + bias and the activation.
  void (*conv_windows)(const ConvGeom& g, const float* x, const float* b, int64_t panel_stride, int64_t N, int64_t m0,
                       int64_t mc, float* y, const float* bias, Activation act, float alpha);
  // y[r · y_step + i] += x[r · x_step + i] for r < runs, i < len (float/gemm.h AddRuns).
  void (*add_runs)(float* y, int64_t y_step, const float* x, int64_t x_step, int64_t runs, int64_t len);
};

const Kernels& RefKernels();
#if defined(__x86_64__) || defined(_M_X64)
const Kernels& Avx2Kernels();
const Kernels& Avx512Kernels();
#endif
// The table for the active ISA.
const Kernels& ActiveKernels();

}  // namespace f32
}  // namespace tfjq
