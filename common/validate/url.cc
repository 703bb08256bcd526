// url.cc — absolute http, https and ftp URLs per RFC 3986 (SPEC §1, url).
//
//   URI       = scheme "://" authority path-abempty [ "?" query ] [ "#" fragment ]
//   authority = [ userinfo "@" ] host [ ":" port ]
// The host must be a hostname (LDH labels), a dotted IPv4 address or a
// bracketed IPv6 address; reg-names that are none of these (percent-encoded
// hosts, underscores, "999.999.999.999") are rejected because no http or ftp
// client can reach them. IRIs (non-ASCII) are rejected: store them
// percent-encoded.
#include <array>

#include "validate/net.h"
#include "base/text.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

enum : unsigned char { kUnreserved = 1, kSubDelim = 2 };

constexpr std::array<unsigned char, 128> MakeClasses() {
  std::array<unsigned char, 128> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kUnreserved;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kUnreserved;
  for (int c = '0'; c <= '9'; ++c) t[c] = kUnreserved;
  for (char c : std::string_view("-._~")) t[static_cast<unsigned char>(c)] = kUnreserved;
  for (char c : std::string_view("!$&'()*+,;=")) t[static_cast<unsigned char>(c)] = kSubDelim;
  return t;
}
constexpr std::array<unsigned char, 128> kClass = MakeClasses();

// CheckChars accepts unreserved, sub-delims, pct-encoded and `extra`.
Reason CheckChars(std::string_view s, std::string_view extra) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return "malformed percent-encoding";
      if (!text::IsHex(s[i + 1]) || !text::IsHex(s[i + 2])) return "malformed percent-encoding";
      i += 2;
      continue;
    }
    if (c >= 0x80) return "non-ASCII character (percent-encode it)";
    if (kClass[c] != 0 || extra.find(static_cast<char>(c)) != std::string_view::npos) continue;
    if (c == ' ') return "unencoded space";
    if (c < 0x20 || c == 0x7F) return "control character";
    return "character that must be percent-encoded";
  }
  return nullptr;
}

}  // namespace

Reason CheckUrl(std::string_view s) noexcept {
  if (s.empty()) return "empty URL";
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) return "missing scheme";
  std::string_view scheme = s.substr(0, colon);
  auto ieq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if ((a[i] | 0x20) != b[i]) return false;
    return true;
  };
  if (!(ieq(scheme, "http") || ieq(scheme, "https") || ieq(scheme, "ftp")))
    return "scheme must be http, https or ftp";
  std::string_view rest = s.substr(colon + 1);
  if (rest.substr(0, 2) != "//") return "missing // after scheme";
  rest.remove_prefix(2);
  std::size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);

  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    if (Reason r = CheckChars(authority.substr(0, at), ":")) return r;
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (!host.empty() && host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) return "unterminated IPv6 host";
    if (net::ParseIpv6(host.substr(1, close - 1), nullptr) != nullptr) return "invalid IPv6 host";
    std::string_view after = host.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return "unexpected character after IPv6 host";
      port = after.substr(1);
      has_port = true;
    }
  } else {
    std::size_t pc = host.rfind(':');
    if (pc != std::string_view::npos) {
      port = host.substr(pc + 1);
      has_port = true;
      host = host.substr(0, pc);
    }
    if (host.empty()) return "empty host";
    bool dotted_numeric = true;
    for (unsigned char c : host)
      if (!(text::IsDigit(c) || c == '.')) dotted_numeric = false;
    if (dotted_numeric) {
      if (net::ParseIpv4(host, nullptr) != nullptr) return "invalid IPv4 host";
    } else {
      for (unsigned char c : host) {
        if (c == '%') return "percent-encoded host names are not accepted";
        if (c == ' ') return "unencoded space";
      }
      // A fully qualified name may end in the root's empty label
      // (http://example.com./): RFC 3986 §3.2.2 and WHATWG both allow it.
      if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
      if (Reason r = net::CheckHostname(host, net::HostnameRules{false, false})) return r;
    }
  }
  if (has_port) {
    if (port.empty()) return "empty port";
    if (port.size() > 5) return "port out of range";
    int v = text::DigitsValue(port);
    if (v < 0) return "port is not a number";
    if (v > 65535) return "port out of range";
  }
  // path-abempty [ "?" query ] [ "#" fragment ]
  std::size_t hash = tail.find('#');
  std::string_view fragment;
  if (hash != std::string_view::npos) {
    fragment = tail.substr(hash + 1);
    tail = tail.substr(0, hash);
  }
  std::size_t q = tail.find('?');
  std::string_view path = tail.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : tail.substr(q + 1);
  if (Reason r = CheckChars(path, ":@/")) return r;
  if (Reason r = CheckChars(query, ":@/?")) return r;
  if (Reason r = CheckChars(fragment, ":@/?")) return r;
  return nullptr;
}

}  // namespace vigil::core
