// quote.h — SQL quoting, the same in both engines. Every statement vigil
// builds from identifiers or values quotes them (or binds them).
#pragma once

#include <string>
#include <string_view>

namespace vigil::core {

// QuoteIdent returns s as an SQL identifier in double quotes, QuoteLiteral
// as a string literal in single quotes.
std::string QuoteIdent(std::string_view s);
std::string QuoteLiteral(std::string_view s);

}  // namespace vigil::core
