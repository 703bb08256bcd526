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

// The 0.1.0 table names: an unversioned database holding any of them was
// written by 0.1.0.
constexpr const char* k010Names =
    "('vigil_rule_store', 'vigil_quality_history', 'vigil_alerts', 'vigil_config', 'vigil_migrations',"
    " 'vigil_migration_history')";

struct Step {
  const char* from;
  const char* to;
  const char* sql;
};

constexpr Step kSteps[] = {
    // 0.1.0 -> 0.2.0: complete 0.1.0's lazily created set and start
    // recording the version.
    {"0.1.0", "0.2.0", VIGIL_SCHEMA_010_TABLES VIGIL_SCHEMA_META},
};

// The schema a database without vigil objects gets: every table at once.
constexpr const char* kCurrentDdl = VIGIL_SCHEMA_010_TABLES VIGIL_SCHEMA_META;

constexpr const char* kCurrent = "0.2.0";        // the last step's `to`
constexpr const char* kOldestReadable = "0.1.0";  // readers understand these layouts

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

std::optional<std::string> StoredVersion(sqlite3* db) {
  bool meta = false, any010 = false;
  {
    Stmt s(db, std::string("SELECT name = 'vigil_meta' FROM main.sqlite_schema WHERE type = 'table' AND (name = "
                           "'vigil_meta' OR name IN ") + k010Names + ")");
    while (s.Step()) (s.Int(0) ? meta : any010) = true;
  }
  if (!meta) return any010 ? std::optional<std::string>("0.1.0") : std::nullopt;
  Stmt s(db, "SELECT value FROM main.vigil_meta WHERE key = 'schema_version'");
  std::optional<std::string> v;
  if (s.Step()) v = s.Column(0);
  // MAJOR.MINOR.PATCH, as every release is numbered.
  bool valid = v && !v->empty() && v->size() <= 32 && v->find_first_not_of("0123456789.") == std::string::npos &&
               std::count(v->begin(), v->end(), '.') == 2 && v->find("..") == std::string::npos && v->front() != '.' &&
               v->back() != '.';
  if (!valid)
    throw Error(ErrorCode::kPrerequisite, "this database's vigil_meta table holds no valid schema_version", {},
                "vigil_meta is vigil's own record; restore it from a backup, or drop vigil's tables to start over.");
  return v;
}

bool Ensure(sqlite3* db, Access access) {
  std::optional<std::string> stored = StoredVersion(db);
  if (stored && Key(*stored) > Key(kCurrent)) Newer(*stored);
  if (access == Access::kRead) {
    if (!stored) return false;
    if (Key(*stored) < Key(kOldestReadable))
      throw Error(ErrorCode::kPrerequisite,
                  "this database's vigil objects are at schema version " + *stored + ", older than this module reads",
                  {}, "Call a vigil function that writes (vigil_rule_add, vigil_migrate, ...) to upgrade them in place.");
    return true;
  }
  if (stored && *stored == kCurrent) return true;
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
      if (Key(step.from) < Key(at)) continue;
      if (step.from != at)
        throw Error(ErrorCode::kPrerequisite, "no upgrade path from vigil schema version " + at, {},
                    "This module upgrades from schema version " + std::string(kSteps[0].from) + " on.");
      Exec(db, step.sql);
      at = step.to;
    }
  }
  SetVersion(db, kCurrent);
  savepoint.Release();
  return true;
}

}  // namespace vigil::sqlite::schema
