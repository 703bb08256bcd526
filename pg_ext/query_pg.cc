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
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "spi_guard.h"
#include "sql/analyze.h"
#include "sql/lexer.h"
#include "sql/normalize.h"
#include "sql/advice.h"
#include "sql/plan.h"
#include "sql/quote.h"

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
  bool CanSuggest() const override { return true; }

  void AllowPrivileged(bool allow) override { allow_superuser_ = allow; }

  long long RowEstimate(const std::string& table) override {
    Oid relid = Relid(table);
    if (!OidIsValid(relid)) return -1;
    auto rows = vigil::pg::GuardedQuery(
        "SELECT CASE WHEN reltuples < 0 THEN -1 ELSE reltuples::bigint END::text FROM pg_class WHERE oid = $1",
        {std::to_string(relid)});
    return rows.empty() || !rows[0][0] ? -1 : std::stoll(*rows[0][0]);
  }

  std::vector<std::vector<std::string>> ForeignKeys(const std::string& table) override {
    Oid relid = Relid(table);
    std::vector<std::vector<std::string>> out;
    if (!OidIsValid(relid)) return out;
    for (const auto& row : vigil::pg::GuardedQuery(
             "SELECT (SELECT json_agg(a.attname::text ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) "
             "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum)::text "
             "FROM pg_constraint c WHERE c.conrelid = $1 AND c.contype = 'f' ORDER BY c.oid LIMIT 1000",
             {std::to_string(relid)})) {
      nlohmann::json cols = core::json_in::ParseInput(row[0].value_or("[]"), "foreign key columns");
      std::vector<std::string> fk;
      if (cols.is_array())
        for (const nlohmann::json& c : cols) fk.push_back(c.is_string() ? c.get<std::string>() : "");
      out.push_back(std::move(fk));
    }
    return out;
  }

  std::vector<ExistingIndex> ExistingIndexes() override {
    std::vector<ExistingIndex> out;
    for (const auto& row : vigil::pg::GuardedQuery(
             "SELECT n.nspname || '.' || c.relname, i.relname, x.indisunique::text, x.indisprimary::text, "
             "(x.indisvalid AND x.indisready)::text, (x.indpred IS NOT NULL)::text, "
             "pg_stat_get_numscans(x.indexrelid)::text, "
             // The size the catalog records (VACUUM, ANALYZE and CREATE
             // INDEX keep it): pg_relation_size would lock the index, and
             // wait behind any role that holds a lock on its table.
             "(i.relpages::bigint * current_setting('block_size')::bigint)::text, "
             // Each column's name by an index lookup (an expression: ""),
             // not a hash join built again for every index.
             "(SELECT json_agg(COALESCE((SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = x.indrelid "
             " AND a.attnum = k.attnum), '') ORDER BY k.ord) "
             " FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY k(attnum, ord))::text "
             "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid "
             "JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', "
             "'vigil_state') AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' "
             "ORDER BY 1, 2 LIMIT 100000",
             {})) {
      ExistingIndex x;
      x.table = row[0].value_or("");
      x.name = row[1].value_or("");
      x.unique = row[2].value_or("") == "true";
      x.primary = row[3].value_or("") == "true";
      x.valid = row[4].value_or("") == "true";
      x.partial = row[5].value_or("") == "true";
      x.scans = std::stoll(row[6].value_or("-1"));
      x.bytes = std::stoll(row[7].value_or("-1"));
      nlohmann::json cols = core::json_in::ParseInput(row[8].value_or("[]"), "index columns");
      if (cols.is_array())
        for (const nlohmann::json& c : cols) x.columns.push_back(c.is_string() ? c.get<std::string>() : "");
      out.push_back(std::move(x));
    }
    return out;
  }

  nlohmann::json Plan(std::string_view sql, bool analyze, std::string* refusal) override {
    // Planning evaluates the statement's immutable functions (in views and
    // policies too) as the caller. For a superuser that would run any
    // role's function with every right: refused unless asked for. The
    // current user, not the session's: inside a SECURITY DEFINER function
    // owned by a superuser, the plan would run as that superuser.
    if (!allow_superuser_ && Single(vigil::pg::GuardedQuery("SELECT rolsuper::text FROM pg_roles WHERE rolname = CURRENT_USER", {})) == "true") {
      *refusal = "not planned for a superuser: planning runs the statement's functions (in views and policies "
                 "too) as the caller; analyse as the role that runs the statement, or pass "
                 "{\"plan_as_superuser\": true} for text you trust";
      return nullptr;
    }
    checked_ = false;
    parameters_ = false;
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
    for (const core::sql::Token& t : core::sql::Tokenize(sql, core::Dialect::kPostgres))
      parameters_ = parameters_ || t.kind == core::sql::TokenKind::kParameter;
    checked_ = true;
    std::string explain;
    if (!Explain(text, analyze, &explain, refusal)) return nullptr;
    return core::sql::SummarizePostgres(explain);
  }

  std::vector<std::string> Columns(const std::string& table) override {
    Oid relid = Relid(table);
    if (!OidIsValid(relid)) return {};
    std::vector<std::string> out;
    for (const auto& row : vigil::pg::GuardedQuery(
             "SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped "
             "AND has_column_privilege(attrelid, attnum, 'SELECT') ORDER BY attnum",
             {std::to_string(relid)}))
      if (row[0]) out.push_back(*row[0]);
    return out;
  }

  std::vector<std::vector<std::string>> Indexes(const std::string& table) override {
    Oid relid = Relid(table);
    std::vector<std::vector<std::string>> out;
    if (!OidIsValid(relid)) return out;
    std::string current;
    for (const auto& row : vigil::pg::GuardedQuery(
             "SELECT i.indexrelid::pg_catalog.text, COALESCE(a.attname::pg_catalog.text, '') "
             "FROM pg_catalog.pg_index i CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
             "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid "
             "AND a.attnum OPERATOR(pg_catalog.=) k.attnum "
             "WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisvalid AND i.indpred IS NULL "
             "AND (SELECT relam FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) i.indexrelid) "
             "OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_am WHERE amname OPERATOR(pg_catalog.=) 'btree') "
             "ORDER BY 1, k.ord",
             {std::to_string(relid)})) {
      std::string index = row[0].value_or("");
      if (out.empty() || index != current) out.emplace_back();
      current = index;
      out.back().push_back(row[1].value_or(""));  // "": an expression, which matches no column
    }
    return out;
  }

  nlohmann::json PlanWith(std::string_view sql, const core::sql::Candidate* c, bool* uses) override {
    std::string text(sql), explain, refusal;
    if (!checked_) return nullptr;
    if (c == nullptr) {
      if (!Explain(text, false, &explain, &refusal)) {
        problem_ = refusal;
        return nullptr;
      }
      return core::sql::SummarizePostgres(explain);
    }
    Oid relid = Relid(c->table);
    if (!OidIsValid(relid) || c->columns.size() > INDEX_MAX_KEYS) return nullptr;
    AttrNumber attnums[INDEX_MAX_KEYS];
    for (std::size_t i = 0; i < c->columns.size(); ++i) {
      // Only a column the caller may read: the index's cost reads its statistics.
      auto rows = vigil::pg::GuardedQuery(
          "SELECT attnum::text FROM pg_attribute WHERE attrelid = $1 AND attname = $2 AND attnum > 0 "
          "AND NOT attisdropped AND has_column_privilege(attrelid, attnum, 'SELECT')",
          {std::to_string(relid), c->columns[i]});
      if (rows.empty() || !rows[0][0]) return nullptr;
      attnums[i] = static_cast<AttrNumber>(std::stoi(*rows[0][0]));
    }
    if (!OidIsValid(free_oid_)) {
      // An OID no relation has, high in the range: the hypothetical index's.
      auto rows = vigil::pg::GuardedQuery(
          "SELECT o::text FROM generate_series(4294967000::int8, 4294966000::int8, -1) o "
          "WHERE NOT EXISTS (SELECT FROM pg_class WHERE oid = o::oid) LIMIT 1",
          {});
      if (rows.empty() || !rows[0][0]) return nullptr;
      free_oid_ = static_cast<Oid>(std::stoul(*rows[0][0]));
    }
    // The plan names it by a name no real index can have (it holds the
    // OID), renamed below to the DDL's: a real index of the DDL's name can
    // never pass for the candidate.
    std::string internal = "vigil hypothetical " + std::to_string(free_oid_);
    if (!vigil::pg::ArmHypothetical(relid, attnums, static_cast<int>(c->columns.size()), internal.c_str(), free_oid_))
      return nullptr;
    struct Disarm {
      ~Disarm() { vigil::pg::DisarmHypothetical(); }
    } disarm;
    if (!Explain(text, false, &explain, &refusal)) return nullptr;
    nlohmann::json summary = core::sql::SummarizePostgres(explain);
    *uses = explain.find("\"Index Name\": \"" + internal + "\"") != std::string::npos;
    for (nlohmann::json& scan : summary["scans"])
      if (scan.value("index", nlohmann::json()).is_string() && scan["index"].get<std::string>() == internal)
        scan["index"] = c->name;
    summary.erase("explain");
    return summary;
  }

  bool NameTaken(const std::string& table, const std::string& name) override {
    Oid relid = Relid(table);
    if (!OidIsValid(relid)) return false;
    auto rows = vigil::pg::GuardedQuery(
        "SELECT count(*)::text FROM pg_class WHERE relname = $2 "
        "AND relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = $1)",
        {std::to_string(relid), name});
    return !rows.empty() && rows[0][0] && *rows[0][0] != "0";
  }

  std::string NoSuggestions() const override {
    return "the statement could not be planned again for index advice: " + problem_;
  }


 private:
  // Explain runs EXPLAIN (FORMAT JSON[, ANALYZE]) of the checked statement
  // as the caller, in a subtransaction that is rolled back; a statement
  // with parameters is prepared afresh (so no generic plan cached by an
  // earlier call is reused) and its generic plan explained.
  bool Explain(const std::string& text, bool analyze, std::string* explain, std::string* refusal) {
    vigil::pg::SpiOutcome out;
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
    if (!parameters_) {
      std::string q = analyze ? "EXPLAIN (FORMAT JSON, ANALYZE, BUFFERS)\n" : "EXPLAIN (FORMAT JSON)\n";
      q += text;
      return Query(q, explain, refusal);
    }
    static std::atomic<unsigned> serial{0};
    std::string name = "vigil_analyze_query_" + std::to_string(++serial);
    std::string ignored;
    if (!Query("PREPARE " + name + " AS\n" + text, &ignored, refusal)) return false;
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
    return Query(q, explain, refusal);
  }

  // Relid resolves a table the statement names as the statement does:
  // through the caller's search_path (the name quoted part by part).
  // Cached for the call: Columns, Indexes, NameTaken, PlanWith and the
  // schema rules all ask about the same few tables.
  Oid Relid(const std::string& table) {
    for (const auto& [name, oid] : relids_)
      if (name == table) return oid;
    Oid oid = LookUp(table);
    relids_.emplace_back(table, oid);
    return oid;
  }

  Oid LookUp(const std::string& table) {
    std::string quoted;
    std::size_t dot = table.rfind('.');
    if (dot != std::string::npos) quoted = core::QuoteIdent(table.substr(0, dot)) + "." + core::QuoteIdent(table.substr(dot + 1));
    else quoted = core::QuoteIdent(table);
    auto rows = vigil::pg::GuardedQuery("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::pg_catalog.text", {quoted},
                                        InvalidOid, vigil::pg::kCallersPath);
    if (rows.empty() || !rows[0][0]) return InvalidOid;
    return static_cast<Oid>(std::stoul(*rows[0][0]));
  }

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

  bool allow_superuser_ = false;
  std::string problem_;
  std::vector<std::pair<std::string, Oid>> relids_;
  bool checked_ = false;     // Plan found one plannable statement
  bool parameters_ = false;  // it has $n parameters
  Oid free_oid_ = InvalidOid;
};

// CopyInto copies the answer into the caller's memory context (phase 2):
// SPI_finish frees SPI's.
char* CopyInto(MemoryContext context, const std::string& json) {
  MemoryContext old = MemoryContextSwitchTo(context);
  char* copy = vigil::pg::CopyCString(json);  // on std::bad_alloc, Run raises and the error resets the context
  MemoryContextSwitchTo(old);
  return copy;
}
}  // namespace

// IndexHealthJson: the index findings of query analysis for the health
// checks (the caller is SPI-connected; C++ side).
std::string vigil::pg::IndexHealthJson() {
  Planner planner;
  return core::sql::IndexHealth(planner.ExistingIndexes()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

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
    return CopyInto(caller, core::sql::AnalyzeQuery(sql, core::Dialect::kPostgres, options, &planner));
  });
  SPI_finish();
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}

// vigil_index_advice(statements jsonb DEFAULT NULL) -> jsonb: index
// suggestions merged over statements, ranked, with the database's invalid,
// duplicate, redundant and unused indexes (common/sql/advice.h).
VIGIL_PG_FUNCTION(vigil_index_advice) {
  char* statements = nullptr;
  if (PG_NARGS() > 0 && !PG_ARGISNULL(0)) {
    Jsonb* jb = PG_GETARG_JSONB_P(0);
    statements = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  }
  // Without statements: the heaviest the caller may see in statement
  // monitoring (monitor_pg.cc), when it runs.
  char* heaviest = statements == nullptr ? vigil::pg::HeaviestStatements(10) : nullptr;
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* result = Run([&] {
    Planner planner;
    nlohmann::json parsed, monitored;
    if (statements != nullptr) parsed = core::json_in::ParseInput(statements, "statements");
    if (heaviest != nullptr) monitored = nlohmann::json::parse(heaviest);
    return CopyInto(caller, core::sql::IndexAdvice(statements != nullptr ? &parsed : nullptr, core::Dialect::kPostgres,
                                                   &planner, heaviest != nullptr ? &monitored : nullptr)
                                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
  SPI_finish();
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}
