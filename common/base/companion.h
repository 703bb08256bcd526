// companion.h — loading a companion module the first time it is needed
// (companions/api.h says why they exist).
//
// A companion is found in the directory of the module the core is linked
// into (vigil.so, or a test program), by a path fixed when that module was
// loaded (Anchor), never through an environment variable or user input;
// it is opened once per process and kept. Thread-safe.
#pragma once

#include <string>

#include "base/error.h"

namespace vigil::core::companion {

// Anchor records the directory of the module the core is linked into. The
// modules call it from their entry point, while the path they were loaded
// by still means what it meant (a relative .load path, before a chdir).
void Anchor() noexcept;

// AnchorAt fixes the directory instead, for a program (the vigil command)
// whose companions are installed beside the SQLite module, not beside it.
// Call it before anything needs a companion; later calls change nothing.
void AnchorAt(const char* directory) noexcept;

// EntryCall calls a companion's entry point, as dlsym found it, and returns
// its API table. CallEntry<Api> calls it as the function it is,
// `const Api* (*)()`: calling it through any other function type is
// undefined behaviour (clang's -fsanitize=function reports it).
using EntryCall = const void* (*)(void* entry) noexcept;
template <typename Api>
const void* CallEntry(void* entry) noexcept {
  return reinterpret_cast<const Api* (*)()>(entry)();
}

// Find returns the companion's API table (its entry point called through
// `call`), or nullptr with `*why` set to a static description of the
// failure.
const void* Find(const char* name, const char* entry, EntryCall call, const char** why) noexcept;

// Require returns the API, or throws Error(kPrerequisite) naming the
// missing module.
template <typename Api>
const Api& Require(const char* name, const char* entry, unsigned version) {
  const char* why = nullptr;
  const auto* api = static_cast<const Api*>(Find(name, entry, &CallEntry<Api>, &why));
  if (api != nullptr && api->version != version) {
    api = nullptr;
    why = "it is of another vigil release";
  }
  if (api == nullptr)
    throw Error(ErrorCode::kPrerequisite, std::string("vigil's companion module ") + name + ".so could not be loaded: " + why,
                {}, std::string("It belongs beside vigil.so (the packages install it); reinstall vigil."));
  return *api;
}

// Try is Require for code that cannot throw (the validators): nullptr when
// the companion cannot be had.
template <typename Api>
const Api* Try(const char* name, const char* entry, unsigned version) noexcept {
  const char* why = nullptr;
  const auto* api = static_cast<const Api*>(Find(name, entry, &CallEntry<Api>, &why));
  return api != nullptr && api->version == version ? api : nullptr;
}

}  // namespace vigil::core::companion
