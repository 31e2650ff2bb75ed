// Lookup-table activations and softmax (int8 + float32).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "ops/internal.h"
#include "ops/ops.h"
#include "quant/scalar.h"

namespace tfjq {
namespace ops {

void BuildLut(Activation act, float alpha, bool x_signed, float sx, int32_t zx, bool y_signed, float sy, int32_t zy,
              int32_t y_min, int32_t y_max, uint8_t table[256]) {
  for (int i = 0; i < 256; i++) {
    const int32_t q = x_signed ? static_cast<int32_t>(static_cast<int8_t>(static_cast<uint8_t>(i))) : i;
    const float x = quant::scalar::Dequantize(q, sx, zx);
    const float f = static_cast<float>(ActivationValue(act, static_cast<double>(alpha), static_cast<double>(x)));
    const int32_t qmin = y_signed ? -128 : 0, qmax = y_signed ? 127 : 255;
    int32_t v = quant::scalar::Quantize(f, sy, zy, qmin, qmax);
    v = std::min(std::max(v, y_min), y_max);
    table[i] = static_cast<uint8_t>(v);
  }
}

void ApplyLut(const uint8_t table[256], const uint8_t* x, int64_t n, uint8_t* y, int threads) {
  const detail::VectorKernels* vk = detail::ActiveVectorKernels();
  ParallelFor(n, 1 << 16, threads, [&](int64_t b, int64_t e) {
    int64_t i = b;
    if (vk != nullptr) i += vk->apply_lut(table, x + b, e - b, y + b);
    for (; i + 4 <= e; i += 4) {
      const uint8_t a0 = table[x[i]], a1 = table[x[i + 1]], a2 = table[x[i + 2]], a3 = table[x[i + 3]];
      y[i] = a0;
      y[i + 1] = a1;
      y[i + 2] = a2;
      y[i + 3] = a3;
    }
    for (; i < e; i++) y[i] = table[x[i]];
  });
}

// ---------------------------------------------------------------- softmax

void SoftmaxTable(float beta, float x_scale, uint32_t table[256]) {
  const float t = beta * x_scale;
  for (int j = 0; j < 256; j++) {
    const double e = std::exp(-static_cast<double>(j) * static_cast<double>(t)) * 4194304.0;  // 2^22
    table[j] = static_cast<uint32_t>(std::nearbyint(e));
  }
}

namespace {

template <typename In, typename Out>
void SoftmaxQImpl(const In* x, int64_t rows, int64_t cols, float x_scale, float beta, Out* y, int threads) {
  uint32_t table[256];
  SoftmaxTable(beta, x_scale, table);
  const int32_t zo = std::is_same<Out, int8_t>::value ? -128 : 0;
  ParallelFor(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(cols, 1)), threads, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++) {
      const In* xp = x + r * cols;
      Out* yp = y + r * cols;
      int32_t m = xp[0];
      for (int64_t i = 1; i < cols; i++) m = std::max<int32_t>(m, xp[i]);
      uint64_t s = 0;
      for (int64_t i = 0; i < cols; i++) s += table[m - xp[i]];
      for (int64_t i = 0; i < cols; i++) {
        const uint64_t num = static_cast<uint64_t>(table[m - xp[i]]) << 8;
        uint64_t q = num / s;
        const uint64_t rem = num - q * s;
        if (2 * rem > s || (2 * rem == s && (q & 1))) q++;
        if (q > 255) q = 255;
        yp[i] = static_cast<Out>(static_cast<int32_t>(q) + zo);
      }
    }
  });
}

}  // namespace

void SoftmaxQ(const int8_t* x, int64_t rows, int64_t cols, float sx, float beta, int8_t* y, int threads) {
  SoftmaxQImpl(x, rows, cols, sx, beta, y, threads);
}
void SoftmaxQ(const int8_t* x, int64_t rows, int64_t cols, float sx, float beta, uint8_t* y, int threads) {
  SoftmaxQImpl(x, rows, cols, sx, beta, y, threads);
}
void SoftmaxQ(const uint8_t* x, int64_t rows, int64_t cols, float sx, float beta, int8_t* y, int threads) {
  SoftmaxQImpl(x, rows, cols, sx, beta, y, threads);
}
void SoftmaxQ(const uint8_t* x, int64_t rows, int64_t cols, float sx, float beta, uint8_t* y, int threads) {
  SoftmaxQImpl(x, rows, cols, sx, beta, y, threads);
}

void SoftmaxF32(const float* x, int64_t rows, int64_t cols, float beta, float* y, int threads) {
  ParallelFor(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(cols, 1)), threads, [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; r++) {
      const float* xp = x + r * cols;
      float* yp = y + r * cols;
      float m = -INFINITY;
      for (int64_t i = 0; i < cols; i++) m = std::max(m, xp[i]);
      double s = 0;
      for (int64_t i = 0; i < cols; i++) {
        yp[i] = std::exp(beta * (xp[i] - m));
        s += yp[i];
      }
      const float inv = static_cast<float>(1.0 / s);
      for (int64_t i = 0; i < cols; i++) yp[i] *= inv;
    }
  });
}

}  // namespace ops
}  // namespace tfjq
