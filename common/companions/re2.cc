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

int ProgramSize(const void* re) {
  const auto* r = static_cast<const RE2*>(re);
  return r->ok() ? r->ProgramSize() : -1;
}

constexpr VigilRe2Api kApiV1 = {1, Compile, Error, PartialMatch, Release, nullptr};
constexpr VigilRe2Api kApi = {VIGIL_RE2_API_VERSION, Compile, Error, PartialMatch, Release, ProgramSize};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilRe2Api* vigil_re2_api(void) { return &kApiV1; }
extern "C" __attribute__((visibility("default"))) const VigilRe2Api* vigil_re2_api_v2(void) { return &kApi; }
