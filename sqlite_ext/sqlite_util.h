// sqlite_util.h — small RAII helpers over the SQLite C API shared by the
// adapter's files: statements, savepoints, quoting, catalog look-ups. They
// throw vigil::core::Error; callers run inside vigil::sqlite::Run.
#pragma once

#include <sqlite3ext.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

#include "base/decimal.h"
#include "base/text.h"
#include "boundary.h"
#include "schema_sqlite.h"
#include "base/error.h"
#include "rules/row_check.h"
#include "validate/json_schema.h"

namespace vigil::sqlite {

using core::Error;
using core::ErrorCode;

// vigil's own statements (built from fixed text and the file's names) are
// registered while they live: they never vouch for a DIRECTONLY call
// (module_sqlite.cc, DirectOnlyCall). ReserveOwnStatement makes room first
// (it may throw std::bad_alloc), so OwnStatement never allocates.
void ReserveOwnStatement();
void OwnStatement(sqlite3_stmt* stmt, bool own) noexcept;

// Sql formats with sqlite3_mprintf (%w identifiers, %Q literals).
template <typename... Args>
std::string Sql(const char* fmt, Args... args) {
  char* p = sqlite3_mprintf(fmt, args...);
  if (p == nullptr) throw std::bad_alloc();
  std::string s(p);
  sqlite3_free(p);
  return s;
}

// EngineError throws the connection's last error. When it is vigil's own,
// raised by a statement vigil ran (an enforced table's trigger under
// vigil_insert, say), it is passed on as it was: its code, message, detail
// and hint, not as an engine error with a second "vigil: " prefix.
[[noreturn]] inline void EngineError(sqlite3* db) {
  std::string msg = sqlite3_errmsg(db);
  if (msg.rfind("vigil: ", 0) != 0) throw Error(ErrorCode::kEngine, msg);
  msg.erase(0, 7);
  std::string detail, hint;
  if (std::size_t h = msg.find("\nHINT:  "); h != std::string::npos) {
    hint = msg.substr(h + 8);
    msg.resize(h);
  }
  if (std::size_t d = msg.find("\nDETAIL:  "); d != std::string::npos) {
    detail = msg.substr(d + 10);
    msg.resize(d);
  }
  ErrorCode code = ErrorCode::kEngine;
  switch (sqlite3_extended_errcode(db)) {
    case SQLITE_CONSTRAINT_CHECK: code = ErrorCode::kCheckViolation; break;
    case SQLITE_TOOBIG: code = ErrorCode::kProgramLimit; break;
    case SQLITE_INTERRUPT: code = ErrorCode::kCanceled; break;
    default: break;
  }
  throw Error(code, msg, detail, hint);
}

class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    ReserveOwnStatement();
    if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK) EngineError(db);
    OwnStatement(stmt_, true);
  }
  ~Stmt() {
    OwnStatement(stmt_, false);
    sqlite3_finalize(stmt_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    EngineError(db_);
  }
  void Text(int i, std::string_view s) {
    sqlite3_bind_text64(stmt_, i, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  void Null(int i) { sqlite3_bind_null(stmt_, i); }
  // Value binds a row's value for a lookup or an expression: numbers as
  // numbers (an integer beyond 64 bits, or a long decimal, as the nearest
  // double).
  void Value(int i, const core::TypedValue& v) {
    switch (v.kind) {
      case core::TypedValue::kNull: Null(i); break;
      case core::TypedValue::kInteger: {
        char* end = nullptr;
        errno = 0;
        long long n = std::strtoll(v.text.c_str(), &end, 10);
        if (*end == '\0' && errno == 0) sqlite3_bind_int64(stmt_, i, n);
        else sqlite3_bind_double(stmt_, i, std::strtod(v.text.c_str(), nullptr));
        break;
      }
      case core::TypedValue::kReal: sqlite3_bind_double(stmt_, i, std::strtod(v.text.c_str(), nullptr)); break;
      case core::TypedValue::kBoolean: sqlite3_bind_int(stmt_, i, v.text == "true" ? 1 : 0); break;
      default: Text(i, v.text); break;
    }
  }
  // Store binds a value to be stored (vigil_insert): a number that no
  // 64-bit integer or double holds as written (99999999999999999999,
  // 0.1000000000000000000001) goes as its exact text, so the column's
  // affinity decides and a TEXT column keeps every digit; never clamped.
  void Store(int i, const core::TypedValue& v) {
    if (v.kind == core::TypedValue::kInteger) {
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(v.text.c_str(), &end, 10);
      if (*end == '\0' && errno == 0) sqlite3_bind_int64(stmt_, i, n);
      else Text(i, v.text);
      return;
    }
    if (v.kind == core::TypedValue::kReal) {
      double d = std::strtod(v.text.c_str(), nullptr);
      std::optional<core::Decimal> written = core::Decimal::Parse(v.text);
      std::optional<core::Decimal> bound = core::Decimal::Parse(core::ShortestDouble(d));
      if (written && bound && core::Decimal::Compare(*written, *bound) != 0) Text(i, v.text);
      else sqlite3_bind_double(stmt_, i, d);
      return;
    }
    Value(i, v);
  }
  std::optional<std::string> Column(int i) {
    const unsigned char* p = sqlite3_column_text(stmt_, i);
    if (p == nullptr) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i)));
  }
  int Type(int i) { return sqlite3_column_type(stmt_, i); }
  sqlite3_int64 Int(int i) { return sqlite3_column_int64(stmt_, i); }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Exec runs vigil's own SQL, statement by statement (each registered as
// vigil's while it runs).
inline void Exec(sqlite3* db, const std::string& sql) {
  const char* p = sql.c_str();
  while (p != nullptr && *p != '\0') {
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    ReserveOwnStatement();
    if (sqlite3_prepare_v2(db, p, -1, &stmt, &tail) != SQLITE_OK) throw Error(ErrorCode::kEngine, sqlite3_errmsg(db));
    if (stmt != nullptr) {
      OwnStatement(stmt, true);
      int rc;
      while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      }
      OwnStatement(stmt, false);
      sqlite3_finalize(stmt);
      if (rc != SQLITE_DONE) throw Error(ErrorCode::kEngine, sqlite3_errmsg(db));
    }
    p = tail;
  }
}

// ExecOne runs exactly one statement: SQL built from stored text (a rule's
// expression inside a trigger) can never smuggle in a second one.
inline void ExecOne(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  ReserveOwnStatement();
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail) != SQLITE_OK) EngineError(db);
  bool more = tail != nullptr && std::string_view(tail).find_first_not_of(" \t\r\n") != std::string_view::npos;
  OwnStatement(stmt, true);
  int rc = more ? SQLITE_MISUSE : sqlite3_step(stmt);
  OwnStatement(stmt, false);
  sqlite3_finalize(stmt);
  if (more) throw Error(ErrorCode::kInvalidParameter, "vigil built a statement that holds more than one");
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) EngineError(db);
}

// Savepoint rolls back and releases on destruction unless Release() ran, so
// an exception leaves the database as it was. SQLite refuses to open a
// savepoint while the calling statement writes in autocommit mode
// (CREATE TABLE ... AS SELECT vigil_...()); the savepoint is then inactive
// and the calling statement is the unit of work.
class Savepoint {
 public:
  Savepoint(sqlite3* db, const char* name) : db_(db), name_(name) {
    std::string sql = Sql("SAVEPOINT \"%w\"", name);
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) {
      active_ = true;
    } else {
      std::string msg = err ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      if (msg.find("statements in progress") == std::string::npos) throw Error(ErrorCode::kEngine, msg);
    }
  }
  ~Savepoint() {
    if (active_ && !released_) {
      std::string sql = Sql("ROLLBACK TO \"%w\"; RELEASE \"%w\"", name_, name_);
      sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    }
  }
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  void Release() {
    if (active_) Exec(db_, Sql("RELEASE \"%w\"", name_));
    released_ = true;
  }

 private:
  sqlite3* db_;
  const char* name_;
  bool active_ = false;
  bool released_ = false;
};

// NowUtc is the current time as ISO-8601 UTC text with milliseconds.
inline std::string NowUtc(sqlite3* db) {
  Stmt s(db, "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')");
  s.Step();
  return s.Column(0).value_or("");
}

inline std::string Arg(sqlite3_value* v, const char* what) {
  if (sqlite3_value_type(v) == SQLITE_NULL) throw Error(ErrorCode::kNullValue, std::string(what) + " must not be NULL");
  return std::string(vigil::sqlite::Text(v));
}

// RequireSchemaSafe refuses to run a rule's stored expression from the
// application's own statements (vigil_check, vigil_insert, quality checks)
// when it calls a function that the database's own schema could not call:
// any DIRECTONLY function (load_extension, writefile, vigil_migrate, ...)
// and, under PRAGMA trusted_schema = OFF, any function not flagged
// INNOCUOUS. A stored expression is the file's code, so it gets no more
// through vigil than the file's triggers and views get (the triggers run
// it in their own SQL, where SQLite applies the same rule).
inline void RequireSchemaSafe(sqlite3* db, const std::string& expression) {
  bool trusted = true;
  {
    Stmt t(db, "PRAGMA trusted_schema");
    if (t.Step()) trusted = t.Int(0) != 0;
  }
  std::vector<std::string> names;
  const std::string& e = expression;
  for (std::size_t i = 0; i < e.size();) {
    char c = e[i];
    if (c == '\'' ) {  // a string literal
      for (++i; i < e.size() && !(e[i] == '\'' && (i + 1 >= e.size() || e[i + 1] != '\'')); ++i)
        if (e[i] == '\'') ++i;
      ++i;
      continue;
    }
    std::string word;
    if (c == '"' || c == '`' || c == '[') {  // a quoted name
      char close = c == '[' ? ']' : c;
      for (++i; i < e.size() && e[i] != close; ++i) word.push_back(e[i]);
      ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
      while (i < e.size() && (std::isalnum(static_cast<unsigned char>(e[i])) || e[i] == '_' || e[i] == '$' ||
                              static_cast<unsigned char>(e[i]) >= 0x80))
        word.push_back(e[i++]);
    } else {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < e.size() && std::isspace(static_cast<unsigned char>(e[j]))) ++j;
    std::string lower = word;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    // Operators that call functions: x LIKE y calls like(), and so on.
    if (lower == "like" || lower == "glob" || lower == "regexp" || lower == "match") names.push_back(lower);
    else if (j < e.size() && e[j] == '(') names.push_back(lower);
  }
  for (const std::string& name : names) {
    Stmt f(db, "SELECT count(*), sum(flags & 524288 <> 0), sum(flags & 2097152 = 0) FROM pragma_function_list"
               " WHERE name = ?1");
    f.Text(1, name);
    if (!f.Step() || f.Int(0) == 0) continue;  // not a function: SQLite says what it is
    bool direct_only = f.Int(1) > 0, not_innocuous = f.Int(2) > 0;
    if (direct_only || (!trusted && not_innocuous))
      throw Error(ErrorCode::kPrivilege,
                  "rule expression calls " + core::text::Printable(name, 40) + "(), which this database's own "
                  "schema may not call" + (direct_only ? "" : " under PRAGMA trusted_schema = OFF"),
                  {}, "A rule's expression runs with the rights of the file's triggers and views: "
                      "innocuous functions only, never DIRECTONLY ones.");
  }
}

struct TableShape {
  core::TableInfo info;
  std::vector<std::string> primary_key;  // in key order
};

// LoadTable reads the columns of the main schema's `table` (42P01 when it
// does not exist): rules, checks and reports are about the file's own
// tables, which a temporary table of the same name does not shadow.
inline TableShape LoadTable(sqlite3* db, const std::string& table) {
  TableShape t;
  t.info.name = table;
  if (table.empty()) throw Error(ErrorCode::kUndefinedTable, "table \"\" does not exist");
  // table_xinfo also lists generated columns (hidden 2: virtual, 3:
  // stored); hidden 1 is a virtual table's hidden column, never a row's.
  Stmt s(db, "SELECT name, type, pk, hidden FROM pragma_table_xinfo(?1, 'main') WHERE hidden <> 1 ORDER BY cid");
  s.Text(1, table);
  std::vector<std::pair<sqlite3_int64, std::string>> pk;
  while (s.Step()) {
    t.info.columns.push_back(s.Column(0).value_or(""));
    // xinfo's type of a generated column carries " GENERATED ALWAYS".
    std::string type = s.Column(1).value_or("");
    if (s.Int(3) >= 2) {
      t.info.generated.push_back(t.info.columns.back());
      std::size_t g = type.find(" GENERATED ALWAYS");
      if (g != std::string::npos) type.resize(g);
    }
    t.info.types.push_back(type);
    if (s.Int(2) > 0) pk.emplace_back(s.Int(2), t.info.columns.back());
  }
  if (t.info.columns.empty())
    throw Error(ErrorCode::kUndefinedTable, "table \"" + core::text::ForMessage(table, 64) + "\" does not exist");
  // SQLite's names ignore ASCII case: rules, triggers and lookups use the
  // name as the table was created, so 'T' and 't' are one table's rules.
  Stmt n(db, "SELECT name, type FROM main.sqlite_schema WHERE name = ?1 COLLATE NOCASE AND type IN ('table', 'view')");
  n.Text(1, table);
  if (n.Step()) {
    t.info.name = n.Column(0).value_or(table);
    // Rules, checks and inserts are about tables (a view's INSERT ...
    // RETURNING reports a row it never wrote), as in PostgreSQL.
    if (n.Column(1).value_or("") == "view")
      throw Error(ErrorCode::kWrongObjectType, "\"" + core::text::ForMessage(table, 64) + "\" is not a table");
  }
  std::sort(pk.begin(), pk.end());
  for (auto& [n, name] : pk) t.primary_key.push_back(name);
  return t;
}

inline void RequireColumn(const core::TableInfo& t, const std::string& column) {
  for (const std::string& c : t.columns)
    if (c == column) return;
  throw Error(ErrorCode::kUndefinedColumn, "column \"" + core::text::ForMessage(column, 64) + "\" of table \"" +
                                                core::text::ForMessage(t.name, 64) + "\" does not exist");
}

inline std::vector<core::StoredRule> LoadRules(sqlite3* db, const std::string& table) {
  std::vector<core::StoredRule> rules;
  if (!schema::Ensure(db, schema::Access::kRead, "vigil_rule_store")) return rules;
  // NOCASE: SQLite's names ignore ASCII case, so a table recreated as 'T'
  // keeps the rules stored under 't'.
  Stmt s(db, "SELECT column_name, rule, params, id FROM main.vigil_rule_store WHERE table_name = ?1 COLLATE NOCASE"
             " ORDER BY id");
  s.Text(1, table);
  while (s.Step()) rules.push_back({s.Column(0), s.Column(1).value_or(""), s.Column(2), s.Int(3)});
  return rules;
}

// SchemaRegistry reads main.vigil_json_schemas, the schemas registered with
// vigil_json_schema_add. A database without it (no vigil objects, or one
// written before 0.7.0 and not upgraded yet) has none registered; a
// vigil_json_schemas that is not vigil's plain table is refused by Ensure.
class SchemaRegistry final : public core::JsonSchemaRegistry {
 public:
  explicit SchemaRegistry(sqlite3* db) : db_(db) {}
  std::optional<std::string> Find(const std::string& uri) override {
    if (!checked_) {
      checked_ = true;
      if (schema::Ensure(db_, schema::Access::kRead)) {
        Stmt t(db_, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'vigil_json_schemas'");
        present_ = t.Step();
      }
    }
    if (!present_) return std::nullopt;
    Stmt s(db_, "SELECT schema FROM main.vigil_json_schemas WHERE uri = ?1");
    s.Text(1, uri);
    if (!s.Step()) return std::nullopt;
    return s.Column(0).value_or("null");
  }

 private:
  sqlite3* db_;
  bool checked_ = false;
  bool present_ = false;
};

}  // namespace vigil::sqlite
