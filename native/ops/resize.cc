// Resizing (ResizeNearest / ResizeBilinear, TF's align_corners / half_pixel_centers rules):
// the per-axis source taps computed once, rows interpolated with the active vector kernels;
// the 8-bit form requantizes (docs/quantization.md §11.8).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "ops/internal.h"
#include "ops/ops.h"

namespace tfjq {
namespace ops {

using detail::Fail;

void CheckResizeGeom(const ResizeGeom& g) {
  if (g.batch < 1 || g.in_h < 1 || g.in_w < 1 || g.channels < 1) Fail("input dimensions must be >= 1");
  if (g.out_h < 1 || g.out_w < 1) Fail("size must be >= 1");
  if (g.align_corners && g.half_pixel_centers) Fail("alignCorners and halfPixelCenters cannot both be true");
}

namespace {

double Ratio(int64_t in, int64_t out, bool align) {
  return (align && out > 1) ? static_cast<double>(in - 1) / static_cast<double>(out - 1)
                            : static_cast<double>(in) / static_cast<double>(out);
}

using Interp = detail::BilinearTap;

std::vector<Interp> BilinearAxis(int64_t in, int64_t out, bool align, bool half) {
  const double ratio = Ratio(in, out, align);
  std::vector<Interp> v(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; o++) {
    const double src = half ? ratio * (static_cast<double>(o) + 0.5) - 0.5 : ratio * static_cast<double>(o);
    const double fl = std::floor(src);
    v[o].lo = std::min<int64_t>(in - 1, std::max<int64_t>(0, static_cast<int64_t>(fl)));
    v[o].hi = std::min<int64_t>(in - 1, std::max<int64_t>(0, static_cast<int64_t>(std::ceil(src))));
    v[o].frac = static_cast<float>(src - fl);
  }
  return v;
}

std::vector<int64_t> NearestAxis(int64_t in, int64_t out, bool align, bool half) {
  const double ratio = Ratio(in, out, align);
  std::vector<int64_t> v(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; o++) {
    const double src = ratio * (half ? static_cast<double>(o) + 0.5 : static_cast<double>(o));
    int64_t i = static_cast<int64_t>(align ? std::floor(src + 0.5) : std::floor(src));
    i = std::min<int64_t>(in - 1, i);
    if (half) i = std::max<int64_t>(0, i);
    v[o] = std::max<int64_t>(0, i);
  }
  return v;
}

template <typename T>
void ResizeBilinearQImpl(const ResizeGeom& g, const T* x, const ResizeQ& p, T* y, int threads) {
  const auto ry = BilinearAxis(g.in_h, g.out_h, g.align_corners, g.half_pixel_centers);
  const auto rx = BilinearAxis(g.in_w, g.out_w, g.align_corners, g.half_pixel_centers);
  const int64_t C = g.channels;
  const float m = p.x_scale / p.y_scale;
  const float z = static_cast<float>(p.x_zero_point);
  const detail::VectorKernels* vk = detail::ActiveVectorKernels();
  ParallelFor(g.batch * g.out_h, 1, threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const int64_t n = r / g.out_h, oy = r % g.out_h;
      const Interp& iy = ry[oy];
      const T* top = x + (n * g.in_h + iy.lo) * g.in_w * C;
      const T* bot = x + (n * g.in_h + iy.hi) * g.in_w * C;
      // Channels [0, done) of every pixel by the vector row kernel, the rest here.
      int64_t done = 0;
      if (vk != nullptr) {
        if constexpr (std::is_same<T, int8_t>::value)
          done = vk->resize_row_s8(top, bot, rx.data(), g.out_w, C, iy.frac, p, y + r * g.out_w * C);
        else
          done = vk->resize_row_u8(top, bot, rx.data(), g.out_w, C, iy.frac, p, y + r * g.out_w * C);
      }
      if (done == C) continue;
      for (int64_t ox = 0; ox < g.out_w; ox++) {
        const Interp& ix = rx[ox];
        T* yp = y + (r * g.out_w + ox) * C;
        for (int64_t c = done; c < C; c++) {
          const float tl = static_cast<float>(top[ix.lo * C + c]) - z, tr = static_cast<float>(top[ix.hi * C + c]) - z;
          const float bl = static_cast<float>(bot[ix.lo * C + c]) - z, br = static_cast<float>(bot[ix.hi * C + c]) - z;
          const float t = tl + (tr - tl) * ix.frac;
          const float bo = bl + (br - bl) * ix.frac;
          const float v = t + (bo - t) * iy.frac;
          yp[c] = static_cast<T>(detail::Finish(v * m, p.y_zero_point, p.y_min, p.y_max));
        }
      }
    }
  });
}

}  // namespace

void ResizeNearest(size_t es, const ResizeGeom& g, const void* x, void* y, int threads) {
  const auto ry = NearestAxis(g.in_h, g.out_h, g.align_corners, g.half_pixel_centers);
  const auto rx = NearestAxis(g.in_w, g.out_w, g.align_corners, g.half_pixel_centers);
  const int64_t seg = g.channels * int64_t(es);
  const uint8_t* xb = static_cast<const uint8_t*>(x);
  uint8_t* yb = static_cast<uint8_t*>(y);
  ParallelFor(g.batch * g.out_h, 1, threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const int64_t n = r / g.out_h, oy = r % g.out_h;
      const uint8_t* src = xb + (n * g.in_h + ry[oy]) * g.in_w * seg;
      for (int64_t ox = 0; ox < g.out_w; ox++) {
        std::memcpy(yb + (r * g.out_w + ox) * seg, src + rx[ox] * seg, static_cast<size_t>(seg));
      }
    }
  });
}

void ResizeBilinear(const ResizeGeom& g, const int8_t* x, const ResizeQ& p, int8_t* y, int threads) {
  ResizeBilinearQImpl<int8_t>(g, x, p, y, threads);
}
void ResizeBilinear(const ResizeGeom& g, const uint8_t* x, const ResizeQ& p, uint8_t* y, int threads) {
  ResizeBilinearQImpl<uint8_t>(g, x, p, y, threads);
}

void ResizeBilinearF32(const ResizeGeom& g, const float* x, float* y, int threads) {
  const auto ry = BilinearAxis(g.in_h, g.out_h, g.align_corners, g.half_pixel_centers);
  const auto rx = BilinearAxis(g.in_w, g.out_w, g.align_corners, g.half_pixel_centers);
  const int64_t C = g.channels;
  const detail::VectorKernels* vk = detail::ActiveVectorKernels();
  ParallelFor(g.batch * g.out_h, 1, threads, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; r++) {
      const int64_t n = r / g.out_h, oy = r % g.out_h;
      const Interp& iy = ry[oy];
      const float* top = x + (n * g.in_h + iy.lo) * g.in_w * C;
      const float* bot = x + (n * g.in_h + iy.hi) * g.in_w * C;
      // Channels [0, done) of every pixel by the vector row kernel, the rest here.
      const int64_t done =
          vk != nullptr ? vk->resize_row_f32(top, bot, rx.data(), g.out_w, C, iy.frac, y + r * g.out_w * C) : 0;
      if (done == C) continue;
      for (int64_t ox = 0; ox < g.out_w; ox++) {
        const Interp& ix = rx[ox];
        float* yp = y + (r * g.out_w + ox) * C;
        for (int64_t c = done; c < C; c++) {
          const float tl = top[ix.lo * C + c], tr = top[ix.hi * C + c];
          const float bl = bot[ix.lo * C + c], br = bot[ix.hi * C + c];
          const float t = tl + (tr - tl) * ix.frac;
          const float bo = bl + (br - bl) * ix.frac;
          yp[c] = t + (bo - t) * iy.frac;
        }
      }
    }
  });
}

}  // namespace ops
}  // namespace tfjq
