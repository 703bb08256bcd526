// text.cc — byte-level helpers for the validators.
#include "base/text.h"

#include "base/core_guard.h"

namespace vigil::core::text {

std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  unsigned char c = p[i];
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k) {
    return i + k < n && (p[i + k] & 0xC0) == 0x80;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    unsigned char c1 = p[i + 1];
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    unsigned char c1 = p[i + 1];
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool IsValidUtf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

int DigitsValue(std::string_view s) noexcept {
  if (s.empty() || s.size() > 9) return -1;
  int v = 0;
  for (unsigned char c : s) {
    if (!IsDigit(c)) return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string Printable(std::string_view s, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = s[i];
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string ValidUtf8Or(std::string s, char replacement) {
  if (IsValidUtf8(s)) return s;
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += replacement;
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

std::string ForMessage(std::string_view s, std::size_t max) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = Utf8SequenceLength(s, i);
    bool control = n == 1 && (static_cast<unsigned char>(s[i]) < 0x20 || s[i] == 0x7f);
    std::size_t take = (n == 0 || control) ? 1 : n;
    if (out.size() + take > max) {
      out += "...";
      break;
    }
    if (n == 0 || control) out += '?'; else out.append(s, i, n);
    i += take;
  }
  return out;
}

}  // namespace vigil::core::text
