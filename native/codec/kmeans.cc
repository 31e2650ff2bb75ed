// 1-D k-means (Lloyd) on sorted values with prefix sums (docs/compression.md §6).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "codec/codec.h"

namespace tfjq {
namespace codec {

KMeansResult KMeans1D(const float* values, size_t n, const double* init, size_t k, int max_iter) {
  if (k < 1 || k > kMaxCodebook) throw CodecError("k-means: k must be in [1, 65535], got " + std::to_string(k));
  if (max_iter < 0) throw CodecError("k-means: max_iter must be >= 0");
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) throw CodecError("k-means: value " + std::to_string(i) + " is not finite");
  }
  KMeansResult res;
  res.centroids.assign(init, init + k);
  for (size_t j = 0; j < k; ++j) {
    if (!std::isfinite(res.centroids[j]))
      throw CodecError("k-means: initial centroid " + std::to_string(j) + " is not finite");
  }
  std::sort(res.centroids.begin(), res.centroids.end());

  std::vector<double> sorted(values, values + n);
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> prefix(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + sorted[i];

  // ends[j] = one past the last sorted value of cluster j. Value x belongs to the first j with
  // x <= (c_j + c_{j+1}) / 2 (nearest centroid, ties to the lower one).
  std::vector<size_t> ends(k), prev_ends(k, static_cast<size_t>(-1));
  std::vector<double> mids(k > 0 ? k - 1 : 0);
  auto partition = [&]() {
    for (size_t j = 0; j + 1 < k; ++j) mids[j] = (res.centroids[j] + res.centroids[j + 1]) / 2;
    for (size_t j = 0; j + 1 < k; ++j) {
      ends[j] = static_cast<size_t>(std::upper_bound(sorted.begin(), sorted.end(), mids[j]) - sorted.begin());
    }
    ends[k - 1] = n;
  };
  int it = 0;
  for (; it < max_iter; ++it) {
    partition();
    if (ends == prev_ends) break;
    prev_ends = ends;
    size_t begin = 0;
    for (size_t j = 0; j < k; ++j) {
      size_t end = std::max(begin, ends[j]);
      if (end > begin) res.centroids[j] = (prefix[end] - prefix[begin]) / static_cast<double>(end - begin);
      begin = end;
    }
    std::sort(res.centroids.begin(), res.centroids.end());
  }
  res.iterations = it;
  for (size_t j = 0; j + 1 < k; ++j) mids[j] = (res.centroids[j] + res.centroids[j + 1]) / 2;
  res.labels.resize(n);
  double inertia = 0;
  for (size_t i = 0; i < n; ++i) {
    double x = values[i];
    size_t j = static_cast<size_t>(std::lower_bound(mids.begin(), mids.end(), x) - mids.begin());
    res.labels[i] = static_cast<uint16_t>(j);
    double d = x - res.centroids[j];
    inertia += d * d;
  }
  res.inertia = inertia;
  return res;
}

}  // namespace codec
}  // namespace tfjq
