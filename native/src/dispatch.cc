// Generic op call through ATen's dispatcher: the op table itself is declared in TypeScript
// (src/binding/ops.ts) as (name, overload) pairs; here we resolve each once to an integer id
// and convert JS arguments to IValues following the op's schema. Autograd is recorded by the
// dispatcher exactly as for a C++ call.
#include "dispatch.h"
#include "handle.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <vector>

namespace earmark {
namespace {

[[noreturn]] void badArg(Napi::Env env, const c10::OperatorHandle& op, const c10::Argument& a, const std::string& want) {
  throw Napi::TypeError::New(env, op.schema().name() + ": argument '" + a.name() + "' must be " + want);
}

c10::IValue toIValue(Napi::Env env, const c10::OperatorHandle& op, const c10::Argument& a, const c10::TypePtr& type,
                     const Napi::Value& v);

c10::IValue toList(Napi::Env env, const c10::OperatorHandle& op, const c10::Argument& a, const c10::TypePtr& type,
                   const Napi::Value& v) {
  auto elem = type->castRaw<c10::ListType>()->getElementType();
  auto kind = elem->kind();
  // a single number for `int[2]` means "the same in every dimension", as in TorchScript
  if (v.IsNumber() && (kind == c10::TypeKind::IntType || kind == c10::TypeKind::SymIntType) && a.N()) {
    return c10::IValue(std::vector<int64_t>(*a.N(), v.As<Napi::Number>().Int64Value()));
  }
  if (!v.IsArray()) badArg(env, op, a, "an array");
  auto arr = v.As<Napi::Array>();
  uint32_t n = arr.Length();
  switch (kind) {
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: {
      std::vector<int64_t> out(n);
      for (uint32_t i = 0; i < n; i++) {
        Napi::Value x = arr[i];
        if (!x.IsNumber()) badArg(env, op, a, "an array of integers");
        out[i] = x.As<Napi::Number>().Int64Value();
      }
      return c10::IValue(out);
    }
    case c10::TypeKind::FloatType: {
      std::vector<double> out(n);
      for (uint32_t i = 0; i < n; i++) out[i] = arr.Get(i).As<Napi::Number>().DoubleValue();
      return c10::IValue(out);
    }
    case c10::TypeKind::BoolType: {
      c10::List<bool> out;
      for (uint32_t i = 0; i < n; i++) out.push_back(arr.Get(i).ToBoolean().Value());
      return c10::IValue(out);
    }
    case c10::TypeKind::TensorType: {
      c10::List<at::Tensor> out;
      out.reserve(n);
      for (uint32_t i = 0; i < n; i++) out.push_back(unwrap(arr.Get(i), a.name().c_str()));
      return c10::IValue(out);
    }
    case c10::TypeKind::OptionalType: {
      c10::List<c10::optional<at::Tensor>> out;
      for (uint32_t i = 0; i < n; i++) {
        Napi::Value x = arr[i];
        if (x.IsNull() || x.IsUndefined()) out.push_back(c10::nullopt);
        else out.push_back(unwrap(x, a.name().c_str()));
      }
      return c10::IValue(out);
    }
    default:
      badArg(env, op, a, "a supported list (got schema type " + type->str() + ")");
  }
}

c10::IValue toIValue(Napi::Env env, const c10::OperatorHandle& op, const c10::Argument& a, const c10::TypePtr& type,
                     const Napi::Value& v) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType:
      return c10::IValue(unwrap(v, a.name().c_str()));
    case c10::TypeKind::OptionalType:
      if (v.IsNull() || v.IsUndefined()) return c10::IValue();
      return toIValue(env, op, a, type->castRaw<c10::OptionalType>()->getElementType(), v);
    case c10::TypeKind::ListType:
      return toList(env, op, a, type, v);
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      if (!v.IsNumber()) badArg(env, op, a, "an integer");
      return c10::IValue(v.As<Napi::Number>().Int64Value());
    case c10::TypeKind::FloatType:
      if (!v.IsNumber()) badArg(env, op, a, "a number");
      return c10::IValue(v.As<Napi::Number>().DoubleValue());
    case c10::TypeKind::BoolType:
      if (!v.IsBoolean()) badArg(env, op, a, "a boolean");
      return c10::IValue(v.As<Napi::Boolean>().Value());
    case c10::TypeKind::NumberType: {  // Scalar
      if (v.IsBoolean()) return c10::IValue(at::Scalar(v.As<Napi::Boolean>().Value()));
      if (!v.IsNumber()) badArg(env, op, a, "a number");
      double d = v.As<Napi::Number>().DoubleValue();
      // integral JS numbers stay integral so int64 tensors are not promoted to float
      if (d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 9007199254740992.0)
        return c10::IValue(at::Scalar(static_cast<int64_t>(d)));
      return c10::IValue(at::Scalar(d));
    }
    case c10::TypeKind::StringType:
      if (!v.IsString()) badArg(env, op, a, "a string");
      return c10::IValue(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::DeviceObjType: {
      if (!v.IsString()) badArg(env, op, a, "a device string such as 'cpu' or 'cuda:0'");
      std::string dev = v.As<Napi::String>().Utf8Value();
      try {
        return c10::IValue(c10::Device(dev));
      } catch (const c10::Error&) {
        badArg(env, op, a, "a device string such as 'cpu', 'cuda' or 'cuda:0' (got '" + dev + "')");
      }
    }
    case c10::TypeKind::GeneratorType:
      return c10::IValue();  // the default generator, seeded by manualSeed()
    default:
      badArg(env, op, a, "a supported type (schema type " + type->str() + ")");
  }
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    return t.defined() ? wrap(env, t) : env.Null();
  }
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, wrap(env, list.get(i)));
    return arr;
  }
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isScalar()) return Napi::Number::New(env, v.toScalar().toDouble());
  if (v.isIntList()) {
    auto list = v.toIntVector();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, Napi::Number::New(env, static_cast<double>(list[i])));
    return arr;
  }
  if (v.isNone()) return env.Undefined();
  throw Napi::Error::New(env, "op returned an unsupported value of type " + v.tagKind());
}

// "aten::add.Tensor([2, 3] Float, [3] Float)" for error messages
std::string callSignature(const c10::OperatorHandle& op, const torch::jit::Stack& inputs) {
  std::string s = op.schema().name();
  if (!op.schema().overload_name().empty()) s += "." + op.schema().overload_name();
  s += "(";
  for (size_t i = 0; i < inputs.size(); i++) {
    if (i) s += ", ";
    const auto& v = inputs[i];
    if (v.isTensor()) s += describe(v.toTensor());
    else if (v.isTensorList()) {
      s += "[";
      auto list = v.toTensorList();
      for (size_t j = 0; j < list.size(); j++) s += (j ? ", " : "") + describe(list.get(j));
      s += "]";
    } else if (v.isNone()) s += "None";
    else {
      std::ostringstream o;
      o << v;
      s += o.str();
    }
  }
  return s + ")";
}

// resolveOp(name, overload) -> id
Napi::Value ResolveOp(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  std::string name = info[0].As<Napi::String>();
  std::string overload = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto op = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!op) throw Napi::Error::New(env, "op '" + name + (overload.empty() ? "" : "." + overload) +
                                           "' is not in this libtorch; check the op table in src/binding/ops.ts");
  auto& ops = envData(env).ops;
  ops.push_back(*op);
  return Napi::Number::New(env, static_cast<double>(ops.size() - 1));
}

// schema(id) -> string, for docs and debugging
Napi::Value Schema(const Napi::CallbackInfo& info) {
  auto id = info[0].As<Napi::Number>().Uint32Value();
  const auto& ops = envData(info.Env()).ops;
  if (id >= ops.size()) throw Napi::RangeError::New(info.Env(), "'id' is not a resolved op");
  std::ostringstream o;
  o << ops[id].schema();
  return Napi::String::New(info.Env(), o.str());
}

// call(id, ...args) -> result | result[]
Napi::Value Call(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  const auto& ops = envData(env).ops;
  if (id >= ops.size()) throw Napi::RangeError::New(env, "'id' is not a resolved op");
  const auto& op = ops[id];
  const auto& args = op.schema().arguments();
  size_t given = info.Length() - 1;
  if (given > args.size())
    throw Napi::RangeError::New(env, op.schema().name() + " takes at most " + std::to_string(args.size()) +
                                         " arguments, got " + std::to_string(given));
  torch::jit::Stack stack;
  stack.reserve(args.size());
  for (size_t i = 0; i < args.size(); i++) {
    const auto& a = args[i];
    if (i < given && !info[i + 1].IsUndefined()) {
      stack.push_back(toIValue(env, op, a, a.type(), info[i + 1]));
    } else if (i < given && a.type()->kind() == c10::TypeKind::TensorType) {
      // an explicit undefined where a tensor belongs: usually a plain value passed for a Tensor
      throw Napi::TypeError::New(env, op.schema().name() + ": argument '" + a.name() + "' must be a Tensor, got undefined");
    } else if (a.default_value()) {
      stack.push_back(*a.default_value());
    } else {
      throw Napi::TypeError::New(env, op.schema().name() + ": missing required argument '" + a.name() + "'");
    }
  }
  torch::jit::Stack inputs = stack;  // cheap (refcounted); kept to describe a failure
  try {
    op.callBoxed(&stack);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, callSignature(op, inputs) + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, callSignature(op, inputs) + ": " + e.what());
  }
  if (stack.size() == 1) return fromIValue(env, stack[0]);
  auto arr = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); i++) arr.Set(i, fromIValue(env, stack[i]));
  return arr;
}

}  // namespace

void initDispatch(Napi::Env env, Napi::Object exports) {
  exports.Set("resolveOp", Napi::Function::New(env, ResolveOp, "resolveOp"));
  exports.Set("schema", Napi::Function::New(env, Schema, "schema"));
  exports.Set("call", Napi::Function::New(env, Call, "call"));
}

}  // namespace earmark
