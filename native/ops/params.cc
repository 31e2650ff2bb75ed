// Value checks of the operators' parameters (ops.h, "parameter values"): the core's statement of
// what a scale, a zero point and clamp bounds may be (docs/quantization.md §2, §3), for callers
// that do not read them from a checked plan.
#include <cmath>
#include <cstdint>
#include <string>

#include "ops/internal.h"
#include "ops/ops.h"

namespace tfjq {
namespace ops {

using detail::Fail;

void CheckScale(float s, const std::string& name) {
  if (!(s > 0) || !std::isfinite(s)) Fail(name + " must be a finite float32 > 0");
}

void CheckScales(const float* s, int64_t n, const std::string& name) {
  for (int64_t i = 0; i < n; i++) CheckScale(s[i], name + "[" + std::to_string(i) + "]");
}

int32_t CheckZeroPoint(int64_t zp, bool is_signed, const std::string& name) {
  const int64_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  if (zp < lo || zp > hi)
    Fail(name + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(zp));
  return static_cast<int32_t>(zp);
}

void CheckBounds(int64_t lo, int64_t hi, bool is_signed, const std::string& q) {
  const std::string prefix = q.empty() ? "" : q + ".";
  CheckZeroPoint(lo, is_signed, prefix + "yMin");  // the same range as a value of the type
  CheckZeroPoint(hi, is_signed, prefix + "yMax");
  if (lo > hi) Fail(prefix + "yMin must be <= yMax");
}

void CheckFloatBounds(float lo, float hi, const std::string& lo_name, const std::string& hi_name) {
  if (std::isnan(lo)) Fail(lo_name + " must not be NaN");
  if (std::isnan(hi)) Fail(hi_name + " must not be NaN");
  if (lo > hi) Fail(lo_name + " must be <= " + hi_name);
}

void CheckFinite(const float* v, int64_t n, const std::string& name) {
  for (int64_t i = 0; i < n; i++)
    if (!std::isfinite(v[i])) Fail(name + "[" + std::to_string(i) + "] must be finite");
}

void CheckPoolWindow(const ConvGeom& g) {
  if (g.pad_top >= (g.k_h - 1) * g.dilation_h + 1 || g.pad_bottom >= (g.k_h - 1) * g.dilation_h + 1 ||
      g.pad_left >= (g.k_w - 1) * g.dilation_w + 1 || g.pad_right >= (g.k_w - 1) * g.dilation_w + 1) {
    Fail("pooling pads must be smaller than the window");
  }
  if (int64_t(g.k_h) * g.k_w > (int64_t(1) << 23)) Fail("pooling window is too large (at most 2^23 elements)");
}

void CheckDepthToSpace(int64_t channels, int64_t block) {
  if (channels % (block * block))
    Fail("channels (" + std::to_string(channels) + ") must be divisible by blockSize² (" +
         std::to_string(block * block) + ")");
}

}  // namespace ops
}  // namespace tfjq
