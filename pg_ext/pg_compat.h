// pg_compat.h — the PostgreSQL versions vigil builds against (13 to 17) and
// the few server APIs that differ between them (docs/compatibility.md).
// Every version guard lives here, so the adapter's files read as one
// version. Only 15 is built and tested in CI (Debian 12 ships 15); the
// guards for the others follow each release's API and are kept minimal.
#pragma once

extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/tuplestore.h"
}

#if PG_VERSION_NUM < 130000 || PG_VERSION_NUM >= 180000
#error "vigil builds against PostgreSQL 13 to 17 (docs/compatibility.md)"
#endif

// MarkGUCPrefixReserved arrived in 15; before it, EmitWarningsOnPlaceholders
// did the same job with a warning instead of an error.
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

// InitMaterializedSRF arrived in 15 (SetSingleFuncCall in 15's betas); 13
// and 14 set up the materialized result by hand.
#if PG_VERSION_NUM < 150000
static inline void InitMaterializedSRF(FunctionCallInfo fcinfo, bits32 /*flags*/) {
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  if (rsinfo == nullptr || !IsA(rsinfo, ReturnSetInfo) || !(rsinfo->allowedModes & SFRM_Materialize))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("set-valued function called in context that cannot accept a set")));
  MemoryContext old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
  TupleDesc tupdesc;
  if (get_call_result_type(fcinfo, nullptr, &tupdesc) != TYPEFUNC_COMPOSITE)
    elog(ERROR, "return type must be a row type");
  rsinfo->returnMode = SFRM_Materialize;
  rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
  rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
  MemoryContextSwitchTo(old);
}
#endif
