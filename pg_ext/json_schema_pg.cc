// json_schema_pg.cc — JSON Schema functions for PostgreSQL (SPEC §1,
// docs/validation.md "json_schema").
//
// A compiled schema lives in fn_extra for the call site's query, keyed by
// the schema and options text: a scan compiles once. With {"registry":
// true} the registry is read (as vigil's state owner) while compiling, so
// one query sees one registry, as STABLE promises.
extern "C" {
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "lib/stringinfo.h"
}

#include <memory>
#include <string>
#include <vector>

#include "boundary.h"
#include "json_schema_pg.h"
#include "spi_guard.h"
#include "module_pg.h"
#include "base/text.h"
#include "validate/json_schema.h"

namespace core = vigil::core;
using vigil::pg::ArgText;
using vigil::pg::Run;

namespace {

struct CachedSchema {
  std::string schema;
  std::string options;
  std::shared_ptr<const core::CompiledSchema> compiled;
};

char* JsonbText(Jsonb* jb) { return JsonbToCString(nullptr, &jb->root, VARSIZE(jb)); }

// CompiledArg compiles argument 0 with the options text (nullptr: the
// two-argument form), from the call site's cache when it is the same.
const core::CompiledSchema* CompiledArg(FunctionCallInfo fcinfo, const char* options_text) {
  std::string_view schema = ArgText(PG_GETARG_TEXT_PP(0));
  std::string_view options = options_text != nullptr ? std::string_view(options_text) : std::string_view();
  auto* cached = static_cast<CachedSchema*>(fcinfo->flinfo->fn_extra);
  if (cached != nullptr && cached->schema == schema && cached->options == options) return cached->compiled.get();
  core::JsonSchemaOptions parsed =
      options_text != nullptr ? Run([&] { return core::ParseJsonSchemaOptions(options); }) : core::JsonSchemaOptions{};
  // With the registry: read it whole first, as vigil's state owner (a
  // compilation looks up a handful of URIs; one query serves them all).
  vigil::pg::RegistrySnapshot snapshot;
  if (parsed.registry) vigil::pg::LoadRegistry(&snapshot);
  MemoryContext fn_mcxt = fcinfo->flinfo->fn_mcxt;
  cached = Run([&] {
    vigil::pg::SnapshotRegistry registry(snapshot);
    auto compiled = core::CompileJsonSchema(schema, parsed, parsed.registry ? &registry : nullptr);
    auto* c = static_cast<CachedSchema*>(fcinfo->flinfo->fn_extra);
    if (c == nullptr) {
      c = vigil::pg::OwnedByContext<CachedSchema>(fn_mcxt);
      fcinfo->flinfo->fn_extra = c;
    }
    c->schema = std::string(schema);
    c->options = std::string(options);
    c->compiled = std::move(compiled);
    return c;
  });
  // Owned by fn_extra (the query's memory context): no C++ object with a
  // destructor stays in the callers' frames.
  return cached->compiled.get();
}

}  // namespace

void vigil::pg::LoadRegistry(RegistrySnapshot* out) {
  vigil::pg::State state = vigil::pg::CurrentState();
  Oid nsp = get_namespace_oid(vigil::pg::kStateSchema, true);
  if (state.legacy || !OidIsValid(nsp) || !OidIsValid(get_relname_relid("vigil_json_schemas", nsp))) return;
  MemoryContext caller = CurrentMemoryContext;
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  vigil::pg::AsRole as;
  vigil::pg::BeginAs(&as, state.owner, nullptr);
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql, "SELECT uri, schema::pg_catalog.text FROM %s.vigil_json_schemas", vigil::pg::kStateSchema);
  if (SPI_execute(sql.data, true, 0) != SPI_OK_SELECT) elog(ERROR, "reading vigil_json_schemas failed");
  vigil::pg::EndAs(&as);
  MemoryContext spi = MemoryContextSwitchTo(caller);
  out->n = static_cast<int>(SPI_processed);
  out->uri = static_cast<char**>(palloc0(sizeof(char*) * (out->n + 1)));
  out->schema = static_cast<char**>(palloc0(sizeof(char*) * (out->n + 1)));
  for (int i = 0; i < out->n; ++i) {
    out->uri[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
    out->schema[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
  }
  MemoryContextSwitchTo(spi);
  SPI_finish();
}

namespace {

void RequireSchemaAdmin() {
  vigil::pg::State state = vigil::pg::CurrentState();
  Oid admin = get_role_oid("vigil_json_schema_admin", true);
  if (has_privs_of_role(GetUserId(), state.owner) || (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin)))
    return;
  ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                  errmsg("permission denied to change the JSON Schema registry"),
                  errdetail("Registered schemas are shared contracts: json_schema rules of any table may use them."),
                  errhint("Ask for membership in vigil_json_schema_admin.")));
}

// JsonSchemaRules lists the stored json_schema rules, named table.column
// (schema.table.column outside public), for the registry's dependency checks.
std::vector<core::StoredSchemaRule> JsonSchemaRules(Oid owner) {
  auto rows = vigil::pg::GuardedQuery(std::string("SELECT CASE WHEN table_schema OPERATOR(pg_catalog.=) 'public' THEN '' ELSE "
                                                  "table_schema OPERATOR(pg_catalog.||) '.' END OPERATOR(pg_catalog.||) "
                                                  "table_name OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
                                                  "coalesce(column_name, ''), params::text FROM ") +
                                          vigil::pg::kStateSchema +
                                          ".vigil_rules WHERE rule OPERATOR(pg_catalog.=) 'json_schema' ORDER BY id",
                                      {}, owner);
  std::vector<core::StoredSchemaRule> out;
  for (auto& r : rows) out.push_back({r[0].value_or(""), r[1].value_or("")});
  return out;
}

}  // namespace

// vigil_json_schema_valid(schema, doc): pure; references within the schema
// and to the built-in meta-schemas.
VIGIL_PG_FUNCTION(vigil_json_schema_valid) {
  const core::CompiledSchema* compiled = CompiledArg(fcinfo, nullptr);
  std::string_view doc = ArgText(PG_GETARG_TEXT_PP(1));
  PG_RETURN_BOOL(Run([&] { return core::ValidateJson(*compiled, doc, nullptr); }));
}

// vigil_json_schema_valid(schema, doc, options)
VIGIL_PG_FUNCTION(vigil_json_schema_valid_options) {
  char* options = JsonbText(PG_GETARG_JSONB_P(2));
  const core::CompiledSchema* compiled = CompiledArg(fcinfo, options);
  std::string_view doc = ArgText(PG_GETARG_TEXT_PP(1));
  PG_RETURN_BOOL(Run([&] { return core::ValidateJson(*compiled, doc, nullptr); }));
}

// vigil_json_schema_check(schema, doc, options DEFAULT '{}') -> basic output
VIGIL_PG_FUNCTION(vigil_json_schema_check) {
  char* options = JsonbText(PG_GETARG_JSONB_P(2));
  const core::CompiledSchema* compiled = CompiledArg(fcinfo, options);
  std::string_view doc = ArgText(PG_GETARG_TEXT_PP(1));
  char* out = Run([&] {
    std::vector<core::JsonSchemaError> errors;
    bool valid = core::ValidateJson(*compiled, doc, &errors, true);
    return vigil::pg::CopyCString(core::JsonSchemaOutput(valid, errors));
  });
  PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out)));
}

// vigil_json_schema_add(uri, schema) -> true when the URI is new. Members
// of vigil_json_schema_admin (and the state owner) only. The schema must
// compile where it stands and every json_schema rule must still compile
// with it; otherwise the error undoes the write with the statement.
VIGIL_PG_FUNCTION(vigil_json_schema_add) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("uri must not be NULL")));
  if (PG_ARGISNULL(1)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("schema must not be NULL")));
  RequireSchemaAdmin();
  std::string_view uri_arg = ArgText(PG_GETARG_TEXT_PP(0));
  char* schema = JsonbText(PG_GETARG_JSONB_P(1));
  Oid owner = vigil::pg::CurrentState().owner;
  vigil::pg::RegistrySnapshot snapshot;
  vigil::pg::LoadRegistry(&snapshot);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  bool added = Run([&] {
    std::string uri = core::CheckRegistrableUri(uri_arg);
    std::string text(schema);
    core::CheckRegistrableSchema(text);
    // Every json_schema rule must compile with the registry as it will be;
    // only then is it written.
    vigil::pg::SnapshotRegistry after(snapshot, &uri, &text);
    core::JsonSchemaRegistryScope scope(&after);
    core::RecheckSchemaRules(JsonSchemaRules(owner));
    bool existed = vigil::pg::SnapshotRegistry(snapshot).Find(uri).has_value();
    vigil::pg::GuardedQuery(std::string("INSERT INTO ") + vigil::pg::kStateSchema +
                                ".vigil_json_schemas (uri, schema) VALUES ($1, $2::pg_catalog.jsonb) ON CONFLICT (uri) "
                                "DO UPDATE SET schema = excluded.schema, added_at = pg_catalog.now(), "
                                "added_by = pg_catalog.session_user()",
                            {uri, text}, owner);
    return !existed;
  });
  SPI_finish();
  PG_RETURN_BOOL(added);
}

// vigil_json_schema_remove(uri) -> true when it was registered; refused
// (2BP01) while a json_schema rule loads it.
VIGIL_PG_FUNCTION(vigil_json_schema_remove) {
  if (PG_ARGISNULL(0)) ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("uri must not be NULL")));
  RequireSchemaAdmin();
  std::string_view uri_arg = ArgText(PG_GETARG_TEXT_PP(0));
  Oid owner = vigil::pg::CurrentState().owner;
  vigil::pg::RegistrySnapshot snapshot;
  vigil::pg::LoadRegistry(&snapshot);
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "SPI_connect failed");
  bool removed = Run([&] {
    std::string uri = core::CheckRegistrableUri(uri_arg);
    vigil::pg::SnapshotRegistry registry(snapshot);
    core::JsonSchemaRegistryScope scope(&registry);
    core::RefuseIfUsed(JsonSchemaRules(owner), uri);
    return !vigil::pg::GuardedQuery(std::string("DELETE FROM ") + vigil::pg::kStateSchema +
                                        ".vigil_json_schemas WHERE uri OPERATOR(pg_catalog.=) $1 RETURNING 1",
                                    {uri}, owner)
                .empty();
  });
  SPI_finish();
  PG_RETURN_BOOL(removed);
}
