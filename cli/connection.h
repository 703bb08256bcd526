// connection.h — the vigil command's one view of a database: PostgreSQL
// over libpq, SQLite through the SQLite library with vigil's module loaded.
// The command reads files on the client and calls vigil's SQL functions, so
// everything the server checks (roles, locks, refusals) holds exactly as
// from SQL.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::cli {

// DbError is an error the database reported (or a failure to reach it).
struct DbError : std::runtime_error {
  DbError(const std::string& message, std::string state, std::string hint_text)
      : std::runtime_error(message), sqlstate(std::move(state)), hint(std::move(hint_text)) {}
  std::string sqlstate;  // "" when the engine gives none (SQLite, connecting)
  std::string hint;
};

using Row = std::vector<std::optional<std::string>>;
using Params = std::vector<std::optional<std::string>>;

class Connection {
 public:
  virtual ~Connection() = default;
  // Query runs one statement with $1, $2 ... bound as text.
  virtual std::vector<Row> Query(const std::string& sql, const Params& params = {}) = 0;
  virtual bool postgres() const = 0;
  // RunEach runs a no-transaction script one statement at a time, each on
  // its own (autocommit), split as the engine itself splits it: SQLite by
  // its parser (prepare, then the rest), PostgreSQL by vigil's lexer, each
  // piece sent alone (two statements in one piece are refused by the
  // extended protocol). Counts the statements that ran; returns the error
  // of the one that failed. A statement that opens a transaction fails it.
  virtual std::optional<std::string> RunEach(const std::string& script, std::size_t* done, std::size_t* total) = 0;
  // Prefix qualifies vigil's functions: the extension's schema, quoted, with
  // a dot on PostgreSQL (no search_path decides which vigil_migrate runs);
  // "" on SQLite, whose functions have no schema.
  virtual std::string Prefix() const = 0;
  virtual std::string Describe() const = 0;  // the database, for `info`
  // Arg is placeholder n with its exact type on PostgreSQL
  // ("$1::pg_catalog.text"): an untyped parameter prefers text, so without
  // the cast a look-alike overload (version text, undo text) created in a
  // writable extension schema would beat vigil's (text, boolean).
  std::string Arg(int n, const char* type) const {
    std::string out = "$";
    out.append(std::to_string(n));
    if (postgres()) out.append("::pg_catalog.").append(type);
    return out;
  }
};

// Connect opens `db`: a postgres:// or postgresql:// URI or a libpq
// "key=value" string (empty: libpq's environment, PGHOST, PGDATABASE, ...)
// is PostgreSQL; anything else is an SQLite file, opened read-only unless
// `write`, with vigil's SQLite module loaded from `module`.
std::unique_ptr<Connection> Connect(const std::string& db, bool write, const std::string& module);

// IsPostgres says which engine Connect would choose for `db`.
bool IsPostgres(const std::string& db);

}  // namespace vigil::cli
