// advice.cc — index candidates (see advice.h).
#include "sql/advice.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <string>
#include <vector>

#include "base/cancel.h"
#include "base/error.h"
#include "base/text.h"
#include "sql/quote.h"
#include "base/core_guard.h"

namespace vigil::core::sql {

namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

std::vector<Candidate> Candidates(const Analysis& a,
                                  const std::function<std::vector<std::string>(const std::string&)>& columns_of,
                                  const std::function<std::vector<std::vector<std::string>>(const std::string&)>& indexes_of,
                                  std::size_t limit) {
  struct PerTable {
    std::string table;
    std::vector<std::string> columns;  // the table's own, as the engine spells them
    std::vector<std::string> equality, range, order, join;
  };
  std::vector<PerTable> tables;
  auto table = [&](const std::string& name) -> PerTable* {
    for (PerTable& t : tables)
      if (t.table == name) return &t;
    std::vector<std::string> columns = columns_of(name);
    if (columns.empty()) return nullptr;
    tables.push_back({name, std::move(columns), {}, {}, {}, {}});
    return &tables.back();
  };
  // The engine's spelling of a column the statement names (case-insensitively
  // for an unquoted name, which the analysis lower-cased).
  auto column = [](const PerTable& t, const std::string& name) -> std::string {
    for (const std::string& c : t.columns)
      if (c == name) return c;
    for (const std::string& c : t.columns)
      if (text::AsciiLower(c) == name) return c;
    return "";
  };
  for (const Predicate& p : a.predicates) {
    PerTable* t = nullptr;
    std::string col;
    if (!p.table.empty()) {
      t = table(p.table);
      if (t) col = column(*t, p.column);
    } else {
      int found = 0;
      for (const std::string& name : p.candidates) {
        PerTable* c = table(name);
        if (c && !column(*c, p.column).empty()) {
          ++found;
          t = c;
        }
      }
      if (found != 1) t = nullptr;
      if (t) col = column(*t, p.column);
    }
    if (t == nullptr || col.empty()) continue;
    std::vector<std::string>* list = p.kind == Predicate::kEquality ? &t->equality
                                     : p.kind == Predicate::kRange  ? &t->range
                                     : p.kind == Predicate::kOrder  ? &t->order
                                                                    : &t->join;
    if (!Has(*list, col)) list->push_back(col);
  }
  std::vector<Candidate> out;
  auto add = [&](const std::string& name, std::vector<std::string> cols) {
    if (cols.empty() || out.size() >= limit) return;
    for (const Candidate& c : out)
      if (c.table == name && c.columns == cols) return;
    for (const std::vector<std::string>& index : indexes_of(name))
      if (index.size() >= cols.size() && std::equal(cols.begin(), cols.end(), index.begin())) return;
    out.push_back({name, std::move(cols), ""});
  };
  for (const PerTable& t : tables) {
    std::vector<std::string> cols = t.equality;
    for (const std::string& r : t.range)
      if (!Has(cols, r)) {
        cols.push_back(r);
        break;
      }
    add(t.table, cols);
    if (!t.order.empty()) {
      std::vector<std::string> sorted = t.equality;
      for (const std::string& o : t.order)
        if (!Has(sorted, o)) sorted.push_back(o);
      add(t.table, sorted);
    }
    for (const std::string& j : t.join) add(t.table, {j});
  }
  return out;
}

std::string IndexName(const Candidate& c) {
  std::string table = c.table.substr(c.table.rfind('.') == std::string::npos ? 0 : c.table.rfind('.') + 1);
  std::string name = table;
  for (const std::string& col : c.columns) name += "_" + col;
  if (name.size() > 59) {
    std::size_t cut = 59;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // a whole character
    name.resize(cut);
  }
  return name + "_idx";
}

std::string IndexDdl(const Candidate& c) {
  std::string target;
  std::size_t dot = c.table.rfind('.');
  if (dot != std::string::npos) {
    target = QuoteIdent(c.table.substr(0, dot));
    target += '.';
    target += QuoteIdent(c.table.substr(dot + 1));
  } else {
    target = QuoteIdent(c.table);
  }
  std::string ddl = "CREATE INDEX ";
  ddl += QuoteIdent(c.name.empty() ? IndexName(c) : c.name);
  ddl += " ON ";
  ddl += target;
  ddl += " (";
  for (std::size_t i = 0; i < c.columns.size(); ++i) {
    if (i) ddl += ", ";
    ddl += QuoteIdent(c.columns[i]);
  }
  ddl += ")";
  return ddl;
}

nlohmann::json IndexHealth(const std::vector<Planner::ExistingIndex>& indexes) {
  using json = nlohmann::json;
  json invalid = json::array(), duplicate = json::array(), redundant = json::array(), unused = json::array();
  bool counted = true;
  auto plain_columns = [](const Planner::ExistingIndex& x) {
    return !x.columns.empty() && std::find(x.columns.begin(), x.columns.end(), "") == x.columns.end();
  };
  // Each index is compared with its own table's only: linear in the
  // number of indexes, not quadratic (a file with 1,000 tables).
  std::unordered_map<std::string_view, std::vector<std::size_t>> by_table;
  for (std::size_t i = 0; i < indexes.size(); ++i) by_table[indexes[i].table].push_back(i);
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    if ((i & 255) == 0) PollCancel();
    const Planner::ExistingIndex& x = indexes[i];
    if (x.scans < 0) counted = false;
    if (!x.valid) {
      invalid.push_back({{"table", x.table}, {"index", x.name},
                         {"hint", "a failed CREATE INDEX CONCURRENTLY leaves it unusable but maintained: drop it and "
                                  "create it again"}});
      continue;
    }
    if (x.partial || !plain_columns(x)) continue;
    // Duplicate: the same columns as another valid full index; the one
    // kept is a primary key, else a unique index, else the first listed.
    const Planner::ExistingIndex* keeper = nullptr;
    const Planner::ExistingIndex* longer = nullptr;
    for (std::size_t j : by_table[x.table]) {
      const Planner::ExistingIndex& y = indexes[j];
      if (j == i || !y.valid || y.partial || !plain_columns(y)) continue;
      if (y.columns == x.columns) {
        int rank_x = x.primary ? 2 : x.unique ? 1 : 0, rank_y = y.primary ? 2 : y.unique ? 1 : 0;
        if (rank_y > rank_x || (rank_y == rank_x && j < i)) keeper = &y;
      } else if (!x.unique && y.columns.size() > x.columns.size() &&
                 std::equal(x.columns.begin(), x.columns.end(), y.columns.begin())) {
        longer = &y;
      }
    }
    if (keeper != nullptr) {
      duplicate.push_back({{"table", x.table}, {"index", x.name}, {"columns", x.columns}, {"duplicate_of", keeper->name}});
      continue;
    }
    if (longer != nullptr) {
      redundant.push_back({{"table", x.table}, {"index", x.name}, {"columns", x.columns}, {"covered_by", longer->name}});
      continue;
    }
    if (x.scans == 0 && !x.unique && !x.primary)
      unused.push_back({{"table", x.table}, {"index", x.name}, {"columns", x.columns},
                        {"bytes", x.bytes >= 0 ? json(x.bytes) : json()}});
  }
  json out = {{"invalid_indexes", invalid}, {"duplicate_indexes", duplicate}, {"redundant_indexes", redundant}};
  if (counted) {
    out["unused_indexes"] = unused;
  } else {
    out["unused_indexes"] = nullptr;
    out["unused_note"] = "this engine counts no index scans (SQLite): unused indexes cannot be told";
  }
  return out;
}

nlohmann::json IndexAdvice(const nlohmann::json* statements, Dialect dialect, Planner* planner,
                           const nlohmann::json* monitored) {
  using json = nlohmann::json;
  constexpr std::size_t kMaxStatements = 1000;
  json list = json::array();
  bool as_superuser = false;
  json out = json::object();
  if ((statements == nullptr || statements->is_null()) && monitored != nullptr) {
    list = *monitored;
    out["source"] = "monitoring";
  } else if (statements == nullptr || statements->is_null()) {
    out["source"] = nullptr;
    out["message"] = "no statements given, and statement monitoring (which would name the heaviest) is not running "
                     "(PostgreSQL: shared_preload_libraries = 'vigil'): pass the statements to advise on";
  } else {
    if (statements->is_object()) {
      for (const auto& [key, value] : statements->items())
        if (key != "statements" && key != "plan_as_superuser")
          throw Error(ErrorCode::kInvalidParameter, "unknown key \"" + text::ForMessage(key, 64) + "\"",
                      "pass an array of statements, or {\"statements\": [...], \"plan_as_superuser\": true}");
      if (!statements->contains("statements") || !(*statements)["statements"].is_array())
        throw Error(ErrorCode::kInvalidParameter, "\"statements\" must be an array");
      list = (*statements)["statements"];
      if (statements->contains("plan_as_superuser")) {
        if (!(*statements)["plan_as_superuser"].is_boolean())
          throw Error(ErrorCode::kInvalidParameter, "\"plan_as_superuser\" must be true or false");
        as_superuser = (*statements)["plan_as_superuser"].get<bool>();
      }
    } else if (statements->is_array()) {
      list = *statements;
    } else {
      throw Error(ErrorCode::kInvalidParameter, "statements must be a JSON array (or an object with \"statements\")");
    }
    if (list.size() > kMaxStatements)
      throw Error(ErrorCode::kProgramLimit, "more than 1000 statements", "advise on the heaviest ones");
    out["source"] = "statements";
  }
  struct Merged {
    std::string table;
    std::vector<std::string> columns;
    std::string name;
    std::vector<std::size_t> statements;
    double calls = 0, cost_saved = 0, ms_saved = 0, scans_ended = 0;
    bool has_cost = false, has_ms = false;
  };
  std::vector<Merged> merged;
  json errors = json::array();
  std::size_t planned = 0;
  const json options = {{"plan", true}, {"index_advice", true}, {"plan_as_superuser", as_superuser}};
  for (std::size_t i = 0; i < list.size(); ++i) {
    PollCancel();
    const json& item = list[i];
    std::string sql;
    double calls = 1, total_ms = -1;
    if (item.is_string()) {
      sql = item.get<std::string>();
    } else if (item.is_object() && item.contains("sql") && item["sql"].is_string()) {
      sql = item["sql"].get<std::string>();
      for (const auto& [key, value] : item.items()) {
        if (key == "sql") continue;
        if ((key != "calls" && key != "total_ms") || !value.is_number() || value.get<double>() < 0)
          throw Error(ErrorCode::kInvalidParameter,
                      "statement " + std::to_string(i + 1) + ": \"calls\" and \"total_ms\" must be numbers >= 0",
                      "a statement is a text or {\"sql\": text, \"calls\": n, \"total_ms\": ms}");
        (key == "calls" ? calls : total_ms) = value.get<double>();
      }
    } else {
      throw Error(ErrorCode::kInvalidParameter, "statement " + std::to_string(i + 1) + " is neither a text nor {\"sql\": text}");
    }
    if (sql.size() > (std::size_t{16} << 20)) throw Error(ErrorCode::kProgramLimit, "statement longer than 16 MiB");
    json r = AnalyzeQueryJson(sql, dialect, options, planner);
    if (r["plan"].is_null()) {
      errors.push_back({{"statement", i + 1}, {"error", r.value("plan_error", "not planned")}});
      continue;
    }
    ++planned;
    if (!r.contains("index_suggestions") || !r["index_suggestions"].is_array()) {
      if (r.contains("index_advice_error")) errors.push_back({{"statement", i + 1}, {"error", r["index_advice_error"]}});
      continue;
    }
    for (const json& s : r["index_suggestions"]) {
      std::string table = s.value("table", "");
      std::vector<std::string> columns = s.value("columns", std::vector<std::string>{});
      Merged* m = nullptr;
      for (Merged& x : merged)
        if (x.table == table && x.columns == columns) m = &x;
      if (m == nullptr) {
        merged.push_back({table, columns, s.value("name", ""), {}, 0, 0, 0, 0, false, false});
        m = &merged.back();
      }
      m->statements.push_back(i + 1);
      m->calls += calls;
      const json& before = s["plan_before"];
      const json& after = s["plan_after"];
      if (before.contains("total_cost") && after.contains("total_cost") && before["total_cost"].is_number() &&
          after["total_cost"].is_number()) {
        double b = before["total_cost"].get<double>(), a = after["total_cost"].get<double>();
        m->has_cost = true;
        m->cost_saved += calls * (b - a);
        if (total_ms >= 0 && b > 0) {
          m->has_ms = true;
          m->ms_saved += total_ms * (b - a) / b;
        }
      }
      m->scans_ended += calls * static_cast<double>(s.value("removes_full_scans", json::array()).size());
    }
  }
  // An index whose columns start another's is served by it: folded in.
  std::vector<bool> folded(merged.size(), false);
  for (std::size_t i = 0; i < merged.size(); ++i)
    for (std::size_t j = 0; j < merged.size(); ++j) {
      if (i == j || folded[i] || folded[j] || merged[i].table != merged[j].table) continue;
      const auto& a = merged[i].columns;
      const auto& b = merged[j].columns;
      if (a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin())) {
        for (std::size_t st : merged[i].statements)
          if (std::find(merged[j].statements.begin(), merged[j].statements.end(), st) == merged[j].statements.end())
            merged[j].statements.push_back(st);
        merged[j].calls += merged[i].calls;
        merged[j].cost_saved += merged[i].cost_saved;
        merged[j].ms_saved += merged[i].ms_saved;
        merged[j].scans_ended += merged[i].scans_ended;
        merged[j].has_cost = merged[j].has_cost || merged[i].has_cost;
        merged[j].has_ms = merged[j].has_ms || merged[i].has_ms;
        folded[i] = true;
      }
    }
  bool any_ms = false, any_cost = false;
  for (std::size_t i = 0; i < merged.size(); ++i)
    if (!folded[i]) {
      any_ms = any_ms || merged[i].has_ms;
      any_cost = any_cost || merged[i].has_cost;
    }
  const char* rank = any_ms ? "time" : any_cost ? "cost" : "full_scans";
  std::vector<const Merged*> kept;
  for (std::size_t i = 0; i < merged.size(); ++i)
    if (!folded[i]) kept.push_back(&merged[i]);
  auto key = [&](const Merged* m) { return any_ms ? m->ms_saved : any_cost ? m->cost_saved : m->scans_ended; };
  std::stable_sort(kept.begin(), kept.end(), [&](const Merged* a, const Merged* b) { return key(a) > key(b); });
  json suggestions = json::array();
  for (const Merged* m : kept) {
    std::sort(const_cast<Merged*>(m)->statements.begin(), const_cast<Merged*>(m)->statements.end());
    auto number = [](double v) {  // a whole count prints as one
      return v == static_cast<double>(static_cast<long long>(v)) && v < 9e15 ? json(static_cast<long long>(v)) : json(v);
    };
    json s = {{"table", m->table}, {"columns", m->columns}, {"ddl", IndexDdl({m->table, m->columns, m->name})},
              {"statements", m->statements}, {"calls", number(m->calls)}, {"full_scans_ended", number(m->scans_ended)}};
    s["estimated_cost_saved"] = m->has_cost ? json(m->cost_saved) : json();
    s["estimated_ms_saved"] = m->has_ms ? json(m->ms_saved) : json();
    suggestions.push_back(std::move(s));
  }
  out["statements"] = list.size();
  out["planned"] = planned;
  out["ranked_by"] = rank;
  out["suggestions"] = std::move(suggestions);
  out["errors"] = std::move(errors);
  json health = IndexHealth(planner->ExistingIndexes());
  for (auto& [k, v] : health.items()) out[k] = v;
  return out;
}

}  // namespace vigil::core::sql
