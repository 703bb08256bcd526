// audit_sqlite.cc — the audit trail for SQLite (SPEC §5, issue 13;
// docs/audit.md).
//
// vigil_audit_enable generates three AFTER triggers per table; each writes
// its entry with one plain INSERT, as cheap as a trigger can be. Entries are
// sealed into the chain afterwards, by the core's SealPending (the same
// code as PostgreSQL's) when the application calls vigil_audit_seal() or
// vigil_audit_head(), and before a purge or an erasure. SQLite has one
// writer at a time, so ids are given in commit order and the entries not
// sealed yet are those after the newest sealed one.
//
// The connection's actor and audit key live in this module's memory, never
// in the file. A file's schema may be hostile (docs/security.md): its own
// triggers or views could call vigil_audit_redact to learn keyed digests,
// so vigil_audit_key refuses a file whose schema mentions vigil_audit
// anywhere but in vigil's own generated triggers, and vigil_audit_verify
// reports such objects.
#include <sqlite3ext.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "audit/entry.h"
#include "audit/trail.h"
#include "secrets/secrets.h"
#include "boundary.h"
#include "module_sqlite.h"
#include "schema_sqlite.h"
#include "sql/lexer.h"
#include "sql/normalize.h"
#include "sqlite_util.h"

namespace vigil::sqlite {
namespace {

namespace audit = core::audit;

// ---- the connection's audit state --------------------------------------------------

// The connection's state: the actor and audit key here, and the API-key
// secret of secrets_sqlite.cc (ConnectionApiSecret).
struct AuditState {
  int refs = 0;
  sqlite3* db = nullptr;  // its statement monitor goes with it (RemoveMonitor)
  std::optional<std::string> actor;
  std::optional<std::string> key;
  bool env_read = false;  // VIGIL_AUDIT_KEY looked at
  std::optional<std::string> api_secret;
  bool api_env_read = false;  // VIGIL_API_KEY_SECRET looked at
  // The last statement normalised for the log, and its form: a statement
  // that changes many rows is normalised once.
  std::string last_sql, last_normalized;
};

AuditState* State(sqlite3_context* ctx) { return static_cast<AuditState*>(UserData(ctx)); }

std::vector<std::string> ForeignObjects(sqlite3* db);
bool HasLog(sqlite3* db);

// RefuseForeign refuses a key while the file's own objects call the audit
// functions: they could obtain keyed digests.
void RefuseForeign(sqlite3* db) {
  if (!HasLog(db)) return;
  std::vector<std::string> foreign = ForeignObjects(db);
  if (!foreign.empty())
    throw Error(ErrorCode::kPrerequisite,
                "this file's schema calls vigil's audit functions outside vigil's triggers: " + foreign[0], {},
                "Drop the object: it could learn keyed digests. vigil_audit_verify() lists them all.");
}

// KeyOf is the connection's key: set with vigil_audit_key, else taken from
// the environment variable VIGIL_AUDIT_KEY on first use (checked as
// vigil_audit_key checks it).
std::optional<std::string_view> KeyOf(sqlite3* db, AuditState* s) {
  if (s == nullptr) return std::nullopt;
  if (!s->key && !s->env_read) {
    s->env_read = true;
    if (const char* env = std::getenv("VIGIL_AUDIT_KEY"); env != nullptr && *env != '\0') {
      audit::CheckKey(env);
      RefuseForeign(db);
      s->key = std::string(env);
    }
  }
  if (!s->key) return std::nullopt;
  return std::string_view(*s->key);
}

constexpr std::size_t kMaxActor = 1024;

// ---- generated triggers ----------------------------------------------------------

std::string TriggerName(const char* op, const std::string& table) {
  std::string name = "vigil_audit_";
  name.append(op).append(":").append(table);
  return name;
}

// ValueExpr is a column's value as PostgreSQL's to_jsonb spells the same
// value: a blob as "\x<hex>" (bytea), an infinite real as "Infinity", a
// real with every digit that tells it apart.
std::string ValueExpr(const char* alias, const std::string& column) {
  std::string r = Sql("%s.\"%w\"", alias, column.c_str());
  return "CASE typeof(" + r + ") WHEN 'blob' THEN '\\x' || lower(hex(" + r + ")) WHEN 'real' THEN iif(abs(" + r +
         ") > 1.7976931348623157e308, iif(" + r + " > 0, 'Infinity', '-Infinity'), json(quote(" + r + "))) ELSE " + r +
         " END";
}

std::string ImageValue(const char* alias, const std::string& column, const audit::Options& o) {
  std::string v = ValueExpr(alias, column);
  if (std::binary_search(o.redact.begin(), o.redact.end(), column))
    return Sql("iif(%s.\"%w\" IS NULL, NULL, vigil_audit_redact(json_quote(", alias, column.c_str()) + v + ")))";
  return v;
}

// ObjectOf is json_object over the columns, in chunks of 60 pairs joined
// as text (SQLite functions take at most 127 arguments; no chunk value
// ends in '}' outside quotes, so rtrim/ltrim remove exactly one brace).
std::string ObjectOf(const std::vector<std::string>& columns, const char* alias, const audit::Options& o) {
  if (columns.empty()) return "'{}'";
  std::vector<std::string> chunks;
  for (std::size_t i = 0; i < columns.size(); i += 60) {
    std::string obj = "json_object(";
    for (std::size_t k = i; k < columns.size() && k < i + 60; ++k) {
      if (k > i) obj += ", ";
      obj += Sql("%Q, ", columns[k].c_str()) + ImageValue(alias, columns[k], o);
    }
    chunks.push_back(obj + ")");
  }
  if (chunks.size() == 1) return chunks[0];
  std::string out = "json(rtrim(" + chunks[0] + ", '}')";
  for (std::size_t i = 1; i < chunks.size(); ++i) {
    bool last = i + 1 == chunks.size();
    out += " || ',' || " + (last ? "ltrim(" + chunks[i] + ", '{')" : "trim(" + chunks[i] + ", '{}')");
  }
  return out + ")";
}

// ChangedOf is the JSON array of the columns whose values differ.
std::string ChangedOf(const std::vector<std::string>& columns) {
  if (columns.empty()) return "'[]'";
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < columns.size(); i += 100) {
    std::string arr = "json_array(";
    for (std::size_t k = i; k < columns.size() && k < i + 100; ++k) {
      if (k > i) arr += ", ";
      arr += Sql("iif(OLD.\"%w\" IS NOT NEW.\"%w\", %Q, NULL)", columns[k].c_str(), columns[k].c_str(),
                 columns[k].c_str());
    }
    arr += ")";
    parts.push_back("SELECT key AS k, " + std::to_string(i) + " AS c, value FROM json_each(" + arr +
                    ") WHERE value IS NOT NULL");
  }
  std::string all;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) all += " UNION ALL ";
    all += parts[i];
  }
  return "(SELECT json_group_array(value) FROM (" + all + " ORDER BY c, k))";
}

struct TablePlan {
  std::string table;
  std::vector<std::string> columns;  // audited (not excluded), in table order
  std::vector<std::string> key;      // primary key columns present in the image
  audit::Options options;
};

TablePlan PlanFor(sqlite3* db, const std::string& table, std::string_view options_json) {
  TableShape shape = LoadTable(db, table);
  TablePlan p;
  p.table = shape.info.name;
  p.options = audit::ParseOptions(options_json, &shape.info.columns);
  for (const std::string& c : shape.info.columns)
    if (!std::binary_search(p.options.exclude.begin(), p.options.exclude.end(), c)) p.columns.push_back(c);
  for (const std::string& c : shape.primary_key)
    if (!std::binary_search(p.options.exclude.begin(), p.options.exclude.end(), c)) p.key.push_back(c);
  return p;
}

// TriggerSql is one trigger's text after "CREATE TRIGGER " (as
// sqlite_schema keeps it).
std::string TriggerSql(const TablePlan& p, const char* op) {
  const std::string& t = p.table;
  bool has_old = std::strcmp(op, "INSERT") != 0, has_new = std::strcmp(op, "DELETE") != 0;
  const char* key_alias = has_old ? "OLD" : "NEW";
  std::string key = p.key.empty() ? "NULL" : ObjectOf(p.key, key_alias, p.options);
  std::string old_image = has_old ? ObjectOf(p.columns, "OLD", p.options) : "NULL";
  std::string new_image = has_new ? ObjectOf(p.columns, "NEW", p.options) : "NULL";
  std::string changed = has_old && has_new ? ChangedOf(p.columns) : "NULL";
  std::string statement = p.options.statement ? "vigil_audit_statement()" : "NULL";
  std::string lower = op;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string name = TriggerName(lower.c_str(), t);
  return Sql("\"%w\" AFTER %s ON \"%w\" BEGIN "
             "INSERT INTO vigil_audit_log (at, actor, table_schema, table_name, operation, row_key, old_row, new_row,"
             " changed_columns, statement) VALUES (strftime('%%Y-%%m-%%dT%%H:%%M:%%f', 'now') || '000Z', vigil_actor(),"
             " 'main', %Q, '%s', ",
             name.c_str(), op, t.c_str(), t.c_str(), op) +
         key + ", " + old_image + ", " + new_image + ", " + changed + ", " + statement + "); END";
}

constexpr const char* kOps[] = {"INSERT", "UPDATE", "DELETE"};
constexpr const char* kOpNames[] = {"insert", "update", "delete"};

void DropTriggers(sqlite3* db, const std::string& table) {
  for (const char* op : kOpNames)
    ExecOne(db, Sql("DROP TRIGGER IF EXISTS main.\"%w\"", TriggerName(op, table).c_str()));
}

// ForeignObjects lists the schema objects that mention vigil_audit but are
// not vigil's current triggers of an audited table (nor vigil's tables).
std::vector<std::string> ForeignObjects(sqlite3* db) {
  std::vector<std::string> expected;  // "name\x01sql"
  {
    Stmt s(db, "SELECT table_name, options FROM main.vigil_audit_tables");
    while (s.Step()) {
      std::string table = s.Column(0).value_or("");
      std::optional<Error> failed = CoreError([&] {
        TablePlan p = PlanFor(db, table, s.Column(1).value_or("{}"));
        for (int i = 0; i < 3; ++i)
          expected.push_back(TriggerName(kOpNames[i], p.table) + '\x01' + "CREATE TRIGGER " + TriggerSql(p, kOps[i]));
      });
      (void)failed;  // a table gone or changed: its triggers, if any, are foreign now
    }
  }
  std::vector<std::string> foreign;
  // vigil's own tables and index are exempt only while their SQL calls no
  // audit function: a DEFAULT, CHECK or generated column of a crafted
  // vigil_audit_log could otherwise compute keyed digests on every insert.
  static constexpr const char* kFunctions[] = {"vigil_audit_redact", "vigil_audit_statement", "vigil_actor",
                                               "vigil_set_actor", "vigil_audit_key", "vigil_audit_seal",
                                               "vigil_audit_head", "vigil_audit_verify", "vigil_audit_purge",
                                               "vigil_audit_erase", "vigil_audit_digest", "vigil_audit_enable",
                                               "vigil_audit_disable", "vigil_audit_trigger"};
  Stmt s(db, "SELECT type, name, sql FROM main.sqlite_schema WHERE sql LIKE '%vigil\\_audit%' ESCAPE '\\'"
             " OR sql LIKE '%vigil\\_actor%' ESCAPE '\\' OR sql LIKE '%vigil\\_set\\_actor%' ESCAPE '\\'");
  while (s.Step()) {
    std::string type = s.Column(0).value_or(""), name = s.Column(1).value_or(""), sql = s.Column(2).value_or("");
    if (type == "trigger" &&
        std::find(expected.begin(), expected.end(), name + '\x01' + sql) != expected.end())
      continue;
    bool vigils = (type == "table" && (name == "vigil_audit_log" || name == "vigil_audit_chain" ||
                                       name == "vigil_audit_tables")) ||
                  (type == "index" && name == "vigil_audit_log_seq");
    if (vigils) {
      std::string lower = sql;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      bool calls = false;
      for (const char* f : kFunctions) calls |= lower.find(f) != std::string::npos;
      if (!calls) continue;
    }
    foreign.push_back(type + " " + name);
  }
  return foreign;
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// ---- the store -------------------------------------------------------------------

constexpr const char* kEntryColumns =
    "id, at, session_role, effective_role, actor, application_name, client_addr, txid, table_schema, table_name,"
    " operation, row_key, old_row, new_row, old_digest, new_digest, changed_columns, statement, detail";

audit::Entry EntryOf(Stmt& s) {
  std::vector<audit::Text> columns;
  for (std::size_t i = 0; i < audit::kEntryColumnCount; ++i) columns.push_back(s.Column(static_cast<int>(i)));
  return audit::EntryFromColumns(columns);
}

class SqliteAuditStore final : public audit::AuditStore {
 public:
  SqliteAuditStore(sqlite3* db, AuditState* state) : db_(db), state_(state) {}

  audit::Chain ReadChain(bool lock) override {
    // The sealer writes first, so that it reads the chain under the write
    // lock (a second sealer waits, or fails on a stale snapshot).
    if (lock) Stmt(db_, "UPDATE main.vigil_audit_chain SET head_seq = head_seq WHERE singleton = 1").Step();
    Stmt s(db_, "SELECT head_seq, head_hash, from_seq, from_hash FROM main.vigil_audit_chain WHERE singleton = 1");
    if (!s.Step())
      throw Error(ErrorCode::kPrerequisite, "vigil_audit_chain has lost its row", {},
                  "the chain's state was deleted: restore the file from a backup");
    audit::Chain c;
    c.head_seq = s.Int(0);
    c.head_hash = s.Column(1);
    c.from_seq = s.Int(2);
    c.from_hash = s.Column(3);
    return c;
  }
  void StartSealing() override { after_.reset(); }
  std::vector<audit::Entry> ReadUnsealed(int limit) override {
    // Entries are committed in id order: those not sealed yet follow the
    // newest sealed one (found through the partial index on seq).
    if (!after_) {
      Stmt h(db_, "SELECT coalesce((SELECT id FROM main.vigil_audit_log WHERE seq IS NOT NULL"
                  " ORDER BY seq DESC LIMIT 1), 0)");
      after_ = h.Step() ? h.Int(0) : 0;
    }
    Stmt s(db_, std::string("SELECT ") + kEntryColumns + " FROM main.vigil_audit_log WHERE id > ?1 AND seq IS NULL"
                    " ORDER BY id LIMIT " + std::to_string(limit));
    sqlite3_bind_int64(s.get(), 1, *after_);
    std::vector<audit::Entry> out;
    while (s.Step()) out.push_back(EntryOf(s));
    if (!out.empty()) after_ = out.back().id;
    return out;
  }
  void WriteSeals(const std::vector<audit::Seal1>& seals) override {
    Stmt s(db_, "UPDATE main.vigil_audit_log SET seq = ?2, entry_hash = ?3 WHERE id = ?1");
    for (const auto& x : seals) {
      sqlite3_reset(s.get());
      sqlite3_bind_int64(s.get(), 1, x.id);
      sqlite3_bind_int64(s.get(), 2, x.seq);
      s.Text(3, x.hash);
      s.Step();
    }
  }
  void WriteHead(std::int64_t seq, const std::string& hash) override {
    Stmt s(db_, "UPDATE main.vigil_audit_chain SET head_seq = ?1, head_hash = ?2 WHERE singleton = 1");
    sqlite3_bind_int64(s.get(), 1, seq);
    s.Text(2, hash);
    s.Step();
  }
  std::vector<audit::Sealed> ReadSealed(std::int64_t after_seq, int limit) override {
    Stmt s(db_, std::string("SELECT ") + kEntryColumns + ", seq, entry_hash FROM main.vigil_audit_log WHERE seq > ?1"
                    " ORDER BY seq LIMIT " + std::to_string(limit));
    sqlite3_bind_int64(s.get(), 1, after_seq);
    std::vector<audit::Sealed> out;
    // A seq that is not an integer (a crafted file) is no place in the
    // chain: -1 makes verify report it.
    while (s.Step()) out.push_back({s.Type(19) == SQLITE_INTEGER ? s.Int(19) : -1, EntryOf(s), s.Column(20).value_or("")});
    return out;
  }
  std::int64_t CountUnsealed() override {
    Stmt s(db_, "SELECT count(*) FROM main.vigil_audit_log WHERE seq IS NULL");
    return s.Step() ? s.Int(0) : 0;
  }
  std::int64_t LastSeqBefore(std::string_view before) override {
    Stmt s(db_, "SELECT coalesce((SELECT min(seq) FROM main.vigil_audit_log WHERE seq IS NOT NULL AND at >= ?1) - 1,"
                " (SELECT max(seq) FROM main.vigil_audit_log), 0)");
    s.Text(1, before);
    return s.Step() ? s.Int(0) : 0;
  }
  std::int64_t DeleteThrough(std::int64_t through) override {
    Stmt s(db_, "DELETE FROM main.vigil_audit_log WHERE seq <= ?1");
    sqlite3_bind_int64(s.get(), 1, through);
    s.Step();
    return sqlite3_changes64(db_);
  }
  void WriteCheckpoint(std::int64_t seq, const std::string& hash) override {
    Stmt s(db_, "UPDATE main.vigil_audit_chain SET from_seq = ?1, from_hash = ?2 WHERE singleton = 1");
    sqlite3_bind_int64(s.get(), 1, seq);
    s.Text(2, hash);
    s.Step();
  }
  std::vector<audit::Entry> ReadKeyed(std::string_view schema, std::string_view table, std::int64_t after_id,
                                      int limit) override {
    Stmt s(db_, std::string("SELECT ") + kEntryColumns + " FROM main.vigil_audit_log WHERE table_schema = ?1 AND"
                    " table_name = ?2 AND row_key IS NOT NULL AND id > ?3 ORDER BY id LIMIT " + std::to_string(limit));
    s.Text(1, schema);
    s.Text(2, table);
    sqlite3_bind_int64(s.get(), 3, after_id);
    std::vector<audit::Entry> out;
    while (s.Step()) out.push_back(EntryOf(s));
    return out;
  }
  void WriteErasures(const std::vector<audit::Erasure>& erasures) override {
    Stmt s(db_, "UPDATE main.vigil_audit_log SET old_digest = ?2, new_digest = ?3, old_row = NULL, new_row = NULL"
                " WHERE id = ?1");
    for (const auto& e : erasures) {
      sqlite3_reset(s.get());
      sqlite3_bind_int64(s.get(), 1, e.id);
      if (e.old_digest) s.Text(2, *e.old_digest); else s.Null(2);
      if (e.new_digest) s.Text(3, *e.new_digest); else s.Null(3);
      s.Step();
    }
  }
  void Append(const audit::Entry& e) override {
    after_.reset();
    Stmt s(db_, "INSERT INTO main.vigil_audit_log (at, actor, table_schema, table_name, operation, row_key, detail)"
                " VALUES (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z', ?1, ?2, ?3, ?4, ?5, ?6)");
    auto bind = [&](int i, const audit::Text& v) {
      if (v) s.Text(i, *v); else s.Null(i);
    };
    bind(1, state_ != nullptr ? state_->actor : std::nullopt);
    bind(2, e.table_schema);
    bind(3, e.table_name);
    s.Text(4, e.operation);
    bind(5, e.row_key);
    bind(6, e.detail);
    s.Step();
  }

 private:
  sqlite3* db_;
  AuditState* state_;
  std::optional<std::int64_t> after_;  // the newest id sealed or read for sealing
};

// ---- SQL functions -------------------------------------------------------------

// vigil_audit_enable(table, options DEFAULT '{}') -> {"table", "options"}.
void Enable(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  if (table.find('\0') != std::string::npos) throw Error(ErrorCode::kInvalidParameter, "table names hold no NUL byte");
  std::string options = argc > 1 && sqlite3_value_type(argv[1]) != SQLITE_NULL ? std::string(Text(argv[1])) : "{}";
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_audit_enable");
  TablePlan p = PlanFor(db, table, options);
  if (p.options.reads)
    throw Error(ErrorCode::kNotSupported, "audit option reads is PostgreSQL's", {},
                "It needs vigil's executor hook (vigil in shared_preload_libraries); SQLite has no hook for reads.");
  if (p.table.size() >= 6 && sqlite3_strnicmp(p.table.c_str(), "vigil_", 6) == 0)
    throw Error(ErrorCode::kPrivilege, "vigil's own tables cannot be audited");
  DropTriggers(db, p.table);
  for (const char* op : kOps) ExecOne(db, "CREATE TRIGGER main." + TriggerSql(p, op));
  std::string canonical = audit::OptionsJson(p.options);
  Stmt s(db, "INSERT INTO main.vigil_audit_tables (table_name, options, enabled_at) VALUES (?1, ?2,"
             " strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (table_name) DO UPDATE SET options = excluded.options,"
             " enabled_at = excluded.enabled_at");
  s.Text(1, p.table);
  s.Text(2, canonical);
  s.Step();
  sp.Release();
  ResultText(ctx, "{\"table\":" + Quoted(p.table) + ",\"options\":" + canonical + "}");
}

// vigil_audit_disable(table) -> 1 when it was audited.
void Disable(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_audit_disable");
  std::string name = LoadTable(db, table).info.name;
  Stmt had(db, "SELECT count(*) FROM main.sqlite_schema WHERE type = 'trigger' AND name IN (?1, ?2, ?3)");
  for (int i = 0; i < 3; ++i) had.Text(i + 1, TriggerName(kOpNames[i], name));
  bool existed = had.Step() && had.Int(0) > 0;
  DropTriggers(db, name);
  Stmt d(db, "DELETE FROM main.vigil_audit_tables WHERE table_name = ?1");
  d.Text(1, name);
  d.Step();
  existed = existed || sqlite3_changes(db) > 0;
  sp.Release();
  sqlite3_result_int(ctx, existed ? 1 : 0);
}

void SetActor(sqlite3_context* ctx, int, sqlite3_value** argv) {
  AuditState* st = State(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    st->actor.reset();
    sqlite3_result_null(ctx);
    return;
  }
  std::string_view actor = Text(argv[0]);
  if (actor.size() > kMaxActor)
    throw Error(ErrorCode::kInvalidParameter, "actor must be at most " + std::to_string(kMaxActor) + " bytes");
  if (!core::text::IsValidUtf8(actor)) throw Error(ErrorCode::kInvalidText, "actor is not valid UTF-8");
  if (actor.empty()) st->actor.reset();
  else st->actor = std::string(actor);
  if (st->actor) ResultText(ctx, *st->actor);
  else sqlite3_result_null(ctx);
}

void Actor(sqlite3_context* ctx, int, sqlite3_value**) {
  AuditState* st = State(ctx);
  if (st->actor) ResultText(ctx, *st->actor);
  else sqlite3_result_null(ctx);
}

// vigil_audit_key(key) -> 1: the connection's HMAC key (NULL forgets it).
void Key(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  AuditState* st = State(ctx);
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    st->key.reset();
    st->env_read = true;
    sqlite3_result_int(ctx, 0);
    return;
  }
  std::string_view key = Text(argv[0]);
  audit::CheckKey(key);
  RefuseForeign(db);
  st->key = std::string(key);
  st->env_read = true;
  sqlite3_result_int(ctx, 1);
}

// HasLog: the file has an audit log to read (an older file, before its
// upgrade, has none: nothing was audited).
bool HasLog(sqlite3* db) {
  if (!schema::Ensure(db, schema::Access::kRead, "vigil_audit_log")) return false;
  Stmt s(db, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'vigil_audit_log'");
  return s.Step();
}

void Seal(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  if (!HasLog(db)) {
    sqlite3_result_int64(ctx, 0);
    return;
  }
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_audit_seal");
  SqliteAuditStore store(db, State(ctx));
  std::int64_t n = audit::SealPending(store, KeyOf(db, State(ctx)));
  sp.Release();
  sqlite3_result_int64(ctx, n);
}

// vigil_audit_head() -> the newest link, after sealing what is pending.
void Head(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  if (!HasLog(db)) {
    sqlite3_result_null(ctx);
    return;
  }
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_audit_head");
  SqliteAuditStore store(db, State(ctx));
  audit::SealPending(store, KeyOf(db, State(ctx)));
  audit::Chain c = store.ReadChain(false);
  sp.Release();
  std::optional<std::string> head = c.head_seq > c.from_seq && c.head_hash ? c.head_hash : c.from_hash;
  if (head) ResultText(ctx, *head);
  else sqlite3_result_null(ctx);
}

void Verify(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::optional<std::string> expected;
  if (argc > 0 && sqlite3_value_type(argv[0]) != SQLITE_NULL) expected = std::string(Text(argv[0]));
  if (!HasLog(db)) {
    audit::Verifier v(0, std::nullopt, 0, std::nullopt, std::nullopt, expected);
    ResultText(ctx, v.Report(0));
    return;
  }
  SqliteAuditStore store(db, State(ctx));
  std::string report = audit::Verify(store, KeyOf(db, State(ctx)), expected);
  // A file's own objects that call the audit functions void the chain's
  // keyed evidence: reported, and the chain is not valid with them.
  std::vector<std::string> foreign = ForeignObjects(db);
  if (!foreign.empty()) {
    std::string list = "[";
    for (std::size_t i = 0; i < foreign.size(); ++i) {
      if (i) list += ',';
      list += Quoted(foreign[i]);
    }
    list += "]";
    std::size_t v = report.find("\"valid\":true");
    if (v != std::string::npos) report.replace(v, 12, "\"valid\":false");
    report.insert(report.size() - 1, ",\"foreign_objects\":" + list);
  }
  ResultText(ctx, report);
}

std::string Before(sqlite3* db, sqlite3_value* v) {
  std::string text = Arg(v, "before");
  Stmt s(db, "SELECT strftime('%Y-%m-%dT%H:%M:%f', ?1) || '000Z'");
  s.Text(1, text);
  std::optional<std::string> t = s.Step() ? s.Column(0) : std::nullopt;
  if (!t) throw Error(ErrorCode::kInvalidText, "before is not an ISO 8601 time: \"" + core::text::ForMessage(text, 64) + "\"");
  return *t;
}

void Purge(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string before = Before(db, argv[0]);
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_audit_purge");
  SqliteAuditStore store(db, State(ctx));
  std::string report = audit::Purge(store, before, KeyOf(db, State(ctx)));
  sp.Release();
  ResultText(ctx, report);
}

void Erase(sqlite3_context* ctx, int, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  std::string key = Arg(argv[1], "key");
  if (table.rfind("main.", 0) == 0) table.erase(0, 5);
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_audit_erase");
  SqliteAuditStore store(db, State(ctx));
  std::string report = audit::Erase(store, "main", table, key, KeyOf(db, State(ctx)));
  sp.Release();
  ResultText(ctx, report);
}

VIGIL_SQLITE_FN(Digest) { ResultText(ctx, audit::EntryDigestHex(Text(argv[0]))); }

// ForAudit is the normalised statement with every double-quoted word
// replaced too: SQLite reads a double-quoted word as a string wherever it
// names nothing in scope ("secret" in VALUES, even when some column is
// called secret), and which it is depends on where it stands; a name
// shown as ? is the price of never keeping a string.
std::string ForAudit(const std::string& sql) {
  std::string normal = core::sql::Normalize(sql, core::Dialect::kSqlite);
  std::string out;
  std::size_t at = 0;
  for (const core::sql::Token& t : core::sql::Tokenize(normal, core::Dialect::kSqlite)) {
    if (t.kind != core::sql::TokenKind::kQuotedIdentifier || normal[t.begin] != '"') continue;
    out.append(normal, at, t.begin - at);
    out += '?';
    at = t.end;
  }
  out.append(normal, at, std::string::npos);
  return out;
}

// vigil_audit_statement(): the statement in progress (the busy statement
// that writes, else the busy one), normalised for the log.
void Statement(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  const char* chosen = nullptr;
  for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr; s = sqlite3_next_stmt(db, s)) {
    if (!sqlite3_stmt_busy(s)) continue;
    const char* sql = sqlite3_sql(s);
    if (sql == nullptr) continue;
    if (chosen == nullptr || !sqlite3_stmt_readonly(s)) chosen = sql;
  }
  if (chosen == nullptr) {
    sqlite3_result_null(ctx);
    return;
  }
  AuditState* st = State(ctx);
  if (st->last_sql != chosen || st->last_normalized.empty()) {
    st->last_normalized = ForAudit(chosen);
    st->last_sql = chosen;
  }
  ResultText(ctx, st->last_normalized);
}

void Redact(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  ResultText(ctx, audit::Redact(Text(argv[0]), KeyOf(sqlite3_context_db_handle(ctx), State(ctx))));
}

void PgTrigger(sqlite3_context*, int, sqlite3_value**) {
  throw Error(ErrorCode::kNotSupported, "vigil_audit_trigger() is PostgreSQL's trigger function", {},
              "In SQLite, vigil_audit_enable(table) generates the audit triggers.");
}

const Impl kImpls[] = {
    {"vigil_audit_trigger", Bridge<PgTrigger>, nullptr, false, false},
    {"vigil_audit_enable", Bridge<Enable>, nullptr, false, true},
    {"vigil_audit_disable", Bridge<Disable>, nullptr, false, true},
    {"vigil_set_actor", Bridge<SetActor>, nullptr, false, true},
    {"vigil_actor", Bridge<Actor>, nullptr, false, true},
    {"vigil_audit_seal", Bridge<Seal>, nullptr, false, true},
    {"vigil_audit_verify", Bridge<Verify>, nullptr, false, true},
    {"vigil_audit_head", Bridge<Head>, nullptr, false, true},
    {"vigil_audit_purge", Bridge<Purge>, nullptr, false, true},
    {"vigil_audit_erase", Bridge<Erase>, nullptr, false, true},
    {"vigil_audit_digest", Digest, nullptr, false, false},
    {"vigil_audit_key", Bridge<Key>, nullptr, false, true},
    {"vigil_audit_statement", Bridge<Statement>, nullptr, false, true},
    {"vigil_audit_redact", Bridge<Redact>, nullptr, false, true},
};

}  // namespace

std::span<const Impl> AuditImpls() { return kImpls; }

std::optional<std::string_view> ConnectionApiSecret(void* state) {
  auto* s = static_cast<AuditState*>(state);
  if (s == nullptr) return std::nullopt;
  if (!s->api_secret && !s->api_env_read) {
    s->api_env_read = true;
    if (const char* env = std::getenv("VIGIL_API_KEY_SECRET"); env != nullptr && *env != '\0') {
      core::secrets::CheckSecret(env);
      s->api_secret = std::string(env);
    }
  }
  if (!s->api_secret) return std::nullopt;
  return std::string_view(*s->api_secret);
}

void SetConnectionApiSecret(void* state, std::optional<std::string_view> secret) {
  auto* s = static_cast<AuditState*>(state);
  if (s == nullptr) return;
  s->api_env_read = true;
  if (secret) s->api_secret = std::string(*secret);
  else s->api_secret.reset();
}

void* NewAuditState(int users, sqlite3* db) {
  auto* s = new (std::nothrow) AuditState();
  if (s != nullptr) {
    s->refs = users;
    s->db = db;
  }
  return s;
}

void ReleaseAuditState(void* p) {
  auto* s = static_cast<AuditState*>(p);
  if (--s->refs == 0) {
    RemoveMonitor(s->db);
    delete s;
  }
}

}  // namespace vigil::sqlite
