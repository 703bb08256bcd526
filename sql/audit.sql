-- audit.sql — the audit trail (SPEC §5, issue 13) with real roles: the
-- table's owner, a writer with INSERT, UPDATE and DELETE only, a reader of
-- the table, an attacker handed GRANT ALL ON ALL TABLES and FUNCTIONS IN
-- SCHEMA public, an auditor (vigil_auditor) and an audit admin
-- (vigil_audit_admin). Hashes and times differ from run to run: the
-- checks print what they prove, not the values.
CREATE ROLE regress_audit_owner LOGIN;
CREATE ROLE regress_audit_writer LOGIN;
CREATE ROLE regress_audit_reader LOGIN;
CREATE ROLE regress_audit_attacker LOGIN;
CREATE ROLE regress_audit_auditor LOGIN IN ROLE vigil_auditor;
CREATE ROLE regress_audit_admin LOGIN IN ROLE vigil_audit_admin;
GRANT CREATE ON SCHEMA public TO regress_audit_owner, regress_audit_attacker;

SET ROLE regress_audit_owner;
CREATE TABLE audit_accounts (id integer PRIMARY KEY, email text, password_hash text, note text, balance numeric);
GRANT SELECT, INSERT, UPDATE, DELETE ON audit_accounts TO regress_audit_writer;
GRANT SELECT ON audit_accounts TO regress_audit_reader;
RESET ROLE;
GRANT ALL ON ALL TABLES IN SCHEMA public TO regress_audit_attacker;
GRANT ALL ON ALL FUNCTIONS IN SCHEMA public TO regress_audit_attacker;

-- Only the table's owner enables or disables its audit.
SET ROLE regress_audit_writer;
SELECT vigil_audit_enable('audit_accounts');
RESET ROLE;
SET ROLE regress_audit_attacker;
SELECT vigil_audit_enable('audit_accounts');
SELECT vigil_audit_disable('audit_accounts');
RESET ROLE;
-- Bad options and names.
SET ROLE regress_audit_owner;
SELECT vigil_audit_enable('audit_accounts', '{"hide": ["email"]}');
SELECT vigil_audit_enable('audit_accounts', '{"exclude": ["nope"]}');
SELECT vigil_audit_enable('audit_accounts', '{"exclude": ["note"], "redact": ["note"]}');
SELECT vigil_audit_enable('audit_accounts', '{"statement": "yes"}');
SELECT vigil_audit_enable('audit_accounts', '[1]');
SELECT vigil_audit_enable('audit_accounts', '{"reads": true}');
SELECT vigil_audit_enable(NULL);
SELECT vigil_audit_enable('');
SELECT vigil_audit_enable('no_such_table');
SELECT vigil_audit_enable('audit_accounts; DROP TABLE audit_accounts');
SELECT vigil_audit_enable('audit_accounts',
    '{"exclude": ["note"], "redact": ["password_hash"], "statement": true}');
SELECT table_name, mode, options, enabled FROM vigil_audit_tables;
RESET ROLE;
SET search_path = vigil_state, public;
SELECT public.vigil_audit_enable('vigil_audit_log');
RESET search_path;

-- The writer writes with no privilege on the log; the application names
-- its actor.
SET ROLE regress_audit_writer;
SELECT vigil_set_actor('user-42');
INSERT INTO audit_accounts VALUES (1, 'ann@example.com', 'argon2-secret-1', 'vip', 10.50),
                                  (2, 'bob@example.com', 'argon2-secret-2', NULL, 0);
UPDATE audit_accounts SET password_hash = 'argon2-secret-3', balance = balance + 1 WHERE id = 1;
BEGIN;
SET LOCAL vigil.actor = 'batch-job';
DELETE FROM audit_accounts WHERE id = 2;
COMMIT;
SELECT vigil_actor();
-- The log is out of the writer's reach.
SELECT count(*) FROM vigil_audit_log;
SELECT count(*) FROM vigil_state.vigil_audit_log;
SELECT vigil_audit_verify();
RESET ROLE;

-- The attacker holds ALL on every table and function of public, the log's
-- view included, and can neither read nor change the log.
SET ROLE regress_audit_attacker;
SELECT count(*) FROM vigil_audit_log;
INSERT INTO vigil_audit_log (id, at, operation) VALUES (999, now(), 'INSERT');
UPDATE vigil_audit_log SET actor = 'x';
DELETE FROM vigil_audit_log;
TRUNCATE vigil_audit_log;
UPDATE vigil_state.vigil_audit_log SET actor = 'x';
SELECT vigil_audit_seal();
SELECT vigil_audit_purge(now());
SELECT vigil_audit_erase('audit_accounts', '{"id": 1}');
SELECT vigil_audit_key('0123456789abcdef0123');
SHOW vigil.audit_key;
-- Look-alike functions and operators on the path change nothing: vigil's
-- SQL names pg_catalog's, and its triggers call to_jsonb by oid.
CREATE FUNCTION public.to_jsonb(anyelement) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{"forged": true}'::jsonb $$;
CREATE FUNCTION public.to_char(timestamptz, text) RETURNS text LANGUAGE sql AS $$ SELECT 'forged' $$;
CREATE FUNCTION public.forged_eq(bigint, bigint) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.forged_eq);
RESET ROLE;

-- What the log holds: who, what, keys, images (note left out, the
-- password a digest), changed columns, the statement without constants.
SET ROLE regress_audit_auditor;
SET search_path = public, pg_catalog;
SELECT operation, session_role, effective_role, actor, table_schema, table_name, row_key,
       new_row - 'password_hash' AS new_row, changed_columns, statement,
       new_row->>'password_hash' LIKE 'sha256:%' AS redacted,
       txid IS NOT NULL AS has_txid, seq IS NULL AS unsealed
FROM vigil_audit_log WHERE table_name = 'audit_accounts' ORDER BY id;
SELECT count(*) AS secrets_in_log FROM vigil_audit_log
WHERE concat_ws(' ', row_key, old_row, new_row, statement, detail) LIKE '%argon2-secret%';
SELECT vigil_audit_seal() > 0 AS sealed;
SELECT vigil_audit_seal() AS sealed_again;
SELECT v->'valid' AS valid, (v->>'checked')::int = (SELECT count(*) FROM vigil_audit_log) AS checked_all,
       v->'unsealed' AS unsealed, v->'keyed' AS keyed, v->'first_invalid' AS first_invalid
FROM vigil_audit_verify() v;
SELECT vigil_audit_head() = (SELECT entry_hash FROM vigil_audit_log ORDER BY seq DESC LIMIT 1) AS head_is_newest;
SELECT (vigil_audit_verify(vigil_audit_head()))->'expected_head_found' AS head_found;
SELECT (vigil_audit_verify(repeat('0', 64)))->'valid' AS unknown_head_is_invalid;
-- The auditor reads, but neither purges nor erases.
SELECT vigil_audit_purge(now());
SELECT vigil_audit_erase('audit_accounts', '{"id": 1}');
RESET search_path;
RESET ROLE;
DROP OPERATOR public.= (bigint, bigint);
DROP FUNCTION public.forged_eq(bigint, bigint), public.to_jsonb(anyelement), public.to_char(timestamptz, text);

-- The same entry has the same digest on both engines (tests/sqlite/audit.sql
-- prints the same value); spelling does not matter.
SELECT vigil_audit_digest('{"id": 7, "at": "2026-01-01T00:00:00.000000Z", "operation": "INSERT", "table_schema": "main", "table_name": "t", "row_key": {"id": 7}, "new_row": {"id": 7, "price": 1.50}}') AS digest;
SELECT vigil_audit_digest('{"id": 7, "at": "2026-01-01T00:00:00.000000Z", "operation": "INSERT", "table_schema": "main", "table_name": "t", "row_key": {"id": 7}, "new_row": {"id": 7, "price": 1.50}}')
     = vigil_audit_digest('{"new_row": {"price": 15e-1, "id": 7}, "row_key": {"id": 7.0}, "table_name": "t", "table_schema": "main", "operation": "INSERT", "at": "2026-01-01T00:00:00.000000Z", "id": 7}') AS same_digest;
-- The first link is reproducible outside vigil from the entry alone:
-- SHA-256 over the chain's prefix, 32 zero bytes and the entry's digest.
SELECT encode(sha256(convert_to('vigil-audit-chain-v1', 'UTF8') || decode(repeat('00', 32), 'hex')
              || decode(vigil_audit_digest(to_jsonb(l) - 'at' || jsonb_build_object('at',
                   to_char(l.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))), 'hex')), 'hex')
       = l.entry_hash AS first_link_reproduced
FROM vigil_state.vigil_audit_log l WHERE seq = 1;

-- Erasure: a data subject's images go, their digests stay, the chain
-- verifies, and the erasure is itself an entry.
SET ROLE regress_audit_admin;
SELECT vigil_audit_erase('audit_accounts', '{"id": 1}');
SELECT vigil_audit_erase('public.audit_accounts', '{"id": 1}');
SELECT vigil_audit_erase('audit_accounts', '[1]');
SELECT vigil_audit_erase('nope', '{"id": 1}');
SELECT vigil_audit_erase(NULL, '{"id": 1}');
SELECT operation, row_key, old_row IS NULL AND new_row IS NULL AS erased,
       (old_digest IS NOT NULL OR new_digest IS NOT NULL) AS digests_kept
FROM vigil_audit_log WHERE table_name = 'audit_accounts' AND row_key->>'id' = '1' ORDER BY id;
SELECT (vigil_audit_verify())->'valid' AS valid_after_erasure;
RESET ROLE;

-- Tampering, as a superuser can: each change is found and named.
CREATE TEMP TABLE audit_saved AS SELECT * FROM vigil_state.vigil_audit_log;
CREATE FUNCTION pg_temp.problem() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce((v->'first_invalid'->>'problem') || ' at seq ' || (v->'first_invalid'->>'seq'), 'valid')
  FROM vigil_audit_verify() v $$;
CREATE FUNCTION pg_temp.restore() RETURNS void LANGUAGE sql AS $$
  DELETE FROM vigil_state.vigil_audit_log; INSERT INTO vigil_state.vigil_audit_log SELECT * FROM audit_saved $$;
UPDATE vigil_state.vigil_audit_log SET new_row = jsonb_set(new_row, '{balance}', '1000000') WHERE seq = 5;
SELECT pg_temp.problem() AS value_changed;
SELECT pg_temp.restore();
UPDATE vigil_state.vigil_audit_log SET actor = 'someone-else' WHERE seq = 6;
SELECT pg_temp.problem() AS actor_changed;
SELECT pg_temp.restore();
DELETE FROM vigil_state.vigil_audit_log WHERE seq = 1;
SELECT pg_temp.problem() AS first_deleted;
SELECT pg_temp.restore();
DELETE FROM vigil_state.vigil_audit_log WHERE seq = 4;
SELECT pg_temp.problem() AS middle_deleted;
SELECT pg_temp.restore();
DELETE FROM vigil_state.vigil_audit_log WHERE seq = (SELECT max(seq) FROM vigil_state.vigil_audit_log);
SELECT pg_temp.problem() AS last_deleted;
SELECT pg_temp.restore();
UPDATE vigil_state.vigil_audit_log SET seq = -4 WHERE seq = 4;
UPDATE vigil_state.vigil_audit_log SET seq = 4 WHERE seq = 5;
UPDATE vigil_state.vigil_audit_log SET seq = 5 WHERE seq = -4;
SELECT pg_temp.problem() AS swapped;
SELECT pg_temp.restore();
INSERT INTO vigil_state.vigil_audit_log (id, at, operation, table_name, seq, entry_hash)
SELECT 100000, now(), 'DELETE', 'audit_accounts', max(seq) + 1, repeat('a', 64) FROM vigil_state.vigil_audit_log;
SELECT pg_temp.problem() AS forged_appended;
SELECT pg_temp.restore();
UPDATE vigil_state.vigil_audit_log SET seq = seq + 1000000 WHERE seq >= 3;
UPDATE vigil_state.vigil_audit_log SET seq = seq - 999999 WHERE seq >= 1000000;
INSERT INTO vigil_state.vigil_audit_log (id, at, operation, table_name, seq, entry_hash)
VALUES (100001, now(), 'DELETE', 'audit_accounts', 3, repeat('b', 64));
SELECT pg_temp.problem() AS forged_inserted;
SELECT pg_temp.restore();
TRUNCATE vigil_state.vigil_audit_log;
SELECT pg_temp.problem() AS truncated;
SELECT pg_temp.restore();
SELECT pg_temp.problem() AS restored;

-- DDL on an audited table is recorded, the trigger switched off included;
-- so is TRUNCATE.
SET ROLE regress_audit_owner;
ALTER TABLE audit_accounts DISABLE TRIGGER vigil_audit_update;
ALTER TABLE audit_accounts ENABLE TRIGGER vigil_audit_update;
ALTER TABLE audit_accounts ADD COLUMN tier text DEFAULT 'basic';
TRUNCATE audit_accounts;
RESET ROLE;
SELECT operation, table_name, detail->>'command' AS command,
       jsonb_path_query_array(detail, '$.objects[*].identity') AS objects, statement
FROM vigil_state.vigil_audit_log WHERE operation IN ('DDL', 'TRUNCATE') AND seq IS NULL ORDER BY id;

-- Row images of every kind of column.
CREATE DOMAIN audit_positive AS integer CHECK (VALUE > 0);
CREATE TYPE audit_pair AS (a integer, b text);
CREATE TABLE audit_types (id integer PRIMARY KEY, raw bytea, list integer[], pair audit_pair,
                          pos audit_positive, f float8, n numeric, big text, doc jsonb, t timestamptz);
SELECT vigil_audit_enable('audit_types') IS NOT NULL AS enabled;
INSERT INTO audit_types VALUES
  (1, '\x00ff'::bytea, '{1,2,NULL}', ROW(1, 'x'), 5, 'NaN', 'NaN', 'small', '{"k": [1, 2.50]}', '2026-01-01 00:00:00+00'),
  (2, '', '{}', NULL, 1, 'Infinity', 1e-20, repeat('x', 1048576), 'null', NULL),
  (3, NULL, NULL, ROW(NULL, NULL), NULL, '-Infinity', -0.0, '', '"s"', 'infinity');
SELECT id, new_row - 'big' AS new_row, length(new_row->>'big') AS big_length
FROM (SELECT row_key->>'id' AS id, new_row FROM vigil_state.vigil_audit_log
      WHERE table_name = 'audit_types' ORDER BY vigil_state.vigil_audit_log.id) s;
-- Columns of the kinds the trigger writes itself (not through to_jsonb):
-- each image equals to_jsonb of the row, edge values included.
CREATE TABLE audit_fast (id int8 PRIMARY KEY, s int2, i int4, n numeric, t text, v varchar(20), b bool,
                         d date, ts timestamp, tz timestamptz, j jsonb);
SELECT vigil_audit_enable('audit_fast') IS NOT NULL AS enabled;
INSERT INTO audit_fast VALUES
  (1, -32768, 2147483647, 'NaN', 'caf\u00e9 "q" \\ \n', 'x', true, '2026-02-28', '2026-01-01 12:34:56.789', '2026-01-01 00:00:00+05', '{"a": [1, 2.50, null], "b": {"c": "d"}}'),
  (2, 0, -1, 'Infinity', '', '', false, 'infinity', '-infinity', 'infinity', '"scalar"'),
  (3, NULL, NULL, '-Infinity', NULL, NULL, NULL, '0044-03-15 BC', '1999-12-31 23:59:59.999999', NULL, '12.50'),
  (4, 1, 1, -0.0, E'tab\there', 'unicode ☃', true, '2000-01-01', '2000-01-01', '1970-01-01 00:00:00+00', 'null'),
  (5, 2, 3, 123456789012345678901234567890.123456789, 'x', 'y', false, NULL, NULL, NULL, NULL),
  (6, 3, 4, 1e-20, 'x', 'y', true, '2024-02-29', '2024-02-29 00:00:00', '2024-02-29 12:00:00-08', '[]');
UPDATE audit_fast SET n = n * 2 WHERE id IN (4, 5);
SELECT count(*) AS images, count(*) FILTER (WHERE l.new_row = to_jsonb(f) AND l.new_row::text = to_jsonb(f)::text) AS equal_to_jsonb
FROM vigil_state.vigil_audit_log l JOIN audit_fast f ON (l.row_key->>'id')::bigint = f.id
WHERE l.table_name = 'audit_fast' AND l.id = (SELECT max(id) FROM vigil_state.vigil_audit_log m
                                              WHERE m.table_name = 'audit_fast' AND m.row_key = l.row_key);
SELECT vigil_audit_seal() > 0 AS sealed, (vigil_audit_verify())->'valid' AS valid;

-- Without a jsonb column the pairs are written in jsonb's key order
-- directly (no sort per row): names of every length and byte order, a
-- dropped column, a column added after it.
CREATE TABLE audit_order (zz int8 PRIMARY KEY, "B" text, a numeric, "é" int4, bb timestamptz, "Ab" bool, gone text, c date);
ALTER TABLE audit_order DROP COLUMN gone;
ALTER TABLE audit_order ADD COLUMN "aaaa" int2;
SELECT vigil_audit_enable('audit_order') IS NOT NULL AS enabled;
INSERT INTO audit_order VALUES (1, 'x', 1.50, 7, '2026-01-01 00:00:00+00', true, '2026-02-28', 3),
                               (2, NULL, 'NaN', NULL, NULL, NULL, NULL, NULL);
UPDATE audit_order SET a = a + 1;
DELETE FROM audit_order WHERE zz = 2;
SELECT l.operation, coalesce(l.new_row, l.old_row)::text AS image,
       coalesce(l.new_row, l.old_row)::text = coalesce(l.new_row, l.old_row)::text::jsonb::text AS sorted,
       coalesce(l.new_row, l.old_row)->'zz' = l.row_key->'zz' AS key_found,
       l.new_row = (SELECT to_jsonb(o) FROM audit_order o WHERE o.zz = 1) AS equal_to_jsonb
FROM vigil_state.vigil_audit_log l WHERE l.table_name = 'audit_order' AND l.operation <> 'DDL' ORDER BY l.id;

-- Statements that change many rows stage their entries (docs/audit.md,
-- "Staged entries"): raw values, a row of vigil_audit_batch per 1,000,
-- written by the writer's trigger with no privilege on it; the sealer
-- writes them into the log with the same images, keys and changed columns.
SET ROLE regress_audit_owner;
CREATE TABLE audit_bulk (id int8 PRIMARY KEY, s int2, i int4, n numeric, t text, v varchar(20), b bool,
                         d date, ts timestamp, tz timestamptz, j jsonb, skip text);
GRANT SELECT, INSERT, UPDATE, DELETE ON audit_bulk TO regress_audit_writer;
SELECT vigil_audit_enable('audit_bulk', '{"exclude": ["skip"], "statement": true}') IS NOT NULL AS enabled;
RESET ROLE;
SELECT vigil_audit_seal() >= 0 AS sealed_before;
SET ROLE regress_audit_writer;
SET vigil.actor = 'bulk-loader';
INSERT INTO audit_bulk SELECT g, (g % 30000)::int2, g * 7, CASE g % 50 WHEN 0 THEN 'NaN' WHEN 1 THEN '-Infinity' ELSE g / 7.0 END,
  CASE WHEN g % 9 = 0 THEN NULL ELSE 'row ' || g || E' "q" \\ é' END, 'v' || g, g % 2 = 0, DATE '2026-01-01' + g,
  TIMESTAMP '2026-01-01' + g * interval '1 s', TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * interval '1 min',
  CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN jsonb_build_object('k', g, 'a', jsonb_build_array(1, 2.50, NULL)) WHEN 2 THEN '"s"' ELSE '12.50' END,
  'not logged ' || g
FROM generate_series(1, 1500) g;
BEGIN;
SAVEPOINT s;
INSERT INTO audit_bulk SELECT g, 1, 1, 1, 'gone', 'gone', true, NULL, NULL, NULL, NULL, NULL FROM generate_series(5001, 5200) g;
ROLLBACK TO s;
COMMIT;
SELECT count(*) FROM vigil_state.vigil_audit_batch;
RESET vigil.actor;
RESET ROLE;
SELECT count(*) AS batches, sum(n) AS staged, bool_and(operation = 'INSERT' AND actor = 'bulk-loader' AND effective_role = 'regress_audit_writer') AS who,
       max(statement) AS statement, bool_and('skip' <> ALL (columns)) AS excluded_not_staged
FROM vigil_state.vigil_audit_batch;
SELECT count(*) AS logged_before_sealing FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk' AND operation = 'INSERT';
SELECT (vigil_audit_verify()->>'unsealed')::int >= 1500 AS staged_counted_unsealed;
SET ROLE regress_audit_attacker;
SELECT count(*) FROM vigil_state.vigil_audit_batch;
DELETE FROM vigil_state.vigil_audit_batch;
RESET ROLE;
SET ROLE regress_audit_auditor;
SELECT vigil_audit_seal() >= 1500 AS sealed;
RESET ROLE;
SELECT count(*) AS batches_left FROM vigil_state.vigil_audit_batch;
SELECT count(*) AS entries, count(*) FILTER (WHERE l.new_row = to_jsonb(r) - 'skip' AND l.new_row::text = (to_jsonb(r) - 'skip')::text) AS equal_to_jsonb,
       count(*) FILTER (WHERE l.row_key = jsonb_build_object('id', r.id)) AS keyed,
       count(DISTINCT l.id) AS distinct_ids, bool_and(l.seq IS NOT NULL) AS all_sealed
FROM vigil_state.vigil_audit_log l JOIN audit_bulk r ON (l.row_key->>'id')::bigint = r.id
WHERE l.table_name = 'audit_bulk' AND l.operation = 'INSERT';
SET ROLE regress_audit_writer;
UPDATE audit_bulk SET n = n + 1, t = CASE WHEN id % 3 = 0 THEN t ELSE 'changed' END, skip = 'x' WHERE id <= 1200;
DELETE FROM audit_bulk WHERE id > 1000;
RESET ROLE;
SELECT vigil_audit_seal() >= 1700 AS sealed;
SELECT operation, count(*) AS entries, count(DISTINCT changed_columns::text) AS shapes,
       string_agg(DISTINCT changed_columns::text, ' ') AS changed
FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk' GROUP BY operation ORDER BY operation;
SELECT count(*) AS updates_equal_to_jsonb FROM vigil_state.vigil_audit_log l JOIN audit_bulk r ON (l.row_key->>'id')::bigint = r.id
WHERE l.table_name = 'audit_bulk' AND l.operation = 'UPDATE' AND l.new_row = to_jsonb(r) - 'skip';
SELECT count(*) AS deletes_with_old_image FROM vigil_state.vigil_audit_log
WHERE table_name = 'audit_bulk' AND operation = 'DELETE' AND old_row ? 'tz' AND new_row IS NULL AND NOT old_row ? 'skip';
-- In one transaction, an entry written directly after a staged statement
-- first writes that statement's entries: the log keeps the order of the
-- transaction's changes (a rolled-back savepoint's batch is left out).
SET ROLE regress_audit_writer;
BEGIN;
INSERT INTO audit_bulk SELECT g, 1, 1, 1, 'x', 'x', true, NULL, NULL, NULL, NULL, NULL FROM generate_series(3001, 3150) g;
DELETE FROM audit_bulk WHERE id = 3001;
SAVEPOINT s;
INSERT INTO audit_bulk SELECT g, 1, 1, 1, 'x', 'x', true, NULL, NULL, NULL, NULL, NULL FROM generate_series(3201, 3350) g;
ROLLBACK TO s;
UPDATE audit_bulk SET n = 0 WHERE id = 3002;
COMMIT;
RESET ROLE;
SELECT count(*) AS staged_left FROM vigil_state.vigil_audit_batch;
SELECT vigil_audit_seal() >= 2 AS sealed;
SELECT (SELECT max(id) FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk' AND operation = 'INSERT'
          AND (row_key->>'id')::int BETWEEN 3001 AND 3150)
       < (SELECT id FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk' AND operation = 'DELETE'
          AND (row_key->>'id')::int = 3001) AS inserts_before_delete,
       (SELECT id FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk' AND operation = 'DELETE'
          AND (row_key->>'id')::int = 3001)
       < (SELECT id FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk' AND operation = 'UPDATE'
          AND (row_key->>'id')::int = 3002) AS delete_before_update,
       (SELECT count(*) FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk'
          AND (row_key->>'id')::int BETWEEN 3001 AND 3150 AND operation = 'INSERT') AS inserts,
       (SELECT count(*) FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk'
          AND (row_key->>'id')::int > 3200) AS rolled_back;
-- What the writer's session decides stays the writer's: a timestamptz is
-- staged as the writer's TimeZone writes it, whoever seals. A row too
-- large to stage is written directly, after what the statement staged
-- before it; a table with no column to stage writes directly.
SET ROLE regress_audit_writer;
SET TimeZone = 'Asia/Kathmandu';
INSERT INTO audit_bulk (id, tz) SELECT g, TIMESTAMPTZ '2026-01-01 00:00:00+00' FROM generate_series(4001, 4150) g;
INSERT INTO audit_bulk (id, t) SELECT g, CASE WHEN g = 5100 THEN repeat('x', 2000000) ELSE 'small' END
FROM generate_series(5001, 5200) g;
RESET TimeZone;
RESET ROLE;
SET TimeZone = 'America/Los_Angeles';
SELECT vigil_audit_seal() >= 350 AS sealed;
RESET TimeZone;
SELECT count(*) AS entries, count(*) FILTER (WHERE new_row->>'tz' = '2026-01-01T05:45:00+05:45') AS writers_zone
FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk' AND (row_key->>'id')::int BETWEEN 4001 AND 4150;
SELECT count(*) AS entries, count(*) FILTER (WHERE length(new_row->>'t') = 2000000) AS large_row,
       bool_and(prev_id IS NULL OR (row_key->>'id')::int > prev_id) AS in_order
FROM (SELECT row_key, new_row, lag((row_key->>'id')::int) OVER (ORDER BY id) AS prev_id
      FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk' AND (row_key->>'id')::int BETWEEN 5001 AND 5200) s;
CREATE TABLE audit_empty ();
SELECT vigil_audit_enable('audit_empty') IS NOT NULL AS enabled;
INSERT INTO audit_empty SELECT FROM generate_series(1, 150);
SELECT count(*) AS staged FROM vigil_state.vigil_audit_batch;
SELECT vigil_audit_seal() >= 150 AS sealed, count(*) AS entries, bool_and(new_row = '{}') AS empty_images
FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_empty';
-- A redacted column is digested in the writer's trigger: such a table
-- writes its entries directly, however many.
CREATE TABLE audit_bulk_secret (id int PRIMARY KEY, pw text);
SELECT vigil_audit_enable('audit_bulk_secret', '{"redact": ["pw"]}') IS NOT NULL AS enabled;
INSERT INTO audit_bulk_secret SELECT g, 'argon2-bulk' FROM generate_series(1, 200) g;
SELECT count(*) AS staged FROM vigil_state.vigil_audit_batch;
SELECT count(*) AS written, count(*) FILTER (WHERE new_row->>'pw' LIKE '%sha256:%') AS redacted
FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_bulk_secret';
-- A batch changed outside vigil stops the sealer, which seals nothing.
SET ROLE regress_audit_writer;
INSERT INTO audit_bulk SELECT g, 1, 1, 1, 'x', 'x', true, NULL, NULL, NULL, NULL, NULL FROM generate_series(2001, 2150) g;
RESET ROLE;
UPDATE vigil_state.vigil_audit_batch SET types[2] = 'point'::regtype;
SELECT vigil_audit_seal();
UPDATE vigil_state.vigil_audit_batch SET types[2] = 'int2'::regtype, entries = '\x0000ff';
SELECT vigil_audit_seal();
-- PostgreSQL writes its batches plain (format 0) and lets TOAST compress
-- them: an LZ4 batch (format 1) is refused.
UPDATE vigil_state.vigil_audit_batch SET entries = '\x01100102';
SELECT vigil_audit_seal();
DELETE FROM vigil_state.vigil_audit_batch;
SELECT (vigil_audit_verify())->'valid' AS valid;

-- A table of 1,600 columns (PostgreSQL's limit).
DO $$ BEGIN EXECUTE (SELECT format('CREATE TABLE audit_wide (%s)', string_agg(format('c%s integer', i), ', '))
                     FROM generate_series(1, 1600) i); END $$;
SELECT vigil_audit_enable('audit_wide') IS NOT NULL AS enabled;
DO $$ BEGIN EXECUTE (SELECT format('INSERT INTO audit_wide VALUES (%s)', string_agg(i::text, ', '))
                     FROM generate_series(1, 1600) i); END $$;
UPDATE audit_wide SET c1600 = 0;
SELECT operation, (SELECT count(*) FROM jsonb_object_keys(coalesce(new_row, old_row))) AS columns, changed_columns
FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_wide' ORDER BY id;
SELECT vigil_audit_seal() > 0 AS sealed, (vigil_audit_verify())->'valid' AS valid;

-- Whatever a writer can store seals and verifies: a number beyond a
-- double, jsonb nested 600 deep (attack review, issue 13).
CREATE TABLE audit_odd (id integer PRIMARY KEY, amount numeric, doc jsonb);
SELECT vigil_audit_enable('audit_odd') IS NOT NULL AS enabled;
INSERT INTO audit_odd VALUES (1, 1e309, (repeat('[', 600) || repeat(']', 600))::jsonb);
SELECT vigil_audit_seal() > 0 AS sealed, (vigil_audit_verify())->'valid' AS valid;
-- A redacted column renamed away, and another given its name: the writes
-- fail rather than log the secret in clear.
CREATE TABLE audit_rename (id integer PRIMARY KEY, ssn text);
SELECT vigil_audit_enable('audit_rename', '{"redact": ["ssn"]}') IS NOT NULL AS enabled;
INSERT INTO audit_rename VALUES (1, 'SSN-123');
ALTER TABLE audit_rename RENAME COLUMN ssn TO ssn_old;
ALTER TABLE audit_rename ADD COLUMN ssn text;
UPDATE audit_rename SET id = 2;
SELECT count(*) AS secrets_in_log FROM vigil_state.vigil_audit_log WHERE new_row::text LIKE '%SSN-123%' OR old_row::text LIKE '%SSN-123%';
SELECT vigil_audit_enable('audit_rename', '{"redact": ["ssn", "ssn_old"]}') IS NOT NULL AS enabled_again;
UPDATE audit_rename SET id = 2;
SELECT count(*) AS secrets_in_log FROM vigil_state.vigil_audit_log WHERE new_row::text LIKE '%SSN-123%' OR old_row::text LIKE '%SSN-123%';
-- With standard_conforming_strings off a backslash moves where a string
-- ends: the statement text is not kept then.
SELECT vigil_audit_enable('audit_rename', '{"redact": ["ssn", "ssn_old"], "statement": true}') IS NOT NULL AS enabled;
SET standard_conforming_strings = off;
UPDATE audit_rename SET ssn_old = 'x\' "SSN-987" secret \'' WHERE id = 2;
RESET standard_conforming_strings;
SELECT statement FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_rename' ORDER BY id DESC LIMIT 1;

-- Partitions and inheritance children audit through row triggers.
CREATE TABLE audit_parted (id integer, region text) PARTITION BY LIST (region);
CREATE TABLE audit_parted_eu PARTITION OF audit_parted FOR VALUES IN ('eu');
CREATE TABLE audit_parent (id integer);
CREATE TABLE audit_child () INHERITS (audit_parent);
SELECT vigil_audit_enable('audit_parted_eu') IS NOT NULL, vigil_audit_enable('audit_child') IS NOT NULL,
       vigil_audit_enable('audit_parted') IS NOT NULL;
SELECT table_name, mode FROM vigil_audit_tables WHERE table_name LIKE 'audit_p%' OR table_name = 'audit_child' ORDER BY 1;
INSERT INTO audit_parted VALUES (1, 'eu');
INSERT INTO audit_child VALUES (7);
UPDATE audit_parted SET id = 2;
SELECT table_name, operation, old_row, new_row FROM vigil_state.vigil_audit_log
WHERE table_name IN ('audit_parted', 'audit_parted_eu', 'audit_child') ORDER BY id;

-- Disable: the triggers go, the entries stay.
SET ROLE regress_audit_owner;
SELECT vigil_audit_disable('audit_accounts'), vigil_audit_disable('audit_accounts');
INSERT INTO audit_accounts (id) VALUES (9);
RESET ROLE;
SELECT count(*) FROM vigil_state.vigil_audit_log WHERE table_name = 'audit_accounts' AND operation = 'INSERT';

-- Purge keeps the rest verifiable from a checkpoint, and is recorded.
SELECT vigil_audit_seal() >= 0 AS sealed;
SET ROLE regress_audit_admin;
SELECT vigil_audit_purge(NULL);
SELECT vigil_audit_purge('infinity');
SELECT (p->>'purged')::int > 0 AS purged, (p->>'checkpoint_seq')::int > 0 AS checkpoint
FROM vigil_audit_purge(now() + interval '1 day') p;
SELECT v->'valid' AS valid, v->'checked' AS checked, (v->>'from_seq')::int > 0 AS from_checkpoint
FROM vigil_audit_verify() v;
SELECT operation, detail ? 'purged' AS recorded FROM vigil_audit_log;
RESET ROLE;

-- SQLite's helpers are SQLite's.
SELECT vigil_audit_key('0123456789abcdef0123');
SELECT vigil_audit_redact('"x"');
SELECT vigil_audit_trigger();

DROP TABLE audit_bulk, audit_bulk_secret, audit_empty, audit_fast, audit_order, audit_odd, audit_rename, audit_accounts, audit_types, audit_wide, audit_parted, audit_parent, audit_child CASCADE;
DROP TYPE audit_pair;
DROP DOMAIN audit_positive;
DROP OWNED BY regress_audit_owner, regress_audit_writer, regress_audit_reader, regress_audit_attacker,
              regress_audit_auditor, regress_audit_admin;
DROP ROLE regress_audit_owner, regress_audit_writer, regress_audit_reader, regress_audit_attacker,
          regress_audit_auditor, regress_audit_admin;
