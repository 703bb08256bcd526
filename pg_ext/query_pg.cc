// query_pg.cc — query analysis on PostgreSQL (SPEC §7, issue 15): the
// statement's canonical text and fingerprint (common/sql/normalize.h),
// read by PostgreSQL's lexical rules.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "utils/builtins.h"
}

#include <string_view>

#include "base/error.h"
#include "sql/normalize.h"

namespace core = vigil::core;
using vigil::pg::ArgText;
using vigil::pg::Run;

namespace {

// A statement is at most 16 MiB: normalising is linear, but a bound keeps
// one call's time and memory known.
constexpr std::size_t kMaxStatement = std::size_t{16} << 20;

void CheckSize(std::string_view sql) {
  if (sql.size() > kMaxStatement) throw core::Error(core::ErrorCode::kProgramLimit, "statement longer than 16 MiB");
}

}  // namespace

// vigil_normalize(sql text) -> the canonical text: constants as ?, IN
// lists collapsed, comments and spacing gone, keywords lower-cased.
VIGIL_PG_FUNCTION(vigil_normalize) {
  std::string_view sql = ArgText(PG_GETARG_TEXT_PP(0));
  PG_RETURN_TEXT_P(Run([&] {
    CheckSize(sql);
    return vigil::pg::MakeText(core::sql::Normalize(sql, core::Dialect::kPostgres));
  }));
}

// vigil_fingerprint(sql text) -> 16 hex digits shared by statements that
// differ only in constants, spacing, comments or keyword case.
VIGIL_PG_FUNCTION(vigil_fingerprint) {
  std::string_view sql = ArgText(PG_GETARG_TEXT_PP(0));
  PG_RETURN_TEXT_P(Run([&] {
    CheckSize(sql);
    return vigil::pg::MakeText(core::sql::Fingerprint(sql, core::Dialect::kPostgres));
  }));
}
