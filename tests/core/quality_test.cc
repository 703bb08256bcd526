// quality_test.cc — quality options, freshness types and the issue rows
// derived from a report (docs/quality.md).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "quality/quality.h"

namespace vigil::core {
namespace {

TableInfo Events() {
  TableInfo t;
  t.name = "events";
  t.columns = {"id", "at", "iso", "epoch", "flag"};
  return t;
}

std::string OptionsError(std::string_view options, TableInfo t, Dialect d) {
  try {
    ParseQualityOptions(options, t, d);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidParameter) << e.what();
    return e.what();
  }
  return "(accepted)";
}

TEST(Quality, FreshnessTypesAreTheSameOnBothEngines) {
  TableInfo pg = Events();
  pg.types = {"integer", "timestamp with time zone", "text", "bigint", "boolean"};
  TableInfo lite = Events();
  lite.types = {"INTEGER", "TIMESTAMP", "TEXT", "BIGINT", "BOOLEAN"};
  for (auto [t, d] : {std::pair{pg, Dialect::kPostgres}, std::pair{lite, Dialect::kSqlite}}) {
    EXPECT_EQ(OptionsError(R"({"freshness_column": "at"})", t, d), "(accepted)");
    EXPECT_EQ(OptionsError(R"({"freshness_column": "iso"})", t, d), "(accepted)");
    EXPECT_EQ(OptionsError(R"({"freshness_column": "epoch", "freshness_unit": "epoch_milliseconds"})", t, d),
              "(accepted)");
    EXPECT_EQ(OptionsError(R"({"freshness_column": "epoch"})", t, d),
              "freshness column \"epoch\" holds numbers: give \"freshness_unit\": \"epoch_seconds\" or \"epoch_milliseconds\"");
    EXPECT_EQ(OptionsError(R"({"freshness_column": "flag"})", t, d), "freshness column \"flag\" cannot hold a time");
    EXPECT_EQ(OptionsError(R"({"freshness_column": "iso", "freshness_unit": "epoch_seconds"})", t, d),
              "quality option \"freshness_unit\" is for a numeric freshness column; \"iso\" holds times");
  }
  // A PostgreSQL timestamp holds times; an SQLite TIMESTAMP column may hold
  // epoch numbers, which the unit says (the scan checks the values).
  EXPECT_EQ(OptionsError(R"({"freshness_column": "at", "freshness_unit": "epoch_seconds"})", pg, Dialect::kPostgres),
            "quality option \"freshness_unit\" is for a numeric freshness column; \"at\" holds times");
  EXPECT_EQ(OptionsError(R"({"freshness_column": "at", "freshness_unit": "epoch_seconds"})", lite, Dialect::kSqlite),
            "(accepted)");
  TableInfo untyped = Events();
  untyped.types = {"", "", "", "", ""};
  EXPECT_EQ(OptionsError(R"({"freshness_column": "at"})", untyped, Dialect::kSqlite),
            "freshness column \"at\" cannot hold a time");
  TableInfo dates = Events();
  dates.types = {"INTEGER", "DATETIME", "VARCHAR(30)", "REAL", "BLOB"};
  EXPECT_EQ(OptionsError(R"({"freshness_column": "at"})", dates, Dialect::kSqlite), "(accepted)");
  EXPECT_EQ(OptionsError(R"({"freshness_column": "iso"})", dates, Dialect::kSqlite), "(accepted)");
}

TEST(Quality, CheckOptionsRejectReportKeys) {
  TableInfo t = Events();
  t.types = {"integer", "date", "text", "bigint", "boolean"};
  EXPECT_EQ(OptionsError(R"({"tables": {}})", t, Dialect::kPostgres), "unknown quality option \"tables\"");
  EXPECT_EQ(OptionsError(R"({"exclude": []})", t, Dialect::kPostgres), "unknown quality option \"exclude\"");
}

TEST(Quality, ReportOptions) {
  std::vector<std::string> tables = {"users", "trades"};
  auto error = [&](std::string_view options) -> std::pair<ErrorCode, std::string> {
    try {
      ValidateReportOptions(options, tables);
    } catch (const Error& e) {
      return {e.code(), e.what()};
    }
    return {ErrorCode::kInternal, "(accepted)"};
  };
  EXPECT_EQ(error(R"({"exclude": ["users"], "tables": {"trades": {"unique": ["id"]}}, "sample_percent": 50})").second,
            "(accepted)");
  EXPECT_EQ(error("null").second, "(accepted)");
  EXPECT_EQ(error(R"({"tabels": {}})"), std::pair(ErrorCode::kInvalidParameter, std::string("unknown quality option \"tabels\"")));
  EXPECT_EQ(error(R"({"exclude": "users"})").second, "quality option \"exclude\" must be an array of table names");
  EXPECT_EQ(error(R"({"tables": {"users": 5}})").second,
            "quality option \"tables\": the options of \"users\" must be a JSON object");
  EXPECT_EQ(error(R"({"tables": {"userz": {}}})"), std::pair(ErrorCode::kUndefinedTable, std::string("table \"userz\" does not exist")));
  EXPECT_EQ(error(R"({"exclude": ["userz"]})").first, ErrorCode::kUndefinedTable);
}

TEST(Quality, IssuesFromAReport) {
  std::vector<MissingTable> missing = {{"wallets", 2}};
  nlohmann::ordered_json t = {
      {"table", "users"},
      {"rows", 4},
      {"passed", false},
      {"completeness", {{"columns", {{{"column", "email"}, {"nulls", 1}, {"percent", 75.0}, {"passed", false}, {"samples", {2}}},
                                     {{"column", "id"}, {"nulls", 0}, {"percent", 100.0}, {"passed", true}}}}}},
      {"validity", {{"rules", {{{"column", nullptr}, {"rule", "expression"}, {"violations", 1}, {"samples", {3}}},
                               {{"column", "email"}, {"rule", "email"}, {"violations", 0}}}}}},
      {"uniqueness", {{{"columns", {"a", "b"}}, {"source", "rule"}, {"duplicates", 2}, {"samples", {1, 2}}}}},
      {"integrity", {{"relationships", nlohmann::ordered_json::array()}}},
      {"freshness", {{"column", "ts"}, {"age_hours", nullptr}, {"max_age_hours", 1.5}, {"passed", false}}}};
  double overall = 0;
  std::string report = OverallJson({t.dump()}, {50.0}, {}, missing, "now", &overall);
  EXPECT_FALSE(nlohmann::json::parse(report)["passed"].get<bool>());
  std::vector<QualityIssue> issues = QualityIssues(report);
  ASSERT_EQ(issues.size(), 5u);
  EXPECT_EQ(issues[0].dimension, "completeness");
  EXPECT_EQ(issues[0].column, "email");
  EXPECT_EQ(issues[0].value, 75.0);
  EXPECT_EQ(issues[0].sample_keys, "[2]");
  EXPECT_EQ(issues[0].detail, "1 NULL in 4 rows");
  EXPECT_EQ(issues[1].dimension, "validity");
  EXPECT_EQ(issues[1].column, std::nullopt);
  EXPECT_EQ(issues[1].value, 25.0);
  EXPECT_EQ(issues[2].column, "a, b");
  EXPECT_EQ(issues[2].detail, "2 duplicates (rule)");
  EXPECT_EQ(issues[3].dimension, "freshness");
  EXPECT_EQ(issues[3].value, std::nullopt);
  EXPECT_EQ(issues[3].target, "<= 1.5");
  EXPECT_EQ(issues[4].table, "wallets");
  EXPECT_EQ(issues[4].dimension, "rules");
  EXPECT_EQ(issues[4].target, "exists");
  EXPECT_EQ(issues[4].value, 2.0);
  for (const QualityIssue& i : issues) EXPECT_FALSE(i.passed);
}

TEST(Quality, AFewViolationsAreListedAndPass) {
  nlohmann::ordered_json t = {
      {"table", "big"},
      {"rows", 10000},
      {"completeness", {{"columns", nlohmann::ordered_json::array()}}},
      {"validity", {{"rules", {{{"column", "c"}, {"rule", "positive"}, {"violations", 1}, {"samples", {7}}}}}}},
      {"uniqueness", nlohmann::ordered_json::array()},
      {"integrity", {{"relationships", nlohmann::ordered_json::array()}}},
      {"freshness", nullptr}};
  double overall = 0;
  std::vector<QualityIssue> issues = QualityIssues(OverallJson({t.dump()}, {99.0}, {}, {}, "now", &overall));
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].value, 0.01);
  EXPECT_TRUE(issues[0].passed);
}

}  // namespace
}  // namespace vigil::core
