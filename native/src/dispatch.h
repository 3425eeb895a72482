#pragma once
#include <napi.h>
namespace earmark {
void initDispatch(Napi::Env env, Napi::Object exports);
}
