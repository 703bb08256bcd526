// rule_admin.h — adding and removing rules (SPEC §2), once for both engines.
//
// The order of the checks, their errors and what is stored are decided here;
// an engine answers the few questions only it can (RuleCatalog): which table
// a name means and whether the caller owns it, whether a column exists, what
// a `references` target resolves to and whether the caller may reference it,
// whether an expression compiles, and how rules are stored. A rule is stored
// with its table's identity (schema and name) and a `references` target with
// its schema, both fixed when the rule is added, as a foreign key's are.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil::core {

struct TableIdentity {
  std::string schema;  // PostgreSQL: the namespace; SQLite: "main"
  std::string name;
};

class RuleCatalog {
 public:
  virtual ~RuleCatalog() = default;
  // The table the caller means by `name`, which the caller must own:
  // Error kUndefinedTable when there is none, kWrongObjectType when it is
  // not a table, kPrivilege when the caller does not own it.
  virtual TableIdentity OwnedTable(const std::string& name) = 0;
  // The rules of a table that no longer exists: whose they are to remove.
  // Returns the identity to delete by (schema "" matches every schema where
  // no table of that name is left), or nullopt when the caller may not.
  virtual std::optional<TableIdentity> DroppedTable(const std::string& name) = 0;
  virtual bool HasColumn(const TableIdentity& table, const std::string& column) = 0;
  // A `references` target (schema nullopt: resolved as the caller names
  // tables), which the caller must be allowed to reference (kPrivilege), as
  // a foreign key needs REFERENCES on its target.
  virtual TableIdentity ReferencedTable(const std::optional<std::string>& schema, const std::string& name) = 0;
  // Throws Error(kInvalidParameter) when the expression does not compile
  // over the table's columns.
  virtual void CompileExpression(const TableIdentity& table, const std::string& expression) = 0;
  virtual std::optional<long long> FindRule(const TableIdentity& table, const std::optional<std::string>& column,
                                            const std::string& rule, const std::optional<std::string>& params) = 0;
  virtual long long InsertRule(const TableIdentity& table, const std::optional<std::string>& column,
                               const std::string& rule, const std::optional<std::string>& params) = 0;
  virtual long long DeleteRules(const TableIdentity& table, const std::optional<std::string>& column,
                                const std::string& rule) = 0;
  // The table's rules changed: rebuild what embeds them (SQLite's triggers)
  // and drop what caches them.
  virtual void RulesChanged(const TableIdentity& table) = 0;
};

// AddRule checks and stores a rule, or returns the id of the identical one.
// Throws Error: kNullValue for a NULL table or rule (or a NULL column for a
// column rule), kInvalidParameter for a kind or params that do not parse,
// and what the catalog throws.
long long AddRule(RuleCatalog& catalog, std::optional<std::string_view> table, std::optional<std::string_view> column,
                  std::optional<std::string_view> rule, std::optional<std::string_view> params);

// RemoveRules removes the table's rules of that column and kind (only its
// owner may; the rules of a dropped table, whom DroppedTable names) and
// returns how many.
long long RemoveRules(RuleCatalog& catalog, std::optional<std::string_view> table,
                      std::optional<std::string_view> column, std::optional<std::string_view> rule);

}  // namespace vigil::core
