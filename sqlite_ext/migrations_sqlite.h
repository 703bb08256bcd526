// migrations_sqlite.h — registration of the migration functions (SPEC §4).
#pragma once

#include <sqlite3ext.h>

namespace vigil::sqlite {

int RegisterMigrations(sqlite3* db);

}  // namespace vigil::sqlite
