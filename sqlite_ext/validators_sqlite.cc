// validators_sqlite.cc — the validator functions for SQLite (SPEC §1).
//
// Thin by design: each function reads its arguments, calls the core and sets
// the result; errors go through boundary.h. The registration (names,
// arities, flags) comes from the function table, in module_sqlite.cc.
#include <sqlite3ext.h>

#include <cstring>
#include <memory>
#include <string>

#include "boundary.h"
#include "module_sqlite.h"
#include "rules/rules.h"
#include "validate/validators.h"
#include "base/version.h"

namespace vigil::sqlite {
namespace {

namespace core = vigil::core;

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

// vigil_validators(): one row per kind from the core's static table.
std::vector<Row> ValidatorRows(sqlite3*) {
  std::size_t n;
  const core::KindInfo* kinds = core::Kinds(&n);
  std::vector<Row> rows;
  for (std::size_t i = 0; i < n; ++i)
    rows.push_back({Value::Text(kinds[i].name), Value::Text(kinds[i].description), Value::Text(kinds[i].example)});
  return rows;
}

const TableSpec kValidators = {"vigil_validators", "kind TEXT, description TEXT, example TEXT", ValidatorRows};

const Impl kImpls[] = {
    {"vigil_validate", vigil_validate, nullptr, false},
    {"vigil_uuid_version", vigil_uuid_version, nullptr, false},
    {"vigil_is_phone_region", vigil_is_phone_region, nullptr, false},
    {"vigil_iban_normalize", vigil_iban_normalize, nullptr, false},
    {"vigil_json_schema_valid", vigil_json_schema_valid, nullptr, false},
    {"vigil_version", vigil_version, nullptr, false},
    {"vigil_rule_check", vigil_rule_check, nullptr, false},
    {"vigil_validators", nullptr, &kValidators, false},
};

}  // namespace

void IsKind(sqlite3_context* ctx, int, sqlite3_value** argv) noexcept {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* kind = static_cast<const core::KindInfo*>(sqlite3_user_data(ctx));
  std::string_view value = Text(argv[0]);
  Run(ctx, [&] { sqlite3_result_int(ctx, kind->check(value) == nullptr ? 1 : 0); });
}

std::span<const Impl> ValidatorImpls() { return kImpls; }

}  // namespace vigil::sqlite
