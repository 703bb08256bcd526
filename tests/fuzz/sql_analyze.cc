// sql_analyze.cc — fuzz target: the static analysis of vigil_analyze_query
// (sql/analyze.h) and the PostgreSQL plan reader (sql/plan.h).
//
// The first byte picks the dialect (bit 0: SQLite) and, with bit 1, feeds
// the rest to SummarizePostgres as EXPLAIN output instead; the rest is the
// SQL. Invariants: Analyze throws nothing (no cancel check is installed
// here; running out of memory is the only excuse); at most 1,000 issues,
// in text order, each at a character position inside the text (or just
// after it) and with a known rule and severity; the JSON writes; the plan
// reader fails only with its documented codes.
#include <new>
#include <set>
#include <string>

#include "base/error.h"
#include "base/text.h"
#include "fuzz.h"
#include "sql/analyze.h"
#include "sql/plan.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  core::Dialect dialect = (data[0] & 1) != 0 ? core::Dialect::kSqlite : core::Dialect::kPostgres;
  std::string_view sql = fuzz::Text(data + 1, size - 1);
  if ((data[0] & 2) != 0) {
    try {
      (void)core::sql::SummarizePostgres(sql);
    } catch (const core::Error& e) {
      fuzz::Check(e.code() == core::ErrorCode::kInvalidText || e.code() == core::ErrorCode::kProgramLimit ||
                      e.code() == core::ErrorCode::kInvalidParameter,
                  "the plan reader failed with an undocumented code");
    } catch (const std::bad_alloc&) {
    }
    return 0;
  }
  static const std::set<std::string> kRules = {
      "select_star",   "missing_where",   "leading_wildcard_like", "function_on_column", "implicit_cross_join",
      "not_in_subquery", "equals_null",   "order_by_random",       "large_offset",       "or_chain",
      "tautology",     "stacked_statements", "insert_without_columns"};
  try {
    core::sql::Analysis a = core::sql::Analyze(sql, dialect);
    std::size_t chars = 0;
    for (std::size_t i = 0; i < sql.size(); ++i)
      if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) ++chars;
    fuzz::Check(a.issues.size() <= 1000, "more than 1,000 issues");
    std::size_t last = 0;
    for (const core::sql::Issue& i : a.issues) {
      fuzz::Check(kRules.count(i.rule) == 1, "an unknown rule");
      fuzz::Check(i.severity == "error" || i.severity == "warning" || i.severity == "info", "an unknown severity");
      fuzz::Check(i.position >= 1 && i.position <= chars + 1, "a position outside the text");
      fuzz::Check(i.position >= last, "issues out of text order");
      last = i.position;
    }
    (void)core::sql::ToJson(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::bad_alloc&) {
  }
  return 0;
}
