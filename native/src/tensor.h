#pragma once
#include <napi.h>
namespace earmark {
void initTensor(Napi::Env env, Napi::Object exports);
}
