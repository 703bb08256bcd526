// row_check.h — checking one row against a table's rules (SPEC §2).
//
// The core plans the check and the adapters run the few queries only the
// database can answer. RowCheck parses the stored rules and the row, checks
// columns, types and value rules at once, and lists the EngineQuery items
// (unique, references, expression) for the adapter to run in its own SQL
// dialect. After the adapter stores each query's answer, Finish() returns
// every violation in rule order, so both engines report the same list.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rules/rules.h"

namespace vigil::core {

// Column type categories, from PostgreSQL type names or SQLite declared
// types (SQLite affinity rules, §3.1 of its datatype documentation).
enum class TypeCategory { kInteger, kReal, kNumeric, kText, kBoolean, kOther };
TypeCategory CategoryOf(std::string_view declared_type);

struct TableInfo {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::string> types;  // declared type per column ("" when none)
  std::vector<std::string> generated;  // computed columns: read, never written
};

struct StoredRule {
  std::optional<std::string> column;  // nullopt: row-level (expression)
  std::string rule;
  std::optional<std::string> params;
  long long id = 0;                   // the rule store's id (0 when not known)
};

// A typed JSON value, so that adapters bind numbers as numbers.
struct TypedValue {
  enum Kind { kNull, kString, kInteger, kReal, kBoolean, kJson } kind = kNull;
  std::string text;  // the value as text (JSON spelling for numbers)
};

struct TypedRow {
  std::vector<std::string> columns;
  std::vector<TypedValue> values;
  const TypedValue* Find(const std::string& column) const;
};

// A rule expression that checks or writes rows (vigil_check, vigil_insert,
// a write to an enforced table, through a function of its own) re-enters
// the row check; each engine counts the nesting and refuses level
// kMaxExpressionNesting + 1 with this message (SQLSTATE 54001), long before
// the stack would run out.
inline constexpr int kMaxExpressionNesting = 8;
inline constexpr const char* kExpressionNestingMessage = "rule expressions nest deeper than 8 levels";
inline constexpr const char* kExpressionNestingHint =
    "A rule expression re-enters vigil (vigil_check, vigil_insert or a write to an enforced table): "
    "rule expressions should only read the row.";

// ColumnsNamedIn lists the indexes of `table`'s columns that `expression`
// may name: every column whose name equals, ignoring ASCII case, a word or
// a quoted identifier ("..", `..`, [..]) of the expression outside string
// literals. A superset of what the expression reads (a word that is a
// function name and a column name counts), never a subset, so generated
// SQL can mention only these columns.
std::vector<std::size_t> ColumnsNamedIn(const TableInfo& table, std::string_view expression);

// StoredDouble is a number as a float column stores it: the nearest double,
// in the shortest text that reads back as it ("0" for 1e-400, "0.1" for
// SQLite's quote() of 0.1). Text that is not a number comes back as it is.
std::string StoredDouble(std::string_view text);

// ParseTypedRow parses a JSON object. Throws Error.
TypedRow ParseTypedRow(std::string_view json_text);

struct EngineQuery {
  RuleKind kind;            // kUnique, kReferences or kExpression
  std::size_t rule_index;   // into the stored rules
  std::string column;       // the rule's column ("" for row-level)
  TypedValue value;         // unique / references: the value to look up
  std::string ref_table, ref_column;  // references
  std::string ref_schema;             // references: "" when the stored rule predates fixed targets
  std::string expression;   // expression: SQL over the row's columns
  // Set by the adapter:
  bool violated = false;
  std::string detail;       // optional extra text for the reason
};

// TablePlan is a table's shape and parsed rules: built once, shared by every
// row check until the rules or the table change (the adapters cache it).
class TablePlan {
 public:
  struct Entry {
    std::optional<std::string> column;
    std::string name;
    Rule rule;
    long long id = 0;
  };

  // Throws Error(kInvalidParameter) for a stored rule that does not parse.
  TablePlan(TableInfo table, const std::vector<StoredRule>& rules);

  const TableInfo& table() const { return table_; }
  const std::vector<Entry>& rules() const { return rules_; }
  // Index of `column` in table().columns, or -1.
  int ColumnIndex(std::string_view column) const;

 private:
  TableInfo table_;
  std::vector<Entry> rules_;
  std::vector<TypeCategory> categories_;
  friend class RowCheck;
};

class RowCheck {
 public:
  // The plan must outlive the check (adapters hold it by shared_ptr).
  RowCheck(std::shared_ptr<const TablePlan> plan, TypedRow row, const TypedRow* old_row, bool check_types);

  std::vector<EngineQuery>& queries() { return queries_; }
  const TableInfo& table() const { return plan_->table(); }
  const TablePlan& plan() const { return *plan_; }
  const TypedRow& row() const { return row_; }

  // Finish merges the engine answers and returns every violation in rule
  // order (column and type problems first).
  std::vector<Violation> Finish() const;

  // AddTypeViolation records that the engine's own type refused the row's
  // value for `column` (PostgreSQL's date, uuid, inet, ... which the core
  // cannot judge), with the same consequences as a type problem the core
  // found: no lookup of that value, no expression over the row.
  void AddTypeViolation(const std::string& column, const std::string& reason);

 private:
  std::shared_ptr<const TablePlan> plan_;
  TypedRow row_;
  std::vector<Violation> column_violations_;
  std::vector<std::pair<std::size_t, Violation>> value_violations_;  // (rule index, violation)
  std::vector<std::string> rule_names_;
  std::vector<EngineQuery> queries_;
};

}  // namespace vigil::core
