// row_check.cc — fuzz target: checking a row against a table's rules
// (rules/row_check.h), as every INSERT and UPDATE does: ParseTypedRow,
// TablePlan over stored rules, RowCheck and Finish.
//
// Input: the row JSON, then (column, kind, params) triples, all split by
// NUL ("{\"a\":5}\0a\0range\0{\"max\":3}"). An empty column is a row-level
// rule; empty params are SQL NULL. The table has the rules' columns plus
// "a" and "b", with declared types taken in turn from both engines'
// spellings.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "fuzz.h"
#include "rules/row_check.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  auto parts = fuzz::Split(fuzz::Text(data, size), 1 + 3 * 8);
  static const char* const kTypes[] = {"integer", "REAL", "numeric(10,2)", "text", "boolean", "", "jsonb",
                                       "VARCHAR(3)", "double precision", "bigint"};
  core::TableInfo table;
  table.name = "t";
  std::vector<core::StoredRule> rules;
  auto add_column = [&](const std::string& c) {
    if (std::find(table.columns.begin(), table.columns.end(), c) != table.columns.end()) return;
    table.columns.push_back(c);
    table.types.push_back(kTypes[table.types.size() % (sizeof(kTypes) / sizeof(kTypes[0]))]);
  };
  add_column("a");
  add_column("b");
  for (std::size_t i = 1; i + 1 < parts.size(); i += 3) {  // column and kind; params optional
    core::StoredRule r;
    if (!parts[i].empty()) {
      r.column = std::string(parts[i]);
      add_column(*r.column);
    }
    r.rule = std::string(parts[i + 1]);
    if (i + 2 < parts.size() && !parts[i + 2].empty()) r.params = std::string(parts[i + 2]);
    r.id = static_cast<long long>(rules.size() + 1);
    rules.push_back(std::move(r));
  }
  fuzz::Expected([&] {
    core::TypedRow row = core::ParseTypedRow(parts[0]);
    auto plan = std::make_shared<const core::TablePlan>(table, rules);
    for (bool types : {true, false}) {
      core::RowCheck check(plan, row, &row, types);
      for (auto& q : check.queries()) q.violated = (q.rule_index & 1) != 0;
      auto violations = check.Finish();
      if (!violations.empty()) {
        (void)core::ViolationsMessage(table.name, violations);
        (void)core::ViolationsJson(violations);
      }
    }
  });
  return 0;
}
