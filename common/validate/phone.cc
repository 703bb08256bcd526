// phone.cc — telephone numbers through libphonenumber (SPEC §1, phone).
//
// vigil_is_phone(text) accepts only the canonical E.164 string ("+" and up to
// 15 digits, nothing else) of a number libphonenumber deems valid for its
// country; vigil_is_phone(text, region) parses national or formatted input
// the way a user types it for that region. The PhoneNumberUtil singleton is
// created on first use and is safe to share between threads.
#include <phonenumbers/phonenumberutil.h>

#include <set>
#include <string>

#include "base/text.h"
#include "base/error.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr std::size_t kMaxPhoneInput = 250;  // libphonenumber's own limit

}  // namespace

Reason CheckPhoneE164(std::string_view s) {
  if (s.empty()) return "empty";
  if (s.size() > 16) return "E.164 numbers have at most 15 digits";
  if (s[0] != '+') return "E.164 form must start with +";
  if (s.size() < 3) return "too short";
  for (std::size_t i = 1; i < s.size(); ++i)
    if (!text::IsDigit(s[i])) return "E.164 form allows only digits after +";
  if (s[1] == '0') return "country codes do not start with 0";
  PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util->Parse(std::string(s), "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR)
    return "not a phone number";
  if (!util->IsValidNumber(number)) return "not a valid number for its country";
  std::string canonical;
  util->Format(number, PhoneNumberUtil::E164, &canonical);
  if (canonical != s) return "not in canonical E.164 form";
  return nullptr;
}

Reason CheckPhoneInRegion(std::string_view s, std::string_view region) {
  PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
  std::string reg(region);
  for (char& c : reg)
    if (text::IsLower(c)) c = static_cast<char>(c - 32);
  static const std::set<std::string> regions = [util] {
    std::set<std::string> r;
    util->GetSupportedRegions(&r);
    return r;
  }();
  if (reg.size() != 2 || regions.count(reg) == 0) {
    throw Error(ErrorCode::kInvalidParameter, "unknown phone region \"" + text::Printable(region, 16) + "\"",
                {}, "Use an ISO 3166-1 alpha-2 code such as US, GB or DE.");
  }
  if (s.empty()) return "empty";
  if (s.size() > kMaxPhoneInput) return "longer than 250 characters";
  if (!text::IsValidUtf8(s)) return "invalid UTF-8";
  PhoneNumber number;
  if (util->Parse(std::string(s), reg, &number) != PhoneNumberUtil::NO_PARSING_ERROR)
    return "not a phone number";
  if (!util->IsValidNumber(number)) return "not a valid number for its country";
  return nullptr;
}

}  // namespace vigil::core
