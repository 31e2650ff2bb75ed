// One GEMM closure (int8 output, 1 thread, avx512vnni) for bench/gemm/ab_bench.cc, compiled
// twice by bench/gemm/ab.sh: once against the working tree (-DFN=MakeNew) and once against a
// base revision with -Dtfjq=tfjq_base -DFN=MakeBase, so both builds live in one binary.
#include <functional>
#include <memory>
#include <vector>

#include "gemm/gemm.h"

std::function<void()> FN(const uint8_t* a, const int8_t* b, long long m, long long k, long long n, int8_t* out,
                         bool signed_a) {
  using namespace tfjq::gemm;
  auto p = std::make_shared<PackedB>(PackB(b, k, n, BLayout::kKN, n, nullptr, false, tfjq::Isa::kAvx512Vnni));
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
