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

  void Submit(std::function<void()> job, bool spin_after) {
    int sleeping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back({std::move(job), spin_after});
      queued_.fetch_add(1, std::memory_order_release);
      sleeping = sleeping_;
    }
    // A spinning thread sees `queued_`; only a sleeping one needs the kernel.
    if (sleeping > 0) cv_.notify_one();
  }

 private:
  void Loop() {
    bool spin = false;
    for (;;) {
      if (spin) SpinFor([&] { return queued_.load(std::memory_order_acquire) > 0; });
      Item item;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (queue_.empty()) {
          sleeping_++;
          cv_.wait(lock, [&] { return !queue_.empty(); });
          sleeping_--;
        }
        item = std::move(queue_.front());
        queue_.pop_front();
        queued_.fetch_sub(1, std::memory_order_relaxed);
      }
      item.job();
      spin = item.spin_after;
    }
  }

  struct Item {
    std::function<void()> job;
    bool spin_after = false;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
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

void SubmitRun(std::function<void()> job, bool spin_after) { Queue().Submit(std::move(job), spin_after); }

}  // namespace tfjq
