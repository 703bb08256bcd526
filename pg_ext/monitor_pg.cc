// monitor_pg.cc — statement monitoring for PostgreSQL (SPEC §8,
// docs/monitoring.md).
//
// Needs shared_preload_libraries = 'vigil'. Executor and utility hooks
// (chained, so pg_stat_statements, auto_explain and pgaudit work beside
// them) time every top-level statement. The core computes the query id
// (EnableQueryId); an entry is keyed by user, database and query id and
// carries vigil's own fingerprint of the normalised text.
//
// The common path takes no shared lock: a backend accumulates its
// statements in a local table (the Counters of the core, stats.h) and
// publishes them in one batch, at the end of a top-level statement when
// kFlushMs have passed since its last batch (or its local table is large),
// when it exits, and before it reads the statistics itself. Publishing
// takes the table's LWLock in shared mode and each entry's spinlock;
// only a shape never seen before takes it in exclusive mode (to add the
// entry, evicting the least-called 5 % when vigil.max_statements are
// held). A slow execution is written to the slow-query ring at once.
//
// Shared memory: the entries (monitor::Counters twice, now and at the last
// snapshot, plus 1 KB of text: about 5.4 KB each) and the slow-query ring
// (about 1.2 KB per slot). Saved to pg_stat/vigil_statements.stat at a
// clean shutdown and read back at start, as pg_stat_statements does; after
// a crash the postmaster reinitialises shared memory and the counters
// start again under a new epoch (their reset time), which the history and
// the report show.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "catalog/namespace.h"
#include "commands/dbcommands.h"
#include "executor/executor.h"
#include "executor/instrument.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "common/ip.h"
#include "utils/backend_status.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "optimizer/planner.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "catalog/namespace.h"
#include "lib/stringinfo.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/queryjumble.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <algorithm>
#include <cstring>
#include <vector>
#include <string>

#include <nlohmann/json.hpp>

#include "base/cancel.h"
#include "base/config.h"
#include "base/text.h"
#include "monitor/report.h"
#include "monitor/stats.h"
#include "sql/normalize.h"

namespace mon = vigil::core::monitor;
namespace core = vigil::core;
using vigil::pg::Run;

namespace {

constexpr int kFlushMs = 100;
constexpr long kLocalMax = 256;
constexpr uint32 kFileMagic = 0x56474d31;  // "VGM1"
constexpr const char* kFile = "pg_stat/vigil_statements.stat";
constexpr int kNameLen = 64;

struct Key {
  Oid userid;
  Oid dbid;
  uint64 queryid;
};

struct Entry {
  Key key;  // hash key: first
  slock_t mutex;
  uint64 serial;  // this entry's creation (a snapshot's marks apply only to it)
  mon::Counters now;
  mon::Counters at_snapshot;
  char fingerprint[17];
  char application_name[kNameLen];
  char client_addr[48];
  char query[mon::kMaxQueryText + 1];
};

struct SlowSlot {
  int64 at_us;
  double duration_ms;
  Oid userid;
  Oid dbid;
  uint64 rows;
  char fingerprint[17];
  char application_name[kNameLen];
  char query[mon::kMaxQueryText + 1];
};

struct Shared {
  LWLock* lock;       // the entries' table
  LWLock* slow_lock;  // the slow-query ring
  int64 epoch_us;     // when the counters (re)started
  uint64 evictions;
  int64 slow_next;    // slots written so far
  uint64 next_serial; // entries made so far
};

// Settings.
int max_statements = 5000;
int slow_log_size = 1000;
int slow_query_ms = 1000;
bool slow_query_literals = false;
bool track_statements = true;
int snapshot_interval_s = 600;
int history_days = 7;

// Shared state.
Shared* shared = nullptr;
HTAB* shared_hash = nullptr;
SlowSlot* slow_ring = nullptr;

// Hooks chained.
shmem_request_hook_type prev_shmem_request = nullptr;
shmem_startup_hook_type prev_shmem_startup = nullptr;
ExecutorStart_hook_type prev_start = nullptr;
ExecutorRun_hook_type prev_run = nullptr;
ExecutorFinish_hook_type prev_finish = nullptr;
ExecutorEnd_hook_type prev_end = nullptr;
ProcessUtility_hook_type prev_utility = nullptr;
planner_hook_type prev_planner = nullptr;

int nesting = 0;
bool installed = false;

// The backend's batch.
struct Local {
  Key key;
  mon::Counters c;
  char* normalized;  // TopMemoryContext
  char fingerprint[17];
  bool dirty;
};
HTAB* local_hash = nullptr;
Local* last_local = nullptr;  // the entry LocalFor found last: a statement's start and end find it at once
MemoryContext local_cxt = nullptr;
TimestampTz last_flush = 0;
bool exit_registered = false;

// An error in a top-level statement, recorded at the next statement's
// start (or the backend's exit): its key only, known before it failed
// (the core's query id, or the fingerprint a utility statement was keyed
// by at its start). Nothing is allocated or converted in the error path.
struct PendingError {
  bool set;
  Key key;
};
PendingError pending_error;

int64 UnixUs(TimestampTz t) {
  return (int64)t + ((int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC);
}

Size SharedSize() {
  Size size = MAXALIGN(sizeof(Shared));
  size = add_size(size, hash_estimate_size(max_statements, sizeof(Entry)));
  size = add_size(size, mul_size(slow_log_size, sizeof(SlowSlot)));
  return size;
}

void ShmemRequest() {
  if (prev_shmem_request) prev_shmem_request();
  RequestAddinShmemSpace(SharedSize());
  RequestNamedLWLockTranche("vigil monitor", 2);
}

void ShmemShutdown(int code, Datum);
void LoadFile();

void ShmemStartup() {
  if (prev_shmem_startup) prev_shmem_startup();
  shared = nullptr;
  LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
  bool found;
  shared = static_cast<Shared*>(ShmemInitStruct("vigil monitor", sizeof(Shared), &found));
  if (!found) {
    LWLockPadded* locks = GetNamedLWLockTranche("vigil monitor");
    shared->lock = &locks[0].lock;
    shared->slow_lock = &locks[1].lock;
    shared->epoch_us = UnixUs(GetCurrentTimestamp());
    shared->evictions = 0;
    shared->slow_next = 0;
    shared->next_serial = 0;
  }
  HASHCTL info;
  memset(&info, 0, sizeof(info));
  info.keysize = sizeof(Key);
  info.entrysize = sizeof(Entry);
  shared_hash = ShmemInitHash("vigil monitor entries", max_statements, max_statements, &info, HASH_ELEM | HASH_BLOBS);
  bool slow_found;
  slow_ring = static_cast<SlowSlot*>(ShmemInitStruct("vigil monitor slow", mul_size(slow_log_size, sizeof(SlowSlot)),
                                                     &slow_found));
  LWLockRelease(AddinShmemInitLock);
  if (!IsUnderPostmaster) on_shmem_exit(ShmemShutdown, (Datum)0);
  if (found) return;
  LoadFile();
}

// ---- the file of a clean shutdown ---------------------------------------

struct FileHeader {
  uint32 magic;
  uint32 entry_size;
  int64 epoch_us;
  int64 count;
};

void ShmemShutdown(int code, Datum) {
  if (code != 0 || shared == nullptr || shared_hash == nullptr) return;
  char tmp[MAXPGPATH];
  snprintf(tmp, sizeof(tmp), "%s.tmp", kFile);
  FILE* f = AllocateFile(tmp, PG_BINARY_W);
  if (f == nullptr) return;
  FileHeader h = {kFileMagic, (uint32)sizeof(Entry), shared->epoch_us, hash_get_num_entries(shared_hash)};
  bool ok = fwrite(&h, sizeof(h), 1, f) == 1;
  HASH_SEQ_STATUS seq;
  hash_seq_init(&seq, shared_hash);
  Entry* e;
  while ((e = static_cast<Entry*>(hash_seq_search(&seq))) != nullptr)
    if (ok && fwrite(e, sizeof(Entry), 1, f) != 1) ok = false;
  if (FreeFile(f) != 0) ok = false;
  if (ok)
    (void)durable_rename(tmp, kFile, LOG);
  else
    unlink(tmp);
}

void LoadFile() {
  FILE* f = AllocateFile(kFile, PG_BINARY_R);
  if (f == nullptr) return;
  FileHeader h;
  if (fread(&h, sizeof(h), 1, f) == 1 && h.magic == kFileMagic && h.entry_size == sizeof(Entry) && h.count >= 0) {
    shared->epoch_us = h.epoch_us;
    Entry buf;
    for (int64 i = 0; i < h.count && i < max_statements; ++i) {
      if (fread(&buf, sizeof(Entry), 1, f) != 1) break;
      bool found;
      Entry* e = static_cast<Entry*>(hash_search(shared_hash, &buf.key, HASH_ENTER, &found));
      memcpy(e, &buf, sizeof(Entry));
      SpinLockInit(&e->mutex);
      e->serial = ++shared->next_serial;
      e->query[mon::kMaxQueryText] = '\0';
      e->fingerprint[16] = '\0';
      e->application_name[kNameLen - 1] = '\0';
      e->client_addr[sizeof(e->client_addr) - 1] = '\0';
    }
  }
  FreeFile(f);
  unlink(kFile);  // a crash must not bring these back
}

// ---- the backend's batch and publishing it -----------------------------

void EnsureLocal() {
  if (local_hash != nullptr) return;
  if (local_cxt == nullptr)
    local_cxt = AllocSetContextCreate(TopMemoryContext, "vigil monitor batch", ALLOCSET_DEFAULT_SIZES);
  HASHCTL info;
  memset(&info, 0, sizeof(info));
  info.keysize = sizeof(Key);
  info.entrysize = sizeof(Local);
  info.hcxt = local_cxt;
  local_hash = hash_create("vigil monitor batch", 64, &info, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

// Normalized runs the core's normaliser on the statement's text, into
// local_cxt (phase 2 of boundary.h, called from engine code).
// Utf8Text is the statement's text in UTF-8: converted from the database's
// encoding (the history table and the report are UTF-8 whatever database a
// statement ran in); an SQL_ASCII database's bytes that are not UTF-8 stay
// and are replaced below.
// Utf8Text is the statement's text in UTF-8, the form entries keep (the
// history table and the report are UTF-8 whatever database a statement
// ran in). Converted from the database's encoding inside a transaction;
// outside one (SAVEPOINT's end, ROLLBACK of a failed transaction, a
// backend's exit) PostgreSQL cannot look a conversion up, and such text
// is nearly always ASCII, the same in every server encoding: any other
// byte becomes '?' there (ValidUtf8Or below), as do an SQL_ASCII
// database's bytes that are not UTF-8.
const char* Utf8Text(const char* text, int* len) {
  int enc = GetDatabaseEncoding();
  if (enc == PG_UTF8 || enc == PG_SQL_ASCII || *len == 0) return text;
  bool ascii = true;
  for (int i = 0; i < *len && ascii; ++i) ascii = (unsigned char)text[i] < 0x80;
  if (ascii) return text;
  if (!IsTransactionState()) {
    char* copy = static_cast<char*>(palloc(*len + 1));
    for (int i = 0; i < *len; ++i) copy[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
    copy[*len] = '\0';
    return copy;
  }
  // Converted without raising: a character the database accepts that
  // UTF-8 has no equivalent for (some EUC_JP codes) becomes '?', and the
  // statement runs as it would without vigil.
  Oid proc = FindDefaultConversionProc(enc, PG_UTF8);
  if (!OidIsValid(proc)) {
    char* copy = static_cast<char*>(palloc(*len + 1));
    for (int i = 0; i < *len; ++i) copy[i] = (unsigned char)text[i] < 0x80 ? text[i] : '?';
    copy[*len] = '\0';
    return copy;
  }
  StringInfoData out;
  initStringInfo(&out);
  int cap = 4096;
  unsigned char* buf = static_cast<unsigned char*>(palloc((size_t)cap * MAX_CONVERSION_GROWTH + 1));
  int i = 0;
  while (i < *len) {
    int chunk = Min(*len - i, cap);
    int used = pg_do_encoding_conversion_buf(proc, enc, PG_UTF8, (unsigned char*)text + i, chunk, buf,
                                             cap * MAX_CONVERSION_GROWTH + 1, true);
    appendStringInfoString(&out, (const char*)buf);
    i += used;
    // Stopped short: at a character cut by the chunk (the next round
    // starts with it whole), or at one it cannot convert (used == 0 then).
    if (used == 0) {
      appendStringInfoChar(&out, '?');
      i += Max(1, Min(pg_encoding_mblen(enc, text + i), *len - i));
    }
  }
  pfree(buf);
  *len = out.len;
  return out.data;
}

// ToServer turns UTF-8 kept in an entry into the current database's
// encoding for output: as it is in a UTF-8 or SQL_ASCII database,
// converted elsewhere, a character the encoding lacks ("日本語" in LATIN1)
// becoming '?' instead of an error.
char* ToServer(const char* utf8) {
  int enc = GetDatabaseEncoding();
  int len = (int)strlen(utf8);
  if (enc == PG_UTF8 || enc == PG_SQL_ASCII) return const_cast<char*>(utf8);
  bool ascii = true;
  for (int i = 0; i < len && ascii; ++i) ascii = (unsigned char)utf8[i] < 0x80;
  if (ascii) return const_cast<char*>(utf8);
  Oid proc = FindDefaultConversionProc(PG_UTF8, enc);
  StringInfoData out;
  initStringInfo(&out);
  int i = 0;
  while (i < len) {
    int n = pg_utf_mblen((const unsigned char*)utf8 + i);
    if (n < 1 || i + n > len) n = 1;
    if (n == 1 || !OidIsValid(proc)) {
      appendStringInfoChar(&out, n == 1 && (unsigned char)utf8[i] < 0x80 ? utf8[i] : '?');
    } else {
      unsigned char buf[32];  // the conversion takes at most (32 - 1) / 4 = 7 input bytes: any character
      int used = pg_do_encoding_conversion_buf(proc, PG_UTF8, enc, (unsigned char*)utf8 + i, n, buf, sizeof(buf), true);
      if (used == n)
        appendStringInfoString(&out, (const char*)buf);
      else
        appendStringInfoChar(&out, '?');
    }
    i += n;
  }
  return out.data;
}

// Normalized runs the core's normaliser on the statement's text. The text
// is read both ways PostgreSQL may have read it when it holds a backslash:
// with standard_conforming_strings on, and off (a backslash escaping in
// plain strings). The setting in force now need not be the one the
// statement was parsed under (SET ... ; in the same query string,
// PREPARE and EXECUTE under different settings), so when the two readings
// differ the text is not kept: a literal could otherwise reach it.
const char* kAmbiguous = "(statement text not kept: its strings read differently with and without "
                         "standard_conforming_strings)";

char* Normalized(const char* raw, int raw_len, char* fingerprint, MemoryContext cxt) {
  int len = raw_len;
  const char* text = Utf8Text(raw, &len);
  bool backslash = memchr(text, '\\', (size_t)len) != nullptr;
  MemoryContext old = MemoryContextSwitchTo(cxt);
  char* out = Run([&] {
    std::string_view sql(text, (size_t)len);
    std::string n = core::text::ValidUtf8Or(core::sql::Normalize(sql, core::Dialect::kPostgres), '?');
    if (backslash && core::sql::Normalize(sql, core::Dialect::kPostgresEscapeStrings) != core::sql::Normalize(sql, core::Dialect::kPostgres))
      n = kAmbiguous;
    std::string fp = core::sql::FingerprintOfNormalized(n);
    memcpy(fingerprint, fp.data(), 16);
    fingerprint[16] = '\0';
    return vigil::pg::CopyCString(mon::ClipQuery(n));
  });
  MemoryContextSwitchTo(old);
  return out;
}

int UseOrder(const void* a, const void* b) {
  uint64 x = *static_cast<const uint64*>(a), y = *static_cast<const uint64*>(b);  // Use.calls is first
  return x < y ? -1 : (x > y ? 1 : 0);
}

void Evict() {
  // Called with the lock held exclusively: the least-called 5 % go.
  long n = hash_get_num_entries(shared_hash);
  if (n <= 0) return;
  struct Use {
    uint64 calls;
    Entry* e;
  };
  Use* all = static_cast<Use*>(palloc(sizeof(Use) * n));
  long i = 0;
  HASH_SEQ_STATUS seq;
  hash_seq_init(&seq, shared_hash);
  Entry* e;
  while ((e = static_cast<Entry*>(hash_seq_search(&seq))) != nullptr && i < n) all[i++] = {e->now.calls + e->now.errors, e};
  pg_qsort(all, i, sizeof(Use), UseOrder);
  long victims = Max(1, i / 20);
  for (long k = 0; k < victims; ++k) hash_search(shared_hash, &all[k].e->key, HASH_REMOVE, nullptr);
  shared->evictions += victims;
  pfree(all);
}

// Origin is the session's application and client address, worked out
// before any lock is taken and copied into entries under their spinlock.
struct Origin {
  char application_name[kNameLen];
  char client_addr[48];
};

void SessionOrigin(Origin* o) {
  strlcpy(o->application_name, application_name != nullptr ? application_name : "", sizeof(o->application_name));
  // The client's address as pg_stat_activity shows it (none for a Unix
  // socket); it does not change during a session.
  static bool known = false;
  static char client[48];
  if (!known) {
    client[0] = '\0';
    if (MyBEEntry != nullptr && MyBEEntry->st_clientaddr.salen > 0) {
      const struct sockaddr_storage* addr = &MyBEEntry->st_clientaddr.addr;
      if (addr->ss_family == AF_INET || addr->ss_family == AF_INET6) {
        char host[NI_MAXHOST];
        host[0] = '\0';
        if (pg_getnameinfo_all(addr, MyBEEntry->st_clientaddr.salen, host, sizeof(host), nullptr, 0,
                               NI_NUMERICHOST) == 0)
          strlcpy(client, host, sizeof(client));
      }
    }
    known = true;
  }
  memcpy(o->client_addr, client, sizeof(o->client_addr));
}

void FillOrigin(Entry* e, const Origin& o) {
  memcpy(e->application_name, o.application_name, sizeof(e->application_name));
  memcpy(e->client_addr, o.client_addr, sizeof(e->client_addr));
}

void Flush() {
  if (local_hash == nullptr || shared == nullptr) return;
  HASH_SEQ_STATUS seq;
  Local* l;
  int missing = 0;
  Origin origin;
  SessionOrigin(&origin);
  LWLockAcquire(shared->lock, LW_SHARED);
  hash_seq_init(&seq, local_hash);
  while ((l = static_cast<Local*>(hash_seq_search(&seq))) != nullptr) {
    if (!l->dirty) continue;
    Entry* e = static_cast<Entry*>(hash_search(shared_hash, &l->key, HASH_FIND, nullptr));
    if (e == nullptr) {
      ++missing;
      continue;
    }
    SpinLockAcquire(&e->mutex);
    e->now.Merge(l->c);
    if (l->c.calls > 0) FillOrigin(e, origin);
    SpinLockRelease(&e->mutex);
    l->c = mon::Counters();
    l->dirty = false;
  }
  LWLockRelease(shared->lock);
  if (missing > 0) {
    LWLockAcquire(shared->lock, LW_EXCLUSIVE);
    hash_seq_init(&seq, local_hash);
    while ((l = static_cast<Local*>(hash_seq_search(&seq))) != nullptr) {
      if (!l->dirty) continue;
      bool found;
      Entry* e = static_cast<Entry*>(hash_search(shared_hash, &l->key, HASH_FIND, &found));
      if (e == nullptr && l->normalized == nullptr) {  // no text to make an entry with: dropped
        l->c = mon::Counters();
        l->dirty = false;
        continue;
      }
      if (e == nullptr) {
        if (hash_get_num_entries(shared_hash) >= max_statements) Evict();
        e = static_cast<Entry*>(hash_search(shared_hash, &l->key, HASH_ENTER_NULL, &found));
        if (e == nullptr) continue;  // shared memory full: stays in the batch
        if (!found) {
          SpinLockInit(&e->mutex);
          e->serial = ++shared->next_serial;  // under the exclusive lock
          e->now = mon::Counters();
          e->at_snapshot = mon::Counters();
          strlcpy(e->fingerprint, l->fingerprint, sizeof(e->fingerprint));
          strlcpy(e->query, l->normalized != nullptr ? l->normalized : "", sizeof(e->query));
          e->application_name[0] = '\0';
          e->client_addr[0] = '\0';
        }
      }
      SpinLockAcquire(&e->mutex);
      e->now.Merge(l->c);
      FillOrigin(e, origin);
      SpinLockRelease(&e->mutex);
      l->c = mon::Counters();
      l->dirty = false;
    }
    LWLockRelease(shared->lock);
  }
  last_flush = GetCurrentTimestamp();
  if (hash_get_num_entries(local_hash) > kLocalMax) {
    hash_destroy(local_hash);
    last_local = nullptr;
    local_hash = nullptr;
    MemoryContextReset(local_cxt);
  }
}

void RecordPendingError();

void FlushAtExit(int, Datum) {
  // Exiting: publish what is left (no error may escape here).
  if (shared == nullptr) return;
  RecordPendingError();
  Flush();
}

// LocalFor finds or makes the batch's entry. A statement without a query
// id (pg_stat_statements, when it runs first, zeroes utility statements'
// ids; compute_query_id = off zeroes all) is keyed by vigil's fingerprint
// instead, normalised at every execution; vigil_query_stats() then shows
// its queryid as NULL.
Local* LocalFor(Key key, const char* text, int len) {
  EnsureLocal();
  if (!exit_registered) {
    before_shmem_exit(FlushAtExit, (Datum)0);
    exit_registered = true;
  }
  if (key.queryid != 0 && last_local != nullptr && memcmp(&last_local->key, &key, sizeof(Key)) == 0 &&
      (last_local->normalized != nullptr || text == nullptr))
    return last_local;
  // The text is worked out before the entry is made (a cancel during the
  // normalising leaves no entry behind), and an entry made without text
  // (an error's, after a flush dropped the batch) gets it from the next
  // execution that has it.
  char* normalized = nullptr;
  char fingerprint[17];
  if (key.queryid == 0) {
    normalized = Normalized(text, len, fingerprint, CurrentMemoryContext);
    key.queryid = Run([&] { return mon::FingerprintKey(std::string_view(fingerprint, 16)); });
  }
  bool found;
  Local* l = static_cast<Local*>(hash_search(local_hash, &key, HASH_FIND, &found));
  if (l == nullptr || (l->normalized == nullptr && text != nullptr)) {
    if (normalized == nullptr && text != nullptr) normalized = Normalized(text, len, fingerprint, CurrentMemoryContext);
    char* kept = normalized != nullptr ? MemoryContextStrdup(local_cxt, normalized) : nullptr;
    if (l == nullptr) {
      l = static_cast<Local*>(hash_search(local_hash, &key, HASH_ENTER, &found));
      l->c = mon::Counters();
      l->dirty = false;
      l->fingerprint[0] = '\0';
    }
    l->normalized = kept;
    if (kept != nullptr) memcpy(l->fingerprint, fingerprint, sizeof(fingerprint));
  }
  last_local = l;
  return l;
}

void StatementText(const char* source, int location, int len, const char** text, int* out_len) {
  if (source == nullptr) {
    *text = "";
    *out_len = 0;
    return;
  }
  if (location >= 0 && location <= (int)strlen(source)) {
    source += location;
    if (len <= 0) len = (int)strlen(source);
  } else {
    len = (int)strlen(source);
  }
  *text = source;
  *out_len = len;
}

void WriteSlow(const Local* l, const char* text, int len, double ms, uint64 rows, int64 now_us) {
  if (slow_ring == nullptr || slow_log_size <= 0) return;
  LWLockAcquire(shared->slow_lock, LW_EXCLUSIVE);
  SlowSlot* s = &slow_ring[shared->slow_next % slow_log_size];
  shared->slow_next++;
  s->at_us = now_us;
  s->duration_ms = ms;
  s->userid = l->key.userid;
  s->dbid = l->key.dbid;
  s->rows = rows;
  strlcpy(s->fingerprint, l->fingerprint, sizeof(s->fingerprint));
  strlcpy(s->application_name, application_name != nullptr ? application_name : "", sizeof(s->application_name));
  int utf8_len = len;
  const char* utf8 = slow_query_literals ? Utf8Text(text, &utf8_len) : nullptr;
  if (utf8 != nullptr && core::text::IsValidUtf8(std::string_view(utf8, (size_t)utf8_len))) {
    int n = Min(utf8_len, (int)mon::kMaxQueryText);
    while (n > 0 && n < utf8_len && ((unsigned char)utf8[n] & 0xC0) == 0x80) --n;  // a character boundary
    memcpy(s->query, utf8, n);
    s->query[n] = '\0';
  } else {
    strlcpy(s->query, l->normalized != nullptr ? l->normalized : "", sizeof(s->query));
  }
  LWLockRelease(shared->slow_lock);
}

void RecordPendingError() {
  if (!pending_error.set) return;
  pending_error.set = false;
  Local* l = LocalFor(pending_error.key, nullptr, 0);
  l->c.AddError(UnixUs(GetCurrentTimestamp()));
  l->dirty = true;
}

void Record(uint64 queryid, const char* source, int location, int len, uint64 ns, uint64 rows) {
  if (shared == nullptr) return;
  RecordPendingError();
  const char* text;
  int text_len;
  StatementText(source, location, len, &text, &text_len);
  Key key = {GetUserId(), MyDatabaseId, queryid};
  Local* l = LocalFor(key, text, text_len);
  TimestampTz now = GetCurrentTimestamp();
  int64 now_us = UnixUs(now);
  l->c.Add(ns, rows, now_us);
  l->dirty = true;
  if (slow_query_ms >= 0 && ns >= (uint64)slow_query_ms * 1000000)
    WriteSlow(l, text, text_len, (double)ns / 1e6, rows, now_us);
  if (TimestampDifferenceExceeds(last_flush, now, kFlushMs) || hash_get_num_entries(local_hash) >= kLocalMax) Flush();
}

// NoteError remembers a failure; a statement without a key (the core
// computes no query id: compute_query_id = off) is not counted.
void NoteError(uint64 queryid) {
  if (shared == nullptr || queryid == 0) return;
  if (pending_error.set) return;  // one statement fails at a time; the first is kept
  pending_error.set = true;
  pending_error.key = {GetUserId(), MyDatabaseId, queryid};
}

bool suspended = false;  // vigil's own worker: its statements are not the users'
// A top-level statement of the session. Not one run while the user id is
// switched (a SECURITY DEFINER function, a maintenance command running as a
// table's owner): such a statement, a deferred trigger's at commit say,
// would otherwise count as its definer's, and vigil_index_advice() plans a
// role's own statements with that role's rights.
bool Tracked() {
  return nesting == 0 && track_statements && shared != nullptr && !suspended && !IsParallelWorker() &&
         !InLocalUserIdChange() && !InSecurityRestrictedOperation();
}

// ---- hooks ----------------------------------------------------------------

void MonStart(QueryDesc* q, int eflags) {
  volatile bool top = Tracked() && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0;
  if (top) {
    if (pending_error.set) RecordPendingError();
    // The batch's entry (with its text) exists from the start, so a
    // statement that fails before it ever completes is counted too.
    const char* text;
    int text_len;
    StatementText(q->sourceText, q->plannedstmt->stmt_location, q->plannedstmt->stmt_len, &text, &text_len);
    (void)LocalFor({GetUserId(), MyDatabaseId, q->plannedstmt->queryId}, text, text_len);
  }
  // An error while starting (permission denied, say) counts as the
  // statement's error too.
  PG_TRY();
  {
    if (prev_start)
      prev_start(q, eflags);
    else
      standard_ExecutorStart(q, eflags);
  }
  PG_CATCH();
  {
    if (top) NoteError(q->plannedstmt->queryId);
    PG_RE_THROW();
  }
  PG_END_TRY();
  if (Tracked() && (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && q->totaltime == nullptr) {
    MemoryContext old = MemoryContextSwitchTo(q->estate->es_query_cxt);
    q->totaltime = InstrAlloc(1, INSTRUMENT_TIMER, false);
    MemoryContextSwitchTo(old);
  }
}

void MonRun(QueryDesc* q, ScanDirection direction, uint64 count, bool execute_once) {
  volatile bool top = Tracked();
  nesting++;
  PG_TRY();
  {
    if (prev_run)
      prev_run(q, direction, count, execute_once);
    else
      standard_ExecutorRun(q, direction, count, execute_once);
  }
  PG_CATCH();
  {
    nesting--;
    if (top) NoteError(q->plannedstmt->queryId);
    PG_RE_THROW();
  }
  PG_END_TRY();
  nesting--;
}

void MonFinish(QueryDesc* q) {
  volatile bool top = Tracked();
  nesting++;
  PG_TRY();
  {
    if (prev_finish)
      prev_finish(q);
    else
      standard_ExecutorFinish(q);
  }
  PG_CATCH();
  {
    nesting--;
    if (top) NoteError(q->plannedstmt->queryId);
    PG_RE_THROW();
  }
  PG_END_TRY();
  nesting--;
}

void MonEnd(QueryDesc* q) {
  uint64 queryid = q->plannedstmt->queryId;
  if (q->totaltime != nullptr && Tracked()) {
    InstrEndLoop(q->totaltime);
    Record(queryid, q->sourceText, q->plannedstmt->stmt_location, q->plannedstmt->stmt_len,
           (uint64)(q->totaltime->total * 1e9), q->estate->es_processed);
  }
  if (prev_end)
    prev_end(q);
  else
    standard_ExecutorEnd(q);
}

// Planning is a level too: what it runs (an immutable function folded
// while planning) is not a top-level statement.
PlannedStmt* MonPlanner(Query* parse, const char* query_string, int cursor_options, ParamListInfo params) {
  PlannedStmt* result;
  nesting++;
  PG_TRY();
  {
    result = prev_planner != nullptr ? prev_planner(parse, query_string, cursor_options, params)
                                     : standard_planner(parse, query_string, cursor_options, params);
  }
  PG_FINALLY();
  {
    nesting--;
  }
  PG_END_TRY();
  return result;
}

void MonUtility(PlannedStmt* pstmt, const char* query, bool read_only, ProcessUtilityContext context,
                ParamListInfo params, QueryEnvironment* env, DestReceiver* dest, QueryCompletion* qc) {
  Node* stmt = pstmt->utilityStmt;
  volatile uint64 queryid = pstmt->queryId;
  // EXECUTE is counted as the statement it runs; PREPARE and DEALLOCATE are
  // not statements of their own (pg_stat_statements' rule): they pass
  // through at the same level. Every other utility statement is a level:
  // what it runs (an extension's script, a procedure's statements) is
  // nested in it.
  if (shared == nullptr || !track_statements || suspended || IsParallelWorker() || IsA(stmt, ExecuteStmt) || IsA(stmt, PrepareStmt) ||
      IsA(stmt, DeallocateStmt)) {
    if (prev_utility)
      prev_utility(pstmt, query, read_only, context, params, env, dest, qc);
    else
      standard_ProcessUtility(pstmt, query, read_only, context, params, env, dest, qc);
    return;
  }
  volatile bool top = Tracked();
  if (top && pending_error.set) RecordPendingError();
  // A utility statement is keyed by vigil's fingerprint, not by the core's
  // query id (a hash of its whole text in PostgreSQL 15): SET
  // application_name = 'x1', 'x2', ... are one entry, not one each. The
  // key is made now, before it runs, so that its failure has one too.
  if (top) {
    const char* text;
    int text_len;
    StatementText(query, pstmt->stmt_location, pstmt->stmt_len, &text, &text_len);
    queryid = LocalFor({GetUserId(), MyDatabaseId, 0}, text, text_len)->key.queryid;
  }
  instr_time start;
  INSTR_TIME_SET_CURRENT(start);
  nesting++;
  PG_TRY();
  {
    if (prev_utility)
      prev_utility(pstmt, query, read_only, context, params, env, dest, qc);
    else
      standard_ProcessUtility(pstmt, query, read_only, context, params, env, dest, qc);
  }
  PG_CATCH();
  {
    nesting--;
    if (top) NoteError(queryid);
    PG_RE_THROW();
  }
  PG_END_TRY();
  nesting--;
  if (!top) return;
  instr_time duration;
  INSTR_TIME_SET_CURRENT(duration);
  INSTR_TIME_SUBTRACT(duration, start);
  uint64 rows = (qc != nullptr && (qc->commandTag == CMDTAG_COPY || qc->commandTag == CMDTAG_FETCH ||
                                   qc->commandTag == CMDTAG_SELECT || qc->commandTag == CMDTAG_REFRESH_MATERIALIZED_VIEW))
                    ? qc->nprocessed
                    : 0;
  Record(queryid, query, pstmt->stmt_location, pstmt->stmt_len, (uint64)(INSTR_TIME_GET_DOUBLE(duration) * 1e9), rows);
}

// ---- reading --------------------------------------------------------------

void RequirePreload() {
  if (shared == nullptr)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("statement monitoring needs vigil in shared_preload_libraries"),
                    errhint("Add vigil to shared_preload_libraries in postgresql.conf and restart the server "
                            "(docs/monitoring.md).")));
}

// QueryIdText is a key's query id as 16 hex digits (static buffer), to
// compare with the fingerprint.
const char* QueryIdText(uint64 id) {
  static char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)id);
  return buf;
}

bool SeesAll() { return has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS); }

double Ms(uint64 ns) { return (double)ns / 1e6; }

Datum TimestampOf(int64 unix_us) {
  return TimestampTzGetDatum((TimestampTz)(unix_us - (int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY *
                                                         USECS_PER_SEC));
}

Datum NameOrNull(const char* s, bool* isnull) {
  if (s == nullptr || s[0] == '\0') {
    *isnull = true;
    return (Datum)0;
  }
  return CStringGetTextDatum(s);
}

const char* kHidden = "<insufficient privilege>";

// Database name of the history: vigil.database.
const char* HistoryDatabase() {
  const char* db = GetConfigOption("vigil.database", true, false);
  return db != nullptr ? db : "postgres";
}

bool HistoryHere() {
  const char* here = get_database_name(MyDatabaseId);
  return here != nullptr && strcmp(here, HistoryDatabase()) == 0;
}

Oid HistoryTable() {
  Oid nsp = get_namespace_oid(vigil::pg::kStateSchema, true);
  return OidIsValid(nsp) ? get_relname_relid("vigil_query_history", nsp) : InvalidOid;
}

}  // namespace

void vigil::pg::DefineMonitorSettings() {
  auto key = [](const char* k) { return Run([&] { return &core::FindConfig(k); }); };
  const core::ConfigKey* k = key("slow_query_ms");
  DefineCustomIntVariable("vigil.slow_query_ms", k->description, nullptr, &slow_query_ms, 1000, -1, 86400000,
                          PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("vigil.track_statements",
                           "Count statements in statement monitoring (off: the hooks pass statements through).",
                           nullptr, &track_statements, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("vigil.slow_query_literals",
                           "Keep the slow-query log's statements with their constants (off: normalised).", nullptr,
                           &slow_query_literals, false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  k = key("snapshot_interval");
  DefineCustomIntVariable("vigil.snapshot_interval", k->description, nullptr, &snapshot_interval_s, 600, 0, 86400,
                          PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
  k = key("history_days");
  DefineCustomIntVariable("vigil.history_days", k->description, nullptr, &history_days, 7, 1, 3650, PGC_SIGHUP, 0,
                          nullptr, nullptr, nullptr);
  if (!process_shared_preload_libraries_in_progress) return;
  k = key("max_statements");
  DefineCustomIntVariable("vigil.max_statements", k->description, nullptr, &max_statements, 5000, 100, 1000000,
                          PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
  k = key("slow_query_log_size");
  DefineCustomIntVariable("vigil.slow_query_log_size", k->description, nullptr, &slow_log_size, 1000, 10, 1000000,
                          PGC_POSTMASTER, 0, nullptr, nullptr, nullptr);
}

void vigil::pg::InstallMonitor() {
  EnableQueryId();
  // A new statement shape is fingerprinted with SHA-256 (the OpenSSL
  // companion). Loaded here, in the postmaster, every backend inherits it
  // instead of each paying the load (about 10 M instructions,
  // docs/performance.md) on its first statement. A missing companion stops
  // the server here with the reason, not every statement later.
  (void)Run([] { return core::sql::Fingerprint("select 1", core::Dialect::kPostgres).size(); });
  prev_shmem_request = shmem_request_hook;
  shmem_request_hook = ShmemRequest;
  prev_shmem_startup = shmem_startup_hook;
  shmem_startup_hook = ShmemStartup;
  prev_start = ExecutorStart_hook;
  ExecutorStart_hook = MonStart;
  prev_run = ExecutorRun_hook;
  ExecutorRun_hook = MonRun;
  prev_finish = ExecutorFinish_hook;
  ExecutorFinish_hook = MonFinish;
  prev_end = ExecutorEnd_hook;
  ExecutorEnd_hook = MonEnd;
  prev_utility = ProcessUtility_hook;
  ProcessUtility_hook = MonUtility;
  prev_planner = planner_hook;
  planner_hook = MonPlanner;
  installed = true;
}

bool vigil::pg::MonitorRunning() noexcept { return shared != nullptr; }

void vigil::pg::SuspendMonitoring() noexcept { suspended = true; }

// vigil_query_stats(): one row per entry the caller may see.
VIGIL_PG_FUNCTION(vigil_query_stats) {
  RequirePreload();
  RecordPendingError();
  Flush();
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  bool all = SeesAll();
  Oid me = GetUserId();
  // Copied under the lock (what a flush changes under the entry's
  // spinlock; key, fingerprint and text never change while the entry
  // lives), then turned into rows with the lock released: catalog lookups
  // and the tuplestore never run under it.
  struct Row {
    Key key;
    char fingerprint[17];
    char application_name[kNameLen];
    char client_addr[48];
    char query[mon::kMaxQueryText + 1];
    mon::Counters now;
  };
  long count = 0, capacity = 64;
  Row* rows = static_cast<Row*>(palloc(sizeof(Row) * capacity));
  LWLockAcquire(shared->lock, LW_SHARED);
  HASH_SEQ_STATUS seq;
  hash_seq_init(&seq, shared_hash);
  Entry* e;
  while ((e = static_cast<Entry*>(hash_seq_search(&seq))) != nullptr) {
    if (count == capacity) {
      capacity *= 2;
      rows = static_cast<Row*>(repalloc_huge(rows, sizeof(Row) * capacity));
    }
    Row* r = &rows[count++];
    SpinLockAcquire(&e->mutex);
    r->now = e->now;
    memcpy(r->application_name, e->application_name, sizeof(r->application_name));
    memcpy(r->client_addr, e->client_addr, sizeof(r->client_addr));
    SpinLockRelease(&e->mutex);
    r->key = e->key;
    memcpy(r->fingerprint, e->fingerprint, sizeof(r->fingerprint));
    memcpy(r->query, e->query, sizeof(r->query));
  }
  LWLockRelease(shared->lock);
  for (long i = 0; i < count; ++i) {
    const Row* r = &rows[i];
    // Another role's statement shows its counts and no more: not its text,
    // query id or origin, and not its fingerprint either (a hash of the
    // normalised text, which would confirm a guess at it).
    bool visible = all || r->key.userid == me;
    Datum v[20];
    bool n[20];
    memset(n, 0, sizeof(n));
    const mon::Counters& c = r->now;
    v[0] = NameOrNull(visible ? r->fingerprint : nullptr, &n[0]);
    v[1] = CStringGetTextDatum(visible ? ToServer(r->query) : kHidden);
    v[2] = Int64GetDatum((int64)c.calls);
    v[3] = Int64GetDatum((int64)c.errors);
    v[4] = Int64GetDatum((int64)c.rows);
    v[5] = Float8GetDatum(c.TotalMs());
    v[6] = Float8GetDatum(c.MeanMs());
    v[7] = Float8GetDatum(Ms(c.min_ns));
    v[8] = Float8GetDatum(Ms(c.max_ns));
    v[9] = Float8GetDatum(c.StddevMs());
    v[10] = Float8GetDatum(c.PercentileMs(0.5));
    v[11] = Float8GetDatum(c.PercentileMs(0.95));
    v[12] = Float8GetDatum(c.PercentileMs(0.99));
    v[13] = TimestampOf(c.first_us);
    v[14] = TimestampOf(c.last_us);
    // A key made from the fingerprint is not PostgreSQL's query id.
    if (visible && strcmp(r->fingerprint, QueryIdText(r->key.queryid)) != 0)
      v[15] = Int64GetDatum((int64)r->key.queryid);
    else
      n[15] = true;
    v[16] = NameOrNull(GetUserNameFromId(r->key.userid, true), &n[16]);
    v[17] = NameOrNull(get_database_name(r->key.dbid), &n[17]);
    v[18] = NameOrNull(visible ? r->application_name : nullptr, &n[18]);
    v[19] = NameOrNull(visible ? r->client_addr : nullptr, &n[19]);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
  }
  return (Datum)0;
}

// vigil_slow_queries(limit): the newest slow executions the caller may see.
VIGIL_PG_FUNCTION(vigil_slow_queries) {
  int64 limit = PG_ARGISNULL(0) ? 100 : PG_GETARG_INT32(0);
  if (limit < 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("limit must be a non-negative integer")));
  RequirePreload();
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  bool all = SeesAll();
  Oid me = GetUserId();
  // The visible slots copied under the lock, rows made after it.
  long count = 0, capacity = 16;
  SlowSlot* slots = static_cast<SlowSlot*>(palloc(sizeof(SlowSlot) * capacity));
  LWLockAcquire(shared->slow_lock, LW_SHARED);
  int64 next = shared->slow_next;
  int64 oldest = Max(0, next - slow_log_size);
  for (int64 i = next - 1; i >= oldest && count < limit; --i) {
    const SlowSlot* slot = &slow_ring[i % slow_log_size];
    if (!all && slot->userid != me) continue;
    if (count == capacity) {
      capacity *= 2;
      slots = static_cast<SlowSlot*>(repalloc_huge(slots, sizeof(SlowSlot) * capacity));
    }
    memcpy(&slots[count++], slot, sizeof(SlowSlot));
  }
  LWLockRelease(shared->slow_lock);
  for (long k = 0; k < count; ++k) {
    const SlowSlot* copy = &slots[k];
    Datum v[8];
    bool n[8];
    memset(n, 0, sizeof(n));
    v[0] = TimestampOf(copy->at_us);
    v[1] = Float8GetDatum(copy->duration_ms);
    v[2] = CStringGetTextDatum(copy->fingerprint);
    v[3] = CStringGetTextDatum(ToServer(copy->query));
    v[4] = Int64GetDatum((int64)copy->rows);
    v[5] = NameOrNull(GetUserNameFromId(copy->userid, true), &n[5]);
    v[6] = NameOrNull(get_database_name(copy->dbid), &n[6]);
    v[7] = NameOrNull(copy->application_name, &n[7]);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
  }
  return (Datum)0;
}

int vigil::pg::SlowQueryMs() noexcept { return slow_query_ms; }
int vigil::pg::HistoryDays() noexcept { return history_days; }

// SlowExecutionsSince: the slow executions of the last window_us the
// caller may see (the health check slow_queries); -1 when monitoring is
// not running.
long vigil::pg::SlowExecutionsSince(int64 window_us) {
  if (shared == nullptr || slow_ring == nullptr || slow_log_size <= 0) return -1;
  int64 now_us = GetCurrentTimestamp() + (int64)(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC;
  int64 since = now_us - window_us;
  bool all = SeesAll();
  Oid me = GetUserId();
  long count = 0;
  LWLockAcquire(shared->slow_lock, LW_SHARED);
  int64 next = shared->slow_next;
  int64 oldest = Max(0, next - slow_log_size);
  for (int64 i = next - 1; i >= oldest; --i) {
    const SlowSlot* slot = &slow_ring[i % slow_log_size];
    if (slot->at_us < since) break;  // the ring is in time order
    if (all || slot->userid == me) ++count;
  }
  LWLockRelease(shared->slow_lock);
  return count;
}

namespace {

// Live intervals: each visible entry's counts since the last snapshot,
// collected into the core's input (engine code fills plain arrays first).
struct LiveRow {
  Key key;
  uint64 serial;
  char fingerprint[17];
  char query[mon::kMaxQueryText + 1];
  mon::Counters now;
  mon::Counters delta;
};

// CollectLive copies the entries (the caller's, or all) that gathered
// counts since the last snapshot; the rest are not copied at all.
LiveRow* CollectLive(bool all, long* count) {
  long capacity = 64;
  LiveRow* rows = static_cast<LiveRow*>(palloc(sizeof(LiveRow) * capacity));
  long i = 0;
  Oid me = GetUserId();
  LWLockAcquire(shared->lock, LW_SHARED);
  HASH_SEQ_STATUS seq;
  hash_seq_init(&seq, shared_hash);
  Entry* e;
  while ((e = static_cast<Entry*>(hash_seq_search(&seq))) != nullptr) {
    if (!all && e->key.userid != me) continue;
    if (i == capacity) {  // grown here, never under the spinlock
      capacity *= 2;
      rows = static_cast<LiveRow*>(repalloc_huge(rows, sizeof(LiveRow) * capacity));
    }
    LiveRow* r = &rows[i];
    SpinLockAcquire(&e->mutex);
    r->delta = mon::Delta(e->now, e->at_snapshot);
    bool moved = r->delta.calls > 0 || r->delta.errors > 0;
    if (moved) r->now = e->now;
    SpinLockRelease(&e->mutex);
    if (!moved) continue;
    r->key = e->key;  // key, serial, fingerprint and text never change while the entry lives
    r->serial = e->serial;
    memcpy(r->fingerprint, e->fingerprint, sizeof(r->fingerprint));
    memcpy(r->query, e->query, sizeof(r->query));
    ++i;
  }
  LWLockRelease(shared->lock);
  *count = i;
  return rows;
}

}  // namespace

// vigil_performance_report(hours): history (in vigil.database) plus live
// counters since the last snapshot.
VIGIL_PG_FUNCTION(vigil_performance_report) {
  int32 hours = PG_GETARG_INT32(0);
  if (hours <= 0 || hours > 87600)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("hours must be more than 0 and at most 87600"),
                    errhint("vigil_performance_report(24) reports the last day.")));
  RequirePreload();
  Flush();
  bool all = SeesAll();
  long nlive = 0;
  LiveRow* live = CollectLive(all, &nlive);
  int64 now_us = UnixUs(GetCurrentTimestamp());
  // The result is made in the caller's memory: SPI's goes at SPI_finish.
  MemoryContext caller = CurrentMemoryContext;
  // History rows through SPI, as vigil_state's owner (the caller may not
  // read the table), filtered to what the caller may see.
  long nhist = 0;
  SPITupleTable* hist = nullptr;
  bool here = HistoryHere() && OidIsValid(HistoryTable());
  if (here) {
    vigil::pg::State state = vigil::pg::CurrentState();
    char* me = GetUserNameFromId(GetUserId(), false);
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
    vigil::pg::AsRole as;
    vigil::pg::BeginAs(&as, state.owner, nullptr);
    Oid types[3] = {INT4OID, TEXTOID, BOOLOID};
    Datum args[3] = {Int32GetDatum(hours), CStringGetTextDatum(me), BoolGetDatum(all)};
    if (SPI_execute_with_args(
            "SELECT (extract(epoch FROM at) OPERATOR(pg_catalog.*) 1000000)::pg_catalog.int8, fingerprint, query, calls,"
            " errors, rows, total_ms, max_ms, histogram, epoch FROM vigil_state.vigil_query_history"
            " WHERE at OPERATOR(pg_catalog.>) (pg_catalog.now() OPERATOR(pg_catalog.-)"
            " pg_catalog.make_interval(hours => $1)) AND ($3 OR username OPERATOR(pg_catalog.=) $2) ORDER BY at",
            3, types, args, nullptr, true, 0) != SPI_OK_SELECT)
      elog(ERROR, "reading vigil_query_history failed");
    vigil::pg::EndAs(&as);
    hist = SPI_tuptable;
    nhist = (long)SPI_processed;
  }
  // Plain copies for phase 2.
  struct HistRow {
    int64 at_us;
    char* fingerprint;
    char* query;
    int64 calls, errors, rows;
    double total_ms, max_ms;
    char* histogram;
    char* epoch;
  };
  HistRow* rows = static_cast<HistRow*>(palloc0(sizeof(HistRow) * Max(nhist, 1)));
  for (long i = 0; i < nhist; ++i) {
    HeapTuple t = hist->vals[i];
    TupleDesc d = hist->tupdesc;
    bool isnull;
    rows[i].at_us = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
    rows[i].fingerprint = SPI_getvalue(t, d, 2);
    rows[i].query = SPI_getvalue(t, d, 3);
    rows[i].calls = DatumGetInt64(SPI_getbinval(t, d, 4, &isnull));
    rows[i].errors = DatumGetInt64(SPI_getbinval(t, d, 5, &isnull));
    rows[i].rows = DatumGetInt64(SPI_getbinval(t, d, 6, &isnull));
    rows[i].total_ms = DatumGetFloat8(SPI_getbinval(t, d, 7, &isnull));
    rows[i].max_ms = DatumGetFloat8(SPI_getbinval(t, d, 8, &isnull));
    rows[i].histogram = SPI_getvalue(t, d, 9);
    rows[i].epoch = SPI_getvalue(t, d, 10);
  }
  Oid me_id = GetUserId();
  char* history_db = pstrdup(HistoryDatabase());
  int64 epoch_us = shared->epoch_us;
  long slow_ms = slow_query_ms;
  char* result = Run([&] {
    mon::ReportInput in;
    in.hours = hours;
    in.now_us = now_us;
    in.slow_query_ms = slow_ms;
    std::string epoch = mon::UtcText(epoch_us);
    for (long i = 0; i < nhist; ++i) {
      core::PollCancel();
      mon::Interval iv;
      iv.at_us = rows[i].at_us;
      iv.fingerprint = rows[i].fingerprint ? rows[i].fingerprint : "";
      iv.query = rows[i].query ? rows[i].query : "";
      iv.calls = (uint64)std::max<int64>(0, rows[i].calls);
      iv.errors = (uint64)std::max<int64>(0, rows[i].errors);
      iv.rows = (uint64)std::max<int64>(0, rows[i].rows);
      iv.total_ms = rows[i].total_ms;
      iv.max_ms = rows[i].max_ms;
      iv.histogram = rows[i].histogram ? rows[i].histogram : "";
      iv.epoch = rows[i].epoch ? rows[i].epoch : "";
      in.intervals.push_back(std::move(iv));
    }
    for (long i = 0; i < nlive; ++i) {
      const LiveRow& l = live[i];
      mon::Interval iv;
      iv.at_us = now_us;
      iv.fingerprint = l.fingerprint;
      iv.query = (all || l.key.userid == me_id) ? l.query : kHidden;
      iv.calls = l.delta.calls;
      iv.errors = l.delta.errors;
      iv.rows = l.delta.rows;
      iv.total_ms = l.delta.TotalMs();
      iv.max_ms = Ms(l.delta.max_ns);
      iv.histogram = mon::EncodeHistogram(l.delta.hist);
      iv.epoch = epoch;
      in.intervals.push_back(std::move(iv));
    }
    nlohmann::json report = nlohmann::json::parse(mon::PerformanceReport(in));
    report["history"] = here ? nlohmann::json("kept in this database")
                             : nlohmann::json(std::string("kept in database ") + history_db +
                                              " (vigil.database): only live counters here");
    report["stats_since"] = epoch;
    std::string json = report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    char* out = static_cast<char*>(vigil::pg::AllocNoThrowIn(caller, json.size() + 1));
    memcpy(out, json.c_str(), json.size() + 1);
    return out;
  });
  if (here) SPI_finish();
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(ToServer(result))));
}

namespace {

// TakeSnapshot writes every entry's counts since the last snapshot to
// vigil_state.vigil_query_history (in the current transaction, as
// vigil_state's owner), then moves the entries' snapshot marks. Returns
// the number of rows written.
// The snapshot marks wait for the transaction that wrote the rows: moved
// at its commit (before its locks go, so the next snapshot, waiting on the
// table's lock, counts from them), dropped if it or the subtransaction that
// took the snapshot rolls back (the counts then stay live for the next).
struct Mark {
  Key key;
  uint64 serial;  // the entry the counts were read from: not one made since (reset, eviction)
  mon::Counters now;
};
Mark* pending_marks = nullptr;  // TopMemoryContext
long pending_count = 0;
SubTransactionId pending_subxact = InvalidSubTransactionId;
bool callbacks_registered = false;

void DropMarks() {
  if (pending_marks != nullptr) pfree(pending_marks);
  pending_marks = nullptr;
  pending_count = 0;
  pending_subxact = InvalidSubTransactionId;
}

void ApplyMarks() {
  if (shared == nullptr) return;
  LWLockAcquire(shared->lock, LW_SHARED);
  for (long i = 0; i < pending_count; ++i) {
    Entry* e = static_cast<Entry*>(hash_search(shared_hash, &pending_marks[i].key, HASH_FIND, nullptr));
    if (e == nullptr || e->serial != pending_marks[i].serial) continue;
    SpinLockAcquire(&e->mutex);
    e->at_snapshot = pending_marks[i].now;
    e->now.window_max_ns = 0;
    SpinLockRelease(&e->mutex);
  }
  LWLockRelease(shared->lock);
}

void MarksAtXactEnd(XactEvent event, void*) {
  if (pending_marks == nullptr) return;
  // A prepared transaction would keep the history's lock across restarts,
  // and whether its rows commit is decided elsewhere.
  if (event == XACT_EVENT_PRE_PREPARE)
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("cannot PREPARE a transaction that took a statement snapshot")));
  if (event == XACT_EVENT_COMMIT) ApplyMarks();
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE) DropMarks();
}

void MarksAtSubXactEnd(SubXactEvent event, SubTransactionId sub, SubTransactionId parent, void*) {
  if (pending_marks == nullptr || sub != pending_subxact) return;
  if (event == SUBXACT_EVENT_ABORT_SUB) DropMarks();
  if (event == SUBXACT_EVENT_COMMIT_SUB) pending_subxact = parent;
}

// TakeSnapshot returns the rows written, or -1 when `wait` is false and
// another transaction holds the history's lock (the worker tries again next
// round rather than queue behind, say, a session idle in a transaction
// that called vigil_snapshot(), with the audit sealing waiting behind it).
long TakeSnapshot(bool wait) {
  if (pending_marks != nullptr)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("a statement snapshot was already taken in this transaction"),
                    errhint("Commit it first: each snapshot counts from the one before.")));
  if (!callbacks_registered) {
    RegisterXactCallback(MarksAtXactEnd, nullptr);
    RegisterSubXactCallback(MarksAtSubXactEnd, nullptr);
    callbacks_registered = true;
  }
  vigil::pg::State state = vigil::pg::CurrentState();
  MemoryContext caller = CurrentMemoryContext;
  // One snapshot at a time (the worker and vigil_snapshot()), and the
  // counters read once the lock is held: a snapshot that waited for
  // another counts from the marks that one's commit moved. The lock is
  // vigil's own, taken in C: no privilege on the table is asked of anyone.
  Oid history = HistoryTable();
  if (!OidIsValid(history))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("vigil_query_history does not exist"),
                    errhint("ALTER EXTENSION vigil UPDATE.")));
  if (wait)
    LockRelationOid(history, ShareRowExclusiveLock);
  else if (!ConditionalLockRelationOid(history, ShareRowExclusiveLock))
    return -1;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole as;
  vigil::pg::BeginAs(&as, state.owner, nullptr);
  long nlive = 0;
  MemoryContext spi = MemoryContextSwitchTo(caller);
  LiveRow* live = CollectLive(true, &nlive);
  MemoryContextSwitchTo(spi);
  Oid types[12] = {TEXTOID, TEXTOID, INT8OID, INT8OID, INT8OID, FLOAT8OID,
                   FLOAT8OID, TEXTOID, TEXTOID, INT8OID, TEXTOID, TEXTOID};
  SPIPlanPtr plan = SPI_prepare(
      "INSERT INTO vigil_state.vigil_query_history (at, source, fingerprint, query, calls, errors, rows, total_ms,"
      " max_ms, histogram, epoch, queryid, username, database) VALUES (pg_catalog.now(), 'server', $1, $2, $3, $4,"
      " $5, $6, $7, $8, $9, $10, $11, $12)",
      12, types);
  if (plan == nullptr) elog(ERROR, "preparing the snapshot failed");
  int64 epoch_us = shared->epoch_us;
  char* epoch = Run([&] { return vigil::pg::CopyCString(mon::UtcText(epoch_us)); });
  for (long i = 0; i < nlive; ++i) {
    LiveRow& l = live[i];
    char* histogram = Run([&] { return vigil::pg::CopyCString(mon::EncodeHistogram(l.delta.hist)); });
    Datum v[12];
    char nulls[12];
    memset(nulls, ' ', sizeof(nulls));
    v[0] = CStringGetTextDatum(l.fingerprint);
    v[1] = CStringGetTextDatum(ToServer(l.query));
    v[2] = Int64GetDatum((int64)l.delta.calls);
    v[3] = Int64GetDatum((int64)l.delta.errors);
    v[4] = Int64GetDatum((int64)l.delta.rows);
    v[5] = Float8GetDatum(l.delta.TotalMs());
    v[6] = Float8GetDatum(Ms(l.delta.max_ns));
    v[7] = CStringGetTextDatum(histogram);
    v[8] = CStringGetTextDatum(epoch);
    v[9] = Int64GetDatum((int64)l.key.queryid);
    const char* user = GetUserNameFromId(l.key.userid, true);
    if (user != nullptr) v[10] = CStringGetTextDatum(user); else nulls[10] = 'n';
    const char* db = get_database_name(l.key.dbid);
    if (db != nullptr) v[11] = CStringGetTextDatum(db); else nulls[11] = 'n';
    if (SPI_execute_plan(plan, v, nulls, false, 0) != SPI_OK_INSERT) elog(ERROR, "writing vigil_query_history failed");
  }
  Datum days = Int32GetDatum(history_days);
  Oid dtype = INT4OID;
  if (SPI_execute_with_args("DELETE FROM vigil_state.vigil_query_history WHERE at OPERATOR(pg_catalog.<) (pg_catalog.now()"
                            " OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => $1))",
                            1, &dtype, &days, nullptr, false, 0) != SPI_OK_DELETE)
    elog(ERROR, "trimming vigil_query_history failed");
  vigil::pg::EndAs(&as);
  SPI_finish();
  // Written: the marks move when this transaction commits.
  pending_marks = static_cast<Mark*>(MemoryContextAllocHuge(TopMemoryContext, sizeof(Mark) * Max(nlive, 1)));
  for (long i = 0; i < nlive; ++i) {
    pending_marks[i].key = live[i].key;
    pending_marks[i].serial = live[i].serial;
    pending_marks[i].now = live[i].now;
  }
  pending_count = nlive;
  pending_subxact = GetCurrentSubTransactionId();
  return nlive;
}

TimestampTz last_snapshot = 0;

}  // namespace

// The worker's task: a snapshot every vigil.snapshot_interval, in
// vigil.database, when vigil's history table is there.
void vigil::pg::SnapshotFromWorker() {
  if (shared == nullptr || snapshot_interval_s <= 0 || RecoveryInProgress()) return;
  TimestampTz now = GetCurrentTimestamp();
  if (last_snapshot != 0 && !TimestampDifferenceExceeds(last_snapshot, now, snapshot_interval_s * 1000)) return;
  if (!OidIsValid(HistoryTable())) return;
  if (TakeSnapshot(false) >= 0) last_snapshot = now;  // else the lock is held: next round
}

// vigil_snapshot(): a snapshot now (in vigil.database only, so that one
// table holds the whole history).
VIGIL_PG_FUNCTION(vigil_snapshot) {
  RequirePreload();
  if (!HistoryHere())
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("the statement history is kept in database \"%s\" (vigil.database)", HistoryDatabase()),
                    errhint("Call vigil_snapshot() there, or set vigil.database.")));
  if (!OidIsValid(HistoryTable()))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("vigil_query_history does not exist"),
                    errhint("ALTER EXTENSION vigil UPDATE.")));
  RecordPendingError();
  Flush();
  long n = TakeSnapshot(true);
  char buf[128];
  snprintf(buf, sizeof(buf), "{\"statements\": %ld, \"source\": \"server\"}", n);
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf)));
}

// vigil_query_stats_reset(): forgets every entry and the slow-query log; a
// new epoch starts (the history keeps what it has).
VIGIL_PG_FUNCTION(vigil_query_stats_reset) {
  RequirePreload();
  if (local_hash != nullptr) {
    hash_destroy(local_hash);
    last_local = nullptr;
    local_hash = nullptr;
    MemoryContextReset(local_cxt);
  }
  LWLockAcquire(shared->lock, LW_EXCLUSIVE);
  HASH_SEQ_STATUS seq;
  hash_seq_init(&seq, shared_hash);
  Entry* e;
  while ((e = static_cast<Entry*>(hash_seq_search(&seq))) != nullptr) hash_search(shared_hash, &e->key, HASH_REMOVE, nullptr);
  shared->epoch_us = UnixUs(GetCurrentTimestamp());
  shared->evictions = 0;
  LWLockRelease(shared->lock);
  LWLockAcquire(shared->slow_lock, LW_EXCLUSIVE);
  shared->slow_next = 0;
  LWLockRelease(shared->slow_lock);
  PG_RETURN_VOID();
}

// HeaviestStatements: the caller's own n statements in this database with
// the most total time, as vigil_index_advice's input. Never another role's,
// even for pg_read_all_stats: planning folds immutable functions as the
// caller, so a statement another role ran (SELECT its_function()) must not
// be planned with the caller's rights.
// [{"sql", "calls", "total_ms"}], "?" placeholders numbered $1, $2, ...
// Returns NULL when monitoring is not running.
char* vigil::pg::HeaviestStatements(int n) {
  if (shared == nullptr) return nullptr;
  Flush();
  struct Mine {
    uint64 total_ns;
    uint64 calls;
    char query[mon::kMaxQueryText + 1];
  };
  long count = 0, capacity = 16;
  Mine* mine = static_cast<Mine*>(palloc(sizeof(Mine) * capacity));
  Oid me = GetUserId();
  LWLockAcquire(shared->lock, LW_SHARED);
  HASH_SEQ_STATUS seq;
  hash_seq_init(&seq, shared_hash);
  Entry* e;
  while ((e = static_cast<Entry*>(hash_seq_search(&seq))) != nullptr) {
    if (e->key.userid != me || e->key.dbid != MyDatabaseId) continue;
    if (count == capacity) {
      capacity *= 2;
      mine = static_cast<Mine*>(repalloc_huge(mine, sizeof(Mine) * capacity));
    }
    SpinLockAcquire(&e->mutex);
    mine[count].total_ns = e->now.total_ns;
    mine[count].calls = e->now.calls;
    SpinLockRelease(&e->mutex);
    memcpy(mine[count].query, e->query, sizeof(e->query));
    if (mine[count].calls > 0) ++count;
  }
  LWLockRelease(shared->lock);
  return Run([&] {
    std::vector<const Mine*> order;
    for (long i = 0; i < count; ++i) order.push_back(&mine[i]);
    std::sort(order.begin(), order.end(), [](const Mine* x, const Mine* y) { return x->total_ns > y->total_ns; });
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < order.size() && (int)i < n; ++i) {
      // The normalised text's "?" become $1, $2, ... so PostgreSQL plans it
      // with parameters (a jsonb "?" operator is numbered too, and that
      // statement then fails to plan: listed under errors).
      std::string sql;
      int k = 0;
      bool quoted = false;
      for (char c : std::string(order[i]->query)) {
        if (c == '"') quoted = !quoted;
        if (c == '?' && !quoted) {
          sql.push_back('$');
          sql.append(std::to_string(++k));
        } else {
          sql.push_back(c);
        }
      }
      out.push_back({{"sql", sql}, {"calls", order[i]->calls}, {"total_ms", (double)order[i]->total_ns / 1e6}});
    }
    return vigil::pg::CopyCString(out.dump());
  });
}
