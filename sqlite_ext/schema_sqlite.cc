// schema_sqlite.cc — vigil's SQLite tables, their version and the upgrade
// steps (see schema_sqlite.h; the procedure is docs/releasing.md).
//
// kSteps is history: a step, once released, is never edited. A release
// that changes vigil's SQLite objects appends one step (from the previous
// schema version to its own) and changes kCurrentDdl to match, and
// tests/sqlite/upgrade_fixtures.py proves that every kept fixture, upgraded
// step by step, ends with exactly the objects of a fresh database.
#include "schema_sqlite.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "boundary.h"
#include "base/text.h"
#include "rules_sqlite.h"
#include "sqlite_util.h"
#include "migrate/migrate.h"

namespace vigil::sqlite::schema {
namespace {

using core::Error;
using core::ErrorCode;

// The tables 0.1.0 created (each on first use, so an 0.1.0 database may hold
// any subset of them), exactly as it created them. Macros, so that the
// step and the current schema are both compile-time literals.
#define VIGIL_SCHEMA_010_TABLES \
    "CREATE TABLE IF NOT EXISTS main.vigil_rule_store (" \
    " id INTEGER PRIMARY KEY," \
    " table_name TEXT NOT NULL," \
    " column_name TEXT," \
    " rule TEXT NOT NULL," \
    " params TEXT," \
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));" \
    "CREATE INDEX IF NOT EXISTS main.vigil_rule_store_table ON vigil_rule_store(table_name);" \
    "CREATE TABLE IF NOT EXISTS main.vigil_quality_history (" \
    " id INTEGER PRIMARY KEY, at TEXT NOT NULL, table_name TEXT, score REAL NOT NULL," \
    " passed INTEGER NOT NULL, below_threshold INTEGER NOT NULL, report TEXT NOT NULL);" \
    "CREATE TABLE IF NOT EXISTS main.vigil_alerts (" \
    " id INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL, severity TEXT NOT NULL," \
    " \"check\" TEXT NOT NULL, message TEXT NOT NULL, details TEXT);" \
    "CREATE TABLE IF NOT EXISTS main.vigil_config (key TEXT PRIMARY KEY, value TEXT NOT NULL);" \
    "CREATE TABLE IF NOT EXISTS main.vigil_migrations (" \
    " version TEXT PRIMARY KEY, sort_key TEXT NOT NULL UNIQUE, name TEXT NOT NULL," \
    " up_sql TEXT NOT NULL, down_sql TEXT, checksum TEXT NOT NULL," \
    " new_up_sql TEXT, new_checksum TEXT, added_at TEXT NOT NULL);" \
    "CREATE TABLE IF NOT EXISTS main.vigil_migration_history (" \
    " id INTEGER PRIMARY KEY, version TEXT NOT NULL, name TEXT, action TEXT NOT NULL, checksum TEXT," \
    " at TEXT NOT NULL, applied_by TEXT, duration_ms REAL, error TEXT, schema_hash TEXT, schema TEXT," \
    " prev_hash TEXT NOT NULL, entry_hash TEXT NOT NULL);"

#define VIGIL_SCHEMA_META "CREATE TABLE IF NOT EXISTS main.vigil_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"

// 0.5.0: the newest history entry vigil wrote, so validate sees entries
// removed from the end of the chain. Filled from the history as it is.
#define VIGIL_SCHEMA_ANCHOR \
    "CREATE TABLE IF NOT EXISTS main.vigil_migration_anchor (" \
    " singleton INTEGER PRIMARY KEY CHECK (singleton = 1), id INTEGER NOT NULL, entry_hash TEXT NOT NULL);"
#define VIGIL_SCHEMA_ANCHOR_FILL \
    "INSERT INTO main.vigil_migration_anchor (singleton, id, entry_hash)" \
    " SELECT 1, id, entry_hash FROM main.vigil_migration_history ORDER BY id DESC LIMIT 1;"

// 0.7.0: the JSON Schema registry (vigil_json_schema_add / _remove).
#define VIGIL_SCHEMA_JSON_SCHEMAS \
    "CREATE TABLE IF NOT EXISTS main.vigil_json_schemas (" \
    " uri TEXT PRIMARY KEY, schema TEXT NOT NULL, added_at TEXT NOT NULL);"

// 0.8.0: the audit trail (vigil_audit_enable, docs/audit.md): the log,
// sealed entries indexed by their place in the chain, the chain's head and
// checkpoint, and the audited tables with their options.
#define VIGIL_SCHEMA_AUDIT \
    "CREATE TABLE IF NOT EXISTS main.vigil_audit_log (" \
    " id INTEGER PRIMARY KEY, at TEXT NOT NULL, session_role TEXT, effective_role TEXT, actor TEXT," \
    " application_name TEXT, client_addr TEXT, txid INTEGER, table_schema TEXT, table_name TEXT," \
    " operation TEXT NOT NULL, row_key TEXT, old_row TEXT, new_row TEXT, changed_columns TEXT, statement TEXT," \
    " detail TEXT, old_digest TEXT, new_digest TEXT, seq INTEGER, entry_hash TEXT);" \
    "CREATE UNIQUE INDEX IF NOT EXISTS main.vigil_audit_log_seq ON vigil_audit_log(seq) WHERE seq IS NOT NULL;" \
    "CREATE TABLE IF NOT EXISTS main.vigil_audit_batch (" \
    " id INTEGER PRIMARY KEY, n INTEGER NOT NULL, layouts TEXT NOT NULL, entries BLOB NOT NULL);" \
    "CREATE TABLE IF NOT EXISTS main.vigil_audit_chain (" \
    " singleton INTEGER PRIMARY KEY CHECK (singleton = 1), head_seq INTEGER NOT NULL, head_hash TEXT," \
    " from_seq INTEGER NOT NULL, from_hash TEXT);" \
    "INSERT OR IGNORE INTO main.vigil_audit_chain VALUES (1, 0, NULL, 0, NULL);" \
    "CREATE TABLE IF NOT EXISTS main.vigil_audit_tables (" \
    " table_name TEXT PRIMARY KEY, options TEXT NOT NULL, enabled_at TEXT NOT NULL);"

// 0.8.0: statement monitoring's history (vigil_snapshot, docs/monitoring.md):
// one row per statement and interval, tagged with the connection that
// counted it.
#define VIGIL_SCHEMA_MONITOR \
    "CREATE TABLE IF NOT EXISTS main.vigil_query_history (" \
    " id INTEGER PRIMARY KEY, at TEXT NOT NULL, source TEXT NOT NULL, fingerprint TEXT NOT NULL, query TEXT," \
    " calls INTEGER NOT NULL, errors INTEGER, rows INTEGER NOT NULL, total_ms REAL NOT NULL," \
    " max_ms REAL NOT NULL, histogram TEXT NOT NULL, epoch TEXT, queryid INTEGER, username TEXT, database TEXT);" \
    "CREATE INDEX IF NOT EXISTS main.vigil_query_history_at ON vigil_query_history(at);"

// 0.8.0: the health checks' last state per check (vigil_health, docs/health.md):
// an alert is raised when it changes.
#define VIGIL_SCHEMA_HEALTH \
    "CREATE TABLE IF NOT EXISTS main.vigil_health_state (" \
    " \"check\" TEXT PRIMARY KEY, status TEXT NOT NULL, since TEXT NOT NULL, value REAL, message TEXT);" \
    "CREATE TABLE IF NOT EXISTS main.vigil_health_history (" \
    " id INTEGER PRIMARY KEY, at TEXT NOT NULL, status TEXT NOT NULL, checks TEXT NOT NULL, source TEXT NOT NULL);" \
    "CREATE INDEX IF NOT EXISTS main.vigil_health_history_at ON vigil_health_history(at);"

// The 0.1.0 table names: an unversioned database holding any of them was
// written by 0.1.0.
constexpr const char* k010Names =
    "('vigil_rule_store', 'vigil_quality_history', 'vigil_alerts', 'vigil_config', 'vigil_migrations',"
    " 'vigil_migration_history')";
// Every table vigil keeps state in (each must be a plain table without triggers).
constexpr const char* kStateNames =
    "('vigil_meta', 'vigil_rule_store', 'vigil_quality_history', 'vigil_alerts', 'vigil_config', 'vigil_migrations',"
    " 'vigil_migration_history', 'vigil_migration_anchor', 'vigil_json_schemas', 'vigil_audit_log',"
    " 'vigil_audit_chain', 'vigil_audit_tables', 'vigil_audit_batch', 'vigil_query_history', 'vigil_health_state', 'vigil_health_history')";

// The read-only surfaces SQLite serves as eponymous virtual tables.
constexpr const char* kSurfaceNames =
    "('vigil_rules', 'vigil_validators', 'vigil_functions', 'vigil_quality_issues', 'vigil_migration_status',"
    " 'vigil_query_stats', 'vigil_slow_queries', 'vigil_health_checks', 'vigil_audit_capture', 'vigil_audit_capture8')";

struct Step {
  const char* from;
  const char* to;
  const char* sql;
  void (*after)(sqlite3*);  // C++ work of the step (nullptr: none)
};

constexpr Step kSteps[] = {
    // 0.1.0 -> 0.2.0: complete 0.1.0's lazily created set and start
    // recording the version.
    {"0.1.0", "0.2.0", VIGIL_SCHEMA_010_TABLES VIGIL_SCHEMA_META, nullptr},
    // 0.2.0 -> 0.3.0: enforcement triggers call vigil_enforce_trigger with
    // the expression rules evaluated in the trigger (vigil_check, which
    // runs stored SQL, became DIRECTONLY and cannot be called from them).
    {"0.2.0", "0.3.0", "", RegenerateEnforcement},
    // 0.3.0 -> 0.5.0 (0.4.0 changed nothing here): the history's anchor.
    {"0.3.0", "0.5.0", VIGIL_SCHEMA_ANCHOR VIGIL_SCHEMA_ANCHOR_FILL, nullptr},
    // 0.5.0 -> 0.6.0: enforcement triggers mention only the columns rules
    // read, so ALTER TABLE DROP COLUMN works for every other column.
    {"0.5.0", "0.6.0", "", RegenerateEnforcement},
    // 0.6.0 -> 0.7.0: the JSON Schema registry.
    {"0.6.0", "0.7.0", VIGIL_SCHEMA_JSON_SCHEMAS, nullptr},
    // 0.7.0 -> 0.8.0: the audit trail.
    {"0.7.0", "0.8.0", VIGIL_SCHEMA_AUDIT VIGIL_SCHEMA_MONITOR VIGIL_SCHEMA_HEALTH, nullptr},
};

// The schema a database without vigil objects gets: every table at once.
constexpr const char* kCurrentDdl =
    VIGIL_SCHEMA_010_TABLES VIGIL_SCHEMA_META VIGIL_SCHEMA_ANCHOR VIGIL_SCHEMA_JSON_SCHEMAS VIGIL_SCHEMA_AUDIT VIGIL_SCHEMA_MONITOR VIGIL_SCHEMA_HEALTH;

constexpr const char* kCurrent = "0.8.0";        // the last step's `to`
constexpr const char* kOldestReadable = "0.1.0";  // readers understand these layouts

thread_local int upgrading = 0;  // > 0 while a step's C++ work runs

std::string Key(const std::string& version) { return core::VersionSortKey(version); }

void SetVersion(sqlite3* db, const char* version) {
  Stmt s(db, "INSERT INTO main.vigil_meta (key, value) VALUES ('schema_version', ?1)"
             " ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  s.Text(1, version);
  s.Step();
}

[[noreturn]] void Newer(const std::string& stored) {
  throw Error(ErrorCode::kPrerequisite,
              "this database's vigil objects are at schema version " + stored + ", newer than this module (vigil " +
                  VIGIL_VERSION + " knows schema versions up to " + kCurrent + ")",
              {}, "Load vigil " + stored + " or newer; this module leaves the database untouched.");
}

}  // namespace

const char* CurrentVersion() noexcept { return kCurrent; }

namespace {

// Canonical MAJOR.MINOR.PATCH: digits without leading zeros, at most 9 per
// part, as every release is numbered (anything else is not vigil's).
bool Canonical(const std::string& v) {
  std::size_t parts = 0, start = 0;
  for (std::size_t i = 0; i <= v.size(); ++i) {
    if (i < v.size() && v[i] != '.') {
      if (v[i] < '0' || v[i] > '9') return false;
      continue;
    }
    std::size_t n = i - start;
    if (n == 0 || n > 9 || (n > 1 && v[start] == '0')) return false;
    ++parts;
    start = i + 1;
  }
  return parts == 3;
}

[[noreturn]] void NotVigils(const std::string& name, const std::string& type) {
  throw Error(ErrorCode::kPrerequisite,
              "this database's " + core::text::Printable(name, 64) + " is a " + core::text::Printable(type, 16) +
                  ", not vigil's table; vigil will not use it",
              {}, "Names starting with vigil_ are vigil's own; rename or drop the object.");
}

}  // namespace

std::optional<std::string> StoredVersion(sqlite3* db) {
  bool meta = false, any010 = false;
  {
    // Every name vigil keeps state under must be a table: a view (or a
    // virtual table) of the same name is a hostile or broken file.
    // The names of vigil's table-valued functions (eponymous virtual
    // tables) must not be taken either: a file's view named vigil_rules
    // would stand in for vigil's in every SELECT.
    Stmt s(db, std::string("SELECT name, type, CASE WHEN name = 'vigil_meta' COLLATE NOCASE THEN 1 WHEN name COLLATE NOCASE IN ") + k010Names +
                   " THEN 0 WHEN name COLLATE NOCASE IN " + kSurfaceNames + " THEN 3 ELSE 2 END FROM main.sqlite_schema"
                   " WHERE name COLLATE NOCASE IN " + kStateNames + " OR name COLLATE NOCASE IN " + kSurfaceNames);
    while (s.Step()) {
      std::string type = s.Column(1).value_or("");
      if (s.Int(2) == 3)
        throw Error(ErrorCode::kPrerequisite,
                    "this database's " + core::text::Printable(s.Column(0).value_or(""), 64) + " is a " +
                        core::text::Printable(type, 16) + " that hides vigil's table-valued function of that name; "
                        "vigil will not use this database",
                    {}, "Names starting with vigil_ are vigil's own; rename or drop the object.");
      if (type != "table") NotVigils(s.Column(0).value_or(""), type);
      if (s.Int(2) == 1) meta = true;
      if (s.Int(2) == 0) any010 = true;
    }
  }
  if (meta || any010) {
    Stmt s(db, std::string("SELECT name FROM main.sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%' "
                           "AND name COLLATE NOCASE IN ") + kStateNames);
    if (s.Step()) NotVigils(s.Column(0).value_or(""), "virtual table");
    // vigil's tables carry no triggers: one would run the file's code each
    // time vigil writes its own state (an upgrade at load included).
    Stmt t(db, std::string("SELECT tbl_name FROM main.sqlite_schema WHERE type = 'trigger' AND tbl_name COLLATE NOCASE IN ") +
                   kStateNames);
    if (t.Step())
      throw Error(ErrorCode::kPrerequisite,
                  "this database has a trigger on vigil's table " + core::text::Printable(t.Column(0).value_or(""), 64) +
                      "; vigil will not use its tables",
                  {}, "vigil's own tables carry no triggers; drop the trigger.");
  }
  if (!meta) return any010 ? std::optional<std::string>("0.1.0") : std::nullopt;
  Stmt s(db, "SELECT value FROM main.vigil_meta WHERE key = 'schema_version'");
  std::optional<std::string> v;
  if (s.Step() && s.Type(0) == SQLITE_TEXT) v = s.Column(0);
  if (!v || !Canonical(*v))
    throw Error(ErrorCode::kPrerequisite, "this database's vigil_meta table holds no valid schema_version", {},
                "vigil_meta is vigil's own record; restore it from a backup, or drop vigil's tables to start over.");
  return v;
}

bool Ensure(sqlite3* db, Access access, const char* table) {
  // Within an upgrade step's C++ work the version is checked already, and
  // the step holds the write lock: readers it calls go straight on (once
  // per call, not once per table of the file).
  if (access == Access::kRead && upgrading > 0) return true;
  std::optional<std::string> stored = StoredVersion(db);
  if (stored && Key(*stored) > Key(kCurrent)) Newer(*stored);
  if (access == Access::kRead) {
    if (!stored) return false;
    if (Key(*stored) < Key(kOldestReadable))
      throw Error(ErrorCode::kPrerequisite,
                  "this database's vigil objects are at schema version " + *stored + ", older than this module reads",
                  {}, "Call a vigil function that writes (vigil_rule_add, vigil_migrate, ...) to upgrade them in place.");
    if (table != nullptr) {
      Stmt s(db, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = ?1");
      s.Text(1, table);
      bool exists = s.Step();
      // 0.1.0 created its tables one by one: the one asked for may be missing.
      if (*stored == "0.1.0" || exists) return exists;
      // Later versions create every table at once: one gone is damage, and
      // reading on as if it were empty would let an enforced table's rows
      // through unchecked.
      throw Error(ErrorCode::kPrerequisite,
                  std::string("this database's ") + table + " table is missing: vigil's state is damaged", {},
                  "Restore the table from a backup, or drop vigil's tables (vigil_meta too) to start over.");
    }
    return true;
  }
  if (stored && *stored == kCurrent) return true;
  // Only a version some step starts from can be upgraded: a stamp this
  // module does not know is never skipped over.
  if (stored && std::none_of(std::begin(kSteps), std::end(kSteps), [&](const Step& st) { return *stored == st.from; }))
    throw Error(ErrorCode::kPrerequisite, "no upgrade path from vigil schema version " + *stored, {},
                "This module upgrades from the released schema versions " + std::string(kSteps[0].from) + " on.");
  if (sqlite3_db_readonly(db, "main") == 1)
    throw Error(ErrorCode::kPrerequisite,
                stored ? "this database's vigil objects are at schema version " + *stored +
                             " and must be upgraded, but the database is read-only"
                       : std::string("vigil needs to create its tables, but the database is read-only"),
                {}, "Open the database writable once with this module.");
  // One unit: every step commits together or not at all.
  Savepoint savepoint(db, "vigil_schema");
  if (!stored) {
    Exec(db, kCurrentDdl);
  } else {
    std::string at = *stored;
    for (const Step& step : kSteps) {
      if (at == step.from) {
        if (step.sql[0] != '\0') Exec(db, step.sql);
        if (step.after != nullptr) {
          // The step's C++ work reads vigil's tables through the readers,
          // which need a stamp they understand (all in the one savepoint).
          SetVersion(db, step.from);
          struct Upgrading {
            Upgrading() { ++upgrading; }
            ~Upgrading() { --upgrading; }
          } scope;
          step.after(db);
        }
        SetVersion(db, step.to);
        at = step.to;
      }
    }
    if (at != kCurrent) throw Error(ErrorCode::kInternal, "vigil schema steps end at " + at + ", not " + kCurrent);
  }
  SetVersion(db, kCurrent);
  savepoint.Release();
  return true;
}

void UpgradeOnLoad(sqlite3* db) noexcept {
  RunQuietly([&] {
    if (sqlite3_db_readonly(db, "main") != 0 || !sqlite3_get_autocommit(db)) return;
    std::optional<std::string> stored = StoredVersion(db);
    if (!stored || *stored == kCurrent || Key(*stored) > Key(kCurrent)) return;
    // Take the write lock now or not at all: loading must not wait.
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return;
    struct Rollback {
      sqlite3* db;
      bool done = false;
      ~Rollback() {
        if (!done) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      }
    } guard{db};
    Ensure(db, Access::kWrite);
    Exec(db, "COMMIT");
    guard.done = true;
  });
}

}  // namespace vigil::sqlite::schema
