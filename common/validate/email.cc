// email.cc — RFC 5321 Mailbox with RFC 6531 UTF-8 (SPEC §1, email).
//
// The grammar implemented is the envelope address of RFC 5321 §4.1.2:
//   Mailbox      = Local-part "@" ( Domain / address-literal )
//   Local-part   = Dot-string / Quoted-string
// with RFC 6531's extension of atext and qtextSMTP by UTF8-non-ascii, and
// domains of LDH labels (U-labels checked by libidn2). No comments, no
// folding white space, no obsolete forms: those belong to RFC 5322 message
// headers, not to addresses an application stores. docs/validation.md lists
// every choice.
//
// The ASCII path is a table look-up per byte and allocates nothing; it is the
// path the 5-million-a-second benchmark measures.
#include <array>
#include <cstring>

#include "validate/net.h"
#include "base/text.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

// atext (RFC 5322 §3.2.3): ALPHA / DIGIT / "!#$%&'*+-/=?^_`{|}~"
constexpr std::array<bool, 128> MakeAtext() {
  std::array<bool, 128> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-/=?^_`{|}~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 128> kAtext = MakeAtext();

// kFast marks atext bytes for FastValid (every byte >= 0x80 is 0);
// kHost marks letters and digits (1) and '-' (2).
constexpr std::array<unsigned char, 256> MakeFast() {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 128; ++c) t[c] = kAtext[c] ? 1 : 0;
  t['.'] = 2;
  t['@'] = 3;
  return t;
}
constexpr std::array<unsigned char, 256> kFast = MakeFast();

constexpr std::array<unsigned char, 256> MakeHost() {
  std::array<unsigned char, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = 1;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = 1;
  for (int c = '0'; c <= '9'; ++c) t[c] = 1;
  t['-'] = 2;
  return t;
}
constexpr std::array<unsigned char, 256> kHost = MakeHost();

// FastValid proves, in one pass, the common case: an ASCII dot-string local
// part and an ASCII hostname. It answers true only for addresses the full
// grammar below accepts; false means "not proven", and CheckEmail then runs
// the full check, which also finds the reason.
bool FastValid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  if (n == 0 || n > 254) return false;
  std::size_t i = 0;
  // Local part: non-empty runs of atext joined by single dots, then '@'.
  for (;;) {
    std::size_t atom = i;
    while (i < n && kFast[p[i]] == 1) ++i;
    if (i == atom || i == n) return false;
    if (p[i] == '@') break;
    if (p[i] != '.') return false;
    ++i;
  }
  if (i > 64) return false;
  ++i;
  // Domain: LDH labels of 1-63 octets joined by dots, at least one dot.
  std::size_t dots = 0, label = i;
  for (;;) {
    label = i;
    while (i < n && kHost[p[i]] != 0) ++i;
    std::size_t len = i - label;
    if (len == 0 || len > 63 || p[label] == '-' || p[i - 1] == '-') return false;
    // "xn--" A-labels need libidn2: leave them to the full check.
    if (len >= 4 && p[label + 2] == '-' && p[label + 3] == '-') return false;
    if (i == n) break;
    if (p[i] != '.') return false;
    ++dots;
    ++i;
  }
  // A top-level label that starts with a digit may be numeric or 0x-hex:
  // leave it to the full check.
  return dots > 0 && !text::IsDigit(p[label]);
}

Reason CheckDotString(std::string_view local) {
  if (local.empty()) return "local part is empty";
  if (local.front() == '.') return "local part starts with a dot";
  if (local.back() == '.') return "local part ends with a dot";
  for (std::size_t i = 0; i < local.size();) {
    unsigned char c = local[i];
    if (c < 0x80) {
      if (c == '.') {
        if (local[i + 1] == '.') return "local part has consecutive dots";
      } else if (!kAtext[c]) {
        if (c == '"') return "local part has a misplaced quote";
        if (c == ' ' || c == '\t') return "local part contains white space";
        if (c == '(' || c == ')') return "comments are not accepted";
        if (c < 0x20 || c == 0x7F) return "local part contains a control character";
        return "local part contains a character that must be quoted";
      }
      ++i;
      continue;
    }
    std::size_t len = text::Utf8SequenceLength(local, i);
    if (len == 0) return "invalid UTF-8 in local part";
    i += len;
  }
  return nullptr;
}

// ParseQuotedString scans Quoted-string at the start of s and stores the
// index just past the closing quote.
Reason ParseQuotedString(std::string_view s, std::size_t* end) {
  std::size_t i = 1;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c == '"') {
      *end = i + 1;
      return nullptr;
    }
    if (c == '\\') {
      if (i + 1 >= s.size()) break;
      unsigned char q = s[i + 1];
      if (q < 32 || q > 126) return "invalid quoted pair in local part";
      i += 2;
      continue;
    }
    if (c >= 0x80) {
      std::size_t len = text::Utf8SequenceLength(s, i);
      if (len == 0) return "invalid UTF-8 in local part";
      i += len;
      continue;
    }
    if (c < 32 || c == 127) return "quoted local part contains a control character";
    ++i;  // qtextSMTP: 32-33, 35-91, 93-126 (34 and 92 handled above)
  }
  return "unterminated quoted string in local part";
}

Reason CheckAddressLiteral(std::string_view lit) {
  // lit includes the brackets.
  if (lit.size() < 2 || lit.back() != ']') return "unterminated address literal";
  std::string_view inner = lit.substr(1, lit.size() - 2);
  if (inner.size() >= 5 && (inner.substr(0, 5) == "IPv6:" || inner.substr(0, 5) == "ipv6:" ||
                            inner.substr(0, 5) == "IPV6:")) {
    std::string_view addr = inner.substr(5);
    if (net::ParseIpv6(addr, nullptr) != nullptr) return "invalid IPv6 address literal";
    // RFC 5321 §4.1.3: "::" stands for at least two groups of zeros, so a
    // compressed literal has at most 6 groups (4 before an IPv4 tail).
    if (addr.find("::") != std::string_view::npos) {
      std::size_t groups = 0;
      for (std::size_t i = 0; i < addr.size(); ++i)
        if (addr[i] != ':' && (i == 0 || addr[i - 1] == ':')) ++groups;
      bool v4_tail = addr.find('.') != std::string_view::npos;
      if (v4_tail) groups += 1;  // the dotted quad counted once, is two groups
      if (groups > 6) return "IPv6 literal uses :: for a single group (RFC 5321)";
    }
    return nullptr;
  }
  if (net::ParseIpv4(inner, nullptr) != nullptr) return "address literal is not an IPv4 or IPv6 address";
  return nullptr;
}

}  // namespace

Reason CheckEmail(std::string_view s) noexcept {
  if (FastValid(s)) return nullptr;
  if (s.empty()) return "empty address";
  if (s.size() > 254) return "address longer than 254 octets";
  std::size_t at;
  if (s.front() == '"') {
    std::size_t end = 0;
    if (Reason r = ParseQuotedString(s, &end)) return r;
    if (end >= s.size() || s[end] != '@') return "quoted local part must be followed by @";
    at = end;
  } else {
    const void* p = std::memchr(s.data(), '@', s.size());
    if (p == nullptr) return "missing @";
    at = static_cast<const char*>(p) - s.data();
    if (Reason r = CheckDotString(s.substr(0, at))) return r;
  }
  if (at > 64) return "local part longer than 64 octets";
  std::string_view domain = s.substr(at + 1);
  if (domain.empty()) return "domain is empty";
  if (domain.front() == '[') return CheckAddressLiteral(domain);
  if (std::memchr(domain.data(), '@', domain.size()) != nullptr) return "more than one @";
  return net::CheckHostname(domain, net::HostnameRules{true, true});
}

}  // namespace vigil::core
