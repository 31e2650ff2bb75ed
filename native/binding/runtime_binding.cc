// N-API binding: whole-graph inference sessions (issue 5).
#include <napi.h>

#include "binding/modules.h"

namespace tfjq {
namespace binding {

void InitRuntime(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace binding
}  // namespace tfjq
