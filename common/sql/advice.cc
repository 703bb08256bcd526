// advice.cc — index candidates (see advice.h).
#include "sql/advice.h"

#include <algorithm>
#include <string>
#include <vector>

#include "sql/quote.h"
#include "base/core_guard.h"

namespace vigil::core::sql {

namespace {

bool Has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// Lower compares names the way unquoted names are folded.
std::string Lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

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
      if (Lower(c) == name) return c;
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
    out.push_back({name, std::move(cols)});
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
  ddl += QuoteIdent(IndexName(c));
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

}  // namespace vigil::core::sql
