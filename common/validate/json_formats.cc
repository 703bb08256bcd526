// json_formats.cc — interim format checks.
#include "validate/json_formats.h"
#include <string>
#include "base/core_guard.h"
namespace vigil::core {
Reason CheckSchemaFormat(std::string_view format, std::string_view s, bool* known) {
  *known = true;
  auto has_zone = [&](std::string_view t) {
    return !t.empty() && (t.back() == 'Z' || t.back() == 'z' ||
                          (t.size() > 6 && (t[t.size() - 6] == '+' || t[t.size() - 6] == '-')));
  };
  if (format == "email" || format == "idn-email") return CheckEmail(s);
  if (format == "uuid") return CheckUuid(s);
  if (format == "ipv4") return CheckIpv4(s);
  if (format == "ipv6") return CheckIpv6(s);
  if (format == "date") return s.size() == 10 ? CheckIso8601(s) : "expected YYYY-MM-DD";
  if (format == "date-time") {
    if (s.size() < 20 || (s[10] != 'T' && s[10] != 't') || s[4] != '-' || s[16] != ':' || !has_zone(s))
      return "expected an RFC 3339 date-time";
    return CheckIso8601(s);
  }
  if (format == "time") {
    if (s.size() < 9 || s[2] != ':' || s[5] != ':' || !has_zone(s)) return "expected an RFC 3339 time";
    return CheckIso8601(s);
  }
  if (format.rfind("vigil:", 0) == 0) {
    const KindInfo* kind = FindKind(format.substr(6));
    if (kind != nullptr) return kind->check(s);
  }
  *known = false;
  return nullptr;
}
}  // namespace vigil::core
