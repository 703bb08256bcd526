-- vigil--0.3.0--0.4.0.sql — ALTER EXTENSION vigil UPDATE from 0.3.0 to 0.4.0.
--
-- 0.4.0 is the privilege model (docs/security.md): vigil's state moves into
-- the schema vigil_state, which only the extension's owner may use, with
-- read-only views of the same names where it was; rules are stored with
-- their table's schema, and references rules with their target's; rule
-- orchestration is C (the core decides); reading histories needs
-- vigil_reader, migrating vigil_migrator. The same statements are in
-- vigil.sql; sql/upgrade.sql compares the two.
-- Released upgrade scripts are history: never edit one after its release
-- (pg_ext/scripts/released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.4.0'" to load this file. \quit

DO $vigil$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_reader') THEN
        CREATE ROLE vigil_reader NOLOGIN;
        COMMENT ON ROLE vigil_reader IS 'reads what vigil records: migration history and scripts, quality history, alerts';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_migrator') THEN
        CREATE ROLE vigil_migrator NOLOGIN IN ROLE vigil_reader;
        COMMENT ON ROLE vigil_migrator IS 'registers, applies, rolls back and repairs vigil migrations';
    END IF;
END
$vigil$;

CREATE SCHEMA vigil_state;
REVOKE ALL ON SCHEMA vigil_state FROM PUBLIC;
COMMENT ON SCHEMA vigil_state IS 'vigil''s own state; changed only through vigil''s functions';

-- vigil_rules() returns the view's rows from now on.
DROP FUNCTION vigil_rules();

-- Rules: moved with their data, sequence and trigger; each gets the schema
-- its table resolves to now (as 0.3.0 resolved it, through this session's
-- search_path), and each references target its schema the same way.
ALTER TABLE vigil_rules SET SCHEMA vigil_state;
DROP INDEX vigil_state.vigil_rules_table_name;
ALTER TABLE vigil_state.vigil_rules ADD COLUMN table_schema text;
UPDATE vigil_state.vigil_rules r
SET table_schema = coalesce(
    (SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident(r.table_name))), '@extschema@');
UPDATE vigil_state.vigil_rules r
SET params = r.params || pg_catalog.jsonb_build_object('schema', coalesce(
    (SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = pg_catalog.to_regclass(pg_catalog.quote_ident(r.params->>'table'))), r.table_schema))
WHERE r.rule = 'references' AND pg_catalog.jsonb_typeof(r.params->'table') = 'string' AND NOT r.params ? 'schema';
ALTER TABLE vigil_state.vigil_rules ALTER COLUMN table_schema SET NOT NULL;
CREATE INDEX vigil_rules_table ON vigil_state.vigil_rules (table_schema, table_name);
REVOKE ALL ON vigil_state.vigil_rules FROM PUBLIC;

CREATE VIEW vigil_rules AS
SELECT r.id, r.table_name, r.column_name, r.rule, r.params, r.created_at, r.table_schema
FROM vigil_state.vigil_rules r
WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE')
   OR pg_catalog.has_table_privilege(
        pg_catalog.to_regclass(pg_catalog.quote_ident(r.table_schema) OPERATOR(pg_catalog.||) '.'
                               OPERATOR(pg_catalog.||) pg_catalog.quote_ident(r.table_name)),
        'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER');
COMMENT ON VIEW vigil_rules IS 'the rules of the tables you have a privilege on (every rule for vigil_reader)';
REVOKE ALL ON vigil_rules FROM PUBLIC;
GRANT SELECT ON vigil_rules TO PUBLIC;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_rules
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();

CREATE FUNCTION vigil_rules() RETURNS SETOF vigil_rules
    LANGUAGE sql STABLE
AS $vigil$ SELECT * FROM @extschema@.vigil_rules ORDER BY id $vigil$;
COMMENT ON FUNCTION vigil_rules() IS 'every rule, in the order added';

CREATE OR REPLACE FUNCTION vigil_rule_add(table_name text, column_name text, rule text, params jsonb DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'vigil_rule_add'
    LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION vigil_rule_remove(table_name text, column_name text, rule text) RETURNS integer
    AS 'MODULE_PATHNAME', 'vigil_rule_remove'
    LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION vigil_enforce(table_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_enforce'
    LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION vigil_unenforce(table_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_unenforce'
    LANGUAGE C VOLATILE;

-- Quality history and alerts.
ALTER TABLE vigil_quality_history SET SCHEMA vigil_state;
ALTER TABLE vigil_alerts SET SCHEMA vigil_state;
COMMENT ON TABLE vigil_state.vigil_alerts IS 'alerts raised on every change of state (quality now; health later); NOTIFY vigil_alerts carries each one''s id and kind';
REVOKE ALL ON vigil_state.vigil_quality_history, vigil_state.vigil_alerts FROM PUBLIC;
CREATE VIEW vigil_quality_history AS
SELECT * FROM vigil_state.vigil_quality_history WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_quality_history IS 'every quality check and report (for vigil_reader: reports hold sample keys)';
CREATE VIEW vigil_alerts AS
SELECT * FROM vigil_state.vigil_alerts
WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE') OR pg_catalog.pg_has_role('pg_monitor', 'USAGE');
COMMENT ON VIEW vigil_alerts IS 'every alert raised (for vigil_reader and pg_monitor); NOTIFY vigil_alerts carries only id and kind';
REVOKE ALL ON vigil_quality_history, vigil_alerts FROM PUBLIC;
GRANT SELECT ON vigil_quality_history TO vigil_reader;
GRANT SELECT ON vigil_alerts TO vigil_reader, pg_monitor;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_quality_history
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_alerts
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();

-- Migrations.
ALTER TABLE vigil_migrations SET SCHEMA vigil_state;
ALTER TABLE vigil_migration_history SET SCHEMA vigil_state;
REVOKE ALL ON vigil_state.vigil_migrations, vigil_state.vigil_migration_history FROM PUBLIC;
CREATE VIEW vigil_migrations AS
SELECT * FROM vigil_state.vigil_migrations WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_migrations IS 'registered migrations and their scripts (for vigil_reader)';
CREATE VIEW vigil_migration_history AS
SELECT * FROM vigil_state.vigil_migration_history WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_migration_history IS 'every apply, undo, repair and failure, hash-chained (for vigil_reader)';
REVOKE ALL ON vigil_migrations, vigil_migration_history FROM PUBLIC;
GRANT SELECT ON vigil_migrations, vigil_migration_history TO vigil_reader;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_migrations
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_migration_history
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
