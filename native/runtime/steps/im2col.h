// The im2col of the runtime's convolution steps (docs/quantization.md §11.2).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/thread_pool.h"
#include "ops/ops.h"

namespace tfjq {
namespace runtime {
namespace detail {

// ---------------------------------------------------------------- im2col

// memcpy for the short runs of an im2col row (a 3×3 stem on RGB input copies 3 runs of 9
// bytes per pixel): two overlapping fixed-size moves instead of a byte loop or a libc call.
// Reads and writes exactly [0, n) of each side.
inline void CopySmall(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const auto* s = static_cast<const uint8_t*>(src);
  auto two = [&](auto word) {
    using W = decltype(word);
    W a, b;
    std::memcpy(&a, s, sizeof(W));
    std::memcpy(&b, s + n - sizeof(W), sizeof(W));
    std::memcpy(d, &a, sizeof(W));
    std::memcpy(d + n - sizeof(W), &b, sizeof(W));
  };
  struct W16 {
    uint64_t lo, hi;
  };
  if (n > 32)
    std::memcpy(d, s, n);
  else if (n >= 16)
    two(W16{});
  else if (n >= 8)
    two(uint64_t{});
  else if (n >= 4)
    two(uint32_t{});
  else
    for (size_t i = 0; i < n; i++) d[i] = s[i];
}

// Output rows [rb, re) of Im2Col below. Per output row, the k_h source rows are resolved
// once; pixels whose window lies inside the input along x take a short loop (one copy per
// filter row), the others the general one with its padding fills.
template <typename T>
inline void Im2ColRows(const T* x, const T* x_end, T* a, T pad, bool wide, int64_t C, int64_t kwc, int64_t lda,
                       int64_t out_h, int64_t out_w, int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w,
                       int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t pad_top, int64_t pad_left, int64_t rb,
                       int64_t re) {
  constexpr int kMaxRows = 16;
  const T* rows_p[kMaxRows];
  const bool fast_rows = k_h <= kMaxRows;
  // Pixels [ox_lo, ox_hi) have kx0 = 0 and kx1 = k_w.
  const int64_t ox_lo = std::min<int64_t>(out_w, (pad_left + stride_w - 1) / stride_w);
  const int64_t ox_hi = std::max<int64_t>(
      ox_lo, std::min<int64_t>(out_w, in_w - k_w + pad_left >= 0 ? (in_w - k_w + pad_left) / stride_w + 1 : 0));
  for (int64_t r = rb; r < re; r++) {
    const int64_t n = r / out_h, oy = r % out_h;
    if (fast_rows) {
      for (int64_t ky = 0; ky < k_h; ky++) {
        const int64_t iy = oy * stride_h + ky * dil_h - pad_top;
        rows_p[ky] = iy < 0 || iy >= in_h ? nullptr : x + ((n * in_h + iy) * in_w - pad_left) * C;
      }
    }
    for (int64_t ox = 0; ox < out_w; ox++) {
      T* dst = a + (r * out_w + ox) * lda;
      if (fast_rows && ox >= ox_lo && ox < ox_hi) {
        // Whole window along x; a 16-byte move per run unless this is the row's last pixel.
        const bool w16 = wide && ox + 1 < out_w;
        const int64_t off = ox * stride_w * C;
        for (int64_t ky = 0; ky < k_h; ky++, dst += kwc) {
          const T* src = rows_p[ky];
          if (src == nullptr) {
            std::fill(dst, dst + kwc, pad);
            continue;
          }
          src += off;
          if (w16 && src + 16 / sizeof(T) <= x_end) {
            uint8_t v[16];
            std::memcpy(v, src, 16);
            std::memcpy(dst, v, 16);
          } else {
            CopySmall(dst, src, static_cast<size_t>(kwc) * sizeof(T));
          }
        }
        continue;
      }
      const int64_t ix0 = ox * stride_w - pad_left;
      const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min<int64_t>(k_w, in_w - ix0);
      for (int64_t ky = 0; ky < k_h; ky++, dst += kwc) {
        const int64_t iy = oy * stride_h + ky * dil_h - pad_top;
        if (iy < 0 || iy >= in_h || kx1 <= kx0) {
          std::fill(dst, dst + kwc, pad);
          continue;
        }
        const T* src = x + ((n * in_h + iy) * in_w + ix0 + kx0) * C;
        if (kx0 > 0) std::fill(dst, dst + kx0 * C, pad);
        CopySmall(dst + kx0 * C, src, static_cast<size_t>((kx1 - kx0) * C) * sizeof(T));
        if (kx1 < k_w) std::fill(dst + kx1 * C, dst + kwc, pad);
      }
    }
  }
}

// The GEMM A matrix of a convolution (docs/quantization.md §11.2, same result as ops::Im2Col):
// with dilation_w = 1 the in-bounds taps of one filter row are contiguous in x, so each
// (output pixel, ky) is one copy of up to kw·C elements plus the padding fills — instead of
// one copy per tap, which dominates for the small C of first layers (C = 1 or 3).
template <typename T>
inline void Im2Col(const ConvGeom& g, const T* x, T pad, T* a, int64_t lda, int threads) {
  if (g.dilation_w != 1) {
    ops::Im2Col(g, x, pad, a, lda, threads);
    return;
  }
  const int64_t C = g.in_c, rows = int64_t(g.batch) * g.out_h, kwc = int64_t{g.k_w} * C;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.out_w * g.k_h * kwc));
  const int64_t out_h = g.out_h, out_w = g.out_w, in_h = g.in_h, in_w = g.in_w, k_h = g.k_h, k_w = g.k_w;
  const int64_t stride_h = g.stride_h, stride_w = g.stride_w, dil_h = g.dilation_h, pad_top = g.pad_top,
                pad_left = g.pad_left;
  // Short runs (kw·C ≤ 16 bytes, e.g. a 3×3 stem on RGB: 9 bytes): one 16-byte move per run
  // when the run is whole and its pixel is not the last of its output row. The extra bytes
  // (at most 16 − kw·C past the pixel's K values, inside the next pixel's row of A since
  // K ≥ 16 and lda ≥ K) are written again afterwards: later runs of the same output row,
  // and rows are the unit of parallel work, so no other thread writes there. The 16-byte
  // read stays inside x.
  const bool wide = static_cast<size_t>(kwc) * sizeof(T) <= 16 && static_cast<size_t>(k_h * kwc) * sizeof(T) >= 16;
  const T* const x_end = x + int64_t(g.batch) * in_h * in_w * C;
  // The loop runs in a function of its own: its geometry arrives as parameters (locals).
  // Read as captures of the lambda — members of the closure object, which the char stores
  // may alias — it was reloaded on every iteration (callgrind: 164 instructions per output
  // pixel of the RGB stem).
  ParallelFor(rows, grain, threads, [=](int64_t rb, int64_t re) {
    Im2ColRows(x, x_end, a, pad, wide, C, kwc, lda, out_h, out_w, in_h, in_w, k_h, k_w, stride_h, stride_w, dil_h,
               pad_top, pad_left, rb, re);
  });
}

}  // namespace detail
}  // namespace runtime
}  // namespace tfjq
