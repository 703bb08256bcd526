-- upgrade.sql — the version ladder (docs/releasing.md), after
-- pg_stat_statements' oldextversions test: create vigil at the oldest kept
-- version, add data with that version's API, ALTER EXTENSION vigil UPDATE
-- one released step at a time to the current version, prove that the data
-- survived and still works, then compare every object with a fresh install.

-- Every kept version is installable, and the chain reaches the current one.
SELECT version FROM pg_available_extension_versions WHERE name = 'vigil' ORDER BY string_to_array(version, '.')::int[];
SELECT p.path IS NOT NULL AS chain_complete
FROM pg_extension_update_paths('vigil') p
WHERE p.source = '0.1.0' AND p.target = (SELECT default_version FROM pg_available_extensions WHERE name = 'vigil');

CREATE EXTENSION vigil VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'vigil';

-- Data at 0.1.0, through 0.1.0's functions.
CREATE TABLE up_users (id integer PRIMARY KEY, email text);
CREATE TABLE up_trades (id integer PRIMARY KEY, user_id integer, price numeric);
INSERT INTO up_users VALUES (1, 'ann@example.com'), (2, NULL), (3, NULL);
INSERT INTO up_trades VALUES (10, 1, 5), (11, 9, 7);
SELECT vigil_rule_add('up_users', 'email', 'email') > 0 AS rule_added;
SELECT vigil_rule_add('up_trades', 'price', 'range', '{"min": 0, "max": 100}') > 0 AS rule_added;
SELECT vigil_rule_add('up_trades', 'user_id', 'references', '{"table": "up_users", "column": "id"}') > 0 AS rule_added;
SELECT vigil_enforce('up_trades');
SELECT vigil_migration_add('1', 'first table', 'CREATE TABLE up_m1 (a integer);', 'DROP TABLE up_m1;') LIKE 'sha256:v2:%' AS registered;
-- The 0.1.0 definition of vigil_checksum keeps its meaning (an immutable
-- function's symbol never changes what it returns).
SELECT vigil_checksum('CREATE TABLE up_m1 (a integer);') LIKE 'sha256:v1:%' AS old_definition_v1;
SELECT vigil_migrate()->>'status' AS migrate_status;
SELECT vigil_config('quality_alert_score', '100');
SELECT (vigil_quality_check('up_trades')->>'score')::float < 100 AS below_threshold;
SELECT count(*) AS alerts FROM vigil_alerts;

-- A rule of a table outside the extension's schema (0.1.0 keyed it by the
-- plain name), and what a role handed GRANT ALL ON ALL TABLES IN SCHEMA
-- public could plant on vigil's old tables there: a trigger (it would run
-- as whoever writes them, the upgrade included) and a foreign key.
CREATE SCHEMA up_app;
CREATE TABLE up_app.up_widgets (id integer PRIMARY KEY, qty integer);
SET search_path = up_app, public;
SELECT vigil_rule_add('up_widgets', 'qty', 'positive') > 0 AS rule_added;
SELECT vigil_enforce('up_widgets');
RESET search_path;
CREATE ROLE regress_up_attacker;
GRANT CREATE ON SCHEMA public TO regress_up_attacker;
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_up_attacker;
SET ROLE regress_up_attacker;
CREATE FUNCTION public.up_planted() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN RAISE EXCEPTION 'the planted trigger ran as %', current_user; END $f$;
CREATE TRIGGER up_planted AFTER INSERT OR UPDATE OR DELETE ON vigil_rules
    FOR EACH STATEMENT EXECUTE FUNCTION public.up_planted();
CREATE TABLE public.up_pin (v text REFERENCES vigil_migrations (version));
RESET ROLE;

-- Climb the ladder: one ALTER EXTENSION per released step.
SELECT format('ALTER EXTENSION vigil UPDATE TO %L', step.version)
FROM pg_extension_update_paths('vigil') p,
     unnest(string_to_array(p.path, '--')) WITH ORDINALITY AS step(version, n)
WHERE p.source = '0.1.0' AND p.target = (SELECT default_version FROM pg_available_extensions WHERE name = 'vigil')
  AND step.n > 1
ORDER BY step.n \gexec
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'vigil') AS at_current
FROM pg_extension WHERE extname = 'vigil';

-- Nothing planted moved into vigil_state, and the rule found its schema.
SELECT count(*) AS planted_triggers FROM pg_trigger WHERE tgname = 'up_planted';
SELECT count(*) AS foreign_keys_on_state FROM pg_constraint WHERE conrelid = 'up_pin'::regclass AND contype = 'f';
SELECT count(*) AS attacker_privileges FROM pg_class c, aclexplode(c.relacl) a
WHERE c.relnamespace = 'vigil_state'::regnamespace AND a.grantee = 'regress_up_attacker'::regrole;
SELECT table_schema, table_name, rule FROM vigil_state.vigil_rules WHERE table_name = 'up_widgets';
INSERT INTO up_app.up_widgets VALUES (1, -1);
DROP TABLE up_app.up_widgets, public.up_pin;
DROP SCHEMA up_app;
DROP FUNCTION public.up_planted();
REVOKE ALL ON SCHEMA public FROM regress_up_attacker;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_up_attacker;
DROP ROLE regress_up_attacker;

-- The data survived and still works.
SELECT table_name, column_name, rule, params FROM vigil_rules() ORDER BY id;
INSERT INTO up_trades VALUES (12, 1, 500);
INSERT INTO up_trades VALUES (13, 1, 50);
SELECT vigil_check('up_users', '{"email": "not-an-email"}');
SELECT version, name, state FROM vigil_migration_status();
SELECT vigil_migration_validate()->'valid' AS history_valid, vigil_migration_validate()->'history'->'entries' AS entries;
-- 0.5.0 anchored the history at its newest entry, and vigil_checksum is v2.
SELECT a.id = (SELECT max(h.id) FROM vigil_state.vigil_migration_history h) AS anchored_at_newest,
       vigil_migration_validate()->'history'->'anchored' AS anchored
FROM vigil_state.vigil_migration_anchor a;
SELECT vigil_checksum('CREATE TABLE up_m1 (a integer);') LIKE 'sha256:v2:%' AS current_definition_v2;
SELECT vigil_rollback('0')->>'status' AS rollback_status, to_regclass('up_m1') IS NULL AS undone;
SELECT vigil_migrate()->>'status' AS migrate_again, to_regclass('up_m1') IS NOT NULL AS reapplied;
SELECT count(*) AS history_rows FROM vigil_quality_history;
SELECT (vigil_quality_check('up_trades')->>'rows')::int AS rows_checked;
SELECT count(*) AS history_rows FROM vigil_quality_history;
SELECT source, severity, "check" FROM vigil_alerts ORDER BY id;

-- Every object of the extension, described without OIDs: member objects,
-- functions (signature, result, volatility, strictness, parallel safety,
-- security, settings, body, comment, grants), vigil's tables (columns,
-- defaults, constraints, indexes, triggers, grants, comments) and the
-- tables pg_dump keeps.
CREATE TEMP VIEW vigil_objects AS
WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'vigil'),
members AS (
  SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
  WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (SELECT c.oid, c.relname FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid)
SELECT 'member' AS kind, pg_describe_object(classid, objid, objsubid) AS name, '' AS detail FROM members
UNION ALL
SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       concat_ws(' | ', pg_get_function_result(p.oid), p.provolatile, p.proisstrict, p.proparallel, p.prosecdef,
                 p.proconfig::text, l.lanname, p.prosrc, p.probin, p.prorows, obj_description(p.oid, 'pg_proc'), p.proacl::text)
FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid JOIN pg_language l ON l.oid = p.prolang
UNION ALL
SELECT 'relation', c.relname, concat_ws(' | ', c.relkind, c.relpersistence, c.relacl::text, obj_description(c.oid, 'pg_class'))
FROM pg_class c JOIN rels ON rels.oid = c.oid
UNION ALL
SELECT 'column', rels.relname || '.' || a.attname,
       concat_ws(' | ', a.attnum, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attacl::text)
FROM rels JOIN pg_attribute a ON a.attrelid = rels.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
UNION ALL
SELECT 'constraint', rels.relname || '.' || co.conname, pg_get_constraintdef(co.oid)
FROM rels JOIN pg_constraint co ON co.conrelid = rels.oid
UNION ALL
SELECT 'index', rels.relname, pg_get_indexdef(i.indexrelid)
FROM rels JOIN pg_index i ON i.indrelid = rels.oid
UNION ALL
SELECT 'trigger', rels.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
FROM rels JOIN pg_trigger t ON t.tgrelid = rels.oid AND NOT t.tgisinternal
UNION ALL
SELECT 'dumped', c.relname, coalesce(x.cond, '')
FROM ext, unnest(ext.extconfig, ext.extcondition) AS x(oid, cond) JOIN pg_class c ON c.oid = x.oid;

CREATE TEMP TABLE upgraded AS SELECT * FROM vigil_objects;
DROP EXTENSION vigil CASCADE;
CREATE EXTENSION vigil;
CREATE TEMP TABLE fresh AS SELECT * FROM vigil_objects;

-- No difference either way (and the comparison is not vacuous).
SELECT 'only after the upgrade' AS side, * FROM (SELECT * FROM upgraded EXCEPT SELECT * FROM fresh) d
UNION ALL
SELECT 'only in a fresh install', * FROM (SELECT * FROM fresh EXCEPT SELECT * FROM upgraded) d
ORDER BY 1, 2, 3;
SELECT count(*) > 100 AS described, count(*) FILTER (WHERE kind = 'function') > 40 AS functions FROM fresh;

DROP EXTENSION vigil;
DROP TABLE up_users, up_trades, up_m1;
