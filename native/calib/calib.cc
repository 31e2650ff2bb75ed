// Calibration histograms and range search (see calib.h). Scalar double loops: these run once
// per tensor per calibration (search) or once per batch (accumulation), memory bound.
#include "calib/calib.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace tfjq {
namespace calib {

namespace {

// Every histogram's range holds 0 (calib.h); the binding passes finite numbers only.
void CheckRange(double lo, double hi, const char* lo_name, const char* hi_name) {
  if (lo > 0 || hi < 0 || lo > hi) {
    throw std::invalid_argument(std::string("histogram range [") + lo_name + ", " + hi_name + "] must satisfy " +
                                lo_name + " <= 0 <= " + hi_name);
  }
}

void CheckCounts(const double* counts, size_t bins) {
  for (size_t i = 0; i < bins; i++) {
    if (!(counts[i] >= 0) || !std::isfinite(counts[i]))
      throw std::invalid_argument("counts must be finite and >= 0 (index " + std::to_string(i) + ")");
  }
}

}  // namespace

size_t Accumulate(const float* x, size_t n, double lo, double hi, double* counts, size_t bins) {
  CheckRange(lo, hi, "lo", "hi");
  if (bins == 0) return 0;
  const double width = (hi - lo) / static_cast<double>(bins);
  const double inv = width > 0 ? 1.0 / width : 0.0;
  const double last = static_cast<double>(bins - 1);
  size_t counted = 0;
  for (size_t i = 0; i < n; i++) {
    const double v = x[i];
    if (!std::isfinite(v)) continue;
    double b = std::floor((v - lo) * inv);
    b = b < 0 ? 0 : (b > last ? last : b);
    counts[static_cast<size_t>(b)] += 1.0;
    counted++;
  }
  return counted;
}

void Rebin(const double* counts, size_t bins, double lo, double hi, double* out, size_t out_bins, double new_lo,
           double new_hi) {
  CheckRange(lo, hi, "lo", "hi");
  CheckRange(new_lo, new_hi, "newLo", "newHi");
  if (new_lo > lo || new_hi < hi) throw std::invalid_argument("[newLo, newHi] must contain [lo, hi]");
  std::fill(out, out + out_bins, 0.0);
  if (bins == 0 || out_bins == 0) return;
  const double w = (hi - lo) / static_cast<double>(bins);
  const double nw = (new_hi - new_lo) / static_cast<double>(out_bins);
  if (!(nw > 0)) {
    double total = 0;
    for (size_t i = 0; i < bins; i++) total += counts[i];
    out[0] = total;
    return;
  }
  for (size_t i = 0; i < bins; i++) {
    const double c = counts[i];
    if (c == 0) continue;
    const double a = lo + w * static_cast<double>(i), b = a + w;
    if (!(w > 0)) {  // a degenerate old histogram: everything at lo
      double j = std::floor((lo - new_lo) / nw);
      j = std::min(std::max(j, 0.0), static_cast<double>(out_bins - 1));
      out[static_cast<size_t>(j)] += c;
      continue;
    }
    double j0 = std::floor((a - new_lo) / nw);
    j0 = std::min(std::max(j0, 0.0), static_cast<double>(out_bins - 1));
    for (size_t j = static_cast<size_t>(j0); j < out_bins; j++) {
      const double na = new_lo + nw * static_cast<double>(j), nb = na + nw;
      if (na >= b) break;
      const double ov = std::min(b, nb) - std::max(a, na);
      if (ov > 0) out[j] += c * (ov / w);
    }
  }
}

void Candidate(size_t bins, double lo, double hi, size_t i, size_t* start, size_t* end) {
  CheckRange(lo, hi, "lo", "hi");
  const double width = (hi - lo) / static_cast<double>(bins);
  double z = width > 0 ? std::nearbyint(-lo / width) : 0.0;
  z = std::min(std::max(z, 0.0), static_cast<double>(bins));
  const double fb = static_cast<double>(bins), fi = static_cast<double>(i);
  const double neg = std::nearbyint(z * fi / fb), pos = std::nearbyint((fb - z) * fi / fb);
  *start = static_cast<size_t>(z - neg);
  *end = static_cast<size_t>(z + pos);
}

namespace {

// MXNet _smooth_distribution on counts; false when all zero.
bool Smooth(std::vector<double>& p) {
  size_t zeros = 0;
  for (double v : p) zeros += v == 0;
  const size_t nonzeros = p.size() - zeros;
  if (nonzeros == 0) return false;
  const double eps = 1e-4, eps1 = eps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  for (double& v : p) v = v == 0 ? eps : v - eps1;
  return true;
}

// scipy.stats.entropy(p, q): sum pk log(pk / qk) with both normalised.
double Entropy(const std::vector<double>& p, const std::vector<double>& q) {
  double sp = 0, sq = 0;
  for (size_t i = 0; i < p.size(); i++) {
    sp += p[i];
    sq += q[i];
  }
  double kl = 0;
  for (size_t i = 0; i < p.size(); i++) {
    const double pk = p[i] / sp, qk = q[i] / sq;
    if (pk > 0) kl += pk * std::log(pk / qk);
  }
  return kl;
}

// Calls fn(start, end) for each distinct candidate with at least min(levels, bins) bins, narrowest first.
template <typename Fn>
void ForEachCandidate(size_t bins, double lo, double hi, size_t levels, Fn fn) {
  const size_t min_len = std::min(levels, bins);
  size_t prev_s = bins + 1, prev_e = bins + 1;
  for (size_t i = 1; i <= bins; i++) {
    size_t s, e;
    Candidate(bins, lo, hi, i, &s, &e);
    if (e - s < min_len || (s == prev_s && e == prev_e)) continue;
    prev_s = s;
    prev_e = e;
    fn(s, e);
  }
}

double Total(const double* counts, size_t bins) {
  double t = 0;
  for (size_t i = 0; i < bins; i++) t += counts[i];
  return t;
}

}  // namespace

bool KlSearch(const double* counts, size_t bins, double lo, double hi, size_t levels, size_t* best_start,
              size_t* best_end, double* best_kl) {
  CheckRange(lo, hi, "lo", "hi");
  CheckCounts(counts, bins);
  if (bins == 0 || levels == 0 || !(Total(counts, bins) > 0) || !(hi > lo)) return false;
  double best = std::numeric_limits<double>::infinity();
  *best_start = 0;
  *best_end = bins;
  std::vector<double> p, q;
  ForEachCandidate(bins, lo, hi, levels, [&](size_t s, size_t e) {
    const size_t len = e - s;
    p.assign(counts + s, counts + e);
    double left = 0, right = 0;
    for (size_t k = 0; k < s; k++) left += counts[k];
    for (size_t k = e; k < bins; k++) right += counts[k];
    p[0] += left;
    p[len - 1] += right;
    const size_t groups = std::min(levels, len);
    const size_t merged = len / groups;
    q.assign(len, 0.0);
    for (size_t j = 0; j < groups; j++) {
      const size_t a = j * merged, b = j == groups - 1 ? len : a + merged;
      double sum = 0;
      size_t nonzero = 0;
      for (size_t k = a; k < b; k++) {
        sum += counts[s + k];
        nonzero += p[k] != 0;
      }
      if (nonzero != 0) {
        const double v = sum / static_cast<double>(nonzero);
        for (size_t k = a; k < b; k++) q[k] = p[k] != 0 ? v : 0.0;
      }
    }
    if (!Smooth(p)) return;
    const double kl = Smooth(q) ? Entropy(p, q) : std::numeric_limits<double>::infinity();
    if (kl < best) {
      best = kl;
      *best_start = s;
      *best_end = e;
    }
  });
  *best_kl = best;
  return true;
}

bool MseSearch(const double* counts, size_t bins, double lo, double hi, size_t levels, size_t* best_start,
               size_t* best_end, double* best_mse) {
  CheckRange(lo, hi, "lo", "hi");
  CheckCounts(counts, bins);
  if (bins == 0 || levels == 0 || !(Total(counts, bins) > 0) || !(hi > lo)) return false;
  const double width = (hi - lo) / static_cast<double>(bins);
  double best = std::numeric_limits<double>::infinity();
  *best_start = 0;
  *best_end = bins;
  ForEachCandidate(bins, lo, hi, levels, [&](size_t s, size_t e) {
    const double a = lo + width * static_cast<double>(s), b = lo + width * static_cast<double>(e);
    const double step = (b - a) / static_cast<double>(levels);
    double inside = 0, err = 0;
    for (size_t k = 0; k < bins; k++) {
      const double c = counts[k];
      if (c == 0) continue;
      if (k >= s && k < e) {
        inside += c;
      } else {
        const double centre = lo + width * (static_cast<double>(k) + 0.5);
        const double d = centre < a ? a - centre : centre - b;
        err += c * d * d;
      }
    }
    err += inside * step * step / 12.0;
    if (err < best) {
      best = err;
      *best_start = s;
      *best_end = e;
    }
  });
  *best_mse = best;
  return true;
}

}  // namespace calib
}  // namespace tfjq
