// quality.h — data-quality checks and scores (SPEC §3).
//
// The core writes the SQL (one scan for every column metric and value rule,
// one anti-join per relationship, then sample queries only for failing
// metrics), the adapter runs it and hands back the numbers, and the core
// computes the dimensions, the score and the JSON report — so both engines
// report the same shape and the same arithmetic. docs/quality.md defines
// every metric and the score.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/row_check.h"
#include "sql/dialect.h"

namespace vigil::core {

struct Relationship {
  std::vector<std::string> columns;         // in the checked table
  std::string parent_name;                  // plain name, for the report
  std::string parent_sql;                   // quoted (qualified) reference
  std::vector<std::string> parent_columns;
  std::string source;                       // "foreign key" or "rule"
};

struct QualityTable {
  TableInfo info;
  std::string table_sql;                              // quoted (qualified) reference
  std::string function_prefix;                        // "" or "schema." for vigil_* calls
  std::vector<std::string> primary_key;
  std::vector<StoredRule> rules;
  std::vector<Relationship> foreign_keys;             // declared
  std::vector<std::vector<std::string>> declared_unique;  // enforced by the database
};

struct QualityOptions {
  std::optional<double> sample_percent;
  std::vector<std::string> unique;                    // extra columns to check for duplicates
  std::optional<std::string> freshness_column;
  // How the freshness column holds a time (docs/quality.md): a time type
  // or ISO-8601 text, or numbers since the Unix epoch in this unit.
  enum class TimeUnit { kTime, kEpochSeconds, kEpochMilliseconds } freshness_unit = TimeUnit::kTime;
  double max_age_hours = 24;
  std::vector<std::string> completeness_columns;      // default: all
};

// ParseQualityOptions reads {"sample_percent", "unique", "freshness_column",
// "freshness_unit", "max_age_hours", "completeness_columns"}; throws Error
// naming a bad key, a wrong-typed value, or a freshness column that cannot
// hold a time (its type from `table.types`, as `dialect` names types).
QualityOptions ParseQualityOptions(std::string_view json, const TableInfo& table,
                                   Dialect dialect = Dialect::kPostgres);

class QualityCheck {
 public:
  QualityCheck(QualityTable table, QualityOptions options, Dialect dialect);

  // Stage 1: each query returns exactly one row; hand each row back.
  const std::vector<std::string>& Stage1() const { return stage1_; }
  void SetStage1(std::size_t query, const std::vector<std::optional<std::string>>& row);

  // Stage 2 (after stage 1): one query per failing metric, each returning up
  // to 5 rows of one column: the offending row's key as JSON text.
  std::vector<std::string> SampleQueries();
  void SetSamples(std::size_t query, const std::vector<std::string>& keys);

  double Score() const;
  bool Passed() const;
  const std::string& table_name() const { return table_.info.name; }
  // The report as a JSON object (text).
  std::string ReportJson(const std::string& checked_at) const;

 private:
  struct ColumnMetric { std::string column; long long non_null = 0; std::vector<std::string> samples; };
  struct RuleMetric { std::string column, rule, offend_sql; long long violations = 0; std::vector<std::string> samples; };
  struct UniqueMetric { std::vector<std::string> columns; std::string source; bool enforced = false;
                        long long duplicates = 0; std::vector<std::string> samples; };
  struct RelationMetric { Relationship rel; long long checked = 0, orphans = 0; std::vector<std::string> samples; };

  std::string KeyExpr(const std::string& alias) const;
  std::string OrderBy(const std::string& alias) const;
  std::string From(const std::string& alias) const;
  std::string Quote(const std::string& ident) const;
  std::string TextLiteral(std::string_view s) const;
  // Literal is a string literal that means the same under any
  // standard_conforming_strings (PostgreSQL: E'...' when it holds a backslash).
  std::string Literal(std::string_view s) const;
  double CompletenessPercent() const;
  double ViolationPercent() const;
  double IntegrityPercent() const;

  QualityTable table_;
  QualityOptions options_;
  Dialect dialect_;
  std::vector<std::string> stage1_;
  long long rows_ = 0, rows_invalid_ = 0;
  std::vector<ColumnMetric> columns_;
  std::vector<RuleMetric> rules_;
  std::vector<UniqueMetric> uniques_;
  std::vector<RelationMetric> relations_;
  std::optional<double> age_hours_;
  bool has_value_rules_ = false;
  // Which metric each sample query fills: (kind, index).
  std::vector<std::pair<char, std::size_t>> sample_targets_;
};

// QualityAlert is what one check raises, if anything: the alert state is
// "below the threshold in force at that check", and an alert is raised
// when it changes (so raising the threshold can raise one).
struct QualityAlert {
  const char* severity;  // "warning" (fell below) or "info" (recovered)
  std::string message;   // quality score of "t" is 71.43, under 80
  std::string details;   // JSON {"table", "score", "threshold"}
};
std::optional<QualityAlert> DecideQualityAlert(const std::optional<std::string>& table, double score, int threshold,
                                               bool was_below);

// ValidateReportOptions checks the options of vigil_quality_report before
// anything runs: only "exclude" (an array of table names), "tables" (table
// name -> options object) and "sample_percent"; every table named must be
// one of `tables` (42P01 otherwise). Throws Error.
void ValidateReportOptions(std::string_view report_options, const std::vector<std::string>& tables);

// ReportTableOptions returns one table's options within the options of
// vigil_quality_report ({"exclude": [...], "tables": {t: {...}},
// "sample_percent": p}) as JSON text, or nullopt when the table is
// excluded. Throws Error(kInvalidParameter) when they are not an object.
std::optional<std::string> ReportTableOptions(std::string_view report_options, const std::string& table);

// OverallJson combines table reports (JSON texts) into the report of
// vigil_quality_report: overall_score is the mean of the table scores (100
// without tables), and "skipped" lists the tables the caller may not read
// (PostgreSQL: a report covers what its caller may SELECT).
// "missing_tables" lists the tables that rules name but that do not exist
// (a rule's own table, or a references rule's target), with how many rules
// name each: findings, which make the report fail, not errors.
struct MissingTable {
  std::string table;
  long long rules = 0;
};
std::string OverallJson(const std::vector<std::string>& table_reports, const std::vector<double>& scores,
                        const std::vector<std::string>& skipped, const std::vector<MissingTable>& missing,
                        const std::string& checked_at, double* overall_score);

// QualityIssue is one row of vigil_quality_issues: a metric with offending
// rows or short of its target, read from a report of vigil_quality_report
// (docs/quality.md lists which metrics and in what unit `value` is).
struct QualityIssue {
  std::string table;
  std::string dimension;               // completeness, validity, uniqueness, integrity, freshness, rules
  std::optional<std::string> column;   // NULL for table-wide metrics; "a, b" for several columns
  std::optional<double> value;
  std::string target;                  // "> 95", "< 0.1", "= 0", "<= 24", "exists"
  bool passed = false;
  std::optional<std::string> sample_keys;  // JSON array text
  std::string detail;                  // one readable sentence
};
std::vector<QualityIssue> QualityIssues(std::string_view report_json);

}  // namespace vigil::core
