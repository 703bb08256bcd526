// decimal.cc — exact decimal numbers for the rules (decimal.h).
#include "base/decimal.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core {

std::optional<Decimal> Decimal::Parse(std::string_view s) {
  if (s.empty() || s.size() > kMaxText) return std::nullopt;
  Decimal d;
  std::size_t i = 0;
  if (s[i] == '+' || s[i] == '-') d.negative_ = s[i++] == '-';
  std::string digits;
  long long point_shift = 0;
  bool any = false, dot = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (text::IsDigit(c)) {
      any = true;
      digits += c;
      if (dot) --point_shift;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!any) return std::nullopt;
  long long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool eneg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= s.size()) return std::nullopt;
    for (; i < s.size(); ++i) {
      if (!text::IsDigit(s[i])) return std::nullopt;
      exponent = exponent * 10 + (s[i] - '0');
      if (exponent > kMaxExponent) return std::nullopt;
    }
    if (eneg) exponent = -exponent;
  }
  if (i != s.size()) return std::nullopt;
  std::size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    d.negative_ = false;  // -0 is 0
    return d;
  }
  std::size_t last = digits.find_last_not_of('0');
  d.exponent_ = exponent + point_shift + static_cast<long long>(digits.size() - 1 - last);
  d.digits_ = digits.substr(lead, last - lead + 1);
  return d;
}

long long Decimal::IntegerDigits() const {
  long long n = static_cast<long long>(digits_.size()) + exponent_;
  return n > 0 ? n : 0;
}

long long Decimal::FractionDigits() const { return exponent_ < 0 ? -exponent_ : 0; }

bool Decimal::FitsInt64() const {
  if (zero()) return true;
  if (!integer() || IntegerDigits() > 19) return false;
  static const Decimal kMax = *Parse("9223372036854775807");
  static const Decimal kMin = *Parse("-9223372036854775808");
  return Compare(*this, kMax) <= 0 && Compare(*this, kMin) >= 0;
}

std::string ShortestDouble(double d) {
  if (!std::isfinite(d)) return "";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc() ? std::string(buf, end) : "";
}

std::string Decimal::IntegerText() const {
  if (!FitsInt64()) return "";
  if (zero()) return "0";
  std::string out = negative_ ? "-" : "";
  out += digits_;
  out.append(static_cast<std::size_t>(exponent_), '0');
  return out;
}

int Decimal::Compare(const Decimal& a, const Decimal& b) {
  if (a.zero() && b.zero()) return 0;
  int sa = a.zero() ? 0 : a.negative_ ? -1 : 1;
  int sb = b.zero() ? 0 : b.negative_ ? -1 : 1;
  if (sa != sb) return sa < sb ? -1 : 1;
  // Same sign, both non-zero: compare magnitudes, then flip for negatives.
  long long ma = static_cast<long long>(a.digits_.size()) + a.exponent_;
  long long mb = static_cast<long long>(b.digits_.size()) + b.exponent_;
  int mag = 0;
  if (ma != mb) {
    mag = ma < mb ? -1 : 1;
  } else {
    std::size_t n = std::max(a.digits_.size(), b.digits_.size());
    for (std::size_t i = 0; i < n && mag == 0; ++i) {
      char ca = i < a.digits_.size() ? a.digits_[i] : '0';
      char cb = i < b.digits_.size() ? b.digits_[i] : '0';
      if (ca != cb) mag = ca < cb ? -1 : 1;
    }
  }
  return sa < 0 ? -mag : mag;
}

double Decimal::ToDouble() const {
  if (zero()) return 0;
  std::string s = negative_ ? "-" : "";
  s.append(digits_).append("e").append(std::to_string(exponent_));
  return std::strtod(s.c_str(), nullptr);
}

std::string Decimal::ToString() const {
  if (zero()) return "0";
  std::string out = negative_ ? "-" : "";
  long long len = static_cast<long long>(digits_.size());
  long long point = len + exponent_;  // digits before the point
  if (exponent_ >= 0 && point <= 21) {
    out += digits_;
    out.append(static_cast<std::size_t>(exponent_), '0');
  } else if (exponent_ < 0 && point > 0) {
    out += digits_.substr(0, static_cast<std::size_t>(point));
    out += '.';
    out += digits_.substr(static_cast<std::size_t>(point));
  } else if (exponent_ < 0 && point > -6) {
    out += "0.";
    out.append(static_cast<std::size_t>(-point), '0');
    out += digits_;
  } else {
    out += digits_[0];
    if (len > 1) out.append(".").append(digits_, 1, std::string::npos);
    out.append("e").append(std::to_string(point - 1));
  }
  if (out.size() > 80) out.replace(77, std::string::npos, "...");
  return out;
}

}  // namespace vigil::core
