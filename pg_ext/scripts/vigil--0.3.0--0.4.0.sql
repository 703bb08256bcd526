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
    -- Owns the views over vigil_state and may only read it: LOCK on a view
    -- locks its tables with its owner's rights, so a role granted ALL on
    -- the views (GRANT ALL ON ALL TABLES IN SCHEMA ...) can take no lock on
    -- vigil's state that blocks a writer or a migration.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_views') THEN
        CREATE ROLE vigil_views NOLOGIN;
        COMMENT ON ROLE vigil_views IS 'owns the read-only views over vigil_state (no login, no members)';
    END IF;
END
$vigil$;

CREATE SCHEMA vigil_state;
REVOKE ALL ON SCHEMA vigil_state FROM PUBLIC;
COMMENT ON SCHEMA vigil_state IS 'vigil''s own state; changed only through vigil''s functions';

-- Before anything touches them: 0.3.0's tables sat in the extension's
-- schema, where GRANT ALL ON ALL TABLES IN SCHEMA ... handed other roles
-- TRIGGER, REFERENCES and every other privilege on them. Drop every trigger
-- but vigil's, every foreign key of another table that references them, and
-- every privilege but the owner's, so none of it moves into vigil_state
-- (and no other role's trigger runs while this script updates them).
-- Operators are named with pg_catalog: this runs with search_path set to
-- the extension's schema, where other roles may create objects.
DO $vigil$
DECLARE
    state pg_catalog.regclass[] := ARRAY['@extschema@.vigil_rules', '@extschema@.vigil_quality_history',
        '@extschema@.vigil_alerts', '@extschema@.vigil_migrations', '@extschema@.vigil_migration_history',
        '@extschema@.vigil_rules_id_seq', '@extschema@.vigil_quality_history_id_seq',
        '@extschema@.vigil_alerts_id_seq']::pg_catalog.regclass[];
    item record;
BEGIN
    FOR item IN SELECT t.tgname, t.tgrelid::pg_catalog.regclass AS rel FROM pg_catalog.pg_trigger t
                WHERE t.tgrelid OPERATOR(pg_catalog.=) ANY (state) AND NOT t.tgisinternal
                  AND t.tgname OPERATOR(pg_catalog.<>) 'vigil_rules_changed' LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER %I ON %s', item.tgname, item.rel);
    END LOOP;
    FOR item IN SELECT c.conname, c.conrelid::pg_catalog.regclass AS rel FROM pg_catalog.pg_constraint c
                WHERE c.contype OPERATOR(pg_catalog.=) 'f' AND c.confrelid OPERATOR(pg_catalog.=) ANY (state)
                  AND NOT c.conrelid OPERATOR(pg_catalog.=) ANY (state) LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', item.rel, item.conname);
    END LOOP;
    FOR item IN SELECT DISTINCT c.oid::pg_catalog.regclass AS rel, a.grantee
                FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
                WHERE c.oid OPERATOR(pg_catalog.=) ANY (state) AND a.grantee OPERATOR(pg_catalog.<>) c.relowner LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', item.rel,
            CASE WHEN item.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(item.grantee)) END);
    END LOOP;
END
$vigil$;

-- vigil_rules() returns the view's rows from now on.
DROP FUNCTION vigil_rules();

-- Rules: moved with their data, sequence and trigger. 0.3.0 keyed a rule by
-- the table's plain name and applied it through each writer's search_path;
-- here each gets the schema of the one permanent table of that name. A
-- name that several schemas (or none) hold gets table_schema '' — such a
-- rule applies to no table until its owner adds it again (a NOTICE names
-- it) — rather than a guess. A references target's schema is found the
-- same way (the rule's own schema when ambiguous or missing).
ALTER TABLE vigil_rules SET SCHEMA vigil_state;
DROP INDEX vigil_state.vigil_rules_table_name;
ALTER TABLE vigil_state.vigil_rules ADD COLUMN table_schema text;
UPDATE vigil_state.vigil_rules r
SET table_schema = COALESCE((
    SELECT pg_catalog.min(n.nspname::text) FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    WHERE c.relname OPERATOR(pg_catalog.=) r.table_name::pg_catalog.name
      AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::pg_catalog."char"[])
      AND c.relpersistence OPERATOR(pg_catalog.<>) 't'
    HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) 1), '');
UPDATE vigil_state.vigil_rules r
SET params = r.params OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('schema', COALESCE((
    SELECT pg_catalog.min(n.nspname::text) FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
    WHERE c.relname OPERATOR(pg_catalog.=) (r.params OPERATOR(pg_catalog.->>) 'table')::pg_catalog.name
      AND c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p']::pg_catalog."char"[])
      AND c.relpersistence OPERATOR(pg_catalog.<>) 't'
    HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) 1), r.table_schema))
WHERE r.rule OPERATOR(pg_catalog.=) 'references'
  AND pg_catalog.jsonb_typeof(r.params OPERATOR(pg_catalog.->) 'table') OPERATOR(pg_catalog.=) 'string'
  AND NOT r.params OPERATOR(pg_catalog.?) 'schema';
DO $vigil$
DECLARE
    item record;
BEGIN
    FOR item IN SELECT id, table_name FROM vigil_state.vigil_rules WHERE table_schema OPERATOR(pg_catalog.=) '' LOOP
        RAISE NOTICE 'vigil: rule % of table "%" applies to no table: several schemas (or none) have a table of that name; add it again to the table it belongs to', item.id, item.table_name;
    END LOOP;
END
$vigil$;
ALTER TABLE vigil_state.vigil_rules ALTER COLUMN table_schema SET NOT NULL;
CREATE INDEX vigil_rules_table ON vigil_state.vigil_rules (table_schema, table_name);
REVOKE ALL ON vigil_state.vigil_rules FROM PUBLIC;

CREATE VIEW vigil_rules WITH (security_barrier) AS
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
CREATE VIEW vigil_quality_history WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_quality_history WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_quality_history IS 'every quality check and report (for vigil_reader: reports hold sample keys)';
CREATE VIEW vigil_alerts WITH (security_barrier) AS
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
CREATE VIEW vigil_migrations WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_migrations WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_migrations IS 'registered migrations and their scripts (for vigil_reader)';
CREATE VIEW vigil_migration_history WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_migration_history WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_migration_history IS 'every apply, undo, repair and failure, hash-chained (for vigil_reader)';
REVOKE ALL ON vigil_migrations, vigil_migration_history FROM PUBLIC;
GRANT SELECT ON vigil_migrations, vigil_migration_history TO vigil_reader;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_migrations
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_migration_history
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();

-- vigil_insert builds its statement under search_path pg_catalog, pg_temp.
CREATE OR REPLACE FUNCTION vigil_insert(table_name text, "row" jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE
AS $vigil$
DECLARE
    rel regclass;
    cols text;
    keys text[];
    key jsonb;
    callers_path text;
    statement text;
BEGIN
    IF table_name IS NULL THEN
        RAISE EXCEPTION 'table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF "row" IS NULL THEN
        RAISE EXCEPTION 'row must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Columns, types and rules, all at once: one error lists everything
    -- (vigil_check also raises 42P01 for an unknown table).
    PERFORM @extschema@.vigil_check(table_name, "row", true);
    rel := pg_catalog.to_regclass(pg_catalog.quote_ident(table_name));
    -- The statement is built under search_path pg_catalog, pg_temp, so no
    -- operator or function of a schema on the caller's path stands in for
    -- pg_catalog's; the insert itself runs under the caller's path again
    -- (the table's triggers and defaults are the owner's code, as ever).
    callers_path := pg_catalog.current_setting('search_path');
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') INTO cols
    FROM pg_catalog.jsonb_object_keys("row") AS k;
    SELECT pg_catalog.array_agg(a.attname::text ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)) INTO keys
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = rel AND i.indisprimary;
    -- Values reach the table only as the bound jsonb parameter $1.
    statement := pg_catalog.format(
        CASE WHEN cols IS NULL THEN 'INSERT INTO %1$s DEFAULT VALUES RETURNING %3$s'
             ELSE 'INSERT INTO %1$s (%2$s) SELECT %2$s FROM pg_catalog.jsonb_populate_record(NULL::%1$s, $1) RETURNING %3$s' END,
        rel, cols,
        CASE WHEN keys IS NULL THEN 'NULL::pg_catalog.jsonb'
             WHEN pg_catalog.array_length(keys, 1) = 1 THEN pg_catalog.format('pg_catalog.to_jsonb(%I)', keys[1])
             ELSE 'pg_catalog.jsonb_build_object(' ||
                  (SELECT pg_catalog.string_agg(pg_catalog.format('%L, %I', k, k), ', ') FROM pg_catalog.unnest(keys) AS k) || ')' END);
    PERFORM pg_catalog.set_config('search_path', callers_path, true);
    EXECUTE statement INTO key USING "row";
    RETURN key;
END
$vigil$;

-- The views belong to vigil_views, which may read vigil_state and nothing more.
GRANT USAGE ON SCHEMA vigil_state TO vigil_views;
GRANT SELECT ON vigil_state.vigil_rules, vigil_state.vigil_migrations, vigil_state.vigil_migration_history,
    vigil_state.vigil_quality_history, vigil_state.vigil_alerts TO vigil_views;
ALTER VIEW vigil_rules OWNER TO vigil_views;
ALTER VIEW vigil_migrations OWNER TO vigil_views;
ALTER VIEW vigil_migration_history OWNER TO vigil_views;
ALTER VIEW vigil_quality_history OWNER TO vigil_views;
ALTER VIEW vigil_alerts OWNER TO vigil_views;

-- A rule dies with its table (and a references rule with its target).
CREATE FUNCTION vigil_state.vigil_table_dropped() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'vigil_table_dropped'
    LANGUAGE C;
COMMENT ON FUNCTION vigil_state.vigil_table_dropped() IS 'sql_drop event trigger: removes the rules of dropped tables and the references rules that target them';
CREATE EVENT TRIGGER vigil_table_dropped ON sql_drop EXECUTE FUNCTION vigil_state.vigil_table_dropped();

-- The functions quality scans call (as each table's owner) are twins in
-- vigil_state, where no other role may create an overload that matches
-- better or makes the call ambiguous: the schema is usable by all (its
-- tables stay private), creatable by none but its owner.
GRANT USAGE ON SCHEMA vigil_state TO PUBLIC;
CREATE FUNCTION vigil_state.vigil_validate(kind text, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_validate'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_state.vigil_validate(text, text) IS 'vigil_validate for quality scans';
CREATE FUNCTION vigil_state.vigil_rule_check(rule text, params jsonb, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_rule_check'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_state.vigil_rule_check(text, jsonb, text) IS 'vigil_rule_check for quality scans';

-- Triggers on vigil's objects are vigil's: GRANT ALL ON ALL TABLES IN
-- SCHEMA ... hands out TRIGGER on the views, and an INSTEAD OF trigger of
-- another role's would run as whoever writes to them (and could silence
-- the refusal). Upgrade scripts that add triggers disable this first.
CREATE FUNCTION vigil_state.vigil_guard_triggers() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $vigil$
DECLARE
    command record;
BEGIN
    FOR command IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
        IF EXISTS (
            SELECT 1 FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                 AND d.objid OPERATOR(pg_catalog.=) t.tgrelid AND d.deptype OPERATOR(pg_catalog.=) 'e'
            JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                 AND e.extname OPERATOR(pg_catalog.=) 'vigil'
            WHERE t.oid OPERATOR(pg_catalog.=) command.objid) THEN
            RAISE EXCEPTION 'triggers on vigil''s objects are vigil''s: %', command.object_identity
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
END
$vigil$;
COMMENT ON FUNCTION vigil_state.vigil_guard_triggers() IS 'ddl_command_end event trigger: refuses triggers on vigil''s tables and views';
CREATE EVENT TRIGGER vigil_guard_triggers ON ddl_command_end WHEN TAG IN ('CREATE TRIGGER')
    EXECUTE FUNCTION vigil_state.vigil_guard_triggers();

-- Rules follow their table through a rename or a move, as constraints do
-- (and a references rule its target): ddl_command_start, so the rules move
-- with the command and a failed command undoes the move.
CREATE FUNCTION vigil_state.vigil_table_renamed() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'vigil_table_renamed'
    LANGUAGE C;
COMMENT ON FUNCTION vigil_state.vigil_table_renamed() IS 'ddl_command_start event trigger: moves the rules of a renamed or moved table, schema or column';
CREATE EVENT TRIGGER vigil_table_renamed ON ddl_command_start WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA')
    EXECUTE FUNCTION vigil_state.vigil_table_renamed();
