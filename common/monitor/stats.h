// stats.h — statement monitoring's counters (SPEC §8, docs/monitoring.md),
// the same on both engines: what one statement shape accumulated, with a
// latency histogram from which percentiles are read.
//
// The spread comes from sums of deviations from a shift (the first
// duration): variance = sum_sq_dev / n - (sum_dev / n)^2. No division on the
// path every statement takes; merging and deltas are sums (moved to one
// shift); and since the shift is near the mean, the subtraction loses
// nothing that matters (10 s +- 1 us keeps its 1 us, tests/core).
//
// Counters is trivially copyable and holds no pointer, so PostgreSQL keeps
// it in shared memory as it is; every method is noexcept and allocates
// nothing, so engine code may call them (pg_ext/monitor_pg.cc runs them
// under a spinlock).
//
// The histogram: bucket 0 holds durations under 1,024 ns; above that each
// power of two is split into 8 equal buckets (b = 1 + 8 * (msb - 10) + the
// three bits after the most significant one), 255 of them, up to 2^42 ns
// (73 minutes); longer durations land in the last bucket. A percentile is
// the middle of the bucket the rank falls in, clamped to the observed
// minimum and maximum, so it is within 1/16 (6.25 %) of a duration that
// was observed at that rank.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace vigil::core::monitor {

inline constexpr int kBuckets = 256;

// BucketOf is the histogram bucket of a duration in nanoseconds.
int BucketOf(std::uint64_t ns) noexcept;
// BucketLowNs and BucketHighNs bound bucket b: [low, high).
std::uint64_t BucketLowNs(int b) noexcept;
std::uint64_t BucketHighNs(int b) noexcept;

struct Counters {
  std::uint64_t calls = 0;
  std::uint64_t rows = 0;
  std::uint64_t errors = 0;
  std::uint64_t total_ns = 0;
  std::uint64_t min_ns = 0;
  std::uint64_t max_ns = 0;
  double shift_ms = 0;    // the first duration: the spread is summed around it
  double sum_dev_ms = 0;  // sum of (duration - shift)
  double sum_sq_dev = 0;  // sum of (duration - shift)^2
  std::int64_t first_us = 0;  // first and last execution, Unix microseconds
  std::int64_t last_us = 0;
  std::uint64_t window_max_ns = 0;  // the longest since the last snapshot
  std::uint64_t hist[kBuckets] = {};

  // Add records one execution that took `ns` and returned or changed `rows`.
  void Add(std::uint64_t ns, std::uint64_t rows, std::int64_t now_us) noexcept;
  // AddError records an execution that failed (counted apart from calls).
  void AddError(std::int64_t now_us) noexcept;
  // Merge adds another set (a backend's batch) into this one.
  void Merge(const Counters& other) noexcept;

  double TotalMs() const noexcept { return static_cast<double>(total_ns) / 1e6; }
  double MeanMs() const noexcept;
  double StddevMs() const noexcept;  // population standard deviation
  // PercentileMs reads the p-th quantile (0 < p <= 1) from the histogram;
  // 0 when there were no calls.
  double PercentileMs(double p) const noexcept;
};
static_assert(std::is_trivially_copyable_v<Counters>);

// Delta is what `now` holds beyond `then` (the counters at the last
// snapshot of the same entry): calls, rows, errors, time and histogram
// differences; max_ns is now.window_max_ns. When `now` holds less than
// `then` (its counters started again), the whole of `now`.
Counters Delta(const Counters& now, const Counters& then) noexcept;

// PercentileOf reads the p-th quantile from a histogram alone, clamped to
// [min_ns, max_ns] when those are known (non-zero max).
double PercentileOf(const std::uint64_t* hist, std::uint64_t calls, double p, std::uint64_t min_ns,
                    std::uint64_t max_ns) noexcept;

// EncodeHistogram writes the non-empty buckets as "b:count,b:count" (the
// history tables' `histogram` column); DecodeHistogram reads it back into
// hist[kBuckets] (added to what is there) and throws Error(kInvalidText)
// for anything else, so a damaged or hostile history row cannot be misread.
std::string EncodeHistogram(const std::uint64_t* hist);
void DecodeHistogram(std::string_view text, std::uint64_t* hist);

// kMaxQueryText is how many bytes of a statement's normalised text an entry
// keeps (cut at a UTF-8 boundary, "..." appended); the fingerprint is of the
// whole text.
inline constexpr std::size_t kMaxQueryText = 1024;
std::string ClipQuery(std::string_view normalized);

// UtcText formats Unix microseconds as ISO-8601 UTC with microseconds
// ("2026-12-05T10:24:13.123456Z"), the SQLite form of timestamptz.
std::string UtcText(std::int64_t unix_us);

// FingerprintKey is the 64-bit number a fingerprint's 16 hex digits spell
// (0 for anything else): the key both engines' tables use.
std::uint64_t FingerprintKey(std::string_view fingerprint) noexcept;
std::string FingerprintText(std::uint64_t key);

}  // namespace vigil::core::monitor
