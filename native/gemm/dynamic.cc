// Dynamic-quantization GEMM (float in, float out): §8 quantization of X to uint8, then the
// int8 GEMM with the dequantize epilogue (§7), in one call.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/aligned_buffer.h"
#include "gemm/gemm.h"
#include "quant/quantize.h"

namespace tfjq {
namespace gemm {
namespace {
struct DynamicScratch {
  AlignedBuffer q;
  std::vector<float> scales;
  std::vector<int32_t> zps;
};

// B, C and the float epilogue of a dynamic call, common to every way of feeding A.
GemmArgs FloatOutArgs(const DynamicGemmArgs& d) {
  GemmArgs g;
  g.m = d.m;
  g.b = d.b;
  g.c = d.c;
  g.ldc = d.ldc;
  g.threads = d.threads;
  g.epilogue.output = OutputType::kFloat32;
  g.epilogue.w_scales = d.w_scales;
  g.epilogue.w_scale_per_channel = d.w_scale_per_channel;
  g.epilogue.bias_f32 = d.bias_f32;
  g.epilogue.activation = d.activation;
  g.epilogue.clamp_min = d.clamp_min;
  g.epilogue.clamp_max = d.clamp_max;
  return g;
}
}  // namespace

void DynamicGemm(const DynamicGemmArgs& d) {
  if (d.b == nullptr || d.b->empty()) throw std::invalid_argument("b (packed weights) must not be empty");
  const int64_t k = d.b->k();
  if (d.m < 0 || d.m >= kMaxDim) throw std::invalid_argument("m must be in [0, 2^31)");
  if (d.ldx < k) throw std::invalid_argument("ldx must be at least k = " + std::to_string(k));
  if (d.m > 0 && (d.x == nullptr || d.c == nullptr)) throw std::invalid_argument("x and c must not be null");
  GemmArgs g = FloatOutArgs(d);
  if (d.per_row && d.b->isa() != Isa::kRef) {
    // Per row: each block of rows is quantized as it is packed (one read of X while its rows
    // are in L1, no m·k uint8 copy written and read back), inside the GEMM's tasks.
    g.a_f32 = d.x;
    g.lda = d.ldx;
    Gemm(g);
    return;
  }
  const int64_t rows = d.per_row ? std::max<int64_t>(d.m, 1) : 1;
  // Per-thread scratch reused across calls: a fresh m·k buffer per call meant page faults
  // on every call (the quantized activations of a 12544 × 27 layer are 330 KB).
  // DynamicGemm does not re-enter itself, so one buffer per thread suffices.
  thread_local DynamicScratch t;
  DynamicScratch& s = t;
  s.scales.assign(static_cast<size_t>(rows), 1.0f);
  s.zps.assign(static_cast<size_t>(rows), 0);
  const size_t qbytes = static_cast<size_t>(std::max<int64_t>(1, d.m * k));
  if (s.q.size() < qbytes) s.q.Reset(qbytes);
  if (d.m > 0)
    quant::DynamicQuantizeU8(d.x, d.m, k, d.ldx, d.per_row, s.q.data(), s.scales.data(), s.zps.data(), d.threads);
  g.a = s.q.data();
  g.a_signed = false;
  g.lda = k;
  g.a_zero_points = s.zps.data();
  g.a_zero_point_per_row = d.per_row;
  g.epilogue.a_scales = s.scales.data();
  g.epilogue.a_scale_per_row = d.per_row;
  Gemm(g);
}

void DynamicGemmPerTensorU8(const DynamicGemmArgs& d, const uint8_t* a, int64_t lda, float scale, int32_t zero_point) {
  GemmArgs g = FloatOutArgs(d);
  g.a = a;
  g.a_signed = false;
  g.lda = lda;
  g.a_zero_points = &zero_point;
  g.epilogue.a_scales = &scale;
  Gemm(g);
}

}  // namespace gemm
}  // namespace tfjq
