// AVX-512 float GEMM over prepacked B panels, for the runtime's float convolutions and
// matmuls on AVX-512 machines (compiled with the avx512vnni flags: the path is the AVX-512 VNNI
// one; only AVX-512 F is used here). The other float kernels of this path are the AVX2 ones.
//
// The AVX2 tile (6 × 16 as two ymm per row) leaves each zmm FMA half used; here the tile is 6
// rows × up to 64 columns, up to four 16-column B panels as one zmm each: per k, one B load
// per panel, six A broadcasts and up to 24 FMAs into named accumulators (enough independent
// chains to cover the FMA latency on two ports). The results go straight to C — added to it after the
// first K block, then bias and activation on the last — with masked stores for the last
// columns, instead of through a stack tile and scalar loops. Per element the sum is the
// driver's: FMAs over each K block of kKC in k order, then the block sums added to C in block
// order, then + bias and the activation (BiasActRow's order), so Gemm and this agree on the
// arithmetic up to the FMA contraction the AVX2 tile also uses.
#include <algorithm>

#include "common/simd_x86.h"
#include "float/gemm_driver.h"
#include "float/gemm_kernels.h"

namespace tfjq {
namespace f32 {
namespace {

using detail::kKC;
using detail::kMC;

// v < 0 ? 0 : v, v < 0 ? 0 : (v > 6 ? 6 : v), v < 0 ? alpha·v : v — the scalar ActRow's
// comparisons (−0 and NaN pass through unchanged).
inline __m512 Act(__m512 v, Activation act, __m512 alpha) {
  const __m512 zero = _mm512_setzero_ps();
  switch (act) {
    // VMAXPS(a, b) is a > b ? a : b and VMINPS(a, b) a < b ? a : b, b when either is NaN:
    // with the bound as a, exactly the comparisons above (−0 and NaN are b, passed through),
    // in one instruction each instead of a compare and a masked move.
    case Activation::kRelu:
      return _mm512_max_ps(zero, v);
    case Activation::kRelu6:
      return _mm512_max_ps(zero, _mm512_min_ps(_mm512_set1_ps(6.f), v));
    case Activation::kLeakyRelu:
      return _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), v, alpha);
    default:
      return v;
  }
}

struct Epilogue {
  bool add;           // a later K block: C += acc
  bool finish;        // the last K block, with bias or an activation
  const float* bias;  // at the tile's first column, or null
  Activation act;
  __m512 alpha;
};

// One row's 16 columns at c (mask m): acc (+ C) (+ bias, activation) → C.
inline void Put(float* c, __mmask16 m, __m512 acc, const float* bias, const Epilogue& e) {
  if (e.add) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, c));
  if (e.finish) {
    if (bias) acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, bias));
    acc = Act(acc, e.act, e.alpha);
  }
  _mm512_mask_storeu_ps(c, m, acc);
}

// The register tile: 6 rows × kPanels 16-column B panels (up to 64 columns, 24 accumulators,
// named: GCC 12 spills accumulators kept in an array), one k step from six A values and the
// panels, and the stores of rows [0, mr). Per k step kPanels B loads and six A broadcasts feed
// 6·kPanels FMAs: at 4 panels twice the products per broadcast, and per tile call, of the
// 6 × 32 tile this path had (4–14% faster on layers of 48 to 144 channels). Tile (A rows read
// in place) and WindowTile (convolution windows) feed it.
template <int kPanels>
struct Acc6 {
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  __m512 c40 = c00, c41 = c00, c42 = c00, c43 = c00, c50 = c00, c51 = c00, c52 = c00, c53 = c00;

  __attribute__((always_inline)) inline void Step(float a0, float a1, float a2, float a3, float a4, float a5,
                                                  const float* b0, const float* b1, const float* b2, const float* b3) {
    const __m512 x0 = _mm512_loadu_ps(b0);
    const __m512 x1 = kPanels > 1 ? _mm512_loadu_ps(b1) : x0;
    const __m512 x2 = kPanels > 2 ? _mm512_loadu_ps(b2) : x0;
    const __m512 x3 = kPanels > 3 ? _mm512_loadu_ps(b3) : x0;
#define TFJQ_ROW(r, a)                                           \
  {                                                              \
    const __m512 av = _mm512_set1_ps(a);                         \
    c##r##0 = _mm512_fmadd_ps(av, x0, c##r##0);                  \
    if (kPanels > 1) c##r##1 = _mm512_fmadd_ps(av, x1, c##r##1); \
    if (kPanels > 2) c##r##2 = _mm512_fmadd_ps(av, x2, c##r##2); \
    if (kPanels > 3) c##r##3 = _mm512_fmadd_ps(av, x3, c##r##3); \
  }
    TFJQ_ROW(0, a0) TFJQ_ROW(1, a1) TFJQ_ROW(2, a2) TFJQ_ROW(3, a3) TFJQ_ROW(4, a4) TFJQ_ROW(5, a5)
#undef TFJQ_ROW
  }

  __attribute__((always_inline)) inline void Store(float* c, int64_t rsc, int64_t mr, const __mmask16* m,
                                                   const Epilogue& e) const {
    // Inlined: called, it would take the live accumulators through memory (every zmm is
    // caller-saved).
    auto row = [&](int64_t r, __m512 v0, __m512 v1, __m512 v2, __m512 v3) __attribute__((always_inline)) {
      float* cr = c + r * rsc;
      Put(cr, m[0], v0, e.bias, e);
      if (kPanels > 1) Put(cr + 16, m[1], v1, e.bias ? e.bias + 16 : nullptr, e);
      if (kPanels > 2) Put(cr + 32, m[2], v2, e.bias ? e.bias + 32 : nullptr, e);
      if (kPanels > 3) Put(cr + 48, m[3], v3, e.bias ? e.bias + 48 : nullptr, e);
    };
    row(0, c00, c01, c02, c03);
    if (mr > 1) row(1, c10, c11, c12, c13);
    if (mr > 2) row(2, c20, c21, c22, c23);
    if (mr > 3) row(3, c30, c31, c32, c33);
    if (mr > 4) row(4, c40, c41, c42, c43);
    if (mr > 5) row(5, c50, c51, c52, c53);
  }
};

// The widest tile, in 16-column panels. GCC 12 may keep part of the 4-panel loop's pointers on
// the stack (one build had 7 stack accesses per k step, 15–25% slower than 2 panels on
// pointwise 16 → 96): check the loop for them when this file changes.
constexpr int kMaxPanels = 4;
static_assert(kMaxPanels <= 4, "Acc6 holds at most four panels");

// f(Panels<np>{}) for np in [1, kMaxPanels]: the tile width as a template argument.
template <int N>
struct Panels {
  static constexpr int kCount = N;
};
template <typename F>
inline void WithPanels(int np, F&& f) {
  switch (np) {
    case 4:
      return f(Panels<4>{});
    case 3:
      return f(Panels<3>{});
    case 2:
      return f(Panels<2>{});
    default:
      return f(Panels<1>{});
  }
}

// Rows [0, mr) (mr ≤ kMR) of the tile: A read in place (row r at a + r·lda; rows past mr
// repeat the last one), B panels b[0..kPanels) (kc × 16 each, k-major), columns masked by
// m[0..kPanels), into C rows rsc apart.
template <int kPanels>
void Tile(int64_t kc, const float* a, int64_t lda, const float* const* b, float* c, int64_t rsc, int64_t mr,
          const __mmask16* m, const Epilogue& e) {
  Acc6<kPanels> t;
  const float* a0 = a;
  const float* a1 = a + std::min<int64_t>(1, mr - 1) * lda;
  const float* a2 = a + std::min<int64_t>(2, mr - 1) * lda;
  const float* a3 = a + std::min<int64_t>(3, mr - 1) * lda;
  const float* a4 = a + std::min<int64_t>(4, mr - 1) * lda;
  const float* a5 = a + std::min<int64_t>(5, mr - 1) * lda;
  const float *b0 = b[0], *b1 = b[1], *b2 = b[2], *b3 = b[3];
  for (int64_t q = 0; q < kc; q++, b0 += kNR, b1 += kNR, b2 += kNR, b3 += kNR)
    t.Step(a0[q], a1[q], a2[q], a3[q], a4[q], a5[q], b0, b1, b2, b3);
  t.Store(c, rsc, mr, m, e);
}

// The tile of Tile over convolution windows read in place: row r's K values are k_h runs of
// `run` floats, run ky at rows[r] + ky·strides[r] (a window's filter rows in the input, or an
// assembled border window with stride `run`). Same products in the same k order as Tile over
// the im2col rows, so the same sums.
template <int kPanels>
void WindowTile(int64_t k_h, int64_t run, const float* const* rows, const int64_t* strides, const float* const* b,
                float* c, int64_t rsc, int64_t mr, const __mmask16* m, const Epilogue& e) {
  Acc6<kPanels> t;
  const float *b0 = b[0], *b1 = b[1], *b2 = b[2], *b3 = b[3];
  for (int64_t ky = 0; ky < k_h; ky++) {
    const float* a0 = rows[0] + ky * strides[0];
    const float* a1 = rows[1] + ky * strides[1];
    const float* a2 = rows[2] + ky * strides[2];
    const float* a3 = rows[3] + ky * strides[3];
    const float* a4 = rows[4] + ky * strides[4];
    const float* a5 = rows[5] + ky * strides[5];
    for (int64_t q = 0; q < run; q++, b0 += kNR, b1 += kNR, b2 += kNR, b3 += kNR)
      t.Step(a0[q], a1[q], a2[q], a3[q], a4[q], a5[q], b0, b1, b2, b3);
  }
  t.Store(c, rsc, mr, m, e);
}

// The next group of panels from panel jp on (N columns in all): the panels split into as few
// groups of at most kMaxPanels as possible, as evenly (6 panels as 3 + 3, not 4 + 2); their
// pointers (at k = pc), column masks and count.
inline int PanelGroup(const float* b, int64_t panel_stride, int64_t pc, int64_t jp, int64_t N, const float** bp,
                      __mmask16* m) {
  const int64_t left = (N + kNR - 1) / kNR - jp;
  const int64_t groups = (left + kMaxPanels - 1) / kMaxPanels;
  const int np = static_cast<int>((left + groups - 1) / groups);
  for (int j = 0; j < 4; j++) {
    const int64_t p = jp + std::min(j, np - 1);
    bp[j] = b + p * panel_stride + pc * kNR;
    m[j] = j < np ? simd::FirstLanes16(N - p * kNR) : __mmask16(0);
  }
  return np;
}

// The sum of v's 16 lanes. GCC 12 warns (-Wmaybe-uninitialized) inside its own header for every
// lane-reducing intrinsic, whose "undefined" pass-through operand it reads as uninitialized.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
inline float Sum(__m512 v) { return _mm512_reduce_add_ps(v); }
#pragma GCC diagnostic pop

// v with lane j set to s, in registers. The sums used to go to a stack array read back as one
// vector: a 64-byte load over narrower stores cannot be forwarded from the store buffer and
// waited for them to retire (a sixth of the time of BlazePose's 3 × 3, 8 → 1 head).
inline __m512 SetLane(__m512 v, int64_t j, float s) {
  return _mm512_mask_broadcastss_ps(v, static_cast<__mmask16>(1u << j), _mm_set_ss(s));
}

// N ≤ kFewColumns: each output is the dot product of an A row (read in place) with a B column.
// The register tile would keep 1 to 4 of its 16 lanes per FMA busy and pack A for a single use
// (BlazePose's 3 × 3, 8 → 1 segmentation head, 65536 × 72 × 1: 5.5 ms as tiles); here every
// lane works: per row, K/16 FMAs per column and one horizontal sum. The columns are copied out
// of the k-major panel once per call. Sums go by lanes, then across them: the same products as
// the tile's k-order sum, added in another order.
void FewColumns(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b, float* C, int64_t rsc,
                const float* bias, Activation act, float alpha) {
  float* cols = detail::Scratch(3, static_cast<size_t>(N * K));
  PanelColumns(b, K, N, cols);
  const int64_t full = K / 16 * 16;
  const __mmask16 tail = simd::FirstLanes16(K - full), out = simd::FirstLanes16(N);
  const __m512 bv = bias ? _mm512_maskz_loadu_ps(out, bias) : _mm512_setzero_ps();
  const __m512 av = _mm512_set1_ps(alpha);
  for (int64_t i = 0; i < M; i++) {
    const float* ar = a + i * lda;
    __m512 sums = _mm512_setzero_ps();
    for (int64_t j = 0; j < N; j++) {
      const float* w = cols + j * K;
      __m512 s0 = _mm512_setzero_ps(), s1 = s0;
      int64_t p = 0;
      for (; p + 32 <= full; p += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(ar + p), _mm512_loadu_ps(w + p), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(ar + p + 16), _mm512_loadu_ps(w + p + 16), s1);
      }
      if (p < full) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(ar + p), _mm512_loadu_ps(w + p), s0);
      if (tail) s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, ar + full), _mm512_maskz_loadu_ps(tail, w + full), s1);
      sums = SetLane(sums, j, Sum(_mm512_add_ps(s0, s1)));
    }
    // + bias, then the activation: BiasActRow's order.
    _mm512_mask_storeu_ps(C + i * rsc, out, Act(_mm512_add_ps(sums, bv), act, av));
  }
}

// The dot product of n floats at a and b, added to s (16 lanes at a time, the last masked).
inline __m512 DotRun(int64_t n, const float* a, const float* b, __m512 s) {
  int64_t p = 0;
  for (; p + 16 <= n; p += 16) s = _mm512_fmadd_ps(_mm512_loadu_ps(a + p), _mm512_loadu_ps(b + p), s);
  if (p < n) {
    const __mmask16 m = simd::FirstLanes16(n - p);
    s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + p), _mm512_maskz_loadu_ps(m, b + p), s);
  }
  return s;
}

// Few-column convolution read in place (Kernels::conv_few_columns). FewColumns over im2col
// rows spent most of BlazePose's 3 × 3, 8 → 1 segmentation head (256 × 256 pixels) copying
// each pixel's 72 taps into the im2col chunk and reading them back; here each filter row's
// k_w·in_c taps are one contiguous run of the input (dilation 1), read where they are. A
// run that crosses the left or right border is assembled once, zero-padded, in scratch; a
// filter row above or below the input adds nothing. Per output: the taps' products summed
// by lanes, then across them, + bias, the activation.
template <int N>
void ConvFewColumnsN(const ConvGeom& g, const float* x, const float* w, int64_t m0, int64_t mc, float* y,
                     const float* bias, Activation act, float alpha) {
  const int64_t run = g.k_w * g.in_c, K = g.k_h * run, plane = g.out_h * g.out_w;
  float* edge = detail::Scratch(1, static_cast<size_t>(run));
  const __mmask16 out = simd::FirstLanes16(N);
  const __m512 bv = bias ? _mm512_maskz_loadu_ps(out, bias) : _mm512_setzero_ps();
  const __m512 av = _mm512_set1_ps(alpha);
  // The pixel's coordinates advance with m (no divisions per pixel).
  int64_t b = m0 / plane, oy = (m0 % plane) / g.out_w, ox = m0 % g.out_w;
  for (int64_t m = m0; m < m0 + mc; m++, ox++) {
    if (ox == g.out_w) {
      ox = 0;
      if (++oy == g.out_h) oy = 0, b++;
    }
    const int64_t iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
    const bool inside = ix0 >= 0 && ix0 + g.k_w <= g.in_w;
    if constexpr (N == 1) {
      // One output channel: four pixels of the row at a time when all four read inside it,
      // four independent FMA chains instead of one (a pixel's own chain is only 6 FMAs long).
      if (inside && ox + 3 < g.out_w && m + 3 < m0 + mc && ix0 + 3 * g.stride_w + g.k_w <= g.in_w) {
        const int64_t step = g.stride_w * g.in_c;
        __m512 p0 = _mm512_setzero_ps(), p1 = p0, p2 = p0, p3 = p0;
        for (int64_t ky = 0; ky < g.k_h; ky++) {
          const int64_t iy = iy0 + ky;
          if (iy < 0 || iy >= g.in_h) continue;
          const float* a = x + ((b * g.in_h + iy) * g.in_w + ix0) * g.in_c;
          const float* wk = w + ky * run;
          p0 = DotRun(run, a, wk, p0);
          p1 = DotRun(run, a + step, wk, p1);
          p2 = DotRun(run, a + 2 * step, wk, p2);
          p3 = DotRun(run, a + 3 * step, wk, p3);
        }
        const __m512 sums = _mm512_zextps128_ps512(_mm_setr_ps(Sum(p0), Sum(p1), Sum(p2), Sum(p3)));
        const __m512 b4 = _mm512_set1_ps(bias ? bias[0] : 0.0f);
        _mm512_mask_storeu_ps(y + m, 0xF, Act(_mm512_add_ps(sums, b4), act, av));
        m += 3;
        ox += 3;
        continue;
      }
    }
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int64_t ky = 0; ky < g.k_h; ky++) {
      const int64_t iy = iy0 + ky;
      if (iy < 0 || iy >= g.in_h) continue;
      const float* row = x + ((b * g.in_h + iy) * g.in_w) * g.in_c;
      const float* a = row + ix0 * g.in_c;
      if (!inside) {
        for (int64_t kx = 0; kx < g.k_w; kx++) {
          const int64_t ix = ix0 + kx;
          float* d = edge + kx * g.in_c;
          if (ix < 0 || ix >= g.in_w)
            std::fill(d, d + g.in_c, 0.0f);
          else
            std::copy(row + ix * g.in_c, row + (ix + 1) * g.in_c, d);
        }
        a = edge;
      }
      const float* wk = w + ky * run;
      s0 = DotRun(run, a, wk, s0);
      if constexpr (N > 1) s1 = DotRun(run, a, wk + K, s1);
      if constexpr (N > 2) s2 = DotRun(run, a, wk + 2 * K, s2);
      if constexpr (N > 3) s3 = DotRun(run, a, wk + 3 * K, s3);
    }
    const __m512 sums = _mm512_zextps128_ps512(
        _mm_setr_ps(Sum(s0), N > 1 ? Sum(s1) : 0.0f, N > 2 ? Sum(s2) : 0.0f, N > 3 ? Sum(s3) : 0.0f));
    _mm512_mask_storeu_ps(y + m * N, out, Act(_mm512_add_ps(sums, bv), act, av));
  }
}

void ConvFewColumnsAvx512(const ConvGeom& g, const float* x, const float* w, int64_t m0, int64_t mc, float* y,
                          const float* bias, Activation act, float alpha) {
  switch (g.out_c) {
    case 1:
      return ConvFewColumnsN<1>(g, x, w, m0, mc, y, bias, act, alpha);
    case 2:
      return ConvFewColumnsN<2>(g, x, w, m0, mc, y, bias, act, alpha);
    case 3:
      return ConvFewColumnsN<3>(g, x, w, m0, mc, y, bias, act, alpha);
    default:
      return ConvFewColumnsN<4>(g, x, w, m0, mc, y, bias, act, alpha);
  }
}

// Kernels::conv_windows: output pixels [m0, m0 + mc) of a convolution with K ≤ kKC and
// dilation 1, its windows read in place from x (no im2col copy: for a 3 × 3 × 3 stem the copy
// cost about as much as the products). A window that crosses the border is assembled once,
// zero-padded, in scratch. Pixels go six at a time through WindowTile, a block of kMC pixels
// per pass over the B panels so a panel pair stays in L1.
void ConvWindowsAvx512(const ConvGeom& g, const float* x, const float* b, int64_t panel_stride, int64_t N, int64_t m0,
                       int64_t mc, float* y, const float* bias, Activation act, float alpha) {
  const int64_t run = g.k_w * g.in_c, K = g.k_h * run, plane = g.out_h * g.out_w;
  const int64_t row_stride = g.in_w * g.in_c;
  const bool epi = bias != nullptr || act != Activation::kLinear;
  const Epilogue e{false, epi, nullptr, act, _mm512_set1_ps(alpha)};
  float* edges = detail::Scratch(1, static_cast<size_t>(kMC * K));
  const float* rows[kMC];
  int64_t strides[kMC];
  const int64_t npanels = (N + kNR - 1) / kNR;
  for (int64_t ic = m0; ic < m0 + mc; ic += kMC) {
    const int64_t n = std::min(kMC, m0 + mc - ic);
    // Each pixel's window: in place when inside the input, else assembled (zeros outside). The
    // pixel's coordinates advance with i: four 64-bit divisions per pixel cost more than a
    // 3 × 3 × 3 stem's 27 k steps of products.
    int64_t bi = ic / plane, oy = (ic % plane) / g.out_w, ox = ic % g.out_w;
    for (int64_t i = 0; i < n; i++, ox++) {
      if (ox == g.out_w) {
        ox = 0;
        if (++oy == g.out_h) {
          oy = 0;
          bi++;
        }
      }
      const int64_t iy0 = oy * g.stride_h - g.pad_top, ix0 = ox * g.stride_w - g.pad_left;
      const float* img = x + bi * g.in_h * row_stride;
      if (iy0 >= 0 && iy0 + g.k_h <= g.in_h && ix0 >= 0 && ix0 + g.k_w <= g.in_w) {
        rows[i] = img + iy0 * row_stride + ix0 * g.in_c;
        strides[i] = row_stride;
        continue;
      }
      float* d = edges + i * K;
      for (int64_t ky = 0; ky < g.k_h; ky++)
        for (int64_t kx = 0; kx < g.k_w; kx++) {
          const int64_t iy = iy0 + ky, ix = ix0 + kx;
          float* t = d + ky * run + kx * g.in_c;
          if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w)
            std::fill(t, t + g.in_c, 0.0f);
          else
            std::copy(img + iy * row_stride + ix * g.in_c, img + iy * row_stride + (ix + 1) * g.in_c, t);
        }
      rows[i] = d;
      strides[i] = run;
    }
    for (int64_t jp = 0, np = 0; jp < npanels; jp += np) {
      const float* bp[4];
      __mmask16 mk[4];
      np = PanelGroup(b, panel_stride, 0, jp, N, bp, mk);
      Epilogue et = e;
      et.bias = bias ? bias + jp * kNR : nullptr;
      for (int64_t i = 0; i < n; i += kMR) {
        const int64_t mr = std::min<int64_t>(kMR, n - i);
        // Rows past mr repeat the last one (their sums are not stored).
        const float* r6[kMR];
        int64_t s6[kMR];
        for (int64_t r = 0; r < kMR; r++) {
          const int64_t at = i + std::min<int64_t>(r, mr - 1);
          r6[r] = rows[at];
          s6[r] = strides[at];
        }
        float* c = y + (ic + i) * N + jp * kNR;
        WithPanels(np, [&](auto p) { WindowTile<decltype(p)::kCount>(g.k_h, run, r6, s6, bp, c, N, mr, mk, et); });
      }
    }
  }
}

void GemmPackedBAvx512(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b,
                       int64_t panel_stride, float* C, int64_t rsc, const float* bias, Activation act, float alpha) {
  if (N <= kFewColumns) return FewColumns(M, N, K, a, lda, b, C, rsc, bias, act, alpha);
  const bool epi = bias != nullptr || act != Activation::kLinear;
  // A is read in place, never packed: six rows advancing one float per k are six streams the
  // prefetchers follow, and the packing (a scalar transpose per K block) cost more than it
  // saved at every K measured — Inception V3's float convolutions, K = 27..4032, took 84–95 ms
  // in place against 115–120 ms packed; MobileNetV2's and a ResNet's no slower.
  const int64_t npanels = (N + kNR - 1) / kNR;
  for (int64_t pc = 0; pc < K; pc += kKC) {
    const int64_t kc = std::min(kKC, K - pc);
    const Epilogue e{pc > 0, epi && pc + kc >= K, nullptr, act, _mm512_set1_ps(alpha)};
    for (int64_t ic = 0; ic < M; ic += kMC) {
      const int64_t mc = std::min(kMC, M - ic);
      const int64_t mpanels = (mc + kMR - 1) / kMR;
      for (int64_t jp = 0, np = 0; jp < npanels; jp += np) {
        const float* bp[4];
        __mmask16 mk[4];
        np = PanelGroup(b, panel_stride, pc, jp, N, bp, mk);
        Epilogue et = e;
        et.bias = bias ? bias + jp * kNR : nullptr;
        for (int64_t ip = 0; ip < mpanels; ip++) {
          const int64_t i0 = ic + ip * kMR;
          const int64_t mr = std::min<int64_t>(kMR, M - i0);
          float* c = C + i0 * rsc + jp * kNR;
          const float* at = a + i0 * lda + pc;
          WithPanels(np, [&](auto p) { Tile<decltype(p)::kCount>(kc, at, lda, bp, c, rsc, mr, mk, et); });
        }
      }
    }
  }
}

// Kernels::add_runs: 16 floats per add, the last ones of each run masked (a 16-channel run,
// as in a transposed convolution's scatter, is one masked-free add).
void AddRunsAvx512(float* y, int64_t y_step, const float* x, int64_t x_step, int64_t runs, int64_t len) {
  for (int64_t r = 0; r < runs; r++) {
    float* yr = y + r * y_step;
    const float* xr = x + r * x_step;
    for (int64_t i = 0; i < len; i += 16) {
      const __mmask16 m = simd::FirstLanes16(len - i);
      _mm512_mask_storeu_ps(yr + i, m,
                            _mm512_add_ps(_mm512_maskz_loadu_ps(m, yr + i), _mm512_maskz_loadu_ps(m, xr + i)));
    }
  }
}

}  // namespace

const Kernels& Avx512Kernels() {
  static const Kernels k{Avx2Kernels().gemm_tile, Avx2Kernels().dot_rows, GemmPackedBAvx512,
                         ConvFewColumnsAvx512,    ConvWindowsAvx512,      AddRunsAvx512};
  return k;
}

}  // namespace f32
}  // namespace tfjq
