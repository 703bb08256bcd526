// health.cc — the health checks' table, grading, documents, alerts and
// Prometheus text (health.h).
#include "health/health.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "base/cancel.h"
#include "base/json.h"
#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core::health {
namespace {

using nlohmann::ordered_json;
constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

// Name, engines, deep on, label, unit, warning key, critical key, fixed
// warning, fixed critical, higher is worse, zero disables, alerts, remedy.
constexpr CheckDef kChecks[] = {
    {"response_time", kBoth, 0, "catalog probe time", "ms", "response_time_warning_ms", "response_time_critical_ms",
     kNone, kNone, true, false, true,
     "Look for load, I/O saturation or a lock on the catalog (lock_waits, vigil_pool_status())."},
    {"connections", kPostgres, 0, "connection utilisation", "percent", "connections_warning_percent",
     "connections_critical_percent", kNone, kNone, true, false, true,
     "Put a connection pooler (PgBouncer) in front, close idle sessions, or raise max_connections."},
    {"idle_in_transaction", kPostgres, 0, "longest idle-in-transaction session", "s", "idle_in_transaction_warning_s",
     "idle_in_transaction_critical_s", kNone, kNone, true, false, true,
     "Find it in pg_stat_activity (state 'idle in transaction'), fix the code that leaves it open, and set "
     "idle_in_transaction_session_timeout."},
    {"long_running", kPostgres, 0, "longest running statement", "s", "long_running_warning_s", "long_running_critical_s",
     kNone, kNone, true, false, true,
     "Look at it in pg_stat_activity; cancel it with pg_cancel_backend(pid) or bound it with statement_timeout."},
    {"lock_waits", kBoth, 0, "longest lock wait", "ms", "lock_wait_warning_ms", "lock_wait_critical_ms", kNone, kNone,
     true, false, true,
     "Find the blocker (PostgreSQL: pg_blocking_pids(pid)) and end its transaction; keep write transactions short "
     "(SQLite: WAL and vigil_busy_backoff())."},
    {"replication_lag", kPostgres, 0, "replication lag", "s", "replication_lag_warning_s", "replication_lag_critical_s",
     kNone, kNone, true, false, true,
     "Bring a missing standby back, or drop its slot (pg_drop_replication_slot); for lag, check the standby's "
     "network, disk and replay conflicts (pg_stat_replication, pg_stat_database_conflicts)."},
    {"replication_slots", kPostgres, 0, "WAL held by inactive replication slots", "MB", "inactive_slot_warning_mb",
     "inactive_slot_critical_mb", kNone, kNone, true, false, true,
     "Reconnect the slot's consumer, or drop the slot with pg_drop_replication_slot(name) before pg_wal fills."},
    {"wraparound", kPostgres, 0, "transaction id age", "percent", "wraparound_warning_percent",
     "wraparound_critical_percent", kNone, kNone, true, false, true,
     "VACUUM (FREEZE) the oldest tables; make sure autovacuum keeps up and no old transaction, prepared transaction "
     "or slot holds the horizon."},
    {"disk_space", kBoth, 0, "free disk space", "percent", "disk_free_warning_percent", "disk_free_critical_percent",
     kNone, kNone, false, false, true, "Free space or grow the volume; purge or archive old data."},
    {"database_size", kBoth, 0, "database size", "MB", "database_size_warning_mb", "database_size_critical_mb", kNone,
     kNone, true, true, true, "Archive or purge old data, or raise the limit with the capacity plan."},
    {"table_sizes", kBoth, kSqlite, "largest table", "MB", "table_size_warning_mb", "table_size_critical_mb", kNone,
     kNone, true, true, true, "Archive or partition the table, or raise the limit with the capacity plan."},
    {"cache_hit", kBoth, 0, "cache hit ratio", "percent", "cache_hit_warning_percent", "cache_hit_critical_percent",
     kNone, kNone, false, false, true,
     "Give the cache more memory (shared_buffers; SQLite PRAGMA cache_size) or find the statements that read most "
     "(vigil_query_stats())."},
    {"dead_tuples", kPostgres, 0, "dead rows", "percent", "dead_tuples_warning_percent", "dead_tuples_critical_percent",
     kNone, kNone, true, false, true,
     "VACUUM the table, and check that autovacuum reaches it and no long transaction holds the horizon."},
    {"vacuum_age", kPostgres, 0, "time since the vacuum of a table due for one", "h", "vacuum_age_warning_hours",
     "vacuum_age_critical_hours", kNone, kNone, true, false, true,
     "VACUUM it; tune autovacuum for it (autovacuum_vacuum_scale_factor) and check that workers are free."},
    {"invalid_indexes", kPostgres, 0, "invalid indexes", "count", nullptr, nullptr, kNone, 0, true, false, true,
     "Build it again (REINDEX INDEX CONCURRENTLY) or drop it: a failed CREATE INDEX CONCURRENTLY left it."},
    {"duplicate_indexes", kBoth, 0, "duplicate indexes", "count", nullptr, nullptr, 0, kNone, true, false, true,
     "Drop the duplicate; vigil_index_advice() names the one to keep."},
    {"unused_indexes", kPostgres, 0, "unused indexes", "count", nullptr, nullptr, 0, kNone, true, false, false,
     "Drop it once you know no standby, report or constraint needs it (scans count since the statistics reset)."},
    {"sequences", kPostgres, 0, "sequence use", "percent", "sequence_warning_percent", "sequence_critical_percent",
     kNone, kNone, true, false, true,
     "Move the sequence and its column to bigint (ALTER SEQUENCE ... AS bigint) before it runs out."},
    {"wal_archiving", kPostgres, 0, "WAL archiving failing", "count", nullptr, nullptr, kNone, 0, true, false, true,
     "Fix archive_command (the server log says why it fails): unarchived WAL fills pg_wal and backups have a gap."},
    {"ssl", kPostgres, 0, "TCP connections without SSL", "count", nullptr, nullptr, 0, kNone, true, false, true,
     "Require SSL for remote clients (hostssl lines in pg_hba.conf, sslmode=verify-full)."},
    {"slow_queries", kBoth, 0, "slow executions in the last 15 minutes", "count", "slow_queries_warning",
     "slow_queries_critical", kNone, kNone, true, false, true,
     "See vigil_slow_queries() and vigil_index_advice()."},
    {"quality_score", kBoth, 0, "latest quality score", "", "quality_alert_score", nullptr, kNone, kNone, false, false,
     false, "See vigil_quality_issues() (its own alert is raised by the quality report)."},
    {"quick_check", kSqlite, kSqlite, "PRAGMA quick_check problems", "count", nullptr, nullptr, kNone, 0, true, false,
     true, "Restore from a backup (vigil_restore) or recover the file (sqlite3 .recover), and check the storage."},
    {"foreign_key_check", kSqlite, kSqlite, "foreign key violations", "count", nullptr, nullptr, 0, kNone, true, false,
     true, "Fix or delete the orphan rows PRAGMA foreign_key_check lists."},
    {"journal_mode", kSqlite, 0, "journal mode", "", nullptr, nullptr, kNone, kNone, true, false, true,
     "PRAGMA journal_mode = WAL (crash-safe, and readers do not wait for the writer)."},
    {"foreign_keys", kSqlite, 0, "foreign key enforcement", "", nullptr, nullptr, kNone, kNone, true, false, true,
     "Run PRAGMA foreign_keys = ON on every connection."},
    {"freelist", kSqlite, 0, "free pages", "percent", "freelist_warning_percent", "freelist_critical_percent", kNone,
     kNone, true, false, true, "VACUUM the file (or enable auto_vacuum and run PRAGMA incremental_vacuum)."},
    {"enforcement", kBoth, 0, "tables whose enforcement is off or stale", "count", nullptr, nullptr, kNone, 0, true,
     false, true,
     "Call vigil_enforce(table) again (PostgreSQL: or ALTER TABLE ... ENABLE TRIGGER vigil_enforce)."},
    {"migrations", kBoth, 0, "drifted, failed or missing migrations", "count", nullptr, nullptr, kNone, 0, true, false,
     true, "See vigil_migration_validate(); restore the script or vigil_migration_repair(version)."},
    {"schema_drift", kBoth, 0, "schema changes made outside migrations", "count", nullptr, nullptr, 0, kNone, true,
     false, true, "Capture the change in a migration; vigil_migration_validate() shows it."},
    {"audit_backlog", kBoth, 0, "unsealed audit entries", "count", "audit_backlog_warning", "audit_backlog_critical",
     kNone, kNone, true, false, true,
     "Seal them with vigil_audit_seal() (PostgreSQL: the worker does every vigil.worker_interval)."},
    {"audit_chain", kBoth, kBoth, "audit chain breaks", "count", nullptr, nullptr, kNone, 0, true, false, true,
     "Compare with the head kept outside the database and investigate the first entry vigil_audit_verify() names."},
};

std::string Number(double v) {
  char buf[64];
  double r = Round2(v);
  if (r == std::floor(r) && std::fabs(r) < 1e15)
    std::snprintf(buf, sizeof(buf), "%.0f", r);
  else
    std::snprintf(buf, sizeof(buf), "%.2f", r);
  return buf;
}

std::string WithUnit(double v, std::string_view unit) {
  std::string n = Number(v);
  if (unit == "percent") return n + " %";
  if (unit == "count" || unit.empty()) return n;
  return n + " " + std::string(unit);
}

double Level(const CheckDef& c, const char* key, double fixed, const Setting& setting) {
  if (key == nullptr) return fixed;
  double v = static_cast<double>(setting(key));
  if (c.zero_disables && v == 0) return kNone;
  return v;
}

bool Crosses(const CheckDef& c, double value, double level) {
  if (std::isnan(level)) return false;
  return c.higher_is_worse ? value > level : value < level;
}

}  // namespace

const char* StatusName(Status s) noexcept {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kWarning: return "warning";
    case Status::kCritical: return "critical";
    case Status::kSkipped: break;
  }
  return "skipped";
}

std::span<const CheckDef> Checks() noexcept { return kChecks; }

const CheckDef& FindCheck(std::string_view name) {
  for (const CheckDef& c : kChecks)
    if (name == c.name) return c;
  std::string known;
  for (const CheckDef& c : kChecks) known += (known.empty() ? "" : ", ") + std::string(c.name);
  throw Error(ErrorCode::kInvalidParameter, "unknown health check \"" + text::Printable(name, 64) + "\"", {},
              "Checks: " + known + ".");
}

double Round2(double v) noexcept { return std::round(v * 100.0) / 100.0; }

Measurement Measured(double value, std::string subject, nlohmann::json details) {
  Measurement m;
  m.value = value;
  m.subject = std::move(subject);
  m.details = std::move(details);
  return m;
}

Measurement NothingMeasured(std::string note, nlohmann::json details) {
  Measurement m;
  m.note = std::move(note);
  m.details = std::move(details);
  return m;
}

Measurement Skipped(std::string why) {
  Measurement m;
  m.skipped = std::move(why);
  return m;
}

Measurement Verdict(Status status, std::string note, nlohmann::json details) {
  Measurement m;
  m.verdict = status;
  m.note = std::move(note);
  m.details = std::move(details);
  return m;
}

Measurement MigrationsFrom(const nlohmann::json& answer, const std::vector<std::string>& failed) {
  using json = nlohmann::json;
  const json validation = answer.is_object() ? answer : json::object();
  json d;
  d["drifted"] = validation.value("drifted", json::array());
  d["missing"] = validation.value("missing", json::array());
  json history = validation.value("history", json::object());
  d["history_broken_at"] = history.is_object() ? history.value("broken_at", json(nullptr)) : json(nullptr);
  d["failed"] = failed;
  auto count = [](const json& a) { return a.is_array() ? a.size() : 0; };
  double n = static_cast<double>(count(d["drifted"]) + count(d["missing"]) + failed.size()) +
             (d["history_broken_at"].is_null() ? 0 : 1);
  return Measured(n, {}, std::move(d));
}

Measurement SchemaDriftFrom(const nlohmann::json& answer) {
  using json = nlohmann::json;
  const json validation = answer.is_object() ? answer : json::object();
  json schema = validation.value("schema", json::object());
  if (!schema.is_object()) schema = json::object();
  json diff = schema.value("diff", json(nullptr));
  bool changed = schema.value("changed", false);
  // The count of changed lines (at least 1 when it changed).
  double n = !changed ? 0 : diff.is_array() && !diff.empty() ? static_cast<double>(diff.size()) : 1;
  return Measured(n, {}, {{"diff", diff}});
}

Measurement AuditChainFrom(const nlohmann::json& verification) {
  using json = nlohmann::json;
  bool valid = verification.is_object() && verification.value("valid", false);
  json checked = verification.is_object() ? verification.value("checked", json(nullptr)) : json(nullptr);
  json first = verification.is_object() ? verification.value("first_invalid", json(nullptr)) : json(nullptr);
  return Measured(valid ? 0 : 1, {}, {{"checked", checked}, {"first_invalid", first}});
}

std::string HistoryChecks(const std::vector<Result>& results) {
  ordered_json out = ordered_json::array();
  for (const Result& r : results) {
    ordered_json c;
    c["check"] = r.check;
    c["status"] = StatusName(r.status);
    c["value"] = r.value ? ordered_json(*r.value) : ordered_json(nullptr);
    out.push_back(std::move(c));
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json Unmigrated() {
  return {{"drifted", nlohmann::json::array()}, {"missing", nlohmann::json::array()},
          {"history", {{"broken_at", nullptr}}}, {"schema", {{"changed", false}, {"diff", nullptr}}}};
}

Result Grade(const Measurement& m, const Setting& setting) {
  const CheckDef& c = FindCheck(m.check);
  Result r;
  r.check = c.name;
  r.unit = c.unit;
  r.details = m.details;
  if (!m.skipped.empty()) {
    r.status = Status::kSkipped;
    r.message = m.skipped;
    return r;
  }
  if (m.value) r.value = Round2(*m.value);
  std::string where = m.subject.empty() ? std::string() : " (" + m.subject + ")";
  if (m.verdict) {
    r.status = *m.verdict;
    r.message = m.note;
    if (r.status == Status::kWarning || r.status == Status::kCritical) r.message += " " + std::string(c.remedy);
    return r;
  }
  double warning, critical;
  try {
    warning = Level(c, c.warning_key, c.fixed_warning, setting);
    critical = Level(c, c.critical_key, c.fixed_critical, setting);
  } catch (const Error& e) {
    // A threshold out of range where the engine keeps it (a hand-edited
    // SQLite vigil_config): this check is skipped, not the call.
    if (e.code() == ErrorCode::kCanceled) throw;
    r.status = Status::kSkipped;
    r.value.reset();
    r.message = std::string("could not grade: ") + e.what();
    return r;
  }
  if (!m.value) {
    // Nothing to measure (no table, no standby): ok, and the note says so.
    r.status = Status::kOk;
    r.threshold = !std::isnan(warning) ? std::optional<double>(warning)
                  : !std::isnan(critical) ? std::optional<double>(critical) : std::nullopt;
    r.message = m.note.empty() ? std::string(c.label) + ": nothing to measure" : m.note;
    return r;
  }
  double v = *m.value;
  const char* side = c.higher_is_worse ? "above" : "under";
  std::string seen = std::string(c.label) + ": " + WithUnit(v, c.unit) + where;
  if (Crosses(c, v, critical)) {
    r.status = Status::kCritical;
    r.threshold = critical;
    r.message = seen + ", " + side + " the critical threshold " + WithUnit(critical, c.unit) + ". " + c.remedy;
  } else if (Crosses(c, v, warning)) {
    r.status = Status::kWarning;
    r.threshold = warning;
    r.message = seen + ", " + side + " the warning threshold " + WithUnit(warning, c.unit) + ". " + c.remedy;
  } else {
    r.status = Status::kOk;
    double first = !std::isnan(warning) ? warning : critical;
    if (!std::isnan(first)) {
      r.threshold = first;
      r.message = seen + " (" + (std::isnan(warning) ? "critical " : "warning ") + side + " " +
                  WithUnit(first, c.unit) + ")";
    } else {
      r.message = seen + " (no limit set)";
    }
  }
  if (!m.note.empty()) r.message += " " + m.note;
  return r;
}

Options ParseOptions(std::string_view json_text) {
  Options o;
  nlohmann::json j = json_in::ParseInput(json_text, "health options");
  if (j.is_null()) return o;
  if (!j.is_object()) throw Error(ErrorCode::kInvalidParameter, "health options must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "deep") {
      if (!it->is_boolean()) throw Error(ErrorCode::kInvalidParameter, "health option \"deep\" must be true or false");
      o.deep = it->get<bool>();
    } else if (it.key() == "record") {
      if (!it->is_boolean()) throw Error(ErrorCode::kInvalidParameter, "health option \"record\" must be true or false");
      o.record = it->get<bool>();
    } else if (it.key() == "checks") {
      if (!it->is_array())
        throw Error(ErrorCode::kInvalidParameter, "health option \"checks\" must be an array of check names");
      for (const nlohmann::json& n : *it) {
        if (!n.is_string())
          throw Error(ErrorCode::kInvalidParameter, "health option \"checks\" must be an array of check names");
        o.only.push_back(FindCheck(n.get<std::string>()).name);
      }
    } else {
      throw Error(ErrorCode::kInvalidParameter, "unknown health option \"" + text::Printable(it.key(), 64) + "\"",
                  {}, "Options: deep (true or false), record (true or false), checks (an array of check names).");
    }
  }
  return o;
}

bool Wanted(const CheckDef& check, unsigned engine, const Options& options, std::string* skipped) {
  skipped->clear();
  bool listed = false;
  for (const std::string& n : options.only) listed = listed || n == check.name;
  if (!options.only.empty() && !listed) return false;
  if ((check.engines & engine) == 0) {
    if (!listed) return false;
    *skipped = engine == kSqlite ? "a PostgreSQL check: SQLite has nothing it measures"
                                 : "an SQLite check: PostgreSQL has nothing it measures";
    return true;
  }
  // A deep check runs when asked for: with "deep", or by name.
  if ((check.deep & engine) != 0 && !options.deep && !listed) return false;
  return true;
}

Measurement Attempt(const CheckDef& check, const std::function<Measurement()>& measure,
                    const std::function<bool(const Error&)>& fatal) {
  try {
    Measurement m = measure();
    m.check = check.name;
    return m;
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kCanceled || (fatal && fatal(e))) throw;
    Measurement m;
    m.check = check.name;
    m.skipped = std::string("could not run: ") + e.what();
    return m;
  }
}

std::vector<Result> RunChecks(unsigned engine, const Options& options,
                              const std::function<Measurement(const CheckDef&)>& measure, const Setting& setting,
                              const std::function<bool(const Error&)>& fatal) {
  std::vector<Result> out;
  for (const CheckDef& c : Checks()) {
    std::string why;
    if (!Wanted(c, engine, options, &why)) continue;
    PollCancel();
    Measurement m;
    if (!why.empty()) {
      m.check = c.name;
      m.skipped = why;
    } else {
      m = Attempt(c, [&] { return measure(c); }, fatal);
    }
    out.push_back(Grade(m, setting));
  }
  return out;
}

std::optional<int> TryRecord(const std::function<int()>& record, const std::function<bool(const Error&)>& fatal,
                             std::string* not_recorded) {
  try {
    return record();
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kCanceled || (fatal && fatal(e))) throw;
    *not_recorded = e.what();
    return std::nullopt;
  }
}

const char* Overall(const std::vector<Result>& results) noexcept {
  bool warning = false;
  for (const Result& r : results) {
    if (r.status == Status::kCritical) return "unhealthy";
    warning = warning || r.status == Status::kWarning;
  }
  return warning ? "degraded" : "healthy";
}

namespace {
ordered_json ResultJson(const Result& r) {
  ordered_json c;
  c["check"] = r.check;
  c["status"] = StatusName(r.status);
  c["value"] = r.value ? ordered_json(*r.value) : ordered_json(nullptr);
  c["threshold"] = r.threshold ? ordered_json(*r.threshold) : ordered_json(nullptr);
  c["unit"] = r.unit.empty() ? ordered_json(nullptr) : ordered_json(r.unit);
  c["message"] = r.message;
  // Names the engine read (a table of a hostile SQLite file) may be invalid
  // UTF-8: replaced, never a failed call.
  c["details"] = r.details.is_null() ? ordered_json(nullptr)
                                     : ordered_json::parse(r.details.dump(-1, ' ', false,
                                                                          nlohmann::json::error_handler_t::replace));
  return c;
}
}  // namespace

std::string HealthJson(const std::vector<Result>& results, const std::string& checked_at, const char* engine,
                       const std::optional<int>& alerts_raised, const std::string& not_recorded) {
  ordered_json doc;
  doc["status"] = Overall(results);
  doc["checked_at"] = checked_at;
  doc["engine"] = engine;
  ordered_json checks = ordered_json::array(), issues = ordered_json::array();
  for (const Result& r : results) {
    checks.push_back(ResultJson(r));
    if (r.status == Status::kWarning || r.status == Status::kCritical) {
      ordered_json i;
      i["check"] = r.check;
      i["status"] = StatusName(r.status);
      i["message"] = r.message;
      issues.push_back(std::move(i));
    }
  }
  doc["checks"] = std::move(checks);
  doc["issues"] = std::move(issues);
  doc["alerts"] = alerts_raised ? ordered_json(*alerts_raised) : ordered_json(nullptr);
  if (!not_recorded.empty()) doc["not_recorded"] = not_recorded;
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Transition> DecideTransition(const Result& r, const std::optional<std::string>& previous) {
  if (r.status == Status::kSkipped) return std::nullopt;
  const CheckDef& c = FindCheck(r.check);
  std::string from = previous.value_or("ok");
  std::string to = StatusName(r.status);
  if (from == to || !c.alerts) return std::nullopt;
  Transition t;
  t.check = r.check;
  t.from = from;
  t.to = to;
  t.severity = r.status == Status::kOk ? "info" : to;
  t.message = r.status == Status::kOk ? std::string(c.label) + " recovered (was " + from + "): " + r.message
                                      : r.message;
  ordered_json d;
  d["check"] = r.check;
  d["from"] = from;
  d["to"] = to;
  d["value"] = r.value ? ordered_json(*r.value) : ordered_json(nullptr);
  d["threshold"] = r.threshold ? ordered_json(*r.threshold) : ordered_json(nullptr);
  d["unit"] = r.unit.empty() ? ordered_json(nullptr) : ordered_json(r.unit);
  t.details = d.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return t;
}

std::string LabelValue(std::string_view v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\') out += "\\\\";
    else if (ch == '"') out += "\\\"";
    else if (ch == '\n') out += "\\n";
    else out += ch;
  }
  return out;
}

namespace {
std::string Sample(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.15g", v);
  return buf;
}

void Family(std::string* out, const char* name, const char* help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" gauge\n");
}

int StatusNumber(Status s) {
  switch (s) {
    case Status::kOk: return 0;
    case Status::kWarning: return 1;
    case Status::kCritical: return 2;
    case Status::kSkipped: break;
  }
  return -1;
}

double PoolNumber(const nlohmann::json& pool, const char* key) {
  auto it = pool.find(key);
  return it != pool.end() && it->is_number() ? it->get<double>() : kNone;
}
}  // namespace

std::string MetricsText(const std::vector<Result>& results, const nlohmann::json& pool) {
  std::string out;
  std::string overall = Overall(results);
  Family(&out, "vigil_health_status", "Overall health: 0 healthy, 1 degraded, 2 unhealthy.");
  out += "vigil_health_status " + std::string(overall == "healthy" ? "0" : overall == "degraded" ? "1" : "2") + "\n";
  Family(&out, "vigil_check_status", "A health check's status: 0 ok, 1 warning, 2 critical, -1 skipped.");
  for (const Result& r : results)
    out += "vigil_check_status{check=\"" + LabelValue(r.check) + "\"} " + std::to_string(StatusNumber(r.status)) +
           "\n";
  Family(&out, "vigil_check_value", "A health check's measured value, in the unit its unit label names.");
  for (const Result& r : results)
    if (r.value)
      out += "vigil_check_value{check=\"" + LabelValue(r.check) + "\",unit=\"" + LabelValue(r.unit) + "\"} " +
             Sample(*r.value) + "\n";
  Family(&out, "vigil_check_threshold", "The threshold a health check's value was graded against.");
  for (const Result& r : results)
    if (r.threshold)
      out += "vigil_check_threshold{check=\"" + LabelValue(r.check) + "\",unit=\"" + LabelValue(r.unit) + "\"} " +
             Sample(*r.threshold) + "\n";
  if (pool.is_object()) {
    auto states = pool.find("by_state");
    if (states != pool.end() && states->is_object()) {
      Family(&out, "vigil_connections", "Connections by state (vigil_pool_status()).");
      for (auto it = states->begin(); it != states->end(); ++it)
        if (it->is_number())
          out += "vigil_connections{state=\"" + LabelValue(it.key()) + "\"} " + Sample(it->get<double>()) + "\n";
    }
    double limit = PoolNumber(pool, "max_connections");
    if (!std::isnan(limit)) {
      Family(&out, "vigil_connections_max", "Connections the server accepts for ordinary roles.");
      out += "vigil_connections_max " + Sample(limit) + "\n";
    }
    double used = PoolNumber(pool, "utilization_percent");
    if (!std::isnan(used)) {
      Family(&out, "vigil_connections_utilization_ratio", "Connections in use over the limit (0 to 1).");
      out += "vigil_connections_utilization_ratio " + Sample(used / 100.0) + "\n";
    }
    double waiting = PoolNumber(pool, "waiting");
    if (!std::isnan(waiting)) {
      Family(&out, "vigil_connections_waiting", "Connections waiting for a lock now.");
      out += "vigil_connections_waiting " + Sample(waiting) + "\n";
    }
    double deadlocks = PoolNumber(pool, "deadlocks");
    if (!std::isnan(deadlocks)) {
      out += "# HELP vigil_deadlocks_total Deadlocks detected in this database since its statistics were reset.\n";
      out += "# TYPE vigil_deadlocks_total counter\n";
      out += "vigil_deadlocks_total " + Sample(deadlocks) + "\n";
    }
    double busy = PoolNumber(pool, "busy_waits");
    if (!std::isnan(busy)) {
      // A gauge: the sum over the connections open now (a closed one's
      // waits leave it), so it may go down.
      Family(&out, "vigil_busy_waits", "SQLite busy-handler waits of this process's open connections to the file.");
      out += "vigil_busy_waits " + Sample(busy) + "\n";
    }
  }
  return out;
}

}  // namespace vigil::core::health
