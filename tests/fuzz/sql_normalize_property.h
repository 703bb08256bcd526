// sql_normalize_property.h — the security property of sql::Normalize
// (sql/normalize.h), checked by the core tests and the sql_normalize fuzz
// target alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sql/lexer.h"
#include "sql/normalize.h"

namespace vigil::test {

// NormalizeViolation normalises `sql` and returns what is wrong with the
// result, or "" when nothing is: the output must normalise to itself, hold
// no string, number or comment token, and every other token it holds (but
// the placeholder ? and the separator ;) must be one of the input's own
// words (lower-cased), quoted identifiers or operators, in the input's
// order. So no byte of a constant can reach the output.
inline std::string NormalizeViolation(std::string_view sql, core::Dialect d) {
  using core::sql::Token;
  using core::sql::TokenKind;
  const std::string out = core::sql::Normalize(sql, d);
  if (core::sql::Normalize(out, d) != out) return "not idempotent: " + out;
  const std::vector<Token> in = core::sql::Tokenize(sql, d);
  auto same = [](std::string_view input, std::string_view output, bool fold) {
    if (input.size() != output.size()) return false;
    for (std::size_t i = 0; i < input.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(input[i]);
      if (fold && c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
      if (c != static_cast<unsigned char>(output[i])) return false;
    }
    return true;
  };
  std::size_t k = 0;
  for (const Token& t : core::sql::Tokenize(out, d)) {
    std::string_view text = std::string_view(out).substr(t.begin, t.end - t.begin);
    if (t.kind == TokenKind::kString || t.kind == TokenKind::kNumber || t.kind == TokenKind::kComment)
      return "a constant or comment in the output: " + out;
    if (text == "?" || text == ";") continue;
    while (k < in.size() &&
           !(in[k].kind == t.kind && same(sql.substr(in[k].begin, in[k].end - in[k].begin), text,
                                          t.kind == TokenKind::kWord)))
      ++k;
    if (k == in.size()) return "output token " + std::string(text) + " is not the input's: " + out;
    ++k;
  }
  return "";
}

}  // namespace vigil::test
