// Tensors in and out of JS memory, and cheap metadata reads.
#include "tensor.h"
#include "handle.h"
#include <cstring>

namespace earmark {
namespace {

// Pinned against src/binding/dtype.ts; a change on either side fails the build or the dtype test.
static_assert(static_cast<int>(at::kFloat) == 6, "float32 code");
static_assert(static_cast<int>(at::kDouble) == 7, "float64 code");
static_assert(static_cast<int>(at::kLong) == 4, "int64 code");
static_assert(static_cast<int>(at::kInt) == 3, "int32 code");
static_assert(static_cast<int>(at::kByte) == 0, "uint8 code");
static_assert(static_cast<int>(at::kBool) == 11, "bool code");
static_assert(static_cast<int>(at::kComplexFloat) == 9, "complex64 code");

at::ScalarType dtypeArg(const Napi::Value& v) {
  int code = v.As<Napi::Number>().Int32Value();
  switch (code) {
    case 0: case 3: case 4: case 6: case 7: case 11: return static_cast<at::ScalarType>(code);
    default: throw Napi::TypeError::New(v.Env(), "Unsupported data type code: " + std::to_string(code));
  }
}

std::vector<int64_t> shapeArg(const Napi::Value& v) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), "'shape' must be an array of integers");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> s(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value x = arr[i];
    if (!x.IsNumber()) throw Napi::TypeError::New(v.Env(), "'shape' must be an array of integers");
    s[i] = x.As<Napi::Number>().Int64Value();
    if (s[i] < 0) throw Napi::RangeError::New(v.Env(), "'shape' entries must be >= 0, got " + std::to_string(s[i]));
  }
  return s;
}

// fromBuffer(typedArray, shape, dtypeCode, device?) -> handle; always copies
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(env, "'data' must be a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  auto shape = shapeArg(info[1]);
  auto dtype = dtypeArg(info[2]);
  int64_t numel = 1;
  for (auto d : shape) numel *= d;
  size_t need = static_cast<size_t>(numel) * at::elementSize(dtype);
  if (ta.ByteLength() != need)
    throw Napi::RangeError::New(env, "'data' has " + std::to_string(ta.ByteLength()) + " bytes but shape and dtype need " +
                                         std::to_string(need));
  auto out = at::empty(shape, at::TensorOptions().dtype(dtype));
  if (need) std::memcpy(out.data_ptr(), static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), need);
  if (info.Length() > 3 && info[3].IsString()) {
    std::string dev = info[3].As<Napi::String>();
    if (dev != "cpu") {
      try {
        out = out.to(c10::Device(dev));
      } catch (const c10::Error& e) {
        throw Napi::Error::New(env, "fromBuffer: cannot place the tensor on device '" + dev + "': " + e.what_without_backtrace());
      }
    }
  }
  return wrap(env, out);
}

// toBuffer(handle) -> ArrayBuffer with the contiguous CPU bytes
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  at::Tensor t = unwrap(info[0], "tensor").detach().to(at::kCPU).contiguous();
  auto buf = Napi::ArrayBuffer::New(env, t.nbytes());
  if (t.nbytes()) std::memcpy(buf.Data(), t.data_ptr(), t.nbytes());
  return buf;
}

// info(handle) -> [shape[], dtypeCode, device, requiresGrad]
Napi::Value Info(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const at::Tensor& t = unwrap(info[0], "tensor");
  auto shape = Napi::Array::New(env, t.dim());
  for (int64_t i = 0; i < t.dim(); i++) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
  auto out = Napi::Array::New(env, 4);
  out.Set(0u, shape);
  out.Set(1u, Napi::Number::New(env, static_cast<int>(t.scalar_type())));
  out.Set(2u, Napi::String::New(env, t.device().str()));
  out.Set(3u, Napi::Boolean::New(env, t.requires_grad()));
  return out;
}

// item(handle) -> number | boolean
Napi::Value Item(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const at::Tensor& t = unwrap(info[0], "tensor");
  if (t.numel() != 1)
    throw Napi::RangeError::New(env, "item() needs a tensor with one element, got shape " + describe(t));
  if (t.scalar_type() == at::kBool) return Napi::Boolean::New(env, t.item<bool>());
  return Napi::Number::New(env, t.item<double>());
}

}  // namespace

void initTensor(Napi::Env env, Napi::Object exports) {
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer, "fromBuffer"));
  exports.Set("toBuffer", Napi::Function::New(env, ToBuffer, "toBuffer"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("item", Napi::Function::New(env, Item, "item"));
}

}  // namespace earmark
