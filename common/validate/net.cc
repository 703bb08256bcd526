// net.cc — IPv4, IPv6, CIDR and hostname checks.
//
// IPv6 text parsing is delegated to inet_pton(3) (glibc), which implements
// RFC 4291 §2.2; the checks before it only keep out what inet_pton would
// accept but the SPEC does not (zone identifiers) and give clearer reasons.
// Internationalised hostnames go through libidn2 (IDNA 2008, UTS #46
// non-transitional), never through a hand-written Punycode.
#include "validate/net.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <cstring>

#include "base/companion.h"
#include "base/text.h"
#include "companions/api.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace net {

const VigilIdn2Api* Idn2() noexcept {
  static const VigilIdn2Api* api = companion::Try<VigilIdn2Api>("vigil_idn2", VIGIL_IDN2_API_ENTRY, VIGIL_IDN2_API_VERSION);
  return api;
}

using text::IsDigit;

Reason ParseIpv4(std::string_view s, std::array<std::uint8_t, 4>* out) noexcept {
  if (s.empty()) return "empty address";
  std::array<std::uint8_t, 4> bytes{};
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return "expected four dotted decimal octets";
      ++i;
    }
    std::size_t start = i;
    int value = 0;
    while (i < s.size() && IsDigit(s[i]) && i - start < 4) {
      value = value * 10 + (s[i] - '0');
      ++i;
    }
    std::size_t len = i - start;
    if (len == 0) return "expected four dotted decimal octets";
    if (len > 3 || value > 255) return "octet greater than 255";
    if (len > 1 && s[start] == '0') return "octet with a leading zero";
    bytes[part] = static_cast<std::uint8_t>(value);
  }
  if (i != s.size()) return "expected four dotted decimal octets";
  if (out) *out = bytes;
  return nullptr;
}

Reason ParseIpv6(std::string_view s, std::array<std::uint8_t, 16>* out) noexcept {
  if (s.empty()) return "empty address";
  if (s.size() > 45) return "too long for an IPv6 address";
  char buf[46];
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == '%') return "zone identifiers are not accepted";
    if (!(text::IsHex(c) || c == ':' || c == '.')) return "invalid character";
    buf[i] = static_cast<char>(c);
  }
  buf[s.size()] = '\0';
  // Dotted tail: reuse the IPv4 rules (inet_pton would take them too, but
  // this gives the same reasons as ipv4).
  if (std::memchr(buf, '.', s.size()) != nullptr) {
    std::string_view tail = s.substr(s.rfind(':') + 1);
    if (ParseIpv4(tail, nullptr) != nullptr) return "invalid embedded IPv4 address";
  }
  std::array<std::uint8_t, 16> bytes{};
  if (inet_pton(AF_INET6, buf, bytes.data()) != 1) return "not a valid IPv6 address";
  if (out) *out = bytes;
  return nullptr;
}

Reason CheckHostname(std::string_view s, HostnameRules rules) noexcept {
  if (s.empty()) return "empty host name";
  bool ascii = true;
  for (unsigned char c : s) {
    if (c >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) {
    if (!rules.allow_unicode) return "non-ASCII character in host name";
    if (!text::IsValidUtf8(s)) return "invalid UTF-8 in domain";
    if (s.size() > 1024) return "domain longer than 253 octets";
    char buf[1025];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    const VigilIdn2Api* idn = Idn2();
    if (idn == nullptr) return "internationalized domain names cannot be checked (vigil_idn2.so is missing)";
    char ace[1100];
    int rc = idn->lookup(buf, ace, sizeof(ace));
    if (rc != 0) return rc == 2 ? "domain longer than 253 octets" : "invalid internationalized domain name";
    // Check the A-label form with the ASCII rules.
    return CheckHostname(ace, HostnameRules{rules.require_dot, false});
  }
  if (s.size() > 253) return "domain longer than 253 octets";
  if (s.back() == '.') return "domain ends with a dot";
  std::size_t label_start = 0;
  std::size_t labels = 0;
  for (std::size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      std::size_t len = i - label_start;
      if (len == 0) return "empty domain label";
      if (len > 63) return "domain label longer than 63 characters";
      if (s[label_start] == '-' || s[i - 1] == '-')
        return "domain label starts or ends with a hyphen";
      ++labels;
      label_start = i + 1;
      continue;
    }
    unsigned char c = s[i];
    if (!(text::IsAlnum(c) || c == '-')) return "invalid character in domain";
  }
  if (rules.require_dot && labels < 2) return "domain has no dot";
  // A-labels ("xn--...") must be valid Punycode of an IDNA 2008 U-label:
  // libidn2 decodes and checks them.
  bool a_label = false;
  for (std::size_t i = 0; i + 4 <= s.size(); ++i) {
    if ((i == 0 || s[i - 1] == '.') && (s[i] | 0x20) == 'x' && (s[i + 1] | 0x20) == 'n' && s[i + 2] == '-' &&
        s[i + 3] == '-') {
      a_label = true;
      break;
    }
  }
  if (a_label) {
    char buf[256];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    const VigilIdn2Api* idn = Idn2();
    if (idn == nullptr) return "internationalized domain names cannot be checked (vigil_idn2.so is missing)";
    char ace[300];
    if (idn->lookup(buf, ace, sizeof(ace)) != 0) return "invalid internationalized domain name (A-label)";
  }
  // A numeric last label (decimal, or 0x-hex as URL parsers read it) would
  // make the name an IPv4 address to resolvers and browsers.
  std::string_view tld = s.substr(s.rfind('.') == std::string_view::npos ? 0 : s.rfind('.') + 1);
  bool numeric = true;
  std::size_t start = 0;
  if (tld.size() >= 2 && tld[0] == '0' && (tld[1] | 0x20) == 'x') start = 2;
  for (std::size_t i = start; i < tld.size(); ++i) {
    unsigned char c = tld[i];
    if (start == 2 ? !text::IsHex(c) : !IsDigit(c)) numeric = false;
  }
  if (numeric) return "top-level domain is numeric";
  return nullptr;
}

}  // namespace net

Reason CheckIpv4(std::string_view s) noexcept { return net::ParseIpv4(s, nullptr); }
Reason CheckIpv6(std::string_view s) noexcept { return net::ParseIpv6(s, nullptr); }

Reason CheckCidr(std::string_view s) noexcept {
  std::size_t slash = s.find('/');
  if (slash == std::string_view::npos) return "missing /prefix length";
  std::string_view addr = s.substr(0, slash);
  std::string_view prefix = s.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3) return "invalid prefix length";
  if (prefix.size() > 1 && prefix[0] == '0') return "prefix length with a leading zero";
  int bits = text::DigitsValue(prefix);
  if (bits < 0) return "invalid prefix length";
  std::uint8_t bytes[16];
  int width;
  if (addr.find(':') != std::string_view::npos) {
    std::array<std::uint8_t, 16> a;
    if (Reason r = net::ParseIpv6(addr, &a)) return r;
    std::memcpy(bytes, a.data(), 16);
    width = 128;
  } else {
    std::array<std::uint8_t, 4> a;
    if (Reason r = net::ParseIpv4(addr, &a)) return r;
    std::memcpy(bytes, a.data(), 4);
    width = 32;
  }
  if (bits > width) return "prefix length out of range";
  // As PostgreSQL's cidr type: bits to the right of the mask must be zero.
  for (int bit = bits; bit < width; ++bit) {
    if (bytes[bit / 8] & (0x80 >> (bit % 8))) return "host bits set to the right of the prefix";
  }
  return nullptr;
}

}  // namespace vigil::core
