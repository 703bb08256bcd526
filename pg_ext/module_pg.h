// module_pg.h — what module_pg.cc offers the other PostgreSQL files.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "nodes/primnodes.h"
#include "nodes/bitmapset.h"
#include "utils/relcache.h"
}

#include <string>

namespace vigil::pg {

// QualityAlertScore is the GUC vigil.quality_alert_score.
int QualityAlertScore() noexcept;

// PrivilegeBeforeLock is a RangeVarGetRelidExtended callback: the caller
// must hold one of the privileges in *(AclMode*)mask on the table before
// vigil locks it, as PostgreSQL's own commands check (else a role could
// hold a lock on a table it cannot use and block its owner's ALTER TABLE).
// Raises 42501 (engine code, phase 1).
void PrivilegeBeforeLock(const RangeVar* rv, Oid relid, Oid old_relid, void* mask);

// ResolveOwnedTable resolves argument 0 (a table name) under
// ShareRowExclusiveLock: 22004 for NULL, 42P01, 42809 for what is not a
// table, 42501 unless the caller owns it — checked before the lock.
Oid ResolveOwnedTable(FunctionCallInfo fcinfo);

// DefineAuditSettings defines vigil.actor and vigil.audit_key (_PG_init).
void DefineAuditSettings();
// DefineSecretSettings defines vigil.api_key_secret (secrets_pg.cc).
void DefineSecretSettings();

// ServerSecret is a secret the server keeps out of SQL (palloc'd, *len
// bytes) or NULL: the first line of `file` in the data directory (mode 0600
// or stricter, else 42P... config error), else `setting` (a SIGHUP,
// superuser-only, hidden GUC). At least 16 bytes (22023). `what` names it
// in errors ("audit key"). Engine code.
const char* ServerSecret(const char* file, const char* setting, const char* what, int* len);

// The background worker (bgworker_pg.cc): its settings (always defined),
// its registration (only when preloaded), and its tasks.
void DefineWorkerSettings();
void RegisterWorker();
void SealFromWorker();  // audit_pg.cc
// Statement monitoring (monitor_pg.cc): its settings (defined on every
// load; the shared-memory sizes only when preloaded), its hooks and shared
// memory (preloaded only), the worker's snapshot task, and the heaviest
// statements for vigil_index_advice() (NULL when not running).
void DefineMonitorSettings();
void InstallMonitor();
bool MonitorRunning() noexcept;
void SuspendMonitoring() noexcept;  // the worker's own statements are not counted
void SnapshotFromWorker();
char* HeaviestStatements(int n);
long SlowExecutionsSince(int64 window_us);
int SlowQueryMs() noexcept;  // vigil.slow_query_ms
int HistoryDays() noexcept;  // vigil.history_days

// Health (health_pg.cc): the thresholds' settings; the index findings of
// query analysis it reuses (query_pg.cc; inside SPI, C++ side: throws).
void DefineHealthSettings();
void HealthFromWorker();  // the worker's health task
std::string IndexHealthJson();

// The utility hook (utility_hooks_pg.cc), installed when preloaded, and
// what it calls: RecordUtility writes a DDL entry for a command event
// triggers do not see (audit_pg.cc), while a table here is audited.
void InstallUtilityHook();
void RecordUtility(const char* tag, const char* statement);

// The executor hook (executor_hooks_pg.cc), installed when preloaded, and
// what it calls: RecordRead writes a SELECT entry when one of the
// relation's audit triggers has {"reads": true} (audit_pg.cc).
void InstallExecutorHook();
bool ExecutorHookInstalled() noexcept;

// The planner hooks for hypothetical indexes (hypothetical_pg.cc),
// installed whenever the module loads; armed by vigil_analyze_query
// around one EXPLAIN.
void InstallPlannerHooks();
bool ArmHypothetical(Oid relid, const AttrNumber* attnums, int ncolumns, const char* name, Oid indexoid) noexcept;
void DisarmHypothetical() noexcept;
void RecordRead(Relation rel, Bitmapset* columns, const char* source, int location, int length);

// ---- identities (docs/security.md) -------------------------------------------
//
// vigil's state (rules, migrations and their history, quality history,
// alerts) lives in the schema vigil_state, which only the extension's owner
// may use. vigil's functions are the only way in: they check who calls, then
// read and write the state as its owner, under SECURITY_RESTRICTED_OPERATION
// and with search_path = pg_catalog, pg_temp. Work on a user's table runs as
// that table's owner the same way (with the table's schema on the path).

inline constexpr const char* kStateSchema = "vigil_state";

// State is where vigil's state is, in this database. From 0.4.0 on: the
// schema vigil_state, read and written as its owner. A database still at an
// earlier version (before its ALTER EXTENSION vigil UPDATE) calls this module
// through its old definitions: then the state is in the extension's schema
// and is used with the caller's rights, as those versions did (legacy).
struct State {
  const char* schema;  // quoted
  Oid owner;           // InvalidOid for the legacy layout
  bool legacy;
};
State CurrentState();
// ExtensionNamespace is vigil's schema (InvalidOid when not installed).
Oid ExtensionNamespace();

// AsRole switches to `role` for a stretch of engine code: restricted, with
// the given search_path pinned (NULL: pg_catalog, pg_temp). EndAs restores
// the caller; an error in between restores it with the (sub)transaction.
struct AsRole {
  Oid save_userid;
  int save_sec_context;
  int save_nestlevel;
};
// role InvalidOid: stay the caller (not restricted), only pin the path.
void BeginAs(AsRole* as, Oid role, const char* search_path);

// TablePath is the search_path code of a table runs under (its rules'
// expressions, its owner's scans): pg_catalog, the table's schema and
// pg_temp last, so no caller's path or temporary object redirects a name.
// (As PostgreSQL warns, a schema where untrusted roles may create objects
// is unsafe for whoever resolves names in it: keep tables out of those.)
char* TablePath(Oid table_namespace);
void EndAs(AsRole* as);

// ClipName is a name as error messages echo it (palloc'd): at most 64
// bytes, cut at a character boundary and marked "...", the same form as
// the core's text::ForMessage(name, 64), so both engines say the same.
char* ClipName(const char* name);

// RequireRole raises 42501 unless the caller has the privileges of the
// role (a member with INHERIT, or a superuser), checked inside vigil's C
// code so that a blanket GRANT EXECUTE ON ALL FUNCTIONS does not hand out
// what the role guards.
void RequireRole(const char* role, const char* action);

}  // namespace vigil::pg
