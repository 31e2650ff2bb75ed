// The AVX2 int8 depthwise kernel alone (no session, no N-API): thread CPU time per call on one
// thread, min and median of 9 batches, plus a hash of the output (equal hashes: equal bytes).
// Built against any revision's kernel source, so two revisions compare on one machine:
//
//   F="-O3 -DNDEBUG -ffp-contract=off -fno-fast-math -std=gnu++17 -mavx2 -mfma -mf16c -mbmi2 -Inative -w"
//   git show e5525bf:native/ops/kernels_avx2.cc > /tmp/dw_old.cc       # before: the kernels' file then
//   g++ $F bench/ops/dw_kernel_bench.cc /tmp/dw_old.cc native/common/{thread_pool,cpu}.cc -o /tmp/dw_old -lpthread
//   g++ $F bench/ops/dw_kernel_bench.cc native/ops/depthwise_avx2.cc native/common/{thread_pool,cpu}.cc -o /tmp/dw_new -lpthread
//   /tmp/dw_old H C K S ITERS; /tmp/dw_new H C K S ITERS      # [1,H,H,C], K×K, stride S, SAME
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "ops/internal.h"

using namespace tfjq::ops;

static double ThreadSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s H C K S ITERS\n", argv[0]);
    return 2;
  }
  const int H = std::atoi(argv[1]), C = std::atoi(argv[2]), K = std::atoi(argv[3]), S = std::atoi(argv[4]);
  const int iters = std::atoi(argv[5]);
  if (H < 1 || C < 1 || K < 1 || S < 1 || iters < 1) return 2;
  ConvGeom g{};
  g.batch = 1; g.in_h = H; g.in_w = H; g.in_c = C; g.k_h = K; g.k_w = K; g.stride_h = S; g.stride_w = S;
  g.dilation_h = 1; g.dilation_w = 1;
  const int out = (H + S - 1) / S, pad = std::max((out - 1) * S + K - H, 0);
  g.pad_top = g.pad_left = pad / 2;
  g.pad_bottom = g.pad_right = pad - pad / 2;
  g.out_h = g.out_w = out;
  std::vector<int8_t> x(size_t(H) * H * C), y(size_t(out) * out * C), w(size_t(K) * K * C);
  std::vector<int32_t> bias(size_t(C), 100);
  std::vector<float> mult(size_t(C), 0.004f);
  unsigned s = 1;
  for (auto& v : x) { s = s * 1103515245u + 12345u; v = int8_t(s >> 16); }
  for (auto& v : w) { s = s * 1103515245u + 12345u; v = int8_t(std::max(-127, int((s >> 16) & 255) - 128)); }
  DepthwiseQ p;
  p.filter = w.data(); p.bias = bias.data(); p.multipliers = mult.data(); p.x_zero_point = -3; p.y_zero_point = 2;
  p.prepared = detail::PrepareDepthwiseAvx2(g, p);  // packed once, as the runtime step does
  std::vector<double> t;
  for (int r = 0; r < 9; r++) {
    const double t0 = ThreadSeconds();
    for (int i = 0; i < iters; i++) detail::DepthwiseAvx2(g, x.data(), p, y.data(), 1);
    t.push_back((ThreadSeconds() - t0) / iters * 1e3);
  }
  std::sort(t.begin(), t.end());
  unsigned h = 0;
  for (auto v : y) h = h * 31u + uint8_t(v);
  std::printf("[1,%d,%d,%d] %dx%d s%d: min %.4f ms, median %.4f ms, output hash %08x\n", H, H, C, K, K, S, t[0], t[4], h);
  return 0;
}
