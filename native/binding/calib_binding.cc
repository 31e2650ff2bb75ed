// N-API binding: calibration histograms and range search (issue 4).
#include <napi.h>

#include "binding/modules.h"

namespace tfjq {
namespace binding {

void InitCalib(Napi::Env env, Napi::Object exports) {
  (void)env;
  (void)exports;
}

}  // namespace binding
}  // namespace tfjq
