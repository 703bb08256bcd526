// dialect.h — the SQL dialects vigil writes and reads.
#pragma once

namespace vigil::core {

enum class Dialect { kPostgres, kSqlite };

namespace sql {
using core::Dialect;
}  // namespace sql

}  // namespace vigil::core
