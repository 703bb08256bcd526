// audit_canonical.cc — fuzz target: the audit trail's canonical encoder
// (audit/canonical.cc). Input: JSON text. Invariants: encoding is
// deterministic and does not depend on how the value is spelled (the same
// value re-serialised by nlohmann encodes to the same bytes), and a
// canonical number is its own canonical form.
#include <nlohmann/json.hpp>
#include <optional>

#include "audit/canonical.h"
#include "base/json.h"
#include "fuzz.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::Text(data, size);
  {
    std::optional<std::string> fast, reference;
    fuzz::Expected([&] { fast = core::audit::Encode(text); });
    fuzz::Expected([&] { reference = core::audit::EncodeReference(text); });
    // The fast path reads a superset (exponents a double cannot hold):
    // where both encode, the bytes agree; Encode never refuses what the
    // reference encodes (it falls back to it).
    if (fast && reference && *fast != *reference) __builtin_trap();
    if (!fast && reference) __builtin_trap();
  }
  fuzz::Expected([&] {
    std::string encoded = core::audit::Encode(text);
    core::json_in::Numbers numbers;
    nlohmann::json v = core::json_in::ParseInput(text, "fuzz", &numbers);
    // Dump keeps number spellings; the encoding of the re-serialised value
    // must not differ.
    if (core::audit::Encode(core::json_in::Dump(v, numbers)) != encoded) __builtin_trap();
    if (core::audit::RowDigest(text) != core::audit::RowDigest(text)) __builtin_trap();
  });
  fuzz::Expected([&] {
    std::string c = core::audit::CanonicalNumber(text);
    if (core::audit::CanonicalNumber(c) != c) __builtin_trap();
  });
  return 0;
}
