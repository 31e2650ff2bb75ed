#include "binding/modules.h"
#include "binding/util.h"

namespace tfjq {
namespace binding {

void InitOps(Napi::Env env, Napi::Object exports) {}

}  // namespace binding
}  // namespace tfjq
