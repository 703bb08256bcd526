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
    {"history_days", "7", 1, 3650, "days of vigil_query_history a snapshot keeps; older rows are deleted"},
};

}  // namespace

const ConfigKey& FindConfig(std::string_view key) {
  for (const ConfigKey& k : kKeys)
    if (key == k.key) return k;
  std::string known;
  for (const ConfigKey& k : kKeys) known += (known.empty() ? "" : ", ") + std::string(k.key);
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
