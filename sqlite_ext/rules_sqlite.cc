// rules_sqlite.cc — rules, enforcement and validated insert for SQLite
// (SPEC §2). The core plans each row check (vigil/row_check.h); this file
// reads the catalog, runs the few queries only the database can answer, and
// generates the triggers.
//
// Storage: SQLite cannot give a table and a table-valued function the same
// name, so rules live in `vigil_rule_store` and `vigil_rules` is a read-only
// eponymous virtual table over it (both `FROM vigil_rules` and
// `FROM vigil_rules()` work). Every statement quotes identifiers with %w and
// literals with %Q, or binds values.
#include "rules_sqlite.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <memory>
#include <new>
#include <unordered_map>
#include <cstring>
#include <string>
#include <vector>

#include "boundary.h"
#include "module_sqlite.h"
#include "schema_sqlite.h"
#include "sqlite_util.h"
#include "rules/row_check.h"
#include "rules/rule_admin.h"
#include "rules/rules.h"

namespace vigil::sqlite {
namespace {

namespace core = vigil::core;
using core::Error;
using core::ErrorCode;

// ExpressionResults are what a generated trigger computed for the table's
// expression rules, by rule id (the trigger evaluates them in its own SQL,
// where SQLite's trust rules apply to them): 1 or NULL passes, 0 fails.
struct ExpressionResults {
  std::vector<std::pair<long long, std::optional<long long>>> by_id;
};

// RunQueries answers the engine queries of a row check. `stored`: the row is
// already in the table (SQLite's AFTER triggers), so a unique value may occur
// once — the row itself. With `results`, expression rules are answered from
// them and no stored SQL runs here (what the triggers call must stay
// harmless); without, they run as SQL (vigil_check and vigil_insert, which
// are DIRECTONLY: only the application can call them).
void RunQueries(sqlite3* db, core::RowCheck& check, bool stored, const ExpressionResults* results = nullptr) {
  const core::TableInfo& t = check.table();
  for (core::EngineQuery& q : check.queries()) {
    if (q.kind == core::RuleKind::kUnique) {
      Stmt s(db, Sql("SELECT count(*) FROM (SELECT 1 FROM main.\"%w\" WHERE \"%w\" = ?1 LIMIT 2)", t.name.c_str(),
                     q.column.c_str()));
      s.Value(1, q.value);
      q.violated = s.Step() && s.Int(0) > (stored ? 1 : 0);
    } else if (q.kind == core::RuleKind::kReferences) {
      Stmt s(db, Sql("SELECT 1 FROM main.\"%w\" WHERE \"%w\" = ?1 LIMIT 1", q.ref_table.c_str(), q.ref_column.c_str()));
      s.Value(1, q.value);
      q.violated = !s.Step();
    } else if (results != nullptr) {
      long long id = check.plan().rules()[q.rule_index].id;
      auto it = std::find_if(results->by_id.begin(), results->by_id.end(), [&](const auto& r) { return r.first == id; });
      if (it == results->by_id.end()) {
        // The rule is newer than the table's triggers (the store was
        // edited by hand): fail closed and say how to mend it.
        q.violated = true;
        q.detail = "the table's triggers predate this rule; run vigil_enforce(table)";
      } else {
        // Two rules of one id (a store edited by hand) fail closed as well.
        bool twice = std::count_if(results->by_id.begin(), results->by_id.end(),
                                   [&](const auto& r) { return r.first == id; }) > 1;
        q.violated = twice || !it->second.has_value() || *it->second == 0;
      }
    } else {
      // An expression that re-enters a row check (through a function the
      // application registered) is bounded long before the stack.
      thread_local int depth = 0;
      if (depth >= core::kMaxExpressionNesting)
        throw Error(ErrorCode::kProgramLimit, core::kExpressionNestingMessage, {}, core::kExpressionNestingHint);
      struct Nest {
        Nest() { ++depth; }
        ~Nest() { --depth; }
      } nest;
      RequireSchemaSafe(db, q.expression);
      // The expression sees the row's values under the table's column names.
      std::string select = "SELECT (" + q.expression + ") FROM (SELECT ";
      // Each value as the column would store it (its affinity), so the
      // expression judges what the table would hold: 0 given to a TEXT
      // column is the text '0', 100 given to a REAL column is 100.0, and
      // 100.0 given to an INTEGER or NUMERIC column is the integer 100.
      for (std::size_t i = 0; i < t.columns.size(); ++i) {
        if (i > 0) select += ", ";
        int n = static_cast<int>(i + 1);
        std::string value;
        switch (core::CategoryOf(t.types[i])) {
          case core::TypeCategory::kText: value = Sql("CAST(?%d AS TEXT)", n); break;
          case core::TypeCategory::kReal:
            value = Sql("CASE WHEN typeof(?%d) = 'integer' THEN CAST(?%d AS REAL) ELSE ?%d END", n, n, n);
            break;
          case core::TypeCategory::kInteger:
          case core::TypeCategory::kNumeric:
            value = Sql("CASE WHEN typeof(?%d) = 'real' AND abs(?%d) < 9.2e18 AND ?%d = CAST(?%d AS INTEGER)"
                        " THEN CAST(?%d AS INTEGER) ELSE ?%d END", n, n, n, n, n, n);
            break;
          default: value = Sql("?%d", n); break;
        }
        select += value + Sql(" AS \"%w\"", t.columns[i].c_str());
      }
      select += ")";
      Stmt s(db, select);
      for (std::size_t i = 0; i < t.columns.size(); ++i) {
        const core::TypedValue* v = check.row().Find(t.columns[i]);
        if (v) s.Value(static_cast<int>(i + 1), *v); else s.Null(static_cast<int>(i + 1));
      }
      // Like CHECK: false rejects, NULL passes (read as an integer, as the
      // triggers read it: ExpressionPasses).
      q.violated = s.Step() && s.Type(0) != SQLITE_NULL && sqlite3_column_int64(s.get(), 0) == 0;
    }
  }
}

// RulesCache keeps each table's plan per connection. An entry is valid while
// its stamp is what it was when the entry was built: the rule generation
// in main.vigil_meta (bumped in the same transaction as every rule change,
// so a rolled-back change rolls the stamp back too), the schema cookie
// (any DDL: a column added, triggers rebuilt) and the data version (a
// commit by another connection), read by ReadStamp.
struct RulesCache {
  int refs = 0;
  struct Stamp {
    std::string generation;
    long long schema_version = -1;
    unsigned data_version = 0;
    bool operator==(const Stamp&) const = default;
  };
  struct Entry {
    Stamp stamp;
    std::shared_ptr<const core::TablePlan> plan;
  };
  std::unordered_map<std::string, Entry> tables;
  long long meta_checked_at = -1;  // the schema cookie meta_is_table was read at
  bool meta_is_table = false;
};

unsigned DataVersion(sqlite3* db) {
  unsigned v = 0;
  sqlite3_file_control(db, "main", SQLITE_FCNTL_DATA_VERSION, &v);
  return v;
}

// ReadStamp reads the stamp. vigil_meta is read only while it is a plain
// table (checked once per schema cookie): a crafted file's view of that
// name is never run on every check. The data version is taken while the
// generation's statement holds its read transaction, so a connection
// without one (rollback-journal mode) sees the committed state.
RulesCache::Stamp ReadStamp(sqlite3* db, RulesCache* cache) {
  RulesCache::Stamp stamp;
  {
    Stmt v(db, "PRAGMA main.schema_version");
    v.Step();
    stamp.schema_version = v.Int(0);
  }
  if (cache->meta_checked_at != stamp.schema_version) {
    Stmt t(db, "SELECT count(*) = 1 AND max(type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%') FROM main.sqlite_schema"
               " WHERE name = 'vigil_meta' COLLATE NOCASE");
    cache->meta_is_table = t.Step() && t.Int(0) == 1;
    cache->meta_checked_at = stamp.schema_version;
  }
  if (!cache->meta_is_table) {  // no rules yet (vigil_meta comes with the store), or not vigil's
    stamp.data_version = DataVersion(db);
    return stamp;
  }
  Stmt g(db, "SELECT value FROM main.vigil_meta WHERE key = 'rules_generation'");
  if (g.Step()) stamp.generation = g.Column(0).value_or("");
  stamp.data_version = DataVersion(db);
  return stamp;
}

// BumpRulesGeneration marks a rule or registry change, in the caller's
// transaction, with a value that never repeats: a counter would, after a
// rollback (the counter, the schema cookie and the connection's data
// version all roll back or stay), and a plan built inside the rolled-back
// transaction would match the stamp again and be enforced.
void BumpRulesGeneration(sqlite3* db) {
  ExecOne(db, "INSERT INTO main.vigil_meta (key, value) VALUES ('rules_generation', lower(hex(randomblob(16)))) "
              "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
}

// PlanOf builds a table's plan: its rules parsed, json_schema rules compiled
// with the connection's registry.
std::shared_ptr<const core::TablePlan> PlanOf(sqlite3* db, const core::TableInfo& info) {
  SchemaRegistry registry(db);
  core::JsonSchemaRegistryScope scope(&registry);
  return std::make_shared<const core::TablePlan>(info, LoadRules(db, info.name));
}

std::shared_ptr<const core::TablePlan> LoadPlan(sqlite3* db, const std::string& table) {
  return PlanOf(db, LoadTable(db, table).info);
}

std::shared_ptr<const core::TablePlan> CachedPlan(sqlite3* db, RulesCache* cache, const std::string& table) {
  RulesCache::Stamp stamp = ReadStamp(db, cache);
  auto it = cache->tables.find(table);
  if (it != cache->tables.end() && it->second.stamp == stamp) return it->second.plan;
  auto plan = LoadPlan(db, table);
  cache->tables[table] = {stamp, plan};
  return plan;
}

std::vector<core::Violation> CheckRow(sqlite3* db, std::shared_ptr<const core::TablePlan> plan,
                                      const std::string& row_json, const std::string* old_json, bool check_types,
                                      bool stored) {
  core::TypedRow row = core::ParseTypedRow(row_json);
  std::optional<core::TypedRow> old_row;
  if (old_json) old_row = core::ParseTypedRow(*old_json);
  core::RowCheck check(std::move(plan), std::move(row), old_row ? &*old_row : nullptr, check_types);
  RunQueries(db, check, stored);
  return check.Finish();
}

RulesCache* Cache(sqlite3_context* ctx) { return static_cast<RulesCache*>(UserData(ctx)); }

// ---- SQL functions --------------------------------------------------------

bool Enforced(sqlite3* db, const std::string& table);
bool TriggersCurrent(sqlite3* db, const std::string& table);
void InstallTriggers(sqlite3* db, const std::string& table, bool strict = true);

// SqliteRuleCatalog answers the core's questions (rules/rule_admin.h) for
// one database file: its tables are the main schema's (a temporary table of
// the same name never takes a rule or a reference), and SQLite has no roles,
// so whoever holds the connection owns every table of the file.
class SqliteRuleCatalog final : public core::RuleCatalog {
 public:
  explicit SqliteRuleCatalog(sqlite3* db) : db_(db) {}

  core::TableIdentity OwnedTable(const std::string& name) override {
    return {"main", LoadTable(db_, name).info.name};
  }
  std::optional<core::TableIdentity> DroppedTable(const std::string& name) override {
    return core::TableIdentity{"main", name};
  }
  bool HasColumn(const core::TableIdentity& table, const std::string& column) override {
    const core::TableInfo info = LoadTable(db_, table.name).info;
    return std::find(info.columns.begin(), info.columns.end(), column) != info.columns.end();
  }
  core::TableIdentity ReferencedTable(const std::optional<std::string>& schema, const std::string& name) override {
    if (schema && *schema != "main")
      throw Error(ErrorCode::kInvalidParameter, "references: a rule may only reference a table of the same file",
                  {}, "Use \"schema\": \"main\" or leave it out.");
    return {"main", LoadTable(db_, name).info.name};
  }
  void CompileExpression(const core::TableIdentity& table, const std::string& expression) override {
    // Compiled over the row as checks see it (the table's columns in a
    // derived table, as RunQueries and the triggers evaluate it): a name
    // only the table itself has (rowid, t.v) is refused now, not at the
    // next write.
    // The triggers' form (OverNewRow): only the columns the expression names.
    const core::TableInfo info = LoadTable(db_, table.name).info;
    std::vector<std::size_t> named = core::ColumnsNamedIn(info, expression);
    std::string sql = "SELECT (" + expression + ")";
    if (!named.empty()) {
      sql += " FROM (SELECT ";
      for (std::size_t k = 0; k < named.size(); ++k)
        sql += (k ? ", " : "") + Sql("NULL AS \"%w\"", info.columns[named[k]].c_str());
      sql += ")";
    }
    sql += " LIMIT 0";
    sqlite3_stmt* probe = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &probe, nullptr) != SQLITE_OK) {
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_finalize(probe);
      throw Error(ErrorCode::kInvalidParameter, "rule expression does not compile: " + msg);
    }
    sqlite3_finalize(probe);
  }
  std::optional<long long> FindRule(const core::TableIdentity& table, const std::optional<std::string>& column,
                                    const std::string& rule, const std::optional<std::string>& params) override {
    if (!schema::Ensure(db_, schema::Access::kRead, "vigil_rule_store")) return std::nullopt;
    Stmt find(db_, "SELECT id FROM main.vigil_rule_store WHERE table_name = ?1 AND column_name IS ?2 AND rule = ?3"
                   " AND params IS ?4");
    Bind(find, table, column, rule);
    if (params) find.Text(4, *params); else find.Null(4);
    if (find.Step()) return find.Int(0);
    return std::nullopt;
  }
  long long InsertRule(const core::TableIdentity& table, const std::optional<std::string>& column,
                       const std::string& rule, const std::optional<std::string>& params) override {
    schema::Ensure(db_, schema::Access::kWrite);
    Stmt insert(db_, "INSERT INTO main.vigil_rule_store(table_name, column_name, rule, params) VALUES (?1, ?2, ?3, ?4)");
    Bind(insert, table, column, rule);
    if (params) insert.Text(4, *params); else insert.Null(4);
    insert.Step();
    long long id = sqlite3_last_insert_rowid(db_);
    BumpRulesGeneration(db_);
    return id;
  }
  long long DeleteRules(const core::TableIdentity& table, const std::optional<std::string>& column,
                        const std::string& rule) override {
    if (!schema::Ensure(db_, schema::Access::kRead, "vigil_rule_store")) return 0;  // no rules: nothing to remove
    schema::Ensure(db_, schema::Access::kWrite);
    Stmt del(db_, "DELETE FROM main.vigil_rule_store WHERE table_name = ?1 AND column_name IS ?2 AND rule = ?3");
    Bind(del, table, column, rule);
    del.Step();
    long long removed = sqlite3_changes(db_);
    if (removed > 0) BumpRulesGeneration(db_);
    return removed;
  }
  // The triggers embed the rules: rebuild them (all or nothing, in the
  // caller's savepoint).
  void RulesChanged(const core::TableIdentity& table) override {
    if (!TableExists(table.name)) return;
    if (Enforced(db_, table.name)) InstallTriggers(db_, table.name);
  }

 private:
  bool TableExists(const std::string& name) {
    Stmt t(db_, "SELECT 1 FROM pragma_table_info(?1, 'main')");
    t.Text(1, name);
    return t.Step();
  }
  static void Bind(Stmt& s, const core::TableIdentity& table, const std::optional<std::string>& column,
                   const std::string& rule) {
    s.Text(1, table.name);
    if (column) s.Text(2, *column); else s.Null(2);
    s.Text(3, rule);
  }
  sqlite3* db_;
};

std::optional<std::string_view> OptArg(int argc, sqlite3_value** argv, int i) {
  if (i >= argc || sqlite3_value_type(argv[i]) == SQLITE_NULL) return std::nullopt;
  return vigil::sqlite::Text(argv[i]);
}

// vigil_rule_add(table, column, rule [, params]) -> id. The rule and the
// triggers that embed it are one change: a rule whose triggers do not build
// is not stored (and the old triggers stay).
void RuleAdd(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  SqliteRuleCatalog catalog(db);
  SchemaRegistry registry(db);
  core::JsonSchemaRegistryScope scope(&registry);
  Savepoint savepoint(db, "vigil_rule_add");
  long long id = core::AddRule(catalog, OptArg(argc, argv, 0), OptArg(argc, argv, 1), OptArg(argc, argv, 2),
                               OptArg(argc, argv, 3));
  savepoint.Release();
  sqlite3_result_int64(ctx, id);
}

// vigil_rule_remove(table, column, rule) -> number of rules removed
void RuleRemove(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  SqliteRuleCatalog catalog(db);
  Savepoint savepoint(db, "vigil_rule_remove");
  long long removed = core::RemoveRules(catalog, OptArg(argc, argv, 0), OptArg(argc, argv, 1), OptArg(argc, argv, 2));
  savepoint.Release();
  sqlite3_result_int64(ctx, removed);
}

// JsonSchemaRules lists the stored json_schema rules.
std::vector<core::StoredSchemaRule> JsonSchemaRules(sqlite3* db) {
  std::vector<core::StoredSchemaRule> rules;
  if (!schema::Ensure(db, schema::Access::kRead, "vigil_rule_store")) return rules;
  Stmt s(db, "SELECT table_name || '.' || coalesce(column_name, ''), coalesce(params, '') FROM main.vigil_rule_store"
             " WHERE rule = 'json_schema' ORDER BY id");
  while (s.Step()) rules.push_back({s.Column(0).value_or(""), s.Column(1).value_or("")});
  return rules;
}

std::string JsonSchemaArgUri(sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) throw Error(ErrorCode::kNullValue, "uri must not be NULL");
  return core::CheckRegistrableUri(vigil::sqlite::Text(argv[0]));
}

// vigil_json_schema_add(uri, schema) -> true when the URI is new. The
// schema must compile where it stands (its references resolve), and every
// json_schema rule must still compile with it: otherwise nothing changes.
void JsonSchemaAdd(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string uri = JsonSchemaArgUri(argv);
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) throw Error(ErrorCode::kNullValue, "schema must not be NULL");
  std::string schema_text(vigil::sqlite::Text(argv[1]));
  if (core::CheckJson(schema_text) != nullptr) throw Error(ErrorCode::kInvalidText, "json_schema: schema is not valid JSON");
  Savepoint savepoint(db, "vigil_json_schema_add");
  schema::Ensure(db, schema::Access::kWrite);
  bool existed;
  {
    Stmt e(db, "SELECT 1 FROM main.vigil_json_schemas WHERE uri = ?1");
    e.Text(1, uri);
    existed = e.Step();
  }
  {
    Stmt w(db, "INSERT INTO main.vigil_json_schemas (uri, schema, added_at) VALUES (?1, ?2, "
               "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (uri) DO UPDATE SET schema = excluded.schema, "
               "added_at = excluded.added_at");
    w.Text(1, uri);
    w.Text(2, schema_text);
    w.Step();
  }
  SchemaRegistry registry(db);
  core::CheckRegistrableSchema(schema_text);
  core::JsonSchemaRegistryScope scope(&registry);
  core::RecheckSchemaRules(JsonSchemaRules(db));
  BumpRulesGeneration(db);
  savepoint.Release();
  sqlite3_result_int(ctx, existed ? 0 : 1);
}

// vigil_json_schema_remove(uri) -> true when it was registered; refused
// (2BP01) while a json_schema rule loads it.
void JsonSchemaRemove(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string uri = JsonSchemaArgUri(argv);
  Savepoint savepoint(db, "vigil_json_schema_remove");
  schema::Ensure(db, schema::Access::kWrite);
  SchemaRegistry registry(db);
  core::JsonSchemaRegistryScope scope(&registry);
  core::RefuseIfUsed(JsonSchemaRules(db), uri);
  Stmt d(db, "DELETE FROM main.vigil_json_schemas WHERE uri = ?1");
  d.Text(1, uri);
  d.Step();
  bool removed = sqlite3_changes(db) > 0;
  if (removed) BumpRulesGeneration(db);
  savepoint.Release();
  sqlite3_result_int(ctx, removed ? 1 : 0);
}

// vigil_check(table, row [, raise [, old_row]]) -> JSON array of violations
void Check(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string table(vigil::sqlite::Text(argv[0]));
  std::string row(vigil::sqlite::Text(argv[1]));
  // raise: a boolean, as in PostgreSQL (0 or 1; NULL is false).
  bool raise = false;
  if (argc > 2 && sqlite3_value_type(argv[2]) != SQLITE_NULL) {
    sqlite3_int64 v = sqlite3_value_int64(argv[2]);
    if (sqlite3_value_type(argv[2]) != SQLITE_INTEGER || (v != 0 && v != 1))
      throw Error(ErrorCode::kInvalidParameter, "raise must be a boolean (0 or 1)");
    raise = v == 1;
  }
  std::optional<std::string> old_row;
  if (argc > 3 && sqlite3_value_type(argv[3]) != SQLITE_NULL) old_row = std::string(vigil::sqlite::Text(argv[3]));
  auto violations = CheckRow(db, CachedPlan(db, Cache(ctx), table), row, old_row ? &*old_row : nullptr, true, false);
  if (raise && !violations.empty()) throw Error(ErrorCode::kCheckViolation, core::ViolationsMessage(table, violations));
  ResultText(ctx, core::ViolationsJson(violations));
}

std::string TriggerName(const char* op, const std::string& table) {
  std::string name = "vigil_enforce_";
  name.append(op).append(":").append(table);
  return name;
}

// RuleColumns are the indexes of the columns the table's column rules
// name. The triggers mention only these (and the columns expressions may
// name): SQLite refuses ALTER TABLE DROP COLUMN of a column a trigger
// mentions, so a column no rule reads must stay droppable.
std::vector<std::size_t> RuleColumns(const core::TablePlan& plan) {
  std::vector<std::size_t> out;
  for (const auto& entry : plan.rules()) {
    if (!entry.column) continue;
    int c = plan.ColumnIndex(*entry.column);
    if (c >= 0 && std::find(out.begin(), out.end(), static_cast<std::size_t>(c)) == out.end())
      out.push_back(static_cast<std::size_t>(c));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// RowJson builds json_object(...) of the given columns over NEW or OLD, in
// chunks of 60 columns merged with json_patch (SQLite functions take at
// most 127 arguments).
std::string RowJson(const core::TableInfo& t, const std::vector<std::size_t>& columns, const char* alias) {
  if (columns.empty()) return "'{}'";
  std::vector<std::string> chunks;
  for (std::size_t i = 0; i < columns.size(); i += 60) {
    std::string obj = "json_object(";
    for (std::size_t k = i; k < columns.size() && k < i + 60; ++k) {
      std::size_t c = columns[k];
      if (k > i) obj += ", ";
      std::string ref = Sql("%s.\"%w\"", alias, t.columns[c].c_str());
      // A REAL travels with every digit that tells it apart (json_object
      // alone writes 15 significant digits: 1.0000000000000002 became 1.0
      // and passed a range with max 1): quote() gives a literal that reads
      // back as the same double. JSON has no infinity: a REAL that
      // overflowed (1e309 is Inf in SQLite) travels as its text "Inf", which
      // no rule takes for a number.
      std::string real = "iif(abs(" + ref + ") > 1.7976931348623157e308, CAST(" + ref + " AS TEXT), json(quote(" +
                         ref + ")))";
      // JSON has no BLOB: a blob travels as its hex text, in every column.
      ref = "CASE typeof(" + ref + ") WHEN 'blob' THEN hex(" + ref + ") WHEN 'real' THEN " + real + " ELSE " + ref + " END";
      obj += Sql("%Q, ", t.columns[c].c_str()) + ref;
    }
    chunks.push_back(obj + ")");
  }
  std::string out = chunks[0];
  for (std::size_t i = 1; i < chunks.size(); ++i) out = "json_patch(" + out + ", " + chunks[i] + ")";
  return out;
}

// OverNewRow is a scalar subquery that evaluates an expression rule over
// NEW, its columns under the table's names: part of the trigger's own SQL,
// so SQLite's trust rules (PRAGMA trusted_schema) apply to what it calls.
// Only the columns the expression may name are mentioned (ColumnsNamedIn).
std::string OverNewRow(const core::TableInfo& t, const std::string& expression) {
  std::vector<std::size_t> columns = core::ColumnsNamedIn(t, expression);
  if (columns.empty()) return "(SELECT (" + expression + "))";
  std::string select = "(SELECT (" + expression + ") FROM (SELECT ";
  for (std::size_t k = 0; k < columns.size(); ++k)
    select += (k ? ", " : "") + Sql("NEW.\"%w\" AS \"%w\"", t.columns[columns[k]].c_str(), t.columns[columns[k]].c_str());
  return select + "))";
}

// ExpressionPasses is 1 when the expression passes over NEW and 0 when it
// fails, never NULL: like CHECK, NULL passes; the value is read as an
// integer, as vigil_check reads it (sqlite3_column_int64), so the text '0'
// and the real 0.5 fail on both paths.
std::string ExpressionPasses(const core::TableInfo& t, const std::string& expression) {
  return "(CAST(" + OverNewRow(t, expression) + " AS INTEGER) IS NOT 0)";
}

// ExpressionResults builds json_object('<rule id>', <1 or 0>, ...) for the
// table's expression rules ('{}' without any), in chunks merged with
// json_patch as RowJson does.
std::string ExpressionResultsJson(const core::TablePlan& plan) {
  std::vector<std::string> pairs;
  for (const auto& entry : plan.rules())
    if (entry.rule.kind == core::RuleKind::kExpression)
      pairs.push_back(Sql("'%lld', ", entry.id) + ExpressionPasses(plan.table(), entry.rule.expression));
  if (pairs.empty()) return "'{}'";
  std::string out;
  for (std::size_t i = 0; i < pairs.size(); i += 60) {
    std::string obj = "json_object(";
    for (std::size_t k = i; k < pairs.size() && k < i + 60; ++k) obj += (k > i ? ", " : "") + pairs[k];
    obj += ")";
    out = out.empty() ? obj : "json_patch(" + out + ", " + obj + ")";
  }
  return out;
}

constexpr double kHuge = 1.7976931348623157e308;

// Number formats a double as an SQL numeric literal: the shortest text
// that reads back as the same double (SQLite's own printf gives at most 16
// digits, which may not).
std::string Number(double d) {
  std::string text = core::ShortestDouble(d);
  return text.empty() ? "NULL" : text;
}

// Bound is a literal for the pass predicate's side of an exact bound: the
// integer itself when it fits 64 bits (SQLite compares integers, and
// integers with reals, exactly); otherwise a double two steps inside the
// bound (never looser, even if SQLite's reading of the literal is off by
// one step), or NULL (always the full check) when no double is that close.
std::string Bound(const core::Decimal& exact, bool lower) {
  std::string integer = exact.IntegerText();
  if (!integer.empty()) return integer;
  double d = exact.ToDouble();
  if (!std::isfinite(d)) return "NULL";
  for (int step = 0; step < 2; ++step) d = std::nextafter(d, lower ? kHuge : -kHuge);
  int c = core::Decimal::Compare(*core::Decimal::Parse(Number(d)), exact);
  if ((lower && c <= 0) || (!lower && c >= 0)) return "NULL";
  return Number(d);
}

// PassPredicate is an SQL condition over NEW (and OLD for updates) that is
// true only when every rule surely passes; the triggers call the full
// vigil_check — which finds and words the violations — only when it is not
// true. It may be stricter than the rules (then the full check decides), never
// looser. Rules with no cheap SQL form (regex, precision) make it false for
// non-NULL values, so those rows always get the full check.
std::string PassPredicate(const core::TablePlan& plan, bool update) {
  const std::string& table = plan.table().name;
  std::vector<std::string> parts;
  for (const auto& entry : plan.rules()) {
    const core::Rule& r = entry.rule;
    std::string col = entry.column ? Sql("NEW.\"%w\"", entry.column->c_str()) : std::string();
    switch (r.kind) {
      case core::RuleKind::kValidator:
        // A BLOB takes the full check (which judges its hex, as vigil_check
        // does): vigil_is_* would read its bytes as text.
        parts.push_back("(" + col + " IS NULL OR (typeof(" + col + ") <> 'blob' AND vigil_is_" + r.validator->name +
                        "(" + col + ")))");
        break;
      case core::RuleKind::kNotNull:
        parts.push_back(col + " IS NOT NULL");
        break;
      case core::RuleKind::kRange:
        // In SQLite text and blobs sort after every number, so a two-sided
        // comparison is true only for numbers within the bounds.
        parts.push_back("(" + col + " IS NULL OR " + col + " BETWEEN " +
                        (r.min ? Bound(*r.min, true) : Number(-kHuge)) + " AND " +
                        (r.max ? Bound(*r.max, false) : Number(kHuge)) + ")");
        break;
      case core::RuleKind::kPositive:
        parts.push_back("(" + col + " IS NULL OR (" + col + " > 0 AND " + col + " <= " + Number(kHuge) + "))");
        break;
      case core::RuleKind::kLength:
        // No fast form: SQLite's length() stops at a NUL and counts invalid
        // UTF-8 bytes as characters, so only the full check is exact.
        parts.push_back(col + " IS NULL");
        break;
      case core::RuleKind::kOneOf: {
        std::string list;
        for (const std::string& v : r.one_of) list += (list.empty() ? "" : ", ") + Sql("%Q", v.c_str());
        // Text literals never equal a number in SQLite: numbers take the full
        // check. BINARY: a column's NOCASE or RTRIM collation must not make
        // 'A' or 'a   ' one of ["a"].
        parts.push_back("(" + col + " IS NULL OR " + col + " COLLATE BINARY IN (" + list + "))");
        break;
      }
      case core::RuleKind::kUnique: {
        std::string p = "(" + col + " IS NULL";
        if (update) p += " OR " + col + Sql(" IS OLD.\"%w\"", entry.column->c_str());
        // AFTER triggers: the row itself is already stored, so one match is fine.
        p += Sql(" OR (SELECT count(*) FROM (SELECT 1 FROM \"%w\" WHERE \"%w\" = ", table.c_str(), entry.column->c_str()) +
             col + " LIMIT 2)) < 2)";
        parts.push_back(p);
        break;
      }
      case core::RuleKind::kReferences:
        if (!r.enforce) break;
        parts.push_back("(" + col + " IS NULL OR EXISTS (SELECT 1 FROM " +
                        Sql("\"%w\" WHERE \"%w\" = ", r.ref_table.c_str(), r.ref_column.c_str()) + col + "))");
        break;
      case core::RuleKind::kExpression:
        parts.push_back(ExpressionPasses(plan.table(), r.expression));
        break;
      case core::RuleKind::kRegex:
      case core::RuleKind::kPrecision:
      case core::RuleKind::kJsonSchema:
        parts.push_back(col + " IS NULL");
        break;
    }
  }
  if (parts.empty()) return "1";
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : " AND ") + p;
  return out;
}

// Enforced: both of the table's triggers are in place, on the table
// itself (ALTER TABLE ... RENAME takes a table's triggers along, names and
// all: the renamed table's triggers must not count for a new table of the
// old name).
bool Enforced(sqlite3* db, const std::string& table_arg) {
  std::string table = table_arg;  // as the table was created (names ignore case)
  {
    Stmt n(db, "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE");
    n.Text(1, table_arg);
    if (n.Step()) table = n.Column(0).value_or(table_arg);
  }
  Stmt s(db, "SELECT count(*) FROM main.sqlite_schema WHERE type = 'trigger' AND name IN (?1, ?2) AND tbl_name = ?3");
  s.Text(1, TriggerName("insert", table));
  s.Text(2, TriggerName("update", table));
  s.Text(3, table);
  return s.Step() && s.Int(0) == 2;
}

// TriggerSql is the text of the table's two triggers after "CREATE
// TRIGGER " (as sqlite_schema keeps it, without the schema name): AFTER
// triggers cost SQLite less per row than BEFORE triggers, and an error
// raised in one still undoes the whole statement.
std::pair<std::string, std::string> TriggerSql(const core::TablePlan& plan) {
  const core::TableInfo& info = plan.table();
  const std::string& table = info.name;
  std::string ins = TriggerName("insert", table), upd = TriggerName("update", table);
  std::string expressions = ExpressionResultsJson(plan);
  std::vector<std::size_t> columns = RuleColumns(plan);
  return {Sql("\"%w\" AFTER INSERT ON \"%w\" WHEN (%s) IS NOT 1 "
              "BEGIN SELECT vigil_enforce_trigger(%Q, %s, NULL, %s); END",
              ins.c_str(), table.c_str(), PassPredicate(plan, false).c_str(), table.c_str(),
              RowJson(info, columns, "NEW").c_str(), expressions.c_str()),
          Sql("\"%w\" AFTER UPDATE ON \"%w\" WHEN (%s) IS NOT 1 "
              "BEGIN SELECT vigil_enforce_trigger(%Q, %s, %s, %s); END",
              upd.c_str(), table.c_str(), PassPredicate(plan, true).c_str(), table.c_str(),
              RowJson(info, columns, "NEW").c_str(), RowJson(info, columns, "OLD").c_str(), expressions.c_str())};
}

// TriggersCurrent reports whether the table's triggers are exactly those
// its rules make now: a rule added to the store by hand, or a stand-in
// trigger of the same name (a crafted file), is not enforcement.
bool TriggersCurrent(sqlite3* db, const std::string& table) {
  std::optional<Error> failed;
  bool same = false;
  failed = CoreError([&] {
    auto plan = LoadPlan(db, table);
    auto [insert_sql, update_sql] = TriggerSql(*plan);
    Stmt s(db, "SELECT count(*) FROM main.sqlite_schema WHERE type = 'trigger' AND tbl_name = ?3 AND"
               " ((name = ?1 AND sql = 'CREATE TRIGGER ' || ?4) OR (name = ?2 AND sql = 'CREATE TRIGGER ' || ?5))");
    const std::string& canonical = plan->table().name;
    s.Text(1, TriggerName("insert", canonical));
    s.Text(2, TriggerName("update", canonical));
    s.Text(3, canonical);
    s.Text(4, insert_sql);
    s.Text(5, update_sql);
    same = s.Step() && s.Int(0) == 2;
  });
  return !failed && same;
}

// InstallTriggers (re)creates the AFTER INSERT and UPDATE triggers from the
// table's current columns and rules: the fast pass predicate in WHEN; in
// the body, vigil_enforce_trigger with the row and the results of the
// expression rules, which the trigger itself evaluates. Each statement is
// run alone (ExecOne), so rule text cannot add another.
void InstallTriggers(sqlite3* db, const std::string& table, bool strict) {
  // All or nothing: a trigger that does not build (an expression tree too
  // large, a rule SQLite refuses in a trigger) leaves the old ones in place.
  Savepoint savepoint(db, "vigil_triggers");
  auto plan = LoadPlan(db, table);
  // A rule on a column the table lacks would never see a value: enforcing
  // it would say enforced in vain (a table recreated without the column).
  // Schema upgrades regenerate what was there (strict = false).
  if (strict) {
    for (const auto& entry : plan->rules())
      if (entry.column && plan->ColumnIndex(*entry.column) < 0)
        throw Error(ErrorCode::kUndefinedColumn,
                    "column \"" + core::text::Printable(*entry.column, 64) + "\" of table \"" +
                        core::text::Printable(table, 64) + "\" does not exist, but rule " + entry.name + " names it",
                    {}, "Remove the rule (vigil_rule_remove) or add the column.");
  }
  std::string ins = TriggerName("insert", table), upd = TriggerName("update", table);
  ExecOne(db, Sql("DROP TRIGGER IF EXISTS main.\"%w\"", ins.c_str()));
  ExecOne(db, Sql("DROP TRIGGER IF EXISTS main.\"%w\"", upd.c_str()));
  auto [insert_sql, update_sql] = TriggerSql(*plan);
  ExecOne(db, "CREATE TRIGGER main." + insert_sql);
  ExecOne(db, "CREATE TRIGGER main." + update_sql);
  savepoint.Release();
}

// vigil_enforce(table) -> 1: (re)creates the AFTER INSERT and UPDATE triggers.
void Enforce(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = LoadTable(db, Arg(argv[0], "table")).info.name;
  InstallTriggers(db, table);
  sqlite3_result_int(ctx, 1);
}

// vigil_unenforce(table) -> 1 when triggers were removed, 0 when there were none.
void Unenforce(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = LoadTable(db, Arg(argv[0], "table")).info.name;
  std::string ins = TriggerName("insert", table), upd = TriggerName("update", table);
  bool existed;
  {
    Stmt s(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name IN (?1, ?2)");
    s.Text(1, ins);
    s.Text(2, upd);
    existed = s.Step() && s.Int(0) > 0;
  }
  Exec(db, Sql("DROP TRIGGER IF EXISTS \"%w\"; DROP TRIGGER IF EXISTS \"%w\";", ins.c_str(), upd.c_str()));
  sqlite3_result_int(ctx, existed ? 1 : 0);
}

// vigil_insert(table, row) -> the new row's key as JSON
void Insert(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  std::string row_json = Arg(argv[1], "row");
  TableShape shape = LoadTable(db, table);
  // vigil's state changes only through vigil's functions, and SQLite's own
  // tables not at all.
  std::string lower = shape.info.name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("vigil_", 0) == 0 || lower.rfind("sqlite_", 0) == 0)
    throw Error(ErrorCode::kPrivilege,
                "vigil_insert writes user tables; \"" + core::text::Printable(shape.info.name, 64) + "\" is not one",
                {}, "vigil's own tables change only through vigil's functions.");
  core::TypedRow row = core::ParseTypedRow(row_json);
  auto plan = PlanOf(db, shape.info);
  core::RowCheck check(plan, row, nullptr, true);
  RunQueries(db, check, false);
  auto violations = check.Finish();
  if (!violations.empty()) throw Error(ErrorCode::kCheckViolation, core::ViolationsMessage(table, violations));
  // The key comes back from the insert itself (RETURNING): the primary key
  // value, a JSON object for a composite key, the rowid when the table
  // declares none. No rowid is read afterwards, so WITHOUT ROWID tables
  // work, and nothing can fail between the insert and the answer.
  std::string returning;
  if (shape.primary_key.empty()) {
    returning = "rowid";
  } else if (shape.primary_key.size() == 1) {
    returning = Sql("json_quote(\"%w\")", shape.primary_key[0].c_str());
  } else {
    returning = "json_object(";
    for (std::size_t i = 0; i < shape.primary_key.size(); ++i) {
      if (i > 0) returning += ", ";
      returning += Sql("%Q, \"%w\"", shape.primary_key[i].c_str(), shape.primary_key[i].c_str());
    }
    returning += ")";
  }
  std::string sql;
  if (row.columns.empty()) {
    sql = Sql("INSERT INTO main.\"%w\" DEFAULT VALUES RETURNING %s", table.c_str(), returning.c_str());
  } else {
    std::string cols, vals;
    for (std::size_t i = 0; i < row.columns.size(); ++i) {
      if (i > 0) { cols += ", "; vals += ", "; }
      cols += Sql("\"%w\"", row.columns[i].c_str());
      vals.append("?").append(std::to_string(i + 1));
    }
    sql = Sql("INSERT INTO main.\"%w\" (%s) VALUES (%s) RETURNING %s", table.c_str(), cols.c_str(), vals.c_str(),
              returning.c_str());
  }
  // One savepoint: a failure leaves nothing behind, even inside a caller's
  // transaction (the savepoint rolls back unless released).
  Savepoint savepoint(db, "vigil_insert");
  std::string key = "null";
  {
    Stmt insert(db, sql);
    for (std::size_t i = 0; i < row.values.size(); ++i) insert.Store(static_cast<int>(i + 1), row.values[i]);
    if (!insert.Step()) throw Error(ErrorCode::kEngine, "the insert returned no row");
    key = insert.Column(0).value_or("null");
    while (insert.Step()) {
    }
  }
  savepoint.Release();
  ResultText(ctx, key);
}

// vigil_enforce_trigger(): PostgreSQL's trigger function; SQLite's triggers
// call the four-argument form instead, so here it explains itself.
void EnforceTrigger(sqlite3_context*, int, sqlite3_value**) {
  throw Error(ErrorCode::kNotSupported,
              "vigil_enforce_trigger() is a PostgreSQL trigger function; in SQLite, vigil_enforce(table) creates "
              "triggers that call vigil_enforce_trigger(table, new_row, old_row, expressions)");
}

// vigil_enforce_trigger(table, new_row, old_row, expressions): what the
// generated triggers call, for a row already stored (AFTER triggers). It
// checks every rule; expression rules are answered from `expressions`,
// which the trigger evaluated in its own SQL, so nothing stored runs here
// and the function is harmless from a view of an untrusted file
// (INNOCUOUS). Returns NULL, or raises the one 23514 error.
void EnforceTriggerRow(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  std::string row = Arg(argv[1], "new_row");
  std::optional<std::string> old_row;
  if (sqlite3_value_type(argv[2]) != SQLITE_NULL) old_row = std::string(vigil::sqlite::Text(argv[2]));
  ExpressionResults results;
  if (sqlite3_value_type(argv[3]) != SQLITE_NULL) {
    core::TypedRow r = core::ParseTypedRow(vigil::sqlite::Text(argv[3]));
    for (std::size_t i = 0; i < r.columns.size(); ++i) {
      std::optional<long long> v;
      if (r.values[i].kind != core::TypedValue::kNull) v = std::strtoll(r.values[i].text.c_str(), nullptr, 10);
      results.by_id.emplace_back(std::strtoll(r.columns[i].c_str(), nullptr, 10), v);
    }
  }
  core::TypedRow parsed = core::ParseTypedRow(row);
  // Every fractional number in the trigger's row is a stored double, which
  // quote() spelled with up to 20 digits, some of them wrong: each is judged
  // as that double's shortest spelling, as vigil_check judges a REAL
  // column's value, so both paths agree.
  auto as_doubles = [](core::TypedRow& r) {
    for (core::TypedValue& v : r.values)
      if (v.kind == core::TypedValue::kReal) v.text = core::StoredDouble(v.text);
  };
  as_doubles(parsed);
  // The triggers name the columns as they were at vigil_enforce: one gone
  // since (ALTER TABLE ... RENAME COLUMN rewrote the trigger's NEW."a" but
  // not its key 'a') leaves the table's writes refused, and says why.
  auto plan = CachedPlan(db, Cache(ctx), table);
  {
    for (const std::string& column : parsed.columns)
      if (plan->ColumnIndex(column) < 0)
        throw Error(ErrorCode::kPrerequisite,
                    "the enforcement triggers of \"" + core::text::Printable(table, 64) + "\" name column \"" +
                        core::text::Printable(column, 64) + "\", which the table no longer has",
                    "A column was renamed or dropped after vigil_enforce; writes stay refused until the rules match.",
                    "Remove or re-add the rules of that column (vigil_rule_remove, vigil_rule_add), then run "
                    "vigil_enforce(table).");
  }
  // A column rule whose column the trigger's row lacks is newer than the
  // triggers (the store was edited by hand): fail closed, as for an
  // expression rule the triggers do not know.
  for (const auto& entry : plan->rules())
    if (entry.column && plan->ColumnIndex(*entry.column) >= 0 && parsed.Find(*entry.column) == nullptr)
      throw Error(ErrorCode::kPrerequisite,
                  "the enforcement triggers of \"" + core::text::Printable(table, 64) + "\" predate rule " + entry.name +
                      " on column \"" + core::text::Printable(*entry.column, 64) + "\"",
                  {}, "Run vigil_enforce(table) to rebuild them.");
  std::optional<core::TypedRow> old_parsed;
  if (old_row) {
    old_parsed = core::ParseTypedRow(*old_row);
    as_doubles(*old_parsed);
  }
  core::RowCheck check(plan, std::move(parsed), old_parsed ? &*old_parsed : nullptr, false);
  RunQueries(db, check, true, &results);
  auto violations = check.Finish();
  if (!violations.empty()) throw Error(ErrorCode::kCheckViolation, core::ViolationsMessage(table, violations));
  sqlite3_result_null(ctx);
}

// vigil_rules: the rule store as a table-valued function.
std::vector<Row> RuleRows(sqlite3* db) {
  std::vector<Row> rows;
  if (!schema::Ensure(db, schema::Access::kRead, "vigil_rule_store")) return rows;
  std::unordered_map<std::string, bool> enforced;
  // typeof: a rule whose stored table name is not text (a hand-edited
  // file) never matches its table's checks, so it never reads as enforced.
  Stmt s(db, "SELECT id, table_name, column_name, rule, params, created_at, typeof(table_name) = 'text'"
             " FROM main.vigil_rule_store ORDER BY id");
  while (s.Step()) {
    Row r;
    r.push_back(Value::Integer(s.Int(0)));
    for (int c = 1; c < 6; ++c) {
      auto v = s.Column(c);
      r.push_back(v ? Value::Text(*v) : Value::Null());
    }
    r.push_back(Value::Text("main"));  // a file's rules are about its own tables
    // Whether the table's enforcement is in place now: its triggers exist
    // (a table dropped and recreated outside a migration lost them).
    std::string table = s.Column(1).value_or("");
    auto known = enforced.find(table);
    if (known == enforced.end()) known = enforced.emplace(table, TriggersCurrent(db, table)).first;
    // A rule on a column the table no longer has (renamed or dropped
    // since) is enforced by nothing.
    auto column = s.Column(2);
    if (known->second && column) {
      Stmt c(db, "SELECT 1 FROM pragma_table_xinfo(?1, 'main') WHERE name = ?2");
      c.Text(1, table);
      c.Text(2, *column);
      if (!c.Step()) {
        r.push_back(Value::Integer(0));
        rows.push_back(std::move(r));
        continue;
      }
    }
    r.push_back(Value::Integer(known->second && s.Int(6) == 1 ? 1 : 0));
    rows.push_back(std::move(r));
  }
  return rows;
}

const TableSpec kRules = {"vigil_rules",
                          "id INTEGER, table_name TEXT, column_name TEXT, rule TEXT, params TEXT, created_at TEXT, table_schema TEXT,"
                          " enforced INTEGER",
                          RuleRows};

const Impl kImpls[] = {
    {"vigil_rule_add", Bridge<RuleAdd>, nullptr, true},
    {"vigil_rule_remove", Bridge<RuleRemove>, nullptr, true},
    {"vigil_check", Bridge<Check>, nullptr, true},
    {"vigil_enforce", Bridge<Enforce>, nullptr, true},
    {"vigil_unenforce", Bridge<Unenforce>, nullptr, true},
    {"vigil_insert", Bridge<Insert>, nullptr, true},
    {"vigil_enforce_trigger", Bridge<EnforceTrigger>, nullptr, true},
    {"vigil_enforce_trigger_row", Bridge<EnforceTriggerRow>, nullptr, true},
    {"vigil_rules", nullptr, &kRules, false},
    {"vigil_json_schema_add", Bridge<JsonSchemaAdd>, nullptr, false},
    {"vigil_json_schema_remove", Bridge<JsonSchemaRemove>, nullptr, false},
};

}  // namespace

std::span<const Impl> RulesImpls() { return kImpls; }

void* NewRulesCache(int users) {
  auto* cache = new (std::nothrow) RulesCache();
  if (cache != nullptr) cache->refs = users;
  return cache;
}

void ReleaseRulesCache(void* p) {
  auto* c = static_cast<RulesCache*>(p);
  if (--c->refs == 0) delete c;
}

std::vector<std::string> EnforcedTables(sqlite3* db) {
  std::vector<std::string> tables;
  // Only real tables: a trigger of that name on a view is not vigil's.
  Stmt s(db, "SELECT t.tbl_name FROM main.sqlite_schema AS t JOIN main.sqlite_schema AS o"
             " ON o.type = 'table' AND o.name = t.tbl_name"
             " WHERE t.type = 'trigger' AND t.name = 'vigil_enforce_insert:' || t.tbl_name");
  while (s.Step()) tables.push_back(s.Column(0).value_or(""));
  return tables;
}

bool EnforcementCurrent(sqlite3* db, const std::string& table) { return TriggersCurrent(db, table); }

void RegenerateEnforcement(sqlite3* db) {
  for (const std::string& t : EnforcedTables(db)) InstallTriggers(db, t, false);
}

void Reenforce(sqlite3* db, const std::vector<std::string>& tables) {
  for (const std::string& old_name : tables) {
    // The new table may spell the name in another case (SQLite's names
    // ignore it): its rules are found under either.
    Stmt exists(db, "SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE");
    exists.Text(1, old_name);
    if (!exists.Step()) continue;
    std::string t = exists.Column(0).value_or(old_name);
    if (Enforced(db, t)) continue;
    if (std::optional<Error> e = CoreError([&] { InstallTriggers(db, t); }))
      throw Error(e->code(), "the migration recreated the enforced table \"" + core::text::Printable(t, 64) +
                                 "\", and its rules no longer fit it: " + e->what(),
                  {}, "Remove or change the rules that name what the new table lacks, in the same migration.");
  }
}

}  // namespace vigil::sqlite
