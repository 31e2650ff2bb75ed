// TopK over the last axis of float32 rows (ops.h): the k largest values of each row, best
// first, with their indices — what tfjs's TopK returns with sorted = true.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/thread_pool.h"
#include "ops/ops.h"

namespace tfjq {
namespace ops {

namespace {

struct Entry {
  float value;
  int32_t index;
};

// a ranks before b: the larger value, and of equal values the lower index (tfjs's order);
// a NaN ranks after every number, and NaNs among themselves by index.
inline bool Before(const Entry& a, const Entry& b) {
  const bool an = std::isnan(a.value), bn = std::isnan(b.value);
  if (an != bn) return bn;
  if (!an && a.value != b.value) return a.value > b.value;
  return a.index < b.index;
}

}  // namespace

void TopKF32(int64_t rows, int64_t n, int64_t k, const float* x, float* values, int32_t* indices, int threads) {
  if (rows <= 0 || k <= 0) return;
  // One pass per row with a heap of the k best so far, worst on top: an entry that does not
  // rank before the worst kept (most of a large row) costs one comparison. Indices only grow,
  // so an entry equal to the worst kept never displaces it (the lower index ranks first).
  ParallelFor(rows, std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, n)), threads,
              [&](int64_t rb, int64_t re) {
                std::vector<Entry> heap(static_cast<size_t>(k));
                for (int64_t r = rb; r < re; r++) {
                  const float* row = x + r * n;
                  for (int64_t j = 0; j < k; j++) heap[static_cast<size_t>(j)] = {row[j], static_cast<int32_t>(j)};
                  std::make_heap(heap.begin(), heap.end(), Before);
                  for (int64_t j = k; j < n; j++) {
                    const float v = row[j];
                    const Entry& worst = heap.front();
                    // The fast rejection: not larger than the worst kept number (NaN compares false).
                    if (!(v > worst.value) && !std::isnan(worst.value)) continue;
                    const Entry e{v, static_cast<int32_t>(j)};
                    if (!Before(e, worst)) continue;
                    std::pop_heap(heap.begin(), heap.end(), Before);
                    heap.back() = e;
                    std::push_heap(heap.begin(), heap.end(), Before);
                  }
                  std::sort_heap(heap.begin(), heap.end(), Before);
                  for (int64_t j = 0; j < k; j++) {
                    values[r * k + j] = heap[static_cast<size_t>(j)].value;
                    indices[r * k + j] = heap[static_cast<size_t>(j)].index;
                  }
                }
              });
}

}  // namespace ops
}  // namespace tfjq
