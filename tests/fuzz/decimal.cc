// decimal.cc — fuzz target: Decimal::Parse (base/decimal.h), the exact
// numbers of the rules.
//
// Input: one number, or two split by a NUL. Invariants: Compare is
// antisymmetric and reflexive; a short ToString reads back as the same
// value.
#include <string>

#include "base/decimal.h"
#include "fuzz.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto parts = fuzz::Split(fuzz::Text(data, size), 2);
  auto a = core::Decimal::Parse(parts[0]);
  if (!a) return 0;
  fuzz::Check(core::Decimal::Compare(*a, *a) == 0, "a number differs from itself");
  (void)a->ToDouble();
  (void)a->FitsInt64();
  fuzz::Check(a->IntegerDigits() >= 0 && a->FractionDigits() >= 0, "negative digit counts");
  std::string s = a->ToString();
  // A short spelling reads back as the same value (one whose exponent went
  // past kMaxExponent, "10000e1000000" -> "1e1000004", does not read back).
  if (s.find("...") == std::string::npos) {
    if (auto back = core::Decimal::Parse(s)) fuzz::Check(*back == *a, "ToString reads back as another number");
  }
  if (parts.size() > 1) {
    if (auto b = core::Decimal::Parse(parts[1]))
      fuzz::Check(core::Decimal::Compare(*a, *b) == -core::Decimal::Compare(*b, *a), "Compare is not antisymmetric");
  }
  return 0;
}
