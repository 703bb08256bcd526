// json_schema.cc — json and json_schema validators (SPEC §1).
//
// JSON text is parsed by nlohmann/json (RFC 8259, UTF-8 checked, iterative
// parser). JSON Schema evaluation is vigil's own, over nlohmann values, for
// the draft 2020-12 keywords listed in docs/validation.md. We evaluate
// ourselves rather than through valijson (the one C++ JSON Schema library in
// Debian 12) because valijson compiles user patterns with std::regex, whose
// backtracking matcher can take exponential time and overflow the stack on
// long input — unacceptable inside a database server. Here `pattern` uses RE2
// (linear time) and `format` uses vigil's own validators.
//
// Limits: documents and schemas nest at most kMaxDepth levels; $ref is
// resolved only within the schema document ("#", "#/json/pointer"); one
// evaluation takes at most kMaxSteps steps, so a schema whose $refs and
// anyOf branches fan out stops with 54000 on SQLite too, which has no
// cancellation the core can poll.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "base/regex.h"
#include "base/text.h"
#include "base/error.h"
#include "base/json.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 512;
constexpr long long kMaxSteps = 100'000'000;

json ParseJson(std::string_view s, const char* what) {
  return json_in::ParseInput(s, std::string("json_schema: ") + what);
}

[[noreturn]] void BadSchema(const std::string& where, const std::string& what) {
  throw Error(ErrorCode::kInvalidParameter, "json_schema: invalid schema at " + (where.empty() ? "#" : where) + ": " + what);
}

std::string Escape(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

bool IsInteger(const json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

bool IsNonNegativeInt(const json& v) {
  return IsInteger(v) && v.get<double>() >= 0;
}

std::size_t CodePoints(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

const char* TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    default: return IsInteger(v) ? "integer" : "number";
  }
}

bool HasType(const json& v, const std::string& t) {
  if (t == "integer") return IsInteger(v);
  if (t == "number") return v.is_number();
  return t == TypeName(v) || (t == "number" && v.is_number());
}

// CheckFormat asserts the formats vigil knows; unknown formats are
// annotations and pass, as draft 2020-12 specifies.
const char* CheckFormat(const std::string& format, const std::string& s) {
  auto has_zone = [&](std::string_view t) {
    return !t.empty() && (t.back() == 'Z' || t.back() == 'z' ||
                          (t.size() > 6 && (t[t.size() - 6] == '+' || t[t.size() - 6] == '-')));
  };
  if (format == "email" || format == "idn-email") return CheckEmail(s);
  if (format == "uuid") return CheckUuid(s);
  if (format == "ipv4") return CheckIpv4(s);
  if (format == "ipv6") return CheckIpv6(s);
  if (format == "date") return s.size() == 10 ? CheckIso8601(s) : "expected YYYY-MM-DD";
  if (format == "date-time") {
    if (s.size() < 20 || (s[10] != 'T' && s[10] != 't') || s[4] != '-' || s[16] != ':' || !has_zone(s))
      return "expected an RFC 3339 date-time";
    return CheckIso8601(s);
  }
  if (format == "time") {
    if (s.size() < 9 || s[2] != ':' || s[5] != ':' || !has_zone(s)) return "expected an RFC 3339 time";
    return CheckIso8601(s);
  }
  if (format.rfind("vigil:", 0) == 0) {
    const KindInfo* kind = FindKind(std::string_view(format).substr(6));
    if (kind != nullptr) return kind->check(s);
  }
  return nullptr;
}

class SchemaEvaluator {
 public:
  explicit SchemaEvaluator(const json& root) : root_(root) { CheckSchema(root_, "", 0); }

  std::optional<std::string> Evaluate(const json& doc) {
    std::string error;
    if (Eval(root_, doc, "", 0, &error)) return std::nullopt;
    return error;
  }

 private:
  void CheckSchema(const json& s, const std::string& at, int depth) {
    PollCancel();
    if (depth > kMaxDepth) throw Error(ErrorCode::kProgramLimit, "json_schema: schema nested deeper than 512 levels");
    if (s.is_boolean()) return;
    if (!s.is_object()) BadSchema(at, "a schema must be an object or a boolean");
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      std::string here = at + "/" + Escape(k);
      if (k == "type") {
        auto check_name = [&](const json& t) {
          static const char* kTypes[] = {"null", "boolean", "object", "array", "number", "string", "integer"};
          if (!t.is_string() || std::none_of(std::begin(kTypes), std::end(kTypes),
                                             [&](const char* n) { return t.get<std::string>() == n; }))
            BadSchema(here, "unknown type");
        };
        if (v.is_array()) {
          if (v.empty()) BadSchema(here, "type array is empty");
          for (const json& t : v) check_name(t);
        } else {
          check_name(v);
        }
      } else if (k == "enum") {
        if (!v.is_array()) BadSchema(here, "enum must be an array");
      } else if (k == "properties" || k == "patternProperties" || k == "$defs" || k == "definitions") {
        if (!v.is_object()) BadSchema(here, k + " must be an object");
        for (auto p = v.begin(); p != v.end(); ++p) {
          if (k == "patternProperties") CompilePattern(p.key(), here);
          CheckSchema(p.value(), here + "/" + Escape(p.key()), depth + 1);
        }
      } else if (k == "required") {
        if (!v.is_array()) BadSchema(here, "required must be an array of strings");
        for (const json& r : v)
          if (!r.is_string()) BadSchema(here, "required must be an array of strings");
      } else if (k == "additionalProperties" || k == "items" || k == "not" || k == "contains" ||
                 k == "propertyNames") {
        if (k == "items" && v.is_array()) BadSchema(here, "items must be a schema in draft 2020-12 (use prefixItems)");
        CheckSchema(v, here, depth + 1);
      } else if (k == "prefixItems" || k == "allOf" || k == "anyOf" || k == "oneOf") {
        if (!v.is_array() || v.empty()) BadSchema(here, k + " must be a non-empty array of schemas");
        for (std::size_t i = 0; i < v.size(); ++i) CheckSchema(v[i], here + "/" + std::to_string(i), depth + 1);
      } else if (k == "minLength" || k == "maxLength" || k == "minItems" || k == "maxItems" ||
                 k == "minProperties" || k == "maxProperties") {
        if (!IsNonNegativeInt(v)) BadSchema(here, k + " must be a non-negative integer");
      } else if (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" || k == "exclusiveMaximum") {
        if (!v.is_number()) BadSchema(here, k + " must be a number");
      } else if (k == "multipleOf") {
        if (!v.is_number() || v.get<double>() <= 0) BadSchema(here, "multipleOf must be a number greater than 0");
      } else if (k == "pattern") {
        if (!v.is_string()) BadSchema(here, "pattern must be a string");
        CompilePattern(v.get<std::string>(), here);
      } else if (k == "format") {
        if (!v.is_string()) BadSchema(here, "format must be a string");
      } else if (k == "uniqueItems") {
        if (!v.is_boolean()) BadSchema(here, "uniqueItems must be a boolean");
      } else if (k == "$ref") {
        if (!v.is_string()) BadSchema(here, "$ref must be a string");
        Resolve(v.get<std::string>(), here);
      } else if (k == "$dynamicRef" || k == "$recursiveRef" || k == "$anchor" || k == "$dynamicAnchor" ||
                 k == "unevaluatedProperties" || k == "unevaluatedItems" || k == "dependentSchemas" ||
                 k == "if") {
        throw Error(ErrorCode::kNotSupported, "json_schema: keyword " + k + " is not supported",
                    "at " + (here.empty() ? std::string("#") : here),
                    "See docs/validation.md for the supported keywords.");
      }
      // Other keywords ($schema, $id, title, description, default, examples,
      // $comment, const, ...) need no check here.
    }
  }

  const Regex& CompilePattern(const std::string& pattern, const std::string& at) {
    auto it = patterns_.find(pattern);
    if (it != patterns_.end()) return it->second;
    Regex re = Regex::Compile(pattern);
    if (!re.ok()) BadSchema(at, "pattern does not compile: " + re.error());
    return patterns_.emplace(pattern, std::move(re)).first->second;
  }

  const json& Resolve(const std::string& ref, const std::string& at) {
    if (ref.empty() || ref[0] != '#') {
      throw Error(ErrorCode::kNotSupported, "json_schema: only $ref within the schema document is supported",
                  "$ref \"" + ref.substr(0, 200) + "\" at " + (at.empty() ? std::string("#") : at));
    }
    const json* target = nullptr;
    try {
      target = &root_.at(json::json_pointer(ref.substr(1)));
    } catch (const json::exception&) {
      BadSchema(at, "$ref \"" + ref.substr(0, 200) + "\" does not resolve");
    }
    // A target outside the keywords CheckSchema walked (under an unknown
    // key, or an array element) is checked once, when first referenced:
    // a $ref to a number or to {"type": 5} is a bad schema, never a
    // library exception.
    if (checked_refs_.insert(ref).second) CheckSchema(*target, ref.substr(1), 0);
    return *target;
  }

  bool Fail(std::string* error, const std::string& at, const std::string& what) {
    *error = (at.empty() ? std::string("(root)") : at) + ": " + what;
    return false;
  }

  bool Eval(const json& s, const json& v, const std::string& at, int depth, std::string* error) {
    // Every evaluation step yields: a schema whose $refs fan out can double
    // its work per level (bounding that work is the JSON Schema issue's).
    PollCancel();
    if (++steps_ > kMaxSteps)
      throw Error(ErrorCode::kProgramLimit, "json_schema: evaluation takes more than 100000000 steps",
                  "the schema's $ref and anyOf/oneOf branches fan out");
    if (depth > kMaxDepth) throw Error(ErrorCode::kProgramLimit, "json_schema: evaluation deeper than 512 levels", "a $ref cycle may not consume input");
    if (s.is_boolean()) return s.get<bool>() ? true : Fail(error, at, "schema false admits nothing");
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      const json& kv = it.value();
      if (k == "type") {
        bool ok = false;
        if (kv.is_array()) {
          for (const json& t : kv) ok = ok || HasType(v, t.get<std::string>());
        } else {
          ok = HasType(v, kv.get<std::string>());
        }
        if (!ok) return Fail(error, at, "expected type " + kv.dump() + ", got " + TypeName(v));
      } else if (k == "enum") {
        if (std::find(kv.begin(), kv.end(), v) == kv.end()) return Fail(error, at, "value not in enum");
      } else if (k == "const") {
        if (!(kv == v)) return Fail(error, at, "value differs from const");
      } else if (k == "$ref") {
        if (!Eval(Resolve(kv.get<std::string>(), at), v, at, depth + 1, error)) return false;
      } else if (k == "allOf" || k == "anyOf" || k == "oneOf") {
        int passed = 0;
        std::string sub_error;
        for (const json& sub : kv) {
          std::string e;
          if (Eval(sub, v, at, depth + 1, &e)) ++passed;
          else if (k == "allOf") { *error = e; return false; }
          else if (sub_error.empty()) sub_error = e;
        }
        if (k == "anyOf" && passed == 0) return Fail(error, at, "matches none of anyOf (" + sub_error + ")");
        if (k == "oneOf" && passed != 1) return Fail(error, at, "matches " + std::to_string(passed) + " of oneOf, expected exactly 1");
      } else if (k == "not") {
        std::string e;
        if (Eval(kv, v, at, depth + 1, &e)) return Fail(error, at, "matches a schema under not");
      } else if (v.is_string()) {
        const std::string& str = v.get_ref<const std::string&>();
        if (k == "minLength" && CodePoints(str) < kv.get<double>()) return Fail(error, at, "shorter than minLength " + kv.dump());
        if (k == "maxLength" && CodePoints(str) > kv.get<double>()) return Fail(error, at, "longer than maxLength " + kv.dump());
        if (k == "pattern" && !CompilePattern(kv.get<std::string>(), at).PartialMatch(str))
          return Fail(error, at, "does not match pattern " + kv.dump());
        if (k == "format") {
          if (const char* r = CheckFormat(kv.get<std::string>(), str))
            return Fail(error, at, "not a valid " + kv.get<std::string>() + ": " + r);
        }
      } else if (v.is_number()) {
        double d = v.get<double>();
        if (k == "minimum" && d < kv.get<double>()) return Fail(error, at, "less than minimum " + kv.dump());
        if (k == "maximum" && d > kv.get<double>()) return Fail(error, at, "greater than maximum " + kv.dump());
        if (k == "exclusiveMinimum" && d <= kv.get<double>()) return Fail(error, at, "not greater than exclusiveMinimum " + kv.dump());
        if (k == "exclusiveMaximum" && d >= kv.get<double>()) return Fail(error, at, "not less than exclusiveMaximum " + kv.dump());
        if (k == "multipleOf") {
          double q = d / kv.get<double>();
          if (!std::isfinite(q) || std::fabs(q - std::round(q)) > 1e-9 * std::max(1.0, std::fabs(q)))
            return Fail(error, at, "not a multiple of " + kv.dump());
        }
      } else if (v.is_array()) {
        if (k == "minItems" && v.size() < kv.get<double>()) return Fail(error, at, "fewer than minItems " + kv.dump());
        if (k == "maxItems" && v.size() > kv.get<double>()) return Fail(error, at, "more than maxItems " + kv.dump());
        if (k == "prefixItems") {
          for (std::size_t i = 0; i < kv.size() && i < v.size(); ++i)
            if (!Eval(kv[i], v[i], at + "/" + std::to_string(i), depth + 1, error)) return false;
        }
        if (k == "items") {
          std::size_t start = s.contains("prefixItems") ? s["prefixItems"].size() : 0;
          for (std::size_t i = start; i < v.size(); ++i)
            if (!Eval(kv, v[i], at + "/" + std::to_string(i), depth + 1, error)) return false;
        }
        if (k == "contains") {
          bool found = false;
          for (const json& item : v) {
            std::string e;
            if (Eval(kv, item, at, depth + 1, &e)) { found = true; break; }
          }
          if (!found) return Fail(error, at, "no item matches contains");
        }
        if (k == "uniqueItems" && kv.get<bool>() && v.size() > 1) {
          std::vector<const json*> items;
          for (const json& item : v) items.push_back(&item);
          std::sort(items.begin(), items.end(), [](const json* a, const json* b) { return *a < *b; });
          for (std::size_t i = 1; i < items.size(); ++i)
            if (*items[i - 1] == *items[i]) return Fail(error, at, "items are not unique");
        }
      } else if (v.is_object()) {
        if (k == "minProperties" && v.size() < kv.get<double>()) return Fail(error, at, "fewer than minProperties " + kv.dump());
        if (k == "maxProperties" && v.size() > kv.get<double>()) return Fail(error, at, "more than maxProperties " + kv.dump());
        if (k == "required") {
          for (const json& r : kv)
            if (!v.contains(r.get<std::string>())) return Fail(error, at, "missing required property " + r.dump());
        }
        if (k == "properties") {
          for (auto p = kv.begin(); p != kv.end(); ++p) {
            auto found = v.find(p.key());
            if (found != v.end() && !Eval(p.value(), *found, at + "/" + Escape(p.key()), depth + 1, error)) return false;
          }
        }
        if (k == "patternProperties") {
          for (auto p = kv.begin(); p != kv.end(); ++p) {
            const Regex& re = CompilePattern(p.key(), at);
            for (auto m = v.begin(); m != v.end(); ++m)
              if (re.PartialMatch(m.key()) && !Eval(p.value(), m.value(), at + "/" + Escape(m.key()), depth + 1, error))
                return false;
          }
        }
        if (k == "propertyNames") {
          for (auto m = v.begin(); m != v.end(); ++m)
            if (!Eval(kv, json(m.key()), at + "/" + Escape(m.key()), depth + 1, error)) return false;
        }
        if (k == "additionalProperties") {
          for (auto m = v.begin(); m != v.end(); ++m) {
            if (s.contains("properties") && s["properties"].contains(m.key())) continue;
            bool matched = false;
            if (s.contains("patternProperties")) {
              for (auto p = s["patternProperties"].begin(); p != s["patternProperties"].end(); ++p)
                if (CompilePattern(p.key(), at).PartialMatch(m.key())) matched = true;
            }
            if (matched) continue;
            std::string e;
            if (!Eval(kv, m.value(), at + "/" + Escape(m.key()), depth + 1, &e)) {
              if (kv.is_boolean()) return Fail(error, at, "additional property " + json(m.key()).dump() + " is not allowed");
              *error = e;
              return false;
            }
          }
        }
      }
    }
    return true;
  }

  const json& root_;
  std::map<std::string, Regex> patterns_;
  std::set<std::string> checked_refs_;  // $ref targets CheckSchema has seen
  long long steps_ = 0;                  // Eval calls so far (kMaxSteps)
};

}  // namespace

Reason CheckJson(std::string_view s) {
  if (s.empty()) return "empty";
  // accept() runs the iterative SAX parser: no tree, no recursion.
  return json::accept(s.begin(), s.end()) ? nullptr : "not valid JSON (RFC 8259)";
}

std::optional<std::string> JsonSchemaCheck(std::string_view schema_text, std::string_view doc_text) {
  json schema = ParseJson(schema_text, "schema");
  json doc = ParseJson(doc_text, "document");
  SchemaEvaluator evaluator(schema);
  return evaluator.Evaluate(doc);
}

}  // namespace vigil::core
