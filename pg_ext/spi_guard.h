// spi_guard.h — SPI calls that C++ code may make.
//
// The boundary rule (boundary.h) forbids a PostgreSQL error from unwinding
// C++ frames. Code that must interleave SQL with C++ logic (the migrator)
// therefore calls SPI only through these functions: each runs its work in an
// internal subtransaction inside PG_TRY, so an ERROR is caught in this file's
// C frames, the subtransaction is rolled back (the transaction stays usable),
// and the outcome is returned as plain data. Callers turn a failure into a
// C++ exception carrying the SQLSTATE.
#pragma once

extern "C" {
#include "postgres.h"
#include "utils/palloc.h"
#include "utils/resowner.h"
}

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace vigil::pg {

struct SpiOutcome {
  bool ok;
  int sqlerrcode;
  char* error;     // palloc'd message when !ok
  int nrows;
  int ncols;
  char*** values;  // [row][col], NULL for SQL NULL, palloc'd in `work`
  MemoryContext work;  // a child of the caller's context: SpiReleaseGuarded frees it
};

// SpiRunGuarded runs `sql` in a subtransaction, with $1..$n replaced by the
// quoted literals of `args` (NULL entries become NULL). `sql` must use $
// only for parameters. The caller must be SPI-connected. With a valid
// `as_role`, the statement runs as that role (module_pg.h, BeginAs:
// restricted): how vigil reads and writes its own state. `search_path` is
// pinned to pg_catalog, pg_temp unless given: vigil's own SQL never
// resolves a name through the caller's path, where any role allowed to
// create a schema named like the caller ("$user") plants overloads that
// match better than pg_catalog's. kCallersPath keeps the path in force:
// migration scripts (they run as the caller wrote them), name resolution
// as the caller's DDL would resolve, and quality scans (under the table's
// path, set by BeginAs around them).
inline constexpr const char* kPinnedPath = "pg_catalog, pg_temp";
inline constexpr const char* kCallersPath = nullptr;
// With lock_timeout_ms > 0 the statement waits at most that long for a
// lock (55P03 after), restored when it ends: a health check never queues
// behind a role that holds a lock.
void SpiRunGuarded(const char* sql, int nargs, const char* const* args, SpiOutcome* out,
                   Oid as_role = InvalidOid, const char* search_path = kPinnedPath, int lock_timeout_ms = 0) noexcept;

// SpiReleaseGuarded frees what SpiRunGuarded allocated for its rows (the
// caller's context keeps it otherwise: under SPI, until SPI_finish, so a
// long loop of queries — sealing a million entries — would hold them all).
void SpiReleaseGuarded(SpiOutcome* out) noexcept;

// A subtransaction spanning several guarded calls (vigil_migrate's dry run).
struct SubxactState {
  MemoryContext context;
  ResourceOwner owner;
  bool open;
};
bool SubxactBeginGuarded(SubxactState* s, SpiOutcome* out) noexcept;
bool SubxactRollbackGuarded(SubxactState* s, SpiOutcome* out) noexcept;

// The next transaction id to be assigned (ReadNextFullTransactionId): read
// after a value, it is above the id of every transaction that could have
// produced that value. `origin` receives "<system identifier>:<database
// oid>": transaction ids mean something only in the cluster and database
// they were read in.
std::uint64_t NextXidGuarded(SpiOutcome* out, char* origin, std::size_t origin_size) noexcept;

// RawStatementsGuarded parses `sql` with the server's own raw parser (no
// catalog access, nothing runs) and returns how many statements it holds;
// `plannable` says whether the first is one EXPLAIN plans (SELECT, VALUES,
// INSERT, UPDATE, DELETE, MERGE). A syntax error comes back in `out`.
int RawStatementsGuarded(const char* sql, bool* plannable, SpiOutcome* out) noexcept;

// ---- phase 2 (C++, throws): the guarded calls as rows -------------------------

using GuardedRow = std::vector<std::optional<std::string>>;

// ThrowOutcome turns a failed outcome into core::Error carrying its SQLSTATE.
[[noreturn]] inline void ThrowOutcome(const SpiOutcome& out) {
  throw core::Error(core::ErrorCode::kEngine, out.error ? out.error : "SPI failure").WithEngineCode(out.sqlerrcode);
}

// GuardedQuery runs SpiRunGuarded and returns its rows (NULL as nullopt).
inline std::vector<GuardedRow> GuardedQuery(const std::string& sql, const std::vector<std::optional<std::string>>& params,
                                            Oid as_role = InvalidOid, const char* search_path = kPinnedPath,
                                            int lock_timeout_ms = 0) {
  std::vector<const char*> args;
  for (const auto& p : params) args.push_back(p ? p->c_str() : nullptr);
  SpiOutcome out;
  SpiRunGuarded(sql.c_str(), static_cast<int>(args.size()), args.data(), &out, as_role, search_path, lock_timeout_ms);
  if (!out.ok) {
    SpiReleaseGuarded(&out);
    ThrowOutcome(out);
  }
  std::vector<GuardedRow> rows;
  rows.reserve(static_cast<std::size_t>(out.nrows));
  for (int r = 0; r < out.nrows; ++r) {
    GuardedRow row;
    row.reserve(static_cast<std::size_t>(out.ncols));
    for (int c = 0; c < out.ncols; ++c)
      row.push_back(out.values[r][c] ? std::optional<std::string>(out.values[r][c]) : std::nullopt);
    rows.push_back(std::move(row));
  }
  SpiReleaseGuarded(&out);
  return rows;
}

}  // namespace vigil::pg
