// rules.cc — rule parsing, value checks and violation reports (SPEC §2).
#include "rules/rules.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/decimal.h"
#include "base/json.h"
#include "base/text.h"
#include "base/error.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using nlohmann::json;

[[noreturn]] void Bad(std::string_view kind, const std::string& what) {
  throw Error(ErrorCode::kInvalidParameter, "rule " + text::Printable(kind, 40) + ": " + what);
}

// NumberParam reads params[key] as the exact decimal it was written as.
std::optional<Decimal> NumberParam(const json& p, const json_in::Numbers& numbers, const char* key,
                                   std::string_view kind) {
  if (!p.contains(key) || p[key].is_null()) return std::nullopt;
  if (!p[key].is_number()) Bad(kind, std::string("\"") + key + "\" must be a number");
  auto it = numbers.find(std::string("/") + key);
  std::optional<Decimal> d = it == numbers.end() ? std::nullopt : Decimal::Parse(it->second);
  if (!d) Bad(kind, std::string("\"") + key + "\" must be a number");
  return d;
}

// IntegerParam reads params[key] as an integer within [lo, hi].
std::optional<long long> IntegerParam(const json& p, const json_in::Numbers& numbers, const char* key,
                                      std::string_view kind, long long lo, long long hi) {
  std::optional<Decimal> d = NumberParam(p, numbers, key, kind);
  if (!d) return std::nullopt;
  if (!d->integer() || !d->FitsInt64() || d->IntegerDigits() > 18) Bad(kind, std::string("\"") + key + "\" must be an integer");
  long long v = std::stoll(d->ToString());
  if (v < lo || v > hi)
    Bad(kind, std::string("\"") + key + "\" must be from " + std::to_string(lo) + " to " + std::to_string(hi));
  return v;
}


}  // namespace

Rule::Rule() = default;
Rule::~Rule() = default;
Rule::Rule(Rule&&) noexcept = default;
Rule& Rule::operator=(Rule&&) noexcept = default;

Rule ParseRule(std::string_view kind, std::optional<std::string_view> params_text) {
  Rule r;
  r.name = std::string(kind);
  json p;
  json_in::Numbers numbers;
  if (params_text && !params_text->empty()) p = json_in::ParseInput(*params_text, "rule " + text::Printable(kind, 40) + ": params", &numbers);
  if (!p.is_null()) r.params = json_in::Dump(p, numbers);
  auto need_object = [&]() {
    if (!p.is_object()) Bad(kind, "params must be a JSON object");
  };
  if (kind == "not_null" || kind == "positive" || kind == "unique") {
    r.kind = kind == "not_null" ? RuleKind::kNotNull : kind == "positive" ? RuleKind::kPositive : RuleKind::kUnique;
    if (!p.is_null() && !(p.is_object() && p.empty())) Bad(kind, "takes no params");
    r.params.clear();
  } else if (kind == "range" || kind == "length") {
    r.kind = kind == "range" ? RuleKind::kRange : RuleKind::kLength;
    need_object();
    r.min = NumberParam(p, numbers, "min", kind);
    r.max = NumberParam(p, numbers, "max", kind);
    if (!r.min && !r.max) Bad(kind, "needs \"min\", \"max\" or both");
    if (r.min && r.max && Decimal::Compare(*r.min, *r.max) > 0) Bad(kind, "\"min\" is greater than \"max\"");
    auto count = [](const std::optional<Decimal>& d) {
      return !d || (d->integer() && !d->negative() && d->IntegerDigits() <= 15);
    };
    if (kind == "length" && (!count(r.min) || !count(r.max)))
      Bad(kind, "\"min\" and \"max\" must be non-negative integers");
  } else if (kind == "one_of") {
    r.kind = RuleKind::kOneOf;
    if (!p.is_array() || p.empty()) Bad(kind, "params must be a non-empty JSON array");
    for (std::size_t i = 0; i < p.size(); ++i) {
      const json& v = p[i];
      if (v.is_string()) {
        r.one_of.push_back(v.get<std::string>());
        r.one_of_numbers.emplace_back();
      } else if (v.is_number()) {
        // A number allows the values equal to it: [1e2] allows 100 and 100.0.
        const std::string& spelling = numbers["/" + std::to_string(i)];
        r.one_of.push_back(spelling);
        r.one_of_numbers.push_back(Decimal::Parse(spelling));
      } else if (v.is_boolean()) {
        r.one_of.push_back(v.dump());
        r.one_of_numbers.emplace_back();
      } else {
        Bad(kind, "values must be strings, numbers or booleans");
      }
    }
  } else if (kind == "regex") {
    r.kind = RuleKind::kRegex;
    need_object();
    if (!p.contains("pattern") || !p["pattern"].is_string()) Bad(kind, "needs {\"pattern\": \"...\"}");
    r.regex.emplace(Regex::Compile(p["pattern"].get<std::string>()));
    if (!r.regex->ok()) Bad(kind, "pattern does not compile: " + r.regex->error());
  } else if (kind == "precision") {
    r.kind = RuleKind::kPrecision;
    need_object();
    if (!p.contains("digits") || !p["digits"].is_number()) Bad(kind, "needs integer \"digits\"");
    if (p.contains("scale") && !p["scale"].is_number()) Bad(kind, "\"scale\" must be an integer");
    r.digits = static_cast<int>(*IntegerParam(p, numbers, "digits", kind, 1, 1000));
    r.scale = static_cast<int>(IntegerParam(p, numbers, "scale", kind, 0, 1000).value_or(0));
    if (r.scale > r.digits) Bad(kind, "needs 1 <= digits <= 1000 and 0 <= scale <= digits");
  } else if (kind == "references") {
    r.kind = RuleKind::kReferences;
    need_object();
    if (!p.contains("table") || !p["table"].is_string() || p["table"].get<std::string>().empty())
      Bad(kind, "needs {\"table\": \"...\", \"column\": \"...\"}");
    if (!p.contains("column") || !p["column"].is_string() || p["column"].get<std::string>().empty())
      Bad(kind, "needs {\"table\": \"...\", \"column\": \"...\"}");
    r.ref_table = p["table"].get<std::string>();
    r.ref_column = p["column"].get<std::string>();
    if (p.contains("schema")) {
      if (!p["schema"].is_string() || p["schema"].get<std::string>().empty())
        Bad(kind, "\"schema\" must be a non-empty string");
      r.ref_schema = p["schema"].get<std::string>();
    }
    if (p.contains("enforce") && !p["enforce"].is_boolean()) Bad(kind, "\"enforce\" must be true or false");
    r.enforce = p.value("enforce", false);
  } else if (kind == "expression") {
    r.kind = RuleKind::kExpression;
    need_object();
    if (!p.contains("sql") || !p["sql"].is_string() || p["sql"].get<std::string>().empty())
      Bad(kind, "needs {\"sql\": \"<boolean expression>\"}");
    r.expression = p["sql"].get<std::string>();
    if (r.expression.find(';') != std::string::npos) Bad(kind, "the expression must not contain ';'");
    // The expression is pasted into SQL vigil builds (the SQLite triggers'
    // WHEN clause and body): it must be one parenthesised unit that cannot
    // close what encloses it, and no comment may swallow what follows it.
    int depth = 0;
    char quote = 0;
    for (std::size_t i = 0; i < r.expression.size(); ++i) {
      char c = r.expression[i];
      if (quote != 0) {
        if (c == quote) quote = 0;  // a doubled quote reopens at once
        continue;
      }
      if (c == '\'' || c == '"' || c == '`') {
        quote = c;
      } else if (c == '[') {
        quote = ']';
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        if (--depth < 0) Bad(kind, "the expression closes a parenthesis it did not open");
      } else if ((c == '-' && i + 1 < r.expression.size() && r.expression[i + 1] == '-') ||
                 (c == '/' && i + 1 < r.expression.size() && r.expression[i + 1] == '*')) {
        Bad(kind, "the expression must not contain a comment");
      }
    }
    if (quote != 0) Bad(kind, "the expression has an unterminated quote");
    if (depth != 0) Bad(kind, "the expression leaves a parenthesis open");
  } else if (kind == "json_schema") {
    r.kind = RuleKind::kJsonSchema;
    need_object();
    r.json_schema = CompileJsonSchemaRule(r.params);
  } else if (const KindInfo* info = FindKind(kind)) {
    r.kind = RuleKind::kValidator;
    r.validator = info;
    if (!p.is_null() && !(p.is_object() && p.empty())) Bad(kind, "takes no params");
    r.params.clear();
  } else {
    throw Error(ErrorCode::kInvalidParameter, "unknown rule kind \"" + text::Printable(kind, 40) + "\"", {},
                "Rule kinds: every validator kind, json_schema, not_null, range, length, one_of, regex, positive, "
                "precision, references, unique, expression.");
  }
  return r;
}

bool NeedsEngine(const Rule& rule) noexcept {
  return rule.kind == RuleKind::kReferences || rule.kind == RuleKind::kUnique || rule.kind == RuleKind::kExpression;
}

std::optional<std::string> CheckValue(const Rule& r, std::optional<std::string_view> value) {
  if (!value) {
    if (r.kind == RuleKind::kNotNull) return std::string("is null");
    return std::nullopt;
  }
  std::string_view v = *value;
  switch (r.kind) {
    case RuleKind::kNotNull:
      return std::nullopt;
    case RuleKind::kValidator:
      if (Reason reason = r.validator->check(v)) return std::string(reason);
      return std::nullopt;
    case RuleKind::kRange: {
      std::optional<Decimal> d = Decimal::Parse(v);
      if (!d) return std::string("not a number");
      if (r.min && Decimal::Compare(*d, *r.min) < 0) return d->ToString() + " is below the minimum " + r.min->ToString();
      if (r.max && Decimal::Compare(*d, *r.max) > 0) return d->ToString() + " is above the maximum " + r.max->ToString();
      return std::nullopt;
    }
    case RuleKind::kPositive: {
      std::optional<Decimal> d = Decimal::Parse(v);
      if (!d) return std::string("not a number");
      if (d->zero() || d->negative()) return d->ToString() + " is not positive";
      return std::nullopt;
    }
    case RuleKind::kLength: {
      if (!text::IsValidUtf8(v)) return std::string("invalid UTF-8");
      std::optional<Decimal> n = Decimal::Parse(std::to_string(text::CodePoints(v)));
      if (r.min && Decimal::Compare(*n, *r.min) < 0)
        return "length " + n->ToString() + " is below the minimum " + r.min->ToString();
      if (r.max && Decimal::Compare(*n, *r.max) > 0)
        return "length " + n->ToString() + " is above the maximum " + r.max->ToString();
      return std::nullopt;
    }
    case RuleKind::kOneOf: {
      std::optional<Decimal> number;
      bool parsed = false;
      for (std::size_t i = 0; i < r.one_of.size(); ++i) {
        if (!r.one_of_numbers[i]) {
          if (v == r.one_of[i]) return std::nullopt;
          continue;
        }
        if (!parsed) number = Decimal::Parse(v), parsed = true;
        if (number && *number == *r.one_of_numbers[i]) return std::nullopt;
      }
      return std::string("not one of the allowed values");
    }
    case RuleKind::kRegex:
      if (!r.regex->PartialMatch(v)) return std::string("does not match the pattern");
      return std::nullopt;
    case RuleKind::kPrecision: {
      // Digits before and after the point, as PostgreSQL numeric counts
      // them (1.50 has one fraction digit; 1e3 has four integer digits).
      std::optional<Decimal> d = Decimal::Parse(v);
      if (!d) return std::string("not a decimal number");
      if (d->FractionDigits() > r.scale)
        return "more than " + std::to_string(r.scale) + " digits after the decimal point";
      if (d->IntegerDigits() > r.digits - r.scale)
        return "more than " + std::to_string(r.digits - r.scale) + " digits before the decimal point";
      return std::nullopt;
    }
    case RuleKind::kJsonSchema: {
      if (v.empty() || !json::accept(v.begin(), v.end())) return std::string("not valid JSON");
      std::vector<JsonSchemaError> errors;
      if (ValidateJson(*r.json_schema, v, &errors)) return std::nullopt;
      return errors.empty() ? std::string("does not match the schema") : JsonSchemaReason(errors.front());
    }
    case RuleKind::kReferences:
    case RuleKind::kUnique:
    case RuleKind::kExpression:
      return std::nullopt;  // checked by the engine
  }
  return std::nullopt;
}

const Rule& ParsedRuleCache::Get(std::string_view kind, std::optional<std::string_view> params) {
  bool same = rule_ && kind == kind_ && params.has_value() == has_params_ && (!params || *params == params_);
  if (!same) {
    rule_.reset();
    rule_.emplace(ParseRule(kind, params));
    kind_ = std::string(kind);
    has_params_ = params.has_value();
    params_ = params ? std::string(*params) : std::string();
  }
  return *rule_;
}

std::optional<std::string> RuleCheck(ParsedRuleCache& cache, std::string_view kind,
                                     std::optional<std::string_view> params, std::optional<std::string_view> value) {
  const Rule& rule = cache.Get(kind, params);
  if (NeedsEngine(rule))
    throw Error(ErrorCode::kInvalidParameter, "rule " + text::Printable(kind, 40) + " needs a table",
                {}, "Use vigil_check(table, row) for unique, references and expression rules.");
  return CheckValue(rule, value);
}

std::string ViolationsMessage(std::string_view table, const std::vector<Violation>& violations) {
  std::string msg = "row rejected by " + std::to_string(violations.size()) +
                    (violations.size() == 1 ? " rule" : " rules") + " on \"" + text::Printable(table, 64) + "\": ";
  for (std::size_t i = 0; i < violations.size(); ++i) {
    const Violation& v = violations[i];
    if (i > 0) msg += "; ";
    msg += (v.column.empty() ? std::string("(row)") : v.column) + " (" + v.rule + "): " + v.reason;
  }
  return msg;
}

std::string ViolationsJson(const std::vector<Violation>& violations) {
  json out = json::array();
  for (const Violation& v : violations)
    out.push_back({{"column", v.column.empty() ? json(nullptr) : json(v.column)}, {"rule", v.rule}, {"reason", v.reason}});
  // A column name is the engine's bytes (an SQLite column may be named in
  // invalid UTF-8): replaced with U+FFFD, not thrown as a library exception.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace vigil::core
