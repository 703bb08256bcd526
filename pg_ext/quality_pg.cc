// quality_pg.cc — data quality (SPEC §3) and vigil_config for PostgreSQL.
//
// Phases as in boundary.h: the catalog and SPI gather the table's keys,
// foreign keys and rules; the core writes the queries; SPI runs them; the
// core computes the report; SPI records history and alerts. The
// QualityCheck that lives across those phases is owned by the function's
// memory context (OwnedByContext).
#include "boundary.h"
#include "module_pg.h"
#include "spi_guard.h"
#include "json_schema_pg.h"

extern "C" {
#include "access/table.h"
#include "miscadmin.h"
#include "utils/rel.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

#include <nlohmann/json.hpp>
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "base/config.h"
#include "quality/quality.h"

namespace core = vigil::core;
using vigil::pg::Run;

namespace {

// SpiRows runs `sql` through the guarded runner (spi_guard.h) and raises a
// failure as the PostgreSQL error it was. Engine phase only.
// search_path: pinned by default; the scans pass kCallersPath to keep the
// table's path that CheckTable set.
vigil::pg::SpiOutcome SpiRows(const char* sql, int nargs = 0, const char* const* args = nullptr,
                              const char* search_path = vigil::pg::kPinnedPath) {
  vigil::pg::SpiOutcome out;
  vigil::pg::SpiRunGuarded(sql, nargs, args, &out, InvalidOid, search_path);
  if (!out.ok) ereport(ERROR, (errcode(out.sqlerrcode), errmsg("%s", out.error)));
  return out;
}

// SpiText returns the first column of the first row (NULL when none).
char* SpiText(const char* sql, int nargs, const char* a1 = nullptr) {
  const char* args[1] = {a1};
  vigil::pg::SpiOutcome out = SpiRows(sql, nargs, args);
  return out.nrows > 0 ? out.values[0][0] : nullptr;
}

// Described is what the catalog says about one table, as text for the core.
struct Described {
  char* name;
  char* qualified;
  char* columns;    // JSON [[name, type], ...]
  char* keys;       // JSON: {"pk": [...], "unique": [[...]], "fks": [...]}
  char* rules;      // JSON [[column, rule, params], ...]
};

void Describe(Oid relid, Described* d) {
  char oid_text[16];
  snprintf(oid_text, sizeof(oid_text), "%u", relid);
  d->name = get_rel_name(relid);
  d->qualified = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), d->name);
  d->columns = SpiText(
      "SELECT coalesce(json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum), '[]')"
      " FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped",
      1, oid_text);
  d->keys = SpiText(
      "SELECT json_build_object("
      " 'pk', (SELECT coalesce(json_agg(a.attname ORDER BY k.n), '[]') FROM pg_index i CROSS JOIN LATERAL"
      "        unnest(i.indkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
      "        WHERE i.indrelid = $1::oid AND i.indisprimary),"
      " 'unique', (SELECT coalesce(json_agg(cols), '[]') FROM (SELECT json_agg(a.attname ORDER BY k.n) AS cols FROM pg_index i CROSS JOIN LATERAL"
      "        unnest(i.indkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
      "        WHERE i.indrelid = $1::oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL"
      "        GROUP BY i.indexrelid ORDER BY i.indexrelid) s),"
      " 'fks', (SELECT coalesce(json_agg(json_build_object("
      "        'columns', (SELECT json_agg(a.attname ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(attnum, n)"
      "                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum),"
      "        'parent_name', (SELECT relname FROM pg_class WHERE oid = c.confrelid),"
      "        'parent_sql', c.confrelid::regclass::text,"
      "        'parent_columns', (SELECT json_agg(a.attname ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(attnum, n)"
      "                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum)) ORDER BY c.conname), '[]')"
      "        FROM pg_constraint c WHERE c.conrelid = $1::oid AND c.contype = 'f'))",
      1, oid_text);
  // The table's rules, read from vigil's state as its owner (before 0.4.0:
  // keyed by the plain name, read with the caller's rights).
  vigil::pg::State state = vigil::pg::CurrentState();
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql,
                   state.legacy
                       ? "SELECT coalesce(json_agg(json_build_array(column_name, rule, params::text) ORDER BY id), '[]')"
                         " FROM %s.vigil_rules WHERE table_name = $2 AND $1 IS NOT NULL"
                       : "SELECT coalesce(json_agg(json_build_array(column_name, rule, params::text) ORDER BY id), '[]')"
                         " FROM %s.vigil_rules WHERE table_schema = $1 AND table_name = $2"
                         // A references rule whose target is gone (dropped while
                         // event triggers did not fire) is a finding, not a scan.
                         " AND (rule <> 'references' OR pg_catalog.to_regclass(pg_catalog.format('%%I.%%I',"
                         "      coalesce(params->>'schema', table_schema), params->>'table')) IS NOT NULL)",
                   state.schema);
  const char* args[2] = {get_namespace_name(get_rel_namespace(relid)), d->name};
  vigil::pg::SpiOutcome out;
  vigil::pg::SpiRunGuarded(sql.data, 2, args, &out, state.owner);
  if (!out.ok) ereport(ERROR, (errcode(out.sqlerrcode), errmsg("%s", out.error)));
  d->rules = out.nrows > 0 ? out.values[0][0] : pstrdup("[]");
}

core::QualityTable BuildTable(const Described& d, const std::string& prefix) {
  using nlohmann::json;
  core::QualityTable q;
  q.info.name = d.name;
  q.table_sql = d.qualified;
  q.function_prefix = prefix;
  for (const json& c : json::parse(d.columns)) {
    q.info.columns.push_back(c[0].get<std::string>());
    q.info.types.push_back(c[1].get<std::string>());
  }
  json keys = json::parse(d.keys);
  for (const json& c : keys["pk"]) q.primary_key.push_back(c.get<std::string>());
  for (const json& u : keys["unique"]) q.declared_unique.push_back(u.get<std::vector<std::string>>());
  for (const json& f : keys["fks"]) {
    core::Relationship rel;
    rel.columns = f["columns"].get<std::vector<std::string>>();
    rel.parent_name = f["parent_name"].get<std::string>();
    rel.parent_sql = f["parent_sql"].get<std::string>();
    rel.parent_columns = f["parent_columns"].get<std::vector<std::string>>();
    rel.source = "foreign key";
    q.foreign_keys.push_back(rel);
  }
  for (const json& r : json::parse(d.rules)) {
    core::StoredRule s;
    if (!r[0].is_null()) s.column = r[0].get<std::string>();
    s.rule = r[1].get<std::string>();
    if (!r[2].is_null()) s.params = r[2].get<std::string>();
    q.rules.push_back(s);
  }
  return q;
}

// MissingTables (inside SPI) lists the tables that rules name but that do
// not exist. The vigil_table_dropped event trigger removes such rules, but
// event triggers do not fire everywhere (session_replication_role =
// replica, for one), so a report looks rather than assumes.
std::vector<core::MissingTable>* MissingTables() {
  std::vector<core::MissingTable>* out = nullptr;
  MemoryContext cxt = CurrentMemoryContext;
  Run([&] { out = vigil::pg::OwnedByContext<std::vector<core::MissingTable>>(cxt); });
  vigil::pg::State state = vigil::pg::CurrentState();
  if (state.legacy) return out;  // before 0.4.0 rules name no schema
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql,
                   "SELECT t, count(*) FROM ("
                   " SELECT table_name AS t FROM %s.vigil_rules"
                   "  WHERE pg_catalog.to_regclass(pg_catalog.format('%%I.%%I', table_schema, table_name)) IS NULL"
                   " UNION ALL"
                   " SELECT params->>'table' FROM %s.vigil_rules WHERE rule = 'references'"
                   "  AND pg_catalog.to_regclass(pg_catalog.format('%%I.%%I', table_schema, table_name)) IS NOT NULL"
                   "  AND pg_catalog.to_regclass(pg_catalog.format('%%I.%%I',"
                   "      coalesce(params->>'schema', table_schema), params->>'table')) IS NULL"
                   ") s GROUP BY t ORDER BY t",
                   state.schema, state.schema);
  vigil::pg::SpiOutcome res;
  vigil::pg::SpiRunGuarded(sql.data, 0, nullptr, &res, state.owner);
  if (!res.ok) ereport(ERROR, (errcode(res.sqlerrcode), errmsg("%s", res.error)));
  Run([&] {
    for (int r = 0; r < res.nrows; ++r)
      out->push_back({res.values[r][0] ? res.values[r][0] : "", std::strtoll(res.values[r][1], nullptr, 10)});
  });
  return out;
}

// CheckOptions (inside SPI) parses one table's options against its
// columns and types, as CheckTable will, so that a report refuses bad
// options before it scans any table.
void CheckOptions(Oid relid, const char* options) {
  Described d;
  Describe(relid, &d);
  Run([&] {
    core::QualityTable table = BuildTable(d, "");
    core::ParseQualityOptions(options, table.info);
  });
}

struct QualityState {
  std::optional<core::QualityCheck> check;
  std::vector<std::string> samples;
  std::string report;
  double score = 0;
  bool passed = false;
};

// CheckTable (inside SPI) checks one table and records history and alerts;
// returns the report, palloc'd, and sets *score.
char* CheckTable(Oid relid, Oid ext_namespace, const char* options, const char* checked_at, double* score,
                 bool* passed) {
  MemoryContext owner = CurrentMemoryContext;
  Described d;
  Describe(relid, &d);
  // (Before 0.4.0 there is no vigil_state: the extension's own functions.)
  const char* prefix =
      vigil::pg::CurrentState().legacy ? quote_identifier(get_namespace_name(ext_namespace)) : vigil::pg::kStateSchema;
  QualityState* state = nullptr;
  // json_schema rules compile with the registry (read only for them).
  vigil::pg::RegistrySnapshot snapshot;
  if (d.rules != nullptr && strstr(d.rules, "\"json_schema\"") != nullptr) vigil::pg::LoadRegistry(&snapshot);
  Run([&] {
    state = vigil::pg::OwnedByContext<QualityState>(owner);
    // vigil's functions that scans call are their twins in vigil_state,
    // where no other role may create an overload that outmatches them.
    core::QualityTable table = BuildTable(d, std::string(prefix) + ".");
    core::QualityOptions o = core::ParseQualityOptions(options, table.info);
    vigil::pg::SnapshotRegistry registry(snapshot);
    core::JsonSchemaRegistryScope scope(&registry);
    state->check.emplace(std::move(table), std::move(o), core::Dialect::kPostgres);
  });
  // The scans run as the table's owner, as VACUUM and ANALYZE run: a
  // table's casts, output functions, policies and the functions its rules
  // call are its owner's code, which must never run with the caller's
  // (possibly superuser) rights. SECURITY_RESTRICTED_OPERATION keeps that
  // code from changing the session, and search_path is pinned to
  // pg_catalog, the table's own schema (where its rules' unqualified names
  // live) and pg_temp last, so the caller's path cannot redirect the
  // owner's code either. An error restores both with the transaction.
  Oid table_owner;
  {
    Relation rel = table_open(relid, AccessShareLock);
    table_owner = rel->rd_rel->relowner;
    table_close(rel, AccessShareLock);
  }
  vigil::pg::AsRole as;
  vigil::pg::BeginAs(&as, table_owner, vigil::pg::TablePath(get_rel_namespace(relid)));
  const std::vector<std::string>& stage1 = state->check->Stage1();
  for (std::size_t i = 0; i < stage1.size(); ++i) {
    vigil::pg::SpiOutcome out = SpiRows(stage1[i].c_str(), 0, nullptr, vigil::pg::kCallersPath);
    Run([&] {
      std::vector<std::optional<std::string>> row;
      if (out.nrows > 0)
        for (int c = 0; c < out.ncols; ++c)
          row.push_back(out.values[0][c] ? std::optional<std::string>(out.values[0][c]) : std::nullopt);
      state->check->SetStage1(i, row);
    });
  }
  Run([&] { state->samples = state->check->SampleQueries(); });
  for (std::size_t i = 0; i < state->samples.size(); ++i) {
    vigil::pg::SpiOutcome out = SpiRows(state->samples[i].c_str(), 0, nullptr, vigil::pg::kCallersPath);
    Run([&] {
      std::vector<std::string> keys;
      for (int r = 0; r < out.nrows; ++r) keys.emplace_back(out.values[r][0] ? out.values[r][0] : "null");
      state->check->SetSamples(i, keys);
    });
  }
  vigil::pg::EndAs(&as);
  char* report = nullptr;
  Run([&] {
    state->report = state->check->ReportJson(checked_at);
    state->score = state->check->Score();
    state->passed = state->check->Passed();
    report = vigil::pg::CopyCString(state->report);
  });
  *score = state->score;
  *passed = state->passed;
  return report;
}

// Record appends history and, when the score crosses the threshold, an alert,
// as vigil_state's owner: the caller needs no privilege on vigil's state.
// NOTIFY vigil_alerts carries only the alert's id and kind: anyone may
// LISTEN (or NOTIFY) in PostgreSQL, so the alert itself stays a row that
// only vigil_reader and pg_monitor read, and a forged notification names no
// alert that is not there.
void Record(const char* table, double score, bool passed, const char* report, const char* at) {
  vigil::pg::State state = vigil::pg::CurrentState();
  const char* ext = state.schema;
  vigil::pg::AsRole as;
  if (!state.legacy) vigil::pg::BeginAs(&as, state.owner, nullptr);
  int threshold = vigil::pg::QualityAlertScore();
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql,
                   "WITH prev AS (SELECT below_threshold FROM %s.vigil_quality_history"
                   " WHERE table_name IS NOT DISTINCT FROM $1 ORDER BY id DESC LIMIT 1),"
                   " ins AS (INSERT INTO %s.vigil_quality_history (at, table_name, score, passed, below_threshold, report)"
                   " VALUES ($2::timestamptz, $1, $3::float8, $4::boolean, $3::float8 < $6::float8, $5::jsonb))"
                   " SELECT coalesce((SELECT below_threshold FROM prev), false)",
                   ext, ext);
  char score_text[32];
  snprintf(score_text, sizeof(score_text), "%.2f", score);
  char threshold_arg[16];
  snprintf(threshold_arg, sizeof(threshold_arg), "%d", threshold);
  Oid types[6] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
  Datum values[6] = {table ? CStringGetTextDatum(table) : (Datum)0, CStringGetTextDatum(at),
                     CStringGetTextDatum(score_text), CStringGetTextDatum(passed ? "true" : "false"),
                     CStringGetTextDatum(report), CStringGetTextDatum(threshold_arg)};
  char nulls[6] = {table ? ' ' : 'n', ' ', ' ', ' ', ' ', ' '};
  if (SPI_execute_with_args(sql.data, 6, types, values, nulls, false, 0) < 0) elog(ERROR, "recording quality history failed");
  // The state is "below the threshold in force at that check"; an alert is
  // raised when it changes (so raising the threshold can raise an alert).
  bool was_below = false;
  if (SPI_processed > 0) {
    char* v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
    was_below = v && v[0] == 't';
  }
  // What to raise is the core's decision (the same on SQLite).
  struct Decided {
    char* severity;
    char* message;
    char* details;
  };
  Decided* alert_row = Run([&]() -> Decided* {
    std::optional<std::string> t;
    if (table) t = table;
    auto alert = core::DecideQualityAlert(t, score, threshold, was_below);
    if (!alert) return nullptr;
    auto* d = static_cast<Decided*>(vigil::pg::AllocNoThrow(sizeof(Decided)));
    d->severity = vigil::pg::CopyCString(alert->severity);
    d->message = vigil::pg::CopyCString(alert->message);
    d->details = vigil::pg::CopyCString(alert->details);
    return d;
  });
  if (alert_row == nullptr) {
    if (!state.legacy) vigil::pg::EndAs(&as);
    return;
  }
  StringInfoData alert;
  initStringInfo(&alert);
  appendStringInfo(&alert,
                   "WITH a AS (INSERT INTO %s.vigil_alerts (at, source, severity, \"check\", message, details)"
                   " VALUES ($1::timestamptz, 'quality', $2, 'quality_score', $3, $4::jsonb) RETURNING *)"
                   " SELECT pg_notify('vigil_alerts', json_build_object('id', a.id, 'kind', a.\"check\")::text) FROM a",
                   ext);
  Oid atypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
  Datum avalues[4] = {CStringGetTextDatum(at), CStringGetTextDatum(alert_row->severity),
                      CStringGetTextDatum(alert_row->message), CStringGetTextDatum(alert_row->details)};
  if (SPI_execute_with_args(alert.data, 4, atypes, avalues, nullptr, false, 0) < 0) elog(ERROR, "recording alert failed");
  if (!state.legacy) vigil::pg::EndAs(&as);
}

char* NowText() {
  return SpiText("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')", 0);
}

// Report (inside SPI) computes vigil_quality_report(options) and returns
// it, palloc'd in `caller`; with `record`, each table's check and the
// overall result go to the history (and alerts). vigil_quality_issues reads
// the same report without recording it.
char* Report(const char* options, Oid ext_namespace, MemoryContext caller, bool record) {
  char* at = NowText();
  // User tables: not system, not temporary, not part of an extension.
  // A report covers what its caller may read: each table is scanned as its
  // owner, so a table the caller may not SELECT is listed as skipped
  // rather than reported (or failing the report). The listing resolves
  // nothing through the caller's path.
  vigil::pg::AsRole pinned;
  vigil::pg::BeginAs(&pinned, InvalidOid, nullptr);
  if (SPI_execute("SELECT c.oid, c.relname, pg_catalog.has_table_privilege(c.oid, 'SELECT') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                  " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
                  " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
                  " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
                  "                 AND d.objid = c.oid AND d.deptype = 'e')"
                  " ORDER BY n.nspname, c.relname",
                  false, 0) < 0)
    elog(ERROR, "listing tables failed");
  vigil::pg::EndAs(&pinned);
  int ntables = static_cast<int>(SPI_processed);
  Oid* relids = static_cast<Oid*>(MemoryContextAlloc(caller, sizeof(Oid) * (ntables + 1)));
  char** names = static_cast<char**>(MemoryContextAlloc(caller, sizeof(char*) * (ntables + 1)));
  bool* readable = static_cast<bool*>(MemoryContextAlloc(caller, sizeof(bool) * (ntables + 1)));
  for (int i = 0; i < ntables; ++i) {
    bool isnull;
    relids[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
    names[i] = MemoryContextStrdup(caller, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
    readable[i] = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
  }
  // The options checked against every table (C++), per-table options, then
  // each table (engine), then the overall report.
  char** per_table = static_cast<char**>(palloc0(sizeof(char*) * (ntables + 1)));
  Run([&] {
    std::vector<std::string> all(names, names + ntables);
    core::ValidateReportOptions(options, all);
    for (int i = 0; i < ntables; ++i) {
      if (!readable[i]) continue;
      if (auto per = core::ReportTableOptions(options, names[i])) per_table[i] = vigil::pg::CopyCString(*per);
    }
  });
  // Every table's options against its columns and types, before any scan.
  for (int i = 0; i < ntables; ++i)
    if (per_table[i] != nullptr) CheckOptions(relids[i], per_table[i]);
  char** reports = static_cast<char**>(palloc0(sizeof(char*) * (ntables + 1)));
  double* scores = static_cast<double*>(palloc0(sizeof(double) * (ntables + 1)));
  for (int i = 0; i < ntables; ++i) {
    if (per_table[i] == nullptr) continue;
    bool passed;
    reports[i] = CheckTable(relids[i], ext_namespace, per_table[i], at, &scores[i], &passed);
    if (record) Record(names[i], scores[i], passed, reports[i], at);
  }
  std::vector<core::MissingTable>* missing = MissingTables();
  char* result = nullptr;
  double overall = 0;
  bool overall_passed = false;
  Run([&] {
    std::vector<std::string> rs, skipped;
    std::vector<double> ss;
    for (int i = 0; i < ntables; ++i) {
      if (!readable[i]) skipped.emplace_back(names[i]);
      if (reports[i] == nullptr) continue;
      rs.emplace_back(reports[i]);
      ss.push_back(scores[i]);
    }
    std::string json = core::OverallJson(rs, ss, skipped, *missing, at, &overall);
    overall_passed = nlohmann::json::parse(json).value("passed", false);
    result = vigil::pg::CopyCString(json);
  });
  if (record) Record(nullptr, overall, overall_passed, result, at);
  return MemoryContextStrdup(caller, result);  // SPI_finish frees SPI's memory
}

}  // namespace

// vigil_quality_check(table text, options jsonb DEFAULT '{}') RETURNS jsonb
VIGIL_PG_FUNCTION(vigil_quality_check) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("table must not be NULL")));
  char* table = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char* options = nullptr;
  if (!PG_ARGISNULL(1)) {
    Jsonb* jb = PG_GETARG_JSONB_P(1);
    options = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  }
  // SELECT on the table before locking it (the scan needs it anyway).
  AclMode mask = ACL_SELECT;
  Oid relid = RangeVarGetRelidExtended(makeRangeVar(NULL, pstrdup(table), -1), AccessShareLock, RVR_MISSING_OK,
                                       vigil::pg::PrivilegeBeforeLock, &mask);
  if (!OidIsValid(relid) || table[0] == '\0')
    ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("table \"%s\" does not exist", vigil::pg::ClipName(table))));
  Oid ext_namespace = get_func_namespace(fcinfo->flinfo->fn_oid);
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* at = NowText();
  double score;
  bool passed;
  char* report = CheckTable(relid, ext_namespace, options ? options : "{}", at, &score, &passed);
  Record(get_rel_name(relid), score, passed, report, at);
  report = MemoryContextStrdup(caller, report);  // SPI_finish frees SPI's memory
  SPI_finish();
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(report)));
}

// vigil_quality_report(options jsonb DEFAULT '{}') RETURNS jsonb
VIGIL_PG_FUNCTION(vigil_quality_report) {
  char* options = const_cast<char*>("{}");
  if (!PG_ARGISNULL(0)) {
    Jsonb* jb = PG_GETARG_JSONB_P(0);
    options = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  }
  Oid ext_namespace = get_func_namespace(fcinfo->flinfo->fn_oid);
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* result = Report(options, ext_namespace, caller, true);
  SPI_finish();
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(result)));
}

// vigil_quality_issues(options jsonb DEFAULT '{}', OUT table_name text,
// OUT dimension text, OUT column_name text, OUT value double precision,
// OUT target text, OUT passed boolean, OUT sample_keys jsonb, OUT detail
// text) RETURNS SETOF record: the report's issues (core::QualityIssues),
// materialized; nothing is recorded.
VIGIL_PG_FUNCTION(vigil_quality_issues) {
  char* options = const_cast<char*>("{}");
  if (!PG_ARGISNULL(0)) {
    Jsonb* jb = PG_GETARG_JSONB_P(0);
    options = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  }
  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  AttInMetadata* meta = TupleDescGetAttInMetadata(rsinfo->setDesc);
  Oid ext_namespace = get_func_namespace(fcinfo->flinfo->fn_oid);
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  char* report = Report(options, ext_namespace, caller, false);
  SPI_finish();
  constexpr int kColumns = 8;
  int nrows = 0;
  char*** rows = nullptr;
  Run([&] {
    std::vector<core::QualityIssue> issues = core::QualityIssues(report);
    nrows = static_cast<int>(issues.size());
    rows = static_cast<char***>(vigil::pg::AllocNoThrowIn(caller, sizeof(char**) * (nrows + 1)));
    auto copy = [&](const std::optional<std::string>& s) { return vigil::pg::CopyCStringIn(caller, s); };
    for (int i = 0; i < nrows; ++i) {
      const core::QualityIssue& q = issues[i];
      std::optional<std::string> value;
      if (q.value) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.17g", *q.value);
        value = buf;
      }
      rows[i] = static_cast<char**>(vigil::pg::AllocNoThrowIn(caller, sizeof(char*) * kColumns));
      rows[i][0] = copy(q.table);
      rows[i][1] = copy(q.dimension);
      rows[i][2] = copy(q.column);
      rows[i][3] = copy(value);
      rows[i][4] = copy(q.target);
      rows[i][5] = copy(std::string(q.passed ? "true" : "false"));
      rows[i][6] = copy(q.sample_keys);
      rows[i][7] = copy(q.detail);
    }
  });
  for (int i = 0; i < nrows; ++i) {
    HeapTuple tuple = BuildTupleFromCStrings(meta, rows[i]);
    tuplestore_puttuple(rsinfo->setResult, tuple);
  }
  return (Datum)0;
}

// vigil_config(key text, value text DEFAULT NULL) RETURNS text: reads the
// GUC vigil.<key>; with a value, sets it for the session (persist it with
// ALTER SYSTEM / ALTER DATABASE ... SET vigil.<key>).
VIGIL_PG_FUNCTION(vigil_config) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("key must not be NULL")));
  std::string_view key = vigil::pg::ArgText(PG_GETARG_TEXT_PP(0));
  std::string_view value;
  bool set = !PG_ARGISNULL(1);
  if (set) value = vigil::pg::ArgText(PG_GETARG_TEXT_PP(1));
  char* name = nullptr;
  char* normalized = nullptr;
  const char* default_value = nullptr;
  Run([&] {
    const core::ConfigKey& k = core::FindConfig(key);
    default_value = k.default_value;
    name = vigil::pg::CopyCString(std::string("vigil.") + k.key);
    if (set) normalized = vigil::pg::CopyCString(core::NormalizeConfigValue(k, value));
  });
  if (set) {
    // As SET does: a superuser may set the superuser-only settings (the
    // health thresholds, slow_query_ms); anyone else gets 42501.
    (void)set_config_option(name, normalized, superuser() ? PGC_SUSET : PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET,
                            true, 0, false);
  }
  // A shared-memory size (max_statements) exists as a GUC only when vigil
  // is preloaded: its default is what would apply.
  const char* current = GetConfigOption(name, true, false);
  PG_RETURN_TEXT_P(cstring_to_text(current ? current : default_value));
}
