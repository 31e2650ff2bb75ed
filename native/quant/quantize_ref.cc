// The reference (oracle) span kernels: plain loops over the scalar statement (scalar.h).
#include <algorithm>

#include "quant/kernels.h"
#include "quant/scalar.h"

namespace tfjq {
namespace quant {
namespace {

template <typename Out>
void QuantizeRef(const float* x, int64_t n, const float* s, const int32_t* z, bool vec, int32_t qmin, int32_t qmax,
                 Out* out) {
  for (int64_t i = 0; i < n; i++) {
    const int64_t p = vec ? i : 0;
    out[i] = static_cast<Out>(scalar::Quantize(x[i], s[p], z[p], qmin, qmax));
  }
}

template <typename In>
void DequantizeRef(const In* q, int64_t n, const float* s, const int32_t* z, bool vec, float* out) {
  for (int64_t i = 0; i < n; i++) {
    const int64_t p = vec ? i : 0;
    out[i] = scalar::Dequantize(q[i], s[p], z[p]);
  }
}

template <typename In, typename Out>
void RequantizeRef(const In* a, int64_t n, const float* m, const int32_t* zi, bool vec, int32_t zo, int32_t lo,
                   int32_t hi, Out* out) {
  for (int64_t i = 0; i < n; i++) {
    const int64_t p = vec ? i : 0;
    const int32_t acc = zi ? static_cast<int32_t>(a[i]) - zi[p] : static_cast<int32_t>(a[i]);
    out[i] = static_cast<Out>(scalar::Requantize(acc, m[p], zo, lo, hi));
  }
}

void MinMaxRef(const float* x, int64_t n, float* lo, float* hi) {
  float l = *lo, h = *hi;
  for (int64_t i = 0; i < n; i++) {
    const float v = scalar::FiniteOrZero(x[i]);
    l = std::min(l, v);
    h = std::max(h, v);
  }
  *lo = l < 0.0f ? l : 0.0f;  // +0, never -0
  *hi = h > 0.0f ? h : 0.0f;
}

void MinMaxVecRef(const float* x, int64_t n, float* lo, float* hi) {
  for (int64_t i = 0; i < n; i++) {
    const float v = scalar::FiniteOrZero(x[i]);
    lo[i] = std::min(lo[i], v);
    hi[i] = std::max(hi[i], v);
  }
}

void F32ToF16Ref(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; i++) out[i] = scalar::FloatToHalf(x[i]);
}
void F16ToF32Ref(const uint16_t* h, int64_t n, float* out) {
  for (int64_t i = 0; i < n; i++) out[i] = scalar::HalfToFloat(h[i]);
}

}  // namespace

const Kernels& RefKernels() {
  static const Kernels k = {
      QuantizeRef<int8_t>,
      QuantizeRef<uint8_t>,
      DequantizeRef<int8_t>,
      DequantizeRef<uint8_t>,
      DequantizeRef<int32_t>,
      RequantizeRef<int32_t, int8_t>,
      RequantizeRef<int32_t, uint8_t>,
      RequantizeRef<int8_t, int8_t>,
      RequantizeRef<int8_t, uint8_t>,
      RequantizeRef<uint8_t, int8_t>,
      RequantizeRef<uint8_t, uint8_t>,
      MinMaxRef,
      MinMaxVecRef,
      F32ToF16Ref,
      F16ToF32Ref,
      nullptr,
  };
  return k;
}

}  // namespace quant
}  // namespace tfjq
