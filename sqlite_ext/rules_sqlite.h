// rules_sqlite.h — registration of the rules functions (SPEC §2).
#pragma once

#include <sqlite3ext.h>

namespace vigil::sqlite {

// RegisterRules registers vigil_rule_add, vigil_rule_remove, vigil_rules,
// vigil_check, vigil_enforce, vigil_unenforce, vigil_insert and
// vigil_enforce_trigger on db. Returns an SQLite result code.
int RegisterRules(sqlite3* db);

}  // namespace vigil::sqlite
