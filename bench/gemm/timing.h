// The command line and the timing of one native call for bench/gemm's C++ harnesses
// (onednn_mm.cc, ours_mm.cc). Timing: the way
// run.ts times calls from JavaScript: process CPU seconds per call (median of `reps` rounds,
// each over enough calls to last min_time / reps) and the median wall seconds of the same
// rounds. Both harnesses time their engine with this one function, so their ratio compares
// the kernels alone (the JavaScript figures add the N-API call and argument checks).
#pragma once
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace gemm_bench {

inline double Wall() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
inline double Cpu() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}
inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Timing {
  double cpu, wall;
};

template <typename F>
Timing TimeRounds(F&& f, int reps, double min_time) {
  f();  // warm-up
  const double t0 = Wall();
  f();
  const double once = std::max(1e-7, Wall() - t0);
  const long inner = std::max(1L, static_cast<long>(min_time / reps / once + 0.5));
  std::vector<double> cpu, wall;
  for (int r = 0; r < reps; r++) {
    const double c0 = Cpu(), w0 = Wall();
    for (long i = 0; i < inner; i++) f();
    wall.push_back((Wall() - w0) / inner);
    cpu.push_back((Cpu() - c0) / inner);
  }
  return {Median(cpu), Median(wall)};
}

// `name M K N REPS MIN_TIME`: false (after a message on stderr) when the arguments are bad.
struct Args {
  long m = 0, k = 0, n = 0;
  int reps = 0;
  double min_time = 0;
};
inline bool ParseArgs(int argc, char** argv, const char* name, Args* a) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s M K N REPS MIN_TIME\n", name);
    return false;
  }
  a->m = std::atol(argv[1]);
  a->k = std::atol(argv[2]);
  a->n = std::atol(argv[3]);
  a->reps = std::atoi(argv[4]);
  a->min_time = std::atof(argv[5]);
  if (a->m < 1 || a->k < 1 || a->n < 1 || a->reps < 1 || !(a->min_time > 0)) {
    std::fprintf(stderr, "%s: bad arguments\n", name);
    return false;
  }
  return true;
}

}  // namespace gemm_bench
