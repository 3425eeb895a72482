// earmark's native addon: a thin, declared surface over libtorch (see src/binding/native.ts).
#include <napi.h>
#include "handle.h"
#include "dispatch.h"
#include "tensor.h"
#include "autograd.h"
#include "device.h"
#include "c10d.h"
#include "cpu_allocator.h"

namespace {

// cpuCache() -> { cachedBytes, limit, hits, misses, liveBlocks } of the large-block CPU cache
Napi::Value CpuCache(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  earmark::CpuCacheStats s = earmark::cpuCacheStats();
  auto o = Napi::Object::New(env);
  o.Set("cachedBytes", Napi::Number::New(env, static_cast<double>(s.cachedBytes)));
  o.Set("limit", Napi::Number::New(env, static_cast<double>(s.limit)));
  o.Set("hits", Napi::Number::New(env, static_cast<double>(s.hits)));
  o.Set("misses", Napi::Number::New(env, static_cast<double>(s.misses)));
  o.Set("liveBlocks", Napi::Number::New(env, static_cast<double>(s.liveBlocks)));
  return o;
}

// emptyCpuCache() -> bytes returned to the system
Napi::Value EmptyCpuCache(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(earmark::emptyCpuCache()));
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  earmark::installCpuAllocator();  // process-wide, once (worker threads load the addon again)
  earmark::initHandle(env, exports);
  earmark::initDispatch(env, exports);
  earmark::initTensor(env, exports);
  earmark::initAutograd(env, exports);
  earmark::initRuntime(env, exports);
  exports.Set("cpuCache", Napi::Function::New(env, CpuCache, "cpuCache"));
  exports.Set("emptyCpuCache", Napi::Function::New(env, EmptyCpuCache, "emptyCpuCache"));
  earmark::initDevice(env, exports);
  earmark::initC10d(env, exports);
  return exports;
}

NODE_API_MODULE(earmark, Init)
