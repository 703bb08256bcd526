// rule_admin.cc — adding and removing rules (see rule_admin.h).
#include "rules/rule_admin.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/text.h"
#include "rules/rules.h"

#include "base/core_guard.h"

namespace vigil::core {

namespace {

std::string Required(std::optional<std::string_view> v, const char* what) {
  if (!v) throw Error(ErrorCode::kNullValue, std::string(what) + " must not be NULL");
  return std::string(*v);
}

std::optional<std::string> Optional(std::optional<std::string_view> v) {
  if (!v) return std::nullopt;
  return std::string(*v);
}

}  // namespace

long long AddRule(RuleCatalog& catalog, std::optional<std::string_view> table_arg,
                  std::optional<std::string_view> column_arg, std::optional<std::string_view> rule_arg,
                  std::optional<std::string_view> params_arg) {
  std::string table_name = Required(table_arg, "table");
  std::string rule = Required(rule_arg, "rule");
  std::optional<std::string> column = Optional(column_arg);
  // Ownership first: who may not change the table's rules learns nothing
  // about its columns or about other tables from the errors below.
  TableIdentity table = catalog.OwnedTable(table_name);
  if (!column && rule != "expression")
    throw Error(ErrorCode::kNullValue, "column must not be NULL for rule " + rule, {},
                "Only expression rules apply to the whole row.");
  if (column && !catalog.HasColumn(table, *column))
    throw Error(ErrorCode::kUndefinedColumn,
                "column \"" + text::ForMessage(*column, 64) + "\" of table \"" + text::ForMessage(table_name, 64) +
                    "\" does not exist");
  Rule parsed = ParseRule(rule, params_arg);
  std::optional<std::string> params;
  if (!parsed.params.empty()) params = parsed.params;
  if (parsed.kind == RuleKind::kReferences) {
    // The target is fixed now, as a foreign key's is: later writes and
    // reports use this schema, whatever search_path (or temporary table of
    // that name) a writer has.
    std::optional<std::string> schema;
    if (!parsed.ref_schema.empty()) schema = parsed.ref_schema;
    TableIdentity target = catalog.ReferencedTable(schema, parsed.ref_table);
    if (!catalog.HasColumn(target, parsed.ref_column))
      throw Error(ErrorCode::kUndefinedColumn, "column \"" + text::ForMessage(parsed.ref_column, 64) +
                                                   "\" of table \"" + text::ForMessage(parsed.ref_table, 64) +
                                                   "\" does not exist");
    nlohmann::json p = nlohmann::json::parse(parsed.params);
    p["schema"] = target.schema;
    p["table"] = target.name;
    params = p.dump();
  }
  if (parsed.kind == RuleKind::kExpression) catalog.CompileExpression(table, parsed.expression);
  if (auto existing = catalog.FindRule(table, column, rule, params)) return *existing;
  long long id = catalog.InsertRule(table, column, rule, params);
  catalog.RulesChanged(table);
  return id;
}

long long RemoveRules(RuleCatalog& catalog, std::optional<std::string_view> table_arg,
                      std::optional<std::string_view> column_arg, std::optional<std::string_view> rule_arg) {
  std::string table_name = Required(table_arg, "table");
  std::string rule = Required(rule_arg, "rule");
  TableIdentity table;
  try {
    table = catalog.OwnedTable(table_name);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kUndefinedTable) throw;
    std::optional<TableIdentity> dropped = catalog.DroppedTable(table_name);
    if (!dropped) throw;
    table = *dropped;
  }
  long long removed = catalog.DeleteRules(table, Optional(column_arg), rule);
  if (removed > 0) catalog.RulesChanged(table);
  return removed;
}

}  // namespace vigil::core
