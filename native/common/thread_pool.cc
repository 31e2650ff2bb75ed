#include "common/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

namespace tfjq {
namespace {

struct Job {
  const std::function<void(int64_t, int64_t)>* fn;
  int64_t n = 0, chunk = 1, num_chunks = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex mu;
  std::condition_variable cv;

  // Claims and runs chunks until none are left. Returns when this participant is done.
  void Work() {
    for (;;) {
      int64_t c = next.fetch_add(1, std::memory_order_relaxed);
      if (c >= num_chunks) return;
      int64_t b = c * chunk, e = std::min(n, b + chunk);
      (*fn)(b, e);
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == num_chunks) {
        std::lock_guard<std::mutex> lock(mu);
        cv.notify_all();
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
      old.swap(workers_);
    }
    cv_.notify_all();
    for (auto& t : old) t.join();
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
    // Tickets left in the queue are harmless: their jobs are finished by their callers.
    for (int i = 0; i < n - 1; i++) workers_.emplace_back([this] { Loop(); });
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
    job->n = n;
    job->chunk = (n + chunks - 1) / chunks;
    job->num_chunks = (n + job->chunk - 1) / job->chunk;
    int helpers = static_cast<int>(std::min<int64_t>(threads - 1, job->num_chunks - 1));
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < helpers; i++) queue_.push_back(job);
    }
    if (helpers == 1) cv_.notify_one(); else cv_.notify_all();
    job->Work();
    std::unique_lock<std::mutex> lock(job->mu);
    job->cv.wait(lock, [&] { return job->done.load(std::memory_order_acquire) == job->num_chunks; });
  }

 private:
  void Loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job->Work();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::thread> workers_;
  bool stop_ = false;
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

void SetNumThreads(int n) {
  std::lock_guard<std::mutex> lock(g_resize_mu);
  GlobalPool().Resize(n);
}

}  // namespace tfjq
