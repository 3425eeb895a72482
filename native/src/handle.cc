// Handle lifetime and memory accounting.
#include "handle.h"
#include <atomic>
#include <cstdlib>
#include <sstream>

namespace earmark {
namespace {

// handle = magic (8 bits) | environment tag (8) | generation (24) | slot (24), as an unsigned BigInt
constexpr uint64_t kMagic = 0xEA;
constexpr uint64_t kMask24 = (1u << 24) - 1;
constexpr uint32_t kMaxSlots = 1u << 24;
// V8 hears about native bytes in steps of this size (each report is a call into the heap's accounting)
constexpr int64_t kReportBytes = 1 << 20;

uint64_t encode(const EnvData& d, uint32_t i, uint32_t gen) {
  return (kMagic << 56) | (d.tag << 48) | (static_cast<uint64_t>(gen) << 24) | i;
}

// The slot a handle names if it is one of this environment's, else nullptr. `live` says whether
// its generation is current (false: the handle was disposed).
Slot* decode(EnvData& d, uint64_t bits, bool* live, uint32_t* index = nullptr) {
  auto i = static_cast<uint32_t>(bits & kMask24);
  auto gen = static_cast<uint32_t>((bits >> 24) & kMask24);
  if ((bits >> 56) != kMagic || ((bits >> 48) & 0xFF) != d.tag || gen == 0 || i >= d.numSlots) return nullptr;
  Slot& s = d.slot(i);
  *live = s.live && s.gen == gen;
  if (index) *index = i;
  return &s;
}

bool bigintOf(napi_env env, napi_value v, uint64_t* bits) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_bigint) return false;
  bool lossless = false;
  return napi_get_value_bigint_uint64(env, v, bits, &lossless) == napi_ok && lossless;
}

void report(EnvData& d, napi_env env, int64_t bytes) {
  d.unreported += bytes;
  if (std::llabs(d.unreported) >= kReportBytes) {
    int64_t total = 0;
    napi_adjust_external_memory(env, d.unreported, &total);
    d.unreported = 0;
  }
}

void track(EnvData& d, napi_env env, const at::Tensor& t, int sign) {
  d.numHandles += sign;
  if (!t.defined()) return;
  int64_t bytes = 0;
  if (!t.has_storage()) {
    bytes = static_cast<int64_t>(t.nbytes());
  } else {
    int64_t refs = d.storages.add(t.storage().unsafeGetStorageImpl(), sign);
    if ((sign > 0 && refs == 1) || (sign < 0 && refs == 0)) bytes = static_cast<int64_t>(t.storage().nbytes());
  }
  if (bytes == 0) return;
  d.numBytes += sign * bytes;
  // only CPU memory pressure matters to V8's heuristics
  if (t.device().is_cpu()) report(d, env, sign * bytes);
}

void release(EnvData& d, napi_env env, uint32_t i) {
  Slot& s = d.slot(i);
  track(d, env, s.t, -1);
  s.t = at::Tensor();
  s.live = false;
  s.adopted = false;
  s.gen = s.gen == kMask24 ? 1 : s.gen + 1;
  d.freeSlots.push_back(i);
}

std::atomic<uint32_t> nextTag{0};

}  // namespace

// ---- StorageCounts: linear probing, backward-shift deletion, at most half full ----

size_t StorageCounts::index(const void* key) const {
  auto h = reinterpret_cast<uintptr_t>(key) >> 4;  // allocations are 16-byte aligned
  return static_cast<size_t>((h * 0x9E3779B97F4A7C15ULL) >> 32) & (table_.size() - 1);  // Fibonacci hashing
}

int64_t StorageCounts::add(const void* key, int64_t delta) {
  size_t mask = table_.size() - 1;
  size_t i = index(key);
  while (table_[i].key != nullptr && table_[i].key != key) i = (i + 1) & mask;
  if (table_[i].key == nullptr) {
    if (delta <= 0) return 0;  // not counted (cannot happen for a handle that was counted)
    table_[i] = {key, delta};
    if (++size_ * 2 > table_.size()) grow();
    return delta;
  }
  int64_t count = table_[i].count += delta;
  if (count == 0) erase(i);
  return count;
}

void StorageCounts::erase(size_t i) {
  size_t mask = table_.size() - 1;
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (table_[j].key == nullptr) break;
    size_t home = index(table_[j].key);
    // move j back into the hole at i unless its home lies cyclically in (i, j]
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      table_[i] = table_[j];
      i = j;
    }
  }
  table_[i] = Entry{};
  size_--;
}

void StorageCounts::grow() {
  std::vector<Entry> old(table_.size() * 2);
  old.swap(table_);
  size_ = 0;
  for (const Entry& e : old)
    if (e.key != nullptr) add(e.key, e.count);
}

// ---- handles ----

EnvData& envData(napi_env env) {
  void* p = nullptr;
  napi_get_instance_data(env, &p);
  if (p == nullptr) {
    auto* d = new EnvData();
    d->tag = nextTag++ & 0xFF;
    p = d;
    napi_set_instance_data(env, p, nullptr, nullptr);  // no finaliser: see EnvData
  }
  return *static_cast<EnvData*>(p);
}

napi_value wrap(EnvData& d, napi_env env, at::Tensor t) {
  uint32_t i;
  if (!d.freeSlots.empty()) {
    i = d.freeSlots.back();
    d.freeSlots.pop_back();
  } else {
    if (d.numSlots == kMaxSlots) throw Napi::RangeError::New(env, "more than 16,777,216 live tensors; dispose() some");
    if (d.numSlots % EnvData::kChunk == 0) d.chunks.emplace_back(new Slot[EnvData::kChunk]);
    i = d.numSlots++;
  }
  Slot& s = d.slot(i);
  s.t = std::move(t);
  s.live = true;
  track(d, env, s.t, +1);
  napi_value out;
  napi_create_bigint_uint64(env, encode(d, i, s.gen), &out);
  return out;
}

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  return Napi::Value(env, wrap(envData(env), env, std::move(t)));
}

const at::Tensor& unwrap(EnvData& d, napi_env env, napi_value v, const char* what) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  return unwrap(d, env, v, t, what);
}

const at::Tensor& unwrap(EnvData& d, napi_env env, napi_value v, napi_valuetype type, const char* what) {
  uint64_t bits = 0;
  bool live = false;
  bool lossless = false;
  Slot* s = type == napi_bigint && napi_get_value_bigint_uint64(env, v, &bits, &lossless) == napi_ok && lossless
                ? decode(d, bits, &live) : nullptr;
  if (s == nullptr) throw Napi::TypeError::New(env, std::string("'") + what + "' must be a tensor handle");
  if (!live) {
    throw Napi::Error::New(env, std::string("'") + what +
                                    "' is a disposed tensor; keep() it or use it before tidy() ends");
  }
  return s->t;
}

const at::Tensor& unwrap(const Napi::Value& v, const char* what) {
  return unwrap(envData(v.Env()), v.Env(), v, what);
}

bool isHandle(const Napi::Value& v) {
  uint64_t bits = 0;
  bool live = false;
  return bigintOf(v.Env(), v, &bits) && decode(envData(v.Env()), bits, &live) != nullptr;
}

std::string describe(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream s;
  s << "[";
  for (int64_t i = 0; i < t.dim(); i++) s << (i ? ", " : "") << t.size(i);
  s << "] " << c10::toString(t.scalar_type());
  if (!t.device().is_cpu()) s << " " << t.device();
  return s.str();
}

namespace {

// dispose(handle): release now; idempotent, and a no-op for anything that is not a live handle.
// A plain N-API callback: it runs once per tensor, so node-addon-api's wrapper is skipped.
napi_value Dispose(napi_env env, napi_callback_info cb) {
  size_t n = 1;
  napi_value h = nullptr;
  void* data = nullptr;
  napi_get_cb_info(env, cb, &n, &h, nullptr, &data);
  EnvData& d = *static_cast<EnvData*>(data);
  uint64_t bits = 0;
  bool live = false;
  uint32_t i = 0;
  if (n > 0 && bigintOf(env, h, &bits) && decode(d, bits, &live, &i) && live) release(d, env, i);
  return nullptr;  // undefined
}

Napi::Value IsLive(const Napi::CallbackInfo& info) {
  EnvData& d = *static_cast<EnvData*>(info.Data());
  uint64_t bits = 0;
  bool live = false;
  bool ok = info.Length() > 0 && bigintOf(info.Env(), info[0], &bits) && decode(d, bits, &live) && live;
  return Napi::Boolean::New(info.Env(), ok);
}

void finalizeOwner(napi_env env, void* data, void* /*hint*/) {
  EnvData& d = envData(env);
  bool live = false;
  uint32_t i = 0;
  if (decode(d, reinterpret_cast<uintptr_t>(data), &live, &i) && live) release(d, env, i);
}

// adopt(owner, handle): free the handle's tensor when `owner` (its JS Tensor) is garbage collected.
// Called once per tensor that leaves every tidy() scope still live (src/tensor/scope.ts).
Napi::Value Adopt(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  EnvData& d = *static_cast<EnvData*>(info.Data());
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "'owner' must be an object");
  uint64_t bits = 0;
  bool live = false;
  Slot* s = bigintOf(env, info[1], &bits) ? decode(d, bits, &live) : nullptr;
  if (s == nullptr) throw Napi::TypeError::New(env, "'handle' must be a tensor handle");
  static_assert(sizeof(void*) >= sizeof(uint64_t), "handles travel as finalizer data");
  if (live && !s->adopted) {
    napi_status st = napi_add_finalizer(env, info[0], reinterpret_cast<void*>(static_cast<uintptr_t>(bits)),
                                        finalizeOwner, nullptr, nullptr);
    if (st != napi_ok) throw Napi::Error::New(env, "adopt: napi_add_finalizer failed");
    s->adopted = true;
  }
  return env.Undefined();
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  const EnvData& d = *static_cast<EnvData*>(info.Data());
  o.Set("numTensors", Napi::Number::New(info.Env(), static_cast<double>(d.numHandles)));
  o.Set("numBytes", Napi::Number::New(info.Env(), static_cast<double>(d.numBytes)));
  return o;
}

}  // namespace

void initHandle(Napi::Env env, Napi::Object exports) {
  EnvData* d = &envData(env);
  napi_value dispose;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, "dispose", NAPI_AUTO_LENGTH, Dispose, d, &dispose));
  exports.Set("dispose", dispose);
  exports.Set("isLive", Napi::Function::New(env, IsLive, "isLive", d));
  exports.Set("adopt", Napi::Function::New(env, Adopt, "adopt", d));
  exports.Set("memory", Napi::Function::New(env, Memory, "memory", d));
}

}  // namespace earmark
