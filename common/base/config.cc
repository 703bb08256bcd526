// config.cc — the table of vigil's settings.
#include "base/config.h"

#include <cerrno>
#include <cstdlib>

#include "base/text.h"
#include "base/error.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

constexpr ConfigKey kKeys[] = {
    {"quality_alert_score", "80", 0, 100, "a quality score under this raises an alert (0-100)"},
    // Statement monitoring (docs/monitoring.md).
    {"slow_query_ms", "1000", -1, 86400000,
     "an execution at least this long (milliseconds) goes to the slow-query log; -1 keeps none"},
    {"max_statements", "5000", 100, 1000000,
     "statement shapes monitoring keeps; beyond it the least-called 5 % are evicted"},
    {"slow_query_log_size", "1000", 10, 1000000, "slow executions the slow-query log keeps (the newest)"},
    {"snapshot_interval", "600", 0, 86400,
     "seconds between snapshots of the statement counters into vigil_query_history; 0 takes none"},
    {"history_days", "7", 1, 3650,
     "days of history kept (vigil_query_history, vigil_health_history); older rows are deleted"},
    // Health over time (docs/health.md).
    {"health_interval", "60", 0, 86400,
     "seconds between the background worker's health checks (PostgreSQL); 0 runs none"},
};

// Health checks' thresholds (docs/health.md): each check's warning and
// critical level. "above" levels grade a value over them; "below" levels
// one under them. Defaults follow SPEC section 9 where it names them
// (connections 70/90 %, disk 10 % free) and check_postgres elsewhere.
constexpr long kDay = 86400;
constexpr long kMaxMb = 2147483647;  // PostgreSQL's integer GUCs
constexpr ConfigKey kHealthKeys[] = {
    {"response_time_warning_ms", "100", 0, 3600000, "health: a catalog probe slower than this (ms) is a warning"},
    {"response_time_critical_ms", "1000", 0, 3600000, "health: a catalog probe slower than this (ms) is critical"},
    {"connections_warning_percent", "70", 0, 100, "health: connections above this share of max_connections warn"},
    {"connections_critical_percent", "90", 0, 100, "health: connections above this share of max_connections are critical"},
    {"idle_in_transaction_warning_s", "60", 0, 7 * kDay, "health: a session idle in a transaction longer than this (s) warns"},
    {"idle_in_transaction_critical_s", "300", 0, 7 * kDay, "health: a session idle in a transaction longer than this (s) is critical"},
    {"long_running_warning_s", "120", 0, 7 * kDay, "health: a statement running longer than this (s) warns"},
    {"long_running_critical_s", "300", 0, 7 * kDay, "health: a statement running longer than this (s) is critical"},
    {"lock_wait_warning_ms", "5000", 0, kDay * 1000, "health: a lock or busy wait longer than this (ms) warns"},
    {"lock_wait_critical_ms", "30000", 0, kDay * 1000, "health: a lock or busy wait longer than this (ms) is critical"},
    {"replication_lag_warning_s", "30", 0, 7 * kDay, "health: replay lag above this (s) warns"},
    {"replication_lag_critical_s", "300", 0, 7 * kDay, "health: replay lag above this (s) is critical"},
    {"inactive_slot_warning_mb", "1024", 0, kMaxMb, "health: WAL held by inactive replication slots above this (MB) warns"},
    {"inactive_slot_critical_mb", "10240", 0, kMaxMb, "health: WAL held by inactive replication slots above this (MB) is critical"},
    {"wraparound_warning_percent", "60", 0, 100, "health: the oldest unfrozen transaction id above this share of the 2^31 horizon warns"},
    {"wraparound_critical_percent", "65", 0, 100, "health: the oldest unfrozen transaction id above this share of the 2^31 horizon is critical"},
    {"disk_free_warning_percent", "20", 0, 100, "health: free disk space under this share warns"},
    {"disk_free_critical_percent", "10", 0, 100, "health: free disk space under this share is critical"},
    {"database_size_warning_mb", "0", 0, kMaxMb, "health: a database larger than this (MB) warns; 0 sets no limit"},
    {"database_size_critical_mb", "0", 0, kMaxMb, "health: a database larger than this (MB) is critical; 0 sets no limit"},
    {"table_size_warning_mb", "0", 0, kMaxMb, "health: a table larger than this (MB) warns; 0 sets no limit"},
    {"table_size_critical_mb", "0", 0, kMaxMb, "health: a table larger than this (MB) is critical; 0 sets no limit"},
    {"cache_hit_warning_percent", "90", 0, 100, "health: a cache hit ratio under this warns"},
    {"cache_hit_critical_percent", "80", 0, 100, "health: a cache hit ratio under this is critical"},
    {"dead_tuples_warning_percent", "20", 0, 100, "health: a table whose dead rows exceed this share warns"},
    {"dead_tuples_critical_percent", "50", 0, 100, "health: a table whose dead rows exceed this share is critical"},
    {"vacuum_age_warning_hours", "24", 0, 87600, "health: a table due for autovacuum and not vacuumed for this long (h) warns"},
    {"vacuum_age_critical_hours", "168", 0, 87600, "health: a table due for autovacuum and not vacuumed for this long (h) is critical"},
    {"sequence_warning_percent", "85", 0, 100, "health: a sequence that used more than this share of its range warns"},
    {"sequence_critical_percent", "95", 0, 100, "health: a sequence that used more than this share of its range is critical"},
    {"slow_queries_warning", "0", 0, 1000000000, "health: more slow executions than this in the last 15 minutes warn"},
    {"slow_queries_critical", "50", 0, 1000000000, "health: more slow executions than this in the last 15 minutes are critical"},
    {"freelist_warning_percent", "25", 0, 100, "health: an SQLite file whose free pages exceed this share warns"},
    {"freelist_critical_percent", "50", 0, 100, "health: an SQLite file whose free pages exceed this share is critical"},
    {"audit_backlog_warning", "10000", 0, 1000000000, "health: more unsealed audit entries than this warn"},
    {"audit_backlog_critical", "100000", 0, 1000000000, "health: more unsealed audit entries than this are critical"},
};

}  // namespace

std::span<const ConfigKey> HealthConfigKeys() noexcept { return kHealthKeys; }

const ConfigKey& FindConfig(std::string_view key) {
  for (const ConfigKey& k : kKeys)
    if (key == k.key) return k;
  for (const ConfigKey& k : kHealthKeys)
    if (key == k.key) return k;
  std::string known;
  for (const ConfigKey& k : kKeys) known += (known.empty() ? "" : ", ") + std::string(k.key);
  known += ", and the health thresholds (docs/health.md)";
  throw Error(ErrorCode::kInvalidParameter, "unknown setting \"" + text::Printable(key, 64) + "\"", {},
              "Settings: " + known + ".");
}

std::string NormalizeConfigValue(const ConfigKey& key, std::string_view value) {
  std::string v(value);
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < key.min || n > key.max)
    throw Error(ErrorCode::kInvalidParameter,
                std::string("setting ") + key.key + " must be an integer from " + std::to_string(key.min) + " to " +
                    std::to_string(key.max));
  return std::to_string(n);
}

}  // namespace vigil::core
