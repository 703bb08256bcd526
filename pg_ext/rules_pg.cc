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
// Adding and removing rules is the core's (rules/rule_admin.h), answered by
// PgRuleCatalog below; vigil_enforce and vigil_unenforce are engine code;
// vigil_rules and vigil_insert are SQL and PL/pgSQL in vigil.sql.
#include "boundary.h"
#include "module_pg.h"
#include "spi_guard.h"
#include "json_schema_pg.h"

extern "C" {
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/objectaddress.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "commands/event_trigger.h"
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
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
}

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "rules/row_check.h"
#include "rules/rule_admin.h"
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
  bool generated;  // GENERATED ALWAYS AS (...) STORED: read, never written
};

struct PgTable {
  Oid relid;
  char* schema;      // nspname
  char* name;        // relname
  char* rules_schema;  // whose rules apply: the table's, or a partition's root's
  char* rules_name;
  char* qualified;   // quoted schema.table for SQL
  Oid owner;
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
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table \"%s\" does not exist", vigil::pg::ClipName(name))));
  char kind = get_rel_relkind(relid);
  if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
    ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("\"%s\" is not a table", vigil::pg::ClipName(name))));
  return relid;
}

// OpenTableByOid reads the table's name and live columns.
void OpenTableByOid(Oid relid, PgTable* t) {
  Relation rel = table_open(relid, AccessShareLock);
  TupleDesc desc = RelationGetDescr(rel);
  t->relid = relid;
  t->name = pstrdup(RelationGetRelationName(rel));
  t->schema = get_namespace_name(RelationGetNamespace(rel));
  t->qualified = quote_qualified_identifier(t->schema, t->name);
  // A row written into a partitioned table reaches the partition's clone
  // of the trigger: the rules are the partitioned table's (the root's).
  t->rules_schema = t->schema;
  t->rules_name = t->name;
  if (rel->rd_rel->relispartition) {
    Oid root = llast_oid(get_partition_ancestors(relid));
    t->rules_schema = get_namespace_name(get_rel_namespace(root));
    t->rules_name = get_rel_name(root);
  }
  t->owner = rel->rd_rel->relowner;
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
    c->generated = att->attgenerated != '\0';
    bool varlena;
    getTypeOutputInfo(att->atttypid, &c->typoutput, &varlena);
  }
  table_close(rel, AccessShareLock);
}

// LoadRules reads the table's rules from vigil's state, as its owner: a
// writer needs no privilege on vigil's tables, as a CHECK constraint needs
// none on pg_constraint.
// (Before 0.4.0 rules were keyed by the plain name and read with the
// caller's rights; a database not yet updated keeps that layout.)
void LoadRules(const PgTable& t, PgRules* r) {
  MemoryContext caller = CurrentMemoryContext;
  vigil::pg::State state = vigil::pg::CurrentState();
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql,
                   state.legacy ? "SELECT column_name, rule, params::text FROM %s.vigil_rules"
                                  " WHERE table_name = $2 AND $1 IS NOT NULL ORDER BY id"
                                : "SELECT column_name, rule, params::text FROM %s.vigil_rules"
                                  " WHERE table_schema = $1 AND table_name = $2 ORDER BY id",
                   state.schema);
  Oid argtypes[2] = {TEXTOID, TEXTOID};
  Datum values[2] = {CStringGetTextDatum(t.rules_schema), CStringGetTextDatum(t.rules_name)};
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole as;
  if (!state.legacy) vigil::pg::BeginAs(&as, state.owner, nullptr);
  if (SPI_execute_with_args(sql.data, 2, argtypes, values, nullptr, true, 0) != SPI_OK_SELECT)
    elog(ERROR, "reading vigil_rules failed");
  if (!state.legacy) vigil::pg::EndAs(&as);
  r->n = static_cast<int>(SPI_processed);
  MemoryContext spi = MemoryContextSwitchTo(caller);
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

Oid RelOwner(Oid relid) {
  HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
  if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for relation %u", relid);
  Oid owner = ((Form_pg_class)GETSTRUCT(tup))->relowner;
  ReleaseSysCache(tup);
  return owner;
}

// QualifiedOperator spells an operator as schema.name for OPERATOR(...).
char* QualifiedOperator(Oid opr) {
  HeapTuple tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opr));
  if (!HeapTupleIsValid(tup)) elog(ERROR, "cache lookup failed for operator %u", opr);
  Form_pg_operator form = (Form_pg_operator)GETSTRUCT(tup);
  StringInfoData s;
  initStringInfo(&s);
  appendStringInfo(&s, "%s.%s", quote_identifier(get_namespace_name(form->oprnamespace)), NameStr(form->oprname));
  ReleaseSysCache(tup);
  return s.data;
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
  std::string schema;            // the table's schema
  Oid owner = InvalidOid;        // the table's owner, who answers unique lookups
  Oid relid = InvalidOid;
  std::vector<int> attnums;      // per plan column: attribute number in the tuple
  std::vector<Oid> typoutput;    // per plan column: output function
  std::vector<Oid> typid;
  std::vector<int> needed;       // plan columns the rules read
};

struct PlanCache {
  std::unordered_map<Oid, std::shared_ptr<const CachedTable>> tables;
};

PlanCache* plan_cache = nullptr;
Oid rules_relid = InvalidOid;     // vigil_state.vigil_rules
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
    if (t.columns[i].generated) info.generated.emplace_back(t.columns[i].name);
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
  cached->schema = t.schema;
  cached->owner = t.owner;
  cached->relid = t.relid;
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
TableRef* GetTable(Oid relid, MemoryContext owner) {
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
  LoadRules(t, &rules);
  Oid state_nsp = get_namespace_oid(vigil::pg::kStateSchema, true);
  Oid vigil_rules =
      get_relname_relid("vigil_rules", OidIsValid(state_nsp) ? state_nsp : vigil::pg::ExtensionNamespace());
  // json_schema rules compile with the registry (read only for them).
  vigil::pg::RegistrySnapshot snapshot;
  for (int i = 0; i < rules.n; ++i)
    if (strcmp(rules.rule[i], "json_schema") == 0) {
      vigil::pg::LoadRegistry(&snapshot);
      break;
    }
  Run([&] {
    vigil::pg::SnapshotRegistry schemas(snapshot);
    core::JsonSchemaRegistryScope scope(&schemas);
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

// expression_depth counts rule expressions being evaluated in this backend
// (nested when an expression re-enters a row check).
int expression_depth = 0;

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
      // Lookups run as the owner of the table they read, as PostgreSQL's
      // foreign-key checks do: a writer needs no SELECT on either table,
      // and learns no more than a unique constraint or a foreign key tells.
      // The target of a reference is the one fixed when the rule was added.
      const char* target = t->qualified.c_str();
      const char* column = q->column.c_str();
      int c = t->plan->ColumnIndex(q->column);
      Oid typid = c >= 0 ? t->typid[c] : TEXTOID;
      Oid lookup_as = t->owner;
      if (q->kind == core::RuleKind::kReferences) {
        const char* schema = q->ref_schema.empty() ? t->schema.c_str() : q->ref_schema.c_str();
        Oid nsp = get_namespace_oid(schema, true);
        Oid relid = OidIsValid(nsp) ? get_relname_relid(q->ref_table.c_str(), nsp) : InvalidOid;
        if (!OidIsValid(relid))
          ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                          errmsg("table \"%s.%s\" does not exist", schema, q->ref_table.c_str()),
                          errdetail("It is the target of a references rule on \"%s\".", info.name.c_str())));
        target = quote_qualified_identifier(schema, q->ref_table.c_str());
        column = q->ref_column.c_str();
        AttrNumber attnum = get_attnum(relid, column);
        if (attnum == InvalidAttrNumber)
          ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                          errmsg("column \"%s\" of table \"%s\" does not exist", column, q->ref_table.c_str())));
        typid = get_atttype(relid, attnum);
        lookup_as = RelOwner(relid);
      }
      // The type's own equality operator and type name, both with their
      // schema, under search_path pg_catalog, pg_temp: no operator or
      // function of anyone's schema can stand in (as ri_triggers.c does).
      TypeCacheEntry* tc = lookup_type_cache(typid, TYPECACHE_EQ_OPR);
      if (!OidIsValid(tc->eq_opr))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                        errmsg("type %s has no equality operator for a %s rule", format_type_be(typid),
                               q->kind == core::RuleKind::kUnique ? "unique" : "references")));
      appendStringInfo(&sql, "SELECT 1 FROM %s WHERE %s OPERATOR(%s) CAST($1 AS %s) LIMIT 1", target,
                       quote_identifier(column), QualifiedOperator(tc->eq_opr),
                       format_type_extended(typid, -1, FORMAT_TYPE_FORCE_QUALIFY));
      Oid argtypes[1] = {TEXTOID};
      Datum values[1] = {CStringGetTextDatum(q->value.text.c_str())};
      vigil::pg::AsRole as;
      vigil::pg::BeginAs(&as, lookup_as, nullptr);
      if (SPI_execute_with_args(sql.data, 1, argtypes, values, nullptr, read_only, 1) != SPI_OK_SELECT)
        elog(ERROR, "rule query failed");
      vigil::pg::EndAs(&as);
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
        // The column's type by its schema: no type of the writer's (in
        // pg_temp, say) can stand in for it.
        appendStringInfo(&sql, "%sCAST($%d AS %s) AS %s", i > 0 ? ", " : "", i + 1,
                         format_type_extended(t->typid[i], -1, FORMAT_TYPE_FORCE_QUALIFY),
                         quote_identifier(info.columns[i].c_str()));
        argtypes[i] = TEXTOID;
        bool is_null = v == nullptr || v->kind == core::TypedValue::kNull;
        values[i] = is_null ? (Datum)0 : CStringGetTextDatum(v->text.c_str());
        nulls[i] = is_null ? 'n' : ' ';
      }
      appendStringInfoString(&sql, ") AS vigil_row");
      // As the writer, as a CHECK constraint runs; its names resolve as
      // the table's owner wrote them, not through the writer's path.
      // An expression that re-enters a row check (it calls vigil_check,
      // or writes to an enforced table) is bounded long before the stack:
      // the depth is restored on every way out, an error's longjmp too.
      if (expression_depth >= core::kMaxExpressionNesting)
        ereport(ERROR, (errcode(ERRCODE_STATEMENT_TOO_COMPLEX), errmsg("%s", core::kExpressionNestingMessage),
                        errhint("%s", core::kExpressionNestingHint)));
      vigil::pg::AsRole as;
      vigil::pg::BeginAs(&as, InvalidOid, vigil::pg::TablePath(get_rel_namespace(t->relid)));
      ++expression_depth;
      PG_TRY();
      {
        if (SPI_execute_with_args(sql.data, n, argtypes, values, nulls, read_only, 1) != SPI_OK_SELECT)
          elog(ERROR, "rule expression failed");
      }
      PG_FINALLY();
      {
        --expression_depth;
      }
      PG_END_TRY();
      vigil::pg::EndAs(&as);
      bool isnull = true;
      Datum d = SPI_processed > 0 ? SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull) : (Datum)0;
      q->violated = !isnull && !DatumGetBool(d);  // like CHECK: NULL passes
    }
  }
  SPI_finish();
}

// ProbeTypes (engine) gives the row's values for columns of types the core
// cannot judge (date, uuid, inet, ...) to the type's input function, each in
// a subtransaction, and returns how many it refused; their columns and
// types are in `columns` and `types` (palloc'd). vigil_check and
// vigil_insert list them with the other violations instead of raising the
// type's own error from a lookup or an expression that casts the value.
int ProbeTypes(CheckState* state, int** columns) {
  const CachedTable* t = state->table.get();
  const core::TableInfo& info = t->plan->table();
  const core::TypedRow& row = state->check->row();
  int n = static_cast<int>(row.columns.size());
  *columns = static_cast<int*>(palloc(sizeof(int) * (n + 1)));
  int refused = 0;
  for (int i = 0; i < n; ++i) {
    int c = t->plan->ColumnIndex(row.columns[i]);
    if (c < 0 || row.values[i].kind == core::TypedValue::kNull) continue;
    if (core::CategoryOf(info.types[c]) != core::TypeCategory::kOther) continue;
    Oid infunc, ioparam;
    getTypeInputInfo(t->typid[c], &infunc, &ioparam);
    const char* text = row.values[i].text.c_str();
    MemoryContext cxt = CurrentMemoryContext;
    ResourceOwner owner = CurrentResourceOwner;
    volatile bool ok = true;
    BeginInternalSubTransaction(nullptr);
    MemoryContextSwitchTo(cxt);
    PG_TRY();
    {
      OidInputFunctionCall(infunc, const_cast<char*>(text), ioparam, -1);
      ReleaseCurrentSubTransaction();
    }
    PG_CATCH();
    {
      MemoryContextSwitchTo(cxt);
      FlushErrorState();
      RollbackAndReleaseCurrentSubTransaction();
      ok = false;
    }
    PG_END_TRY();
    MemoryContextSwitchTo(cxt);
    CurrentResourceOwner = owner;
    if (!ok) (*columns)[refused++] = c;
  }
  return refused;
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
  TableRef* ref = GetTable(relid, owner);
  CheckState* state = StartCheck(owner, ref, true, [&](const CachedTable*, std::optional<core::TypedRow>* old) {
    if (old_row) *old = core::ParseTypedRow(old_row);
    return core::ParseTypedRow(row);
  });
  int* refused_columns;
  int refused = ProbeTypes(state, &refused_columns);
  if (refused > 0) {
    Run([&] {
      const core::TableInfo& info = state->table->plan->table();
      for (int k = 0; k < refused; ++k) {
        int c = refused_columns[k];
        state->check->AddTypeViolation(info.columns[c], "invalid input for type " + info.types[c]);
      }
      return 0;
    });
  }
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
  // On the views over vigil's state: refuse the write, whatever was granted.
  if (TRIGGER_FIRED_INSTEAD(trig->tg_event))
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("%s is vigil's state: it changes only through vigil's functions",
                           RelationGetRelationName(rel)),
                    errhint("See docs/security.md for who may call which function.")));
  // (On vigil_state.vigil_rules, or the extension schema's before 0.4.0;
  // on anyone else's table of that name, an invalidation is harmless.)
  if (TRIGGER_FIRED_AFTER(trig->tg_event) && TRIGGER_FIRED_FOR_STATEMENT(trig->tg_event) &&
      strcmp(RelationGetRelationName(rel), "vigil_rules") == 0) {
    CacheInvalidateRelcacheByRelid(RelationGetRelid(rel));
    return PointerGetDatum(nullptr);
  }
  // On vigil_state.vigil_json_schemas: json_schema rules compiled with the
  // registry; every session drops its plans, as for a rule change.
  if (TRIGGER_FIRED_AFTER(trig->tg_event) && TRIGGER_FIRED_FOR_STATEMENT(trig->tg_event) &&
      strcmp(RelationGetRelationName(rel), "vigil_json_schemas") == 0) {
    Oid rules = get_relname_relid("vigil_rules", RelationGetNamespace(rel));
    if (OidIsValid(rules)) CacheInvalidateRelcacheByRelid(rules);
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
  TableRef* ref = GetTable(RelationGetRelid(rel), owner);
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

// ---- rule orchestration: the core decides, this catalog answers ------------
namespace {

using vigil::pg::GuardedQuery;
using vigil::pg::GuardedRow;

// PgRuleCatalog answers rules/rule_admin.h. Names are resolved as the
// caller names tables (its search_path, as DDL resolves them); the rule
// store is read and written as vigil_state's owner, so the caller needs no
// privilege on it — only ownership of the table. Every call is one guarded
// statement (spi_guard.h); the caller is SPI-connected.
class PgRuleCatalog final : public core::RuleCatalog {
 public:
  PgRuleCatalog(Oid state_owner, bool may_remove_orphans)
      : state_owner_(state_owner), may_remove_orphans_(may_remove_orphans) {}

  core::TableIdentity OwnedTable(const std::string& name) override {
    GuardedRow row = Resolve(std::nullopt, name);
    if (*row[3] != "t")
      throw core::Error(core::ErrorCode::kPrivilege, "must be owner of table " + name, {},
                        "Only the table's owner (or a member of the owning role) may change its rules and their "
                        "enforcement.");
    return {*row[0], *row[1]};
  }
  std::optional<core::TableIdentity> DroppedTable(const std::string& name) override {
    if (!may_remove_orphans_) return std::nullopt;
    return core::TableIdentity{"", name};
  }
  bool HasColumn(const core::TableIdentity& table, const std::string& column) override {
    return !GuardedQuery("SELECT 1 FROM pg_catalog.pg_attribute a WHERE a.attrelid = pg_catalog.to_regclass("
                         "pg_catalog.quote_ident($1) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
                         "pg_catalog.quote_ident($2)) AND a.attname OPERATOR(pg_catalog.=) $3 "
                         "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped",
                         {table.schema, table.name, column})
                .empty();
  }
  core::TableIdentity ReferencedTable(const std::optional<std::string>& schema, const std::string& name) override {
    GuardedRow row = Resolve(schema, name);
    if (*row[4] != "t")
      throw core::Error(core::ErrorCode::kPrivilege, "permission denied for table " + name, {},
                        "A references rule needs the REFERENCES privilege on its target, as a foreign key does.");
    return {*row[0], *row[1]};
  }
  void CompileExpression(const core::TableIdentity& table, const std::string& expression) override {
    std::string sql = "SELECT CAST((" + expression + ") AS boolean) FROM " + Qualified(table) + " LIMIT 0";
    vigil::pg::SpiOutcome out;
    // The owner compiles its own expression, in its own session's terms.
    vigil::pg::SpiRunGuarded(sql.c_str(), 0, nullptr, &out, InvalidOid, vigil::pg::kCallersPath);
    if (out.ok) return;
    if (out.sqlerrcode == ERRCODE_QUERY_CANCELED) vigil::pg::ThrowOutcome(out);
    throw core::Error(core::ErrorCode::kInvalidParameter,
                      std::string("rule expression does not compile: ") + (out.error ? out.error : "unknown error"));
  }
  std::optional<long long> FindRule(const core::TableIdentity& table, const std::optional<std::string>& column,
                                    const std::string& rule, const std::optional<std::string>& params) override {
    auto rows = GuardedQuery("SELECT id FROM vigil_state.vigil_rules WHERE table_schema = $1 AND table_name = $2"
                             " AND column_name IS NOT DISTINCT FROM $3 AND rule = $4"
                             " AND params IS NOT DISTINCT FROM $5::jsonb ORDER BY id LIMIT 1",
                             {table.schema, table.name, column, rule, params}, state_owner_);
    if (rows.empty()) return std::nullopt;
    return std::stoll(*rows[0][0]);
  }
  long long InsertRule(const core::TableIdentity& table, const std::optional<std::string>& column,
                       const std::string& rule, const std::optional<std::string>& params) override {
    auto rows = GuardedQuery("INSERT INTO vigil_state.vigil_rules (table_schema, table_name, column_name, rule, params)"
                             " VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id",
                             {table.schema, table.name, column, rule, params}, state_owner_);
    return std::stoll(*rows[0][0]);
  }
  long long DeleteRules(const core::TableIdentity& table, const std::optional<std::string>& column,
                        const std::string& rule) override {
    // schema "": the rules of that name in every schema where the table is gone.
    auto rows = GuardedQuery(
        "WITH d AS (DELETE FROM vigil_state.vigil_rules r WHERE r.table_name = $2"
        " AND r.column_name IS NOT DISTINCT FROM $3 AND r.rule = $4"
        " AND CASE WHEN $1 = '' THEN pg_catalog.to_regclass(pg_catalog.quote_ident(r.table_schema) || '.' ||"
        "          pg_catalog.quote_ident(r.table_name)) IS NULL ELSE r.table_schema = $1 END RETURNING 1)"
        " SELECT count(*) FROM d",
        {table.schema, table.name, column, rule}, state_owner_);
    return std::stoll(*rows[0][0]);
  }
  // vigil_rules' statement trigger sends the cache invalidation; nothing
  // in PostgreSQL embeds the rules.
  void RulesChanged(const core::TableIdentity&) override {}

 private:
  // Resolve: [schema, name, relkind, owns, may_reference]; 42P01, 42809.
  GuardedRow Resolve(const std::optional<std::string>& schema, const std::string& name) {
    if (name.empty()) throw core::Error(core::ErrorCode::kUndefinedTable, "table \"\" does not exist");
    auto rows = GuardedQuery(
        "SELECT n.nspname, c.relname, c.relkind, pg_catalog.pg_has_role(c.relowner, 'USAGE'),"
        " pg_catalog.has_table_privilege(c.oid, 'REFERENCES'), c.relpersistence"
        " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
        " WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(CASE WHEN $1 IS NULL THEN pg_catalog.quote_ident($2)"
        " ELSE pg_catalog.quote_ident($1) OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident($2) END)",
        {schema, name}, InvalidOid, vigil::pg::kCallersPath);  // names resolve as the caller's DDL would
    if (rows.empty()) throw core::Error(core::ErrorCode::kUndefinedTable, "table \"" + name + "\" does not exist");
    if (*rows[0][2] != "r" && *rows[0][2] != "p")
      throw core::Error(core::ErrorCode::kWrongObjectType, "\"" + name + "\" is not a table");
    // A temporary table's schema (pg_temp_N) is another session's next:
    // rules stored for it would pass to a stranger's table of that name.
    if (*rows[0][5] == "t")
      throw core::Error(core::ErrorCode::kNotSupported, "\"" + name + "\" is a temporary table", {},
                        "Rules belong to permanent tables; check a temporary table's rows with vigil_rule_check.");
    return rows[0];
  }
  static std::string Qualified(const core::TableIdentity& t) {
    return core::QuoteIdent(t.schema) + "." + core::QuoteIdent(t.name);
  }
  Oid state_owner_;
  bool may_remove_orphans_;
};

std::optional<std::string_view> OptArg(FunctionCallInfo fcinfo, int i) {
  if (PG_NARGS() <= i || PG_ARGISNULL(i)) return std::nullopt;
  return vigil::pg::ArgText(PG_GETARG_TEXT_PP(i));
}

// RunRules runs `body` on a PgRuleCatalog in phase 2, SPI-connected.
template <typename Body>
long long RunRules(Body&& body) {
  vigil::pg::State state = vigil::pg::CurrentState();
  if (state.legacy)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("vigil's objects in this database predate this module"),
                    errhint("Run ALTER EXTENSION vigil UPDATE.")));
  Oid state_owner = state.owner;
  bool superuser_like = has_privs_of_role(GetUserId(), state_owner);
  vigil::pg::RegistrySnapshot snapshot;  // json_schema rules compile with it
  vigil::pg::LoadRegistry(&snapshot);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  long long result = Run([&] {
    PgRuleCatalog catalog(state_owner, superuser_like);
    vigil::pg::SnapshotRegistry registry(snapshot);
    core::JsonSchemaRegistryScope scope(&registry);
    return body(catalog);
  });
  SPI_finish();
  return result;
}

// DropEnforceTrigger drops the vigil_enforce trigger of `rel` (quoted).
void DropEnforceTrigger(const char* rel) {
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql, "DROP TRIGGER vigil_enforce ON %s", rel);
  if (SPI_execute(sql.data, false, 0) < 0) elog(ERROR, "dropping the vigil_enforce trigger failed");
}

bool HasEnforceTrigger(Oid relid) {
  Oid argtypes[1] = {OIDOID};
  Datum values[1] = {ObjectIdGetDatum(relid)};
  if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = $1 AND tgname = 'vigil_enforce'", 1,
                            argtypes, values, nullptr, false, 1) != SPI_OK_SELECT)  // a fresh snapshot
    elog(ERROR, "reading pg_trigger failed");
  return SPI_processed > 0;
}

}  // namespace

// vigil_rule_add(table, column, rule, params jsonb DEFAULT NULL) -> id
VIGIL_PG_FUNCTION(vigil_rule_add) {
  auto table = OptArg(fcinfo, 0), column = OptArg(fcinfo, 1), rule = OptArg(fcinfo, 2);
  char* params = (PG_NARGS() > 3 && !PG_ARGISNULL(3)) ? JsonbArgText(PG_GETARG_JSONB_P(3)) : nullptr;
  long long id = RunRules([&](PgRuleCatalog& c) {
    return core::AddRule(c, table, column, rule, params ? std::optional<std::string_view>(params) : std::nullopt);
  });
  PG_RETURN_INT64(id);
}

// vigil_rule_remove(table, column, rule) -> number removed
VIGIL_PG_FUNCTION(vigil_rule_remove) {
  auto table = OptArg(fcinfo, 0), column = OptArg(fcinfo, 1), rule = OptArg(fcinfo, 2);
  long long removed = RunRules([&](PgRuleCatalog& c) { return core::RemoveRules(c, table, column, rule); });
  PG_RETURN_INT32(static_cast<int32>(removed));
}

// vigil_enforce(table) -> true: (re)installs the vigil_enforce trigger. The
// owner's; the trigger is created as the caller.
VIGIL_PG_FUNCTION(vigil_enforce) {
  Oid relid = vigil::pg::ResolveOwnedTable(fcinfo);
  const char* ext = quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid)));
  const char* rel = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole pinned;  // vigil's statements resolve nothing through the caller's path
  vigil::pg::BeginAs(&pinned, InvalidOid, nullptr);
  if (HasEnforceTrigger(relid)) DropEnforceTrigger(rel);
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql,
                   "CREATE TRIGGER vigil_enforce BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION "
                   "%s.vigil_enforce_trigger()",
                   rel, ext);
  if (SPI_execute(sql.data, false, 0) < 0) elog(ERROR, "creating the vigil_enforce trigger failed");
  vigil::pg::EndAs(&pinned);
  SPI_finish();
  PG_RETURN_BOOL(true);
}

// vigil_unenforce(table) -> whether there was a vigil_enforce trigger to drop.
VIGIL_PG_FUNCTION(vigil_unenforce) {
  Oid relid = vigil::pg::ResolveOwnedTable(fcinfo);
  const char* rel = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole pinned;
  vigil::pg::BeginAs(&pinned, InvalidOid, nullptr);
  bool existed = HasEnforceTrigger(relid);
  if (existed) DropEnforceTrigger(rel);
  vigil::pg::EndAs(&pinned);
  SPI_finish();
  PG_RETURN_BOOL(existed);
}

// vigil_state.vigil_table_dropped(): the sql_drop event trigger. A rule
// dies with its table, as a constraint does, and so does a references rule
// whose target is dropped: a table created later under the same name (by
// anyone) must not inherit rules, nor become the target of a rule its owner
// never agreed to. Runs the delete as vigil_state's owner.
VIGIL_PG_FUNCTION(vigil_table_dropped) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_table_dropped() must be called as an event trigger")));
  vigil::pg::State state = vigil::pg::CurrentState();
  if (state.legacy) PG_RETURN_VOID();
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  // The dropped tables are read as the caller (the function only works in
  // the event trigger's context), then deleted by identity as the owner.
  vigil::pg::AsRole pinned;
  vigil::pg::BeginAs(&pinned, InvalidOid, nullptr);
  if (SPI_execute("SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(d.schema_name, d.object_name)),"
                  " '[]') FROM pg_catalog.pg_event_trigger_dropped_objects() d"
                  " WHERE d.object_type OPERATOR(pg_catalog.=) 'table' AND d.schema_name IS NOT NULL",
                  true, 0) != SPI_OK_SELECT)
    elog(ERROR, "reading the dropped objects failed");
  vigil::pg::EndAs(&pinned);
  char* dropped = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
  if (dropped != nullptr && strcmp(dropped, "[]") != 0) {
    Oid argtypes[1] = {TEXTOID};
    Datum values[1] = {CStringGetTextDatum(dropped)};
    vigil::pg::AsRole as;
    vigil::pg::BeginAs(&as, state.owner, nullptr);
    if (SPI_execute_with_args(
            "DELETE FROM vigil_state.vigil_rules r USING pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb) d"
            " WHERE (r.table_schema OPERATOR(pg_catalog.=) (d->>0) AND r.table_name OPERATOR(pg_catalog.=) (d->>1))"
            " OR (r.rule OPERATOR(pg_catalog.=) 'references' AND r.params->>'schema' OPERATOR(pg_catalog.=) (d->>0)"
            "     AND r.params->>'table' OPERATOR(pg_catalog.=) (d->>1))",
            1, argtypes, values, nullptr, false, 0) < 0)
      elog(ERROR, "removing the rules of dropped tables failed");
    vigil::pg::EndAs(&as);
  }
  SPI_finish();
  PG_RETURN_VOID();
}

// vigil_state.vigil_table_renamed(): the ddl_command_start event trigger
// for ALTER TABLE and ALTER SCHEMA. Rules are stored by their table's
// schema and name, so they follow a rename (of the table, its schema or a
// column) and a move to another schema, as a constraint follows its table:
// otherwise the table's trigger would find no rules under the new name and
// let rows through, and a stranger's table under the old name would take
// them. Runs before the command; if the command fails, the update is undone
// with it. (Expression rules' SQL text is not rewritten: after renaming a
// column an expression names, add the rule again.)
VIGIL_PG_FUNCTION(vigil_table_renamed) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_table_renamed() must be called as an event trigger")));
  EventTriggerData* trig = reinterpret_cast<EventTriggerData*>(fcinfo->context);
  vigil::pg::State state = vigil::pg::CurrentState();
  if (state.legacy) PG_RETURN_VOID();
  const char* old_schema = nullptr;
  const char* old_table = nullptr;
  const char* new_schema = nullptr;
  const char* new_table = nullptr;
  const char* old_column = nullptr;
  const char* new_column = nullptr;
  Node* tree = trig->parsetree;
  auto resolve = [&](RangeVar* rv) -> bool {
    if (rv == nullptr) return false;
    Oid relid = RangeVarGetRelid(rv, NoLock, true);
    if (!OidIsValid(relid)) return false;
    char kind = get_rel_relkind(relid);
    if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE) return false;
    old_schema = get_namespace_name(get_rel_namespace(relid));
    old_table = get_rel_name(relid);
    return true;
  };
  if (IsA(tree, RenameStmt)) {
    RenameStmt* stmt = reinterpret_cast<RenameStmt*>(tree);
    if (stmt->renameType == OBJECT_TABLE && resolve(stmt->relation)) {
      new_schema = old_schema;
      new_table = stmt->newname;
    } else if (stmt->renameType == OBJECT_COLUMN && stmt->relationType == OBJECT_TABLE && resolve(stmt->relation)) {
      new_schema = old_schema;
      new_table = old_table;
      old_column = stmt->subname;
      new_column = stmt->newname;
    } else if (stmt->renameType == OBJECT_SCHEMA) {
      old_schema = stmt->subname;
      new_schema = stmt->newname;
    }
  } else if (IsA(tree, AlterObjectSchemaStmt)) {
    AlterObjectSchemaStmt* stmt = reinterpret_cast<AlterObjectSchemaStmt*>(tree);
    if (stmt->objectType == OBJECT_TABLE && resolve(stmt->relation)) {
      new_schema = stmt->newschema;
      new_table = old_table;
    }
  }
  if (old_schema == nullptr || new_schema == nullptr) PG_RETURN_VOID();
  // One statement per case, names bound as parameters; $1..$6: old schema,
  // old table, new schema, new table, old column, new column.
  const char* sql;
  if (old_column != nullptr) {
    sql = "WITH own AS (UPDATE vigil_state.vigil_rules SET column_name = $6"
          "  WHERE table_schema = $1 AND table_name = $2 AND column_name = $5 RETURNING 1)"
          " UPDATE vigil_state.vigil_rules SET params = params || pg_catalog.jsonb_build_object('column', $6)"
          "  WHERE rule = 'references' AND params->>'schema' = $1 AND params->>'table' = $2"
          "  AND params->>'column' = $5";
  } else if (old_table != nullptr) {
    sql = "WITH own AS (UPDATE vigil_state.vigil_rules SET table_schema = $3, table_name = $4"
          "  WHERE table_schema = $1 AND table_name = $2 RETURNING 1)"
          " UPDATE vigil_state.vigil_rules SET params = params || pg_catalog.jsonb_build_object('schema', $3, 'table', $4)"
          "  WHERE rule = 'references' AND params->>'schema' = $1 AND params->>'table' = $2";
  } else {
    sql = "WITH own AS (UPDATE vigil_state.vigil_rules SET table_schema = $3 WHERE table_schema = $1 RETURNING 1)"
          " UPDATE vigil_state.vigil_rules SET params = params || pg_catalog.jsonb_build_object('schema', $3)"
          "  WHERE rule = 'references' AND params->>'schema' = $1";
  }
  const char* names[6] = {old_schema, old_table, new_schema, new_table, old_column, new_column};
  Oid argtypes[6];
  Datum values[6];
  char nulls[6];
  for (int i = 0; i < 6; ++i) {
    argtypes[i] = TEXTOID;
    values[i] = names[i] ? CStringGetTextDatum(names[i]) : (Datum)0;
    nulls[i] = names[i] ? ' ' : 'n';
  }
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole as;
  vigil::pg::BeginAs(&as, state.owner, nullptr);
  if (SPI_execute_with_args(sql, 6, argtypes, values, nulls, false, 0) < 0)
    elog(ERROR, "moving the rules of a renamed table failed");
  vigil::pg::EndAs(&as);
  SPI_finish();
  PG_RETURN_VOID();
}
