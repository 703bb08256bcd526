// health_test.cc — the health checks' core (health/health.h): the table's
// consistency with the settings, grading in both directions with both
// levels, the options, which checks run where, the alerts a change of
// state raises, and the Prometheus text.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/config.h"
#include "base/error.h"
#include "health/health.h"

namespace vigil::core::health {
namespace {

// Settings at their defaults, with overrides.
struct Settings {
  std::map<std::string, long> overrides;
  long operator()(const char* key) const {
    auto it = overrides.find(key);
    if (it != overrides.end()) return it->second;
    return std::stol(FindConfig(key).default_value);
  }
};

Measurement Measured(const char* check, double value, std::string subject = {}) {
  Measurement m;
  m.check = check;
  m.value = value;
  m.subject = std::move(subject);
  return m;
}

TEST(HealthTable, EveryThresholdIsASettingAndEveryCheckHasARemedy) {
  std::set<std::string> names;
  for (const CheckDef& c : Checks()) {
    EXPECT_TRUE(names.insert(c.name).second) << "duplicate check " << c.name;
    EXPECT_NE(c.engines, 0u) << c.name;
    EXPECT_GT(std::string(c.remedy).size(), 10u) << c.name;
    for (const char* key : {c.warning_key, c.critical_key}) {
      if (key != nullptr) {
        EXPECT_NO_THROW(FindConfig(key)) << c.name << " names " << key;
      }
    }
  }
  // Every health setting belongs to a check.
  for (const ConfigKey& k : HealthConfigKeys()) {
    bool used = false;
    for (const CheckDef& c : Checks())
      used = used || (c.warning_key && std::string(c.warning_key) == k.key) ||
             (c.critical_key && std::string(c.critical_key) == k.key);
    EXPECT_TRUE(used) << k.key << " is no check's threshold";
  }
  // SPEC section 9's defaults.
  EXPECT_STREQ(FindConfig("connections_warning_percent").default_value, "70");
  EXPECT_STREQ(FindConfig("connections_critical_percent").default_value, "90");
  EXPECT_STREQ(FindConfig("disk_free_critical_percent").default_value, "10");
  EXPECT_STREQ(FindConfig("quality_alert_score").default_value, "80");
}

TEST(HealthGrade, HigherIsWorse) {
  Settings s;
  Result ok = Grade(Measured("connections", 50), s);
  EXPECT_EQ(ok.status, Status::kOk);
  EXPECT_EQ(*ok.threshold, 70);
  EXPECT_NE(ok.message.find("50 %"), std::string::npos) << ok.message;
  // At the threshold is not over it (the seed: "pool > 90 %").
  EXPECT_EQ(Grade(Measured("connections", 70), s).status, Status::kOk);
  Result w = Grade(Measured("connections", 70.5), s);
  EXPECT_EQ(w.status, Status::kWarning);
  EXPECT_EQ(*w.threshold, 70);
  EXPECT_NE(w.message.find("PgBouncer"), std::string::npos) << "the remedy is in the message: " << w.message;
  Result c = Grade(Measured("connections", 95, "db1"), s);
  EXPECT_EQ(c.status, Status::kCritical);
  EXPECT_EQ(*c.threshold, 90);
  EXPECT_NE(c.message.find("(db1)"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("critical threshold 90 %"), std::string::npos) << c.message;
}

TEST(HealthGrade, LowerIsWorse) {
  Settings s;
  EXPECT_EQ(Grade(Measured("disk_space", 50), s).status, Status::kOk);
  EXPECT_EQ(Grade(Measured("disk_space", 15), s).status, Status::kWarning);
  Result c = Grade(Measured("disk_space", 9.99), s);
  EXPECT_EQ(c.status, Status::kCritical);
  EXPECT_NE(c.message.find("under the critical threshold 10 %"), std::string::npos) << c.message;
  // A threshold at 100 puts any disk under it: how tests drive the check.
  s.overrides["disk_free_critical_percent"] = 100;
  EXPECT_EQ(Grade(Measured("disk_space", 99.9), s).status, Status::kCritical);
}

TEST(HealthGrade, ZeroDisablesASizeLimitButNotACount) {
  Settings s;
  Result r = Grade(Measured("database_size", 1e9), s);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_FALSE(r.threshold.has_value());
  EXPECT_NE(r.message.find("no limit"), std::string::npos);
  s.overrides["database_size_warning_mb"] = 100;
  EXPECT_EQ(Grade(Measured("database_size", 101), s).status, Status::kWarning);
  // slow_queries_warning 0: any slow execution warns.
  EXPECT_EQ(Grade(Measured("slow_queries", 0), s).status, Status::kOk);
  EXPECT_EQ(Grade(Measured("slow_queries", 1), s).status, Status::kWarning);
  EXPECT_EQ(Grade(Measured("slow_queries", 51), s).status, Status::kCritical);
}

TEST(HealthGrade, FixedLevelsVerdictsSkipsAndNothingToMeasure) {
  Settings s;
  EXPECT_EQ(Grade(Measured("invalid_indexes", 0), s).status, Status::kOk);
  EXPECT_EQ(Grade(Measured("invalid_indexes", 1), s).status, Status::kCritical);
  EXPECT_EQ(Grade(Measured("duplicate_indexes", 2), s).status, Status::kWarning);
  Measurement v;
  v.check = "journal_mode";
  v.verdict = Status::kCritical;
  v.note = "journal mode is off.";
  Result r = Grade(v, s);
  EXPECT_EQ(r.status, Status::kCritical);
  EXPECT_NE(r.message.find("WAL"), std::string::npos) << "remedy appended: " << r.message;
  Measurement k;
  k.check = "replication_lag";
  k.skipped = "no standby";
  r = Grade(k, s);
  EXPECT_EQ(r.status, Status::kSkipped);
  EXPECT_EQ(r.message, "no standby");
  EXPECT_FALSE(r.value.has_value());
  Measurement n;
  n.check = "quality_score";
  n.note = "no quality report has run yet";
  r = Grade(n, s);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_EQ(r.message, "no quality report has run yet");
  // The quality score is graded against quality_alert_score.
  EXPECT_EQ(Grade(Measured("quality_score", 79.5), s).status, Status::kWarning);
  EXPECT_EQ(Grade(Measured("quality_score", 80), s).status, Status::kOk);
  EXPECT_THROW(Grade(Measured("no_such_check", 1), s), Error);
}

TEST(HealthOptions, ParsedStrictly) {
  EXPECT_FALSE(ParseOptions("{}").deep);
  EXPECT_TRUE(ParseOptions("{\"deep\": true}").deep);
  EXPECT_EQ(ParseOptions("{\"checks\": [\"disk_space\", \"lock_waits\"]}").only.size(), 2u);
  EXPECT_TRUE(ParseOptions("null").only.empty());
  for (const char* bad : {"[]", "{\"deep\": 1}", "{\"deeep\": true}", "{\"checks\": \"disk_space\"}",
                          "{\"checks\": [1]}", "{\"checks\": [\"nope\"]}", "{", "\"x\""}) {
    try {
      ParseOptions(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_TRUE(e.code() == ErrorCode::kInvalidParameter || e.code() == ErrorCode::kInvalidText) << bad;
    }
  }
  try {
    ParseOptions("{\"checks\": [\"nope\"]}");
  } catch (const Error& e) {
    EXPECT_NE(e.hint().find("disk_space"), std::string::npos) << "the hint lists the checks";
  }
}

TEST(HealthOptions, WhichChecksRun) {
  std::string why;
  const CheckDef& quick = FindCheck("quick_check");
  const CheckDef& conn = FindCheck("connections");
  const CheckDef& disk = FindCheck("disk_space");
  const CheckDef& sizes = FindCheck("table_sizes");
  EXPECT_FALSE(Wanted(quick, kSqlite, {}, &why)) << "deep on SQLite";
  EXPECT_TRUE(Wanted(quick, kSqlite, ParseOptions("{\"deep\": true}"), &why));
  EXPECT_TRUE(Wanted(quick, kSqlite, ParseOptions("{\"checks\": [\"quick_check\"]}"), &why)) << "named";
  EXPECT_TRUE(why.empty());
  EXPECT_FALSE(Wanted(conn, kSqlite, {}, &why)) << "PostgreSQL's";
  EXPECT_TRUE(Wanted(conn, kSqlite, ParseOptions("{\"checks\": [\"connections\"]}"), &why));
  EXPECT_NE(why.find("PostgreSQL"), std::string::npos) << "named on the other engine: skipped with why";
  EXPECT_TRUE(Wanted(disk, kPostgres, {}, &why));
  EXPECT_FALSE(Wanted(disk, kPostgres, ParseOptions("{\"checks\": [\"connections\"]}"), &why));
  EXPECT_TRUE(Wanted(sizes, kPostgres, {}, &why)) << "cheap on PostgreSQL";
  EXPECT_FALSE(Wanted(sizes, kSqlite, {}, &why)) << "dbstat reads the file";
}

TEST(HealthAttempt, AnErrorSkipsTheCheckButACancelEndsTheCall) {
  const CheckDef& c = FindCheck("lock_waits");
  Measurement m = Attempt(c, [] () -> Measurement { throw Error(ErrorCode::kPrivilege, "needs pg_monitor"); }, nullptr);
  EXPECT_FALSE(m.skipped.empty());
  EXPECT_NE(m.skipped.find("needs pg_monitor"), std::string::npos);
  EXPECT_EQ(m.check, "lock_waits");
  EXPECT_THROW(Attempt(c, [] () -> Measurement { throw Error(ErrorCode::kCanceled, "canceling"); }, nullptr), Error);
  auto fatal = [](const Error& e) { return e.engine_code() == 42; };
  EXPECT_THROW(Attempt(c, [] () -> Measurement { throw Error(ErrorCode::kEngine, "x").WithEngineCode(42); }, fatal),
               Error);
}

TEST(HealthGrade, ASettingOutOfRangeSkipsThatCheckOnly) {
  auto bad = [](const char* key) -> long {
    if (std::string(key) == "freelist_warning_percent")
      return std::stol(NormalizeConfigValue(FindConfig(key), "9999"));  // throws, as a hand-edited file makes it
    return std::stol(FindConfig(key).default_value);
  };
  Result r = Grade(Measured("freelist", 30), bad);
  EXPECT_EQ(r.status, Status::kSkipped);
  EXPECT_NE(r.message.find("freelist_warning_percent"), std::string::npos) << r.message;
  EXPECT_EQ(Grade(Measured("disk_space", 30), bad).status, Status::kOk);
}

TEST(HealthRecord, AFailureIsSaidACancelEndsTheCall) {
  std::string why;
  EXPECT_EQ(TryRecord([] { return 3; }, nullptr, &why), std::optional<int>(3));
  EXPECT_TRUE(why.empty());
  EXPECT_FALSE(TryRecord([]() -> int { throw Error(ErrorCode::kLockTimeout, "database is locked"); }, nullptr, &why));
  EXPECT_EQ(why, "database is locked");
  EXPECT_THROW(TryRecord([]() -> int { throw Error(ErrorCode::kCanceled, "canceling"); }, nullptr, &why), Error);
  nlohmann::json doc = nlohmann::json::parse(HealthJson({}, "t", "sqlite", std::nullopt, why));
  EXPECT_TRUE(doc["alerts"].is_null());
  EXPECT_EQ(doc["not_recorded"], "database is locked");
}

TEST(HealthOwnState, ReadTheSameOnBothEngines) {
  using nlohmann::json;
  json v = json::parse(R"({"valid": false, "drifted": [{"version": "2"}], "missing": [],
      "history": {"entries": 3, "broken_at": 3}, "schema": {"changed": true, "diff": ["-a", "+b"]}})");
  Measurement m = MigrationsFrom(v, {"4"});
  EXPECT_EQ(*m.value, 3) << "a drifted one, a failed one, a broken history";
  EXPECT_EQ(m.details["failed"], json::array({"4"}));
  EXPECT_EQ(*SchemaDriftFrom(v).value, 2) << "two changed lines";
  EXPECT_EQ(*SchemaDriftFrom(Unmigrated()).value, 0);
  EXPECT_EQ(*MigrationsFrom(Unmigrated(), {}).value, 0);
  // Whatever shape arrives, a count comes out, never an exception.
  for (const char* odd : {"null", "[]", "{\"drifted\": 5, \"history\": 1, \"schema\": []}"}) {
    json j = json::parse(odd);
    EXPECT_NO_THROW(MigrationsFrom(j, {})) << odd;
    EXPECT_NO_THROW(SchemaDriftFrom(j)) << odd;
    EXPECT_NO_THROW(AuditChainFrom(j)) << odd;
  }
  EXPECT_EQ(*AuditChainFrom(json::parse(R"({"valid": true, "checked": 9})")).value, 0);
  Measurement broken = AuditChainFrom(json::parse(R"({"valid": false, "checked": 9, "first_invalid": {"seq": 2}})"));
  EXPECT_EQ(*broken.value, 1);
  EXPECT_EQ(broken.details["first_invalid"]["seq"], 2);
  broken.check = "audit_chain";
  EXPECT_EQ(Grade(broken, Settings{}).status, Status::kCritical);
}

TEST(HealthDocument, StatusIssuesAndAlertsCount) {
  Settings s;
  std::vector<Result> rs = {Grade(Measured("connections", 10), s), Grade(Measured("disk_space", 15), s)};
  nlohmann::json doc = nlohmann::json::parse(HealthJson(rs, "2026-12-05T00:00:00.000Z", "sqlite", 1));
  EXPECT_EQ(doc["status"], "degraded");
  EXPECT_EQ(doc["checks"].size(), 2u);
  EXPECT_EQ(doc["issues"].size(), 1u);
  EXPECT_EQ(doc["issues"][0]["check"], "disk_space");
  EXPECT_EQ(doc["alerts"], 1);
  rs.push_back(Grade(Measured("invalid_indexes", 1), s));
  EXPECT_STREQ(Overall(rs), "unhealthy");
  doc = nlohmann::json::parse(HealthJson(rs, "t", "postgresql", std::nullopt));
  EXPECT_TRUE(doc["alerts"].is_null());
  Measurement k;
  k.check = "ssl";
  k.skipped = "needs pg_monitor";
  EXPECT_STREQ(Overall({Grade(k, s)}), "healthy") << "a skipped check is no problem";
}

TEST(HealthAlerts, OnEveryChangeOfStateOnly) {
  Settings s;
  Result warn = Grade(Measured("connections", 75), s);
  auto t = DecideTransition(warn, std::nullopt);
  ASSERT_TRUE(t) << "never recorded counts as ok";
  EXPECT_EQ(t->from, "ok");
  EXPECT_EQ(t->to, "warning");
  EXPECT_EQ(t->severity, "warning");
  EXPECT_FALSE(DecideTransition(warn, std::string("warning"))) << "no change, no alert";
  Result crit = Grade(Measured("connections", 95), s);
  EXPECT_EQ(DecideTransition(crit, std::string("warning"))->severity, "critical");
  Result ok = Grade(Measured("connections", 5), s);
  auto rec = DecideTransition(ok, std::string("critical"));
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->severity, "info");
  EXPECT_NE(rec->message.find("recovered"), std::string::npos);
  nlohmann::json d = nlohmann::json::parse(rec->details);
  EXPECT_EQ(d["from"], "critical");
  EXPECT_EQ(d["to"], "ok");
  Measurement k;
  k.check = "connections";
  k.skipped = "needs pg_monitor";
  EXPECT_FALSE(DecideTransition(Grade(k, s), std::string("critical"))) << "skipped changes nothing";
  EXPECT_FALSE(DecideTransition(Grade(Measured("quality_score", 10), s), std::nullopt))
      << "the quality report raises its own alert";
}

TEST(HealthMetrics, PrometheusText) {
  Settings s;
  Measurement k;
  k.check = "ssl";
  k.skipped = "needs pg_monitor";
  std::vector<Result> rs = {Grade(Measured("connections", 12.5), s), Grade(k, s)};
  nlohmann::json pool = {{"by_state", {{"active", 2}, {"idle in \"x\"", 1}}}, {"max_connections", 97},
                         {"utilization_percent", 3.09}, {"waiting", 0}};
  std::string text = MetricsText(rs, pool);
  EXPECT_NE(text.find("# TYPE vigil_health_status gauge\nvigil_health_status 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_check_status{check=\"connections\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("vigil_check_status{check=\"ssl\"} -1\n"), std::string::npos);
  EXPECT_NE(text.find("vigil_check_value{check=\"connections\",unit=\"percent\"} 12.5\n"), std::string::npos);
  EXPECT_EQ(text.find("vigil_check_value{check=\"ssl\""), std::string::npos) << "no value, no sample";
  EXPECT_NE(text.find("vigil_connections{state=\"idle in \\\"x\\\"\"} 1\n"), std::string::npos) << "escaped";
  EXPECT_NE(text.find("vigil_connections_max 97\n"), std::string::npos);
  EXPECT_NE(text.find("vigil_connections_utilization_ratio 0.0309\n"), std::string::npos);
  // Every sample line belongs to a family declared before it.
  std::set<std::string> declared;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    ASSERT_NE(end, std::string::npos) << "every line ends with a newline";
    std::string line = text.substr(pos, end - pos);
    if (line.rfind("# TYPE ", 0) == 0) declared.insert(line.substr(7, line.find(' ', 7) - 7));
    else if (line[0] != '#') {
      std::string name = line.substr(0, line.find_first_of("{ "));
      EXPECT_TRUE(declared.count(name)) << line;
    }
    pos = end + 1;
  }
  EXPECT_EQ(LabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

}  // namespace
}  // namespace vigil::core::health
