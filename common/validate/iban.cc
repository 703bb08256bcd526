// iban.cc — ISO 13616 IBANs in electronic format (SPEC §1, iban).
//
// The table below transcribes, for each country, the IBAN length and the
// BBAN structure from the SWIFT IBAN Registry (structure notation: n digits,
// a upper-case letters, c upper-case letters or digits). A value must match
// its country's exact length and structure and satisfy ISO 7064 MOD 97-10
// (remainder 1). docs/validation.md names the registry release followed.
#include <cstring>
#include <string>

#include "base/text.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

struct IbanCountry {
  char code[3];
  int length;
  const char* bban;  // e.g. "8n10n"
};

// Sorted by country code for binary search.
constexpr IbanCountry kIbanRegistry[] = {
    {"AD", 24, "4n4n12c"},     {"AE", 23, "3n16n"},        {"AL", 28, "8n16c"},
    {"AT", 20, "5n11n"},       {"AZ", 28, "4a20c"},        {"BA", 20, "3n3n8n2n"},
    {"BE", 16, "3n7n2n"},      {"BG", 22, "4a4n2n8c"},     {"BH", 22, "4a14c"},
    {"BI", 27, "5n5n11n2n"},   {"BR", 29, "8n5n10n1a1c"},  {"BY", 28, "4c4n16c"},
    {"CH", 21, "5n12c"},       {"CR", 22, "4n14n"},        {"CY", 28, "3n5n16c"},
    {"CZ", 24, "4n6n10n"},     {"DE", 22, "8n10n"},        {"DJ", 27, "5n5n11n2n"},
    {"DK", 18, "4n9n1n"},      {"DO", 28, "4c20n"},        {"EE", 20, "2n2n11n1n"},
    {"EG", 29, "4n4n17n"},     {"ES", 24, "4n4n1n1n10n"},  {"FI", 18, "3n11n"},
    {"FK", 18, "2a12n"},       {"FO", 18, "4n9n1n"},       {"FR", 27, "5n5n11c2n"},
    {"GB", 22, "4a6n8n"},      {"GE", 22, "2a16n"},        {"GI", 23, "4a15c"},
    {"GL", 18, "4n9n1n"},      {"GR", 27, "3n4n16c"},      {"GT", 28, "4c20c"},
    {"HR", 21, "7n10n"},       {"HU", 28, "3n4n1n15n1n"},  {"IE", 22, "4a6n8n"},
    {"IL", 23, "3n3n13n"},     {"IQ", 23, "4a3n12n"},      {"IS", 26, "4n2n6n10n"},
    {"IT", 27, "1a5n5n12c"},   {"JO", 30, "4a4n18c"},      {"KW", 30, "4a22c"},
    {"KZ", 20, "3n13c"},       {"LB", 28, "4n20c"},        {"LC", 32, "4a24c"},
    {"LI", 21, "5n12c"},       {"LT", 20, "5n11n"},        {"LU", 20, "3n13c"},
    {"LV", 21, "4a13c"},       {"LY", 25, "3n3n15n"},      {"MC", 27, "5n5n11c2n"},
    {"MD", 24, "2c18c"},       {"ME", 22, "3n13n2n"},      {"MK", 19, "3n10c2n"},
    {"MN", 20, "4n12n"},       {"MR", 27, "5n5n11n2n"},    {"MT", 31, "4a5n18c"},
    {"MU", 30, "4a2n2n12n3n3a"}, {"NI", 28, "4a20n"},      {"NL", 18, "4a10n"},
    {"NO", 15, "4n6n1n"},      {"OM", 23, "3n16c"},        {"PK", 24, "4a16c"},
    {"PL", 28, "8n16n"},       {"PS", 29, "4a21c"},        {"PT", 25, "4n4n11n2n"},
    {"QA", 29, "4a21c"},       {"RO", 24, "4a16c"},        {"RS", 22, "3n13n2n"},
    {"RU", 33, "9n5n15c"},     {"SA", 24, "2n18c"},        {"SC", 31, "4a2n2n16n3a"},
    {"SD", 18, "2n12n"},       {"SE", 24, "3n16n1n"},      {"SI", 19, "5n8n2n"},
    {"SK", 24, "4n6n10n"},     {"SM", 27, "1a5n5n12c"},    {"SO", 23, "4n3n12n"},
    {"ST", 25, "4n4n11n2n"},   {"SV", 28, "4a20n"},        {"TL", 23, "3n14n2n"},
    {"TN", 24, "2n3n13n2n"},   {"TR", 26, "5n1n16c"},      {"UA", 29, "6n19c"},
    {"VA", 22, "3n15n"},       {"VG", 24, "4a16n"},        {"XK", 20, "4n10n2n"},
};

const IbanCountry* FindCountry(std::string_view cc) {
  std::size_t lo = 0, hi = sizeof(kIbanRegistry) / sizeof(kIbanRegistry[0]);
  while (lo < hi) {
    std::size_t mid = (lo + hi) / 2;
    int c = std::strncmp(kIbanRegistry[mid].code, cc.data(), 2);
    if (c == 0) return &kIbanRegistry[mid];
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return nullptr;
}

bool MatchesStructure(std::string_view bban, const char* spec) {
  std::size_t pos = 0;
  for (const char* p = spec; *p;) {
    int count = 0;
    while (*p >= '0' && *p <= '9') count = count * 10 + (*p++ - '0');
    char cls = *p++;
    for (int i = 0; i < count; ++i, ++pos) {
      if (pos >= bban.size()) return false;
      unsigned char c = bban[pos];
      bool ok = cls == 'n' ? text::IsDigit(c)
              : cls == 'a' ? text::IsUpper(c)
                           : (text::IsDigit(c) || text::IsUpper(c));
      if (!ok) return false;
    }
  }
  return pos == bban.size();
}

}  // namespace

Reason CheckIban(std::string_view s) noexcept {
  if (s.empty()) return "empty";
  if (s.size() > 34) return "longer than 34 characters";
  if (s.size() < 5) return "too short";
  for (unsigned char c : s) {
    if (c == ' ') return "contains spaces (use vigil_iban_normalize for print format)";
    if (text::IsLower(c)) return "must be upper case (electronic format)";
    if (!(text::IsDigit(c) || text::IsUpper(c))) return "only A-Z and 0-9 are allowed";
  }
  if (!text::IsUpper(s[0]) || !text::IsUpper(s[1])) return "must start with a country code";
  if (!text::IsDigit(s[2]) || !text::IsDigit(s[3])) return "check digits must be digits";
  // ISO 7064 MOD 97-10 check digits are 98 - (n mod 97): always 02 to 98.
  if (s[2] == '0' && (s[3] == '0' || s[3] == '1')) return "check digits 00 and 01 are never issued";
  if (s[2] == '9' && s[3] == '9') return "check digits 99 are never issued";
  const IbanCountry* country = FindCountry(s.substr(0, 2));
  if (country == nullptr) return "country not in the IBAN registry";
  if (static_cast<int>(s.size()) != country->length) return "wrong length for the country";
  if (!MatchesStructure(s.substr(4), country->bban)) return "BBAN does not match the country's structure";
  // ISO 7064 MOD 97-10 over BBAN + country + check digits, letters as 10..35.
  int rem = 0;
  auto feed = [&rem](unsigned char c) {
    if (text::IsDigit(c)) {
      rem = (rem * 10 + (c - '0')) % 97;
    } else {
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
    }
  };
  for (std::size_t i = 4; i < s.size(); ++i) feed(s[i]);
  for (std::size_t i = 0; i < 4; ++i) feed(s[i]);
  return rem == 1 ? nullptr : "checksum (mod 97) failed";
}

std::string IbanNormalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c == ' ' || c == '\t' || c == '-') continue;
    out.push_back(text::IsLower(c) ? static_cast<char>(c - 32) : static_cast<char>(c));
  }
  return out;
}

}  // namespace vigil::core
