// module_sqlite.cc — the SQLite loadable module's entry point.
//
// sqlite3_vigil_init registers every row of the function table
// (surface/functions.h): each arity of a scalar function, with the flags the
// table derives (pure -> DETERMINISTIC|INNOCUOUS; writes or runs stored SQL
// -> DIRECTONLY; reads -> INNOCUOUS), and each table-valued function as an
// eponymous virtual table. The implementations come from the adapter's
// files (module_sqlite.h); a row without one, or one without a row, fails
// the load. Every return code is checked. SQLite finds the entry point by
// itself from the file name vigil.so.
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "base/companion.h"
#include "sql/lexer.h"
#include "boundary.h"
#include "module_sqlite.h"
#include "rules_sqlite.h"
#include "schema_sqlite.h"
#include "surface/functions.h"
#include "validate/validators.h"

namespace vigil::sqlite {
namespace {

namespace core = vigil::core;

int SqliteFlags(unsigned flags) {
  int out = SQLITE_UTF8;
  if (flags & core::kDeterministic) out |= SQLITE_DETERMINISTIC;
  if (flags & core::kInnocuous) out |= SQLITE_INNOCUOUS;
  if (flags & core::kDirectOnly) out |= SQLITE_DIRECTONLY;
  return out;
}

// vigil_functions(): the function table itself.
std::vector<Row> FunctionRows(sqlite3*) {
  std::size_t n;
  const core::FunctionInfo* fns = core::Functions(&n);
  std::vector<Row> rows;
  for (std::size_t i = 0; i < n; ++i) {
    const core::FunctionInfo& f = fns[i];
    rows.push_back({Value::Text(f.name), Value::Text(f.arguments), Value::Text(f.result),
                    Value::Text(core::VolatilityName(f.volatility)), Value::Integer(f.strict ? 1 : 0),
                    Value::Text(core::ParallelName(f.parallel)), Value::Text(core::EffectsText(f.effects)),
                    Value::Text(core::SqliteRegistrationText(f)), Value::Text(f.description)});
  }
  return rows;
}

const TableSpec kFunctionsTable = {
    "vigil_functions",
    "name TEXT, arguments TEXT, result TEXT, volatility TEXT, strict INTEGER, parallel TEXT, effects TEXT,"
    " sqlite_flags TEXT, description TEXT",
    FunctionRows};

const Impl kSurfaceImpls[] = {{"vigil_functions", nullptr, &kFunctionsTable, false}};

const Impl* FindImpl(const core::FunctionInfo& f, std::vector<bool>* used, const std::vector<const Impl*>& impls) {
  const char* key = f.c_symbol != nullptr ? f.c_symbol : f.name;
  for (std::size_t i = 0; i < impls.size(); ++i)
    if (std::strcmp(impls[i]->key, key) == 0) {
      (*used)[i] = true;
      return impls[i];
    }
  return nullptr;
}

int Fail(char** errmsg, const std::string& message) {
  if (errmsg != nullptr) *errmsg = sqlite3_mprintf("vigil: %s", message.c_str());
  return SQLITE_ERROR;
}

// DirectCall wraps a DIRECTONLY function. SQLite refuses such a function
// in views, triggers, DEFAULTs, generated columns and index expressions,
// but a CHECK constraint of the file may still call one that is not
// DETERMINISTIC (3.40's resolver marks CHECK calls as from the schema only
// for deterministic functions): a hostile file could make an INSERT set
// the API-key secret, write a backup or add a migration. So a call runs
// only when a statement that vouches for it is running: a busy statement
// of the connection, not one of vigil's own (built from the file's names:
// OwnStatement), not one already running when an enclosing DIRECTONLY call
// began (a CHECK fired inside vigil_insert cannot borrow the application's
// "SELECT vigil_insert(...)"), whose text calls the function: its name as
// a word or quoted identifier followed by "(", outside strings and
// comments (vigil's lexer). Nesting stops at 8 levels.
struct DirectCall {
  const char* name;
  void (*fn)(sqlite3_context*, int, sqlite3_value**);
  void* user;
  void (*release)(void*);
};

void ReleaseDirectCall(void* p) {
  auto* d = static_cast<DirectCall*>(p);
  if (d->release != nullptr) d->release(d->user);
  delete d;
}

// vigil's live statements: a vector with room reserved before each
// prepare, so registering never allocates (and never throws).
thread_local std::vector<sqlite3_stmt*> own_statements;
thread_local std::vector<sqlite3_stmt*> shielded;  // busy when an enclosing call began
thread_local int direct_depth = 0;
thread_local sqlite3_context* direct_ctx = nullptr;
thread_local void* direct_user = nullptr;

bool Calls(const char* sql, const char* name) {
  if (sql == nullptr) return false;
  std::string_view text(sql);
  std::size_t n = std::strlen(name);
  // Most statements do not mention the name at all: no lexing for them.
  bool mentioned = false;
  for (std::size_t i = 0; i + n <= text.size() && !mentioned; ++i) {
    std::size_t k = 0;
    while (k < n && std::tolower(static_cast<unsigned char>(text[i + k])) == name[k]) ++k;
    mentioned = k == n;
  }
  if (!mentioned) return false;
  std::vector<core::sql::Token> tokens = core::sql::Tokenize(text, core::Dialect::kSqlite);
  auto unquoted_is = [&](const core::sql::Token& t) {
    std::string_view w = text.substr(t.begin, t.end - t.begin);
    if (t.kind == core::sql::TokenKind::kQuotedIdentifier) {
      if (w.size() < 2) return false;
      w = w.substr(1, w.size() - 2);
    } else if (t.kind != core::sql::TokenKind::kWord) {
      return false;
    }
    if (w.size() != n) return false;
    for (std::size_t k = 0; k < n; ++k)
      if (std::tolower(static_cast<unsigned char>(w[k])) != name[k]) return false;
    return true;
  };
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!unquoted_is(tokens[i])) continue;
    std::size_t j = i + 1;
    while (j < tokens.size() && tokens[j].kind == core::sql::TokenKind::kComment) ++j;
    if (j < tokens.size() && tokens[j].kind == core::sql::TokenKind::kOperator &&
        text.substr(tokens[j].begin, tokens[j].end - tokens[j].begin) == "(")
      return true;
  }
  return false;
}

void DirectOnlyCall(sqlite3_context* ctx, int argc, sqlite3_value** argv) noexcept {
  auto* d = static_cast<DirectCall*>(sqlite3_user_data(ctx));
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::size_t shielded_before = shielded.size();
  bool proceed = false;
  Run(ctx, [&] {
    std::vector<sqlite3_stmt*> busy;
    bool vouched = false;
    for (sqlite3_stmt* s = sqlite3_next_stmt(db, nullptr); s != nullptr; s = sqlite3_next_stmt(db, s)) {
      if (!sqlite3_stmt_busy(s)) continue;
      busy.push_back(s);
      if (!vouched && std::find(own_statements.begin(), own_statements.end(), s) == own_statements.end() &&
          std::find(shielded.begin(), shielded.end(), s) == shielded.end())
        vouched = Calls(sqlite3_sql(s), d->name);
    }
    if (!vouched)
      throw core::Error(core::ErrorCode::kPrivilege,
                        std::string(d->name) + "() may be called only from the application's own statements, not "
                                               "from a CHECK constraint or other object of the database file");
    if (direct_depth >= 8)
      throw core::Error(core::ErrorCode::kProgramLimit, std::string(d->name) + "() nests more than 8 calls deep");
    shielded.insert(shielded.end(), busy.begin(), busy.end());
    proceed = true;
  });
  if (!proceed) {
    shielded.resize(shielded_before);
    return;
  }
  sqlite3_context* outer_ctx = direct_ctx;
  void* outer_user = direct_user;
  direct_ctx = ctx;
  direct_user = d->user;
  ++direct_depth;
  d->fn(ctx, argc, argv);
  --direct_depth;
  direct_ctx = outer_ctx;
  direct_user = outer_user;
  shielded.resize(shielded_before);
}

int RegisterAll(sqlite3* db, char** errmsg) {
  std::vector<const Impl*> impls;
  for (std::span<const Impl> group : {ValidatorImpls(), RulesImpls(), QualityImpls(), MigrationImpls(), AuditImpls(), SecretImpls(), BackupImpls(), QueryImpls(), MonitorImpls(), HealthImpls(),
                                      std::span<const Impl>(kSurfaceImpls)})
    for (const Impl& impl : group) impls.push_back(&impl);
  std::vector<bool> used(impls.size(), false);
  std::size_t n;
  const core::FunctionInfo* fns = core::Functions(&n);

  // Plan first (every row has an implementation), so a failure registers
  // nothing half.
  struct Planned {
    const core::FunctionInfo* info;
    const Impl* impl;
    const core::KindInfo* kind;
  };
  std::vector<Planned> plan;
  int cache_users = 0, audit_users = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const core::FunctionInfo& f = fns[i];
    const Impl* impl = FindImpl(f, &used, impls);
    const core::KindInfo* kind = nullptr;
    if (impl == nullptr && std::strncmp(f.name, "vigil_is_", 9) == 0) kind = core::FindKind(f.name + 9);
    if (impl == nullptr && kind == nullptr) return Fail(errmsg, std::string("no SQLite implementation of ") + f.name);
    if (impl != nullptr && impl->rules_cache) cache_users += core::MaxArgs(f) - core::MinArgs(f) + 1;
    if (impl != nullptr && impl->audit_state) audit_users += core::MaxArgs(f) - core::MinArgs(f) + 1;
    plan.push_back({&f, impl, kind});
  }
  for (std::size_t i = 0; i < impls.size(); ++i)
    if (!used[i]) return Fail(errmsg, std::string("SQLite implementation ") + impls[i]->key + " has no row in the function table");

  // One rules cache per connection, shared by the rules functions and freed
  // when SQLite drops the last of them (when the connection closes).
  void* cache = cache_users > 0 ? NewRulesCache(cache_users) : nullptr;
  if (cache_users > 0 && cache == nullptr) return SQLITE_NOMEM;
  void* audit = audit_users > 0 ? NewAuditState(audit_users, db) : nullptr;
  if (audit_users > 0 && audit == nullptr) {
    for (int i = 0; i < cache_users; ++i) ReleaseRulesCache(cache);
    return SQLITE_NOMEM;
  }
  int rc = SQLITE_OK;
  for (const Planned& p : plan) {
    const core::FunctionInfo& f = *p.info;
    if (f.shape == core::Shape::kTable) {
      if (rc == SQLITE_OK) rc = RegisterTableFunction(db, p.impl->table, &f);
      continue;
    }
    for (int nargs = core::MinArgs(f); nargs <= core::MaxArgs(f); ++nargs) {
      bool cached = p.impl != nullptr && p.impl->rules_cache;
      bool audited = p.impl != nullptr && p.impl->audit_state;
      if (rc != SQLITE_OK) {
        if (cached) ReleaseRulesCache(cache);  // never registered: account for it
        if (audited) ReleaseAuditState(audit);
        continue;
      }
      int flags = SqliteFlags(core::SqliteFlagsOf(f, nargs));
      if (p.kind != nullptr) {
        rc = sqlite3_create_function_v2(db, f.name, nargs, flags, const_cast<core::KindInfo*>(p.kind), IsKind,
                                        nullptr, nullptr, nullptr);
      } else {
        void* user = cached ? cache : (audited ? audit : nullptr);
        void (*release)(void*) = cached ? ReleaseRulesCache : (audited ? ReleaseAuditState : nullptr);
        if (flags & SQLITE_DIRECTONLY) {
          // Wrapped: SQLite does not hold DIRECTONLY against a CHECK
          // constraint calling a function that is not DETERMINISTIC
          // (DirectOnlyCall).
          auto* d = new (std::nothrow) DirectCall{f.name, p.impl->fn, user, release};
          if (d == nullptr) {
            if (release != nullptr) release(user);
            rc = SQLITE_NOMEM;
            continue;
          }
          rc = sqlite3_create_function_v2(db, f.name, nargs, flags, d, DirectOnlyCall, nullptr, nullptr,
                                          ReleaseDirectCall);
        } else {
          rc = sqlite3_create_function_v2(db, f.name, nargs, flags, user, p.impl->fn, nullptr, nullptr, release);
        }
      }
    }
  }
  if (rc == SQLITE_OK && audit != nullptr) rc = RegisterAuditCapture(db, audit);
  if (rc != SQLITE_OK) return Fail(errmsg, std::string("registration failed: ") + sqlite3_errstr(rc));
  return SQLITE_OK;
}

}  // namespace

void* UserData(sqlite3_context* ctx) noexcept {
  return ctx == direct_ctx ? direct_user : sqlite3_user_data(ctx);
}

bool IsOwnStatement(sqlite3_stmt* stmt) noexcept {
  return std::find(own_statements.begin(), own_statements.end(), stmt) != own_statements.end();
}

void ReserveOwnStatement() { own_statements.reserve(own_statements.size() + 1); }

void OwnStatement(sqlite3_stmt* stmt, bool own) noexcept {
  if (stmt == nullptr) return;
  if (own) {
    if (own_statements.size() < own_statements.capacity()) own_statements.push_back(stmt);
    return;
  }
  auto it = std::find(own_statements.begin(), own_statements.end(), stmt);
  if (it != own_statements.end()) {
    *it = own_statements.back();
    own_statements.pop_back();
  }
}

}  // namespace vigil::sqlite

extern "C" __attribute__((visibility("default"))) int sqlite3_vigil_init(sqlite3* db, char** errmsg,
                                                                      const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  vigil::core::companion::Anchor();
  // Loaded again on a connection: the old monitor goes with the old
  // registrations (taking its busy handler with it), the new one gets the
  // same back-off.
  int busy_max_ms = vigil::sqlite::BusyBackoffOf(db);
  int rc = vigil::sqlite::RegisterAll(db, errmsg);
  if (rc != SQLITE_OK) return rc;
  // A file written by an older vigil is upgraded now when that can be done
  // at once (writable, no transaction open, the write lock free); otherwise
  // its first writing call does it (docs/releasing.md).
  vigil::sqlite::schema::UpgradeOnLoad(db);
  // Monitoring starts after vigil's own work at load, which is not the
  // application's (docs/monitoring.md).
  vigil::sqlite::InstallMonitor(db);
  if (busy_max_ms > 0) vigil::sqlite::RunQuietly([&] { vigil::sqlite::SetBusyBackoff(db, busy_max_ms); });
  return SQLITE_OK;
}
