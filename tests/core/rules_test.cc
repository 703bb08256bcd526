// rules_test.cc — rule parsing, value checks and the violation report.
#include <gtest/gtest.h>

#include "base/error.h"
#include "rules/rules.h"

namespace vigil::core {
namespace {

std::optional<std::string> Check(std::string_view kind, std::optional<std::string_view> params,
                                 std::optional<std::string_view> value) {
  return CheckValue(ParseRule(kind, params), value);
}

TEST(Rules, ValueRules) {
  EXPECT_EQ(Check("email", std::nullopt, "a@b.co"), std::nullopt);
  EXPECT_EQ(Check("email", std::nullopt, "a@@b"), "more than one @");
  EXPECT_EQ(Check("email", std::nullopt, std::nullopt), std::nullopt);  // NULL passes, as in CHECK
  EXPECT_EQ(Check("not_null", std::nullopt, std::nullopt), "is null");
  EXPECT_EQ(Check("range", R"({"min":0,"max":100})", "150"), "150 is above the maximum 100");
  EXPECT_EQ(Check("range", R"({"min":0.5})", "0.25"), "0.25 is below the minimum 0.5");
  EXPECT_EQ(Check("range", R"({"min":0})", "abc"), "not a number");
  EXPECT_EQ(Check("range", R"({"min":0})", "1e3"), std::nullopt);
  EXPECT_EQ(Check("range", R"({"min":0})", "inf"), "not a number");
  EXPECT_EQ(Check("length", R"({"min":3,"max":5})", "josé"), std::nullopt);  // 4 characters
  EXPECT_EQ(Check("length", R"({"max":3})", "josé"), "length 4 is above the maximum 3");
  EXPECT_EQ(Check("one_of", R"(["buy","sell"])", "hold"), "not one of the allowed values");
  EXPECT_EQ(Check("one_of", R"(["buy","sell", 1])", "1"), std::nullopt);
  EXPECT_EQ(Check("regex", R"({"pattern":"^[A-Z]+$"})", "BTC"), std::nullopt);
  EXPECT_EQ(Check("regex", R"({"pattern":"^[A-Z]+$"})", "btc"), "does not match the pattern");
  EXPECT_EQ(Check("positive", std::nullopt, "0"), "0 is not positive");
  EXPECT_EQ(Check("positive", std::nullopt, "0.0001"), std::nullopt);
  EXPECT_EQ(Check("precision", R"({"digits":10,"scale":2})", "12345678.90"), std::nullopt);
  EXPECT_EQ(Check("precision", R"({"digits":10,"scale":2})", "1.005"), "more than 2 digits after the decimal point");
  EXPECT_EQ(Check("precision", R"({"digits":4,"scale":2})", "123.4"), "more than 2 digits before the decimal point");
  EXPECT_EQ(Check("precision", R"({"digits":4,"scale":2})", "-12.40"), std::nullopt);
}

TEST(Rules, RegexIsLinear) {
  std::string long_a(200000, 'a');
  EXPECT_EQ(Check("regex", R"({"pattern":"^(a+)+$"})", long_a + "!"), "does not match the pattern");
}

TEST(Rules, MalformedParamsAreClearErrors) {
  auto message = [](std::string_view kind, std::optional<std::string_view> params) {
    try {
      ParseRule(kind, params);
    } catch (const Error& e) {
      // Bad syntax is 22P02 (as PostgreSQL's jsonb input), the rest 22023.
      EXPECT_EQ(e.code(), params && params->starts_with("{") && !params->ends_with("}") ? ErrorCode::kInvalidText
                                                                                     : ErrorCode::kInvalidParameter);
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(message("nope", std::nullopt), "unknown rule kind \"nope\"");
  EXPECT_EQ(message("range", std::nullopt), "rule range: params must be a JSON object");
  EXPECT_EQ(message("range", "{}"), "rule range: needs \"min\", \"max\" or both");
  EXPECT_EQ(message("range", R"({"min":5,"max":1})"), "rule range: \"min\" is greater than \"max\"");
  EXPECT_EQ(message("range", "{"), "rule range: params is not valid JSON");
  EXPECT_EQ(message("range", R"({"min": 1e309})"), "rule range: params: a number is out of range");
  EXPECT_EQ(message("precision", R"({"digits": 4294967297})"), "rule precision: \"digits\" must be from 1 to 1000");
  EXPECT_EQ(message("precision", R"({"digits": 4, "scale": "x"})"), "rule precision: \"scale\" must be an integer");
  EXPECT_EQ(message("precision", R"({"digits": 4.5})"), "rule precision: \"digits\" must be an integer");
  EXPECT_EQ(message("regex", R"({"pattern":"("})"), "rule regex: pattern does not compile: missing ): (");
  EXPECT_EQ(message("one_of", "[]"), "rule one_of: params must be a non-empty JSON array");
  EXPECT_EQ(message("email", R"({"x":1})"), "rule email: takes no params");
  EXPECT_EQ(message("references", R"({"table":"users"})"), "rule references: needs {\"table\": \"...\", \"column\": \"...\"}");
  EXPECT_EQ(message("expression", R"({"sql":"1; DROP TABLE t"})"), "rule expression: the expression must not contain ';'");
}

TEST(Rules, ViolationReport) {
  std::vector<Violation> v = {{"email", "email", "more than one @"}, {"price", "range", "150 is above the maximum 100"},
                              {"", "expression", "qty * price <= 1000000 is false"}};
  EXPECT_EQ(ViolationsMessage("trades", v),
            "row rejected by 3 rules on \"trades\": email (email): more than one @; price (range): 150 is above the "
            "maximum 100; (row) (expression): qty * price <= 1000000 is false");
  EXPECT_EQ(ViolationsJson({v[0]}), R"([{"column":"email","reason":"more than one @","rule":"email"}])");
}

TEST(Rules, Identifiers) {
  EXPECT_EQ(QuoteIdent("x\"; DROP TABLE users; --"), "\"x\"\"; DROP TABLE users; --\"");
}

}  // namespace
}  // namespace vigil::core
