// decimal.h — the one numeric model of the rules (SPEC §2).
//
// A rule compares numbers as the exact decimals they are written as, on
// both engines: `range` bounds beyond 2^64, `positive` on 1e-400, `one_of`
// with [1e2] and a row's 100 or 100.0, `precision` on a PostgreSQL numeric
// of 1e309. Decimal parses a number's text (JSON spelling, or an engine's
// output such as PostgreSQL numeric and SQLite REAL text) without rounding
// and compares exactly.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil::core {

// ShortestDouble is the shortest text that reads back as `d` (std::to_chars:
// what JSON, JavaScript and Python print); "" for infinity or NaN.
std::string ShortestDouble(double d);

class Decimal {
 public:
  // Parse accepts [+-]digits[.digits][e[+-]digits] (".5" and "5." too), at
  // most kMaxText characters and an exponent within ±kMaxExponent; nullopt
  // otherwise (NaN, Infinity, hex, spaces are not numbers).
  static constexpr std::size_t kMaxText = 200000;
  static constexpr long long kMaxExponent = 1000000;
  static std::optional<Decimal> Parse(std::string_view text);

  bool negative() const { return negative_; }
  bool zero() const { return digits_.empty(); }
  bool integer() const { return exponent_ >= 0; }
  // Digits before and after the decimal point, as written without leading
  // or trailing zeros (PostgreSQL numeric's precision and scale).
  long long IntegerDigits() const;
  long long FractionDigits() const;
  // FitsInt64 reports whether the value is an integer in [-2^63, 2^63-1].
  bool FitsInt64() const;
  // IntegerText is the value as plain integer digits ("-7083203114907025400")
  // when FitsInt64(), else "".
  std::string IntegerText() const;

  // Compare is -1, 0 or 1.
  static int Compare(const Decimal& a, const Decimal& b);
  bool operator==(const Decimal& o) const { return Compare(*this, o) == 0; }

  // ToDouble is the nearest double (±inf or 0 beyond its range).
  double ToDouble() const;

  // ToString spells the value for a message: plain when short, otherwise
  // with an exponent ("1e-400").
  std::string ToString() const;

 private:
  bool negative_ = false;
  std::string digits_;     // no leading or trailing zeros; empty for zero
  long long exponent_ = 0;  // value = digits_ × 10^exponent_
};

}  // namespace vigil::core
