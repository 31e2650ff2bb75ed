// Our int8 GEMM timed in a C++ loop, for bench/gemm/run.ts's column beside oneDNN's: the call
// run.ts makes from JavaScript (uint8 A with zero point 3, weights packed once for the
// machine's best path, requantized to int8 with one multiplier of 0.001, one thread), without
// the N-API call and the argument checks around it, timed exactly as onednn_mm.cc times
// oneDNN (timing.h), so that their ratio compares the kernels.
//
// Built at bench time by run.ts against the core library the install built:
//   g++ -O2 -std=c++17 -Inative bench/gemm/ours_mm.cc build/libtfjq_core.a -lpthread -o ours_mm
// Run:   ./ours_mm M K N REPS MIN_TIME  → one JSON line on stdout
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "common/cpu.h"
#include "common/thread_pool.h"
#include "gemm/gemm.h"
#include "timing.h"

int main(int argc, char** argv) {
  gemm_bench::Args cli;
  if (!gemm_bench::ParseArgs(argc, argv, "ours_mm", &cli)) return 2;
  const long M = cli.m, K = cli.k, N = cli.n;
  using namespace tfjq::gemm;
  std::mt19937 rng(42);
  std::vector<uint8_t> A(static_cast<size_t>(M * K));
  std::vector<int8_t> B(static_cast<size_t>(K * N)), C(static_cast<size_t>(M * N));
  for (auto& x : A) x = static_cast<uint8_t>(rng() & 255);
  for (auto& x : B) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  const tfjq::Isa isa = tfjq::ActiveIsa();
  const PackedB packed = PackB(B.data(), K, N, BLayout::kKN, N, nullptr, false, isa);
  const int32_t za = 3;
  const float mult = 0.001f;
  GemmArgs g;
  g.m = M;
  g.a = A.data();
  g.lda = K;
  g.a_zero_points = &za;
  g.b = &packed;
  g.c = C.data();
  g.ldc = N;
  g.threads = 1;
  g.epilogue.output = OutputType::kInt8;
  g.epilogue.multipliers = &mult;
  // Spot check of C[M−1][N−1] against the §7 arithmetic on a direct sum.
  Gemm(g);
  int64_t acc = 0;
  for (long k = 0; k < K; k++) acc += (int64_t(A[(M - 1) * K + k]) - za) * B[k * N + N - 1];
  const float y = std::min(std::max(static_cast<float>(acc) * mult, -128.0f), 127.0f);
  const bool ok = C[M * N - 1] == static_cast<int8_t>(std::nearbyint(y));
  const gemm_bench::Timing t = gemm_bench::TimeRounds([&] { Gemm(g); }, cli.reps, cli.min_time);
  std::printf("{\"isa\": \"%s\", \"cpu\": %.9g, \"wall\": %.9g, \"check\": %s}\n", tfjq::IsaName(isa), t.cpu, t.wall,
              ok ? "true" : "false");
  return 0;
}
