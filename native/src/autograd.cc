// Autograd entry points that are not ATen ops, plus process-wide runtime settings.
#include "autograd.h"
#include "handle.h"
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/grad_mode.h>
#include <torch/version.h>
#include <ATen/Parallel.h>
#include <ATen/Context.h>

namespace earmark {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Identity forward, -alpha * grad backward (Ganin & Lempitsky 2015).
struct GradReverse : public torch::autograd::Function<GradReverse> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, double alpha) {
    ctx->saved_data["alpha"] = alpha;
    return x.clone();
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    double alpha = ctx->saved_data["alpha"].toDouble();
    return {g[0] * (-alpha), at::Tensor()};
  }
};

template <typename F>
auto guarded(Napi::Env env, const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, std::string(what) + ": " + e.what_without_backtrace());
  }
}

// backward(handle, gradHandle|null, retainGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const at::Tensor& t = unwrap(info[0], "tensor");
  variable_list grads;
  if (info.Length() > 1 && isHandle(info[1])) grads.push_back(unwrap(info[1], "gradient"));
  bool retain = info.Length() > 2 && info[2].ToBoolean().Value();
  guarded(env, ("backward(" + describe(t) + ")").c_str(), [&] {
    torch::autograd::backward({t}, grads, retain, false);
    return 0;
  });
  return env.Undefined();
}

// grad(handle) -> handle | null
Napi::Value Grad(const Napi::CallbackInfo& info) {
  const at::Tensor& t = unwrap(info[0], "tensor");
  const at::Tensor& g = t.grad();
  return g.defined() ? wrap(info.Env(), g) : info.Env().Null();
}

// setGrad(handle, gradHandle|null): null drops the gradient (zeroGrad with set_to_none)
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = unwrap(info[0], "tensor");
  if (isHandle(info[1])) t.mutable_grad() = unwrap(info[1], "grad");
  else t.mutable_grad().reset();
  return info.Env().Undefined();
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = unwrap(info[0], "tensor");
  guarded(info.Env(), "requiresGrad", [&] { return t.requires_grad_(info[1].ToBoolean().Value()); });
  return info.Env().Undefined();
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(info[0].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), prev);
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

Napi::Value GradReverseFn(const Napi::CallbackInfo& info) {
  const at::Tensor& x = unwrap(info[0], "x");
  double alpha = info[1].As<Napi::Number>().DoubleValue();
  return wrap(info.Env(), guarded(info.Env(), "gradReverse", [&] { return GradReverse::apply(x, alpha); }));
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "'n' must be >= 1, got " + std::to_string(n));
  at::set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value NumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  auto seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  at::manual_seed(seed);
  return info.Env().Undefined();
}

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::hasCUDA());
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TORCH_VERSION);
}

Napi::Value ParallelInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), at::get_parallel_info());
}

}  // namespace

void initAutograd(Napi::Env env, Napi::Object exports) {
  exports.Set("backward", Napi::Function::New(env, Backward, "backward"));
  exports.Set("grad", Napi::Function::New(env, Grad, "grad"));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad, "setGrad"));
  exports.Set("setRequiresGrad", Napi::Function::New(env, SetRequiresGrad, "setRequiresGrad"));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled, "setGradEnabled"));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled, "isGradEnabled"));
  exports.Set("gradReverse", Napi::Function::New(env, GradReverseFn, "gradReverse"));
}

void initRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("numThreads", Napi::Function::New(env, NumThreads, "numThreads"));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("cudaAvailable", Napi::Function::New(env, CudaAvailable, "cudaAvailable"));
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("parallelInfo", Napi::Function::New(env, ParallelInfo, "parallelInfo"));
}

}  // namespace earmark
