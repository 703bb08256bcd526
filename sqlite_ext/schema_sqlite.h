// schema_sqlite.h — vigil's own tables in an SQLite database: the one place
// that creates, versions and upgrades them (docs/releasing.md).
//
// A database records the version of its vigil objects in main.vigil_meta
// (key 'schema_version'), the SQLite counterpart of PostgreSQL's
// pg_extension.extversion, named by the release that last changed them. A
// database written by 0.1.0 has vigil tables and no vigil_meta.
//
// Loading the module upgrades an older file in place when it can do so at
// once (UpgradeOnLoad); functions that write vigil state call
// Ensure(db, Access::kWrite): it creates the whole current schema in a
// database without vigil objects and upgrades an older one in place, step
// by step, atomically. Functions that
// only read call Ensure(db, Access::kRead), which never writes (so an
// INNOCUOUS reader stays harmless when a hostile file's view calls it): it
// accepts every version from kOldestReadable on, so enforcement in a file
// written by an older module keeps working before anything upgrades it.
// A database newer than the module is refused by both, untouched.
#pragma once

#include <sqlite3ext.h>

#include <optional>
#include <string>

namespace vigil::sqlite::schema {

enum class Access { kRead, kWrite };

// Ensure checks (and for kWrite creates or upgrades) main's vigil objects.
// Returns false only for kRead when there is nothing to read: no vigil
// objects at all, or (an 0.1.0 file, whose tables were created one by one)
// no `table` (readers then answer as for an empty store). Throws
// core::Error: a newer, unknown or damaged schema, a vigil_ name that is not
// a table (55000), a read-only database that needs an upgrade.
bool Ensure(sqlite3* db, Access access, const char* table = nullptr);

// StoredVersion is the schema version main's vigil objects are at ("0.1.0"
// for an unversioned 0.1.0 database), or nullopt when there are none.
std::optional<std::string> StoredVersion(sqlite3* db);

// UpgradeOnLoad upgrades an older main database when the module is loaded,
// if that can be done at once: the database is writable, no transaction is
// open and the write lock is free. Otherwise (or on any error) it does
// nothing and the first writing call upgrades. Never fails the load.
void UpgradeOnLoad(sqlite3* db) noexcept;

// CurrentVersion is the schema version this module creates and upgrades to.
const char* CurrentVersion() noexcept;

}  // namespace vigil::sqlite::schema
