// Generic op call through ATen's dispatcher: the op table itself is declared in TypeScript
// (src/binding/ops.ts) as (name, overload) pairs. Each is resolved once to an integer id, its schema
// read once into one converter per argument (args.h). A call converts the JS arguments onto a reused
// stack, calls the op boxed and moves a tensor result into a new handle; it keeps no copy of its inputs
// (an error message rebuilds them). Autograd is recorded by the dispatcher as for a C++ call.
#include "dispatch.h"
#include "args.h"
#include "handle.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <cmath>
#include <sstream>
#include <vector>

namespace earmark {

namespace boxed {

struct OpEntry {
  c10::OperatorHandle op;
  std::string name;  // "aten::add"
  std::string full;  // "aten::add.Tensor"
  std::vector<ArgSpec> args;
};

}  // namespace boxed

struct OpTable {
  std::vector<boxed::OpEntry> entries;
  torch::jit::Stack stack;  // reused by call() (no allocation per op); empty between calls
  bool busy = false;
};

namespace {

using boxed::ArgSpec;
using boxed::Kind;
using boxed::OpEntry;
using boxed::convert;
using boxed::typeOf;

// The JS arguments of call(id, ...args): v[0] is the id.
struct Args {
  const napi_value* v;
  size_t n;
};

// The schema's arguments from the JS ones, defaults filling what was not given.
void pushArgs(napi_env env, EnvData& d, const OpEntry& op, Args info, torch::jit::Stack& stack) {
  size_t given = info.n - 1;
  for (size_t i = 0; i < op.args.size(); i++) {
    const ArgSpec& a = op.args[i];
    napi_value v = i < given ? info.v[i + 1] : nullptr;
    napi_valuetype t = v ? typeOf(env, v) : napi_undefined;
    if (t != napi_undefined) {
      stack.push_back(convert(env, d, op.name, a, v, t));
    } else if (v && a.kind == Kind::Tensor && !a.optional) {
      // an explicit undefined where a tensor belongs: usually a plain value passed for a Tensor
      throw Napi::TypeError::New(env, op.name + ": argument '" + a.name + "' must be a Tensor, got undefined");
    } else if (a.hasDefault) {
      stack.push_back(a.dflt);
    } else {
      throw Napi::TypeError::New(env, op.name + ": missing required argument '" + a.name + "'");
    }
  }
}

Napi::Value fromIValue(napi_env env, EnvData& d, const c10::IValue& v) {
  if (v.isTensor()) {
    const at::Tensor& t = v.toTensor();
    return t.defined() ? Napi::Value(env, wrap(d, env, t)) : Napi::Env(env).Null();
  }
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) arr.Set(i, Napi::Value(env, wrap(d, env, list.get(i))));
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
  if (v.isNone()) return Napi::Env(env).Undefined();
  throw Napi::Error::New(env, "op returned an unsupported value of type " + v.tagKind());
}

// "aten::add.Tensor([2, 3] Float, [3] Float)" for error messages, rebuilt from the JS arguments
// (only when a call failed, so that a successful call keeps no copy of its inputs)
std::string callSignature(napi_env env, EnvData& d, const OpEntry& op, Args info) {
  torch::jit::Stack inputs;
  try {
    pushArgs(env, d, op, info, inputs);
  } catch (const std::exception&) {
    return op.full + "(...)";
  }
  std::string s = op.full + "(";
  for (size_t i = 0; i < inputs.size(); i++) {
    if (i) s += ", ";
    const auto& v = inputs[i];
    if (v.isTensor()) {
      s += describe(v.toTensor());
    } else if (v.isTensorList()) {
      s += "[";
      auto list = v.toTensorList();
      for (size_t j = 0; j < list.size(); j++) s += (j ? ", " : "") + describe(list.get(j));
      s += "]";
    } else if (v.isNone()) {
      s += "None";
    } else {
      std::ostringstream o;
      o << v;
      s += o.str();
    }
  }
  return s + ")";
}

OpTable& table(EnvData& d) {
  if (d.ops == nullptr) d.ops = new OpTable();  // never freed, as EnvData
  return *d.ops;
}

const OpEntry& entry(napi_env env, Args info, EnvData& d) {
  uint32_t id = 0;
  const auto& ops = table(d).entries;
  if (info.n == 0 || napi_get_value_uint32(env, info.v[0], &id) != napi_ok || id >= ops.size())
    throw Napi::RangeError::New(env, "'id' is not a resolved op");
  return ops[id];
}

// resolveOp(name, overload) -> id
Napi::Value ResolveOp(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  EnvData& d = *static_cast<EnvData*>(info.Data());
  std::string name = info[0].As<Napi::String>();
  std::string overload = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  auto op = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!op) throw Napi::Error::New(env, "op '" + name + (overload.empty() ? "" : "." + overload) +
                                           "' is not in this libtorch; check the op table in src/binding/ops.ts");
  OpEntry e{*op, name, overload.empty() ? name : name + "." + overload, {}};
  for (const auto& a : op->schema().arguments()) e.args.push_back(boxed::specOf(a));
  auto& ops = table(d).entries;
  ops.push_back(std::move(e));
  return Napi::Number::New(env, static_cast<double>(ops.size() - 1));
}

// schema(id) -> string, for docs and debugging
Napi::Value Schema(const Napi::CallbackInfo& info) {
  napi_value id = info[0];
  const OpEntry& op = entry(info.Env(), {&id, info.Length() > 0 ? 1u : 0u}, *static_cast<EnvData*>(info.Data()));
  std::ostringstream o;
  o << op.op.schema();
  return Napi::String::New(info.Env(), o.str());
}

// call(id, ...args) -> result | result[]
napi_value call(napi_env env, EnvData& d, Args info) {
  const OpEntry& op = entry(env, info, d);
  size_t given = info.n - 1;
  if (given > op.args.size())
    throw Napi::RangeError::New(env, op.name + " takes at most " + std::to_string(op.args.size()) +
                                         " arguments, got " + std::to_string(given));
  OpTable& t = table(d);
  torch::jit::Stack local;
  torch::jit::Stack& stack = t.busy ? local : t.stack;  // (re-entry cannot happen today; stay correct if it does)
  struct Release {  // empty the stack on every exit, so no tensor outlives its handle through it
    OpTable& t;
    torch::jit::Stack& s;
    bool was;
    ~Release() { s.clear(); t.busy = was; }
  } release{t, stack, t.busy};
  t.busy = true;
  stack.reserve(op.args.size());
  pushArgs(env, d, op, info, stack);
  try {
    op.op.callBoxed(&stack);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, callSignature(env, d, op, info) + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, callSignature(env, d, op, info) + ": " + e.what());
  }
  if (stack.size() == 1 && stack[0].isTensor()) {  // the common case: one tensor, moved into its handle
    at::Tensor r = std::move(stack[0]).toTensor();
    return r.defined() ? wrap(d, env, std::move(r)) : Napi::Env(env).Null();
  }
  if (stack.size() == 1) return fromIValue(env, d, stack[0]);
  auto arr = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); i++) arr.Set(i, fromIValue(env, d, stack[i]));
  return arr;
}

// call() is a plain N-API callback (not node-addon-api's wrapper, which reads the arguments twice)
napi_value Call(napi_env env, napi_callback_info cb) {
  constexpr size_t kInline = 16;
  napi_value inline_[kInline];
  size_t n = kInline;
  void* data = nullptr;
  napi_get_cb_info(env, cb, &n, inline_, nullptr, &data);
  std::vector<napi_value> more;
  const napi_value* argv = inline_;
  if (n > kInline) {
    more.resize(n);
    napi_get_cb_info(env, cb, &n, more.data(), nullptr, nullptr);
    argv = more.data();
  }
  try {
    return call(env, *static_cast<EnvData*>(data), {argv, n});
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

}  // namespace

void initDispatch(Napi::Env env, Napi::Object exports) {
  EnvData* d = &envData(env);
  table(*d);
  exports.Set("resolveOp", Napi::Function::New(env, ResolveOp, "resolveOp", d));
  exports.Set("schema", Napi::Function::New(env, Schema, "schema", d));
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, "call", NAPI_AUTO_LENGTH, Call, d, &fn));
  exports.Set("call", fn);
}

}  // namespace earmark
