// migrations_pg.cc — schema migrations for PostgreSQL (SPEC §4).
//
// The logic is the core's Migrator, shared with SQLite; this file provides
// its MigrationDb over SPI. Every SPI call goes through spi_guard.h, so a
// PostgreSQL error inside the migrator's C++ frames is caught in C, the
// subtransaction rolled back, and the failure re-thrown as a C++ exception
// carrying the SQLSTATE — which boundary.h re-raises once the C++ frames are
// gone. Each migration script runs in its own subtransaction: a failure
// undoes exactly that migration. vigil_migrate and vigil_rollback take a
// transaction-level EXCLUSIVE lock on vigil_migrations, so concurrent callers apply each
// migration once and a crash can never leave the lock behind.
#include "boundary.h"
#include "module_pg.h"
#include "spi_guard.h"

extern "C" {
#include "catalog/pg_authid_d.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

#include <chrono>
#include <string>
#include <vector>

#include "migrate/migrate.h"

namespace core = vigil::core;
using vigil::pg::Run;

namespace {

using vigil::pg::ThrowOutcome;

// Every function, operator, type and catalog is named with pg_catalog (it
// runs with the caller's search_path: SchemaSnapshot); searched CASE, as a
// simple CASE would look its = operator up by name.
constexpr const char* kSchemaSnapshot =
    "WITH rel AS ("
    "  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
    "    ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
    "  WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'm', 'S']::pg_catalog.\"char\"[])"
    "    AND n.nspname OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog', 'information_schema']::pg_catalog.name[])"
    "    AND n.nspname OPERATOR(pg_catalog.!~~) 'pg\\_%' AND c.relname OPERATOR(pg_catalog.!~~) 'vigil\\_%'"
    "    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
    "                    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
    "                    AND d.objid OPERATOR(pg_catalog.=) c.oid AND d.deptype OPERATOR(pg_catalog.=) 'e'))"
    " SELECT COALESCE(pg_catalog.string_agg(line, E'\\n' ORDER BY line) OPERATOR(pg_catalog.||) E'\\n', '') FROM ("
    "  SELECT pg_catalog.format('%s %s: %s', CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'v' THEN 'view'"
    "         WHEN c.relkind OPERATOR(pg_catalog.=) 'm' THEN 'view' WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'sequence'"
    "         ELSE 'table' END, c.oid::pg_catalog.regclass,"
    "         (SELECT pg_catalog.string_agg(pg_catalog.format('%I %s%s', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),"
    "                 CASE WHEN a.attnotnull THEN ' not null' ELSE '' END), ', ' ORDER BY a.attnum)"
    "          FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid"
    "          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped)) AS line"
    "  FROM rel JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) rel.oid"
    "  UNION ALL SELECT pg_catalog.format('index %s', pg_catalog.pg_get_indexdef(i.indexrelid))"
    "   FROM pg_catalog.pg_index i JOIN rel ON rel.oid OPERATOR(pg_catalog.=) i.indrelid"
    "  UNION ALL SELECT pg_catalog.format('constraint %s on %s: %s', co.conname, co.conrelid::pg_catalog.regclass,"
    "         pg_catalog.pg_get_constraintdef(co.oid))"
    "   FROM pg_catalog.pg_constraint co JOIN rel ON rel.oid OPERATOR(pg_catalog.=) co.conrelid"
    " ) s";

class PgMigrationDb final : public core::MigrationDb {
 public:
  // schema: the quoted extension schema, read in phase 1.
  // schema: the quoted state schema; state_owner: its owner (phase 1).
  PgMigrationDb(const char* schema, Oid state_owner)
      : schema_(schema), state_owner_(state_owner), start_(std::chrono::steady_clock::now()) {}

  // State queries run as vigil_state's owner (module_pg.h).
  std::vector<Row> Query(const std::string& sql, const std::vector<std::optional<std::string>>& params) override {
    return vigil::pg::GuardedQuery(sql, params, state_owner_);
  }
  std::optional<std::string> RunScript(const std::string& script, const std::string& lock_timeout) override {
    // The script's lock_timeout holds for the script only: set for the
    // transaction before its subtransaction, the caller's value put back
    // after it (a failure that ends the call ends the transaction, and the
    // setting with it).
    std::optional<std::string> saved;
    if (!lock_timeout.empty()) {
      saved = vigil::pg::GuardedQuery("SELECT pg_catalog.current_setting('lock_timeout')", {}, InvalidOid,
                                      vigil::pg::kCallersPath)[0][0];
      SetLockTimeout(lock_timeout);
    }
    vigil::pg::SpiOutcome out;
    vigil::pg::SpiRunGuarded(script.c_str(), 0, nullptr, &out, InvalidOid, vigil::pg::kCallersPath);
    if (saved) SetLockTimeout(*saved);
    if (out.ok) return std::nullopt;
    // A cancel or statement timeout is the user's, not the migration's
    // failure: it ends the call instead of being recorded as one.
    if (out.sqlerrcode == ERRCODE_QUERY_CANCELED) ThrowOutcome(out);
    return std::string(out.error ? out.error : "unknown error");
  }
  bool AnchorExists() override {
    if (!anchor_known_) {
      anchor_ = Query("SELECT pg_catalog.to_regclass($1) IS NOT NULL", {schema_ + ".vigil_migration_anchor"})[0][0]
                    .value_or("f") == "t";
      anchor_known_ = true;
    }
    return anchor_;
  }
  void Savepoint(const char*) override {
    vigil::pg::SpiOutcome out;
    if (!vigil::pg::SubxactBeginGuarded(&dry_run_, &out)) ThrowOutcome(out);
  }
  void RollbackTo(const char*) override {
    vigil::pg::SpiOutcome out;
    if (!vigil::pg::SubxactRollbackGuarded(&dry_run_, &out)) ThrowOutcome(out);
  }
  void Release(const char*) override {}  // RollbackTo already released it
  std::string Now() override {
    return Query("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')", {})[0][0]
        .value_or("");
  }
  std::string Actor() override {  // the session user does not change within a call
    if (!actor_) actor_ = Query("SELECT session_user::text", {})[0][0].value_or("");
    return *actor_;
  }
  // The snapshot reads only the catalog, as the caller, with the caller's
  // search_path: its text follows that path (regclass output), as recorded
  // snapshots did. So every function and operator in it is named with
  // pg_catalog, and no name of the caller's path can stand in for one.
  std::string SchemaSnapshot() override {
    return vigil::pg::GuardedQuery(kSchemaSnapshot, {}, InvalidOid, vigil::pg::kCallersPath)[0][0].value_or("");
  }
  double ElapsedMs() override {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  }
  std::string StateSchema() override { return schema_ + "."; }
  // Lock serialises migrators on vigil's own state: an EXCLUSIVE lock on
  // vigil_migrations, for the transaction (a crash releases it). Only roles
  // that may write vigil's state can take it, and readers (ACCESS SHARE,
  // all that SELECT allows) never conflict with it: unlike an advisory lock
  // key, which any role can take, no ordinary role can stall a migration.
  void Lock() { Query("LOCK TABLE " + schema_ + ".vigil_migrations IN EXCLUSIVE MODE", {}); }

 private:
  void SetLockTimeout(const std::string& value) {
    vigil::pg::GuardedQuery("SELECT pg_catalog.set_config('lock_timeout', $1, true)", {value}, InvalidOid,
                            vigil::pg::kCallersPath);
  }

  std::string schema_;
  Oid state_owner_;
  bool anchor_known_ = false, anchor_ = false;
  std::optional<std::string> actor_;
  std::chrono::steady_clock::time_point start_;
  vigil::pg::SubxactState dry_run_{};
};

// OptText views argument i, or returns nullptr data for SQL NULL (phase 1:
// a string_view owns nothing, so an ereport here unwinds nothing).
std::string_view OptText(FunctionCallInfo fcinfo, int i, bool* present) {
  *present = PG_NARGS() > i && !PG_ARGISNULL(i);
  return *present ? vigil::pg::ArgText(PG_GETARG_TEXT_PP(i)) : std::string_view();
}

// Who may: registering and running migrations runs their scripts with the
// caller's rights but records them in vigil's state, so it is for roles
// with the privileges of vigil_migrator; reading the history (scripts,
// errors that may quote data) is for vigil_reader (docs/security.md).
constexpr const char* kMigrator = "vigil_migrator";
constexpr const char* kReader = "vigil_reader";

// RunMigrator checks the caller's role, connects SPI, runs `body` on a
// Migrator in phase 2 and returns its text result, palloc'd in the caller's
// context.
template <typename Body>
char* RunMigrator(const char* role, const char* action, bool lock, Body&& body) {
  vigil::pg::State state = vigil::pg::CurrentState();
  if (!state.legacy) vigil::pg::RequireRole(role, action);
  MemoryContext caller = CurrentMemoryContext;
  const char* schema = state.schema;
  Oid state_owner = state.owner;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* result = Run([&] {
    PgMigrationDb db(schema, state_owner);
    if (lock) db.Lock();
    core::Migrator migrator(db);
    std::string text = body(migrator);
    auto* copy = static_cast<char*>(vigil::pg::AllocNoThrowIn(caller, text.size() + 1));
    memcpy(copy, text.c_str(), text.size() + 1);
    return copy;
  });
  SPI_finish();
  return result;
}

Datum JsonbResult(char* text) { return DirectFunctionCall1(jsonb_in, CStringGetDatum(text)); }

void RequireArgs(FunctionCallInfo fcinfo, int n, const char* const* names) {
  for (int i = 0; i < n; ++i)
    if (PG_ARGISNULL(i))
      ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not be NULL", names[i])));
}

}  // namespace

// vigil_checksum(text) -> 'sha256:v1:<hex>': the definition of 0.1.0-0.4.0
// (an immutable function keeps its meaning under its symbol).
VIGIL_PG_FUNCTION(vigil_checksum) {
  std::string_view script = vigil::pg::ArgText(PG_GETARG_TEXT_PP(0));
  PG_RETURN_TEXT_P(Run([&] { return vigil::pg::MakeText(*core::ChecksumLike("sha256:v1:", script)); }));
}

// vigil_checksum(text) -> 'sha256:v2:<hex>' from 0.5.0 on.
VIGIL_PG_FUNCTION(vigil_checksum_v2) {
  std::string_view script = vigil::pg::ArgText(PG_GETARG_TEXT_PP(0));
  PG_RETURN_TEXT_P(Run([&] { return vigil::pg::MakeText(core::Checksum(script)); }));
}

VIGIL_PG_FUNCTION(vigil_migration_add) {
  static const char* const kNames[] = {"version", "name", "up_sql"};
  RequireArgs(fcinfo, 3, kNames);
  std::string_view version = vigil::pg::ArgText(PG_GETARG_TEXT_PP(0));
  std::string_view name = vigil::pg::ArgText(PG_GETARG_TEXT_PP(1));
  std::string_view up = vigil::pg::ArgText(PG_GETARG_TEXT_PP(2));
  std::optional<std::string_view> down;
  if (!PG_ARGISNULL(3)) down = vigil::pg::ArgText(PG_GETARG_TEXT_PP(3));
  char* result = RunMigrator(kMigrator, "register migrations", false, [&](core::Migrator& m) { return m.Add(version, name, up, down); });
  PG_RETURN_TEXT_P(cstring_to_text(result));
}

VIGIL_PG_FUNCTION(vigil_migration_add_dir) {
  static const char* const kNames[] = {"path"};
  RequireArgs(fcinfo, 1, kNames);
  if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied to read migration files from the server"),
                    errdetail("Only roles with the privileges of pg_read_server_files may read server files."),
                    errhint("Use vigil_migration_add(version, name, up_sql, down_sql) from the client instead.")));
  char* path = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char* result = RunMigrator(kMigrator, "register migrations", false, [&](core::Migrator& m) { return m.AddDir(path); });
  PG_RETURN_DATUM(JsonbResult(result));
}

VIGIL_PG_FUNCTION(vigil_migrate) {
  bool has_target;
  std::string_view target = OptText(fcinfo, 0, &has_target);
  bool dry_run = PG_NARGS() > 1 && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
  char* result = RunMigrator(kMigrator, "run migrations", true, [&](core::Migrator& m) {
    return m.Migrate(has_target ? std::optional<std::string_view>(target) : std::nullopt, dry_run);
  });
  PG_RETURN_DATUM(JsonbResult(result));
}

VIGIL_PG_FUNCTION(vigil_rollback) {
  static const char* const kNames[] = {"target"};
  RequireArgs(fcinfo, 1, kNames);
  std::string_view target = vigil::pg::ArgText(PG_GETARG_TEXT_PP(0));
  char* result = RunMigrator(kMigrator, "roll migrations back", true, [&](core::Migrator& m) { return m.Rollback(target); });
  PG_RETURN_DATUM(JsonbResult(result));
}

VIGIL_PG_FUNCTION(vigil_migration_repair) {
  static const char* const kNames[] = {"version"};
  RequireArgs(fcinfo, 1, kNames);
  std::string_view version = vigil::pg::ArgText(PG_GETARG_TEXT_PP(0));
  char* result = RunMigrator(kMigrator, "repair migrations", true, [&](core::Migrator& m) { return m.Repair(version); });
  PG_RETURN_DATUM(JsonbResult(result));
}

// vigil_migration_start(version, undo) and vigil_migration_finish(version,
// error, duration_ms): a no-transaction migration the client runs itself,
// recorded under the same lock and role checks as vigil_migrate.
VIGIL_PG_FUNCTION(vigil_migration_start) {
  static const char* const kNames[] = {"version"};
  RequireArgs(fcinfo, 1, kNames);
  std::string_view version = vigil::pg::ArgText(PG_GETARG_TEXT_PP(0));
  bool undo = PG_NARGS() > 1 && !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
  char* result = RunMigrator(kMigrator, "run migrations", true, [&](core::Migrator& m) { return m.Start(version, undo); });
  PG_RETURN_DATUM(JsonbResult(result));
}

VIGIL_PG_FUNCTION(vigil_migration_finish) {
  static const char* const kNames[] = {"version"};
  RequireArgs(fcinfo, 1, kNames);
  std::string_view version = vigil::pg::ArgText(PG_GETARG_TEXT_PP(0));
  bool has_error;
  std::string_view error = OptText(fcinfo, 1, &has_error);
  std::optional<double> duration;
  if (PG_NARGS() > 2 && !PG_ARGISNULL(2)) duration = PG_GETARG_FLOAT8(2);
  char* result = RunMigrator(kMigrator, "run migrations", true, [&](core::Migrator& m) {
    return m.Finish(version, has_error ? std::optional<std::string_view>(error) : std::nullopt, duration);
  });
  PG_RETURN_DATUM(JsonbResult(result));
}

VIGIL_PG_FUNCTION(vigil_migration_validate) {
  char* result = RunMigrator(kReader, "read the migration history", false,
                             [&](core::Migrator& m) { return m.Validate(); });
  PG_RETURN_DATUM(JsonbResult(result));
}

// vigil_migration_status(): materialized rows, converted to C strings in
// phase 2 and turned into tuples in phase 3.
VIGIL_PG_FUNCTION(vigil_migration_status) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  AttInMetadata* meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
  vigil::pg::State state = vigil::pg::CurrentState();
  if (!state.legacy) vigil::pg::RequireRole(kReader, "read the migration history");
  MemoryContext caller = CurrentMemoryContext;
  const char* schema = state.schema;
  Oid state_owner = state.owner;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  int nrows = 0;
  char*** rows = nullptr;
  Run([&] {
        PgMigrationDb db(schema, state_owner);
        std::vector<core::MigrationStatusRow> status = core::Migrator(db).Status();
        nrows = static_cast<int>(status.size());
        rows = static_cast<char***>(vigil::pg::AllocNoThrowIn(caller, sizeof(char**) * (nrows + 1)));
        auto copy = [&](const std::string& s) -> char* {
          if (s.empty()) return nullptr;
          char* p = static_cast<char*>(vigil::pg::AllocNoThrowIn(caller, s.size() + 1));
          memcpy(p, s.c_str(), s.size() + 1);
          return p;
        };
        for (int i = 0; i < nrows; ++i) {
          const auto& r = status[i];
          rows[i] = static_cast<char**>(vigil::pg::AllocNoThrowIn(caller, sizeof(char*) * 7));
          rows[i][0] = copy(r.version);
          rows[i][1] = copy(r.name);
          rows[i][2] = copy(r.state);
          rows[i][3] = copy(r.checksum);
          rows[i][4] = copy(r.applied_at);
          rows[i][5] = copy(r.applied_by);
          rows[i][6] = r.duration_ms ? copy(std::to_string(*r.duration_ms)) : nullptr;
        }
      });
  SPI_finish();
  for (int i = 0; i < nrows; ++i) {
    HeapTuple tuple = BuildTupleFromCStrings(meta, rows[i]);
    tuplestore_puttuple(rsinfo->setResult, tuple);
  }
  return (Datum)0;
}
