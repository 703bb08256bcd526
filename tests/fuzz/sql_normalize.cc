// sql_normalize.cc — fuzz target: statement normalisation,
// sql::Normalize and sql::Fingerprint (sql/normalize.h), and so
// sql::Tokenize (sql/lexer.h).
//
// The first byte picks the dialect (bit 0: SQLite); the rest is the SQL.
// Invariants: Normalize throws nothing (no cancel check is installed here;
// running out of memory is the only excuse); its output normalises to
// itself and holds no constant, only the input's own words, quoted
// identifiers and operators (sql_normalize_property.h); tokens lie inside
// the text, in order; a fingerprint is 16 hex digits.
#include <new>

#include "fuzz.h"
#include "sql/lexer.h"
#include "sql/normalize.h"
#include "sql_normalize_property.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  core::Dialect dialect = (data[0] & 1) != 0 ? core::Dialect::kSqlite : core::Dialect::kPostgres;
  std::string_view sql = fuzz::Text(data + 1, size - 1);
  try {
    std::size_t end = 0;
    for (const core::sql::Token& t : core::sql::Tokenize(sql, dialect)) {
      fuzz::Check(t.begin >= end && t.begin < t.end && t.end <= sql.size(), "a token out of order or outside");
      end = t.end;
    }
    std::string violation = test::NormalizeViolation(sql, dialect);
    if (!violation.empty()) std::fprintf(stderr, "%s\n", violation.c_str());
    fuzz::Check(violation.empty(), "Normalize broke its property");
    std::string fingerprint = core::sql::Fingerprint(sql, dialect);
    fuzz::Check(fingerprint.size() == 16 && fingerprint.find_first_not_of("0123456789abcdef") == std::string::npos,
                "a fingerprint that is not 16 hex digits");
  } catch (const std::bad_alloc&) {
  }
  return 0;
}
