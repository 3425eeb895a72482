#pragma once
#include <napi.h>
namespace earmark {
void initC10d(Napi::Env env, Napi::Object exports);
}
