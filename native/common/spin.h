// Spin-then-sleep waiting, shared by the compute pool (thread_pool.cc) and the run queue
// (run_queue.cc): a thread that has just finished work polls for the next for a short while
// before it sleeps in the kernel, since waking a sleeping thread costs tens of microseconds
// (more on a VM's idle vCPU) and work arrives back to back.
#pragma once
#include <chrono>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define TFJQ_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define TFJQ_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define TFJQ_CPU_RELAX() ((void)0)
#endif

namespace tfjq {

// How long an idle thread spins before it sleeps: 1 ms by default, TFJS_QUANT_SPIN_US sets it
// (0 … 100000). thread_pool.cc says why that long.
std::chrono::microseconds SpinBudget();

// Spins until pred() holds or SpinBudget() has passed; returns pred().
template <typename Pred>
bool SpinFor(Pred pred) {
  if (pred()) return true;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; i++) {
      TFJQ_CPU_RELAX();
      if (pred()) return true;
    }
    if (std::chrono::steady_clock::now() - start > SpinBudget()) return pred();
  }
}

}  // namespace tfjq
