// json_schema.h — JSON Schema draft 2020-12: compile a schema once, validate
// many documents with it (SPEC §1, docs/validation.md "json_schema").
//
// A schema compiles into an immutable CompiledSchema: every subschema the
// keywords reach, every `$ref` and `$dynamicRef` target, every document they
// load (the built-in draft 2020-12 meta-schemas, and with a registry the
// schemas users registered with vigil_json_schema_add). Evaluation then
// reads only the compiled form and the document, so an adapter may cache a
// CompiledSchema for as long as the schema text and the registry it was
// compiled with stay the same (PostgreSQL: a query's fn_extra; SQLite: the
// statement's auxdata).
//
// Bounds, the same on both engines: schemas and documents nest at most
// 512 levels (base/json.h); evaluation nests at most 1024 subschema
// applications (a `$ref` cycle that consumes no input); one evaluation takes
// at most `max_steps` subschema applications (default 10,000,000; 54000 with
// a hint when exceeded), so a schema whose branches fan out per level ends
// with an error instead of running for hours — SQLite cannot interrupt a
// function, and PostgreSQL's cancel is polled too.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::core {

// Options of vigil_json_schema_valid(schema, doc, options) and of json_schema
// rules, from a JSON object (unknown keys are an error):
//   "format":    "assert" (default) or "annotate" (draft 2020-12's default:
//                formats never fail; a meta-schema with the format-assertion
//                vocabulary still asserts)
//   "registry":  true to resolve URIs registered with vigil_json_schema_add
//   "max_steps": 1 .. 1,000,000,000 (default 10,000,000)
struct JsonSchemaOptions {
  bool assert_format = true;
  bool registry = false;
  long long max_steps = 10'000'000;
};
JsonSchemaOptions ParseJsonSchemaOptions(std::string_view options_json);

// JsonSchemaRegistry is the engine's store of registered schemas.
class JsonSchemaRegistry {
 public:
  virtual ~JsonSchemaRegistry() = default;
  // Find returns the text of the schema registered under `uri` (absolute,
  // no fragment), or nullopt.
  virtual std::optional<std::string> Find(const std::string& uri) = 0;
};

// One failing keyword, as the specification's "basic" output format has it.
struct JsonSchemaError {
  std::string instance_location;           // JSON Pointer into the document ("" is the root)
  std::string keyword_location;            // JSON Pointer of the keyword, through $refs
  std::string absolute_keyword_location;   // <base URI>#<pointer> of the keyword
  std::string message;
};

class CompiledSchema;

// JsonSchemaRegistryScope makes `registry` the one json_schema rules
// compile with on this thread while it lives (rules are parsed deep inside
// the rule plans; the adapter sets the scope where it loads them). Without
// a scope, a rule's reference to a registered URI is an error.
class JsonSchemaRegistryScope {
 public:
  explicit JsonSchemaRegistryScope(JsonSchemaRegistry* registry) noexcept;
  ~JsonSchemaRegistryScope();
  JsonSchemaRegistryScope(const JsonSchemaRegistryScope&) = delete;
  JsonSchemaRegistryScope& operator=(const JsonSchemaRegistryScope&) = delete;
  static JsonSchemaRegistry* Current() noexcept;

 private:
  JsonSchemaRegistry* saved_;
};

// CompileJsonSchema parses and compiles `schema_text`. Throws Error:
// kInvalidText (not JSON), kInvalidParameter (a malformed schema, a $ref
// that does not resolve, an unregistered remote URI), kNotSupported (a
// meta-schema requiring a vocabulary vigil does not know), kProgramLimit.
// `registry` is used only when options.registry is set; it may be null
// otherwise.
std::shared_ptr<const CompiledSchema> CompileJsonSchema(std::string_view schema_text, const JsonSchemaOptions& options,
                                                        JsonSchemaRegistry* registry);

// CompileJsonSchemaRule compiles a json_schema rule's params
// ({"schema": ..., "format": ..., "max_steps": ...}) with the registry of
// the current JsonSchemaRegistryScope.
std::shared_ptr<const CompiledSchema> CompileJsonSchemaRule(std::string_view params_json);

// ValidateJson checks `doc_text` against the compiled schema. Returns true
// when valid. With `errors`, fills in the failing keywords: every one when
// `all` is set (the basic output), else the first. Throws Error for a
// document that is not JSON or too deep, and when a bound is reached.
bool ValidateJson(const CompiledSchema& schema, std::string_view doc_text, std::vector<JsonSchemaError>* errors,
                  bool all = false);

// JsonSchemaOutput is the basic output format as JSON text:
// {"valid":true} or {"valid":false,"errors":[{"keywordLocation":...,
// "absoluteKeywordLocation":...,"instanceLocation":...,"error":...}, ...]}.
std::string JsonSchemaOutput(bool valid, const std::vector<JsonSchemaError>& errors);

// JsonSchemaReason is the one-line reason of vigil_validate style:
// "<instance location or (root)>: <message>".
std::string JsonSchemaReason(const JsonSchemaError& error);

// ExternalUris lists the absolute URIs (no fragment) the compiled schema
// loaded from the registry: what a json_schema rule depends on.
std::vector<std::string> ExternalUris(const CompiledSchema& schema);

// A stored json_schema rule, for the registry's dependency checks: where it
// is ("table.column") and its params.
struct StoredSchemaRule {
  std::string where;
  std::string params;
};

// RecheckSchemaRules compiles every rule with the current registry scope
// (after a registry change): Error kDependentObjects naming the first rule
// that no longer compiles.
void RecheckSchemaRules(const std::vector<StoredSchemaRule>& rules);

// RefuseIfUsed throws kDependentObjects when a rule loads `uri` (rules that
// do not compile now load nothing).
void RefuseIfUsed(const std::vector<StoredSchemaRule>& rules, const std::string& uri);

// CheckRegistrableSchema checks a schema given to vigil_json_schema_add:
// JSON, an object or a boolean. Its references resolve when it is used
// (schemas that reference each other can be registered in any order).
void CheckRegistrableSchema(std::string_view schema_text);

// JsonSchemaRefTo is the schema {"$ref": "<uri>"}: compiling it checks
// what is registered under `uri` from where it stands.
std::string JsonSchemaRefTo(const std::string& uri);

// CheckRegistrableUri checks a URI given to vigil_json_schema_add: absolute
// (a scheme), no fragment (or an empty one), at most 2048 bytes, not one of
// the built-in meta-schemas. Returns it without an empty fragment.
std::string CheckRegistrableUri(std::string_view uri);

}  // namespace vigil::core
