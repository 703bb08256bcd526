// migrations_sqlite.cc — schema migrations for SQLite (SPEC §4).
//
// vigil_migrate runs inside the statement that called it. Called as a plain
// `SELECT vigil_migrate();` (no table in FROM) in autocommit mode, it takes
// the write lock with BEGIN IMMEDIATE (retrying with backoff until
// migration_lock_timeout), applies each pending migration inside its own
// SAVEPOINT — so DROP and ALTER work and a failure undoes that migration
// only — records history, and commits. Inside a caller's transaction it uses
// savepoints within it and the caller commits. docs/migrations.md.
#include "module_sqlite.h"

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "boundary.h"
#include "schema_sqlite.h"
#include "rules_sqlite.h"
#include "sqlite_util.h"
#include "migrate/migrate.h"

namespace vigil::sqlite {
namespace {

namespace core = vigil::core;
using nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// SchemaSnapshot lists the user schema (not vigil's or SQLite's objects),
// one line per object, sorted: what "schema drift" compares.
std::string SchemaSnapshot(sqlite3* db) {
  Stmt s(db, "SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_schema"
             " WHERE name NOT LIKE 'vigil\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
             " ORDER BY type, name");
  std::string out;
  while (s.Step()) out += s.Column(0).value_or("") + "\n";
  return out;
}

// WriteLock holds the database's write lock for one vigil_migrate or
// vigil_rollback call: BEGIN IMMEDIATE (with backoff while another
// connection writes) in autocommit mode, a savepoint inside a caller's
// transaction. Rolls back unless committed.
class WriteLock {
 public:
  explicit WriteLock(sqlite3* db) : db_(db) {
    if (!sqlite3_get_autocommit(db)) {
      savepoint_ = std::make_unique<Savepoint>(db, "vigil_migrate");
      return;
    }
    const int timeout_ms = 10000;
    std::mt19937 rng(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count()));
    auto start = std::chrono::steady_clock::now();
    int delay = 5;
    for (;;) {
      char* err = nullptr;
      int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, &err);
      std::string msg = err ? err : "";
      sqlite3_free(err);
      if (rc == SQLITE_OK) break;
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) throw Error(ErrorCode::kEngine, msg);
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      if (waited >= timeout_ms)
        throw Error(ErrorCode::kLockTimeout, "could not get the database's write lock within 10000 ms", {},
                    "Another connection is writing; retry when it has finished.");
      sqlite3_sleep(delay + static_cast<int>(rng() % static_cast<unsigned>(delay)));
      delay = std::min(delay * 2, 200);
    }
    owns_transaction_ = true;
  }
  ~WriteLock() {
    if (owns_transaction_ && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void Commit() {
    if (owns_transaction_) Exec(db_, "COMMIT");
    if (savepoint_) savepoint_->Release();
    committed_ = true;
  }

 private:
  sqlite3* db_;
  bool owns_transaction_ = false;
  bool committed_ = false;
  std::unique_ptr<Savepoint> savepoint_;
};

// SqliteMigrationDb is the migrator's view of one SQLite connection.
class SqliteMigrationDb final : public core::MigrationDb {
 public:
  explicit SqliteMigrationDb(sqlite3* db) : db_(db), start_(std::chrono::steady_clock::now()) {}

  std::vector<Row> Query(const std::string& sql, const std::vector<std::optional<std::string>>& params) override {
    Stmt s(db_, sql);
    // $N are named parameters to SQLite, numbered by first appearance: bind
    // each by its name.
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::string name = "$";
      name.append(std::to_string(i + 1));
      int index = sqlite3_bind_parameter_index(s.get(), name.c_str());
      if (index == 0) continue;
      if (params[i]) s.Text(index, *params[i]); else s.Null(index);
    }
    std::vector<Row> rows;
    while (s.Step()) {
      Row r;
      for (int c = 0; c < sqlite3_column_count(s.get()); ++c) r.push_back(s.Column(c));
      rows.push_back(std::move(r));
    }
    return rows;
  }
  std::optional<std::string> RunScript(const std::string& script, const std::string&) override {
    // Tables enforced now: one the script drops and recreates gets its
    // triggers back (below), so its rules never say enforced in vain.
    std::vector<std::string> enforced = EnforcedTables(db_);
    Exec(db_, "SAVEPOINT vigil_step");
    bool in_transaction = sqlite3_get_autocommit(db_) == 0;
    // A COMMIT the scanner could not see is vetoed (the commit hook turns
    // it into a rollback of vigil's whole transaction, so nothing of the
    // run is committed half), and the step fails saying so — also when the
    // script opened a new transaction after it (COMMIT; ... BEGIN;).
    struct Hook {
      sqlite3* db;
      int fired = 0;
      void* previous;
      explicit Hook(sqlite3* d) : db(d) {
        previous = sqlite3_commit_hook(db, [](void* self) { return ++static_cast<Hook*>(self)->fired, 1; }, this);
      }
      ~Hook() { sqlite3_commit_hook(db, nullptr, nullptr); }
    } hook(db_);
    char* err = nullptr;
    int rc = sqlite3_exec(db_, script.c_str(), nullptr, nullptr, &err);
    bool ended = hook.fired > 0 || (in_transaction && sqlite3_get_autocommit(db_) != 0);
    if (ended && sqlite3_get_autocommit(db_) == 0) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    // A statement the scanner could not see that ended vigil's transaction
    // (COMMIT, END, ROLLBACK): the step cannot be undone as a whole; say so.
    if (ended) {
      sqlite3_free(err);
      return std::string("the script ended vigil's transaction (COMMIT, END or ROLLBACK): what ran before it may be "
                         "committed; remove transaction control from the script");
    }
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      sqlite3_exec(db_, "ROLLBACK TO vigil_step; RELEASE vigil_step", nullptr, nullptr, nullptr);
      return msg;
    }
    if (std::optional<core::Error> e = CoreError([&] { Reenforce(db_, enforced); })) {
      sqlite3_exec(db_, "ROLLBACK TO vigil_step; RELEASE vigil_step", nullptr, nullptr, nullptr);
      return std::string(e->what());
    }
    Exec(db_, "RELEASE vigil_step");
    return std::nullopt;
  }
  void Savepoint(const char* name) override { Exec(db_, Sql("SAVEPOINT \"%w\"", name)); }
  void Release(const char* name) override { Exec(db_, Sql("RELEASE \"%w\"", name)); }
  void RollbackTo(const char* name) override { Exec(db_, Sql("ROLLBACK TO \"%w\"", name)); }
  std::string Now() override { return NowUtc(db_); }
  std::string Actor() override { return ""; }
  std::string SchemaSnapshot() override { return vigil::sqlite::SchemaSnapshot(db_); }
  std::string StateSchema() override { return "main."; }
  core::Dialect dialect() const override { return core::Dialect::kSqlite; }
  bool StateExists() override {
    return schema::Ensure(db_, schema::Access::kRead, "vigil_migrations") &&
           schema::Ensure(db_, schema::Access::kRead, "vigil_migration_history");
  }
  bool AnchorExists() override {
    Stmt s(db_, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = 'vigil_migration_anchor' COLLATE NOCASE");
    return s.Step();
  }
  double ElapsedMs() override {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  sqlite3* db_;
  std::chrono::steady_clock::time_point start_;
};

std::optional<std::string> OptionalArg(int argc, sqlite3_value** argv, int i) {
  if (argc <= i || sqlite3_value_type(argv[i]) == SQLITE_NULL) return std::nullopt;
  return std::string(Text(argv[i]));
}

// ---- SQL functions --------------------------------------------------------------

// Unit says how a migration call holds the database: the write lock
// (migrate, rollback), a savepoint (registering, repairing), or nothing
// (validate only reads).
enum class Unit { kWriteLock, kSavepoint, kNone };

// RunMigrator creates or upgrades vigil's tables if needed (schema_sqlite.h), runs `body` on a Migrator within
// the unit of work, and sets its text result.
template <typename Body>
void RunMigrator(sqlite3_context* ctx, Unit unit, Body&& body) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::unique_ptr<WriteLock> lock;
  std::unique_ptr<Savepoint> savepoint;
  if (unit == Unit::kWriteLock) lock = std::make_unique<WriteLock>(db);
  if (unit == Unit::kSavepoint) savepoint = std::make_unique<Savepoint>(db, "vigil_migration");
  // validate only reads: it never creates vigil's tables (nor upgrades them).
  if (unit != Unit::kNone) schema::Ensure(db, schema::Access::kWrite);
  SqliteMigrationDb mdb(db);
  core::Migrator migrator(mdb);
  std::string result = body(migrator);
  if (lock) lock->Commit();
  if (savepoint) savepoint->Release();
  ResultText(ctx, result);
}

std::optional<std::string_view> View(const std::optional<std::string>& s) {
  return s ? std::optional<std::string_view>(*s) : std::nullopt;
}

void MigrationAdd(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string version = Arg(argv[0], "version"), name = Arg(argv[1], "name"), up = Arg(argv[2], "up_sql");
  auto down = OptionalArg(argc, argv, 3);
  RunMigrator(ctx, Unit::kSavepoint, [&](core::Migrator& m) { return m.Add(version, name, up, View(down)); });
}

void MigrationAddDir(sqlite3_context* ctx, int, sqlite3_value** argv) {
  std::string path = Arg(argv[0], "path");
  RunMigrator(ctx, Unit::kSavepoint, [&](core::Migrator& m) { return m.AddDir(path); });
}

void ChecksumFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  ResultText(ctx, core::Checksum(Text(argv[0])));
}

void Migrate(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto target = OptionalArg(argc, argv, 0);
  bool dry_run = argc > 1 && sqlite3_value_int(argv[1]) != 0;
  RunMigrator(ctx, Unit::kWriteLock, [&](core::Migrator& m) { return m.Migrate(View(target), dry_run); });
}

void Rollback(sqlite3_context* ctx, int, sqlite3_value** argv) {
  std::string target = Arg(argv[0], "target");
  RunMigrator(ctx, Unit::kWriteLock, [&](core::Migrator& m) { return m.Rollback(target); });
}

void Repair(sqlite3_context* ctx, int, sqlite3_value** argv) {
  std::string version = Arg(argv[0], "version");
  RunMigrator(ctx, Unit::kSavepoint, [&](core::Migrator& m) { return m.Repair(version); });
}

void Start(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string version = Arg(argv[0], "version");
  bool undo = argc > 1 && sqlite3_value_type(argv[1]) != SQLITE_NULL && sqlite3_value_int(argv[1]) != 0;
  RunMigrator(ctx, Unit::kWriteLock, [&](core::Migrator& m) { return m.Start(version, undo); });
}

void Finish(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string version = Arg(argv[0], "version");
  auto error = OptionalArg(argc, argv, 1);
  std::optional<double> duration;
  if (argc > 2 && sqlite3_value_type(argv[2]) != SQLITE_NULL) {
    int type = sqlite3_value_numeric_type(argv[2]);
    if (type != SQLITE_INTEGER && type != SQLITE_FLOAT)
      throw core::Error(core::ErrorCode::kInvalidParameter, "duration_ms must be a number");
    duration = sqlite3_value_double(argv[2]);
  }
  RunMigrator(ctx, Unit::kWriteLock, [&](core::Migrator& m) { return m.Finish(version, View(error), duration); });
}

void Validate(sqlite3_context* ctx, int, sqlite3_value**) {
  RunMigrator(ctx, Unit::kNone, [](core::Migrator& m) { return m.Validate(); });
}

// vigil_migration_status(): the migrator's status rows.
std::vector<Row> StatusRows(sqlite3* db) {
  std::vector<Row> rows;
  if (!schema::Ensure(db, schema::Access::kRead, "vigil_migrations") ||
      !schema::Ensure(db, schema::Access::kRead, "vigil_migration_history"))
    return rows;
  SqliteMigrationDb mdb(db);
  for (const core::MigrationStatusRow& r : core::Migrator(mdb).Status())
    rows.push_back({Value::TextOrNull(r.version), Value::TextOrNull(r.name), Value::TextOrNull(r.state),
                    Value::TextOrNull(r.checksum), Value::TextOrNull(r.applied_at), Value::TextOrNull(r.applied_by),
                    r.duration_ms ? Value::Real(*r.duration_ms) : Value::Null()});
  return rows;
}

const TableSpec kStatus = {"vigil_migration_status",
                           "version TEXT, name TEXT, state TEXT, checksum TEXT, applied_at TEXT, applied_by TEXT,"
                           " duration_ms REAL",
                           StatusRows};

}  // namespace

std::span<const Impl> MigrationImpls() {
  static const Impl kImpls[] = {
      {"vigil_checksum_v2", Bridge<ChecksumFn>, nullptr, false},
      {"vigil_migration_add", Bridge<MigrationAdd>, nullptr, false},
      {"vigil_migration_add_dir", Bridge<MigrationAddDir>, nullptr, false},
      {"vigil_migrate", Bridge<Migrate>, nullptr, false},
      {"vigil_rollback", Bridge<Rollback>, nullptr, false},
      {"vigil_migration_repair", Bridge<Repair>, nullptr, false},
      {"vigil_migration_start", Bridge<Start>, nullptr, false},
      {"vigil_migration_finish", Bridge<Finish>, nullptr, false},
      {"vigil_migration_validate", Bridge<Validate>, nullptr, false},
      {"vigil_migration_status", nullptr, &kStatus, false},
  };
  return kImpls;
}

}  // namespace vigil::sqlite
