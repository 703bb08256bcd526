// analyze.h — static analysis of one statement (SPEC §7, issue 15): what
// vigil_analyze_query answers from the text alone, the same on both
// engines. The engine adapters add what needs the database (the plan,
// index suggestions proven against the planner).
//
// The analysis reads sql::Tokenize's tokens, not a grammar: it knows
// where each query block (the statement, or a parenthesised subquery)
// starts, which clause a token sits in (select list, FROM, WHERE, ...),
// and what a clause keyword deeper in parentheses means (extract(year FROM
// x) opens no FROM clause). That is enough for the rules below and keeps
// the analysis linear in the text: it never throws for bad SQL (an
// unterminated string is one token to the end, as the engine reads it),
// and polls the cancellation check while it scans.
//
// The rules (docs/query-analysis.md has a section for each, with why it
// matters and a bad and a good example):
//   select_star             SELECT * or t.* outside EXISTS (...)             warning
//   missing_where           UPDATE or DELETE without WHERE                   error
//   leading_wildcard_like   LIKE/ILIKE '%...' or '_...', GLOB '*...'         warning
//   function_on_column      f(column) compared in WHERE or ON                warning
//   implicit_cross_join     FROM a, b (error when the block has no WHERE)    warning
//   not_in_subquery         NOT IN (SELECT ...)                              warning
//   equals_null             = NULL, <> NULL, != NULL outside SET             error
//   order_by_random         ORDER BY random()                                warning
//   large_offset            OFFSET n (or SQLite LIMIT n, m) with n >= 1000   warning
//   or_chain                x = a OR x = b OR x = c ...                      info
//   tautology               OR 1 = 1, OR 'a' = 'a', OR true                  error
//   stacked_statements      more than one statement in the text              warning;
//                                                                            error when a later one writes
//   insert_without_columns  INSERT INTO t VALUES/SELECT without (columns)    warning
// With the engine's plan, three more read the schema (SchemaLint):
//   function_on_indexed_column, wildcard_scan_large_table, unindexed_foreign_key.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sql/dialect.h"

namespace vigil::core::sql {

// Issue is one rule's finding. `position` is where in the text it points:
// a 1-based character (not byte) offset, as PostgreSQL's error positions.
struct Issue {
  std::string rule;
  std::string severity;  // "error", "warning" or "info"
  std::string message;   // the risk
  std::string hint;      // the fix
  std::size_t position;
};

// Predicate is a column a query filters, joins or sorts on, as written:
// the material for index suggestions. `table` is the table the column's
// qualifier names (through its alias), or empty when unqualified; then
// `candidates` are the tables of its query block, and the engine, which
// knows their columns, decides.
struct Predicate {
  std::string table;
  std::vector<std::string> candidates;
  std::string column;
  enum Kind { kEquality, kRange, kOrder, kJoin } kind;
  std::size_t byte = 0;  // where the condition starts in the text
};

// ColumnUse is a column a static finding is about, resolved to its table
// where the text says which: what the lint that reads the schema checks
// (an index the condition cannot use, the size of the table scanned).
struct ColumnUse {
  std::string rule, table, column;
  std::size_t byte;  // where in the text
};

struct AnalyzeOptions {
  long long offset_threshold = 1000;  // large_offset fires at OFFSET >= this
  int or_chain_length = 3;            // or_chain fires at this many terms
};

struct Analysis {
  std::string fingerprint;
  std::string normalized;
  std::string kind;  // select, insert, update, delete, merge, ddl, other; "" for no statement
  std::size_t statements = 0;
  std::vector<std::string> tables;  // as written: unquoted names lower-cased, schema.table kept
  std::vector<Issue> issues;  // at most 1,000, in text order
  bool issues_truncated = false;
  std::vector<Predicate> predicates;
  std::vector<ColumnUse> uses;
  // alias -> table, for every aliased table reference (SQLite's plan names
  // a table by its alias)
  std::vector<std::pair<std::string, std::string>> aliases;
};

// Analyze runs the rules on `sql`. Throws only Error(kCanceled) and
// std::bad_alloc (and what Fingerprint throws without its companion).
Analysis Analyze(std::string_view sql, Dialect dialect, const AnalyzeOptions& options = {});

// ParseAnalyzeOptions reads the rule options of vigil_analyze_query's
// options object ("offset_threshold", "or_chain_length"); other keys are
// the adapter's. Throws Error(kInvalidParameter) for a bad value.
AnalyzeOptions ParseAnalyzeOptions(const nlohmann::json& options);

// ToJson is SPEC §7's object without the engine's parts: fingerprint,
// normalized, kind, statements, tables, issues.
nlohmann::json ToJson(const Analysis& a);

// Candidate is an index tried against the planner (sql/advice.h makes
// them): `name` is the one its DDL gives it.
struct Candidate {
  std::string table;
  std::vector<std::string> columns;
  std::string name;
};

// Planner is what an engine adapter lends the analysis: its plan of one
// statement. Plan returns the summary (sql/plan.h) or, when the engine
// refuses to plan the statement for a reason that belongs to the
// statement (a syntax error, an unknown table, a missing privilege), sets
// `refusal` ("SQLSTATE: message") and returns null. Anything else (a
// cancel, out of memory) it throws.
class Planner {
 public:
  virtual ~Planner() = default;
  virtual nlohmann::json Plan(std::string_view sql, bool analyze, std::string* refusal) = 0;
  // Whether the engine can run the statement for EXPLAIN ANALYZE.
  virtual bool CanAnalyze() const = 0;

  // Index advice (sql/advice.h). CanSuggest says whether the engine can
  // plan with an index that does not exist. Columns lists a table's
  // columns (empty when there is no such table the caller may read);
  // Indexes the key columns of its B-tree indexes. PlanWith plans `sql` as
  // if the candidate index existed, and says whether the plan uses it;
  // null when it cannot plan (NoSuggestions then says why).
  virtual bool CanSuggest() const { return false; }
  virtual std::vector<std::string> Columns(const std::string&) { return {}; }
  virtual std::vector<std::vector<std::string>> Indexes(const std::string&) { return {}; }
  // PlanWith(sql, nullptr) is the baseline plan in the same setting.
  // The plan names the candidate's index `candidate->name`.
  virtual nlohmann::json PlanWith(std::string_view, const Candidate*, bool*) { return nullptr; }
  // NameTaken: a relation of that name already exists where the index
  // would go (the suggested DDL must not collide).
  virtual bool NameTaken(const std::string&, const std::string&) { return false; }
  // StatementTables: the tables the statement names, before any PlanWith.
  virtual void StatementTables(const std::vector<std::string>&) {}
  // ExistingIndexes lists the database's indexes on user tables, for
  // vigil_index_advice's unused, duplicate, redundant and invalid lists.
  struct ExistingIndex {
    std::string table, name;
    std::vector<std::string> columns;  // key columns in order; "" for an expression
    bool unique = false, primary = false, valid = true, partial = false;
    long long scans = -1;  // index scans counted by the engine; -1: it counts none (SQLite)
    long long bytes = -1;  // size; -1: unknown
  };
  virtual std::vector<ExistingIndex> ExistingIndexes() { return {}; }
  // For the lint that reads the schema: the table's estimated rows (-1:
  // unknown) and the columns of its foreign keys.
  virtual long long RowEstimate(const std::string&) { return -1; }
  virtual std::vector<std::vector<std::string>> ForeignKeys(const std::string&) { return {}; }
  // AllowPrivileged: the caller asked to plan even as a superuser
  // (planning runs the statement's immutable functions, and a
  // superuser's plan would run a stranger's function as superuser).
  virtual void AllowPrivileged(bool) {}
  // Why the engine cannot suggest, when CanSuggest is false.
  virtual std::string NoSuggestions() const { return "this engine cannot plan with hypothetical indexes"; }
};

// AnalyzeQuery is vigil_analyze_query: the analysis above as JSON text,
// with "plan" (null when not asked for, or when the engine refused:
// "plan_error" then says why) from `planner`. Options (a JSON object):
//   plan              true (default) / false: ask the engine for its plan
//   analyze           false (default) / true: execute the statement for
//                     actual rows and times (PostgreSQL: in a
//                     subtransaction that is rolled back; SQLite raises
//                     0A000); refused (22023) for a statement with parameters
//   plan_as_superuser false (default) / true: PostgreSQL plans for a
//                     superuser only when asked (SQLite: no effect)
//   index_advice      true (default, with plan) / false: propose indexes
//                     and keep those the planner then uses
//                     ("index_suggestions": [{table, columns, ddl,
//                     plan_before, plan_after}])
//   offset_threshold, or_chain_length: the rules' (ParseAnalyzeOptions)
// An unknown key is an error (22023): a misspelt option never passes
// silently. The engine plans only a text holding exactly one statement.
std::string AnalyzeQuery(std::string_view sql, Dialect dialect, std::string_view options, Planner* planner);

// AnalyzeQueryJson is AnalyzeQuery with parsed options and the object
// itself (vigil_index_advice analyses each of its statements with it).
nlohmann::json AnalyzeQueryJson(std::string_view sql, Dialect dialect, const nlohmann::json& options, Planner* planner);

}  // namespace vigil::core::sql
