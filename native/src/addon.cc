// earmark's native addon: a thin, declared surface over libtorch (see src/binding/native.ts).
#include <napi.h>
#include "handle.h"
#include "dispatch.h"
#include "tensor.h"
#include "autograd.h"
#include "device.h"
#include "c10d.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  earmark::initHandle(env, exports);
  earmark::initDispatch(env, exports);
  earmark::initTensor(env, exports);
  earmark::initAutograd(env, exports);
  earmark::initRuntime(env, exports);
  earmark::initDevice(env, exports);
  earmark::initC10d(env, exports);
  return exports;
}

NODE_API_MODULE(earmark, Init)
