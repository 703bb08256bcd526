// module_pg.cc — the PostgreSQL module itself: PG_MODULE_MAGIC, _PG_init and
// its settings, and vigil_functions(), the function table as SQL.
//
// _PG_init runs when the module is loaded, with or without
// shared_preload_libraries. Hooks, shared memory and background workers,
// when they come, are registered from here and follow docs/architecture.md.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "catalog/objectaddress.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

#include <cstdlib>
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

void _PG_init(void) {
  core::companion::Anchor();
  core::SetCancelCheck(vigil::pg::PgCancelPending);
  const core::ConfigKey* key = Run([] { return &core::FindConfig("quality_alert_score"); });
  DefineCustomIntVariable("vigil.quality_alert_score", key->description, nullptr, &quality_alert_score,
                          std::atoi(key->default_value), static_cast<int>(key->min), static_cast<int>(key->max),
                          PGC_USERSET, 0, nullptr, nullptr, nullptr);
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
