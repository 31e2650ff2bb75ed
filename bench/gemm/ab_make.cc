// One GEMM closure (1 thread, avx512vnni) for bench/gemm/ab_bench.cc, compiled twice by
// bench/gemm/ab.sh: once against the working tree (-DFN=MakeNew) and once against a base
// revision with -Dtfjq=tfjq_base -DFN=MakeBase, so both builds live in one binary.
// AB_MODE (environment): int8 (default: uint8/int8 A, requantized int8 output), dyn (float32
// A quantized per row, float32 output: DynamicGemm) or dyn-tensor (one range for A). The
// float modes fold each output float's four bytes into one output byte (XOR) after the first
// call, the one ab_bench compares, so that its byte comparison still catches a changed bit.
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gemm/gemm.h"

std::function<void()> FN(const uint8_t* a, const int8_t* b, long long m, long long k, long long n, int8_t* out,
                         bool signed_a) {
  using namespace tfjq::gemm;
  auto p = std::make_shared<PackedB>(PackB(b, k, n, BLayout::kKN, n, nullptr, false, tfjq::Isa::kAvx512Vnni));
  const char* env = std::getenv("AB_MODE");
  const std::string mode = env ? env : "int8";
  if (mode == "dyn" || mode == "dyn-tensor") {
    auto x = std::make_shared<std::vector<float>>(static_cast<size_t>(m * k));
    for (size_t i = 0; i < x->size(); i++) (*x)[i] = (static_cast<int>(a[i]) - 100) * 0.037f;
    auto ws = std::make_shared<std::vector<float>>(static_cast<size_t>(n), 0.01f);
    auto bias = std::make_shared<std::vector<float>>(static_cast<size_t>(n), 0.25f);
    auto y = std::make_shared<std::vector<float>>(static_cast<size_t>(m * n));
    DynamicGemmArgs d;
    d.m = m;
    d.x = x->data();
    d.ldx = k;
    d.per_row = mode == "dyn";
    d.b = p.get();
    d.w_scales = ws->data();
    d.bias_f32 = bias->data();
    d.c = y->data();
    d.ldc = n;
    d.threads = 1;
    auto first = std::make_shared<bool>(true);
    return [d, p, x, ws, bias, y, out, first] {
      DynamicGemm(d);
      if (!*first) return;  // ab_bench compares the first call's output; the timed calls skip the fold
      *first = false;
      const uint8_t* bytes = reinterpret_cast<const uint8_t*>(y->data());
      for (size_t i = 0; i < y->size(); i++)
        out[i] = static_cast<int8_t>(bytes[4 * i] ^ bytes[4 * i + 1] ^ bytes[4 * i + 2] ^ bytes[4 * i + 3]);
    };
  }
  auto za = std::make_shared<int32_t>(signed_a ? -5 : 3);
  auto mult = std::make_shared<float>(0.001f);
  auto bias = std::make_shared<std::vector<int32_t>>(n, 1000);
  GemmArgs g;
  g.m = m;
  g.a = a;
  g.a_signed = signed_a;
  g.lda = k;
  g.a_zero_points = za.get();
  g.b = p.get();
  g.c = out;
  g.ldc = n;
  g.threads = 1;
  g.epilogue.output = OutputType::kInt8;
  g.epilogue.multipliers = mult.get();
  g.epilogue.bias = bias->data();
  return [g, p, za, mult, bias] { Gemm(g); };
}
