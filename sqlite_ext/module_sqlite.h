// module_sqlite.h — how the adapter's files hand their SQL functions to the
// one registration loop (module_sqlite.cc), which takes names, arities and
// flags from the function table (surface/functions.h).
#pragma once

#include <sqlite3ext.h>

#include <optional>
#include <span>
#include <string_view>

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

// NewAuditState creates the connection's audit state (actor, key) shared
// by `users` registrations; ReleaseAuditState is their destructor.
void* NewAuditState(int users);
void ReleaseAuditState(void* state);
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
