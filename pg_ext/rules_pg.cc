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

extern "C" {
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

#include <string>
#include <vector>

#include "vigil/row_check.h"
#include "vigil/rules.h"

namespace core = vigil::core;
using vigil::pg::Call;
using vigil::pg::Failure;

namespace {

// ---- engine-side data: plain C, palloc'd -----------------------------------

struct PgColumn {
  char* name;
  char* type;   // format_type_be
  Oid typid;
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

// OpenTable resolves a plain table name through search_path (42P01 when
// missing) and reads its columns.
void OpenTable(const char* name, PgTable* t) {
  Oid relid = RangeVarGetRelid(makeRangeVar(NULL, pstrdup(name), -1), AccessShareLock, true);
  if (!OidIsValid(relid)) ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table \"%s\" does not exist", name)));
  char kind = get_rel_relkind(relid);
  if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table", name)));
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

// ---- the C++ side -----------------------------------------------------------

struct CheckState {
  core::RowCheck check;
  std::vector<std::string> type_of;  // per table column: format_type
};

// BuildCheck (phase 2) creates the RowCheck, owned by `owner`.
CheckState* BuildCheck(MemoryContext owner, const PgTable& t, const PgRules& r, const char* row_json,
                       const char* old_json, bool check_types) {
  core::TableInfo info;
  info.name = t.name;
  for (int i = 0; i < t.ncolumns; ++i) {
    info.columns.emplace_back(t.columns[i].name);
    info.types.emplace_back(t.columns[i].type);
  }
  std::vector<core::StoredRule> rules;
  for (int i = 0; i < r.n; ++i) {
    core::StoredRule s;
    if (r.column[i]) s.column = r.column[i];
    s.rule = r.rule[i];
    if (r.params[i]) s.params = r.params[i];
    rules.push_back(std::move(s));
  }
  core::TypedRow row = core::ParseTypedRow(row_json);
  std::optional<core::TypedRow> old_row;
  if (old_json) old_row = core::ParseTypedRow(old_json);
  return vigil::pg::OwnedByContext<CheckState>(owner, core::RowCheck(info, rules, row, old_row ? &*old_row : nullptr, check_types),
                                               info.types);
}

// ---- engine phase: the queries ------------------------------------------------

const char* TypeOfColumn(const PgTable& t, const char* column) {
  for (int i = 0; i < t.ncolumns; ++i)
    if (strcmp(t.columns[i].name, column) == 0) return t.columns[i].type;
  return "text";
}

// RunQueries answers every EngineQuery with SPI. Values travel as text
// parameters and are cast to the column's type in SQL.
void RunQueries(CheckState* state, const PgTable& t, bool read_only) {
  std::vector<core::EngineQuery>& queries = state->check.queries();
  if (queries.empty()) return;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  for (std::size_t qi = 0; qi < queries.size(); ++qi) {
    core::EngineQuery* q = &queries[qi];
    StringInfoData sql;
    initStringInfo(&sql);
    if (q->kind == core::RuleKind::kUnique || q->kind == core::RuleKind::kReferences) {
      const char* target = t.qualified;
      const char* column = q->column.c_str();
      const char* type = TypeOfColumn(t, column);
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
      int n = t.ncolumns;
      appendStringInfo(&sql, "SELECT CAST((%s) AS boolean) FROM (SELECT ", q->expression.c_str());
      Oid* argtypes = static_cast<Oid*>(palloc(sizeof(Oid) * (n + 1)));
      Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
      char* nulls = static_cast<char*>(palloc(n + 1));
      for (int i = 0; i < n; ++i) {
        const core::TypedValue* v = state->check.row().Find(t.columns[i].name);
        appendStringInfo(&sql, "%sCAST($%d AS %s) AS %s", i > 0 ? ", " : "", i + 1, t.columns[i].type,
                         quote_identifier(t.columns[i].name));
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

// CheckRow runs the whole check and returns the violations as a palloc'd
// JSON string, or raises 23514 when `raise` and there are any.
// read_only: true from vigil_check (STABLE: the caller's snapshot); false
// from the trigger, so that a unique rule sees rows written earlier by the
// same statement, as a volatile function's queries do.
char* CheckRow(const PgTable& t, Oid ext_namespace, const char* row_json, const char* old_json, bool raise,
               bool check_types, bool read_only) {
  PgRules rules;
  LoadRules(ext_namespace, t.name, &rules);
  MemoryContext owner = CurrentMemoryContext;
  Failure failure;
  CheckState* state = nullptr;
  if (!Call(&failure, [&] { state = BuildCheck(owner, t, rules, row_json, old_json, check_types); }))
    vigil::pg::Raise(failure);
  RunQueries(state, t, read_only);
  char* result = nullptr;
  if (!Call(&failure, [&] {
        std::vector<core::Violation> v = state->check.Finish();
        if (raise && !v.empty())
          throw core::Error(core::ErrorCode::kCheckViolation, core::ViolationsMessage(t.name, v));
        result = vigil::pg::CopyCString(core::ViolationsJson(v));
      }))
    vigil::pg::Raise(failure);
  return result;
}

char* JsonbArgText(Jsonb* jb) { return JsonbToCString(nullptr, &jb->root, VARSIZE(jb)); }

// TupleJson renders a tuple as a JSON object with typed scalars, the way
// SQLite's json_object() renders NEW in its triggers.
char* TupleJson(HeapTuple tuple, TupleDesc desc) {
  StringInfoData buf;
  initStringInfo(&buf);
  appendStringInfoChar(&buf, '{');
  bool first = true;
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(desc, i);
    if (att->attisdropped) continue;
    if (!first) appendStringInfoChar(&buf, ',');
    first = false;
    escape_json(&buf, NameStr(att->attname));
    appendStringInfoChar(&buf, ':');
    char* value = SPI_getvalue(tuple, desc, i + 1);
    if (value == nullptr) {
      appendStringInfoString(&buf, "null");
      continue;
    }
    switch (att->atttypid) {
      case INT2OID: case INT4OID: case INT8OID: case FLOAT4OID: case FLOAT8OID: case NUMERICOID:
        // NaN and infinities are not JSON numbers: keep them as strings.
        if ((value[0] >= '0' && value[0] <= '9') || (value[0] == '-' && value[1] >= '0' && value[1] <= '9'))
          appendStringInfoString(&buf, value);
        else
          escape_json(&buf, value);
        break;
      case BOOLOID:
        appendStringInfoString(&buf, value[0] == 't' ? "true" : "false");
        break;
      default:
        escape_json(&buf, value);
    }
  }
  appendStringInfoChar(&buf, '}');
  return buf.data;
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
  PgTable t;
  OpenTable(table, &t);
  char* json = CheckRow(t, get_func_namespace(fcinfo->flinfo->fn_oid), row, old_row, raise, true, true);
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

// vigil_enforce_trigger(): BEFORE INSERT OR UPDATE FOR EACH ROW; rejects the
// row with one 23514 error listing every violation.
VIGIL_PG_FUNCTION(vigil_enforce_trigger) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_enforce_trigger() must be called as a trigger"),
                    errhint("Use vigil_enforce(table) to install it.")));
  TriggerData* trig = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_BEFORE(trig->tg_event) || !TRIGGER_FIRED_FOR_ROW(trig->tg_event) ||
      !(TRIGGER_FIRED_BY_INSERT(trig->tg_event) || TRIGGER_FIRED_BY_UPDATE(trig->tg_event)))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_enforce_trigger() must fire BEFORE INSERT OR UPDATE FOR EACH ROW")));
  Relation rel = trig->tg_relation;
  TupleDesc desc = RelationGetDescr(rel);
  bool update = TRIGGER_FIRED_BY_UPDATE(trig->tg_event);
  HeapTuple row = update ? trig->tg_newtuple : trig->tg_trigtuple;
  char* row_json = TupleJson(row, desc);
  char* old_json = update ? TupleJson(trig->tg_trigtuple, desc) : nullptr;
  PgTable t;
  OpenTable(RelationGetRelationName(rel), &t);
  if (t.relid != RelationGetRelid(rel)) {
    // The name resolves elsewhere through search_path: use this relation.
    t.relid = RelationGetRelid(rel);
    t.qualified = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
  }
  CheckRow(t, get_func_namespace(fcinfo->flinfo->fn_oid), row_json, old_json, true, false, false);
  return PointerGetDatum(row);
}
