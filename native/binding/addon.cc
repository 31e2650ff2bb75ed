// Module entry: each concern registers its functions on the exports object.
#include <napi.h>

#include "binding/modules.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tfjq::binding::InitCore(env, exports);
  tfjq::binding::InitGemm(env, exports);
  tfjq::binding::InitQuant(env, exports);
  tfjq::binding::InitCodec(env, exports);
  tfjq::binding::InitTrain(env, exports);
  tfjq::binding::InitOps(env, exports);
  tfjq::binding::InitRuntime(env, exports);
  tfjq::binding::InitInt4(env, exports);
  tfjq::binding::InitCalib(env, exports);
  tfjq::binding::InitSparse(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(tfjs_quant, Init)
