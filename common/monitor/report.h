// report.h — vigil_performance_report(hours) (SPEC §8), computed the same
// way on both engines from the history table's intervals and the live
// counters since the last snapshot; and the per-connection statement table
// SQLite keeps (PostgreSQL keeps its own in shared memory, monitor_pg.cc).
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "monitor/stats.h"

namespace vigil::core::monitor {

// Interval is one statement's counts over one interval: a row of
// vigil_query_history (the interval that ended at the snapshot `at_us`), or
// the live counters since the last snapshot (at_us = now).
struct Interval {
  std::int64_t at_us = 0;
  std::string fingerprint;
  std::string query;
  std::string epoch;  // PostgreSQL: the shared counters' generation; a new one is a reset
  std::uint64_t calls = 0, rows = 0, errors = 0;
  double total_ms = 0;
  double max_ms = 0;      // the longest execution in the interval
  std::string histogram;  // EncodeHistogram
};

struct ReportInput {
  double hours = 24;
  std::int64_t now_us = 0;
  long slow_query_ms = 1000;  // -1: no slow-query threshold
  std::size_t top = 10;
  bool errors_known = true;  // SQLite's trace cannot tell a failed statement: errors are null there
  std::vector<Interval> intervals;  // any order; those before now - hours are skipped
};

// CheckHours throws Error(kInvalidParameter) unless 0 < hours <= 87,600
// (ten years) and finite.
void CheckHours(double hours);

// PerformanceReport returns the report as JSON text: the window (hours,
// from, to); calls, errors, rows, total_time_ms, avg_time_ms, p50/p95/p99_ms
// over the window; slow_queries (statements whose longest execution in the
// window reached slow_query_ms: fingerprint, query, calls, avg_time_ms,
// max_time_ms, p95_ms), top_statements by total time (with their share of
// it; errors null when !errors_known), an hourly trend, the snapshots read and the resets seen. Polls the
// cancellation check; throws Error(kInvalidText) for a malformed histogram.
std::string PerformanceReport(const ReportInput& input);

// Store is one SQLite connection's statements: a 64-bit key of the
// normalised text -> that text, live counters and the counters at the last
// snapshot. The fingerprint (SHA-256, so the OpenSSL companion) is computed
// when something reads it, not when a statement runs: loading vigil and
// running statements loads no heavy library. When it holds `max`
// statements, adding one evicts the least-called 5 % first
// (pg_stat_statements' policy), counted in evictions().
class Store {
 public:
  struct Entry {
    std::string query;        // ClipQuery(normalised)
    std::string full;         // the whole normalised text while the fingerprint is unknown and it was clipped
    std::string fingerprint;  // "" until Fingerprint()
    Counters now;
    Counters at_snapshot;
  };
  // KeyOf is the key of a normalised text (std::hash: 64 bits).
  static std::uint64_t KeyOf(std::string_view normalized) noexcept;
  // Fingerprint computes (once) and returns the entry's fingerprint.
  static const std::string& Fingerprint(Entry& e);

  explicit Store(std::size_t max) : max_(max) {}
  void SetMax(std::size_t max) { max_ = max < 10 ? 10 : max; }
  std::size_t max() const { return max_; }

  Entry* Find(std::uint64_t key);
  // Insert adds an empty entry for a normalised text (evicting first when
  // full). May throw std::bad_alloc.
  Entry& Insert(std::uint64_t key, std::string_view normalized);
  void Clear();
  std::size_t size() const { return entries_.size(); }
  std::uint64_t evictions() const { return evictions_; }
  // generation changes whenever an entry goes (eviction, Clear): a pointer
  // to an entry kept from an earlier generation must be looked up again.
  std::uint64_t generation() const { return generation_; }
  const std::unordered_map<std::uint64_t, Entry>& entries() const { return entries_; }
  std::unordered_map<std::uint64_t, Entry>& entries() { return entries_; }

 private:
  std::size_t max_;
  std::uint64_t evictions_ = 0;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::uint64_t, Entry> entries_;
};

// SlowExecution is one entry of the slow-query log.
struct SlowExecution {
  std::int64_t at_us = 0;
  double duration_ms = 0;
  std::uint64_t key = 0;
  std::string query;
  std::uint64_t rows = 0;
  std::string user;
};

// SlowLog is a bounded ring: the newest `capacity` slow executions.
class SlowLog {
 public:
  explicit SlowLog(std::size_t capacity) : capacity_(capacity) {}
  void SetCapacity(std::size_t capacity);
  void Add(SlowExecution e);
  void Clear() { ring_.clear(); }
  // Newest first, at most `limit`.
  std::vector<const SlowExecution*> Newest(std::size_t limit) const;

 private:
  std::size_t capacity_;
  std::list<SlowExecution> ring_;  // oldest at the front
};

}  // namespace vigil::core::monitor
