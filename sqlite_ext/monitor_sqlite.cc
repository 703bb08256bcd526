// monitor_sqlite.cc — statement monitoring for SQLite (SPEC §8,
// docs/monitoring.md).
//
// Loading the module installs a trace callback (sqlite3_trace_v2) on the
// connection. SQLite's own profile time comes from the VFS clock, which on
// Unix ticks in whole milliseconds, so vigil times each statement itself
// with CLOCK_MONOTONIC between the STMT event (the statement starts) and
// the PROFILE event (it finishes, is reset or finalized), and counts the
// rows the ROW events hand out (a SELECT or RETURNING) or, for INSERT,
// UPDATE and DELETE, sqlite3_changes(). A prepared statement's fingerprint
// is computed once, when the trace first sees it, and kept beside the
// statement's pointer and text (a statement finalized and another
// prepared at the same address is recognised by its text).
//
// Failures are not counted: SQLite fires the PROFILE event before it sets
// the statement's result code (sqlite3Step), and the statement's own code
// is not public, so a failed execution counts as a call and `errors` is
// NULL on SQLite.
//
// Counters live in the connection (and so in the process): vigil's own
// statements are not counted (they are registered as such, sqlite_util.h),
// nor are trigger subprograms apart from their statement. SQLite allows
// one trace callback per connection: an application that installs its own
// replaces vigil's, and monitoring stops counting for that connection.
//
// The settings (slow_query_ms, max_statements, slow_query_log_size) are
// read from vigil_config when the module is loaded, when vigil_config
// changes one of them and at every monitoring function's call; the trace
// callback itself never runs SQL.
#include <sqlite3ext.h>

#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/cancel.h"
#include "base/config.h"
#include "boundary.h"
#include "module_sqlite.h"
#include "monitor/report.h"
#include "monitor/stats.h"
#include "schema_sqlite.h"
#include "sql/advice.h"
#include "sql/normalize.h"
#include "sqlite_util.h"

namespace vigil::sqlite {

namespace mon = core::monitor;

inline std::int64_t MonotonicNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Clock is the statement clock: CLOCK_MONOTONIC (about 21 ns a read here
// through the vDSO), and on x86-64 with an invariant TSC that the kernel
// uses as its clocksource, the TSC itself (about 8 ns) once it has been
// calibrated against CLOCK_MONOTONIC over the connection's first 50 ms
// (ratio error about 1e-6). Durations that would come out negative across
// the switch are clamped to 0 by the caller. docs/monitoring.md.
class Clock {
 public:
  Clock() {
    mono0_ = MonotonicNs();
#if defined(__x86_64__)
    unsigned a, b, c, d;
    bool invariant = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8)) != 0;
    tsc_ = invariant && KernelUsesTsc();
    if (tsc_) tsc0_ = __rdtsc();
#endif
  }
  std::int64_t Now() noexcept {
#if defined(__x86_64__)
    if (calibrated_) return mono0_ + static_cast<std::int64_t>(static_cast<double>(__rdtsc() - tsc0_) * ns_per_tick_);
    std::int64_t now = MonotonicNs();
    if (tsc_ && now - mono0_ >= 50000000) {
      std::uint64_t ticks = __rdtsc() - tsc0_;
      if (ticks > 0) {
        ns_per_tick_ = static_cast<double>(now - mono0_) / static_cast<double>(ticks);
        calibrated_ = ns_per_tick_ > 0.01 && ns_per_tick_ < 100;
      }
      tsc_ = calibrated_;
    }
    return now;
#else
    return MonotonicNs();
#endif
  }

 private:
  static bool KernelUsesTsc() {
    FILE* f = std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
    if (f == nullptr) return false;
    char buf[32] = {};
    bool tsc = std::fgets(buf, sizeof(buf), f) != nullptr && std::strncmp(buf, "tsc\n", 4) == 0;
    std::fclose(f);
    return tsc;
  }
  std::int64_t mono0_ = 0;
  bool tsc_ = false;
  bool calibrated_ = false;
  std::uint64_t tsc0_ = 0;
  double ns_per_tick_ = 0;
};

struct Monitor {
  struct StmtInfo {
    const char* sql_ptr = nullptr;  // sqlite3_sql() when last seen
    std::string sql;
    std::string normalized;
    std::uint64_t key = 0;
    bool dml = false;  // INSERT/UPDATE/DELETE/REPLACE: rows are changes()
    bool own = false;  // one of vigil's own statements: not counted
    mon::Store::Entry* entry = nullptr;  // its entry while the store's generation holds
    std::uint64_t generation = 0;
    bool running = false;
    std::int64_t start_ns = 0;
    std::uint64_t rows = 0;
  };

  sqlite3* db = nullptr;
  long slow_ms = 1000;
  mon::Store store{5000};
  mon::SlowLog slow{1000};
  std::unordered_map<sqlite3_stmt*, StmtInfo> stmts;
  sqlite3_stmt* last = nullptr;  // the statement whose ROW events are arriving
  StmtInfo* last_info = nullptr;
  std::int64_t wall_offset_us = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC at load
  Clock clock;
  std::string source;               // "pid:connection", tags this connection's history rows
  std::int64_t last_snapshot_us = 0;

  // Busy waits (vigil_busy_backoff; the health checks' lock_waits and
  // vigil_pool_status). The handler runs on the connection's thread; other
  // connections' health calls read the atomics and, under busy_mutex, the
  // recent episodes.
  std::string filename;                 // the main file ("" in memory): connections to the same file
  std::atomic<int> busy_max_ms{-1};     // -1: vigil's handler is not installed
  std::atomic<bool> waiting{false};     // sleeping in the handler now
  std::atomic<std::uint64_t> busy_waits{0}, busy_episodes{0}, busy_timeouts{0};
  struct Episode {
    std::int64_t end_us = 0;  // wall clock of its latest wait
    double ms = 0;            // how long it has waited
  };
  std::mutex busy_mutex;
  Episode episodes[32];
  std::size_t next_episode = 0, current_episode = 0;
  std::int64_t episode_start_ns = 0;
  std::minstd_rand rng{static_cast<std::minstd_rand::result_type>(MonotonicNs())};
};

namespace {

std::mutex registry_mutex;
std::unordered_map<sqlite3*, Monitor*>& Registry() {
  static auto* r = new std::unordered_map<sqlite3*, Monitor*>();
  return *r;
}
std::atomic<unsigned long> connections{0};


std::int64_t WallUs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

bool StartsWithWord(const std::string& normalized, const char* word) {
  std::size_t n = std::strlen(word);
  return normalized.compare(0, n, word) == 0 && (normalized.size() == n || normalized[n] == ' ');
}

// Learn fills a statement's entry the first time the trace sees it (or
// after its address was reused by a statement with other text).
void Learn(Monitor::StmtInfo* info, sqlite3_stmt* stmt, const char* sql) {
  info->sql_ptr = sql;
  info->sql = sql;
  info->entry = nullptr;
  info->own = IsOwnStatement(stmt);
  info->normalized = core::sql::Normalize(info->sql, core::Dialect::kSqlite);
  info->key = mon::Store::KeyOf(info->normalized);
  info->dml = !sqlite3_stmt_readonly(stmt) &&
              (StartsWithWord(info->normalized, "insert") || StartsWithWord(info->normalized, "update") ||
               StartsWithWord(info->normalized, "delete") || StartsWithWord(info->normalized, "replace") ||
               StartsWithWord(info->normalized, "with"));
}

void OnStart(Monitor* m, sqlite3_stmt* stmt, const char* unexpanded) {
  // A trigger subprogram reports "-- TRIGGER name": part of its statement.
  if (unexpanded != nullptr && unexpanded[0] == '-' && unexpanded[1] == '-') return;
  const char* sql = sqlite3_sql(stmt);
  if (sql == nullptr) return;
  Monitor::StmtInfo* found = stmt == m->last ? m->last_info : nullptr;
  if (found == nullptr) {
    if (m->stmts.size() > 4096 && m->stmts.find(stmt) == m->stmts.end()) {
      m->stmts.clear();  // statements come and go; forget those long finalized
      m->last = nullptr;
      m->last_info = nullptr;
    }
    found = &m->stmts[stmt];
  }
  Monitor::StmtInfo& info = *found;
  // The same statement, or one prepared at the same address since: told
  // apart by its text (compared without strlen).
  if (info.sql_ptr != sql || std::memcmp(info.sql.data(), sql, info.sql.size()) != 0 || sql[info.sql.size()] != '\0')
    Learn(&info, stmt, sql);
  if (info.own) return;
  info.running = true;
  info.rows = 0;
  m->last = stmt;
  m->last_info = &info;
  info.start_ns = m->clock.Now();
}

void OnRow(Monitor* m, sqlite3_stmt* stmt) noexcept {
  if (stmt == m->last) {
    ++m->last_info->rows;
    return;
  }
  auto it = m->stmts.find(stmt);
  if (it == m->stmts.end() || !it->second.running) return;
  m->last = stmt;
  m->last_info = &it->second;
  ++it->second.rows;
}

void OnEnd(Monitor* m, sqlite3_stmt* stmt) {
  std::int64_t end_ns = m->clock.Now();
  Monitor::StmtInfo* found = stmt == m->last ? m->last_info : nullptr;
  if (found == nullptr) {
    auto it = m->stmts.find(stmt);
    if (it == m->stmts.end()) return;
    found = &it->second;
  }
  Monitor::StmtInfo& info = *found;
  if (!info.running) return;
  info.running = false;
  std::uint64_t ns = end_ns > info.start_ns ? static_cast<std::uint64_t>(end_ns - info.start_ns) : 0;
  std::int64_t now_us = end_ns / 1000 + m->wall_offset_us;
  std::uint64_t rows = info.dml ? static_cast<std::uint64_t>(sqlite3_changes64(m->db)) : info.rows;
  mon::Store::Entry* e = info.entry;
  if (e == nullptr || info.generation != m->store.generation()) {
    e = m->store.Find(info.key);
    if (e == nullptr) e = &m->store.Insert(info.key, info.normalized);
    info.entry = e;
    info.generation = m->store.generation();
  }
  e->now.Add(ns, rows, now_us);
  // A slow execution is rare: its fingerprint is computed now (the entry
  // may be evicted before the log is read).
  if (m->slow_ms >= 0 && ns >= static_cast<std::uint64_t>(m->slow_ms) * 1000000)
    m->slow.Add({now_us, static_cast<double>(ns) / 1e6, mon::FingerprintKey(mon::Store::Fingerprint(*e)),
                 e->query, rows, {}});
}

int Trace(unsigned type, void* ctx, void* p, void* x) noexcept {
  auto* m = static_cast<Monitor*>(ctx);
  if (type == SQLITE_TRACE_ROW) {
    OnRow(m, static_cast<sqlite3_stmt*>(p));
    return 0;
  }
  // Monitoring never fails the statement: an error here (out of memory)
  // loses one observation.
  RunQuietly([&] {
    switch (type) {
      case SQLITE_TRACE_STMT:
        OnStart(m, static_cast<sqlite3_stmt*>(p), static_cast<const char*>(x));
        break;
      case SQLITE_TRACE_PROFILE:
        OnEnd(m, static_cast<sqlite3_stmt*>(p));
        break;
      default:
        break;
    }
  });
  return 0;
}

// ConfigLong reads a monitoring setting, checked as vigil_config checks
// what it stores: a value a hostile or hand-edited file holds out of range
// is an error naming the setting, not a crash or an overflow.
long ConfigLong(sqlite3* db, const char* key) {
  const core::ConfigKey& k = core::FindConfig(key);
  return std::stol(core::NormalizeConfigValue(k, ConfigGet(db, k)));
}

// Refresh reads the monitoring settings from vigil_config (their defaults
// when the file has none), with one check of vigil's schema: it runs at
// every load, and each check costs a statement's parse (docs/performance.md).
void Refresh(Monitor* m) {
  const core::ConfigKey &slow = core::FindConfig("slow_query_ms"), &max = core::FindConfig("max_statements"),
                        &log = core::FindConfig("slow_query_log_size");
  std::vector<std::string> v = ConfigGetAll(m->db, {&slow, &max, &log});
  m->slow_ms = std::stol(core::NormalizeConfigValue(slow, v[0]));
  m->store.SetMax(static_cast<std::size_t>(std::stol(core::NormalizeConfigValue(max, v[1]))));
  m->slow.SetCapacity(static_cast<std::size_t>(std::stol(core::NormalizeConfigValue(log, v[2]))));
}

Monitor* Of(sqlite3* db) {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = Registry().find(db);
  if (it == Registry().end())
    throw core::Error(core::ErrorCode::kPrerequisite, "statement monitoring is not running on this connection", {},
                      "Load vigil with sqlite3_load_extension on the connection.");
  return it->second;
}

double Ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

// vigil_query_stats(): this connection's statements.
std::vector<Row> StatsRows(sqlite3* db) {
  Monitor* m = Of(db);
  Refresh(m);
  std::vector<Row> rows;
  for (auto& [key, e] : m->store.entries()) {
    const mon::Counters& c = e.now;
    rows.push_back({Value::Text(mon::Store::Fingerprint(e)), Value::Text(e.query),
                    Value::Integer(static_cast<sqlite3_int64>(c.calls)),
                    Value::Null(),  // errors: not known (file comment)
                    Value::Integer(static_cast<sqlite3_int64>(c.rows)), Value::Real(c.TotalMs()),
                    Value::Real(c.MeanMs()), Value::Real(Ms(c.min_ns)), Value::Real(Ms(c.max_ns)),
                    Value::Real(c.StddevMs()), Value::Real(c.PercentileMs(0.5)), Value::Real(c.PercentileMs(0.95)),
                    Value::Real(c.PercentileMs(0.99)), Value::Text(mon::UtcText(c.first_us)),
                    Value::Text(mon::UtcText(c.last_us)), Value::Null(), Value::Null(), Value::Null(),
                    Value::Null(), Value::Null()});
  }
  return rows;
}

const TableSpec kStats = {
    "vigil_query_stats",
    "fingerprint TEXT, query TEXT, calls INTEGER, errors INTEGER, rows INTEGER, total_ms REAL, mean_ms REAL,"
    " min_ms REAL, max_ms REAL, stddev_ms REAL, p50_ms REAL, p95_ms REAL, p99_ms REAL, first_seen TEXT,"
    " last_seen TEXT, queryid INTEGER, username TEXT, database TEXT, application_name TEXT, client_addr TEXT",
    StatsRows};

// vigil_slow_queries(limit DEFAULT 100): the newest slow executions.
std::vector<Row> SlowRows(sqlite3* db, const Args& args) {
  long long limit = 100;
  if (!args.empty() && args[0]) {
    char* end = nullptr;
    limit = std::strtoll(args[0]->c_str(), &end, 10);
    if (args[0]->empty() || *end != '\0' || limit < 0)
      throw core::Error(core::ErrorCode::kInvalidParameter, "limit must be a non-negative integer");
  }
  Monitor* m = Of(db);
  std::vector<Row> rows;
  for (const mon::SlowExecution* e : m->slow.Newest(static_cast<std::size_t>(limit)))
    rows.push_back({Value::Text(mon::UtcText(e->at_us)), Value::Real(e->duration_ms),
                    Value::Text(mon::FingerprintText(e->key)), Value::Text(e->query),
                    Value::Integer(static_cast<sqlite3_int64>(e->rows)), Value::Null(), Value::Null(),
                    Value::Null()});
  return rows;
}

const TableSpec kSlow = {"vigil_slow_queries",
                         "at TEXT, duration_ms REAL, fingerprint TEXT, query TEXT, rows INTEGER, username TEXT,"
                         " database TEXT, application_name TEXT",
                         nullptr, "\"limit\"", SlowRows};

// LiveIntervals: each statement's counts since this connection's last
// snapshot, as report intervals ending now.
std::vector<mon::Interval> LiveIntervals(Monitor* m, std::int64_t now_us) {
  std::vector<mon::Interval> out;
  for (auto& [key, e] : m->store.entries()) {
    mon::Counters d = mon::Delta(e.now, e.at_snapshot);
    if (d.calls == 0 && d.errors == 0) continue;
    mon::Interval i;
    i.at_us = now_us;
    i.fingerprint = mon::Store::Fingerprint(e);
    i.query = e.query;
    i.calls = d.calls;
    i.rows = d.rows;
    i.errors = d.errors;
    i.total_ms = d.TotalMs();
    i.max_ms = Ms(d.max_ns);
    i.histogram = mon::EncodeHistogram(d.hist);
    out.push_back(std::move(i));
  }
  return out;
}

// vigil_snapshot() -> {"at", "statements", "source"}: writes this
// connection's counts since its last snapshot to vigil_query_history and
// deletes rows older than history_days.
void Snapshot(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  Monitor* m = Of(db);
  Refresh(m);
  schema::Ensure(db, schema::Access::kWrite);
  std::int64_t now_us = WallUs();
  std::string at = mon::UtcText(now_us);
  std::vector<mon::Interval> live = LiveIntervals(m, now_us);
  long days = ConfigLong(db, "history_days");
  {
    Savepoint sp(db, "vigil_snapshot");
    Stmt ins(db, "INSERT INTO main.vigil_query_history (at, source, fingerprint, query, calls, errors, rows,"
                 " total_ms, max_ms, histogram) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    for (const mon::Interval& i : live) {
      ins.Text(1, at);
      ins.Text(2, m->source);
      ins.Text(3, i.fingerprint);
      ins.Text(4, i.query);
      sqlite3_bind_int64(ins.get(), 5, static_cast<sqlite3_int64>(i.calls));
      sqlite3_bind_null(ins.get(), 6);  // errors: not known on SQLite
      sqlite3_bind_int64(ins.get(), 7, static_cast<sqlite3_int64>(i.rows));
      sqlite3_bind_double(ins.get(), 8, i.total_ms);
      sqlite3_bind_double(ins.get(), 9, i.max_ms);
      ins.Text(10, i.histogram);
      ins.Step();
      sqlite3_reset(ins.get());
    }
    Stmt del(db, "DELETE FROM main.vigil_query_history WHERE at < ?1");
    del.Text(1, mon::UtcText(now_us - static_cast<std::int64_t>(days) * 86400 * 1000000));
    del.Step();
    sp.Release();
  }
  // Written: the counts are now history.
  for (auto& [key, e] : m->store.entries()) {
    e.at_snapshot = e.now;
    e.now.window_max_ns = 0;
  }
  m->last_snapshot_us = now_us;
  nlohmann::ordered_json r;
  r["at"] = at;
  r["statements"] = live.size();
  r["source"] = m->source;
  ResultText(ctx, r.dump());
}

// vigil_performance_report(hours DEFAULT 24): the file's history plus this
// connection's counts since its last snapshot.
void PerformanceReport(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  mon::ReportInput in;
  if (argc > 0) {
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) return sqlite3_result_null(ctx);
    if (sqlite3_value_numeric_type(argv[0]) != SQLITE_INTEGER)
      throw core::Error(core::ErrorCode::kInvalidParameter, "hours must be an integer");
    sqlite3_int64 h = sqlite3_value_int64(argv[0]);
    in.hours = h < -1 || h > 1000000 ? -1 : static_cast<double>(h);
  }
  mon::CheckHours(in.hours);
  Monitor* m = Of(db);
  Refresh(m);
  in.now_us = WallUs();
  in.slow_query_ms = m->slow_ms;
  in.errors_known = false;
  if (schema::Ensure(db, schema::Access::kRead, "vigil_query_history")) {
    Stmt s(db, "SELECT CAST(round((julianday(at) - 2440587.5) * 86400000000.0) AS INTEGER), fingerprint, query,"
               " calls, errors, rows, total_ms, max_ms, histogram, epoch FROM main.vigil_query_history"
               " WHERE at > ?1 ORDER BY at");
    s.Text(1, mon::UtcText(in.now_us - static_cast<std::int64_t>(in.hours * 3600e6)));
    while (s.Step()) {
      core::PollCancel();
      mon::Interval i;
      i.at_us = s.Int(0);
      i.fingerprint = s.Column(1).value_or("");
      i.query = s.Column(2).value_or("");
      i.calls = static_cast<std::uint64_t>(std::max<sqlite3_int64>(0, s.Int(3)));
      i.errors = static_cast<std::uint64_t>(std::max<sqlite3_int64>(0, s.Int(4)));
      i.rows = static_cast<std::uint64_t>(std::max<sqlite3_int64>(0, s.Int(5)));
      i.total_ms = sqlite3_column_double(s.get(), 6);
      i.max_ms = sqlite3_column_double(s.get(), 7);
      i.histogram = s.Column(8).value_or("");
      i.epoch = s.Column(9).value_or("");
      in.intervals.push_back(std::move(i));
    }
  }
  for (mon::Interval& i : LiveIntervals(m, in.now_us)) in.intervals.push_back(std::move(i));
  ResultText(ctx, mon::PerformanceReport(in));
}

// vigil_query_stats_reset(): forgets this connection's counters and slow log.
void Reset(sqlite3_context* ctx, int, sqlite3_value**) {
  Monitor* m = Of(sqlite3_context_db_handle(ctx));
  m->store.Clear();
  m->slow.Clear();
  sqlite3_result_null(ctx);
}

const Impl kImpls[] = {
    {"vigil_query_stats", nullptr, &kStats, false},
    {"vigil_slow_queries", nullptr, &kSlow, false},
    {"vigil_performance_report", Bridge<PerformanceReport>, nullptr, false},
    {"vigil_snapshot", Bridge<Snapshot>, nullptr, false},
    {"vigil_query_stats_reset", Bridge<Reset>, nullptr, false},
};

}  // namespace

std::span<const Impl> MonitorImpls() { return kImpls; }

void InstallMonitor(sqlite3* db) noexcept {
  auto* m = new (std::nothrow) Monitor();
  if (m == nullptr) return;  // loads without monitoring rather than failing
  m->db = db;
  m->wall_offset_us = WallUs() - MonotonicNs() / 1000;
  m->source = std::to_string(getpid()) + ":" + std::to_string(++connections);
  if (const char* f = sqlite3_db_filename(db, "main"); f != nullptr) RunQuietly([&] { m->filename = f; });
  RunQuietly([&] { Refresh(m); });
  bool registered = RunQuietly([&] {
    std::lock_guard<std::mutex> lock(registry_mutex);
    Registry()[db] = m;
  });
  if (!registered) {
    delete m;
    return;
  }
  sqlite3_trace_v2(db, SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE | SQLITE_TRACE_ROW, Trace, m);
}

void RemoveMonitor(sqlite3* db) noexcept {
  Monitor* m = nullptr;
  {
    std::lock_guard<std::mutex> lock(registry_mutex);
    auto it = Registry().find(db);
    if (it == Registry().end()) return;
    m = it->second;
    Registry().erase(it);
  }
  // The trace is detached before the monitor goes, always: the functions
  // are dropped when the connection is torn down, or replaced (the module
  // loaded again), and a connection whose sqlite3_close() failed is still
  // open. On a connection being torn down (a zombie) SQLite either refuses
  // the call (API armor) or clears the trace of a connection about to be
  // freed, both harmless; its mutex is recursive.
  sqlite3_trace_v2(db, 0, nullptr, nullptr);
  // The busy handler points at the monitor too. Removing it may remove a
  // handler the application set since (PRAGMA busy_timeout replaces ours,
  // and SQLite cannot say whose is in place): a connection that is not
  // closing is given vigil's back again by the load that replaces the
  // monitor (sqlite3_vigil_init, BusyBackoffOf).
  if (m->busy_max_ms.load() > 0) sqlite3_busy_handler(db, nullptr, nullptr);
  delete m;
}

void RefreshMonitor(sqlite3* db) noexcept {
  RunQuietly([&] { Refresh(Of(db)); });
}

namespace {
// BusyHandler: exponential backoff with full jitter (each wait uniform in
// [d/2, d], d = 1, 2, 4 ... 100 ms), until the episode has waited max_ms;
// then SQLite returns SQLITE_BUSY. Counted for the health checks.
void RecordEpisode(Monitor* m, double ms) noexcept {
  RunQuietly([&] {
    std::lock_guard<std::mutex> lock(m->busy_mutex);
    Monitor::Episode& e = m->episodes[m->current_episode % std::size(m->episodes)];
    e.end_us = WallUs();
    e.ms = ms;
  });
}

int BusyHandler(void* p, int count) noexcept {
  auto* m = static_cast<Monitor*>(p);
  int max_ms = m->busy_max_ms.load(std::memory_order_relaxed);
  std::int64_t now = MonotonicNs();
  if (count == 0) {
    m->episode_start_ns = now;
    m->busy_episodes.fetch_add(1, std::memory_order_relaxed);
    RunQuietly([&] {
      std::lock_guard<std::mutex> lock(m->busy_mutex);
      m->current_episode = m->next_episode++;
    });
  }
  double waited = static_cast<double>(now - m->episode_start_ns) / 1e6;
  RecordEpisode(m, waited);
  if (max_ms <= 0 || waited >= max_ms) {
    m->busy_timeouts.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  double d = std::min(100.0, std::ldexp(1.0, std::min(count, 7)));
  d = std::min(d, static_cast<double>(max_ms) - waited);
  std::uniform_real_distribution<double> jitter(d / 2, d);
  double sleep_ms = std::max(0.05, jitter(m->rng));
  m->waiting.store(true, std::memory_order_relaxed);
  m->busy_waits.fetch_add(1, std::memory_order_relaxed);
  timespec ts{static_cast<time_t>(sleep_ms / 1000), static_cast<long>(std::fmod(sleep_ms, 1000.0) * 1e6)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  m->waiting.store(false, std::memory_order_relaxed);
  RecordEpisode(m, static_cast<double>(MonotonicNs() - m->episode_start_ns) / 1e6);
  return 1;
}
}  // namespace

int SetBusyBackoff(sqlite3* db, int max_ms) {
  if (max_ms < 0 || max_ms > 3600000)
    throw core::Error(core::ErrorCode::kInvalidParameter, "max_ms must be from 0 to 3600000 (one hour)", {},
                      "0 removes the busy handler: a locked database then fails at once with SQLITE_BUSY.");
  Monitor* m = Of(db);
  int previous = m->busy_max_ms.exchange(max_ms > 0 ? max_ms : -1);
  if (max_ms > 0)
    sqlite3_busy_handler(db, BusyHandler, m);
  else
    sqlite3_busy_handler(db, nullptr, nullptr);
  return previous;
}

int BusyBackoffOf(sqlite3* db) noexcept {
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto it = Registry().find(db);
  return it == Registry().end() ? -1 : it->second->busy_max_ms.load();
}

BusyFacts FileBusyFacts(sqlite3* db, std::int64_t since_us) {
  Monitor* self = Of(db);
  BusyFacts f;
  f.installed = self->busy_max_ms.load() > 0;
  std::lock_guard<std::mutex> lock(registry_mutex);
  for (auto& [other_db, m] : Registry()) {
    // In memory, or a temporary file: this connection alone.
    bool same = m == self || (!self->filename.empty() && m->filename == self->filename);
    if (!same) continue;
    ++f.connections;
    if (m->waiting.load(std::memory_order_relaxed)) ++f.waiting;
    f.waits += m->busy_waits.load(std::memory_order_relaxed);
    f.episodes += m->busy_episodes.load(std::memory_order_relaxed);
    f.timeouts += m->busy_timeouts.load(std::memory_order_relaxed);
    std::lock_guard<std::mutex> episodes(m->busy_mutex);
    for (const Monitor::Episode& e : m->episodes)
      if (e.end_us >= since_us) f.longest_recent_ms = std::max(f.longest_recent_ms, e.ms);
  }
  return f;
}

std::size_t SlowSince(sqlite3* db, std::int64_t since_us) {
  Monitor* m = Of(db);
  std::size_t n = 0;
  for (const mon::SlowExecution* e : m->slow.Newest(static_cast<std::size_t>(-1)))
    if (e->at_us >= since_us) ++n;
  return n;
}

std::int64_t NowUs() noexcept { return WallUs(); }

nlohmann::json HeaviestStatements(sqlite3* db, std::size_t n) {
  Monitor* m = Of(db);
  std::vector<const mon::Store::Entry*> all;
  for (const auto& [key, e] : m->store.entries())
    if (e.now.calls > 0) all.push_back(&e);
  std::sort(all.begin(), all.end(), [](const auto* a, const auto* b) { return a->now.total_ns > b->now.total_ns; });
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < all.size() && i < n; ++i)
    out.push_back({{"sql", all[i]->query}, {"calls", all[i]->now.calls}, {"total_ms", all[i]->now.TotalMs()}});
  return out;
}

}  // namespace vigil::sqlite
