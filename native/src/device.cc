// Devices and mixed precision beyond what boxed ops give: CUDA presence, device count and
// synchronisation (safe on a CPU-only libtorch: a clear JS error, never an abort), and libtorch's own
// autocast state. Autocast state is thread-local in libtorch, like grad mode: it applies to the ops
// the calling JS thread dispatches. Policy (which device, which dtype, scoping) lives in src/tensor/device.ts.
#include "device.h"
#include "handle.h"
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/version.h>

namespace earmark {
namespace {

// libtorch 2.4 made the autocast API device-generic and deprecated the per-device names of 1.13–2.3
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocastEnabled(at::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
void setAutocastEnabled(at::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
at::ScalarType autocastDtype(at::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void setAutocastDtype(at::DeviceType d, at::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
#else
bool autocastEnabled(at::DeviceType d) {
  return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
}
void setAutocastEnabled(at::DeviceType d, bool on) {
  if (d == at::kCPU) at::autocast::set_cpu_enabled(on);
  else at::autocast::set_enabled(on);
}
at::ScalarType autocastDtype(at::DeviceType d) {
  return d == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
void setAutocastDtype(at::DeviceType d, at::ScalarType t) {
  if (d == at::kCPU) at::autocast::set_autocast_cpu_dtype(t);
  else at::autocast::set_autocast_gpu_dtype(t);
}
#endif

at::DeviceType autocastDeviceArg(const Napi::Value& v) {
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "cpu") return at::kCPU;
  if (s == "cuda") return at::kCUDA;
  throw Napi::TypeError::New(v.Env(), "autocast: 'deviceType' must be 'cpu' or 'cuda', got '" + s + "'");
}

Napi::Value stateOf(Napi::Env env, at::DeviceType d) {
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Boolean::New(env, autocastEnabled(d)));
  out.Set(1u, Napi::Number::New(env, static_cast<int>(autocastDtype(d))));
  return out;
}

// cudaDeviceCount() -> number; 0 where libtorch has no CUDA or no GPU is visible
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  size_t n = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// cudaSynchronize(index): wait for every queued kernel on that device (-1: the current one)
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  int64_t index = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int64Value() : -1;
  if (!torch::cuda::is_available()) {
    throw Napi::Error::New(env, "synchronize: this libtorch has no CUDA device available (CPU-only build or no GPU)");
  }
  try {
    torch::cuda::synchronize(index);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, "synchronize(cuda:" + std::to_string(index) + "): " + e.what_without_backtrace());
  }
  return env.Undefined();
}

// autocastState(deviceType) -> [enabled, dtypeCode]
Napi::Value AutocastState(const Napi::CallbackInfo& info) {
  return stateOf(info.Env(), autocastDeviceArg(info[0]));
}

// setAutocast(deviceType, enabled, dtypeCode) -> the previous [enabled, dtypeCode]
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  at::DeviceType d = autocastDeviceArg(info[0]);
  bool on = info[1].ToBoolean().Value();
  int code = info[2].As<Napi::Number>().Int32Value();
  if (code != static_cast<int>(at::kBFloat16) && code != static_cast<int>(at::kHalf)) {
    throw Napi::TypeError::New(env, "autocast: 'dtype' must be bfloat16 or float16, got code " + std::to_string(code));
  }
  Napi::Value prev = stateOf(env, d);
  setAutocastDtype(d, static_cast<at::ScalarType>(code));
  setAutocastEnabled(d, on);
  return prev;
}

// autocastNesting(+1 | -1) -> depth; leaving the outermost region frees the cast cache (as torch.autocast)
Napi::Value AutocastNesting(const Napi::CallbackInfo& info) {
  int delta = info[0].As<Napi::Number>().Int32Value();
  int depth = delta > 0 ? at::autocast::increment_nesting() : at::autocast::decrement_nesting();
  if (delta < 0 && depth == 0) at::autocast::clear_cache();
  return Napi::Number::New(info.Env(), depth);
}

}  // namespace

void initDevice(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount, "cudaDeviceCount"));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize, "cudaSynchronize"));
  exports.Set("autocastState", Napi::Function::New(env, AutocastState, "autocastState"));
  exports.Set("setAutocast", Napi::Function::New(env, SetAutocast, "setAutocast"));
  exports.Set("autocastNesting", Napi::Function::New(env, AutocastNesting, "autocastNesting"));
}

}  // namespace earmark
