// bgworker_pg.cc — vigil's one background worker (docs/architecture.md,
// "One background-worker framework").
//
// Registered by _PG_init when vigil is in shared_preload_libraries, it
// connects to the database named by vigil.database and runs its tasks in a
// loop: WaitLatch for vigil.worker_interval milliseconds, then each task in
// its own transaction, an error reported and the transaction aborted
// without ending the worker. Tasks today: sealing the audit chain
// (audit_pg.cc, SealFromWorker) so that every committed entry is sealed
// within about one interval; snapshots of the statement counters every
// vigil.snapshot_interval (monitor_pg.cc, SnapshotFromWorker); the health
// checks with their alerts and history every vigil.health_interval
// (health_pg.cc, HealthFromWorker). Later capabilities add tasks here
// instead of new workers. Without preloading,
// the tasks are SQL functions a scheduler calls (vigil_audit_seal()).
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"
}

extern "C" PGDLLEXPORT void vigil_worker_main(Datum arg);

namespace {

char* worker_database = nullptr;
int worker_interval_ms = 1000;

// RunTask runs one task in its own transaction; an error is reported to
// the log and rolled back, and the worker goes on.
void RunTask(const char* activity, void (*task)()) {
  MemoryContext loop_cxt = CurrentMemoryContext;
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  // READ COMMITTED whatever default_transaction_isolation says: the tasks
  // read fresh snapshots (the sealer's watermark, docs/audit.md).
  XactIsoLevel = XACT_READ_COMMITTED;
  PushActiveSnapshot(GetTransactionSnapshot());
  pgstat_report_activity(STATE_RUNNING, activity);
  PG_TRY();
  {
    task();
    PopActiveSnapshot();
    CommitTransactionCommand();
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(loop_cxt);
    EmitErrorReport();
    FlushErrorState();
    AbortCurrentTransaction();
  }
  PG_END_TRY();
  MemoryContextSwitchTo(loop_cxt);
  pgstat_report_activity(STATE_IDLE, nullptr);
}

}  // namespace

void vigil::pg::DefineWorkerSettings() {
  // PGC_SIGHUP, not POSTMASTER: a backend that loads vigil later defines it
  // too. The worker reads it when it starts (a restart of the worker or
  // the server moves it).
  DefineCustomStringVariable("vigil.database", "The database vigil's background worker works in (when preloaded).",
                             nullptr, &worker_database, "postgres", PGC_SIGHUP, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("vigil.worker_interval",
                          "Milliseconds between the background worker's rounds (audit sealing); 0 pauses it.",
                          nullptr, &worker_interval_ms, 1000, 0, 3600 * 1000, PGC_SIGHUP, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
}

void vigil::pg::RegisterWorker() {
  BackgroundWorker worker;
  memset(&worker, 0, sizeof(worker));
  snprintf(worker.bgw_name, BGW_MAXLEN, "vigil worker");
  snprintf(worker.bgw_type, BGW_MAXLEN, "vigil worker");
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  worker.bgw_restart_time = 10;
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "vigil");
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "vigil_worker_main");
  RegisterBackgroundWorker(&worker);
}

void vigil_worker_main(Datum) {
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  pqsignal(SIGTERM, die);
  BackgroundWorkerUnblockSignals();
  vigil::pg::SuspendMonitoring();
  BackgroundWorkerInitializeConnection(worker_database, nullptr, 0);
  // The database's owner can set defaults for its sessions (ALTER DATABASE
  // ... SET); the worker's must not come from there: it writes (not
  // read-only), runs as itself (no role), is bounded by the tasks
  // themselves (no statement timeout). search_path stays the database's:
  // the tasks pin their own, and what runs under it qualifies every name
  // (review of issue 18).
  SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
  SetConfigOption("role", "none", PGC_SUSET, PGC_S_OVERRIDE);
  SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
  SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
  MemoryContext loop_cxt = AllocSetContextCreate(TopMemoryContext, "vigil worker", ALLOCSET_DEFAULT_SIZES);
  for (;;) {
    long timeout = worker_interval_ms > 0 ? worker_interval_ms : 60 * 1000L;
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
    if (worker_interval_ms == 0) continue;
    MemoryContextSwitchTo(loop_cxt);
    RunTask("vigil: sealing the audit chain", vigil::pg::SealFromWorker);
    RunTask("vigil: statement snapshot", vigil::pg::SnapshotFromWorker);
    RunTask("vigil: health checks", vigil::pg::HealthFromWorker);
    MemoryContextReset(loop_cxt);
  }
}
