// identifiers.cc — luhn, username, semver and crypto_symbol (SPEC §1).
//
// Each profile is stated in docs/validation.md with its reasons.
#include "base/text.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {

using text::IsAlnum;
using text::IsDigit;

// CheckLuhn: digits only, at least two, Luhn mod 10 (ISO/IEC 7812-1 Annex B).
Reason CheckLuhn(std::string_view s) noexcept {
  if (s.empty()) return "empty";
  if (s.size() < 2) return "need at least two digits";
  int sum = 0;
  bool dbl = false;
  for (std::size_t i = s.size(); i-- > 0;) {
    unsigned char c = s[i];
    if (!IsDigit(c)) return "digits only";
    int d = c - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0 ? nullptr : "check digit mismatch";
}

// CheckUsername: 3–32 ASCII letters, digits, '.', '_' or '-'; starts with a
// letter or digit, ends with a letter or digit, no two separators in a row.
Reason CheckUsername(std::string_view s) noexcept {
  if (s.empty()) return "empty";
  if (s.size() < 3) return "shorter than 3 characters";
  if (s.size() > 32) return "longer than 32 characters";
  bool prev_sep = true;  // forbids a leading separator
  for (unsigned char c : s) {
    bool sep = c == '.' || c == '_' || c == '-';
    if (!sep && !IsAlnum(c)) return "only letters, digits, '.', '_' and '-' are allowed";
    if (sep && prev_sep) return "separator at the start or two separators in a row";
    prev_sep = sep;
  }
  if (prev_sep) return "ends with a separator";
  return nullptr;
}

namespace {

// Numeric identifier without leading zeros.
bool IsNumericId(std::string_view id) {
  if (id.empty()) return false;
  for (unsigned char c : id)
    if (!IsDigit(c)) return false;
  return id.size() == 1 || id[0] != '0';
}

Reason CheckIdentifiers(std::string_view s, bool prerelease) {
  if (s.empty()) return prerelease ? "empty pre-release" : "empty build metadata";
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != '.') {
      unsigned char c = s[i];
      if (!(IsAlnum(c) || c == '-')) return "identifiers may hold only [0-9A-Za-z-]";
      continue;
    }
    std::string_view id = s.substr(start, i - start);
    if (id.empty()) return "empty identifier";
    bool numeric = true;
    for (unsigned char c : id)
      if (!IsDigit(c)) numeric = false;
    if (prerelease && numeric && !IsNumericId(id)) return "numeric pre-release identifier with a leading zero";
    start = i + 1;
  }
  return nullptr;
}

}  // namespace

// CheckSemver: Semantic Versioning 2.0.0, no "v" prefix.
Reason CheckSemver(std::string_view s) noexcept {
  if (s.empty()) return "empty";
  if (s.size() > 256) return "longer than 256 characters";
  if (s[0] == 'v' || s[0] == 'V') return "no \"v\" prefix in Semantic Versioning";
  std::size_t plus = s.find('+');
  std::string_view build;
  if (plus != std::string_view::npos) {
    build = s.substr(plus + 1);
    if (Reason r = CheckIdentifiers(build, false)) return r;
    s = s.substr(0, plus);
  }
  std::size_t dash = s.find('-');
  if (dash != std::string_view::npos) {
    if (Reason r = CheckIdentifiers(s.substr(dash + 1), true)) return r;
    s = s.substr(0, dash);
  }
  std::string_view parts[3];
  int n = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (n == 3) return "expected MAJOR.MINOR.PATCH";
      parts[n++] = s.substr(start, i - start);
      start = i + 1;
    }
  }
  if (n != 3) return "expected MAJOR.MINOR.PATCH";
  for (std::string_view p : parts) {
    if (p.empty()) return "expected MAJOR.MINOR.PATCH";
    for (unsigned char c : p)
      if (!IsDigit(c)) return "version numbers must be digits";
    if (!IsNumericId(p)) return "version number with a leading zero";
  }
  return nullptr;
}

namespace {

// A ticker: 2–10 upper-case letters or digits with at least one letter.
Reason CheckTicker(std::string_view t, std::size_t max_len) {
  if (t.size() < 2) return "ticker shorter than 2 characters";
  if (t.size() > max_len) return "ticker too long";
  bool letter = false;
  for (unsigned char c : t) {
    if (text::IsLower(c)) return "must be upper case";
    if (text::IsUpper(c)) {
      letter = true;
    } else if (!IsDigit(c)) {
      return "tickers hold only A-Z and 0-9";
    }
  }
  return letter ? nullptr : "ticker has no letter";
}

}  // namespace

// CheckCryptoSymbol: BTC, BTC-USD, BTC/USDT or BTCUSDT.
Reason CheckCryptoSymbol(std::string_view s) noexcept {
  if (s.empty()) return "empty";
  std::size_t sep = s.find_first_of("-/");
  if (sep == std::string_view::npos) return CheckTicker(s, 20);
  if (s.find_first_of("-/", sep + 1) != std::string_view::npos) return "more than one separator";
  if (Reason r = CheckTicker(s.substr(0, sep), 10)) return r;
  return CheckTicker(s.substr(sep + 1), 10);
}

}  // namespace vigil::core
