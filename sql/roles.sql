-- roles.sql — the privilege model, with real roles (the privilege-model
-- issue's classes; more follow with it). Each case failed before its fix.
CREATE ROLE regress_vigil_owner LOGIN;
CREATE ROLE regress_vigil_writer LOGIN;
CREATE ROLE regress_vigil_attacker LOGIN;
GRANT CREATE ON DATABASE contrib_regression TO regress_vigil_attacker;
GRANT CREATE ON SCHEMA public TO regress_vigil_owner;

-- 1. search_path hijack of vigil's own tables. "$user" comes first in the
-- default search_path, so a role that may create a schema named like the
-- administrator plants look-alikes of vigil's tables there. vigil names its
-- own tables with the extension's schema: the planted script never runs.
SET ROLE regress_vigil_attacker;
CREATE SCHEMA postgres;
CREATE TABLE postgres.vigil_migrations (LIKE public.vigil_migrations);
CREATE TABLE postgres.vigil_migration_history (LIKE public.vigil_migration_history);
INSERT INTO postgres.vigil_migrations VALUES
  ('999', '00000000000000000999', 'planted', 'ALTER ROLE regress_vigil_attacker SUPERUSER', NULL, 'x', NULL, NULL, now());
GRANT USAGE ON SCHEMA postgres TO PUBLIC;
GRANT SELECT ON postgres.vigil_migrations, postgres.vigil_migration_history TO PUBLIC;
RESET ROLE;
SHOW search_path;
SELECT vigil_migrate()->>'status' AS status, jsonb_array_length(vigil_migrate()->'applied') AS applied;
SELECT count(*) AS planted_rows_seen FROM vigil_migration_status() WHERE version = '999';
SELECT rolsuper AS attacker_is_superuser FROM pg_roles WHERE rolname = 'regress_vigil_attacker';
DROP SCHEMA postgres CASCADE;

-- 2. Privileges before locks: a role that may not use a table gets 42501
-- from vigil_check before vigil locks the table (it used to hold an
-- AccessShareLock on the owner's table, and answer).
SET ROLE regress_vigil_owner;
CREATE TABLE roles_accounts (id integer PRIMARY KEY, email text);
GRANT INSERT ON roles_accounts TO regress_vigil_writer;
RESET ROLE;
SELECT vigil_rule_add('roles_accounts', 'email', 'email') > 0 AS rule_added;
SET ROLE regress_vigil_attacker;
BEGIN;
SELECT vigil_check('roles_accounts', '{"email": "x"}');
ROLLBACK;
RESET ROLE;
-- The quality check needs SELECT, checked before the lock too.
SET ROLE regress_vigil_attacker;
SELECT vigil_quality_check('roles_accounts');
RESET ROLE;

-- 3. A table's code is its owner's: the superuser's quality check turned a
-- sample key into JSON through a cast the table's owner wrote, and the
-- owner became superuser. The scans now run as the table's owner
-- (SECURITY_RESTRICTED_OPERATION; search_path pg_catalog, the table's
-- schema, pg_temp), as VACUUM does.
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
RESET ROLE;
SELECT vigil_rule_add('roles_moods', 'email', 'email') > 0 AS rule_added;
SELECT vigil_quality_check('roles_moods')->'validity'->'rules'->0->'samples' AS samples;
SELECT rolsuper AS owner_is_superuser FROM pg_roles WHERE rolname = 'regress_vigil_owner';
SELECT vigil_rule_remove('roles_moods', 'email', 'email');
DROP TABLE roles_moods;
DROP CAST (roles_mood AS json);
DROP FUNCTION roles_mood_json(roles_mood);
DROP TYPE roles_mood;

SELECT vigil_rule_remove('roles_accounts', 'email', 'email');
DROP TABLE roles_accounts;
REVOKE CREATE ON DATABASE contrib_regression FROM regress_vigil_attacker;
REVOKE CREATE ON SCHEMA public FROM regress_vigil_owner;
DROP ROLE regress_vigil_owner, regress_vigil_writer, regress_vigil_attacker;
