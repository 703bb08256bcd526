// quality.cc — data-quality SQL, arithmetic and report (SPEC §3).
#include "quality/quality.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "base/cancel.h"
#include "base/text.h"
#include "base/error.h"
#include "base/json.h"
#include "base/core_guard.h"

namespace vigil::core {
namespace {

using nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// Weights of the dimensions in a table's score (docs/quality.md).
constexpr double kWeightCompleteness = 0.25;
constexpr double kWeightValidity = 0.30;
constexpr double kWeightUniqueness = 0.15;
constexpr double kWeightIntegrity = 0.20;
constexpr double kWeightFreshness = 0.10;

constexpr double kTargetCompleteness = 95.0;   // percent, exceeded
constexpr double kTargetViolations = 0.1;      // percent, stayed under

double Round2(double v) { return std::round(v * 100.0) / 100.0; }

long long ToInt(const std::optional<std::string>& v) {
  if (!v || v->empty()) return 0;
  return std::strtoll(v->c_str(), nullptr, 10);
}

}  // namespace

namespace {

// What a column's type says about the times it can hold (docs/quality.md,
// "Freshness"): PostgreSQL types as format_type() prints them; SQLite
// declared types, which are only names, read as SQLite reads affinity.
enum class TimeKind { kTime, kText, kNumber, kOther };

TimeKind ClassifyTimeType(const std::string& declared, Dialect dialect) {
  std::string t;
  for (char c : declared) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto has = [&](const char* w) { return t.find(w) != std::string::npos; };
  if (dialect == Dialect::kPostgres) {
    if (t.rfind("timestamp", 0) == 0 || t == "date") return TimeKind::kTime;
    if (t == "text" || t.rfind("character", 0) == 0) return TimeKind::kText;
    if (t == "smallint" || t == "integer" || t == "bigint" || t.rfind("numeric", 0) == 0 || t == "real" ||
        t == "double precision")
      return TimeKind::kNumber;
    return TimeKind::kOther;
  }
  if (has("date") || has("time")) return TimeKind::kTime;
  if (has("int")) return TimeKind::kNumber;
  if (has("char") || has("clob") || has("text")) return TimeKind::kText;
  if (has("real") || has("floa") || has("doub") || has("num") || has("dec")) return TimeKind::kNumber;
  return TimeKind::kOther;
}

const char* const kCheckOptions = "sample_percent, unique, freshness_column, freshness_unit, max_age_hours, completeness_columns";
const char* const kReportOptions = "exclude, tables, sample_percent";

}  // namespace

QualityOptions ParseQualityOptions(std::string_view text, const TableInfo& table, Dialect dialect) {
  QualityOptions o;
  if (text.empty()) return o;
  // The one bounded parser: nesting past 512 levels is refused here, never
  // copied or written by a recursive library routine later.
  json j = json_in::ParseInput(text, "quality options");
  if (j.is_null()) return o;
  if (!j.is_object()) throw Error(ErrorCode::kInvalidParameter, "quality options must be a JSON object");
  auto need_column = [&](const std::string& c) {
    if (std::find(table.columns.begin(), table.columns.end(), c) == table.columns.end())
      throw Error(ErrorCode::kUndefinedColumn, "column \"" + text::Printable(c, 64) + "\" of table \"" +
                                                   text::Printable(table.name, 64) + "\" does not exist");
  };
  auto strings = [&](const char* key) {
    std::vector<std::string> out;
    if (!j.contains(key)) return out;
    if (!j[key].is_array()) throw Error(ErrorCode::kInvalidParameter, std::string("quality option \"") + key + "\" must be an array of column names");
    for (const json& v : j[key]) {
      if (!v.is_string()) throw Error(ErrorCode::kInvalidParameter, std::string("quality option \"") + key + "\" must be an array of column names");
      need_column(v.get<std::string>());
      out.push_back(v.get<std::string>());
    }
    return out;
  };
  bool unit_given = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "sample_percent") {
      if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > 100)
        throw Error(ErrorCode::kInvalidParameter, "quality option \"sample_percent\" must be a number in (0, 100]");
      if (it->get<double>() < 100) o.sample_percent = it->get<double>();
    } else if (k == "unique") {
      o.unique = strings("unique");
    } else if (k == "completeness_columns") {
      o.completeness_columns = strings("completeness_columns");
    } else if (k == "freshness_column") {
      if (!it->is_string()) throw Error(ErrorCode::kInvalidParameter, "quality option \"freshness_column\" must be a column name");
      need_column(it->get<std::string>());
      o.freshness_column = it->get<std::string>();
    } else if (k == "freshness_unit") {
      std::string unit = it->is_string() ? it->get<std::string>() : std::string();
      if (unit == "epoch_seconds") {
        o.freshness_unit = QualityOptions::TimeUnit::kEpochSeconds;
      } else if (unit == "epoch_milliseconds") {
        o.freshness_unit = QualityOptions::TimeUnit::kEpochMilliseconds;
      } else {
        throw Error(ErrorCode::kInvalidParameter,
                    "quality option \"freshness_unit\" must be \"epoch_seconds\" or \"epoch_milliseconds\"");
      }
      unit_given = true;
    } else if (k == "max_age_hours") {
      if (!it->is_number() || it->get<double>() <= 0)
        throw Error(ErrorCode::kInvalidParameter, "quality option \"max_age_hours\" must be a positive number");
      o.max_age_hours = it->get<double>();
    } else {
      throw Error(ErrorCode::kInvalidParameter, "unknown quality option \"" + text::Printable(k, 40) + "\"", {},
                  std::string("Options: ") + kCheckOptions + ".");
    }
  }
  // Freshness: refused here, when the option names the column, unless the
  // column's type says how it holds a time.
  if (unit_given && !o.freshness_column)
    throw Error(ErrorCode::kInvalidParameter, "quality option \"freshness_unit\" needs \"freshness_column\"");
  if (o.freshness_column) {
    std::string type;
    for (std::size_t i = 0; i < table.columns.size() && i < table.types.size(); ++i)
      if (table.columns[i] == *o.freshness_column) type = table.types[i];
    std::string name = "\"" + text::Printable(*o.freshness_column, 64) + "\"";
    TimeKind kind = ClassifyTimeType(type, dialect);
    // SQLite's declared type is only a name: a TIMESTAMP column may hold
    // epoch numbers, which the unit then says; the scan checks the values.
    if (kind == TimeKind::kTime && dialect == Dialect::kSqlite && unit_given) kind = TimeKind::kNumber;
    switch (kind) {
      case TimeKind::kTime:
      case TimeKind::kText:
        if (unit_given)
          throw Error(ErrorCode::kInvalidParameter,
                      "quality option \"freshness_unit\" is for a numeric freshness column; " + name + " holds times",
                      {}, "Leave freshness_unit out for timestamp, date and ISO 8601 text columns.");
        break;
      case TimeKind::kNumber:
        if (!unit_given)
          throw Error(ErrorCode::kInvalidParameter,
                      "freshness column " + name + " holds numbers: give \"freshness_unit\": \"epoch_seconds\" or \"epoch_milliseconds\"");
        break;
      case TimeKind::kOther:
        throw Error(ErrorCode::kInvalidParameter, "freshness column " + name + " cannot hold a time",
                    "A freshness column is a timestamp or date, ISO 8601 text, or a number since the Unix epoch.",
                    "In SQLite declare it TIMESTAMP, DATETIME, DATE or TEXT, or INTEGER with freshness_unit.");
    }
  }
  return o;
}

std::string QualityCheck::Quote(const std::string& ident) const { return QuoteIdent(ident); }

std::string QualityCheck::From(const std::string& alias) const {
  std::string from = table_.table_sql + " AS " + alias;
  if (options_.sample_percent) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", *options_.sample_percent);
    if (dialect_ == Dialect::kPostgres) from += std::string(" TABLESAMPLE SYSTEM (") + buf + ")";
  }
  return from;
}

std::string QualityCheck::KeyExpr(const std::string& a) const {
  const auto& pk = table_.primary_key;
  if (pk.empty()) return dialect_ == Dialect::kPostgres ? "to_jsonb(" + a + ".ctid::text)::text" : a + ".rowid";
  if (pk.size() == 1)
    return dialect_ == Dialect::kPostgres ? "to_jsonb(" + a + "." + Quote(pk[0]) + ")::text"
                                          : "json_quote(" + a + "." + Quote(pk[0]) + ")";
  std::string args;
  for (const std::string& c : pk) args += (args.empty() ? "" : ", ") + Literal(c) + ", " + a + "." + Quote(c);
  return dialect_ == Dialect::kPostgres ? "jsonb_build_object(" + args + ")::text" : "json_object(" + args + ")";
}

std::string QualityCheck::OrderBy(const std::string& a) const {
  const auto& pk = table_.primary_key;
  if (pk.empty()) return dialect_ == Dialect::kPostgres ? a + ".ctid" : a + ".rowid";
  std::string out;
  for (const std::string& c : pk) out += (out.empty() ? "" : ", ") + a + "." + Quote(c);
  return out;
}

// TextLiteral is a string literal typed as text in PostgreSQL.
std::string QualityCheck::Literal(std::string_view s) const {
  if (dialect_ != Dialect::kPostgres || s.find('\\') == std::string_view::npos) return QuoteLiteral(s);
  std::string out = "E'";
  for (char c : s) {
    if (c == '\\' || c == '\'') out += c;
    out += c;
  }
  return out + "'";
}

std::string QualityCheck::TextLiteral(std::string_view s) const {
  return Literal(s) + (dialect_ == Dialect::kPostgres ? "::pg_catalog.text" : "");
}

QualityCheck::QualityCheck(QualityTable table, QualityOptions options, Dialect dialect)
    : table_(std::move(table)), options_(std::move(options)), dialect_(dialect) {
  PollCancel();  // one check per table of a report
  const TableInfo& info = table_.info;
  const std::string fn = table_.function_prefix;
  std::vector<std::string> select = {"count(*)"};
  // Completeness: count(c) per column.
  std::vector<std::string> complete =
      options_.completeness_columns.empty() ? info.columns : options_.completeness_columns;
  for (const std::string& c : complete) {
    columns_.push_back({c, 0, {}});
    select.push_back("count(t." + Quote(c) + ")");
  }
  // Validity: value and expression rules; unique and references rules go
  // to their own dimensions.
  std::vector<std::string> unique_cols = options_.unique;
  std::vector<std::string> any_offend;
  for (const StoredRule& stored : table_.rules) {
    Rule rule = ParseRule(stored.rule, stored.params ? std::optional<std::string_view>(*stored.params) : std::nullopt);
    std::string col = stored.column ? "t." + Quote(*stored.column) : std::string();
    std::string text_col = "CAST(" + col + " AS TEXT)";
    std::string offend;
    switch (rule.kind) {
      case RuleKind::kUnique:
        if (stored.column && std::find(unique_cols.begin(), unique_cols.end(), *stored.column) == unique_cols.end())
          unique_cols.push_back(*stored.column);
        continue;
      case RuleKind::kReferences: {
        Relationship rel;
        rel.columns = {*stored.column};
        rel.parent_name = rule.ref_table;
        // The target fixed when the rule was added (rules older than 0.4.0
        // name none: then the table's own schema, the first on the path).
        rel.parent_sql = rule.ref_schema.empty() ? QuoteIdent(rule.ref_table)
                                                 : QuoteIdent(rule.ref_schema) + "." + QuoteIdent(rule.ref_table);
        rel.parent_columns = {rule.ref_column};
        rel.source = "rule";
        relations_.push_back({rel, 0, 0, {}});
        continue;
      }
      case RuleKind::kNotNull:
        offend = col + " IS NULL";
        break;
      case RuleKind::kValidator:
        // vigil_validate(kind, value) is NULL when valid: one function for
        // every kind, which the PostgreSQL adapter names in vigil_state
        // (where nobody else may create an overload of it).
        offend = col + " IS NOT NULL AND " + fn + "vigil_validate(" + TextLiteral(rule.validator->name) + ", " +
                 text_col + ") IS NOT NULL";
        break;
      case RuleKind::kExpression:
        offend = "NOT (" + rule.expression + ")";
        break;
      case RuleKind::kJsonSchema: {
        // The three-argument vigil_json_schema_valid resolves registered
        // URIs (vigil_rule_check is pure and cannot); a value that is not
        // JSON offends without reaching it (CASE keeps that order).
        nlohmann::json p = nlohmann::json::parse(rule.params);
        std::string schema = p["schema"].dump();
        p.erase("schema");
        p["registry"] = true;
        std::string options = Literal(p.dump());
        if (dialect_ == Dialect::kPostgres) options += "::pg_catalog.jsonb";
        offend = col + " IS NOT NULL AND CASE WHEN " + fn + "vigil_validate('json', " + text_col + ") IS NULL THEN NOT " +
                 fn + "vigil_json_schema_valid(" + TextLiteral(schema) + ", " + text_col + ", " + options +
                 ") ELSE true END";
        break;
      }
      default: {
        // Every argument typed, so no overload can match better.
        std::string params = rule.params.empty() ? std::string("NULL") : Literal(rule.params);
        if (dialect_ == Dialect::kPostgres) params += "::pg_catalog.jsonb";
        offend = col + " IS NOT NULL AND " + fn + "vigil_rule_check(" + TextLiteral(stored.rule) + ", " + params + ", " +
                 text_col + ") IS NOT NULL";
      }
    }
    has_value_rules_ = true;
    rules_.push_back({stored.column.value_or(""), stored.rule, offend, 0, {}});
    select.push_back("sum(CASE WHEN " + offend + " THEN 1 ELSE 0 END)");
    any_offend.push_back("(" + offend + ")");
  }
  if (!any_offend.empty()) {
    std::string any;
    for (const std::string& o : any_offend) any += (any.empty() ? "" : " OR ") + o;
    select.push_back("sum(CASE WHEN " + any + " THEN 1 ELSE 0 END)");
  }
  // Uniqueness: declared constraints are enforced (reported, not scanned);
  // unique rules and configured columns are counted.
  for (const auto& cols : table_.declared_unique) {
    UniqueMetric m;
    m.columns = cols;
    m.source = cols == table_.primary_key ? "primary key" : "unique constraint";
    m.enforced = true;
    uniques_.push_back(m);
  }
  for (const std::string& c : unique_cols) {
    bool declared = false;
    for (const auto& cols : table_.declared_unique) declared |= cols.size() == 1 && cols[0] == c;
    if (declared) continue;
    UniqueMetric m;
    m.columns = {c};
    m.source = std::find(options_.unique.begin(), options_.unique.end(), c) != options_.unique.end() ? "option" : "rule";
    uniques_.push_back(m);
    select.push_back("count(t." + Quote(c) + ") - count(DISTINCT t." + Quote(c) + ")");
  }
  // Integrity: declared foreign keys, then references rules (already added).
  std::vector<RelationMetric> declared;
  for (const Relationship& fk : table_.foreign_keys) declared.push_back({fk, 0, 0, {}});
  relations_.insert(relations_.begin(), declared.begin(), declared.end());
  for (const RelationMetric& r : relations_) {
    if (r.rel.columns.size() == 1) {
      // The same aggregate as the column's completeness count: PostgreSQL
      // computes identical aggregates once.
      select.push_back("count(t." + Quote(r.rel.columns[0]) + ")");
      continue;
    }
    std::string nn;
    for (const std::string& c : r.rel.columns) nn += (nn.empty() ? "" : " AND ") + ("t." + Quote(c) + " IS NOT NULL");
    select.push_back("sum(CASE WHEN " + nn + " THEN 1 ELSE 0 END)");
  }
  // Freshness: age of the newest value, in hours.
  if (options_.freshness_column) {
    std::string c = "t." + Quote(*options_.freshness_column);
    using Unit = QualityOptions::TimeUnit;
    const char* per_second = options_.freshness_unit == Unit::kEpochMilliseconds ? "1000.0" : "1.0";
    if (options_.freshness_unit == Unit::kTime)
      select.push_back(dialect_ == Dialect::kPostgres
                           ? "extract(epoch FROM (now() - max(" + c + ")::timestamptz)) / 3600.0"
                           : "(julianday('now') - julianday(max(" + c + "))) * 24.0");
    else
      select.push_back(dialect_ == Dialect::kPostgres
                           ? "(extract(epoch FROM now()) - max(" + c + ")::float8 / " + per_second + ") / 3600.0"
                           : "(julianday('now') - julianday(max(" + c + ") / " + per_second + ", 'unixepoch')) * 24.0");
    // SQLite: the newest value's own type, which its column does not fix
    // (julianday reads a number as a Julian day, text as an ISO date).
    if (dialect_ == Dialect::kSqlite) select.push_back("typeof(max(" + c + "))");
  }
  std::string main = "SELECT ";
  for (std::size_t i = 0; i < select.size(); ++i) main += (i ? ", " : "") + select[i];
  main += " FROM " + From("t");
  if (options_.sample_percent && dialect_ == Dialect::kSqlite) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", *options_.sample_percent);
    main += std::string(" WHERE abs(random() % 100000) < ") + buf + " * 1000";
  }
  stage1_.push_back(main);
  // One anti-join per relationship.
  for (const RelationMetric& r : relations_) {
    std::string nn, match;
    for (std::size_t i = 0; i < r.rel.columns.size(); ++i) {
      nn += (nn.empty() ? "" : " AND ") + ("t." + Quote(r.rel.columns[i]) + " IS NOT NULL");
      match += (match.empty() ? "" : " AND ") + ("p." + Quote(r.rel.parent_columns[i]) + " = t." + Quote(r.rel.columns[i]));
    }
    // PostgreSQL runs this as a hash anti-join; the first 5 orphan keys come
    // with the count, so finding them costs no second pass (orphans are few
    // in any table worth scoring; the array holds them all while sorting).
    std::string samples = dialect_ == Dialect::kPostgres
                              ? ", to_jsonb((array_agg(" + KeyExpr("t") + " ORDER BY " + OrderBy("t") + "))[1:5])::text"
                              : std::string();
    stage1_.push_back("SELECT count(*)" + samples + " FROM " + From("t") + " WHERE " + nn +
                      " AND NOT EXISTS (SELECT 1 FROM " + r.rel.parent_sql + " AS p WHERE " + match + ")");
  }
}

void QualityCheck::SetStage1(std::size_t query, const std::vector<std::optional<std::string>>& row) {
  if (query > 0) {
    RelationMetric& r = relations_[query - 1];
    r.orphans = row.empty() ? 0 : ToInt(row[0]);
    if (row.size() > 1 && row[1]) {
      json keys = json::parse(*row[1], nullptr, false);
      if (keys.is_array())
        for (const json& k : keys) r.samples.push_back(k.is_string() ? k.get<std::string>() : k.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return;
  }
  std::size_t i = 0;
  auto next = [&]() -> const std::optional<std::string>& {
    static const std::optional<std::string> kNone;
    return i < row.size() ? row[i++] : kNone;
  };
  rows_ = ToInt(next());
  for (ColumnMetric& c : columns_) c.non_null = ToInt(next());
  for (RuleMetric& r : rules_) r.violations = ToInt(next());
  if (!rules_.empty()) rows_invalid_ = ToInt(next());
  for (UniqueMetric& u : uniques_)
    if (!u.enforced) u.duplicates = ToInt(next());
  for (RelationMetric& r : relations_) r.checked = ToInt(next());
  if (options_.freshness_column) {
    const auto& v = next();
    if (v && !v->empty()) age_hours_ = std::strtod(v->c_str(), nullptr);
    if (dialect_ == Dialect::kSqlite) {
      const std::string type = next().value_or("null");
      const std::string name = "\"" + text::Printable(*options_.freshness_column, 64) + "\"";
      bool numbers = type == "integer" || type == "real";
      if (options_.freshness_unit == QualityOptions::TimeUnit::kTime && numbers)
        throw Error(ErrorCode::kInvalidParameter,
                    "freshness column " + name + " holds numbers: give \"freshness_unit\": \"epoch_seconds\" or \"epoch_milliseconds\"");
      if (options_.freshness_unit != QualityOptions::TimeUnit::kTime && type == "text")
        throw Error(ErrorCode::kInvalidParameter,
                    "freshness column " + name + " holds text, not a number since the epoch",
                    {}, "Leave freshness_unit out for ISO 8601 text.");
      if (type == "blob") throw Error(ErrorCode::kInvalidParameter, "freshness column " + name + " cannot hold a time");
    }
  }
}

std::vector<std::string> QualityCheck::SampleQueries() {
  std::vector<std::string> out;
  sample_targets_.clear();
  // In key order: deterministic, and cheap when offenders are common (the
  // metric fails only then for completeness); orphans, usually rare, come
  // with their count in PostgreSQL (see the anti-join in the constructor).
  std::string head = "SELECT " + KeyExpr("t") + " FROM " + table_.table_sql + " AS t WHERE ";
  std::string tail = " ORDER BY " + OrderBy("t") + " LIMIT 5";
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const ColumnMetric& c = columns_[i];
    if (rows_ > 0 && 100.0 * static_cast<double>(c.non_null) / static_cast<double>(rows_) <= kTargetCompleteness) {
      out.push_back(head + "t." + Quote(c.column) + " IS NULL" + tail);
      sample_targets_.push_back({'c', i});
    }
  }
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    if (rules_[i].violations > 0) {
      out.push_back(head + rules_[i].offend_sql + tail);
      sample_targets_.push_back({'r', i});
    }
  }
  for (std::size_t i = 0; i < uniques_.size(); ++i) {
    const UniqueMetric& u = uniques_[i];
    if (u.enforced || u.duplicates == 0) continue;
    std::string c = Quote(u.columns[0]);
    out.push_back(head + "t." + c + " IN (SELECT d." + c + " FROM " + table_.table_sql + " AS d WHERE d." + c +
                  " IS NOT NULL GROUP BY d." + c + " HAVING count(*) > 1)" + tail);
    sample_targets_.push_back({'u', i});
  }
  for (std::size_t i = 0; i < relations_.size(); ++i) {
    const RelationMetric& r = relations_[i];
    if (r.orphans == 0 || !r.samples.empty()) continue;
    std::string nn, match;
    for (std::size_t k = 0; k < r.rel.columns.size(); ++k) {
      nn += (nn.empty() ? "" : " AND ") + ("t." + Quote(r.rel.columns[k]) + " IS NOT NULL");
      match += (match.empty() ? "" : " AND ") + ("p." + Quote(r.rel.parent_columns[k]) + " = t." + Quote(r.rel.columns[k]));
    }
    out.push_back(head + nn + " AND NOT EXISTS (SELECT 1 FROM " + r.rel.parent_sql + " AS p WHERE " + match + ")" + tail);
    sample_targets_.push_back({'o', i});
  }
  return out;
}

void QualityCheck::SetSamples(std::size_t query, const std::vector<std::string>& keys) {
  auto [kind, i] = sample_targets_.at(query);
  std::vector<std::string>* target = kind == 'c' ? &columns_[i].samples
                                   : kind == 'r' ? &rules_[i].samples
                                   : kind == 'u' ? &uniques_[i].samples
                                                 : &relations_[i].samples;
  *target = keys;
}

double QualityCheck::CompletenessPercent() const {
  long long cells = rows_ * static_cast<long long>(columns_.size());
  if (cells == 0) return 100.0;
  long long filled = 0;
  for (const ColumnMetric& c : columns_) filled += c.non_null;
  return 100.0 * static_cast<double>(filled) / static_cast<double>(cells);
}

double QualityCheck::ViolationPercent() const {
  if (rows_ == 0) return 0.0;
  return 100.0 * static_cast<double>(rows_invalid_) / static_cast<double>(rows_);
}

double QualityCheck::IntegrityPercent() const {
  long long checked = 0, orphans = 0;
  for (const RelationMetric& r : relations_) {
    checked += r.checked;
    orphans += r.orphans;
  }
  if (checked == 0) return 100.0;
  return 100.0 * static_cast<double>(checked - orphans) / static_cast<double>(checked);
}

double QualityCheck::Score() const {
  double weighted = 0, weights = 0;
  if (rows_ > 0 && !columns_.empty()) {
    weighted += kWeightCompleteness * CompletenessPercent() / 100.0;
    weights += kWeightCompleteness;
  }
  if (rows_ > 0 && has_value_rules_) {
    weighted += kWeightValidity * (1.0 - ViolationPercent() / 100.0);
    weights += kWeightValidity;
  }
  long long values = 0, dups = 0;
  for (const UniqueMetric& u : uniques_)
    if (!u.enforced) dups += u.duplicates;
  for (const UniqueMetric& u : uniques_) {
    if (u.enforced) continue;
    for (const ColumnMetric& c : columns_)
      if (c.column == u.columns[0]) values += c.non_null;
  }
  if (values > 0) {
    weighted += kWeightUniqueness * (1.0 - static_cast<double>(dups) / static_cast<double>(values));
    weights += kWeightUniqueness;
  }
  long long checked = 0;
  for (const RelationMetric& r : relations_) checked += r.checked;
  if (checked > 0) {
    weighted += kWeightIntegrity * IntegrityPercent() / 100.0;
    weights += kWeightIntegrity;
  }
  if (options_.freshness_column) {
    bool fresh = age_hours_ && *age_hours_ <= options_.max_age_hours;
    weighted += kWeightFreshness * (fresh ? 1.0 : 0.0);
    weights += kWeightFreshness;
  }
  if (weights == 0) return 100.0;
  return Round2(100.0 * weighted / weights);
}

bool QualityCheck::Passed() const {
  long long orphans = 0;
  for (const RelationMetric& r : relations_) orphans += r.orphans;
  bool fresh = !options_.freshness_column || (age_hours_ && *age_hours_ <= options_.max_age_hours);
  long long dups = 0;
  for (const UniqueMetric& u : uniques_) dups += u.duplicates;
  return (rows_ == 0 || CompletenessPercent() > kTargetCompleteness) && ViolationPercent() < kTargetViolations &&
         orphans == 0 && dups == 0 && fresh;
}

std::string QualityCheck::ReportJson(const std::string& checked_at) const {
  auto samples = [](const std::vector<std::string>& keys) {
    json arr = json::array();
    for (const std::string& k : keys) {
      json v = json::parse(k, nullptr, false);
      arr.push_back(v.is_discarded() ? json(k) : v);
    }
    return arr;
  };
  auto pct = [this](long long part) {
    return rows_ == 0 ? 100.0 : Round2(100.0 * static_cast<double>(part) / static_cast<double>(rows_));
  };
  ordered_json r;
  r["table"] = table_.info.name;
  r["checked_at"] = checked_at;
  r["rows"] = rows_;
  r["sample_percent"] = options_.sample_percent ? json(*options_.sample_percent) : json(nullptr);
  r["score"] = Score();
  r["passed"] = Passed();
  ordered_json completeness;
  completeness["percent"] = Round2(CompletenessPercent());
  completeness["columns"] = ordered_json::array();
  for (const ColumnMetric& c : columns_) {
    ordered_json o;
    o["column"] = c.column;
    o["non_null"] = c.non_null;
    o["nulls"] = rows_ - c.non_null;
    o["percent"] = pct(c.non_null);
    o["passed"] = rows_ == 0 || pct(c.non_null) > kTargetCompleteness;
    if (!c.samples.empty()) o["samples"] = samples(c.samples);
    completeness["columns"].push_back(o);
  }
  r["completeness"] = completeness;
  ordered_json validity;
  validity["rows_invalid"] = rows_invalid_;
  validity["violation_percent"] = Round2(ViolationPercent());
  validity["rules"] = ordered_json::array();
  for (const RuleMetric& m : rules_) {
    ordered_json o;
    o["column"] = m.column.empty() ? json(nullptr) : json(m.column);
    o["rule"] = m.rule;
    o["violations"] = m.violations;
    if (!m.samples.empty()) o["samples"] = samples(m.samples);
    validity["rules"].push_back(o);
  }
  r["validity"] = validity;
  ordered_json uniqueness = ordered_json::array();
  for (const UniqueMetric& u : uniques_) {
    ordered_json o;
    o["columns"] = u.columns;
    o["source"] = u.source;
    o["enforced"] = u.enforced;
    o["duplicates"] = u.duplicates;
    if (!u.samples.empty()) o["samples"] = samples(u.samples);
    uniqueness.push_back(o);
  }
  r["uniqueness"] = uniqueness;
  ordered_json integrity;
  integrity["percent"] = Round2(IntegrityPercent());
  integrity["relationships"] = ordered_json::array();
  for (const RelationMetric& m : relations_) {
    ordered_json o;
    o["columns"] = m.rel.columns;
    o["references"] = {{"table", m.rel.parent_name}, {"columns", m.rel.parent_columns}};
    o["source"] = m.rel.source;
    o["checked"] = m.checked;
    o["orphans"] = m.orphans;
    o["orphan_percent"] = m.checked == 0 ? 0.0 : Round2(100.0 * static_cast<double>(m.orphans) / static_cast<double>(m.checked));
    if (!m.samples.empty()) o["samples"] = samples(m.samples);
    integrity["relationships"].push_back(o);
  }
  r["integrity"] = integrity;
  if (options_.freshness_column) {
    ordered_json f;
    f["column"] = *options_.freshness_column;
    if (options_.freshness_unit != QualityOptions::TimeUnit::kTime)
      f["unit"] = options_.freshness_unit == QualityOptions::TimeUnit::kEpochSeconds ? "epoch_seconds" : "epoch_milliseconds";
    f["age_hours"] = age_hours_ ? json(Round2(*age_hours_)) : json(nullptr);
    f["max_age_hours"] = options_.max_age_hours;
    f["passed"] = age_hours_ && *age_hours_ <= options_.max_age_hours;
    r["freshness"] = f;
  } else {
    r["freshness"] = nullptr;
  }
  long long orphans = 0;
  for (const RelationMetric& m : relations_) orphans += m.orphans;
  ordered_json targets = ordered_json::array();
  targets.push_back({{"metric", "completeness_percent"}, {"target", "> 95"}, {"value", Round2(CompletenessPercent())},
                     {"passed", rows_ == 0 || CompletenessPercent() > kTargetCompleteness}});
  targets.push_back({{"metric", "violation_percent"}, {"target", "< 0.1"}, {"value", Round2(ViolationPercent())},
                     {"passed", ViolationPercent() < kTargetViolations}});
  targets.push_back({{"metric", "orphans"}, {"target", "= 0"}, {"value", orphans}, {"passed", orphans == 0}});
  targets.push_back({{"metric", "integrity_percent"}, {"target", "= 100"}, {"value", Round2(IntegrityPercent())},
                     {"passed", orphans == 0}});
  r["targets"] = targets;
  return r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<QualityAlert> DecideQualityAlert(const std::optional<std::string>& table, double score, int threshold,
                                               bool was_below) {
  bool below = score < threshold;
  if (below == was_below) return std::nullopt;
  char score_text[32];
  std::snprintf(score_text, sizeof(score_text), "%.2f", score);
  std::string what = table ? "of \"" + text::Printable(*table, 64) + "\"" : std::string("overall");
  QualityAlert a;
  a.severity = below ? "warning" : "info";
  a.message = below ? "quality score " + what + " is " + score_text + ", under " + std::to_string(threshold)
                    : "quality score " + what + " recovered to " + score_text;
  ordered_json details;
  details["table"] = table ? json(*table) : json(nullptr);
  details["score"] = Round2(score);
  details["threshold"] = threshold;
  a.details = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return a;
}

void ValidateReportOptions(std::string_view report_options, const std::vector<std::string>& tables) {
  json o = json_in::ParseInput(report_options, "quality options");
  if (o.is_null()) return;
  if (!o.is_object()) throw Error(ErrorCode::kInvalidParameter, "quality options must be a JSON object");
  auto need_table = [&](const std::string& t, const char* option) {
    if (std::find(tables.begin(), tables.end(), t) == tables.end())
      throw Error(ErrorCode::kUndefinedTable, "table \"" + text::Printable(t, 64) + "\" does not exist",
                  std::string("Quality option \"") + option + "\" names it.");
  };
  for (auto it = o.begin(); it != o.end(); ++it) {
    const std::string& k = it.key();
    if (k == "exclude") {
      if (!it->is_array())
        throw Error(ErrorCode::kInvalidParameter, "quality option \"exclude\" must be an array of table names");
      for (const json& t : *it) {
        if (!t.is_string())
          throw Error(ErrorCode::kInvalidParameter, "quality option \"exclude\" must be an array of table names");
        need_table(t.get<std::string>(), "exclude");
      }
    } else if (k == "tables") {
      if (!it->is_object())
        throw Error(ErrorCode::kInvalidParameter, "quality option \"tables\" must be an object of table name: options");
      for (auto t = it->begin(); t != it->end(); ++t) {
        if (!t->is_object())
          throw Error(ErrorCode::kInvalidParameter,
                      "quality option \"tables\": the options of \"" + text::Printable(t.key(), 64) + "\" must be a JSON object");
        need_table(t.key(), "tables");
      }
    } else if (k == "sample_percent") {
      if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > 100)
        throw Error(ErrorCode::kInvalidParameter, "quality option \"sample_percent\" must be a number in (0, 100]");
    } else {
      throw Error(ErrorCode::kInvalidParameter, "unknown quality option \"" + text::Printable(k, 40) + "\"",
                  "vigil_quality_report takes " + std::string(kReportOptions) + ".",
                  "Per-table options (" + std::string(kCheckOptions) + ") go under \"tables\".");
    }
  }
}

std::optional<std::string> ReportTableOptions(std::string_view report_options, const std::string& table) {
  json o = json_in::ParseInput(report_options, "quality options");
  if (o.is_null()) return json::object().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!o.is_object()) throw Error(ErrorCode::kInvalidParameter, "quality options must be a JSON object");
  if (o.contains("exclude") && o["exclude"].is_array() &&
      std::find(o["exclude"].begin(), o["exclude"].end(), table) != o["exclude"].end())
    return std::nullopt;
  json per = json::object();
  if (o.contains("sample_percent")) per["sample_percent"] = o["sample_percent"];
  if (o.contains("tables") && o["tables"].is_object() && o["tables"].contains(table) && o["tables"][table].is_object())
    per.update(o["tables"][table]);
  return per.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string OverallJson(const std::vector<std::string>& table_reports, const std::vector<double>& scores,
                        const std::vector<std::string>& skipped, const std::vector<MissingTable>& missing,
                        const std::string& checked_at, double* overall_score) {
  ordered_json r;
  r["checked_at"] = checked_at;
  double sum = 0;
  for (double s : scores) sum += s;
  *overall_score = scores.empty() ? 100.0 : Round2(sum / static_cast<double>(scores.size()));
  r["overall_score"] = *overall_score;
  bool passed = missing.empty();
  ordered_json tables = ordered_json::array();
  for (const std::string& t : table_reports) {
    ordered_json j = ordered_json::parse(t);
    passed = passed && j.value("passed", false);
    tables.push_back(j);
  }
  r["passed"] = passed;
  r["tables"] = tables;
  r["skipped"] = skipped;
  ordered_json gone = ordered_json::array();
  for (const MissingTable& m : missing) gone.push_back({{"table", m.table}, {"rules", m.rules}});
  r["missing_tables"] = gone;
  return r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<QualityIssue> QualityIssues(std::string_view report_json) {
  std::vector<QualityIssue> out;
  json report = json::parse(report_json.begin(), report_json.end(), nullptr, false);
  if (!report.is_object()) return out;
  auto number = [](const json& j, const char* key) -> std::optional<double> {
    if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
    return j[key].get<double>();
  };
  auto keys = [](const json& j) -> std::optional<std::string> {
    if (!j.contains("samples") || !j["samples"].is_array()) return std::nullopt;
    return j["samples"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  auto columns = [](const json& j) {
    std::string c;
    if (j.contains("columns") && j["columns"].is_array())
      for (const json& v : j["columns"]) c += (c.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return c;
  };
  auto count = [](long long n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  for (const json& t : report.value("tables", json::array())) {
    const std::string table = t.value("table", std::string());
    const long long rows = t.value("rows", 0LL);
    for (const json& c : t["completeness"].value("columns", json::array())) {
      if (c.value("passed", true)) continue;
      QualityIssue i{table, "completeness", c.value("column", std::string()), number(c, "percent"), "> 95", false,
                     keys(c), count(c.value("nulls", 0LL), "NULL", "NULLs") + " in " + count(rows, "row", "rows")};
      out.push_back(i);
    }
    for (const json& r : t["validity"].value("rules", json::array())) {
      long long v = r.value("violations", 0LL);
      if (v == 0) continue;
      double pct = rows == 0 ? 0.0 : Round2(100.0 * static_cast<double>(v) / static_cast<double>(rows));
      QualityIssue i{table, "validity", std::nullopt, pct, "< 0.1", pct < kTargetViolations, keys(r),
                     count(v, "row fails", "rows fail") + " rule \"" + r.value("rule", std::string()) + "\""};
      if (r.contains("column") && r["column"].is_string()) i.column = r["column"].get<std::string>();
      out.push_back(i);
    }
    for (const json& u : t.value("uniqueness", json::array())) {
      long long d = u.value("duplicates", 0LL);
      if (d == 0) continue;
      out.push_back({table, "uniqueness", columns(u), static_cast<double>(d), "= 0", false, keys(u),
                     count(d, "duplicate", "duplicates") + " (" + u.value("source", std::string()) + ")"});
    }
    for (const json& r : t["integrity"].value("relationships", json::array())) {
      long long n = r.value("orphans", 0LL);
      if (n == 0) continue;
      const json& ref = r["references"];
      std::string parent = ref.value("table", std::string()) + "(" + columns(ref) + ")";
      out.push_back({table, "integrity", columns(r), static_cast<double>(n), "= 0", false, keys(r),
                     count(n, "orphan", "orphans") + ": no matching row in " + parent});
    }
    if (t.contains("freshness") && t["freshness"].is_object() && !t["freshness"].value("passed", true)) {
      const json& f = t["freshness"];
      std::optional<double> age = number(f, "age_hours");
      char target[48];
      std::snprintf(target, sizeof(target), "<= %g", f.value("max_age_hours", 24.0));
      char detail[96];
      if (age) std::snprintf(detail, sizeof(detail), "newest value is %.2f hours old", *age);
      else std::snprintf(detail, sizeof(detail), "no value to date the table by");
      out.push_back({table, "freshness", f.value("column", std::string()), age, target, false, std::nullopt, detail});
    }
  }
  for (const json& m : report.value("missing_tables", json::array())) {
    long long n = m.value("rules", 0LL);
    out.push_back({m.value("table", std::string()), "rules", std::nullopt, static_cast<double>(n), "exists", false,
                   std::nullopt, "table does not exist; " + count(n, "rule names", "rules name") + " it (vigil_rule_remove)"});
  }
  return out;
}

}  // namespace vigil::core
