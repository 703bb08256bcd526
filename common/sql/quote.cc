// quote.cc — SQL quoting, the same in both engines (see quote.h).
#include "sql/quote.h"

#include "base/core_guard.h"

namespace vigil::core {

namespace {

// Quoted doubles `quote` inside and wraps the text in it (SQL quoting, the
// same in both engines).
std::string Quoted(std::string_view s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

}  // namespace

std::string QuoteIdent(std::string_view s) { return Quoted(s, '"'); }
std::string QuoteLiteral(std::string_view s) { return Quoted(s, '\''); }

}  // namespace vigil::core
