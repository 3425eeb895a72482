// Schema arguments of a boxed ATen op, read once when the op is resolved (ArgSpec), and the
// conversion of one JS value to the IValue that argument takes. Calls then only switch on a small
// kind per argument: no schema walk, type-pointer chasing or string building per call.
// Source-compatible with libtorch 1.13 and 2.x: SymInt and SymInt[] take plain integers (2.x's boxed
// wrappers accept int lists for SymIntArrayRef), and no optional type is named (c10::optional in 1.13 is
// std::optional in 2.x): Tensor?[] lists are built as generic lists typed Optional[Tensor].
#pragma once
#include "handle.h"
#include <ATen/core/function_schema.h>
#include <ATen/core/ivalue.h>
#include <string>

namespace earmark {
namespace boxed {

enum class Kind : uint8_t {
  Tensor, Int, Float, Bool, Scalar, String, Device, Generator,
  IntList, FloatList, BoolList, TensorList, OptTensorList, Unsupported, UnsupportedList,
};

// One schema argument.
struct ArgSpec {
  Kind kind = Kind::Unsupported;
  bool optional = false;  // `T?`: null and undefined mean None
  int32_t n = -1;         // `int[2]`: a single number stands for N equal entries
  bool hasDefault = false;
  c10::IValue dflt;
  std::string name;
  std::string type;  // the schema type, for error messages
};

ArgSpec specOf(const c10::Argument& a);

// `v` (of JS type `t`, not undefined) as argument `a` of op `opName`; TypeError naming both if it does not fit.
c10::IValue convert(napi_env env, EnvData& d, const std::string& opName, const ArgSpec& a, napi_value v,
                    napi_valuetype t);

napi_valuetype typeOf(napi_env env, napi_value v);

}  // namespace boxed
}  // namespace earmark
