// monitor_history.cc — fuzz target: what statement monitoring reads back
// from a history table (monitor/stats.h DecodeHistogram, monitor/report.h
// PerformanceReport). On SQLite the rows come from the file, which a
// hostile party may have written.
//
// Input: "histogram\0query\0epoch". Invariants: a histogram that decodes
// encodes to text that decodes to the same buckets; the report over rows
// carrying the three fields is valid JSON whatever the bytes of the query
// and epoch, or a vigil Error.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz.h"
#include "monitor/report.h"
#include "monitor/stats.h"

using namespace vigil;
namespace mon = core::monitor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto parts = fuzz::Split(fuzz::Text(data, size), 3);
  std::uint64_t h[mon::kBuckets] = {};
  bool decoded = false;
  fuzz::Expected([&] {
    mon::DecodeHistogram(parts[0], h);
    decoded = true;
  });
  if (decoded) {
    std::string text = mon::EncodeHistogram(h);
    std::uint64_t again[mon::kBuckets] = {};
    mon::DecodeHistogram(text, again);
    for (int b = 0; b < mon::kBuckets; ++b) fuzz::Check(h[b] == again[b], "a histogram does not survive its encoding");
  }
  fuzz::Expected([&] {
    mon::ReportInput in;
    in.hours = 24;
    in.now_us = 1764929053000000;
    mon::Interval i;
    i.at_us = in.now_us - 1000000;
    i.fingerprint = parts.size() > 1 ? std::string(parts[1].substr(0, 16)) : "f";
    i.query = parts.size() > 1 ? std::string(parts[1]) : "";
    i.epoch = parts.size() > 2 ? std::string(parts[2]) : "";
    i.calls = 3;
    i.total_ms = 1.5;
    i.max_ms = 1;
    i.histogram = std::string(parts[0]);
    in.intervals.push_back(i);
    i.at_us = in.now_us;
    in.intervals.push_back(i);
    nlohmann::json r = nlohmann::json::parse(mon::PerformanceReport(in));
    fuzz::Check(r["calls"] == 6, "the report lost calls");
  });
  return 0;
}
