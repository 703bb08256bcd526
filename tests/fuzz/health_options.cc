// health_options.cc — fuzz target: vigil_health()'s options (health/health.h
// ParseOptions), and what the core makes of a measurement whose text the
// engine took from the database (a table, index or session name in
// `subject`, an SQLite file's vigil_config) — the document, the alert and
// the Prometheus text.
//
// Input: "options\0subject". Invariants: options that parse select only
// known checks; every document is valid JSON whatever the bytes; every
// metrics line is a comment or a sample of a declared family.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz.h"
#include "base/config.h"
#include "health/health.h"

using namespace vigil;
namespace hl = core::health;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto parts = fuzz::Split(fuzz::Text(data, size), 2);
  parts.resize(2);  // a missing subject is empty
  fuzz::Expected([&] {
    hl::Options o = hl::ParseOptions(parts[0]);
    for (const std::string& n : o.only) (void)hl::FindCheck(n);  // throws for an unknown one: a bug here
    std::string why;
    for (const hl::CheckDef& c : hl::Checks()) {
      (void)hl::Wanted(c, hl::kPostgres, o, &why);
      (void)hl::Wanted(c, hl::kSqlite, o, &why);
    }
  });
  fuzz::Expected([&] {
    auto setting = [](const char* key) { return std::stol(core::FindConfig(key).default_value); };
    std::vector<hl::Result> results;
    double value = static_cast<double>(size % 997) / 7.0;
    // One check, picked by the input's size (all of them made a run 20
    // times slower, and the fixed run of the test command is short).
    auto all = hl::Checks();
    for (std::size_t k = 0; k < 1; ++k) {
      const hl::CheckDef& c = all[size % all.size()];
      hl::Measurement m;
      m.check = c.name;
      m.value = value;
      m.subject = std::string(parts[1]);
      m.details = {{"name", std::string(parts[1])}};
      results.push_back(hl::Grade(m, setting));
    }
    std::string doc = hl::HealthJson(results, "t", "sqlite", 1, std::string(parts[1]));
    fuzz::Check(nlohmann::json::accept(doc), "the health document is not JSON");
    for (const hl::Result& r : results)
      if (auto t = hl::DecideTransition(r, std::string("critical")))
        fuzz::Check(nlohmann::json::accept(t->details), "an alert's details are not JSON");
    nlohmann::json pool = {{"by_state", {{std::string(parts[1]), 1}}}, {"max_connections", 10}};
    std::string text = hl::MetricsText(results, pool);
    fuzz::Check(!text.empty() && text.back() == '\n', "metrics do not end with a newline");
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      std::string line = text.substr(start, end - start);
      fuzz::Check(line.rfind("vigil_", 0) == 0 || line.rfind("# ", 0) == 0, "a metrics line is neither sample nor comment");
      start = end + 1;
    }
  });
  return 0;
}
