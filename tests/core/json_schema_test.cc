// json_schema_test.cc — the JSON Schema evaluator's keywords and limits.
#include <gtest/gtest.h>

#include <pthread.h>

#include <functional>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "error_code.h"
#include "sanitized.h"
#include "rules/rules.h"
#include "validate/json_schema.h"
#include "validate/validators.h"

namespace vigil::core {
namespace {

bool Valid(const std::string& schema, const std::string& doc) { return !JsonSchemaCheck(schema, doc).has_value(); }

TEST(JsonSchema, Keywords) {
  EXPECT_TRUE(Valid(R"({"const":{"a":[1,2]}})", R"({"a":[1,2.0]})"));
  EXPECT_FALSE(Valid(R"({"const":3})", "4"));
  EXPECT_TRUE(Valid(R"({"type":"integer"})", "3.0"));
  EXPECT_FALSE(Valid(R"({"type":"integer"})", "3.5"));
  EXPECT_TRUE(Valid(R"({"type":["string","null"]})", "null"));
  EXPECT_FALSE(Valid(R"({"minLength":2})", R"("é")"));  // one code point
  EXPECT_TRUE(Valid(R"({"maxLength":1})", R"("é")"));
  EXPECT_TRUE(Valid(R"({"minItems":1,"maxItems":2})", "[1]"));
  EXPECT_FALSE(Valid(R"({"maxItems":2})", "[1,2,3]"));
  EXPECT_TRUE(Valid(R"({"multipleOf":0.01})", "19.99"));
  EXPECT_FALSE(Valid(R"({"multipleOf":2})", "7"));
  EXPECT_FALSE(Valid(R"({"uniqueItems":true})", "[1,2,1.0]"));
  EXPECT_TRUE(Valid(R"({"prefixItems":[{"type":"string"}],"items":{"type":"number"}})", R"(["a",1,2])"));
  EXPECT_FALSE(Valid(R"({"prefixItems":[{"type":"string"}],"items":{"type":"number"}})", R"(["a",1,"b"])"));
  EXPECT_TRUE(Valid(R"({"anyOf":[{"type":"string"},{"minimum":5}]})", "7"));
  EXPECT_FALSE(Valid(R"({"oneOf":[{"minimum":1},{"minimum":2}]})", "3"));
  EXPECT_FALSE(Valid(R"({"not":{"type":"null"}})", "null"));
  EXPECT_FALSE(Valid("false", "1"));
  EXPECT_TRUE(Valid("true", "1"));
  EXPECT_TRUE(Valid(R"({"format":"vigil:iban"})", R"("DE89370400440532013000")"));
  EXPECT_FALSE(Valid(R"({"format":"vigil:iban"})", R"("DE89370400440532013001")"));
  EXPECT_TRUE(Valid(R"({"format":"unknown-format"})", R"("anything")"));
  EXPECT_FALSE(Valid(R"({"format":"date-time"})", R"("2024-02-29")"));
  EXPECT_TRUE(Valid(R"({"format":"date-time"})", R"("2024-02-29T10:00:00Z")"));
}

TEST(JsonSchema, MultipleOfIsExactInDecimal) {
  for (const char* yes : {"19.99", "0.07", "4.89", "0.3", "1e308", "0", "-0.05", "12391239123"})
    EXPECT_TRUE(Valid(R"({"multipleOf": 0.01})", yes)) << yes;
  for (const char* no : {"10.0000000001", "0.001", "19.995", "1.0000000000000002"})
    EXPECT_FALSE(Valid(R"({"multipleOf": 0.01})", no)) << no;
  EXPECT_TRUE(Valid(R"({"multipleOf": 0.1})", "0.3"));
  EXPECT_TRUE(Valid(R"({"multipleOf": 1e-8})", "12391239123"));
  EXPECT_TRUE(Valid(R"({"multipleOf": 0.5})", "1e308"));
  EXPECT_FALSE(Valid(R"({"multipleOf": 0.123456789})", "1e308"));
  EXPECT_TRUE(Valid(R"({"multipleOf": 18446744073709551615})", "18446744073709551615"));
  EXPECT_FALSE(Valid(R"({"multipleOf": 3})", "18446744073709551615.5"));
}

TEST(JsonSchema, ReportsWhere) {
  auto r = JsonSchemaCheck(R"({"properties":{"a":{"items":{"type":"string"}}}})", R"({"a":["x",2]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "/a/1: expected type \"string\", got integer");
}

TEST(JsonSchema, RefCycleIsAnErrorNotACrash) {
  EXPECT_THROW(JsonSchemaCheck(R"({"$ref":"#"})", "1"), Error);
}

// The deepest evaluation fits a thread with a 1.5 MB stack: a measured
// 1 MB budget ends it with an error first (frames differ by build).
TEST(JsonSchema, EvaluationStackIsBounded) {
  struct Result {
    bool threw = false;
  } result;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1536 * 1024);
  pthread_t thread;
  auto body = [](void* arg) -> void* {
    auto* r = static_cast<Result*>(arg);
    try {
      JsonSchemaCheck(R"({"$defs":{"a":{"allOf":[{"$ref":"#/$defs/b"}]},"b":{"anyOf":[{"$ref":"#/$defs/a"}]}},)"
                      R"("$ref":"#/$defs/a","unevaluatedProperties":false})",
                      "{}");
    } catch (const Error& e) {
      r->threw = e.code() == ErrorCode::kProgramLimit;
    }
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, body, &result), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_TRUE(result.threw);
  // A 511-level document under a recursive schema still validates (in an
  // optimised build; AddressSanitizer's frames are about three times larger
  // and end it with the same error).
#ifndef __SANITIZE_ADDRESS__
  std::string deep = std::string(511, '[') + std::string(511, ']');
  EXPECT_TRUE(Valid(R"({"items": {"$ref": "#"}, "unevaluatedItems": false})", deep));
#endif
}

TEST(JsonSchema, DeepDocumentsAreRefused) {
  std::string deep(100000, '[');
  EXPECT_THROW(JsonSchemaCheck("{}", deep + std::string(100000, ']')), Error);
}

TEST(JsonSchema, RegexIsLinear) {
  // (a+)+$ against 100k 'a' and a '!' is catastrophic for backtracking
  // engines; RE2 answers in linear time.
  std::string doc = "\"" + std::string(100000, 'a') + "!\"";
  EXPECT_FALSE(Valid(R"({"pattern":"^(a+)+$"})", doc));
}

class MapRegistry : public JsonSchemaRegistry {
 public:
  std::map<std::string, std::string> schemas;
  int lookups = 0;
  std::optional<std::string> Find(const std::string& uri) override {
    ++lookups;
    auto it = schemas.find(uri);
    if (it == schemas.end()) return std::nullopt;
    return it->second;
  }
};

using testing::CodeOf;

bool ValidWith(const std::string& schema, const std::string& doc, const std::string& options, JsonSchemaRegistry* r) {
  return ValidateJson(*CompileJsonSchema(schema, ParseJsonSchemaOptions(options), r), doc, nullptr);
}

TEST(JsonSchema, FanOutEndsWithTheBudget) {
  std::string s = R"({"$defs": {)";
  for (int i = 0; i < 31; ++i) {
    std::string next = std::to_string(i + 1);
    s += "\"a";
    s += std::to_string(i);
    s += "\": {\"anyOf\": [{\"$ref\": \"#/$defs/a";
    s += next;
    s += "\"}, {\"$ref\": \"#/$defs/a";
    s += next;
    s += "\"}]}, ";
  }
  s += R"("a31": {"type": "string"}}, "$ref": "#/$defs/a0"})";
  // The default budget: ten million steps, 80 s under ASan; the release
  // build proves it, the sanitizer build the same path at 1,000 below.
  if (!testing::kSanitized) {
    try {
      JsonSchemaCheck(s, "1");
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kProgramLimit);
      EXPECT_NE(std::string(e.what()).find("10000000 steps"), std::string::npos);
      EXPECT_NE(e.hint().find("max_steps"), std::string::npos);
    }
  }
  // A smaller budget ends sooner; the same schema on a string passes at once.
  EXPECT_EQ(CodeOf([&] { ValidWith(s, "1", R"({"max_steps": 1000})", nullptr); }), ErrorCode::kProgramLimit);
  EXPECT_TRUE(ValidWith(s, "\"x\"", R"({"max_steps": 1000})", nullptr));
}

TEST(JsonSchema, WorkThatGrowsWithInputIsCharged) {
  // A 100-value enum over 1,000 items: 1,000 applications and 100,000
  // comparisons for a small enum (linear scan), 1 each for a large one (hashed).
  std::string items = "[";
  for (int i = 0; i < 1000; ++i) {
    if (i) items += ',';
    items += std::to_string(i % 10);
  }
  items += "]";
  std::string small_enum = R"({"items": {"enum": [0,1,2,3,4,5,6,7,8,9]}})";
  EXPECT_TRUE(ValidWith(small_enum, items, R"({"max_steps": 20000})", nullptr));
  EXPECT_EQ(CodeOf([&] { ValidWith(small_enum, items, R"({"max_steps": 5000})", nullptr); }), ErrorCode::kProgramLimit);
  std::string big = R"({"items": {"enum": [)";
  for (int i = 0; i < 10000; ++i) {
    if (i) big += ',';
    big += std::to_string(i);
  }
  big += "]}}";
  EXPECT_TRUE(ValidWith(big, items, R"({"max_steps": 5000})", nullptr));
  EXPECT_TRUE(ValidWith(R"({"enum": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18]})", "18.0", "{}", nullptr));
  // A 1 MB string read by a pattern costs ~4,000 steps.
  std::string big_string = "\"" + std::string(1 << 20, 'a') + "\"";
  EXPECT_EQ(CodeOf([&] { ValidWith(R"({"pattern": "a"})", big_string, R"({"max_steps": 1000})", nullptr); }),
            ErrorCode::kProgramLimit);
}

TEST(JsonSchema, Options) {
  EXPECT_EQ(CodeOf([] { ParseJsonSchemaOptions(R"({"formats": "assert"})"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { ParseJsonSchemaOptions(R"({"format": true})"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { ParseJsonSchemaOptions(R"({"max_steps": 0})"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { ParseJsonSchemaOptions(R"({"max_steps": 1e10})"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { ParseJsonSchemaOptions("[]"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { ParseJsonSchemaOptions("{"); }), ErrorCode::kInvalidText);
  EXPECT_FALSE(ValidWith(R"({"format": "date"})", "\"2024-02-30\"", "{}", nullptr));
  EXPECT_TRUE(ValidWith(R"({"format": "date"})", "\"2024-02-30\"", R"({"format": "annotate"})", nullptr));
}

TEST(JsonSchema, RegistryResolvesOnlyWhenAsked) {
  MapRegistry r;
  r.schemas["https://example.com/pos.json"] = R"({"type": "integer", "minimum": 1, "$defs": {"neg": {"maximum": -1}}})";
  std::string ref = R"({"$ref": "https://example.com/pos.json"})";
  EXPECT_EQ(CodeOf([&] { ValidWith(ref, "1", "{}", &r); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(r.lookups, 0);  // the pure form never reads the registry
  EXPECT_TRUE(ValidWith(ref, "1", R"({"registry": true})", &r));
  EXPECT_FALSE(ValidWith(ref, "0", R"({"registry": true})", &r));
  EXPECT_TRUE(ValidWith(R"({"$ref": "https://example.com/pos.json#/$defs/neg"})", "-5", R"({"registry": true})", &r));
  // Relative references resolve against the registered URI.
  r.schemas["https://example.com/order.json"] = R"({"properties": {"qty": {"$ref": "pos.json"}}})";
  EXPECT_FALSE(ValidWith(R"({"$ref": "https://example.com/order.json"})", R"({"qty": 0})", R"({"registry": true})", &r));
  // The built-in meta-schema needs no registry.
  EXPECT_TRUE(Valid(R"({"$ref": "https://json-schema.org/draft/2020-12/schema"})", R"({"type": "string"})"));
  EXPECT_FALSE(Valid(R"({"$ref": "https://json-schema.org/draft/2020-12/schema"})", R"({"type": 5})"));
}

TEST(JsonSchema, RegistryDocumentsAreBounded) {
  // Each registered schema references the next: at most 1000 documents load.
  MapRegistry r;
  for (int i = 0; i < 1100; ++i) {
    std::string uri = "https://example.com/";
    uri += std::to_string(i);
    std::string next = "{\"$ref\": \"https://example.com/";
    next += std::to_string(i + 1);
    next += "\"}";
    r.schemas[uri] = next;
  }
  EXPECT_EQ(CodeOf([&] { ValidWith(R"({"$ref": "https://example.com/0"})", "1", R"({"registry": true})", &r); }),
            ErrorCode::kProgramLimit);
  // A registered schema that is not JSON names its URI.
  r.schemas["https://example.com/bad"] = "{";
  EXPECT_EQ(CodeOf([&] { ValidWith(R"({"$ref": "https://example.com/bad"})", "1", R"({"registry": true})", &r); }),
            ErrorCode::kInvalidText);
}

TEST(JsonSchema, BasicOutputNamesLocations) {
  auto c = CompileJsonSchema(R"({"$id": "https://example.com/o.json", "properties": {"lines": {"items": {"$ref": "#/$defs/line"}}},
                                "$defs": {"line": {"properties": {"qty": {"minimum": 1}}, "required": ["sku"]}}})",
                             JsonSchemaOptions{}, nullptr);
  std::vector<JsonSchemaError> errors;
  EXPECT_FALSE(ValidateJson(*c, R"({"lines": [{"sku": "a", "qty": 1}, {"qty": 0}]})", &errors, true));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].instance_location, "/lines/1");
  EXPECT_EQ(errors[0].keyword_location, "/properties/lines/items/$ref/required");
  EXPECT_EQ(errors[1].instance_location, "/lines/1/qty");
  EXPECT_EQ(errors[1].keyword_location, "/properties/lines/items/$ref/properties/qty/minimum");
  EXPECT_EQ(errors[1].absolute_keyword_location, "https://example.com/o.json#/$defs/line/properties/qty/minimum");
  EXPECT_EQ(JsonSchemaOutput(true, {}), R"({"valid":true})");
  EXPECT_NE(JsonSchemaOutput(false, errors).find(R"("instanceLocation":"/lines/1/qty")"), std::string::npos);
}

TEST(JsonSchema, RegistrableUris) {
  EXPECT_EQ(CheckRegistrableUri("https://example.com/a.json#"), "https://example.com/a.json");
  EXPECT_EQ(CodeOf([] { CheckRegistrableUri("a.json"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { CheckRegistrableUri("https://example.com/a.json#x"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { CheckRegistrableUri(""); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { CheckRegistrableUri("https://example.com/a b"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { CheckRegistrableUri(std::string(3000, 'a')); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { CheckRegistrableUri("https://json-schema.org/draft/2020-12/schema"); }),
            ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { CheckRegistrableSchema("5"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { CheckRegistrableSchema("{"); }), ErrorCode::kInvalidText);
}

TEST(JsonSchema, RulesResolveTheRegistryInScope) {
  MapRegistry r;
  r.schemas["https://example.com/pos.json"] = R"({"type": "integer", "minimum": 1})";
  std::string params = R"({"schema": {"properties": {"n": {"$ref": "https://example.com/pos.json"}}}})";
  EXPECT_EQ(CodeOf([&] { ParseRule("json_schema", params); }), ErrorCode::kInvalidParameter);  // no scope
  JsonSchemaRegistryScope scope(&r);
  Rule rule = ParseRule("json_schema", params);
  EXPECT_FALSE(CheckValue(rule, R"({"n": 3})").has_value());
  EXPECT_EQ(CheckValue(rule, R"({"n": 0})").value_or(""), "/n: less than minimum 1");
  EXPECT_EQ(CheckValue(rule, "not json").value_or(""), "not valid JSON");
  EXPECT_FALSE(CheckValue(rule, std::nullopt).has_value());
  EXPECT_EQ(CodeOf([] { ParseRule("json_schema", R"({"schema": {}, "registry": true})"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { ParseRule("json_schema", R"({"type": "object"})"); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf([] { ParseRule("json_schema", R"({"schema": {}, "speed": 1})"); }), ErrorCode::kInvalidParameter);
  // Dependency checks.
  std::vector<StoredSchemaRule> rules = {{"t.doc", params}};
  EXPECT_EQ(CodeOf([&] { RefuseIfUsed(rules, "https://example.com/pos.json"); }), ErrorCode::kDependentObjects);
  RefuseIfUsed(rules, "https://example.com/other.json");
  RecheckSchemaRules(rules);
  r.schemas["https://example.com/pos.json"] = "{\"$ref\": \"#/missing\"}";
  EXPECT_EQ(CodeOf([&] { RecheckSchemaRules(rules); }), ErrorCode::kDependentObjects);
}

TEST(JsonSchema, ReportsAndCompilationAreBounded) {
  // At most 100 errors, each location at most 2 KB (then "...").
  std::string many = "[";
  for (int i = 0; i < 5000; ++i) {
    if (i) many += ',';
    many += '1';
  }
  many += ']';
  auto c = CompileJsonSchema(R"({"items": {"type": "string"}})", JsonSchemaOptions{}, nullptr);
  std::vector<JsonSchemaError> errors;
  EXPECT_FALSE(ValidateJson(*c, many, &errors, true));
  EXPECT_EQ(errors.size(), 100u);
  std::string key(10000, 'k');
  errors.clear();
  EXPECT_FALSE(ValidateJson(*CompileJsonSchema(R"({"additionalProperties": false})", JsonSchemaOptions{}, nullptr),
                            "{\"" + key + "\": 1}", &errors, true));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_LE(errors[0].instance_location.size(), 2051u);
  EXPECT_LE(errors[0].message.size(), 2051u);
  // URIs in a schema are at most 8 KB; long paths with dot segments
  // resolve in linear time.
  std::string long_id = "{\"$id\": \"http://x.example/" + std::string(9000, 'a') + "\"}";
  EXPECT_EQ(CodeOf([&] { JsonSchemaCheck(long_id, "1"); }), ErrorCode::kInvalidParameter);
  std::string dots = "http://x.example/";
  for (int i = 0; i < 1500; ++i) dots += "a/../";
  std::string embedded = "{\"$defs\": {\"x\": {\"$id\": \"" + dots + "s.json\", \"type\": \"integer\"}}, " +
                         "\"$ref\": \"http://x.example/s.json\"}";
  EXPECT_TRUE(Valid(embedded, "1"));
  EXPECT_FALSE(Valid(embedded, "\"x\""));
  // A schema's patterns together compile to at most 2,000,000 RE2 instructions.
  std::string patterns = "{\"patternProperties\": {";
  for (int i = 0; i < 400; ++i) {
    if (i) patterns += ',';
    patterns += "\"\\\\p{L}{30}";
    patterns += std::to_string(i);
    patterns += "\": true";
  }
  patterns += "}}";
  EXPECT_EQ(CodeOf([&] { JsonSchemaCheck(patterns, "{}"); }), ErrorCode::kProgramLimit);
}

TEST(JsonSchema, EqualityIsExactForNumbers) {
  EXPECT_FALSE(Valid(R"({"const": 9007199254740992.0})", "9007199254740993"));
  EXPECT_FALSE(Valid(R"({"enum": [[9007199254740992.0]]})", "[9007199254740993]"));
  EXPECT_TRUE(Valid(R"({"uniqueItems": true})", "[9007199254740993, 9007199254740992.0]"));
  EXPECT_FALSE(Valid(R"({"const": 18446744073709551615})", "18446744073709551616.0"));
  EXPECT_TRUE(Valid(R"({"const": {"a": [1, 2.0]}})", R"({"a": [1.0, 2]})"));
  EXPECT_FALSE(Valid(R"({"uniqueItems": true})", R"([{"a": 1, "b": [2]}, {"b": [2.0], "a": 1}])"));
}

TEST(JsonSchema, PatternsMeanWhatEcma262Says) {
  auto refused = [](const std::string& pattern) {
    return CodeOf([&] { JsonSchemaCheck(nlohmann::json{{"pattern", pattern}}.dump(), "\"x\""); }) ==
           ErrorCode::kInvalidParameter;
  };
  for (const char* p : {"\\1", "(a)\\12", "\\a", "\\x{41}", "\\p{scx=Latin}", "\\p{C}", "\\p{gc=sc=L}",
                        "[\\u0000-\\s]", "[a-\\d]", "(?i)a", "\\Qa\\E", "\\z", "\\p{^L}", "\\pL"})
    EXPECT_TRUE(refused(p)) << p;
  EXPECT_FALSE(Valid(R"({"pattern": "^.$"})", "\"\\r\""));
  EXPECT_FALSE(Valid(R"({"pattern": "^.$"})", "\"\\u2028\""));
  EXPECT_TRUE(Valid(R"({"pattern": "^[^]$"})", "\"\\n\""));
  EXPECT_FALSE(Valid(R"({"pattern": "^[[:alpha:]]$"})", "\"b\""));
  EXPECT_FALSE(Valid(R"({"pattern": "^\\S$"})", "\"\\u00a0\""));
  EXPECT_TRUE(Valid(R"({"pattern": "^[\\b]$"})", "\"\\b\""));
  EXPECT_TRUE(Valid(R"({"pattern": "^[a\\-\\d]+$"})", "\"a-5\""));
  EXPECT_TRUE(Valid(R"({"pattern": "^\\p{Letter}+$"})", "\"\u00e9t\u00e9\""));
}

TEST(JsonSchema, UriResolution) {
  MapRegistry r;
  r.schemas["http://example.com/a/b/c.json"] = R"({"$defs": {"x": {"const": 1}}})";
  for (const char* ref : {"c.json#/$defs/x", "./c.json#/$defs/x", "../b/c.json#/$defs/x", "/a/b/c.json#/$defs/x",
                          "//example.com/a/b/c.json#/$defs/x", "../../a/b/./c.json#/%24defs/x"}) {
    std::string s = std::string(R"({"$id": "http://example.com/a/b/d.json", "$ref": ")") + ref + "\"}";
    EXPECT_TRUE(ValidWith(s, "1", R"({"registry": true})", &r)) << ref;
    EXPECT_FALSE(ValidWith(s, "2", R"({"registry": true})", &r)) << ref;
  }
}

}  // namespace
}  // namespace vigil::core
