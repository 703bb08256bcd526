-- migrations.sql — schema migrations through the sqlite3 shell, started as
-- plain `SELECT vigil_migrate();`: DROP and ALTER work inside it.
.headers on
.mode list
.nullvalue NULL

SELECT vigil_migration_add_dir('../../examples/cryptotrading/migrations') AS registered;
SELECT json_extract(vigil_migrate(), '$.status') AS status;
SELECT version, name, state FROM vigil_migration_status;
SELECT count(*) AS seed_indexes FROM sqlite_schema WHERE type = 'index' AND name LIKE 'idx\_%' ESCAPE '\';

-- Roll the last one back (DROP INDEX inside the statement) and re-apply it.
SELECT json_extract(vigil_rollback('4'), '$.undone[0].version') AS undone;
SELECT count(*) AS seed_indexes FROM sqlite_schema WHERE type = 'index' AND name LIKE 'idx\_%' ESCAPE '\';
SELECT json_extract(vigil_migrate(), '$.applied[0].version') AS reapplied;

-- ALTER TABLE and DROP TABLE inside vigil_migrate.
SELECT vigil_migration_add('6', 'alter and drop', 'ALTER TABLE users ADD COLUMN tier text; CREATE TABLE scratch (x integer); DROP TABLE scratch;', 'ALTER TABLE users DROP COLUMN tier;');
SELECT json_extract(vigil_migrate(), '$.status') AS status;
SELECT name FROM pragma_table_info('users') WHERE name = 'tier';
SELECT json_extract(vigil_rollback('5'), '$.status') AS rollback_status;
SELECT count(*) AS tier_columns FROM pragma_table_info('users') WHERE name = 'tier';

-- Inside a caller's transaction the caller commits (or rolls back).
BEGIN;
SELECT json_extract(vigil_migrate(), '$.applied[0].version') AS applied_in_transaction;
ROLLBACK;
SELECT state FROM vigil_migration_status WHERE version = '6';

-- A trigger or view cannot run migrations (DIRECTONLY).
CREATE TABLE m_log (x TEXT);
CREATE TRIGGER m_sneaky AFTER INSERT ON m_log BEGIN SELECT vigil_migrate(); END;
INSERT INTO m_log VALUES ('x');
SELECT json_extract(vigil_migration_validate(), '$.valid') AS valid_before, json_extract(vigil_migration_validate(), '$.schema.diff') AS schema_diff;

-- Bad input: clear errors, nothing registered.
SELECT vigil_migration_add_dir('.');
SELECT vigil_migration_add_dir('../cases');
SELECT vigil_migration_add_dir('/nonexistent');
SELECT vigil_rollback('42');
SELECT count(*) AS registered FROM vigil_migrations;

-- Each step records its own time, when it ends (not one time for the whole
-- vigil_migrate statement): the second migration works for a while, so it
-- ends later than the first.
SELECT vigil_migration_add('900', 'quick', 'CREATE TABLE quick_t (a);') IS NOT NULL AS registered;
SELECT vigil_migration_add('901', 'slow', 'CREATE TABLE slow_t AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) AS n FROM c;') IS NOT NULL AS registered;
SELECT json_extract(vigil_migrate(), '$.status') AS status;
SELECT (SELECT at FROM vigil_migration_history WHERE version = '901' AND action = 'apply')
     > (SELECT at FROM vigil_migration_history WHERE version = '900' AND action = 'apply') AS later;

-- Migration files are regular files of bounded size: a FIFO named like a
-- migration used to block the call forever, /dev/zero to read until memory
-- ran out.
.system rm -rf /tmp/vigil-suite-add-dir && mkdir -p /tmp/vigil-suite-add-dir && mkfifo /tmp/vigil-suite-add-dir/V1__fifo.sql
SELECT vigil_migration_add_dir('/tmp/vigil-suite-add-dir');
.system rm -rf /tmp/vigil-suite-add-dir && mkdir -p /tmp/vigil-suite-add-dir && ln -s /dev/zero /tmp/vigil-suite-add-dir/V1__zero.sql
SELECT vigil_migration_add_dir('/tmp/vigil-suite-add-dir');
.system rm -rf /tmp/vigil-suite-add-dir
SELECT vigil_migration_add_dir('no/such/relative/dir');

-- Names and scripts are UTF-8, checked at registration (a byte 0xFF in a
-- name used to make every later vigil_migrate fail).
SELECT vigil_migration_add('40', CAST(X'6E61FF6D65' AS TEXT), 'CREATE TABLE u40 (a);');
SELECT vigil_migration_add('40', 'bytes', CAST(X'43524541544520FF' AS TEXT));
SELECT json_extract(vigil_migrate(), '$.status') AS still_migrates;

-- Scripts are scanned by SQLite's own lexical rules: its block comments do
-- not nest, so this script commits (it used to register, then commit half a
-- migration and leave it pending); a column named begin hides nothing.
SELECT vigil_migration_add('41', 'comment trick', 'CREATE TABLE s1(a); /* /* */ COMMIT; /* */');
SELECT vigil_migration_add('42', 'begin column', 'CREATE TABLE s2(begin integer);
COMMIT;');
