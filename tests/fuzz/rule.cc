// rule.cc — fuzz target: rule params and value checks, ParseRule and
// CheckValue (rules/rules.h), and the violation formatting both engines print.
//
// Input: kind, NUL, params JSON, NUL, value ("range\0{\"min\":1}\05").
// An empty or missing params part is SQL NULL params; no value part is a
// NULL value.
#include <optional>
#include <string>
#include <vector>

#include "fuzz.h"
#include "rules/rules.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto parts = fuzz::Split(fuzz::Text(data, size), 3);
  std::string_view kind = parts[0];
  std::optional<std::string_view> params, value;
  if (parts.size() > 1 && !parts[1].empty()) params = parts[1];
  if (parts.size() > 2) value = parts[2];
  fuzz::Expected([&] {
    core::Rule rule = core::ParseRule(kind, params);
    fuzz::Check(!rule.name.empty(), "ParseRule returned a rule without a name");
    if (core::NeedsEngine(rule)) return;
    std::optional<std::string> reason = core::CheckValue(rule, value);
    // The same check through the per-row cache, twice (the second a hit).
    core::ParsedRuleCache cache;
    for (int i = 0; i < 2; ++i)
      fuzz::Check(core::RuleCheck(cache, kind, params, value) == reason, "RuleCheck and CheckValue disagree");
    if (reason) {
      std::vector<core::Violation> v{{"c", rule.name, *reason}};
      (void)core::ViolationsMessage("t", v);
      (void)core::ViolationsJson(v);
    }
  });
  return 0;
}
