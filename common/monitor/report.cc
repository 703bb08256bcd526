// report.cc — see report.h.
#include "monitor/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "base/cancel.h"
#include "base/error.h"
#include "sql/normalize.h"
#include "base/core_guard.h"

namespace vigil::core::monitor {
namespace {

using ordered_json = nlohmann::ordered_json;

double Ms3(double v) { return std::round(v * 1000.0) / 1000.0; }

struct Agg {
  std::string query;
  std::uint64_t calls = 0, rows = 0, errors = 0;
  double total_ms = 0, max_ms = 0;
  std::uint64_t hist[kBuckets] = {};

  void Add(const Interval& i, const std::uint64_t* h) {
    calls += i.calls;
    rows += i.rows;
    errors += i.errors;
    total_ms += i.total_ms;
    max_ms = std::max(max_ms, i.max_ms);
    for (int b = 0; b < kBuckets; ++b) hist[b] += h[b];
  }
  double Percentile(double p) const {
    return PercentileOf(hist, calls, p, 0, static_cast<std::uint64_t>(std::llround(max_ms * 1e6)));
  }
  double Avg() const { return calls == 0 ? 0 : total_ms / static_cast<double>(calls); }
};

}  // namespace

void CheckHours(double hours) {
  if (!std::isfinite(hours) || hours <= 0 || hours > 87600)
    throw Error(ErrorCode::kInvalidParameter, "hours must be more than 0 and at most 87600", {},
                "vigil_performance_report(24) reports the last day.");
}

std::string PerformanceReport(const ReportInput& in) {
  CheckHours(in.hours);
  std::int64_t from_us = in.now_us - static_cast<std::int64_t>(in.hours * 3600e6);
  std::string from_text = UtcText(from_us);
  Agg total;
  std::map<std::string, std::unique_ptr<Agg>> by_statement;
  std::map<std::int64_t, std::unique_ptr<Agg>> by_hour;
  std::set<std::int64_t> snapshots;
  std::set<std::string> epochs;
  std::uint64_t h[kBuckets];
  for (const Interval& i : in.intervals) {
    PollCancel();
    if (i.at_us <= from_us || i.at_us > in.now_us) continue;
    std::fill(h, h + kBuckets, 0);
    DecodeHistogram(i.histogram, h);
    total.Add(i, h);
    auto& s = by_statement[i.fingerprint];
    if (!s) s = std::make_unique<Agg>();
    if (s->query.empty()) s->query = i.query;
    s->Add(i, h);
    std::int64_t hour = i.at_us - ((i.at_us % 3600000000LL) + 3600000000LL) % 3600000000LL;
    auto& hr = by_hour[hour];
    if (!hr) hr = std::make_unique<Agg>();
    hr->Add(i, h);
    if (i.at_us != in.now_us) snapshots.insert(i.at_us);
    if (!i.epoch.empty() && i.epoch > from_text) epochs.insert(i.epoch);
  }
  ordered_json r;
  if (in.hours == std::floor(in.hours))
    r["hours"] = static_cast<std::int64_t>(in.hours);
  else
    r["hours"] = in.hours;
  r["from"] = from_text;
  r["to"] = UtcText(in.now_us);
  r["calls"] = total.calls;
  r["errors"] = in.errors_known ? ordered_json(total.errors) : ordered_json(nullptr);
  r["rows"] = total.rows;
  r["statements"] = by_statement.size();
  r["total_time_ms"] = Ms3(total.total_ms);
  r["avg_time_ms"] = Ms3(total.Avg());
  r["p50_ms"] = Ms3(total.Percentile(0.50));
  r["p95_ms"] = Ms3(total.Percentile(0.95));
  r["p99_ms"] = Ms3(total.Percentile(0.99));
  r["slow_query_ms"] = in.slow_query_ms;

  std::vector<std::pair<const std::string*, const Agg*>> statements;
  for (const auto& [fp, agg] : by_statement)
    if (agg->calls > 0 || agg->errors > 0) statements.push_back({&fp, agg.get()});

  std::vector<std::pair<const std::string*, const Agg*>> slow;
  if (in.slow_query_ms >= 0)
    for (const auto& s : statements)
      if (s.second->calls > 0 && s.second->max_ms >= static_cast<double>(in.slow_query_ms)) slow.push_back(s);
  std::sort(slow.begin(), slow.end(), [](const auto& a, const auto& b) {
    return a.second->max_ms != b.second->max_ms ? a.second->max_ms > b.second->max_ms : *a.first < *b.first;
  });
  ordered_json slow_json = ordered_json::array();
  for (std::size_t k = 0; k < slow.size() && k < in.top; ++k) {
    const Agg& a = *slow[k].second;
    slow_json.push_back({{"fingerprint", *slow[k].first},
                         {"query", a.query},
                         {"calls", a.calls},
                         {"avg_time_ms", Ms3(a.Avg())},
                         {"max_time_ms", Ms3(a.max_ms)},
                         {"p95_ms", Ms3(a.Percentile(0.95))}});
  }
  r["slow_queries"] = std::move(slow_json);

  std::sort(statements.begin(), statements.end(), [](const auto& a, const auto& b) {
    return a.second->total_ms != b.second->total_ms ? a.second->total_ms > b.second->total_ms : *a.first < *b.first;
  });
  ordered_json top = ordered_json::array();
  for (std::size_t k = 0; k < statements.size() && k < in.top; ++k) {
    const Agg& a = *statements[k].second;
    top.push_back({{"fingerprint", *statements[k].first},
                   {"query", a.query},
                   {"calls", a.calls},
                   {"total_time_ms", Ms3(a.total_ms)},
                   {"avg_time_ms", Ms3(a.Avg())},
                   {"p95_ms", Ms3(a.Percentile(0.95))},
                   {"max_time_ms", Ms3(a.max_ms)},
                   {"rows", a.rows},
                   {"errors", in.errors_known ? ordered_json(a.errors) : ordered_json(nullptr)},
                   {"share_percent", total.total_ms > 0 ? std::round(1000.0 * a.total_ms / total.total_ms) / 10.0 : 0.0}});
  }
  r["top_statements"] = std::move(top);

  ordered_json hourly = ordered_json::array();
  for (const auto& [hour, agg] : by_hour)
    hourly.push_back({{"hour", UtcText(hour)},
                      {"calls", agg->calls},
                      {"errors", in.errors_known ? ordered_json(agg->errors) : ordered_json(nullptr)},
                      {"total_time_ms", Ms3(agg->total_ms)},
                      {"avg_time_ms", Ms3(agg->Avg())},
                      {"p95_ms", Ms3(agg->Percentile(0.95))}});
  r["hourly"] = std::move(hourly);
  r["snapshots"] = snapshots.size();
  ordered_json resets = ordered_json::array();
  for (const std::string& e : epochs) resets.push_back(e);
  r["resets"] = std::move(resets);
  // Texts read back from a history table may hold any bytes (a hostile
  // SQLite file, a server encoding other than UTF-8): replaced, not thrown.
  return r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Store::Entry* Store::Find(std::uint64_t key) {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

std::uint64_t Store::KeyOf(std::string_view normalized) noexcept {
  return static_cast<std::uint64_t>(std::hash<std::string_view>{}(normalized));
}

const std::string& Store::Fingerprint(Entry& e) {
  if (e.fingerprint.empty()) {
    e.fingerprint = sql::FingerprintOfNormalized(e.full.empty() ? e.query : e.full);
    std::string().swap(e.full);
  }
  return e.fingerprint;
}

Store::Entry& Store::Insert(std::uint64_t key, std::string_view normalized) {
  if (entries_.size() >= max_) {
    // Evict the least-called 5 % (at least one), as pg_stat_statements does.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> usage;
    usage.reserve(entries_.size());
    for (const auto& [k, e] : entries_) usage.push_back({e.now.calls + e.now.errors, k});
    std::size_t n = std::max<std::size_t>(1, entries_.size() / 20);
    std::nth_element(usage.begin(), usage.begin() + static_cast<std::ptrdiff_t>(n - 1), usage.end());
    for (std::size_t i = 0; i < n; ++i) entries_.erase(usage[i].second);
    evictions_ += n;
    ++generation_;
  }
  Entry& e = entries_[key];
  e = Entry{};
  e.query = ClipQuery(normalized);
  if (e.query.size() != normalized.size()) e.full = std::string(normalized);
  return e;
}

void Store::Clear() {
  entries_.clear();
  ++generation_;
}

void SlowLog::SetCapacity(std::size_t capacity) {
  capacity_ = capacity;
  while (ring_.size() > capacity_) ring_.pop_front();
}

void SlowLog::Add(SlowExecution e) {
  if (capacity_ == 0) return;
  if (ring_.size() >= capacity_) ring_.pop_front();
  ring_.push_back(std::move(e));
}

std::vector<const SlowExecution*> SlowLog::Newest(std::size_t limit) const {
  std::vector<const SlowExecution*> out;
  for (auto it = ring_.rbegin(); it != ring_.rend() && out.size() < limit; ++it) out.push_back(&*it);
  return out;
}

}  // namespace vigil::core::monitor
