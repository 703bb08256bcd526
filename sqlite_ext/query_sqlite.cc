// query_sqlite.cc — query analysis on SQLite (SPEC §7, issue 15): the
// statement's canonical text and fingerprint (common/sql/normalize.h),
// read by SQLite's lexical rules.
#include <sqlite3ext.h>

#include <string_view>

#include "base/error.h"
#include "boundary.h"
#include "module_sqlite.h"
#include "sql/analyze.h"
#include "sql/normalize.h"
#include "sql/plan.h"
#include "sqlite_util.h"

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

// Planner is SQLite's side of vigil_analyze_query: EXPLAIN QUERY PLAN on
// the caller's connection. Preparing compiles the statement and never runs
// it; only the first statement of the text is compiled, and a text with
// more is refused before (the core counts statements) and after (the tail
// SQLite leaves must be empty).
class Planner : public core::sql::Planner {
 public:
  explicit Planner(sqlite3* db) : db_(db) {}
  bool CanAnalyze() const override { return false; }

  nlohmann::json Plan(std::string_view sql, bool, std::string* refusal) override {
    std::string text = "EXPLAIN QUERY PLAN ";
    text += sql;
    ReserveOwnStatement();
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, text.c_str(), static_cast<int>(text.size()), &stmt, &tail);
    if (rc != SQLITE_OK) {
      int primary = rc & 0xff;
      if (primary == SQLITE_NOMEM || primary == SQLITE_INTERRUPT || primary == SQLITE_CORRUPT ||
          primary == SQLITE_IOERR)
        EngineError(db_);
      *refusal = sqlite3_errmsg(db_);
      return nullptr;
    }
    if (stmt == nullptr) {
      *refusal = "no statement to plan";
      return nullptr;
    }
    OwnStatement(stmt, true);
    struct Finalize {
      sqlite3_stmt* s;
      ~Finalize() {
        OwnStatement(s, false);
        sqlite3_finalize(s);
      }
    } finalize{stmt};
    for (const char* p = tail; p != nullptr && *p != '\0'; ++p)
      if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') {
        *refusal = "the text holds more than one statement: only a single statement is planned";
        return nullptr;
      }
    std::vector<core::sql::EqpRow> rows;
    for (;;) {
      rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) EngineError(db_);
      const unsigned char* d = sqlite3_column_text(stmt, 3);
      rows.push_back({sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
                      d ? std::string(reinterpret_cast<const char*>(d)) : std::string()});
      if (rows.size() > 100000) throw core::Error(core::ErrorCode::kProgramLimit, "the plan has more than 100000 steps");
    }
    return core::sql::SummarizeSqlite(rows);
  }

 private:
  sqlite3* db_;
};

// vigil_analyze_query(sql [, options]) -> the analysis as JSON text.
void AnalyzeQuery(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  std::string_view sql = Statement(argv[0]);
  std::string_view options = argc > 1 ? Text(argv[1]) : std::string_view("{}");
  Planner planner(sqlite3_context_db_handle(ctx));
  ResultText(ctx, core::sql::AnalyzeQuery(sql, core::Dialect::kSqlite, options, &planner));
}

const Impl kImpls[] = {
    {"vigil_analyze_query", Bridge<AnalyzeQuery>, nullptr, false, false},
    {"vigil_normalize", Bridge<Normalize>, nullptr, false, false},
    {"vigil_fingerprint", Bridge<Fingerprint>, nullptr, false, false},
};

}  // namespace

std::span<const Impl> QueryImpls() { return kImpls; }

}  // namespace vigil::sqlite
