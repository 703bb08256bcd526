// vigil.cc — the vigil command: migrations from the client side.
//
//   vigil [--db DB] [--dir DIR] [--json] COMMAND [ARG]
//
// It reads migration files on the client (no server file access needed),
// registers them with vigil_migration_add and applies them one call of
// vigil_migrate per migration, so each is its own transaction and the
// output has one line per migration. Every decision (who may, drift,
// locks, refusals) is the server's: the command only calls vigil's SQL
// functions, qualified with vigil's schema. docs/migrations.md.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <signal.h>
#include <cerrno>
#include <time.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/companion.h"
#include "base/error.h"
#include "connection.h"
#include "exporter.h"
#include "migrate/migrate.h"
#include "sql/lexer.h"

namespace core = vigil::core;
using vigil::cli::Connection;
using vigil::cli::DbError;
using vigil::cli::Row;
using json = nlohmann::ordered_json;  // keys in the order written
using ordered_json = json;

namespace {

// Exit status: 0 only on success.
constexpr int kOk = 0;
constexpr int kFailed = 1;  // a migration, rollback or repair failed, or the database refused
constexpr int kUsage = 2;   // bad arguments, no migration folder
constexpr int kDrift = 3;   // applied migrations differ from the folder, or the history does not verify
constexpr int kDegraded = 4;   // health: a check warns
constexpr int kUnhealthy = 5;  // health: a check is critical

constexpr const char* kUsageText =
    "usage: vigil [--db DB] [--dir DIR] [--json] COMMAND [ARG]\n"
    "\n"
    "commands:\n"
    "  migrate [TARGET] [--dry-run]  register the folder's files and apply pending migrations (up to TARGET)\n"
    "  status                        every migration with its state, and files not registered yet\n"
    "  validate                      compare the folder with what is applied; registers nothing\n"
    "  rollback TARGET               undo migrations above TARGET ('0': all)\n"
    "  repair VERSION                accept the folder's changed text of an applied migration\n"
    "  info                          the database, vigil's version and the history\n"
    "  audit-head                    seal pending audit entries and print the newest chain hash\n"
    "  audit-verify [HEAD]           check the audit chain (and that HEAD, kept earlier, is a link of it)\n"
    "  backup PATH                   SQLite: an online backup to a new file, encrypted (age format) when a\n"
    "                                passphrase is given (VIGIL_BACKUP_PASSPHRASE or --passphrase-file)\n"
    "  health [--every SECONDS]      run the health checks and keep the run (vigil_health('{\"record\": true}'));\n"
    "                                with --every, again every SECONDS until SIGTERM (SQLite has no worker)\n"
    "  metrics                       print vigil_metrics() with vigil_up, in Prometheus text (textfile collector)\n"
    "  exporter --listen HOST:PORT   serve the same at http://HOST:PORT/metrics until SIGTERM\n"
    "\n"
    "options:\n"
    "  --db DB       an SQLite file, or a PostgreSQL URI (postgresql://...) or \"key=value\" string;\n"
    "                without it, PostgreSQL through libpq's environment (PGHOST, PGDATABASE, ...)\n"
    "  --dir DIR     the migration folder (default: migrations)\n"
    "  --json        machine-readable output on stdout\n"
    "  --dry-run     migrate: apply and roll back (vigil_migrate(target, true))\n"
    "  --backup PATH migrate (SQLite): take a backup to PATH first; nothing is applied if it fails\n"
    "  --passphrase-file FILE  backup, migrate --backup: the passphrase is FILE's first line\n"
    "  --module PATH vigil's SQLite module (default: VIGIL_SQLITE_MODULE, else the installed one)\n"
    "  --listen HOST:PORT  exporter: the address to serve on (127.0.0.1:9187, [::1]:9187, :9187)\n"
    "\n"
    "exit status: 0 success (health: healthy), 1 failure, 2 usage error, 3 drift, 4 health degraded,\n"
    "5 health unhealthy\n";

struct Options {
  std::string db, dir = "migrations", module, command, arg, backup, passphrase_file, listen;
  long every = 0;  // health --every SECONDS
  bool json = false, dry_run = false, has_db = false;
};

struct Usage {
  std::string message;
};

Options Parse(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& name) -> std::string {
      if (a.size() > name.size() && a.compare(0, name.size() + 1, name + "=") == 0) return a.substr(name.size() + 1);
      if (i + 1 >= argc) throw Usage{name + " needs a value"};
      return argv[++i];
    };
    auto is = [&](const std::string& name) { return a == name || a.rfind(name + "=", 0) == 0; };
    if (a == "-h" || a == "--help") {
      o.command = "help";
    } else if (a == "--version") {
      o.command = "version";
    } else if (is("--db")) {
      o.db = value("--db");
      o.has_db = true;
    } else if (is("--dir")) {
      o.dir = value("--dir");
    } else if (is("--module")) {
      o.module = value("--module");
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--dry-run") {
      o.dry_run = true;
    } else if (is("--backup")) {
      o.backup = value("--backup");
    } else if (is("--passphrase-file")) {
      o.passphrase_file = value("--passphrase-file");
    } else if (is("--listen")) {
      o.listen = value("--listen");
    } else if (is("--every")) {
      std::string v = value("--every");
      char* end = nullptr;
      o.every = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || o.every < 1 || o.every > 86400)
        throw Usage{"--every needs a number of seconds from 1 to 86400"};
    } else if (a.size() > 1 && a[0] == '-') {
      throw Usage{"unknown option " + a};
    } else {
      positional.push_back(a);
    }
  }
  if (o.command == "help" || o.command == "version") return o;
  if (positional.empty()) throw Usage{"no command given"};
  o.command = positional[0];
  static const std::map<std::string, int> kArgs = {{"migrate", -1}, {"status", 0}, {"validate", 0},
                                                   {"rollback", 1}, {"repair", 1}, {"info", 0},
                                                   {"audit-head", 0}, {"audit-verify", -1}, {"backup", 1},
                                                   {"metrics", 0}, {"exporter", 0}, {"health", 0}};
  auto it = kArgs.find(o.command);
  if (it == kArgs.end()) throw Usage{"unknown command \"" + o.command + "\""};
  std::size_t given = positional.size() - 1;
  if (it->second == 1 && given != 1) throw Usage{o.command + " needs exactly one argument"};
  if (it->second == 0 && given != 0) throw Usage{o.command + " takes no argument"};
  if (it->second == -1 && given > 1) throw Usage{o.command + " takes at most one argument"};
  if (given == 1) o.arg = positional[1];
  if (o.dry_run && o.command != "migrate") throw Usage{"--dry-run is an option of migrate"};
  if (o.command == "exporter" && o.listen.empty()) throw Usage{"exporter needs --listen HOST:PORT"};
  if (!o.listen.empty() && o.command != "exporter") throw Usage{"--listen is an option of exporter"};
  if (o.every != 0 && o.command != "health") throw Usage{"--every is an option of health"};
  if (!o.backup.empty() && o.command != "migrate") throw Usage{"--backup is an option of migrate"};
  if (!o.passphrase_file.empty() && o.command != "backup" && o.backup.empty())
    throw Usage{"--passphrase-file goes with backup or migrate --backup"};
  return o;
}

std::string ModulePath(const Options& o) {
  if (!o.module.empty()) return o.module;
  if (const char* env = std::getenv("VIGIL_SQLITE_MODULE"); env != nullptr && *env != '\0') return env;
  return VIGIL_SQLITE_MODULE_DIR "/vigil.so";
}

// The companions (SHA-256 for checksums) sit beside the SQLite module:
// beside this program in a build tree, in the installed module directory
// otherwise; never a path from the environment.
void AnchorCompanions() {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = '\0';
    std::string dir(exe);
    dir.resize(dir.rfind('/'));
    if (access((dir + "/vigil_openssl.so").c_str(), R_OK) == 0) {
      core::companion::AnchorAt(dir.c_str());
      return;
    }
  }
  core::companion::AnchorAt(VIGIL_SQLITE_MODULE_DIR);
}

std::string Text(const std::optional<std::string>& v) { return v.value_or(""); }

// Call is "SELECT <vigil's schema>.fn($1::type, ...)": every argument with
// its exact type (connection.h, Arg).
std::string Call(const Connection& c, const char* fn, std::initializer_list<const char*> types) {
  std::string sql = "SELECT ";
  sql.append(c.Prefix()).append(fn).append("(");
  int n = 1;
  for (const char* t : types) {
    if (n > 1) sql.append(", ");
    sql.append(c.Arg(n++, t));
  }
  sql.append(")");
  return sql;
}

std::string Key(const std::string& version) { return core::VersionSortKey(version); }

// Output: tables for people, JSON for machines; progress lines go to
// stdout in the human form only.
struct Out {
  bool json;
  void Line(const std::string& s) const {
    if (!json) std::cout << s << "\n" << std::flush;
  }
};

void Table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) width[c] = head[c].size();
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
  auto print = [&](const std::vector<std::string>& r) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    std::cout << line << "\n";
  };
  print(head);
  std::vector<std::string> rule;
  for (std::size_t w : width) rule.push_back(std::string(w, '-'));
  print(rule);
  for (const auto& r : rows) print(r);
}

std::string Ms(const json& v) {
  if (!v.is_number()) return "";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f ms", v.get<double>());
  return buf;
}

std::string Short(const std::string& checksum) { return checksum.size() > 22 ? checksum.substr(0, 22) + "…" : checksum; }

struct StatusRow {
  std::string version, name, state, checksum, applied_at;
};

std::vector<StatusRow> ServerStatus(Connection& c) {
  std::vector<StatusRow> out;
  for (const Row& r : c.Query("SELECT version, name, state, checksum, applied_at FROM " + c.Prefix() +
                              "vigil_migration_status()"))
    out.push_back({Text(r[0]), Text(r[1]), Text(r[2]), Text(r[3]), Text(r[4])});
  return out;
}

json QueryJson(Connection& c, const std::string& sql, const vigil::cli::Params& params) {
  auto rows = c.Query(sql, params);
  return json::parse(Text(rows.at(0).at(0)));
}

// Register sends every file of the folder in one transaction: a bad file
// registers none of them.
void Register(Connection& c, const std::vector<core::MigrationFiles>& files) {
  c.Query("BEGIN");
  try {
    for (const auto& f : files)
      c.Query(Call(c, "vigil_migration_add", {"text", "text", "text", "text"}), {f.version, f.name, f.up, f.down});
    c.Query("COMMIT");
  } catch (...) {
    try {
      c.Query("ROLLBACK");
    } catch (...) {
    }
    throw;
  }
}

// RunOutside runs a no-transaction migration (or undo script) the way the
// server cannot: statement by statement, each on its own, between
// vigil_migration_start (which checks it is next and returns the
// registered script) and vigil_migration_finish. Killed in between, it
// stays "interrupted" in the history, never applied. Returns the finish
// result.
json RunOutside(Connection& c, const std::string& version, bool undo, const std::optional<std::string>& file,
                const Out& out) {
  json started = QueryJson(c, Call(c, "vigil_migration_start", {"text", "bool"}),
                           {version, std::string(undo ? "1" : "0")});
  // What runs is the registered script, and it must be the folder's file:
  // a database (a hostile SQLite file) that hands back another text gets
  // the run refused, recorded as failed.
  if (file && core::Checksum(*file) != core::Checksum(started["script"].get<std::string>())) {
    json finished = QueryJson(c, Call(c, "vigil_migration_finish", {"text", "text", "float8"}),
                              {version, std::string("the registered script differs from the folder's file; not run"),
                               std::string("0")});
    finished["error"] = "the registered script differs from the folder's file; not run";
    return finished;
  }
  if (started.value("restarted", false))
    std::cerr << "vigil: migration " << version << " was interrupted before (started, never finished); running its "
              << (undo ? "undo script" : "script") << " again from the first statement\n";
  std::string script = started["script"].get<std::string>();
  std::string lock_timeout = started.value("lock_timeout", "");
  // The value is digits and a unit (checked at registration): safe to splice.
  std::size_t done = 0, total = 0;
  std::optional<std::string> error;
  auto t0 = std::chrono::steady_clock::now();
  try {
    if (c.postgres() && !lock_timeout.empty()) c.Query("SET lock_timeout = '" + lock_timeout + "'");
    error = c.RunEach(script, &done, &total);
    if (c.postgres() && !lock_timeout.empty()) c.Query("RESET lock_timeout");
  } catch (const DbError& e) {
    error = std::string(e.what());
  }
  if (error)
    *error += " (statement " + std::to_string(done + 1) + " of " + std::to_string(std::max(total, done + 1)) +
              "; outside a transaction the " + std::to_string(done) + " before it stay done)";
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  char duration[32];
  std::snprintf(duration, sizeof(duration), "%.3f", ms);
  json finished = QueryJson(c, Call(c, "vigil_migration_finish", {"text", "text", "float8"}),
                            {version, error, std::string(duration)});
  if (!error)
    out.Line(std::string(undo ? "undone " : "applied ") + version + " " + started["name"].get<std::string>() + " (" +
             Ms(json(ms)) + ", outside a transaction, " + std::to_string(done) + (done == 1 ? " statement)" : " statements)"));
  finished["duration_ms"] = std::round(ms * 1000.0) / 1000.0;
  return finished;
}

json TakeBackup(Connection& c, const Options& o, const std::string& path);

int Migrate(Connection& c, const Options& o, const Out& out) {
  std::vector<core::MigrationFiles> files = core::ReadMigrationDir(o.dir, false);
  if (!o.backup.empty()) {
    // Before anything is registered or applied: a failed backup stops here.
    json b = TakeBackup(c, o, o.backup);
    out.Line("backup " + b["path"].get<std::string>() + (b["encrypted"].get<bool>() ? " (encrypted)" : "") +
             " taken before migrating");
  }
  Register(c, files);
  out.Line("registered " + std::to_string(files.size()) + " migration" + (files.size() == 1 ? "" : "s") + " from " + o.dir);
  std::optional<std::string> target;
  if (!o.arg.empty()) target = o.arg;
  ordered_json result = {{"status", "ok"}, {"dry_run", o.dry_run}, {"registered", files.size()},
                         {"applied", json::array()}, {"failed", nullptr}};
  std::vector<StatusRow> status = ServerStatus(c);
  json drifted = json::array();
  for (const auto& s : status)
    if (s.state == "drifted") drifted.push_back(s.version);
  if (!drifted.empty()) {
    result["status"] = "drift";
    result["drifted"] = drifted;
    if (o.json) std::cout << result.dump(2) << "\n";
    for (const auto& v : drifted)
      std::cerr << "vigil: migration " << v.get<std::string>() << " has changed since it was applied; not migrating\n";
    std::cerr << "hint: `vigil validate` shows the changed lines; `vigil repair VERSION` accepts an intended change.\n";
    return kDrift;
  }
  // Only the folder's migrations run: one registered in the database
  // without a file here (written by someone else, or a hostile SQLite
  // file) would otherwise be applied by the command.
  {
    std::map<std::string, bool> in_folder;
    for (const auto& f : files) in_folder[Key(f.version)] = true;
    for (const auto& s : status) {
      if (s.state != "pending" && s.state != "failed" && s.state != "interrupted") continue;
      if (target && Key(s.version) > Key(*target)) break;
      if (in_folder.count(Key(s.version))) continue;
      result["status"] = "drift";
      result["unknown"] = s.version;
      if (o.json) std::cout << result.dump(2) << "\n";
      std::cerr << "vigil: migration " << s.version << " (" << s.state << ") is registered in the database but has no "
                << "file in " << o.dir << "; not migrating\n"
                << "hint: add its file to the folder, or remove it from the database's registrations.\n";
      return kDrift;
    }
  }
  if (o.dry_run) {
    json r = QueryJson(c, Call(c, "vigil_migrate", {"text", "bool"}), {target, std::string("1")});
    for (const auto& a : r["applied"])
      out.Line("would apply " + a["version"].get<std::string>() + " " + a["name"].get<std::string>() + " (" +
               Ms(a["duration_ms"]) + ")");
    result["applied"] = r["applied"];
    result["failed"] = r["failed"];
    result["status"] = r["status"];
    if (r["status"] == "blocked") {
      // A no-transaction migration cannot be rehearsed: it would commit.
      out.Line("dry run stops before " + r["blocked"]["version"].get<std::string>() + " " +
               r["blocked"]["name"].get<std::string>() + ": marked no-transaction, it cannot be rehearsed");
      result["status"] = "ok";
      result["stopped_before"] = r["blocked"];
    }
  } else {
    std::string target_key = target ? Key(*target) : "";
    for (const auto& s : status) {
      if (s.state != "pending" && s.state != "failed" && s.state != "interrupted") continue;
      if (target && Key(s.version) > target_key) break;
      json r = QueryJson(c, Call(c, "vigil_migrate", {"text", "bool"}),
                         {s.version, std::string("0")});
      for (const auto& a : r["applied"]) {
        out.Line("applied " + a["version"].get<std::string>() + " " + a["name"].get<std::string>() + " (" +
                 Ms(a["duration_ms"]) + ")");
        result["applied"].push_back(a);
      }
      if (r["status"] == "blocked" && r["blocked"].value("undo", false)) {
        r["status"] = "failed";
        r["failed"] = {{"version", r["blocked"]["version"]}, {"name", r["blocked"]["name"]},
                       {"error", r["blocked"]["reason"]}};
      } else if (r["status"] == "blocked" && r["blocked"]["version"] == s.version) {
        std::optional<std::string> text;
        for (const auto& f : files)
          if (Key(f.version) == Key(s.version)) text = f.up;
        json f = RunOutside(c, s.version, false, text, out);
        if (f["status"] == "ok") {
          result["applied"].push_back({{"version", s.version}, {"name", s.name}, {"duration_ms", f["duration_ms"]},
                                       {"transaction", false}});
          continue;
        }
        r["status"] = "failed";
        r["failed"] = {{"version", s.version}, {"name", s.name}, {"error", f["error"]}};
      }
      if (r["status"] != "ok") {
        result["failed"] = r["failed"];
        result["status"] = r["status"];
        break;
      }
    }
  }
  if (!result["failed"].is_null()) {
    const json& f = result["failed"];
    std::cerr << "vigil: migration " << f.value("version", "") << " " << f.value("name", "")
              << " failed" << (f.value("error", "").find("outside a transaction") == std::string::npos
                                    ? " and was rolled back: " : ": ")
              << f.value("error", "") << "\n";
  }
  if (o.json) {
    std::cout << result.dump(2) << "\n";
  } else if (result["applied"].empty() && result["failed"].is_null() && !result.contains("stopped_before")) {
    out.Line("nothing to migrate");
  }
  return result["status"] == "ok" ? kOk : kFailed;
}

int Status(Connection& c, const Options& o) {
  std::vector<StatusRow> status = ServerStatus(c);
  std::map<std::string, std::size_t> known;
  for (std::size_t i = 0; i < status.size(); ++i) known[Key(status[i].version)] = i;
  // Files of the folder not registered yet (the folder is optional here).
  if (access(o.dir.c_str(), F_OK) == 0)
    for (const auto& f : core::ReadMigrationDir(o.dir, false))
      if (!known.count(Key(f.version))) status.push_back({f.version, f.name, "new", core::Checksum(f.up), ""});
  if (o.json) {
    json rows = json::array();
    for (const auto& s : status)
      rows.push_back({{"version", s.version}, {"name", s.name}, {"state", s.state}, {"checksum", s.checksum},
                      {"applied_at", s.applied_at.empty() ? json(nullptr) : json(s.applied_at)}});
    std::cout << rows.dump(2) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : status) rows.push_back({s.version, s.name, s.state, s.applied_at, Short(s.checksum)});
    Table({"version", "name", "state", "applied_at", "checksum"}, rows);
  }
  for (const auto& s : status)
    if (s.state == "drifted" || s.state == "missing") return kDrift;
  for (const auto& s : status)
    if (s.state == "failed" || s.state == "interrupted") return kFailed;
  return kOk;
}

// Validate compares the folder with what is applied, without registering
// anything (like flyway validate), and adds the server's own checks: the
// history chain and the schema against the snapshot of the last run.
int Validate(Connection& c, const Options& o) {
  std::vector<core::MigrationFiles> files = core::ReadMigrationDir(o.dir, false);
  std::map<std::string, const core::MigrationFiles*> by_key;
  for (const auto& f : files) by_key[Key(f.version)] = &f;
  // Status first: on SQLite the module checks vigil's tables (no view, no
  // trigger, no virtual table under their names) before they are read here.
  std::vector<StatusRow> status = ServerStatus(c);
  std::map<std::string, std::pair<std::string, std::string>> recorded;  // key -> (checksum, up_sql)
  std::string table = c.postgres() ? c.Prefix() + "vigil_migrations" : "main.vigil_migrations";
  bool has_state = true;
  if (!c.postgres())
    has_state = !c.Query("SELECT 1 FROM main.sqlite_schema WHERE name = 'vigil_migrations'").empty();
  if (has_state)
    for (const Row& r : c.Query("SELECT version, checksum, up_sql FROM " + table))
      recorded[Key(Text(r[0]))] = {Text(r[1]), Text(r[2])};
  json server = QueryJson(c, "SELECT " + c.Prefix() + "vigil_migration_validate()", {});
  ordered_json changed = json::array(), missing = json::array(), pending = json::array();
  std::map<std::string, bool> applied;
  for (const auto& s : status) {
    std::string key = Key(s.version);
    if (s.state != "applied" && s.state != "drifted" && s.state != "missing") continue;
    applied[key] = true;
    auto f = by_key.find(key);
    if (f == by_key.end()) {
      missing.push_back(s.version);
      continue;
    }
    auto r = recorded.find(key);
    if (r == recorded.end()) continue;  // applied and unregistered: the server reports it as missing
    if (!core::SameScript(r->second.first, r->second.second, f->second->up))
      changed.push_back({{"version", s.version},
                         {"applied_checksum", r->second.first},
                         {"file_checksum", core::Checksum(f->second->up)},
                         {"diff", core::DiffLines(core::NormalizeScript(r->second.second),
                                                  core::NormalizeScript(f->second->up))}});
  }
  for (const auto& f : files)
    if (!applied.count(Key(f.version))) pending.push_back(f.version);
  const json& history = server["history"];
  bool history_ok = history["broken_at"].is_null();
  bool schema_ok = !server["schema"]["changed"].get<bool>();
  bool valid = changed.empty() && missing.empty() && history_ok && schema_ok;
  ordered_json result = {{"valid", valid},       {"changed", changed},
                         {"missing", missing},   {"pending", pending},
                         {"history", history},   {"schema", server["schema"]}};
  if (o.json) {
    std::cout << result.dump(2) << "\n";
  } else {
    for (const auto& ch : changed)
      std::cout << "changed: migration " << ch["version"].get<std::string>() << " differs from what was applied ("
                << ch["applied_checksum"].get<std::string>() << ", file " << ch["file_checksum"].get<std::string>()
                << ")\n" << ch["diff"].get<std::string>();
    for (const auto& m : missing) std::cout << "missing: migration " << m.get<std::string>() << " is applied but has no file\n";
    for (const auto& p : pending) std::cout << "pending: migration " << p.get<std::string>() << " is not applied yet\n";
    if (!history_ok)
      std::cout << "history: broken at entry " << history["broken_at"].dump() << ": " << history["reason"].get<std::string>()
                << "\n";
    if (!schema_ok)
      std::cout << "schema: changed outside migrations since the last run\n" << server["schema"]["diff"].get<std::string>();
    std::cout << (valid ? "valid" : "NOT valid") << ": " << files.size() << " files, " << applied.size()
              << " applied, history of " << history["entries"].dump() << " entries"
              << (history["anchored"].get<bool>() ? "" : " (not anchored: vigil's state predates 0.5.0)") << "\n";
  }
  return valid ? kOk : kDrift;
}

int Rollback(Connection& c, const Options& o, const Out& out) {
  json r, undone = json::array();
  // The folder is optional here; when it holds an undo file, a
  // no-transaction undo script must be that file.
  std::vector<core::MigrationFiles> files;
  if (access(o.dir.c_str(), F_OK) == 0) files = core::ReadMigrationDir(o.dir, false);
  // vigil_rollback stops before an undo script marked no-transaction; the
  // command runs that one itself and goes on.
  for (;;) {
    r = QueryJson(c, Call(c, "vigil_rollback", {"text"}), {o.arg});
    for (const auto& u : r["undone"]) {
      out.Line("undone " + u["version"].get<std::string>() + " " + u["name"].get<std::string>() + " (" +
               Ms(u["duration_ms"]) + ")");
      undone.push_back(u);
    }
    if (r["status"] != "blocked") break;
    std::string version = r["blocked"]["version"].get<std::string>();
    std::optional<std::string> text;
    for (const auto& f : files)
      if (Key(f.version) == Key(version)) text = f.down;
    json f = RunOutside(c, version, true, text, out);
    if (f["status"] != "ok") {
      r["status"] = "failed";
      r["failed"] = {{"version", version}, {"name", f["name"]}, {"error", f["error"]}};
      break;
    }
    undone.push_back({{"version", version}, {"name", f["name"]}, {"duration_ms", f["duration_ms"]}, {"transaction", false}});
  }
  r["undone"] = undone;
  r.erase("blocked");
  if (!r["failed"].is_null())
    std::cerr << "vigil: undoing migration " << r["failed"].value("version", "") << " failed: "
              << r["failed"].value("error", "") << "\n";
  if (o.json) std::cout << r.dump(2) << "\n";
  else if (r["undone"].empty() && r["failed"].is_null()) out.Line("nothing to undo");
  return r["status"] == "ok" ? kOk : kFailed;
}

// Repair registers the folder's text of VERSION (so the change accepted is
// the file's) and accepts it.
int Repair(Connection& c, const Options& o, const Out& out) {
  std::vector<core::MigrationFiles> files = core::ReadMigrationDir(o.dir, false);
  std::vector<core::MigrationFiles> one;
  for (const auto& f : files)
    if (Key(f.version) == Key(o.arg)) one.push_back(f);
  if (one.empty()) throw Usage{"no file for migration " + o.arg + " in " + o.dir};
  Register(c, one);
  json r = QueryJson(c, Call(c, "vigil_migration_repair", {"text"}), {o.arg});
  out.Line("repaired " + r["version"].get<std::string>() + ": " + r["previous_checksum"].get<std::string>() + " -> " +
           r["checksum"].get<std::string>());
  if (o.json) std::cout << r.dump(2) << "\n";
  return kOk;
}

// Passphrase is the backup's passphrase: --passphrase-file's first line,
// else VIGIL_BACKUP_PASSPHRASE, else none (a plain copy). Never an
// argument: command lines are visible to every user of the machine.
std::optional<std::string> Passphrase(const Options& o) {
  if (!o.passphrase_file.empty()) {
    std::ifstream in(o.passphrase_file);
    std::string line;
    if (!in || !std::getline(in, line)) throw Usage{"cannot read the passphrase file " + o.passphrase_file};
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (const char* env = std::getenv("VIGIL_BACKUP_PASSPHRASE"); env != nullptr && *env != '\0') return std::string(env);
  return std::nullopt;
}

// TakeBackup runs vigil_backup on an SQLite database (PostgreSQL has its
// own tools) and returns its report.
json TakeBackup(Connection& c, const Options& o, const std::string& path) {
  if (c.postgres())
    throw Usage{"backup is for SQLite files: back up PostgreSQL with pgBackRest or pg_basebackup"};
  std::optional<std::string> passphrase = Passphrase(o);
  return QueryJson(c, "SELECT vigil_backup($1, $2)", {path, passphrase});
}

// Health runs vigil_health('{"record": true}') and prints it; the exit
// status says the overall status (0 healthy, 4 degraded, 5 unhealthy).
int HealthOnce(Connection& c, const Options& o) {
  json h = QueryJson(c, Call(c, "vigil_health", {"jsonb"}), {std::string("{\"record\": true}")});
  std::string status = h.value("status", "");
  if (o.json) {
    std::cout << h.dump() << "\n";
  } else {
    std::cout << "health: " << status << " (" << h["checks"].size() << " checks, " << h["issues"].size()
              << " issues, alerts raised: " << h["alerts"].dump() << ")\n";
    for (const json& i : h["issues"])
      std::cout << "  " << i.value("status", "") << " " << i.value("check", "") << ": " << i.value("message", "")
                << "\n";
    if (h.contains("not_recorded")) std::cout << "  not recorded: " << h["not_recorded"].get<std::string>() << "\n";
  }
  std::cout.flush();
  return status == "healthy" ? kOk : status == "degraded" ? kDegraded : kUnhealthy;
}

// Health with --every: a run every so many seconds until SIGTERM or
// SIGINT, connecting again after a failure (SQLite has no worker).
extern "C" void StopNow(int) { _exit(kOk); }

// StopOnSignal: SIGTERM and SIGINT end `health --every` at once, even in a
// busy wait on a locked file (review of issue 18): a run cut short leaves
// nothing half written (each recording is one transaction).
void StopOnSignal() {
  struct sigaction sa {};
  sa.sa_handler = StopNow;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

int Health(std::unique_ptr<Connection> c, const Options& o, const std::string& db, const std::string& module) {
  if (o.every == 0) return HealthOnce(*c, o);
  for (;;) {
    try {
      if (!c) c = vigil::cli::Connect(db, true, module);
      (void)HealthOnce(*c, o);
    } catch (const std::exception& e) {
      std::cerr << "vigil: " << e.what() << "\n";
      c.reset();
    }
    timespec wait{o.every, 0};
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR) {
    }
  }
}

int Backup(Connection& c, const Options& o) {
  json r = TakeBackup(c, o, o.arg);
  if (o.json) {
    std::cout << r.dump(2) << "\n";
  } else {
    std::cout << "backup: " << r["path"].get<std::string>() << ", " << r["bytes"].dump() << " bytes of database, "
              << (r["encrypted"].get<bool>() ? "encrypted (age format; age -d opens it)" : "not encrypted") << "\n";
  }
  return kOk;
}

// AuditHead seals what is pending and prints the chain's newest hash, for
// a cron job or a CI step to keep outside the database (docs/audit.md).
int AuditHead(Connection& c, const Options& o) {
  std::string head = Text(c.Query("SELECT " + c.Prefix() + "vigil_audit_head()").at(0).at(0));
  if (o.json) {
    std::cout << json({{"head", head.empty() ? json(nullptr) : json(head)}}).dump() << "\n";
  } else {
    std::cout << (head.empty() ? "no sealed entries" : head) << "\n";
  }
  return kOk;
}

// AuditVerify prints vigil_audit_verify's report; exit status 3 when the
// chain does not verify (or the head given is not one of its links).
int AuditVerify(Connection& c, const Options& o) {
  json report = o.arg.empty()
                    ? QueryJson(c, "SELECT " + c.Prefix() + "vigil_audit_verify()", {})
                    : QueryJson(c, Call(c, "vigil_audit_verify", {"text"}), {o.arg});
  bool valid = report.value("valid", false);
  if (o.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    std::cout << "audit chain: " << (valid ? "verifies" : "DOES NOT VERIFY") << ", " << report["checked"].dump()
              << " entries checked, " << report["unsealed"].dump() << " not sealed yet\n";
    if (!report["first_invalid"].is_null()) std::cout << "first invalid: " << report["first_invalid"].dump() << "\n";
    if (report.contains("expected_head_found"))
      std::cout << "head given:  " << (report["expected_head_found"].get<bool>() ? "found" : "NOT FOUND") << "\n";
  }
  return valid ? kOk : kDrift;
}

int Info(Connection& c, const Options& o) {
  std::map<std::string, int> counts;
  std::vector<StatusRow> status = ServerStatus(c);
  std::string last;
  for (const auto& s : status) {
    ++counts[s.state];
    if (s.state == "applied" && (last.empty() || Key(s.version) > Key(last))) last = s.version;
  }
  json server = QueryJson(c, "SELECT " + c.Prefix() + "vigil_migration_validate()", {});
  std::string version = Text(c.Query("SELECT " + c.Prefix() + "vigil_version()").at(0).at(0));
  ordered_json result = {{"database", c.Describe()},  {"vigil", version},     {"command", VIGIL_VERSION},
                         {"migrations", counts},      {"current", last.empty() ? json(nullptr) : json(last)},
                         {"history", server["history"]}};
  if (o.json) {
    std::cout << result.dump(2) << "\n";
    return kOk;
  }
  std::cout << "database:   " << c.Describe() << "\n";
  std::cout << "vigil:      " << version << " (this command: " << VIGIL_VERSION << ")\n";
  std::cout << "current:    " << (last.empty() ? "none applied" : last) << "\n";
  std::string states;
  for (const auto& [state, n] : counts) states += (states.empty() ? "" : ", ") + std::to_string(n) + " " + state;
  std::cout << "migrations: " << (states.empty() ? "none registered" : states) << "\n";
  std::cout << "history:    " << server["history"]["entries"].dump() << " entries, "
            << (server["history"]["broken_at"].is_null() ? "chain verifies" : "BROKEN at " + server["history"]["broken_at"].dump())
            << "\n";
  return kOk;
}

void PrintError(const std::string& message, const std::string& hint) {
  std::cerr << "vigil: " << message << "\n";
  if (!hint.empty()) std::cerr << "hint: " << hint << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = Parse(argc, argv);
  } catch (const Usage& u) {
    std::cerr << "vigil: " << u.message << "\n\n" << kUsageText;
    return kUsage;
  }
  if (o.command == "help") {
    std::cout << kUsageText;
    return kOk;
  }
  if (o.command == "version") {
    std::cout << "vigil " << VIGIL_VERSION << "\n";
    return kOk;
  }
  AnchorCompanions();
  Out out{o.json};
  // The metrics commands report an unavailable database as vigil_up 0
  // rather than failing to start.
  if (o.command == "exporter") return vigil::cli::RunExporter(o.has_db ? o.db : std::string(), ModulePath(o), o.listen);
  if (o.command == "metrics") {
    bool up = false;
    std::cout << vigil::cli::MetricsOnce(o.has_db ? o.db : std::string(), ModulePath(o), &up);
    return up ? kOk : kFailed;
  }
  try {
    bool write = o.command == "migrate" || o.command == "rollback" || o.command == "repair" ||
                 o.command == "audit-head" || o.command == "backup" || o.command == "health";
    if (o.command == "health" && o.every > 0) StopOnSignal();
    // health writes (its states and history), but a mistyped file name must
    // not become a new, healthy, empty database.
    if (o.command == "health" && o.has_db && !vigil::cli::IsPostgres(o.db) && access(o.db.c_str(), F_OK) != 0)
      throw core::Error(core::ErrorCode::kUndefinedFile, "no database file " + o.db);
    std::unique_ptr<Connection> c = vigil::cli::Connect(o.has_db ? o.db : std::string(), write, ModulePath(o));
    if (o.command == "migrate") return Migrate(*c, o, out);
    if (o.command == "status") return Status(*c, o);
    if (o.command == "validate") return Validate(*c, o);
    if (o.command == "rollback") return Rollback(*c, o, out);
    if (o.command == "repair") return Repair(*c, o, out);
    if (o.command == "audit-head") return AuditHead(*c, o);
    if (o.command == "audit-verify") return AuditVerify(*c, o);
    if (o.command == "backup") return Backup(*c, o);
    if (o.command == "health") return Health(std::move(c), o, o.has_db ? o.db : std::string(), ModulePath(o));
    return Info(*c, o);
  } catch (const Usage& u) {
    PrintError(u.message, "");
    return kUsage;
  } catch (const core::Error& e) {
    // The folder: missing, unreadable, badly named files.
    PrintError(e.what(), e.hint());
    return e.code() == core::ErrorCode::kUndefinedFile ? kUsage : kFailed;
  } catch (const DbError& e) {
    PrintError(e.what(), e.hint);
    return kFailed;
  } catch (const std::exception& e) {
    PrintError(e.what(), "");
    return kFailed;
  }
}
