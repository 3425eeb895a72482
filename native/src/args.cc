// Schema arguments and the conversion of JS values to IValues (see args.h).
#include "args.h"
#include <cmath>
#include <vector>

namespace earmark {
namespace boxed {

napi_valuetype typeOf(napi_env env, napi_value v) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  return t;
}

namespace {

Kind scalarKind(c10::TypeKind k) {
  switch (k) {
    case c10::TypeKind::TensorType: return Kind::Tensor;
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
    case c10::TypeKind::ScalarTypeType:  // dtype, layout and memory format travel as integer codes
    case c10::TypeKind::LayoutType:
    case c10::TypeKind::MemoryFormatType: return Kind::Int;
    case c10::TypeKind::FloatType: return Kind::Float;
    case c10::TypeKind::BoolType: return Kind::Bool;
    case c10::TypeKind::NumberType: return Kind::Scalar;
    case c10::TypeKind::StringType: return Kind::String;
    case c10::TypeKind::DeviceObjType: return Kind::Device;
    case c10::TypeKind::GeneratorType: return Kind::Generator;
    default: return Kind::Unsupported;
  }
}

Kind listKind(const c10::TypePtr& elem) {
  switch (scalarKind(elem->kind())) {
    case Kind::Int: return Kind::IntList;
    case Kind::Float: return Kind::FloatList;
    case Kind::Bool: return Kind::BoolList;
    case Kind::Tensor: return Kind::TensorList;
    default: break;
  }
  if (elem->kind() == c10::TypeKind::OptionalType &&
      elem->castRaw<c10::OptionalType>()->getElementType()->kind() == c10::TypeKind::TensorType)
    return Kind::OptTensorList;
  return Kind::UnsupportedList;
}

}  // namespace

ArgSpec specOf(const c10::Argument& a) {
  ArgSpec s;
  s.name = a.name();
  s.type = a.type()->str();
  if (a.default_value()) {
    s.hasDefault = true;
    s.dflt = *a.default_value();
  }
  if (a.N()) s.n = static_cast<int32_t>(*a.N());
  c10::TypePtr t = a.type();
  if (t->kind() == c10::TypeKind::OptionalType) {
    s.optional = true;
    t = t->castRaw<c10::OptionalType>()->getElementType();
  }
  s.kind = t->kind() == c10::TypeKind::ListType ? listKind(t->castRaw<c10::ListType>()->getElementType())
                                                : scalarKind(t->kind());
  return s;
}

namespace {

[[noreturn]] void badArg(napi_env env, const std::string& op, const ArgSpec& a, const std::string& want) {
  throw Napi::TypeError::New(env, op + ": argument '" + a.name + "' must be " + want);
}

int64_t toInt(napi_env env, napi_value v) {
  int64_t x = 0;
  napi_get_value_int64(env, v, &x);
  return x;
}

double toDouble(napi_env env, napi_value v) {
  double x = 0;
  napi_get_value_double(env, v, &x);
  return x;
}

std::string toString(napi_env env, napi_value v) {
  size_t n = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &n);
  std::string s(n, '\0');
  napi_get_value_string_utf8(env, v, &s[0], n + 1, &n);
  return s;
}

c10::IValue convertList(napi_env env, EnvData& d, const std::string& op, const ArgSpec& a, napi_value v,
                        napi_valuetype t) {
  // a single number for `int[2]` means "the same in every dimension", as in TorchScript
  if (t == napi_number && a.kind == Kind::IntList && a.n >= 0) {
    return c10::IValue(std::vector<int64_t>(static_cast<size_t>(a.n), toInt(env, v)));
  }
  bool isArray = false;
  napi_is_array(env, v, &isArray);
  if (!isArray) badArg(env, op, a, "an array");
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  auto at = [&](uint32_t i) {
    napi_value x;
    napi_get_element(env, v, i, &x);
    return x;
  };
  switch (a.kind) {
    case Kind::IntList: {
      std::vector<int64_t> out(n);
      for (uint32_t i = 0; i < n; i++) {
        napi_value x = at(i);
        if (typeOf(env, x) != napi_number) badArg(env, op, a, "an array of integers");
        out[i] = toInt(env, x);
      }
      return c10::IValue(std::move(out));
    }
    case Kind::FloatList: {
      std::vector<double> out(n);
      for (uint32_t i = 0; i < n; i++) {
        napi_value x = at(i);
        if (typeOf(env, x) != napi_number) badArg(env, op, a, "an array of numbers");
        out[i] = toDouble(env, x);
      }
      return c10::IValue(std::move(out));
    }
    case Kind::BoolList: {
      c10::List<bool> out;
      for (uint32_t i = 0; i < n; i++) {
        napi_value b;
        bool x = false;
        napi_coerce_to_bool(env, at(i), &b);
        napi_get_value_bool(env, b, &x);
        out.push_back(x);
      }
      return c10::IValue(std::move(out));
    }
    case Kind::TensorList: {
      c10::List<at::Tensor> out;
      out.reserve(n);
      for (uint32_t i = 0; i < n; i++) out.push_back(unwrap(d, env, at(i), a.name.c_str()));
      return c10::IValue(std::move(out));
    }
    case Kind::OptTensorList: {
      // a list typed Tensor?[] without naming the optional type (c10::optional in 1.13, std::optional in 2.x)
      c10::impl::GenericList out(c10::OptionalType::create(c10::TensorType::get()));
      out.reserve(n);
      for (uint32_t i = 0; i < n; i++) {
        napi_value x = at(i);
        napi_valuetype xt = typeOf(env, x);
        if (xt == napi_null || xt == napi_undefined) out.push_back(c10::IValue());
        else out.push_back(c10::IValue(unwrap(d, env, x, a.name.c_str())));
      }
      return c10::IValue(std::move(out));
    }
    default:
      badArg(env, op, a, "a supported list (got schema type " + a.type + ")");
  }
}

}  // namespace

c10::IValue convert(napi_env env, EnvData& d, const std::string& op, const ArgSpec& a, napi_value v, napi_valuetype t) {
  if (a.optional && (t == napi_null || t == napi_undefined)) return c10::IValue();
  switch (a.kind) {
    case Kind::Tensor:
      return c10::IValue(unwrap(d, env, v, t, a.name.c_str()));
    case Kind::Int:
      if (t != napi_number) badArg(env, op, a, "an integer");
      return c10::IValue(toInt(env, v));
    case Kind::Float:
      if (t != napi_number) badArg(env, op, a, "a number");
      return c10::IValue(toDouble(env, v));
    case Kind::Bool: {
      if (t != napi_boolean) badArg(env, op, a, "a boolean");
      bool b = false;
      napi_get_value_bool(env, v, &b);
      return c10::IValue(b);
    }
    case Kind::Scalar: {
      if (t == napi_boolean) {
        bool b = false;
        napi_get_value_bool(env, v, &b);
        return c10::IValue(at::Scalar(b));
      }
      if (t != napi_number) badArg(env, op, a, "a number");
      double x = toDouble(env, v);
      // integral JS numbers stay integral so int64 tensors are not promoted to float
      if (std::abs(x) < 9007199254740992.0 && x == static_cast<double>(static_cast<int64_t>(x)))
        return c10::IValue(at::Scalar(static_cast<int64_t>(x)));
      return c10::IValue(at::Scalar(x));
    }
    case Kind::String:
      if (t != napi_string) badArg(env, op, a, "a string");
      return c10::IValue(toString(env, v));
    case Kind::Device: {
      if (t != napi_string) badArg(env, op, a, "a device string such as 'cpu' or 'cuda:0'");
      std::string dev = toString(env, v);
      try {
        return c10::IValue(c10::Device(dev));
      } catch (const c10::Error&) {
        badArg(env, op, a, "a device string such as 'cpu', 'cuda' or 'cuda:0' (got '" + dev + "')");
      }
    }
    case Kind::Generator:
      return c10::IValue();  // the default generator, seeded by manualSeed()
    case Kind::Unsupported:
      badArg(env, op, a, "a supported type (schema type " + a.type + ")");
    default:
      return convertList(env, d, op, a, v, t);
  }
}

}  // namespace boxed
}  // namespace earmark
