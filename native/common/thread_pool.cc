#include "common/thread_pool.h"

#include "common/fp_mode.h"
#include "common/spin.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <chrono>
#include <cstdlib>

#if defined(__linux__)
#include <sched.h>
#endif

namespace tfjq {

// How long an idle participant spins before it sleeps. A model runs one parallel step after
// another, each a few tens to hundreds of microseconds long; waking a sleeping thread through
// the kernel costs tens of microseconds (more in a VM), which at batch 1 ate the whole gain
// of the second thread. Spinning briefly keeps the worker on hand between steps; the bound
// keeps an idle pool from burning CPU (as OpenMP's blocktime and pthreadpool's spin do).
// 1 ms by default (an idle vCPU of a VM can take hundreds of microseconds to wake, so a
// 0.3 ms GEMM called now and then got no help from a sleeping worker); TFJS_QUANT_SPIN_US
// sets it (0 … 100000).
std::chrono::microseconds SpinBudget() {
  static const std::chrono::microseconds v = [] {
    long us = 1000;
    if (const char* e = std::getenv("TFJS_QUANT_SPIN_US")) {
      char* end = nullptr;
      const long x = std::strtol(e, &end, 10);
      if (end != e && *end == '\0' && x >= 0 && x <= 100000) us = x;
    }
    return std::chrono::microseconds(us);
  }();
  return v;
}

namespace {

// Chunks are split into one home range per participant (the caller is participant 0, pool
// worker w takes range w mod parts): a participant runs its own range in order, then takes
// what is left of the others'. Row-parallel steps of a model then give each core the same
// rows layer after layer, so the activations it reads are mostly the ones it wrote (in its
// own L2) rather than lines owned by the other core.
struct Job {
  struct alignas(64) Range {
    std::atomic<int64_t> next{0};
    int64_t end = 0;
  };
  const std::function<void(int64_t, int64_t)>* fn;
  // The caller's floating-point mode (common/fp_mode.h): workers run the chunks in it.
  uint32_t fp_mode = 0;
  int64_t n = 0, chunk = 1, num_chunks = 0;
  int parts = 1;
  Range* ranges = nullptr;  // inline_ for up to 4 participants, else heap_
  Range inline_[4];
  std::unique_ptr<Range[]> heap_;
  // On its own cache line: participants read the fields above on every claim.
  alignas(64) std::atomic<int64_t> done{0};
  alignas(64) std::mutex mu;
  std::condition_variable cv;

  void Init(int p) {
    parts = p;
    if (p <= 4) {
      ranges = inline_;
    } else {
      heap_.reset(new Range[static_cast<size_t>(p)]);
      ranges = heap_.get();
    }
    for (int r = 0; r < p; r++) {
      ranges[r].next.store(num_chunks * r / p, std::memory_order_relaxed);
      ranges[r].end = num_chunks * (r + 1) / p;
    }
  }

  // Claims and runs chunks (home range first) until none are left.
  void Work(int home) {
    for (int i = 0; i < parts; i++) {
      Range& g = ranges[(home + i) % parts];
      for (;;) {
        const int64_t c = g.next.fetch_add(1, std::memory_order_relaxed);
        if (c >= g.end) break;
        const int64_t b = c * chunk, e = std::min(n, b + chunk);
        (*fn)(b, e);
        if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == num_chunks) {
          std::lock_guard<std::mutex> lock(mu);
          cv.notify_all();
        }
      }
    }
  }
};

class Pool {
 public:
  Pool() { Resize(AvailableCores()); }

  int Size() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(workers_.size()) + 1;
  }

  void Resize(int n) {
    n = std::max(1, std::min(256, n));
    std::vector<std::thread> old;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (static_cast<int>(workers_.size()) + 1 == n) return;
      stop_ = true;
      stopping_.store(true);
      old.swap(workers_);
    }
    cv_.notify_all();
    for (auto& t : old) t.join();
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
    stopping_.store(false);
    // Tickets left in the queue are harmless: their jobs are finished by their callers.
    for (int i = 0; i < n - 1; i++) workers_.emplace_back([this, i] { Loop(i + 1); });
  }

  void Run(int64_t n, int64_t grain, int max_threads, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    grain = std::max<int64_t>(1, grain);
    int threads = max_threads > 0 ? std::min(max_threads, Size()) : Size();
    int64_t max_chunks = (n + grain - 1) / grain;
    if (threads <= 1 || max_chunks <= 1) {
      fn(0, n);
      return;
    }
    // A few chunks per participant balance uneven work without much overhead.
    int64_t chunks = std::min<int64_t>(max_chunks, static_cast<int64_t>(threads) * 4);
    auto job = std::make_shared<Job>();
    job->fn = &fn;
    job->fp_mode = CurrentFpMode();
    job->n = n;
    job->chunk = (n + chunks - 1) / chunks;
    job->num_chunks = (n + job->chunk - 1) / job->chunk;
    int helpers = static_cast<int>(std::min<int64_t>(threads - 1, job->num_chunks - 1));
    job->Init(helpers + 1);
    int sleeping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < helpers; i++) queue_.push_back(job);
      queued_.fetch_add(helpers, std::memory_order_release);
      sleeping = sleeping_;
    }
    if (sleeping > 0) {
      if (helpers == 1)
        cv_.notify_one();
      else
        cv_.notify_all();
    }
    job->Work(0);
    // The last chunks may be running on a worker: they are short, so spin before sleeping.
    if (SpinFor([&] { return job->done.load(std::memory_order_acquire) == job->num_chunks; })) return;
    std::unique_lock<std::mutex> lock(job->mu);
    job->cv.wait(lock, [&] { return job->done.load(std::memory_order_acquire) == job->num_chunks; });
  }

 private:
  void Loop(int index) {
    for (;;) {
      std::shared_ptr<Job> job;
      SpinFor([&] { return queued_.load(std::memory_order_acquire) > 0 || stopping_.load(std::memory_order_relaxed); });
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (!stop_ && queue_.empty()) {
          sleeping_++;
          cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
          sleeping_--;
        }
        if (stop_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        queued_.fetch_sub(1, std::memory_order_relaxed);
      }
      ScopedFpMode mode(job->fp_mode);
      job->Work(index % job->parts);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> queued_{0};  // tickets in queue_ (read without the lock while spinning)
  int sleeping_ = 0;                // workers blocked on cv_ (guarded by mu_)
};

// Never destroyed: worker threads must not be joined from static destructors while the
// process (or another addon instance in a worker_thread) may still be using them.
Pool& GlobalPool() {
  static Pool* pool = new Pool();
  return *pool;
}

std::mutex g_resize_mu;

}  // namespace

int AvailableCores() {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

void ParallelFor(int64_t n, int64_t grain, int max_threads, const std::function<void(int64_t, int64_t)>& fn) {
  GlobalPool().Run(n, grain, max_threads, fn);
}

int NumThreads() { return GlobalPool().Size(); }

int Participants(int max_threads) {
  const int all = NumThreads();
  return max_threads > 0 ? std::min(max_threads, all) : all;
}

void SetNumThreads(int n) {
  std::lock_guard<std::mutex> lock(g_resize_mu);
  GlobalPool().Resize(n);
}

}  // namespace tfjq
