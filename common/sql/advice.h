// advice.h — index candidates for a statement (SPEC §7, issue 15): what
// vigil_analyze_query tries against the engine's planner before it
// suggests anything. Only a candidate the planner then uses is suggested;
// the engine adapters do the planning (PostgreSQL: hypothetical indexes in
// the planner hook; SQLite: an in-memory copy of the schema and its
// statistics).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sql/analyze.h"

namespace vigil::core::sql {

// Candidates proposes, per table the statement filters, joins or sorts:
//   1. its equality columns, in the order written, then its first range column;
//   2. its equality columns, then its ORDER BY columns (an index that also sorts);
//   3. each join column alone (the index behind a foreign key).
// `columns_of(table)` lists the table's columns (empty: unknown table, no
// candidate); an unqualified column goes to the one candidate table that
// has it. A candidate whose columns an existing index (`indexes_of`)
// already starts with is left out, and so are duplicates. At most
// `limit` candidates, in that order.
std::vector<Candidate> Candidates(const Analysis& a,
                                  const std::function<std::vector<std::string>(const std::string&)>& columns_of,
                                  const std::function<std::vector<std::vector<std::string>>(const std::string&)>& indexes_of,
                                  std::size_t limit = 8);

// IndexName is the name the suggested DDL gives the index:
// <table>_<col>_<col>_idx, cut to 63 bytes (PostgreSQL's identifier
// length), the table's schema left out.
std::string IndexName(const Candidate& c);

// IndexHealth reads the existing indexes (Planner::ExistingIndexes):
//   invalid_indexes    a failed CREATE INDEX CONCURRENTLY left it unusable;
//   duplicate_indexes  the same key columns as another (the primary key or
//                      a unique index is the one kept);
//   redundant_indexes  a plain index whose columns start another's;
//   unused_indexes     never scanned since statistics were reset (not a
//                      primary key or unique index); null when the engine
//                      counts no scans (SQLite), with unused_note saying so.
// The health checks (issue 17) read the same function.
nlohmann::json IndexHealth(const std::vector<Planner::ExistingIndex>& indexes);

// IndexAdvice is vigil_index_advice: `statements` is null, an array of
// statements (text, or {"sql", "calls", "total_ms"}), or {"statements":
// [...], "plan_as_superuser": bool}. Each is analysed with its plan and
// index suggestions (AnalyzeQueryJson); suggestions are merged per table
// and columns (one whose columns start another's folds into it) and
// ranked by the time they would save (total_ms given: total_ms x the
// fraction of estimated cost saved), else the estimated cost saved x
// calls (PostgreSQL), else the whole-table scans ended x calls (SQLite).
// With null it advises on `monitored` (the heaviest monitored statements,
// {"sql", "calls", "total_ms"} each; source "monitoring"), or, when
// monitoring is not running (nullptr), says so. IndexHealth's lists are
// part of every answer.
// Throws Error(kInvalidParameter) for a malformed argument,
// Error(kProgramLimit) above 1,000 statements.
nlohmann::json IndexAdvice(const nlohmann::json* statements, Dialect dialect, Planner* planner,
                           const nlohmann::json* monitored = nullptr);

// IndexDdl is the statement that creates it: CREATE INDEX "name" ON
// "schema"."table" ("a", "b"), every identifier quoted; the name is
// c.name, or IndexName(c) when that is empty.
std::string IndexDdl(const Candidate& c);

}  // namespace vigil::core::sql
