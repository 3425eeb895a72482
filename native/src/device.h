#pragma once
#include <napi.h>
namespace earmark {
void initDevice(Napi::Env env, Napi::Object exports);
}
