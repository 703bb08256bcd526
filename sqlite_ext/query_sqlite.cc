// query_sqlite.cc — query analysis on SQLite (SPEC §7, issue 15): the
// statement's canonical text and fingerprint (common/sql/normalize.h),
// read by SQLite's lexical rules.
#include <sqlite3ext.h>

#include <string_view>

#include "base/error.h"
#include "boundary.h"
#include "module_sqlite.h"
#include "sql/normalize.h"

namespace vigil::sqlite {
namespace {

namespace core = vigil::core;

constexpr std::size_t kMaxStatement = std::size_t{16} << 20;  // as on PostgreSQL (query_pg.cc)

std::string_view Statement(sqlite3_value* v) {
  std::string_view sql = Text(v);
  if (sql.size() > kMaxStatement) throw core::Error(core::ErrorCode::kProgramLimit, "statement longer than 16 MiB");
  return sql;
}

void Normalize(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  ResultText(ctx, core::sql::Normalize(Statement(argv[0]), core::Dialect::kSqlite));
}

void Fingerprint(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  ResultText(ctx, core::sql::Fingerprint(Statement(argv[0]), core::Dialect::kSqlite));
}

const Impl kImpls[] = {
    {"vigil_normalize", Bridge<Normalize>, nullptr, false, false},
    {"vigil_fingerprint", Bridge<Fingerprint>, nullptr, false, false},
};

}  // namespace

std::span<const Impl> QueryImpls() { return kImpls; }

}  // namespace vigil::sqlite
