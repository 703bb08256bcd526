// phone.cc — the vigil_phone companion: telephone numbers through
// libphonenumber (see api.h), whose ICU, protobuf and abseil stack is the
// heaviest load vigil has. The PhoneNumberUtil singleton is created on first
// use and is safe to share between threads.
#include <phonenumbers/phonenumberutil.h>

#include <set>
#include <string>

#include "companions/api.h"
#include "base/core_guard.h"

namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// CheckE164 is the libphonenumber half of vigil_is_phone(text): the core
// has already checked the canonical "+digits" shape (validate/phone.cc), so
// only what needs the library is left.
const char* CheckE164(const char* p, size_t len) {
  try {
    std::string s(p, len);
    PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util->Parse(s, "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR) return "not a phone number";
    if (!util->IsValidNumber(number)) return "not a valid number for its country";
    std::string canonical;
    util->Format(number, PhoneNumberUtil::E164, &canonical);
    if (canonical != s) return "not in canonical E.164 form";
    return nullptr;
  } catch (...) {  // nothing may cross the C interface
    return "phone number check failed";
  }
}

int KnownRegion(const char* region) {
  try {
    PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    static const std::set<std::string> regions = [util] {
      std::set<std::string> r;
      util->GetSupportedRegions(&r);
      return r;
    }();
    return regions.count(region) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

const char* CheckInRegion(const char* p, size_t len, const char* region) {
  try {
    PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util->Parse(std::string(p, len), region, &number) != PhoneNumberUtil::NO_PARSING_ERROR)
      return "not a phone number";
    if (!util->IsValidNumber(number)) return "not a valid number for its country";
    return nullptr;
  } catch (...) {
    return "phone number check failed";
  }
}

constexpr VigilPhoneApi kApi = {1, CheckE164, KnownRegion, CheckInRegion};

}  // namespace

extern "C" __attribute__((visibility("default"))) const VigilPhoneApi* vigil_phone_api(void) { return &kApi; }
