// module_pg.cc — the PostgreSQL module itself: PG_MODULE_MAGIC, _PG_init and
// its settings, and vigil_functions(), the function table as SQL.
//
// _PG_init runs when the module is loaded, with or without
// shared_preload_libraries. Hooks, shared memory and background workers,
// when they come, are registered from here and follow docs/architecture.md.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_class.h"
#include "commands/tablecmds.h"
#include "nodes/makefuncs.h"
#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"
#include "storage/fd.h"
}

#include <cstdlib>
#include <sys/stat.h>
#include <string>

#include "base/cancel.h"
#include "base/companion.h"
#include "base/config.h"
#include "surface/functions.h"

extern "C" {
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace core = vigil::core;
using vigil::pg::Run;

namespace {

// The GUCs vigil.<key> (docs/reference.md, vigil_config): the same keys,
// defaults and ranges as SQLite's vigil_config table, from the core.
int quality_alert_score;

}  // namespace

int vigil::pg::QualityAlertScore() noexcept { return quality_alert_score; }

void vigil::pg::PrivilegeBeforeLock(const RangeVar* rv, Oid relid, Oid, void* mask) {
  if (!OidIsValid(relid)) return;
  if (pg_class_aclmask(relid, GetUserId(), *static_cast<AclMode*>(mask), ACLMASK_ANY) == 0)
    aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(get_rel_relkind(relid)), rv->relname);
}

vigil::pg::State vigil::pg::CurrentState() {
  Oid nsp = get_namespace_oid(kStateSchema, true);
  if (OidIsValid(nsp)) {
    HeapTuple tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
    if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for namespace %u", nsp);
    Oid owner = ((Form_pg_namespace)GETSTRUCT(tup))->nspowner;
    ReleaseSysCache(tup);
    return {quote_identifier(kStateSchema), owner, false};
  }
  Oid ext = ExtensionNamespace();
  if (!OidIsValid(ext))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("extension \"vigil\" is not installed"),
                    errhint("Run CREATE EXTENSION vigil in this database.")));
  return {quote_identifier(get_namespace_name(ext)), InvalidOid, true};
}

void vigil::pg::BeginAs(AsRole* as, Oid role, const char* search_path) {
  GetUserIdAndSecContext(&as->save_userid, &as->save_sec_context);
  if (OidIsValid(role))
    SetUserIdAndSecContext(role, as->save_sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
  as->save_nestlevel = NewGUCNestLevel();
  (void)set_config_option("search_path", search_path ? search_path : "pg_catalog, pg_temp", PGC_USERSET,
                          PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

void vigil::pg::EndAs(AsRole* as) {
  AtEOXact_GUC(false, as->save_nestlevel);
  SetUserIdAndSecContext(as->save_userid, as->save_sec_context);
}

// ExtensionNamespace reads pg_extension.extnamespace (get_extension_schema
// is exported only from PostgreSQL 16 on).
Oid vigil::pg::ExtensionNamespace() {
  Oid ext = get_extension_oid("vigil", true);
  if (!OidIsValid(ext)) return InvalidOid;
  Relation rel = table_open(ExtensionRelationId, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ext));
  SysScanDesc scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
  HeapTuple tup = systable_getnext(scan);
  Oid nsp = HeapTupleIsValid(tup) ? ((Form_pg_extension)GETSTRUCT(tup))->extnamespace : InvalidOid;
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
  return nsp;
}

char* vigil::pg::ClipName(const char* name) {
  int len = static_cast<int>(strlen(name));
  if (len <= 64) return pstrdup(name);
  int keep = pg_mbcliplen(name, len, 64);
  return psprintf("%.*s...", keep, name);
}

char* vigil::pg::TablePath(Oid table_namespace) {
  StringInfoData path;
  initStringInfo(&path);
  appendStringInfo(&path, "pg_catalog, %s, pg_temp", quote_identifier(get_namespace_name(table_namespace)));
  return path.data;
}

void vigil::pg::RequireRole(const char* role, const char* action) {
  Oid r = get_role_oid(role, true);
  if (OidIsValid(r) && has_privs_of_role(GetUserId(), r)) return;
  ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied to %s", action),
                  errdetail("Only roles with the privileges of %s may %s.", role, action),
                  errhint("GRANT %s TO the role that should (docs/security.md).", role)));
}

// ResolveOwnedTable resolves argument 0 for vigil_enforce, vigil_unenforce and
// the audit's enable and disable:
// 42P01, 42809, and 42501 unless the caller owns it, checked before the
// table is locked (RangeVarCallbackOwnsTable, as ALTER TABLE does).
Oid vigil::pg::ResolveOwnedTable(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("table must not be NULL")));
  char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  if (name[0] == '\0') ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table \"\" does not exist")));
  Oid relid = RangeVarGetRelidExtended(makeRangeVar(NULL, name, -1), ShareRowExclusiveLock, RVR_MISSING_OK,
                                       RangeVarCallbackOwnsTable, nullptr);
  if (!OidIsValid(relid)) ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table \"%s\" does not exist", vigil::pg::ClipName(name))));
  char kind = get_rel_relkind(relid);
  if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table", vigil::pg::ClipName(name))));
  return relid;
}

void _PG_init(void) {
  core::companion::Anchor();
  core::SetCancelCheck(vigil::pg::PgCancelPending);
  const core::ConfigKey* key = Run([] { return &core::FindConfig("quality_alert_score"); });
  DefineCustomIntVariable("vigil.quality_alert_score", key->description, nullptr, &quality_alert_score,
                          std::atoi(key->default_value), static_cast<int>(key->min), static_cast<int>(key->max),
                          PGC_USERSET, 0, nullptr, nullptr, nullptr);
  vigil::pg::DefineAuditSettings();
  vigil::pg::DefineSecretSettings();
  vigil::pg::DefineWorkerSettings();
  vigil::pg::DefineMonitorSettings();
  vigil::pg::DefineHealthSettings();
  vigil::pg::InstallPlannerHooks();
  if (process_shared_preload_libraries_in_progress) {
    vigil::pg::RegisterWorker();
    vigil::pg::InstallUtilityHook();
    vigil::pg::InstallExecutorHook();
    vigil::pg::InstallMonitor();
  }
  MarkGUCPrefixReserved("vigil");
}

// vigil_functions(): one row per function of the table, plain static data
// turned into C strings in phase 2 and into tuples in phase 3.
VIGIL_PG_FUNCTION(vigil_functions) {
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  AttInMetadata* meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
  std::size_t n;
  const core::FunctionInfo* fns = core::Functions(&n);
  for (std::size_t i = 0; i < n; ++i) {
    char** values = Run([&] {
      const core::FunctionInfo& f = fns[i];
      auto** v = static_cast<char**>(vigil::pg::AllocNoThrow(sizeof(char*) * 9));
      v[0] = vigil::pg::CopyCString(f.name);
      v[1] = vigil::pg::CopyCString(f.arguments);
      v[2] = vigil::pg::CopyCString(f.result);
      v[3] = vigil::pg::CopyCString(core::VolatilityName(f.volatility));
      v[4] = vigil::pg::CopyCString(f.strict ? "true" : "false");
      v[5] = vigil::pg::CopyCString(core::ParallelName(f.parallel));
      v[6] = vigil::pg::CopyCString(core::EffectsText(f.effects));
      v[7] = vigil::pg::CopyCString(core::SqliteRegistrationText(f));
      v[8] = vigil::pg::CopyCString(f.description);
      return v;
    });
    tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(meta, values));
  }
  return (Datum)0;
}

// ServerSecret: see module_pg.h (the audit key and the API-key secret).
const char* vigil::pg::ServerSecret(const char* file, const char* setting, const char* what, int* len) {
  char path[MAXPGPATH];
  snprintf(path, sizeof(path), "%s/%s", DataDir, file);
  struct stat st;
  const char* key = nullptr;
  if (stat(path, &st) == 0) {
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
      ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                      errmsg("the %s file \"%s\" is readable by others than its owner", what, file),
                      errhint("chmod 600 it.")));
    FILE* f = AllocateFile(path, "r");
    if (f == nullptr)
      ereport(ERROR, (errcode_for_file_access(), errmsg("could not read the %s file \"%s\": %m", what, file)));
    char* buf = static_cast<char*>(palloc0(4097));
    size_t n = fread(buf, 1, 4096, f);
    FreeFile(f);
    buf[n] = '\0';
    char* nl = strpbrk(buf, "\r\n");
    if (nl != nullptr) *nl = '\0';
    key = buf;
  } else if (setting != nullptr && setting[0] != '\0') {
    key = setting;
  }
  if (key == nullptr) {
    *len = 0;
    return nullptr;
  }
  *len = static_cast<int>(strlen(key));
  if (*len < 16)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must be at least 16 bytes", what),
                    errhint("Use a random secret, e.g. openssl rand -hex 32.")));
  return key;
}
