// Dispatch and tiling for quantize.h: picks the span kernels of the active ISA, splits a
// [outer, channels, inner] tensor into contiguous spans with their parameters, and spreads
// large arrays over the thread pool. Parameter choice (§4) lives here too.
#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cpu.h"
#include "common/thread_pool.h"
#include "quant/kernels.h"
#include "quant/scalar.h"

namespace tfjq {
namespace quant {

// The quantize family's table: kernels for ref, AVX2, AVX-512 and NEON; AVX-VNNI resolves to
// AVX2 and NEON dot product to NEON along the fallback chain (common/dispatch.h).
const Kernels& KernelsFor(Isa isa) {
  static const IsaTable<Kernels> table = [] {
    IsaTable<Kernels> t;
    t.entries[static_cast<int>(Isa::kRef)] = [] { return &RefKernels(); };
#if defined(__x86_64__) || defined(_M_X64)
    t.entries[static_cast<int>(Isa::kAvx2)] = [] { return &Avx2Kernels(); };
    t.entries[static_cast<int>(Isa::kAvx512Vnni)] = [] { return &Avx512Kernels(); };
#endif
#if defined(__aarch64__)
    t.entries[static_cast<int>(Isa::kNeon)] = [] { return &NeonKernels(); };
#endif
    return t;
  }();
  return *table.Resolve(isa);
}

namespace {

constexpr int64_t kGrain = 1 << 15;   // elements per parallel chunk, at least
constexpr int64_t kMinInner = 32;     // shorter channel runs use per-element parameters
constexpr int64_t kMinPeriod = 1024;  // per-element parameter rows are tiled to at least this

const Kernels& Active() { return KernelsFor(ActiveIsa()); }

// Calls f(begin, len, fparams, iparams, vec) over contiguous spans covering the n =
// layout.size() elements, in parallel. fp / ip hold layout.channels entries (ip may be null).
template <typename F>
void ForSpans(const Layout& l, const float* fp, const int32_t* ip, int threads, const F& f) {
  const int64_t n = l.size();
  if (n <= 0) return;
  const int64_t C = l.channels, inner = l.inner;
  if (C == 1) {
    ParallelFor(n, kGrain, threads, [&](int64_t b, int64_t e) { f(b, e - b, fp, ip, false); });
    return;
  }
  if (inner >= kMinInner) {
    ParallelFor(n, kGrain, threads, [&](int64_t b, int64_t e) {
      while (b < e) {
        const int64_t s = b / inner, off = b - s * inner, len = std::min(inner - off, e - b);
        const int64_t c = s % C;
        f(b, len, fp + c, ip ? ip + c : nullptr, false);
        b += len;
      }
    });
    return;
  }
  // Short runs: expand the parameters to one per element of a period of C × inner elements,
  // tiled so SIMD kernels see long rows. Element i uses entry i mod period.
  const int64_t base = C * inner;
  const int64_t period = base * std::max<int64_t>(1, (kMinPeriod + base - 1) / base);
  std::vector<float> ef(static_cast<size_t>(period));
  std::vector<int32_t> ei(ip ? static_cast<size_t>(period) : 0);
  for (int64_t j = 0; j < period;) {  // no divisions: this runs on every call
    for (int64_t c = 0; c < C; c++) {
      for (int64_t t = 0; t < inner; t++, j++) {
        ef[j] = fp[c];
        if (ip) ei[j] = ip[c];
      }
    }
  }
  ParallelFor(n, kGrain, threads, [&](int64_t b, int64_t e) {
    while (b < e) {
      const int64_t p = b % period, len = std::min(period - p, e - b);
      f(b, len, ef.data() + p, ip ? ei.data() + p : nullptr, true);
      b += len;
    }
  });
}

template <typename Out>
using QuantizeFn = void (*)(const float*, int64_t, const float*, const int32_t*, bool, int32_t, int32_t, Out*);

template <typename Out>
void QuantizeImpl(QuantizeFn<Out> fn, const float* x, const Layout& l, const float* s, const int32_t* z, int32_t qmin,
                  int32_t qmax, Out* out, int threads) {
  ForSpans(l, s, z, threads, [&](int64_t b, int64_t len, const float* fs, const int32_t* zs, bool vec) {
    fn(x + b, len, fs, zs, vec, qmin, qmax, out + b);
  });
}

template <typename In>
using DequantizeFn = void (*)(const In*, int64_t, const float*, const int32_t*, bool, float*);

template <typename In>
void DequantizeImpl(DequantizeFn<In> fn, const In* q, const Layout& l, const float* s, const int32_t* z, float* out,
                    int threads) {
  ForSpans(l, s, z, threads, [&](int64_t b, int64_t len, const float* fs, const int32_t* zs, bool vec) {
    fn(q + b, len, fs, zs, vec, out + b);
  });
}

template <typename In, typename Out>
using RequantizeFn = void (*)(const In*, int64_t, const float*, const int32_t*, bool, int32_t, int32_t, int32_t, Out*);

template <typename In, typename Out>
void RequantizeImpl(RequantizeFn<In, Out> fn, const In* a, const Layout& l, const float* m, const int32_t* zi,
                    int32_t zo, int32_t lo, int32_t hi, Out* out, int threads) {
  ForSpans(l, m, zi, threads, [&](int64_t b, int64_t len, const float* ms, const int32_t* zs, bool vec) {
    fn(a + b, len, ms, zs, vec, zo, lo, hi, out + b);
  });
}

inline float CanonLo(float v) { return v < 0.0f ? v : 0.0f; }
inline float CanonHi(float v) { return v > 0.0f ? v : 0.0f; }

// Number of independent partial reductions for n elements.
int64_t NumParts(int64_t n, int threads) {
  const int64_t t = Participants(threads);
  return std::max<int64_t>(1, std::min<int64_t>(t * 2, n / kGrain));
}

QParams FromScale(float scale, float lo, int32_t qmin, int32_t qmax) {
  if (!(scale > 0.0f) || !std::isfinite(scale)) scale = 1.0f;
  float z = -lo / scale;
  z = scalar::Clamp(z, static_cast<float>(qmin), static_cast<float>(qmax));
  QParams p;
  p.scale = scale;
  p.zero_point = static_cast<int32_t>(std::nearbyintf(z));
  return p;
}

// NaN bounds read as 0 (fmin/fmax ignore NaN); then the range is widened to include 0.
inline float WidenLo(float lo) { return std::fmin(lo, 0.0f); }
inline float WidenHi(float hi) { return std::fmax(hi, 0.0f); }

}  // namespace

QParams ChooseAsymmetricU8(float lo, float hi) {
  lo = WidenLo(lo);
  hi = WidenHi(hi);
  const float range = hi - lo;
  return FromScale(range / 255.0f, lo, 0, 255);
}

QParams ChooseAsymmetricS8(float lo, float hi) {
  QParams p = ChooseAsymmetricU8(lo, hi);
  p.zero_point -= 128;
  return p;
}

QParams ChooseSymmetricS8(float lo, float hi) {
  lo = WidenLo(lo);
  hi = WidenHi(hi);
  const float amax = std::max(std::fabs(lo), std::fabs(hi));
  float scale = amax / 127.0f;
  if (!(scale > 0.0f) || !std::isfinite(scale)) scale = 1.0f;
  QParams p;
  p.scale = scale;
  p.zero_point = 0;
  return p;
}

QParams ChooseParams(ParamScheme scheme, float lo, float hi) {
  switch (scheme) {
    case ParamScheme::kAsymmetricU8:
      return ChooseAsymmetricU8(lo, hi);
    case ParamScheme::kAsymmetricS8:
      return ChooseAsymmetricS8(lo, hi);
    case ParamScheme::kSymmetricS8:
      return ChooseSymmetricS8(lo, hi);
  }
  return QParams{};
}

float RequantizeMultiplier(float sa, float sw, float so) {
  const char* names[3] = {"inputScale", "weightScale", "outputScale"};
  const float v[3] = {sa, sw, so};
  for (int i = 0; i < 3; i++) {
    if (!(v[i] > 0.0f) || !std::isfinite(v[i]))
      throw std::invalid_argument(std::string(names[i]) + " must be a finite float32 > 0");
  }
  const float p = sa * sw;
  return p / so;
}

// ---- quantize / dequantize / requantize

void Quantize(const float* x, const Layout& l, const float* s, const int32_t* z, int32_t qmin, int32_t qmax,
              int8_t* out, int threads) {
  QuantizeImpl<int8_t>(Active().quantize_s8, x, l, s, z, qmin, qmax, out, threads);
}
void Quantize(const float* x, const Layout& l, const float* s, const int32_t* z, int32_t qmin, int32_t qmax,
              uint8_t* out, int threads) {
  QuantizeImpl<uint8_t>(Active().quantize_u8, x, l, s, z, qmin, qmax, out, threads);
}

void Dequantize(const int8_t* q, const Layout& l, const float* s, const int32_t* z, float* out, int threads) {
  DequantizeImpl<int8_t>(Active().dequantize_s8, q, l, s, z, out, threads);
}
void Dequantize(const uint8_t* q, const Layout& l, const float* s, const int32_t* z, float* out, int threads) {
  DequantizeImpl<uint8_t>(Active().dequantize_u8, q, l, s, z, out, threads);
}
void Dequantize(const int32_t* q, const Layout& l, const float* s, const int32_t* z, float* out, int threads) {
  DequantizeImpl<int32_t>(Active().dequantize_s32, q, l, s, z, out, threads);
}

void Requantize(const int32_t* a, const Layout& l, const float* m, int32_t zo, int32_t lo, int32_t hi, int8_t* out,
                int threads) {
  RequantizeImpl<int32_t, int8_t>(Active().requantize_s32_s8, a, l, m, nullptr, zo, lo, hi, out, threads);
}
void Requantize(const int32_t* a, const Layout& l, const float* m, int32_t zo, int32_t lo, int32_t hi, uint8_t* out,
                int threads) {
  RequantizeImpl<int32_t, uint8_t>(Active().requantize_s32_u8, a, l, m, nullptr, zo, lo, hi, out, threads);
}
void Requantize(const int8_t* a, const Layout& l, const float* m, const int32_t* zi, int32_t zo, int32_t lo, int32_t hi,
                int8_t* out, int threads) {
  RequantizeImpl<int8_t, int8_t>(Active().requantize_s8_s8, a, l, m, zi, zo, lo, hi, out, threads);
}
void Requantize(const int8_t* a, const Layout& l, const float* m, const int32_t* zi, int32_t zo, int32_t lo, int32_t hi,
                uint8_t* out, int threads) {
  RequantizeImpl<int8_t, uint8_t>(Active().requantize_s8_u8, a, l, m, zi, zo, lo, hi, out, threads);
}
void Requantize(const uint8_t* a, const Layout& l, const float* m, const int32_t* zi, int32_t zo, int32_t lo,
                int32_t hi, int8_t* out, int threads) {
  RequantizeImpl<uint8_t, int8_t>(Active().requantize_u8_s8, a, l, m, zi, zo, lo, hi, out, threads);
}
void Requantize(const uint8_t* a, const Layout& l, const float* m, const int32_t* zi, int32_t zo, int32_t lo,
                int32_t hi, uint8_t* out, int threads) {
  RequantizeImpl<uint8_t, uint8_t>(Active().requantize_u8_u8, a, l, m, zi, zo, lo, hi, out, threads);
}

// ---- ranges

void MinMax(const float* x, int64_t n, float* lo, float* hi, int threads) {
  const Kernels& k = Active();
  const int64_t parts = NumParts(n, threads);
  std::vector<float> pl(static_cast<size_t>(parts), 0.0f), ph(static_cast<size_t>(parts), 0.0f);
  ParallelFor(parts, 1, threads, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; p++) {
      const int64_t s = n * p / parts, t = n * (p + 1) / parts;
      k.minmax(x + s, t - s, &pl[p], &ph[p]);
    }
  });
  float l = 0.0f, h = 0.0f;
  for (int64_t p = 0; p < parts; p++) {
    l = std::min(l, pl[p]);
    h = std::max(h, ph[p]);
  }
  *lo = CanonLo(l);
  *hi = CanonHi(h);
}

void ChannelMinMax(const float* x, const Layout& l, float* lo, float* hi, int threads) {
  const Kernels& k = Active();
  const int64_t C = l.channels, inner = l.inner, n = l.size();
  for (int64_t c = 0; c < C; c++) lo[c] = hi[c] = 0.0f;
  if (n <= 0) return;
  if (C == 1) {
    MinMax(x, n, lo, hi, threads);
    return;
  }
  const int64_t parts = NumParts(n, threads);
  if (inner >= kMinInner) {
    // One reduction per (outer, channel) run; partial results per part.
    std::vector<float> pl(static_cast<size_t>(parts * C), 0.0f), ph(static_cast<size_t>(parts * C), 0.0f);
    ParallelFor(parts, 1, threads, [&](int64_t pb, int64_t pe) {
      for (int64_t p = pb; p < pe; p++) {
        int64_t b = n * p / parts;
        const int64_t e = n * (p + 1) / parts;
        while (b < e) {
          const int64_t s = b / inner, off = b - s * inner, len = std::min(inner - off, e - b);
          const int64_t c = s % C;
          k.minmax(x + b, len, &pl[p * C + c], &ph[p * C + c]);
          b += len;
        }
      }
    });
    for (int64_t p = 0; p < parts; p++) {
      for (int64_t c = 0; c < C; c++) {
        lo[c] = std::min(lo[c], pl[p * C + c]);
        hi[c] = std::max(hi[c], ph[p * C + c]);
      }
    }
  } else {
    // Element-wise accumulation over a period of C × inner (tiled), folded per channel.
    const int64_t base = C * inner;
    const int64_t period = base * std::max<int64_t>(1, (kMinPeriod + base - 1) / base);
    std::vector<float> pl(static_cast<size_t>(parts * period), 0.0f), ph(static_cast<size_t>(parts * period), 0.0f);
    ParallelFor(parts, 1, threads, [&](int64_t pb, int64_t pe) {
      for (int64_t p = pb; p < pe; p++) {
        int64_t b = n * p / parts;
        const int64_t e = n * (p + 1) / parts;
        while (b < e) {
          const int64_t q = b % period, len = std::min(period - q, e - b);
          k.minmax_vec(x + b, len, &pl[p * period + q], &ph[p * period + q]);
          b += len;
        }
      }
    });
    for (int64_t p = 0; p < parts; p++) {
      for (int64_t j = 0; j < period; j++) {
        const int64_t c = (j / inner) % C;
        lo[c] = std::min(lo[c], pl[p * period + j]);
        hi[c] = std::max(hi[c], ph[p * period + j]);
      }
    }
  }
  for (int64_t c = 0; c < C; c++) {
    lo[c] = CanonLo(lo[c]);
    hi[c] = CanonHi(hi[c]);
  }
}

void ChooseChannelParams(const float* x, const Layout& l, ParamScheme scheme, float* scales, int32_t* zero_points,
                         int threads) {
  const int64_t C = l.channels;
  std::vector<float> lo(static_cast<size_t>(C)), hi(static_cast<size_t>(C));
  ChannelMinMax(x, l, lo.data(), hi.data(), threads);
  for (int64_t c = 0; c < C; c++) {
    const QParams p = ChooseParams(scheme, lo[c], hi[c]);
    scales[c] = p.scale;
    zero_points[c] = p.zero_point;
  }
}

// ---- §8 dynamic quantization

void DynamicQuantizeRowsU8(const float* x, int64_t rows, int64_t k, int64_t ldx, uint8_t* out, int64_t ldo,
                           float* scales, int32_t* zero_points) {
  const Kernels& kern = Active();
  if (kern.dynamic_rows_u8 != nullptr && ldo == k) {
    kern.dynamic_rows_u8(x, rows, k, ldx, out, scales, zero_points);
    return;
  }
  for (int64_t r = 0; r < rows; r++) {
    const float* row = x + r * ldx;
    float lo = 0.0f, hi = 0.0f;
    kern.minmax(row, k, &lo, &hi);  // the row stays in cache for the second sweep
    const QParams p = ChooseAsymmetricU8(lo, hi);
    scales[r] = p.scale;
    zero_points[r] = p.zero_point;
    kern.quantize_u8(row, k, &p.scale, &p.zero_point, false, 0, 255, out + r * ldo);
  }
}

void DynamicQuantizeU8(const float* x, int64_t m, int64_t k, int64_t ldx, bool per_row, uint8_t* out, float* scales,
                       int32_t* zero_points, int threads) {
  const Kernels& kern = Active();
  if (per_row) {
    if (m <= 0) return;
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, k));
    ParallelFor(m, grain, threads, [&](int64_t b, int64_t e) {
      DynamicQuantizeRowsU8(x + b * ldx, e - b, k, ldx, out + b * k, k, scales + b, zero_points + b);
    });
    return;
  }
  float lo = 0.0f, hi = 0.0f;
  if (m > 0 && k > 0) {
    if (ldx == k) {
      MinMax(x, m * k, &lo, &hi, threads);
    } else {
      const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(m, NumParts(m * k, threads)));
      std::vector<float> pl(static_cast<size_t>(parts), 0.0f), ph(static_cast<size_t>(parts), 0.0f);
      ParallelFor(parts, 1, threads, [&](int64_t pb, int64_t pe) {
        for (int64_t p = pb; p < pe; p++) {
          for (int64_t r = m * p / parts; r < m * (p + 1) / parts; r++) kern.minmax(x + r * ldx, k, &pl[p], &ph[p]);
        }
      });
      for (int64_t p = 0; p < parts; p++) {
        lo = std::min(lo, pl[p]);
        hi = std::max(hi, ph[p]);
      }
    }
  }
  const QParams p = ChooseAsymmetricU8(lo, hi);
  scales[0] = p.scale;
  zero_points[0] = p.zero_point;
  if (m <= 0 || k <= 0) return;
  if (ldx == k) {
    ParallelFor(m * k, kGrain, threads, [&](int64_t b, int64_t e) {
      kern.quantize_u8(x + b, e - b, &p.scale, &p.zero_point, false, 0, 255, out + b);
    });
  } else {
    const int64_t grain = std::max<int64_t>(1, kGrain / k);
    ParallelFor(m, grain, threads, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; r++)
        kern.quantize_u8(x + r * ldx, k, &p.scale, &p.zero_point, false, 0, 255, out + r * k);
    });
  }
}

// ---- §9 float16

void FloatToHalf(const float* x, int64_t n, uint16_t* out, int threads) {
  const Kernels& k = Active();
  ParallelFor(n, kGrain, threads, [&](int64_t b, int64_t e) { k.f32_to_f16(x + b, e - b, out + b); });
}

void HalfToFloat(const uint16_t* h, int64_t n, float* out, int threads) {
  const Kernels& k = Active();
  ParallelFor(n, kGrain, threads, [&](int64_t b, int64_t e) { k.f16_to_f32(h + b, e - b, out + b); });
}

uint16_t FloatToHalfScalar(float x) { return scalar::FloatToHalf(x); }
float HalfToFloatScalar(uint16_t h) { return scalar::HalfToFloat(h); }

void CheckScales(const float* scales, size_t n, const char* name) {
  for (size_t i = 0; i < n; i++) {
    if (!(scales[i] > 0.0f) || !std::isfinite(scales[i]))
      throw std::invalid_argument(std::string(name) + "[" + std::to_string(i) + "] must be a finite number > 0, got " +
                                  std::to_string(scales[i]));
  }
}

void CheckZeroPoints(const int32_t* zero_points, size_t n, int32_t lo, int32_t hi, const char* name) {
  for (size_t i = 0; i < n; i++) {
    if (zero_points[i] < lo || zero_points[i] > hi)
      throw std::invalid_argument(std::string(name) + "[" + std::to_string(i) +
                                  "] = " + std::to_string(zero_points[i]) + " is outside [" + std::to_string(lo) +
                                  ", " + std::to_string(hi) + "]");
  }
}

}  // namespace quant
}  // namespace tfjq
