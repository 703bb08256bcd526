// config.h — vigil's settings: the same keys, defaults and units on both
// engines (PostgreSQL GUCs vigil.<key>; SQLite vigil_config(key [, value])
// persisted in table vigil_config).
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace vigil::core {

struct ConfigKey {
  const char* key;            // "quality_alert_score"
  const char* default_value;  // "80"
  long min, max;              // integer settings: the accepted range
  const char* description;
};

// FindConfig returns the setting, or throws Error(kInvalidParameter) naming
// the known keys.
const ConfigKey& FindConfig(std::string_view key);

// NormalizeConfigValue checks `value` for `key` and returns its canonical
// text; throws Error(kInvalidParameter) when it is out of range.
std::string NormalizeConfigValue(const ConfigKey& key, std::string_view value);

// HealthConfigKeys are the health checks' thresholds (common/health), a
// subset FindConfig also finds: PostgreSQL defines their GUCs in one loop.
std::span<const ConfigKey> HealthConfigKeys() noexcept;

}  // namespace vigil::core
