// oneDNN int8 matmul timed the way bench/gemm/run.ts times ours, for its optional oneDNN
// column: u8 A × s8 B (weights in oneDNN's preferred packed layout, reordered once outside
// the timed loop, like our PackB) with int32 output, and the same with per-column output
// scales and s8 output (the counterpart of our requantize epilogue). One shape per process.
//
// Built at bench time by run.ts when Debian's libdnnl-dev is installed:
//   g++ -O2 -std=c++17 bench/gemm/onednn_mm.cc -ldnnl -o onednn_mm
// Run:   OMP_NUM_THREADS=1 ./onednn_mm M K N REPS MIN_TIME  → one JSON line on stdout
// Figures: process CPU seconds per call (median of REPS rounds, each round timed by
// getrusage over enough calls to last MIN_TIME / REPS) and the median wall seconds of the
// same rounds: the same statistics run.ts reports for our kernels.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "timing.h"

using namespace dnnl;
using gemm_bench::TimeRounds;
using gemm_bench::Timing;
using dt = memory::data_type;
using tag = memory::format_tag;

int main(int argc, char** argv) {
  gemm_bench::Args cli;
  if (!gemm_bench::ParseArgs(argc, argv, "onednn_mm", &cli)) return 2;
  const long M = cli.m, K = cli.k, N = cli.n;
  engine eng(engine::kind::cpu, 0);
  stream st(eng);
  std::mt19937 rng(42);
  std::vector<uint8_t> A(static_cast<size_t>(M * K));
  std::vector<int8_t> B(static_cast<size_t>(K * N));
  for (auto& x : A) x = static_cast<uint8_t>(rng() & 255);
  for (auto& x : B) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  std::vector<float> scales(static_cast<size_t>(N), 0.001f);
  std::printf("{\"version\": \"%d.%d.%d\"", dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch);
  for (const bool requant : {false, true}) {
    memory::desc a_md({M, K}, dt::u8, tag::ab);
    memory::desc b_any({K, N}, dt::s8, tag::any);
    memory::desc b_user_md({K, N}, dt::s8, tag::ab);
    memory::desc c_md({M, N}, requant ? dt::s8 : dt::s32, tag::ab);
    primitive_attr attr;
    // Our int8 GEMM subtracts an activation zero point (3 in run.ts) and requantizes per
    // column: oneDNN gets the same work (runtime zero point, per-column output scales).
    attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    if (requant) attr.set_output_scales(1 << 1, {DNNL_RUNTIME_F32_VAL});
    matmul::primitive_desc pd(matmul::desc(a_md, b_any, c_md), attr, eng);
    matmul mm(pd);
    memory a_mem(a_md, eng, A.data());
    memory b_user(b_user_md, eng, B.data());
    memory b_mem(pd.weights_desc(), eng);
    reorder(b_user, b_mem).execute(st, b_user, b_mem);
    memory c_mem(c_md, eng);
    int32_t zp = 3;
    memory zp_mem({{1}, dt::s32, tag::x}, eng, &zp);
    memory sc_mem({{N}, dt::f32, tag::x}, eng, scales.data());
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, a_mem},
                                            {DNNL_ARG_WEIGHTS, b_mem},
                                            {DNNL_ARG_DST, c_mem},
                                            {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zp_mem}};
    if (requant) args[DNNL_ARG_ATTR_OUTPUT_SCALES] = sc_mem;
    auto run = [&] {
      mm.execute(st, args);
      st.wait();
    };
    // Spot check of the int32 variant: C[M−1][N−1] against a direct sum.
    bool ok = true;
    if (!requant) {
      run();
      int64_t ref = 0;
      for (long k = 0; k < K; k++) ref += (int64_t(A[(M - 1) * K + k]) - zp) * B[k * N + N - 1];
      ok = static_cast<int32_t*>(c_mem.get_data_handle())[M * N - 1] == ref;
    }
    const Timing t = TimeRounds(run, cli.reps, cli.min_time);
    std::printf(", \"%s\": {\"impl\": \"%s\", \"cpu\": %.9g, \"wall\": %.9g, \"check\": %s}", requant ? "s8" : "s32",
                pd.impl_info_str(), t.cpu, t.wall, ok ? "true" : "false");
  }
  std::printf("}\n");
  return 0;
}
