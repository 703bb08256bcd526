// plan.cc — plan summaries (see plan.h).
#include "sql/plan.h"

#include <string>
#include <vector>

#include "base/cancel.h"
#include "base/error.h"
#include "base/json.h"
#include "base/core_guard.h"

namespace vigil::core::sql {

using json = nlohmann::json;

namespace {

const json* Member(const json& o, const char* key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

}  // namespace

json SummarizePostgres(std::string_view explain_json) {
  json doc = json_in::ParseInput(explain_json, "EXPLAIN output");
  const json* top = doc.is_array() && !doc.empty() ? &doc[0] : nullptr;
  const json* plan = top ? Member(*top, "Plan") : nullptr;
  if (plan == nullptr || !plan->is_object())
    throw Error(ErrorCode::kInvalidText, "EXPLAIN output without a plan");
  json out = json::object();
  out["engine"] = "postgresql";
  const json* actual = Member(*plan, "Actual Rows");
  out["analyzed"] = actual != nullptr;
  if (const json* c = Member(*plan, "Total Cost")) out["total_cost"] = *c;
  if (const json* r = Member(*plan, "Plan Rows")) out["rows"] = *r;
  if (actual) out["actual_rows"] = *actual;
  if (const json* t = Member(*top, "Execution Time")) out["execution_ms"] = *t;
  json scans = json::array(), full = json::array();
  // Depth-first over "Plans", iteratively (ParseInput bounds the depth).
  std::vector<const json*> stack = {plan};
  std::size_t visited = 0;
  while (!stack.empty()) {
    if ((++visited & 255) == 0) PollCancel();
    const json* node = stack.back();
    stack.pop_back();
    const json* relation = Member(*node, "Relation Name");
    const json* type = Member(*node, "Node Type");
    if (relation && relation->is_string() && type && type->is_string()) {
      json scan = json::object();
      std::string table = relation->get<std::string>();
      if (const json* schema = Member(*node, "Schema"); schema && schema->is_string())
        table = schema->get<std::string>() + "." + table;
      scan["table"] = table;
      scan["node"] = *type;
      const json* index = Member(*node, "Index Name");
      if (index == nullptr) {
        // A bitmap heap scan names its index in the Bitmap Index Scan below it.
        std::vector<const json*> below;
        if (const json* children = Member(*node, "Plans"); children && children->is_array())
          for (const json& c : *children) below.push_back(&c);
        while (!below.empty() && index == nullptr) {
          const json* c = below.back();
          below.pop_back();
          if (const json* t = Member(*c, "Node Type"); t && t->is_string() && *t == "Bitmap Index Scan")
            index = Member(*c, "Index Name");
          if (const json* more = Member(*c, "Plans"); more && more->is_array())
            for (const json& m : *more) below.push_back(&m);
        }
      }
      scan["index"] = index ? *index : json();
      if (const json* r = Member(*node, "Plan Rows")) scan["rows"] = *r;
      if (const json* f = Member(*node, "Filter")) scan["filter"] = *f;
      if (type->get<std::string>() == "Seq Scan") full.push_back(table);
      scans.push_back(std::move(scan));
    }
    if (const json* children = Member(*node, "Plans"); children && children->is_array())
      for (auto it = children->rbegin(); it != children->rend(); ++it) stack.push_back(&*it);
  }
  out["scans"] = std::move(scans);
  out["full_scans"] = std::move(full);
  out["explain"] = std::move(doc);
  return out;
}

json SummarizeSqlite(const std::vector<EqpRow>& rows) {
  json out = json::object();
  out["engine"] = "sqlite";
  json steps = json::array(), scans = json::array(), full = json::array();
  bool temp = false;
  for (const EqpRow& r : rows) {
    steps.push_back({{"id", r.id}, {"parent", r.parent}, {"detail", r.detail}});
    const std::string& d = r.detail;
    if (d.find("TEMP B-TREE") != std::string::npos) temp = true;
    bool scan = d.rfind("SCAN ", 0) == 0, search = d.rfind("SEARCH ", 0) == 0;
    if (!scan && !search) continue;
    std::string rest = d.substr(scan ? 5 : 7);
    if (rest.empty() || rest[0] == '(' || rest.rfind("CONSTANT ROW", 0) == 0) continue;  // a subquery, no table
    std::size_t end = rest.find(' ');
    std::string table = rest.substr(0, end);
    json index;
    for (const char* using_ : {" USING COVERING INDEX ", " USING INDEX "}) {
      std::size_t at = rest.find(using_);
      if (at != std::string::npos) {
        std::string name = rest.substr(at + std::string(using_).size());
        index = name.substr(0, name.find(' '));
        break;
      }
    }
    if (index.is_null() && rest.find(" USING INTEGER PRIMARY KEY") != std::string::npos) index = "INTEGER PRIMARY KEY";
    scans.push_back({{"table", table}, {"index", index}, {"detail", d}});
    if (scan && index.is_null() && rest.find(" VIRTUAL TABLE") == std::string::npos) full.push_back(table);
  }
  out["steps"] = std::move(steps);
  out["scans"] = std::move(scans);
  out["full_scans"] = std::move(full);
  out["temp_b_tree"] = temp;
  return out;
}

std::vector<std::string> FullScans(const json& summary) {
  std::vector<std::string> out;
  if (const json* f = Member(summary, "full_scans"); f && f->is_array())
    for (const json& t : *f)
      if (t.is_string()) out.push_back(t.get<std::string>());
  return out;
}

}  // namespace vigil::core::sql
