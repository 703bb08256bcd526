// json_schema_test.cc — the JSON Schema evaluator's keywords and limits.
#include <gtest/gtest.h>

#include <string>

#include "base/error.h"
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

TEST(JsonSchema, ReportsWhere) {
  auto r = JsonSchemaCheck(R"({"properties":{"a":{"items":{"type":"string"}}}})", R"({"a":["x",2]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "/a/1: expected type \"string\", got integer");
}

TEST(JsonSchema, RefCycleIsAnErrorNotACrash) {
  EXPECT_THROW(JsonSchemaCheck(R"({"$ref":"#"})", "1"), Error);
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

}  // namespace
}  // namespace vigil::core
