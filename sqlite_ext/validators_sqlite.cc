// vigil_sqlite.cc — the SQLite loadable module: entry point and functions.
//
// Thin by design: each function reads its arguments, calls the core and sets
// the result; errors go through boundary.h. Functions are registered from
// one table with explicit flags and every return code is checked.
// Table-valued functions are eponymous virtual tables.
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include <cstring>
#include <memory>
#include <string>

#include "boundary.h"
#include "migrations_sqlite.h"
#include "quality_sqlite.h"
#include "rules_sqlite.h"
#include "rules/rules.h"
#include "validate/validators.h"
#include "base/version.h"

namespace {

using vigil::sqlite::ResultText;
using vigil::sqlite::Text;
namespace core = vigil::core;

// vigil_is_<kind>(text): the KindInfo rides in the user data pointer. This
// is the hot path: no allocation, no exception for ASCII input.
void IsKind(sqlite3_context* ctx, int, sqlite3_value** argv) noexcept {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* kind = static_cast<const core::KindInfo*>(sqlite3_user_data(ctx));
  std::string_view value = Text(argv[0]);
  vigil::sqlite::Run(ctx, [&] { sqlite3_result_int(ctx, kind->check(value) == nullptr ? 1 : 0); });
}

VIGIL_SQLITE_FN(vigil_validate) {
  auto reason = core::Explain(Text(argv[0]), Text(argv[1]));
  if (reason) {
    ResultText(ctx, *reason);
  } else {
    sqlite3_result_null(ctx);
  }
}

VIGIL_SQLITE_FN(vigil_uuid_version) { sqlite3_result_int(ctx, core::UuidVersion(Text(argv[0]))); }

VIGIL_SQLITE_FN(vigil_is_phone_region) {
  sqlite3_result_int(ctx, core::CheckPhoneInRegion(Text(argv[0]), Text(argv[1])) == nullptr ? 1 : 0);
}

VIGIL_SQLITE_FN(vigil_iban_normalize) { ResultText(ctx, core::IbanNormalize(Text(argv[0]))); }

VIGIL_SQLITE_FN(vigil_json_schema_valid) {
  sqlite3_result_int(ctx, core::JsonSchemaCheck(Text(argv[0]), Text(argv[1])) ? 0 : 1);
}

VIGIL_SQLITE_FN(vigil_version) { ResultText(ctx, VIGIL_VERSION); }

// vigil_rule_check(rule, params, value): NULL when the value passes the rule,
// else the reason. Not NULL-in-NULL-out in `value` (not_null must see NULL).
// The parsed rule is kept as auxiliary data of the params argument, so a
// scan with constant rule and params parses once.
void vigil_rule_check(sqlite3_context* ctx, int, sqlite3_value** argv) noexcept {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  vigil::sqlite::Run(ctx, [&] {
    auto* cache = static_cast<core::ParsedRuleCache*>(sqlite3_get_auxdata(ctx, 1));
    bool fresh = cache == nullptr;
    if (fresh) cache = new core::ParsedRuleCache();
    std::unique_ptr<core::ParsedRuleCache> owner(fresh ? cache : nullptr);
    std::optional<std::string_view> params, value;
    if (sqlite3_value_type(argv[1]) != SQLITE_NULL) params = Text(argv[1]);
    if (sqlite3_value_type(argv[2]) != SQLITE_NULL) value = Text(argv[2]);
    auto reason = core::RuleCheck(*cache, Text(argv[0]), params, value);
    if (fresh) {
      // SQLite owns it from here (and may free it at once if the argument
      // is not constant).
      sqlite3_set_auxdata(ctx, 1, owner.release(), [](void* p) { delete static_cast<core::ParsedRuleCache*>(p); });
    }
    if (reason) ResultText(ctx, *reason); else sqlite3_result_null(ctx);
  });
}

// ---- vigil_validators(): eponymous virtual table -------------------------

struct ValidatorsCursor {
  sqlite3_vtab_cursor base;
  std::size_t row;
};

int ValidatorsConnect(sqlite3* db, void*, int, const char* const*, sqlite3_vtab** out, char**) {
  int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(kind TEXT, description TEXT, example TEXT)");
  if (rc != SQLITE_OK) return rc;
  auto* vtab = static_cast<sqlite3_vtab*>(sqlite3_malloc(sizeof(sqlite3_vtab)));
  if (vtab == nullptr) return SQLITE_NOMEM;
  std::memset(vtab, 0, sizeof(*vtab));
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  *out = vtab;
  return SQLITE_OK;
}

int ValidatorsDisconnect(sqlite3_vtab* vtab) {
  sqlite3_free(vtab);
  return SQLITE_OK;
}

int ValidatorsBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  info->estimatedCost = 16;
  info->estimatedRows = 16;
  return SQLITE_OK;
}

int ValidatorsOpen(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cur = static_cast<ValidatorsCursor*>(sqlite3_malloc(sizeof(ValidatorsCursor)));
  if (cur == nullptr) return SQLITE_NOMEM;
  std::memset(cur, 0, sizeof(*cur));
  *out = &cur->base;
  return SQLITE_OK;
}

int ValidatorsClose(sqlite3_vtab_cursor* cur) {
  sqlite3_free(cur);
  return SQLITE_OK;
}

int ValidatorsFilter(sqlite3_vtab_cursor* cur, int, const char*, int, sqlite3_value**) {
  reinterpret_cast<ValidatorsCursor*>(cur)->row = 0;
  return SQLITE_OK;
}

int ValidatorsNext(sqlite3_vtab_cursor* cur) {
  reinterpret_cast<ValidatorsCursor*>(cur)->row++;
  return SQLITE_OK;
}

int ValidatorsEof(sqlite3_vtab_cursor* cur) {
  std::size_t n;
  core::Kinds(&n);
  return reinterpret_cast<ValidatorsCursor*>(cur)->row >= n;
}

int ValidatorsColumn(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int col) {
  std::size_t n;
  const core::KindInfo& k = core::Kinds(&n)[reinterpret_cast<ValidatorsCursor*>(cur)->row];
  const char* v = col == 0 ? k.name : col == 1 ? k.description : k.example;
  sqlite3_result_text(ctx, v, -1, SQLITE_STATIC);
  return SQLITE_OK;
}

int ValidatorsRowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<ValidatorsCursor*>(cur)->row) + 1;
  return SQLITE_OK;
}

sqlite3_module MakeValidatorsModule() {
  sqlite3_module m;
  std::memset(&m, 0, sizeof(m));
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous-only: SELECT * FROM vigil_validators()
  m.xConnect = ValidatorsConnect;
  m.xBestIndex = ValidatorsBestIndex;
  m.xDisconnect = ValidatorsDisconnect;
  m.xDestroy = ValidatorsDisconnect;
  m.xOpen = ValidatorsOpen;
  m.xClose = ValidatorsClose;
  m.xFilter = ValidatorsFilter;
  m.xNext = ValidatorsNext;
  m.xEof = ValidatorsEof;
  m.xColumn = ValidatorsColumn;
  m.xRowid = ValidatorsRowid;
  return m;
}

const sqlite3_module kValidatorsModule = MakeValidatorsModule();

// Pure functions: IMMUTABLE in PostgreSQL, DETERMINISTIC here. vigil_version
// depends on the loaded module (STABLE in PostgreSQL), so it is innocuous but
// not deterministic.
constexpr int kPureFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
constexpr int kStableFlags = SQLITE_UTF8 | SQLITE_INNOCUOUS;

const vigil::sqlite::FunctionSpec kFunctions[] = {
    {"vigil_validate", 2, vigil_validate, kPureFlags},
    {"vigil_uuid_version", 1, vigil_uuid_version, kPureFlags},
    {"vigil_is_phone", 2, vigil_is_phone_region, kPureFlags},
    {"vigil_iban_normalize", 1, vigil_iban_normalize, kPureFlags},
    {"vigil_json_schema_valid", 2, vigil_json_schema_valid, kPureFlags},
    {"vigil_version", 0, vigil_version, kStableFlags},
    {"vigil_rule_check", 3, vigil_rule_check, kPureFlags},
};

}  // namespace

extern "C" __attribute__((visibility("default"))) int sqlite3_vigil_init(sqlite3* db, char** errmsg,
                                                                      const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  int rc = SQLITE_OK;
  std::size_t nkinds;
  const core::KindInfo* kinds = core::Kinds(&nkinds);
  for (std::size_t i = 0; i < nkinds && rc == SQLITE_OK; ++i) {
    char name[64];
    sqlite3_snprintf(sizeof(name), name, "vigil_is_%s", kinds[i].name);
    rc = sqlite3_create_function_v2(db, name, 1, kPureFlags, const_cast<core::KindInfo*>(&kinds[i]), IsKind,
                                    nullptr, nullptr, nullptr);
  }
  if (rc == SQLITE_OK)
    rc = vigil::sqlite::RegisterFunctions(db, kFunctions, sizeof(kFunctions) / sizeof(kFunctions[0]), nullptr, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_create_module_v2(db, "vigil_validators", &kValidatorsModule, nullptr, nullptr);
  if (rc == SQLITE_OK) rc = vigil::sqlite::RegisterRules(db);
  if (rc == SQLITE_OK) rc = vigil::sqlite::RegisterQuality(db);
  if (rc == SQLITE_OK) rc = vigil::sqlite::RegisterMigrations(db);
  if (rc != SQLITE_OK && errmsg != nullptr) {
    *errmsg = sqlite3_mprintf("vigil: registration failed: %s", sqlite3_errstr(rc));
  }
  return rc;
}
