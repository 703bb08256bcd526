// dialect.h — the SQL dialects vigil writes and reads.
#pragma once

namespace vigil::core {

// kPostgresEscapeStrings is PostgreSQL read as a session with
// standard_conforming_strings = off reads it: a backslash escapes the next
// byte in plain '...' strings too. Only the lexer and the normaliser take
// it (statements the server ran, for monitoring and the audit trail);
// everything else speaks kPostgres or kSqlite.
enum class Dialect { kPostgres, kSqlite, kPostgresEscapeStrings };

namespace sql {
using core::Dialect;
}  // namespace sql

}  // namespace vigil::core
