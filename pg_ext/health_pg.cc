// health_pg.cc — PostgreSQL's health checks, pool status, metrics and the
// thresholds' settings (SPEC §9, docs/health.md). The adapter measures
// with catalog and statistics queries run as the caller (pinned
// search_path, each in its own subtransaction: spi_guard.h); the core
// (health/health.h) grades, words and formats.
//
// Who sees what: the server-wide checks need the privileges of pg_monitor
// and report `skipped` without them; the checks over tables cover the
// tables the caller has a privilege on (all of them with
// pg_read_all_stats); vigil's own state is read as vigil_state's owner for
// members of pg_monitor and of vigil's reader roles, or through vigil's
// own functions with their own checks. Only a member of pg_monitor records
// state changes and raises alerts, and never on a standby or in a
// read-only transaction.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
}

#include <sys/statvfs.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/cancel.h"
#include "base/config.h"
#include "base/json.h"
#include "health/health.h"
#include "spi_guard.h"

namespace core = vigil::core;
namespace hl = vigil::core::health;
using nlohmann::json;
using vigil::pg::Run;

namespace {

// vigil.health_interval and the worker's last run.
int health_interval_s = 60;
TimestampTz last_health = 0;

// The thresholds, one int per key of core::HealthConfigKeys(), in order.
constexpr int kMaxKeys = 64;
int threshold_values[kMaxKeys];

// What the C side reads before the C++ side runs (phase 1).
struct Facts {
  bool monitor;            // privileges of pg_monitor
  bool reads_state;        // may read vigil's state counts (pg_monitor, vigil_reader, vigil_auditor)
  bool record;             // records states and alerts
  bool superuser;
  long slow;               // slow executions in the window, -1: monitoring not preloaded
  long slow_query_ms;
  int history_days;
  const char* schema;      // the extension's schema, quoted
  Oid owner;               // vigil_state's owner (InvalidOid: legacy layout)
  const char* data_dir;
};

constexpr long kSlowWindowUs = 15L * 60 * 1000000;

bool MemberOf(const char* role) {
  Oid r = get_role_oid(role, true);
  return OidIsValid(r) && has_privs_of_role(GetUserId(), r);
}

Facts ReadFacts(Oid extension_namespace, bool for_record) {
  Facts f;
  f.schema = quote_identifier(get_namespace_name(extension_namespace));
  f.monitor = has_privs_of_role(GetUserId(), ROLE_PG_MONITOR);
  f.reads_state = f.monitor || MemberOf("vigil_reader") || MemberOf("vigil_auditor");
  vigil::pg::State st = vigil::pg::CurrentState();
  f.owner = st.legacy ? InvalidOid : st.owner;
  f.superuser = superuser();
  f.record = for_record && f.monitor && OidIsValid(f.owner) && !RecoveryInProgress() && !XactReadOnly;
  f.slow = vigil::pg::SlowExecutionsSince(kSlowWindowUs);
  f.slow_query_ms = vigil::pg::SlowQueryMs();
  f.history_days = vigil::pg::HistoryDays();
  f.data_dir = DataDir;
  return f;
}

// ---- phase 2 (C++, throws) ---------------------------------------------------

using Rows = std::vector<vigil::pg::GuardedRow>;

// No check waits more than a second for a lock: a role holding one on its
// sequence, or a caller holding a health state row, makes that check (or
// that recording) fail and say so, not the call or the worker's loop wait
// (review of issue 18).
constexpr int kLockTimeoutMs = 1000;

Rows Q(const std::string& sql, const std::vector<std::optional<std::string>>& params = {}, Oid as = InvalidOid) {
  return vigil::pg::GuardedQuery(sql, params, as, vigil::pg::kPinnedPath, kLockTimeoutMs);
}

double D(const std::optional<std::string>& s) { return s ? std::strtod(s->c_str(), nullptr) : 0.0; }
long long I(const std::optional<std::string>& s) { return s ? std::strtoll(s->c_str(), nullptr, 10) : 0; }
std::string S(const std::optional<std::string>& s) { return s.value_or(""); }

void NeedMonitor(const Facts& f) {
  if (!f.monitor)
    throw core::Error(core::ErrorCode::kPrivilege, "needs the privileges of pg_monitor");
}

// The tables a caller's checks cover (the privilege model): every table
// with pg_read_all_stats, else those it holds some privilege on.
constexpr const char* kVisibleTable =
    "(pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE') OR pg_catalog.has_table_privilege(c.oid,"
    " 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'))";
constexpr const char* kUserSchema =
    "n.nspname NOT IN ('pg_catalog', 'information_schema', 'vigil_state') AND n.nspname !~ '^pg_toast'"
    " AND n.nspname !~ '^pg_temp_'";

struct Run1 {
  const Facts& facts;
  std::optional<json> index_health;
  std::optional<json> validate;
  // The index findings of the tables the caller may see (the privilege
  // model's rule for checks over tables), from query analysis's code.
  json& Indexes() {
    if (!index_health) {
      index_health = json::parse(vigil::pg::IndexHealthJson());
      std::set<std::string> visible;
      for (const auto& r : Q(std::string("SELECT n.nspname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) c.relname"
                                         " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
                                         " ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
                                         " WHERE c.relkind IN ('r', 'm') AND ") + kUserSchema + " AND " + kVisibleTable))
        visible.insert(S(r[0]));
      for (auto& [key, list] : index_health->items()) {
        if (!list.is_array()) continue;
        json kept = json::array();
        for (const json& x : list)
          if (visible.count(x.value("table", ""))) kept.push_back(x);
        list = std::move(kept);
      }
    }
    return *index_health;
  }
  json& Validate() {
    // Nothing registered and nothing recorded: nothing can have drifted,
    // and the catalog's snapshot (most of validate's cost) is not taken.
    if (!validate && facts.reads_state && OidIsValid(facts.owner)) {
      auto n = Q("SELECT ((SELECT pg_catalog.count(*) FROM vigil_state.vigil_migrations) OPERATOR(pg_catalog.+)"
                 " (SELECT pg_catalog.count(*) FROM vigil_state.vigil_migration_history))::text", {}, facts.owner);
      if (!n.empty() && S(n[0][0]) == "0")
        validate = hl::Unmigrated();
    }
    if (!validate) {
      // As the caller, under the caller's search_path: the schema snapshot
      // prints names as that path shows them, as the migrator recorded it
      // (pinned, every name would read schema-qualified: drift that is not
      // there). Its own privilege check decides who may see it.
      // Every name in it qualified: the path is the caller's (for the
      // worker, the database's, which its owner sets), and an unqualified
      // type name there would resolve to the owner's own (review of
      // issue 18: a cast named text ran as the worker's superuser).
      auto r = vigil::pg::GuardedQuery(std::string("SELECT ") + facts.schema +
                                           ".vigil_migration_validate()::pg_catalog.text",
                                       {}, InvalidOid, vigil::pg::kCallersPath, kLockTimeoutMs);
      validate = core::json_in::ParseInput(r.empty() ? "null" : S(r[0][0]), "validation");
    }
    return *validate;
  }
};

json Top(const Rows& rows, const char* name_key, const char* value_key) {
  json out = json::array();
  for (const auto& r : rows) out.push_back({{name_key, S(r[0])}, {value_key, hl::Round2(D(r[1]))}});
  return out;
}

hl::Measurement Measure(const std::string& check, Run1& run) {
  const Facts& f = run.facts;
  if (check == "response_time") {
    auto start = std::chrono::steady_clock::now();
    Q("SELECT pg_catalog.count(*) FROM pg_catalog.pg_class");
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return hl::Measured(ms, {}, {{"probe", "SELECT count(*) FROM pg_class"}});
  }
  if (check == "connections") {
    NeedMonitor(f);
    auto r = Q("SELECT pg_catalog.count(*) FILTER (WHERE backend_type = 'client backend'),"
               " pg_catalog.current_setting('max_connections')::int"
               " - pg_catalog.current_setting('superuser_reserved_connections')::int FROM pg_catalog.pg_stat_activity");
    double used = D(r[0][0]), max = D(r[0][1]);
    return hl::Measured(max > 0 ? 100.0 * used / max : 0, {}, {{"connections", I(r[0][0])}, {"max_connections", I(r[0][1])}});
  }
  if (check == "idle_in_transaction" || check == "long_running") {
    NeedMonitor(f);
    bool idle = check == "idle_in_transaction";
    std::string sql = std::string("SELECT pid::text, EXTRACT(epoch FROM pg_catalog.now() OPERATOR(pg_catalog.-) ") +
                      (idle ? "state_change" : "query_start") +
                      "), usename, application_name FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend'"
                      " AND pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid() AND " +
                      (idle ? "state IN ('idle in transaction', 'idle in transaction (aborted)')"
                            : "state = 'active'") +
                      " ORDER BY 2 DESC NULLS LAST LIMIT 5";
    auto rows = Q(sql);
    json sessions = json::array();
    for (const auto& r : rows)
      sessions.push_back({{"pid", std::stol(S(r[0]))}, {"seconds", hl::Round2(D(r[1]))}, {"user", S(r[2])},
                          {"application_name", S(r[3])}});
    if (rows.empty()) return hl::Measured(0, {}, {{"sessions", sessions}});
    return hl::Measured(D(rows[0][1]), "pid " + S(rows[0][0]) + ", " + S(rows[0][2]), {{"sessions", sessions}});
  }
  if (check == "lock_waits") {
    NeedMonitor(f);
    auto rows = Q("SELECT l.pid::text, EXTRACT(epoch FROM pg_catalog.now() OPERATOR(pg_catalog.-) l.waitstart)"
                  " OPERATOR(pg_catalog.*) 1000, pg_catalog.pg_blocking_pids(l.pid)::text, l.locktype, l.mode"
                  " FROM pg_catalog.pg_locks l WHERE NOT l.granted AND l.waitstart IS NOT NULL ORDER BY 2 DESC LIMIT 5");
    auto dl = Q("SELECT deadlocks::text FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()");
    json waits = json::array();
    for (const auto& r : rows)
      waits.push_back({{"pid", std::stol(S(r[0]))}, {"ms", hl::Round2(D(r[1]))}, {"blocked_by", S(r[2])},
                       {"locktype", S(r[3])}, {"mode", S(r[4])}});
    json d = {{"waiting", waits}, {"deadlocks", dl.empty() ? json(nullptr) : json(I(dl[0][0]))}};
    if (rows.empty()) return hl::Measured(0, {}, d);
    return hl::Measured(D(rows[0][1]), "pid " + S(rows[0][0]) + " blocked by " + S(rows[0][2]), d);
  }
  if (check == "replication_lag") {
    NeedMonitor(f);
    auto standby = Q("SELECT pg_catalog.pg_is_in_recovery()::text");
    if (S(standby[0][0]) == "true") {
      auto r = Q("SELECT CASE WHEN pg_catalog.pg_last_wal_receive_lsn() OPERATOR(pg_catalog.=) pg_catalog.pg_last_wal_replay_lsn()"
                 " THEN 0 ELSE EXTRACT(epoch FROM pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.pg_last_xact_replay_timestamp()) END");
      if (!r[0][0]) return hl::NothingMeasured("replication lag: this standby has replayed nothing yet");
      return hl::Measured(D(r[0][0]), "this standby", {{"role", "standby"}});
    }
    auto rows = Q("SELECT application_name, COALESCE(EXTRACT(epoch FROM replay_lag), 0),"
                  " pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), replay_lsn), state,"
                  " COALESCE(EXTRACT(epoch FROM write_lag), 0), COALESCE(EXTRACT(epoch FROM flush_lag), 0)"
                  " FROM pg_catalog.pg_stat_replication ORDER BY 2 DESC");
    // A physical slot nobody streams from: its standby is gone (and the
    // slot keeps WAL for it). What the primary knows of a standby it
    // expects; without a slot a standby that left is not missed.
    auto missing = Q("SELECT slot_name::text FROM pg_catalog.pg_replication_slots"
                     " WHERE slot_type = 'physical' AND NOT active AND restart_lsn IS NOT NULL ORDER BY 1");
    json standbys = json::array();
    for (const auto& r : rows)
      standbys.push_back({{"application_name", S(r[0])}, {"replay_lag_s", hl::Round2(D(r[1]))},
                          {"write_lag_s", hl::Round2(D(r[4]))}, {"flush_lag_s", hl::Round2(D(r[5]))},
                          {"behind_bytes", r[2] ? json(I(r[2])) : json(nullptr)}, {"state", S(r[3])}});
    json missing_slots = json::array();
    for (const auto& r : missing) missing_slots.push_back(S(r[0]));
    json details = {{"role", "primary"}, {"standbys", standbys}, {"missing", missing_slots}};
    if (!missing.empty())
      return hl::Verdict(hl::Status::kCritical,
                         "the standby of replication slot " + S(missing[0][0]) +
                             " is not connected (the slot keeps WAL for it until it returns).",
                         details);
    if (rows.empty()) return hl::Skipped("no standby is connected and this server is not a standby");
    return hl::Measured(D(rows[0][1]), "standby " + S(rows[0][0]), details);
  }
  if (check == "replication_slots") {
    NeedMonitor(f);
    auto rows = Q("SELECT slot_name::text, pg_catalog.pg_wal_lsn_diff(CASE WHEN pg_catalog.pg_is_in_recovery()"
                  " THEN pg_catalog.pg_last_wal_receive_lsn() ELSE pg_catalog.pg_current_wal_lsn() END, restart_lsn)"
                  " OPERATOR(pg_catalog./) 1048576.0 FROM pg_catalog.pg_replication_slots WHERE NOT active"
                  " ORDER BY 2 DESC NULLS LAST");
    double total = 0;
    for (const auto& r : rows) total += D(r[1]);
    return hl::Measured(total, rows.empty() ? "" : "slot " + S(rows[0][0]), {{"inactive", Top(rows, "slot", "mb")}});
  }
  if (check == "wraparound") {
    NeedMonitor(f);
    auto r = Q("SELECT datname::text, pg_catalog.age(datfrozenxid), pg_catalog.mxid_age(datminmxid)"
               " FROM pg_catalog.pg_database ORDER BY GREATEST(pg_catalog.age(datfrozenxid),"
               " pg_catalog.mxid_age(datminmxid)) DESC LIMIT 1");
    double xid = D(r[0][1]), mxid = D(r[0][2]);
    double pct = 100.0 * std::max(xid, mxid) / 2147483648.0;
    return hl::Measured(pct, "database " + S(r[0][0]), {{"xid_age", I(r[0][1])}, {"mxid_age", I(r[0][2])}});
  }
  if (check == "disk_space") {
    NeedMonitor(f);
    double worst = 101;
    std::string where;
    json d = json::object();
    for (const char* sub : {"", "/pg_wal"}) {
      std::string path = std::string(f.data_dir) + sub;
      struct statvfs st;
      if (statvfs(path.c_str(), &st) != 0 || st.f_blocks == 0) continue;
      double pct = 100.0 * static_cast<double>(st.f_bavail) / static_cast<double>(st.f_blocks);
      double mb = static_cast<double>(st.f_frsize) / 1048576.0;
      const char* name = *sub ? "pg_wal" : "data directory";
      d[name] = {{"free_percent", hl::Round2(pct)}, {"free_mb", hl::Round2(static_cast<double>(st.f_bavail) * mb)},
                 {"total_mb", hl::Round2(static_cast<double>(st.f_blocks) * mb)}};
      if (pct < worst) {
        worst = pct;
        where = name;
      }
    }
    if (where.empty()) return hl::Skipped("statvfs failed on the data directory");
    return hl::Measured(worst, where, d);
  }
  if (check == "database_size") {
    auto r = Q("SELECT pg_catalog.pg_database_size(pg_catalog.current_database()) OPERATOR(pg_catalog./) 1048576.0");
    return hl::Measured(D(r[0][0]), {}, nullptr);
  }
  if (check == "table_sizes") {
    // The pages the catalog records (VACUUM, ANALYZE and CREATE INDEX keep
    // them) for the table, its TOAST table and its indexes. Measuring the
    // files (pg_total_relation_size) would lock each table and wait behind
    // any role holding a lock on one: a health check must not queue.
    auto rows = Q(std::string("SELECT name, pages::float8 OPERATOR(pg_catalog.*) pg_catalog.current_setting('block_size')::float8"
                              " OPERATOR(pg_catalog./) 1048576.0"
                              " FROM (SELECT c.oid, n.nspname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) c.relname AS name,"
                              " c.relpages OPERATOR(pg_catalog.+) COALESCE((SELECT t.relpages FROM pg_catalog.pg_class t"
                              " WHERE t.oid OPERATOR(pg_catalog.=) c.reltoastrelid), 0) OPERATOR(pg_catalog.+)"
                              " COALESCE((SELECT pg_catalog.sum(ic.relpages) FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class ic"
                              " ON ic.oid OPERATOR(pg_catalog.=) x.indexrelid WHERE x.indrelid OPERATOR(pg_catalog.=) c.oid), 0) AS pages"
                              " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
                              " WHERE c.relkind IN ('r', 'm', 'p') AND ") + kUserSchema + " AND " + kVisibleTable +
                  " ORDER BY pages DESC LIMIT 5) largest ORDER BY 2 DESC");
    if (rows.empty()) return hl::NothingMeasured("no user table (or none you have a privilege on)");
    return hl::Measured(D(rows[0][1]), S(rows[0][0]), {{"largest", Top(rows, "table", "mb")}});
  }
  if (check == "cache_hit") {
    auto r = Q("SELECT blks_hit, blks_read FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()");
    double hit = r.empty() ? 0 : D(r[0][0]), read = r.empty() ? 0 : D(r[0][1]);
    json d = {{"hits", r.empty() ? 0 : I(r[0][0])}, {"reads", r.empty() ? 0 : I(r[0][1])}};
    if (hit + read < 1000) return hl::NothingMeasured("cache hit ratio: too few block reads to judge", d);
    return hl::Measured(100.0 * hit / (hit + read), "this database", d);
  }
  if (check == "dead_tuples") {
    auto rows = Q(std::string("SELECT s.schemaname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) s.relname,"
                              " 100.0 OPERATOR(pg_catalog.*) s.n_dead_tup OPERATOR(pg_catalog./)"
                              " (s.n_live_tup OPERATOR(pg_catalog.+) s.n_dead_tup), s.n_dead_tup"
                              " FROM pg_catalog.pg_stat_user_tables s JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.relid"
                              " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
                              " WHERE s.n_dead_tup >= 1000 AND ") + kUserSchema + " AND " + kVisibleTable +
                  " ORDER BY 2 DESC LIMIT 5");
    if (rows.empty()) return hl::Measured(0, {}, {{"tables", json::array()}});
    return hl::Measured(D(rows[0][1]), S(rows[0][0]), {{"tables", Top(rows, "table", "dead_percent")}});
  }
  if (check == "vacuum_age") {
    // Tables whose dead rows exceed autovacuum's own trigger (the server's
    // threshold and scale factor), by the time since their last vacuum
    // (never: since the statistics were reset or the server started).
    auto rows = Q(std::string(
                      "SELECT s.schemaname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) s.relname,"
                      " EXTRACT(epoch FROM pg_catalog.now() OPERATOR(pg_catalog.-) COALESCE(GREATEST(s.last_vacuum, s.last_autovacuum),"
                      " (SELECT d.stats_reset FROM pg_catalog.pg_stat_database d WHERE d.datname = pg_catalog.current_database()),"
                      " pg_catalog.pg_postmaster_start_time())) OPERATOR(pg_catalog./) 3600, s.n_dead_tup"
                      " FROM pg_catalog.pg_stat_user_tables s JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.relid"
                      " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
                      " WHERE s.n_dead_tup OPERATOR(pg_catalog.>) (pg_catalog.current_setting('autovacuum_vacuum_threshold')::float8"
                      " OPERATOR(pg_catalog.+) (pg_catalog.current_setting('autovacuum_vacuum_scale_factor')::float8"
                      " OPERATOR(pg_catalog.*) GREATEST(c.reltuples, 0))) AND ") +
                  kUserSchema + " AND " + kVisibleTable + " ORDER BY 2 DESC LIMIT 5");
    if (rows.empty()) return hl::Measured(0, {}, {{"tables", json::array()}});
    return hl::Measured(D(rows[0][1]), S(rows[0][0]), {{"tables", Top(rows, "table", "hours")}});
  }
  if (check == "invalid_indexes" || check == "duplicate_indexes" || check == "unused_indexes") {
    json& h = run.Indexes();
    json list = h.value(check, json::array());
    if (list.is_null()) list = json::array();
    std::string subject;
    if (!list.empty()) subject = list[0].value("table", "") + "." + list[0].value("index", "");
    return hl::Measured(static_cast<double>(list.size()), subject, {{"indexes", list}});
  }
  if (check == "sequences") {
    auto rows = Q("SELECT schemaname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) sequencename,"
                  " CASE WHEN increment_by OPERATOR(pg_catalog.>) 0"
                  " THEN 100.0 OPERATOR(pg_catalog.*) (last_value::numeric OPERATOR(pg_catalog.-) min_value)"
                  " OPERATOR(pg_catalog./) NULLIF(max_value::numeric OPERATOR(pg_catalog.-) min_value, 0)"
                  " ELSE 100.0 OPERATOR(pg_catalog.*) (max_value::numeric OPERATOR(pg_catalog.-) last_value)"
                  " OPERATOR(pg_catalog./) NULLIF(max_value::numeric OPERATOR(pg_catalog.-) min_value, 0) END"
                  " FROM pg_catalog.pg_sequences WHERE last_value IS NOT NULL AND NOT cycle"
                  " AND schemaname NOT IN ('pg_catalog', 'information_schema', 'vigil_state')"
                  " ORDER BY 2 DESC NULLS LAST LIMIT 5",
                  // A sequence's value needs a privilege on it, which
                  // pg_monitor does not give: its members read through the
                  // owner (percentages and names, which the catalog shows
                  // anyway); others see the sequences they may read.
                  {}, f.monitor ? f.owner : InvalidOid);
    if (rows.empty()) return hl::Measured(0, {}, {{"sequences", json::array()}});
    return hl::Measured(D(rows[0][1]), S(rows[0][0]), {{"sequences", Top(rows, "sequence", "used_percent")}});
  }
  if (check == "wal_archiving") {
    NeedMonitor(f);
    auto r = Q("SELECT pg_catalog.current_setting('archive_mode'), failed_count::text, last_failed_wal,"
               " last_failed_time::text, last_archived_time::text,"
               " (last_failed_time IS NOT NULL AND (last_archived_time IS NULL OR last_failed_time OPERATOR(pg_catalog.>) last_archived_time))::text"
               " FROM pg_catalog.pg_stat_archiver");
    if (S(r[0][0]) == "off") return hl::Skipped("archive_mode is off: this server archives no WAL");
    json d = {{"failed_count", I(r[0][1])}, {"last_failed_wal", r[0][2] ? json(S(r[0][2])) : json(nullptr)},
              {"last_failed_time", r[0][3] ? json(S(r[0][3])) : json(nullptr)},
              {"last_archived_time", r[0][4] ? json(S(r[0][4])) : json(nullptr)}};
    bool failing = S(r[0][5]) == "true";
    return hl::Measured(failing ? 1 : 0, failing ? "WAL " + S(r[0][2]) : "", d);
  }
  if (check == "ssl") {
    NeedMonitor(f);
    auto rows = Q("SELECT a.pid::text, a.usename, a.client_addr::text FROM pg_catalog.pg_stat_activity a"
                  " JOIN pg_catalog.pg_stat_ssl s ON s.pid OPERATOR(pg_catalog.=) a.pid"
                  " WHERE a.backend_type = 'client backend' AND a.client_addr IS NOT NULL AND NOT s.ssl"
                  " AND NOT (a.client_addr OPERATOR(pg_catalog.<<=) '127.0.0.0/8'::inet"
                  " OR a.client_addr OPERATOR(pg_catalog.=) '::1'::inet) LIMIT 1000");
    json sessions = json::array();
    for (std::size_t i = 0; i < rows.size() && i < 10; ++i)
      sessions.push_back({{"pid", std::stol(S(rows[i][0]))}, {"user", S(rows[i][1])}, {"client_addr", S(rows[i][2])}});
    return hl::Measured(static_cast<double>(rows.size()), rows.empty() ? "" : "pid " + S(rows[0][0]), {{"sessions", sessions}});
  }
  if (check == "slow_queries") {
    if (f.slow < 0) return hl::Skipped("statement monitoring is not running (shared_preload_libraries = 'vigil')");
    return hl::Measured(static_cast<double>(f.slow), f.monitor ? "" : "your statements",
                 {{"slow_query_ms", f.slow_query_ms}});
  }
  if (check == "quality_score") {
    if (!f.reads_state || !OidIsValid(f.owner)) throw core::Error(core::ErrorCode::kPrivilege, "needs the privileges of pg_monitor or vigil_reader");
    auto r = Q("SELECT score::text, at::text FROM vigil_state.vigil_quality_history WHERE table_name IS NULL"
               " ORDER BY id DESC LIMIT 1", {}, f.owner);
    if (r.empty()) return hl::NothingMeasured("no quality report has run yet (vigil_quality_report())");
    return hl::Measured(D(r[0][0]), "report of " + S(r[0][1]));
  }
  if (check == "enforcement") {
    // vigil_enforce triggers that do not fire: disabled, or every ordinary
    // trigger off because session_replication_role is replica.
    auto rows = Q(std::string("SELECT n.nspname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) c.relname"
                              " FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid"
                              " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
                              " WHERE t.tgname = 'vigil_enforce' AND (t.tgenabled = 'D' OR (t.tgenabled = 'O'"
                              " AND pg_catalog.current_setting('session_replication_role') = 'replica')) AND ") +
                  kVisibleTable + " ORDER BY 1 LIMIT 1000");
    json tables = json::array();
    for (const auto& r : rows) tables.push_back(S(r[0]));
    return hl::Measured(static_cast<double>(rows.size()), rows.empty() ? "" : S(rows[0][0]), {{"tables", tables}});
  }
  if (check == "migrations") {
    std::vector<std::string> failed;
    for (const auto& r : Q(std::string("SELECT version FROM ") + f.schema +
                           ".vigil_migration_status() WHERE state IN ('failed', 'interrupted')"))
      failed.push_back(S(r[0]));
    return hl::MigrationsFrom(run.Validate(), failed);
  }
  if (check == "schema_drift") return hl::SchemaDriftFrom(run.Validate());
  if (check == "audit_backlog") {
    if (!f.reads_state || !OidIsValid(f.owner))
      throw core::Error(core::ErrorCode::kPrivilege, "needs the privileges of pg_monitor, vigil_reader or vigil_auditor");
    // Entries not sealed yet, written after the newest sealed one: found
    // through the indexes, at a cost bounded by the backlog; and the staged
    // ones (docs/audit.md "Staged entries"), a row per batch.
    auto r = Q("SELECT ((SELECT pg_catalog.count(*) FROM vigil_state.vigil_audit_log WHERE seq IS NULL"
               " AND id OPERATOR(pg_catalog.>) COALESCE((SELECT id FROM vigil_state.vigil_audit_log"
               " WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1), 0)) OPERATOR(pg_catalog.+)"
               " COALESCE((SELECT pg_catalog.sum(n) FROM vigil_state.vigil_audit_batch), 0))::text",
               {}, f.owner);
    return hl::Measured(D(r[0][0]));
  }
  if (check == "audit_chain") {
    // As the caller: vigil_audit_verify's own check (vigil_auditor) decides.
    // The argument typed: a zero-argument overload planted in the same
    // schema cannot make the call ambiguous.
    auto r = Q(std::string("SELECT ") + f.schema + ".vigil_audit_verify(NULL::pg_catalog.text)::pg_catalog.text");
    return hl::AuditChainFrom(core::json_in::ParseInput(r.empty() ? "null" : S(r[0][0]), "verification"));
  }
  throw core::Error(core::ErrorCode::kInternal, "no PostgreSQL measurement for check " + check);
}

long Threshold(const char* key) {
  auto keys = core::HealthConfigKeys();
  for (std::size_t i = 0; i < keys.size() && i < kMaxKeys; ++i)
    if (std::strcmp(keys[i].key, key) == 0) return threshold_values[i];
  if (std::strcmp(key, "quality_alert_score") == 0) return vigil::pg::QualityAlertScore();
  return std::stol(core::FindConfig(key).default_value);
}

bool Fatal(const core::Error& e) {
  // A cancel, a statement_timeout or a shutdown ends the call.
  return e.engine_code() == ERRCODE_QUERY_CANCELED || e.engine_code() == ERRCODE_ADMIN_SHUTDOWN;
}

std::vector<hl::Result> Results(const Facts& f, const hl::Options& options) {
  Run1 run{f, std::nullopt, std::nullopt};
  return hl::RunChecks(hl::kPostgres, options, [&](const hl::CheckDef& c) { return Measure(c.name, run); }, Threshold,
                       Fatal);
}

json PoolJson(const Facts& f) {
  auto rows = Q("SELECT COALESCE(state, 'unknown'), pg_catalog.count(*)::text FROM pg_catalog.pg_stat_activity"
                " WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 1");
  auto r = Q("SELECT pg_catalog.current_setting('max_connections')::int"
             " - pg_catalog.current_setting('superuser_reserved_connections')::int,"
             " (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity WHERE wait_event_type = 'Lock'),"
             " (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity WHERE backend_type <> 'client backend'),"
             " (SELECT deadlocks FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database())");
  json p;
  p["engine"] = "postgresql";
  double total = 0;
  json by_state = json::object();
  for (const auto& row : rows) {
    std::string state = S(row[0]);
    for (char& ch : state) if (ch == ' ') ch = '_';
    by_state[state] = I(row[1]);
    total += D(row[1]);
  }
  double max = D(r[0][0]);
  p["connections"] = static_cast<long long>(total);
  p["max_connections"] = I(r[0][0]);
  p["utilization_percent"] = max > 0 ? json(hl::Round2(100.0 * total / max)) : json(nullptr);
  p["by_state"] = by_state;
  p["waiting"] = I(r[0][1]);
  p["background_processes"] = I(r[0][2]);
  // A counter since the statistics were reset: Prometheus alerts on its
  // increase (vigil-alerts.yml), which no single call can see.
  p["deadlocks"] = r[0][3] ? json(I(r[0][3])) : json(nullptr);
  p["notes"] = f.monitor ? "client backends of the whole server; waiting: sessions waiting for a heavyweight lock"
                         : "the states of other roles' sessions need pg_read_all_stats (shown as unknown)";
  return p;
}

// Record keeps each check's state (vigil_state.vigil_health_state) and
// raises an alert with NOTIFY when it changed, as vigil_state's owner, in
// one statement: the state and its alert are written together or not at
// all. What a change raises is the core's decision (DecideTransition),
// computed for each status the row could hold and picked in SQL by the one
// it does hold. Concurrent callers: the row lock and the re-checked
// condition make one of them see the change, once.
int Record(const Facts& f, const std::vector<hl::Result>& results, const std::string& at) {
  json input = json::array();
  for (const hl::Result& r : results) {
    if (r.status == hl::Status::kSkipped) continue;
    json transitions = json::object();
    for (const char* from : {"ok", "warning", "critical"})
      if (auto t = hl::DecideTransition(r, std::string(from)))
        transitions[from] = {{"severity", t->severity}, {"message", t->message}, {"details", json::parse(t->details)}};
    input.push_back({{"check", r.check}, {"status", hl::StatusName(r.status)},
                     {"value", r.value ? json(*r.value) : json(nullptr)}, {"message", r.message},
                     {"transitions", transitions}});
  }
  if (input.empty()) return 0;
  std::string in = input.dump(-1, ' ', false, json::error_handler_t::replace);
  // A check never recorded is ok (DecideTransition's rule): its row starts
  // so, and a row alone changes nothing.
  Q("INSERT INTO vigil_state.vigil_health_state (\"check\", status, since)"
    " SELECT x.\"check\", 'ok', $2::timestamptz FROM pg_catalog.jsonb_to_recordset($1::jsonb) AS x(\"check\" text)"
    " ON CONFLICT (\"check\") DO NOTHING",
    {in, at}, f.owner);
  auto raised = Q("WITH input AS (SELECT * FROM pg_catalog.jsonb_to_recordset($1::jsonb)"
                  " AS x(\"check\" text, status text, value float8, message text, transitions jsonb)),"
                  " prev AS (SELECT s.\"check\", s.status FROM vigil_state.vigil_health_state s JOIN input i"
                  " ON i.\"check\" OPERATOR(pg_catalog.=) s.\"check\" WHERE s.status OPERATOR(pg_catalog.<>) i.status"
                  " FOR UPDATE OF s),"
                  " upd AS (UPDATE vigil_state.vigil_health_state s SET status = i.status, since = $2::timestamptz,"
                  " value = i.value, message = i.message FROM prev p JOIN input i ON i.\"check\" OPERATOR(pg_catalog.=) p.\"check\""
                  " WHERE s.\"check\" OPERATOR(pg_catalog.=) p.\"check\""
                  " RETURNING s.\"check\", i.transitions OPERATOR(pg_catalog.->) p.status AS t),"
                  " a AS (INSERT INTO vigil_state.vigil_alerts (at, source, severity, \"check\", message, details)"
                  " SELECT $2::timestamptz, 'health', u.t OPERATOR(pg_catalog.->>) 'severity', u.\"check\","
                  " u.t OPERATOR(pg_catalog.->>) 'message', u.t OPERATOR(pg_catalog.->) 'details'"
                  " FROM upd u WHERE u.t IS NOT NULL RETURNING id, \"check\")"
                  " SELECT pg_catalog.pg_notify('vigil_alerts', pg_catalog.json_build_object('id', a.id, 'kind', a.\"check\")::text)"
                  " FROM a",
                  {in, at}, f.owner);
  return static_cast<int>(raised.size());
}

// AppendHistory keeps a run in vigil_state.vigil_health_history (as its
// owner) and deletes what is older than vigil.history_days.
void AppendHistory(const Facts& f, const std::vector<hl::Result>& results, const std::string& at, const char* source) {
  Q("INSERT INTO vigil_state.vigil_health_history (at, status, checks, source)"
    " VALUES ($1::timestamptz, $2, $3::jsonb, $4)",
    {at, std::string(hl::Overall(results)), hl::HistoryChecks(results), std::string(source)}, f.owner);
  Q("DELETE FROM vigil_state.vigil_health_history WHERE at OPERATOR(pg_catalog.<) ($1::timestamptz"
    " OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => $2::int))",
    {at, std::to_string(f.history_days)}, f.owner);
}

std::string NowText() {
  auto r = Q("SELECT pg_catalog.to_char(pg_catalog.now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
  return S(r[0][0]);
}

char* CopyInto(MemoryContext context, const std::string& s) {
  MemoryContext old = MemoryContextSwitchTo(context);
  char* copy = vigil::pg::CopyCString(s);
  MemoryContextSwitchTo(old);
  return copy;
}

char* OptionsArg(FunctionCallInfo fcinfo) {
  if (PG_NARGS() == 0 || PG_ARGISNULL(0)) return nullptr;
  Jsonb* jb = PG_GETARG_JSONB_P(0);
  return JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
}

}  // namespace

void vigil::pg::DefineHealthSettings() {
  const core::ConfigKey* interval = Run([] { return &core::FindConfig("health_interval"); });
  DefineCustomIntVariable("vigil.health_interval", interval->description, nullptr, &health_interval_s,
                          std::atoi(interval->default_value), static_cast<int>(interval->min),
                          static_cast<int>(interval->max), PGC_SIGHUP, GUC_UNIT_S, nullptr, nullptr, nullptr);
  auto keys = core::HealthConfigKeys();
  for (std::size_t i = 0; i < keys.size() && i < kMaxKeys; ++i) {
    const core::ConfigKey& k = keys[i];
    threshold_values[i] = std::atoi(k.default_value);
    std::size_t len = std::strlen(k.key);
    auto ends = [&](const char* suffix) {
      std::size_t n = std::strlen(suffix);
      return len > n && std::strcmp(k.key + len - n, suffix) == 0;
    };
    int flags = ends("_ms") ? GUC_UNIT_MS : ends("_s") ? GUC_UNIT_S : ends("_mb") ? GUC_UNIT_MB : 0;
    // Superuser-only: the thresholds decide which alerts are recorded.
    DefineCustomIntVariable(psprintf("vigil.%s", k.key), k.description, nullptr, &threshold_values[i],
                            threshold_values[i], static_cast<int>(k.min),
                            static_cast<int>(std::min<long>(k.max, PG_INT32_MAX)), PGC_SUSET, flags, nullptr, nullptr,
                            nullptr);
  }
}

// vigil_health(options jsonb DEFAULT '{}') -> jsonb
VIGIL_PG_FUNCTION(vigil_health) {
  char* options = OptionsArg(fcinfo);
  Facts facts = ReadFacts(get_func_namespace(fcinfo->flinfo->fn_oid), true);
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* result = Run([&] {
    hl::Options o = options ? hl::ParseOptions(options) : hl::Options{};
    std::vector<hl::Result> results = Results(facts, o);
    std::string at = NowText();
    std::optional<int> raised;
    std::string not_recorded;
    // A lock timeout or a full disk while recording: the checks are still
    // the answer (the statement that failed left nothing behind).
    if (facts.record)
      raised = hl::TryRecord(
          [&] {
            int n = Record(facts, results, at);
            // History rows are the worker's; a call keeps one only for a
            // superuser (a monitoring role calling in a loop would fill the
            // disk: review of issue 18).
            if (o.record && facts.superuser) AppendHistory(facts, results, at, "call");
            return n;
          },
          Fatal, &not_recorded);
    return CopyInto(caller, hl::HealthJson(results, at, "postgresql", raised, not_recorded));
  });
  SPI_finish();
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}

// vigil_health_checks(options jsonb DEFAULT '{}') -> SETOF (check, status,
// value, threshold, unit, message, details): records nothing.
VIGIL_PG_FUNCTION(vigil_health_checks) {
  char* options = OptionsArg(fcinfo);
  Facts facts = ReadFacts(get_func_namespace(fcinfo->flinfo->fn_oid), false);
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  AttInMetadata* meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
  MemoryContext caller = CurrentMemoryContext;
  constexpr int kColumns = 7;
  int nrows = 0;
  char*** rows = nullptr;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  Run([&] {
    hl::Options o = options ? hl::ParseOptions(options) : hl::Options{};
    std::vector<hl::Result> results = Results(facts, o);
    nrows = static_cast<int>(results.size());
    rows = static_cast<char***>(vigil::pg::AllocNoThrowIn(caller, sizeof(char**) * (nrows + 1)));
    auto copy = [&](const std::optional<std::string>& s) { return vigil::pg::CopyCStringIn(caller, s); };
    auto number = [](const std::optional<double>& v) -> std::optional<std::string> {
      if (!v) return std::nullopt;
      char buf[64];
      snprintf(buf, sizeof(buf), "%.15g", *v);
      return std::string(buf);
    };
    for (int i = 0; i < nrows; ++i) {
      const hl::Result& r = results[i];
      rows[i] = static_cast<char**>(vigil::pg::AllocNoThrowIn(caller, sizeof(char*) * kColumns));
      rows[i][0] = copy(r.check);
      rows[i][1] = copy(std::string(hl::StatusName(r.status)));
      rows[i][2] = copy(number(r.value));
      rows[i][3] = copy(number(r.threshold));
      rows[i][4] = copy(r.unit.empty() ? std::nullopt : std::optional<std::string>(r.unit));
      rows[i][5] = copy(r.message);
      rows[i][6] = copy(r.details.is_null() ? std::nullopt
                                            : std::optional<std::string>(r.details.dump(-1, ' ', false, json::error_handler_t::replace)));
    }
  });
  SPI_finish();
  for (int i = 0; i < nrows; ++i) tuplestore_puttuple(rsinfo->setResult, BuildTupleFromCStrings(meta, rows[i]));
  return (Datum)0;
}

// vigil_pool_status() -> jsonb
VIGIL_PG_FUNCTION(vigil_pool_status) {
  Facts facts = ReadFacts(get_func_namespace(fcinfo->flinfo->fn_oid), false);
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* result = Run([&] { return CopyInto(caller, PoolJson(facts).dump()); });
  SPI_finish();
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}

// vigil_metrics() -> text: the default checks and the pool, Prometheus text.
VIGIL_PG_FUNCTION(vigil_metrics) {
  Facts facts = ReadFacts(get_func_namespace(fcinfo->flinfo->fn_oid), false);
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* result = Run([&] { return CopyInto(caller, hl::MetricsText(Results(facts, {}), PoolJson(facts))); });
  SPI_finish();
  PG_RETURN_TEXT_P(cstring_to_text(result));
}

// HealthFromWorker: the worker's health task (bgworker_pg.cc): every
// vigil.health_interval seconds, the default checks in vigil.database, as
// the worker's role (the bootstrap superuser: every check runs), their
// states and alerts recorded and a history row kept. Not on a standby (the
// worker starts once recovery has finished; a standby's own state is read
// with vigil_health() there) and not where vigil is not installed.
void vigil::pg::HealthFromWorker() {
  if (health_interval_s <= 0 || RecoveryInProgress()) return;
  TimestampTz now = GetCurrentTimestamp();
  if (last_health != 0 && !TimestampDifferenceExceeds(last_health, now, health_interval_s * 1000)) return;
  Oid nsp = vigil::pg::ExtensionNamespace();
  if (!OidIsValid(nsp)) return;
  Facts facts = ReadFacts(nsp, true);
  if (!facts.record) return;
  // A round that fails is logged once per interval, not once per loop.
  last_health = now;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  Run([&] {
    std::vector<hl::Result> results = Results(facts, {});
    std::string at = NowText();
    Record(facts, results, at);
    AppendHistory(facts, results, at, "worker");
  });
  SPI_finish();
}

// vigil_busy_backoff(max_ms) -> integer: SQLite's; PostgreSQL waits on locks
// itself.
VIGIL_PG_FUNCTION(vigil_busy_backoff) {
  ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                  errmsg("vigil_busy_backoff is SQLite's: PostgreSQL queues lock waiters itself"),
                  errhint("Bound waits with SET lock_timeout (and deadlock_timeout); retry on SQLSTATE 55P03.")));
  PG_RETURN_NULL();
}
