-- migrations.sql — schema migrations in PostgreSQL: files from the server,
-- the seed's schema, rollback and re-apply, what only PostgreSQL shows
-- (advisory lock, privileges, transaction-only statements). The shared
-- scenario tests/cases/migrations.jsonl covers the behaviour on both engines.
\getenv pwd PWD
\set dir :pwd '/../examples/cryptotrading/migrations'
SELECT vigil_migration_add_dir(:'dir');
SELECT jsonb_path_query_array(vigil_migrate(), '$.applied[*].version') AS applied;
SELECT version, name, state, applied_by FROM vigil_migration_status();
SELECT count(*) AS seed_indexes FROM pg_indexes WHERE indexname LIKE 'idx\_%';

-- Roll the last one back and apply it again.
SELECT jsonb_path_query_array(vigil_rollback('4'), '$.undone[*].version') AS undone;
SELECT version, state FROM vigil_migration_status() WHERE version = '5';
SELECT count(*) AS seed_indexes FROM pg_indexes WHERE indexname LIKE 'idx\_%';
SELECT jsonb_path_query_array(vigil_migrate(), '$.applied[*].version') AS reapplied;
SELECT (vigil_migration_validate())->'valid' AS valid;

-- Statements PostgreSQL refuses inside a function are refused up front.
SELECT vigil_migration_add('6', 'concurrent index', 'CREATE INDEX CONCURRENTLY idx_x ON trades (symbol);');

-- The history is readable by vigil_reader, writable only through vigil
-- (roles.sql covers every role; this is the short tour).
CREATE ROLE regress_history_reader IN ROLE vigil_reader;
SET ROLE regress_history_reader;
SELECT count(*) > 0 AS can_read FROM vigil_migration_history;
DELETE FROM vigil_migration_history;
SELECT vigil_migration_add_dir(:'dir');
SELECT vigil_migrate();
RESET ROLE;
DROP ROLE regress_history_reader;

-- The lock is transaction-level: nothing is left once the call returns.
SELECT count(*) AS advisory_locks FROM pg_locks WHERE locktype = 'advisory';

-- Undo everything, leaving the database as it was.
SELECT jsonb_array_length(vigil_rollback('0')->'undone') AS undone;
SELECT count(*) AS seed_tables FROM pg_tables WHERE tablename IN ('users', 'trades', 'a2a_agents');
DELETE FROM vigil_state.vigil_migration_history;
DELETE FROM vigil_state.vigil_migrations;
DELETE FROM vigil_state.vigil_migration_anchor;

-- A script's own lock_timeout (its header) holds for that script only, and
-- a migration that waits on a busy table fails fast instead of queueing
-- every writer behind it (tests/integration/cli.py holds a real lock).
SET lock_timeout = '7s';
SELECT vigil_migration_add('900', 'lock timeout',
    E'-- vigil: lock_timeout=1500ms\nCREATE TABLE lt_seen AS SELECT pg_catalog.current_setting(''lock_timeout'') AS v;',
    'DROP TABLE lt_seen;') LIKE 'sha256:v2:%' AS registered;
SELECT vigil_migrate('900')->>'status' AS status;
SELECT v AS inside_the_script FROM lt_seen;
SHOW lock_timeout;
RESET lock_timeout;
SELECT vigil_rollback('0')->>'status' AS undone;
DELETE FROM vigil_state.vigil_migration_history;
DELETE FROM vigil_state.vigil_migrations;
DELETE FROM vigil_state.vigil_migration_anchor;
