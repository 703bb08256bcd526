// regex.h — the core's regular expressions: RE2 (linear-time, so that no
// pattern can hang a server) in the vigil_re2 companion module, loaded on
// first use. Move-only; the compiled pattern lives in the companion.
#pragma once

#include <string>
#include <string_view>

namespace vigil::core {

class Regex {
 public:
  // Compile throws Error(kPrerequisite) when the companion is missing; a
  // pattern that does not compile gives a Regex whose ok() is false.
  static Regex Compile(std::string_view pattern);
  Regex(Regex&& other) noexcept : api_(other.api_), re_(other.re_) { other.re_ = nullptr; }
  Regex& operator=(Regex&& other) noexcept;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex();

  bool ok() const noexcept;
  std::string error() const;
  // ProgramSize is the compiled program's size in instructions (what its
  // memory follows), -1 when it did not compile.
  int ProgramSize() const noexcept;
  // PartialMatch is an unanchored search.
  bool PartialMatch(std::string_view text) const noexcept;

 private:
  Regex(const void* api, void* re) : api_(api), re_(re) {}
  const void* api_;  // the companion's VigilRe2Api, loaded before any Regex exists
  void* re_;
};

}  // namespace vigil::core
