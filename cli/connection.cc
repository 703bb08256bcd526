// connection.cc — PostgreSQL (libpq) and SQLite connections for the vigil
// command (connection.h).
#include "connection.h"

#include "sql/lexer.h"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>

namespace vigil::cli {
namespace {

class PgConnection final : public Connection {
 public:
  explicit PgConnection(const std::string& conninfo) {
    // application_name says who is connected in pg_stat_activity; a URI or
    // the environment may still set another.
    const char* keys[] = {"dbname", "fallback_application_name", nullptr};
    const char* values[] = {conninfo.c_str(), "vigil", nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "out of memory";
      while (!message.empty() && message.back() == '\n') message.pop_back();
      PQfinish(conn_);
      conn_ = nullptr;
      throw DbError("could not connect to PostgreSQL: " + message, "", "");
    }
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    auto rows = Query(std::string("SELECT pg_catalog.quote_ident(n.nspname::pg_catalog.text), e.extversion,"
                      " (SELECT pg_catalog.string_agg(CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'"
                      "   ELSE a.grantee::pg_catalog.regrole::pg_catalog.text END, ', ')"
                      "  FROM pg_catalog.aclexplode(n.nspacl) a WHERE a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'"
                      "  AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner)"
                      " FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n"
                      " ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
                      " WHERE e.extname OPERATOR(pg_catalog.=) 'vigil'"), {});
    if (rows.empty())
      throw DbError("vigil is not installed in database \"" + std::string(PQdb(conn_)) + "\"", "",
                    "CREATE EXTENSION vigil; (as the database's owner)");
    prefix_ = rows[0][0].value_or("public") + ".";
    extversion_ = rows[0][1].value_or("");
    // Every call names its schema and types its arguments, but a schema
    // others may create objects in is unsafe for any extension
    // (docs/security.md): say so on every run.
    if (rows[0][2])
      std::fprintf(stderr, "vigil: warning: roles other than its owner may create objects in vigil's schema %s (%s); "
                   "see docs/security.md\n", rows[0][0].value_or("").c_str(), rows[0][2]->c_str());
  }
  ~PgConnection() override { PQfinish(conn_); }

  std::vector<Row> Query(const std::string& sql, const Params& params) override {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                 nullptr, nullptr, 0);
    std::unique_ptr<PGresult, void (*)(PGresult*)> guard(res, PQclear);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
      const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      const char* hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
      std::string message = primary ? primary : PQerrorMessage(conn_);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      throw DbError(message, state ? state : "", hint ? hint : "");
    }
    std::vector<Row> out;
    for (int r = 0; r < PQntuples(res); ++r) {
      Row row;
      for (int c = 0; c < PQnfields(res); ++c)
        row.push_back(PQgetisnull(res, r, c) ? std::nullopt : std::optional<std::string>(PQgetvalue(res, r, c)));
      out.push_back(std::move(row));
    }
    return out;
  }
  bool postgres() const override { return true; }
  std::optional<std::string> RunEach(const std::string& script, std::size_t* done, std::size_t* total) override {
    auto statements = vigil::core::sql::SplitStatements(script, vigil::core::Dialect::kPostgres);
    *done = 0;
    *total = statements.size();
    for (const auto& st : statements) {
      try {
        Query(script.substr(st.begin, st.end - st.begin), {});
      } catch (const DbError& e) {
        return std::string(e.what()) + " (line " + std::to_string(st.line) + ")";
      }
      if (PQtransactionStatus(conn_) != PQTRANS_IDLE) {
        Query("ROLLBACK", {});
        return std::string("the statement at line ") + std::to_string(st.line) + " opened a transaction";
      }
      ++*done;
    }
    return std::nullopt;
  }
  std::string Prefix() const override { return prefix_; }
  std::string Describe() const override {
    std::string out = "PostgreSQL ";
    out.append(std::to_string(PQserverVersion(conn_) / 10000)).append(", database \"").append(PQdb(conn_));
    out.append("\" as \"").append(PQuser(conn_)).append("\", vigil ").append(extversion_);
    out.append(" in schema ").append(prefix_, 0, prefix_.size() - 1);
    return out;
  }

 private:
  PGconn* conn_ = nullptr;
  std::string prefix_, extversion_;
};

// vigil's SQLite messages start with "vigil: ", as the command's own do.
std::string SqliteMessage(sqlite3* db) {
  std::string m = sqlite3_errmsg(db);
  return m.rfind("vigil: ", 0) == 0 ? m.substr(7) : m;
}

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(const std::string& path, bool write, const std::string& module) : path_(path) {
    struct stat st;
    if (!write && stat(path.c_str(), &st) != 0)
      throw DbError("SQLite database \"" + path + "\" does not exist", "", "");
    int flags = write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw DbError("could not open SQLite database \"" + path + "\": " + message, "", "");
    }
    sqlite3_busy_timeout(db_, 10000);
    // The file may be hostile: no writable schema tricks, and no function
    // of an extension called from the file's views or triggers unless it is
    // marked innocuous (vigil's own writers are DIRECTONLY anyway).
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
    // Extension loading through the C API only (not the SQL function), for
    // vigil's module alone, then off again.
    sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 1, nullptr);
    char* err = nullptr;
    int rc = sqlite3_load_extension(db_, module.c_str(), "sqlite3_vigil_init", &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw DbError("could not load vigil's SQLite module \"" + module + "\": " + message, "",
                    "Give its path with --module or VIGIL_SQLITE_MODULE.");
    }
  }
  ~SqliteConnection() override { sqlite3_close(db_); }

  std::vector<Row> Query(const std::string& sql, const Params& params) override {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, &tail) != SQLITE_OK)
      throw DbError(SqliteMessage(db_), "", "");
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    // One statement: a second one would be silently left unrun.
    for (const char* t = tail; t != nullptr && *t != '\0'; ++t)
      if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r' && *t != ';')
        throw DbError("more than one statement in one query", "", "");
    if (raw == nullptr) return {};
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::string name = "$";
      name.append(std::to_string(i + 1));
      int index = sqlite3_bind_parameter_index(raw, name.c_str());
      if (index == 0) continue;
      if (params[i]) sqlite3_bind_text(raw, index, params[i]->data(), static_cast<int>(params[i]->size()), SQLITE_TRANSIENT);
      else sqlite3_bind_null(raw, index);
    }
    std::vector<Row> out;
    for (;;) {
      int rc = sqlite3_step(raw);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw DbError(SqliteMessage(db_), "", "");
      Row row;
      for (int c = 0; c < sqlite3_column_count(raw); ++c) {
        const unsigned char* text = sqlite3_column_text(raw, c);
        row.push_back(text ? std::optional<std::string>(std::string(reinterpret_cast<const char*>(text),
                                                                    sqlite3_column_bytes(raw, c)))
                           : std::nullopt);
      }
      out.push_back(std::move(row));
    }
    return out;
  }
  bool postgres() const override { return false; }
  std::optional<std::string> RunEach(const std::string& script, std::size_t* done, std::size_t* total) override {
    *done = 0;
    *total = 0;
    const char* rest = script.c_str();
    for (;;) {
      sqlite3_stmt* raw = nullptr;
      const char* tail = nullptr;
      if (sqlite3_prepare_v2(db_, rest, -1, &raw, &tail) != SQLITE_OK) {
        ++*total;
        return SqliteMessage(db_);
      }
      if (raw == nullptr) break;  // only whitespace and comments were left
      std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
      ++*total;
      int rc;
      while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) return SqliteMessage(db_);
      if (!sqlite3_get_autocommit(db_)) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return std::string("a statement opened a transaction");
      }
      ++*done;
      rest = tail;
    }
    return std::nullopt;
  }
  std::string Prefix() const override { return ""; }
  std::string Describe() const override {
    std::string out = "SQLite ";
    out.append(sqlite3_libversion()).append(", database \"").append(path_).append("\"");
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace

bool IsPostgres(const std::string& db) {
  return db.empty() || db.rfind("postgres://", 0) == 0 || db.rfind("postgresql://", 0) == 0 ||
         db.find('=') != std::string::npos;
}

std::unique_ptr<Connection> Connect(const std::string& db, bool write, const std::string& module) {
  if (IsPostgres(db)) return std::make_unique<PgConnection>(db);
  return std::make_unique<SqliteConnection>(db, write, module);
}

}  // namespace vigil::cli
