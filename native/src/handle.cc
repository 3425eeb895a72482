// Handle lifetime and memory accounting.
#include "handle.h"
#include <unordered_map>
#include <sstream>

namespace earmark {
namespace {

const napi_type_tag kTag = {0x6561726d61726b21ULL, 0x74656e736f72ULL};  // "earmark!" "tensor"

const void* storageKey(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return nullptr;
  return t.storage().unsafeGetStorageImpl();
}

int64_t storageBytes(const at::Tensor& t) {
  return t.has_storage() ? static_cast<int64_t>(t.storage().nbytes()) : static_cast<int64_t>(t.nbytes());
}

void track(Napi::Env env, const at::Tensor& t, int sign) {
  EnvData& d = envData(env);
  d.numHandles += sign;
  const void* key = storageKey(t);
  int64_t bytes = 0;
  if (key == nullptr) {
    bytes = t.defined() ? static_cast<int64_t>(t.nbytes()) : 0;
  } else {
    auto& refs = d.storageRefs[key];
    refs += sign;
    if ((sign > 0 && refs == 1) || (sign < 0 && refs == 0)) bytes = storageBytes(t);
    if (refs == 0) d.storageRefs.erase(key);
  }
  if (bytes != 0) {
    d.numBytes += sign * bytes;
    // only CPU memory pressure matters to V8's heuristics
    if (t.device().is_cpu()) Napi::MemoryManagement::AdjustExternalMemory(env, sign * bytes);
  }
}

}  // namespace

EnvData& envData(Napi::Env env) {
  void* p = nullptr;
  napi_get_instance_data(env, &p);
  if (p == nullptr) {
    p = new EnvData();
    napi_set_instance_data(env, p, nullptr, nullptr);  // no finaliser: see EnvData
  }
  return *static_cast<EnvData*>(p);
}

void release(Napi::Env env, Holder* h) {
  if (!h->live) return;
  h->live = false;
  track(env, h->t, -1);
  h->t = at::Tensor();
}

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  auto* h = new Holder{std::move(t), true};
  track(env, h->t, +1);
  auto ext = Napi::External<Holder>::New(env, h, [](Napi::Env env, Holder* h) {
    release(env, h);
    delete h;
  });
  napi_type_tag_object(env, ext, &kTag);
  return ext;
}

bool isHandle(const Napi::Value& v) {
  if (!v.IsExternal()) return false;
  bool ok = false;
  napi_check_object_type_tag(v.Env(), v, &kTag, &ok);
  return ok;
}

const at::Tensor& unwrap(const Napi::Value& v, const char* what) {
  if (!isHandle(v)) throw Napi::TypeError::New(v.Env(), std::string("'") + what + "' must be a tensor handle");
  Holder* h = v.As<Napi::External<Holder>>().Data();
  if (!h->live) throw Napi::Error::New(v.Env(), std::string("'") + what + "' is a disposed tensor; keep() it or use it before tidy() ends");
  return h->t;
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

static Napi::Value Dispose(const Napi::CallbackInfo& info) {
  if (isHandle(info[0])) release(info.Env(), info[0].As<Napi::External<Holder>>().Data());
  return info.Env().Undefined();
}

static Napi::Value IsLive(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), isHandle(info[0]) && info[0].As<Napi::External<Holder>>().Data()->live);
}

static Napi::Value Memory(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
  const EnvData& d = envData(info.Env());
  o.Set("numTensors", Napi::Number::New(info.Env(), static_cast<double>(d.numHandles)));
  o.Set("numBytes", Napi::Number::New(info.Env(), static_cast<double>(d.numBytes)));
  return o;
}

void initHandle(Napi::Env env, Napi::Object exports) {
  exports.Set("dispose", Napi::Function::New(env, Dispose, "dispose"));
  exports.Set("isLive", Napi::Function::New(env, IsLive, "isLive"));
  exports.Set("memory", Napi::Function::New(env, Memory, "memory"));
}

}  // namespace earmark
