#pragma once
#include <napi.h>
namespace earmark {
void initAutograd(Napi::Env env, Napi::Object exports);
void initRuntime(Napi::Env env, Napi::Object exports);
}
