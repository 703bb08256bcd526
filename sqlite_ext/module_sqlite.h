// module_sqlite.h — how the adapter's files hand their SQL functions to the
// one registration loop (module_sqlite.cc), which takes names, arities and
// flags from the function table (surface/functions.h).
#pragma once

#include <sqlite3ext.h>

#include <cstdint>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <initializer_list>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/config.h"

#include "table_function.h"

namespace vigil::sqlite {

// Impl is the SQLite implementation of one row of the function table.
struct Impl {
  const char* key;  // the row's PostgreSQL C symbol, or its name when it has none
  void (*fn)(sqlite3_context*, int, sqlite3_value**);  // scalar functions
  const TableSpec* table;                              // table-valued functions
  bool rules_cache;  // user data: the connection's rules cache (rules_sqlite.h)
  bool audit_state = false;  // user data: the connection's state (actor, audit key, API-key secret)
};

std::span<const Impl> ValidatorImpls();
std::span<const Impl> RulesImpls();
std::span<const Impl> QualityImpls();
std::span<const Impl> MigrationImpls();
std::span<const Impl> AuditImpls();
std::span<const Impl> SecretImpls();
std::span<const Impl> BackupImpls();
std::span<const Impl> QueryImpls();
std::span<const Impl> MonitorImpls();
std::span<const Impl> HealthImpls();

// Statement monitoring (monitor_sqlite.cc): InstallMonitor starts the
// connection's trace when the module is loaded; RemoveMonitor ends it when
// the connection's state goes (the connection closes); RefreshMonitor
// rereads its settings from vigil_config. HeaviestStatements returns the
// normalised text of the connection's n statements with the most time.
void InstallMonitor(sqlite3* db) noexcept;
void RemoveMonitor(sqlite3* db) noexcept;
void RefreshMonitor(sqlite3* db) noexcept;
nlohmann::json HeaviestStatements(sqlite3* db, std::size_t n);

// IndexHealthOf is query analysis's index findings (sql/advice.h,
// IndexHealth) for the main database (query_sqlite.cc).
nlohmann::json IndexHealthOf(sqlite3* db);

// Busy waits and pool facts for the health checks (monitor_sqlite.cc).
// SetBusyBackoff installs vigil's busy handler (exponential backoff with
// jitter, up to max_ms per wait; 0 removes it) and returns the previous
// max_ms (-1: none). FileBusyFacts sums this process's connections to the
// same file as `db`; longest_recent_ms is the longest wait that was still
// going on at since_us or later. SlowSince counts this connection's slow
// executions since then; NowUs is the wall clock in microseconds.
struct BusyFacts {
  std::uint64_t waits = 0, episodes = 0, timeouts = 0;
  double longest_recent_ms = 0;
  int connections = 0, waiting = 0;
  bool installed = false;  // on this connection
};
int SetBusyBackoff(sqlite3* db, int max_ms);
int BusyBackoffOf(sqlite3* db) noexcept;  // the connection's max_ms now, -1: none
BusyFacts FileBusyFacts(sqlite3* db, std::int64_t since_us);
std::size_t SlowSince(sqlite3* db, std::int64_t since_us);
std::int64_t NowUs() noexcept;

// RecordAlert appends a row to vigil_alerts (quality_sqlite.cc): the
// quality report's and the health checks' alerts.
void RecordAlert(sqlite3* db, const std::string& at, const char* source, const std::string& severity,
                 const std::string& check, const std::string& message, const std::string& details);

// ConfigGet reads setting `key` from vigil_config (its default when unset).
std::string ConfigGet(sqlite3* db, const core::ConfigKey& key);
// ConfigGetAll reads several settings with one check of vigil's schema
// (which costs a statement's parse): what ConfigGet returns for each.
std::vector<std::string> ConfigGetAll(sqlite3* db, std::initializer_list<const core::ConfigKey*> keys);

// IsOwnStatement: the statement is one of vigil's own (sqlite_util.h,
// OwnStatement).
bool IsOwnStatement(sqlite3_stmt* stmt) noexcept;

// NewAuditState creates the connection's audit state (actor, key) shared
// by `users` registrations; ReleaseAuditState is their destructor.
void* NewAuditState(int users, sqlite3* db);
void ReleaseAuditState(void* state);
// RegisterAuditCapture registers vigil_audit_capture, the eponymous table
// the audit triggers write (audit_sqlite.cc), as one more user of `state`.
int RegisterAuditCapture(sqlite3* db, void* state);
// The connection's API-key secret: set by vigil_api_key_secret, else the
// environment variable VIGIL_API_KEY_SECRET on first use (checked; throws).
std::optional<std::string_view> ConnectionApiSecret(void* state);
void SetConnectionApiSecret(void* state, std::optional<std::string_view> secret);

// UserData is a function's user data (its rules cache, the connection's
// state): sqlite3_user_data, except under a DIRECTONLY function's wrapper
// (module_sqlite.cc, DirectCall), which keeps the function's own.
void* UserData(sqlite3_context* ctx) noexcept;

// IsKind is vigil_is_<kind>(text); its user data is the kind's KindInfo.
void IsKind(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept;

}  // namespace vigil::sqlite
