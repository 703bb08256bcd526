// health_sqlite.cc — SQLite's health checks, pool status, metrics and busy
// backoff (SPEC §9, docs/health.md). The adapter measures with pragmas,
// sqlite3_db_status and the module's own counters (monitor_sqlite.cc); the
// core (health/health.h) grades, words and formats.
//
// Cost: the default checks read pragmas and vigil's small tables, so a
// call stays cheap on a big file; quick_check, foreign_key_check, table
// sizes (dbstat) and the audit chain's verification grow with the file and
// run only with {"deep": true} or when named.
#include <sqlite3ext.h>

#include <sys/statvfs.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/cancel.h"
#include "base/config.h"
#include "base/json.h"
#include "boundary.h"
#include "health/health.h"
#include "module_sqlite.h"
#include "rules_sqlite.h"
#include "schema_sqlite.h"
#include "sqlite_util.h"

namespace vigil::sqlite {
namespace {

namespace hl = core::health;
using nlohmann::json;

constexpr std::int64_t kSlowWindowUs = 15LL * 60 * 1000000;  // "in the last 15 minutes"

std::int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string MainFile(sqlite3* db) {
  const char* f = sqlite3_db_filename(db, "main");
  return f != nullptr ? f : "";
}

long long PragmaInt(sqlite3* db, const char* pragma) {
  Stmt s(db, std::string("PRAGMA main.") + pragma);
  return s.Step() ? s.Int(0) : 0;
}

// One health run: what several checks share is read once (on a file of
// 1,000 tables each look at sqlite_schema costs a scan of it).
struct Run {
  sqlite3* db;
  std::optional<json> validate;
  std::optional<std::map<std::string, std::string>> settings;
  std::map<std::string, bool> tables;
  // Has: main holds vigil's `table` (schema::Ensure's answer, once).
  bool Has(const char* table) {
    auto it = tables.find(table);
    if (it == tables.end()) it = tables.emplace(table, schema::Ensure(db, schema::Access::kRead, table)).first;
    return it->second;
  }
  // Setting: vigil_config's value of `key`, checked as vigil_config checks
  // it (an out-of-range value a file holds throws; the check is skipped).
  long Setting(const char* key) {
    if (!settings) {
      settings.emplace();
      if (Has("vigil_config")) {
        Stmt s(db, "SELECT key, value FROM main.vigil_config");
        while (s.Step()) (*settings)[s.Column(0).value_or("")] = s.Column(1).value_or("");
      }
    }
    const core::ConfigKey& k = core::FindConfig(key);
    auto it = settings->find(key);
    return std::stol(core::NormalizeConfigValue(k, it != settings->end() ? it->second : k.default_value));
  }
  json& Validate() {
    // Nothing registered and nothing recorded: nothing can have drifted,
    // and the schema's snapshot (most of validate's cost) is not taken.
    if (!validate && (!Has("vigil_migrations") || !Has("vigil_migration_history"))) validate = hl::Unmigrated();
    if (!validate) {
      Stmt n(db, "SELECT (SELECT count(*) FROM main.vigil_migrations) + (SELECT count(*) FROM main.vigil_migration_history)");
      if (n.Step() && n.Int(0) == 0) validate = hl::Unmigrated();
    }
    if (!validate) {
      Stmt s(db, "SELECT vigil_migration_validate()");
      validate = s.Step() ? core::json_in::ParseInput(s.Column(0).value_or("null"), "validation") : json();
    }
    return *validate;
  }
};

hl::Measurement Measure(const std::string& check, Run& run) {
  sqlite3* db = run.db;
  if (check == "response_time") {
    std::int64_t t0 = MonoNs();
    Stmt s(db, "SELECT count(*) FROM main.sqlite_schema");
    s.Step();
    return hl::Measured(static_cast<double>(MonoNs() - t0) / 1e6, {}, {{"probe", "SELECT count(*) FROM sqlite_schema"}});
  }
  if (check == "lock_waits") {
    BusyFacts f = FileBusyFacts(db, NowUs() - kSlowWindowUs);
    hl::Measurement m = hl::Measured(f.longest_recent_ms, {}, {{"waits", f.waits}, {"episodes", f.episodes},
                                                        {"timeouts", f.timeouts}, {"waiting_now", f.waiting},
                                                        {"busy_backoff", f.installed}});
    if (!f.installed)
      m.note = "(this connection has no vigil_busy_backoff(): its busy waits are not counted)";
    return m;
  }
  if (check == "disk_space") {
    std::string file = MainFile(db);
    if (file.empty()) {
      hl::Measurement m;
      m.skipped = "an in-memory or temporary database has no file";
      return m;
    }
    std::string dir = file.substr(0, file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/'));
    if (dir.empty()) dir = file.rfind('/', 0) == 0 ? "/" : ".";
    struct statvfs st;
    if (statvfs(dir.c_str(), &st) != 0 || st.f_blocks == 0) {
      hl::Measurement m;
      m.skipped = "statvfs failed on the file's directory";
      return m;
    }
    double free_pct = 100.0 * static_cast<double>(st.f_bavail) / static_cast<double>(st.f_blocks);
    double mb = static_cast<double>(st.f_frsize) / 1048576.0;
    return hl::Measured(free_pct, dir, {{"free_mb", hl::Round2(static_cast<double>(st.f_bavail) * mb)},
                                 {"total_mb", hl::Round2(static_cast<double>(st.f_blocks) * mb)}});
  }
  if (check == "database_size") {
    long long pages = PragmaInt(db, "page_count"), size = PragmaInt(db, "page_size");
    return hl::Measured(static_cast<double>(pages) * static_cast<double>(size) / 1048576.0, {},
                 {{"pages", pages}, {"page_size", size}});
  }
  if (check == "table_sizes") {
    Stmt s(db, "SELECT d.name, sum(d.pgsize) FROM dbstat('main') d JOIN main.sqlite_schema m ON m.name = d.name"
               " WHERE m.type = 'table' GROUP BY d.name ORDER BY 2 DESC LIMIT 5");
    json top = json::array();
    double largest = 0;
    std::string name;
    while (s.Step()) {
      core::PollCancel();
      double mb = static_cast<double>(s.Int(1)) / 1048576.0;
      if (top.empty()) {
        largest = mb;
        name = s.Column(0).value_or("");
      }
      top.push_back({{"table", s.Column(0).value_or("")}, {"mb", hl::Round2(mb)}});
    }
    if (top.empty()) return hl::NothingMeasured("no tables");
    return hl::Measured(largest, name, {{"largest", top}});
  }
  if (check == "cache_hit") {
    int hit = 0, miss = 0, high = 0;
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_HIT, &hit, &high, 0);
    sqlite3_db_status(db, SQLITE_DBSTATUS_CACHE_MISS, &miss, &high, 0);
    if (hit + miss < 100)
      return hl::NothingMeasured("cache hit ratio: too few page reads on this connection to judge (" +
                     std::to_string(hit + miss) + ")");
    return hl::Measured(100.0 * hit / (hit + miss), "this connection", {{"hits", hit}, {"misses", miss}});
  }
  if (check == "duplicate_indexes") {
    json h = IndexHealthOf(db);
    json dup = h.value("duplicate_indexes", json::array());
    return hl::Measured(static_cast<double>(dup.size()), dup.empty() ? "" : dup[0].value("index", ""), {{"indexes", dup}});
  }
  if (check == "slow_queries") {
    std::size_t n = SlowSince(db, NowUs() - kSlowWindowUs);
    hl::Measurement m = hl::Measured(static_cast<double>(n), "this connection", {{"slow_query_ms", run.Setting("slow_query_ms")}});
    return m;
  }
  if (check == "quality_score") {
    if (!run.Has("vigil_quality_history")) return hl::NothingMeasured("no quality report has run yet");
    Stmt s(db, "SELECT score, at FROM main.vigil_quality_history WHERE table_name IS NULL ORDER BY id DESC LIMIT 1");
    if (!s.Step()) return hl::NothingMeasured("no quality report has run yet (vigil_quality_report())");
    return hl::Measured(sqlite3_column_double(s.get(), 0), "report of " + s.Column(1).value_or("?"));
  }
  if (check == "quick_check") {
    Stmt s(db, "SELECT quick_check FROM pragma_quick_check(100, 'main')");
    json problems = json::array();
    while (s.Step()) {
      std::string line = s.Column(0).value_or("");
      if (line != "ok") problems.push_back(line);
    }
    return hl::Measured(static_cast<double>(problems.size()), {}, {{"problems", problems}});
  }
  if (check == "foreign_key_check") {
    Stmt s(db, "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check(NULL, 'main') LIMIT 1000");
    json rows = json::array();
    std::size_t n = 0;
    while (s.Step()) {
      core::PollCancel();
      if (++n <= 10)
        rows.push_back({{"table", s.Column(0).value_or("")}, {"rowid", s.Column(1) ? json(s.Int(1)) : json(nullptr)},
                        {"parent", s.Column(2).value_or("")}});
    }
    return hl::Measured(static_cast<double>(n), rows.empty() ? "" : rows[0].value("table", ""), {{"first", rows}});
  }
  if (check == "journal_mode") {
    Stmt s(db, "PRAGMA main.journal_mode");
    std::string mode = s.Step() ? s.Column(0).value_or("") : "";
    json d = {{"journal_mode", mode}};
    if (MainFile(db).empty()) return hl::Verdict(hl::Status::kOk, "journal mode is " + mode + " (an in-memory database)", d);
    if (mode == "wal") return hl::Verdict(hl::Status::kOk, "journal mode is wal", d);
    if (mode == "off")
      return hl::Verdict(hl::Status::kCritical, "journal mode is off: a crash or an error mid-transaction can corrupt the file.", d);
    if (mode == "memory")
      return hl::Verdict(hl::Status::kWarning, "journal mode is memory: a crash mid-transaction can corrupt the file.", d);
    return hl::Verdict(hl::Status::kOk, "journal mode is " + mode + " (a rollback journal: readers wait for the writer; wal lets both run)", d);
  }
  if (check == "foreign_keys") {
    long long on = PragmaInt(db, "foreign_keys");
    Stmt s(db, "SELECT count(*) FROM main.sqlite_schema m, pragma_foreign_key_list(m.name, 'main') f"
               " WHERE m.type = 'table'");
    long long declared = s.Step() ? s.Int(0) : 0;
    json d = {{"foreign_keys", on != 0}, {"declared", declared}};
    if (on) return hl::Verdict(hl::Status::kOk, "foreign keys are enforced on this connection", d);
    if (declared == 0) return hl::Verdict(hl::Status::kOk, "foreign keys are off on this connection, and none is declared", d);
    return hl::Verdict(hl::Status::kWarning,
                   "foreign keys are off on this connection, and the schema declares " + std::to_string(declared) +
                       ": rows can break them unseen.", d);
  }
  if (check == "freelist") {
    long long pages = PragmaInt(db, "page_count"), free = PragmaInt(db, "freelist_count"),
              size = PragmaInt(db, "page_size");
    json d = {{"free_pages", free}, {"pages", pages}};
    double pct = pages > 0 ? 100.0 * static_cast<double>(free) / static_cast<double>(pages) : 0;
    if (static_cast<double>(free) * static_cast<double>(size) < 1048576.0) {
      // Under 1 MB of free pages is not worth a VACUUM, whatever the share.
      hl::Measurement m = hl::Verdict(hl::Status::kOk, "free pages are " + std::to_string(free) + " of " +
                                                       std::to_string(pages) + " (under 1 MB)", d);
      m.value = pct;
      return m;
    }
    return hl::Measured(pct, {}, d);
  }
  if (check == "enforcement") {
    // A table with vigil's enforcement triggers whose triggers are not
    // those its rules make now (one dropped, replaced, or stale).
    Stmt s(db, "SELECT DISTINCT tbl_name FROM main.sqlite_schema WHERE type = 'trigger'"
               " AND name LIKE 'vigil\\_enforce\\_%' ESCAPE '\\' ORDER BY 1");
    json stale = json::array();
    while (s.Step()) {
      core::PollCancel();
      std::string t = s.Column(0).value_or("");
      if (!EnforcementCurrent(db, t)) stale.push_back(t);
    }
    return hl::Measured(static_cast<double>(stale.size()), stale.empty() ? "" : stale[0].get<std::string>(),
                 {{"tables", stale}});
  }
  if (check == "migrations") {
    std::vector<std::string> failed;
    Stmt s(db, "SELECT version FROM vigil_migration_status WHERE state IN ('failed', 'interrupted')");
    while (s.Step()) failed.push_back(s.Column(0).value_or(""));
    return hl::MigrationsFrom(run.Validate(), failed);
  }
  if (check == "schema_drift") return hl::SchemaDriftFrom(run.Validate());
  if (check == "audit_backlog") {
    if (!run.Has("vigil_audit_log")) return hl::Measured(0);
    // Entries are written in id order: those after the newest sealed one,
    // and the staged ones not written yet (docs/audit.md "Staged entries").
    Stmt s(db, "SELECT count(*) FROM main.vigil_audit_log WHERE seq IS NULL AND id > coalesce((SELECT id FROM"
               " main.vigil_audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1), 0)");
    double n = s.Step() ? static_cast<double>(s.Int(0)) : 0;
    if (run.Has("vigil_audit_batch")) {
      Stmt b(db, "SELECT coalesce(sum(n), 0) FROM main.vigil_audit_batch");
      if (b.Step()) n += static_cast<double>(b.Int(0));
    }
    return hl::Measured(n);
  }
  if (check == "audit_chain") {
    Stmt s(db, "SELECT vigil_audit_verify()");
    return hl::AuditChainFrom(s.Step() ? core::json_in::ParseInput(s.Column(0).value_or("null"), "verification")
                                       : json());
  }
  throw core::Error(core::ErrorCode::kInternal, "no SQLite measurement for check " + check);
}

// Results runs the checks the options select.
std::vector<hl::Result> Results(sqlite3* db, const hl::Options& options) {
  Run run{db, std::nullopt, std::nullopt, {}};
  return hl::RunChecks(hl::kSqlite, options, [&](const hl::CheckDef& c) { return Measure(c.name, run); },
                       [&run](const char* key) { return run.Setting(key); }, nullptr);
}

hl::Options OptionsArg(int argc, sqlite3_value** argv) {
  if (argc == 0 || sqlite3_value_type(argv[0]) == SQLITE_NULL) return {};
  return hl::ParseOptions(Text(argv[0]));
}

// Record keeps each check's state and raises an alert when it changed, in
// one savepoint (all or nothing). Returns the alerts raised.
int Record(sqlite3* db, const std::vector<hl::Result>& results, const std::string& at) {
  schema::Ensure(db, schema::Access::kWrite);
  Savepoint sp(db, "vigil_health");
  int raised = 0;
  for (const hl::Result& r : results) {
    if (r.status == hl::Status::kSkipped) continue;
    std::optional<std::string> previous;
    {
      Stmt s(db, "SELECT status FROM main.vigil_health_state WHERE \"check\" = ?1");
      s.Text(1, r.check);
      if (s.Step()) previous = s.Column(0);
    }
    std::string status = hl::StatusName(r.status);
    if (previous && *previous == status) continue;
    {
      Stmt s(db, "INSERT INTO main.vigil_health_state (\"check\", status, since, value, message) VALUES (?1, ?2, ?3, ?4, ?5)"
                 " ON CONFLICT (\"check\") DO UPDATE SET status = excluded.status, since = excluded.since,"
                 " value = excluded.value, message = excluded.message");
      s.Text(1, r.check);
      s.Text(2, status);
      s.Text(3, at);
      if (r.value) sqlite3_bind_double(s.get(), 4, *r.value); else s.Null(4);
      s.Text(5, r.message);
      s.Step();
    }
    if (auto t = hl::DecideTransition(r, previous)) {
      RecordAlert(db, at, "health", t->severity, t->check, t->message, t->details);
      ++raised;
    }
  }
  sp.Release();
  return raised;
}

// AppendHistory: {"record": true} keeps the run, and what is older than
// history_days goes (SQLite has no worker: the caller schedules). Its own
// savepoint: a history that cannot be kept (a bad history_days in the
// file) leaves the states and alerts recorded.
int AppendHistory(sqlite3* db, const std::vector<hl::Result>& results, const std::string& at) {
  Run run{db, std::nullopt, std::nullopt, {}};
  long days = run.Setting("history_days");
  Savepoint sp(db, "vigil_health_history");
  Stmt h(db, "INSERT INTO main.vigil_health_history (at, status, checks, source) VALUES (?1, ?2, ?3, 'call')");
  h.Text(1, at);
  h.Text(2, hl::Overall(results));
  h.Text(3, hl::HistoryChecks(results));
  h.Step();
  Stmt d(db, "DELETE FROM main.vigil_health_history WHERE at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)");
  d.Text(1, "-" + std::to_string(days) + " days");
  d.Step();
  sp.Release();
  return 1;
}

// vigil_health(options DEFAULT '{}') -> JSON; records states and alerts.
void Health(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  hl::Options options = OptionsArg(argc, argv);
  std::vector<hl::Result> results = Results(db, options);
  std::string at = NowUtc(db);
  // Recording waits for the write lock like any writer; when it cannot be
  // had (or the disk is full) the checks are still the answer, and the
  // document says nothing was recorded. The savepoint leaves no half.
  std::string not_recorded;
  std::optional<int> raised;
  if (sqlite3_db_readonly(db, "main") == 0)  // a read-only file records nothing
    raised = hl::TryRecord([&] { return Record(db, results, at); }, nullptr, &not_recorded);
  if (raised && options.record) {
    std::string history_failed;
    if (!hl::TryRecord([&] { return AppendHistory(db, results, at); }, nullptr, &history_failed))
      not_recorded = "history: " + history_failed;
  }
  ResultText(ctx, hl::HealthJson(results, at, "sqlite", raised, not_recorded));
}

// vigil_health_checks(options): the same checks as rows; records nothing.
std::vector<Row> CheckRows(sqlite3* db, const Args& args) {
  hl::Options options;
  if (!args.empty() && args[0]) options = hl::ParseOptions(*args[0]);
  std::vector<Row> rows;
  for (const hl::Result& r : Results(db, options)) {
    rows.push_back({Value::Text(r.check), Value::Text(hl::StatusName(r.status)),
                    r.value ? Value::Real(*r.value) : Value::Null(),
                    r.threshold ? Value::Real(*r.threshold) : Value::Null(), Value::TextOrNull(r.unit),
                    Value::Text(r.message),
                    r.details.is_null() ? Value::Null()
                                        : Value::Text(r.details.dump(-1, ' ', false, json::error_handler_t::replace))});
  }
  return rows;
}

const TableSpec kChecks = {"vigil_health_checks",
                           "\"check\" TEXT, status TEXT, value REAL, threshold REAL, unit TEXT, message TEXT, details TEXT",
                           nullptr, "options", CheckRows};

json PoolJson(sqlite3* db) {
  BusyFacts f = FileBusyFacts(db, NowUs() - kSlowWindowUs);
  bool in_tx = sqlite3_get_autocommit(db) == 0;
  json p;
  p["engine"] = "sqlite";
  p["connections"] = f.connections;
  p["max_connections"] = nullptr;
  p["utilization_percent"] = nullptr;
  // The states of this connection only: SQLite keeps no shared record of
  // what other connections (or processes) do.
  p["by_state"] = {{"active", 1}, {"waiting", f.waiting}, {"unknown", std::max(0, f.connections - 1 - f.waiting)}};
  p["this_connection"] = {{"in_transaction", in_tx}, {"busy_backoff", f.installed}};
  p["waiting"] = f.waiting;
  p["busy_waits"] = f.waits;
  p["busy_timeouts"] = f.timeouts;
  p["notes"] = "SQLite has no server and no connection limit: connections counts this process's connections to the"
               " file that loaded vigil; other processes are not seen. waiting counts those sleeping in"
               " vigil_busy_backoff()'s handler now.";
  return p;
}

void PoolStatus(sqlite3_context* ctx, int, sqlite3_value**) {
  ResultText(ctx, PoolJson(sqlite3_context_db_handle(ctx)).dump());
}

// vigil_metrics(): the default checks and the pool, as Prometheus text.
void Metrics(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::vector<hl::Result> results = Results(db, {});
  ResultText(ctx, hl::MetricsText(results, PoolJson(db)));
}

// vigil_busy_backoff(max_ms) -> max_ms now in force.
void BusyBackoff(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) throw core::Error(core::ErrorCode::kNullValue, "max_ms must not be NULL");
  if (sqlite3_value_numeric_type(argv[0]) != SQLITE_INTEGER)
    throw core::Error(core::ErrorCode::kInvalidParameter, "max_ms must be an integer number of milliseconds");
  sqlite3_int64 ms = sqlite3_value_int64(argv[0]);
  if (ms < 0 || ms > 3600000)
    throw core::Error(core::ErrorCode::kInvalidParameter, "max_ms must be from 0 to 3600000 (one hour)", {},
                      "0 removes the busy handler: a locked database then fails at once with SQLITE_BUSY.");
  SetBusyBackoff(sqlite3_context_db_handle(ctx), static_cast<int>(ms));
  sqlite3_result_int64(ctx, ms);
}

const Impl kImpls[] = {
    {"vigil_health", Bridge<Health>, nullptr, false},
    {"vigil_health_checks", nullptr, &kChecks, false},
    {"vigil_pool_status", Bridge<PoolStatus>, nullptr, false},
    {"vigil_metrics", Bridge<Metrics>, nullptr, false},
    {"vigil_busy_backoff", Bridge<BusyBackoff>, nullptr, false},
};

}  // namespace

std::span<const Impl> HealthImpls() { return kImpls; }

}  // namespace vigil::sqlite
