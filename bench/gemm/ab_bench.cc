// Before/after of the AVX-512 VNNI GEMM inside one process (bench/gemm/ab.sh builds it): the
// base build and the working tree's are timed alternately sample by sample in thread CPU time,
// so a noisy period of a shared machine hits both alike (kernel.sh alternates whole processes,
// which on a busy 2-core VM left whole shape lists in different noise). Their int8 outputs are
// compared byte for byte first.
//   ab_bench SAMPLES SIGNED(0|1) MxKxN ...
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

std::function<void()> MakeNew(const uint8_t*, const int8_t*, long long, long long, long long, int8_t*, bool);
std::function<void()> MakeBase(const uint8_t*, const int8_t*, long long, long long, long long, int8_t*, bool);

static double Cpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: ab_bench SAMPLES SIGNED MxKxN ...\n");
    return 2;
  }
  const int samples = std::max(1, std::atoi(argv[1]));
  const bool signed_a = std::atoi(argv[2]) != 0;
  int status = 0;
  for (int i = 3; i < argc; i++) {
    long long m = 0, k = 0, n = 0;
    if (std::sscanf(argv[i], "%lldx%lldx%lld", &m, &k, &n) != 3 || m < 1 || k < 1 || n < 1) {
      std::fprintf(stderr, "bad shape '%s' (want MxKxN)\n", argv[i]);
      return 2;
    }
    std::vector<uint8_t> a(static_cast<size_t>(m * k));
    std::vector<int8_t> b(static_cast<size_t>(k * n)), out_new(static_cast<size_t>(m * n)), out_base(out_new.size());
    for (size_t j = 0; j < a.size(); j++) a[j] = static_cast<uint8_t>(j * 7919 >> 3);
    for (size_t j = 0; j < b.size(); j++) b[j] = static_cast<int8_t>((j * 31) % 255 - 127);
    auto f_new = MakeNew(a.data(), b.data(), m, k, n, out_new.data(), signed_a);
    auto f_base = MakeBase(a.data(), b.data(), m, k, n, out_base.data(), signed_a);
    f_new();
    f_base();
    if (out_new != out_base) {
      std::printf("%s: OUTPUTS DIFFER\n", argv[i]);
      status = 1;
    }
    const double ops = 2.0 * m * k * n;
    const int inner = static_cast<int>(std::max(1.0, 1e7 / ops));
    std::vector<double> t_new, t_base;
    for (int s = 0; s < samples; s++) {
      double t0 = Cpu();
      for (int r = 0; r < inner; r++) f_base();
      t_base.push_back((Cpu() - t0) / inner);
      t0 = Cpu();
      for (int r = 0; r < inner; r++) f_new();
      t_new.push_back((Cpu() - t0) / inner);
    }
    std::sort(t_new.begin(), t_new.end());
    std::sort(t_base.begin(), t_base.end());
    const double bn = t_base[0], bm = t_base[samples / 2], nn = t_new[0], nm = t_new[samples / 2];
    std::printf("| %lld | %lld | %lld | %.1f / %.1f | %.1f / %.1f | %.3f / %.3f | %.0f |\n", m, k, n, bn * 1e6, bm * 1e6,
                nn * 1e6, nm * 1e6, nn / bn, nm / bm, ops / nm * 1e-9);
  }
  return status;
}
