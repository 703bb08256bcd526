-- demo_migrations.sql — the seed's schema as vigil migrations, on a fresh
-- SQLite database: register, apply, status, roll the last one back, re-apply.
.mode box
.headers on
.nullvalue ·
.print
.print 10. Schema migrations on a fresh database (examples/cryptotrading/migrations)
SELECT vigil_migration_add_dir('examples/cryptotrading/migrations') AS registered;
SELECT vigil_checksum(readfile('examples/cryptotrading/migrations/V1__users.sql')) AS v1_checksum,
       vigil_checksum(replace(readfile('examples/cryptotrading/migrations/V1__users.sql'), char(10), char(13, 10))) AS same_with_crlf;
SELECT json_extract(r, '$.status') AS status, json_extract(r, '$.dry_run') AS dry_run,
       (SELECT group_concat(json_extract(value, '$.version') || ' ' || json_extract(value, '$.name'), ', ')
        FROM json_each(json_extract(r, '$.applied'))) AS would_apply
FROM (SELECT vigil_migrate(NULL, 1) AS r);
SELECT json_extract(r, '$.status') AS status,
       (SELECT group_concat(json_extract(value, '$.version'), ', ') FROM json_each(json_extract(r, '$.applied'))) AS applied
FROM (SELECT vigil_migrate() AS r);
SELECT version, name, state, substr(checksum, 1, 22) || '…' AS checksum FROM vigil_migration_status;
SELECT count(*) AS seed_tables FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'vigil%';
SELECT count(*) AS seed_indexes FROM sqlite_schema WHERE type = 'index' AND name LIKE 'idx\_%' ESCAPE '\';
.print    Roll back the last migration (the performance indexes) and apply it again:
SELECT json_extract(vigil_rollback('4'), '$.undone[0].name') AS undone;
SELECT version, state FROM vigil_migration_status WHERE version = '5';
SELECT json_extract(vigil_migrate(), '$.applied[0].name') AS reapplied;
.print    An edited, already applied script is drift: vigil refuses to migrate until it is repaired.
SELECT vigil_migration_add('1', 'users',
         replace(readfile('examples/cryptotrading/migrations/V1__users.sql'), 'country       text,', 'country       text NOT NULL,'),
         readfile('examples/cryptotrading/migrations/U1__users.sql')) AS new_checksum;
SELECT version, state FROM vigil_migration_status WHERE version = '1';
SELECT vigil_migrate();
SELECT json_extract(vigil_migration_validate(), '$.drifted[0].diff') AS changed_lines;
.print    The change was made by hand already, so accept it:
SELECT json_extract(vigil_migration_repair('1'), '$.checksum') AS repaired_to;
SELECT json_extract(vigil_migrate(), '$.status') AS migrate_after_repair;
.print    A table created by hand is schema drift too:
CREATE TABLE notes_by_hand (x TEXT);
SELECT json_extract(vigil_migration_validate(), '$.schema.diff') AS schema_drift;
.print
.print migrations demo complete.
