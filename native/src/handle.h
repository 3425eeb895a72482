// One JS external per at::Tensor. The registry counts live handles and unique storages
// so memory() is exact and V8 learns how much native memory its small objects pin.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <unordered_map>
#include <vector>

namespace earmark {

struct Holder {
  at::Tensor t;
  bool live = false;
};

// Per-JS-environment state (the main thread and each worker thread have their own), so no locks are
// needed: the op table and the live-handle accounting. Intentionally never freed: externals of a
// terminating worker may still be finalised after its instance data would be.
struct EnvData {
  std::vector<c10::OperatorHandle> ops;
  int64_t numHandles = 0;
  int64_t numBytes = 0;  // bytes of unique storages held by live handles
  std::unordered_map<const void*, int64_t> storageRefs;
};

EnvData& envData(Napi::Env env);

// Wrap a tensor in a new JS external (counted until dispose() or GC).
Napi::Value wrap(Napi::Env env, at::Tensor t);
// The tensor behind a JS value; throws TypeError naming `what` if it is not a live handle.
const at::Tensor& unwrap(const Napi::Value& v, const char* what);
bool isHandle(const Napi::Value& v);
// Release a handle's tensor now; idempotent.
void release(Napi::Env env, Holder* h);

// "[2, 3] float32" style description used in error messages.
std::string describe(const at::Tensor& t);

void initHandle(Napi::Env env, Napi::Object exports);

}  // namespace earmark
