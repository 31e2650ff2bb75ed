// N-API binding: sub-byte weight GEMM (issue 10).
#include <napi.h>

#include "binding/modules.h"

namespace tfjq {
namespace binding {

void InitInt4(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace binding
}  // namespace tfjq
