// text.h — small byte-level helpers shared by the validators (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::core::text {

inline bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline bool IsAlpha(unsigned char c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
inline bool IsAlnum(unsigned char c) { return IsDigit(c) || IsAlpha(c); }
inline bool IsHex(unsigned char c) {
  return IsDigit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
inline int HexValue(unsigned char c) {
  return IsDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}
inline bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
inline bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
// AsciiLower lower-cases A-Z only: how both engines fold unquoted names.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (IsUpper(static_cast<unsigned char>(c))) c = static_cast<char>(c + 32);
  return out;
}

// Utf8SequenceLength returns the length of the well-formed UTF-8 sequence
// that starts at s[i] (1–4), or 0 when it is ill-formed: overlong forms,
// surrogates, code points above U+10FFFF and truncated sequences are all
// rejected (RFC 3629).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) noexcept;

// CodePoints counts the code points of UTF-8 text (bytes that do not
// continue a sequence).
inline std::size_t CodePoints(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// IsValidUtf8 reports whether the whole string is well-formed UTF-8.
bool IsValidUtf8(std::string_view s) noexcept;

// ValidUtf8Or returns s with every byte that does not start a well-formed
// UTF-8 sequence replaced by `replacement` (s itself when it is valid).
std::string ValidUtf8Or(std::string s, char replacement);

// DigitsValue parses exactly s.size() ASCII digits; returns -1 otherwise.
int DigitsValue(std::string_view s) noexcept;

// Printable copies at most `max` bytes of s for an error message, replacing
// control bytes and non-ASCII bytes with '?', so a message never carries
// invalid UTF-8 or terminal escapes.
std::string Printable(std::string_view s, std::size_t max);

// ForMessage copies s for an error message: valid UTF-8 kept, invalid bytes
// and control characters (NUL, newlines, escapes) as '?', at most `max`
// bytes (cut at a character boundary, with "..." when cut). Every message
// an engine receives passes through it once, in its boundary.
std::string ForMessage(std::string_view s, std::size_t max);

}  // namespace vigil::core::text
