// json_schema.cc — JSON Schema draft 2020-12 (json_schema.h) and the json
// validator (SPEC §1).
//
// JSON text is parsed by nlohmann/json through base/json.h (iterative,
// depth-bounded). The evaluator is vigil's own: Debian 12's C++ JSON Schema
// library (valijson 1.0) compiles `pattern` with std::regex, a backtracking
// matcher that takes exponential time on `(a+)+$` — a denial of service
// inside a database server. Here `pattern` uses RE2 (linear time) and
// `format` uses json_formats.cc.
//
// Structure: Index walks a schema document the way the specification
// defines its subschemas (only through applicator keywords, so an `$id`
// inside an `enum` value is not an identifier), recording every schema
// resource (`$id`), `$anchor` and `$dynamicAnchor` with its base URI.
// Compile turns each reachable subschema into a Node with its keywords
// decoded and its `$ref` targets resolved to Nodes (loading the built-in
// meta-schemas and registered schemas on the way). Evaluate walks Nodes
// against the document, collecting the annotations `unevaluatedProperties`
// and `unevaluatedItems` need only where a schema uses them, resolving
// `$dynamicRef` through the dynamic scope (the stack of schema resources
// entered), and counting steps against the budget.
#include "validate/json_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/cancel.h"
#include "base/decimal.h"
#include "base/error.h"
#include "base/json.h"
#include "base/regex.h"
#include "base/text.h"
#include "validate/json_formats.h"
#include "validate/validators.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using nlohmann::json;

#include "validate/json_metaschemas.inc"

constexpr int kMaxEvalDepth = 1024;
constexpr std::uintptr_t kMaxEvalStack = 1024 * 1024;
constexpr long long kMaxStepsLimit = 1'000'000'000;
constexpr std::size_t kMaxLoadedDocuments = 1000;
constexpr std::size_t kMaxPatterns = 1000;
constexpr long long kMaxPatternProgram = 2'000'000;  // RE2 instructions per schema
constexpr std::size_t kMaxErrors = 100;        // errors one evaluation reports
constexpr std::size_t kMaxLocation = 2048;     // bytes of one reported location
constexpr const char* kRootBase = "urn:vigil:schema";
constexpr const char* kMetaSchema = "https://json-schema.org/draft/2020-12/schema";

// ---------------------------------------------------------------- URIs ---

// Uri is RFC 3986's five components (Appendix B's split).
struct Uri {
  std::string scheme, authority, path, query, fragment;
  bool has_scheme = false, has_authority = false, has_query = false, has_fragment = false;
};

Uri ParseUri(std::string_view s) {
  Uri u;
  std::size_t colon = s.find_first_of(":/?#");
  if (colon != std::string_view::npos && colon > 0 && s[colon] == ':') {
    u.has_scheme = true;
    u.scheme = std::string(s.substr(0, colon));
    s.remove_prefix(colon + 1);
  }
  if (s.substr(0, 2) == "//") {
    s.remove_prefix(2);
    std::size_t end = s.find_first_of("/?#");
    u.has_authority = true;
    u.authority = std::string(s.substr(0, end));
    s.remove_prefix(end == std::string_view::npos ? s.size() : end);
  }
  std::size_t hash = s.find('#');
  if (hash != std::string_view::npos) {
    u.has_fragment = true;
    u.fragment = std::string(s.substr(hash + 1));
    s = s.substr(0, hash);
  }
  std::size_t q = s.find('?');
  if (q != std::string_view::npos) {
    u.has_query = true;
    u.query = std::string(s.substr(q + 1));
    s = s.substr(0, q);
  }
  u.path = std::string(s);
  return u;
}

std::string Recompose(const Uri& u) {
  std::string out;
  if (u.has_scheme) out += u.scheme + ":";
  if (u.has_authority) out += "//" + u.authority;
  out += u.path;
  if (u.has_query) out += "?" + u.query;
  if (u.has_fragment) out += "#" + u.fragment;
  return out;
}

// RemoveDotSegments is RFC 3986 §5.2.4 as written, in linear time: the
// input is consumed through a cursor (a prefix "replaced by /" becomes the
// cursor moved onto its last character, which is set to '/'), never by
// erasing its front, so a long path costs its length, not its square.
std::string RemoveDotSegments(const std::string& path) {
  std::string in = path;
  std::size_t pos = 0;
  std::string out;
  out.reserve(in.size());
  auto starts = [&](std::string_view prefix) { return in.compare(pos, prefix.size(), prefix) == 0; };
  auto rest_is = [&](std::string_view whole) { return in.size() - pos == whole.size() && starts(whole); };
  auto pop = [&] {
    std::size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  while (pos < in.size()) {
    if (starts("../")) {
      pos += 3;
    } else if (starts("./")) {
      pos += 2;
    } else if (starts("/./")) {
      pos += 2;  // "/./x" -> "/x"
    } else if (rest_is("/.")) {
      pos += 1;
      in[pos] = '/';  // "/." -> "/"
    } else if (starts("/../")) {
      pos += 3;  // "/../x" -> "/x"
      pop();
    } else if (rest_is("/..")) {
      pos += 2;
      in[pos] = '/';  // "/.." -> "/"
      pop();
    } else if (rest_is(".") || rest_is("..")) {
      pos = in.size();
    } else {
      std::size_t next = in.find('/', pos + (in[pos] == '/' ? 1 : 0));
      if (next == std::string::npos) next = in.size();
      out.append(in, pos, next - pos);
      pos = next;
    }
  }
  return out;
}

// ResolveUri is RFC 3986 §5.2.2 (strict).
std::string ResolveUri(const std::string& base_text, std::string_view ref_text) {
  Uri r = ParseUri(ref_text);
  Uri b = ParseUri(base_text);
  Uri t;
  if (r.has_scheme) {
    t = r;
    t.path = RemoveDotSegments(r.path);
  } else {
    if (r.has_authority) {
      t.authority = r.authority;
      t.has_authority = true;
      t.path = RemoveDotSegments(r.path);
      t.query = r.query;
      t.has_query = r.has_query;
    } else {
      if (r.path.empty()) {
        t.path = b.path;
        t.query = r.has_query ? r.query : b.query;
        t.has_query = r.has_query || b.has_query;
      } else {
        if (r.path[0] == '/') {
          t.path = RemoveDotSegments(r.path);
        } else {
          std::string merged;
          if (b.has_authority && b.path.empty()) {
            merged = "/" + r.path;
          } else {
            std::size_t slash = b.path.rfind('/');
            merged = (slash == std::string::npos ? std::string() : b.path.substr(0, slash + 1)) + r.path;
          }
          t.path = RemoveDotSegments(merged);
        }
        t.query = r.query;
        t.has_query = r.has_query;
      }
      t.authority = b.authority;
      t.has_authority = b.has_authority;
    }
    t.scheme = b.scheme;
    t.has_scheme = b.has_scheme;
  }
  t.fragment = r.fragment;
  t.has_fragment = r.has_fragment;
  return Recompose(t);
}

// SplitFragment cuts "<uri>#<fragment>" into its parts.
std::pair<std::string, std::string> SplitFragment(const std::string& uri) {
  std::size_t hash = uri.find('#');
  if (hash == std::string::npos) return {uri, std::string()};
  return {uri.substr(0, hash), uri.substr(hash + 1)};
}

int HexDigit(char c) { return text::IsHex(static_cast<unsigned char>(c)) ? text::HexValue(static_cast<unsigned char>(c)) : -1; }

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string EscapeToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string Shown(std::string_view s) { return text::Printable(s, 200); }

// Num prints a count keyword's value as it is usually written ("2", not "2.0").
std::string Num(double d) {
  if (std::floor(d) == d && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  return json(d).dump();
}

[[noreturn]] void BadSchema(const std::string& where, const std::string& what) {
  throw Error(ErrorCode::kInvalidParameter,
              "json_schema: invalid schema at " + (where.empty() ? std::string("#") : where) + ": " + what);
}

// ------------------------------------------------------------ patterns ---

// EcmaToRe2 rewrites an ECMA-262 pattern (JSON Schema patterns are
// ECMA-262 regular expressions, read with the `u` flag) into RE2 syntax
// with the same meaning, or sets *error for syntax ECMA-262 does not have
// (RE2's own extensions: flags groups, \Q..\E, \C, \z, \A, \p{^L}). What
// it rewrites: long Unicode property names (\p{Letter} -> \p{L}),
// \uXXXX, \u{X...} and surrogate pairs, \cX, `.` (ECMA-262's dot excludes
// \r, U+2028 and U+2029 too), \s and \S (ECMA-262's white space is
// Unicode's), `[` inside a class (a literal in ECMA-262, a POSIX class
// opener in RE2), [\b] (backspace), [^] and [] (anything / nothing),
// (?<name> (RE2 spells it (?P<name>). What RE2 lacks (backreferences,
// lookaround) stays and fails to compile: a documented error, never a
// backtracking engine.
std::string EcmaToRe2(std::string_view p, std::string* error) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"Letter", "L"}, {"Uppercase_Letter", "Lu"}, {"Lowercase_Letter", "Ll"}, {"Titlecase_Letter", "Lt"},
      {"Modifier_Letter", "Lm"}, {"Other_Letter", "Lo"}, {"Mark", "M"}, {"Combining_Mark", "M"},
      {"Nonspacing_Mark", "Mn"}, {"Spacing_Mark", "Mc"}, {"Enclosing_Mark", "Me"}, {"Number", "N"},
      {"Decimal_Number", "Nd"}, {"digit", "Nd"}, {"Letter_Number", "Nl"}, {"Other_Number", "No"},
      {"Punctuation", "P"}, {"punct", "P"}, {"Connector_Punctuation", "Pc"}, {"Dash_Punctuation", "Pd"},
      {"Open_Punctuation", "Ps"}, {"Close_Punctuation", "Pe"}, {"Initial_Punctuation", "Pi"},
      {"Final_Punctuation", "Pf"}, {"Other_Punctuation", "Po"}, {"Symbol", "S"}, {"Math_Symbol", "Sm"},
      {"Currency_Symbol", "Sc"}, {"Modifier_Symbol", "Sk"}, {"Other_Symbol", "So"}, {"Separator", "Z"},
      {"Space_Separator", "Zs"}, {"Line_Separator", "Zl"}, {"Paragraph_Separator", "Zp"}, {"Other", "C"},
      {"Control", "Cc"}, {"cntrl", "Cc"}, {"Format", "Cf"}, {"Surrogate", "Cs"}, {"Private_Use", "Co"}};
  // ECMA-262 WhiteSpace and LineTerminator, and their complement.
  static const char kSpace[] =
      "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";
  static const char kNonSpace[] =
      "\\x{0}-\\x{8}\\x{E}-\\x{1F}\\x{21}-\\x{9F}\\x{A1}-\\x{167F}\\x{1681}-\\x{1FFF}\\x{200B}-\\x{2027}"
      "\\x{202A}-\\x{202E}\\x{2030}-\\x{205E}\\x{2060}-\\x{2FFF}\\x{3001}-\\x{FEFE}\\x{FF00}-\\x{10FFFF}";
  static const char kDot[] = "[^\\n\\r\\x{2028}\\x{2029}]";
  auto hex4 = [&](std::size_t i) -> long {
    if (i + 4 > p.size()) return -1;
    long v = 0;
    for (std::size_t k = i; k < i + 4; ++k) {
      int d = HexDigit(p[k]);
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  };
  auto code_point = [](long cp) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "\\x{%lX}", cp);
    return std::string(buf);
  };
  auto refuse = [&](const char* what) {
    if (error->empty()) *error = what;
  };
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (!in_class) {
      if (c == '[') {
        if (p.substr(i, 3) == "[^]") {
          out += "[\\x{0}-\\x{10FFFF}]";
          i += 2;
          continue;
        }
        if (p.substr(i, 2) == "[]") {
          out += "[^\\x{0}-\\x{10FFFF}]";
          i += 1;
          continue;
        }
        in_class = true;
        out += c;
        if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
        continue;
      }
      if (c == '.') {
        out += kDot;
        continue;
      }
      if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
        char k = i + 2 < p.size() ? p[i + 2] : '\0';
        if (k == '<' && i + 3 < p.size() && p[i + 3] != '=' && p[i + 3] != '!') {
          out += "(?P<";
          i += 2;
          continue;
        }
        if (k != ':' && k != '=' && k != '!' && k != '<') refuse("(? flags groups are not ECMA-262");
      }
    } else {
      if (c == ']') {
        in_class = false;
        out += c;
        continue;
      }
      if (c == '[') {
        out += "\\[";
        continue;
      }
    }
    if (c != '\\' || i + 1 >= p.size()) {
      out += c;
      continue;
    }
    char e = p[i + 1];
    if (e == 'p' || e == 'P') {
      std::size_t close = i + 2 < p.size() && p[i + 2] == '{' ? p.find('}', i + 3) : std::string_view::npos;
      if (close == std::string_view::npos) {
        refuse("\\p needs braces in ECMA-262 (\\p{L})");
        out += c;
        continue;
      }
      std::string name(p.substr(i + 3, close - i - 3));
      if (!name.empty() && name[0] == '^') refuse("\\p{^...} is not ECMA-262 (use \\P{...})");
      if (name.rfind("Script_Extensions=", 0) == 0 || name.rfind("scx=", 0) == 0)
        refuse("\\p{Script_Extensions=...} is not supported (RE2 has scripts, not their extensions)");
      for (const char* prefix : {"General_Category=", "gc=", "Script=", "sc="})
        if (name.rfind(prefix, 0) == 0) {
          name = name.substr(std::strlen(prefix));
          break;  // one prefix: "gc=sc=L" is no name
        }
      if (name.find('=') != std::string::npos) refuse("a Unicode property name holds one '='");
      for (const auto& n : kNames)
        if (name == n.first) name = n.second;
      if (name == "C")
        refuse("\\p{C} / \\p{Other} is not supported (RE2's leaves out unassigned code points)");
      if (in_class && ((!out.empty() && out.back() == '-' && out.size() >= 2 && out[out.size() - 2] != '[' && out[out.size() - 2] != '\\') ||
                       (close + 1 < p.size() && p[close + 1] == '-' && close + 2 < p.size() && p[close + 2] != ']')))
        refuse("a class escape cannot end a range");
      out += '\\';
      out += e;
      out += '{' + name + '}';
      i = close;
      continue;
    }
    if (e == 'u') {
      if (i + 2 < p.size() && p[i + 2] == '{') {
        std::size_t close = p.find('}', i + 3);
        if (close != std::string_view::npos) {
          out += "\\x{" + std::string(p.substr(i + 3, close - i - 3)) + "}";
          i = close;
          continue;
        }
      }
      long hi = hex4(i + 2);
      if (hi >= 0) {
        long lo = hi >= 0xD800 && hi <= 0xDBFF && i + 7 < p.size() && p[i + 6] == '\\' && p[i + 7] == 'u' ? hex4(i + 8) : -1;
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
          out += code_point(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
          i += 11;
        } else {
          out += code_point(hi);
          i += 5;
        }
        continue;
      }
    }
    if (e == 'c' && i + 2 < p.size() && std::isalpha(static_cast<unsigned char>(p[i + 2]))) {
      out += code_point(p[i + 2] % 32);
      i += 2;
      continue;
    }
    if (in_class && (e == 's' || e == 'S' || e == 'd' || e == 'D' || e == 'w' || e == 'W') &&
        ((!out.empty() && out.back() == '-' && out.size() >= 2 && out[out.size() - 2] != '[' && out[out.size() - 2] != '\\') ||
         (i + 2 < p.size() && p[i + 2] == '-' && i + 3 < p.size() && p[i + 3] != ']')))
      refuse("a class escape cannot end a range");
    if (e >= '1' && e <= '9') refuse("backreferences are not supported (RE2)");
    if (e == 'a') refuse("\\a is not ECMA-262");
    if (e == 'x' && i + 2 < p.size() && p[i + 2] == '{') refuse("\\x{...} is not ECMA-262 (use \\u{...})");
    if (e == 's' || e == 'S') {
      const char* set = e == 's' ? kSpace : kNonSpace;
      out += in_class ? std::string(set) : "[" + std::string(set) + "]";
      ++i;
      continue;
    }
    if (e == 'b' && in_class) {
      out += "\\x{8}";
      ++i;
      continue;
    }
    if (e == 'Q' || e == 'E' || e == 'C' || e == 'z' || e == 'Z' || e == 'A')
      refuse("\\Q, \\E, \\C, \\z, \\Z and \\A are not ECMA-262");
    if (e == '0' && !(i + 2 < p.size() && std::isdigit(static_cast<unsigned char>(p[i + 2])))) {
      out += "\\x{0}";
      ++i;
      continue;
    }
    out += c;
    out += e;
    ++i;
  }
  return out;
}

// ------------------------------------------------------------- numbers ---

bool IsInteger(const json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

bool IsNonNegativeInt(const json& v) { return IsInteger(v) && v.get<double>() >= 0; }


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

enum TypeBit : unsigned {
  kNull = 1, kBoolean = 2, kObject = 4, kArray = 8, kNumber = 16, kString = 32, kInteger = 64,
};

unsigned TypeBitOf(const std::string& name) {
  static const std::pair<const char*, unsigned> kTypes[] = {
      {"null", kNull}, {"boolean", kBoolean}, {"object", kObject}, {"array", kArray},
      {"number", kNumber}, {"string", kString}, {"integer", kInteger}};
  for (const auto& t : kTypes)
    if (name == t.first) return t.second;
  return 0;
}

bool HasTypes(const json& v, unsigned mask) {
  switch (v.type()) {
    case json::value_t::null: return (mask & kNull) != 0;
    case json::value_t::boolean: return (mask & kBoolean) != 0;
    case json::value_t::string: return (mask & kString) != 0;
    case json::value_t::array: return (mask & kArray) != 0;
    case json::value_t::object: return (mask & kObject) != 0;
    default: return (mask & kNumber) != 0 || ((mask & kInteger) != 0 && IsInteger(v));
  }
}

// DecimalParts reads a number as the decimal its shortest spelling says:
// digits (no leading zeros) times ten to the exponent. A double's shortest
// spelling is what the document wrote for every number a double holds
// exactly enough to round-trip (0.01, 19.99, 1e308).
struct DecimalParts {
  std::string digits;
  long long exponent = 0;
};

DecimalParts PartsOf(const json& v) {
  std::string text = v.is_number_unsigned() ? std::to_string(v.get<unsigned long long>())
                     : v.is_number_integer() ? std::to_string(v.get<long long>())
                                             : ShortestDouble(v.get<double>());
  DecimalParts p;
  std::size_t e = text.find_first_of("eE");
  if (e != std::string::npos) p.exponent = std::stoll(text.substr(e + 1));
  std::string mantissa = text.substr(0, e);
  std::size_t dot = mantissa.find('.');
  for (std::size_t i = 0; i < mantissa.size(); ++i) {
    char c = mantissa[i];
    if (c < '0' || c > '9') continue;
    p.digits += c;
    if (dot != std::string::npos && i > dot) --p.exponent;
  }
  std::size_t nz = p.digits.find_first_not_of('0');
  p.digits = nz == std::string::npos ? std::string() : p.digits.substr(nz);
  return p;
}

// MultipleOf decides exactly, in decimal, whether v / divisor is an integer
// (19.99 is a multiple of 0.01, 0.00751 is not a multiple of 0.0001): both
// scaled to a common exponent, the value's digits are reduced modulo the
// divisor's. Divisors beyond 36 digits at that scale (not seen outside
// tests) fall back to a rounding tolerance.
bool MultipleOf(const json& v, const json& divisor) {
  DecimalParts a = PartsOf(v), b = PartsOf(divisor);
  if (a.digits.empty()) return true;  // zero is a multiple of everything
  if (b.digits.empty()) return false;
  long long e = std::min(a.exponent, b.exponent);
  std::size_t b_len = b.digits.size() + static_cast<std::size_t>(b.exponent - e);
  std::size_t a_len = a.digits.size() + static_cast<std::size_t>(a.exponent - e);
  if (b_len <= 36 && a_len <= 100000) {
    unsigned __int128 m = 0;
    for (char c : b.digits) m = m * 10 + static_cast<unsigned>(c - '0');
    for (long long i = 0; i < b.exponent - e; ++i) m *= 10;
    unsigned __int128 r = 0;
    for (char c : a.digits) r = (r * 10 + static_cast<unsigned>(c - '0')) % m;
    for (long long i = 0; i < a.exponent - e; ++i) r = (r * 10) % m;
    return r == 0;
  }
  double q = v.get<double>() / divisor.get<double>();
  if (!std::isfinite(q)) return std::fmod(v.get<double>(), divisor.get<double>()) == 0;
  return std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
}

// --------------------------------------------------------- vocabularies ---

enum Vocab : unsigned {
  kApplicator = 1, kValidation = 2, kUnevaluated = 4, kFormatAnnotation = 8, kFormatAssertion = 16,
  kContent = 32, kMetaData = 64, kAllVocabs = 1 | 2 | 4 | 8 | 32 | 64,
};

unsigned VocabBit(const std::string& uri) {
  static const std::pair<const char*, unsigned> kVocabs[] = {
      {"https://json-schema.org/draft/2020-12/vocab/core", 0},
      {"https://json-schema.org/draft/2020-12/vocab/applicator", kApplicator},
      {"https://json-schema.org/draft/2020-12/vocab/unevaluated", kUnevaluated},
      {"https://json-schema.org/draft/2020-12/vocab/validation", kValidation},
      {"https://json-schema.org/draft/2020-12/vocab/meta-data", kMetaData},
      {"https://json-schema.org/draft/2020-12/vocab/format-annotation", kFormatAnnotation},
      {"https://json-schema.org/draft/2020-12/vocab/format-assertion", kFormatAssertion},
      {"https://json-schema.org/draft/2020-12/vocab/content", kContent}};
  for (const auto& v : kVocabs)
    if (uri == v.first) return v.second;
  return ~0u;
}

// ---------------------------------------------------------- the model ---

struct Node;

// Resource is a schema resource: a document root or a subschema with $id.
struct Resource {
  std::string uri;          // absolute, no fragment
  const json* root = nullptr;
  unsigned vocabs = kAllVocabs;
};

// Where Index found a subschema.
// A Site keeps its JSON Pointer as a link to its parent and one or two
// tokens ("/properties" "/name", "/allOf" "/3"), so a schema with long
// names and many subschemas costs memory linear in its size; Pointer()
// joins them when an error or an absolute location needs the text.
struct Site {
  const std::string* base;            // base URI in effect (interned)
  const Resource* resource;           // the resource it belongs to
  const Site* parent = nullptr;       // nullptr at a resource root or a raw pointer
  const std::string* keyword = nullptr;
  const std::string* key = nullptr;   // second token, or
  long index = -1;                    // second token as an array index
  const std::string* raw = nullptr;   // the pointer as resolved, for sites found by $ref

  std::string Pointer() const {
    std::vector<const Site*> chain;
    for (const Site* s = this; s != nullptr; s = s->parent) {
      chain.push_back(s);
      if (s->raw != nullptr) break;
    }
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const Site* s = *it;
      if (s->raw != nullptr) out += *s->raw;
      if (s->keyword != nullptr) {
        out += '/';
        out += EscapeToken(*s->keyword);
      }
      if (s->key != nullptr) {
        out += '/';
        out += EscapeToken(*s->key);
      } else if (s->index >= 0) {
        out += '/';
        out += std::to_string(s->index);
      }
    }
    return out;
  }
};

// Loc names where in a subschema Fill is, turned into a JSON Pointer only
// when an error needs it.
struct Loc {
  const Site* site;
  const std::string* keyword = nullptr;
  const std::string* key = nullptr;
  long index = -1;
  Loc Child(const std::string* k) const {
    Loc l = *this;
    l.key = k;
    return l;
  }
  Loc Child(long i) const {
    Loc l = *this;
    l.index = i;
    return l;
  }
  operator std::string() const {
    std::string out = site->Pointer();
    if (keyword != nullptr) {
      out += '/';
      out += EscapeToken(*keyword);
    }
    if (key != nullptr) {
      out += '/';
      out += EscapeToken(*key);
    } else if (index >= 0) {
      out += '/';
      out += std::to_string(index);
    }
    return out;
  }
};

// ExactInteger is a JSON number's value as an exact integer when it is one
// within 128 bits (integers always; a float when integral and below 2^64).
std::optional<__int128> ExactInteger(const json& v) {
  if (v.is_number_unsigned()) return static_cast<__int128>(v.get<unsigned long long>());
  if (v.is_number_integer()) return static_cast<__int128>(v.get<long long>());
  double d = v.get<double>();
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) >= 18446744073709551616.0) return std::nullopt;
  return static_cast<__int128>(d);
}

// NumberEq compares two JSON numbers exactly (nlohmann compares an integer
// with a float as doubles: 9007199254740993 would equal 9007199254740992.0).
bool NumberEq(const json& a, const json& b) {
  if (a.is_number_float() && b.is_number_float()) return a.get<double>() == b.get<double>();
  std::optional<__int128> x = ExactInteger(a), y = ExactInteger(b);
  if (x && y) return *x == *y;
  return !x && !y && a.get<double>() == b.get<double>();
}

// JsonEq is JSON equality for const, enum and uniqueItems: 1 and 1.0 are
// equal, numbers compare exactly, objects regardless of member order.
bool JsonEq(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return NumberEq(a, b);
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!JsonEq(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !JsonEq(it.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

// NodeCount counts a value's nodes (iteratively): the cost of comparing
// against it, charged to the budget.
std::size_t NodeCount(const json& v) {
  std::size_t n = 0;
  std::vector<const json*> stack = {&v};
  while (!stack.empty()) {
    const json* x = stack.back();
    stack.pop_back();
    ++n;
    if (x->is_structured())
      for (const json& c : *x) stack.push_back(&c);
  }
  return n;
}

// EnumHash hashes JSON values so that equal ones (1 and 1.0 included) hash
// alike: numbers by their double, strings by their text, containers by
// their first 64 nodes in order (member names included), so an enum of
// 10,000 same-sized arrays spreads over its buckets.
struct EnumHash {
  static std::size_t Scalar(const json& v) noexcept {
    switch (v.type()) {
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float: {
        // Equal numbers hash alike under NumberEq: integral ones by their
        // exact value, others by their double.
        if (std::optional<__int128> i = ExactInteger(v))
          return std::hash<unsigned long long>()(static_cast<unsigned long long>(*i)) ^
                 std::hash<long long>()(static_cast<long long>(*i >> 64));
        return std::hash<double>()(v.get<double>());
      }
      case json::value_t::string: return std::hash<std::string>()(v.get_ref<const std::string&>());
      case json::value_t::boolean: return v.get<bool>() ? 1 : 2;
      default: return static_cast<std::size_t>(v.type()) * 1000003u + v.size();
    }
  }
  std::size_t operator()(const json* v) const noexcept {
    if (!v->is_structured()) return Scalar(*v);
    std::size_t h = Scalar(*v);
    int budget = 64;
    std::vector<const json*> stack = {v};
    while (!stack.empty() && budget-- > 0) {
      const json* x = stack.back();
      stack.pop_back();
      h = h * 1099511628211u ^ Scalar(*x);
      if (x->is_object()) {
        for (auto it = x->begin(); it != x->end(); ++it) {
          h = h * 1099511628211u ^ std::hash<std::string>()(it.key());
          stack.push_back(&it.value());
        }
      } else if (x->is_array()) {
        for (const json& c : *x) stack.push_back(&c);
      }
    }
    return h;
  }
};
struct EnumEq {
  bool operator()(const json* a, const json* b) const noexcept { return JsonEq(*a, *b); }
};

struct Node {
  const json* src = nullptr;
  const Site* site = nullptr;
  bool is_bool = false;
  bool bool_value = true;
  bool enters_resource = false;   // src is its resource's root

  unsigned types = 0;             // TypeBit mask; 0 = no "type"
  const json* type_json = nullptr;
  const json* enum_values = nullptr;
  std::unordered_set<const json*, EnumHash, EnumEq> enum_index;  // large enums
  std::size_t enum_cost = 0;       // nodes of all enum values (a linear scan)
  std::size_t enum_max_cost = 0;   // nodes of the largest (a hashed probe)
  const json* const_value = nullptr;
  std::size_t const_cost = 0;      // nodes of the const value
  Node* ref = nullptr;
  Node* dynamic_ref = nullptr;     // initial target of $dynamicRef
  std::string dynamic_anchor;      // its anchor name when the target bookends it
  std::vector<Node*> all_of, any_of, one_of;
  Node* not_schema = nullptr;
  Node* if_schema = nullptr;
  Node* then_schema = nullptr;
  Node* else_schema = nullptr;
  std::unordered_map<std::string, Node*> properties;
  std::vector<std::pair<const Regex*, Node*>> pattern_properties;
  std::vector<const std::string*> pattern_sources;
  Node* additional_properties = nullptr;
  Node* property_names = nullptr;
  std::vector<std::pair<std::string, Node*>> dependent_schemas;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<Node*> prefix_items;
  Node* items = nullptr;
  Node* contains = nullptr;
  double min_contains = 1;
  double max_contains = -1;        // -1: no maxContains
  Node* unevaluated_items = nullptr;
  Node* unevaluated_properties = nullptr;
  const json* minimum = nullptr;
  const json* maximum = nullptr;
  const json* exclusive_minimum = nullptr;
  const json* exclusive_maximum = nullptr;
  const json* multiple_of = nullptr;
  double min_length = -1, max_length = -1;
  double min_items = -1, max_items = -1;
  double min_properties = -1, max_properties = -1;
  const Regex* pattern = nullptr;
  const std::string* pattern_text = nullptr;
  const std::string* format = nullptr;
  bool assert_format = false;
  bool unique_items = false;
  std::vector<std::string> required;
  bool needs_annotations = false;  // has unevaluatedItems or unevaluatedProperties
};

}  // namespace

// CompiledSchema owns every document, site and node of one compilation.
class CompiledSchema {
 public:
  std::deque<json> documents;
  std::deque<Resource> resources;
  std::deque<Site> sites;
  std::deque<Node> nodes;
  std::unordered_map<std::string, const Resource*> by_uri;          // resource URI -> resource
  std::unordered_map<std::string, const json*> anchors;              // "uri#name" -> subschema
  std::unordered_set<std::string> dynamic_anchors;                   // "uri#name" of $dynamicAnchor
  std::unordered_map<const json*, const Site*> site_of;
  std::unordered_set<std::string> strings;  // interned base URIs and raw pointers
  std::unordered_map<const json*, Node*> node_of;
  std::map<std::string, Regex> patterns;
  long long pattern_program = 0;  // RE2 instructions of all patterns
  std::vector<std::string> external;  // URIs loaded from the registry
  Node* root = nullptr;
  long long max_steps = 0;
};

namespace {

// ------------------------------------------------------------ compiler ---

class Compiler {
 public:
  Compiler(CompiledSchema* out, const JsonSchemaOptions& options, JsonSchemaRegistry* registry)
      : c_(out), options_(options), registry_(options.registry ? registry : nullptr) {}

  void CompileRoot(std::string_view text) {
    c_->documents.push_back(json_in::ParseInput(text, "json_schema: schema"));
    const json* doc = &c_->documents.back();
    AddDocument(doc, kRootBase);
    c_->root = Compile(doc);
    Drain();
  }

 private:
  // AddDocument indexes a whole document retrieved as `uri`.
  void AddDocument(const json* doc, const std::string& uri) { Index(*doc, Intern(uri), nullptr, Site{}, 0); }

  const Resource* NewResource(const std::string& uri, const json* root, const Resource* parent) {
    auto found = c_->by_uri.find(uri);
    if (found != c_->by_uri.end()) {
      if (found->second->root == root) return found->second;
      // Two resources with one URI: the specification leaves it undefined; we refuse it.
      BadSchema(uri, "two schema resources have the same URI \"" + Shown(uri) + "\"");
    }
    c_->resources.push_back(Resource{uri, root, parent != nullptr ? parent->vocabs : kAllVocabs});
    Resource* r = &c_->resources.back();
    c_->by_uri.emplace(uri, r);
    if (root->is_object()) {
      auto s = root->find("$schema");
      if (s != root->end()) {
        if (!s->is_string()) BadSchema(uri, "$schema must be a string");
        r->vocabs = VocabsOf(s->get<std::string>());
      }
    }
    return r;
  }

  // VocabsOf reads the $vocabulary of the meta-schema a resource names.
  unsigned VocabsOf(const std::string& meta_uri) {
    auto [uri, fragment] = SplitFragment(meta_uri);
    if (uri == kMetaSchema) return kAllVocabs;
    // Earlier drafts' meta-schemas: evaluated as 2020-12 (their keywords
    // that 2020-12 kept mean the same), as most validators do.
    static const char* kEarlier[] = {"http://json-schema.org/draft-04/schema", "http://json-schema.org/draft-06/schema",
                                     "http://json-schema.org/draft-07/schema",
                                     "https://json-schema.org/draft/2019-09/schema"};
    for (const char* e : kEarlier)
      if (uri == e) return kAllVocabs;
    const Resource* meta = FindResource(uri, /*required=*/false);
    // Any other meta-schema must be there: its $vocabulary decides which
    // keywords apply, so registering it later must not silently change
    // what a schema (or a rule) checks.
    if (meta == nullptr)
      throw Error(ErrorCode::kInvalidParameter,
                  "json_schema: $schema names \"" + Shown(meta_uri) + "\", which is neither a known draft nor registered",
                  {}, "Register the meta-schema with vigil_json_schema_add and pass {\"registry\": true}.");
    if (!meta->root->is_object()) return kAllVocabs;
    auto v = meta->root->find("$vocabulary");
    if (v == meta->root->end() || !v->is_object()) return kAllVocabs;
    unsigned bits = 0;
    for (auto it = v->begin(); it != v->end(); ++it) {
      unsigned bit = VocabBit(it.key());
      if (bit == ~0u) {
        if (it.value() == true)
          throw Error(ErrorCode::kNotSupported,
                      "json_schema: the meta-schema \"" + Shown(uri) + "\" requires the vocabulary \"" +
                          Shown(it.key()) + "\", which vigil does not know");
        continue;  // an optional vocabulary we do not know is ignored
      }
      bits |= bit;
    }
    return bits;
  }

  const std::string* Intern(std::string text) { return &*c_->strings.insert(std::move(text)).first; }

  // Index walks one schema and its subschemas, as the keywords define them.
  // `at` is the new site's place: its parent and tokens (or a raw pointer).
  void Index(const json& s, const std::string* base, const Resource* resource, Site at, int depth) {
    if (depth > json_in::kMaxDepth)
      throw Error(ErrorCode::kProgramLimit, "json_schema: schema nested deeper than 512 levels");
    if (c_->site_of.count(&s) != 0) return;
    if ((++indexed_ & 255) == 0) PollCancel();
    if (s.is_object()) {
      auto id = s.find("$id");
      if (id != s.end()) {
        if (!id->is_string()) BadSchema(at.Pointer(), "$id must be a string");
        CheckUriLength(id->get_ref<const std::string&>(), at);
        std::string resolved = ResolveUri(*base, id->get<std::string>());
        auto [uri, fragment] = SplitFragment(resolved);
        if (!fragment.empty()) BadSchema(at.Pointer(), "$id must not have a fragment: \"" + Shown(id->get<std::string>()) + "\"");
        base = Intern(uri);
        resource = NewResource(uri, &s, resource);
        at = Site{};  // a resource's subschemas are pointed at from its root
      }
    }
    if (resource == nullptr) resource = NewResource(*base, &s, nullptr);
    at.base = base;
    at.resource = resource;
    c_->sites.push_back(at);
    const Site* site = &c_->sites.back();
    c_->site_of.emplace(&s, site);
    if (!s.is_object()) return;
    for (const char* key : {"$anchor", "$dynamicAnchor"}) {
      auto a = s.find(key);
      if (a == s.end()) continue;
      if (!a->is_string() || !ValidAnchor(a->get<std::string>()))
        BadSchema(site->Pointer() + "/" + key, std::string(key) + " must be a plain name (letters, digits, - _ . :)");
      std::string name = resource->uri + "#" + a->get<std::string>();
      c_->anchors[name] = &s;
      if (key[1] == 'd') c_->dynamic_anchors.insert(name);
    }
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      Site child{};
      child.parent = site;
      child.keyword = &k;
      if (k == "$defs" || k == "definitions" || k == "properties" || k == "patternProperties" ||
          k == "dependentSchemas" || k == "dependencies") {
        if (!v.is_object()) continue;  // Compile reports it
        for (auto p = v.begin(); p != v.end(); ++p) {
          if (k == "dependencies" && p.value().is_array()) continue;  // names, not a schema
          Site named = child;
          named.key = &p.key();
          Index(p.value(), base, resource, named, depth + 1);
        }
      } else if (k == "allOf" || k == "anyOf" || k == "oneOf" || k == "prefixItems") {
        if (!v.is_array()) continue;
        for (std::size_t i = 0; i < v.size(); ++i) {
          Site numbered = child;
          numbered.index = static_cast<long>(i);
          Index(v[i], base, resource, numbered, depth + 1);
        }
      } else if (k == "items" || k == "additionalProperties" || k == "unevaluatedProperties" ||
                 k == "unevaluatedItems" || k == "contains" || k == "propertyNames" || k == "not" || k == "if" ||
                 k == "then" || k == "else" || k == "contentSchema") {
        Index(v, base, resource, child, depth + 1);
      }
    }
  }

  // URIs in a schema ($id, $ref, $dynamicRef, $schema) are at most 8 KB:
  // resolving them is linear, and every subschema's base is one of them.
  static void CheckUriLength(const std::string& uri, const Site& at) {
    if (uri.size() > 8192) BadSchema(at.Pointer(), "a URI longer than 8192 bytes");
  }

  static bool ValidAnchor(const std::string& a) {
    if (a.empty() || !(std::isalpha(static_cast<unsigned char>(a[0])) || a[0] == '_')) return false;
    for (char c : a)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':')) return false;
    return true;
  }

  // FindResource returns the resource `uri` names, loading a built-in
  // meta-schema or a registered schema the first time.
  const Resource* FindResource(const std::string& uri, bool required) {
    auto found = c_->by_uri.find(uri);
    if (found != c_->by_uri.end()) return found->second;
    std::optional<std::string> text;
    bool external = false;
    for (const BuiltinSchema& b : kBuiltinSchemas)
      if (uri == b.uri) text = b.text;
    if (!text && registry_ != nullptr) {
      text = registry_->Find(uri);
      external = text.has_value();
    }
    if (!text) {
      if (!required) return nullptr;
      throw Error(ErrorCode::kInvalidParameter, "json_schema: $ref to \"" + Shown(uri) + "\", which is not registered",
                  options_.registry ? std::string() : std::string("remote references resolve only with {\"registry\": true}"),
                  "Register it with vigil_json_schema_add(uri, schema); vigil never fetches a schema.");
    }
    if (c_->documents.size() >= kMaxLoadedDocuments)
      throw Error(ErrorCode::kProgramLimit, "json_schema: a schema loads more than 1000 documents");
    c_->documents.push_back(json_in::ParseInput(*text, "json_schema: registered schema " + Shown(uri)));
    if (external) c_->external.push_back(uri);
    const json* doc = &c_->documents.back();
    AddDocument(doc, uri);
    found = c_->by_uri.find(uri);
    if (found == c_->by_uri.end()) {
      // The document's own $id differs from the URI it was registered
      // under: it answers to both.
      const Site* site = c_->site_of.at(doc);
      c_->by_uri.emplace(uri, site->resource);
      return site->resource;
    }
    return found->second;
  }

  // Resolve turns a $ref value into the subschema it names.
  const json* Resolve(const std::string& ref, const Site& from, const Loc& at) {
    if (ref.size() > 8192) BadSchema(at, "a URI longer than 8192 bytes");
    std::string absolute = ResolveUri(*from.base, ref);
    auto [uri, fragment] = SplitFragment(absolute);
    const Resource* r = FindResource(uri, true);
    if (fragment.empty()) return r->root;
    std::string decoded = PercentDecode(fragment);
    if (decoded[0] != '/') {
      auto a = c_->anchors.find(r->uri + "#" + decoded);
      if (a == c_->anchors.end()) BadSchema(at, "$ref \"" + Shown(ref) + "\" names no anchor");
      return a->second;
    }
    // A JSON Pointer from the resource root; $ids on the way move the base.
    const json* node = r->root;
    std::string base = r->uri;
    std::size_t pos = 1;
    while (true) {
      std::size_t next = decoded.find('/', pos);
      std::string token = decoded.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      std::string key;
      for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
          key += token[i + 1] == '0' ? '~' : '/';
          ++i;
        } else {
          key += token[i];
        }
      }
      if (node->is_object()) {
        auto it = node->find(key);
        if (it == node->end()) BadSchema(at, "$ref \"" + Shown(ref) + "\" does not resolve");
        node = &*it;
      } else if (node->is_array()) {
        char* end = nullptr;
        unsigned long i = std::strtoul(key.c_str(), &end, 10);
        if (key.empty() || *end != '\0' || (key.size() > 1 && key[0] == '0') || i >= node->size())
          BadSchema(at, "$ref \"" + Shown(ref) + "\" does not resolve");
        node = &(*node)[i];
      } else {
        BadSchema(at, "$ref \"" + Shown(ref) + "\" does not resolve");
      }
      if (node->is_object() && next != std::string::npos) {
        auto id = node->find("$id");
        if (id != node->end() && id->is_string()) base = ResolveUri(base, id->get<std::string>());
      }
      if (next == std::string::npos) break;
      pos = next + 1;
    }
    if (c_->site_of.count(node) == 0) {
      Site raw{};
      raw.raw = Intern(decoded);
      Index(*node, Intern(base), r, raw, 0);
    }
    return node;
  }

  // Compile returns the Node of a subschema, creating it (and queueing its
  // keywords) the first time.
  Node* Compile(const json* s) {
    auto found = c_->node_of.find(s);
    if (found != c_->node_of.end()) return found->second;
    c_->nodes.emplace_back();
    Node* n = &c_->nodes.back();
    n->src = s;
    n->site = c_->site_of.at(s);
    n->enters_resource = n->site->resource->root == s;
    c_->node_of.emplace(s, n);
    queue_.push_back(n);
    return n;
  }

  void Drain() {
    while (!queue_.empty()) {
      Node* n = queue_.back();
      queue_.pop_back();
      PollCancel();
      Fill(n);
    }
  }

  Node* Sub(const json& v, const Loc& at) {
    if (!v.is_boolean() && !v.is_object()) BadSchema(at, "a schema must be an object or a boolean");
    if (c_->site_of.count(&v) == 0) BadSchema(at, "a subschema was not indexed");
    return Compile(&v);
  }

  const Regex* Pattern(const std::string& pattern, const Loc& at) {
    auto it = c_->patterns.find(pattern);
    if (it != c_->patterns.end()) return &it->second;
    PollCancel();  // RE2 compiles in time and memory that grow with the pattern
    if (c_->patterns.size() >= kMaxPatterns)
      throw Error(ErrorCode::kProgramLimit,
                  "json_schema: a schema compiles more than " + std::to_string(kMaxPatterns) + " distinct patterns");
    std::string ecma_error;
    std::string translated = EcmaToRe2(pattern, &ecma_error);
    if (!ecma_error.empty())
      throw Error(ErrorCode::kInvalidParameter, "json_schema: invalid schema at " + std::string(at) + ": pattern is not ECMA-262: " + ecma_error);
    Regex re = Regex::Compile(translated);
    if (re.ok()) {
      // RE2's memory follows its program: a schema's patterns together get
      // a budget (a hundred \p{L}{300} would hold gigabytes).
      c_->pattern_program += re.ProgramSize();
      if (c_->pattern_program > kMaxPatternProgram)
        throw Error(ErrorCode::kProgramLimit,
                    "json_schema: the schema's patterns compile to more than " + std::to_string(kMaxPatternProgram) +
                        " RE2 instructions together",
                    "at " + std::string(at));
    }
    if (!re.ok())
      throw Error(ErrorCode::kInvalidParameter, "json_schema: invalid schema at " + std::string(at) + ": pattern does not compile: " + re.error(),
                  "vigil uses RE2 (linear time): ECMA-262 backreferences and lookaround are not supported");
    return &c_->patterns.emplace(pattern, std::move(re)).first->second;
  }

  static double Count(const json& v, const Loc& at, const char* k) {
    if (!IsNonNegativeInt(v)) BadSchema(at, std::string(k) + " must be a non-negative integer");
    return v.get<double>();
  }

  // Fill decodes the keywords of one subschema.
  void Fill(Node* n) {
    const json& s = *n->src;
    const Site& site = *n->site;
    const Loc at0{&site};
    if (s.is_boolean()) {
      n->is_bool = true;
      n->bool_value = s.get<bool>();
      return;
    }
    if (!s.is_object()) BadSchema(at0, "a schema must be an object or a boolean");
    unsigned vocabs = site.resource->vocabs;
    bool applicator = (vocabs & kApplicator) != 0, validation = (vocabs & kValidation) != 0;
    bool unevaluated = (vocabs & kUnevaluated) != 0;
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      const Loc at{&site, &k};
      if (k == "$ref") {
        if (!v.is_string()) BadSchema(at, "$ref must be a string");
        n->ref = Compile(Resolve(v.get<std::string>(), site, at));
      } else if (k == "$dynamicRef") {
        if (!v.is_string()) BadSchema(at, "$dynamicRef must be a string");
        const json* target = Resolve(v.get<std::string>(), site, at);
        n->dynamic_ref = Compile(target);
        auto [uri, fragment] = SplitFragment(ResolveUri(*site.base, v.get<std::string>()));
        if (!fragment.empty() && fragment[0] != '/' && target->is_object()) {
          auto da = target->find("$dynamicAnchor");
          if (da != target->end() && *da == fragment) n->dynamic_anchor = fragment;
        }
      } else if (k == "$defs" || k == "definitions") {
        if (!v.is_object()) BadSchema(at, k + " must be an object");
        for (auto p = v.begin(); p != v.end(); ++p) Sub(p.value(), at.Child(&p.key()));
      } else if (applicator && (k == "allOf" || k == "anyOf" || k == "oneOf" || k == "prefixItems")) {
        if (!v.is_array() || v.empty()) BadSchema(at, k + " must be a non-empty array of schemas");
        std::vector<Node*>& list = k == "allOf" ? n->all_of : k == "anyOf" ? n->any_of : k == "oneOf" ? n->one_of : n->prefix_items;
        for (std::size_t i = 0; i < v.size(); ++i) list.push_back(Sub(v[i], at.Child(static_cast<long>(i))));
      } else if (applicator && k == "not") {
        n->not_schema = Sub(v, at);
      } else if (applicator && k == "if") {
        n->if_schema = Sub(v, at);
      } else if (applicator && k == "then") {
        n->then_schema = Sub(v, at);
      } else if (applicator && k == "else") {
        n->else_schema = Sub(v, at);
      } else if (applicator && k == "items") {
        if (v.is_array()) BadSchema(at, "items must be a schema in draft 2020-12 (use prefixItems)");
        n->items = Sub(v, at);
      } else if (applicator && k == "contains") {
        n->contains = Sub(v, at);
      } else if (applicator && k == "additionalProperties") {
        n->additional_properties = Sub(v, at);
      } else if (applicator && k == "propertyNames") {
        n->property_names = Sub(v, at);
      } else if (applicator && k == "properties") {
        if (!v.is_object()) BadSchema(at, "properties must be an object");
        n->properties.reserve(v.size());
        for (auto p = v.begin(); p != v.end(); ++p) n->properties.emplace(p.key(), Sub(p.value(), at.Child(&p.key())));
      } else if (applicator && k == "patternProperties") {
        if (!v.is_object()) BadSchema(at, "patternProperties must be an object");
        for (auto p = v.begin(); p != v.end(); ++p) {
          const Loc pat_at = at.Child(&p.key());
          n->pattern_properties.emplace_back(Pattern(p.key(), pat_at), Sub(p.value(), pat_at));
          n->pattern_sources.push_back(&p.key());
        }
      } else if (applicator && validation && k == "dependencies") {
        // Draft 7's keyword, which 2020-12's meta-schema still describes:
        // an array is dependentRequired, a schema dependentSchemas.
        if (!v.is_object()) BadSchema(at, "dependencies must be an object");
        for (auto p = v.begin(); p != v.end(); ++p) {
          if (p.value().is_array()) {
            std::vector<std::string> names;
            for (const json& r : p.value()) {
              if (!r.is_string()) BadSchema(at, "dependencies arrays must hold strings");
              names.push_back(r.get<std::string>());
            }
            n->dependent_required.emplace_back(p.key(), std::move(names));
          } else {
            n->dependent_schemas.emplace_back(p.key(), Sub(p.value(), at.Child(&p.key())));
          }
        }
      } else if (applicator && k == "dependentSchemas") {
        if (!v.is_object()) BadSchema(at, "dependentSchemas must be an object");
        for (auto p = v.begin(); p != v.end(); ++p) n->dependent_schemas.emplace_back(p.key(), Sub(p.value(), at.Child(&p.key())));
      } else if (unevaluated && k == "unevaluatedItems") {
        n->unevaluated_items = Sub(v, at);
        n->needs_annotations = true;
      } else if (unevaluated && k == "unevaluatedProperties") {
        n->unevaluated_properties = Sub(v, at);
        n->needs_annotations = true;
      } else if (validation && k == "type") {
        auto add = [&](const json& t) {
          unsigned bit = t.is_string() ? TypeBitOf(t.get<std::string>()) : 0;
          if (bit == 0) BadSchema(at, "unknown type " + Shown(t.dump()));
          n->types |= bit;
        };
        if (v.is_array()) {
          for (const json& t : v) add(t);
          if (v.empty()) n->types = 0x80;  // matches nothing
        } else {
          add(v);
        }
        n->type_json = &v;
      } else if (validation && k == "enum") {
        if (!v.is_array()) BadSchema(at, "enum must be an array");
        n->enum_values = &v;
        for (const json& e : v) {
          std::size_t cost = NodeCount(e);
          n->enum_cost += cost;
          n->enum_max_cost = std::max(n->enum_max_cost, cost);
        }
        if (v.size() > 16) {
          std::size_t i = 0;
          for (const json& e : v) {
            if ((++i & 1023) == 0) PollCancel();
            n->enum_index.insert(&e);
          }
        }
      } else if (validation && k == "const") {
        n->const_value = &v;
        n->const_cost = NodeCount(v);
      } else if (validation && (k == "minimum" || k == "maximum" || k == "exclusiveMinimum" || k == "exclusiveMaximum")) {
        if (!v.is_number()) BadSchema(at, k + " must be a number");
        (k == "minimum" ? n->minimum : k == "maximum" ? n->maximum : k == "exclusiveMinimum" ? n->exclusive_minimum : n->exclusive_maximum) = &v;
      } else if (validation && k == "multipleOf") {
        if (!v.is_number() || v.get<double>() <= 0) BadSchema(at, "multipleOf must be a number greater than 0");
        n->multiple_of = &v;
      } else if (validation && k == "minLength") {
        n->min_length = Count(v, at, "minLength");
      } else if (validation && k == "maxLength") {
        n->max_length = Count(v, at, "maxLength");
      } else if (validation && k == "minItems") {
        n->min_items = Count(v, at, "minItems");
      } else if (validation && k == "maxItems") {
        n->max_items = Count(v, at, "maxItems");
      } else if (validation && k == "minProperties") {
        n->min_properties = Count(v, at, "minProperties");
      } else if (validation && k == "maxProperties") {
        n->max_properties = Count(v, at, "maxProperties");
      } else if (validation && k == "minContains") {
        n->min_contains = Count(v, at, "minContains");
      } else if (validation && k == "maxContains") {
        n->max_contains = Count(v, at, "maxContains");
      } else if (validation && k == "pattern") {
        if (!v.is_string()) BadSchema(at, "pattern must be a string");
        n->pattern = Pattern(v.get<std::string>(), at);
        n->pattern_text = &v.get_ref<const std::string&>();
      } else if (validation && k == "uniqueItems") {
        if (!v.is_boolean()) BadSchema(at, "uniqueItems must be a boolean");
        n->unique_items = v.get<bool>();
      } else if (validation && k == "required") {
        if (!v.is_array()) BadSchema(at, "required must be an array of strings");
        for (const json& r : v) {
          if (!r.is_string()) BadSchema(at, "required must be an array of strings");
          n->required.push_back(r.get<std::string>());
        }
      } else if (validation && k == "dependentRequired") {
        if (!v.is_object()) BadSchema(at, "dependentRequired must be an object");
        for (auto p = v.begin(); p != v.end(); ++p) {
          if (!p.value().is_array()) BadSchema(at, "dependentRequired values must be arrays of strings");
          std::vector<std::string> names;
          for (const json& r : p.value()) {
            if (!r.is_string()) BadSchema(at, "dependentRequired values must be arrays of strings");
            names.push_back(r.get<std::string>());
          }
          n->dependent_required.emplace_back(p.key(), std::move(names));
        }
      } else if (k == "format" && (vocabs & (kFormatAnnotation | kFormatAssertion)) != 0) {
        if (!v.is_string()) BadSchema(at, "format must be a string");
        n->format = &v.get_ref<const std::string&>();
        n->assert_format = options_.assert_format || (vocabs & kFormatAssertion) != 0;
      }
      // Other keywords ($schema, $id, $anchor, $comment, title, description,
      // default, examples, content*, and unknown ones) assert nothing.
    }
  }

  CompiledSchema* c_;
  JsonSchemaOptions options_;
  JsonSchemaRegistry* registry_;
  std::vector<Node*> queue_;
  std::size_t indexed_ = 0;  // subschemas indexed (cancel polled every 256)
};

// ----------------------------------------------------------- evaluator ---

// Path segments live on the stack and are joined only when an error is
// reported: a passing document builds no strings.
struct InstPath {
  const InstPath* up;
  const std::string* key;  // nullptr: index
  std::size_t index;
};
struct KwPath {
  const KwPath* up;
  const char* keyword;
  const std::string* key;  // optional second token
  long index;              // optional second token when >= 0
};

// Clip keeps a reported location to kMaxLocation bytes (marked "..."), at a
// character boundary: a deep path through long names stays a bounded report.
std::string Clip(std::string s) {
  if (s.size() <= kMaxLocation) return s;
  std::size_t cut = kMaxLocation;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "...";
}

std::string Join(const InstPath* p) {
  std::vector<const InstPath*> parts;
  for (; p != nullptr; p = p->up) parts.push_back(p);
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend() && out.size() <= kMaxLocation; ++it) {
    out += '/';
    out += (*it)->key != nullptr ? EscapeToken(*(*it)->key) : std::to_string((*it)->index);
  }
  return out;
}

std::string Join(const KwPath* p) {
  std::vector<const KwPath*> parts;
  for (; p != nullptr; p = p->up) parts.push_back(p);
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend() && out.size() <= kMaxLocation; ++it) {
    if ((*it)->keyword != nullptr) {
      out += '/';
      out += EscapeToken((*it)->keyword);
    }
    if ((*it)->key != nullptr) {
      out += '/';
      out += EscapeToken(*(*it)->key);
    } else if ((*it)->index >= 0) {
      out += '/';
      out += std::to_string((*it)->index);
    }
  }
  return out;
}

// Annotations of one instance location that unevaluated* reads.
struct Annotations {
  bool all_items = false;
  std::size_t items_prefix = 0;             // items [0, prefix) evaluated
  std::vector<std::size_t> contains_items;  // items contains matched
  std::unordered_set<const json*> properties;  // evaluated members (by value address)

  void Merge(const Annotations& o) {
    all_items = all_items || o.all_items;
    items_prefix = std::max(items_prefix, o.items_prefix);
    contains_items.insert(contains_items.end(), o.contains_items.begin(), o.contains_items.end());
    properties.insert(o.properties.begin(), o.properties.end());
  }
};

class Evaluator {
 public:
  Evaluator(const CompiledSchema& c, std::vector<JsonSchemaError>* errors, bool all)
      : c_(c), errors_(errors), all_(all && errors != nullptr) {}

  bool Run(const json& doc) {
    stack_base_ = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    return Eval(c_.root, doc, nullptr, nullptr, nullptr, 0);
  }

 private:
  // Fail records an error (when errors are wanted) and returns false.
  bool Fail(const Node* n, const InstPath* ip, const KwPath* kp, const char* keyword, const std::string& message) {
    if (errors_ == nullptr) return false;
    if (!all_ && !errors_->empty()) return false;
    if (errors_->size() >= kMaxErrors) return false;  // the first 100 are the answer
    KwPath leaf{kp, keyword, nullptr, -1};
    std::string abs;
    if (*n->site->base != kRootBase) {  // a schema without $id has no absolute location to give
      abs = *n->site->base;
      abs += '#';
      abs += n->site->Pointer();
      if (keyword != nullptr) {
        abs += '/';
        abs += EscapeToken(keyword);
      }
    }
    errors_->push_back(JsonSchemaError{Clip(Join(ip)), Clip(Join(&leaf)), Clip(std::move(abs)), Clip(message)});
    return false;
  }

  // Charge counts `n` steps against the budget: one per subschema applied,
  // and for keywords whose work grows with their input, one per enum value,
  // per item uniqueItems sorts, per 256 bytes a pattern or format reads.
  void Charge(std::size_t n) {
    long long before = steps_;
    steps_ += static_cast<long long>(n);
    if ((before >> 10) != (steps_ >> 10)) PollCancel();
    if (steps_ > c_.max_steps) ThrowBudget();
  }

  // The errors are thrown out of line: Eval's frame is paid per level.
  [[noreturn, gnu::noinline, gnu::cold]] void ThrowBudget() const {
    throw Error(ErrorCode::kProgramLimit,
                "json_schema: evaluation takes more than " + std::to_string(c_.max_steps) + " steps",
                "the schema's branches fan out, or the document is very large",
                "Raise the budget with the option {\"max_steps\": N} (at most 1000000000).");
  }
  [[noreturn, gnu::noinline, gnu::cold]] static void ThrowDepth() {
    throw Error(ErrorCode::kProgramLimit, "json_schema: evaluation nests deeper than 1024 subschemas",
                "a $ref cycle that consumes no input never ends");
  }
  [[noreturn, gnu::noinline, gnu::cold]] static void ThrowStack() {
    throw Error(ErrorCode::kProgramLimit, "json_schema: evaluation needs more than 1 MB of stack",
                "the schema nests subschemas (or a $ref cycle) too deeply for one evaluation");
  }

  bool Eval(const Node* n, const json& v, const InstPath* ip, const KwPath* kp, Annotations* ann, int depth) {
    Charge(1);
    if (depth > kMaxEvalDepth) ThrowDepth();
    // The stack, measured: frames differ by build (sanitizers triple them)
    // and a host thread may have little (SQLite runs on the caller's).
    std::uintptr_t here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    if (stack_base_ > here && stack_base_ - here > kMaxEvalStack) ThrowStack();
    if (n->is_bool) return n->bool_value ? true : Fail(n, ip, kp, nullptr, "schema false admits nothing");
    bool pushed = false;
    if (scope_.empty() || scope_.back() != n->site->resource) {
      scope_.push_back(n->site->resource);
      pushed = true;
    }
    // Annotations live on the heap, only where unevaluated* reads them:
    // every byte of this frame is paid once per nesting level.
    std::unique_ptr<Annotations> local;
    Annotations* a = ann;
    if (n->needs_annotations) {
      local = std::make_unique<Annotations>();
      a = local.get();
    }
    bool ok = Keywords(n, v, ip, kp, a, depth);
    if (pushed) scope_.pop_back();
    if (ok && ann != nullptr && local) MergeInto(ann, *local);
    return ok;
  }

  // Applies a subschema in place (same instance location); its annotations
  // join `ann` only when it passes.
  [[gnu::noinline]] bool InPlace(const Node* sub, const json& v, const InstPath* ip, const KwPath* kp, Annotations* ann, int depth) {
    if (ann == nullptr) return Eval(sub, v, ip, kp, nullptr, depth + 1);
    Annotations mine;
    bool ok = Eval(sub, v, ip, kp, &mine, depth + 1);
    if (ok) MergeInto(ann, mine);
    return ok;
  }

  // MergeInto joins annotations, charged by their size.
  void MergeInto(Annotations* to, const Annotations& from) {
    Charge(from.properties.size() + from.contains_items.size());
    to->Merge(from);
  }

  bool InEnum(const Node* n, const json& v) {
    if (!n->enum_index.empty()) {
      Charge(1 + n->enum_index.bucket_size(n->enum_index.bucket(&v)) * n->enum_max_cost);
      return n->enum_index.count(&v) != 0;
    }
    Charge(n->enum_cost);
    for (const json& e : *n->enum_values)
      if (JsonEq(e, v)) return true;
    return false;
  }

  const Node* DynamicTarget(const Node* n) {
    if (n->dynamic_anchor.empty()) return n->dynamic_ref;
    Charge(scope_.size());
    for (const Resource* r : scope_) {
      std::string name = r->uri + "#" + n->dynamic_anchor;
      if (c_.dynamic_anchors.count(name) == 0) continue;
      auto a = c_.anchors.find(name);
      auto node = c_.node_of.find(a->second);
      if (node != c_.node_of.end()) return node->second;
    }
    return n->dynamic_ref;
  }

  [[gnu::noinline]] bool Keywords(const Node* n, const json& v, const InstPath* ip, const KwPath* kp, Annotations* ann, int depth) {
    bool ok = true;
    auto keep_going = [&](bool r) {
      if (!r) ok = false;
      return ok || all_;
    };

    if (n->ref != nullptr) {
      KwPath k{kp, "$ref", nullptr, -1};
      if (!keep_going(InPlace(n->ref, v, ip, &k, ann, depth))) return false;
    }
    if (n->dynamic_ref != nullptr) {
      KwPath k{kp, "$dynamicRef", nullptr, -1};
      if (!keep_going(InPlace(DynamicTarget(n), v, ip, &k, ann, depth))) return false;
    }
    if (n->types != 0 && !HasTypes(v, n->types)) {
      if (!keep_going(Fail(n, ip, kp, "type", "expected type " + n->type_json->dump() + ", got " + TypeName(v)))) return false;
    }
    if (n->const_value != nullptr) Charge(n->const_cost);
    if (n->const_value != nullptr && !JsonEq(*n->const_value, v)) {
      if (!keep_going(Fail(n, ip, kp, "const", "value differs from const"))) return false;
    }
    if (n->enum_values != nullptr && !InEnum(n, v)) {
      if (!keep_going(Fail(n, ip, kp, "enum", "value not in enum"))) return false;
    }
    switch (v.type()) {
      case json::value_t::string:
        if (!keep_going(StringKeywords(n, v.get_ref<const std::string&>(), ip, kp))) return false;
        break;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
      case json::value_t::number_float:
        if (!keep_going(NumberKeywords(n, v, ip, kp))) return false;
        break;
      case json::value_t::array:
        if (!keep_going(ArrayKeywords(n, v, ip, kp, ann, depth))) return false;
        break;
      case json::value_t::object:
        if (!keep_going(ObjectKeywords(n, v, ip, kp, ann, depth))) return false;
        break;
      default:
        break;
    }
    if (!keep_going(Combinators(n, v, ip, kp, ann, depth))) return false;
    // unevaluated* come last: they read what every other keyword evaluated.
    if ((ok || all_) && n->unevaluated_items != nullptr && v.is_array()) {
      KwPath k{kp, "unevaluatedItems", nullptr, -1};
      if (!ann->all_items) {
        std::vector<char> seen(v.size(), 0);
        for (std::size_t i : ann->contains_items) if (i < seen.size()) seen[i] = 1;
        for (std::size_t i = ann->items_prefix; i < v.size(); ++i) {
          if (seen[i]) continue;
          InstPath child{ip, nullptr, i};
          if (!keep_going(Eval(n->unevaluated_items, v[i], &child, &k, nullptr, depth + 1))) return false;
        }
      }
      ann->all_items = true;
    }
    if ((ok || all_) && n->unevaluated_properties != nullptr && v.is_object()) {
      KwPath k{kp, "unevaluatedProperties", nullptr, -1};
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (ann->properties.count(&m.value()) != 0) continue;
        InstPath child{ip, &m.key(), 0};
        std::size_t before = errors_ != nullptr ? errors_->size() : 0;
        bool passed = Eval(n->unevaluated_properties, m.value(), &child, &k, nullptr, depth + 1);
        if (!passed && n->unevaluated_properties->is_bool && errors_ != nullptr && errors_->size() > before)
          errors_->back().message = "unevaluated property " + Shown(json(m.key()).dump()) + " is not allowed";
        if (!keep_going(passed)) return false;
        ann->properties.insert(&m.value());
      }
    }
    return ok;
  }

  // Bounds checks a count against a min/max keyword pair (-1: absent),
  // clearing *ok on a failure; false when evaluation stops here.
  bool Bounds(const Node* n, const InstPath* ip, const KwPath* kp, double count, double min, const char* min_kw,
              const char* below, double max, const char* max_kw, const char* above, bool* ok) {
    if (min >= 0 && count < min) {
      *ok = Fail(n, ip, kp, min_kw, std::string(below) + " " + min_kw + " " + Num(min));
      if (!all_) return false;
    }
    if (max >= 0 && count > max) {
      *ok = Fail(n, ip, kp, max_kw, std::string(above) + " " + max_kw + " " + Num(max));
      if (!all_) return false;
    }
    return true;
  }

  [[gnu::noinline]] bool StringKeywords(const Node* n, const std::string& s, const InstPath* ip, const KwPath* kp) {
    bool ok = true;
    if (n->min_length >= 0 || n->max_length >= 0 || n->pattern != nullptr || n->format != nullptr)
      Charge(s.size() / 256);
    if ((n->min_length >= 0 || n->max_length >= 0) &&
        !Bounds(n, ip, kp, static_cast<double>(text::CodePoints(s)), n->min_length, "minLength", "shorter than",
                n->max_length, "maxLength", "longer than", &ok))
      return false;
    if (n->pattern != nullptr && !n->pattern->PartialMatch(s)) {
      ok = Fail(n, ip, kp, "pattern", "does not match pattern " + Shown(json(*n->pattern_text).dump()));
      if (!all_) return false;
    }
    if (n->format != nullptr && n->assert_format) {
      bool known = false;
      if (Reason r = CheckSchemaFormat(*n->format, s, &known)) {
        ok = Fail(n, ip, kp, "format", "not a valid " + Shown(*n->format) + ": " + r);
        if (!all_) return false;
      }
    }
    return ok;
  }

  [[gnu::noinline]] bool NumberKeywords(const Node* n, const json& v, const InstPath* ip, const KwPath* kp) {
    bool ok = true;
    auto check = [&](const json* bound, bool pass, const char* keyword, const char* what) {
      if (bound == nullptr || pass) return true;
      ok = Fail(n, ip, kp, keyword, std::string(what) + " " + bound->dump());
      return all_;
    };
    // Integers compare exactly (nlohmann compares mixed kinds as doubles).
    if (!check(n->minimum, n->minimum == nullptr || !(v < *n->minimum), "minimum", "less than minimum")) return false;
    if (!check(n->maximum, n->maximum == nullptr || !(*n->maximum < v), "maximum", "greater than maximum")) return false;
    if (!check(n->exclusive_minimum, n->exclusive_minimum == nullptr || *n->exclusive_minimum < v, "exclusiveMinimum",
               "not greater than exclusiveMinimum"))
      return false;
    if (!check(n->exclusive_maximum, n->exclusive_maximum == nullptr || v < *n->exclusive_maximum, "exclusiveMaximum",
               "not less than exclusiveMaximum"))
      return false;
    if (!check(n->multiple_of, n->multiple_of == nullptr || MultipleOf(v, *n->multiple_of), "multipleOf",
               "not a multiple of"))
      return false;
    return ok;
  }

  [[gnu::noinline]] bool ArrayKeywords(const Node* n, const json& v, const InstPath* ip, const KwPath* kp, Annotations* ann, int depth) {
    bool ok = true;
    if (!Bounds(n, ip, kp, static_cast<double>(v.size()), n->min_items, "minItems", "fewer than", n->max_items,
                "maxItems", "more than", &ok))
      return false;
    if (n->unique_items && v.size() > 1) {
      Charge(v.size());
      // Hashed with the equality enum uses (no ordering of mixed numbers
      // needed); each probe charged by the bucket it compares against.
      std::unordered_set<const json*, EnumHash, EnumEq> seen;
      seen.reserve(v.size());
      bool duplicate = false;
      for (const json& item : v) {
        if (!seen.empty()) Charge(seen.bucket_size(seen.bucket(&item)) * (1 + NodeCount(item)));
        if (!seen.insert(&item).second) {
          duplicate = true;
          break;
        }
      }
      if (duplicate) {
        ok = Fail(n, ip, kp, "uniqueItems", "items are not unique");
        if (!all_) return false;
      }
    }
    for (std::size_t i = 0; i < n->prefix_items.size() && i < v.size(); ++i) {
      KwPath k{kp, "prefixItems", nullptr, static_cast<long>(i)};
      InstPath child{ip, nullptr, i};
      if (!Eval(n->prefix_items[i], v[i], &child, &k, nullptr, depth + 1)) {
        ok = false;
        if (!all_) return false;
      }
    }
    if (ann != nullptr) ann->items_prefix = std::max(ann->items_prefix, std::min(n->prefix_items.size(), v.size()));
    if (n->items != nullptr) {
      KwPath k{kp, "items", nullptr, -1};
      for (std::size_t i = n->prefix_items.size(); i < v.size(); ++i) {
        InstPath child{ip, nullptr, i};
        if (!Eval(n->items, v[i], &child, &k, nullptr, depth + 1)) {
          ok = false;
          if (!all_) return false;
        }
      }
      if (ann != nullptr) ann->all_items = true;
    }
    if (n->contains != nullptr) {
      KwPath k{kp, "contains", nullptr, -1};
      std::size_t matches = 0;
      bool need_all = ann != nullptr || n->max_contains >= 0;
      std::vector<JsonSchemaError>* saved = errors_;
      errors_ = nullptr;  // items that do not match are not errors
      for (std::size_t i = 0; i < v.size(); ++i) {
        InstPath child{ip, nullptr, i};
        if (Eval(n->contains, v[i], &child, &k, nullptr, depth + 1)) {
          ++matches;
          if (ann != nullptr) ann->contains_items.push_back(i);
          if (!need_all && static_cast<double>(matches) >= n->min_contains) break;
        }
      }
      errors_ = saved;
      if (static_cast<double>(matches) < n->min_contains) {
        ok = Fail(n, ip, kp, n->min_contains == 1 ? "contains" : "minContains",
                  n->min_contains == 1 ? std::string("no item matches contains")
                                       : std::to_string(matches) + " items match contains, fewer than minContains " +
                                             Num(n->min_contains));
        if (!all_) return false;
      }
      if (n->max_contains >= 0 && static_cast<double>(matches) > n->max_contains) {
        ok = Fail(n, ip, kp, "maxContains",
                  std::to_string(matches) + " items match contains, more than maxContains " + Num(n->max_contains));
        if (!all_) return false;
      }
    }
    return ok;
  }

  [[gnu::noinline]] bool ObjectKeywords(const Node* n, const json& v, const InstPath* ip, const KwPath* kp, Annotations* ann, int depth) {
    bool ok = true;
    if (!Bounds(n, ip, kp, static_cast<double>(v.size()), n->min_properties, "minProperties", "fewer than",
                n->max_properties, "maxProperties", "more than", &ok))
      return false;
    if (!n->required.empty()) Charge(n->required.size());
    for (const std::string& r : n->required) {
      if (v.find(r) == v.end()) {
        ok = Fail(n, ip, kp, "required", "missing required property " + Shown(json(r).dump()));
        if (!all_) return false;
      }
    }
    for (const auto& [name, needed] : n->dependent_required) {
      if (v.find(name) == v.end()) continue;
      Charge(needed.size());
      for (const std::string& r : needed) {
        if (v.find(r) == v.end()) {
          ok = Fail(n, ip, kp, "dependentRequired", "property " + Shown(json(name).dump()) + " requires property " + Shown(json(r).dump()));
          if (!all_) return false;
        }
      }
    }
    bool members = !n->properties.empty() || !n->pattern_properties.empty() || n->additional_properties != nullptr ||
                   n->property_names != nullptr;
    if (members) {
      for (auto m = v.begin(); m != v.end(); ++m) {
        const std::string& key = m.key();
        InstPath child{ip, &key, 0};
        bool matched = false;
        if (!n->properties.empty()) {
          auto p = n->properties.find(key);
          if (p != n->properties.end()) {
            matched = true;
            KwPath k{kp, "properties", &key, -1};
            if (!Eval(p->second, m.value(), &child, &k, nullptr, depth + 1)) {
              ok = false;
              if (!all_) return false;
            }
          }
        }
        if (!n->pattern_properties.empty()) Charge(n->pattern_properties.size() * (1 + key.size() / 256));
        for (std::size_t i = 0; i < n->pattern_properties.size(); ++i) {
          if (!n->pattern_properties[i].first->PartialMatch(key)) continue;
          matched = true;
          KwPath k{kp, "patternProperties", n->pattern_sources[i], -1};
          if (!Eval(n->pattern_properties[i].second, m.value(), &child, &k, nullptr, depth + 1)) {
            ok = false;
            if (!all_) return false;
          }
        }
        if (!matched && n->additional_properties != nullptr) {
          matched = true;
          KwPath k{kp, "additionalProperties", nullptr, -1};
          std::size_t before = errors_ != nullptr ? errors_->size() : 0;
          if (!Eval(n->additional_properties, m.value(), &child, &k, nullptr, depth + 1)) {
            if (n->additional_properties->is_bool && errors_ != nullptr && errors_->size() > before)
              errors_->back().message = "additional property " + Shown(json(key).dump()) + " is not allowed";
            ok = false;
            if (!all_) return false;
          }
        }
        if (matched && ann != nullptr) ann->properties.insert(&m.value());
        if (n->property_names != nullptr) {
          KwPath k{kp, "propertyNames", nullptr, -1};
          json name(key);
          if (!Eval(n->property_names, name, &child, &k, nullptr, depth + 1)) {
            ok = false;
            if (!all_) return false;
          }
        }
      }
    }
    for (const auto& [name, sub] : n->dependent_schemas) {
      if (v.find(name) == v.end()) continue;
      KwPath k{kp, "dependentSchemas", &name, -1};
      if (!InPlace(sub, v, ip, &k, ann, depth)) {
        ok = false;
        if (!all_) return false;
      }
    }
    return ok;
  }

  // Branch evaluates a subschema whose failure is not itself an error (an
  // anyOf branch, an if): its errors go to `sink`.
  [[gnu::noinline]] bool Branch(const Node* sub, const json& v, const InstPath* ip, const KwPath* kp, Annotations* ann, int depth,
              std::vector<JsonSchemaError>* sink) {
    std::vector<JsonSchemaError>* saved = errors_;
    bool saved_all = all_;
    errors_ = saved != nullptr ? sink : nullptr;
    bool r = InPlace(sub, v, ip, kp, ann, depth);
    errors_ = saved;
    all_ = saved_all;
    return r;
  }

  void Adopt(std::vector<JsonSchemaError>& sub) {
    if (errors_ == nullptr || !all_) return;
    for (JsonSchemaError& e : sub)
      if (errors_->size() < kMaxErrors) errors_->push_back(std::move(e));
  }

  [[gnu::noinline]] bool Combinators(const Node* n, const json& v, const InstPath* ip, const KwPath* kp, Annotations* ann, int depth) {
    bool ok = true;
    for (std::size_t i = 0; i < n->all_of.size(); ++i) {
      KwPath k{kp, "allOf", nullptr, static_cast<long>(i)};
      if (!InPlace(n->all_of[i], v, ip, &k, ann, depth)) {
        ok = false;
        if (!all_) return false;
      }
    }
    if (!n->any_of.empty()) {
      std::vector<JsonSchemaError> sub;
      bool any = false;
      for (std::size_t i = 0; i < n->any_of.size(); ++i) {
        KwPath k{kp, "anyOf", nullptr, static_cast<long>(i)};
        if (Branch(n->any_of[i], v, ip, &k, ann, depth, &sub)) {
          any = true;
          if (ann == nullptr) break;  // the others only add annotations
        }
      }
      if (!any) {
        std::string first = sub.empty() ? std::string() : " (" + Shown(JsonSchemaReason(sub.front())) + ")";
        ok = Fail(n, ip, kp, "anyOf", "matches none of anyOf" + first);
        Adopt(sub);
        if (!all_) return false;
      }
    }
    if (!n->one_of.empty()) {
      std::vector<JsonSchemaError> sub;
      int passed = 0;
      Annotations mine;
      for (std::size_t i = 0; i < n->one_of.size(); ++i) {
        KwPath k{kp, "oneOf", nullptr, static_cast<long>(i)};
        if (Branch(n->one_of[i], v, ip, &k, ann != nullptr ? &mine : nullptr, depth, &sub)) ++passed;
      }
      if (passed != 1) {
        std::string first = passed == 0 && !sub.empty() ? " (" + Shown(JsonSchemaReason(sub.front())) + ")" : std::string();
        ok = Fail(n, ip, kp, "oneOf", "matches " + std::to_string(passed) + " of oneOf, expected exactly 1" + first);
        if (passed == 0) Adopt(sub);
        if (!all_) return false;
      } else if (ann != nullptr) {
        MergeInto(ann, mine);
      }
    }
    if (n->not_schema != nullptr) {
      std::vector<JsonSchemaError> sub;
      KwPath k{kp, "not", nullptr, -1};
      if (Branch(n->not_schema, v, ip, &k, nullptr, depth, &sub)) {
        ok = Fail(n, ip, kp, "not", "matches the schema under not");
        if (!all_) return false;
      }
    }
    if (n->if_schema != nullptr) {
      std::vector<JsonSchemaError> sub;
      KwPath k{kp, "if", nullptr, -1};
      bool cond = Branch(n->if_schema, v, ip, &k, ann, depth, &sub);
      const Node* next = cond ? n->then_schema : n->else_schema;
      if (next != nullptr) {
        KwPath k2{kp, cond ? "then" : "else", nullptr, -1};
        if (!InPlace(next, v, ip, &k2, ann, depth)) {
          ok = false;
          if (!all_) return false;
        }
      }
    }
    return ok;
  }

  const CompiledSchema& c_;
  std::vector<JsonSchemaError>* errors_;
  bool all_;
  long long steps_ = 0;
  std::vector<const Resource*> scope_;  // the dynamic scope, outermost first
  std::uintptr_t stack_base_ = 0;       // the frame Run started from
};

}  // namespace

namespace {
thread_local JsonSchemaRegistry* current_registry = nullptr;

// ReadOptions reads the option keys of `p`; `skip` names one key that is
// not an option (a json_schema rule's "schema").
JsonSchemaOptions ReadOptions(const json& p, const char* skip, const std::string& what) {
  JsonSchemaOptions o;
  if (p.is_null()) return o;
  if (!p.is_object()) throw Error(ErrorCode::kInvalidParameter, what + " must be a JSON object");
  for (auto it = p.begin(); it != p.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    if (skip != nullptr && k == skip) continue;
    if (k == "format") {
      if (v != "assert" && v != "annotate")
        throw Error(ErrorCode::kInvalidParameter, "json_schema: option \"format\" must be \"assert\" or \"annotate\"");
      o.assert_format = v == "assert";
    } else if (k == "registry") {
      if (!v.is_boolean()) throw Error(ErrorCode::kInvalidParameter, "json_schema: option \"registry\" must be true or false");
      o.registry = v.get<bool>();
    } else if (k == "max_steps") {
      if (!IsInteger(v) || v.get<double>() < 1 || v.get<double>() > static_cast<double>(kMaxStepsLimit))
        throw Error(ErrorCode::kInvalidParameter, "json_schema: option \"max_steps\" must be an integer from 1 to 1000000000");
      o.max_steps = static_cast<long long>(v.get<double>());
    } else {
      throw Error(ErrorCode::kInvalidParameter, "json_schema: unknown option \"" + Shown(k) + "\"", {},
                  "Options: format (\"assert\" or \"annotate\"), registry (true/false), max_steps.");
    }
  }
  return o;
}
}  // namespace

JsonSchemaRegistryScope::JsonSchemaRegistryScope(JsonSchemaRegistry* registry) noexcept : saved_(current_registry) {
  current_registry = registry;
}
JsonSchemaRegistryScope::~JsonSchemaRegistryScope() { current_registry = saved_; }
JsonSchemaRegistry* JsonSchemaRegistryScope::Current() noexcept { return current_registry; }

JsonSchemaOptions ParseJsonSchemaOptions(std::string_view options_json) {
  return ReadOptions(json_in::ParseInput(options_json, "json_schema: options"), nullptr, "json_schema: options");
}

std::shared_ptr<const CompiledSchema> CompileJsonSchemaRule(std::string_view params_json) {
  json p = json_in::ParseInput(params_json, "rule json_schema: params");
  if (!p.is_object() || !p.contains("schema"))
    throw Error(ErrorCode::kInvalidParameter, "rule json_schema: needs {\"schema\": <JSON Schema>}", {},
                "Other keys: format (\"assert\" or \"annotate\"), max_steps; registered URIs resolve "
                "(\"schema\": {\"$ref\": \"https://example.com/order.json\"}).");
  JsonSchemaOptions o = ReadOptions(p, "schema", "rule json_schema: params");
  if (p.contains("registry"))
    throw Error(ErrorCode::kInvalidParameter, "rule json_schema: rules always resolve registered URIs; drop \"registry\"");
  o.registry = true;
  return CompileJsonSchema(p["schema"].dump(), o, current_registry);
}

std::shared_ptr<const CompiledSchema> CompileJsonSchema(std::string_view schema_text, const JsonSchemaOptions& options,
                                                        JsonSchemaRegistry* registry) {
  auto c = std::make_shared<CompiledSchema>();
  c->max_steps = options.max_steps;
  Compiler compiler(c.get(), options, registry);
  compiler.CompileRoot(schema_text);
  return c;
}

bool ValidateJson(const CompiledSchema& schema, std::string_view doc_text, std::vector<JsonSchemaError>* errors,
                  bool all) {
  json doc = json_in::ParseInput(doc_text, "json_schema: document");
  Evaluator e(schema, errors, all);
  return e.Run(doc);
}

std::string JsonSchemaOutput(bool valid, const std::vector<JsonSchemaError>& errors) {
  json out = json::object();
  out["valid"] = valid;
  if (!valid) {
    json list = json::array();
    for (const JsonSchemaError& e : errors) {
      json item = {{"keywordLocation", e.keyword_location}, {"instanceLocation", e.instance_location}, {"error", e.message}};
      if (!e.absolute_keyword_location.empty()) item["absoluteKeywordLocation"] = e.absolute_keyword_location;
      list.push_back(std::move(item));
    }
    out["errors"] = std::move(list);
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string JsonSchemaReason(const JsonSchemaError& e) {
  return (e.instance_location.empty() ? std::string("(root)") : e.instance_location) + ": " + e.message;
}

void RecheckSchemaRules(const std::vector<StoredSchemaRule>& rules) {
  for (const StoredSchemaRule& r : rules) {
    try {
      CompileJsonSchemaRule(r.params);
    } catch (const Error& e) {
      throw Error(ErrorCode::kDependentObjects,
                  "the json_schema rule on " + text::ForMessage(r.where, 200) +
                      " no longer compiles with this schema: " + e.what(),
                  {}, "The rule's table owner (or a superuser) changes or removes the rule first (vigil_rule_remove).");
    }
  }
}

void RefuseIfUsed(const std::vector<StoredSchemaRule>& rules, const std::string& uri) {
  for (const StoredSchemaRule& r : rules) {
    std::vector<std::string> uses;
    try {
      uses = CompileJsonSchemaRule(r.params)->external;
    } catch (const Error&) {
      continue;  // a rule that does not compile now loads nothing
    }
    if (std::find(uses.begin(), uses.end(), uri) != uses.end())
      throw Error(ErrorCode::kDependentObjects,
                  "cannot remove \"" + text::ForMessage(uri, 200) + "\": the json_schema rule on " +
                      text::ForMessage(r.where, 200) + " uses it",
                  {}, "Remove the rule first (vigil_rule_remove).");
  }
}

void CheckRegistrableSchema(std::string_view schema_text) {
  json s = json_in::ParseInput(schema_text, "json_schema: schema");
  if (!s.is_object() && !s.is_boolean())
    throw Error(ErrorCode::kInvalidParameter, "json_schema: a schema must be an object or a boolean");
}

std::string JsonSchemaRefTo(const std::string& uri) { return json{{"$ref", uri}}.dump(); }

std::vector<std::string> ExternalUris(const CompiledSchema& schema) { return schema.external; }

std::string CheckRegistrableUri(std::string_view uri) {
  if (uri.empty() || uri.size() > 2048)
    throw Error(ErrorCode::kInvalidParameter, "json_schema: a registered URI must have 1 to 2048 bytes");
  if (!text::IsValidUtf8(uri)) throw Error(ErrorCode::kInvalidText, "json_schema: the URI is not valid UTF-8");
  for (unsigned char c : uri)
    if (c <= 0x20 || c == 0x7f)
      throw Error(ErrorCode::kInvalidParameter, "json_schema: a registered URI must not contain spaces or control characters");
  Uri u = ParseUri(uri);
  if (!u.has_scheme || !std::isalpha(static_cast<unsigned char>(u.scheme[0])))
    throw Error(ErrorCode::kInvalidParameter, "json_schema: the URI \"" + Shown(uri) + "\" is not absolute", {},
                "Register schemas under absolute URIs such as https://example.com/schemas/order.json.");
  if (u.has_fragment && !u.fragment.empty())
    throw Error(ErrorCode::kInvalidParameter, "json_schema: a registered URI must not have a fragment");
  u.has_fragment = false;
  std::string out = Recompose(u);
  for (const BuiltinSchema& b : kBuiltinSchemas)
    if (out == b.uri)
      throw Error(ErrorCode::kInvalidParameter, "json_schema: \"" + out + "\" is a built-in meta-schema");
  return out;
}

Reason CheckJson(std::string_view s) {
  if (s.empty()) return "empty";
  // accept() runs the iterative SAX parser: no tree, no recursion.
  return json::accept(s.begin(), s.end()) ? nullptr : "not valid JSON (RFC 8259)";
}

std::optional<std::string> JsonSchemaCheck(std::string_view schema_text, std::string_view doc_text) {
  auto schema = CompileJsonSchema(schema_text, JsonSchemaOptions{}, nullptr);
  std::vector<JsonSchemaError> errors;
  if (ValidateJson(*schema, doc_text, &errors)) return std::nullopt;
  if (errors.empty()) return std::string("(root): invalid");
  return JsonSchemaReason(errors.front());
}

}  // namespace vigil::core
