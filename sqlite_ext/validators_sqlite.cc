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
#include "sqlite_util.h"
#include "validate/json_schema.h"
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

// A compiled schema is kept as auxiliary data of the schema argument, so a
// scan with a constant schema compiles it once per statement (with the
// options it was compiled with: a row's different options recompile).
struct CachedSchema {
  std::string schema;
  std::string options;
  std::shared_ptr<const core::CompiledSchema> compiled;
};

std::shared_ptr<const core::CompiledSchema> SchemaArg(sqlite3_context* ctx, sqlite3_value** argv, int argc) {
  std::string_view schema = Text(argv[0]);
  std::string_view options_text = argc > 2 ? Text(argv[2]) : std::string_view();
  auto* cached = static_cast<CachedSchema*>(sqlite3_get_auxdata(ctx, 0));
  if (cached != nullptr && cached->schema == schema && cached->options == options_text) return cached->compiled;
  core::JsonSchemaOptions options = argc > 2 ? core::ParseJsonSchemaOptions(options_text) : core::JsonSchemaOptions{};
  SchemaRegistry registry(sqlite3_context_db_handle(ctx));
  auto compiled = core::CompileJsonSchema(schema, options, &registry);
  auto fresh = std::make_unique<CachedSchema>(CachedSchema{std::string(schema), std::string(options_text), compiled});
  // SQLite owns it from here (and may free it at once).
  sqlite3_set_auxdata(ctx, 0, fresh.release(), [](void* p) { delete static_cast<CachedSchema*>(p); });
  return compiled;
}

// vigil_json_schema_valid(schema, doc): pure, references within the schema
// (and the built-in meta-schemas) only.
VIGIL_SQLITE_FN(vigil_json_schema_valid) {
  auto compiled = SchemaArg(ctx, argv, 2);
  sqlite3_result_int(ctx, core::ValidateJson(*compiled, Text(argv[1]), nullptr) ? 1 : 0);
}

// vigil_json_schema_valid(schema, doc, options): format, registry, max_steps.
VIGIL_SQLITE_FN(vigil_json_schema_valid_options) {
  auto compiled = SchemaArg(ctx, argv, 3);
  sqlite3_result_int(ctx, core::ValidateJson(*compiled, Text(argv[1]), nullptr) ? 1 : 0);
}

// vigil_json_schema_check(schema, doc [, options]): the basic output.
VIGIL_SQLITE_FN(vigil_json_schema_check) {
  auto compiled = SchemaArg(ctx, argv, argc);
  std::vector<core::JsonSchemaError> errors;
  bool valid = core::ValidateJson(*compiled, Text(argv[1]), &errors, true);
  ResultText(ctx, core::JsonSchemaOutput(valid, errors));
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
    {"vigil_json_schema_valid_options", vigil_json_schema_valid_options, nullptr, false},
    {"vigil_json_schema_check", vigil_json_schema_check, nullptr, false},
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
