// rules_pg.cc — row checks for PostgreSQL: vigil_check() and the
// vigil_enforce_trigger() trigger function (SPEC §2).
//
// The core plans the check (vigil/row_check.h). This file gathers the table's
// shape and rules with the catalog and SPI, runs the unique / references /
// expression queries the plan asks for, and reports. The phases follow
// boundary.h; the one C++ object that must live across engine phases (the
// RowCheck) is owned by the current memory context through OwnedByContext,
// so an ereport in a later phase frees it with the context instead of
// leaking it.
//
// The orchestration functions (vigil_rule_add, vigil_rule_remove,
// vigil_rules, vigil_enforce, vigil_unenforce, vigil_insert) are PL/pgSQL and
// SQL in vigil.sql; they call vigil_check for everything rule-related.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/objectaddress.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/row_check.h"
#include "rules/rules.h"

namespace core = vigil::core;
using vigil::pg::Run;

namespace {

// ---- engine-side data: plain C, palloc'd -----------------------------------

struct PgColumn {
  char* name;
  char* type;    // format_type_be
  Oid typid;
  Oid typoutput;
  int attnum;
};

struct PgTable {
  Oid relid;
  char* name;        // relname, the key of vigil_rules.table_name
  char* qualified;   // quoted schema.table for SQL
  int ncolumns;
  PgColumn* columns;
};

struct PgRules {
  int n;
  char** column;  // NULL for row-level
  char** rule;
  char** params;  // NULL when none
};

// ResolveTable resolves a plain table name through search_path (42P01 when
// missing, 42809 when it is not a table, 42501 without SELECT, INSERT or
// UPDATE on it, checked before it is locked).
Oid ResolveTable(const char* name) {
  AclMode mask = ACL_SELECT | ACL_INSERT | ACL_UPDATE;
  Oid relid = RangeVarGetRelidExtended(makeRangeVar(NULL, pstrdup(name), -1), AccessShareLock, RVR_MISSING_OK,
                                       vigil::pg::PrivilegeBeforeLock, &mask);
  if (!OidIsValid(relid) || name[0] == '\0')
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table \"%s\" does not exist", name)));
  char kind = get_rel_relkind(relid);
  if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table", name)));
  return relid;
}

// OpenTableByOid reads the table's name and live columns.
void OpenTableByOid(Oid relid, PgTable* t) {
  Relation rel = table_open(relid, AccessShareLock);
  TupleDesc desc = RelationGetDescr(rel);
  t->relid = relid;
  t->name = pstrdup(RelationGetRelationName(rel));
  t->qualified = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), t->name);
  t->columns = static_cast<PgColumn*>(palloc0(sizeof(PgColumn) * (desc->natts + 1)));
  t->ncolumns = 0;
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (att->attisdropped) continue;
    PgColumn* c = &t->columns[t->ncolumns++];
    c->name = pstrdup(NameStr(att->attname));
    c->type = format_type_be(att->atttypid);
    c->typid = att->atttypid;
    c->attnum = att->attnum;
    bool varlena;
    getTypeOutputInfo(att->atttypid, &c->typoutput, &varlena);
  }
  table_close(rel, AccessShareLock);
}

// LoadRules reads the table's rules from the extension's vigil_rules.
void LoadRules(Oid ext_namespace, const char* table, PgRules* r) {
  MemoryContext caller = CurrentMemoryContext;
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql, "SELECT column_name, rule, params::text FROM %s.vigil_rules WHERE table_name = $1 ORDER BY id",
                   quote_identifier(get_namespace_name(ext_namespace)));
  Oid argtypes[1] = {TEXTOID};
  Datum values[1] = {CStringGetTextDatum(table)};
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  if (SPI_execute_with_args(sql.data, 1, argtypes, values, nullptr, true, 0) != SPI_OK_SELECT)
    elog(ERROR, "reading vigil_rules failed");
  MemoryContext spi = MemoryContextSwitchTo(caller);
  r->n = static_cast<int>(SPI_processed);
  r->column = static_cast<char**>(palloc0(sizeof(char*) * (r->n + 1)));
  r->rule = static_cast<char**>(palloc0(sizeof(char*) * (r->n + 1)));
  r->params = static_cast<char**>(palloc0(sizeof(char*) * (r->n + 1)));
  for (int i = 0; i < r->n; ++i) {
    HeapTuple tup = SPI_tuptable->vals[i];
    TupleDesc desc = SPI_tuptable->tupdesc;
    r->column[i] = SPI_getvalue(tup, desc, 1);  // palloc'd in the current (caller's) context
    r->rule[i] = SPI_getvalue(tup, desc, 2);
    r->params[i] = SPI_getvalue(tup, desc, 3);
  }
  MemoryContextSwitchTo(spi);
  SPI_finish();
}

// ---- the plan cache ------------------------------------------------------------
//
// One backend-local map relid -> CachedTable (the parsed rules and the
// table's shape). Entries are dropped by a relcache callback: for the table
// itself (ALTER, DROP) and for every table when vigil_rules changes (its
// statement trigger, vigil_enforce_trigger, sends a relcache invalidation for
// vigil_rules, which reaches every backend at commit and this one at the next
// command). Entries are shared_ptrs: a check in progress keeps its plan alive
// even if an invalidation drops it from the map meanwhile.

struct CachedTable {
  std::shared_ptr<const core::TablePlan> plan;
  std::string qualified;         // quoted schema.table for SQL
  std::vector<int> attnums;      // per plan column: attribute number in the tuple
  std::vector<Oid> typoutput;    // per plan column: output function
  std::vector<Oid> typid;
  std::vector<int> needed;       // plan columns the rules read
};

struct PlanCache {
  std::unordered_map<Oid, std::shared_ptr<const CachedTable>> tables;
};

PlanCache* plan_cache = nullptr;
Oid rules_relid = InvalidOid;     // the extension's vigil_rules table
std::uint64_t inval_generation = 0;
bool callback_registered = false;

// InvalidatePlans is the relcache callback (engine context: must not throw
// or ereport; clear/erase and the destructors they run do neither).
void InvalidatePlans(Datum, Oid relid) {
  ++inval_generation;
  if (plan_cache == nullptr) return;
  if (relid == InvalidOid || relid == rules_relid) {
    plan_cache->tables.clear();
  } else {
    plan_cache->tables.erase(relid);
  }
}

struct TableRef {
  std::shared_ptr<const CachedTable> table;
};

std::shared_ptr<const CachedTable> BuildCachedTable(const PgTable& t, const PgRules& r) {
  core::TableInfo info;
  info.name = t.name;
  auto cached = std::make_shared<CachedTable>();
  for (int i = 0; i < t.ncolumns; ++i) {
    info.columns.emplace_back(t.columns[i].name);
    info.types.emplace_back(t.columns[i].type);
    cached->attnums.push_back(t.columns[i].attnum);
    cached->typoutput.push_back(t.columns[i].typoutput);
    cached->typid.push_back(t.columns[i].typid);
  }
  std::vector<core::StoredRule> rules;
  for (int i = 0; i < r.n; ++i) {
    core::StoredRule s;
    if (r.column[i]) s.column = r.column[i];
    s.rule = r.rule[i];
    if (r.params[i]) s.params = r.params[i];
    rules.push_back(std::move(s));
  }
  cached->plan = std::make_shared<const core::TablePlan>(info, rules);
  cached->qualified = t.qualified;
  bool all = false;
  std::vector<bool> want(info.columns.size(), false);
  for (const auto& entry : cached->plan->rules()) {
    if (entry.rule.kind == core::RuleKind::kExpression) all = true;
    if (entry.column) {
      int c = cached->plan->ColumnIndex(*entry.column);
      if (c >= 0) want[c] = true;
    }
  }
  for (std::size_t c = 0; c < want.size(); ++c)
    if (all || want[c]) cached->needed.push_back(static_cast<int>(c));
  return cached;
}

// GetTable returns the cached table for relid, loading it on a miss. The
// returned holder is owned by `owner` (phases: C++ look-up, engine load,
// C++ build).
TableRef* GetTable(Oid relid, Oid ext_namespace, MemoryContext owner) {
  if (!callback_registered) {
    CacheRegisterRelcacheCallback(InvalidatePlans, (Datum)0);
    callback_registered = true;
  }
  TableRef* ref = Run([&] {
    if (plan_cache == nullptr) plan_cache = new PlanCache();
    TableRef* r = vigil::pg::OwnedByContext<TableRef>(owner);
    auto it = plan_cache->tables.find(relid);
    if (it != plan_cache->tables.end()) r->table = it->second;
    return r;
  });
  if (ref->table) return ref;
  std::uint64_t generation = inval_generation;
  PgTable t;
  OpenTableByOid(relid, &t);
  PgRules rules;
  LoadRules(ext_namespace, t.name, &rules);
  Oid vigil_rules = get_relname_relid("vigil_rules", ext_namespace);
  Run([&] {
    ref->table = BuildCachedTable(t, rules);
    rules_relid = vigil_rules;
    // Cache only what no invalidation overtook while it was being read.
    if (generation == inval_generation) plan_cache->tables[relid] = ref->table;
  });
  return ref;
}

struct CheckState {
  std::shared_ptr<const CachedTable> table;
  std::optional<core::RowCheck> check;
};

// ---- engine phase: the queries ------------------------------------------------

// RunQueries answers every EngineQuery with SPI. Values travel as text
// parameters and are cast to the column's type in SQL. read_only: true from
// vigil_check (STABLE: the caller's snapshot); false from the trigger, so a
// unique rule sees rows written earlier by the same statement.
void RunQueries(CheckState* state, bool read_only) {
  std::vector<core::EngineQuery>& queries = state->check->queries();
  if (queries.empty()) return;
  const CachedTable* t = state->table.get();
  const core::TableInfo& info = t->plan->table();
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  for (std::size_t qi = 0; qi < queries.size(); ++qi) {
    core::EngineQuery* q = &queries[qi];
    StringInfoData sql;
    initStringInfo(&sql);
    if (q->kind == core::RuleKind::kUnique || q->kind == core::RuleKind::kReferences) {
      const char* target = t->qualified.c_str();
      const char* column = q->column.c_str();
      int c = t->plan->ColumnIndex(q->column);
      const char* type = c >= 0 ? info.types[c].c_str() : "text";
      if (q->kind == core::RuleKind::kReferences) {
        Oid relid = RangeVarGetRelid(makeRangeVar(NULL, pstrdup(q->ref_table.c_str()), -1), AccessShareLock, true);
        if (!OidIsValid(relid))
          ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table \"%s\" does not exist", q->ref_table.c_str())));
        target = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
        column = q->ref_column.c_str();
        AttrNumber attnum = get_attnum(relid, column);
        if (attnum == InvalidAttrNumber)
          ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                          errmsg("column \"%s\" of table \"%s\" does not exist", column, q->ref_table.c_str())));
        type = format_type_be(get_atttype(relid, attnum));
      }
      appendStringInfo(&sql, "SELECT 1 FROM %s WHERE %s = CAST($1 AS %s) LIMIT 1", target, quote_identifier(column), type);
      Oid argtypes[1] = {TEXTOID};
      Datum values[1] = {CStringGetTextDatum(q->value.text.c_str())};
      if (SPI_execute_with_args(sql.data, 1, argtypes, values, nullptr, read_only, 1) != SPI_OK_SELECT)
        elog(ERROR, "rule query failed");
      bool found = SPI_processed > 0;
      q->violated = q->kind == core::RuleKind::kUnique ? found : !found;
    } else {
      int n = static_cast<int>(info.columns.size());
      appendStringInfo(&sql, "SELECT CAST((%s) AS boolean) FROM (SELECT ", q->expression.c_str());
      Oid* argtypes = static_cast<Oid*>(palloc(sizeof(Oid) * (n + 1)));
      Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
      char* nulls = static_cast<char*>(palloc(n + 1));
      for (int i = 0; i < n; ++i) {
        const core::TypedValue* v = state->check->row().Find(info.columns[i]);
        appendStringInfo(&sql, "%sCAST($%d AS %s) AS %s", i > 0 ? ", " : "", i + 1, info.types[i].c_str(),
                         quote_identifier(info.columns[i].c_str()));
        argtypes[i] = TEXTOID;
        bool is_null = v == nullptr || v->kind == core::TypedValue::kNull;
        values[i] = is_null ? (Datum)0 : CStringGetTextDatum(v->text.c_str());
        nulls[i] = is_null ? 'n' : ' ';
      }
      appendStringInfoString(&sql, ") AS vigil_row");
      if (SPI_execute_with_args(sql.data, n, argtypes, values, nulls, read_only, 1) != SPI_OK_SELECT)
        elog(ERROR, "rule expression failed");
      bool isnull = true;
      Datum d = SPI_processed > 0 ? SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull) : (Datum)0;
      q->violated = !isnull && !DatumGetBool(d);  // like CHECK: NULL passes
    }
  }
  SPI_finish();
}

// Finish (phase 2) merges the answers; raises 23514 when `raise` and there
// are violations, else returns them as a palloc'd JSON string.
char* FinishCheck(CheckState* state, bool raise) {
  return Run([&]() -> char* {
    std::vector<core::Violation> v = state->check->Finish();
    if (raise && !v.empty())
      throw core::Error(core::ErrorCode::kCheckViolation, core::ViolationsMessage(state->check->table().name, v));
    return raise ? nullptr : vigil::pg::CopyCString(core::ViolationsJson(v));
  });
}

char* JsonbArgText(Jsonb* jb) { return JsonbToCString(nullptr, &jb->root, VARSIZE(jb)); }

// StartCheck (phase 2, raising in phase 3) creates the context-owned check
// of one row; `rows` builds the row and, for an UPDATE, the old row.
template <typename MakeRows>
CheckState* StartCheck(MemoryContext owner, TableRef* ref, bool check_types, MakeRows&& rows) {
  return Run([&] {
    CheckState* state = vigil::pg::OwnedByContext<CheckState>(owner);
    state->table = ref->table;
    std::optional<core::TypedRow> old_row;
    core::TypedRow row = rows(state->table.get(), &old_row);
    state->check.emplace(state->table->plan, std::move(row), old_row ? &*old_row : nullptr, check_types);
    return state;
  });
}

// TupleValues (engine) renders the columns the rules read as text, with a
// JSON-like kind per value, for the trigger's row.
struct PgRow {
  int n;
  int* column;   // plan column index
  char** text;   // NULL for SQL NULL
  char* kind;    // TypedValue::Kind
};

void TupleValues(const CachedTable* t, HeapTuple tuple, TupleDesc desc, PgRow* row) {
  int n = static_cast<int>(t->needed.size());
  row->n = n;
  row->column = static_cast<int*>(palloc(sizeof(int) * (n + 1)));
  row->text = static_cast<char**>(palloc0(sizeof(char*) * (n + 1)));
  row->kind = static_cast<char*>(palloc(n + 1));
  for (int i = 0; i < n; ++i) {
    int c = t->needed[i];
    row->column[i] = c;
    bool isnull;
    Datum d = heap_getattr(tuple, t->attnums[c], desc, &isnull);
    if (isnull) {
      row->kind[i] = core::TypedValue::kNull;
      continue;
    }
    char* text = OidOutputFunctionCall(t->typoutput[c], d);
    row->text[i] = text;
    switch (t->typid[c]) {
      case INT2OID: case INT4OID: case INT8OID:
        row->kind[i] = core::TypedValue::kInteger;
        break;
      case FLOAT4OID: case FLOAT8OID: case NUMERICOID:
        // NaN and infinities are not numbers to the rules: keep them as text.
        row->kind[i] = ((text[0] >= '0' && text[0] <= '9') || (text[0] == '-' && text[1] >= '0' && text[1] <= '9'))
                           ? core::TypedValue::kReal
                           : core::TypedValue::kString;
        break;
      case BOOLOID:
        row->kind[i] = core::TypedValue::kBoolean;
        row->text[i] = const_cast<char*>(text[0] == 't' ? "true" : "false");
        break;
      default:
        row->kind[i] = core::TypedValue::kString;
    }
  }
}

core::TypedRow ToTypedRow(const CachedTable* t, const PgRow& row) {
  core::TypedRow out;
  const core::TableInfo& info = t->plan->table();
  for (int i = 0; i < row.n; ++i) {
    out.columns.push_back(info.columns[row.column[i]]);
    core::TypedValue v;
    v.kind = static_cast<core::TypedValue::Kind>(row.kind[i]);
    if (row.text[i]) v.text = row.text[i];
    out.values.push_back(std::move(v));
  }
  return out;
}

}  // namespace

// vigil_check(table text, row jsonb, raise boolean DEFAULT false,
//             old_row jsonb DEFAULT NULL) RETURNS jsonb
VIGIL_PG_FUNCTION(vigil_check) {
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) PG_RETURN_NULL();
  char* table = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char* row = JsonbArgText(PG_GETARG_JSONB_P(1));
  bool raise = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
  char* old_row = PG_ARGISNULL(3) ? nullptr : JsonbArgText(PG_GETARG_JSONB_P(3));
  Oid relid = ResolveTable(table);
  MemoryContext owner = CurrentMemoryContext;
  TableRef* ref = GetTable(relid, get_func_namespace(fcinfo->flinfo->fn_oid), owner);
  CheckState* state = StartCheck(owner, ref, true, [&](const CachedTable*, std::optional<core::TypedRow>* old) {
    if (old_row) *old = core::ParseTypedRow(old_row);
    return core::ParseTypedRow(row);
  });
  RunQueries(state, true);
  char* json = FinishCheck(state, raise);
  if (json == nullptr) json = const_cast<char*>("[]");
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// vigil_enforce_trigger(): as a BEFORE INSERT OR UPDATE row trigger, rejects
// a row with one 23514 error listing every violation. As the AFTER statement
// trigger on vigil_rules itself, tells every backend that rules changed.
VIGIL_PG_FUNCTION(vigil_enforce_trigger) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_enforce_trigger() must be called as a trigger"),
                    errhint("Use vigil_enforce(table) to install it.")));
  TriggerData* trig = reinterpret_cast<TriggerData*>(fcinfo->context);
  Relation rel = trig->tg_relation;
  Oid ext_namespace = get_func_namespace(fcinfo->flinfo->fn_oid);
  if (TRIGGER_FIRED_AFTER(trig->tg_event) && TRIGGER_FIRED_FOR_STATEMENT(trig->tg_event) &&
      RelationGetNamespace(rel) == ext_namespace && strcmp(RelationGetRelationName(rel), "vigil_rules") == 0) {
    CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));
    return PointerGetDatum(nullptr);
  }
  if (!TRIGGER_FIRED_BEFORE(trig->tg_event) || !TRIGGER_FIRED_FOR_ROW(trig->tg_event) ||
      !(TRIGGER_FIRED_BY_INSERT(trig->tg_event) || TRIGGER_FIRED_BY_UPDATE(trig->tg_event)))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_enforce_trigger() must fire BEFORE INSERT OR UPDATE FOR EACH ROW")));
  TupleDesc desc = RelationGetDescr(rel);
  bool update = TRIGGER_FIRED_BY_UPDATE(trig->tg_event);
  HeapTuple row = update ? trig->tg_newtuple : trig->tg_trigtuple;
  MemoryContext owner = CurrentMemoryContext;
  TableRef* ref = GetTable(RelationGetRelid(rel), ext_namespace, owner);
  if (ref->table->plan->rules().empty()) return PointerGetDatum(row);
  PgRow values, old_values;
  TupleValues(ref->table.get(), row, desc, &values);
  if (update) TupleValues(ref->table.get(), trig->tg_trigtuple, desc, &old_values);
  CheckState* state = StartCheck(owner, ref, false, [&](const CachedTable* t, std::optional<core::TypedRow>* old) {
    if (update) *old = ToTypedRow(t, old_values);
    return ToTypedRow(t, values);
  });
  RunQueries(state, false);
  FinishCheck(state, true);
  return PointerGetDatum(row);
}

// vigil_enforce_trigger(table, new_row, old_row, expressions): what SQLite's
// generated triggers call. PostgreSQL enforces with the trigger function
// vigil_enforce_trigger() itself, so here it says so.
VIGIL_PG_FUNCTION(vigil_enforce_trigger_row) {
  ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                  errmsg("vigil_enforce_trigger(table, new_row, old_row, expressions) is what SQLite's enforcement "
                         "triggers call"),
                  errhint("In PostgreSQL, vigil_enforce(table) installs a trigger that runs vigil_enforce_trigger().")));
  PG_RETURN_VOID();
}
