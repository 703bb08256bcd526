// health.h — health checks, alerts and metrics, engine-neutral (SPEC §9,
// docs/health.md).
//
// The adapters measure (a catalog query, a pragma, shared memory); the core
// owns everything else, so both engines say the same thing the same way:
// the table of checks with their thresholds' settings and remedies, the
// grading of a measurement against its thresholds, the message a person
// acts on, the vigil_health() document, the alert a change of state
// raises, and the Prometheus text of vigil_metrics().
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace vigil::core::health {

enum class Status { kOk, kWarning, kCritical, kSkipped };
const char* StatusName(Status s) noexcept;

// Which engines run a check by default.
enum Engine : unsigned { kPostgres = 1u << 0, kSqlite = 1u << 1, kBoth = kPostgres | kSqlite };

struct CheckDef {
  const char* name;          // "connections"
  unsigned engines;          // Engine bits
  unsigned deep;             // Engine bits where it runs only with {"deep": true}: there
                             // its cost grows with the data (SQLite's quick_check)
  const char* label;         // "connection utilisation": the message's subject
  const char* unit;          // "percent", "ms", "s", "h", "MB", "count", or "" (a verdict)
  const char* warning_key;   // the setting (vigil.<key>) of each level, or nullptr:
  const char* critical_key;  //   then fixed_* applies (NaN: the level does not exist)
  double fixed_warning;
  double fixed_critical;
  bool higher_is_worse;      // over the threshold is bad (else under it)
  bool zero_disables;        // a threshold set to 0 turns that level off (sizes)
  bool alerts;               // a change of its state raises an alert
  const char* remedy;        // what to do, appended to a warning or critical message
};

// Checks is the table, in report order.
std::span<const CheckDef> Checks() noexcept;
// FindCheck returns the check, or throws Error(kInvalidParameter) naming
// the known ones.
const CheckDef& FindCheck(std::string_view name);

// What an adapter measured for one check.
struct Measurement {
  std::string check;
  std::optional<double> value;   // in the check's unit; nullopt when it has none
  std::string subject;           // where the value is worst: "public.trades", "pid 4242"
  std::string skipped;           // not empty: the check could not run, and why
  std::optional<Status> verdict; // set when the adapter grades it itself (journal mode)
  std::string note;              // the adapter's own message (with a verdict), or a remark
  nlohmann::json details;        // the facts behind it (offending objects), null for none
};

// The measurements adapters build: a value (with where it is worst and the
// facts behind it), nothing to measure (a note says why: ok), a check that
// cannot run (skipped, why), and the adapter's own verdict.
Measurement Measured(double value, std::string subject = {}, nlohmann::json details = nullptr);
Measurement NothingMeasured(std::string note, nlohmann::json details = nullptr);
Measurement Skipped(std::string why);
Measurement Verdict(Status status, std::string note, nlohmann::json details = nullptr);

// What vigil's own functions answer, read the same on both engines:
// vigil_migration_validate() with the versions vigil_migration_status()
// says failed or were interrupted (check migrations), its schema part
// (schema_drift), and vigil_audit_verify() (audit_chain).
Measurement MigrationsFrom(const nlohmann::json& validation, const std::vector<std::string>& failed);
Measurement SchemaDriftFrom(const nlohmann::json& validation);
Measurement AuditChainFrom(const nlohmann::json& verification);

// One graded check: a row of vigil_health_checks().
struct Result {
  std::string check;
  Status status = Status::kSkipped;
  std::optional<double> value;
  std::optional<double> threshold;  // the level crossed; the first level when ok
  std::string unit;
  std::string message;
  nlohmann::json details;
};

// Setting reads vigil.<key> as the engine has it (GUC, vigil_config).
using Setting = std::function<long(const char* key)>;

// Grade turns a measurement into a result: its status against the levels
// the settings give, and a message that says what was seen, the threshold
// and the remedy. A setting that cannot be read (out of range) makes the
// result skipped, with why.
Result Grade(const Measurement& m, const Setting& setting);

// Options of vigil_health(options) and vigil_health_checks(options):
//   {"deep": true}        also the checks whose cost grows with the data
//   {"checks": ["a", ...]} only these (a check of the other engine is
//                          reported skipped, with why)
//   {"record": true}       vigil_health() also appends the result to
//                          vigil_health_history
// Anything else is Error(kInvalidParameter).
struct Options {
  bool deep = false;
  bool record = false;  // {"record": true}: vigil_health() also appends a vigil_health_history row
  std::vector<std::string> only;
};
Options ParseOptions(std::string_view json_text);

// Wanted says whether `check` runs for `engine` under `options`, and
// `*skipped` why not when it is listed but cannot (the other engine's).
bool Wanted(const CheckDef& check, unsigned engine, const Options& options, std::string* skipped);

// Attempt runs one measurement: an Error becomes the check's `skipped`
// reason (no privilege, a feature absent), so one check never fails the
// call; an error `fatal` says must stop the call (a cancel) is rethrown.
Measurement Attempt(const CheckDef& check, const std::function<Measurement()>& measure,
                    const std::function<bool(const Error&)>& fatal);

// RunChecks is one call's checks: every check the options select for
// `engine`, in the table's order, each measured through Attempt (a check
// of the other engine named in the options is skipped with why) and graded
// with `setting`. The cancellation check is polled between checks.
std::vector<Result> RunChecks(unsigned engine, const Options& options,
                              const std::function<Measurement(const CheckDef&)>& measure, const Setting& setting,
                              const std::function<bool(const Error&)>& fatal);

// TryRecord runs an adapter's recording of states and alerts: a failure
// (the write lock not had, a full disk, a read-only file) leaves the checks
// the answer and says why in *not_recorded; a cancel ends the call. The
// adapter's recording is all or nothing.
std::optional<int> TryRecord(const std::function<int()>& record, const std::function<bool(const Error&)>& fatal,
                             std::string* not_recorded);

// Overall: "healthy" (every check ok or skipped), "degraded" (a warning),
// "unhealthy" (a critical).
const char* Overall(const std::vector<Result>& results) noexcept;

// HealthJson is vigil_health()'s document: status, checked_at, engine,
// checks [{check, status, value, threshold, unit, message, details}],
// issues [{check, status, message}] (the checks not ok or skipped), and
// alerts (those this call raised, or null when it recorded nothing; then
// not_recorded says why when recording failed).
std::string HealthJson(const std::vector<Result>& results, const std::string& checked_at, const char* engine,
                       const std::optional<int>& alerts_raised, const std::string& not_recorded = {});

// Unmigrated is what vigil_migration_validate() would answer for a
// database where nothing was ever registered or recorded (the checks
// migrations and schema_drift skip its catalog snapshot then).
nlohmann::json Unmigrated();

// HistoryChecks is a history row's checks: [{check, status, value}] for
// every check that ran (skipped ones with their status and no value).
std::string HistoryChecks(const std::vector<Result>& results);

// Round2 keeps two decimals (what the documents show).
double Round2(double v) noexcept;

// A change of a check's state, and the alert it raises.
struct Transition {
  std::string check;
  std::string from, to;  // statuses
  std::string severity;  // "warning", "critical", or "info" for a recovery
  std::string message;
  std::string details;   // JSON text: check, from, to, value, threshold
};
// DecideTransition compares a result with the check's last recorded state
// (nullopt: never recorded, taken as ok). Skipped results change nothing;
// a check whose table row says alerts=false raises none.
std::optional<Transition> DecideTransition(const Result& r, const std::optional<std::string>& previous);

// MetricsText is vigil_metrics(): every figure in the Prometheus text
// exposition format (0.0.4): overall status, each check's status, value
// and thresholds, and the pool's connections by state, limit and waits.
// `pool` is vigil_pool_status()'s document.
std::string MetricsText(const std::vector<Result>& results, const nlohmann::json& pool);

// LabelValue escapes a Prometheus label value (backslash, quote, newline).
std::string LabelValue(std::string_view v);

}  // namespace vigil::core::health
