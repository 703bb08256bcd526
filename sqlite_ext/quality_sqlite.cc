// quality_sqlite.cc — data quality (SPEC §3) and vigil_config for SQLite.
//
// The core writes the queries and does the arithmetic (vigil/quality.h);
// this file finds the table's keys, foreign keys and rules, runs the
// queries, and keeps the history and alerts tables.
#include "module_sqlite.h"

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "boundary.h"
#include "schema_sqlite.h"
#include "sqlite_util.h"
#include "base/config.h"
#include "quality/quality.h"

namespace vigil::sqlite {

std::vector<std::string> ConfigGetAll(sqlite3* db, std::initializer_list<const core::ConfigKey*> keys) {
  std::vector<std::string> out;
  for (const core::ConfigKey* k : keys) out.push_back(k->default_value);
  if (schema::Ensure(db, schema::Access::kRead, "vigil_config")) {
    Stmt s(db, "SELECT value FROM main.vigil_config WHERE key = ?1");
    std::size_t i = 0;
    for (const core::ConfigKey* k : keys) {
      sqlite3_reset(s.get());
      s.Text(1, k->key);
      if (s.Step()) out[i] = s.Column(0).value_or(k->default_value);
      ++i;
    }
  }
  return out;
}

std::string ConfigGet(sqlite3* db, const core::ConfigKey& key) { return ConfigGetAll(db, {&key})[0]; }

void RecordAlert(sqlite3* db, const std::string& at, const char* source, const std::string& severity,
                 const std::string& check, const std::string& message, const std::string& details) {
  Stmt s(db, "INSERT INTO main.vigil_alerts (at, source, severity, \"check\", message, details)"
             " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.Text(1, at);
  s.Text(2, source);
  s.Text(3, severity);
  s.Text(4, check);
  s.Text(5, message);
  s.Text(6, details);
  s.Step();
}

namespace {

namespace core = vigil::core;
using core::Error;
using core::ErrorCode;

bool TableExists(sqlite3* db, const std::string& table) {
  Stmt s(db, "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = ?1");
  s.Text(1, table);
  return s.Step();
}

// ReferencesMissing is true for a references rule whose target table is
// gone (SQLite keeps rules when a table is dropped): the report lists it
// under missing_tables instead of failing on the anti-join.
bool ReferencesMissing(sqlite3* db, const core::StoredRule& r) {
  if (r.rule != "references") return false;
  core::Rule rule = core::ParseRule(r.rule, r.params);
  if (!rule.ref_schema.empty() && rule.ref_schema != "main") return false;
  return !TableExists(db, rule.ref_table);
}

core::QualityTable Describe(sqlite3* db, const std::string& table) {
  TableShape shape = LoadTable(db, table);
  core::QualityTable q;
  q.info = shape.info;
  q.table_sql = core::QuoteIdent(table);
  q.primary_key = shape.primary_key;
  for (core::StoredRule& r : LoadRules(db, shape.info.name))
    if (!ReferencesMissing(db, r)) q.rules.push_back(std::move(r));
  if (!q.primary_key.empty()) q.declared_unique.push_back(q.primary_key);
  {
    Stmt s(db, "SELECT name, origin FROM pragma_index_list(?1) WHERE \"unique\" = 1 AND origin <> 'pk' ORDER BY seq");
    s.Text(1, table);
    std::vector<std::string> names;
    while (s.Step()) names.push_back(s.Column(0).value_or(""));
    for (const std::string& index : names) {
      Stmt c(db, "SELECT name FROM pragma_index_info(?1) ORDER BY seqno");
      c.Text(1, index);
      std::vector<std::string> cols;
      bool expression = false;
      while (c.Step()) {
        auto name = c.Column(0);
        if (!name) expression = true; else cols.push_back(*name);
      }
      if (!expression && !cols.empty()) q.declared_unique.push_back(cols);
    }
  }
  {
    Stmt s(db, "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq");
    s.Text(1, table);
    sqlite3_int64 current = -1;
    while (s.Step()) {
      if (s.Int(0) != current) {
        current = s.Int(0);
        core::Relationship rel;
        rel.parent_name = s.Column(1).value_or("");
        rel.parent_sql = core::QuoteIdent(rel.parent_name);
        rel.source = "foreign key";
        q.foreign_keys.push_back(rel);
      }
      core::Relationship& rel = q.foreign_keys.back();
      rel.columns.push_back(s.Column(2).value_or(""));
      rel.parent_columns.push_back(s.Column(3).value_or(""));  // "" = the parent's primary key
    }
    for (core::Relationship& rel : q.foreign_keys) {
      bool implicit = false;
      for (const std::string& c : rel.parent_columns) implicit |= c.empty();
      if (implicit) rel.parent_columns = LoadTable(db, rel.parent_name).primary_key;
    }
  }
  return q;
}

// CheckTable runs one table's quality check and records it; returns the
// report JSON and sets *score.
std::string CheckTable(sqlite3* db, const std::string& table, const std::string& options_json,
                       const std::string& checked_at, double* score) {
  SchemaRegistry registry(db);
  core::JsonSchemaRegistryScope scope(&registry);  // json_schema rules compile with it
  core::QualityTable described = Describe(db, table);
  for (const core::StoredRule& r : described.rules)
    if (r.rule == "expression") RequireSchemaSafe(db, core::ParseRule(r.rule, r.params).expression);
  core::QualityOptions options = core::ParseQualityOptions(options_json, described.info, core::Dialect::kSqlite);
  core::QualityCheck check(std::move(described), std::move(options), core::Dialect::kSqlite);
  for (std::size_t i = 0; i < check.Stage1().size(); ++i) {
    Stmt s(db, check.Stage1()[i]);
    std::vector<std::optional<std::string>> row;
    if (s.Step())
      for (int c = 0; c < sqlite3_column_count(s.get()); ++c) row.push_back(s.Column(c));
    check.SetStage1(i, row);
  }
  std::vector<std::string> samples = check.SampleQueries();
  for (std::size_t i = 0; i < samples.size(); ++i) {
    Stmt s(db, samples[i]);
    std::vector<std::string> keys;
    while (s.Step()) keys.push_back(s.Column(0).value_or("null"));
    check.SetSamples(i, keys);
  }
  *score = check.Score();
  return check.ReportJson(checked_at);
}

// Record appends the history row and, when the score crosses the alert
// threshold (either way), an alert.
void Record(sqlite3* db, const std::optional<std::string>& table, double score, bool passed, const std::string& report,
            const std::string& at) {
  schema::Ensure(db, schema::Access::kWrite);
  double threshold = std::stod(ConfigGet(db, core::FindConfig("quality_alert_score")));
  // The state is "below the threshold in force at that check"; an alert is
  // raised when it changes (so raising the threshold can raise an alert).
  bool was_below = false;
  {
    Stmt s(db, "SELECT below_threshold FROM main.vigil_quality_history WHERE table_name IS ?1 ORDER BY id DESC LIMIT 1");
    if (table) s.Text(1, *table); else s.Null(1);
    if (s.Step()) was_below = s.Int(0) != 0;
  }
  bool below = score < threshold;
  {
    Stmt s(db, "INSERT INTO main.vigil_quality_history (at, table_name, score, passed, below_threshold, report)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    s.Text(1, at);
    if (table) s.Text(2, *table); else s.Null(2);
    sqlite3_bind_double(s.get(), 3, score);
    sqlite3_bind_int(s.get(), 4, passed ? 1 : 0);
    sqlite3_bind_int(s.get(), 5, below ? 1 : 0);
    s.Text(6, report);
    s.Step();
  }
  auto alert = core::DecideQualityAlert(table, score, static_cast<int>(threshold), was_below);
  if (alert) RecordAlert(db, at, "quality", alert->severity, "quality_score", alert->message, alert->details);
}

// vigil_quality_check(table [, options]) -> JSON report
void QualityCheck(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string table = Arg(argv[0], "table");
  std::string options = argc > 1 && sqlite3_value_type(argv[1]) != SQLITE_NULL ? std::string(Text(argv[1])) : "{}";
  std::string at = NowUtc(db);
  double score = 0;
  Savepoint savepoint(db, "vigil_quality");
  std::string report = CheckTable(db, table, options, at, &score);
  bool passed = nlohmann::json::parse(report).value("passed", false);
  Record(db, table, score, passed, report, at);
  savepoint.Release();
  ResultText(ctx, report);
}

// MissingTables lists the tables that stored rules name but that are gone:
// a rule's own table, or a references rule's target.
std::vector<core::MissingTable> MissingTables(sqlite3* db) {
  std::vector<core::MissingTable> out;
  if (!schema::Ensure(db, schema::Access::kRead, "vigil_rule_store")) return out;
  std::vector<std::pair<std::string, core::StoredRule>> rules;
  {
    Stmt s(db, "SELECT table_name, column_name, rule, params, id FROM main.vigil_rule_store ORDER BY id");
    while (s.Step())
      rules.push_back({s.Column(0).value_or(""), {s.Column(1), s.Column(2).value_or(""), s.Column(3), s.Int(4)}});
  }
  std::map<std::string, long long> gone;
  for (const auto& [table, rule] : rules) {
    if (!TableExists(db, table)) {
      ++gone[table];
    } else if (ReferencesMissing(db, rule)) {
      ++gone[core::ParseRule(rule.rule, rule.params).ref_table];
    }
  }
  for (const auto& [table, n] : gone) out.push_back({table, n});
  return out;
}

// Report computes vigil_quality_report over every user table; with
// `record`, each table's check and the overall result go to the history
// (and alerts), as vigil_quality_report does; vigil_quality_issues reads
// the same report without recording it.
std::string Report(sqlite3* db, const std::string& options_text, bool record) {
  std::vector<std::string> tables;
  {
    Stmt s(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
               "AND name NOT LIKE 'vigil\\_%' ESCAPE '\\' ORDER BY name");
    while (s.Step()) tables.push_back(s.Column(0).value_or(""));
  }
  // Every option, per-table ones against their table, before any scan.
  core::ValidateReportOptions(options_text, tables);
  for (const std::string& t : tables)
    if (std::optional<std::string> per = core::ReportTableOptions(options_text, t))
      core::ParseQualityOptions(*per, LoadTable(db, t).info, core::Dialect::kSqlite);
  std::string at = NowUtc(db);
  std::vector<std::string> reports;
  std::vector<double> scores;
  for (const std::string& t : tables) {
    std::optional<std::string> per = core::ReportTableOptions(options_text, t);
    if (!per) continue;
    double score = 0;
    std::string report = CheckTable(db, t, *per, at, &score);
    if (record) Record(db, t, score, nlohmann::json::parse(report).value("passed", false), report, at);
    reports.push_back(report);
    scores.push_back(score);
  }
  double overall = 0;
  std::string result = core::OverallJson(reports, scores, {}, MissingTables(db), at, &overall);
  if (record) Record(db, std::nullopt, overall, nlohmann::json::parse(result).value("passed", false), result, at);
  return result;
}

// vigil_quality_report([options]) -> JSON report over every user table
void QualityReport(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  std::string options_text = argc > 0 && sqlite3_value_type(argv[0]) != SQLITE_NULL ? std::string(Text(argv[0])) : "{}";
  Savepoint savepoint(db, "vigil_quality");
  std::string result = Report(db, options_text, true);
  savepoint.Release();
  ResultText(ctx, result);
}

// vigil_quality_issues([options]): the report's issues as rows; records
// nothing (docs/quality.md).
std::vector<Row> IssueRows(sqlite3* db, const std::vector<std::optional<std::string>>& args) {
  std::string options_text = !args.empty() && args[0] ? *args[0] : "{}";
  std::vector<Row> rows;
  for (const core::QualityIssue& i : core::QualityIssues(Report(db, options_text, false))) {
    rows.push_back({Value::Text(i.table), Value::Text(i.dimension), i.column ? Value::Text(*i.column) : Value::Null(),
                    i.value ? Value::Real(*i.value) : Value::Null(), Value::Text(i.target),
                    Value::Integer(i.passed ? 1 : 0), i.sample_keys ? Value::Text(*i.sample_keys) : Value::Null(),
                    Value::Text(i.detail)});
  }
  return rows;
}

const TableSpec kIssues = {"vigil_quality_issues",
                           "table_name TEXT, dimension TEXT, column_name TEXT, value REAL, target TEXT,"
                           " passed INTEGER, sample_keys TEXT, detail TEXT",
                           nullptr, "options", IssueRows};

// vigil_config(key [, value]) -> the setting's value (after setting it)
void Config(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  sqlite3* db = sqlite3_context_db_handle(ctx);
  const core::ConfigKey& key = core::FindConfig(Arg(argv[0], "key"));
  if (argc == 1 || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    ResultText(ctx, ConfigGet(db, key));
    return;
  }
  std::string value = core::NormalizeConfigValue(key, Text(argv[1]));
  schema::Ensure(db, schema::Access::kWrite);
  Stmt s(db, "INSERT INTO main.vigil_config (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  s.Text(1, key.key);
  s.Text(2, value);
  s.Step();
  RefreshMonitor(db);  // slow_query_ms and the sizes take effect now
  ResultText(ctx, value);
}

}  // namespace

std::span<const Impl> QualityImpls() {
  static const Impl kImpls[] = {
      {"vigil_quality_check", Bridge<QualityCheck>, nullptr, false},
      {"vigil_quality_report", Bridge<QualityReport>, nullptr, false},
      {"vigil_quality_issues", nullptr, &kIssues, false},
      {"vigil_config", Bridge<Config>, nullptr, false},
  };
  return kImpls;
}

}  // namespace vigil::sqlite
