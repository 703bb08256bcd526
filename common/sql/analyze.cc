// analyze.cc — the static rules of vigil_analyze_query (see analyze.h).
//
// One pass per statement over its tokens (comments dropped) builds the
// query blocks: the statement is block 0, and each "(" followed by SELECT,
// WITH or VALUES opens another. A clause keyword counts only at its
// block's own depth, so the FROM of extract(year FROM x) and the commas of
// f(a, b) change nothing. The rules then read the tokens with their block
// and clause; a block's findings that depend on all of it (a comma join
// without WHERE) are settled when the statement ends.
#include "sql/analyze.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "base/cancel.h"
#include "base/error.h"
#include "base/json.h"
#include "base/text.h"
#include "sql/advice.h"
#include "sql/lexer.h"
#include "sql/normalize.h"
#include "sql/plan.h"
#include "base/core_guard.h"

namespace vigil::core::sql {

namespace {

enum class Clause : unsigned char {
  kNone, kSelect, kFrom, kJoin, kOn, kWhere, kGroup, kHaving, kOrder, kLimit, kOffset,
  kSet, kValues, kReturning, kInto, kUpdate, kOther,
};

// Words that end a table reference or cannot be an alias or a column: the
// SQL keywords both engines reserve in those places, sorted.
constexpr std::string_view kReserved[] = {
    "all",      "and",     "any",       "as",       "asc",     "between", "by",        "case",    "cross",
    "current_date", "current_time", "current_timestamp", "default", "delete", "desc", "distinct", "do",
    "else",     "end",     "except",    "exists",   "false",   "fetch",   "for",       "from",    "full",
    "glob",     "group",   "having",    "ilike",    "in",      "indexed", "inner",     "insert",  "intersect",
    "into",     "is",      "isnull",    "join",     "lateral", "left",    "like",      "limit",   "localtime",
    "localtimestamp", "match", "natural", "not",    "notnull", "null",    "offset",    "on",      "or",
    "order",    "outer",   "over",      "regexp",   "returning", "right", "select",    "set",     "similar",
    "some",     "tablesample", "then",  "true",     "union",   "update",  "using",     "values",  "when",
    "where",    "window",  "with",
};

bool Reserved(std::string_view lower) {
  static const std::vector<std::string_view> sorted = [] {
    std::vector<std::string_view> v(std::begin(kReserved), std::end(kReserved));
    std::sort(v.begin(), v.end());
    return v;
  }();
  return std::binary_search(sorted.begin(), sorted.end(), lower);
}

struct Tk {
  TokenKind kind;
  std::size_t begin, end;
  std::string_view text;
  std::string lower;  // words only
  int depth = 0;      // parentheses around it ("(" and ")" count as outside)
  int block = 0;
  Clause clause = Clause::kNone;
  std::size_t match = 0;  // for "(": the index of its ")" (or the end)
};

struct TableRef {
  std::string name, alias;
  std::size_t token;  // where it is named
};

struct Block {
  int depth = 0;
  bool exists = false;      // opened by EXISTS (
  bool has_where = false;
  std::string verb;         // the block's first word
  std::vector<TableRef> tables;
  std::vector<std::size_t> comma_joins;  // token indexes of FROM a, b commas
};

bool IsOp(const Tk& t, std::string_view op) { return t.kind == TokenKind::kOperator && t.text == op; }
bool IsWord(const Tk& t, std::string_view w) { return t.kind == TokenKind::kWord && t.lower == w; }
bool IsConstant(const Tk& t) {
  return t.kind == TokenKind::kString || t.kind == TokenKind::kNumber || t.kind == TokenKind::kParameter;
}
bool IsName(const Tk& t) {
  return t.kind == TokenKind::kQuotedIdentifier || (t.kind == TokenKind::kWord && !Reserved(t.lower));
}
bool IsComparison(const Tk& t) {
  if (t.kind == TokenKind::kOperator)
    return t.text == "=" || t.text == "==" || t.text == "<>" || t.text == "!=" || t.text == "<" ||
           t.text == ">" || t.text == "<=" || t.text == ">=";
  return t.kind == TokenKind::kWord &&
         (t.lower == "like" || t.lower == "ilike" || t.lower == "in" || t.lower == "between" || t.lower == "glob");
}

// NameText is an identifier as the engine resolves it: an unquoted name
// lower-cased, a quoted one without its quotes (doubled quotes undone).
std::string NameText(const Tk& t) {
  if (t.kind == TokenKind::kWord) return t.lower;
  std::string_view s = t.text;
  std::size_t q = s.find_first_of("\"`[");
  if (q == std::string_view::npos || s.size() < q + 2) return std::string(s);
  char close = s[q] == '[' ? ']' : s[q];
  std::string out;
  for (std::size_t i = q + 1; i + 1 < s.size() || (i < s.size() && s[i] != close); ++i) {
    if (s[i] == close) {
      if (i + 1 < s.size() && s[i + 1] == close) ++i;
      else break;
    }
    out.push_back(s[i]);
  }
  return out;
}

// StringContent is a string constant's text after its opening quote.
std::string_view StringContent(std::string_view s) {
  if (!s.empty() && s[0] == '$') {
    std::size_t close = s.find('$', 1);
    return close == std::string_view::npos ? std::string_view() : s.substr(close + 1);
  }
  std::size_t q = s.find('\'');
  return q == std::string_view::npos ? std::string_view() : s.substr(q + 1);
}

// At most this many findings per analysis: a megabyte of "OR 1=1" gives
// a bounded answer (and says it was cut: issues_truncated).
constexpr std::size_t kMaxIssues = 1000;
// At most this many predicates are kept for index advice, and an
// unqualified column is attributed only in a block of at most this many tables.
constexpr std::size_t kMaxPredicates = 256;
constexpr std::size_t kMaxCandidateTables = 8;

// What the rules say; docs/query-analysis.md explains each at length.
struct RuleText {
  const char* rule;
  const char* severity;
  const char* message;
  const char* hint;
};
constexpr RuleText kSelectStar = {
    "select_star", "warning",
    "SELECT * returns every column: more bytes than the caller reads, no index-only scan, and a result that changes "
    "shape when a column is added",
    "name the columns the caller needs"};
constexpr RuleText kMissingWhere = {
    "missing_where", "error", "this statement changes every row of the table: it has no WHERE clause",
    "add a WHERE clause; if every row is meant, say so (WHERE true) or use TRUNCATE"};
constexpr RuleText kLeadingWildcard = {
    "leading_wildcard_like", "warning",
    "a pattern that starts with a wildcard cannot use a B-tree index: every row is read and matched",
    "anchor the pattern at the start ('abc%'), or use a trigram index (PostgreSQL pg_trgm) or full-text search"};
constexpr RuleText kFunctionOnColumn = {
    "function_on_column", "warning",
    "a function applied to a column in a condition hides the column from its index: the condition is evaluated "
    "on every row",
    "compare the bare column (move the function to the other side: created_at >= date '2024-01-01'), or index the "
    "expression itself"};
constexpr RuleText kImplicitCrossJoin = {
    "implicit_cross_join", "warning",
    "FROM a, b pairs every row of a with every row of b unless the WHERE clause relates them; a missing condition "
    "multiplies the result",
    "write JOIN ... ON with the join condition next to the join"};
constexpr RuleText kNotInSubquery = {
    "not_in_subquery", "warning",
    "NOT IN (SELECT ...) returns no row at all when the subquery yields one NULL, and plans worse than an anti-join",
    "use NOT EXISTS (SELECT 1 FROM ... WHERE ...)"};
constexpr RuleText kEqualsNull = {
    "equals_null", "error", "a comparison with NULL is never true: = NULL and <> NULL match no row",
    "use IS NULL or IS NOT NULL (IS DISTINCT FROM to compare values that may be NULL)"};
constexpr RuleText kOrderByRandom = {
    "order_by_random", "warning",
    "ORDER BY random() reads and sorts the whole table to return a few rows",
    "sample instead: TABLESAMPLE (PostgreSQL), or pick random keys (WHERE id >= a random value ORDER BY id LIMIT n)"};
constexpr RuleText kLargeOffset = {
    "large_offset", "warning",
    "a large OFFSET reads and throws away every skipped row: each page costs more than the one before",
    "page by key instead (keyset pagination): WHERE id > the last id seen ORDER BY id LIMIT n"};
constexpr RuleText kOrChain = {
    "or_chain", "info", "a chain of OR comparisons on one column is harder to read and, on some plans, to index",
    "write column IN (a, b, c)"};
constexpr RuleText kTautology = {
    "tautology", "error",
    "OR followed by a condition that is always true makes the whole WHERE clause true: the shape of an SQL "
    "injection (' OR '1'='1)",
    "pass values as parameters ($1, ?), never by pasting text into SQL"};
constexpr RuleText kStacked = {
    "stacked_statements", "warning",
    "the text holds more than one statement: the shape of a stacked-statement injection ('; DROP TABLE ...)",
    "send one statement per call, with values as parameters"};
constexpr RuleText kInsertColumns = {
    "insert_without_columns", "warning",
    "INSERT without a column list depends on the table's column order: it breaks, or writes values into the wrong "
    "columns, when a column is added or reordered",
    "name the columns: INSERT INTO t (a, b) VALUES (...)"};

class StatementAnalyzer {
 public:
  StatementAnalyzer(std::string_view sql, std::vector<Tk> toks, const AnalyzeOptions& options, Dialect dialect,
                    Analysis* out)
      : sql_(sql), t_(std::move(toks)), options_(options), dialect_(dialect), out_(out) {}

  // Run analyses the statement; returns its main verb.
  std::string Run() {
    Structure();
    Rules();
    return main_verb_;
  }

 private:
  // Report records a finding at token's first byte (Analyze turns bytes
  // into character positions once, at the end).
  void Report(const RuleText& r, std::size_t token, const char* severity = nullptr) {
    if (out_->issues.size() >= kMaxIssues) {
      out_->issues_truncated = true;
      return;
    }
    out_->issues.push_back({r.rule, severity != nullptr ? severity : r.severity, r.message, r.hint, t_[token].begin});
  }

  const Tk* At(std::size_t i) const { return i < t_.size() ? &t_[i] : nullptr; }

  // Structure sets each token's depth, block and clause, and collects
  // the blocks' tables and the statement's CTE names and main verb.
  void Structure() {
    blocks_.push_back(Block{});
    std::vector<std::size_t> opens;        // indexes of unclosed "("
    std::vector<int> block_stack = {0};
    std::vector<Clause> clause_stack = {Clause::kNone};
    int depth = 0;
    bool in_cte_list = false;
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if ((i & 1023) == 0) PollCancel();
      Tk& t = t_[i];
      if (IsOp(t, ")") && depth > 0) {
        t_[opens.back()].match = i;
        opens.pop_back();
        --depth;
        if (blocks_[block_stack.back()].depth > depth) {
          block_stack.pop_back();
          clause_stack.pop_back();
        }
      }
      Block& b = blocks_[block_stack.back()];
      t.depth = depth;
      t.block = block_stack.back();
      if (t.kind == TokenKind::kWord && depth == b.depth) {
        if (b.verb.empty()) {
          b.verb = t.lower;
          if (t.block == 0 && t.lower == "with") in_cte_list = true;
        }
        Clause& c = clause_stack.back();
        const Tk* prev = i > 0 ? &t_[i - 1] : nullptr;
        const std::string& w = t.lower;
        if (t.block == 0 && in_cte_list && depth == 0 &&
            (w == "select" || w == "insert" || w == "update" || w == "delete" || w == "merge" || w == "values")) {
          in_cte_list = false;
        }
        if (t.block == 0 && main_verb_.empty() && !in_cte_list && w != "with") main_verb_ = w;
        if (w == "select" || w == "union" || w == "intersect" || w == "except") c = Clause::kSelect;
        else if (w == "from" && !(prev && IsWord(*prev, "distinct"))) c = Clause::kFrom;
        else if (w == "join") c = Clause::kJoin;
        else if (w == "on" && c != Clause::kUpdate) c = Clause::kOn;
        else if (w == "where") { c = Clause::kWhere; b.has_where = true; }
        else if (w == "group") c = Clause::kGroup;
        else if (w == "having") c = Clause::kHaving;
        else if (w == "order") c = Clause::kOrder;
        else if (w == "limit") c = Clause::kLimit;
        else if (w == "offset") c = Clause::kOffset;
        else if (w == "set" && (main_verb_ == "update" || (prev && IsWord(*prev, "update")))) c = Clause::kSet;
        else if (w == "values") c = Clause::kValues;
        else if (w == "returning") c = Clause::kReturning;
        else if (w == "into") c = Clause::kInto;
        else if (w == "update" && (i == 0 || (prev && !IsWord(*prev, "do") && !IsWord(*prev, "for")))) c = Clause::kUpdate;
        else if (w == "using") c = At(i + 1) && IsOp(*At(i + 1), "(") ? Clause::kOn : Clause::kFrom;
        else if (w == "window" || w == "for" || w == "fetch") c = Clause::kOther;
        else if (w == "delete") c = Clause::kOther;
        if (in_cte_list && IsName(t) && !IsWord(t, "recursive") && prev && (IsWord(*prev, "with") || IsWord(*prev, "recursive") || IsOp(*prev, ",")))
          ctes_.push_back(NameText(t));
      }
      t.clause = clause_stack.back();
      if (depth == b.depth && (t.clause == Clause::kFrom || t.clause == Clause::kJoin || t.clause == Clause::kUpdate ||
                               t.clause == Clause::kInto))
        TableReference(i, b);
      if (IsOp(t, ",") && depth == b.depth && t.clause == Clause::kFrom) {
        const Tk* next = At(i + 1);
        bool function = next && IsName(*next) && At(i + 2) && IsOp(*At(i + 2), "(");
        if (next && !IsWord(*next, "lateral") && !function) b.comma_joins.push_back(i);
      }
      if (IsOp(t, "(")) {
        opens.push_back(i);
        t.match = t_.size();
        ++depth;
        const Tk* next = At(i + 1);
        if (next && (IsWord(*next, "select") || IsWord(*next, "with") || IsWord(*next, "values"))) {
          Block nb;
          nb.depth = depth;
          nb.exists = i > 0 && IsWord(t_[i - 1], "exists");
          blocks_.push_back(nb);
          block_stack.push_back(static_cast<int>(blocks_.size() - 1));
          clause_stack.push_back(Clause::kNone);
        }
      }
    }
  }

  // TableReference records the table named at token i when it starts a
  // FROM item (after FROM, JOIN, a comma, UPDATE [OR ...], INTO, USING, ONLY).
  void TableReference(std::size_t i, Block& b) {
    const Tk& t = t_[i];
    if (!IsName(t) || i == 0) return;
    const Tk& prev = t_[i - 1];
    bool starts = IsWord(prev, "from") || IsWord(prev, "join") || IsWord(prev, "into") || IsWord(prev, "using") ||
                  IsWord(prev, "only") || (IsOp(prev, ",") && t.clause == Clause::kFrom) ||
                  (IsWord(prev, "update") && t.clause == Clause::kUpdate);
    if (!starts && t.clause == Clause::kUpdate && i >= 2 && IsWord(t_[i - 2], "or")) starts = true;  // UPDATE OR IGNORE t
    if (!starts) return;
    if (IsWord(t, "only") && i + 1 < t_.size() && IsName(t_[i + 1])) return;  // FROM ONLY t: t is the table
    std::size_t j = i;
    std::string name = NameText(t_[j]);
    while (j + 2 < t_.size() && IsOp(t_[j + 1], ".") && IsName(t_[j + 2])) {
      j += 2;
      name += '.';
      name += NameText(t_[j]);
    }
    if (j + 1 < t_.size() && IsOp(t_[j + 1], "(")) {
      if (t.clause != Clause::kInto) return;  // a function in FROM, not a table
    }
    TableRef ref{name, "", i};
    std::size_t k = j + 1;
    if (k < t_.size() && IsWord(t_[k], "as")) ++k;
    if (k < t_.size() && IsName(t_[k]) && !(k + 1 < t_.size() && IsOp(t_[k + 1], "("))) ref.alias = NameText(t_[k]);
    b.tables.push_back(ref);
  }

  // Resolve is the table an alias or name names in block b (or an
  // enclosing one): "" when none does.
  std::string Resolve(int block, const std::string& qualifier) const {
    for (const TableRef& r : blocks_[block].tables) {
      if (r.alias == qualifier) return r.name;
      if (r.alias.empty()) {
        std::size_t dot = r.name.rfind('.');
        if (r.name == qualifier || (dot != std::string::npos && r.name.substr(dot + 1) == qualifier)) return r.name;
      }
    }
    return "";
  }

  // ColumnRef reads name or qualifier.name at i; returns the index after
  // it, or i when there is none.
  std::size_t ColumnRef(std::size_t i, std::string* qualifier, std::string* column) const {
    if (i >= t_.size() || !IsName(t_[i])) return i;
    if (i + 1 < t_.size() && IsOp(t_[i + 1], "(")) return i;
    std::vector<std::string> parts = {NameText(t_[i])};
    std::size_t j = i + 1;
    while (j + 1 < t_.size() && IsOp(t_[j], ".") && IsName(t_[j + 1])) {
      parts.push_back(NameText(t_[j + 1]));
      j += 2;
    }
    if (j < t_.size() && IsOp(t_[j], "(")) return i;
    *column = parts.back();
    parts.pop_back();
    qualifier->clear();
    if (!parts.empty()) *qualifier = parts.back();
    return j;
  }

  // Constant reads a constant (a signed number too) at i; returns the
  // index after it, or i.
  std::size_t Constant(std::size_t i) const {
    if (i < t_.size() && (IsOp(t_[i], "-") || IsOp(t_[i], "+")) && i + 1 < t_.size() &&
        t_[i + 1].kind == TokenKind::kNumber)
      return i + 2;
    if (i < t_.size() && IsConstant(t_[i])) return i + 1;
    return i;
  }

  void AddPredicate(int block, const std::string& qualifier, const std::string& column, Predicate::Kind kind,
                    std::size_t byte = 0) {
    // Bounded: index advice needs a handful per table, and a statement of
    // thousands of tables and conditions must not cost their product.
    if (out_->predicates.size() >= kMaxPredicates) return;
    if (qualifier.empty() && blocks_[block].tables.size() > kMaxCandidateTables) return;
    Predicate p;
    p.column = column;
    p.kind = kind;
    p.byte = byte;
    if (!qualifier.empty()) {
      p.table = Resolve(block, qualifier);
      if (p.table.empty()) return;  // an outer query's alias, or a subquery's
    } else {
      for (const TableRef& r : blocks_[block].tables) p.candidates.push_back(r.name);
      if (p.candidates.empty()) return;
      if (p.candidates.size() == 1) {
        p.table = p.candidates[0];
        p.candidates.clear();
      }
    }
    out_->predicates.push_back(std::move(p));
  }

  // Term reads "column op constant", "constant op column" or "column op
  // column" at i for the OR-chain rule and the predicates.
  struct TermAt {
    std::size_t end = 0;
    std::string qualifier, column, other_qualifier, other_column;
    std::string op;
    bool constant = false;
  };
  bool Term(std::size_t i, TermAt* term) const {
    std::string q, c;
    std::size_t j = ColumnRef(i, &q, &c);
    if (j != i && j < t_.size() && IsWord(t_[j], "between")) {  // a range: column BETWEEN a AND b
      *term = {j + 1, q, c, "", "", "between", true};
      return true;
    }
    if (j != i && j < t_.size() && IsComparison(t_[j]) && t_[j].kind == TokenKind::kOperator) {
      std::size_t k = Constant(j + 1);
      if (k != j + 1) {
        *term = {k, q, c, "", "", std::string(t_[j].text), true};
        return true;
      }
      std::string q2, c2;
      k = ColumnRef(j + 1, &q2, &c2);
      if (k != j + 1 && (k >= t_.size() || !IsOp(t_[k], "."))) {
        *term = {k, q, c, q2, c2, std::string(t_[j].text), false};
        return true;
      }
      return false;
    }
    std::size_t k = Constant(i);
    if (k != i && k < t_.size() && t_[k].kind == TokenKind::kOperator && IsComparison(t_[k])) {
      std::size_t e = ColumnRef(k + 1, &q, &c);
      if (e != k + 1) {
        *term = {e, q, c, "", "", std::string(t_[k].text), true};
        return true;
      }
    }
    return false;
  }

  bool Filtering(const Tk& t) const { return t.clause == Clause::kWhere || t.clause == Clause::kOn; }

  // Columns marks, for each "(", whether a column name stands anywhere
  // inside it: one pass with a stack (a call inside a call passes its
  // mark up), so function_on_column costs no scan per call. A word counts
  // unless it names a call, follows AS (a type) or precedes FROM
  // (extract's field), or is a type or field word.
  void Columns() {
    has_column_.assign(t_.size(), false);
    first_column_.assign(t_.size(), kNone);
    std::vector<std::size_t> open;
    for (std::size_t k = 0; k < t_.size(); ++k) {
      if ((k & 1023) == 0) PollCancel();
      const Tk& a = t_[k];
      if (IsOp(a, "(")) {
        open.push_back(k);
        continue;
      }
      if (IsOp(a, ")")) {
        if (open.empty()) continue;
        std::size_t inner = open.back();
        open.pop_back();
        if (has_column_[inner] && !open.empty()) {
          has_column_[open.back()] = true;
          if (first_column_[open.back()] == kNone) first_column_[open.back()] = first_column_[inner];
        }
        continue;
      }
      if (open.empty()) continue;
      if (k > 0 && IsWord(t_[k - 1], "as")) continue;  // cast(x AS type)
      bool call = k + 1 < t_.size() && IsOp(t_[k + 1], "(");
      bool field = k + 1 < t_.size() && IsWord(t_[k + 1], "from");  // extract(year FROM x)
      if ((a.kind == TokenKind::kQuotedIdentifier || (IsName(a) && !call && !field)) && !IsTypeOrField(a))
      {
        has_column_[open.back()] = true;
        if (first_column_[open.back()] == kNone) first_column_[open.back()] = k;
      }
    }
  }

  void Rules() {
    Columns();
    // missing_where: the statement's own UPDATE or DELETE, not a subquery's.
    if ((main_verb_ == "update" || main_verb_ == "delete") && !blocks_[0].has_where) {
      for (std::size_t i = 0; i < t_.size(); ++i)
        if (t_[i].depth == 0 && IsWord(t_[i], main_verb_)) {
          Report(kMissingWhere, i);
          break;
        }
    }
    // insert_without_columns
    if (main_verb_ == "insert" || main_verb_ == "replace") {
      for (std::size_t i = 0; i + 1 < t_.size(); ++i) {
        if (t_[i].depth != 0 || !IsWord(t_[i], "into")) continue;
        std::string q, c;
        std::size_t j = ColumnRef(i + 1, &q, &c);
        if (j == i + 1) break;
        if (j < t_.size() && IsWord(t_[j], "as") && j + 1 < t_.size()) j += 2;
        const Tk* next = At(j);
        bool listed = next && IsOp(*next, "(") && !(At(j + 1) && (IsWord(*At(j + 1), "select") || IsWord(*At(j + 1), "with")));
        bool defaults = next && IsWord(*next, "default");
        if (next && !listed && !defaults) {
          for (std::size_t k = 0; k < i; ++k)
            if (t_[k].depth == 0 && (IsWord(t_[k], "insert") || IsWord(t_[k], "replace"))) {
              Report(kInsertColumns, k);
              break;
            }
        }
        break;
      }
    }
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if ((i & 1023) == 0) PollCancel();
      const Tk& t = t_[i];
      const Block& b = blocks_[t.block];
      const Tk* prev = i > 0 ? &t_[i - 1] : nullptr;
      const Tk* next = At(i + 1);
      // select_star
      if (IsOp(t, "*") && t.depth == b.depth && t.clause == Clause::kSelect && !b.exists && prev &&
          (IsWord(*prev, "select") || IsWord(*prev, "distinct") || IsWord(*prev, "all") || IsOp(*prev, ",") ||
           (IsOp(*prev, ".") && i >= 2 && IsName(t_[i - 2]))))
        Report(kSelectStar, i);
      // leading_wildcard_like
      if (t.kind == TokenKind::kWord && (t.lower == "like" || t.lower == "ilike" || t.lower == "glob" ||
                                         (t.lower == "to" && prev && IsWord(*prev, "similar")))) {
        std::size_t j = i + 1;
        if (At(j) && (IsWord(*At(j), "any") || IsWord(*At(j), "all")) && At(j + 1) && IsOp(*At(j + 1), "(")) j += 2;
        if (At(j) && IsWord(*At(j), "array") && At(j + 1) && IsOp(*At(j + 1), "[")) j += 2;
        if (At(j) && t_[j].kind == TokenKind::kString) {
          std::string_view content = StringContent(t_[j].text);
          bool glob = t.lower == "glob";
          if (!content.empty() && (glob ? (content[0] == '*' || content[0] == '?') : (content[0] == '%' || content[0] == '_')))
          {
            Report(kLeadingWildcard, j);
            std::size_t col = i - 1;
            if (prev && IsWord(*prev, "not") && i >= 2) col = i - 2;
            if (col < t_.size() && IsName(t_[col]) && !(col + 1 < t_.size() && IsOp(t_[col + 1], "(")))
              Use("leading_wildcard_like", col, t.block);
          }
        }
      }
      // function_on_column
      if (Filtering(t) && IsName(t) && t.kind == TokenKind::kWord && next && IsOp(*next, "(") &&
          !(prev && IsOp(*prev, "."))) {
        std::size_t close = next->match;
        bool column = has_column_[i + 1];
        const Tk* after = At(close + 1);
        bool compared = (after && IsComparison(*after)) || (prev && IsComparison(*prev)) ||
                        (after && IsWord(*after, "not") && At(close + 2) && IsComparison(*At(close + 2)));
        if (column && compared) {
          Report(kFunctionOnColumn, i);
          Use("function_on_column", first_column_[i + 1], t.block);
          i = std::min(close, t_.size() - 1);  // the calls inside are the same finding
          continue;
        }
      }
      // not_in_subquery
      if (IsWord(t, "not") && next && IsWord(*next, "in") && At(i + 2) && IsOp(*At(i + 2), "(") && At(i + 3) &&
          (IsWord(*At(i + 3), "select") || IsWord(*At(i + 3), "with")))
        Report(kNotInSubquery, i);
      // equals_null
      if (t.kind == TokenKind::kOperator && (t.text == "=" || t.text == "==" || t.text == "<>" || t.text == "!=") &&
          ((next && IsWord(*next, "null")) || (prev && IsWord(*prev, "null"))) && main_verb_ != "set" &&
          main_verb_ != "pragma") {
        bool assignment = t.clause == Clause::kSet && t.depth == b.depth && i >= 2 &&
                          (IsWord(t_[i - 2], "set") || IsOp(t_[i - 2], ",") || IsOp(t_[i - 2], "."));
        if (!assignment) Report(kEqualsNull, i);
      }
      // order_by_random
      if (t.clause == Clause::kOrder && t.depth == b.depth && (IsWord(t, "random") || IsWord(t, "rand")) && next &&
          IsOp(*next, "(") && At(i + 2) && IsOp(*At(i + 2), ")"))
        Report(kOrderByRandom, i);
      // large_offset
      if (t.depth == b.depth && IsWord(t, "offset") && next && next->kind == TokenKind::kNumber &&
          Large(next->text))
        Report(kLargeOffset, i + 1);
      if (dialect_ == Dialect::kSqlite && t.depth == b.depth && IsWord(t, "limit") && next &&
          next->kind == TokenKind::kNumber && At(i + 2) && IsOp(*At(i + 2), ",") && Large(next->text))
        Report(kLargeOffset, i + 1);
      // or_chain and the predicates: at the start of a term.
      if ((Filtering(t) || t.clause == Clause::kHaving) && prev &&
          (IsWord(*prev, "where") || IsWord(*prev, "on") || IsWord(*prev, "and") || IsWord(*prev, "or") ||
           IsWord(*prev, "not") || IsOp(*prev, "("))) {
        TermAt term;
        if (Term(i, &term)) {
          if (Filtering(t)) Predicates(t.block, term, t.begin);
          std::string key = term.qualifier + "." + term.column;
          int count = 1;
          std::size_t end = term.end;
          bool eq = term.constant && (term.op == "=" || term.op == "==");
          while (eq && At(end) && IsWord(*At(end), "or")) {
            TermAt more;
            if (!Term(end + 1, &more) || !more.constant || (more.op != "=" && more.op != "==") ||
                more.qualifier + "." + more.column != key)
              break;
            ++count;
            end = more.end;
          }
          if (eq && count >= options_.or_chain_length) {
            Report(kOrChain, i);
            i = end - 1;
            continue;
          }
        }
      }
      // tautology: OR true, OR 1, OR c = c, OR 2 > 1.
      if (IsWord(t, "or") && next) {
        const Tk* after = At(i + 2);
        bool ends = !after || IsOp(*after, ")") || IsOp(*after, ";") || IsWord(*after, "or") ||
                    IsWord(*after, "and") || IsWord(*after, "order") || IsWord(*after, "limit") ||
                    IsWord(*after, "group");
        bool truth = (IsWord(*next, "true") || (next->kind == TokenKind::kNumber && Nonzero(next->text))) && ends;
        if (!truth && after && IsComparison(*after) && after->kind == TokenKind::kOperator && At(i + 3)) {
          const Tk& l = *next;
          const Tk& r = *At(i + 3);
          bool literals = (l.kind == TokenKind::kNumber || l.kind == TokenKind::kString) && l.kind == r.kind;
          bool same = l.text == r.text && (literals || (IsName(l) && IsName(r)));
          if (same && (after->text == "=" || after->text == "==" || after->text == "<=" || after->text == ">="))
            truth = true;
          else if (literals && l.kind == TokenKind::kNumber) truth = NumericTruth(l.text, after->text, r.text);
          const Tk* end = At(i + 4);
          if (truth && end && (IsOp(*end, ".") || IsOp(*end, "(") || IsOp(*end, "||") || IsOp(*end, "+")))
            truth = false;
        }
        if (truth) Report(kTautology, i);
      }
    }
    // ORDER BY columns: candidates for an index that also sorts.
    for (std::size_t i = 0; i < t_.size(); ++i) {
      const Tk& t = t_[i];
      if (t.clause != Clause::kOrder || t.depth != blocks_[t.block].depth || i == 0) continue;
      if (!(IsWord(t_[i - 1], "by") || IsOp(t_[i - 1], ","))) continue;
      std::string q, c;
      std::size_t j = ColumnRef(i, &q, &c);
      if (j != i) AddPredicate(t.block, q, c, Predicate::kOrder);
    }
    // implicit_cross_join, settled now that each block's WHERE is known.
    for (const Block& b : blocks_)
      for (std::size_t comma : b.comma_joins) Report(kImplicitCrossJoin, comma, b.has_where ? "warning" : "error");
    // tables in text order, CTE names left out
    std::vector<const TableRef*> refs;
    for (const Block& b : blocks_)
      for (const TableRef& r : b.tables) refs.push_back(&r);
    std::sort(refs.begin(), refs.end(), [](const TableRef* a, const TableRef* b) { return a->token < b->token; });
    std::unordered_set<std::string> ctes(ctes_.begin(), ctes_.end());
    std::unordered_set<std::string> seen(out_->tables.begin(), out_->tables.end());
    std::unordered_set<std::string> aliased;
    for (const auto& [alias, table] : out_->aliases) aliased.insert(alias);
    for (const TableRef* r : refs) {
      if (ctes.count(r->name) != 0) continue;
      if (!r->alias.empty() && aliased.insert(r->alias).second) out_->aliases.emplace_back(r->alias, r->name);
      if (seen.insert(r->name).second) out_->tables.push_back(r->name);
    }
  }

  void Predicates(int block, const TermAt& term, std::size_t byte) {
    if (term.op == "<>" || term.op == "!=") return;
    Predicate::Kind kind = term.op == "=" || term.op == "==" ? Predicate::kEquality : Predicate::kRange;
    if (term.constant) {
      AddPredicate(block, term.qualifier, term.column, kind, byte);
    } else if (kind == Predicate::kEquality) {
      AddPredicate(block, term.qualifier, term.column, Predicate::kJoin, byte);
      AddPredicate(block, term.other_qualifier, term.other_column, Predicate::kJoin, byte);
    }
  }

  static bool IsTypeOrField(const Tk& t) {
    static constexpr std::string_view kWords[] = {
        "year", "month", "day", "hour", "minute", "second", "epoch", "dow", "doy", "week", "quarter", "interval",
        "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "true", "false", "null",
    };
    if (t.kind != TokenKind::kWord) return false;
    return std::find(std::begin(kWords), std::end(kWords), t.lower) != std::end(kWords);
  }

  bool Large(std::string_view number) const {
    if (number.size() > 18) return true;
    char* end = nullptr;
    std::string s(number);
    long long v = std::strtoll(s.c_str(), &end, 10);
    return end != s.c_str() && v >= options_.offset_threshold;
  }
  static bool Nonzero(std::string_view number) {
    return number.find_first_not_of("0._") != std::string_view::npos;
  }
  static bool NumericTruth(std::string_view l, std::string_view op, std::string_view r) {
    std::string ls(l), rs(r);
    char* e1 = nullptr;
    char* e2 = nullptr;
    double a = std::strtod(ls.c_str(), &e1), b = std::strtod(rs.c_str(), &e2);
    if (*e1 != '\0' || *e2 != '\0') return false;
    if (op == "=" || op == "==") return a == b;
    if (op == "<>" || op == "!=") return a != b;
    if (op == "<") return a < b;
    if (op == ">") return a > b;
    if (op == "<=") return a <= b;
    if (op == ">=") return a >= b;
    return false;
  }

  std::string_view sql_;
  std::vector<Tk> t_;
  const AnalyzeOptions& options_;
  Dialect dialect_;
  Analysis* out_;
  std::vector<Block> blocks_;
  std::vector<std::string> ctes_;
  std::string main_verb_;
  std::vector<bool> has_column_;  // per "(": a column inside (Columns)
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::vector<std::size_t> first_column_;  // per "(": the first such column's token

  // Use records a column a rule is about, for the lint that reads the
  // schema (AnalyzeQueryJson): the column's token k (qualifier.column).
  void Use(const char* rule, std::size_t k, int block) {
    if (k >= t_.size() || out_->uses.size() >= kMaxPredicates) return;
    std::string column = NameText(t_[k]), qualifier;
    if (k >= 2 && IsOp(t_[k - 1], ".") && IsName(t_[k - 2])) qualifier = NameText(t_[k - 2]);
    std::string table;
    if (!qualifier.empty()) table = Resolve(block, qualifier);
    else if (blocks_[block].tables.size() == 1) table = blocks_[block].tables[0].name;
    if (table.empty()) return;
    out_->uses.push_back({rule, table, column, t_[k].begin});
  }
};

std::string KindOf(const std::string& verb) {
  if (verb == "select" || verb == "values" || verb == "table") return "select";
  if (verb == "insert" || verb == "replace") return "insert";
  if (verb == "update" || verb == "delete" || verb == "merge") return verb;
  static constexpr std::string_view kDdl[] = {"create", "alter", "drop", "truncate", "comment", "grant",
                                              "revoke", "reindex", "rename"};
  if (std::find(std::begin(kDdl), std::end(kDdl), verb) != std::end(kDdl)) return "ddl";
  return "other";
}

bool Writes(const std::string& verb) {
  static constexpr std::string_view kWriting[] = {"alter", "attach", "copy", "create", "delete", "detach",
                                                  "drop",  "grant",  "insert", "merge", "pragma", "replace",
                                                  "revoke", "truncate", "update", "vacuum"};
  return std::find(std::begin(kWriting), std::end(kWriting), verb) != std::end(kWriting);
}

}  // namespace

Analysis Analyze(std::string_view sql, Dialect dialect, const AnalyzeOptions& options) {
  Analysis out;
  out.normalized = Normalize(sql, dialect);
  out.fingerprint = FingerprintOfNormalized(out.normalized);
  std::vector<Token> tokens = Tokenize(sql, dialect);
  std::vector<Statement> statements = SplitStatements(sql, dialect);
  std::size_t next = 0;
  std::size_t first_stacked = 0;
  bool later_writes = false;
  for (const Statement& s : statements) {
    std::vector<Tk> toks;
    while (next < tokens.size() && tokens[next].begin < s.begin) ++next;
    for (; next < tokens.size() && tokens[next].begin < s.end; ++next) {
      const Token& tk = tokens[next];
      if (tk.kind == TokenKind::kComment) continue;
      Tk t;
      t.kind = tk.kind;
      t.begin = tk.begin;
      t.end = tk.end;
      t.text = sql.substr(tk.begin, tk.end - tk.begin);
      if (tk.kind == TokenKind::kWord) t.lower = text::AsciiLower(t.text);
      toks.push_back(std::move(t));
    }
    if (toks.empty() || (toks.size() == 1 && IsOp(toks[0], ";"))) continue;
    std::size_t at = toks[0].begin;
    ++out.statements;
    std::string verb = StatementAnalyzer(sql, std::move(toks), options, dialect, &out).Run();
    if (out.statements == 1) {
      out.kind = KindOf(verb);
    } else {
      if (out.statements == 2) first_stacked = at;
      later_writes = later_writes || Writes(verb);
    }
  }
  if (out.statements > 1) {
    out.issues.push_back({kStacked.rule, later_writes ? "error" : kStacked.severity, kStacked.message, kStacked.hint,
                          first_stacked});
  }
  // In text order; byte offsets become 1-based character positions in one pass.
  std::stable_sort(out.issues.begin(), out.issues.end(),
                   [](const Issue& a, const Issue& b) { return a.position < b.position; });
  std::size_t byte = 0, chars = 1;
  for (Issue& i : out.issues) {
    for (; byte < i.position && byte < sql.size(); ++byte)
      if ((static_cast<unsigned char>(sql[byte]) & 0xC0) != 0x80) ++chars;
    i.position = chars;
  }
  return out;
}

AnalyzeOptions ParseAnalyzeOptions(const nlohmann::json& options) {
  AnalyzeOptions o;
  if (!options.is_object()) throw Error(ErrorCode::kInvalidParameter, "options must be a JSON object");
  auto integer = [&](const char* key, long long lo, long long hi) -> long long {
    const nlohmann::json& v = options.at(key);
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
      throw Error(ErrorCode::kInvalidParameter,
                  std::string("option \"") + key + "\" must be an integer from " + std::to_string(lo) + " to " +
                      std::to_string(hi));
    return v.get<long long>();
  };
  for (const auto& [key, value] : options.items()) {
    static constexpr std::string_view kKnown[] = {"plan", "analyze", "index_advice", "schema_lint",
                                                  "plan_as_superuser", "offset_threshold", "or_chain_length"};
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
      throw Error(ErrorCode::kInvalidParameter, "unknown option \"" + text::ForMessage(key, 64) + "\"",
                  "the options are plan, analyze, index_advice, schema_lint, plan_as_superuser, "
                  "offset_threshold and or_chain_length");
  }
  if (options.contains("offset_threshold")) o.offset_threshold = integer("offset_threshold", 1, 1000000000000LL);
  if (options.contains("or_chain_length")) o.or_chain_length = static_cast<int>(integer("or_chain_length", 2, 1000));
  return o;
}

nlohmann::json ToJson(const Analysis& a) {
  nlohmann::json out = nlohmann::json::object();
  out["fingerprint"] = a.fingerprint;
  out["normalized"] = a.normalized;
  out["kind"] = a.kind.empty() ? nlohmann::json() : nlohmann::json(a.kind);
  out["statements"] = a.statements;
  out["tables"] = a.tables;
  nlohmann::json issues = nlohmann::json::array();
  for (const Issue& i : a.issues)
    issues.push_back({{"rule", i.rule},
                      {"severity", i.severity},
                      {"message", i.message},
                      {"hint", i.hint},
                      {"position", i.position}});
  out["issues"] = std::move(issues);
  if (a.issues_truncated) out["issues_truncated"] = true;
  return out;
}

namespace {

// NameTables names the table behind each alias in a plan summary (SQLite
// names a table by its alias), keeping the alias.
void NameTables(const Analysis& a, nlohmann::json* summary) {
  auto table_of = [&](const std::string& name) -> std::string {
    for (const auto& [alias, table] : a.aliases)
      if (alias == name) return table;
    return "";
  };
  if (!summary->is_object()) return;
  if (summary->contains("scans"))
    for (nlohmann::json& scan : (*summary)["scans"]) {
      std::string name = scan.value("table", "");
      std::string table = table_of(name);
      if (!table.empty() && table != name) {
        scan["alias"] = name;
        scan["table"] = table;
      }
    }
  if (summary->contains("full_scans"))
    for (nlohmann::json& name : (*summary)["full_scans"]) {
      std::string table = name.is_string() ? table_of(name.get<std::string>()) : "";
      if (!table.empty()) name = table;
    }
}

// SchemaLint adds the findings only the schema and its statistics can
// make (issue 15: what outside linters cannot): a function on a column
// that has an index, a leading-wildcard pattern on a large table, a join
// along a foreign key that has no index.
void SchemaLint(const Analysis& a, std::string_view sql, Planner* planner, nlohmann::json* issues) {
  constexpr long long kLargeTable = 10000;
  auto position = [&](std::size_t byte) {
    std::size_t chars = 1;
    for (std::size_t i = 0; i < byte && i < sql.size(); ++i)
      if ((static_cast<unsigned char>(sql[i]) & 0xC0) != 0x80) ++chars;
    return chars;
  };
  auto starts_with = [&](const std::vector<std::vector<std::string>>& lists, const std::string& column) {
    for (const auto& l : lists)
      if (!l.empty() && (l[0] == column || text::AsciiLower(l[0]) == column)) return true;
    return false;
  };
  auto add = [&](const char* rule, const char* severity, std::string message, const char* hint, std::size_t byte) {
    if (issues->size() >= kMaxIssues) return;
    issues->push_back({{"rule", rule}, {"severity", severity}, {"message", std::move(message)}, {"hint", hint},
                       {"position", position(byte)}});
  };
  std::size_t checked = 0;
  for (const ColumnUse& u : a.uses) {
    if (++checked > 32) break;  // each costs catalog reads
    PollCancel();
    if (u.rule == "function_on_column" && starts_with(planner->Indexes(u.table), u.column)) {
      add("function_on_indexed_column", "warning",
          "\"" + u.column + "\" has an index on " + u.table + " that this condition cannot use: the function hides "
          "the column from it, so the table is read in full",
          "compare the bare column, or create an index on the expression itself", u.byte);
    }
    if (u.rule == "leading_wildcard_like") {
      long long rows = planner->RowEstimate(u.table);
      if (rows >= kLargeTable)
        add("wildcard_scan_large_table", "warning",
            "the leading wildcard reads all of " + u.table + ", about " + std::to_string(rows) + " rows, on every call",
            "anchor the pattern, or index for it (pg_trgm on PostgreSQL, an FTS5 table on SQLite)", u.byte);
    }
  }
  checked = 0;
  std::vector<std::pair<std::string, std::string>> done;
  for (const Predicate& p : a.predicates) {
    if (p.kind != Predicate::kJoin || p.table.empty()) continue;
    if (std::find(done.begin(), done.end(), std::make_pair(p.table, p.column)) != done.end()) continue;
    done.emplace_back(p.table, p.column);
    if (++checked > 32) break;
    PollCancel();
    if (starts_with(planner->ForeignKeys(p.table), p.column) && !starts_with(planner->Indexes(p.table), p.column))
      add("unindexed_foreign_key", "warning",
          "the join follows the foreign key " + p.table + "(" + p.column + "), which has no index: the join reads " +
              p.table + " in full, and so does every delete or key update of a referenced row",
          "create an index on the foreign key's columns", p.byte);
  }
}

// Brief is a plan summary without the engine's raw output, for before and after.
nlohmann::json Brief(nlohmann::json summary) {
  if (summary.is_object()) {
    summary.erase("explain");
    summary.erase("steps");
  }
  return summary;
}

// Suggestions tries each candidate index against the planner and keeps
// those the plan then uses.
nlohmann::json Suggestions(const Analysis& a, std::string_view sql, Planner* planner, nlohmann::json* out) {
  if (!planner->CanSuggest()) {
    (*out)["index_advice_error"] = planner->NoSuggestions();
    return nullptr;
  }
  nlohmann::json list = nlohmann::json::array();
  std::vector<Candidate> candidates =
      Candidates(a, [&](const std::string& t) { return planner->Columns(t); },
                 [&](const std::string& t) { return planner->Indexes(t); });
  if (candidates.empty()) return list;
  bool unused = false;
  planner->StatementTables(a.tables);
  nlohmann::json before = planner->PlanWith(sql, nullptr, &unused);
  if (before.is_null()) {
    (*out)["index_advice_error"] = planner->NoSuggestions();
    return nullptr;
  }
  NameTables(a, &before);
  std::vector<std::string> full_before = FullScans(before);
  nlohmann::json removing = nlohmann::json::array(), others = nlohmann::json::array();
  for (Candidate& c : candidates) {
    PollCancel();
    // A name no relation has where the index would go: the DDL must run.
    std::string base = IndexName(c);
    c.name = base;
    for (int n = 1; n < 100 && planner->NameTaken(c.table, c.name); ++n) {
      std::string suffix = "_" + std::to_string(n);
      c.name = base.substr(0, std::min(base.size(), std::size_t{63} - suffix.size())) + suffix;
    }
    bool uses = false;
    nlohmann::json after;
    try {
      after = planner->PlanWith(sql, &c, &uses);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kProgramLimit) throw;
      continue;  // a plan too deep to read: no suggestion from it
    }
    if (after.is_null() || !uses) continue;
    NameTables(a, &after);
    std::vector<std::string> full_after = FullScans(after);
    nlohmann::json removed = nlohmann::json::array();
    for (const std::string& t : full_before)
      if (std::find(full_after.begin(), full_after.end(), t) == full_after.end()) removed.push_back(t);
    nlohmann::json s = {{"table", c.table},
                        {"columns", c.columns},
                        {"name", c.name},
                        {"ddl", IndexDdl(c)},
                        {"removes_full_scans", removed},
                        {"plan_before", Brief(before)},
                        {"plan_after", Brief(after)}};
    (removed.empty() ? others : removing).push_back(std::move(s));
  }
  // Those that end a whole-table scan first; within each, the cheapest
  // plan first where the engine estimates a cost (PostgreSQL).
  auto cost = [](const nlohmann::json& s) {
    const nlohmann::json& c = s["plan_after"].value("total_cost", nlohmann::json());
    return c.is_number() ? c.get<double>() : 0.0;
  };
  auto by_cost = [&](const nlohmann::json& x, const nlohmann::json& y) { return cost(x) < cost(y); };
  std::stable_sort(removing.begin(), removing.end(), by_cost);
  std::stable_sort(others.begin(), others.end(), by_cost);
  for (nlohmann::json& s : others) removing.push_back(std::move(s));
  return removing;
}

}  // namespace

std::string AnalyzeQuery(std::string_view sql, Dialect dialect, std::string_view options_text, Planner* planner) {
  nlohmann::json options = json_in::ParseInput(options_text.empty() ? "{}" : options_text, "options");
  return AnalyzeQueryJson(sql, dialect, options, planner).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json AnalyzeQueryJson(std::string_view sql, Dialect dialect, const nlohmann::json& options, Planner* planner) {
  AnalyzeOptions rules = ParseAnalyzeOptions(options);
  auto flag = [&](const char* key, bool fallback) {
    if (!options.contains(key)) return fallback;
    if (!options[key].is_boolean())
      throw Error(ErrorCode::kInvalidParameter, std::string("option \"") + key + "\" must be true or false");
    return options[key].get<bool>();
  };
  const bool plan = flag("plan", true);
  const bool analyze = flag("analyze", false);
  const bool advice = flag("index_advice", plan);
  const bool lint = flag("schema_lint", plan);
  if (lint && !plan) throw Error(ErrorCode::kInvalidParameter, "\"schema_lint\" needs \"plan\"");
  if (planner != nullptr) planner->AllowPrivileged(flag("plan_as_superuser", false));
  Analysis a = Analyze(sql, dialect, rules);
  nlohmann::json out = ToJson(a);
  out["plan"] = nullptr;
  if (analyze && (planner == nullptr || !planner->CanAnalyze()))
    throw Error(ErrorCode::kNotSupported, "this engine cannot analyze (execute) a statement for its plan",
                "SQLite has no EXPLAIN ANALYZE: leave \"analyze\" out for EXPLAIN QUERY PLAN");
  if (analyze && !plan) throw Error(ErrorCode::kInvalidParameter, "\"analyze\" needs \"plan\"");
  if (advice && !plan) throw Error(ErrorCode::kInvalidParameter, "\"index_advice\" needs \"plan\"");
  if (analyze && a.normalized.find('?') != std::string::npos) {
    for (const Token& t : Tokenize(sql, dialect))
      if (t.kind == TokenKind::kParameter)
        throw Error(ErrorCode::kInvalidParameter, "a statement with parameters cannot be analyzed (executed)",
                    "pass \"analyze\": false for the generic plan, or write the values into the statement");
  }
  if (plan && planner != nullptr) {
    if (a.statements != 1) {
      out["plan_error"] = a.statements == 0 ? "no statement to plan" : "the text holds more than one statement: "
                                                                        "only a single statement is planned";
    } else if (a.kind != "select" && a.kind != "insert" && a.kind != "update" && a.kind != "delete" &&
               a.kind != "merge") {
      // Nothing else reaches the engine: SQLite carries out a PRAGMA while
      // it prepares EXPLAIN QUERY PLAN PRAGMA ..., before anything runs.
      out["plan_error"] = "only SELECT, VALUES, INSERT, UPDATE, DELETE and MERGE are planned";
    } else {
      std::string refusal;
      nlohmann::json summary;
      try {
        summary = planner->Plan(sql, analyze, &refusal);
      } catch (const Error& e) {
        if (e.code() != ErrorCode::kProgramLimit) throw;
        refusal = e.what();  // a plan deeper or larger than vigil reads: the static answer stands
      }
      if (summary.is_null()) {
        out["plan_error"] = refusal;
      } else {
        NameTables(a, &summary);
        out["plan"] = std::move(summary);
        if (lint) {
          SchemaLint(a, sql, planner, &out["issues"]);
          std::stable_sort(out["issues"].begin(), out["issues"].end(), [](const nlohmann::json& x, const nlohmann::json& y) {
            return x["position"].get<std::size_t>() < y["position"].get<std::size_t>();
          });
        }
        if (advice) out["index_suggestions"] = Suggestions(a, sql, planner, &out);
      }
    }
  }
  return out;
}

}  // namespace vigil::core::sql
