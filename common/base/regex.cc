// regex.cc — Regex over the vigil_re2 companion (see regex.h).
#include "base/regex.h"

#include <new>

#include "base/companion.h"
#include "base/error.h"
#include "companions/api.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

const VigilRe2Api* Api(const void* p) { return static_cast<const VigilRe2Api*>(p); }

}  // namespace

Regex Regex::Compile(std::string_view pattern) {
  static const VigilRe2Api& api =
      companion::Require<VigilRe2Api>("vigil_re2", VIGIL_RE2_API_ENTRY, VIGIL_RE2_API_VERSION);
  void* re = api.compile(pattern.data(), pattern.size());
  if (re == nullptr) throw std::bad_alloc();
  return Regex(&api, re);
}

Regex& Regex::operator=(Regex&& other) noexcept {
  if (this != &other) {
    if (re_ != nullptr) Api(api_)->release(re_);
    api_ = other.api_;
    re_ = other.re_;
    other.re_ = nullptr;
  }
  return *this;
}

Regex::~Regex() {
  if (re_ != nullptr) Api(api_)->release(re_);
}

bool Regex::ok() const noexcept { return re_ != nullptr && Api(api_)->error(re_) == nullptr; }

std::string Regex::error() const {
  const char* e = re_ != nullptr ? Api(api_)->error(re_) : "no pattern";
  return e != nullptr ? e : "";
}

int Regex::ProgramSize() const noexcept { return re_ != nullptr ? Api(api_)->program_size(re_) : -1; }

bool Regex::PartialMatch(std::string_view text) const noexcept {
  return re_ != nullptr && Api(api_)->partial_match(re_, text.data(), text.size()) == 1;
}

}  // namespace vigil::core
