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
  // Prefix qualifies vigil's functions: the extension's schema, quoted, with
  // a dot on PostgreSQL (no search_path decides which vigil_migrate runs);
  // "" on SQLite, whose functions have no schema.
  virtual std::string Prefix() const = 0;
  virtual std::string Describe() const = 0;  // the database, for `info`
};

// Connect opens `db`: a postgres:// or postgresql:// URI or a libpq
// "key=value" string (empty: libpq's environment, PGHOST, PGDATABASE, ...)
// is PostgreSQL; anything else is an SQLite file, opened read-only unless
// `write`, with vigil's SQLite module loaded from `module`.
std::unique_ptr<Connection> Connect(const std::string& db, bool write, const std::string& module);

// IsPostgres says which engine Connect would choose for `db`.
bool IsPostgres(const std::string& db);

}  // namespace vigil::cli
