// rules_sqlite.h — what the rules file offers the rest of the SQLite
// adapter (SPEC §2): the connection's rules cache, for the registration
// loop, and the regeneration of enforcement triggers, for schema upgrades.
#pragma once

#include <sqlite3ext.h>

namespace vigil::sqlite {

// NewRulesCache creates the per-connection cache of parsed rules shared by
// `users` registrations; ReleaseRulesCache is their destructor (the cache
// goes with the last). NewRulesCache returns nullptr when memory is short.
void* NewRulesCache(int users);
void ReleaseRulesCache(void* cache);

// RegenerateEnforcement recreates the triggers of every enforced table in
// main, as this module generates them. Throws core::Error.
void RegenerateEnforcement(sqlite3* db);

}  // namespace vigil::sqlite
