// int8 vs int4 GEMV (M = 1) through the native drivers only (no JS, no N-API): the kernels'
// own rates, next to a plain AVX2 read loop's bandwidth at the same working-set sizes, so the
// ratio can be read against memory bandwidth and arithmetic ("at M = 1 the 4-bit
// kernel should approach 2× the 8-bit kernel's throughput on large layers").
// One thread, thread CPU time, interleaved rounds (int8, int4, int8, …), medians and best rounds.
// Build and run with bench/int4/gemv-native.sh (links the core library of a cmake-js build).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <utility>
#include <vector>

#include "common/aligned_buffer.h"
#include "gemm/gemm.h"
#include "gemm/gemm_int4.h"

using namespace tfjq;
using namespace tfjq::gemm;

namespace {

double Cpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

struct Stat { double median, best; };
Stat Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front()};
}

// Bytes per second of a sequential 4-way unrolled AVX2 read of `bytes` (warm, repeated).
double ReadBandwidth(size_t bytes, int rounds) {
  AlignedBuffer buf(bytes);
  for (size_t i = 0; i < bytes; i++) buf.data()[i] = static_cast<uint8_t>(i * 7);
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  std::vector<double> t;
  for (int r = 0; r < rounds; r++) {
    const double t0 = Cpu();
    const uint8_t* p = buf.data();
    for (size_t i = 0; i + 128 <= bytes; i += 128) {
      a0 = _mm256_add_epi8(a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i)));
      a1 = _mm256_add_epi8(a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 32)));
      a2 = _mm256_add_epi8(a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 64)));
      a3 = _mm256_add_epi8(a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(p + i + 96)));
    }
    t.push_back(Cpu() - t0);
  }
  volatile int sink = _mm256_extract_epi8(_mm256_add_epi8(_mm256_add_epi8(a0, a1), _mm256_add_epi8(a2, a3)), 0);
  (void)sink;
  return bytes / Summarize(t).median;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 15;
  std::printf("| K×N | int8 GOPS | int4 GOPS | int4/int8 | int8 best round | int4 best round | best rounds 4/8 | int8 weights | int4 weights | int8 GB/s | int4 GB/s |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{512, 512}, {1024, 768}, {768, 3072}, {4096, 4096}};
  for (const auto& [k, n] : shapes) {
    std::mt19937 rng(static_cast<unsigned>(k * 31 + n));
    const int64_t G = 64, groups = (k + G - 1) / G;
    std::vector<int8_t> w8(static_cast<size_t>(k * n)), w4(static_cast<size_t>(k * n));
    for (auto& x : w8) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    for (auto& x : w4) x = static_cast<int8_t>(static_cast<int>(rng() % 15) - 7);
    // Double-quantized group scales (code × a per-column super-scale): packed as 1-byte codes.
    std::vector<float> sc(static_cast<size_t>(groups * n));
    for (int64_t j = 0; j < n; j++) {
      const float super = static_cast<float>(40000 + j % 1000) / 65536.0f / 65536.0f;
      for (int64_t g = 0; g < groups; g++) sc[g * n + j] = static_cast<float>(1 + rng() % 255) * super;
    }
    const PackedB p8 = PackB(w8.data(), k, n, BLayout::kKN, n, nullptr, false, ActiveIsa());
    const PackedInt4 p4 = PackInt4(w4.data(), k, n, BLayout::kKN, n, G, sc.data(), nullptr, Int4DefaultIsa());
    std::vector<uint8_t> a(static_cast<size_t>(k));
    for (auto& x : a) x = static_cast<uint8_t>(rng());
    const int32_t za = 128;
    const float sa = 0.02f;
    std::vector<float> ws(static_cast<size_t>(n), 0.01f), y(static_cast<size_t>(n));
    GemmArgs g8;
    g8.m = 1; g8.a = a.data(); g8.lda = k; g8.a_zero_points = &za; g8.b = &p8; g8.c = y.data(); g8.ldc = n; g8.threads = 1;
    g8.epilogue.output = OutputType::kFloat32; g8.epilogue.a_scales = &sa; g8.epilogue.w_scales = ws.data();
    Int4GemmArgs g4;
    g4.m = 1; g4.a = a.data(); g4.lda = k; g4.a_zero_points = &za; g4.a_scales = &sa; g4.b = &p4; g4.threads = 1;
    g4.out.c = y.data(); g4.out.ldc = n;
    const int calls = static_cast<int>(std::max<int64_t>(10, 400000000 / (k * n)));
    std::vector<double> t8, t4;
    for (int r = 0; r < rounds; r++) {
      double t0 = Cpu();
      for (int c = 0; c < calls; c++) Gemm(g8);
      t8.push_back((Cpu() - t0) / calls);
      t0 = Cpu();
      for (int c = 0; c < calls; c++) GemmInt4(g4);
      t4.push_back((Cpu() - t0) / calls);
    }
    const Stat s8 = Summarize(t8), s4 = Summarize(t4);
    const double ops = 2.0 * k * n, bytes8 = static_cast<double>(k * n + 4 * n), bytes4 = static_cast<double>(p4.byte_length());
    std::printf("| %lld×%lld | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %.2f MiB | %.2f MiB | %.1f | %.1f |\n", static_cast<long long>(k),
                static_cast<long long>(n), ops / s8.median / 1e9, ops / s4.median / 1e9, s8.median / s4.median, ops / s8.best / 1e9,
                ops / s4.best / 1e9, s8.best / s4.best,
                bytes8 / 1048576.0, bytes4 / 1048576.0, bytes8 / s8.median / 1e9, bytes4 / s4.median / 1e9);
  }
  std::printf("\n| read loop working set | GB/s (median) |\n| ---: | ---: |\n");
  for (size_t mib : {1, 4, 8, 16, 64}) std::printf("| %zu MiB | %.1f |\n", mib, ReadBandwidth(mib << 20, std::max(5, 400 / static_cast<int>(mib))) / 1e9);
  return 0;
}
