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

namespace vigil::pg {

struct SpiOutcome {
  bool ok;
  int sqlerrcode;
  char* error;     // palloc'd message when !ok
  int nrows;
  int ncols;
  char*** values;  // [row][col], NULL for SQL NULL, palloc'd in the caller's context
};

// SpiRunGuarded runs `sql` in a subtransaction, with $1..$n replaced by the
// quoted literals of `args` (NULL entries become NULL). `sql` must use $
// only for parameters. The caller must be SPI-connected.
void SpiRunGuarded(const char* sql, int nargs, const char* const* args, SpiOutcome* out) noexcept;

// A subtransaction spanning several guarded calls (vigil_migrate's dry run).
struct SubxactState {
  MemoryContext context;
  ResourceOwner owner;
  bool open;
};
bool SubxactBeginGuarded(SubxactState* s, SpiOutcome* out) noexcept;
bool SubxactRollbackGuarded(SubxactState* s, SpiOutcome* out) noexcept;

}  // namespace vigil::pg
