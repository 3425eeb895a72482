// torch.distributed's engine (c10d) for data-parallel training: a TCPStore for rendezvous, a process group
// (Gloo; NCCL where this libtorch has it and the build defines EARMARK_NCCL) and the collectives a training
// loop needs. A collective is started on the JS thread, so every rank issues them in program order, and is
// awaited on libuv's thread pool with a deadline: a dead or hung peer becomes a rejected promise naming the
// op, never a wedged event loop. After a failed wait the group refuses further collectives.
#include "c10d.h"
#include "handle.h"
#include <torch/version.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if __has_include(<gloo/config.h>)  // Debian: libgloo-dev
#define EARMARK_GLOO 1
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef EARMARK_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

namespace earmark {
namespace {

using ms = std::chrono::milliseconds;

// torch 2.0 split the process group into a dispatching ProcessGroup and per-device Backends: Gloo and
// NCCL derive from Backend there and from ProcessGroup in 1.13, with the same collective calls.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

const napi_type_tag kGroupTag = {0x6561726d61726b21ULL, 0x63313064677270ULL};  // "earmark!" "c10dgrp"
const napi_type_tag kWorkTag = {0x6561726d61726b21ULL, 0x6331306477726bULL};   // "earmark!" "c10dwrk"

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Backend> pg;
  std::string what;  // "gloo rank 0 of 2"
  ms timeout{0};
  bool closed = false;  // JS thread only
  std::atomic<int> pending{0};
  std::mutex mu;
  std::string failure;  // the first failed collective; guarded by mu

  std::string failed() {
    std::lock_guard<std::mutex> lock(mu);
    return failure;
  }
  void fail(const std::string& why) {
    std::lock_guard<std::mutex> lock(mu);
    if (failure.empty()) failure = why;
  }
  ~Group() {
    // With a collective in flight or a dead peer, Gloo's destructor would join threads that wait on the
    // peer for the whole timeout: leak the group instead (this only happens as the process ends).
    if (pending.load() > 0 || !failed().empty()) {
      (void)pg.release();
      (void)store.release();
    }
  }
};
using GroupRef = std::shared_ptr<Group>;

struct WorkRec {
  c10::intrusive_ptr<c10d::Work> work;
  GroupRef group;
  std::string what;  // "allReduce([10] Float) on gloo rank 0 of 2"
  std::atomic<bool> waited{false};
};
using WorkRef = std::shared_ptr<WorkRec>;

std::string messageOf(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

template <typename T>
T* tagged(const Napi::Value& v, const napi_type_tag& tag, const char* what) {
  bool ok = false;
  if (v.IsExternal()) napi_check_object_type_tag(v.Env(), v, &tag, &ok);
  if (!ok) throw Napi::TypeError::New(v.Env(), std::string("'") + what + "' must be a c10d " + what + " handle");
  return v.As<Napi::External<T>>().Data();
}

GroupRef groupArg(const Napi::Value& v) {
  GroupRef g = *tagged<GroupRef>(v, kGroupTag, "group");
  if (g->closed) throw Napi::Error::New(v.Env(), "the process group (" + g->what + ") was destroyed");
  return g;
}

// ---- rendezvous ----

struct InitArgs {
  std::string backend, host, iface, hostname;
  int port = 0, rank = 0, size = 1, threads = 2;
  ms timeout{0};      // each collective, and Gloo's own bound on its transfers
  ms initTimeout{0};  // the rendezvous: connecting to the store and exchanging addresses through it
};

class InitWorker : public Napi::AsyncWorker {
 public:
  InitWorker(Napi::Env env, InitArgs a)
      : Napi::AsyncWorker(env, "earmark.c10d.init"), deferred_(Napi::Promise::Deferred::New(env)), a_(std::move(a)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    std::string stage = "TCPStore rendezvous at " + a_.host + ":" + std::to_string(a_.port);
    try {
      c10d::TCPStoreOptions o;
      o.port = static_cast<std::uint16_t>(a_.port);
      o.isServer = a_.rank == 0;
      o.numWorkers = static_cast<std::size_t>(a_.size);
      o.waitWorkers = true;
      o.timeout = a_.initTimeout;
      auto store = c10::make_intrusive<c10d::TCPStore>(a_.host, o);
      g_ = std::make_shared<Group>();
      g_->store = store;
      g_->timeout = a_.timeout;
      g_->what = a_.backend + " rank " + std::to_string(a_.rank) + " of " + std::to_string(a_.size);
      stage = a_.backend + " connection of all " + std::to_string(a_.size) + " ranks";
      if (a_.backend == "gloo") {
#ifdef EARMARK_GLOO
        using PG = c10d::ProcessGroupGloo;
        auto opts = PG::Options::create(std::max(a_.timeout, a_.initTimeout));
        if (!a_.iface.empty()) opts->devices.push_back(PG::createDeviceForInterface(a_.iface));
        else if (!a_.hostname.empty()) opts->devices.push_back(PG::createDeviceForHostname(a_.hostname));
        else opts->devices.push_back(PG::createDefaultDevice());
        opts->threads = a_.threads;
        g_->pg = c10::make_intrusive<PG>(store, a_.rank, a_.size, opts);
#endif
      } else {
#ifdef EARMARK_NCCL
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = std::max(a_.timeout, a_.initTimeout);
        g_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, a_.rank, a_.size, opts);
#endif
      }
      if (!g_->pg) SetError("backend '" + a_.backend + "' is not compiled into this addon");
      else store->setTimeout(a_.timeout);  // later store calls wait as long as a collective
    } catch (const std::exception& e) {
      SetError(stage + " failed: " + messageOf(e));
    }
  }
  void OnOK() override {
    auto env = Env();
    auto ext = Napi::External<GroupRef>::New(env, new GroupRef(g_), [](Napi::Env, GroupRef* p) { delete p; });
    napi_type_tag_object(env, ext, &kGroupTag);
    deferred_.Resolve(ext);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  InitArgs a_;
  GroupRef g_;
};

std::string stringField(const Napi::Object& o, const char* k) {
  Napi::Value v = o.Get(k);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
}

int intField(const Napi::Object& o, const char* k, int dflt) {
  Napi::Value v = o.Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : dflt;
}

// distInit({ backend, host, port, rank, size, timeoutMs, initTimeoutMs?, iface?, hostname?, threads? })
//   -> Promise<group>
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "distInit: options must be an object");
  auto o = info[0].As<Napi::Object>();
  InitArgs a;
  a.backend = stringField(o, "backend");
  a.host = stringField(o, "host");
  a.iface = stringField(o, "iface");
  a.hostname = stringField(o, "hostname");
  a.port = intField(o, "port", 0);
  a.rank = intField(o, "rank", 0);
  a.size = intField(o, "size", 1);
  a.threads = intField(o, "threads", 2);
  a.timeout = ms(intField(o, "timeoutMs", 30 * 60 * 1000));
  a.initTimeout = ms(intField(o, "initTimeoutMs", static_cast<int>(a.timeout.count())));
  auto* w = new InitWorker(env, std::move(a));
  auto p = w->promise();
  w->Queue();
  return p;
}

// distAvailable() -> { gloo, nccl }: what this addon was compiled with
Napi::Value DistAvailable(const Napi::CallbackInfo& info) {
  auto o = Napi::Object::New(info.Env());
#ifdef EARMARK_GLOO
  o.Set("gloo", true);
#else
  o.Set("gloo", false);
#endif
#ifdef EARMARK_NCCL
  o.Set("nccl", true);
#else
  o.Set("nccl", false);
#endif
  return o;
}

// ---- collectives: started here, awaited with distWait ----

template <typename F>
Napi::Value issue(Napi::Env env, const GroupRef& g, const std::string& call, F&& start) {
  std::string what = call + " on " + g->what;
  std::string failure = g->failed();
  if (!failure.empty()) {
    throw Napi::Error::New(env, what + ": the group is unusable after an earlier failure (" + failure + ")");
  }
  c10::intrusive_ptr<c10d::Work> w;
  try {
    w = start();
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, what + ": " + messageOf(e));
  }
  g->pending++;
  auto* ref = new WorkRef(std::make_shared<WorkRec>());
  (*ref)->work = w;
  (*ref)->group = g;
  (*ref)->what = what;
  auto ext = Napi::External<WorkRef>::New(env, ref, [](Napi::Env, WorkRef* p) { delete p; });
  napi_type_tag_object(env, ext, &kWorkTag);
  return ext;
}

c10d::ReduceOp reduceOpArg(const Napi::Value& v) {
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "sum";
  if (s == "sum") return c10d::ReduceOp(c10d::ReduceOp::SUM);
  if (s == "max") return c10d::ReduceOp(c10d::ReduceOp::MAX);
  if (s == "min") return c10d::ReduceOp(c10d::ReduceOp::MIN);
  if (s == "product") return c10d::ReduceOp(c10d::ReduceOp::PRODUCT);
  throw Napi::TypeError::New(v.Env(), "'op' must be 'sum', 'max', 'min' or 'product', got '" + s + "'");
}

// distAllreduce(group, tensor, op) -> work; the tensor is reduced in place
Napi::Value DistAllreduce(const Napi::CallbackInfo& info) {
  GroupRef g = groupArg(info[0]);
  std::vector<at::Tensor> ts{unwrap(info[1], "tensor")};
  c10d::AllreduceOptions o;
  o.reduceOp = reduceOpArg(info[2]);
  o.timeout = g->timeout;
  return issue(info.Env(), g, "allReduce(" + describe(ts[0]) + ")", [&] { return g->pg->allreduce(ts, o); });
}

// distBroadcast(group, tensor, root) -> work; every rank's tensor becomes root's
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  GroupRef g = groupArg(info[0]);
  std::vector<at::Tensor> ts{unwrap(info[1], "tensor")};
  c10d::BroadcastOptions o;
  o.rootRank = info[2].As<Napi::Number>().Int32Value();
  o.rootTensor = 0;
  o.timeout = g->timeout;
  return issue(info.Env(), g, "broadcast(" + describe(ts[0]) + ", root " + std::to_string(o.rootRank) + ")",
               [&] { return g->pg->broadcast(ts, o); });
}

// distBarrier(group) -> work
Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  GroupRef g = groupArg(info[0]);
  c10d::BarrierOptions o;
  o.timeout = g->timeout;
  return issue(info.Env(), g, "barrier()", [&] { return g->pg->barrier(o); });
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, std::vector<WorkRef> works, ms timeout)
      : Napi::AsyncWorker(env, "earmark.c10d.wait"), deferred_(Napi::Promise::Deferred::New(env)),
        works_(std::move(works)), timeout_(timeout) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (auto& w : works_) {
      auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
      try {
        w->work->wait(std::max(left, ms(1)));
      } catch (const std::exception& e) {
        std::string m = w->what + " failed: " + messageOf(e);
        w->group->fail(m);
        SetError(m);
        return;
      }
      if (!w->waited.exchange(true)) w->group->pending--;
    }
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<WorkRef> works_;
  ms timeout_;
};

// distWait(works[], timeoutMs) -> Promise<void>, rejected with the first failure or on the deadline
Napi::Value DistWait(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "distWait: 'works' must be an array of work handles");
  auto arr = info[0].As<Napi::Array>();
  std::vector<WorkRef> works;
  for (uint32_t i = 0; i < arr.Length(); i++) works.push_back(*tagged<WorkRef>(arr.Get(i), kWorkTag, "work"));
  auto* w = new WaitWorker(env, std::move(works), ms(info[1].As<Napi::Number>().Int64Value()));
  auto p = w->promise();
  w->Queue();
  return p;
}

// ---- the store (small keys and values; blocking calls bounded by the group's timeout) ----

template <typename F>
auto storeCall(Napi::Env env, const GroupRef& g, const std::string& what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, "store." + what + " on " + g->what + ": " + messageOf(e));
  }
}

Napi::Value StoreSet(const Napi::CallbackInfo& info) {
  GroupRef g = groupArg(info[0]);
  std::string key = info[1].As<Napi::String>(), value = info[2].As<Napi::String>();
  storeCall(info.Env(), g, "set('" + key + "')", [&] {
    g->store->set(key, std::vector<uint8_t>(value.begin(), value.end()));
    return 0;
  });
  return info.Env().Undefined();
}

Napi::Value StoreGet(const Napi::CallbackInfo& info) {
  GroupRef g = groupArg(info[0]);
  std::string key = info[1].As<Napi::String>();
  auto bytes = storeCall(info.Env(), g, "get('" + key + "')", [&] { return g->store->get(key); });
  return Napi::String::New(info.Env(), std::string(bytes.begin(), bytes.end()));
}

Napi::Value StoreAdd(const Napi::CallbackInfo& info) {
  GroupRef g = groupArg(info[0]);
  std::string key = info[1].As<Napi::String>();
  int64_t by = info[2].As<Napi::Number>().Int64Value();
  auto v = storeCall(info.Env(), g, "add('" + key + "')", [&] { return g->store->add(key, by); });
  return Napi::Number::New(info.Env(), static_cast<double>(v));
}

// distDestroy(group): free the group now (after a barrier in JS); a failed or busy group is leaked
Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  GroupRef g = *tagged<GroupRef>(info[0], kGroupTag, "group");
  if (!g->closed && g->pending.load() == 0 && g->failed().empty()) {
    g->pg.reset();
    g->store.reset();
  }
  g->closed = true;
  return info.Env().Undefined();
}

}  // namespace

void initC10d(Napi::Env env, Napi::Object exports) {
  exports.Set("distAvailable", Napi::Function::New(env, DistAvailable, "distAvailable"));
  exports.Set("distInit", Napi::Function::New(env, DistInit, "distInit"));
  exports.Set("distAllreduce", Napi::Function::New(env, DistAllreduce, "distAllreduce"));
  exports.Set("distBroadcast", Napi::Function::New(env, DistBroadcast, "distBroadcast"));
  exports.Set("distBarrier", Napi::Function::New(env, DistBarrier, "distBarrier"));
  exports.Set("distWait", Napi::Function::New(env, DistWait, "distWait"));
  exports.Set("distStoreSet", Napi::Function::New(env, StoreSet, "distStoreSet"));
  exports.Set("distStoreGet", Napi::Function::New(env, StoreGet, "distStoreGet"));
  exports.Set("distStoreAdd", Napi::Function::New(env, StoreAdd, "distStoreAdd"));
  exports.Set("distDestroy", Napi::Function::New(env, DistDestroy, "distDestroy"));
}

}  // namespace earmark
