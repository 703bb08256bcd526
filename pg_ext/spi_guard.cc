// spi_guard.cc — SPI and subtransactions behind PG_TRY (see spi_guard.h).
// Only plain C data lives in these frames.
#include "spi_guard.h"

#include "module_pg.h"

extern "C" {
#include "access/transam.h"
#include "access/xlog.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
}

namespace vigil::pg {

static void CaptureError(MemoryContext context, SpiOutcome* out) {
  MemoryContextSwitchTo(context);
  ErrorData* edata = CopyErrorData();
  FlushErrorState();
  out->ok = false;
  out->sqlerrcode = edata->sqlerrcode;
  out->error = pstrdup(edata->message ? edata->message : "unknown error");
  FreeErrorData(edata);
}

void SpiRunGuarded(const char* sql, int nargs, const char* const* args, SpiOutcome* out, Oid as_role,
                   const char* search_path, int lock_timeout_ms) noexcept {
  MemoryContext context = CurrentMemoryContext;
  ResourceOwner owner = CurrentResourceOwner;
  out->ok = false;
  out->error = nullptr;
  out->sqlerrcode = 0;
  out->nrows = 0;
  out->ncols = 0;
  out->values = nullptr;
  out->work = nullptr;
  // Set inside PG_TRY and read in PG_CATCH: volatile, as setjmp requires.
  volatile bool began = false;
  PG_TRY();
  {
    // Inside PG_TRY like its twin in SubxactBeginGuarded: starting the
    // subtransaction can fail too (out of memory), and that error must come
    // back as data, not unwind the C++ caller.
    BeginInternalSubTransaction(NULL);
    began = true;
    // The query's text and rows live in a context of their own, freed by
    // SpiReleaseGuarded (SPI leaves its procedure context current).
    out->work = AllocSetContextCreate(context, "vigil guarded query", ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(out->work);
    // Parameters become quoted literals (quote_literal), which PostgreSQL
    // types from their context as it does for '...' in a query: the same
    // SQL then serves text, timestamptz and double precision columns.
    // Without parameters the text runs as it is (a migration script may
    // well contain "$1").
    StringInfoData text;
    initStringInfo(&text);
    for (const char* p = sql; *p; ++p) {
      if (nargs > 0 && *p == '$' && p[1] >= '0' && p[1] <= '9') {
        int n = 0;
        while (p[1] >= '0' && p[1] <= '9') n = n * 10 + (*++p - '0');
        if (n < 1 || n > nargs) elog(ERROR, "parameter $%d out of range", n);
        if (args[n - 1] == nullptr) appendStringInfoString(&text, "NULL");
        else appendStringInfoString(&text, quote_literal_cstr(args[n - 1]));
        continue;
      }
      appendStringInfoChar(&text, *p);
    }
    // The switch is undone by EndAs, or with the subtransaction on error.
    AsRole as;
    bool switched = OidIsValid(as_role) || search_path != kCallersPath;
    if (switched) BeginAs(&as, as_role, search_path ? search_path : kPinnedPath);
    int nest = !switched && lock_timeout_ms > 0 ? NewGUCNestLevel() : -1;
    if (lock_timeout_ms > 0) {
      // Saved at BeginAs's nesting level: EndAs (or the subtransaction's
      // abort) puts the caller's lock_timeout back.
      char ms[32];
      snprintf(ms, sizeof(ms), "%d", lock_timeout_ms);
      (void)set_config_option("lock_timeout", ms, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    }
    int rc = SPI_execute(text.data, false, 0);
    if (rc < 0) elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
    if (switched) EndAs(&as);
    if (nest >= 0) AtEOXact_GUC(false, nest);
    MemoryContextSwitchTo(out->work);
    if (SPI_tuptable != nullptr) {
      out->nrows = static_cast<int>(SPI_processed);
      out->ncols = SPI_tuptable->tupdesc->natts;
      out->values = static_cast<char***>(palloc0(sizeof(char**) * (out->nrows + 1)));
      for (int r = 0; r < out->nrows; ++r) {
        out->values[r] = static_cast<char**>(palloc0(sizeof(char*) * (out->ncols + 1)));
        for (int c = 0; c < out->ncols; ++c)
          out->values[r][c] = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);
      }
      SPI_freetuptable(SPI_tuptable);
    }
    ReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
    out->ok = true;
  }
  PG_CATCH();
  {
    CaptureError(context, out);
    if (began) RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(context);
    CurrentResourceOwner = owner;
  }
  PG_END_TRY();
}

void SpiReleaseGuarded(SpiOutcome* out) noexcept {
  MemoryContext work = out->work;
  out->work = nullptr;
  out->values = nullptr;
  out->nrows = 0;
  if (work == nullptr) return;
  MemoryContext context = CurrentMemoryContext;
  PG_TRY();
  {
    MemoryContextDelete(work);
  }
  PG_CATCH();
  {
    // Deleting a context raises nothing in practice; never unwind C++.
    MemoryContextSwitchTo(context);
    FlushErrorState();
  }
  PG_END_TRY();
}

int RawStatementsGuarded(const char* sql, bool* plannable, SpiOutcome* out) noexcept {
  MemoryContext context = CurrentMemoryContext;
  out->ok = true;
  *plannable = false;
  volatile int count = 0;
  PG_TRY();
  {
    List* stmts = raw_parser(sql, RAW_PARSE_DEFAULT);
    count = list_length(stmts);
    if (count > 0) {
      Node* first = linitial_node(RawStmt, stmts)->stmt;
      *plannable = IsA(first, SelectStmt) || IsA(first, InsertStmt) || IsA(first, UpdateStmt) ||
                   IsA(first, DeleteStmt) || IsA(first, MergeStmt);
    }
  }
  PG_CATCH();
  {
    CaptureError(context, out);
  }
  PG_END_TRY();
  return count;
}

bool SubxactBeginGuarded(SubxactState* s, SpiOutcome* out) noexcept {
  s->context = CurrentMemoryContext;
  s->owner = CurrentResourceOwner;
  s->open = false;
  out->ok = true;
  PG_TRY();
  {
    BeginInternalSubTransaction(NULL);
    MemoryContextSwitchTo(s->context);
    s->open = true;
  }
  PG_CATCH();
  {
    CaptureError(s->context, out);
  }
  PG_END_TRY();
  return out->ok;
}

bool SubxactRollbackGuarded(SubxactState* s, SpiOutcome* out) noexcept {
  out->ok = true;
  if (!s->open) return true;
  PG_TRY();
  {
    RollbackAndReleaseCurrentSubTransaction();
    MemoryContextSwitchTo(s->context);
    CurrentResourceOwner = s->owner;
    s->open = false;
  }
  PG_CATCH();
  {
    CaptureError(s->context, out);
  }
  PG_END_TRY();
  return out->ok;
}

std::uint64_t NextXidGuarded(SpiOutcome* out, char* origin, std::size_t origin_size) noexcept {
  MemoryContext context = CurrentMemoryContext;
  volatile std::uint64_t next = 0;
  out->ok = true;
  PG_TRY();
  {
    next = U64FromFullTransactionId(ReadNextFullTransactionId());
    snprintf(origin, origin_size, UINT64_FORMAT ":%u", GetSystemIdentifier(), MyDatabaseId);
  }
  PG_CATCH();
  {
    CaptureError(context, out);
  }
  PG_END_TRY();
  return next;
}

}  // namespace vigil::pg
