// json_formats.cc — the JSON Schema draft 2020-12 `format` checks.
//
// Each format follows the standard the specification names (draft 2020-12
// Validation §7.3): RFC 3339 for dates and times, RFC 5321/6531 for e-mail
// (vigil's email kind), RFC 1123 and IDNA 2008 for host names, RFC 3986 and
// RFC 3987 for URIs and IRIs, RFC 6570 for URI templates, RFC 6901 and the
// relative JSON pointer draft, ECMA-262 for regex, RFC 9562 for uuid. The
// table in docs/validation.md lists every choice.
//
// Design notes:
// - Every check is a single forward scan over the input (the regex check
//   keeps a stack of open groups on the heap, never the C++ stack), so no
//   input can take more than linear time or overflow the stack.
// - Bytes are checked as UTF-8 before anything else: a string that is not
//   UTF-8 is no string at all, whatever the format.
// - IDNA 2008 is libidn2's, in the vigil_idn2 companion (companions/api.h),
//   never a hand-written Punycode or Unicode table.
// - regex is checked against the ECMA-262 pattern grammar with the `u` flag
//   (the suite's dialect), syntax only: vigil's own `pattern` keyword runs
//   RE2, and nothing here compiles or runs a pattern.
#include "validate/json_formats.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "base/text.h"
#include "companions/api.h"
#include "validate/net.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using text::IsAlpha;
using text::IsDigit;
using text::IsHex;

// Digits2 reads two ASCII digits at s[i], or returns -1.
int Digits2(std::string_view s, std::size_t i) {
  if (i + 2 > s.size() || !IsDigit(s[i]) || !IsDigit(s[i + 1])) return -1;
  return (s[i] - '0') * 10 + (s[i + 1] - '0');
}

// DecodeUtf8 returns the code point at s[i] and its length in *len; the
// caller has checked that s is valid UTF-8.
std::uint32_t DecodeUtf8(std::string_view s, std::size_t i, std::size_t* len) {
  std::size_t n = text::Utf8SequenceLength(s, i);
  if (n == 0) n = 1;
  *len = n;
  auto b = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (n) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// ---------------------------------------------------------------- RFC 3339

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// FullDate checks RFC 3339 full-date at the start of s (exactly 10 bytes).
Reason FullDate(std::string_view s) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return "expected an RFC 3339 full-date (YYYY-MM-DD)";
  int hi = Digits2(s, 0), lo = Digits2(s, 2), month = Digits2(s, 5), day = Digits2(s, 8);
  if (hi < 0 || lo < 0 || month < 0 || day < 0) return "expected an RFC 3339 full-date (YYYY-MM-DD)";
  int year = hi * 100 + lo;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return "month out of range";
  int days = kDays[month - 1] + (month == 2 && IsLeapYear(year) ? 1 : 0);
  if (day < 1 || day > days) return "day out of range for its month";
  return nullptr;
}

// FullTime checks RFC 3339 full-time: partial-time time-offset. A leap
// second (60) is accepted only where it can occur: at 23:59 UTC.
Reason FullTime(std::string_view s) {
  const char* shape = "expected an RFC 3339 time (HH:MM:SS[.fraction] and Z or an offset)";
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') return shape;
  int hour = Digits2(s, 0), minute = Digits2(s, 3), second = Digits2(s, 6);
  if (hour < 0 || minute < 0 || second < 0) return shape;
  if (hour > 23) return "hour out of range";
  if (minute > 59) return "minute out of range";
  if (second > 60) return "second out of range";
  std::size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    std::size_t start = ++i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return "empty second fraction";
  }
  if (i >= s.size()) return "missing time offset (Z or +HH:MM)";
  int offset = 0;  // minutes east of UTC
  if ((s[i] | 0x20) == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh = Digits2(s, i + 1), om = Digits2(s, i + 4);
    if (i + 6 != s.size() || oh < 0 || om < 0 || s[i + 3] != ':') return "expected a time offset +HH:MM or -HH:MM";
    if (oh > 23 || om > 59) return "time offset out of range";
    offset = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  } else {
    return "missing time offset (Z or +HH:MM)";
  }
  if (i != s.size()) return shape;
  if (second == 60) {
    int utc = ((hour * 60 + minute - offset) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return "leap second not at 23:59 UTC";
  }
  return nullptr;
}

Reason CheckDate(std::string_view s) {
  if (s.size() != 10) return "expected an RFC 3339 full-date (YYYY-MM-DD)";
  return FullDate(s);
}

Reason CheckDateTime(std::string_view s) {
  if (s.size() < 11 || (s[10] | 0x20) != 't') return "expected an RFC 3339 date-time";
  if (Reason r = FullDate(s.substr(0, 10))) return r;
  return FullTime(s.substr(11));
}

// CheckDuration follows RFC 3339 Appendix A:
//   duration = "P" (dur-date / dur-time / dur-week)
//   dur-date = (dur-day / dur-month / dur-year) [dur-time]
//   dur-time = "T" (dur-hour / dur-minute / dur-second)
// where each unit may only be followed by the next smaller one
// (Y→M→D, H→M→S), and weeks stand alone.
Reason CheckDuration(std::string_view s) {
  const char* shape = "expected an RFC 3339 duration (P…Y…M…DT…H…M…S or P…W)";
  if (s.size() < 3 || s[0] != 'P') return shape;
  std::size_t i = 1;
  // ReadUnit reads 1*DIGIT and its unit letter; 0 at the end or on error.
  auto read_unit = [&]() -> char {
    std::size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start || i >= s.size()) return 0;
    return s[i++];
  };
  if (s[i] != 'T') {
    char u = read_unit();
    if (u == 'W') return i == s.size() ? nullptr : "weeks cannot be combined with other units";
    static const char kDate[] = "YMD";
    const char* next = std::strchr(kDate, u);
    if (u == 0 || next == nullptr) return shape;
    // Each following unit must be the next one down.
    while (i < s.size() && s[i] != 'T') {
      char expected = next[1];
      if (expected == 0 || read_unit() != expected) return "duration units out of order or skipped";
      ++next;
    }
    if (i == s.size()) return nullptr;
  }
  ++i;  // 'T'
  if (i >= s.size()) return "no time elements after T";
  static const char kTime[] = "HMS";
  char u = read_unit();
  const char* next = u == 0 ? nullptr : std::strchr(kTime, u);
  if (next == nullptr) return shape;
  while (i < s.size()) {
    char expected = next[1];
    if (expected == 0 || read_unit() != expected) return "duration units out of order or skipped";
    ++next;
  }
  return nullptr;
}

// ------------------------------------------------------------- host names

// SeparatorAt returns the length of a label separator at s[i]: "." and, for
// IDN host names, the three RFC 3490 §3.1 full stops (U+3002, U+FF0E,
// U+FF61); 0 when there is none.
std::size_t SeparatorAt(std::string_view s, std::size_t i, bool idn) {
  if (s[i] == '.') return 1;
  if (!idn || i + 3 > s.size()) return 0;
  std::string_view t = s.substr(i, 3);
  return t == "\xE3\x80\x82" || t == "\xEF\xBC\x8E" || t == "\xEF\xBD\xA1" ? 3 : 0;
}

// CheckHost checks a host name: RFC 1123 LDH labels (`idn` false), or
// IDNA 2008 U-labels and LDH labels (`idn` true). A-labels and U-labels go
// through libidn2's registration checks; a name with a right-to-left label
// must also meet the Bidi rule in its other labels (RFC 5893 §2), which for
// an ASCII label means starting with a letter. As RFC 1123 §2.1 says, the
// top-level label of a dotted name is not all digits (so that no host name
// reads as a dotted IPv4 address).
Reason CheckHost(std::string_view s, bool idn) {
  if (s.empty()) return "empty host name";
  if (s.size() > 4 * 253) return "host name longer than 253 octets";
  std::size_t total = 0;       // octets of the A-label form, dots included
  bool rtl_domain = false;     // some label holds a right-to-left character
  bool digit_first = false;    // some ASCII label starts with a digit
  bool last_numeric = false;   // the label just read is all digits
  std::size_t i = 0;
  std::size_t labels = 0;
  while (true) {
    std::size_t start = i;
    std::size_t sep = 0;
    bool ascii = true;
    while (i < s.size() && (sep = SeparatorAt(s, i, idn)) == 0) {
      if (static_cast<unsigned char>(s[i]) >= 0x80) ascii = false;
      ++i;
    }
    std::string_view label = s.substr(start, i - start);
    ++labels;
    if (label.empty()) return i == s.size() && labels > 1 ? "host name ends with a dot" : "empty label in host name";
    if (ascii) {
      if (label.size() > 63) return "label longer than 63 characters";
      for (unsigned char c : label)
        if (!(text::IsAlnum(c) || c == '-')) return "invalid character in host name";
      if (label.front() == '-' || label.back() == '-') return "label starts or ends with a hyphen";
      if (IsDigit(label[0])) digit_first = true;
    } else if (!idn) {
      return "non-ASCII character in host name";
    }
    bool a_label = ascii && label.size() >= 4 && (label[0] | 0x20) == 'x' && (label[1] | 0x20) == 'n' &&
                   label[2] == '-' && label[3] == '-';
    std::size_t ace_len = label.size();
    if (!ascii || a_label) {
      const VigilIdn2Api* api = net::Idn2();
      if (api == nullptr) return "internationalized host names cannot be checked (vigil_idn2.so is missing)";
      // A label's UTF-8 is at most 4 octets for each of its 63 A-label
      // octets' worth of code points; anything longer cannot pass.
      if (label.size() > 252) return "label longer than 63 octets in its A-label form";
      char buf[256];
      for (std::size_t k = 0; k < label.size(); ++k) {
        unsigned char c = label[k];
        buf[k] = static_cast<char>(text::IsUpper(c) ? c | 0x20 : c);  // DNS ignores ASCII case
      }
      buf[label.size()] = '\0';
      char ace[300];
      int rtl = 0;
      int rc = api->check_label(buf, ace, sizeof(ace), &rtl);
      if (rc != 0) return a_label ? "invalid A-label (IDNA 2008)" : "invalid internationalized label (IDNA 2008)";
      ace_len = std::strlen(ace);
      if (ace_len > 63) return "label longer than 63 octets in its A-label form";
      if (rtl) rtl_domain = true;
    }
    last_numeric = ascii && std::all_of(label.begin(), label.end(), [](char c) { return IsDigit(c); });
    total += ace_len + (labels > 1 ? 1 : 0);
    if (total > 253) return "host name longer than 253 octets";
    if (i == s.size()) break;
    i += sep;
  }
  if (labels > 1 && last_numeric) return "top-level label is all digits (RFC 1123 §2.1)";
  if (rtl_domain && digit_first) return "label starting with a digit in a right-to-left host name (RFC 5893)";
  return nullptr;
}

// ----------------------------------------------------------- URIs and IRIs

// Character classes of RFC 3986 §2, one bit each, for ASCII.
constexpr unsigned kUnreserved = 1;  // ALPHA DIGIT - . _ ~
constexpr unsigned kSubDelim = 2;    // ! $ & ' ( ) * + , ; =
constexpr unsigned kSchemeChar = 4;  // ALPHA DIGIT + - .

struct UriTable {
  unsigned char bits[128];
};
constexpr UriTable MakeUriTable() {
  UriTable t{};
  for (int c = 0; c < 128; ++c) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '.' || c == '_' || c == '~') t.bits[c] |= kUnreserved;
    if (alnum || c == '+' || c == '-' || c == '.') t.bits[c] |= kSchemeChar;
  }
  for (char c : std::string_view("!$&'()*+,;=")) t.bits[static_cast<unsigned char>(c)] |= kSubDelim;
  return t;
}
constexpr UriTable kUri = MakeUriTable();

// IsUcschar reports RFC 3987 ucschar; IsIprivate its iprivate.
bool IsUcschar(std::uint32_t c) {
  if (c >= 0xA0 && c <= 0xD7FF) return true;
  if (c >= 0xF900 && c <= 0xFDCF) return true;
  if (c >= 0xFDF0 && c <= 0xFFEF) return true;
  // %x10000-1FFFD / … / %xD0000-DFFFD / %xE1000-EFFFD: no plane's last two.
  if (c >= 0x10000 && c < 0xE0000) return (c & 0xFFFF) <= 0xFFFD;
  return c >= 0xE1000 && c <= 0xEFFFD;
}
bool IsIprivate(std::uint32_t c) {
  return (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xF0000 && c <= 0xFFFFD) || (c >= 0x100000 && c <= 0x10FFFD);
}

// UriScanner walks one URI or IRI reference (RFC 3986 §4.1, RFC 3987 §2.2).
class UriScanner {
 public:
  UriScanner(std::string_view s, bool iri) : s_(s), iri_(iri) {}

  // Check checks a URI-reference, or a URI when `absolute` is set.
  Reason Check(bool absolute) {
    std::size_t i = 0;
    // A scheme is the text before the first ':' when no '/', '?' or '#'
    // comes first.
    std::size_t colon = s_.find_first_of(":/?#");
    bool has_scheme = colon != std::string_view::npos && s_[colon] == ':';
    if (has_scheme) {
      std::string_view scheme = s_.substr(0, colon);
      if (scheme.empty()) return "empty scheme";
      if (!IsAlpha(scheme[0])) return "scheme must start with a letter";
      for (unsigned char c : scheme)
        if (c >= 0x80 || !(kUri.bits[c] & kSchemeChar)) return absolute ? "invalid character in scheme"
                                                                       : "colon in the first segment of a relative reference";
      i = colon + 1;
    } else if (absolute) {
      return "missing scheme (a relative reference is not a URI)";
    }
    if (s_.compare(i, 2, "//") == 0) {
      i += 2;
      std::size_t end = s_.find_first_of("/?#", i);
      if (end == std::string_view::npos) end = s_.size();
      if (Reason r = Authority(s_.substr(i, end - i))) return r;
      i = end;
    }
    // Path, query and fragment.
    if (Reason r = Run(&i, ":@/", false)) return r;
    if (i < s_.size() && s_[i] == '?') {
      ++i;
      if (Reason r = Run(&i, ":@/?", true)) return r;
    }
    if (i < s_.size() && s_[i] == '#') {
      ++i;
      if (Reason r = Run(&i, ":@/?", false)) return r;
    }
    if (i != s_.size()) return "invalid character";
    return nullptr;
  }

 private:
  // Char reads one allowed character at s[*i]: an unreserved or sub-delims
  // byte, one of `extra`, a percent-encoded octet, or (IRIs) a ucschar, or
  // an iprivate when `private_ok`. Returns false without moving otherwise.
  bool Char(std::size_t* i, std::string_view extra, bool private_ok) const {
    unsigned char c = s_[*i];
    if (c < 0x80) {
      if ((kUri.bits[c] & (kUnreserved | kSubDelim)) || extra.find(static_cast<char>(c)) != std::string_view::npos) {
        ++*i;
        return true;
      }
      if (c == '%' && *i + 2 < s_.size() && IsHex(s_[*i + 1]) && IsHex(s_[*i + 2])) {
        *i += 3;
        return true;
      }
      return false;
    }
    if (!iri_) return false;
    std::size_t len;
    std::uint32_t cp = DecodeUtf8(s_, *i, &len);
    if (!IsUcschar(cp) && !(private_ok && IsIprivate(cp))) return false;
    *i += len;
    return true;
  }

  // Run reads characters of `extra` (pchar's ":@" and what the component
  // adds) up to the next '#', or '?' when `extra` has none (or the end).
  Reason Run(std::size_t* i, std::string_view extra, bool private_ok) const {
    bool query_ends = extra.find('?') == std::string_view::npos;
    while (*i < s_.size() && s_[*i] != '#' && !(s_[*i] == '?' && query_ends)) {
      if (!Char(i, extra, private_ok)) {
        if (s_[*i] == '%') return "invalid percent-encoding";
        return iri_ ? "character not allowed in an IRI" : "character not allowed in a URI";
      }
    }
    return nullptr;
  }

  // Authority checks [ userinfo "@" ] host [ ":" port ].
  Reason Authority(std::string_view a) const {
    std::size_t base = a.data() - s_.data();
    std::size_t at = a.find('@');
    std::size_t host = 0;
    if (at != std::string_view::npos) {
      std::size_t i = base;
      while (i < base + at)
        if (!Char(&i, ":", false)) return "invalid character in userinfo";
      host = at + 1;
    }
    std::size_t i = base + host;
    std::size_t end = base + a.size();
    if (i < end && s_[i] == '[') {
      std::size_t close = s_.find(']', i);
      if (close == std::string_view::npos || close >= end) return "unclosed IP literal";
      std::string_view lit = s_.substr(i + 1, close - i - 1);
      if (!lit.empty() && (lit[0] | 0x20) == 'v') {
        std::size_t k = 1;
        while (k < lit.size() && IsHex(lit[k])) ++k;
        if (k == 1 || k >= lit.size() || lit[k] != '.' || k + 1 == lit.size()) return "invalid IPvFuture literal";
        for (++k; k < lit.size(); ++k) {
          unsigned char c = lit[k];
          if (c >= 0x80 || !((kUri.bits[c] & (kUnreserved | kSubDelim)) || c == ':')) return "invalid IPvFuture literal";
        }
      } else if (CheckIpv6(lit) != nullptr) {
        return "invalid IPv6 literal";
      }
      i = close + 1;
    } else {
      while (i < end && s_[i] != ':')
        if (!Char(&i, "", false)) return "invalid character in host";
    }
    if (i < end) {
      if (s_[i] != ':') return "invalid character after host";
      for (++i; i < end; ++i)
        if (!IsDigit(s_[i])) return "port is not a number";
    }
    return nullptr;
  }

  std::string_view s_;
  bool iri_;
};

// --------------------------------------------------------- URI templates

// CheckUriTemplate checks RFC 6570 level 4 syntax (§2), with the erratum
// that admits "'" in literals.
Reason CheckUriTemplate(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c == '{') {
      ++i;
      if (i < s.size() && s[i] != '\0' && std::strchr("+#./;?&", s[i]) != nullptr) {
        ++i;
      } else if (i < s.size() && s[i] != '\0' && std::strchr("=,!@|", s[i]) != nullptr) {
        return "reserved operator in expression";
      }
      // variable-list = varspec *( "," varspec )
      while (true) {
        // varname = varchar *( ["."] varchar ), varchar = ALPHA / DIGIT / "_" / pct-encoded
        bool need = true;  // a varchar must come next
        std::size_t chars = 0;
        while (i < s.size()) {
          unsigned char v = s[i];
          if (text::IsAlnum(v) || v == '_') {
            ++i;
          } else if (v == '%' && i + 2 < s.size() && IsHex(s[i + 1]) && IsHex(s[i + 2])) {
            i += 3;
          } else if (v == '.' && !need) {
            ++i;
            need = true;
            continue;
          } else {
            break;
          }
          need = false;
          ++chars;
        }
        if (chars == 0) return "empty variable name in expression";
        if (need) return "invalid variable name";
        if (i < s.size() && s[i] == '*') {
          ++i;
        } else if (i < s.size() && s[i] == ':') {
          std::size_t start = ++i;
          while (i < s.size() && IsDigit(s[i])) ++i;
          if (i == start || s[start] == '0' || i - start > 4) return "prefix length must be 1 to 9999";
        }
        if (i >= s.size()) return "unclosed expression";
        if (s[i] == ',') {
          ++i;
          continue;
        }
        if (s[i] != '}') return "invalid character in expression";
        ++i;
        break;
      }
      continue;
    }
    if (c == '%') {
      if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) return "invalid percent-encoding";
      i += 3;
      continue;
    }
    if (c >= 0x80) {
      std::size_t len;
      std::uint32_t cp = DecodeUtf8(s, i, &len);
      if (!IsUcschar(cp) && !IsIprivate(cp)) return "character not allowed in a URI template";
      i += len;
      continue;
    }
    if (c <= 0x20 || c == 0x7F || std::strchr("\"<>\\^`{|}", c) != nullptr) return "character not allowed in a URI template";
    ++i;
  }
  return nullptr;
}

// ------------------------------------------------------------ JSON pointers

Reason CheckJsonPointer(std::string_view s) {
  if (!s.empty() && s[0] != '/') return "a JSON pointer is empty or starts with /";
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && (i + 1 == s.size() || (s[i + 1] != '0' && s[i + 1] != '1')))
      return "~ not followed by 0 or 1";
  }
  return nullptr;
}

Reason CheckRelativeJsonPointer(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == 0) return "expected a non-negative integer prefix";
  if (s[0] == '0' && i > 1) return "integer prefix with a leading zero";
  if (i < s.size() && s[i] == '#') return i + 1 == s.size() ? nullptr : "# must end a relative JSON pointer";
  return CheckJsonPointer(s.substr(i));
}

// -------------------------------------------------------- ECMA-262 regex

Reason CheckEcmaRegex(std::string_view s);  // below

// --------------------------------------------------------------- dispatch

enum class Format {
  kDateTime, kDate, kTime, kDuration, kEmail, kIdnEmail, kHostname, kIdnHostname, kIpv4, kIpv6,
  kUri, kUriReference, kIri, kIriReference, kUriTemplate, kJsonPointer, kRelativeJsonPointer,
  kRegex, kUuid,
};

struct FormatName {
  const char* name;
  Format format;
};

constexpr FormatName kFormats[] = {
    {"date-time", Format::kDateTime},
    {"date", Format::kDate},
    {"time", Format::kTime},
    {"duration", Format::kDuration},
    {"email", Format::kEmail},
    {"idn-email", Format::kIdnEmail},
    {"hostname", Format::kHostname},
    {"idn-hostname", Format::kIdnHostname},
    {"ipv4", Format::kIpv4},
    {"ipv6", Format::kIpv6},
    {"uri", Format::kUri},
    {"uri-reference", Format::kUriReference},
    {"iri", Format::kIri},
    {"iri-reference", Format::kIriReference},
    {"uri-template", Format::kUriTemplate},
    {"json-pointer", Format::kJsonPointer},
    {"relative-json-pointer", Format::kRelativeJsonPointer},
    {"regex", Format::kRegex},
    {"uuid", Format::kUuid},
};

Reason Check(Format f, std::string_view s) {
  switch (f) {
    case Format::kDateTime: return CheckDateTime(s);
    case Format::kDate: return CheckDate(s);
    case Format::kTime: return FullTime(s);
    case Format::kDuration: return CheckDuration(s);
    case Format::kEmail:
      for (unsigned char c : s)
        if (c >= 0x80) return "non-ASCII character in an email (use idn-email)";
      return CheckEmail(s);
    case Format::kIdnEmail: return CheckEmail(s);
    case Format::kHostname: return CheckHost(s, false);
    case Format::kIdnHostname: return CheckHost(s, true);
    case Format::kIpv4: return CheckIpv4(s);
    case Format::kIpv6: return CheckIpv6(s);
    case Format::kUri: return UriScanner(s, false).Check(true);
    case Format::kUriReference: return UriScanner(s, false).Check(false);
    case Format::kIri: return UriScanner(s, true).Check(true);
    case Format::kIriReference: return UriScanner(s, true).Check(false);
    case Format::kUriTemplate: return CheckUriTemplate(s);
    case Format::kJsonPointer: return CheckJsonPointer(s);
    case Format::kRelativeJsonPointer: return CheckRelativeJsonPointer(s);
    case Format::kRegex: return CheckEcmaRegex(s);
    case Format::kUuid: return CheckUuid(s);
  }
  return nullptr;
}

}  // namespace

Reason CheckSchemaFormat(std::string_view format, std::string_view s, bool* known) {
  *known = false;
  if (format.substr(0, 6) == "vigil:") {
    const KindInfo* kind = FindKind(format.substr(6));
    if (kind == nullptr) return nullptr;
    *known = true;
    return kind->check(s);
  }
  for (const FormatName& f : kFormats) {
    if (format != f.name) continue;
    *known = true;
    if (!text::IsValidUtf8(s)) return "invalid UTF-8";
    return Check(f.format, s);
  }
  return nullptr;
}

namespace {

// CheckEcmaRegex checks the ECMA-262 2024 Pattern grammar (§22.2.1) as a
// pattern compiled with the `u` flag reads it, syntax only: groups balance,
// quantifiers follow something quantifiable and have min ≤ max, escapes are
// the ones the `u` grammar admits, class ranges run upwards, \N and \k<name>
// name groups that exist, group names are unique. ES2025's additions
// (modifier groups "(?i:…)", a name repeated in different alternatives)
// are refused, as the engines of 2024 refuse them. Unicode property names in \p{…} are checked for
// shape only (vigil carries no Unicode property table). Open groups live on
// a heap stack, so nesting depth costs no C++ stack.
Reason CheckEcmaRegex(std::string_view s) {
  struct Group {
    bool lookaround_ahead;  // a lookahead: in `u` mode not quantifiable
    bool lookbehind;
  };
  std::vector<Group> open;
  std::vector<std::string_view> names;
  std::vector<std::string_view> named_refs;
  std::size_t captures = 0;
  std::uint64_t max_backref = 0;
  bool quantifiable = false;  // the previous term can take a quantifier
  std::size_t i = 0;

  // ReadHex reads exactly n hex digits; -1 on failure.
  auto read_hex = [&](std::size_t n) -> long {
    if (i + n > s.size()) return -1;
    long v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      if (!IsHex(s[i + k])) return -1;
      v = v * 16 + text::HexValue(s[i + k]);
    }
    i += n;
    return v;
  };
  // ReadGroupName reads "<name>" (i at '<'); returns the name or sets *bad.
  auto read_group_name = [&](bool* bad) -> std::string_view {
    *bad = true;
    if (i >= s.size() || s[i] != '<') return {};
    std::size_t start = ++i;
    while (i < s.size() && s[i] != '>') {
      unsigned char c = s[i];
      bool first = i == start;
      if (c >= 0x80) {
        std::size_t len;
        DecodeUtf8(s, i, &len);
        i += len;
        continue;
      }
      if (!(IsAlpha(c) || c == '$' || c == '_' || (!first && IsDigit(c)))) return {};
      ++i;
    }
    if (i >= s.size() || i == start) return {};
    std::string_view name = s.substr(start, i - start);
    ++i;  // '>'
    *bad = false;
    return name;
  };
  // ReadEscape reads the escape after '\' (i past the backslash) in or out
  // of a class; returns the code point it stands for, -2 for a class escape
  // (\d, \p{…}, …) or an assertion, or -1 with *why set.
  const char* why = nullptr;
  auto read_escape = [&](bool in_class) -> long {
    if (i >= s.size()) {
      why = "pattern ends with a backslash";
      return -1;
    }
    unsigned char c = s[i++];
    switch (c) {
      case 'd': case 'D': case 's': case 'S': case 'w': case 'W': return -2;
      case 'p': case 'P': {
        if (i >= s.size() || s[i] != '{') break;
        std::size_t start = ++i;
        bool eq = false;
        while (i < s.size() && s[i] != '}') {
          unsigned char p = s[i];
          if (p == '=' && !eq && i > start) {
            eq = true;
          } else if (!(text::IsAlnum(p) || p == '_')) {
            break;
          }
          ++i;
        }
        if (i >= s.size() || s[i] != '}' || i == start || s[i - 1] == '=') break;
        ++i;
        return -2;
      }
      case 'f': return 0x0C;
      case 'n': return 0x0A;
      case 'r': return 0x0D;
      case 't': return 0x09;
      case 'v': return 0x0B;
      case 'c':
        if (i < s.size() && IsAlpha(s[i])) return s[i++] % 32;
        break;
      case '0':
        if (i < s.size() && IsDigit(s[i])) break;
        return 0;
      case 'x': {
        long v = read_hex(2);
        if (v >= 0) return v;
        break;
      }
      case 'u': {
        if (i < s.size() && s[i] == '{') {
          std::size_t start = ++i;
          long v = 0;
          while (i < s.size() && IsHex(s[i]) && v <= 0x10FFFF) v = v * 16 + text::HexValue(s[i++]);
          if (i == start || i >= s.size() || s[i] != '}' || v > 0x10FFFF) break;
          ++i;
          return v;
        }
        long v = read_hex(4);
        if (v < 0) break;
        // A surrogate pair written as two escapes is one code point.
        if (v >= 0xD800 && v <= 0xDBFF && i + 6 <= s.size() && s[i] == '\\' && s[i + 1] == 'u') {
          std::size_t save = i;
          i += 2;
          long lo = read_hex(4);
          if (lo >= 0xDC00 && lo <= 0xDFFF) return 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
          i = save;
        }
        return v;
      }
      case 'b':
        if (in_class) return 0x08;
        return -2;
      case 'B':
        if (in_class) break;
        return -2;
      case '-':
        if (in_class) return '-';
        break;
      case 'k': {
        if (in_class) break;
        bool bad;
        std::string_view name = read_group_name(&bad);
        if (bad) {
          why = "\\k must name a group: \\k<name>";
          return -1;
        }
        named_refs.push_back(name);
        return -3;
      }
      default:
        if (IsDigit(c) && c != '0' && !in_class) {
          std::uint64_t n = c - '0';
          while (i < s.size() && IsDigit(s[i]) && n < 1000000) n = n * 10 + (s[i++] - '0');
          if (n > max_backref) max_backref = n;
          return -3;
        }
        if (c < 0x80 && std::strchr("^$\\.*+?()[]{}|/", c) != nullptr && c != 0) return c;
        break;
    }
    why = "invalid escape (the u flag admits only the escapes ECMA-262 defines)";
    return -1;
  };

  while (i < s.size()) {
    unsigned char c = s[i];
    switch (c) {
      case '|':
        ++i;
        quantifiable = false;
        break;
      case '^':
      case '$':
        ++i;
        quantifiable = false;
        break;
      case '(': {
        ++i;
        Group g{false, false};
        if (i < s.size() && s[i] == '?') {
          ++i;
          if (i >= s.size()) return "unterminated group";
          if (s[i] == ':') {
            ++i;
          } else if (s[i] == '=' || s[i] == '!') {
            ++i;
            g.lookaround_ahead = true;
          } else if (s[i] == '<' && i + 1 < s.size() && (s[i + 1] == '=' || s[i + 1] == '!')) {
            i += 2;
            g.lookbehind = true;
          } else if (s[i] == '<') {
            bool bad;
            std::string_view name = read_group_name(&bad);
            if (bad) return "invalid group name";
            names.push_back(name);
            ++captures;
          } else {
            return "invalid group: (? must be followed by :, =, !, <=, <! or <name>";
          }
        } else {
          ++captures;
        }
        open.push_back(g);
        quantifiable = false;
        break;
      }
      case ')': {
        if (open.empty()) return "unmatched )";
        Group g = open.back();
        open.pop_back();
        ++i;
        quantifiable = !g.lookaround_ahead && !g.lookbehind;
        break;
      }
      case '*':
      case '+':
      case '?':
      case '{': {
        if (c == '{') {
          // ReadCount reads 1*DIGIT, saturating; false when there is none.
          std::size_t j = i + 1;
          auto read_count = [&](std::uint64_t* v) {
            std::size_t start = j;
            *v = 0;
            for (; j < s.size() && IsDigit(s[j]); ++j)
              if (*v < (1ull << 53)) *v = *v * 10 + (s[j] - '0');
            return j > start;
          };
          std::uint64_t lo = 0, hi = 0;
          if (!read_count(&lo)) return "lone { (the u flag requires \\{)";
          hi = lo;
          if (j < s.size() && s[j] == ',') {
            ++j;
            if (!read_count(&hi)) hi = UINT64_MAX;
          }
          if (j >= s.size() || s[j] != '}') return "lone { (the u flag requires \\{)";
          if (hi < lo) return "quantifier range out of order";
          i = j + 1;
        } else {
          ++i;
        }
        if (!quantifiable) return "nothing to repeat";
        if (i < s.size() && s[i] == '?') ++i;
        quantifiable = false;
        break;
      }
      case '}':
      case ']':
        return "lone } or ] (the u flag requires a backslash)";
      case '\\': {
        ++i;
        std::size_t at = i;
        long v = read_escape(false);
        if (v == -1) return why;
        // \b and \B are assertions.
        quantifiable = !(v == -2 && (s[at] == 'b' || s[at] == 'B'));
        break;
      }
      case '[': {
        ++i;
        if (i < s.size() && s[i] == '^') ++i;
        // prev: the previous class atom's code point, -2 for a class escape,
        // -4 when there is none to start a range.
        long prev = -4;
        bool range = false;
        while (true) {
          if (i >= s.size()) return "unterminated character class";
          unsigned char d = s[i];
          if (d == ']') {
            ++i;
            if (range) prev = '-';  // a trailing '-' is literal
            break;
          }
          long v;
          if (d == '\\') {
            ++i;
            v = read_escape(true);
            if (v == -1) return why;
          } else if (d == '-' && prev != -4 && !range) {
            ++i;
            range = true;
            continue;
          } else {
            std::size_t len;
            v = static_cast<long>(DecodeUtf8(s, i, &len));
            i += len;
          }
          if (range) {
            if (prev == -2 || v == -2) return "class escape in a character class range";
            if (v < prev) return "character class range out of order";
            range = false;
            prev = -4;
            continue;
          }
          prev = v;
        }
        quantifiable = true;
        break;
      }
      default: {
        std::size_t len;
        DecodeUtf8(s, i, &len);
        i += len;
        quantifiable = true;
        break;
      }
    }
  }
  if (!open.empty()) return "unterminated group";
  if (max_backref > captures) return "backreference to a group that does not exist";
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) return "duplicate group name";
  for (std::string_view ref : named_refs)
    if (!std::binary_search(names.begin(), names.end(), ref)) return "\\k names a group that does not exist";
  return nullptr;
}

}  // namespace
}  // namespace vigil::core
