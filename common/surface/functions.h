// functions.h — the one table that declares vigil's SQL surface.
//
// Every SQL function of both engines is a row here: its name, its
// arguments and result as PostgreSQL prints them (pg_get_function_arguments
// and pg_get_function_result), volatility, strictness and parallel safety,
// what it touches, and the one-line description that is also its
// PostgreSQL COMMENT. From the table:
//   - the SQLite module registers every arity, with flags derived from what
//     the function touches, never typed by hand (SqliteFlagsOf);
//   - vigil_functions() lists it on both engines, so sql/catalog.sql can
//     compare pg_proc with it and the parity runner can read result types
//     and the exact registration it must find;
//   - tests check docs/reference.md against it.
// pg_ext/vigil.sql and the upgrade scripts stay hand-written (released
// scripts are history) and are checked against it. docs/testing.md says
// where a new function goes.
#pragma once

#include <cstddef>
#include <string>

namespace vigil::core {

enum class Volatility : char { kImmutable = 'i', kStable = 's', kVolatile = 'v' };
enum class Parallel : char { kSafe = 's', kRestricted = 'r', kUnsafe = 'u' };
enum class Shape : char { kScalar, kTable, kTrigger };

// What a function does besides computing its result.
enum Effect : unsigned {
  kPure = 0,
  kReads = 1u << 0,         // reads vigil's state or the user's tables
  kWrites = 1u << 1,        // changes the database (vigil's state, the user's tables or schema)
  kRunsStoredSql = 1u << 2, // runs SQL kept in the database (expression rules, migration scripts)
  kUsesSecret = 1u << 3,    // computes with the server's or the connection's secret (API-key hashes)
  kFiles = 1u << 4,         // reads or writes files named by its arguments (backups)
  kDescribes = 1u << 5,     // describes the database and its host (table and index names, sizes, the
                            // file's directory, connections): a trigger of an attached file must not
                            // carry that off into its own tables
};

// The SQLite flags, engine-neutral (the adapter maps them to SQLITE_*).
enum SqliteFlag : unsigned {
  kDeterministic = 1u << 0,
  kInnocuous = 1u << 1,
  kDirectOnly = 1u << 2,
};

struct FunctionInfo {
  const char* name;
  const char* c_symbol;     // PostgreSQL C symbol; nullptr for SQL and PL/pgSQL functions
  const char* arguments;    // pg_get_function_arguments(), OUT columns included
  const char* result;       // pg_get_function_result()
  Shape shape;
  Volatility volatility;
  bool strict;
  Parallel parallel;
  unsigned effects;         // Effect bits, for every arity ...
  int reads_only_below;     // ... except that arities below this only read (-1: none)
  bool called_by_triggers;  // vigil's own SQLite triggers call it
  const char* description;  // the PostgreSQL COMMENT
};

// Functions returns the table, in documentation order.
const FunctionInfo* Functions(std::size_t* count) noexcept;

// MinArgs and MaxArgs count the IN arguments (those without and with a
// DEFAULT): the arities SQLite registers.
int MinArgs(const FunctionInfo& f) noexcept;
int MaxArgs(const FunctionInfo& f) noexcept;

// EffectsAt is what the function does when called with `nargs` arguments.
unsigned EffectsAt(const FunctionInfo& f, int nargs) noexcept;

// SqliteFlagsOf derives the registration flags of one arity:
//   pure and immutable         -> DETERMINISTIC | INNOCUOUS
//   writes or runs stored SQL  -> DIRECTONLY (a view or trigger in an
//   (or uses a secret, touches    untrusted file can never call it)
//   files, describes the database)
//   otherwise (reads)          -> INNOCUOUS
// A function vigil's triggers call must not end up DIRECTONLY
// (tests/core checks the table for it).
unsigned SqliteFlagsOf(const FunctionInfo& f, int nargs) noexcept;

// Names for vigil_functions(): "immutable", "safe", "reads, writes", ...
const char* VolatilityName(Volatility v) noexcept;
const char* ParallelName(Parallel p) noexcept;
std::string EffectsText(unsigned effects);
std::string SqliteFlagsText(unsigned flags);

// SqliteRegistrationText is the registration of every arity, as
// vigil_functions() shows it: "deterministic, innocuous", or
// "1: innocuous; 2: directonly" when the arities differ, with
// " (table-valued)" for a virtual table.
std::string SqliteRegistrationText(const FunctionInfo& f);

}  // namespace vigil::core
