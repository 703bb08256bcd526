// query_pg.cc — query analysis on PostgreSQL (SPEC §7, issue 15): the
// statement's canonical text and fingerprint (common/sql/normalize.h),
// read by PostgreSQL's lexical rules.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include <atomic>
#include <string>
#include <string_view>

#include "base/error.h"
#include "spi_guard.h"
#include "sql/analyze.h"
#include "sql/lexer.h"
#include "sql/normalize.h"
#include "sql/plan.h"

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

namespace {

// Refused says whether an error planning the caller's statement belongs
// to the statement (its syntax, a name it uses, a privilege it lacks, a
// value, a read-only transaction for an analysed write): reported as the
// plan_error. Anything else (a cancel, out of memory, a crash of a
// function) is raised.
bool Refused(int code) {
  int category = ERRCODE_TO_CATEGORY(code);
  return category == ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION || category == ERRCODE_DATA_EXCEPTION ||
         category == ERRCODE_FEATURE_NOT_SUPPORTED || category == ERRCODE_INVALID_TRANSACTION_STATE ||
         category == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION || category == ERRCODE_WITH_CHECK_OPTION_VIOLATION ||
         category == ERRCODE_CARDINALITY_VIOLATION || code == ERRCODE_UNDEFINED_OBJECT;
}

// SqlStateText spells a packed SQLSTATE ("42501"), as unpack_sql_state
// does, without a call into the server.
std::string SqlStateText(int code) {
  std::string out(5, '0');
  for (char& c : out) {
    c = static_cast<char>(PGUNSIXBIT(code));
    code >>= 6;
  }
  return out;
}

// Planner is PostgreSQL's side of vigil_analyze_query. The statement is
// planned as the caller (SECURITY INVOKER, the caller's search_path), so
// planning it can do nothing the caller could not; all of it happens in a
// subtransaction that is rolled back, so EXPLAIN ANALYZE of a DELETE
// deletes nothing. The server's own parser must find exactly one
// statement, of a kind EXPLAIN plans, before the text is put after
// EXPLAIN: "SELECT 1; DROP TABLE t" never reaches SPI. A statement with
// parameters ($1) is prepared and its generic plan explained
// (plan_cache_mode = force_generic_plan, local to the subtransaction), as
// PostgreSQL 16's EXPLAIN (GENERIC_PLAN) does; binding NULLs to a custom
// plan would give a meaningless one.
class Planner : public core::sql::Planner {
 public:
  bool CanAnalyze() const override { return true; }
  std::string NoSuggestions() const override {
    return "index advice on PostgreSQL (hypothetical indexes in the planner hook) is not built yet";
  }

  nlohmann::json Plan(std::string_view sql, bool analyze, std::string* refusal) override {
    std::string text(sql);
    vigil::pg::SpiOutcome out;
    bool plannable = false;
    int count = vigil::pg::RawStatementsGuarded(text.c_str(), &plannable, &out);
    if (!out.ok) {
      if (!Refused(out.sqlerrcode)) vigil::pg::ThrowOutcome(out);
      *refusal = SqlStateText(out.sqlerrcode) + ": " + (out.error ? out.error : "");
      return nullptr;
    }
    if (count != 1) {
      *refusal = count == 0 ? "no statement to plan" : "the text holds more than one statement: only a single statement is planned";
      return nullptr;
    }
    if (!plannable) {
      *refusal = "EXPLAIN plans SELECT, VALUES, INSERT, UPDATE, DELETE and MERGE only";
      return nullptr;
    }
    bool parameters = false;
    for (const core::sql::Token& t : core::sql::Tokenize(sql, core::Dialect::kPostgres))
      parameters = parameters || t.kind == core::sql::TokenKind::kParameter;

    vigil::pg::SubxactState sx;
    if (!vigil::pg::SubxactBeginGuarded(&sx, &out)) vigil::pg::ThrowOutcome(out);
    // The subtransaction is rolled back however this ends (a throw too).
    struct Rollback {
      vigil::pg::SubxactState* sx;
      ~Rollback() {
        vigil::pg::SpiOutcome ignored;
        (void)vigil::pg::SubxactRollbackGuarded(sx, &ignored);
      }
    } rollback{&sx};
    std::string explain;
    if (!parameters) {
      std::string q = analyze ? "EXPLAIN (FORMAT JSON, ANALYZE, BUFFERS)\n" : "EXPLAIN (FORMAT JSON)\n";
      q += text;
      if (!Query(q, &explain, refusal)) return nullptr;
    } else {
      static std::atomic<unsigned> serial{0};
      std::string name = "vigil_analyze_query_" + std::to_string(++serial);
      std::string ignored;
      if (!Query("PREPARE " + name + " AS\n" + text, &ignored, refusal)) return nullptr;
      // A prepared statement outlives a rolled-back subtransaction: deallocated whatever happens next.
      struct Deallocate {
        std::string sql;
        ~Deallocate() {
          vigil::pg::SpiOutcome ignored;
          vigil::pg::SpiRunGuarded(sql.c_str(), 0, nullptr, &ignored, InvalidOid, vigil::pg::kPinnedPath);
        }
      } deallocate{"DEALLOCATE " + name};
      std::string n = Single(vigil::pg::GuardedQuery(
          "SELECT pg_catalog.cardinality(parameter_types) FROM pg_catalog.pg_prepared_statements WHERE name = $1",
          {name}));
      // One call: each guarded call ends its own GUC changes, SET LOCAL too.
      std::string q = "SET LOCAL plan_cache_mode = force_generic_plan; EXPLAIN (FORMAT JSON) EXECUTE " + name;
      int params = std::stoi(n);
      for (int i = 0; i < params; ++i) q += i == 0 ? "(NULL" : ", NULL";
      if (params > 0) q += ")";
      if (!Query(q, &explain, refusal)) return nullptr;
    }
    return core::sql::SummarizePostgres(explain);
  }

 private:
  // Query runs sql as the caller (the caller's search_path) and returns
  // its first value; false with `refusal` set when the statement is
  // refused (Refused); any other error is thrown.
  static bool Query(const std::string& sql, std::string* first, std::string* refusal) {
    vigil::pg::SpiOutcome out;
    vigil::pg::SpiRunGuarded(sql.c_str(), 0, nullptr, &out, InvalidOid, vigil::pg::kCallersPath);
    if (!out.ok) {
      if (!Refused(out.sqlerrcode)) vigil::pg::ThrowOutcome(out);
      *refusal = SqlStateText(out.sqlerrcode) + ": " + (out.error ? out.error : "");
      return false;
    }
    if (out.nrows > 0 && out.ncols > 0 && out.values[0][0] != nullptr) *first = out.values[0][0];
    return true;
  }

  static std::string Single(const std::vector<vigil::pg::GuardedRow>& rows) {
    if (rows.empty() || rows[0].empty() || !rows[0][0]) throw core::Error(core::ErrorCode::kInternal, "EXPLAIN returned no row");
    return *rows[0][0];
  }
};

}  // namespace

// vigil_analyze_query(sql text, options jsonb DEFAULT '{}') -> jsonb:
// static rules, tables, kind and fingerprint, and the plan summary.
VIGIL_PG_FUNCTION(vigil_analyze_query) {
  std::string_view sql = ArgText(PG_GETARG_TEXT_PP(0));
  Jsonb* jb = PG_GETARG_JSONB_P(1);
  char* options = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* result = Run([&] {
    CheckSize(sql);
    Planner planner;
    std::string json = core::sql::AnalyzeQuery(sql, core::Dialect::kPostgres, options, &planner);
    MemoryContext old = MemoryContextSwitchTo(caller);
    char* copy = vigil::pg::CopyCString(json);
    MemoryContextSwitchTo(old);
    return copy;
  });
  SPI_finish();
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}
