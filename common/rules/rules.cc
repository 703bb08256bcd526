// rules.cc — rule parsing, value checks and violation reports (SPEC §2).
#include "rules/rules.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "base/error.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using nlohmann::json;

[[noreturn]] void Bad(std::string_view kind, const std::string& what) {
  throw Error(ErrorCode::kInvalidParameter, "rule " + text::Printable(kind, 40) + ": " + what);
}

std::optional<double> NumberParam(const json& p, const char* key, std::string_view kind) {
  if (!p.contains(key) || p[key].is_null()) return std::nullopt;
  if (!p[key].is_number()) Bad(kind, std::string("\"") + key + "\" must be a number");
  return p[key].get<double>();
}

// ParseNumber reads a whole decimal or exponent number; false otherwise.
bool ParseNumber(std::string_view s, double* out) {
  if (s.empty() || s.size() > 400) return false;
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || !std::isfinite(d)) return false;
  for (char c : buf)  // no hex floats, no inf/nan spellings, no spaces
    if (!(text::IsDigit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return false;
  *out = d;
  return true;
}

std::string FormatNumber(double d) {
  json j = d;
  if (std::floor(d) == d && std::fabs(d) < 1e15) j = static_cast<long long>(d);
  return j.dump();
}

std::size_t CodePoints(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
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
  if (params_text && !params_text->empty()) {
    try {
      p = json::parse(params_text->begin(), params_text->end());
    } catch (const json::exception&) {
      Bad(kind, "params are not valid JSON");
    }
  }
  if (!p.is_null()) r.params = p.dump();
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
    r.min = NumberParam(p, "min", kind);
    r.max = NumberParam(p, "max", kind);
    if (!r.min && !r.max) Bad(kind, "needs \"min\", \"max\" or both");
    if (r.min && r.max && *r.min > *r.max) Bad(kind, "\"min\" is greater than \"max\"");
    if (kind == "length" && ((r.min && (*r.min < 0 || std::floor(*r.min) != *r.min)) ||
                             (r.max && (*r.max < 0 || std::floor(*r.max) != *r.max))))
      Bad(kind, "\"min\" and \"max\" must be non-negative integers");
  } else if (kind == "one_of") {
    r.kind = RuleKind::kOneOf;
    if (!p.is_array() || p.empty()) Bad(kind, "params must be a non-empty JSON array");
    for (const json& v : p) {
      if (v.is_string()) r.one_of.push_back(v.get<std::string>());
      else if (v.is_number() || v.is_boolean()) r.one_of.push_back(v.dump());
      else Bad(kind, "values must be strings, numbers or booleans");
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
    if (!p.contains("digits") || !p["digits"].is_number_integer()) Bad(kind, "needs integer \"digits\"");
    r.digits = p["digits"].get<int>();
    r.scale = p.value("scale", 0);
    if (p.contains("scale") && !p["scale"].is_number_integer()) Bad(kind, "\"scale\" must be an integer");
    if (r.digits < 1 || r.digits > 1000 || r.scale < 0 || r.scale > r.digits)
      Bad(kind, "needs 1 <= digits <= 1000 and 0 <= scale <= digits");
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
  } else if (const KindInfo* info = FindKind(kind)) {
    r.kind = RuleKind::kValidator;
    r.validator = info;
    if (!p.is_null() && !(p.is_object() && p.empty())) Bad(kind, "takes no params");
    r.params.clear();
  } else {
    throw Error(ErrorCode::kInvalidParameter, "unknown rule kind \"" + text::Printable(kind, 40) + "\"", {},
                "Rule kinds: every validator kind, not_null, range, length, one_of, regex, positive, precision, "
                "references, unique, expression.");
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
  double d = 0;
  switch (r.kind) {
    case RuleKind::kNotNull:
      return std::nullopt;
    case RuleKind::kValidator:
      if (Reason reason = r.validator->check(v)) return std::string(reason);
      return std::nullopt;
    case RuleKind::kRange:
      if (!ParseNumber(v, &d)) return std::string("not a number");
      if (r.min && d < *r.min) return FormatNumber(d) + " is below the minimum " + FormatNumber(*r.min);
      if (r.max && d > *r.max) return FormatNumber(d) + " is above the maximum " + FormatNumber(*r.max);
      return std::nullopt;
    case RuleKind::kPositive:
      if (!ParseNumber(v, &d)) return std::string("not a number");
      if (!(d > 0)) return FormatNumber(d) + " is not positive";
      return std::nullopt;
    case RuleKind::kLength: {
      if (!text::IsValidUtf8(v)) return std::string("invalid UTF-8");
      double n = static_cast<double>(CodePoints(v));
      if (r.min && n < *r.min) return "length " + FormatNumber(n) + " is below the minimum " + FormatNumber(*r.min);
      if (r.max && n > *r.max) return "length " + FormatNumber(n) + " is above the maximum " + FormatNumber(*r.max);
      return std::nullopt;
    }
    case RuleKind::kOneOf:
      for (const std::string& allowed : r.one_of)
        if (v == allowed) return std::nullopt;
      return std::string("not one of the allowed values");
    case RuleKind::kRegex:
      if (!r.regex->PartialMatch(v)) return std::string("does not match the pattern");
      return std::nullopt;
    case RuleKind::kPrecision: {
      // Digits before and after the point of a plain decimal, sign allowed.
      std::string_view s = v;
      if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
      std::size_t dot = s.find('.');
      std::string_view ip = s.substr(0, dot), fp = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
      if (ip.empty() && fp.empty()) return std::string("not a decimal number");
      for (char c : ip)
        if (!text::IsDigit(c)) return std::string("not a decimal number");
      for (char c : fp)
        if (!text::IsDigit(c)) return std::string("not a decimal number");
      while (ip.size() > 1 && ip[0] == '0') ip.remove_prefix(1);
      if (ip == "0") ip = {};
      while (!fp.empty() && fp.back() == '0') fp.remove_suffix(1);
      if (static_cast<int>(fp.size()) > r.scale)
        return "more than " + std::to_string(r.scale) + " digits after the decimal point";
      if (static_cast<int>(ip.size()) > r.digits - r.scale)
        return "more than " + std::to_string(r.digits - r.scale) + " digits before the decimal point";
      return std::nullopt;
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
  return out.dump();
}

}  // namespace vigil::core
