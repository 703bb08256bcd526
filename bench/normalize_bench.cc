// normalize_bench.cc — statement shapes per second in the core, one
// thread (issue 15): vigil's Normalize and Fingerprint (normalise, then
// SHA-256 through the OpenSSL companion) beside libpg_query's
// pg_query_fingerprint (Debian's libpg-query-dev: PostgreSQL's own parser,
// the reference pg_stat_statements-style tools use), over the same
// statements, in the same run, interleaved.
//
//   build/bench/normalize_bench [SECONDS_PER_ROUND] [ROUNDS]
//
// The statements: 1,024 realistic ones of 100 to 300 bytes (SELECTs with
// joins, IN lists and LIKE, INSERTs, UPDATEs, DELETEs) over the
// cryptotrading schema, constants varying. Prints operations per second
// for each, the median of the rounds, and vigil's fingerprint rate over
// libpg_query's. Target: at least 1,000,000 normalise+fingerprint
// operations per second. Reported, never asserted.
#include <pg_query.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "base/companion.h"
#include "sql/normalize.h"

namespace {

std::vector<std::string> Statements() {
  std::vector<std::string> out;
  const char* symbols[] = {"BTC-USD", "ETH-USD", "SOL-USD", "ADA-EUR"};
  for (int i = 0; out.size() < 1024; ++i) {
    std::string s;
    switch (i % 6) {
      case 0:
        s = "SELECT t.id, t.price, t.qty, u.email FROM trades t JOIN users u ON u.id = t.user_id WHERE t.symbol = '" +
            std::string(symbols[i % 4]) + "' AND t.created_at > '2026-0" + std::to_string(1 + i % 9) +
            "-01' ORDER BY t.created_at DESC LIMIT " + std::to_string(10 + i % 90);
        break;
      case 1:
        s = "select id, symbol, side from trades where user_id in (";
        for (int k = 0; k <= i % 12; ++k) s += (k ? ", " : "") + std::to_string(1000 + i * 7 + k);
        s += ") and side = 'buy' and qty >= " + std::to_string(i % 50) + ".5";
        break;
      case 2:
        s = "INSERT INTO trades (user_id, symbol, side, price, qty, created_at) VALUES (" + std::to_string(i) +
            ", '" + symbols[i % 4] + "', 'sell', " + std::to_string(20000 + i) + ".25, 0." + std::to_string(i % 97) +
            ", now())";
        break;
      case 3:
        s = "UPDATE users SET email = 'user" + std::to_string(i) + "@example.com', updated_at = now() WHERE id = " +
            std::to_string(i) + " AND email <> 'user" + std::to_string(i) + "@example.com' -- profile";
        break;
      case 4:
        s = "SELECT count(*), sum(price * qty) FROM trades WHERE symbol LIKE '%" + std::string(symbols[i % 4]).substr(0, 3) +
            "%' AND created_at BETWEEN '2026-01-01' AND '2026-12-31' GROUP BY side HAVING count(*) > " +
            std::to_string(i % 10);
        break;
      default:
        s = "/* cleanup */ DELETE FROM sessions WHERE user_id = " + std::to_string(i) +
            " AND expires_at < now() - interval '" + std::to_string(1 + i % 30) + " days' RETURNING id";
    }
    if (s.size() >= 100 && s.size() <= 300) out.push_back(s);
  }
  return out;
}

// Rate runs fn over the statements for about `seconds` and returns
// operations per second.
double Rate(const std::vector<std::string>& stmts, double seconds, const std::function<std::size_t(const std::string&)>& fn) {
  using clock = std::chrono::steady_clock;
  std::size_t ops = 0, sink = 0;
  auto start = clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  while (clock::now() < deadline) {
    for (const auto& s : stmts) sink += fn(s);
    ops += stmts.size();
  }
  double took = std::chrono::duration<double>(clock::now() - start).count();
  if (sink == 42) std::puts("");
  return ops / took;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  vigil::core::companion::AnchorAt(BENCH_DIR);
  std::vector<std::string> stmts = Statements();
  std::size_t bytes = 0;
  for (const auto& s : stmts) bytes += s.size();
  std::vector<double> norm, fp, pgq;
  for (int r = 0; r < rounds; ++r) {
    norm.push_back(Rate(stmts, seconds, [](const std::string& s) {
      return vigil::core::sql::Normalize(s, vigil::core::Dialect::kPostgres).size();
    }));
    fp.push_back(Rate(stmts, seconds, [](const std::string& s) {
      return vigil::core::sql::Fingerprint(s, vigil::core::Dialect::kPostgres).size();
    }));
    pgq.push_back(Rate(stmts, seconds, [](const std::string& s) {
      PgQueryFingerprintResult r = pg_query_fingerprint(s.c_str());
      std::size_t n = r.fingerprint_str != nullptr ? std::char_traits<char>::length(r.fingerprint_str) : 0;
      pg_query_free_fingerprint_result(r);
      return n;
    }));
  }
  std::printf("%zu statements, %.0f bytes on average; median of %d rounds of %.1f s each, one thread:\n",
              stmts.size(), static_cast<double>(bytes) / stmts.size(), rounds, seconds);
  std::printf("  vigil Normalize                   %12.0f ops/s\n", Median(norm));
  std::printf("  vigil Fingerprint (+ SHA-256)     %12.0f ops/s   target >= 1,000,000: %s\n", Median(fp),
              Median(fp) >= 1e6 ? "met" : "NOT met");
  std::printf("  libpg_query pg_query_fingerprint  %12.0f ops/s\n", Median(pgq));
  std::printf("  vigil Fingerprint / libpg_query:  %.1fx the rate\n", Median(fp) / Median(pgq));
  return 0;
}
