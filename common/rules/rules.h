// rules.h — data rules (SPEC §2): parsing, value checks and the violation
// report both engines print.
//
// A rule is (column, kind, params). The core parses and validates params
// once, checks a column value against value-level rules, and formats
// violations; rules that need the database (unique, references, expression)
// are evaluated by the adapters with queries, and their violations reported
// through the same Violation type, so a rejected row reads the same on both
// engines.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/decimal.h"
#include "validate/validators.h"

#include "base/regex.h"
#include "sql/quote.h"
#include "validate/json_schema.h"

namespace vigil::core {

enum class RuleKind {
  kValidator,   // any validator kind: email, iban, ...
  kNotNull,
  kRange,       // {"min": n, "max": n}, either optional, inclusive
  kLength,      // {"min": n, "max": n} in characters
  kOneOf,       // ["a", "b", 3]
  kRegex,       // {"pattern": "..."} (RE2, unanchored search)
  kJsonSchema,  // {"schema": <JSON Schema>, "format": ..., "max_steps": ...}: the value is a JSON document
  kPositive,
  kPrecision,   // {"digits": p, "scale": s} as NUMERIC(p, s)
  kReferences,  // {"table": t, "column": c, "schema": s, "enforce": bool}
  kUnique,
  kExpression,  // {"sql": "<boolean SQL over the row's columns>"}
};

struct Rule {
  Rule();
  ~Rule();
  Rule(Rule&&) noexcept;
  Rule& operator=(Rule&&) noexcept;

  std::string name;               // "email", "range", ...
  RuleKind kind = RuleKind::kNotNull;
  std::string params;             // canonical JSON text ("" when none)
  const KindInfo* validator = nullptr;
  std::optional<Decimal> min, max;  // exact bounds (base/decimal.h)
  std::vector<std::string> one_of;
  std::vector<std::optional<Decimal>> one_of_numbers;  // per one_of entry: its value when a JSON number
  std::optional<Regex> regex;
  int digits = 0, scale = 0;
  std::string ref_table, ref_column;
  std::string ref_schema;         // references: fixed when the rule is added ("" in rules older than 0.4.0)
  bool enforce = true;            // references: checked on write only when asked
  std::string expression;
  std::shared_ptr<const CompiledSchema> json_schema;  // json_schema: compiled with the registry in scope
};

// ParseRule validates `kind` and `params` (JSON text, or nullopt for SQL
// NULL) and returns the parsed rule. Throws Error(kInvalidParameter) naming
// what is wrong: an unknown kind, missing or malformed params.
Rule ParseRule(std::string_view kind, std::optional<std::string_view> params);

// NeedsEngine reports whether the rule is checked with a query (unique,
// references, expression) rather than by CheckValue.
bool NeedsEngine(const Rule& rule) noexcept;

// CheckValue checks one column value (nullopt = SQL NULL) against a
// value-level rule and returns the reason it fails, or nullopt. NULL passes
// every rule except not_null, as SQL CHECK constraints do.
std::optional<std::string> CheckValue(const Rule& rule, std::optional<std::string_view> value);

// ParsedRuleCache keeps the last parsed rule, so a per-row call with the same
// rule and params (vigil_rule_check in a scan) parses once.
class ParsedRuleCache {
 public:
  const Rule& Get(std::string_view kind, std::optional<std::string_view> params);

 private:
  std::string kind_, params_;
  bool has_params_ = false;
  std::optional<Rule> rule_;
};

// RuleCheck checks one value against a rule given by kind and params (the
// body of vigil_rule_check). Rules that need the database (unique,
// references, expression) raise Error(kInvalidParameter).
std::optional<std::string> RuleCheck(ParsedRuleCache& cache, std::string_view kind,
                                     std::optional<std::string_view> params, std::optional<std::string_view> value);

struct Violation {
  std::string column;  // "" for row-level rules
  std::string rule;
  std::string reason;
};

// ViolationsMessage formats the one error that rejects a row:
//   row rejected by 2 rules on "trades": price (range): 150 is above the maximum 100; ...
std::string ViolationsMessage(std::string_view table, const std::vector<Violation>& violations);

// ViolationsJson formats violations as a JSON array of
// {"column", "rule", "reason"} objects (the result of vigil_check).
std::string ViolationsJson(const std::vector<Violation>& violations);

}  // namespace vigil::core
