// core_guard.h — include last in every file under common/.
//
// The core must not see an engine header: it is compiled once and linked into
// both the PostgreSQL and the SQLite module. If postgres.h or sqlite3.h has
// slipped in through some include chain, this header stops the build.
#pragma once

#if defined(PG_VERSION_NUM) || defined(POSTGRES_H)
#error "common/ must not include PostgreSQL headers"
#endif
#if defined(SQLITE_VERSION_NUMBER) || defined(SQLITE3EXT_H)
#error "common/ must not include SQLite headers"
#endif
