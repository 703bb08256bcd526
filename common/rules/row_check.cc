// row_check.cc — planning and merging one row's rule check.
#include "rules/row_check.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "base/decimal.h"
#include "base/json.h"
#include "base/text.h"
#include "base/error.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (text::IsUpper(c)) c = static_cast<char>(c + 32);
  return out;
}

// IsIntegerText: an integer a 64-bit column can hold ("12", "-3", "1e2" is not).
bool IsIntegerText(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return text::IsDigit(c); })) return false;
  std::optional<Decimal> d = Decimal::Parse(s);
  return d && d->FitsInt64();
}

bool IsNumericText(std::string_view s) { return Decimal::Parse(s).has_value(); }

// TypeProblem says why a value cannot be stored in a column of category c.
std::optional<std::string> TypeProblem(TypeCategory c, const TypedValue& v) {
  if (v.kind == TypedValue::kNull) return std::nullopt;
  switch (c) {
    case TypeCategory::kInteger: {
      // One model on both engines: a number whose exact value is an
      // integer within 64 bits (3, 3.0, 3e2, "3"); 2^63 and above is out of
      // range, not clamped.
      std::optional<Decimal> d;
      if (v.kind == TypedValue::kInteger || v.kind == TypedValue::kReal) d = Decimal::Parse(v.text);
      else if (v.kind == TypedValue::kString && IsIntegerText(v.text)) return std::nullopt;
      if (d && d->integer() && d->FitsInt64()) return std::nullopt;
      if (d && d->integer()) return std::string("integer out of range");
      return std::string("expected an integer");
    }
    case TypeCategory::kReal:
    case TypeCategory::kNumeric:
      if (v.kind == TypedValue::kInteger || v.kind == TypedValue::kReal) return std::nullopt;
      if (v.kind == TypedValue::kString && IsNumericText(v.text)) return std::nullopt;
      return std::string("expected a number");
    case TypeCategory::kBoolean:
      if (v.kind == TypedValue::kBoolean) return std::nullopt;
      if (v.kind == TypedValue::kInteger && (v.text == "0" || v.text == "1")) return std::nullopt;
      if (v.kind == TypedValue::kString) {
        std::string t = Lower(v.text);
        if (t == "true" || t == "false" || t == "t" || t == "f" || t == "0" || t == "1") return std::nullopt;
      }
      return std::string("expected a boolean");
    case TypeCategory::kText:
      if (v.kind == TypedValue::kJson) return std::string("expected text, got a JSON array or object");
      return std::nullopt;
    case TypeCategory::kOther:
      return std::nullopt;  // the engine's own input function decides
  }
  return std::nullopt;
}

}  // namespace

std::string StoredDouble(std::string_view text) {
  std::optional<Decimal> d = Decimal::Parse(text);
  std::string shortest = d ? ShortestDouble(d->ToDouble()) : "";
  return shortest.empty() ? std::string(text) : shortest;
}

TypeCategory CategoryOf(std::string_view declared) {
  std::string t = Lower(declared);
  auto has = [&t](const char* s) { return t.find(s) != std::string::npos; };
  if (t == "boolean" || t == "bool") return TypeCategory::kBoolean;
  if (t.empty() || has("blob") || has("json") || has("uuid") || has("time") || has("date") || has("inet") ||
      has("bytea") || has("[]") || has("interval") || has("point") || has("range"))
    return TypeCategory::kOther;
  if (has("int")) return TypeCategory::kInteger;  // integer, bigint, smallint, int8 ...
  if (has("char") || has("clob") || has("text")) return TypeCategory::kText;
  if (has("real") || has("floa") || has("doub")) return TypeCategory::kReal;
  if (has("numeric") || has("decimal")) return TypeCategory::kNumeric;
  return TypeCategory::kOther;
}

const TypedValue* TypedRow::Find(const std::string& column) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == column) return &values[i];
  return nullptr;
}

TypedRow ParseTypedRow(std::string_view json_text) {
  json_in::Numbers numbers;
  json j = json_in::ParseInput(json_text, "row", &numbers);
  if (!j.is_object()) throw Error(ErrorCode::kInvalidParameter, "row must be a JSON object");
  TypedRow row;
  for (auto it = j.begin(); it != j.end(); ++it) {
    row.columns.push_back(it.key());
    const json& v = it.value();
    TypedValue tv;
    if (v.is_null()) tv.kind = TypedValue::kNull;
    else if (v.is_string()) { tv.kind = TypedValue::kString; tv.text = v.get<std::string>(); }
    else if (v.is_number()) {
      // The number as written: 0.1000000000000000000001 stays exact.
      tv.kind = v.is_number_float() ? TypedValue::kReal : TypedValue::kInteger;
      tv.text = numbers[json_in::PointerTo(it.key())];
    }
    else if (v.is_boolean()) { tv.kind = TypedValue::kBoolean; tv.text = v.get<bool>() ? "true" : "false"; }
    else { tv.kind = TypedValue::kJson; tv.text = v.dump(); }
    row.values.push_back(std::move(tv));
  }
  return row;
}

std::vector<std::size_t> ColumnsNamedIn(const TableInfo& table, std::string_view expression) {
  std::vector<std::string> names;
  std::size_t i = 0, n = expression.size();
  auto word_char = [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; };
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(expression[i]);
    if (c == '\'') {  // a string literal: '' inside is a quote
      for (++i; i < n; ++i) {
        if (expression[i] == '\'' && (i + 1 >= n || expression[i + 1] != '\'')) break;
        if (expression[i] == '\'') ++i;
      }
      ++i;
    } else if (c == '"' || c == '`' || c == '[') {
      char close = c == '[' ? ']' : static_cast<char>(c);
      std::string name;
      for (++i; i < n; ++i) {
        if (expression[i] == close) {
          if (close != ']' && i + 1 < n && expression[i + 1] == close) { name += close; ++i; continue; }
          break;
        }
        name += expression[i];
      }
      ++i;
      names.push_back(Lower(name));
    } else if (word_char(c) && !std::isdigit(c)) {
      std::size_t start = i;
      while (i < n && word_char(static_cast<unsigned char>(expression[i]))) ++i;
      names.push_back(Lower(expression.substr(start, i - start)));
    } else {
      ++i;
    }
  }
  std::vector<std::size_t> out;
  for (std::size_t c = 0; c < table.columns.size(); ++c)
    if (std::find(names.begin(), names.end(), Lower(table.columns[c])) != names.end()) out.push_back(c);
  return out;
}

TablePlan::TablePlan(TableInfo table, const std::vector<StoredRule>& rules) : table_(std::move(table)) {
  for (const std::string& type : table_.types) categories_.push_back(CategoryOf(type));
  for (const StoredRule& stored : rules) {
    rules_.push_back({stored.column, stored.rule,
                      ParseRule(stored.rule, stored.params ? std::optional<std::string_view>(*stored.params)
                                                           : std::nullopt),
                      stored.id});
  }
}

int TablePlan::ColumnIndex(std::string_view column) const {
  for (std::size_t i = 0; i < table_.columns.size(); ++i)
    if (table_.columns[i] == column) return static_cast<int>(i);
  return -1;
}

RowCheck::RowCheck(std::shared_ptr<const TablePlan> plan, TypedRow row, const TypedRow* old_row, bool check_types)
    : plan_(std::move(plan)), row_(std::move(row)) {
  const TableInfo& table = plan_->table();
  // Columns the table does not have, and values that cannot fit the type.
  // A value of the wrong type is listed once, as a type violation: no
  // engine query is asked about it (PostgreSQL would fail casting it, and
  // raise instead of listing), nor any expression over the row.
  std::vector<std::string> mistyped;
  for (std::size_t i = 0; i < row_.columns.size(); ++i) {
    int c = plan_->ColumnIndex(row_.columns[i]);
    if (c < 0) {
      column_violations_.push_back({row_.columns[i], "column", "no such column in \"" + text::Printable(table.name, 64) + "\""});
      continue;
    }
    if (check_types && std::find(table.generated.begin(), table.generated.end(), row_.columns[i]) !=
                           table.generated.end()) {
      column_violations_.push_back({row_.columns[i], "column", "a generated column; its value is computed"});
      continue;
    }
    if (check_types) {
      if (auto problem = TypeProblem(plan_->categories_[c], row_.values[i])) {
        column_violations_.push_back({row_.columns[i], "type", *problem + " for " + Lower(table.types[c])});
        mistyped.push_back(row_.columns[i]);
      } else if (plan_->categories_[c] == TypeCategory::kReal) {
        // A float column stores the nearest double: judge that value, not
        // the spelling (1e-400 is stored as 0, which is not positive).
        TypedValue& v = row_.values[i];
        if (v.kind == TypedValue::kInteger || v.kind == TypedValue::kReal) v.text = StoredDouble(v.text);
      }
    }
  }
  auto is_mistyped = [&](const std::string& column) {
    return std::find(mistyped.begin(), mistyped.end(), column) != mistyped.end();
  };
  static const TypedValue kNullValue;
  const auto& rules = plan_->rules();
  for (std::size_t r = 0; r < rules.size(); ++r) {
    const TablePlan::Entry& entry = rules[r];
    const Rule& rule = entry.rule;
    rule_names_.push_back(entry.name);
    std::string column = entry.column.value_or("");
    const TypedValue* value = entry.column ? row_.Find(*entry.column) : nullptr;
    if (value == nullptr) value = &kNullValue;
    if (!NeedsEngine(rule)) {
      std::optional<std::string_view> v;
      if (value->kind != TypedValue::kNull) v = value->text;
      if (auto reason = CheckValue(rule, v)) value_violations_.push_back({r, {column, entry.name, *reason}});
      continue;
    }
    EngineQuery q;
    q.kind = rule.kind;
    q.rule_index = r;
    q.column = column;
    if (rule.kind == RuleKind::kExpression) {
      if (!mistyped.empty()) continue;  // the row is rejected for its types already
      q.expression = rule.expression;
    } else {
      if (value->kind == TypedValue::kNull) continue;  // NULL is unique and references nothing
      if (is_mistyped(column)) continue;
      if (rule.kind == RuleKind::kReferences && !rule.enforce) continue;
      if (rule.kind == RuleKind::kUnique && old_row != nullptr) {
        const TypedValue* before = old_row->Find(column);
        if (before != nullptr && before->kind == value->kind && before->text == value->text) continue;  // unchanged
      }
      q.value = *value;
      q.ref_table = rule.ref_table;
      q.ref_column = rule.ref_column;
      q.ref_schema = rule.ref_schema;
    }
    queries_.push_back(std::move(q));
  }
}

void RowCheck::AddTypeViolation(const std::string& column, const std::string& reason) {
  column_violations_.push_back({column, "type", reason});
  std::erase_if(queries_, [&](const EngineQuery& q) {
    return q.kind == RuleKind::kExpression || q.column == column;
  });
}

std::vector<Violation> RowCheck::Finish() const {
  std::vector<Violation> out = column_violations_;
  std::vector<std::pair<std::size_t, Violation>> ordered = value_violations_;
  for (const EngineQuery& q : queries_) {
    if (!q.violated) continue;
    std::string reason;
    switch (q.kind) {
      case RuleKind::kUnique: reason = "value already exists"; break;
      case RuleKind::kReferences:
        reason = "no row in \"" + text::Printable(q.ref_table, 64) + "\" with \"" + text::Printable(q.ref_column, 64) +
                 "\" = " + text::Printable(q.value.text, 64);
        break;
      default: reason = "expression is false: " + text::Printable(q.expression, 200); break;
    }
    if (!q.detail.empty()) reason += " (" + q.detail + ")";
    ordered.push_back({q.rule_index, {q.column, rule_names_[q.rule_index], reason}});
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [index, v] : ordered) out.push_back(v);
  return out;
}

}  // namespace vigil::core
