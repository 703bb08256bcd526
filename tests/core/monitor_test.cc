// monitor_test.cc — statement monitoring's core (monitor/stats.h,
// monitor/report.h): the histogram's layout and error bound, Welford and
// Chan's merge against a direct computation, deltas, the history's
// histogram encoding (hostile text refused), the report's windows, and the
// SQLite store's eviction.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "monitor/report.h"
#include "monitor/stats.h"

namespace vigil::core::monitor {
namespace {

TEST(Histogram, LayoutCoversEveryDurationOnce) {
  EXPECT_EQ(BucketOf(0), 0);
  EXPECT_EQ(BucketOf(1023), 0);
  EXPECT_EQ(BucketOf(1024), 1);
  EXPECT_EQ(BucketOf(1024 + 127), 1);
  EXPECT_EQ(BucketOf(1024 + 128), 2);
  EXPECT_EQ(BucketOf(2047), 8);
  EXPECT_EQ(BucketOf(2048), 9);
  EXPECT_EQ(BucketOf(UINT64_MAX), kBuckets - 1);
  for (int b = 1; b < kBuckets - 1; ++b) {
    EXPECT_EQ(BucketOf(BucketLowNs(b)), b) << b;
    EXPECT_EQ(BucketOf(BucketHighNs(b) - 1), b) << b;
    EXPECT_EQ(BucketHighNs(b), BucketLowNs(b + 1));
  }
}

TEST(Histogram, PercentileWithinTheDocumentedBound) {
  // A single value: every percentile is within 1/16 of it.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::uint64_t ns = 1024 + rng() % 4000000000ULL;
    Counters c;
    c.Add(ns, 1, 1);
    c.Add(ns * 3, 1, 2);  // max away from ns so clamping does not help
    double p = PercentileOf(c.hist, c.calls, 0.5, 0, 0) * 1e6;
    EXPECT_LE(std::fabs(p - static_cast<double>(ns)) / static_cast<double>(ns), 1.0 / 16 + 1e-12) << ns;
  }
}

TEST(Histogram, PercentilesOfAUniformSpread) {
  Counters c;
  for (int i = 1; i <= 1000; ++i) c.Add(static_cast<std::uint64_t>(i) * 1000000, 0, i);  // 1..1000 ms
  EXPECT_NEAR(c.PercentileMs(0.50), 500, 500.0 / 16);
  EXPECT_NEAR(c.PercentileMs(0.95), 950, 950.0 / 16);
  EXPECT_NEAR(c.PercentileMs(0.99), 990, 990.0 / 16);
  EXPECT_DOUBLE_EQ(c.MeanMs(), 500.5);
  EXPECT_EQ(c.min_ns, 1000000u);
  EXPECT_EQ(c.max_ns, 1000000000u);
  EXPECT_EQ(c.first_us, 1);
  EXPECT_EQ(c.last_us, 1000);
  EXPECT_EQ(Counters().PercentileMs(0.95), 0);
}

TEST(Counters, SpreadOfNearlyEqualLongDurations) {
  // The cancellation the sum of squares risks: 100,000 calls of 10 s +- 1 us.
  Counters c;
  for (int i = 0; i < 100000; ++i) c.Add(10000000000ULL + (i % 2 ? 1000 : -1000), 0, 1);
  EXPECT_NEAR(c.StddevMs(), 0.001, 0.0005);
}

TEST(Counters, MergeMatchesOneSeries) {
  std::mt19937_64 rng(11);
  Counters all, a, b;
  std::vector<double> ms;
  for (int i = 0; i < 5000; ++i) {
    std::uint64_t ns = 1000 + rng() % 50000000;
    all.Add(ns, 2, i + 1);
    (i % 3 == 0 ? a : b).Add(ns, 2, i + 1);
    ms.push_back(static_cast<double>(ns) / 1e6);
  }
  a.AddError(9);
  Counters merged = a;
  merged.Merge(b);
  EXPECT_EQ(merged.calls, all.calls);
  EXPECT_EQ(merged.rows, 10000u);
  EXPECT_EQ(merged.errors, 1u);
  EXPECT_EQ(merged.total_ns, all.total_ns);
  EXPECT_EQ(merged.min_ns, all.min_ns);
  EXPECT_EQ(merged.max_ns, all.max_ns);
  for (int k = 0; k < kBuckets; ++k) EXPECT_EQ(merged.hist[k], all.hist[k]);
  double mean = 0;
  for (double v : ms) mean += v;
  mean /= static_cast<double>(ms.size());
  double var = 0;
  for (double v : ms) var += (v - mean) * (v - mean);
  double sd = std::sqrt(var / static_cast<double>(ms.size()));
  EXPECT_NEAR(all.StddevMs(), sd, sd * 1e-9);
  EXPECT_NEAR(merged.StddevMs(), sd, sd * 1e-9);
}

TEST(Counters, DeltaIsTheInterval) {
  Counters then;
  for (int i = 0; i < 10; ++i) then.Add(1000000, 1, i + 1);
  Counters now = then;
  now.window_max_ns = 0;  // a snapshot was taken at `then`
  for (int i = 0; i < 5; ++i) now.Add(3000000, 2, 100 + i);
  Counters d = Delta(now, then);
  EXPECT_EQ(d.calls, 5u);
  EXPECT_EQ(d.rows, 10u);
  EXPECT_EQ(d.total_ns, 15000000u);
  EXPECT_EQ(d.max_ns, 3000000u);
  EXPECT_NEAR(d.PercentileMs(0.5), 3.0, 3.0 / 16);
  EXPECT_NEAR(d.StddevMs(), 0.0, 1e-9);
  // A varied interval's spread is that of its own values.
  Counters later = now;
  std::vector<double> ms;
  for (int i = 0; i < 100; ++i) {
    later.Add(static_cast<std::uint64_t>(1000000 + 37000 * (i % 11)), 0, 200 + i);
    ms.push_back((1000000 + 37000 * (i % 11)) / 1e6);
  }
  double mean = 0, var = 0;
  for (double v : ms) mean += v / 100;
  for (double v : ms) var += (v - mean) * (v - mean) / 100;
  EXPECT_NEAR(Delta(later, now).StddevMs(), std::sqrt(var), 1e-9);
  // Counters that started again (a reset) are the interval whole.
  Counters fresh;
  fresh.Add(2000000, 1, 200);
  EXPECT_EQ(Delta(fresh, then).calls, 1u);
}

TEST(HistogramText, RoundTripsAndRefusesAnythingElse) {
  Counters c;
  c.Add(500, 0, 1);
  c.Add(5000000, 0, 1);
  c.Add(5000000, 0, 1);
  std::string text = EncodeHistogram(c.hist);
  std::string expected = "0:1,";
  expected.append(std::to_string(BucketOf(5000000))).append(":2");
  EXPECT_EQ(text, expected);
  std::uint64_t h[kBuckets] = {};
  DecodeHistogram(text, h);
  for (int k = 0; k < kBuckets; ++k) EXPECT_EQ(h[k], c.hist[k]);
  DecodeHistogram("", h);  // empty: nothing added
  for (const char* bad : {"256:1", "1:", ":1", "1:2,", ",1:2", "1;2", "1:2 ", "-1:2", "1:99999999999999999999999",
                          "1:18446744073709551616", "00000000000000000000001:1", "1:2,,3:4", "x"}) {
    std::uint64_t g[kBuckets] = {};
    EXPECT_THROW(DecodeHistogram(bad, g), Error) << bad;
  }
}

TEST(Text, ClipAndTimes) {
  EXPECT_EQ(ClipQuery("select 1"), "select 1");
  std::string long_text(2000, 'a');
  long_text[1020] = '\xc3';
  long_text[1021] = '\xa9';  // é across the cut
  std::string clipped = ClipQuery(long_text);
  EXPECT_LE(clipped.size(), kMaxQueryText);
  EXPECT_EQ(clipped.substr(clipped.size() - 3), "...");
  EXPECT_EQ(UtcText(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(UtcText(1764929053123456), "2025-12-05T10:04:13.123456Z");
  EXPECT_EQ(FingerprintKey("00000000000000ff"), 255u);
  EXPECT_EQ(FingerprintKey("xyz"), 0u);
  EXPECT_EQ(FingerprintText(255), "00000000000000ff");
}

Interval Row(std::int64_t at_us, const std::string& fp, std::uint64_t calls, double each_ms,
             const std::string& epoch = std::string()) {
  Counters c;
  for (std::uint64_t i = 0; i < calls; ++i) c.Add(static_cast<std::uint64_t>(each_ms * 1e6), 1, at_us);
  Interval i;
  i.at_us = at_us;
  i.fingerprint = fp;
  i.query = fp;
  i.calls = calls;
  i.rows = calls;
  i.total_ms = c.TotalMs();
  i.max_ms = each_ms;
  i.histogram = EncodeHistogram(c.hist);
  i.epoch = epoch;
  return i;
}

TEST(Report, WindowsTopSlowAndHourly) {
  const std::int64_t hour = 3600000000LL;
  const std::int64_t now = 1000 * hour + hour / 2;  // half past an hour
  ReportInput in;
  in.hours = 2;
  in.now_us = now;
  in.slow_query_ms = 100;
  // Epochs are the counters' start times: e1 before the window, e2 (a
  // reset) ten minutes ago.
  std::string e1 = UtcText(now - 5 * hour), e2 = UtcText(now - hour / 6);
  in.intervals = {
      Row(now - 3 * hour, "old", 1000, 500),                     // outside the window
      Row(now - hour - hour / 4, "a", 10, 1, e1),        // in, the hour before
      Row(now - hour / 4, "a", 10, 1, e1),               // in, this hour
      Row(now - hour / 4, "slow", 2, 250, e1),
      Row(now, "a", 5, 2, e2),                           // live, after the reset
  };
  nlohmann::json r = nlohmann::json::parse(PerformanceReport(in));
  EXPECT_EQ(r["hours"], 2);
  EXPECT_EQ(r["calls"], 27);
  EXPECT_EQ(r["statements"], 2);
  EXPECT_NEAR(r["total_time_ms"].get<double>(), 10 + 10 + 500 + 10, 1e-6);
  ASSERT_EQ(r["slow_queries"].size(), 1u);
  EXPECT_EQ(r["slow_queries"][0]["fingerprint"], "slow");
  EXPECT_EQ(r["slow_queries"][0]["calls"], 2);
  EXPECT_NEAR(r["slow_queries"][0]["avg_time_ms"].get<double>(), 250, 1e-6);
  EXPECT_NEAR(r["slow_queries"][0]["max_time_ms"].get<double>(), 250, 1e-6);
  ASSERT_EQ(r["top_statements"].size(), 2u);
  EXPECT_EQ(r["top_statements"][0]["fingerprint"], "slow");
  EXPECT_EQ(r["top_statements"][1]["calls"], 25);
  ASSERT_EQ(r["hourly"].size(), 2u);  // the clock hours that hold intervals
  EXPECT_EQ(r["hourly"][0]["hour"], UtcText(999 * hour));
  EXPECT_EQ(r["hourly"][1]["calls"], 17);
  EXPECT_EQ(r["snapshots"], 2);
  EXPECT_EQ(r["resets"], nlohmann::json::array({e2}));
  // A slow threshold of -1 lists none; hours out of range are refused.
  in.slow_query_ms = -1;
  EXPECT_TRUE(nlohmann::json::parse(PerformanceReport(in))["slow_queries"].empty());
  for (double bad : {0.0, -1.0, 87601.0, std::nan(""), HUGE_VAL}) {
    in.hours = bad;
    EXPECT_THROW(PerformanceReport(in), Error) << bad;
  }
  // A malformed histogram in the history is an error, not a wrong figure.
  in.hours = 2;
  in.intervals[1].histogram = "1:2:3";
  EXPECT_THROW(PerformanceReport(in), Error);
}

TEST(Store, EvictsTheLeastCalledFivePercent) {
  Store s(100);
  for (std::uint64_t k = 1; k <= 100; ++k) {
    std::string q = std::to_string(k);
    Store::Entry& e = s.Insert(k, q);
    for (std::uint64_t i = 0; i < k; ++i) e.now.Add(1000, 0, 1);
  }
  EXPECT_EQ(s.size(), 100u);
  s.Insert(1000, "new");
  EXPECT_EQ(s.evictions(), 5u);
  EXPECT_EQ(s.size(), 96u);
  for (std::uint64_t k = 1; k <= 5; ++k) EXPECT_EQ(s.Find(k), nullptr) << k;
  EXPECT_NE(s.Find(6), nullptr);
  EXPECT_NE(s.Find(1000), nullptr);
}

TEST(SlowLog, KeepsTheNewest) {
  SlowLog log(3);
  for (int i = 0; i < 5; ++i) log.Add({i, 1.0, 1, "q", 0, ""});
  auto newest = log.Newest(10);
  ASSERT_EQ(newest.size(), 3u);
  EXPECT_EQ(newest[0]->at_us, 4);
  EXPECT_EQ(newest[2]->at_us, 2);
  EXPECT_EQ(log.Newest(1).size(), 1u);
  log.SetCapacity(1);
  EXPECT_EQ(log.Newest(10).size(), 1u);
}

}  // namespace
}  // namespace vigil::core::monitor
