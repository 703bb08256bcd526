// hostile_test.cc — the core under hostile input (issue 11): bounded JSON,
// one exact numeric model, messages that cannot carry what they echo.
#include <gtest/gtest.h>

#include <string>

#include "base/decimal.h"
#include "base/error.h"
#include "base/json.h"
#include "rules/row_check.h"
#include "rules/rules.h"

namespace vigil::core {
namespace {

std::string Nested(int levels) { return std::string(levels, '[') + std::string(levels, ']'); }

ErrorCode CodeOf(std::string_view text) {
  try {
    json_in::Numbers numbers;  // as rows and rule params are read
    json_in::ParseInput(text, "row", &numbers);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;  // accepted
}

TEST(Hostile, JsonDepthIsBoundedAt512) {
  EXPECT_EQ(json_in::Depth(json_in::ParseInput(Nested(512), "row")), 512);
  EXPECT_EQ(CodeOf(Nested(513)), ErrorCode::kProgramLimit);
  EXPECT_EQ(CodeOf("{\"a\":" + Nested(60000) + "}"), ErrorCode::kProgramLimit);  // no recursion, no crash
  EXPECT_EQ(CodeOf(std::string(1000000, '[')), ErrorCode::kProgramLimit);
  EXPECT_EQ(CodeOf("1e309"), ErrorCode::kInvalidParameter);
  // Found by tests/fuzz (json_input): a double holds these (as 0), a Decimal
  // does not, so a row's number read as "not a number" in the rules.
  EXPECT_EQ(CodeOf("1e-1000001"), ErrorCode::kInvalidParameter);
  std::string tiny(2000, '9');  // the fuzzer's input: 9...91e-4009...9
  tiny.append("1e-400").append(1000, '9');
  EXPECT_EQ(CodeOf(tiny), ErrorCode::kInvalidParameter);
  std::string long_zero = "0.";
  long_zero.append(Decimal::kMaxText, '0').push_back('1');
  EXPECT_EQ(CodeOf(long_zero), ErrorCode::kInvalidParameter);
  EXPECT_EQ(CodeOf("1e-1000000"), ErrorCode::kInternal);  // accepted: within Decimal's range
  try {
    ParseTypedRow(R"({"price": 1e-2000000})");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "row: a number is out of range");
  }
  EXPECT_EQ(CodeOf("{\"a\": 1"), ErrorCode::kInvalidText);
  EXPECT_EQ(CodeOf("\"\xff\""), ErrorCode::kInvalidText);
  EXPECT_EQ(CodeOf(std::string("\"a\0b\"", 5)), ErrorCode::kInvalidText);
  try {
    ParseTypedRow("{\"a\":" + Nested(600) + "}");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "row nested deeper than 512 levels");
  }
}

TEST(Hostile, NumberSpellings) {
  json_in::Numbers numbers;
  json_in::ParseInput(R"({"a": 0.1000000000000000000001, "b/c": [1, 2e300], "d": 99999999999999999999})", "row",
                      &numbers);
  EXPECT_EQ(numbers["/a"], "0.1000000000000000000001");
  EXPECT_EQ(numbers["/b~1c/1"], "2e300");
  EXPECT_EQ(numbers["/d"], "99999999999999999999");
  TypedRow row = ParseTypedRow(R"({"n": 0.1000000000000000000001, "big": 99999999999999999999})");
  EXPECT_EQ(row.Find("n")->text, "0.1000000000000000000001");
  EXPECT_EQ(row.Find("big")->kind, TypedValue::kReal);
}

TEST(Hostile, DecimalIsExact) {
  auto D = [](std::string_view s) { return *Decimal::Parse(s); };
  EXPECT_EQ(D("1e2"), D("100"));
  EXPECT_EQ(D("100.000"), D("1E+2"));
  EXPECT_EQ(D("-0"), D("0.0"));
  EXPECT_LT(Decimal::Compare(D("18446744073709551616"), D("18446744073709551617")), 0);
  EXPECT_GT(Decimal::Compare(D("1e-400"), D("0")), 0);
  EXPECT_LT(Decimal::Compare(D("-2"), D("-1.5")), 0);
  EXPECT_EQ(D("1e-400").ToString(), "1e-400");
  EXPECT_EQ(D("1e309").ToString(), "1e309");
  EXPECT_EQ(D("-12.50").ToString(), "-12.5");
  EXPECT_EQ(D("0.001").ToString(), "0.001");
  EXPECT_TRUE(D("9223372036854775807").FitsInt64());
  EXPECT_FALSE(D("9223372036854775808").FitsInt64());
  EXPECT_TRUE(D("-9223372036854775808").FitsInt64());
  EXPECT_EQ(D("1e3").IntegerDigits(), 4);
  EXPECT_EQ(D("1.50").FractionDigits(), 1);
  for (const char* bad : {"", "-", ".", "e5", "1e", "1e+", "0x10", "inf", "NaN", " 1", "1 ", "1..2", "1e99999999"})
    EXPECT_FALSE(Decimal::Parse(bad).has_value()) << bad;
}

std::optional<std::string> Check(std::string_view kind, std::string_view params, std::string_view value) {
  return CheckValue(ParseRule(kind, params), value);
}

TEST(Hostile, OneNumericModel) {
  EXPECT_EQ(Check("one_of", "[1e2]", "100"), std::nullopt);
  EXPECT_EQ(Check("one_of", "[1]", "1.0"), std::nullopt);
  EXPECT_EQ(Check("one_of", "[\"1\"]", "1.0"), "not one of the allowed values");  // a string is text
  EXPECT_EQ(Check("positive", "{}", "1e-400"), std::nullopt);
  EXPECT_EQ(Check("positive", "{}", "-1e-400"), "-1e-400 is not positive");
  EXPECT_EQ(Check("range", R"({"min": 18446744073709551617})", "18446744073709551616"),
            "18446744073709551616 is below the minimum 18446744073709551617");
  EXPECT_EQ(Check("range", R"({"max": 0.30000000000000000001})", "0.3"), std::nullopt);
  std::string big_numeric = "1" + std::string(309, '0');  // PostgreSQL numeric's 1e309
  EXPECT_EQ(Check("positive", "{}", big_numeric), std::nullopt);
  EXPECT_EQ(Check("range", R"({"max": 1e300})", big_numeric), "1e309 is above the maximum 1e300");
  EXPECT_EQ(Check("precision", R"({"digits": 4})", "1e3"), std::nullopt);
  EXPECT_EQ(Check("precision", R"({"digits": 4})", "1e4"), "more than 4 digits before the decimal point");
}

TEST(Hostile, IntegerColumnsRefuseWhatTheyCannotHold) {
  auto plan = std::make_shared<const TablePlan>(TableInfo{"t", {"n"}, {"bigint"}, {}}, std::vector<StoredRule>{});
  auto reasons = [&](std::string_view row) {
    std::string out;
    for (const Violation& v : RowCheck(plan, ParseTypedRow(row), nullptr, true).Finish()) out += v.reason + ";";
    return out;
  };
  EXPECT_EQ(reasons(R"({"n": 9223372036854775807})"), "");
  EXPECT_EQ(reasons(R"({"n": 3.0})"), "");
  EXPECT_EQ(reasons(R"({"n": 99999999999999999999})"), "integer out of range for bigint;");
  EXPECT_EQ(reasons(R"({"n": "9223372036854775808"})"), "expected an integer for bigint;");
  EXPECT_EQ(reasons(R"({"n": 1.5})"), "expected an integer for bigint;");
}

// Found by tests/fuzz (row_check): a rule on a column named in invalid
// UTF-8 made vigil_check's JSON throw nlohmann's type_error 316.
TEST(Hostile, ViolationsJsonReplacesInvalidUtf8) {
  EXPECT_EQ(ViolationsJson({{"emai\xad", "not_null", "is null"}}),
            "[{\"column\":\"emai\xef\xbf\xbd\",\"reason\":\"is null\",\"rule\":\"not_null\"}]");
}

}  // namespace
}  // namespace vigil::core
