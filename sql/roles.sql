-- roles.sql — the privilege model with real roles (docs/security.md): a
-- superuser (the session), a table owner, a writer with INSERT and UPDATE
-- only, a reader in vigil_reader, and an attacker who was handed the common
-- GRANT ALL ON ALL TABLES (and FUNCTIONS) IN SCHEMA public and may create
-- schemas. Each numbered case is a class of the privilege-model issue and
-- failed before its fix.
CREATE ROLE regress_vigil_owner LOGIN;
CREATE ROLE regress_vigil_writer LOGIN;
CREATE ROLE regress_vigil_reader LOGIN IN ROLE vigil_reader;
CREATE ROLE regress_vigil_attacker LOGIN;
GRANT CREATE ON DATABASE contrib_regression TO regress_vigil_attacker;
GRANT CREATE ON SCHEMA public TO regress_vigil_owner, regress_vigil_attacker;
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_vigil_attacker;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO regress_vigil_attacker;

-- The owner's tables: users, and trades that reference them.
SET ROLE regress_vigil_owner;
CREATE TABLE roles_users (id integer PRIMARY KEY, email text);
CREATE TABLE roles_trades (id integer PRIMARY KEY, user_id integer, price numeric, symbol text);
INSERT INTO roles_users VALUES (1, 'ann@example.com'), (2, 'bob@example.com');
GRANT INSERT, UPDATE ON roles_trades TO regress_vigil_writer;

-- 2. Rules are the table owner's, and need no grant on vigil's state.
SELECT vigil_rule_add('roles_trades', 'price', 'range', '{"min": 0, "max": 1000}') > 0 AS owner_adds;
SELECT vigil_rule_add('roles_trades', 'user_id', 'references',
                      '{"table": "roles_users", "column": "id", "enforce": true}') > 0 AS owner_adds_reference;
SELECT vigil_rule_add('roles_trades', 'id', 'unique') > 0 AS owner_adds_unique;
SELECT vigil_enforce('roles_trades') AS owner_enforces;
-- Stored with the table's identity; the reference's target fixed now.
SELECT table_schema, table_name, column_name, rule, params FROM vigil_rules WHERE table_name = 'roles_trades' ORDER BY id;
RESET ROLE;

-- The writer writes through enforcement with INSERT alone: the rules are
-- read, and the unique and references lookups run, as their tables'
-- owners (as foreign-key checks do); the writer reads neither table.
SET ROLE regress_vigil_writer;
INSERT INTO roles_trades VALUES (10, 1, 5, 'BTC-USD');
INSERT INTO roles_trades VALUES (11, 9, 5000, 'BTC-USD');
SELECT vigil_check('roles_trades', '{"id": 12, "user_id": 2, "price": 7}') AS writer_checks;
-- 5. A reference's target was fixed when the rule was added: a temporary
-- table of the same name in the writer's session changes nothing.
CREATE TEMP TABLE roles_users (id integer);
INSERT INTO roles_users VALUES (9);
INSERT INTO roles_trades VALUES (13, 9, 5, 'BTC-USD');
DROP TABLE roles_users;
-- The writer cannot change the rules or their enforcement.
SELECT vigil_rule_remove('roles_trades', 'price', 'range');
SELECT vigil_unenforce('roles_trades');
RESET ROLE;

-- The attacker holds ALL on every table and function of public, vigil's
-- views and functions included, and still gets nothing.
SET ROLE regress_vigil_attacker;
SELECT vigil_rule_add('roles_trades', 'price', 'expression', '{"sql": "pg_notify(''x'', price::text) IS NULL"}');
SELECT vigil_rule_remove('roles_trades', 'price', 'range');
SELECT vigil_unenforce('roles_trades');
SELECT vigil_enforce('roles_trades');
-- A references rule from one's own table to another's needs REFERENCES on
-- the target, as a foreign key does (else it is a membership oracle).
CREATE TABLE roles_probe (email text);
SELECT vigil_rule_add('roles_probe', 'email', 'references', '{"table": "roles_users", "column": "email"}');
-- 6. vigil's state: the views show the attacker nothing, refuse writes,
-- and the state itself is out of reach.
SELECT count(*) AS history_rows_seen FROM vigil_migration_history;
SELECT count(*) AS rules_seen FROM vigil_rules WHERE table_name = 'roles_trades';
DELETE FROM vigil_rules;
INSERT INTO vigil_migration_history (id, version, action, at, prev_hash, entry_hash)
VALUES (99, '99', 'apply', now(), 'x', 'y');
UPDATE vigil_alerts SET message = 'forged';
TRUNCATE vigil_migration_history;
DELETE FROM vigil_state.vigil_migration_history;
SELECT vigil_migration_add('98', 'planted', 'ALTER ROLE regress_vigil_attacker SUPERUSER');
SELECT vigil_migrate();
SELECT vigil_migration_status();
-- No ordinary role can take or stall the migration lock.
BEGIN;
LOCK TABLE vigil_state.vigil_migrations IN ACCESS SHARE MODE;
ROLLBACK;
-- The rules are still there and still enforced.
RESET ROLE;
SELECT count(*) AS rules_left FROM vigil_rules WHERE table_name = 'roles_trades';
SET ROLE regress_vigil_writer;
INSERT INTO roles_trades VALUES (14, 1, -1, 'BTC-USD');
RESET ROLE;

-- The reader reads the histories and changes nothing.
SELECT vigil_migration_add('1', 'roles table', 'CREATE TABLE roles_m1 (a integer);', 'DROP TABLE roles_m1;') LIKE 'sha256:%' AS registered;
SELECT vigil_migrate()->>'status' AS migrated;
SET ROLE regress_vigil_reader;
SELECT version, name, state FROM vigil_migration_status();
SELECT count(*) AS history_rows FROM vigil_migration_history;
SELECT vigil_rollback('0');
DELETE FROM vigil_migration_history;
RESET ROLE;

-- 1 and 6. Quality: a report covers what its caller may read and lists
-- what it skipped; the scans run as each table's owner.
SET ROLE regress_vigil_attacker;
SELECT (r->'skipped') ? 'roles_trades' AS owner_table_skipped,
       (SELECT count(*) FROM jsonb_array_elements(r->'tables') t WHERE t->>'table' = 'roles_probe') AS own_table_reported
FROM vigil_quality_report() AS r;
SELECT count(*) AS history_seen FROM vigil_quality_history;
RESET ROLE;
SELECT count(*) > 0 AS history_recorded FROM vigil_quality_history;
-- vigil_quality_issues reads the same report: nothing of a table its
-- caller may not read, and nothing recorded.
CREATE TEMP TABLE roles_history AS SELECT count(*) AS n FROM vigil_quality_history;
SET ROLE regress_vigil_attacker;
SELECT count(*) FILTER (WHERE table_name = 'roles_trades') AS unreadable_issues,
       count(*) FILTER (WHERE table_name = 'roles_probe') >= 0 AS own_issues_read
FROM vigil_quality_issues();
RESET ROLE;
SELECT (SELECT count(*) FROM vigil_quality_history) = n AS issues_recorded_nothing FROM roles_history;
DROP TABLE roles_history;

-- 3. search_path hijack of vigil's own tables. "$user" comes first in the
-- default search_path, so a role that may create a schema named like the
-- administrator plants look-alikes of vigil's tables there. vigil names its
-- own tables with its state schema: the planted script never runs.
SET ROLE regress_vigil_attacker;
CREATE SCHEMA postgres;
CREATE TABLE postgres.vigil_migrations (LIKE public.vigil_migrations);
CREATE TABLE postgres.vigil_migration_history (LIKE public.vigil_migration_history);
INSERT INTO postgres.vigil_migrations VALUES
  ('999', '00000000000000000999', 'planted', 'ALTER ROLE regress_vigil_attacker SUPERUSER', NULL, 'x', NULL, NULL, now());
GRANT USAGE ON SCHEMA postgres TO PUBLIC;
GRANT SELECT ON postgres.vigil_migrations, postgres.vigil_migration_history TO PUBLIC;
-- The same schema holds overloads that match vigil's own calls better than
-- pg_catalog's (json_build_object for the quality check's catalog reads,
-- format for the migration snapshot, = on oid and regclass for
-- vigil_insert): vigil's SQL names pg_catalog or pins search_path, so none
-- of them runs (each would make its caller's role superuser).
CREATE FUNCTION postgres.escalate() RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE regress_vigil_attacker SUPERUSER';
  END IF;
END $f$;
CREATE FUNCTION postgres.json_build_object(text, json, text, json, text, json) RETURNS json LANGUAGE plpgsql AS $f$
BEGIN PERFORM postgres.escalate(); RETURN pg_catalog.json_build_object($1, $2, $3, $4, $5, $6); END $f$;
CREATE FUNCTION postgres.format(text, name, text, text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN PERFORM postgres.escalate(); RETURN pg_catalog.format($1, $2, $3, $4); END $f$;
CREATE FUNCTION postgres.oid_eq(oid, regclass) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN PERFORM postgres.escalate(); RETURN $1 OPERATOR(pg_catalog.=) $2::oid; END $f$;
CREATE OPERATOR postgres.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = postgres.oid_eq);
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA postgres TO PUBLIC;
RESET ROLE;
SHOW search_path;
SELECT vigil_quality_check('roles_users')->>'rows' AS quality_rows;
SELECT vigil_insert('roles_users', '{"id": 3, "email": "cy@example.com"}') AS inserted_key;
SELECT vigil_migrate()->>'status' AS status, jsonb_array_length(vigil_migrate()->'applied') AS applied;
SELECT count(*) AS planted_rows_seen FROM vigil_migration_status() WHERE version = '999';
SELECT rolsuper AS attacker_is_superuser FROM pg_roles WHERE rolname = 'regress_vigil_attacker';
DROP SCHEMA postgres CASCADE;

-- 7. Privileges before locks: a role that may not use a table gets 42501
-- from vigil_check before vigil locks the table (it used to hold an
-- AccessShareLock on the owner's table, and answer).
SET ROLE regress_vigil_owner;
CREATE TABLE roles_accounts (id integer PRIMARY KEY, email text);
SELECT vigil_rule_add('roles_accounts', 'email', 'email') > 0 AS rule_added;
RESET ROLE;
REVOKE ALL ON roles_accounts FROM regress_vigil_attacker;
SET ROLE regress_vigil_attacker;
BEGIN;
SELECT vigil_check('roles_accounts', '{"email": "x"}');
ROLLBACK;
-- The quality check needs SELECT, checked before the lock too.
SELECT vigil_quality_check('roles_accounts');
RESET ROLE;

-- 1. A table's code is its owner's: the superuser's quality check turned a
-- sample key into JSON through a cast the table's owner wrote, and the
-- owner became superuser. The scans now run as the table's owner
-- (SECURITY_RESTRICTED_OPERATION; search_path pinned), as VACUUM does.
SET ROLE regress_vigil_owner;
CREATE TYPE roles_mood AS ENUM ('calm', 'tense');
CREATE FUNCTION roles_mood_json(m roles_mood) RETURNS json LANGUAGE plpgsql AS $f$
BEGIN
  ALTER ROLE regress_vigil_owner SUPERUSER;
  RETURN to_json(m::text);
END $f$;
CREATE CAST (roles_mood AS json) WITH FUNCTION roles_mood_json(roles_mood);
CREATE TABLE roles_moods (m roles_mood PRIMARY KEY, email text);
INSERT INTO roles_moods VALUES ('calm', 'not-an-email');
SELECT vigil_rule_add('roles_moods', 'email', 'email') > 0 AS rule_added;
RESET ROLE;
SELECT vigil_quality_check('roles_moods')->'validity'->'rules'->0->'samples' AS samples;
SELECT rolsuper AS owner_is_superuser FROM pg_roles WHERE rolname = 'regress_vigil_owner';

-- 4 (lookups). A unique or references lookup names the type's own
-- equality operator and runs under search_path pg_catalog, pg_temp: an
-- operator the attacker put in public (where it may create) for the
-- column's type never runs, as any role.
SET ROLE regress_vigil_attacker;
CREATE FUNCTION public.roles_varchar_eq(varchar, varchar) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN RAISE EXCEPTION 'the attacker''s operator ran as %', current_user; END $f$;
CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = varchar, FUNCTION = public.roles_varchar_eq);
RESET ROLE;
SET ROLE regress_vigil_owner;
CREATE TABLE roles_logins (id integer PRIMARY KEY, login varchar(40));
SELECT vigil_rule_add('roles_logins', 'login', 'unique') > 0 AS rule_added, vigil_enforce('roles_logins');
GRANT INSERT ON roles_logins TO regress_vigil_writer;
RESET ROLE;
SET ROLE regress_vigil_writer;
INSERT INTO roles_logins VALUES (1, 'ann'), (2, 'bob');
INSERT INTO roles_logins VALUES (3, 'ann');
RESET ROLE;
DROP OPERATOR public.= (varchar, varchar);
DROP FUNCTION public.roles_varchar_eq(varchar, varchar);

-- 6 (locks). The views belong to vigil_views, which may only read
-- vigil_state: the attacker's ALL on them takes no lock a writer or a
-- migration would wait for.
SET ROLE regress_vigil_attacker;
BEGIN;
LOCK TABLE vigil_migrations IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
BEGIN;
LOCK TABLE vigil_rules IN ROW EXCLUSIVE MODE;
ROLLBACK;
-- A leaky function sees no rule of a table the attacker has no privilege on
-- (the views are security barriers).
CREATE FUNCTION pg_temp.roles_leak(jsonb) RETURNS boolean LANGUAGE plpgsql COST 0.000001 AS $f$
BEGIN RAISE NOTICE 'leaked: %', $1; RETURN true; END $f$;
SELECT count(*) AS rules_seen FROM vigil_rules WHERE pg_temp.roles_leak(params);
DROP FUNCTION pg_temp.roles_leak(jsonb);
RESET ROLE;

-- 2 and 5 (orphans). A rule dies with its table: a table created later
-- under the same name, by anyone, inherits nothing; and a temporary table
-- (whose pg_temp_N schema is another session's next) takes no rule.
SET ROLE regress_vigil_owner;
CREATE TABLE roles_orphan (id integer, note text);
SELECT vigil_rule_add('roles_orphan', 'note', 'expression', '{"sql": "note <> ''x''"}') > 0 AS rule_added;
DROP TABLE roles_orphan;
RESET ROLE;
SET ROLE regress_vigil_attacker;
CREATE TABLE roles_orphan (id integer, note text);
SELECT count(*) AS inherited_rules FROM vigil_rules WHERE table_name = 'roles_orphan';
DROP TABLE roles_orphan;
CREATE TEMP TABLE roles_temp (id integer);
SELECT vigil_rule_add('roles_temp', 'id', 'not_null');
DROP TABLE roles_temp;
RESET ROLE;

-- Partitions: a row written into a partitioned table is checked against
-- the partitioned table's rules (the trigger fires on the partition).
SET ROLE regress_vigil_owner;
CREATE TABLE roles_parted (id integer, price numeric) PARTITION BY RANGE (id);
CREATE TABLE roles_parted_1 PARTITION OF roles_parted FOR VALUES FROM (0) TO (1000);
SELECT vigil_rule_add('roles_parted', 'price', 'range', '{"min": 0, "max": 10}') > 0 AS rule_added,
       vigil_enforce('roles_parted');
GRANT INSERT ON roles_parted TO regress_vigil_writer;
RESET ROLE;
SET ROLE regress_vigil_writer;
INSERT INTO roles_parted VALUES (1, 5);
INSERT INTO roles_parted VALUES (2, 99999);
RESET ROLE;

-- 1 and 4 (scans). A quality scan calls vigil's functions as the table's
-- owner: their twins in vigil_state, where nobody else may create, with
-- typed arguments. An overload the attacker puts in public (where it may
-- create) neither runs nor makes the call ambiguous.
SET ROLE regress_vigil_attacker;
CREATE FUNCTION public.vigil_rule_check(rule text, params text, value text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN RAISE EXCEPTION 'the attacker''s vigil_rule_check ran as %', current_user; END $f$;
CREATE FUNCTION public.vigil_validate(kind text, value text, x integer DEFAULT 0) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN RAISE EXCEPTION 'the attacker''s vigil_validate ran as %', current_user; END $f$;
RESET ROLE;
CREATE TABLE roles_ledger (id integer PRIMARY KEY, amount integer, email text);
INSERT INTO roles_ledger VALUES (1, 10, 'a@example.com'), (2, -5, 'nope');
SELECT vigil_rule_add('roles_ledger', 'amount', 'positive') > 0 AS rule_added,
       vigil_rule_add('roles_ledger', 'email', 'email') > 0 AS rule_added_email;
SELECT vigil_quality_check('roles_ledger')->'validity'->>'rows_invalid' AS rows_invalid;
SELECT rolsuper AS attacker_is_superuser FROM pg_roles WHERE rolname = 'regress_vigil_attacker';
DROP FUNCTION public.vigil_rule_check(text, text, text);
DROP FUNCTION public.vigil_validate(text, text, integer);
DROP TABLE roles_ledger;

-- 6 (triggers on vigil's objects). GRANT ALL hands out TRIGGER on vigil's
-- views; an INSTEAD OF trigger of the attacker's would run as whoever
-- writes to them. vigil refuses triggers on its own objects.
SET ROLE regress_vigil_attacker;
CREATE FUNCTION public.roles_view_trigger() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NULL; END $f$;
CREATE TRIGGER a_first INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_rules
    FOR EACH ROW EXECUTE FUNCTION public.roles_view_trigger();
DROP FUNCTION public.roles_view_trigger();
RESET ROLE;
DELETE FROM vigil_rules WHERE table_name = 'roles_trades';

-- 5 (types). An expression rule's row is cast to the columns' types by
-- their schema: a writer's type of the same name in pg_temp, first on its
-- path, does not change what the rule compares.
SET ROLE regress_vigil_owner;
CREATE TYPE roles_level AS ENUM ('low', 'mid', 'high');
CREATE TABLE roles_jobs (id integer, lvl roles_level);
SELECT vigil_rule_add('roles_jobs', NULL, 'expression', '{"sql": "lvl <= ''mid''"}') > 0 AS rule_added,
       vigil_enforce('roles_jobs');
GRANT INSERT ON roles_jobs TO regress_vigil_writer;
RESET ROLE;
SET ROLE regress_vigil_writer;
CREATE DOMAIN pg_temp.roles_level AS text;
SET search_path = pg_temp, public;
INSERT INTO public.roles_jobs VALUES (1, 'high');
RESET search_path;
DROP DOMAIN pg_temp.roles_level;
RESET ROLE;

-- 12. The JSON Schema registry holds shared contracts: members of
-- vigil_json_schema_admin change it, everyone reads it and validates with
-- it, a table owner's json_schema rule relies on it, and a writer's rows
-- are checked against it with no privilege on vigil's state.
CREATE ROLE regress_vigil_contracts LOGIN IN ROLE vigil_json_schema_admin;
SET ROLE regress_vigil_contracts;
SELECT vigil_json_schema_add('https://example.com/roles/price.json', '{"type": "number", "minimum": 0}') AS admin_adds;
RESET ROLE;
SET ROLE regress_vigil_owner;
CREATE TABLE roles_quotes (id integer PRIMARY KEY, body text);
GRANT INSERT ON roles_quotes TO regress_vigil_writer;
SELECT vigil_rule_add('roles_quotes', 'body', 'json_schema',
                      '{"schema": {"properties": {"price": {"$ref": "https://example.com/roles/price.json"}}}}') > 0 AS owner_relies;
SELECT vigil_enforce('roles_quotes') AS owner_enforces_contract;
RESET ROLE;
SET ROLE regress_vigil_writer;
INSERT INTO roles_quotes VALUES (1, '{"price": 5}');
INSERT INTO roles_quotes VALUES (2, '{"price": -5}');
RESET ROLE;
SET ROLE regress_vigil_attacker;
SELECT vigil_json_schema_add('https://example.com/roles/price.json', 'true');
SELECT vigil_json_schema_add('https://example.com/roles/other.json', 'true');
SELECT vigil_json_schema_remove('https://example.com/roles/price.json');
INSERT INTO vigil_json_schemas (uri, schema) VALUES ('https://example.com/roles/x.json', 'true');
UPDATE vigil_json_schemas SET schema = 'true';
DELETE FROM vigil_json_schemas;
SELECT count(*) FROM vigil_state.vigil_json_schemas;
SELECT uri, schema FROM vigil_json_schemas ORDER BY uri;
SELECT vigil_json_schema_valid('{"$ref": "https://example.com/roles/price.json"}', '-1', '{"registry": true}') AS attacker_validates;
RESET ROLE;
-- The contract tightens: the writer's next row meets it at once.
SET ROLE regress_vigil_contracts;
SELECT vigil_json_schema_add('https://example.com/roles/price.json', '{"type": "number", "minimum": 0, "maximum": 100}') AS admin_replaces;
SELECT vigil_json_schema_remove('https://example.com/roles/price.json');
RESET ROLE;
SET ROLE regress_vigil_writer;
INSERT INTO roles_quotes VALUES (3, '{"price": 500}');
RESET ROLE;
SET ROLE regress_vigil_owner;
SELECT vigil_rule_remove('roles_quotes', 'body', 'json_schema');
DROP TABLE roles_quotes;
RESET ROLE;
SET ROLE regress_vigil_contracts;
SELECT vigil_json_schema_remove('https://example.com/roles/price.json') AS admin_removes;
RESET ROLE;
DROP ROLE regress_vigil_contracts;

-- Clean up: the owner removes its rules; the superuser its migration.
SET ROLE regress_vigil_owner;
SELECT vigil_rule_remove('roles_moods', 'email', 'email');
DROP TABLE roles_moods;
DROP CAST (roles_mood AS json);
DROP FUNCTION roles_mood_json(roles_mood);
DROP TYPE roles_mood;
SELECT vigil_rule_remove('roles_accounts', 'email', 'email');
SELECT vigil_rule_remove('roles_trades', c, r) FROM (VALUES ('price', 'range'), ('user_id', 'references'), ('id', 'unique')) v(c, r);
DROP TABLE roles_accounts, roles_trades, roles_users, roles_logins, roles_parted, roles_jobs;
DROP TYPE roles_level;
RESET ROLE;
DROP TABLE roles_probe;
SELECT vigil_rollback('0')->>'status' AS rolled_back;
DELETE FROM vigil_state.vigil_migration_history;
DELETE FROM vigil_state.vigil_migrations;
DELETE FROM vigil_state.vigil_quality_history;
DELETE FROM vigil_state.vigil_alerts;
REVOKE CREATE ON DATABASE contrib_regression FROM regress_vigil_attacker;
REVOKE ALL ON SCHEMA public FROM regress_vigil_owner, regress_vigil_attacker;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM regress_vigil_attacker;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM regress_vigil_attacker;
DROP ROLE regress_vigil_owner, regress_vigil_writer, regress_vigil_reader, regress_vigil_attacker;
