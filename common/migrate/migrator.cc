// migrator.cc — the logic of vigil_migration_add, vigil_migration_add_dir,
// vigil_migrate, vigil_rollback, vigil_migration_repair,
// vigil_migration_validate and vigil_migration_status, written once over
// MigrationDb so both engines behave and answer the same.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/cancel.h"
#include "base/text.h"
#include "base/error.h"
#include "migrate/migrate.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using nlohmann::json;
using ordered_json = nlohmann::ordered_json;
using Params = std::vector<std::optional<std::string>>;

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

std::string Text(const std::optional<std::string>& v) { return v.value_or(""); }

// A migration file is a regular file of at most this size: a FIFO would
// block the call forever and /dev/zero would read until memory ran out.
constexpr off_t kMaxScriptBytes = 64 * 1024 * 1024;

std::string ReadFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO returns at once (and is then refused) instead
  // of waiting for a writer; the checks are made on the opened file.
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::kUndefinedFile, "could not read \"" + path + "\"");
  std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { close(*f); });
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw Error(ErrorCode::kInvalidParameter, "\"" + path + "\" is not a regular file", {},
                "Migration files are read only as regular files (no FIFOs, devices or directories).");
  if (st.st_size > kMaxScriptBytes)
    throw Error(ErrorCode::kProgramLimit, "\"" + path + "\" is larger than 64 MiB");
  std::string out;
  char buf[65536];
  for (;;) {
    PollCancel();
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::kUndefinedFile, "could not read \"" + path + "\"");
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (static_cast<off_t>(out.size()) > kMaxScriptBytes)  // it grew while being read
      throw Error(ErrorCode::kProgramLimit, "\"" + path + "\" is larger than 64 MiB");
  }
  return out;
}

// ValidText returns s with every ill-formed UTF-8 byte replaced by U+FFFD:
// an engine's error text (an SQLite message may quote any byte) is stored
// and reported as valid UTF-8, so the history always dumps and restores.
std::string ValidText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = text::Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

void RequireUtf8(std::string_view s, const std::string& what) {
  if (!text::IsValidUtf8(s))
    throw Error(ErrorCode::kInvalidParameter, what + " is not valid UTF-8", {},
                "Save migration files and names as UTF-8.");
}

}  // namespace

// Q runs `sql` with vigil's own table names qualified (StateSchema).
std::vector<MigrationDb::Row> Migrator::Q(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
  std::string schema = db_.StateSchema();
  std::string out;
  out.reserve(sql.size() + 64);
  for (std::size_t i = 0; i < sql.size();) {
    bool boundary = i == 0 || !(text::IsAlnum(sql[i - 1]) || sql[i - 1] == '_' || sql[i - 1] == '.' || sql[i - 1] == '"');
    std::size_t n = 0;
    if (boundary && sql.compare(i, 23, "vigil_migration_history") == 0) n = 23;
    else if (boundary && sql.compare(i, 22, "vigil_migration_anchor") == 0) n = 22;
    else if (boundary && sql.compare(i, 16, "vigil_migrations") == 0) n = 16;
    if (n > 0 && (i + n == sql.size() || !(text::IsAlnum(sql[i + n]) || sql[i + n] == '_'))) {
      out.append(schema).append(sql, i, n);
      i += n;
      continue;
    }
    out.push_back(sql[i++]);
  }
  return db_.Query(out, params);
}

namespace {

// The scripts of a run execute inside the engine's call of vigil_migrate
// (or vigil_rollback); the engine runs one call at a time per thread.
thread_local bool running_scripts = false;

void RefuseReentry() {
  if (running_scripts)
    throw Error(ErrorCode::kPrerequisite, "vigil's migration functions cannot be called from a migration they are running",
                {}, "Run vigil_migrate, vigil_rollback and the other migration functions from the client, not from "
                    "a migration's script.");
}

// ScriptsRunning marks the stretch in which scripts run; cleared however it ends.
struct ScriptsRunning {
  ScriptsRunning() { running_scripts = true; }
  ~ScriptsRunning() { running_scripts = false; }
  ScriptsRunning(const ScriptsRunning&) = delete;
  ScriptsRunning& operator=(const ScriptsRunning&) = delete;
};

}  // namespace

void Migrator::Promote(Migration& m) {
  if (!m.new_checksum) return;
  Q("UPDATE vigil_migrations SET up_sql = new_up_sql, checksum = new_checksum, new_up_sql = NULL,"
    " new_checksum = NULL WHERE version = $1", {m.version});
  m.up = *m.new_up;
  m.checksum = *m.new_checksum;
  m.new_up.reset();
  m.new_checksum.reset();
}

// RefuseDrift: nothing is applied while an applied migration's script has
// changed (vigil_migrate, vigil_migration_start).
void Migrator::RefuseDrift(const std::vector<Migration>& ms, std::map<std::string, Applied>& state) {
  for (const Migration& m : ms)
    if (m.new_checksum && state[m.version].applied)
      throw Error(ErrorCode::kPrerequisite,
                  "migration " + m.version + " has changed since it was applied (applied " + m.checksum + ", now " +
                      *m.new_checksum + "); not migrating",
                  {}, "vigil_migration_validate() shows the changed lines; vigil_migration_repair('" + m.version +
                          "') accepts the new script.");
}

std::vector<Migrator::Migration> Migrator::Registered() {
  std::vector<Migration> out;
  for (const auto& r : Q("SELECT version, name, up_sql, down_sql, checksum, new_up_sql, new_checksum"
                                 " FROM vigil_migrations ORDER BY sort_key", {}))
    out.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Text(r[4]), r[3], r[5], r[6]});
  return out;
}

std::map<std::string, Migrator::Applied> Migrator::AppliedState() {
  std::map<std::string, Applied> out;
  for (const auto& r : Q("SELECT version, action, checksum, at, applied_by, duration_ms"
                                 " FROM vigil_migration_history ORDER BY id", {})) {
    Applied& a = out[Text(r[0])];
    std::string action = Text(r[1]);
    if (action == "start" || action == "start_undo") {
      a.started = action;
      continue;
    }
    a.started.clear();  // anything else ends a client-run script's stretch
    if (action == "apply" || action == "repair") {
      a.applied = true;
      a.failed = false;
      a.checksum = Text(r[2]);
      if (action == "apply") {
        a.at = Text(r[3]);
        a.by = Text(r[4]);
        a.duration_ms = r[5] ? std::strtod(r[5]->c_str(), nullptr) : 0;
      }
    } else if (action == "undo") {
      a.applied = false;
      a.failed = false;
    } else if (action == "fail") {
      a.failed = true;
    }
  }
  return out;
}

long long Migrator::Record(const std::string& version, const std::string& name, const std::string& action,
                           const std::string& checksum, double duration_ms, const std::optional<std::string>& error,
                           bool snapshot) {
  std::string prev = "genesis";
  long long id = 1;
  if (last_entry_) {
    // Within one call (which holds vigil's lock) the newest entry is the
    // one this call wrote last.
    id = last_entry_->first + 1;
    prev = last_entry_->second;
  } else {
    auto last = Q("SELECT id, entry_hash FROM vigil_migration_history ORDER BY id DESC LIMIT 1", {});
    if (!last.empty()) {
      id = std::strtoll(Text(last[0][0]).c_str(), nullptr, 10) + 1;
      prev = Text(last[0][1]);
    }
  }
  std::optional<std::string> schema, hash;
  if (snapshot) {
    schema = db_.SchemaSnapshot();
    hash = Checksum(*schema);
  }
  char duration[32];
  std::snprintf(duration, sizeof(duration), "%.3f", duration_ms);
  std::string actor = db_.Actor();
  Q("INSERT INTO vigil_migration_history (id, version, name, action, checksum, at, applied_by, duration_ms,"
            " error, schema_hash, schema, prev_hash, entry_hash)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            {std::to_string(id), version, name, action, checksum, db_.Now(),
             actor.empty() ? std::nullopt : std::optional<std::string>(actor), std::string(duration), error, hash,
             schema, prev, ChainHash(prev, id, version, action, checksum)});
  // The anchor names the newest entry, so removing entries from the end of
  // the chain (or all of them) is seen as surely as removing one inside it.
  // Written once per call (FlushAnchor), in the same transaction.
  anchor_ = {id, ChainHash(prev, id, version, action, checksum)};
  last_entry_ = anchor_;
  return id;
}

void Migrator::FlushAnchor() {
  if (!anchor_ || !db_.AnchorExists()) return;
  Q("INSERT INTO vigil_migration_anchor (singleton, id, entry_hash) VALUES (1, $1, $2)"
    " ON CONFLICT (singleton) DO UPDATE SET id = excluded.id, entry_hash = excluded.entry_hash",
    {std::to_string(anchor_->first), anchor_->second});
  anchor_.reset();
}

// SnapshotAfter records the schema as it is now on history entry `id`: the
// reference "schema drift" compares against. Taken once per run, not per
// migration (the catalog query grows with the schema). The snapshot is not
// part of the chained hash.
void Migrator::SnapshotAfter(long long id) {
  std::string schema = db_.SchemaSnapshot();
  Q("UPDATE vigil_migration_history SET schema_hash = $1, schema = $2 WHERE id = $3",
            {Checksum(schema), schema, std::to_string(id)});
}

std::string Migrator::Add(std::string_view version_in, std::string_view name, std::string_view up,
                          std::optional<std::string_view> down) {
  RefuseReentry();
  std::string version = NormalizeVersion(version_in);
  std::string key = VersionSortKey(version);
  if (name.empty()) throw Error(ErrorCode::kInvalidParameter, "migration name must not be empty");
  if (NormalizeScript(up).find_first_not_of(" \t\n") == std::string::npos)
    throw Error(ErrorCode::kInvalidParameter, "migration " + version + " has an empty script");
  for (int which = 0; which < 2; ++which) {
    if (which == 1 && !down) continue;
    std::string_view script = which == 0 ? up : *down;
    bool outside = !ParseScriptOptions(script).transaction;  // a malformed header is refused here
    if (auto r = FindNonTransactional(script, db_.dialect(), outside))
      throw Error(ErrorCode::kInvalidParameter,
                  "migration " + version + (which == 0 ? "" : " (undo)") + " line " + std::to_string(r->line) + ": " +
                      r->statement + " cannot run inside a transaction",
                  {}, r->hint);
  }
  RequireUtf8(name, "the name of migration " + version);
  RequireUtf8(up, "the script of migration " + version);
  if (down) RequireUtf8(*down, "the undo script of migration " + version);
  std::string checksum = Checksum(up);
  auto existing = Q("SELECT checksum, version, up_sql, new_up_sql, new_checksum FROM vigil_migrations"
                    " WHERE sort_key = $1", {key});
  std::optional<std::string> down_text;
  if (down) down_text = std::string(*down);
  if (!existing.empty()) {
    std::string old = Text(existing[0][0]), registered = Text(existing[0][1]);
    if (SameScript(old, Text(existing[0][2]), up)) {
      // The same text again: nothing to do. If a changed text was waiting
      // (drift), the file is back to what was applied: no drift any more.
      if (existing[0][4])
        Q("UPDATE vigil_migrations SET new_up_sql = NULL, new_checksum = NULL WHERE sort_key = $1", {key});
      // An undo script is not part of the checksum: one written after the
      // migration was applied is taken (a missing one keeps the old).
      if (down_text) Q("UPDATE vigil_migrations SET down_sql = $2 WHERE sort_key = $1", {key, down_text});
      return old;
    }
    if (existing[0][4] && SameScript(Text(existing[0][4]), Text(existing[0][3]), up)) return Text(existing[0][4]);
    if (!AppliedState()[registered].applied) {
      Q("UPDATE vigil_migrations SET name = $2, up_sql = $3, down_sql = $4, checksum = $5,"
                " new_up_sql = NULL, new_checksum = NULL WHERE sort_key = $1",
                {key, std::string(name), std::string(up), down_text, checksum});
      return checksum;
    }
    // Applied and changed: drift. The new text is kept beside the applied
    // one; status shows "drifted" and vigil_migrate refuses to run until
    // vigil_migration_repair accepts it.
    Q("UPDATE vigil_migrations SET new_up_sql = $2, new_checksum = $3 WHERE sort_key = $1",
              {key, std::string(up), checksum});
    return checksum;
  }
  Q("INSERT INTO vigil_migrations (version, sort_key, name, up_sql, down_sql, checksum, added_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            {version, key, std::string(name), std::string(up), down_text, checksum, db_.Now()});
  return checksum;
}

std::vector<MigrationFiles> ReadMigrationDir(const std::string& path, bool server) {
  struct stat st;
  if (path.empty() || stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(ErrorCode::kUndefinedFile, "directory \"" + path + "\" does not exist", {},
                !server || path.empty() || path[0] == '/'
                    ? std::string()
                    : "A relative path is read from the server process's working directory (in PostgreSQL, the "
                      "data directory): give an absolute path, or register files from the client (the vigil "
                      "command).");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(path.c_str()), closedir);
  if (!dir) throw Error(ErrorCode::kUndefinedFile, "could not open directory \"" + path + "\"");
  std::map<std::string, MigrationFiles> found;                        // by sort key
  std::map<std::string, std::pair<std::string, std::string>> undo;    // sort key -> (version, script)
  std::vector<std::string> stray;
  while (struct dirent* e = readdir(dir.get())) {
    PollCancel();
    std::string file = e->d_name;
    if (file == "." || file == "..") continue;
    char kind;
    std::string version, name;
    if (!ParseMigrationFileName(file, &kind, &version, &name)) {
      if (file.size() > 4 && file.substr(file.size() - 4) == ".sql") stray.push_back(file);
      continue;
    }
    std::string key = VersionSortKey(version);
    std::string script = ReadFile(path + "/" + file);
    if (kind == 'V') {
      if (found.count(key)) throw Error(ErrorCode::kInvalidParameter, "two migrations have version " + version);
      found[key] = {version, name, script, std::nullopt};
    } else {
      if (undo.count(key)) throw Error(ErrorCode::kInvalidParameter, "two undo scripts have version " + version);
      undo[key] = {version, script};
    }
  }
  std::sort(stray.begin(), stray.end());
  if (!stray.empty())
    throw Error(ErrorCode::kInvalidParameter, "\"" + stray.front() + "\" in \"" + path + "\" is not a migration file name",
                {}, "Name migrations V<version>__<name>.sql and undo scripts U<version>__<name>.sql.");
  if (found.empty()) throw Error(ErrorCode::kInvalidParameter, "no migration files (V<version>__<name>.sql) in \"" + path + "\"");
  for (auto& [key, u] : undo) {
    if (!found.count(key)) throw Error(ErrorCode::kInvalidParameter, "undo script for version " + u.first + " has no migration");
    found[key].down = u.second;
  }
  std::vector<MigrationFiles> out;
  for (auto& [key, f] : found) out.push_back(std::move(f));
  return out;
}

std::string Migrator::AddDir(const std::string& path) {
  RefuseReentry();
  std::vector<MigrationFiles> files = ReadMigrationDir(path, true);
  ordered_json result = {{"registered", files.size()}, {"versions", json::array()}};
  for (const MigrationFiles& f : files) {
    Add(f.version, f.name, f.up, f.down ? std::optional<std::string_view>(*f.down) : std::nullopt);
    result["versions"].push_back(f.version);
  }
  return result.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Migrator::Migrate(std::optional<std::string_view> target_in, bool dry_run) {
  RefuseReentry();
  std::vector<Migration> ms = Registered();
  auto applied_before = AppliedState();
  RefuseDrift(ms, applied_before);
  std::optional<std::string> target;
  std::string target_key;
  if (target_in) {
    target = NormalizeVersion(*target_in);
    target_key = VersionSortKey(*target);
    bool known = false;
    for (const Migration& m : ms) known |= VersionSortKey(m.version) == target_key;
    if (!known) throw Error(ErrorCode::kInvalidParameter, "target version " + *target + " is not registered");
  }
  auto state = AppliedState();
  if (dry_run) db_.Savepoint("vigil_dry_run");
  ordered_json result;
  result["dry_run"] = dry_run;
  result["target"] = target ? json(*target) : json(nullptr);
  result["applied"] = json::array();
  result["failed"] = nullptr;
  result["blocked"] = nullptr;
  double t_all = db_.ElapsedMs();
  std::optional<long long> last_change;
  ScriptsRunning running;
  // A client-run script started and never finished stops every run until
  // it is finished: its effects are unknown, and nothing may be applied
  // past it (nor, for an interrupted undo, above it).
  for (Migration& m : ms)
    if (!state[m.version].started.empty() && result["blocked"].is_null()) {
      bool undo = state[m.version].started == "start_undo";
      result["blocked"] = {{"version", m.version}, {"name", m.name}, {"undo", undo},
                           {"reason", undo ? "its undo script was started and never finished: vigil rollback runs it again"
                                           : "it was started and never finished: the vigil command runs it again"}};
    }
  for (Migration& m : ms) {
    PollCancel();
    if (!result["blocked"].is_null()) break;
    if (state[m.version].applied) continue;
    if (target && VersionSortKey(m.version) > target_key) break;
    Promote(m);  // a pending migration runs its newest registered script
    ScriptOptions opts = ParseScriptOptions(m.up);
    if (!opts.transaction) {
      // It cannot run inside this call's transaction: the run stops before
      // it (what ran stays applied) and says who runs it.
      result["blocked"] = {{"version", m.version}, {"name", m.name}, {"undo", false},
                           {"reason", "marked no-transaction: the vigil command runs it outside a transaction"}};
      break;
    }
    double t0 = db_.ElapsedMs();
    auto error = db_.RunScript(m.up, opts.lock_timeout);
    if (error) error = ValidText(*error);
    double taken = db_.ElapsedMs() - t0;
    if (error) {
      Record(m.version, m.name, "fail", m.checksum, taken, error, false);
      result["failed"] = {{"version", m.version}, {"name", m.name}, {"error", *error}};
      break;
    }
    last_change = Record(m.version, m.name, "apply", m.checksum, taken, std::nullopt, false);
    result["applied"].push_back({{"version", m.version}, {"name", m.name}, {"duration_ms", Round3(taken)}});
  }
  if (last_change) SnapshotAfter(*last_change);
  FlushAnchor();
  result["status"] = !result["failed"].is_null() ? "failed" : !result["blocked"].is_null() ? "blocked" : "ok";
  result["duration_ms"] = Round3(db_.ElapsedMs() - t_all);
  if (dry_run) {
    db_.RollbackTo("vigil_dry_run");
    db_.Release("vigil_dry_run");
  }
  return result.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Migrator::Rollback(std::string_view target_in) {
  RefuseReentry();
  std::string target = NormalizeVersion(target_in);
  std::string target_key = VersionSortKey(target);
  std::vector<Migration> ms = Registered();
  bool known = target == "0";
  for (const Migration& m : ms) known |= VersionSortKey(m.version) == target_key;
  if (!known) throw Error(ErrorCode::kInvalidParameter, "target version " + target + " is not registered", {},
                          "Use '0' to undo every migration.");
  auto state = AppliedState();
  for (const Migration& m : ms)
    if (state[m.version].started == "start")
      throw Error(ErrorCode::kPrerequisite, "migration " + m.version + " was started and never finished; nothing was undone",
                  {}, "Finish it first: vigil migrate runs it again.");
  std::vector<Migration*> undo;
  for (auto it = ms.rbegin(); it != ms.rend(); ++it) {
    if (VersionSortKey(it->version) <= target_key || !state[it->version].applied) continue;
    if (!it->down) throw Error(ErrorCode::kPrerequisite, "migration " + it->version + " has no undo script; nothing was undone");
    undo.push_back(&*it);
  }
  ordered_json result = {{"target", target}, {"undone", json::array()}, {"failed", nullptr}, {"blocked", nullptr}};
  std::optional<long long> last_change;
  ScriptsRunning running;
  for (Migration* m : undo) {
    PollCancel();
    ScriptOptions opts = ParseScriptOptions(*m->down);
    if (!opts.transaction) {
      result["blocked"] = {{"version", m->version}, {"name", m->name}, {"undo", true},
                           {"reason", "undo script marked no-transaction: the vigil command runs it outside a transaction"}};
      break;
    }
    double t0 = db_.ElapsedMs();
    auto error = db_.RunScript(*m->down, opts.lock_timeout);
    if (error) error = ValidText(*error);
    double taken = db_.ElapsedMs() - t0;
    if (error) {
      Record(m->version, m->name, "fail", Checksum(*m->down), taken, "undo: " + *error, false);
      result["failed"] = {{"version", m->version}, {"name", m->name}, {"error", *error}};
      break;
    }
    last_change = Record(m->version, m->name, "undo", m->checksum, taken, std::nullopt, false);
    // Undone, it is pending again, with its newest registered script: a
    // changed text is no longer drift, and nothing is left to repair.
    Promote(*m);
    result["undone"].push_back({{"version", m->version}, {"name", m->name}, {"duration_ms", Round3(taken)}});
  }
  if (last_change) SnapshotAfter(*last_change);
  FlushAnchor();
  result["status"] = !result["failed"].is_null() ? "failed" : !result["blocked"].is_null() ? "blocked" : "ok";
  return result.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Migrator::Start(std::string_view version_in, bool undo) {
  RefuseReentry();
  std::string key = VersionSortKey(NormalizeVersion(version_in));
  std::vector<Migration> ms = Registered();
  auto state = AppliedState();
  auto it = std::find_if(ms.begin(), ms.end(), [&](const Migration& m) { return VersionSortKey(m.version) == key; });
  if (it == ms.end())
    throw Error(ErrorCode::kInvalidParameter, "migration " + NormalizeVersion(version_in) + " is not registered");
  Migration& m = *it;
  std::string script, checksum;
  if (!undo) {
    RefuseDrift(ms, state);
    if (state[m.version].applied)
      throw Error(ErrorCode::kPrerequisite, "migration " + m.version + " is applied already");
    for (const Migration& before : ms) {
      if (&before == &m) break;
      if (!state[before.version].applied)
        throw Error(ErrorCode::kPrerequisite, "migration " + before.version + " comes before " + m.version +
                    " and is not applied", {}, "Migrations apply in version order: apply " + before.version + " first.");
    }
    Promote(m);
    if (ParseScriptOptions(m.up).transaction)
      throw Error(ErrorCode::kPrerequisite, "migration " + m.version + " is not marked no-transaction", {},
                  "vigil_migrate() applies it inside a transaction.");
    script = m.up;
    checksum = m.checksum;
  } else {
    if (!state[m.version].applied) throw Error(ErrorCode::kPrerequisite, "migration " + m.version + " is not applied");
    for (auto later = it + 1; later != ms.end(); ++later)
      if (state[later->version].applied)
        throw Error(ErrorCode::kPrerequisite, "migration " + later->version + " comes after " + m.version +
                    " and is applied", {}, "Undo migrations newest first: vigil_rollback('" + m.version + "').");
    if (!m.down) throw Error(ErrorCode::kPrerequisite, "migration " + m.version + " has no undo script");
    if (ParseScriptOptions(*m.down).transaction)
      throw Error(ErrorCode::kPrerequisite, "the undo script of migration " + m.version + " is not marked no-transaction",
                  {}, "vigil_rollback() runs it inside a transaction.");
    script = *m.down;
    checksum = Checksum(*m.down);
  }
  Record(m.version, m.name, undo ? "start_undo" : "start", checksum, 0, std::nullopt, false);
  FlushAnchor();
  ordered_json r = {{"version", m.version}, {"name", m.name}, {"undo", undo}, {"checksum", checksum},
                    {"lock_timeout", ParseScriptOptions(script).lock_timeout}, {"script", script},
                    {"restarted", !state[m.version].started.empty()}};
  return r.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Migrator::Finish(std::string_view version_in, std::optional<std::string_view> error,
                             std::optional<double> duration_ms) {
  RefuseReentry();
  std::string key = VersionSortKey(NormalizeVersion(version_in));
  if (duration_ms && !(std::isfinite(*duration_ms) && *duration_ms >= 0))
    throw Error(ErrorCode::kInvalidParameter, "duration_ms must be a finite number of milliseconds, 0 or more");
  for (Migration& m : Registered()) {
    if (VersionSortKey(m.version) != key) continue;
    std::string started = AppliedState()[m.version].started;
    if (started.empty())
      throw Error(ErrorCode::kPrerequisite, "migration " + m.version + " was not started", {},
                  "vigil_migration_start('" + m.version + "') comes first; it returns the script to run.");
    bool undo = started == "start_undo";
    // What is recorded is what was started: a text registered since then
    // (an interrupted migration is not applied, so its text may change)
    // never gets an apply entry it did not run.
    auto last = Q("SELECT checksum FROM vigil_migration_history WHERE version = $1 ORDER BY id DESC LIMIT 1", {m.version});
    std::string now = undo ? (m.down ? Checksum(*m.down) : std::string()) : m.checksum;
    if (last.empty() || Text(last[0][0]) != now)
      throw Error(ErrorCode::kPrerequisite, "the script of migration " + m.version + " changed since it was started; not recorded",
                  {}, "Start it again: vigil_migration_start returns the script to run.");
    double taken = duration_ms.value_or(0);
    ordered_json r = {{"version", m.version}, {"name", m.name}, {"action", undo ? "undo" : "apply"}};
    if (error) {
      std::string text = ValidText(*error);
      Record(m.version, m.name, "fail", undo && m.down ? Checksum(*m.down) : m.checksum, taken,
             undo ? "undo: " + text : text, false);
      r["status"] = "failed";
      r["error"] = text;
    } else {
      long long id = Record(m.version, m.name, undo ? "undo" : "apply", m.checksum, taken, std::nullopt, false);
      if (undo) Promote(m);
      SnapshotAfter(id);
      r["status"] = "ok";
    }
    FlushAnchor();
    return r.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  throw Error(ErrorCode::kInvalidParameter, "migration " + NormalizeVersion(version_in) + " is not registered");
}

std::string Migrator::Repair(std::string_view version_in) {
  RefuseReentry();
  std::string version = NormalizeVersion(version_in);
  std::string key = VersionSortKey(version);
  for (const Migration& m : Registered()) {
    if (VersionSortKey(m.version) != key) continue;
    if (!AppliedState()[m.version].applied)
      throw Error(ErrorCode::kPrerequisite, "migration " + m.version + " is not applied; nothing to repair", {},
                  "vigil_migrate() applies it with its newest registered script.");
    if (!m.new_checksum) throw Error(ErrorCode::kPrerequisite, "migration " + m.version + " has not drifted; nothing to repair");
    Q("UPDATE vigil_migrations SET up_sql = new_up_sql, checksum = new_checksum, new_up_sql = NULL,"
              " new_checksum = NULL WHERE version = $1", {m.version});
    Record(m.version, m.name, "repair", *m.new_checksum, 0, std::nullopt, true);
    FlushAnchor();
    ordered_json r = {{"version", m.version}, {"previous_checksum", m.checksum}, {"checksum", *m.new_checksum}};
    return r.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  throw Error(ErrorCode::kInvalidParameter, "migration " + version + " is not registered");
}

std::string Migrator::Validate() {
  RefuseReentry();
  bool exists = db_.StateExists();
  std::vector<Migration> ms = exists ? Registered() : std::vector<Migration>{};
  auto state = exists ? AppliedState() : std::map<std::string, Applied>{};
  json drifted = json::array(), missing = json::array();
  for (const Migration& m : ms)
    if (m.new_checksum)
      drifted.push_back({{"version", m.version}, {"applied_checksum", m.checksum}, {"current_checksum", *m.new_checksum},
                         {"diff", DiffLines(NormalizeScript(m.up), NormalizeScript(*m.new_up))}});
  for (auto& [version, a] : state) {
    if (!a.applied) continue;
    bool registered = false;
    for (const Migration& m : ms) registered |= m.version == version;
    if (!registered) missing.push_back(version);
  }
  std::string prev = "genesis";
  std::optional<long long> broken;
  std::string why;
  long long entries = 0, expected_id = 1;
  std::optional<std::string> last_schema;
  for (const auto& r : exists ? Q("SELECT id, version, action, checksum, prev_hash, entry_hash, schema"
                                          " FROM vigil_migration_history ORDER BY id", {})
                              : std::vector<MigrationDb::Row>{}) {
    ++entries;
    long long id = std::strtoll(Text(r[0]).c_str(), nullptr, 10);
    if (!broken) {
      if (id != expected_id || Text(r[4]) != prev) {
        broken = id;
        why = "an entry before it was removed or reordered";
      } else if (ChainHash(prev, id, Text(r[1]), Text(r[2]), Text(r[3])) != Text(r[5])) {
        broken = id;
        why = "the entry was changed";
      }
    }
    prev = Text(r[5]);
    expected_id = id + 1;
    if (r[6]) last_schema = r[6];
  }
  // The anchor (the newest entry vigil wrote) covers the end of the chain.
  bool anchored = !exists || db_.AnchorExists();  // nothing recorded yet: nothing to anchor
  if (exists && anchored && !broken) {
    auto anchor = Q("SELECT id, entry_hash FROM vigil_migration_anchor", {});
    long long last = expected_id - 1;
    if (anchor.empty()) {
      if (entries > 0) {
        broken = 1;
        why = "the record of the newest entry (vigil_migration_anchor) was removed";
      }
    } else {
      long long newest = std::strtoll(Text(anchor[0][0]).c_str(), nullptr, 10);
      if (last < newest) {
        broken = last + 1;
        why = "the newest entries were removed (the history ends at " + std::to_string(last) + ", vigil wrote " +
              std::to_string(newest) + ")";
      } else if (last > newest) {
        broken = newest + 1;
        why = "entries were added after the newest entry vigil wrote";
      } else if (Text(anchor[0][1]) != prev) {
        broken = last;
        why = "the newest entry was replaced";
      }
    }
  }
  std::string now = db_.SchemaSnapshot();
  bool schema_changed = last_schema && *last_schema != now;
  ordered_json out;
  out["valid"] = drifted.empty() && missing.empty() && !broken && !schema_changed;
  out["drifted"] = drifted;
  out["missing"] = missing;
  out["history"] = {{"entries", entries}, {"anchored", anchored},
                    {"broken_at", broken ? json(*broken) : json(nullptr)},
                    {"reason", broken ? json(why) : json(nullptr)}};
  out["schema"] = {{"changed", schema_changed},
                   {"diff", schema_changed ? json(DiffLines(*last_schema, now)) : json(nullptr)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<MigrationStatusRow> Migrator::Status() {
  RefuseReentry();
  std::vector<MigrationStatusRow> rows;
  std::vector<Migration> ms = Registered();
  auto state = AppliedState();
  for (const Migration& m : ms) {
    const Applied& a = state[m.version];
    MigrationStatusRow r{m.version, m.name, "pending", m.checksum, "", "", std::nullopt};
    if (!a.started.empty()) {
      // A client-run script started and never finished: what it did is
      // unknown; it is neither applied (nor, for an undo, undone).
      r.state = "interrupted";
      if (a.applied) {
        r.applied_at = a.at;
        r.applied_by = a.by;
        r.duration_ms = a.duration_ms;
      }
      rows.push_back(r);
      continue;
    }
    if (a.applied) {
      r.state = m.new_checksum ? "drifted" : "applied";
      r.applied_at = a.at;
      r.applied_by = a.by;
      r.duration_ms = a.duration_ms;
      if (m.new_checksum) r.checksum = *m.new_checksum;
    } else {
      if (m.new_checksum) r.checksum = *m.new_checksum;  // what vigil_migrate will run
      if (a.failed) r.state = "failed";
    }
    rows.push_back(r);
  }
  for (auto& [version, a] : state) {
    if (!a.applied) continue;
    bool registered = false;
    for (const Migration& m : ms) registered |= m.version == version;
    if (!registered) rows.push_back({version, "", "missing", a.checksum, a.at, a.by, a.duration_ms});
  }
  return rows;
}

}  // namespace vigil::core
