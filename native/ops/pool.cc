// Pooling: MaxPool, AvgPool (padding not counted), Mean over H and W; int8/uint8 and float32.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "common/thread_pool.h"
#include "ops/internal.h"
#include "ops/ops.h"

namespace tfjq {
namespace ops {

namespace {

// Calls f(n, oy, ox, y0, y1, x0, x1) with the in-bounds window [y0, y1) × [x0, x1) (dilation 1
// windows are contiguous; dilated windows are handled by the callers' step).
template <typename F>
void ForWindows(const ConvGeom& g, int threads, int64_t per_row_cost, const F& f) {
  const int64_t rows = int64_t(g.batch) * g.out_h;
  ParallelFor(rows, std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(1, per_row_cost)), threads,
              [&](int64_t rb, int64_t re) {
                for (int64_t r = rb; r < re; r++) {
                  const int64_t n = r / g.out_h, oy = r % g.out_h;
                  for (int64_t ox = 0; ox < g.out_w; ox++) f(r, n, oy, ox);
                }
              });
}

struct Taps {
  // In-bounds window positions along one axis: first index, count (step = dilation).
  int64_t first, count;
};

inline Taps AxisTaps(int64_t o, int32_t stride, int32_t dil, int32_t pad, int32_t k, int32_t in) {
  int64_t first = -1, count = 0;
  for (int64_t t = 0; t < k; t++) {
    const int64_t i = o * stride + t * dil - pad;
    if (i < 0 || i >= in) continue;
    if (first < 0) first = i;
    count++;
  }
  return Taps{first < 0 ? 0 : first, count};
}

// The window extents of every output row / column, computed once per call.
std::vector<Taps> RowTaps(const ConvGeom& g) {
  std::vector<Taps> t(static_cast<size_t>(g.out_h));
  for (int64_t o = 0; o < g.out_h; o++)
    t[static_cast<size_t>(o)] = AxisTaps(o, g.stride_h, g.dilation_h, g.pad_top, g.k_h, g.in_h);
  return t;
}
std::vector<Taps> ColumnTaps(const ConvGeom& g) {
  std::vector<Taps> t(static_cast<size_t>(g.out_w));
  for (int64_t o = 0; o < g.out_w; o++)
    t[static_cast<size_t>(o)] = AxisTaps(o, g.stride_w, g.dilation_w, g.pad_left, g.k_w, g.in_w);
  return t;
}

// y[i] = max(y[i], x[i]) and the final clamp, on non-overlapping arrays: with the restrict
// qualifiers the compiler vectorizes them (without, the int8 stores may alias anything and
// the loops stayed scalar: 0.58 ms for a 112×112×32 → 56×56×32 pool).
template <typename T>
inline void MaxInto(T* __restrict y, const T* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i] > y[i] ? x[i] : y[i];
}
template <typename T>
inline void CopyInto(T* __restrict y, const T* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = x[i];
}
template <typename T>
inline void ClampInPlace(T* __restrict y, int64_t n, T lo, T hi) {
  for (int64_t i = 0; i < n; i++) y[i] = y[i] < lo ? lo : (y[i] > hi ? hi : y[i]);
}

// The float pools' per-tap loops on non-overlapping arrays (restrict, as above: written in
// place in the window loops they stayed one value at a time — 0.29 ms for a 126 × 126 × 64 → 63
// × 63 max pool, 2.6 ms for Inception V3's ten 3 × 3 average pools). The max keeps a NaN of x
// (tfjs's maxPool propagates it): the comparisons are combined without short-circuit so the
// loop has no branch.
inline void MaxIntoF32(float* __restrict y, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    const float a = x[i], b = y[i];
    y[i] = ((a > b) | (a != a)) ? a : b;
  }
}
inline void AddIntoF32(float* __restrict y, const float* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += x[i];
}
inline void ScaleF32(float* __restrict y, int64_t n, float s) {
  for (int64_t i = 0; i < n; i++) y[i] *= s;
}

// Up to this many taps a window's input pointers go to the table's pool kernel in one call.
constexpr int64_t kMaxKernelTaps = 64;

// The table's max kernel of one output pixel for T (nullptr: the portable loops).
template <typename T>
auto MaxTapsKernel() {
  const detail::VectorKernels* k = detail::ActiveVectorKernels();
  if constexpr (std::is_same_v<T, float>)
    return k != nullptr ? k->max_taps_f32 : nullptr;
  else if constexpr (std::is_same_v<T, int8_t>)
    return k != nullptr ? k->max_taps_s8 : nullptr;
  else
    return k != nullptr ? k->max_taps_u8 : nullptr;
}

// The input pixels of image n's window (ty, tx), in row-major tap order, into ptrs (at most
// kMaxKernelTaps); returns their count.
template <typename T>
int64_t WindowPixels(const ConvGeom& g, const T* x, int64_t n, Taps ty, Taps tx, const T** ptrs) {
  const int64_t C = g.in_c, row_stride = int64_t(g.dilation_h) * g.in_w * C, col_stride = int64_t(g.dilation_w) * C;
  const T* base = x + ((n * g.in_h + ty.first) * g.in_w + tx.first) * C;
  int64_t k = 0;
  for (int64_t a = 0; a < ty.count; a++)
    for (int64_t b = 0; b < tx.count; b++) ptrs[k++] = base + a * row_stride + b * col_stride;
  return k;
}

template <typename T>
void MaxPoolImpl(const ConvGeom& g, const T* x, int32_t lo, int32_t hi, T* y, int threads) {
  const int64_t C = g.in_c;
  const std::vector<Taps> tys = RowTaps(g), txs = ColumnTaps(g);
  const T tlo = static_cast<T>(lo), thi = static_cast<T>(hi);
  const int64_t in_h = g.in_h, in_w = g.in_w, out_w = g.out_w, dil_h = g.dilation_h, dil_w = g.dilation_w;
  const auto kernel = int64_t(g.k_h) * g.k_w <= kMaxKernelTaps ? MaxTapsKernel<T>() : nullptr;
  ForWindows(g, threads, int64_t(g.out_w) * C * g.k_h * g.k_w, [&](int64_t r, int64_t n, int64_t oy, int64_t ox) {
    const Taps ty = tys[static_cast<size_t>(oy)], tx = txs[static_cast<size_t>(ox)];
    T* yp = y + (r * out_w + ox) * C;
    // Bounds: windows are never empty for valid geometries except with huge padding.
    if (ty.count == 0 || tx.count == 0) {
      std::fill(yp, yp + C, tlo);
      return;
    }
    const T* base = x + ((n * in_h + ty.first) * in_w + tx.first) * C;
    if (kernel != nullptr) {
      const T* ptrs[kMaxKernelTaps];
      const int64_t taps = WindowPixels(g, x, n, ty, tx, ptrs);
      kernel(ptrs, static_cast<int>(taps), C, tlo, thi, yp);
      return;
    }
    for (int64_t a = 0; a < ty.count; a++) {
      for (int64_t b = 0; b < tx.count; b++) {
        const T* xp = base + (a * dil_h * in_w + b * dil_w) * C;
        if (a == 0 && b == 0)
          CopyInto(yp, xp, C);
        else
          MaxInto(yp, xp, C);
      }
    }
    ClampInPlace(yp, C, tlo, thi);
  });
}

template <typename T>
inline void SetFrom(int32_t* __restrict acc, const T* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; i++) acc[i] = x[i];
}
template <typename T>
inline void AddInto(int32_t* __restrict acc, const T* __restrict x, int64_t n) {
  for (int64_t i = 0; i < n; i++) acc[i] += x[i];
}

// y[i] = the §7 finish of (acc[i] − zsum)·f (detail::Finish), on non-overlapping arrays. With f
// finite no value is NaN, so the loop is Finish without its NaN branch — branch-free, and the
// compiler vectorizes it (Finish per value, written in place, ran one value at a time: 4 ns per
// output, 0.12 ms of a 62×62×32 pool). The rounding is Finish's: + 1.5·2²³ and back.
template <typename T>
inline void FinishInto(T* __restrict y, const int32_t* __restrict acc, int64_t n, int32_t zsum, float f,
                       const PoolQ& p) {
  const int32_t zo = p.y_zero_point;
  if (!std::isfinite(f)) {
    for (int64_t i = 0; i < n; i++)
      y[i] = static_cast<T>(detail::Finish(static_cast<float>(acc[i] - zsum) * f, zo, p.y_min, p.y_max));
    return;
  }
  const float lo = static_cast<float>(p.y_min - zo), hi = static_cast<float>(p.y_max - zo);
  for (int64_t i = 0; i < n; i++) {
    float v = static_cast<float>(acc[i] - zsum) * f;
    v = std::min(std::max(v, lo), hi);
    v = (v + 12582912.0f) - 12582912.0f;
    y[i] = static_cast<T>(static_cast<int32_t>(v) + zo);
  }
}

template <typename T>
void AvgPoolImpl(const ConvGeom& g, const T* x, const PoolQ& p, T* y, int threads) {
  const int64_t C = g.in_c;
  const float m = p.x_scale / p.y_scale;
  const std::vector<Taps> tys = RowTaps(g), txs = ColumnTaps(g);
  const int64_t in_h = g.in_h, in_w = g.in_w, out_h = g.out_h, out_w = g.out_w, dil_h = g.dilation_h,
                dil_w = g.dilation_w;
  const int64_t rows = int64_t(g.batch) * out_h;
  const int64_t per_row = std::max<int64_t>(1, out_w * C * g.k_h * g.k_w);
  ParallelFor(rows, std::max<int64_t>(1, (int64_t(1) << 15) / per_row), threads, [&](int64_t rb, int64_t re) {
    std::vector<int32_t> acc(static_cast<size_t>(C));
    for (int64_t r = rb; r < re; r++) {
      const int64_t n = r / out_h, oy = r % out_h;
      const Taps ty = tys[static_cast<size_t>(oy)];
      for (int64_t ox = 0; ox < out_w; ox++) {
        const Taps tx = txs[static_cast<size_t>(ox)];
        const int64_t cnt = ty.count * tx.count;
        T* yp = y + (r * out_w + ox) * C;
        if (cnt == 0) {
          for (int64_t c = 0; c < C; c++)
            yp[c] = static_cast<T>(detail::Finish(0.0f, p.y_zero_point, p.y_min, p.y_max));
          continue;
        }
        const T* base = x + ((n * in_h + ty.first) * in_w + tx.first) * C;
        for (int64_t a = 0; a < ty.count; a++) {
          for (int64_t b = 0; b < tx.count; b++) {
            const T* xp = base + (a * dil_h * in_w + b * dil_w) * C;
            if (a == 0 && b == 0)
              SetFrom(acc.data(), xp, C);
            else
              AddInto(acc.data(), xp, C);
          }
        }
        FinishInto(yp, acc.data(), C, static_cast<int32_t>(cnt) * p.x_zero_point, m / static_cast<float>(cnt), p);
      }
    }
  });
}

template <typename T>
void MeanImpl(int64_t batch, int64_t hw, int64_t C, const T* x, const PoolQ& p, T* y, int threads) {
  const float m = p.x_scale / p.y_scale;
  const float f = m / static_cast<float>(hw);
  const int32_t zsum = static_cast<int32_t>(hw * p.x_zero_point);
  // Parallel over (batch, channel blocks of 64).
  const int64_t blocks = (C + 63) / 64;
  ParallelFor(batch * blocks, 1, threads, [&](int64_t b0, int64_t b1) {
    int32_t acc[64];
    for (int64_t bi = b0; bi < b1; bi++) {
      const int64_t n = bi / blocks, c0 = (bi % blocks) * 64, cn = std::min<int64_t>(64, C - c0);
      std::fill(acc, acc + 64, 0);
      const T* xp = x + n * hw * C + c0;
      for (int64_t i = 0; i < hw; i++, xp += C) {
        for (int64_t c = 0; c < cn; c++) acc[c] += xp[c];
      }
      FinishInto(y + n * C + c0, acc, cn, zsum, f, p);
    }
  });
}

}  // namespace

void MaxPool(const ConvGeom& g, const int8_t* x, int32_t lo, int32_t hi, int8_t* y, int threads) {
  MaxPoolImpl<int8_t>(g, x, lo, hi, y, threads);
}
void MaxPool(const ConvGeom& g, const uint8_t* x, int32_t lo, int32_t hi, uint8_t* y, int threads) {
  MaxPoolImpl<uint8_t>(g, x, lo, hi, y, threads);
}
void AvgPool(const ConvGeom& g, const int8_t* x, const PoolQ& p, int8_t* y, int threads) {
  AvgPoolImpl<int8_t>(g, x, p, y, threads);
}
void AvgPool(const ConvGeom& g, const uint8_t* x, const PoolQ& p, uint8_t* y, int threads) {
  AvgPoolImpl<uint8_t>(g, x, p, y, threads);
}
void Mean(int64_t batch, int64_t hw, int64_t c, const int8_t* x, const PoolQ& p, int8_t* y, int threads) {
  MeanImpl<int8_t>(batch, hw, c, x, p, y, threads);
}
void Mean(int64_t batch, int64_t hw, int64_t c, const uint8_t* x, const PoolQ& p, uint8_t* y, int threads) {
  MeanImpl<uint8_t>(batch, hw, c, x, p, y, threads);
}

void MaxPoolF32(const ConvGeom& g, const float* x, float* y, int threads) {
  const int64_t C = g.in_c;
  const std::vector<Taps> tys = RowTaps(g), txs = ColumnTaps(g);
  const auto kernel = int64_t(g.k_h) * g.k_w <= kMaxKernelTaps ? MaxTapsKernel<float>() : nullptr;
  ForWindows(g, threads, int64_t(g.out_w) * C * g.k_h * g.k_w, [&](int64_t r, int64_t n, int64_t oy, int64_t ox) {
    const Taps ty = tys[static_cast<size_t>(oy)], tx = txs[static_cast<size_t>(ox)];
    float* yp = y + (r * g.out_w + ox) * C;
    if (kernel != nullptr && ty.count > 0 && tx.count > 0) {
      const float* ptrs[kMaxKernelTaps];
      kernel(ptrs, static_cast<int>(WindowPixels(g, x, n, ty, tx, ptrs)), C, yp);
      return;
    }
    std::fill(yp, yp + C, -INFINITY);
    for (int64_t a = 0; a < ty.count; a++) {
      const int64_t iy = ty.first + a * g.dilation_h;
      for (int64_t b = 0; b < tx.count; b++) {
        const int64_t ix = tx.first + b * g.dilation_w;
        MaxIntoF32(yp, x + ((n * g.in_h + iy) * g.in_w + ix) * C, C);
      }
    }
  });
}

void AvgPoolF32(const ConvGeom& g, const float* x, float* y, int threads) {
  const int64_t C = g.in_c;
  const std::vector<Taps> tys = RowTaps(g), txs = ColumnTaps(g);
  const detail::VectorKernels* k = detail::ActiveVectorKernels();
  const auto kernel = k != nullptr && int64_t(g.k_h) * g.k_w <= kMaxKernelTaps ? k->avg_taps_f32 : nullptr;
  ForWindows(g, threads, int64_t(g.out_w) * C * g.k_h * g.k_w, [&](int64_t r, int64_t n, int64_t oy, int64_t ox) {
    const Taps ty = tys[static_cast<size_t>(oy)], tx = txs[static_cast<size_t>(ox)];
    float* yp = y + (r * g.out_w + ox) * C;
    if (kernel != nullptr && ty.count > 0 && tx.count > 0) {
      const float* ptrs[kMaxKernelTaps];
      const int64_t taps = WindowPixels(g, x, n, ty, tx, ptrs);
      kernel(ptrs, static_cast<int>(taps), C, 1.0f / static_cast<float>(taps), yp);
      return;
    }
    std::fill(yp, yp + C, 0.0f);
    for (int64_t a = 0; a < ty.count; a++) {
      const int64_t iy = ty.first + a * g.dilation_h;
      for (int64_t b = 0; b < tx.count; b++) {
        const int64_t ix = tx.first + b * g.dilation_w;
        AddIntoF32(yp, x + ((n * g.in_h + iy) * g.in_w + ix) * C, C);
      }
    }
    const int64_t cnt = ty.count * tx.count;
    if (cnt == 0) return;
    ScaleF32(yp, C, 1.0f / static_cast<float>(cnt));
  });
}

void MeanF32(int64_t batch, int64_t hw, int64_t C, const float* x, float* y, int threads) {
  const int64_t blocks = (C + 63) / 64;
  ParallelFor(batch * blocks, 1, threads, [&](int64_t b0, int64_t b1) {
    double acc[64];
    for (int64_t bi = b0; bi < b1; bi++) {
      const int64_t n = bi / blocks, c0 = (bi % blocks) * 64, cn = std::min<int64_t>(64, C - c0);
      std::fill(acc, acc + 64, 0.0);
      const float* xp = x + n * hw * C + c0;
      for (int64_t i = 0; i < hw; i++, xp += C) {
        for (int64_t c = 0; c < cn; c++) acc[c] += xp[c];
      }
      for (int64_t c = 0; c < cn; c++) y[n * C + c0 + c] = static_cast<float>(acc[c] / static_cast<double>(hw));
    }
  });
}

void ArgMaxF32(int64_t outer, int64_t n, int64_t inner, const float* x, int32_t* y, int threads) {
  // Per (o, i) the running best starts at j = 0 and moves only on a strictly greater value:
  // the first maximum wins and a NaN never replaces a number (tfjs's ArgMax). j goes outside
  // i so that a reduction over a middle axis reads rows of `inner` contiguous values.
  ParallelFor(outer, std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, n * inner)), threads,
              [&](int64_t ob, int64_t oe) {
                std::vector<float> best(static_cast<size_t>(inner));
                for (int64_t o = ob; o < oe; o++) {
                  const float* xo = x + o * n * inner;
                  int32_t* yo = y + o * inner;
                  std::copy(xo, xo + inner, best.begin());
                  std::fill(yo, yo + inner, 0);
                  for (int64_t j = 1; j < n; j++) {
                    const float* row = xo + j * inner;
                    for (int64_t i = 0; i < inner; i++) {
                      const bool more = row[i] > best[static_cast<size_t>(i)];
                      best[static_cast<size_t>(i)] = more ? row[i] : best[static_cast<size_t>(i)];
                      yo[i] = more ? static_cast<int32_t>(j) : yo[i];
                    }
                  }
                }
              });
}

}  // namespace ops
}  // namespace tfjq
