// stats.cc — see stats.h.
#include "monitor/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/error.h"
#include "base/text.h"
#include "base/core_guard.h"

namespace vigil::core::monitor {

int BucketOf(std::uint64_t ns) noexcept {
  if (ns < 1024) return 0;
  int msb = 63 - __builtin_clzll(ns);
  int b = 1 + 8 * (msb - 10) + static_cast<int>((ns >> (msb - 3)) & 7);
  return b < kBuckets ? b : kBuckets - 1;
}

std::uint64_t BucketLowNs(int b) noexcept {
  if (b <= 0) return 0;
  int msb = 10 + (b - 1) / 8;
  std::uint64_t sub = static_cast<std::uint64_t>((b - 1) % 8);
  return (std::uint64_t{1} << msb) + sub * (std::uint64_t{1} << (msb - 3));
}

std::uint64_t BucketHighNs(int b) noexcept {
  if (b <= 0) return 1024;
  if (b >= kBuckets - 1) return UINT64_MAX;
  return BucketLowNs(b + 1);
}

void Counters::Add(std::uint64_t ns, std::uint64_t n_rows, std::int64_t now_us) noexcept {
  double ms = static_cast<double>(ns) / 1e6;
  ++calls;
  rows += n_rows;
  total_ns += ns;
  if (calls == 1 || ns < min_ns) min_ns = ns;
  if (ns > max_ns) max_ns = ns;
  if (ns > window_max_ns) window_max_ns = ns;
  if (calls == 1) shift_ms = ms;
  double d = ms - shift_ms;
  sum_dev_ms += d;
  sum_sq_dev += d * d;
  if (first_us == 0) first_us = now_us;
  last_us = now_us;
  ++hist[BucketOf(ns)];
}

void Counters::AddError(std::int64_t now_us) noexcept {
  ++errors;
  if (first_us == 0) first_us = now_us;
  last_us = now_us;
}

void Counters::Merge(const Counters& o) noexcept {
  if (o.calls > 0) {
    if (calls == 0 || o.min_ns < min_ns) min_ns = o.min_ns;
    max_ns = std::max(max_ns, o.max_ns);
    window_max_ns = std::max(window_max_ns, o.window_max_ns);
    if (calls == 0) {
      shift_ms = o.shift_ms;
      sum_dev_ms = o.sum_dev_ms;
      sum_sq_dev = o.sum_sq_dev;
    } else {
      // o's sums, moved to this shift: x - s = (x - s') + (s' - s).
      double k = o.shift_ms - shift_ms, n = static_cast<double>(o.calls);
      sum_sq_dev += o.sum_sq_dev + 2 * k * o.sum_dev_ms + n * k * k;
      sum_dev_ms += o.sum_dev_ms + n * k;
    }
    calls += o.calls;
    total_ns += o.total_ns;
    rows += o.rows;
    for (int b = 0; b < kBuckets; ++b) hist[b] += o.hist[b];
  }
  errors += o.errors;
  if (o.first_us != 0 && (first_us == 0 || o.first_us < first_us)) first_us = o.first_us;
  last_us = std::max(last_us, o.last_us);
}

double Counters::MeanMs() const noexcept {
  return calls == 0 ? 0 : static_cast<double>(total_ns) / 1e6 / static_cast<double>(calls);
}

double Counters::StddevMs() const noexcept {
  if (calls < 2) return 0;
  double n = static_cast<double>(calls), mean_dev = sum_dev_ms / n;
  return std::sqrt(std::max(0.0, sum_sq_dev / n - mean_dev * mean_dev));
}

double PercentileOf(const std::uint64_t* hist, std::uint64_t calls, double p, std::uint64_t min_ns,
                    std::uint64_t max_ns) noexcept {
  // The rank is of what the histogram holds (its count equals calls unless
  // a history row was written by someone else than vigil).
  std::uint64_t held = 0;
  for (int b = 0; b < kBuckets; ++b) held += hist[b];
  calls = held;
  if (calls == 0) return 0;
  std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(calls)));
  if (rank < 1) rank = 1;
  std::uint64_t seen = 0;
  int b = 0;
  for (; b < kBuckets; ++b) {
    seen += hist[b];
    if (seen >= rank) break;
  }
  if (b == kBuckets) b = kBuckets - 1;
  double low = static_cast<double>(BucketLowNs(b));
  double high = b == kBuckets - 1 ? low * 2 : static_cast<double>(BucketHighNs(b));
  double mid = (low + high) / 2;
  if (max_ns > 0) mid = std::clamp(mid, static_cast<double>(min_ns), static_cast<double>(max_ns));
  return mid / 1e6;
}

double Counters::PercentileMs(double p) const noexcept { return PercentileOf(hist, calls, p, min_ns, max_ns); }

Counters Delta(const Counters& now, const Counters& then) noexcept {
  if (now.calls < then.calls || now.errors < then.errors || now.total_ns < then.total_ns) {
    Counters all = now;
    all.max_ns = now.window_max_ns;
    return all;
  }
  Counters d;
  d.calls = now.calls - then.calls;
  d.rows = now.rows >= then.rows ? now.rows - then.rows : 0;
  d.errors = now.errors - then.errors;
  d.total_ns = now.total_ns - then.total_ns;
  d.max_ns = now.window_max_ns;
  d.min_ns = 0;  // the interval's minimum is not known
  d.window_max_ns = now.window_max_ns;
  d.first_us = then.last_us != 0 ? then.last_us : now.first_us;
  d.last_us = now.last_us;
  for (int b = 0; b < kBuckets; ++b) d.hist[b] = now.hist[b] >= then.hist[b] ? now.hist[b] - then.hist[b] : 0;
  // then's sums moved to now's shift (the same one unless then was empty).
  double k = then.shift_ms - now.shift_ms, n = static_cast<double>(then.calls);
  d.shift_ms = now.shift_ms;
  d.sum_dev_ms = now.sum_dev_ms - (then.sum_dev_ms + n * k);
  d.sum_sq_dev = std::max(0.0, now.sum_sq_dev - (then.sum_sq_dev + 2 * k * then.sum_dev_ms + n * k * k));
  return d;
}

std::string EncodeHistogram(const std::uint64_t* hist) {
  std::string out;
  char buf[48];
  for (int b = 0; b < kBuckets; ++b) {
    if (hist[b] == 0) continue;
    int n = std::snprintf(buf, sizeof(buf), "%s%d:%llu", out.empty() ? "" : ",", b,
                          static_cast<unsigned long long>(hist[b]));
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void DecodeHistogram(std::string_view text, std::uint64_t* hist) {
  auto bad = [&] {
    return Error(ErrorCode::kInvalidText, "malformed histogram \"" + text::ForMessage(text, 64) + "\"", {},
                 "A histogram is \"bucket:count\" pairs separated by commas, buckets 0 to 255.");
  };
  std::size_t i = 0;
  while (i < text.size()) {
    auto number = [&](std::uint64_t limit) {
      std::size_t start = i;
      std::uint64_t v = 0;
      while (i < text.size() && text::IsDigit(static_cast<unsigned char>(text[i]))) {
        unsigned d = static_cast<unsigned>(text[i] - '0');
        if (v > (limit - d) / 10) throw bad();
        v = v * 10 + d;
        ++i;
      }
      if (i == start || i - start > 20) throw bad();
      return v;
    };
    std::uint64_t b = number(kBuckets - 1);
    if (i >= text.size() || text[i] != ':') throw bad();
    ++i;
    std::uint64_t c = number(UINT64_MAX);
    hist[b] += c;
    if (i < text.size()) {
      if (text[i] != ',' || i + 1 == text.size()) throw bad();
      ++i;
    }
  }
}

std::string ClipQuery(std::string_view normalized) {
  if (normalized.size() <= kMaxQueryText) return std::string(normalized);
  std::size_t cut = kMaxQueryText - 3;
  while (cut > 0 && (static_cast<unsigned char>(normalized[cut]) & 0xC0) == 0x80) --cut;
  return std::string(normalized.substr(0, cut)) + "...";
}

std::string UtcText(std::int64_t unix_us) {
  std::int64_t secs = unix_us >= 0 ? unix_us / 1000000 : -((-unix_us + 999999) / 1000000);
  long micros = static_cast<long>(unix_us - secs * 1000000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

std::uint64_t FingerprintKey(std::string_view fp) noexcept {
  if (fp.size() != 16) return 0;
  std::uint64_t v = 0;
  for (char c : fp) {
    if (!text::IsHex(static_cast<unsigned char>(c))) return 0;
    v = (v << 4) | static_cast<std::uint64_t>(text::HexValue(static_cast<unsigned char>(c)));
  }
  return v;
}

std::string FingerprintText(std::uint64_t key) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(key));
  return buf;
}

}  // namespace vigil::core::monitor
