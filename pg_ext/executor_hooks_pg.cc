// executor_hooks_pg.cc — vigil's ExecutorStart hook (docs/architecture.md,
// "Hooks chain, in engine code"; docs/audit.md, reads).
//
// Installed by _PG_init when vigil is in shared_preload_libraries. Before
// a SELECT runs, it looks at the plain tables the statement reads; for
// each one audited with {"reads": true} it writes an entry (operation
// SELECT, the columns read in detail, the normalised statement) through
// audit_pg.cc. Nothing is written in a read-only transaction (a hot
// standby, default_transaction_read_only) or a parallel worker. The
// previous hook (or standard_ExecutorStart) runs after it, as always.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "nodes/parsenodes.h"
#include "utils/rel.h"
#include "utils/relcache.h"
}

namespace {

ExecutorStart_hook_type prev_executor_start = nullptr;
bool installed = false;

void VigilExecutorStart(QueryDesc* query, int eflags) {
  if (query->operation == CMD_SELECT && !IsParallelWorker() && IsTransactionState() && !XactReadOnly &&
      (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && query->plannedstmt != nullptr) {
    ListCell* lc;
    foreach (lc, query->plannedstmt->rtable) {
      RangeTblEntry* rte = static_cast<RangeTblEntry*>(lfirst(lc));
      if (rte->rtekind != RTE_RELATION || (rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE))
        continue;
      if ((rte->requiredPerms & ACL_SELECT) == 0) continue;
      Relation rel = RelationIdGetRelation(rte->relid);
      if (rel == nullptr) continue;
      if (rel->trigdesc != nullptr) vigil::pg::RecordRead(rel, rte->selectedCols, query->sourceText,
                                                         query->plannedstmt->stmt_location,
                                                         query->plannedstmt->stmt_len);
      RelationClose(rel);
    }
  }
  if (prev_executor_start != nullptr)
    prev_executor_start(query, eflags);
  else
    standard_ExecutorStart(query, eflags);
}

}  // namespace

void vigil::pg::InstallExecutorHook() {
  prev_executor_start = ExecutorStart_hook;
  ExecutorStart_hook = VigilExecutorStart;
  installed = true;
}

bool vigil::pg::ExecutorHookInstalled() noexcept { return installed; }
