// A persistent process-wide thread pool. ParallelFor is safe to call from many threads at
// once (libuv workers running async calls, Node worker_threads): each call is an
// independent job whose chunks are claimed by the caller and by any idle pool worker.
#pragma once
#include <cstdint>
#include <functional>

namespace tfjq {

// Runs fn(begin, end) over [0, n) split into chunks of at least `grain` items, using up
// to `max_threads` participants (the caller included; 0 = the pool's size). Blocks until
// every chunk has run. Exceptions must not escape fn. Participant p (the caller is 0) runs
// the p-th contiguous share of the chunks first, then helps with the others' leftovers.
void ParallelFor(int64_t n, int64_t grain, int max_threads, const std::function<void(int64_t begin, int64_t end)>& fn);

// Participants a ParallelFor uses by default (pool workers + the caller).
int NumThreads();
// Participants a call asking for max_threads gets: max_threads capped at NumThreads(), 0 = all.
int Participants(int max_threads);
// Resizes the pool: n participants (n - 1 workers). n is clamped to [1, 256].
void SetNumThreads(int n);
// CPUs this process may run on (affinity mask), at least 1.
int AvailableCores();

}  // namespace tfjq
