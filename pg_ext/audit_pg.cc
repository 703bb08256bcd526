// audit_pg.cc — the audit trail for PostgreSQL (SPEC §5, issue 13;
// docs/audit.md).
//
// The write path is engine code in C style: vigil_audit_trigger turns each
// changed row into JSON with to_jsonb, applies the table's options, and
// inserts the entry straight into vigil_state.vigil_audit_log through the
// executor's index machinery (as logical replication's apply does): no SPI,
// no plan, no privilege check — writers need no right on the log, and no
// role can reach it through SQL. Bulk statements arrive through statement
// triggers with transition tables; partitions and inheritance children,
// where PostgreSQL allows none, through row triggers.
//
// Sealing, verifying, purging and erasing are the core's (audit/trail.h):
// PgAuditStore below answers its questions with guarded SPI as
// vigil_state's owner. Entries are sealed after commit, by whoever calls
// vigil_audit_seal, _head, _verify's caller or the `vigil` command: one
// sealer at a time holds the chain row, writers never wait for it.
#include "base/cancel.h"
#include "boundary.h"
#include "module_pg.h"
#include "spi_guard.h"

extern "C" {
#include <sys/stat.h>

#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace_d.h"
#include "catalog/pg_class_d.h"
#include "commands/extension.h"
#include "access/xlog.h"
#include "catalog/pg_type_d.h"
#include "commands/event_trigger.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/fd.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "lib/stringinfo.h"
#include "storage/itemptr.h"
#include "utils/date.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/datetime.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "storage/bufmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "audit/entry.h"
#include "audit/staged.h"
#include "audit/trail.h"
#include "sql/lexer.h"
#include "sql/normalize.h"

namespace core = vigil::core;
namespace audit = vigil::core::audit;
using vigil::pg::Run;

namespace {

// ---- settings -----------------------------------------------------------------------

char* actor_setting = nullptr;
char* audit_key_setting = nullptr;

constexpr const char* kKeyFile = "vigil_audit.key";

// AuditKey is the HMAC key or NULL: vigil_audit.key in the data directory,
// else vigil.audit_key (vigil::pg::ServerSecret). Engine code.
const char* AuditKey(int* len) { return vigil::pg::ServerSecret(kKeyFile, audit_key_setting, "audit key", len); }

// ---- the log, written directly -------------------------------------------------------

enum LogColumn {
  kId, kAt, kSessionRole, kEffectiveRole, kActor, kApplicationName, kClientAddr, kTxid, kTableSchema, kTableName,
  kOperation, kRowKey, kOldRow, kNewRow, kChangedColumns, kStatement, kDetail, kOldDigest, kNewDigest, kSeq,
  kEntryHash, kLogColumns
};
constexpr const char* kLogColumnNames[kLogColumns] = {
    "id", "at", "session_role", "effective_role", "actor", "application_name", "client_addr", "txid",
    "table_schema", "table_name", "operation", "row_key", "old_row", "new_row", "changed_columns", "statement",
    "detail", "old_digest", "new_digest", "seq", "entry_hash"};

// Entries of one firing are inserted in batches, as COPY does
// (table_multi_insert, then each entry's index entries): a statement that
// changes many rows writes far fewer WAL records and takes each page's
// lock once per batch. A batch ends at kLogBatch entries or about
// kLogBatchBytes of row images.
constexpr int kLogBatch = 1000;
constexpr std::size_t kLogBatchBytes = 4 << 20;

struct LogWriter {
  Relation rel;
  EState* estate;
  ResultRelInfo* rri;
  TupleTableSlot** slots;  // [kLogBatch], made as needed
  int nbuffered;
  std::size_t buffered_bytes;
  Oid sequence;
};

Oid StateNamespace() {
  Oid nsp = get_namespace_oid(vigil::pg::kStateSchema, true);
  if (!OidIsValid(nsp))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("vigil's audit log is not installed"),
                    errhint("Run ALTER EXTENSION vigil UPDATE.")));
  return nsp;
}

// VigilsLog is vigil_state.vigil_audit_log when it is the extension's own
// plain table in the extension's own schema, else InvalidOid. Names alone
// prove nothing: where vigil is not installed, anyone who may create a
// schema can plant a vigil_state with a view of that name, and the worker
// (a superuser) and the hooks (as whoever runs the command) must never
// read or write it.
Oid verified_log = InvalidOid;  // this backend's database: the log checked last

Oid VigilsLog() {
  Oid nsp = get_namespace_oid(vigil::pg::kStateSchema, true);
  if (!OidIsValid(nsp)) return InvalidOid;
  Oid relid = get_relname_relid("vigil_audit_log", nsp);
  if (!OidIsValid(relid)) return InvalidOid;
  // The same relation found under the same name is still the extension's
  // (membership changes only through ALTER EXTENSION, a superuser's): the
  // catalog scans below run once per backend, not per statement.
  if (relid == verified_log) return relid;
  Oid ext = get_extension_oid("vigil", true);
  if (!OidIsValid(ext) || getExtensionOfObject(NamespaceRelationId, nsp) != ext ||
      get_rel_relkind(relid) != RELKIND_RELATION || getExtensionOfObject(RelationRelationId, relid) != ext)
    return InvalidOid;
  verified_log = relid;
  return relid;
}

Oid LogRelation(bool missing_ok) {
  Oid relid = VigilsLog();
  if (!OidIsValid(relid) && !missing_ok)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("vigil's audit log is not installed"),
                    errhint("Run ALTER EXTENSION vigil UPDATE.")));
  return relid;
}

void LogOpen(LogWriter* w) {
  Oid relid = LogRelation(false);
  w->sequence = get_relname_relid("vigil_audit_log_id_seq", StateNamespace());
  w->rel = table_open(relid, RowExclusiveLock);
  TupleDesc desc = RelationGetDescr(w->rel);
  // The layout this file writes: a changed table is refused, not written
  // into the wrong columns.
  bool ok = desc->natts == kLogColumns && OidIsValid(w->sequence);
  for (int i = 0; ok && i < kLogColumns; ++i)
    ok = !TupleDescAttr(desc, i)->attisdropped && strcmp(NameStr(TupleDescAttr(desc, i)->attname), kLogColumnNames[i]) == 0;
  if (!ok)
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("vigil_state.vigil_audit_log does not have the layout this module writes"),
                    errhint("Run ALTER EXTENSION vigil UPDATE, or restore the table.")));
  w->estate = CreateExecutorState();
  RangeTblEntry* rte = makeNode(RangeTblEntry);
  rte->rtekind = RTE_RELATION;
  rte->relid = relid;
  rte->relkind = RELKIND_RELATION;
  rte->rellockmode = RowExclusiveLock;
  ExecInitRangeTable(w->estate, list_make1(rte));
  w->rri = makeNode(ResultRelInfo);
  InitResultRelInfo(w->rri, w->rel, 1, nullptr, 0);
  w->estate->es_output_cid = GetCurrentCommandId(true);
  ExecOpenIndices(w->rri, false);
  w->slots = static_cast<TupleTableSlot**>(palloc0(sizeof(TupleTableSlot*) * kLogBatch));
  w->nbuffered = 0;
  w->buffered_bytes = 0;
}

void LogFlush(LogWriter* w) {
  if (w->nbuffered == 0) return;
  table_multi_insert(w->rel, w->slots, w->nbuffered, w->estate->es_output_cid, 0, nullptr);
  for (int i = 0; i < w->nbuffered; ++i) {
    List* conflicts = ExecInsertIndexTuples(w->rri, w->slots[i], w->estate, false, false, nullptr, NIL);
    list_free(conflicts);
    ResetPerTupleExprContext(w->estate);
    ExecClearTuple(w->slots[i]);
  }
  w->nbuffered = 0;
  w->buffered_bytes = 0;
}

// LogAppend adds one entry to the batch; values[kId] is filled here. The
// values are copied into the batch's slot (the caller's memory may go).
void LogAppend(LogWriter* w, Datum* values, bool* nulls) {
  if (w->slots[w->nbuffered] == nullptr) {
    // In the writer's executor memory, not the caller's (a row's memory is
    // reset after each row; the slot and its materialized copy must last
    // until the batch is flushed).
    MemoryContext old = MemoryContextSwitchTo(w->estate->es_query_cxt);
    w->slots[w->nbuffered] = ExecInitExtraTupleSlot(w->estate, RelationGetDescr(w->rel), &TTSOpsVirtual);
    MemoryContextSwitchTo(old);
  }
  TupleTableSlot* slot = w->slots[w->nbuffered];
  ExecClearTuple(slot);
  // The transaction's id before the entry's: the sealer's watermark
  // relies on every id being drawn by a transaction that already has one
  // (PgAuditStore::StartSealing). A read or ALTER SYSTEM has none yet.
  (void)GetTopTransactionId();
  values[kId] = Int64GetDatum(nextval_internal(w->sequence, false));
  nulls[kId] = false;
  memcpy(slot->tts_values, values, sizeof(Datum) * kLogColumns);
  memcpy(slot->tts_isnull, nulls, sizeof(bool) * kLogColumns);
  ExecStoreVirtualTuple(slot);
  ExecMaterializeSlot(slot);
  for (int c : {kOldRow, kNewRow, kStatement})
    if (!nulls[c]) w->buffered_bytes += VARSIZE_ANY(DatumGetPointer(values[c]));
  if (++w->nbuffered == kLogBatch || w->buffered_bytes >= kLogBatchBytes) LogFlush(w);
}

void LogClose(LogWriter* w) {
  LogFlush(w);
  ExecCloseIndices(w->rri);
  ExecResetTupleTable(w->estate->es_tupleTable, false);
  FreeExecutorState(w->estate);
  table_close(w->rel, NoLock);
}

// ---- who, when, what ------------------------------------------------------------------

// ClientAddr is inet_client_addr() as text (NULL over a Unix socket and in
// background processes), read once per backend.
const char* ClientAddr() {
  static bool known = false;
  static char addr[64];
  if (!known) {
    LOCAL_FCINFO(call, 0);
    InitFunctionCallInfoData(*call, nullptr, 0, InvalidOid, nullptr, nullptr);
    Datum inet = inet_client_addr(call);
    addr[0] = '\0';
    if (!call->isnull) {
      char* text = DatumGetCString(DirectFunctionCall1(inet_out, inet));
      strlcpy(addr, text, sizeof(addr));
    }
    known = true;
  }
  return addr[0] != '\0' ? addr : nullptr;
}

// NormalizedStatement is the statement in progress with its constants
// replaced (sql/normalize.h), so no redacted value reaches the log through
// it; NULL when there is none.
// StatementForLog is a statement's text as the log keeps it: normalised
// (sql/normalize.h), so no constant reaches the log. The lexer reads
// strings as standard_conforming_strings = on does; a plain '...' string
// holding a backslash means something else when the setting was off as
// the server parsed the statement (and a query string may change it
// between parsing and running), so such a text is not kept at all.
char* StatementForLog(const char* text) {
  const char* conforming = GetConfigOption("standard_conforming_strings", true, false);
  if (conforming != nullptr && strcmp(conforming, "on") != 0)
    return pstrdup("(not kept: standard_conforming_strings is off)");
  std::string_view sql(text);
  return Run([&] {
    for (const core::sql::Token& t : core::sql::Tokenize(sql, core::Dialect::kPostgres)) {
      if (t.kind != core::sql::TokenKind::kString) continue;
      char first = sql[t.begin];
      if (first == 'E' || first == 'e' || first == '$') continue;
      if (sql.substr(t.begin, t.end - t.begin).find('\\') != std::string_view::npos)
        return vigil::pg::CopyCString("(not kept: a string with a backslash reads differently without "
                                      "standard_conforming_strings)");
    }
    return vigil::pg::CopyCString(core::sql::Normalize(sql, core::Dialect::kPostgres));
  });
}

// NormalizedStatement is the statement in progress for the log (NULL when
// there is none).
char* NormalizedStatement() {
  const char* text = debug_query_string;
  if (text == nullptr) return nullptr;
  return StatementForLog(text);
}

// FillCommon sets the columns every entry of one firing shares.
void FillCommon(Datum* values, bool* nulls, Relation rel, const char* operation, bool with_statement) {
  for (int i = 0; i < kLogColumns; ++i) nulls[i] = true;
  values[kAt] = TimestampTzGetDatum(GetCurrentStatementStartTimestamp());
  nulls[kAt] = false;
  const char* session = GetUserNameFromId(GetSessionUserId(), true);
  const char* effective = GetUserNameFromId(GetUserId(), true);
  if (session != nullptr) values[kSessionRole] = CStringGetTextDatum(session), nulls[kSessionRole] = false;
  if (effective != nullptr) values[kEffectiveRole] = CStringGetTextDatum(effective), nulls[kEffectiveRole] = false;
  if (actor_setting != nullptr && actor_setting[0] != '\0')
    values[kActor] = CStringGetTextDatum(actor_setting), nulls[kActor] = false;
  if (application_name != nullptr && application_name[0] != '\0')
    values[kApplicationName] = CStringGetTextDatum(application_name), nulls[kApplicationName] = false;
  if (const char* addr = ClientAddr(); addr != nullptr)
    values[kClientAddr] = CStringGetTextDatum(addr), nulls[kClientAddr] = false;
  values[kTxid] = Int64GetDatum(static_cast<int64>(U64FromFullTransactionId(GetTopFullTransactionId())));
  nulls[kTxid] = false;
  if (rel != nullptr) {
    values[kTableSchema] = CStringGetTextDatum(get_namespace_name(RelationGetNamespace(rel)));
    values[kTableName] = CStringGetTextDatum(RelationGetRelationName(rel));
    nulls[kTableSchema] = nulls[kTableName] = false;
  }
  values[kOperation] = CStringGetTextDatum(operation);
  nulls[kOperation] = false;
  if (with_statement) {
    char* statement = NormalizedStatement();
    if (statement != nullptr) values[kStatement] = CStringGetTextDatum(statement), nulls[kStatement] = false;
  }
}

// ---- the trigger ------------------------------------------------------------------------

// TriggerState is cached in fn_extra for one trigger's call site: its
// parsed options, the columns they name, the key and the to_jsonb call.
struct TriggerState {
  Oid trigger;
  Oid reltype;
  bool statement;
  int natts;
  bool* excluded;  // [natts], by attribute index
  bool* redacted;
  int nkey;
  int* key_att;    // attribute indexes of the primary key
  bool filtering;
  FmgrInfo to_jsonb;
  // The image builder: each column's kind when every one is a kind Image
  // writes itself, else NULL and the row goes through to_jsonb whole.
  char* kinds;
  // The columns (not dropped) in the order jsonb keeps an object's keys:
  // shorter names first, then bytewise. BuildImage writes the pairs in
  // this order, so the object needs no sort per row.
  int* order;
  int norder;
  bool has_jsonb;  // a jsonb column: its value is a container, which only pushJsonbValue unpacks
};

// The kinds of column Image turns into jsonb itself, as to_jsonb would
// (datum_to_jsonb, PostgreSQL 15): the common types of audited tables.
enum ColumnKind : char {
  kDropped = 'x', kInt2 = '2', kInt4 = '4', kInt8 = '8', kNumeric = 'n', kText = 't', kBool = 'b',
  kDate = 'd', kTimestamp = 'p', kTimestampTz = 'z', kJsonb = 'j'
};

ColumnKind KindOf(Form_pg_attribute a) {
  if (a->attisdropped) return kDropped;
  switch (a->atttypid) {
    case INT2OID: return kInt2;
    case INT4OID: return kInt4;
    case INT8OID: return kInt8;
    case NUMERICOID: return kNumeric;
    case TEXTOID:
    case VARCHAROID: return kText;
    case BOOLOID: return kBool;
    case DATEOID: return kDate;
    case TIMESTAMPOID: return kTimestamp;
    case TIMESTAMPTZOID: return kTimestampTz;
    case JSONBOID: return kJsonb;
    default: return static_cast<ColumnKind>(0);
  }
}

// SetKeyOrder fills st->order (room for every attribute) with the columns
// that are not dropped, in the order jsonb keeps an object's keys (shorter
// names first, then bytewise), and st->norder and st->has_jsonb: for the
// trigger's images and for the sealer's images of staged entries alike.
void SetKeyOrder(TriggerState* st, TupleDesc desc) {
  st->norder = 0;
  st->has_jsonb = false;
  for (int i = 0; i < desc->natts; ++i) {
    if (TupleDescAttr(desc, i)->attisdropped) continue;
    st->order[st->norder++] = i;
    st->has_jsonb |= TupleDescAttr(desc, i)->atttypid == JSONBOID;
  }
  std::sort(st->order, st->order + st->norder, [desc](int a, int b) {
    const char* x = NameStr(TupleDescAttr(desc, a)->attname);
    const char* y = NameStr(TupleDescAttr(desc, b)->attname);
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? lx < ly : memcmp(x, y, lx) < 0;
  });
}

struct ParsedOptions {
  char** exclude;  // NULL-terminated
  char** redact;
  bool statement;
  bool reads;
  char** attnum_names;  // NULL-terminated, with attnum_values
  int* attnum_values;
};

char** CopyList(const std::vector<std::string>& names, MemoryContext cxt) {
  auto** out = static_cast<char**>(vigil::pg::AllocNoThrowIn(cxt, sizeof(char*) * (names.size() + 1)));
  for (std::size_t i = 0; i < names.size(); ++i) {
    out[i] = static_cast<char*>(vigil::pg::AllocNoThrowIn(cxt, names[i].size() + 1));
    memcpy(out[i], names[i].c_str(), names[i].size() + 1);
  }
  out[names.size()] = nullptr;
  return out;
}

ParsedOptions* ParseStoredOptions(const char* json, MemoryContext cxt) {
  std::string_view text(json);
  return Run([&] {
    audit::Options o = audit::ParseOptions(text, nullptr, true);
    auto* p = static_cast<ParsedOptions*>(vigil::pg::AllocNoThrowIn(cxt, sizeof(ParsedOptions)));
    p->exclude = CopyList(o.exclude, cxt);
    p->redact = CopyList(o.redact, cxt);
    p->statement = o.statement;
    p->reads = o.reads;
    std::vector<std::string> names;
    for (const auto& a : o.attnums) names.push_back(a.first);
    p->attnum_names = CopyList(names, cxt);
    p->attnum_values = static_cast<int*>(vigil::pg::AllocNoThrowIn(cxt, sizeof(int) * (o.attnums.size() + 1)));
    for (std::size_t i = 0; i < o.attnums.size(); ++i) p->attnum_values[i] = o.attnums[i].second;
    return p;
  });
}

// CachedOptions parses a trigger's options once per backend: a trigger's
// arguments never change (ALTER TRIGGER cannot; a new one has a new oid),
// and single-row statements would otherwise parse them on every firing.
// Kept in CacheMemoryContext, the argument text compared as well.
struct OptionsCacheEntry {
  Oid trigger;
  char* text;
  ParsedOptions* options;
  MemoryContext cxt;  // holds text and options; deleted when the slot is reused
};
constexpr int kOptionsCache = 64;
OptionsCacheEntry options_cache[kOptionsCache];
int options_cache_next = 0;

ParsedOptions* CachedOptions(Oid trigger, const char* text) {
  for (const OptionsCacheEntry& e : options_cache)
    if (e.options != nullptr && e.trigger == trigger && strcmp(e.text, text) == 0) return e.options;
  OptionsCacheEntry& slot = options_cache[options_cache_next];
  options_cache_next = (options_cache_next + 1) % kOptionsCache;
  slot.options = nullptr;
  if (slot.cxt != nullptr) MemoryContextDelete(slot.cxt);
  slot.cxt = AllocSetContextCreate(CacheMemoryContext, "vigil audit options", ALLOCSET_SMALL_SIZES);
  ParsedOptions* parsed = ParseStoredOptions(text, slot.cxt);
  slot.text = MemoryContextStrdup(slot.cxt, text);
  slot.trigger = trigger;
  slot.options = parsed;
  return parsed;
}

// MarkColumns sets flags[i] for each named column; a name the table no
// longer has fails closed: a renamed redacted column must not reach the
// log in clear.
void MarkColumns(char** names, TupleDesc desc, bool* flags, Relation rel, const ParsedOptions* o) {
  for (char** n = names; *n != nullptr; ++n) {
    bool found = false;
    // The attribute the name had when audit was enabled: a column renamed
    // away and another renamed (or added) into its name is not it.
    int pinned = 0;
    for (int k = 0; o->attnum_names[k] != nullptr; ++k)
      if (strcmp(o->attnum_names[k], *n) == 0) pinned = o->attnum_values[k];
    for (int i = 0; i < desc->natts; ++i) {
      Form_pg_attribute a = TupleDescAttr(desc, i);
      if (!a->attisdropped && strcmp(NameStr(a->attname), *n) == 0) {
        if (pinned != 0 && a->attnum != pinned) break;
        flags[i] = found = true;
        break;
      }
    }
    if (!found)
      ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                      errmsg("the audit options of table \"%s\" name column \"%s\", which is no longer the column they were written for",
                             RelationGetRelationName(rel), vigil::pg::ClipName(*n)),
                      errhint("Run vigil_audit_enable(table, options) again with the table's column names.")));
  }
}

// The trigger states of this backend, kept across statements: a
// single-row statement would otherwise rebuild one on every firing. An
// entry serves while the table's columns (names, types, dropped ones) and
// its primary key index are what they were when it was built.
struct StateCacheEntry {
  Oid trigger;
  Oid pk;
  TupleDesc columns;  // a copy, to compare
  TriggerState* state;
  MemoryContext cxt;
};
constexpr int kStateCache = 64;
StateCacheEntry state_cache[kStateCache];
int state_cache_next = 0;

bool SameColumns(TupleDesc a, TupleDesc b) {
  if (a->natts != b->natts || a->tdtypeid != b->tdtypeid) return false;
  for (int i = 0; i < a->natts; ++i) {
    Form_pg_attribute x = TupleDescAttr(a, i), y = TupleDescAttr(b, i);
    if (x->attisdropped != y->attisdropped || x->atttypid != y->atttypid ||
        strcmp(NameStr(x->attname), NameStr(y->attname)) != 0)
      return false;
  }
  return true;
}

TriggerState* BuildTriggerState(TriggerData* td, MemoryContext cxt);

TriggerState* GetTriggerState(FunctionCallInfo fcinfo, TriggerData* td) {
  auto* st = static_cast<TriggerState*>(fcinfo->flinfo->fn_extra);
  Relation rel = td->tg_relation;
  TupleDesc desc = RelationGetDescr(rel);
  if (st != nullptr && st->trigger == td->tg_trigger->tgoid && st->natts == desc->natts &&
      st->reltype == desc->tdtypeid)
    return st;
  Oid pk = RelationGetPrimaryKeyIndex(rel);
  for (const StateCacheEntry& e : state_cache)
    if (e.state != nullptr && e.trigger == td->tg_trigger->tgoid && e.pk == pk && SameColumns(e.columns, desc)) {
      fcinfo->flinfo->fn_extra = e.state;
      return e.state;
    }
  StateCacheEntry& slot = state_cache[state_cache_next];
  state_cache_next = (state_cache_next + 1) % kStateCache;
  slot.state = nullptr;
  if (slot.cxt != nullptr) MemoryContextDelete(slot.cxt);
  slot.cxt = AllocSetContextCreate(CacheMemoryContext, "vigil audit trigger", ALLOCSET_SMALL_SIZES);
  st = BuildTriggerState(td, slot.cxt);
  {
    MemoryContext old = MemoryContextSwitchTo(slot.cxt);
    slot.columns = CreateTupleDescCopy(desc);
    MemoryContextSwitchTo(old);
  }
  slot.trigger = td->tg_trigger->tgoid;
  slot.pk = pk;
  slot.state = st;
  fcinfo->flinfo->fn_extra = st;
  return st;
}

TriggerState* BuildTriggerState(TriggerData* td, MemoryContext cxt) {
  Relation rel = td->tg_relation;
  TupleDesc desc = RelationGetDescr(rel);
  auto* st = static_cast<TriggerState*>(MemoryContextAllocZero(cxt, sizeof(TriggerState)));
  st->trigger = td->tg_trigger->tgoid;
  st->reltype = desc->tdtypeid;
  st->natts = desc->natts;
  st->statement = false;
  st->excluded = static_cast<bool*>(MemoryContextAllocZero(cxt, sizeof(bool) * Max(desc->natts, 1)));
  st->redacted = static_cast<bool*>(MemoryContextAllocZero(cxt, sizeof(bool) * Max(desc->natts, 1)));
  if (td->tg_trigger->tgnargs > 0) {
    ParsedOptions* o = CachedOptions(td->tg_trigger->tgoid, td->tg_trigger->tgargs[0]);
    MarkColumns(o->exclude, desc, st->excluded, rel, o);
    MarkColumns(o->redact, desc, st->redacted, rel, o);
    st->statement = o->statement;
  }
  st->filtering = false;
  for (int i = 0; i < desc->natts; ++i) st->filtering |= st->excluded[i] || st->redacted[i];
  // The primary key's columns, for row_key.
  st->nkey = 0;
  st->key_att = static_cast<int*>(MemoryContextAllocZero(cxt, sizeof(int) * INDEX_MAX_KEYS));
  Oid pk = RelationGetPrimaryKeyIndex(rel);
  if (OidIsValid(pk)) {
    Relation index = index_open(pk, AccessShareLock);
    for (int k = 0; k < index->rd_index->indnkeyatts && k < INDEX_MAX_KEYS; ++k) {
      AttrNumber att = index->rd_index->indkey.values[k];
      if (att > 0) st->key_att[st->nkey++] = att - 1;
    }
    index_close(index, AccessShareLock);
  }
  // The image builder, when every column is a kind it writes.
  st->kinds = static_cast<char*>(MemoryContextAllocZero(cxt, Max(desc->natts, 1)));
  for (int i = 0; i < desc->natts; ++i) {
    st->kinds[i] = KindOf(TupleDescAttr(desc, i));
    if (st->kinds[i] == 0) {
      st->kinds = nullptr;
      break;
    }
  }
  st->order = static_cast<int*>(MemoryContextAllocZero(cxt, sizeof(int) * Max(desc->natts, 1)));
  SetKeyOrder(st, desc);
  // to_jsonb(anyelement) learns its argument's type from the call's
  // expression: give it one of the table's row type.
  fmgr_info_cxt(F_TO_JSONB, &st->to_jsonb, cxt);
  MemoryContext old = MemoryContextSwitchTo(cxt);
  Const* arg = makeNullConst(desc->tdtypeid, -1, InvalidOid);
  st->to_jsonb.fn_expr = reinterpret_cast<Node*>(
      makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(arg), InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
  MemoryContextSwitchTo(old);
  return st;
}

bool NameIs(const JsonbValue& k, const char* name) {
  return static_cast<size_t>(k.val.string.len) == strlen(name) && memcmp(k.val.string.val, name, k.val.string.len) == 0;
}

// ValueJson is the JSON text of one jsonb value (engine code).
char* ValueJson(JsonbValue* v) {
  if (v->type == jbvBinary) return JsonbToCString(nullptr, v->val.binary.data, v->val.binary.len);
  Jsonb* scalar = JsonbValueToJsonb(v);
  return JsonbToCString(nullptr, &scalar->root, VARSIZE(scalar));
}

char* RedactValue(const char* json, const char* key, int key_len) {
  std::string_view value(json);
  std::string_view k(key != nullptr ? key : "", key_len);
  bool keyed = key != nullptr;
  return Run([&] {
    return vigil::pg::CopyCString(audit::Redact(value, keyed ? std::optional<std::string_view>(k) : std::nullopt));
  });
}

// Filter leaves excluded columns out of an image and replaces redacted
// ones by their digest.
Jsonb* Filter(TriggerState* st, TupleDesc desc, Jsonb* image, const char* key, int key_len) {
  JsonbIterator* it = JsonbIteratorInit(&image->root);
  JsonbParseState* state = nullptr;
  JsonbValue v, value, *result = nullptr;
  JsonbIteratorToken r;
  while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
    if (r == WJB_KEY) {
      JsonbIteratorNext(&it, &value, true);
      bool excluded = false, redacted = false;
      for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        if ((st->excluded[i] || st->redacted[i]) && !a->attisdropped && NameIs(v, NameStr(a->attname))) {
          excluded = st->excluded[i];
          redacted = st->redacted[i];
          break;
        }
      }
      if (excluded) continue;
      if (redacted && value.type != jbvNull) {
        char* digest = RedactValue(ValueJson(&value), key, key_len);
        value.type = jbvString;
        value.val.string.val = digest;
        value.val.string.len = static_cast<int>(strlen(digest));
      }
      pushJsonbValue(&state, WJB_KEY, &v);
      result = pushJsonbValue(&state, WJB_VALUE, &value);
    } else {
      result = pushJsonbValue(&state, r, r < WJB_BEGIN_ARRAY ? &v : nullptr);
    }
  }
  return JsonbValueToJsonb(result);
}

// BuildImage writes a row of columns of the kinds above as to_jsonb does:
// numbers as numerics (a numeric NaN or infinity as its name, a string),
// text as strings, dates and times through JsonEncodeDateTime, jsonb as
// itself — without to_jsonb's per-column type lookups and its numeric
// output-and-parse round trip. sql/audit.sql compares the two.
// The pairs go straight into one object value in the key order jsonb
// keeps (TriggerState::order): no pushJsonbValue, no sort per row.
Jsonb* BuildImage(const TriggerState* st, TupleDesc desc, TupleTableSlot* slot) {
  slot_getallattrs(slot);
  JsonbPair* pairs = static_cast<JsonbPair*>(palloc(sizeof(JsonbPair) * Max(st->norder, 1)));
  for (int p = 0; p < st->norder; ++p) {
    int i = st->order[p];
    char kind = st->kinds[i];
    Form_pg_attribute a = TupleDescAttr(desc, i);
    JsonbValue& k = pairs[p].key;
    k.type = jbvString;
    k.val.string.val = NameStr(a->attname);
    k.val.string.len = static_cast<int>(strlen(NameStr(a->attname)));
    pairs[p].order = static_cast<uint32>(p);
    JsonbValue& v = pairs[p].value;
    Datum d = slot->tts_values[i];
    if (slot->tts_isnull[i]) {
      v.type = jbvNull;
    } else {
      switch (kind) {
        case kInt2: v.type = jbvNumeric; v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int2_numeric, d)); break;
        case kInt4: v.type = jbvNumeric; v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int4_numeric, d)); break;
        case kInt8: v.type = jbvNumeric; v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int8_numeric, d)); break;
        case kNumeric: {
          Numeric n = DatumGetNumeric(d);
          if (numeric_is_nan(n) || numeric_is_inf(n)) {
            char* text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
            v.type = jbvString;
            v.val.string.val = text;
            v.val.string.len = static_cast<int>(strlen(text));
          } else {
            v.type = jbvNumeric;
            v.val.numeric = n;
          }
          break;
        }
        case kText: {
          text* t = DatumGetTextPP(d);
          v.type = jbvString;
          v.val.string.val = VARDATA_ANY(t);
          v.val.string.len = static_cast<int>(VARSIZE_ANY_EXHDR(t));
          break;
        }
        case kBool: v.type = jbvBool; v.val.boolean = DatumGetBool(d); break;
        case kDate:
        case kTimestamp:
        case kTimestampTz: {
          char buf[MAXDATELEN + 1];
          Oid type = kind == kDate ? DATEOID : kind == kTimestamp ? TIMESTAMPOID : TIMESTAMPTZOID;
          char* text = pstrdup(JsonEncodeDateTime(buf, d, type, nullptr));
          v.type = jbvString;
          v.val.string.val = text;
          v.val.string.len = static_cast<int>(strlen(text));
          break;
        }
        case kJsonb: {
          Jsonb* jb = DatumGetJsonbP(d);
          v.type = jbvBinary;
          v.val.binary.data = &jb->root;
          v.val.binary.len = static_cast<int>(VARSIZE(jb) - VARHDRSZ);
          break;
        }
        default: v.type = jbvNull; break;
      }
    }
  }
  if (st->has_jsonb) {
    JsonbParseState* state = nullptr;
    JsonbValue* result = pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
    for (int p = 0; p < st->norder; ++p) {
      pushJsonbValue(&state, WJB_KEY, &pairs[p].key);
      result = pushJsonbValue(&state, WJB_VALUE, &pairs[p].value);
    }
    result = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
    return JsonbValueToJsonb(result);
  }
  JsonbValue object;
  object.type = jbvObject;
  object.val.object.nPairs = st->norder;
  object.val.object.pairs = pairs;
  return JsonbValueToJsonb(&object);
}

Jsonb* Image(TriggerState* st, TupleDesc desc, TupleTableSlot* slot, const char* key, int key_len) {
  Jsonb* image;
  if (st->kinds != nullptr) {
    image = BuildImage(st, desc, slot);
  } else {
    Datum row = ExecFetchSlotHeapTupleDatum(slot);
    image = DatumGetJsonbP(FunctionCall1(&st->to_jsonb, row));
  }
  return st->filtering ? Filter(st, desc, image, key, key_len) : image;
}

// RowKey is the primary key's columns as they appear in the image (an
// excluded key column is left out, a redacted one is its digest).
Jsonb* RowKey(TriggerState* st, TupleDesc desc, Jsonb* image) {
  if (st->nkey == 0) return nullptr;
  JsonbParseState* state = nullptr;
  JsonbValue* result = pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
  for (int k = 0; k < st->nkey; ++k) {
    const char* name = NameStr(TupleDescAttr(desc, st->key_att[k])->attname);
    JsonbValue found;
    if (getKeyJsonValueFromContainer(&image->root, name, strlen(name), &found) == nullptr) continue;
    JsonbValue kv;
    kv.type = jbvString;
    kv.val.string.val = const_cast<char*>(name);
    kv.val.string.len = static_cast<int>(strlen(name));
    pushJsonbValue(&state, WJB_KEY, &kv);
    pushJsonbValue(&state, WJB_VALUE, &found);
  }
  result = pushJsonbValue(&state, WJB_END_OBJECT, nullptr);
  return JsonbValueToJsonb(result);
}

// Changed lists the columns whose stored bytes differ (excluded ones left out).
Jsonb* Changed(TriggerState* st, TupleDesc desc, TupleTableSlot* old_slot, TupleTableSlot* new_slot) {
  JsonbParseState* state = nullptr;
  JsonbValue* result = pushJsonbValue(&state, WJB_BEGIN_ARRAY, nullptr);
  slot_getallattrs(old_slot);
  slot_getallattrs(new_slot);
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute a = TupleDescAttr(desc, i);
    if (a->attisdropped || st->excluded[i]) continue;
    bool on = old_slot->tts_isnull[i], nn = new_slot->tts_isnull[i];
    bool same = on == nn && (on || datum_image_eq(old_slot->tts_values[i], new_slot->tts_values[i], a->attbyval, a->attlen));
    if (same) continue;
    JsonbValue name;
    name.type = jbvString;
    name.val.string.val = NameStr(a->attname);
    name.val.string.len = static_cast<int>(strlen(NameStr(a->attname)));
    pushJsonbValue(&state, WJB_ELEM, &name);
  }
  result = pushJsonbValue(&state, WJB_END_ARRAY, nullptr);
  return JsonbValueToJsonb(result);
}

struct Firing {
  LogWriter log;
  TriggerState* st;
  TupleDesc desc;
  const char* key;
  int key_len;
  Datum values[kLogColumns];
  bool nulls[kLogColumns];
  MemoryContext row_cxt;
};

// AppendChange writes one row's entry (old_slot / new_slot NULL when the
// operation has none).
void AppendChange(Firing* f, TupleTableSlot* old_slot, TupleTableSlot* new_slot) {
  MemoryContext old = MemoryContextSwitchTo(f->row_cxt);
  Jsonb* old_image = old_slot != nullptr ? Image(f->st, f->desc, old_slot, f->key, f->key_len) : nullptr;
  Jsonb* new_image = new_slot != nullptr ? Image(f->st, f->desc, new_slot, f->key, f->key_len) : nullptr;
  Jsonb* key = RowKey(f->st, f->desc, old_image != nullptr ? old_image : new_image);
  f->nulls[kRowKey] = key == nullptr;
  f->values[kRowKey] = key != nullptr ? JsonbPGetDatum(key) : (Datum)0;
  f->nulls[kOldRow] = old_image == nullptr;
  f->values[kOldRow] = old_image != nullptr ? JsonbPGetDatum(old_image) : (Datum)0;
  f->nulls[kNewRow] = new_image == nullptr;
  f->values[kNewRow] = new_image != nullptr ? JsonbPGetDatum(new_image) : (Datum)0;
  bool update = old_slot != nullptr && new_slot != nullptr;
  f->nulls[kChangedColumns] = !update;
  f->values[kChangedColumns] = update ? JsonbPGetDatum(Changed(f->st, f->desc, old_slot, new_slot)) : (Datum)0;
  LogAppend(&f->log, f->values, f->nulls);
  MemoryContextSwitchTo(old);
  MemoryContextReset(f->row_cxt);
}

// ReadStore positions a new read pointer at the start of a transition
// table (other triggers of the statement read it too).
void ReadStore(Tuplestorestate* ts) {
  int ptr = tuplestore_alloc_read_pointer(ts, EXEC_FLAG_REWIND);
  tuplestore_select_read_pointer(ts, ptr);
  tuplestore_rescan(ts);
}

// ---- staged entries: statements that change many rows ------------------------------------
//
// A statement trigger whose transition tables hold at least kStageRows rows
// of a table whose every column is a kind BuildImage writes itself, with no
// redacted column, stages its entries instead of writing them: each row's
// raw values (the columns not excluded) go into a batch of up to
// kStageBatch entries (audit/staged.h), one row of
// vigil_state.vigil_audit_batch per batch, with what every entry of the
// firing shares. The sealer turns them into log rows through the same
// BuildImage, RowKey and Changed (ExpandStaged), before it seals. Only
// built-in code reads the values there: no type's output function, no
// key. (A redacted column is digested through its JSON: that stays in the
// writer's trigger, which writes directly.)

constexpr int64 kStageRows = 100;
constexpr int kStageBatch = 1000;
constexpr std::size_t kStageBytes = std::size_t{1} << 20;

enum BatchColumn {
  kBId, kBTxid, kBAt, kBSessionRole, kBEffectiveRole, kBActor, kBApplicationName, kBClientAddr, kBTableSchema,
  kBTableName, kBOperation, kBStatement, kBColumns, kBTypes, kBKeyColumns, kBN, kBEntries, kBatchColumns
};
constexpr const char* kBatchColumnNames[kBatchColumns] = {
    "id", "txid", "at", "session_role", "effective_role", "actor", "application_name", "client_addr",
    "table_schema", "table_name", "operation", "statement", "columns", "types", "key_columns", "n", "entries"};

// VigilsBatch is vigil_state.vigil_audit_batch when the log is vigil's
// (VigilsLog) and the batch table is the extension's own plain table with
// the layout this file writes; else InvalidOid (then nothing is staged).
Oid verified_batch = InvalidOid;

Oid VigilsBatch() {
  Oid log = VigilsLog();
  if (!OidIsValid(log)) return InvalidOid;
  Oid relid = get_relname_relid("vigil_audit_batch", get_rel_namespace(log));
  if (!OidIsValid(relid)) return InvalidOid;
  if (relid == verified_batch) return relid;
  Oid ext = get_extension_oid("vigil", true);
  if (!OidIsValid(ext) || get_rel_relkind(relid) != RELKIND_RELATION ||
      getExtensionOfObject(RelationRelationId, relid) != ext)
    return InvalidOid;
  Relation rel = table_open(relid, AccessShareLock);
  TupleDesc desc = RelationGetDescr(rel);
  bool ok = desc->natts == kBatchColumns;
  for (int i = 0; ok && i < kBatchColumns; ++i)
    ok = !TupleDescAttr(desc, i)->attisdropped && strcmp(NameStr(TupleDescAttr(desc, i)->attname), kBatchColumnNames[i]) == 0;
  table_close(rel, AccessShareLock);
  if (!ok) return InvalidOid;
  verified_batch = relid;
  return relid;
}

// The batches this transaction staged, in order (TIDs in
// TopTransactionContext, valid while own_staged_xid is the transaction's):
// an entry the transaction writes directly later first writes them into
// the log (ExpandOwnStaged), so the log keeps the transaction's order.
FullTransactionId own_staged_xid = InvalidFullTransactionId;
List* own_staged = NIL;

void RememberStaged(ItemPointer tid) {
  FullTransactionId xid = GetTopFullTransactionId();
  if (!FullTransactionIdEquals(xid, own_staged_xid)) {
    own_staged = NIL;  // the list of an earlier transaction went with its memory
    own_staged_xid = xid;
  }
  MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
  auto* copy = static_cast<ItemPointer>(palloc(sizeof(ItemPointerData)));
  *copy = *tid;
  own_staged = lappend(own_staged, copy);
  MemoryContextSwitchTo(old);
}

void ExpandBatch(Datum* row, bool* isnull);

struct Stager {
  Relation rel;
  Oid sequence;
  StringInfoData buf;  // the batch's bytea: a varlena header, then the entries
  int n;
  Datum values[kBatchColumns];
  bool nulls[kBatchColumns];
  int ncols;
  int* atts;  // the staged attributes (not dropped, not excluded), in table order
  uint8 op;
  MemoryContext row_cxt;
};

// CanStage: the kinds Stage writes and ExpandStaged reads, no redaction,
// no excluded key column (its row_key is an empty object, which the
// staged key cannot say).
bool CanStage(const TriggerState* st) {
  if (st->kinds == nullptr) return false;
  int staged = 0;
  for (int i = 0; i < st->natts; ++i) {
    if (st->redacted[i]) return false;
    staged += st->kinds[i] != kDropped && !st->excluded[i];
  }
  for (int k = 0; k < st->nkey; ++k)
    if (st->excluded[st->key_att[k]]) return false;
  return staged > 0;  // no column: images of {} are written directly
}

Datum NameArray(const char** names, int n) {
  Datum* d = static_cast<Datum*>(palloc(sizeof(Datum) * Max(n, 1)));
  for (int i = 0; i < n; ++i) {
    Name name = static_cast<Name>(palloc0(NAMEDATALEN));
    namestrcpy(name, names[i]);
    d[i] = NameGetDatum(name);
  }
  return PointerGetDatum(construct_array(d, n, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR));
}

void StageOpen(Stager* s, const Firing* f, Relation table, uint8 op) {
  s->rel = table_open(VigilsBatch(), RowExclusiveLock);
  s->sequence = get_relname_relid("vigil_audit_batch_id_seq", RelationGetNamespace(s->rel));
  if (!OidIsValid(s->sequence))
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("vigil_state.vigil_audit_batch has lost its sequence"),
                    errhint("Run ALTER EXTENSION vigil UPDATE, or restore the sequence.")));
  initStringInfo(&s->buf);
  s->buf.len = VARHDRSZ;
  appendStringInfoChar(&s->buf, core::audit::staged::kStoredPlain);  // TOAST compresses it
  s->row_cxt = AllocSetContextCreate(CurrentMemoryContext, "vigil audit stage row", ALLOCSET_DEFAULT_SIZES);
  s->n = 0;
  s->op = op;
  TupleDesc desc = RelationGetDescr(table);
  s->atts = static_cast<int*>(palloc(sizeof(int) * Max(desc->natts, 1)));
  s->ncols = 0;
  const char** names = static_cast<const char**>(palloc(sizeof(char*) * Max(desc->natts, 1)));
  Datum* types = static_cast<Datum*>(palloc(sizeof(Datum) * Max(desc->natts, 1)));
  for (int i = 0; i < desc->natts; ++i) {
    Form_pg_attribute a = TupleDescAttr(desc, i);
    if (a->attisdropped || f->st->excluded[i]) continue;
    names[s->ncols] = NameStr(a->attname);
    types[s->ncols] = ObjectIdGetDatum(a->atttypid);
    s->atts[s->ncols++] = i;
  }
  const char** keys = static_cast<const char**>(palloc(sizeof(char*) * Max(f->st->nkey, 1)));
  int nkeys = 0;
  for (int k = 0; k < f->st->nkey; ++k)
    if (!f->st->excluded[f->st->key_att[k]]) keys[nkeys++] = NameStr(TupleDescAttr(desc, f->st->key_att[k])->attname);
  // What every entry of the firing shares, as FillCommon set it.
  const int from[] = {-1, kTxid, kAt, kSessionRole, kEffectiveRole, kActor, kApplicationName, kClientAddr,
                      kTableSchema, kTableName, kOperation, kStatement};
  for (int c = 0; c < kBatchColumns; ++c) s->nulls[c] = true;
  for (int c = kBTxid; c <= kBStatement; ++c) {
    s->values[c] = f->values[from[c]];
    s->nulls[c] = f->nulls[from[c]];
  }
  s->values[kBColumns] = NameArray(names, s->ncols);
  s->values[kBTypes] = PointerGetDatum(construct_array(types, s->ncols, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
  s->values[kBKeyColumns] = NameArray(keys, nkeys);
  s->nulls[kBColumns] = s->nulls[kBTypes] = s->nulls[kBKeyColumns] = false;
}

void StageFlush(Stager* s) {
  if (s->n == 0) return;
  (void)GetTopTransactionId();
  s->values[kBId] = Int64GetDatum(nextval_internal(s->sequence, false));
  s->values[kBN] = Int32GetDatum(s->n);
  SET_VARSIZE(s->buf.data, s->buf.len);
  s->values[kBEntries] = PointerGetDatum(s->buf.data);
  s->nulls[kBId] = s->nulls[kBN] = s->nulls[kBEntries] = false;
  HeapTuple tuple = heap_form_tuple(RelationGetDescr(s->rel), s->values, s->nulls);
  simple_heap_insert(s->rel, tuple);
  RememberStaged(&tuple->t_self);
  heap_freetuple(tuple);
  s->buf.len = VARHDRSZ;
  appendStringInfoChar(&s->buf, core::audit::staged::kStoredPlain);  // TOAST compresses it
  s->n = 0;
}

void StageValue(Stager* s, char kind, bool isnull, Datum d) {
  core::audit::staged::Value v;
  const char* bytes = nullptr;
  if (!isnull) {
    switch (kind) {
      case kInt2: v.kind = v.kInteger; v.integer = DatumGetInt16(d); break;
      case kInt4: v.kind = v.kInteger; v.integer = DatumGetInt32(d); break;
      case kInt8: v.kind = v.kInteger; v.integer = DatumGetInt64(d); break;
      case kBool: v.kind = v.kInteger; v.integer = DatumGetBool(d) ? 1 : 0; break;
      case kDate: v.kind = v.kInteger; v.integer = DatumGetDateADT(d); break;
      case kTimestamp: v.kind = v.kInteger; v.integer = DatumGetInt64(d); break;
      case kTimestampTz: {
        // As the writer's TimeZone renders it (as the direct path does),
        // not the sealer's: the image's text is what the chain hashes.
        char text[MAXDATELEN + 1];
        bytes = pstrdup(JsonEncodeDateTime(text, d, TIMESTAMPTZOID, nullptr));
        v.kind = v.kText;
        v.bytes = std::string_view(bytes, strlen(bytes));
        break;
      }
      default: {  // numeric, text, jsonb: the value's bytes, detoasted
        struct varlena* p = PG_DETOAST_DATUM_PACKED(d);
        v.kind = v.kBlob;
        bytes = VARDATA_ANY(p);
        v.bytes = std::string_view(bytes, VARSIZE_ANY_EXHDR(p));
        break;
      }
    }
  }
  enlargeStringInfo(&s->buf, static_cast<int>(core::audit::staged::kMaxValueHead + v.bytes.size()));
  s->buf.len += static_cast<int>(core::audit::staged::PutValueHead(s->buf.data + s->buf.len, v));
  if (bytes != nullptr) {
    memcpy(s->buf.data + s->buf.len, bytes, v.bytes.size());
    s->buf.len += static_cast<int>(v.bytes.size());
  }
}

// StageChange adds one row's entry (old_slot / new_slot NULL when the
// operation has none).
// A row whose values pass this many bytes is written directly (where a
// value too large for a jsonb image fails the writer's statement, as on
// the direct path, instead of the sealer's every call).
constexpr std::size_t kStageRowBytes = std::size_t{1} << 20;

// StageChange adds one row's entry (old_slot / new_slot NULL when the
// operation has none); false, staging nothing, for a row too large to
// stage.
bool StageChange(Stager* s, const TriggerState* st, TupleTableSlot* old_slot, TupleTableSlot* new_slot) {
  int sides = (old_slot != nullptr) + (new_slot != nullptr);
  std::size_t size = 0;
  for (TupleTableSlot* slot : {old_slot, new_slot}) {
    if (slot == nullptr) continue;
    slot_getallattrs(slot);
    for (int c = 0; c < s->ncols; ++c) {
      int i = s->atts[c];
      char kind = st->kinds[i];
      if (!slot->tts_isnull[i] && (kind == kNumeric || kind == kText || kind == kJsonb))
        size += toast_raw_datum_size(slot->tts_values[i]);
    }
  }
  if (size > kStageRowBytes) return false;
  enlargeStringInfo(&s->buf, 32);
  char* p = s->buf.data + s->buf.len;
  std::size_t w = core::audit::staged::PutVarint(p, 0);  // layout
  p[w++] = static_cast<char>(s->op | 16);                 // operation, time absolute (the batch has it)
  w += core::audit::staged::PutVarint(p + w, 0);
  w += core::audit::staged::PutVarint(p + w, static_cast<uint64>(sides * s->ncols));
  s->buf.len += static_cast<int>(w);
  // Values are detoasted in the row's memory, reset after the row.
  MemoryContext old = MemoryContextSwitchTo(s->row_cxt);
  for (TupleTableSlot* slot : {old_slot, new_slot}) {
    if (slot == nullptr) continue;
    for (int c = 0; c < s->ncols; ++c) {
      int i = s->atts[c];
      StageValue(s, st->kinds[i], slot->tts_isnull[i], slot->tts_values[i]);
    }
  }
  MemoryContextSwitchTo(old);
  MemoryContextReset(s->row_cxt);
  if (++s->n >= kStageBatch || static_cast<std::size_t>(s->buf.len) >= kStageBytes) StageFlush(s);
  return true;
}

void StageClose(Stager* s) {
  StageFlush(s);
  table_close(s->rel, NoLock);
}

// ---- expanding staged entries ----------------------------------------------------------------

// A decoded value (phase 2 hands these to engine code: plain data).
struct DecodedValue {
  uint8 kind;
  int64 integer;
  const char* bytes;
  uint32 len;
};

// DecodeBatch reads a batch's entries (audit/staged.h): n entries of
// `per_entry` values each, of operation `op`. Throws (in Run) on a
// malformed batch.
DecodedValue* DecodeBatch(const char* data, std::size_t size, int n, int per_entry, uint8 op) {
  return vigil::pg::Run([&] {
    namespace staged = core::audit::staged;
    std::string_view bytes = staged::Unpack(std::string_view(data, size), nullptr);
    auto* out = static_cast<DecodedValue*>(
        vigil::pg::AllocNoThrow(sizeof(DecodedValue) * std::max<std::size_t>(1, static_cast<std::size_t>(n) * per_entry)));
    staged::Reader r(bytes);
    staged::Entry e;
    int got = 0;
    while (r.Next(e)) {
      if (got == n || static_cast<uint8>(e.op) != op || e.values.size() != static_cast<std::size_t>(per_entry))
        throw core::Error(core::ErrorCode::kPrerequisite, "a staged audit batch does not match its row", {},
                          "vigil_state.vigil_audit_batch was changed outside vigil; restore it from a backup");
      for (int i = 0; i < per_entry; ++i) {
        const staged::Value& v = e.values[i];
        out[got * per_entry + i] = {static_cast<uint8>(v.kind), v.integer, v.bytes.data(),
                                    static_cast<uint32>(v.bytes.size())};
      }
      ++got;
    }
    if (got != n)
      throw core::Error(core::ErrorCode::kPrerequisite, "a staged audit batch holds fewer entries than its row says", {},
                        "vigil_state.vigil_audit_batch was changed outside vigil; restore it from a backup");
    return out;
  });
}

[[noreturn]] void BadBatch(const char* what) {
  ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("a staged audit batch %s", what),
                  errhint("vigil_state.vigil_audit_batch was changed outside vigil; restore it from a backup.")));
}

Datum DatumOf(char kind, const DecodedValue& v) {
  bool integer = v.kind == core::audit::staged::Value::kInteger;
  switch (kind) {
    case kInt2: if (integer) return Int16GetDatum(static_cast<int16>(v.integer)); break;
    case kInt4: if (integer) return Int32GetDatum(static_cast<int32>(v.integer)); break;
    case kInt8: if (integer) return Int64GetDatum(v.integer); break;
    case kBool: if (integer) return BoolGetDatum(v.integer != 0); break;
    case kDate: if (integer) return DateADTGetDatum(static_cast<DateADT>(v.integer)); break;
    case kTimestamp:
    case kTimestampTz: if (integer) return Int64GetDatum(v.integer); break;
    default:
      if ((v.kind == core::audit::staged::Value::kBlob || v.kind == core::audit::staged::Value::kText) &&
          v.len < MaxAllocSize - VARHDRSZ) {
        struct varlena* p = static_cast<struct varlena*>(palloc(VARHDRSZ + v.len));
        SET_VARSIZE(p, VARHDRSZ + v.len);
        memcpy(VARDATA(p), v.bytes, v.len);
        return PointerGetDatum(p);
      }
      break;
  }
  BadBatch("holds a value of the wrong kind");
}

void FillSlot(TupleTableSlot* slot, const TriggerState* st, const DecodedValue* v) {
  ExecClearTuple(slot);
  for (int i = 0; i < st->natts; ++i) {
    slot->tts_isnull[i] = v[i].kind == core::audit::staged::Value::kNull;
    slot->tts_values[i] = slot->tts_isnull[i] ? static_cast<Datum>(0) : DatumOf(st->kinds[i], v[i]);
  }
  ExecStoreVirtualTuple(slot);
}

// ExpandBatch writes one batch's entries into the log; `row` holds the
// batch's columns (kBTxid..kBEntries, as DELETE ... RETURNING gave them).
void ExpandBatch(Datum* row, bool* isnull) {
  for (int c : {kBTxid, kBAt, kBTableSchema, kBTableName, kBOperation, kBColumns, kBTypes, kBKeyColumns, kBN, kBEntries})
    if (isnull[c]) BadBatch("has a NULL where a value belongs");
  const char* operation = TextDatumGetCString(row[kBOperation]);
  uint8 op = strcmp(operation, "INSERT") == 0 ? 0 : strcmp(operation, "UPDATE") == 0 ? 1 : strcmp(operation, "DELETE") == 0 ? 2 : 3;
  if (op == 3) BadBatch("names an operation that is not INSERT, UPDATE or DELETE");
  Datum* names;
  Datum* types;
  Datum* keys;
  bool* nn;
  int ncols, ntypes, nkeys;
  deconstruct_array(DatumGetArrayTypeP(row[kBColumns]), NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &names, &nn, &ncols);
  for (int i = 0; i < ncols; ++i)
    if (nn[i]) BadBatch("names a NULL column");
  deconstruct_array(DatumGetArrayTypeP(row[kBTypes]), OIDOID, sizeof(Oid), true, TYPALIGN_INT, &types, &nn, &ntypes);
  for (int i = 0; i < ntypes; ++i)
    if (nn[i]) BadBatch("names a NULL type");
  deconstruct_array(DatumGetArrayTypeP(row[kBKeyColumns]), NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &keys, &nn, &nkeys);
  for (int i = 0; i < nkeys; ++i)
    if (nn[i]) BadBatch("names a NULL key column");
  if (ncols < 1 || ncols > MaxTupleAttributeNumber || ncols != ntypes || nkeys > INDEX_MAX_KEYS)
    BadBatch("does not describe its columns");
  TupleDesc desc = CreateTemplateTupleDesc(ncols);
  for (int i = 0; i < ncols; ++i) {
    Oid type = DatumGetObjectId(types[i]);
    bool known = false;
    for (Oid t : {INT2OID, INT4OID, INT8OID, NUMERICOID, TEXTOID, VARCHAROID, BOOLOID, DATEOID, TIMESTAMPOID,
                  TIMESTAMPTZOID, JSONBOID})
      known |= t == type;
    if (!known) BadBatch("holds a column of a type vigil does not stage");
    // A timestamptz was staged as the text the writer's TimeZone gives it.
    TupleDescInitEntry(desc, static_cast<AttrNumber>(i + 1), NameStr(*DatumGetName(names[i])),
                       type == TIMESTAMPTZOID ? TEXTOID : type, -1, 0);
  }
  // The expansion's trigger state: every column imaged, none filtered.
  auto* st = static_cast<TriggerState*>(palloc0(sizeof(TriggerState)));
  st->natts = ncols;
  st->excluded = static_cast<bool*>(palloc0(sizeof(bool) * ncols));
  st->redacted = static_cast<bool*>(palloc0(sizeof(bool) * ncols));
  st->kinds = static_cast<char*>(palloc0(ncols));
  st->order = static_cast<int*>(palloc0(sizeof(int) * ncols));
  st->key_att = static_cast<int*>(palloc0(sizeof(int) * INDEX_MAX_KEYS));
  for (int i = 0; i < ncols; ++i) st->kinds[i] = KindOf(TupleDescAttr(desc, i));
  SetKeyOrder(st, desc);
  for (int k = 0; k < nkeys; ++k) {
    int found = -1;
    for (int i = 0; i < ncols && found < 0; ++i)
      if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), NameStr(*DatumGetName(keys[k]))) == 0) found = i;
    if (found < 0) BadBatch("names a key column it does not hold");
    st->key_att[st->nkey++] = found;
  }
  int n = DatumGetInt32(row[kBN]);
  if (n < 1 || n > kStageBatch * 16) BadBatch("has an entry count out of range");
  int sides = op == 1 ? 2 : 1;
  bytea* entries = DatumGetByteaPP(row[kBEntries]);
  DecodedValue* values = DecodeBatch(VARDATA_ANY(entries), VARSIZE_ANY_EXHDR(entries), n, sides * ncols, op);

  Firing* f = static_cast<Firing*>(palloc0(sizeof(Firing)));
  f->st = st;
  f->desc = desc;
  f->row_cxt = AllocSetContextCreate(CurrentMemoryContext, "vigil audit expand row", ALLOCSET_DEFAULT_SIZES);
  for (int i = 0; i < kLogColumns; ++i) f->nulls[i] = true;
  const int to[] = {-1, kTxid, kAt, kSessionRole, kEffectiveRole, kActor, kApplicationName, kClientAddr,
                    kTableSchema, kTableName, kOperation, kStatement};
  for (int c = kBTxid; c <= kBStatement; ++c) {
    f->values[to[c]] = row[c];
    f->nulls[to[c]] = isnull[c];
  }
  TupleTableSlot* old_slot = op != 0 ? MakeSingleTupleTableSlot(desc, &TTSOpsVirtual) : nullptr;
  TupleTableSlot* new_slot = op != 2 ? MakeSingleTupleTableSlot(desc, &TTSOpsVirtual) : nullptr;
  LogOpen(&f->log);
  for (int e = 0; e < n; ++e) {
    CHECK_FOR_INTERRUPTS();
    const DecodedValue* v = values + static_cast<std::size_t>(e) * sides * ncols;
    MemoryContext old = MemoryContextSwitchTo(f->row_cxt);
    if (old_slot != nullptr) FillSlot(old_slot, st, v);
    if (new_slot != nullptr) FillSlot(new_slot, st, v + (op == 1 ? ncols : 0));
    MemoryContextSwitchTo(old);
    AppendChange(f, old_slot, new_slot);
  }
  LogClose(&f->log);
  if (old_slot != nullptr) ExecDropSingleTupleTableSlot(old_slot);
  if (new_slot != nullptr) ExecDropSingleTupleTableSlot(new_slot);
  MemoryContextDelete(f->row_cxt);
}

// ExpandOwnStaged writes the batches this transaction staged and has not
// expanded yet into the log, in the writer's own context: only this
// transaction's rows, written by its own trigger, read with built-in code.
// One that a rolled-back subtransaction wrote, or that a seal of this
// transaction expanded already, is not visible to SnapshotSelf: skipped.
void ExpandOwnStaged() {
  if (own_staged == NIL) return;
  if (!FullTransactionIdEquals(GetTopFullTransactionIdIfAny(), own_staged_xid)) {
    own_staged = NIL;
    return;
  }
  List* list = own_staged;
  own_staged = NIL;
  Oid relid = VigilsBatch();
  if (!OidIsValid(relid)) return;
  // A batch the current command wrote is deleted by a later one.
  CommandCounterIncrement();
  Relation rel = table_open(relid, RowExclusiveLock);
  ListCell* lc;
  foreach (lc, list) {
    CHECK_FOR_INTERRUPTS();
    auto* tid = static_cast<ItemPointer>(lfirst(lc));
    HeapTupleData tuple;
    tuple.t_self = *tid;
    Buffer buffer;
    if (!heap_fetch(rel, SnapshotSelf, &tuple, &buffer, false)) continue;
    HeapTuple copy = heap_copytuple(&tuple);
    ReleaseBuffer(buffer);
    Datum row[kBatchColumns];
    bool isnull[kBatchColumns];
    heap_deform_tuple(copy, RelationGetDescr(rel), row, isnull);
    simple_heap_delete(rel, tid);
    ExpandBatch(row, isnull);
  }
  table_close(rel, NoLock);
}

// LogOpenEntries opens the log for entries written directly: after the
// transaction's own staged entries, which come first.
void LogOpenEntries(LogWriter* w) {
  ExpandOwnStaged();
  LogOpen(w);
}

// ExpandStaged writes the staged entries this transaction can see into the
// log, oldest batch first, as vigil_state's owner, and deletes their
// batches: the first step of every call that seals. A batch another
// sealer holds is left to it (SKIP LOCKED).
void ExpandStaged(Oid owner) {
  if (!OidIsValid(VigilsBatch())) return;
  vigil::pg::AsRole pinned;
  vigil::pg::BeginAs(&pinned, owner, nullptr);
  // What was staged when the call began: writers that keep staging cannot
  // keep it running (ids come from one sequence; an id drawn later by a
  // transaction already in progress is below it and joins, or waits for
  // the next call). A batch another sealer holds is waited for, then gone:
  // an erasure or a head never passes over committed entries.
  if (SPI_execute("SELECT COALESCE(pg_catalog.max(id), 0) FROM vigil_state.vigil_audit_batch", true, 1) != SPI_OK_SELECT ||
      SPI_processed != 1)
    elog(ERROR, "reading vigil_audit_batch failed");
  bool cap_null;
  int64 cap = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &cap_null));
  SPI_freetuptable(SPI_tuptable);
  MemoryContext list_cxt = AllocSetContextCreate(CurrentMemoryContext, "vigil audit expand list", ALLOCSET_DEFAULT_SIZES);
  MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "vigil audit expand", ALLOCSET_DEFAULT_SIZES);
  for (;;) {
    CHECK_FOR_INTERRUPTS();
    char query[256];
    snprintf(query, sizeof query,
             "SELECT ctid FROM vigil_state.vigil_audit_batch WHERE id OPERATOR(pg_catalog.<=) " INT64_FORMAT
             "::pg_catalog.int8 ORDER BY id LIMIT 1000 FOR UPDATE", cap);
    if (SPI_execute(query, false, 0) != SPI_OK_SELECT)
      elog(ERROR, "reading vigil_audit_batch failed");
    uint64 count = SPI_processed;
    if (count == 0) break;
    MemoryContextReset(list_cxt);
    MemoryContext old = MemoryContextSwitchTo(list_cxt);
    ItemPointerData* tids = static_cast<ItemPointerData*>(palloc(sizeof(ItemPointerData) * count));
    for (uint64 i = 0; i < count; ++i) {
      bool isnull;
      tids[i] = *reinterpret_cast<ItemPointer>(DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
    }
    MemoryContextSwitchTo(old);
    SPI_freetuptable(SPI_tuptable);
    for (uint64 i = 0; i < count; ++i) {
      CHECK_FOR_INTERRUPTS();
      Datum arg = PointerGetDatum(&tids[i]);
      Oid argtype = TIDOID;
      if (SPI_execute_with_args("DELETE FROM vigil_state.vigil_audit_batch WHERE ctid OPERATOR(pg_catalog.=) $1 "
                                "RETURNING id, txid, at, session_role, effective_role, actor, application_name, "
                                "client_addr, table_schema, table_name, operation, statement, columns, types, "
                                "key_columns, n, entries",
                                1, &argtype, &arg, nullptr, false, 0) != SPI_OK_DELETE_RETURNING)
        elog(ERROR, "deleting a batch of vigil_audit_batch failed");
      if (SPI_processed != 1) continue;
      old = MemoryContextSwitchTo(cxt);
      Datum row[kBatchColumns];
      bool isnull[kBatchColumns];
      HeapTuple copy = SPI_copytuple(SPI_tuptable->vals[0]);
      heap_deform_tuple(copy, SPI_tuptable->tupdesc, row, isnull);
      SPI_freetuptable(SPI_tuptable);
      ExpandBatch(row, isnull);
      MemoryContextSwitchTo(old);
      MemoryContextReset(cxt);
    }
  }
  MemoryContextDelete(cxt);
  MemoryContextDelete(list_cxt);
  vigil::pg::EndAs(&pinned);
}

}  // namespace

// ---- settings, defined by _PG_init ------------------------------------------------------

void vigil::pg::DefineAuditSettings() {
  DefineCustomStringVariable("vigil.actor", "The application's actor recorded with audit entries (vigil_set_actor).",
                             nullptr, &actor_setting, "", PGC_USERSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("vigil.audit_key",
                             "HMAC key of the audit chain and of redacted values, unless the data directory holds "
                             "vigil_audit.key.",
                             nullptr, &audit_key_setting, "", PGC_SIGHUP,
                             GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
}

// vigil_audit_trigger(): every audit trigger. Row triggers (partitions and
// inheritance children) write one entry per call; statement triggers read
// the transition tables: an UPDATE's old and new rows come in the order
// PostgreSQL saved them, pair by pair.
VIGIL_PG_FUNCTION(vigil_audit_trigger) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_audit_trigger() must be called as a trigger")));
  TriggerData* td = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (!TRIGGER_FIRED_AFTER(td->tg_event))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_audit_trigger() must be an AFTER trigger")));
  Relation rel = td->tg_relation;
  const char* operation = TRIGGER_FIRED_BY_INSERT(td->tg_event)   ? "INSERT"
                          : TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? "UPDATE"
                          : TRIGGER_FIRED_BY_DELETE(td->tg_event) ? "DELETE"
                                                                  : "TRUNCATE";
  Firing* f = static_cast<Firing*>(palloc0(sizeof(Firing)));
  f->st = GetTriggerState(fcinfo, td);
  f->desc = RelationGetDescr(rel);
  f->key = f->st->filtering ? AuditKey(&f->key_len) : nullptr;
  f->row_cxt = AllocSetContextCreate(CurrentMemoryContext, "vigil audit row", ALLOCSET_DEFAULT_SIZES);
  FillCommon(f->values, f->nulls, rel, operation, f->st->statement);
  // A statement that changed many rows stages them (see Stager).
  bool stage = false;
  if (!TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) && !TRIGGER_FIRED_FOR_ROW(td->tg_event)) {
    Tuplestorestate* ts = td->tg_newtable != nullptr ? td->tg_newtable : td->tg_oldtable;
    stage = ts != nullptr && tuplestore_tuple_count(ts) >= kStageRows && CanStage(f->st) && OidIsValid(VigilsBatch());
  }
  Stager stager;
  bool direct = false;  // a staged statement that went on directly (StageChange)
  if (stage) {
    StageOpen(&stager, f, rel,
              TRIGGER_FIRED_BY_INSERT(td->tg_event) ? 0 : TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? 1 : 2);
  } else {
    LogOpenEntries(&f->log);
  }
  if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event)) {
    LogAppend(&f->log, f->values, f->nulls);
  } else if (TRIGGER_FIRED_FOR_ROW(td->tg_event)) {
    bool ins = TRIGGER_FIRED_BY_INSERT(td->tg_event), upd = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
    AppendChange(f, ins ? nullptr : td->tg_trigslot, ins ? td->tg_trigslot : (upd ? td->tg_newslot : nullptr));
  } else {
    Tuplestorestate* olds = td->tg_oldtable;
    Tuplestorestate* news = td->tg_newtable;
    if ((TRIGGER_FIRED_BY_INSERT(td->tg_event) && news == nullptr) ||
        (TRIGGER_FIRED_BY_DELETE(td->tg_event) && olds == nullptr) ||
        (TRIGGER_FIRED_BY_UPDATE(td->tg_event) && (olds == nullptr || news == nullptr)))
      ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                      errmsg("vigil_audit_trigger() as a statement trigger needs its transition tables"),
                      errhint("Install it with vigil_audit_enable(table).")));
    TupleTableSlot* old_slot = olds != nullptr ? MakeSingleTupleTableSlot(f->desc, &TTSOpsMinimalTuple) : nullptr;
    TupleTableSlot* new_slot = news != nullptr ? MakeSingleTupleTableSlot(f->desc, &TTSOpsMinimalTuple) : nullptr;
    if (olds != nullptr) ReadStore(olds);
    if (news != nullptr) ReadStore(news);
    for (;;) {
      CHECK_FOR_INTERRUPTS();
      bool have_old = olds != nullptr && tuplestore_gettupleslot(olds, true, false, old_slot);
      bool have_new = news != nullptr && tuplestore_gettupleslot(news, true, false, new_slot);
      if (!have_old && !have_new) break;
      if (olds != nullptr && news != nullptr && have_old != have_new)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("an UPDATE's transition tables differ in length")));
      if (stage && StageChange(&stager, f->st, have_old ? old_slot : nullptr, have_new ? new_slot : nullptr))
        continue;
      if (stage && !direct) {
        // A row too large to stage: what the statement staged so far goes
        // into the log first, then this row and the others, directly.
        StageFlush(&stager);
        ExpandOwnStaged();
        LogOpen(&f->log);
        direct = true;
      }
      AppendChange(f, have_old ? old_slot : nullptr, have_new ? new_slot : nullptr);
    }
    if (old_slot != nullptr) ExecDropSingleTupleTableSlot(old_slot);
    if (new_slot != nullptr) ExecDropSingleTupleTableSlot(new_slot);
  }
  if (stage) StageClose(&stager);
  if (!stage || direct) LogClose(&f->log);
  MemoryContextDelete(f->row_cxt);
  return PointerGetDatum(nullptr);
}

// ---- DDL ----------------------------------------------------------------------------------

namespace {

// AuditTriggerFunction is vigil_audit_trigger()'s oid (InvalidOid when
// the extension or the function is missing).
Oid AuditTriggerFunction() {
  Oid ext = vigil::pg::ExtensionNamespace();
  if (!OidIsValid(ext)) return InvalidOid;
  return LookupFuncName(list_make2(makeString(get_namespace_name(ext)), makeString(pstrdup("vigil_audit_trigger"))), 0,
                        nullptr, true);
}

// AnyTableAudited: is some table in this database audited? DDL is
// recorded only then (and the drop of an audit trigger always).
bool AnyTableAudited() {
  Oid fn = AuditTriggerFunction();
  if (!OidIsValid(fn)) return false;
  Oid argtypes[1] = {OIDOID};
  Datum values[1] = {ObjectIdGetDatum(fn)};
  if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgfoid OPERATOR(pg_catalog.=) $1 LIMIT 1", 1,
                            argtypes, values, nullptr, true, 1) != SPI_OK_SELECT)
    elog(ERROR, "reading pg_trigger failed");
  return SPI_processed > 0;
}

}  // namespace

// vigil_state.vigil_audit_ddl(): ddl_command_end and sql_drop. One entry
// per command: its tag and the objects it touched (for ALTER TABLE ...
// DISABLE TRIGGER on an audited table too), with the normalised statement.
// Drops are recorded at sql_drop (ddl_command_end lists no objects for them).
VIGIL_PG_FUNCTION(vigil_audit_ddl) {
  if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
    ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                    errmsg("vigil_audit_ddl() must be called as an event trigger")));
  EventTriggerData* ev = reinterpret_cast<EventTriggerData*>(fcinfo->context);
  const char* tag = GetCommandTagName(ev->tag);
  bool drop_event = strcmp(ev->event, "sql_drop") == 0;
  bool is_drop = strncmp(tag, "DROP ", 5) == 0;
  if (drop_event != is_drop) PG_RETURN_VOID();  // ALTER ... DROP COLUMN is recorded at its command end
  if (!OidIsValid(get_namespace_oid(vigil::pg::kStateSchema, true))) PG_RETURN_VOID();
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole pinned;
  vigil::pg::BeginAs(&pinned, InvalidOid, nullptr);
  if (!OidIsValid(LogRelation(true))) {
    vigil::pg::EndAs(&pinned);
    SPI_finish();
    PG_RETURN_VOID();
  }
  const char* objects_sql =
      drop_event
          ? "SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('type', object_type, 'schema', schema_name, "
            "'identity', object_identity) ORDER BY object_identity), "
            "(pg_catalog.array_agg(schema_name) FILTER (WHERE object_type OPERATOR(pg_catalog.=) 'table'))[1], "
            "(pg_catalog.array_agg(object_name) FILTER (WHERE object_type OPERATOR(pg_catalog.=) 'table'))[1], "
            "pg_catalog.bool_or(object_type OPERATOR(pg_catalog.=) 'trigger' AND object_name OPERATOR(pg_catalog.~~) 'vigil\\_audit\\_%') "
            "FROM pg_catalog.pg_event_trigger_dropped_objects()"
          : "SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('type', object_type, 'schema', schema_name, "
            "'identity', object_identity) ORDER BY object_identity), "
            "(pg_catalog.array_agg(n.nspname::pg_catalog.text) FILTER (WHERE c.oid IS NOT NULL))[1], "
            "(pg_catalog.array_agg(c.relname::pg_catalog.text) FILTER (WHERE c.oid IS NOT NULL))[1] "
            "FROM pg_catalog.pg_event_trigger_ddl_commands() d "
            "LEFT JOIN pg_catalog.pg_class c ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
            "AND c.oid OPERATOR(pg_catalog.=) d.objid AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}') "
            "LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace";
  // Dropped objects include those a command drops with it (a table's
  // triggers): the entry lists them all; dropping an audit trigger is
  // recorded even when it was the last.
  if (SPI_execute(objects_sql, true, 0) != SPI_OK_SELECT) elog(ERROR, "reading the DDL commands failed");
  bool isnull;
  bool audit_trigger_dropped = false;
  if (drop_event) {
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull);
    audit_trigger_dropped = !isnull && DatumGetBool(d);
  }
  Datum objects = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
  char* objects_text = isnull ? pstrdup("[]") : JsonbToCString(nullptr, &DatumGetJsonbP(objects)->root, -1);
  char* schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
  char* table = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
  bool record = audit_trigger_dropped || AnyTableAudited();
  vigil::pg::EndAs(&pinned);
  if (!record) {
    SPI_finish();
    PG_RETURN_VOID();
  }
  Datum values[kLogColumns];
  bool nulls[kLogColumns];
  FillCommon(values, nulls, nullptr, "DDL", true);
  if (schema != nullptr) values[kTableSchema] = CStringGetTextDatum(schema), nulls[kTableSchema] = false;
  if (table != nullptr) values[kTableName] = CStringGetTextDatum(table), nulls[kTableName] = false;
  StringInfoData detail;
  initStringInfo(&detail);
  appendStringInfoString(&detail, "{\"command\": ");
  escape_json(&detail, tag);
  appendStringInfo(&detail, ", \"objects\": %s}", objects_text);
  values[kDetail] = DirectFunctionCall1(jsonb_in, CStringGetDatum(detail.data));
  nulls[kDetail] = false;
  LogWriter log;
  LogOpenEntries(&log);
  LogAppend(&log, values, nulls);
  LogClose(&log);
  SPI_finish();
  PG_RETURN_VOID();
}

// ---- enabling and disabling ---------------------------------------------------------------

namespace {

// AuditTriggerNames are the triggers vigil_audit_enable may install.
constexpr const char* kAuditTriggers[] = {"vigil_audit_insert", "vigil_audit_update", "vigil_audit_delete",
                                          "vigil_audit_row", "vigil_audit_truncate"};

// DropAuditTriggers drops the table's audit triggers (SPI-connected, as
// the caller, who owns the table); returns whether there were any.
bool DropAuditTriggers(Oid relid, const char* rel) {
  bool any = false;
  for (const char* name : kAuditTriggers) {
    Oid argtypes[2] = {OIDOID, TEXTOID};
    Datum values[2] = {ObjectIdGetDatum(relid), CStringGetTextDatum(name)};
    if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid OPERATOR(pg_catalog.=) $1 "
                              "AND tgname OPERATOR(pg_catalog.=) $2::pg_catalog.name",
                              2, argtypes, values, nullptr, false, 1) != SPI_OK_SELECT)
      elog(ERROR, "reading pg_trigger failed");
    if (SPI_processed == 0) continue;
    any = true;
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "DROP TRIGGER %s ON %s", quote_identifier(name), rel);
    if (SPI_execute(sql.data, false, 0) < 0) elog(ERROR, "dropping an audit trigger failed");
  }
  return any;
}

// CanonicalOptions is the options' canonical form; `stored` adds the
// attribute number of each column they name (the trigger's argument).
char* CanonicalOptions(const char* options, Relation rel, bool stored) {
  TupleDesc desc = RelationGetDescr(rel);
  const char** names = static_cast<const char**>(palloc0(sizeof(char*) * (desc->natts + 1)));
  int* numbers = static_cast<int*>(palloc0(sizeof(int) * (desc->natts + 1)));
  int n = 0;
  for (int i = 0; i < desc->natts; ++i)
    if (!TupleDescAttr(desc, i)->attisdropped) {
      numbers[n] = TupleDescAttr(desc, i)->attnum;
      names[n++] = NameStr(TupleDescAttr(desc, i)->attname);
    }
  std::string_view text(options != nullptr ? options : "");
  const int* attnums = numbers;
  return Run([&] {
    std::vector<std::string> columns(names, names + n);
    audit::Options o = audit::ParseOptions(text, &columns);
    if (stored) {
      for (const std::vector<std::string>* list : {&o.exclude, &o.redact})
        for (const std::string& c : *list)
          for (int i = 0; i < n; ++i)
            if (columns[i] == c) o.attnums.emplace_back(c, attnums[i]);
    }
    return vigil::pg::CopyCString(audit::OptionsJson(o));
  });
}

}  // namespace

// vigil_audit_enable(table, options jsonb DEFAULT '{}') -> {"table", "mode",
// "options"}: (re)installs the table's audit triggers. The owner's only;
// the triggers are created as the caller. Statement triggers with
// transition tables where PostgreSQL allows them, row triggers on
// partitions and inheritance children.
VIGIL_PG_FUNCTION(vigil_audit_enable) {
  Oid relid = vigil::pg::ResolveOwnedTable(fcinfo);
  char* options = PG_ARGISNULL(1) ? nullptr : JsonbToCString(nullptr, &PG_GETARG_JSONB_P(1)->root, -1);
  if (get_rel_namespace(relid) == StateNamespace())
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("vigil's own tables cannot be audited")));
  (void)LogRelation(false);
  Relation rel = table_open(relid, NoLock);
  char* canonical = CanonicalOptions(options, rel, false);
  char* stored = CanonicalOptions(options, rel, true);
  if (strstr(canonical, "\"reads\":true") != nullptr && !vigil::pg::ExecutorHookInstalled())
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("audit option reads needs vigil's executor hook"),
                    errhint("Add vigil to shared_preload_libraries and restart the server.")));
  bool row_mode = rel->rd_rel->relispartition || has_superclass(relid);
  table_close(rel, NoLock);
  const char* ext = quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid)));
  const char* relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
  const char* arg = quote_literal_cstr(stored);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole pinned;
  vigil::pg::BeginAs(&pinned, InvalidOid, nullptr);
  DropAuditTriggers(relid, relname);
  const char* creates[4];
  int ncreates = 0;
  if (row_mode) {
    creates[ncreates++] = psprintf(
        "CREATE TRIGGER vigil_audit_row AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW "
        "EXECUTE FUNCTION %s.vigil_audit_trigger(%s)", relname, ext, arg);
  } else {
    creates[ncreates++] = psprintf(
        "CREATE TRIGGER vigil_audit_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS vigil_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION %s.vigil_audit_trigger(%s)", relname, ext, arg);
    creates[ncreates++] = psprintf(
        "CREATE TRIGGER vigil_audit_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS vigil_old NEW TABLE AS vigil_new "
        "FOR EACH STATEMENT EXECUTE FUNCTION %s.vigil_audit_trigger(%s)", relname, ext, arg);
    creates[ncreates++] = psprintf(
        "CREATE TRIGGER vigil_audit_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS vigil_old "
        "FOR EACH STATEMENT EXECUTE FUNCTION %s.vigil_audit_trigger(%s)", relname, ext, arg);
  }
  creates[ncreates++] = psprintf(
      "CREATE TRIGGER vigil_audit_truncate AFTER TRUNCATE ON %s FOR EACH STATEMENT "
      "EXECUTE FUNCTION %s.vigil_audit_trigger(%s)", relname, ext, arg);
  for (int i = 0; i < ncreates; ++i)
    if (SPI_execute(creates[i], false, 0) < 0) elog(ERROR, "creating an audit trigger failed");
  vigil::pg::EndAs(&pinned);
  SPI_finish();
  StringInfoData out;
  initStringInfo(&out);
  appendStringInfoString(&out, "{\"table\": ");
  escape_json(&out, get_rel_name(relid));
  appendStringInfo(&out, ", \"options\": %s}", canonical);
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

// vigil_audit_disable(table) -> whether it was audited. The owner's only.
VIGIL_PG_FUNCTION(vigil_audit_disable) {
  Oid relid = vigil::pg::ResolveOwnedTable(fcinfo);
  const char* relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), get_rel_name(relid));
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole pinned;
  vigil::pg::BeginAs(&pinned, InvalidOid, nullptr);
  bool existed = DropAuditTriggers(relid, relname);
  vigil::pg::EndAs(&pinned);
  SPI_finish();
  PG_RETURN_BOOL(existed);
}

// ---- the actor ---------------------------------------------------------------------------------

constexpr int kMaxActor = 1024;

// vigil_set_actor(actor) -> actor: the session's vigil.actor (NULL clears
// it). SET LOCAL vigil.actor sets it for one transaction (pooled sessions).
VIGIL_PG_FUNCTION(vigil_set_actor) {
  const char* actor = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
  if (strlen(actor) > kMaxActor)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("actor must be at most %d bytes", kMaxActor)));
  (void)set_config_option("vigil.actor", actor, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET, true, 0, false);
  if (actor[0] == '\0') PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(actor));
}

VIGIL_PG_FUNCTION(vigil_actor) {
  if (actor_setting == nullptr || actor_setting[0] == '\0') PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(actor_setting));
}

// ---- sealing, verifying, purging, erasing -------------------------------------------------------

namespace {

constexpr const char* kEntryColumns =
    "id::pg_catalog.text, pg_catalog.to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "session_role, effective_role, actor, application_name, client_addr, txid::pg_catalog.text, table_schema, "
    "table_name, operation, row_key::pg_catalog.text, old_row::pg_catalog.text, new_row::pg_catalog.text, "
    "old_digest, new_digest, changed_columns::pg_catalog.text, statement, detail::pg_catalog.text";

audit::Entry EntryOf(const vigil::pg::GuardedRow& r) { return audit::EntryFromColumns(r); }

std::string ArrayLiteral(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if (!items[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// Caller is who called, read in phase 1 for the entries vigil itself
// appends (ERASE, PURGE).
struct Caller {
  const char* session_role;
  const char* effective_role;
  const char* actor;
  const char* application_name;
  const char* client_addr;
  const char* txid;
};

class PgAuditStore final : public audit::AuditStore {
 public:
  PgAuditStore(Oid owner, const Caller& caller, bool can_lock) : owner_(owner), caller_(caller), can_lock_(can_lock) {}

  audit::Chain ReadChain(bool lock) override {
    const char* mode = lock ? " FOR UPDATE" : (can_lock_ ? " FOR SHARE" : "");
    const std::string read = std::string("SELECT head_seq::pg_catalog.text, head_hash, from_seq::pg_catalog.text, "
                                         "from_hash FROM vigil_state.vigil_audit_chain WHERE singleton "
                                         "OPERATOR(pg_catalog.=) 1") + mode;
    auto rows = Q(read, {});
    if (rows.empty()) {
      // The row is made by the first seal, not by CREATE EXTENSION: a
      // row the install script made would collide with the dumped one in
      // pg_restore. Missing while sealed entries exist, it was deleted.
      if (Q("SELECT 1 FROM vigil_state.vigil_audit_log WHERE seq IS NOT NULL LIMIT 1", {}).empty()) {
        if (!lock) return audit::Chain{};
        Q("INSERT INTO vigil_state.vigil_audit_chain (singleton, head_seq, from_seq) VALUES (1, 0, 0) "
          "ON CONFLICT (singleton) DO NOTHING", {});
        rows = Q(read, {});
      }
    }
    if (rows.empty())
      throw core::Error(core::ErrorCode::kPrerequisite, "vigil_state.vigil_audit_chain has lost its row",
                        "", "the chain's state was deleted: restore it from a backup");
    audit::Chain c;
    c.head_seq = std::stoll(rows[0][0].value_or("0"));
    c.head_hash = rows[0][1];
    c.from_seq = std::stoll(rows[0][2].value_or("0"));
    c.from_hash = rows[0][3];
    return c;
  }
  void StartSealing() override {
    // One call seals what was committed when it started: writers that
    // keep adding entries cannot keep it running (nor its chain lock).
    //
    // Which entries can still be unsealed: those from low_id on. There is
    // no index of unsealed entries (it cost writers 15 % of a bulk insert);
    // the call reads the log's key from low_id, and moves low_id up when
    // it can prove nothing below can still appear: the horizon (L, X)
    // recorded by an earlier call says every id up to L was drawn by a
    // transaction whose id is below X (writers take their transaction id
    // before drawing one), and once the snapshot's xmin has passed X all
    // of them are over, their entries visible to this call or never to be.
    // The xmin is read before anything else so every read after it sees
    // at least what it proves over; the transactions then in progress are
    // kept (waiting_xids) so the worker knows when a rescan can find more.
    auto chain = Q("WITH s(snap) AS (SELECT pg_catalog.pg_current_snapshot()) "
                   "SELECT c.low_id::pg_catalog.text, c.horizon_id::pg_catalog.text, "
                   "(c.horizon_xid OPERATOR(pg_catalog.<=) pg_catalog.pg_snapshot_xmin(s.snap))::pg_catalog.text, "
                   "c.horizon_xid::pg_catalog.text, c.sealed_cap::pg_catalog.text, c.waiting_xids::pg_catalog.text, "
                   "COALESCE((SELECT pg_catalog.array_agg(x ORDER BY x) FROM pg_catalog.pg_snapshot_xip(s.snap) x), "
                   "'{}')::pg_catalog.text, c.horizon_origin "
                   "FROM vigil_state.vigil_audit_chain c, s WHERE c.singleton OPERATOR(pg_catalog.=) 1", {});
    low_ = std::max<std::int64_t>(1, std::stoll(chain.at(0)[0].value_or("1")));
    stored_low_value_ = low_;
    has_horizon_ = chain[0][1].has_value();
    horizon_id_ = has_horizon_ ? std::stoll(*chain[0][1]) : 0;
    advance_ = has_horizon_ && chain[0][2].value_or("false") == "true";
    sealed_cap_ = std::stoll(chain[0][4].value_or("0"));
    waiting_before_ = chain[0][5].value_or("{}");
    waiting_ = chain[0][6].value_or("{}");
    cap_ = std::stoll(Q("SELECT COALESCE(pg_catalog.max(id), 0)::pg_catalog.text FROM vigil_state.vigil_audit_log",
                        {})[0][0].value_or("0"));
    // The sequence as the watermark needs it: one id at a time, in order
    // (a cached range drawn before a horizon could be used after it). An
    // owner who changed it, or moved it back below the watermark, gets a
    // full rescan and no horizon until it is put back.
    auto seq = Q("SELECT s.last_value::pg_catalog.text, s.is_called::pg_catalog.text, "
                 "(p.seqcache OPERATOR(pg_catalog.=) 1 AND p.seqincrement OPERATOR(pg_catalog.=) 1 AND NOT p.seqcycle)"
                 "::pg_catalog.text FROM vigil_state.vigil_audit_log_id_seq s, pg_catalog.pg_sequence p "
                 "WHERE p.seqrelid OPERATOR(pg_catalog.=) 'vigil_state.vigil_audit_log_id_seq'::pg_catalog.regclass",
                 {});
    last_id_ = std::stoll(seq.at(0)[0].value_or("0")) - (seq[0][1].value_or("true") == "true" ? 0 : 1);
    bool ordered = seq[0][2].value_or("false") == "true";
    // The next transaction id, read after the sequence: above every
    // transaction that drew an id up to last_id_. Independent of the
    // snapshot, so REPEATABLE READ callers record horizons too.
    vigil::pg::SpiOutcome out{};
    char origin[64] = "";
    next_xid_ = vigil::pg::NextXidGuarded(&out, origin, sizeof origin);
    if (!out.ok) vigil::pg::ThrowOutcome(out);
    origin_ = origin;
    // A horizon recorded in another cluster or database (vigil_audit_chain
    // restored from a dump) says nothing about this one's transactions.
    if (has_horizon_ && chain[0][7].value_or("") != origin_) has_horizon_ = advance_ = false;
    if (!ordered || last_id_ + 1 < low_) {
      low_ = 1;
      sealed_cap_ = 0;
      has_horizon_ = advance_ = false;
    }
    renewable_ = ordered;
    after_ = low_ - 1;
  }
  std::vector<audit::Entry> ReadUnsealed(int limit) override {
    // Window by window of ids from the last one read: each query's scan is
    // bounded by its window whatever plan the statistics suggest (a range
    // to the end, with a log analyzed while empty, was read whole for each
    // batch: a seal of 200,000 took 36 s). An empty window jumps to the
    // next id there is (a rolled-back bulk insert leaves a long gap).
    std::vector<audit::Entry> out;
    while (static_cast<int>(out.size()) < limit && after_ < cap_) {
      core::PollCancel();
      std::int64_t hi = std::min(cap_, after_ + limit);
      auto rows = Q(std::string("SELECT ") + kEntryColumns + " FROM vigil_state.vigil_audit_log l WHERE l.seq IS NULL "
                    "AND l.id OPERATOR(pg_catalog.>) $1::pg_catalog.int8 AND l.id OPERATOR(pg_catalog.<=) "
                    "$2::pg_catalog.int8 ORDER BY l.id", {std::to_string(after_), std::to_string(hi)});
      for (const auto& r : rows) out.push_back(EntryOf(r));
      after_ = hi;
      if (rows.empty() && hi < cap_) {
        auto next = Q("SELECT (pg_catalog.min(id) OPERATOR(pg_catalog.-) 1)::pg_catalog.text "
                      "FROM vigil_state.vigil_audit_log WHERE id OPERATOR(pg_catalog.>) $1::pg_catalog.int8",
                      {std::to_string(hi)});
        if (next.at(0)[0]) after_ = std::max<std::int64_t>(hi, std::stoll(*next[0][0]));
        else after_ = cap_;
      }
    }
    return out;
  }
  void FinishSealing() override {
    // Every entry this call could see up to cap_ is sealed now, and every
    // entry up to horizon_id_ is one it could see (see StartSealing).
    std::int64_t low = advance_ ? std::max(low_, horizon_id_ + 1) : low_;
    bool keep = has_horizon_ && !advance_;  // a horizon not reached yet stays
    std::optional<std::string> horizon_id, horizon_xid;
    if (keep) {
      horizon_id = std::to_string(horizon_id_);
    } else if (renewable_ && last_id_ >= low) {
      horizon_id = std::to_string(last_id_);
      horizon_xid = std::to_string(next_xid_);
    }
    std::int64_t sealed_cap = std::max(cap_, low - 1);
    bool changed = low != stored_low_() || sealed_cap != sealed_cap_ || waiting_ != waiting_before_ ||
                   (!keep && (horizon_id.has_value() || has_horizon_));
    if (!changed) return;  // an idle call writes nothing
    Q(std::string("UPDATE vigil_state.vigil_audit_chain SET low_id = $1::pg_catalog.int8, sealed_cap = "
                  "$2::pg_catalog.int8, waiting_xids = $3::pg_catalog.xid8[]") +
          (keep ? "" : ", horizon_id = $4::pg_catalog.int8, horizon_xid = $5::pg_catalog.xid8, horizon_origin = $6") +
          " WHERE singleton OPERATOR(pg_catalog.=) 1",
      keep ? std::vector<std::optional<std::string>>{std::to_string(low), std::to_string(sealed_cap), waiting_}
           : std::vector<std::optional<std::string>>{
                 std::to_string(low), std::to_string(sealed_cap), waiting_, horizon_id, horizon_xid,
                 horizon_id ? std::optional<std::string>(origin_) : std::nullopt});
  }
  void WriteSeals(const std::vector<audit::Seal1>& seals) override {
    std::vector<std::optional<std::string>> ids, seqs, hashes;
    for (const auto& s : seals) {
      ids.push_back(std::to_string(s.id));
      seqs.push_back(std::to_string(s.seq));
      hashes.push_back(s.hash);
    }
    Q("UPDATE vigil_state.vigil_audit_log l SET seq = u.seq, entry_hash = u.h "
      "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), pg_catalog.unnest($2::pg_catalog.int8[]), "
      "pg_catalog.unnest($3::pg_catalog.text[])) AS u(id, seq, h) "
      "WHERE l.id OPERATOR(pg_catalog.=) u.id",
      {ArrayLiteral(ids), ArrayLiteral(seqs), ArrayLiteral(hashes)});
  }
  void WriteHead(std::int64_t seq, const std::string& hash) override {
    Q("UPDATE vigil_state.vigil_audit_chain SET head_seq = $1::pg_catalog.int8, head_hash = $2 "
      "WHERE singleton OPERATOR(pg_catalog.=) 1", {std::to_string(seq), hash});
  }
  std::vector<audit::Sealed> ReadSealed(std::int64_t after_seq, int limit) override {
    auto rows = Q(std::string("SELECT ") + kEntryColumns + ", seq::pg_catalog.text, entry_hash "
                  "FROM vigil_state.vigil_audit_log l WHERE l.seq OPERATOR(pg_catalog.>) $1::pg_catalog.int8 "
                  "ORDER BY l.seq LIMIT " + std::to_string(limit), {std::to_string(after_seq)});
    std::vector<audit::Sealed> out;
    for (const auto& r : rows) out.push_back({std::stoll(r[19].value_or("0")), EntryOf(r), r[20].value_or("")});
    return out;
  }
  std::int64_t CountUnsealed() override {
    // Every unsealed entry, below the watermark too: verify reads the
    // whole chain anyway, and an entry stranded below it (a sequence an
    // owner changed) must show.
    // Staged entries too (not written into the log yet).
    return std::stoll(Q("SELECT ((SELECT pg_catalog.count(*) FROM vigil_state.vigil_audit_log WHERE seq IS NULL) "
                        "OPERATOR(pg_catalog.+) COALESCE((SELECT pg_catalog.sum(n) FROM vigil_state.vigil_audit_batch), "
                        "0))::pg_catalog.text", {})[0][0].value_or("0"));
  }
  std::int64_t LastSeqBefore(std::string_view before) override {
    return std::stoll(
        Q("SELECT COALESCE((SELECT pg_catalog.min(seq) FROM vigil_state.vigil_audit_log "
          "WHERE seq IS NOT NULL AND at OPERATOR(pg_catalog.>=) $1::pg_catalog.timestamptz) OPERATOR(pg_catalog.-) 1, "
          "(SELECT pg_catalog.max(seq) FROM vigil_state.vigil_audit_log), 0)::pg_catalog.text",
          {std::string(before)})[0][0].value_or("0"));
  }
  std::int64_t DeleteThrough(std::int64_t through) override {
    return std::stoll(Q("WITH d AS (DELETE FROM vigil_state.vigil_audit_log WHERE seq OPERATOR(pg_catalog.<=) "
                        "$1::pg_catalog.int8 RETURNING 1) SELECT pg_catalog.count(*)::pg_catalog.text FROM d",
                        {std::to_string(through)})[0][0].value_or("0"));
  }
  void WriteCheckpoint(std::int64_t seq, const std::string& hash) override {
    Q("UPDATE vigil_state.vigil_audit_chain SET from_seq = $1::pg_catalog.int8, from_hash = $2 "
      "WHERE singleton OPERATOR(pg_catalog.=) 1", {std::to_string(seq), hash});
  }
  std::vector<audit::Entry> ReadKeyed(std::string_view schema, std::string_view table, std::int64_t after_id,
                                      int limit) override {
    auto rows = Q(std::string("SELECT ") + kEntryColumns + " FROM vigil_state.vigil_audit_log l "
                  "WHERE table_schema OPERATOR(pg_catalog.=) $1 AND table_name OPERATOR(pg_catalog.=) $2 "
                  "AND row_key IS NOT NULL AND l.id OPERATOR(pg_catalog.>) $3::pg_catalog.int8 ORDER BY l.id LIMIT " +
                  std::to_string(limit), {std::string(schema), std::string(table), std::to_string(after_id)});
    std::vector<audit::Entry> out;
    for (const auto& r : rows) out.push_back(EntryOf(r));
    return out;
  }
  void WriteErasures(const std::vector<audit::Erasure>& erasures) override {
    std::vector<std::optional<std::string>> ids, olds, news;
    for (const auto& e : erasures) {
      ids.push_back(std::to_string(e.id));
      olds.push_back(e.old_digest);
      news.push_back(e.new_digest);
    }
    Q("UPDATE vigil_state.vigil_audit_log l SET old_digest = u.od, new_digest = u.nd, old_row = NULL, new_row = NULL "
      "FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), pg_catalog.unnest($2::pg_catalog.text[]), "
      "pg_catalog.unnest($3::pg_catalog.text[])) AS u(id, od, nd) "
      "WHERE l.id OPERATOR(pg_catalog.=) u.id",
      {ArrayLiteral(ids), ArrayLiteral(olds), ArrayLiteral(news)});
  }
  void Append(const audit::Entry& e) override {
    auto opt = [](const char* s) { return s != nullptr ? std::optional<std::string>(s) : std::nullopt; };
    Q("INSERT INTO vigil_state.vigil_audit_log (at, session_role, effective_role, actor, application_name, "
      "client_addr, txid, table_schema, table_name, operation, row_key, detail) VALUES "
      "(pg_catalog.statement_timestamp(), $1, $2, $3, $4, $5, $6::pg_catalog.int8, $7, $8, $9, $10::pg_catalog.jsonb, "
      "$11::pg_catalog.jsonb)",
      {opt(caller_.session_role), opt(caller_.effective_role), opt(caller_.actor), opt(caller_.application_name),
       opt(caller_.client_addr), opt(caller_.txid), e.table_schema, e.table_name, e.operation, e.row_key, e.detail});
  }

 private:
  std::vector<vigil::pg::GuardedRow> Q(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    return vigil::pg::GuardedQuery(sql, params, owner_);
  }
  Oid owner_;
  Caller caller_;
  bool can_lock_;
  std::int64_t cap_ = 0, after_ = 0;  // this sealing call's bounds
  // The watermark (StartSealing): every entry below low_ is sealed or gone.
  std::int64_t low_ = 1, stored_low_value_ = 1, horizon_id_ = 0, last_id_ = 0, sealed_cap_ = 0;
  std::uint64_t next_xid_ = 0;
  bool has_horizon_ = false, advance_ = false, renewable_ = false;
  std::string waiting_, waiting_before_;  // in-progress xids at this call's start, and at the last call's
  std::string origin_;                    // "<system identifier>:<database oid>" (NextXidGuarded)
  std::int64_t stored_low_() const { return stored_low_value_; }
};

// AuditCall gathers what every sealing, verifying, purging and erasing
// call needs in phase 1: the caller's right, vigil_state's owner, who
// calls, and the key.
struct AuditCall {
  MemoryContext cxt;  // the caller's, where the result is copied (SPI's goes at SPI_finish)
  Oid owner;
  Caller caller;
  const char* key;
  int key_len;
  bool can_lock;
};

void BeginAuditCall(AuditCall* c, const char* role, const char* action, bool seals = true) {
  c->cxt = CurrentMemoryContext;
  vigil::pg::RequireRole(role, action);
  vigil::pg::State state = vigil::pg::CurrentState();
  (void)LogRelation(false);
  c->owner = state.owner;
  c->caller.session_role = GetUserNameFromId(GetSessionUserId(), true);
  c->caller.effective_role = GetUserNameFromId(GetUserId(), true);
  c->caller.actor = actor_setting != nullptr && actor_setting[0] != '\0' ? pstrdup(actor_setting) : nullptr;
  c->caller.application_name =
      application_name != nullptr && application_name[0] != '\0' ? pstrdup(application_name) : nullptr;
  c->caller.client_addr = ClientAddr();
  c->can_lock = !RecoveryInProgress() && !XactReadOnly;
  c->caller.txid = c->can_lock ? psprintf(UINT64_FORMAT, U64FromFullTransactionId(GetTopFullTransactionId())) : nullptr;
  c->key = AuditKey(&c->key_len);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  // A call that seals first writes the staged entries into the log.
  if (seals && c->can_lock) ExpandStaged(c->owner);
}

template <typename Body>
char* RunAudit(AuditCall* c, Body&& body) {
  MemoryContext caller = c->cxt;
  char* out = Run([&] {
    PgAuditStore store(c->owner, c->caller, c->can_lock);
    std::optional<std::string_view> key;
    if (c->key != nullptr) key = std::string_view(c->key, c->key_len);
    std::string result = body(store, key);
    // In the caller's context: SPI_finish frees SPI's, where Run is.
    auto* copy = static_cast<char*>(vigil::pg::AllocNoThrowIn(caller, result.size() + 1));
    memcpy(copy, result.c_str(), result.size() + 1);
    return copy;
  });
  SPI_finish();
  return out;
}

Datum JsonbResult(const char* text) { return DirectFunctionCall1(jsonb_in, CStringGetDatum(text)); }

}  // namespace

// vigil_audit_seal() -> entries sealed.
VIGIL_PG_FUNCTION(vigil_audit_seal) {
  AuditCall c;
  BeginAuditCall(&c, "vigil_auditor", "seal the audit chain");
  char* n = RunAudit(&c, [](PgAuditStore& s, std::optional<std::string_view> key) {
    return std::to_string(audit::SealPending(s, key));
  });
  PG_RETURN_INT64(strtoll(n, nullptr, 10));
}

// vigil_audit_head() -> the newest link, after sealing what is pending.
VIGIL_PG_FUNCTION(vigil_audit_head) {
  AuditCall c;
  BeginAuditCall(&c, "vigil_auditor", "read the audit chain's head");
  if (!c.can_lock)
    ereport(ERROR, (errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
                    errmsg("vigil_audit_head() seals pending entries and cannot run in a read-only transaction")));
  char* head = RunAudit(&c, [](PgAuditStore& s, std::optional<std::string_view> key) {
    audit::SealPending(s, key);
    audit::Chain chain = s.ReadChain(false);
    if (chain.head_seq >= chain.from_seq && chain.head_hash) return *chain.head_hash;
    return chain.from_hash.value_or("");
  });
  if (head[0] == '\0') PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(head));
}

// vigil_audit_verify(expected_head DEFAULT NULL) -> report.
VIGIL_PG_FUNCTION(vigil_audit_verify) {
  const char* expected = PG_ARGISNULL(0) ? nullptr : text_to_cstring(PG_GETARG_TEXT_PP(0));
  AuditCall c;
  BeginAuditCall(&c, "vigil_auditor", "verify the audit chain", false);
  char* report = RunAudit(&c, [&](PgAuditStore& s, std::optional<std::string_view> key) {
    return audit::Verify(s, key, expected != nullptr ? std::optional<std::string>(expected) : std::nullopt);
  });
  PG_RETURN_DATUM(JsonbResult(report));
}

// vigil_audit_purge(before timestamptz) -> {"purged", "checkpoint_seq"}.
VIGIL_PG_FUNCTION(vigil_audit_purge) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("before must not be NULL")));
  TimestampTz before = PG_GETARG_TIMESTAMPTZ(0);
  if (TIMESTAMP_NOT_FINITE(before))
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("before must be a finite time")));
  const char* before_text = DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(before)));
  AuditCall c;
  BeginAuditCall(&c, "vigil_audit_admin", "purge the audit log");
  char* report = RunAudit(&c, [&](PgAuditStore& s, std::optional<std::string_view> key) {
    return audit::Purge(s, before_text, key);
  });
  PG_RETURN_DATUM(JsonbResult(report));
}

// vigil_audit_erase(table, key jsonb) -> {"erased"}. The table is named as
// the log names it: schema-qualified, or resolved through the caller's
// search_path while it exists.
VIGIL_PG_FUNCTION(vigil_audit_erase) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("table must not be NULL")));
  if (PG_ARGISNULL(1)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("key must not be NULL")));
  char* name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char* key_json = JsonbToCString(nullptr, &PG_GETARG_JSONB_P(1)->root, -1);
  List* parts = stringToQualifiedNameList(name);
  const char* schema = nullptr;
  const char* table = nullptr;
  if (list_length(parts) == 2) {
    schema = strVal(linitial(parts));
    table = strVal(lsecond(parts));
  } else if (list_length(parts) == 1) {
    Oid relid = RangeVarGetRelid(makeRangeVar(nullptr, name, -1), NoLock, true);
    if (!OidIsValid(relid))
      ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table \"%s\" does not exist", vigil::pg::ClipName(name)),
                      errhint("Name a dropped table with its schema, as the log does.")));
    schema = get_namespace_name(get_rel_namespace(relid));
    table = get_rel_name(relid);
  } else {
    ereport(ERROR, (errcode(ERRCODE_INVALID_NAME), errmsg("improper table name \"%s\"", vigil::pg::ClipName(name))));
  }
  AuditCall c;
  BeginAuditCall(&c, "vigil_audit_admin", "erase audit entries");
  char* report = RunAudit(&c, [&](PgAuditStore& s, std::optional<std::string_view> key) {
    return audit::Erase(s, schema, table, key_json, key);
  });
  PG_RETURN_DATUM(JsonbResult(report));
}

// vigil_audit_digest(entry jsonb) -> the entry digest (hex).
VIGIL_PG_FUNCTION(vigil_audit_digest) {
  char* entry = JsonbToCString(nullptr, &PG_GETARG_JSONB_P(0)->root, -1);
  std::string_view text(entry);
  char* digest = Run([&] { return vigil::pg::CopyCString(audit::EntryDigestHex(text)); });
  PG_RETURN_TEXT_P(cstring_to_text(digest));
}

// vigil_audit_statement() -> the statement in progress, normalised.
VIGIL_PG_FUNCTION(vigil_audit_statement) {
  char* statement = NormalizedStatement();
  if (statement == nullptr) PG_RETURN_NULL();
  PG_RETURN_TEXT_P(cstring_to_text(statement));
}

// SQLite's connection-level functions: PostgreSQL keeps the key out of SQL,
// and computes links and redactions only inside its own triggers.
VIGIL_PG_FUNCTION(vigil_audit_key) {
  ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                  errmsg("vigil_audit_key() is SQLite's: PostgreSQL reads the audit key from the server"),
                  errhint("Put the key in vigil_audit.key in the data directory (mode 0600) or set vigil.audit_key "
                          "in postgresql.conf (docs/audit.md).")));
  PG_RETURN_NULL();
}

VIGIL_PG_FUNCTION(vigil_audit_redact) {
  ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                  errmsg("vigil_audit_redact() is what SQLite's audit triggers call"),
                  errhint("PostgreSQL's audit triggers redact in C; the server's key never serves SQL.")));
  PG_RETURN_NULL();
}


// SealFromWorker is the background worker's task (bgworker_pg.cc): seal
// what is pending in the worker's database, if vigil's audit log is there
// and holds unsealed entries (an idle round writes nothing).
void vigil::pg::SealFromWorker() {
  if (!OidIsValid(VigilsLog()) || RecoveryInProgress()) return;
  vigil::pg::State state = vigil::pg::CurrentState();
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole pinned;  // as vigil_state's owner, restricted: never as the worker's superuser
  vigil::pg::BeginAs(&pinned, state.owner, nullptr);
  // Pending: the watermark can move (its horizon is reached), a
  // transaction in progress at the last seal has ended (its entries may sit
  // below what that seal read), or an unsealed entry lies above what it
  // read. Nothing else can have changed, so an idle round reads one row
  // and a short range of the log's key (PgAuditStore::StartSealing).
  if (SPI_execute("SELECT sealed_cap, horizon_xid OPERATOR(pg_catalog.<=) "
                  "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()) OR EXISTS (SELECT 1 FROM "
                  "pg_catalog.unnest(waiting_xids) x WHERE pg_catalog.pg_xact_status(x) IS DISTINCT FROM "
                  "'in progress') FROM vigil_state.vigil_audit_chain WHERE singleton OPERATOR(pg_catalog.=) 1",
                  true, 1) != SPI_OK_SELECT)
    elog(ERROR, "reading the audit chain failed");
  bool isnull = false;
  int64 sealed_cap = 0;  // no row yet: nothing was sealed
  bool moved = false;
  if (SPI_processed == 1) {
    sealed_cap = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    moved = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) && !isnull;
  }
  bool pending = moved;
  if (!pending) {
    char query[160];
    snprintf(query, sizeof query,
             "SELECT 1 FROM vigil_state.vigil_audit_log WHERE seq IS NULL AND id OPERATOR(pg_catalog.>) " INT64_FORMAT
             "::pg_catalog.int8 LIMIT 1", sealed_cap);
    if (SPI_execute(query, true, 1) != SPI_OK_SELECT) elog(ERROR, "reading the audit log failed");
    pending = SPI_processed > 0;
  }
  if (!pending && OidIsValid(VigilsBatch())) {
    if (SPI_execute("SELECT 1 FROM vigil_state.vigil_audit_batch LIMIT 1", true, 1) != SPI_OK_SELECT)
      elog(ERROR, "reading the staged audit entries failed");
    pending = SPI_processed > 0;
  }
  vigil::pg::EndAs(&pinned);
  SPI_finish();
  if (!pending) return;
  AuditCall c;
  BeginAuditCall(&c, "vigil_auditor", "seal the audit chain");
  (void)RunAudit(&c, [](PgAuditStore& s, std::optional<std::string_view> key) {
    return std::to_string(audit::SealPending(s, key));
  });
}

// RecordUtility writes the utility hook's entry: a command event triggers
// do not see (roles, databases, ALTER SYSTEM, session_replication_role),
// with its normalised text, while a table of this database is audited.
void vigil::pg::RecordUtility(const char* tag, const char* statement) {
  // Nothing can be written in a read-only transaction or on a standby; the
  // user's command must not fail for the audit's sake there.
  if (XactReadOnly || RecoveryInProgress() || !OidIsValid(VigilsLog())) return;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole pinned;
  vigil::pg::BeginAs(&pinned, InvalidOid, nullptr);
  bool audited = AnyTableAudited();
  vigil::pg::EndAs(&pinned);
  SPI_finish();
  if (!audited) return;
  Datum values[kLogColumns];
  bool nulls[kLogColumns];
  FillCommon(values, nulls, nullptr, "DDL", false);
  values[kStatement] = CStringGetTextDatum(StatementForLog(statement));
  nulls[kStatement] = false;
  StringInfoData detail;
  initStringInfo(&detail);
  appendStringInfoString(&detail, "{\"command\": ");
  escape_json(&detail, tag);
  appendStringInfoString(&detail, ", \"objects\": []}");
  values[kDetail] = DirectFunctionCall1(jsonb_in, CStringGetDatum(detail.data));
  nulls[kDetail] = false;
  LogWriter log;
  LogOpenEntries(&log);
  LogAppend(&log, values, nulls);
  LogClose(&log);
}

// RecordRead writes a SELECT entry for a relation one of whose audit
// triggers has {"reads": true}: who, when, the columns read (in detail)
// and the normalised statement (the executor hook, when preloaded).
void vigil::pg::RecordRead(Relation rel, Bitmapset* columns, const char* source, int location, int length) {
  const char* options = nullptr;
  for (int i = 0; i < rel->trigdesc->numtriggers; ++i) {
    const Trigger* t = &rel->trigdesc->triggers[i];
    if (t->tgnargs < 1 || strncmp(t->tgname, "vigil_audit_", 12) != 0) continue;
    ParsedOptions* o = CachedOptions(t->tgoid, t->tgargs[0]);
    if (o->reads) {
      options = t->tgargs[0];
      break;
    }
  }
  if (options == nullptr || !OidIsValid(VigilsLog())) return;
  Datum values[kLogColumns];
  bool nulls[kLogColumns];
  FillCommon(values, nulls, rel, "SELECT", false);
  if (source != nullptr) {
    int start = location > 0 ? location : 0;
    int len = length > 0 ? length : static_cast<int>(strlen(source + start));
    values[kStatement] = CStringGetTextDatum(StatementForLog(pnstrdup(source + start, len)));
    nulls[kStatement] = false;
  }
  // The columns read, by name (selectedCols holds attnums offset by
  // FirstLowInvalidHeapAttributeNumber; 0 there is the whole row).
  TupleDesc desc = RelationGetDescr(rel);
  StringInfoData detail;
  initStringInfo(&detail);
  appendStringInfoString(&detail, "{\"columns\": [");
  bool first = true;
  int member = -1;
  while ((member = bms_next_member(columns, member)) >= 0) {
    int attnum = member + FirstLowInvalidHeapAttributeNumber;
    if (attnum == 0) {
      for (int i = 0; i < desc->natts; ++i) {
        if (TupleDescAttr(desc, i)->attisdropped) continue;
        if (!first) appendStringInfoString(&detail, ", ");
        escape_json(&detail, NameStr(TupleDescAttr(desc, i)->attname));
        first = false;
      }
      continue;
    }
    if (attnum < 1 || attnum > desc->natts || TupleDescAttr(desc, attnum - 1)->attisdropped) continue;
    if (!first) appendStringInfoString(&detail, ", ");
    escape_json(&detail, NameStr(TupleDescAttr(desc, attnum - 1)->attname));
    first = false;
  }
  appendStringInfoString(&detail, "]}");
  values[kDetail] = DirectFunctionCall1(jsonb_in, CStringGetDatum(detail.data));
  nulls[kDetail] = false;
  LogWriter log;
  LogOpenEntries(&log);
  LogAppend(&log, values, nulls);
  LogClose(&log);
}
