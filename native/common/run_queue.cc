#include "common/run_queue.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/spin.h"
#include "common/thread_pool.h"

namespace tfjq {
namespace {

class RunQueue {
 public:
  explicit RunQueue(int threads) {
    for (int i = 0; i < threads; i++) std::thread([this] { Loop(); }).detach();
  }

  void Submit(std::function<void()> job) {
    int sleeping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(job));
      queued_.fetch_add(1, std::memory_order_release);
      sleeping = sleeping_;
    }
    // A spinning thread sees `queued_`; only a sleeping one needs the kernel.
    if (sleeping > 0) cv_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      SpinFor([&] { return queued_.load(std::memory_order_acquire) > 0; });
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (queue_.empty()) {
          sleeping_++;
          cv_.wait(lock, [&] { return !queue_.empty(); });
          sleeping_--;
        }
        job = std::move(queue_.front());
        queue_.pop_front();
        queued_.fetch_sub(1, std::memory_order_relaxed);
      }
      job();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::atomic<int> queued_{0};
  int sleeping_ = 0;
};

// Never destroyed: its detached threads wait on its members until the process ends.
RunQueue& Queue() {
  static RunQueue* q = new RunQueue(RunQueueThreads());
  return *q;
}

}  // namespace

int RunQueueThreads() { return std::min(8, std::max(2, AvailableCores())); }

void SubmitRun(std::function<void()> job) { Queue().Submit(std::move(job)); }

}  // namespace tfjq
