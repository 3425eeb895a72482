// Tensor handles. Each live at::Tensor sits in a slot of a per-environment table; JS holds a BigInt
// naming the slot and the slot's generation, so a disposed handle is recognised and never aliases the
// tensor that reuses its slot. Making or disposing a handle allocates nothing native and creates no V8
// weak reference (a finalised napi external cost ~0.9 µs, more than a tiny op, and its records,
// freed only when Node drains its finalizer queue, fragmented the heap between large tensors).
// Tensors that leave every tidy() scope are handed to V8's GC by the TypeScript side (adopt()).
// The registry counts live handles and unique storages so memory() is exact, and reports CPU bytes
// to V8 (in batches) so that allocation pressure alone triggers collection.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace earmark {

struct Slot {
  at::Tensor t;
  uint32_t gen = 1;      // 24 bits, never 0; bumped when the slot is released
  bool live = false;
  bool adopted = false;  // a GC finalizer is attached to its JS owner
};

// Reference counts of the storages held by live handles, keyed by StorageImpl address: an open-addressing
// table (no allocation per entry; a node-based map cost a malloc and a free per op).
class StorageCounts {
 public:
  // Adds `delta` to the count of `key`; returns the count after.
  int64_t add(const void* key, int64_t delta);

 private:
  struct Entry {
    const void* key = nullptr;
    int64_t count = 0;
  };
  size_t index(const void* key) const;
  void grow();
  void erase(size_t i);
  std::vector<Entry> table_ = std::vector<Entry>(1024);
  size_t size_ = 0;
};

struct OpTable;  // dispatch.cc

// Per-JS-environment state (the main thread and each worker thread have their own), so no locks are
// needed. Intentionally never freed: finalizers of a terminating worker may still run after its instance
// data would be. Slots live in fixed chunks, so a reference returned by unwrap() stays valid while other
// handles are made.
struct EnvData {
  static constexpr uint32_t kChunk = 1024;
  OpTable* ops = nullptr;
  std::vector<std::unique_ptr<Slot[]>> chunks;
  uint32_t numSlots = 0;
  std::vector<uint32_t> freeSlots;
  uint64_t tag = 0;      // 8 bits that tell this environment's handles from another's
  int64_t numHandles = 0;
  int64_t numBytes = 0;  // bytes of unique storages held by live handles
  int64_t unreported = 0;  // CPU bytes not yet reported to V8
  StorageCounts storages;

  Slot& slot(uint32_t i) { return chunks[i / kChunk][i % kChunk]; }
};

EnvData& envData(napi_env env);

// Wrap a tensor in a new handle (counted until dispose(), or until its adopted JS owner is collected).
Napi::Value wrap(Napi::Env env, at::Tensor t);
napi_value wrap(EnvData& d, napi_env env, at::Tensor t);
// The tensor behind a JS value; throws TypeError naming `what` if it is not a handle, Error if disposed.
const at::Tensor& unwrap(const Napi::Value& v, const char* what);
const at::Tensor& unwrap(EnvData& d, napi_env env, napi_value v, const char* what);
// the same, for a value whose JS type the caller has already read
const at::Tensor& unwrap(EnvData& d, napi_env env, napi_value v, napi_valuetype type, const char* what);
bool isHandle(const Napi::Value& v);

// "[2, 3] float32" style description used in error messages.
std::string describe(const at::Tensor& t);

void initHandle(Napi::Env env, Napi::Object exports);

}  // namespace earmark
