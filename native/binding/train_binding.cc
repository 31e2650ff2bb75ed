#include "binding/modules.h"
#include "binding/util.h"

namespace tfjq {
namespace binding {

void InitTrain(Napi::Env env, Napi::Object exports) {}

}  // namespace binding
}  // namespace tfjq
