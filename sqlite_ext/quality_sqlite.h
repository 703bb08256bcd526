// quality_sqlite.h — registration of the data-quality functions (SPEC §3)
// and vigil_config.
#pragma once

#include <sqlite3ext.h>

namespace vigil::sqlite {

int RegisterQuality(sqlite3* db);

}  // namespace vigil::sqlite
