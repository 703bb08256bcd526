// re2.cc — the vigil_re2 companion: RE2, whose matching is linear in the
// input, so that no pattern can hang a server (see api.h).
#include <re2/re2.h>

#include <new>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

void* Compile(const char* pattern, size_t len) {
  RE2::Options options;
  options.set_log_errors(false);
  return new (std::nothrow) RE2(re2::StringPiece(pattern, len), options);
}

const char* Error(const void* re) {
  const auto* r = static_cast<const RE2*>(re);
  return r->ok() ? nullptr : r->error().c_str();
}

int PartialMatch(const void* re, const char* text, size_t len) {
  const auto* r = static_cast<const RE2*>(re);
  if (!r->ok()) return -1;
  return RE2::PartialMatch(re2::StringPiece(text, len), *r) ? 1 : 0;
}

void Release(void* re) { delete static_cast<RE2*>(re); }

constexpr VigilRe2Api kApi = {1, Compile, Error, PartialMatch, Release};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilRe2Api* vigil_re2_api(void) { return &kApi; }
