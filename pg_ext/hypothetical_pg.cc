// hypothetical_pg.cc — hypothetical indexes for vigil_analyze_query's
// index suggestions (issue 15, docs/query-analysis.md), the way HypoPG
// does it and without it: a get_relation_info_hook adds an index that
// exists only in the planner's view of one table, for one EXPLAIN, and an
// explain_get_index_name_hook names it. Nothing is created: no catalog
// row, no file, no lock beyond the planning's own.
//
// The hooks are installed when the module loads (preloaded or not); each
// chains the previous one and does nothing unless vigil_analyze_query has
// armed it (ArmHypothetical) for the EXPLAIN it is about to run, and
// disarms it right after. A planner_hook counts the planner's nesting so
// that only that EXPLAIN's own planning sees the index, never a query a
// function plans while the EXPLAIN evaluates it (an error in the EXPLAIN comes back as data, see
// spi_guard.h, so disarming always happens). EXPLAIN without ANALYZE stops
// the executor before it opens an index (ExecInitIndexScan's
// EXEC_FLAG_EXPLAIN_ONLY), which is what lets a plan name an index that
// does not exist; vigil never runs such a plan.
//
// Engine code, C style: nothing here owns memory a longjmp could leak.
#include "boundary.h"
#include "module_pg.h"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "commands/explain.h"
#include "nodes/makefuncs.h"
#include "optimizer/planner.h"
#include "optimizer/plancat.h"
#include "utils/index_selfuncs.h"
#include "utils/lsyscache.h"
}

#include <cstring>

namespace {

struct Hypothetical {
  bool armed;
  int depth;  // the planner nesting level whose plans see the index
  Oid relid;
  Oid indexoid;
  int ncolumns;
  AttrNumber attnums[INDEX_MAX_KEYS];
  char name[NAMEDATALEN];
};
Hypothetical hypothetical = {};

get_relation_info_hook_type prev_relation_info = nullptr;
planner_hook_type prev_planner = nullptr;
// The planner's nesting level: a function the planner evaluates (a stable
// or immutable call folded into a constant) plans its own queries one
// level deeper. Only the EXPLAIN vigil armed the index for, at the level
// it was armed for, sees it; a plan made deeper would be executed, and
// cached by PL/pgSQL, with an index that does not exist (an attack
// review showed a function broken for the rest of the session).
int planner_depth = 0;
explain_get_index_name_hook_type prev_index_name = nullptr;

// AddIndex puts the armed index in front of the table's real ones, with
// what plancat.c's get_relation_info would fill in for a B-tree on those
// columns, and a size estimated from the table's rows and the columns'
// average widths (as HypoPG estimates it).
void AddIndex(RelOptInfo* rel) {
  IndexOptInfo* index = makeNode(IndexOptInfo);
  int n = hypothetical.ncolumns;
  index->indexoid = hypothetical.indexoid;
  index->reltablespace = rel->reltablespace;
  index->rel = rel;
  index->ncolumns = n;
  index->nkeycolumns = n;
  index->indexkeys = static_cast<int*>(palloc(sizeof(int) * n));
  index->indexcollations = static_cast<Oid*>(palloc(sizeof(Oid) * n));
  index->opfamily = static_cast<Oid*>(palloc(sizeof(Oid) * n));
  index->opcintype = static_cast<Oid*>(palloc(sizeof(Oid) * n));
  index->sortopfamily = index->opfamily;
  index->reverse_sort = static_cast<bool*>(palloc0(sizeof(bool) * n));
  index->nulls_first = static_cast<bool*>(palloc0(sizeof(bool) * n));
  index->opclassoptions = static_cast<bytea**>(palloc0(sizeof(bytea*) * n));
  index->canreturn = static_cast<bool*>(palloc(sizeof(bool) * n));
  index->indextlist = NIL;
  double width = 0;
  for (int i = 0; i < n; ++i) {
    AttrNumber attnum = hypothetical.attnums[i];
    Oid type = InvalidOid, collation = InvalidOid;
    int32 typmod = -1;
    get_atttypetypmodcoll(hypothetical.relid, attnum, &type, &typmod, &collation);
    Oid opclass = GetDefaultOpClass(type, BTREE_AM_OID);
    if (!OidIsValid(opclass)) return;  // a type B-trees cannot order: no such index
    index->indexkeys[i] = attnum;
    index->indexcollations[i] = collation;
    index->opfamily[i] = get_opclass_family(opclass);
    index->opcintype[i] = get_opclass_input_type(opclass);
    index->canreturn[i] = true;
    index->indextlist = lappend(index->indextlist,
                                makeTargetEntry(reinterpret_cast<Expr*>(makeVar(rel->relid, attnum, type, typmod, collation, 0)),
                                                i + 1, nullptr, false));
    int32 w = get_attavgwidth(hypothetical.relid, attnum);
    width += w > 0 ? w : get_typavgwidth(type, typmod);
  }
  index->relam = BTREE_AM_OID;
  index->amcostestimate = reinterpret_cast<void (*)()>(btcostestimate);
  index->indexprs = NIL;
  index->indpred = NIL;
  index->predOK = false;
  index->unique = false;
  index->immediate = true;
  index->hypothetical = true;
  index->amcanorderbyop = false;
  index->amoptionalkey = true;
  index->amsearcharray = true;
  index->amsearchnulls = true;
  index->amhasgettuple = true;
  index->amhasgetbitmap = true;
  index->amcanparallel = true;
  index->amcanmarkpos = true;
  index->tuples = rel->tuples;
  // Leaf entries of (tuple header + key widths + line pointer), 90% full.
  double per_entry = MAXALIGN(sizeof(IndexTupleData) + width) + sizeof(ItemIdData);
  double per_page = (BLCKSZ - SizeOfPageHeaderData) * 0.9 / per_entry;
  index->pages = static_cast<BlockNumber>(rel->tuples / (per_page > 1 ? per_page : 1)) + 1;
  index->tree_height = -1;
  rel->indexlist = lcons(index, rel->indexlist);
}

void VigilRelationInfo(PlannerInfo* root, Oid relid, bool inhparent, RelOptInfo* rel) {
  if (prev_relation_info != nullptr) prev_relation_info(root, relid, inhparent, rel);
  if (hypothetical.armed && planner_depth == hypothetical.depth && relid == hypothetical.relid && !inhparent)
    AddIndex(rel);
}

PlannedStmt* VigilPlanner(Query* parse, const char* query_string, int cursor_options, ParamListInfo params) {
  PlannedStmt* result = nullptr;
  ++planner_depth;
  PG_TRY();
  {
    result = prev_planner != nullptr ? prev_planner(parse, query_string, cursor_options, params)
                                     : standard_planner(parse, query_string, cursor_options, params);
  }
  PG_FINALLY();
  {
    --planner_depth;
  }
  PG_END_TRY();
  return result;
}

const char* VigilIndexName(Oid indexoid) {
  if (hypothetical.armed && indexoid == hypothetical.indexoid) return hypothetical.name;
  return prev_index_name != nullptr ? prev_index_name(indexoid) : nullptr;
}

}  // namespace

void vigil::pg::InstallPlannerHooks() {
  prev_relation_info = get_relation_info_hook;
  get_relation_info_hook = VigilRelationInfo;
  prev_index_name = explain_get_index_name_hook;
  explain_get_index_name_hook = VigilIndexName;
  prev_planner = planner_hook;
  planner_hook = VigilPlanner;
}

// ArmHypothetical: the next plans see an index named `name` with OID
// `indexoid` (one no relation has: the caller checks) on relid's attnums,
// until DisarmHypothetical. Plain data only: callable from C++.
bool vigil::pg::ArmHypothetical(Oid relid, const AttrNumber* attnums, int ncolumns, const char* name,
                                Oid indexoid) noexcept {
  // Already armed: a vigil_analyze_query called from a function that the
  // planner evaluates for another one. The outer call's index stays; the
  // inner one gets none.
  if (hypothetical.armed) return false;
  if (ncolumns <= 0 || ncolumns > INDEX_MAX_KEYS || !OidIsValid(relid) || !OidIsValid(indexoid)) return false;
  hypothetical.relid = relid;
  hypothetical.indexoid = indexoid;
  hypothetical.ncolumns = ncolumns;
  std::memcpy(hypothetical.attnums, attnums, sizeof(AttrNumber) * ncolumns);
  std::strncpy(hypothetical.name, name, NAMEDATALEN - 1);
  hypothetical.name[NAMEDATALEN - 1] = '\0';
  hypothetical.depth = planner_depth + 1;  // the EXPLAIN about to run plans one level down from here
  hypothetical.armed = true;
  return true;
}

void vigil::pg::DisarmHypothetical() noexcept { hypothetical.armed = false; }
