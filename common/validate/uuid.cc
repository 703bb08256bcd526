// uuid.cc — RFC 9562 text form (SPEC §1, uuid).
//
// 8-4-4-4-12 hexadecimal digits, either case; the Nil and Max UUIDs are
// valid. Any version and variant nibble is accepted: RFC 9562 §4 defines the
// text form independently of them, and vigil_uuid_version() reports the
// version for callers that care.
#include "base/text.h"
#include "base/error.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {

Reason CheckUuid(std::string_view s) noexcept {
  if (s.size() != 36) return "expected 36 characters in 8-4-4-4-12 form";
  for (std::size_t i = 0; i < 36; ++i) {
    unsigned char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return "expected hyphens at positions 9, 14, 19 and 24";
    } else if (!text::IsHex(c)) {
      return "non-hexadecimal character";
    }
  }
  return nullptr;
}

int UuidVersion(std::string_view s) {
  if (Reason r = CheckUuid(s)) {
    throw Error(ErrorCode::kInvalidText, "invalid uuid", std::string("uuid: ") + r);
  }
  return text::HexValue(s[14]);
}

}  // namespace vigil::core
