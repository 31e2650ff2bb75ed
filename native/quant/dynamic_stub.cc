// Temporary definitions so the build links until native/quant lands; replaced by the
// quantization kernels (delete this file when they exist).
#include <stdexcept>
#include "quant/quantize.h"

namespace tfjq {
namespace quant {
QParams ChooseAsymmetricU8(float, float) { throw std::logic_error("ChooseAsymmetricU8: not implemented yet"); }
void DynamicQuantizeU8(const float*, int64_t, int64_t, int64_t, bool, uint8_t*, float*, int32_t*, int) {
  throw std::logic_error("DynamicQuantizeU8: not implemented yet");
}
}  // namespace quant
}  // namespace tfjq
