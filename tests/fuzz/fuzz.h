// fuzz.h — what every libFuzzer target in tests/fuzz shares (issue 11).
//
// A target feeds the fuzzer's bytes to one core parser. vigil's core throws
// core::Error for bad input and std::bad_alloc when memory runs out: those
// are normal outcomes and Expected() swallows them. Anything else — another
// exception, a sanitizer report, a broken invariant (Check) — aborts, and
// libFuzzer records the input as a crash. Test code only: the lint rule
// against `catch` covers the engine adapters, where boundary.h catches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string_view>
#include <vector>

#include "base/companion.h"
#include "base/error.h"
#include "companions/api.h"

namespace vigil::fuzz {

// Expected runs `body`; core::Error and std::bad_alloc end it quietly.
template <typename Body>
void Expected(Body&& body) {
  try {
    body();
  } catch (const core::Error&) {
  } catch (const std::bad_alloc&) {
  }
}

// Check aborts with `what` when an invariant of the parser does not hold.
inline void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

// Text is the fuzzer's input as bytes.
inline std::string_view Text(const uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Split cuts `text` at its first `parts - 1` NUL bytes: "schema\0doc".
// Missing parts are absent from the result, so a seed can leave them out.
inline std::vector<std::string_view> Split(std::string_view text, std::size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    std::size_t nul = text.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(text.substr(0, nul));
    text.remove_prefix(nul + 1);
  }
  out.push_back(text);
  return out;
}

// RequireCompanions loads every companion module from the program's
// directory (Meson puts them beside the targets) and aborts when one is
// missing: without them the email, regex, phone, checksum and Ethereum paths
// would only ever answer "companion missing" and the run would prove little.
inline void RequireCompanions() {
  try {
    core::companion::Require<VigilOpensslApi>("vigil_openssl", VIGIL_OPENSSL_API_ENTRY, VIGIL_OPENSSL_API_VERSION);
    core::companion::Require<VigilRe2Api>("vigil_re2", VIGIL_RE2_API_ENTRY, VIGIL_RE2_API_VERSION);
    core::companion::Require<VigilIdn2Api>("vigil_idn2", VIGIL_IDN2_API_ENTRY, VIGIL_IDN2_API_VERSION);
    core::companion::Require<VigilKeccakApi>("vigil_keccak", "vigil_keccak_api", 1);
    core::companion::Require<VigilPhoneApi>("vigil_phone", "vigil_phone_api", 1);
  } catch (const core::Error& e) {
    std::fprintf(stderr, "fuzz: %s\n", e.what());
    std::abort();
  }
}

}  // namespace vigil::fuzz

// Every target loads the companions before the first input.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  vigil::fuzz::RequireCompanions();
  return 0;
}
