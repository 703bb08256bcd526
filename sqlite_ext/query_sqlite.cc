// query_sqlite.cc — query analysis on SQLite (SPEC §7, issue 15): the
// statement's canonical text and fingerprint (common/sql/normalize.h),
// read by SQLite's lexical rules.
#include <sqlite3ext.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "boundary.h"
#include "module_sqlite.h"
#include "base/json.h"
#include "sql/advice.h"
#include "sql/analyze.h"
#include "sql/lexer.h"
#include "sql/normalize.h"
#include "sql/plan.h"
#include "sql/quote.h"
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
// OnlySpace: what sqlite3_prepare_v2 left after the first statement is
// blanks and semicolons (so there was one statement).
bool OnlySpace(const char* tail) {
  for (const char* p = tail; p != nullptr && *p != '\0'; ++p)
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') return false;
  return true;
}

// EqpRows runs EXPLAIN QUERY PLAN of `sql` on `db`: the rows, or nullopt
// with `refusal` set when SQLite refuses the statement. `own` marks the
// statement as vigil's own on the caller's connection (the DIRECTONLY
// guard, module_sqlite.cc).
std::optional<std::vector<core::sql::EqpRow>> EqpRows(sqlite3* db, std::string_view sql, bool own, std::string* refusal) {
  std::string text = "EXPLAIN QUERY PLAN ";
  text += sql;
  if (own) ReserveOwnStatement();
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db, text.c_str(), static_cast<int>(text.size()), &stmt, &tail);
  if (rc != SQLITE_OK) {
    int primary = rc & 0xff;
    if (primary == SQLITE_NOMEM || primary == SQLITE_INTERRUPT || primary == SQLITE_CORRUPT || primary == SQLITE_IOERR)
      EngineError(db);
    *refusal = sqlite3_errmsg(db);
    return std::nullopt;
  }
  if (stmt == nullptr) {
    *refusal = "no statement to plan";
    return std::nullopt;
  }
  if (own) OwnStatement(stmt, true);
  struct Finalize {
    sqlite3_stmt* s;
    bool own;
    ~Finalize() {
      if (own) OwnStatement(s, false);
      sqlite3_finalize(s);
    }
  } finalize{stmt, own};
  if (!OnlySpace(tail)) {
    *refusal = "the text holds more than one statement: only a single statement is planned";
    return std::nullopt;
  }
  std::vector<core::sql::EqpRow> rows;
  for (;;) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) EngineError(db);
    const unsigned char* d = sqlite3_column_text(stmt, 3);
    rows.push_back({sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1),
                    d ? std::string(reinterpret_cast<const char*>(d)) : std::string()});
    if (rows.size() > 100000) throw core::Error(core::ErrorCode::kProgramLimit, "the plan has more than 100000 steps");
  }
  return rows;
}

// Sandbox is an in-memory database holding a copy of the main schema's
// tables, indexes and views and of its sqlite_stat1 statistics, as
// sqlite3expert builds one: a candidate index is created there, never in
// the caller's file (building it for real would sort the table under the
// write lock, and fails on a read-only file). Only CREATE TABLE, CREATE
// [UNIQUE] INDEX and CREATE VIEW statements are copied, each alone;
// virtual tables are not (their modules are not loaded there). The copy
// cannot ATTACH, has no triggers and trusts no schema function.
class Sandbox {
 public:
  // `tables` are the tables the statement names. When each is a table of
  // the main schema, only they and their indexes are copied; otherwise
  // (a view, which may read any table) the whole schema is, up to
  // kMaxObjects: a copy costs SQLite's schema parse per object (an attack
  // review timed 78 s for 20,000 tables), on every call. Over the bound,
  // problem() says why and nothing is copied.
  static constexpr long long kMaxObjects = 2000;
  Sandbox(sqlite3* main, const std::vector<std::string>& tables) {
    if (sqlite3_open_v2(":memory:", &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw core::Error(core::ErrorCode::kEngine, "cannot open an in-memory database for index advice");
    }
    sqlite3_limit(db_, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, nullptr);
    bool only_tables = !tables.empty() && tables.size() <= 64;
    for (const std::string& t : tables) {
      if (!only_tables) break;
      Stmt is(main, "SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE");
      is.Text(1, t);
      only_tables = is.Step() && is.Int(0) == 1;
    }
    if (!only_tables) {
      Stmt count(main, "SELECT count(*) FROM main.sqlite_schema WHERE type IN ('table', 'index', 'view')");
      if (count.Step() && count.Int(0) > kMaxObjects) {
        problem_ = "the schema holds more than " + std::to_string(kMaxObjects) +
                   " tables, indexes and views, and the statement reads a view (or a table not in the main schema): "
                   "index advice would copy them all on every call";
        return;
      }
    }
    std::string names = "[]";
    {
      nlohmann::json list = nlohmann::json::array();
      for (const std::string& t : tables) list.push_back(t);
      names = list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    Stmt schema(main,
                "SELECT sql FROM main.sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite%' "
                "AND (?1 = 0 OR tbl_name COLLATE NOCASE IN (SELECT value FROM json_each(?2))) "
                "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid");
    sqlite3_bind_int(schema.get(), 1, only_tables ? 1 : 0);
    schema.Text(2, names);
    while (schema.Step()) {
      std::optional<std::string> sql = schema.Column(0);
      if (sql && Copyable(*sql)) (void)Run(*sql);  // an object the copy cannot hold is left out
    }
    bool stats = false;
    {
      Stmt has(main, "SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'");
      stats = has.Step() && has.Int(0) > 0;
    }
    if (stats && Run("ANALYZE sqlite_schema")) {
      Stmt rows(main, "SELECT tbl, idx, stat FROM main.sqlite_stat1");
      sqlite3_stmt* insert = nullptr;
      if (sqlite3_prepare_v2(db_, "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?1, ?2, ?3)", -1, &insert, nullptr) ==
          SQLITE_OK) {
        while (rows.Step()) {
          for (int i = 0; i < 3; ++i) {
            std::optional<std::string> v = rows.Column(i);
            if (v) sqlite3_bind_text64(insert, i + 1, v->data(), v->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
            else sqlite3_bind_null(insert, i + 1);
          }
          sqlite3_step(insert);
          sqlite3_reset(insert);
        }
      }
      sqlite3_finalize(insert);
      (void)Run("ANALYZE sqlite_schema");  // loads the copied statistics
    }
  }
  ~Sandbox() { sqlite3_close(db_); }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  sqlite3* db() const { return db_; }
  const std::string& problem() const { return problem_; }

  // Run executes one statement of vigil's own making or a copied CREATE.
  bool Run(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail) != SQLITE_OK || stmt == nullptr) {
      sqlite3_finalize(stmt);
      return false;
    }
    int rc = OnlySpace(tail) ? sqlite3_step(stmt) : SQLITE_MISUSE;
    sqlite3_finalize(stmt);
    if ((rc & 0xff) == SQLITE_NOMEM || (rc & 0xff) == SQLITE_INTERRUPT) EngineError(db_);
    return rc == SQLITE_DONE || rc == SQLITE_ROW;
  }

 private:
  static bool Copyable(const std::string& sql) {
    std::vector<core::sql::Statement> s = core::sql::SplitStatements(sql, core::Dialect::kSqlite);
    if (s.size() != 1 || s[0].words.size() < 2 || s[0].words[0] != "CREATE") return false;
    const std::string& w = s[0].words[1];
    return w == "TABLE" || w == "INDEX" || w == "VIEW" || (w == "UNIQUE" && s[0].words.size() > 2 && s[0].words[2] == "INDEX");
  }

  sqlite3* db_ = nullptr;
  std::string problem_;
};

class Planner : public core::sql::Planner {
 public:
  explicit Planner(sqlite3* db) : db_(db) {}
  bool CanAnalyze() const override { return false; }
  bool CanSuggest() const override { return true; }

  std::vector<std::string> Columns(const std::string& table) override {
    std::string name = Local(table);
    if (name.empty()) return {};
    Stmt s(db_, "SELECT name FROM pragma_table_xinfo(?1, 'main') WHERE hidden IN (0, 2, 3)");  // generated ones too
    s.Text(1, name);
    std::vector<std::string> out;
    while (s.Step())
      if (std::optional<std::string> c = s.Column(0)) out.push_back(*c);
    return out;
  }

  std::vector<std::vector<std::string>> Indexes(const std::string& table) override {
    std::string name = Local(table);
    std::vector<std::vector<std::string>> out;
    if (name.empty()) return out;
    Stmt s(db_,
           "SELECT il.name, ii.name FROM pragma_index_list(?1, 'main') il, pragma_index_info(il.name, 'main') ii "
           "ORDER BY il.name, ii.seqno");
    s.Text(1, name);
    std::string current;
    while (s.Step()) {
      std::string index = s.Column(0).value_or("");
      if (out.empty() || index != current) out.emplace_back();
      current = index;
      out.back().push_back(s.Column(1).value_or(""));  // NULL: an expression; matches no column
    }
    // A rowid table's INTEGER PRIMARY KEY is its key: an index on it alone is no candidate.
    Stmt pk(db_, "SELECT name FROM pragma_table_info(?1, 'main') WHERE pk = 1 AND lower(type) = 'integer' "
                 "AND (SELECT count(*) FROM pragma_table_info(?1, 'main') WHERE pk > 0) = 1");
    pk.Text(1, name);
    if (pk.Step()) out.push_back({pk.Column(0).value_or("")});
    return out;
  }

  nlohmann::json PlanWith(std::string_view sql, const core::sql::Candidate* c, bool* uses) override {
    if (!sandbox_) {
      sandbox_ = std::make_unique<Sandbox>(db_, tables_);
      if (!sandbox_->problem().empty()) problem_ = sandbox_->problem();
    }
    if (!problem_.empty()) return nullptr;
    // Named so that no index of the caller's can be taken for it.
    const std::string internal = "vigil hypothetical index";
    bool created = false;
    if (c != nullptr) {
      std::string ddl = "CREATE INDEX " + core::QuoteIdent(internal) + " ON " + core::QuoteIdent(Local(c->table)) + " (";
      for (std::size_t i = 0; i < c->columns.size(); ++i) ddl += (i ? ", " : "") + core::QuoteIdent(c->columns[i]);
      ddl += ")";
      created = sandbox_->Run(ddl);
      if (!created) return nullptr;
    }
    std::string refusal;
    auto rows = EqpRows(sandbox_->db(), sql, false, &refusal);
    if (created) (void)sandbox_->Run("DROP INDEX " + core::QuoteIdent(internal));
    if (!rows) {
      if (c == nullptr) problem_ = "the statement does not plan in the in-memory copy of the schema (virtual tables "
                                   "are not copied): " + refusal;
      return nullptr;
    }
    *uses = false;
    if (c != nullptr) {
      const std::string hypothetical = "INDEX " + internal;
      const std::string suggested = "INDEX " + c->name;
      for (core::sql::EqpRow& r : *rows) {
        std::size_t at = r.detail.find(hypothetical);
        if (at == std::string::npos) continue;
        *uses = true;
        r.detail.replace(at, hypothetical.size(), suggested);  // the plan names the index the DDL creates
      }
    }
    return core::sql::SummarizeSqlite(*rows);
  }

  bool NameTaken(const std::string&, const std::string& name) override {
    Stmt s(db_, "SELECT count(*) FROM main.sqlite_schema WHERE name = ?1 COLLATE NOCASE");
    s.Text(1, name);
    return s.Step() && s.Int(0) > 0;
  }

  std::string NoSuggestions() const override { return problem_; }

  // The tables the statement names: the sandbox copies only those (and
  // their indexes) when it can.
  void StatementTables(const std::vector<std::string>& tables) override {
    tables_.clear();
    for (const std::string& t : tables) tables_.push_back(Local(t).empty() ? t : Local(t));
  }

  // RowEstimate reads ANALYZE's count (sqlite_stat1's first number):
  // counting the rows would read the table; without statistics, unknown.
  long long RowEstimate(const std::string& table) override {
    std::string name = Local(table);
    if (name.empty()) return -1;
    {
      Stmt has(db_, "SELECT count(*) FROM main.sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'");
      if (!has.Step() || has.Int(0) == 0) return -1;
    }
    Stmt s(db_, "SELECT max(CAST(stat AS INTEGER)) FROM main.sqlite_stat1 WHERE tbl = ?1 COLLATE NOCASE");
    s.Text(1, name);
    if (!s.Step()) return -1;
    std::optional<std::string> v = s.Column(0);
    return v ? std::strtoll(v->c_str(), nullptr, 10) : -1;
  }

  std::vector<std::vector<std::string>> ForeignKeys(const std::string& table) override {
    std::string name = Local(table);
    std::vector<std::vector<std::string>> out;
    if (name.empty()) return out;
    Stmt s(db_, "SELECT id, \"from\" FROM pragma_foreign_key_list(?1, 'main') ORDER BY id, seq LIMIT 10000");
    s.Text(1, name);
    long long current = -1;
    while (s.Step()) {
      long long id = s.Int(0);
      if (out.empty() || id != current) out.emplace_back();
      current = id;
      out.back().push_back(s.Column(1).value_or(""));
    }
    return out;
  }

  std::vector<ExistingIndex> ExistingIndexes() override {
    std::vector<ExistingIndex> out;
    Stmt s(db_,
           "SELECT m.name, il.name, il.\"unique\", il.origin, il.partial, ii.name "
           "FROM main.sqlite_schema m, pragma_index_list(m.name, 'main') il, pragma_index_info(il.name, 'main') ii "
           "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT LIKE 'vigil\\_%' ESCAPE '\\' "
           "ORDER BY m.name, il.name, ii.seqno LIMIT 100000");
    while (s.Step()) {
      std::string table = s.Column(0).value_or(""), name = s.Column(1).value_or("");
      if (out.empty() || out.back().table != table || out.back().name != name) {
        ExistingIndex x;
        x.table = table;
        x.name = name;
        x.unique = s.Int(2) != 0;
        x.primary = s.Column(3).value_or("") == "pk";
        x.partial = s.Int(4) != 0;
        out.push_back(std::move(x));
      }
      out.back().columns.push_back(s.Column(5).value_or(""));  // NULL: an expression
    }
    return out;
  }

  nlohmann::json Plan(std::string_view sql, bool, std::string* refusal) override {
    auto rows = EqpRows(db_, sql, true, refusal);
    if (!rows) return nullptr;
    return core::sql::SummarizeSqlite(*rows);
  }

 private:
  // Local is the table's name in the main schema ("main.t" is t), or ""
  // for another schema's.
  static std::string Local(const std::string& table) {
    if (table.find('.') == std::string::npos) return table;
    if (table.rfind("main.", 0) == 0 && table.find('.', 5) == std::string::npos) return table.substr(5);
    return "";
  }

  sqlite3* db_;
  std::unique_ptr<Sandbox> sandbox_;
  std::vector<std::string> tables_;
  std::string problem_;
};

// vigil_analyze_query(sql [, options]) -> the analysis as JSON text.
void AnalyzeQuery(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (AnyNull(argc, argv)) return sqlite3_result_null(ctx);
  std::string_view sql = Statement(argv[0]);
  std::string_view options = argc > 1 ? Text(argv[1]) : std::string_view("{}");
  Planner planner(sqlite3_context_db_handle(ctx));
  ResultText(ctx, core::sql::AnalyzeQuery(sql, core::Dialect::kSqlite, options, &planner));
}

// vigil_index_advice([statements]) -> advice over statements, merged and
// ranked, with the file's duplicate, redundant and invalid indexes.
void IndexAdvice(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  Planner planner(sqlite3_context_db_handle(ctx));
  nlohmann::json parsed;
  const nlohmann::json* statements = nullptr;
  nlohmann::json heaviest = nlohmann::json::array();
  if (argc > 0 && sqlite3_value_type(argv[0]) != SQLITE_NULL) {
    parsed = core::json_in::ParseInput(Text(argv[0]), "statements");
    statements = &parsed;
  } else {
    heaviest = HeaviestStatements(sqlite3_context_db_handle(ctx), 10);
  }
  ResultText(ctx, core::sql::IndexAdvice(statements, core::Dialect::kSqlite, &planner, &heaviest)
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

const Impl kImpls[] = {
    {"vigil_index_advice", Bridge<IndexAdvice>, nullptr, false, false},
    {"vigil_analyze_query", Bridge<AnalyzeQuery>, nullptr, false, false},
    {"vigil_normalize", Bridge<Normalize>, nullptr, false, false},
    {"vigil_fingerprint", Bridge<Fingerprint>, nullptr, false, false},
};

}  // namespace

std::span<const Impl> QueryImpls() { return kImpls; }

nlohmann::json IndexHealthOf(sqlite3* db) {
  Planner planner(db);
  return core::sql::IndexHealth(planner.ExistingIndexes());
}

}  // namespace vigil::sqlite
