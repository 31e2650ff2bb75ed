// Calibration histograms and range search (src/quant/observers.ts). Histograms have B equal
// bins over [lo, hi] (lo <= 0 <= hi), counts in double. Range searches return a bin interval
// [start, end) of the histogram; the candidates, KL divergence and MSE objective are defined
// in calib.cc and mirrored by the float64 reference in test/quant/observers.test.ts.
// Every function throws std::invalid_argument for a range without 0 (lo <= 0 <= hi), and the
// searches for counts that are negative or not finite.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tfjq {
namespace calib {

// Adds the finite values of x to counts (bins over [lo, hi]; values outside go to the edge
// bins). Returns the number of values counted.
size_t Accumulate(const float* x, size_t n, double lo, double hi, double* counts, size_t bins);

// Redistributes counts over [lo, hi] into out over [new_lo, new_hi] (which must contain
// [lo, hi]) in proportion to the overlap of each old bin with the new bins.
void Rebin(const double* counts, size_t bins, double lo, double hi, double* out, size_t out_bins, double new_lo,
           double new_hi);

// The zero edge and the candidate interval i (1 <= i <= bins) of the one-parameter family
// that shrinks [lo, hi] towards zero in proportion on both sides (width = (hi - lo) / bins):
//   z = clamp(rne(-lo / width), 0, bins); start = z - rne(z * i / bins); end = z + rne((bins - z) * i / bins).
void Candidate(size_t bins, double lo, double hi, size_t i, size_t* start, size_t* end);

// KL(P || Q) minimisation over the candidates with at least min(levels, bins) bins (TensorRT's entropy
// calibration as published in MXNet's _get_optimal_threshold, asymmetric): P is the slice with
// the outside counts folded into its edge bins, Q the slice merged into `levels` groups and
// expanded evenly over each group's non-empty bins; both smoothed (eps 1e-4) and normalised.
// Returns false when the histogram is empty. Ties keep the narrowest candidate.
bool KlSearch(const double* counts, size_t bins, double lo, double hi, size_t levels, size_t* start, size_t* end,
              double* best_kl);

// Expected squared error minimisation over the same candidates: inside the interval each
// value costs step^2 / 12 (step = interval width / levels); outside, the squared
// distance from its bin centre to the nearer interval edge. `levels` is the number of
// quantization steps (255 for 8 bits) for both searches.
bool MseSearch(const double* counts, size_t bins, double lo, double hi, size_t levels, size_t* start, size_t* end,
               double* best_mse);

}  // namespace calib
}  // namespace tfjq
