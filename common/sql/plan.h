// plan.h — the engines' plans, summarised the same way (SPEC §7): which
// tables are read whole, with the rows and cost the engine estimates where
// it gives them. vigil_analyze_query asks the engine adapter for the plan
// (PostgreSQL: EXPLAIN (FORMAT JSON); SQLite: EXPLAIN QUERY PLAN) and the
// core reads it here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace vigil::core::sql {

// SummarizePostgres reads EXPLAIN (FORMAT JSON) output: {"engine",
// "analyzed", "total_cost", "rows" (estimated), "actual_rows" and
// "execution_ms" when analysed, "scans": [{"table", "node", "index",
// "rows", "filter"}], "full_scans": [table...], "explain": the output
// itself}. Throws Error(kInvalidText) for text that is not such output.
nlohmann::json SummarizePostgres(std::string_view explain_json);

// EqpRow is one row of SQLite's EXPLAIN QUERY PLAN.
struct EqpRow {
  long long id, parent;
  std::string detail;
};

// SummarizeSqlite reads EXPLAIN QUERY PLAN rows: {"engine", "steps":
// [{"id", "parent", "detail"}], "scans": [{"table", "index", "detail"}],
// "full_scans": [table...], "temp_b_tree": whether a sort or DISTINCT
// needs one}. SQLite estimates neither rows nor cost.
nlohmann::json SummarizeSqlite(const std::vector<EqpRow>& rows);

// FullScans is the "full_scans" list of a summary of either engine.
std::vector<std::string> FullScans(const nlohmann::json& summary);

}  // namespace vigil::core::sql
