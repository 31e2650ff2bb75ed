// The one im2col (docs/quantization.md §11.2): the GEMM A matrix of a convolution, for the
// int8 / uint8 operator kernels (ops::Im2Col), the runtime's convolution steps and the float
// convolutions (float/ forward, train/ filter gradient), element type T.
//
// Row p of A is output pixel p = (n·out_h + oy)·out_w + ox; column (ky·k_w + kx)·in_c + c
// holds x[n, oy·stride_h + ky·dilation_h − pad_top, ox·stride_w + kx·dilation_w − pad_left, c],
// or `pad` where that lies outside the input. Only pad_top / pad_left are read (the output
// size says where the window stops). The columns past k_h·k_w·in_c of a row are left as they
// were. With dilation_w = 1 the in-bounds taps of one filter row are contiguous in x, so each
// (output pixel, ky) is one copy of up to k_w·in_c elements plus the padding fills — instead
// of one copy per tap, which dominates for the small C of first layers (C = 1 or 3).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "common/conv_geom.h"
#include "common/thread_pool.h"

namespace tfjq {

namespace im2col_detail {

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

// Pixels [p0, p1) into a (row p at a + (p − p0)·lda). The geometry arrives as parameters
// (locals): read as captures of a lambda — members of the closure object, which the char
// stores may alias — it was reloaded on every iteration (callgrind: 164 instructions per
// output pixel of the RGB stem). Per output row the k_h source rows are resolved once;
// pixels whose window lies inside the input along x take a short loop (one copy per filter
// row), the others the general one with its padding fills.
template <typename T>
inline void Pixels(const T* x, const T* x_end, T* a, T pad, bool wide, int64_t C, int64_t lda, int64_t out_h,
                   int64_t out_w, int64_t in_h, int64_t in_w, int64_t k_h, int64_t k_w, int64_t stride_h,
                   int64_t stride_w, int64_t dil_h, int64_t dil_w, int64_t pad_top, int64_t pad_left, int64_t p0,
                   int64_t p1) {
  constexpr int kMaxRows = 16;
  const T* rows_p[kMaxRows];
  const int64_t kwc = k_w * C;
  const bool fast_rows = k_h <= kMaxRows && dil_w == 1;
  // Pixels [ox_lo, ox_hi) have their whole window inside the input along x.
  const int64_t ox_lo = std::min<int64_t>(out_w, (pad_left + stride_w - 1) / stride_w);
  const int64_t ox_hi = std::max<int64_t>(
      ox_lo, std::min<int64_t>(out_w, in_w - k_w + pad_left >= 0 ? (in_w - k_w + pad_left) / stride_w + 1 : 0));
  for (int64_t r = p0 / out_w; r * out_w < p1; r++) {
    const int64_t n = r / out_h, oy = r % out_h;
    const int64_t ox_b = std::max<int64_t>(0, p0 - r * out_w), ox_e = std::min<int64_t>(out_w, p1 - r * out_w);
    if (fast_rows) {
      for (int64_t ky = 0; ky < k_h; ky++) {
        const int64_t iy = oy * stride_h + ky * dil_h - pad_top;
        rows_p[ky] = iy < 0 || iy >= in_h ? nullptr : x + ((n * in_h + iy) * in_w - pad_left) * C;
      }
    }
    for (int64_t ox = ox_b; ox < ox_e; ox++) {
      T* dst = a + (r * out_w + ox - p0) * lda;
      if (fast_rows && ox >= ox_lo && ox < ox_hi) {
        // Whole window along x; a 16-byte move per run unless this is the range's last pixel
        // in this output row (see Im2Col for where the extra bytes land).
        const bool w16 = wide && ox + 1 < ox_e;
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
      for (int64_t ky = 0; ky < k_h; ky++, dst += kwc) {
        const int64_t iy = oy * stride_h + ky * dil_h - pad_top;
        if (iy < 0 || iy >= in_h) {
          std::fill(dst, dst + kwc, pad);
          continue;
        }
        const T* xrow = x + (n * in_h + iy) * in_w * C;
        if (dil_w != 1) {  // one copy per tap
          for (int64_t kx = 0; kx < k_w; kx++) {
            const int64_t ix = ix0 + kx * dil_w;
            T* d = dst + kx * C;
            if (ix < 0 || ix >= in_w)
              std::fill(d, d + C, pad);
            else
              std::memcpy(d, xrow + ix * C, static_cast<size_t>(C) * sizeof(T));
          }
          continue;
        }
        const int64_t kx0 = std::max<int64_t>(0, -ix0), kx1 = std::min<int64_t>(k_w, in_w - ix0);
        if (kx1 <= kx0) {
          std::fill(dst, dst + kwc, pad);
          continue;
        }
        if (kx0 > 0) std::fill(dst, dst + kx0 * C, pad);
        CopySmall(dst + kx0 * C, xrow + (ix0 + kx0) * C, static_cast<size_t>((kx1 - kx0) * C) * sizeof(T));
        if (kx1 < k_w) std::fill(dst + kx1 * C, dst + kwc, pad);
      }
    }
  }
}

}  // namespace im2col_detail

// Pixels [p0, p1) of A on the calling thread; a is the row of pixel p0, lda ≥ k_h·k_w·in_c.
// Short runs (k_w·C ≤ 16 bytes, e.g. a 3×3 stem on RGB: 9 bytes) are one 16-byte move when
// the run is whole and its pixel is not the range's last in its output row, only when
// lda = k_h·k_w·in_c ≥ 16 bytes: the extra bytes (at most 16 − k_w·C past the run) then land
// inside the next pixel's row of A, which is written afterwards by this same call. The
// 16-byte read stays inside x.
template <typename T>
void Im2ColPixels(const ConvGeom& g, const T* x, T pad, T* a, int64_t lda, int64_t p0, int64_t p1) {
  const int64_t C = g.in_c, kwc = g.k_w * C, K = g.k_h * kwc;
  const bool wide = g.dilation_w == 1 && static_cast<size_t>(kwc) * sizeof(T) <= 16 &&
                    static_cast<size_t>(K) * sizeof(T) >= 16 && lda == K;
  const T* const x_end = x + g.batch * g.in_h * g.in_w * C;
  im2col_detail::Pixels(x, x_end, a, pad, wide, C, lda, g.out_h, g.out_w, g.in_h, g.in_w, g.k_h, g.k_w, g.stride_h,
                        g.stride_w, g.dilation_h, g.dilation_w, g.pad_top, g.pad_left, p0, p1);
}

// Every pixel, split over the pool by output rows (threads: participants, 0 = all).
template <typename T>
void Im2Col(const ConvGeom& g, const T* x, T pad, T* a, int64_t lda, int threads) {
  const int64_t rows = g.batch * g.out_h, out_w = g.out_w;
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, out_w * g.k_h * g.k_w * g.in_c));
  ParallelFor(rows, grain, threads, [&g, x, pad, a, lda, out_w](int64_t rb, int64_t re) {
    Im2ColPixels(g, x, pad, a + rb * out_w * lda, lda, rb * out_w, re * out_w);
  });
}

}  // namespace tfjq
