-- vigil--0.6.0--0.7.0.sql — ALTER EXTENSION vigil UPDATE from 0.6.0 to 0.7.0.
--
-- 0.7.0 brings all of JSON Schema draft 2020-12 (issue 12): the registry,
-- options, the basic output and json_schema rules. The same statements are
-- in vigil.sql; sql/upgrade.sql compares the two. Released upgrade scripts
-- are history: never edit one after its release (pg_ext/scripts/
-- released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.7.0'" to load this file. \quit

COMMENT ON FUNCTION vigil_json_schema_valid(text, text) IS 'true when the JSON document satisfies the JSON Schema (draft 2020-12; references within the schema)';

-- The guard refuses triggers on vigil's objects; these two are vigil's own.
ALTER EVENT TRIGGER vigil_guard_triggers DISABLE;

-- ---------------------------------------------------------------------------
-- The JSON Schema registry (issue 12): schemas registered under absolute
-- URIs, which vigil_json_schema_valid(schema, doc, '{"registry": true}') and
-- json_schema rules resolve. Shared contracts: readable by everyone (any
-- role may validate with them), changed only by members of
-- vigil_json_schema_admin through vigil_json_schema_add and _remove.
-- ---------------------------------------------------------------------------
DO $vigil$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_json_schema_admin') THEN
        CREATE ROLE vigil_json_schema_admin NOLOGIN;
        COMMENT ON ROLE vigil_json_schema_admin IS 'registers and removes JSON Schemas (vigil_json_schema_add, vigil_json_schema_remove)';
    END IF;
END
$vigil$;

CREATE TABLE vigil_state.vigil_json_schemas (
    uri      text PRIMARY KEY,
    schema   jsonb NOT NULL,
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    added_by text NOT NULL DEFAULT pg_catalog.session_user()
);
COMMENT ON TABLE vigil_state.vigil_json_schemas IS 'registered JSON Schemas; change them with vigil_json_schema_add and vigil_json_schema_remove';
REVOKE ALL ON vigil_state.vigil_json_schemas FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_json_schemas', '');
-- Sessions cache json_schema rules compiled with the registry: a change
-- drops them, as a rule change does.
CREATE TRIGGER vigil_json_schemas_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vigil_state.vigil_json_schemas
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_enforce_trigger();

CREATE VIEW vigil_json_schemas AS
SELECT uri, schema, added_at, added_by FROM vigil_state.vigil_json_schemas;
COMMENT ON VIEW vigil_json_schemas IS 'the registered JSON Schemas';
REVOKE ALL ON vigil_json_schemas FROM PUBLIC;
GRANT SELECT ON vigil_json_schemas TO PUBLIC;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_json_schemas
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
GRANT SELECT ON vigil_state.vigil_json_schemas TO vigil_views;
ALTER VIEW vigil_json_schemas OWNER TO vigil_views;

-- PARALLEL RESTRICTED: with "registry" they read vigil's state through a
-- subtransaction, which a parallel worker may not start.
CREATE FUNCTION vigil_json_schema_valid(schema text, doc text, options jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_valid_options'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vigil_json_schema_valid(text, text, jsonb) IS 'vigil_json_schema_valid with options: format (assert or annotate), registry (resolve registered URIs), max_steps';

CREATE FUNCTION vigil_json_schema_check(schema text, doc text, options jsonb DEFAULT '{}') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_json_schema_check'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vigil_json_schema_check(text, text, jsonb) IS 'the draft 2020-12 basic output: valid, and each failing keyword with its keyword and instance location';

CREATE FUNCTION vigil_json_schema_add(uri text, schema jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_add'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_json_schema_add(text, jsonb) IS 'registers a JSON Schema under an absolute URI, replacing the one registered there; true when the URI is new';

CREATE FUNCTION vigil_json_schema_remove(uri text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_remove'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_json_schema_remove(text) IS 'removes a registered JSON Schema unless a json_schema rule uses it; true when there was one';
-- Quality scans check json_schema rules with it, as they call vigil_rule_check.
CREATE FUNCTION vigil_state.vigil_json_schema_valid(schema text, doc text, options jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_valid_options'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vigil_state.vigil_json_schema_valid(text, text, jsonb) IS 'vigil_json_schema_valid for quality scans';

ALTER EVENT TRIGGER vigil_guard_triggers ENABLE;
