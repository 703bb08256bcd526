// rules_sqlite.h — what the rules file offers the rest of the SQLite
// adapter (SPEC §2): the connection's rules cache, for the registration
// loop, and the regeneration of enforcement triggers, for schema upgrades.
#pragma once

#include <sqlite3ext.h>

#include <string>
#include <vector>

namespace vigil::sqlite {

// NewRulesCache creates the per-connection cache of parsed rules shared by
// `users` registrations; ReleaseRulesCache is their destructor (the cache
// goes with the last). NewRulesCache returns nullptr when memory is short.
void* NewRulesCache(int users);
void ReleaseRulesCache(void* cache);

// RegenerateEnforcement recreates the triggers of every enforced table in
// main, as this module generates them. Throws core::Error.
void RegenerateEnforcement(sqlite3* db);

// EnforcementCurrent: the table's enforcement triggers are exactly those
// its rules make now (the health check "enforcement").
bool EnforcementCurrent(sqlite3* db, const std::string& table);

// EnforcedTables lists main's tables that carry vigil's enforcement
// triggers. Throws core::Error.
std::vector<std::string> EnforcedTables(sqlite3* db);

// Reenforce reinstalls the triggers of each of `tables` that exists but
// lost them (a migration dropped and recreated it: SQLite drops a table's
// triggers with it, while its rules follow the name). Throws core::Error
// when the rules no longer fit the new table.
void Reenforce(sqlite3* db, const std::vector<std::string>& tables);

}  // namespace vigil::sqlite
