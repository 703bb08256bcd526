// phone.cc — telephone numbers (SPEC §1, phone), checked by libphonenumber
// in the vigil_phone companion module, loaded on the first call
// (companions/api.h).
//
// vigil_is_phone(text) accepts only the canonical E.164 string ("+" and up to
// 15 digits, nothing else) of a number libphonenumber deems valid for its
// country; vigil_is_phone(text, region) parses national or formatted input
// the way a user types it for that region.
#include <string>

#include "base/companion.h"
#include "base/error.h"
#include "base/text.h"
#include "companions/api.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

constexpr std::size_t kMaxPhoneInput = 250;  // libphonenumber's own limit

// Loaded once (a function-local static: thread-safe, retried if it threw).
const VigilPhoneApi& Phone() {
  static const VigilPhoneApi& api = companion::Require<VigilPhoneApi>("vigil_phone", "vigil_phone_api", 1);
  return api;
}

}  // namespace

Reason CheckPhoneE164(std::string_view s) {
  if (s.empty()) return "empty";
  if (s.size() > 16) return "E.164 numbers have at most 15 digits";
  if (s[0] != '+') return "E.164 form must start with +";
  if (s.size() < 3) return "too short";
  for (std::size_t i = 1; i < s.size(); ++i)
    if (!text::IsDigit(s[i])) return "E.164 form allows only digits after +";
  if (s[1] == '0') return "country codes do not start with 0";
  return Phone().check_e164(s.data(), s.size());
}

Reason CheckPhoneInRegion(std::string_view s, std::string_view region) {
  std::string reg(region);
  for (char& c : reg)
    if (text::IsLower(c)) c = static_cast<char>(c - 32);
  if (reg.size() != 2 || !text::IsAlpha(reg[0]) || !text::IsAlpha(reg[1]) || !Phone().known_region(reg.c_str()))
    throw Error(ErrorCode::kInvalidParameter, "unknown phone region \"" + text::Printable(region, 16) + "\"", {},
                "Use an ISO 3166-1 alpha-2 code such as US, GB or DE.");
  if (s.empty()) return "empty";
  if (s.size() > kMaxPhoneInput) return "longer than 250 characters";
  if (!text::IsValidUtf8(s)) return "invalid UTF-8";
  return Phone().check_in_region(s.data(), s.size(), reg.c_str());
}

}  // namespace vigil::core
