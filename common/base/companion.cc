// companion.cc — finding, opening and keeping companion modules.
#include "base/companion.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <mutex>

#include "base/core_guard.h"

namespace vigil::core::companion {
namespace {

std::mutex mutex;
char directory[PATH_MAX];  // guarded by mutex; "" until anchored
bool anchored = false;

struct Loaded {
  const char* name;
  const void* api;
};
Loaded loaded[8];  // guarded by mutex; never unloaded
int nloaded = 0;
char last_error[256];

void AnchorLocked() {
  if (anchored) return;
  anchored = true;
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&Anchor), &info) == 0 || info.dli_fname == nullptr) return;
  char real[PATH_MAX];
  if (realpath(info.dli_fname, real) == nullptr) return;
  char* slash = std::strrchr(real, '/');
  if (slash == nullptr) return;
  *slash = '\0';
  std::snprintf(directory, sizeof(directory), "%s", real);
}

}  // namespace

void Anchor() noexcept {
  std::lock_guard<std::mutex> lock(mutex);
  AnchorLocked();
}

void AnchorAt(const char* dir) noexcept {
  std::lock_guard<std::mutex> lock(mutex);
  if (anchored) return;
  anchored = true;
  std::snprintf(directory, sizeof(directory), "%s", dir);
}

const void* Find(const char* name, const char* entry, EntryCall call, const char** why) noexcept {
  std::lock_guard<std::mutex> lock(mutex);
  for (int i = 0; i < nloaded; ++i)
    if (std::strcmp(loaded[i].name, name) == 0) return loaded[i].api;
  AnchorLocked();
  if (directory[0] == '\0') {
    *why = "the directory of vigil's module is unknown";
    return nullptr;
  }
  char path[PATH_MAX];
  if (static_cast<std::size_t>(std::snprintf(path, sizeof(path), "%s/%s.so", directory, name)) >= sizeof(path)) {
    *why = "the path is too long";
    return nullptr;
  }
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* e = dlerror();
    std::snprintf(last_error, sizeof(last_error), "%s", e != nullptr ? e : "dlopen failed");
    *why = last_error;
    return nullptr;
  }
  void* fn = dlsym(handle, entry);
  const void* api = fn != nullptr ? call(fn) : nullptr;
  if (api == nullptr) {
    *why = "it has no entry point";
    return nullptr;  // the handle stays open: never unloaded
  }
  if (nloaded < static_cast<int>(sizeof(loaded) / sizeof(loaded[0]))) loaded[nloaded++] = {name, api};
  return api;
}

}  // namespace vigil::core::companion
