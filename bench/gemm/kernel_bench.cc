// Microkernel and GEMM micro-benchmark in thread CPU time, for A/B comparisons of kernel
// changes on a loaded machine (bench/gemm/kernel.sh builds it against two source trees).
// For each case it reports the minimum over many short samples (noise from other jobs
// only ever adds time, so the minimum estimates what the code costs) and the median.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gemm/gemm.h"
#include "gemm/internal.h"

using namespace tfjq::gemm;
using tfjq::gemm::internal::ThreadCpuSeconds;

namespace {

template <typename Fn>
void Report(const char* what, double ops, int samples, int inner, Fn fn) {
  std::vector<double> t;
  fn();
  for (int s = 0; s < samples; s++) {
    const double t0 = ThreadCpuSeconds();
    for (int i = 0; i < inner; i++) fn();
    t.push_back((ThreadCpuSeconds() - t0) / inner);
  }
  std::sort(t.begin(), t.end());
  std::printf("%-28s min %9.2f us  median %9.2f us  GOPS(min) %6.1f\n", what, t[0] * 1e6, t[t.size() / 2] * 1e6,
              ops / t[0] * 1e-9);
}

}  // namespace

// kernel_bench [SAMPLES] [avx2|avx512vnni] [MxKxN ...]
int main(int argc, char** argv) {
  const int samples = argc > 1 ? std::atoi(argv[1]) : 31;
  const bool vnni512 = argc > 2 && std::strcmp(argv[2], "avx512vnni") == 0;
  const tfjq::Isa isa = vnni512 ? tfjq::Isa::kAvx512Vnni : tfjq::Isa::kAvx2;
  const auto* ks = tfjq::gemm::internal::KernelsFor(tfjq::Isa::kAvx2);
  // The AVX2 6×16 microkernel alone on L1/L2-resident data.
  for (int64_t kg : {8, 16, 48, 384}) {
    if (vnni512) break;
    const int64_t as = (kg * 4 + 63) / 64 * 64 + 64;
    std::vector<uint8_t> a(static_cast<size_t>(6 * as), 3);
    std::vector<int8_t> b(static_cast<size_t>(kg * 32), -5);
    std::vector<int32_t> c(6 * 16);
    char name[64];
    std::snprintf(name, sizeof name, "kernel 6x16 K=%lld", static_cast<long long>(kg * 2));
    const int inner = static_cast<int>(std::max<int64_t>(1, 400000 / kg));
    Report(name, 2.0 * 6 * 16 * kg * 2 * inner / inner, samples, inner,
           [&] { ks->kernels[5](kg, a.data(), as, b.data(), c.data(), 16, false); });
  }
  // Whole GEMMs (int8 output, 1 thread).
  // Default: pointwise / im2col convolutions of a MobileNetV2 at 224 (small K) and the
  // bench/gemm shapes.
  std::vector<std::vector<int64_t>> shapes = {
      {12544, 27, 32}, {12544, 16, 96}, {12544, 32, 64}, {3136, 24, 144}, {3136, 144, 24}, {784, 144, 32},
      {784, 192, 32},  {196, 384, 96},  {1, 768, 768},   {16, 768, 3072}, {128, 768, 768}, {3136, 576, 64},
      {784, 1152, 128}, {1, 4096, 4096}};
  if (argc > 3) {
    shapes.clear();
    for (int i = 3; i < argc; i++) {
      long long m = 0, k = 0, n = 0;
      if (std::sscanf(argv[i], "%lldx%lldx%lld", &m, &k, &n) != 3 || m < 1 || k < 1 || n < 1) {
        std::fprintf(stderr, "bad shape '%s' (want MxKxN)\n", argv[i]);
        return 2;
      }
      shapes.push_back({m, k, n});
    }
  }
  for (const auto& sh : shapes) {
    const int64_t m = sh[0], k = sh[1], n = sh[2];
    std::vector<uint8_t> a(static_cast<size_t>(m * k));
    std::vector<int8_t> b(static_cast<size_t>(k * n));
    for (size_t i = 0; i < a.size(); i++) a[i] = static_cast<uint8_t>(i * 7919 >> 3);
    for (size_t i = 0; i < b.size(); i++) b[i] = static_cast<int8_t>((i * 31) % 255 - 127);
    PackedB p = PackB(b.data(), k, n, BLayout::kKN, n, nullptr, false, isa);
    std::vector<int8_t> out(static_cast<size_t>(m * n));
    const int32_t za = 3;
    const float mult = 0.001f;
    GemmArgs g;
    g.m = m; g.a = a.data(); g.lda = k; g.a_zero_points = &za; g.b = &p; g.c = out.data(); g.ldc = n; g.threads = 1;
    g.epilogue.output = OutputType::kInt8; g.epilogue.multipliers = &mult;
    char name[64];
    std::snprintf(name, sizeof name, "gemm %lldx%lldx%lld", static_cast<long long>(m), static_cast<long long>(k),
                  static_cast<long long>(n));
    const double ops = 2.0 * m * k * n;
    const int inner = static_cast<int>(std::max(1.0, 2e7 / ops));
    Report(name, ops, samples, inner, [&] { Gemm(g); });
  }
  return 0;
}
