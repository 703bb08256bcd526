// migrations.h — the pure parts of schema migrations (SPEC §4): checksums,
// version order, the history chain, script inspection and line diffs. The
// adapters keep the tables and run the scripts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/dialect.h"

namespace vigil::core {

// NormalizeScript removes a UTF-8 byte-order mark and turns CRLF and CR into
// LF, so a checksum does not change with an editor's line endings.
std::string NormalizeScript(std::string_view script);

// Checksum is "sha256:v2:<hex>": SHA-256 (OpenSSL) of the normalised script
// with the whitespace at its very end removed (v2), so a script that lost
// or gained its final newline (psql's `\set x `cat f.sql``, an editor) keeps
// its checksum. The tag names the normalisation: checksums recorded as v1
// (0.1.0-0.4.0: no trailing-whitespace rule) keep verifying as v1.
std::string Checksum(std::string_view script);

// ChecksumLike computes the checksum of `script` with the tag of `stored`
// ("sha256:v1:..." or "sha256:v2:..."); nullopt for a tag vigil never wrote.
std::optional<std::string> ChecksumLike(std::string_view stored, std::string_view script);

// SameScript is true when `script` is the text recorded as `stored_text`
// with checksum `stored`: its checksum under the stored tag matches, or the
// recorded text verifies and differs from `script` only where the current
// normalisation ignores (a v1 record of "x;\n" and "x;" are the same).
bool SameScript(std::string_view stored, std::string_view stored_text, std::string_view script);

// ScriptOptions are read from a script's leading comment lines
// `-- vigil: lock_timeout=5s no-transaction`: the first lines of the file
// that are blank or `--` comments. An unknown option or a malformed value
// is an error (kInvalidParameter), never ignored.
struct ScriptOptions {
  std::string lock_timeout;  // "" or digits with ms, s or min ("5s")
  // no-transaction: the script holds statements that cannot run inside a
  // transaction (CREATE INDEX CONCURRENTLY, VACUUM). vigil_migrate never
  // runs it; the vigil command runs it statement by statement between
  // vigil_migration_start and vigil_migration_finish.
  bool transaction = true;
};
ScriptOptions ParseScriptOptions(std::string_view script);

// Sha256Hex is the hex SHA-256 of raw bytes.
std::string Sha256Hex(std::string_view bytes);

// VersionSortKey validates a version ("1", "1.2.10", "20240101120000",
// "1_2" is read as "1.2") and returns a key whose byte order is the natural
// order (1.2.9 < 1.2.10). Throws Error(kInvalidParameter) otherwise.
std::string VersionSortKey(std::string_view version);

// NormalizeVersion returns the canonical spelling ("1_2" -> "1.2", leading
// zeros kept as written).
std::string NormalizeVersion(std::string_view version);

// ChainHash is the hash of one history entry over the previous entry's hash
// and the entry's engine-independent fields.
std::string ChainHash(std::string_view previous, long long seq, std::string_view version, std::string_view action,
                      std::string_view checksum);

// Refusal names a statement a migration may not contain because it cannot
// run inside vigil's transaction.
struct Refusal {
  std::size_t line;
  std::string statement;  // "CREATE INDEX CONCURRENTLY"
  std::string hint;
};

// FindNonTransactional scans the script's statements (strings, quoted
// identifiers, comments and dollar quotes skipped) for one that cannot run
// inside a transaction or that controls the transaction itself.
// With `outside_transaction` (a no-transaction script) only transaction
// control is refused: each statement then runs on its own.
std::optional<Refusal> FindNonTransactional(std::string_view script, Dialect dialect = Dialect::kPostgres,
                                            bool outside_transaction = false);

// DiffLines shows the lines that differ between two texts, as "-old" and
// "+new" lines with their line numbers (a minimal LCS diff).
std::string DiffLines(std::string_view before, std::string_view after);

// ParseMigrationFileName reads "V<version>__<name>.sql" or
// "U<version>__<name>.sql"; returns false for any other name.
bool ParseMigrationFileName(std::string_view file, char* kind, std::string* version, std::string* name);

// MigrationFiles is one version's files in a migration folder.
struct MigrationFiles {
  std::string version, name, up;
  std::optional<std::string> down;
};

// ReadMigrationDir reads V<version>__<name>.sql and U<version>__<name>.sql
// from `path` (regular files of at most 64 MiB), in version order. Throws
// Error: no such directory (kUndefinedFile, with a hint for a relative
// path when `server` is true), a stray .sql name, two files of one
// version, an undo script without its migration, no migration files.
// vigil_migration_add_dir reads the server's disk with it; the `vigil`
// command reads the client's.
std::vector<MigrationFiles> ReadMigrationDir(const std::string& path, bool server);

}  // namespace vigil::core

#include <map>

namespace vigil::core {

// MigrationDb is what the migrator needs from an engine. Adapters implement
// it (SQLite on its connection; PostgreSQL over SPI, each call guarded so
// that no PostgreSQL error unwinds C++ frames). SQL uses $1, $2 ...
// placeholders, bound as untyped text, and only syntax both engines share.
class MigrationDb {
 public:
  using Row = std::vector<std::optional<std::string>>;
  virtual ~MigrationDb() = default;
  virtual std::vector<Row> Query(const std::string& sql, const std::vector<std::optional<std::string>>& params) = 0;
  // RunScript runs a migration script atomically (a savepoint or
  // subtransaction); returns the engine's error message when it fails, with
  // the script's effects undone.
  // lock_timeout ("" for none) is the script's `-- vigil: lock_timeout=`:
  // the engine's lock wait for that script only (PostgreSQL; SQLite has one
  // database lock, taken before any script runs).
  virtual std::optional<std::string> RunScript(const std::string& script, const std::string& lock_timeout) = 0;
  virtual void Savepoint(const char* name) = 0;
  virtual void Release(const char* name) = 0;
  virtual void RollbackTo(const char* name) = 0;
  virtual std::string Now() = 0;             // ISO-8601 UTC text
  virtual std::string Actor() = 0;           // who applies ("" when unknown)
  virtual std::string SchemaSnapshot() = 0;  // sorted lines, vigil's objects left out
  virtual double ElapsedMs() = 0;            // a monotonic clock
  // StateExists is false when the database holds no migration tables yet
  // (SQLite creates them on the first writing call; a reader then sees an
  // empty history rather than creating them).
  virtual bool StateExists() { return true; }
  // AnchorExists is false for vigil state written before 0.5.0 and not yet
  // upgraded: it has no vigil_migration_anchor (the newest entry's id and
  // hash), so validate cannot see removed newest entries there.
  virtual bool AnchorExists() { return true; }
  // The engine's SQL dialect: scripts are scanned by its lexical rules.
  virtual Dialect dialect() const { return Dialect::kPostgres; }
  // StateSchema is the quoted schema of vigil's own tables with a dot
  // ("vigil"." in PostgreSQL, main. in SQLite): every name vigil uses for
  // its own objects is qualified, so no search_path can put a look-alike
  // in front of them. Migration scripts keep the caller's search_path.
  virtual std::string StateSchema() = 0;
};

struct MigrationStatusRow {
  std::string version, name, state, checksum, applied_at, applied_by;
  std::optional<double> duration_ms;
};

// Migrator holds the logic of every migration function; results are JSON
// texts with the same shape on both engines. It assumes the adapter holds
// the write lock (advisory lock / BEGIN IMMEDIATE) and the tables exist.
class Migrator {
 public:
  explicit Migrator(MigrationDb& db) : db_(db) {}

  // While a migration or undo script runs, every entry point refuses to be
  // re-entered from it (kPrerequisite): a script that calls vigil_migrate
  // would otherwise recurse until the stack or the history gave out.

  std::string Add(std::string_view version, std::string_view name, std::string_view up,
                  std::optional<std::string_view> down);
  // AddDir reads V<version>__<name>.sql and U<version>__<name>.sql.
  std::string AddDir(const std::string& path);
  std::string Migrate(std::optional<std::string_view> target, bool dry_run);
  std::string Rollback(std::string_view target);
  std::string Repair(std::string_view version);
  std::string Validate();
  // Start and Finish record a no-transaction migration (or undo script)
  // that the client runs itself, statement by statement: Start checks that
  // it is next (in order, not drifted, marked no-transaction), records a
  // `start` (or `start_undo`) entry and returns the registered script to
  // run; Finish records `apply`/`undo`, or `fail` with the error. Between
  // the two, status says `interrupted`: never applied.
  std::string Start(std::string_view version, bool undo);
  std::string Finish(std::string_view version, std::optional<std::string_view> error,
                     std::optional<double> duration_ms);
  std::vector<MigrationStatusRow> Status();

 private:
  struct Migration {
    std::string version, name, up, checksum;
    std::optional<std::string> down, new_up, new_checksum;
  };
  struct Applied {
    std::string checksum, at, by;
    double duration_ms = 0;
    bool failed = false, applied = false;
    std::string started;  // "start" or "start_undo" while a client-run script is unfinished
  };
  std::vector<MigrationDb::Row> Q(const std::string& sql, const std::vector<std::optional<std::string>>& params);
  // Promote makes a migration's newest registered text its text (an
  // unapplied migration runs its newest script; nothing is left to repair).
  void Promote(Migration& m);
  std::vector<Migration> Registered();
  void RefuseDrift(const std::vector<Migration>& ms, std::map<std::string, Applied>& state);
  std::map<std::string, Applied> AppliedState();
  long long Record(const std::string& version, const std::string& name, const std::string& action,
                   const std::string& checksum, double duration_ms, const std::optional<std::string>& error,
                   bool snapshot);
  void SnapshotAfter(long long id);
  // FlushAnchor writes the newest entry Record made to the anchor; every
  // call that records ends with it (one write per call, not per entry).
  void FlushAnchor();

  MigrationDb& db_;
  std::optional<std::pair<long long, std::string>> anchor_, last_entry_;
};

}  // namespace vigil::core
