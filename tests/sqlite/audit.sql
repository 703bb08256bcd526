-- audit.sql — the audit trail through the sqlite3 shell (SPEC §5, issue 13):
-- generated triggers, redaction, the actor, sealing, verification,
-- tampering, erasure, purge, keys and a hostile schema. Hashes and times
-- differ from run to run: the checks print what they prove.
.headers on
.mode list
.nullvalue NULL

CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT, password_hash TEXT, note TEXT, balance REAL, raw BLOB);
-- Bad input.
SELECT vigil_audit_enable(NULL);
SELECT vigil_audit_enable('');
SELECT vigil_audit_enable('nope');
SELECT vigil_audit_enable('accounts', '{"hide": ["email"]}');
SELECT vigil_audit_enable('accounts', '{"exclude": ["nope"]}');
SELECT vigil_audit_enable('accounts', '{"exclude": ["note"], "redact": ["note"]}');
SELECT vigil_audit_enable('accounts', 'not json');
SELECT vigil_audit_enable('accounts', '{"reads": true}');
SELECT vigil_audit_enable('vigil_audit_log');
SELECT vigil_audit_enable('accounts', '{"exclude": ["note"], "redact": ["password_hash"], "statement": true}');
SELECT table_name, options FROM vigil_audit_tables;
SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name;

-- The application's actor; changes with every kind of value.
SELECT vigil_set_actor('user-42'), vigil_actor();
SELECT vigil_set_actor(x'ff');
SELECT vigil_set_actor(printf('%.2000c', 'a'));
INSERT INTO accounts VALUES (1, 'ann@example.com', 'argon2-secret-1', 'vip', 10.5, x'00ff'),
                            (2, 'bob@example.com', 'argon2-secret-2', NULL, 1e999, NULL);
UPDATE accounts SET password_hash = 'argon2-secret-3', balance = balance + 1 WHERE id = 1;
SELECT vigil_set_actor(NULL) IS NULL AS cleared;
DELETE FROM accounts WHERE id = 2;
-- The triggers stage raw values (docs/audit.md "Staged entries"): the
-- committed entries wait in vigil_audit_batch, redacted values already
-- digests, until the sealer writes them into the log.
SELECT count(*) AS batches, sum(n) AS staged FROM vigil_audit_batch;
SELECT count(*) AS rows_before_sealing FROM vigil_audit_log;
SELECT count(*) AS secrets_staged FROM vigil_audit_batch WHERE instr(entries, CAST('argon2-secret' AS BLOB)) > 0;

-- Sealing after commit; verify reports what is not sealed yet.
SELECT json_extract(vigil_audit_verify(), '$.unsealed') AS unsealed_before;
SELECT vigil_audit_seal() AS sealed, vigil_audit_seal() AS sealed_again;
SELECT count(*) AS batches_after_sealing FROM vigil_audit_batch;
SELECT id, operation, actor, table_schema, table_name, row_key, json_remove(coalesce(new_row, old_row), '$.password_hash') AS image,
       json_extract(coalesce(new_row, old_row), '$.password_hash') LIKE 'sha256:%' AS redacted,
       changed_columns, statement, seq IS NOT NULL AS sealed
FROM vigil_audit_log ORDER BY id;
SELECT count(*) AS secrets_in_log FROM vigil_audit_log
WHERE coalesce(row_key, '') || coalesce(old_row, '') || coalesce(new_row, '') || coalesce(statement, '') LIKE '%argon2-secret%';
SELECT json_extract(v, '$.valid') AS valid, json_extract(v, '$.checked') AS checked, json_extract(v, '$.unsealed') AS unsealed
FROM (SELECT vigil_audit_verify() AS v);
SELECT vigil_audit_head() = (SELECT entry_hash FROM vigil_audit_log ORDER BY seq DESC LIMIT 1) AS head_is_newest;
SELECT json_extract(vigil_audit_verify(vigil_audit_head()), '$.expected_head_found') AS head_found;
SELECT json_extract(vigil_audit_verify(printf('%.64c', '0')), '$.valid') AS unknown_head_valid;
-- The same entry has the same digest as on PostgreSQL (sql/audit.sql).
SELECT vigil_audit_digest('{"id": 7, "at": "2026-01-01T00:00:00.000000Z", "operation": "INSERT", "table_schema": "main", "table_name": "t", "row_key": {"id": 7}, "new_row": {"id": 7, "price": 1.50}}') AS digest;

-- Tampering: each change is found and named.
CREATE TEMP TABLE saved AS SELECT * FROM vigil_audit_log;
UPDATE vigil_audit_log SET new_row = json_set(new_row, '$.balance', 1000000) WHERE seq = 2;
SELECT json_extract(vigil_audit_verify(), '$.first_invalid') AS value_changed;
DELETE FROM vigil_audit_log; INSERT INTO vigil_audit_log SELECT * FROM saved;
DELETE FROM vigil_audit_log WHERE seq = 1;
SELECT json_extract(vigil_audit_verify(), '$.first_invalid') AS first_deleted;
DELETE FROM vigil_audit_log; INSERT INTO vigil_audit_log SELECT * FROM saved;
DELETE FROM vigil_audit_log WHERE seq = 2;
SELECT json_extract(vigil_audit_verify(), '$.first_invalid') AS middle_deleted;
DELETE FROM vigil_audit_log; INSERT INTO vigil_audit_log SELECT * FROM saved;
DELETE FROM vigil_audit_log WHERE seq = (SELECT max(seq) FROM vigil_audit_log);
SELECT json_extract(vigil_audit_verify(), '$.first_invalid') AS last_deleted;
DELETE FROM vigil_audit_log; INSERT INTO vigil_audit_log SELECT * FROM saved;
UPDATE vigil_audit_log SET seq = -2 WHERE seq = 2;
UPDATE vigil_audit_log SET seq = 2 WHERE seq = 3;
UPDATE vigil_audit_log SET seq = 3 WHERE seq = -2;
SELECT json_extract(vigil_audit_verify(), '$.first_invalid') AS swapped;
DELETE FROM vigil_audit_log; INSERT INTO vigil_audit_log SELECT * FROM saved;
INSERT INTO vigil_audit_log (id, at, operation, seq, entry_hash) VALUES (100, 'x', 'DELETE', 5, printf('%.64c', 'a'));
SELECT json_extract(vigil_audit_verify(), '$.first_invalid') AS forged_appended;
DELETE FROM vigil_audit_log; INSERT INTO vigil_audit_log SELECT * FROM saved;
UPDATE vigil_audit_log SET new_row = '{not json' WHERE seq = 1;
SELECT json_extract(vigil_audit_verify(), '$.first_invalid') AS not_json;
DELETE FROM vigil_audit_log; INSERT INTO vigil_audit_log SELECT * FROM saved;
DELETE FROM vigil_audit_log;
SELECT json_extract(vigil_audit_verify(), '$.first_invalid') AS emptied;
DELETE FROM vigil_audit_log; INSERT INTO vigil_audit_log SELECT * FROM saved;
SELECT json_extract(vigil_audit_verify(), '$.valid') AS restored;

-- Erasure keeps the chain; it is recorded and sealed.
SELECT vigil_audit_erase('accounts', '{"id": 1}');
SELECT vigil_audit_erase('accounts', '{ "id" : 1.0 }');
SELECT vigil_audit_erase('accounts', '[1]');
SELECT vigil_audit_erase('accounts', NULL);
SELECT id, operation, old_row IS NULL AND new_row IS NULL AS erased, old_digest IS NOT NULL OR new_digest IS NOT NULL AS digests_kept
FROM vigil_audit_log WHERE json_extract(row_key, '$.id') = 1 ORDER BY id;
SELECT json_extract(vigil_audit_verify(), '$.valid') AS valid_after_erasure;

-- Keys: per connection, never in the file. One key serves the whole chain:
-- links sealed without it do not verify under it (set the key before
-- auditing starts, or purge to start a keyed chain from a checkpoint). A
-- foreign object that calls the audit functions is refused.
SELECT vigil_audit_key('short');
SELECT vigil_audit_key('0123456789abcdef0123456789abcdef');
INSERT INTO accounts (id, email, password_hash) VALUES (3, 'cy@example.com', 'argon2-secret-4');
SELECT vigil_audit_seal() AS sealed;
SELECT json_extract(new_row, '$.password_hash') LIKE 'hmac-sha256:%' AS keyed_redaction FROM vigil_audit_log WHERE operation = 'INSERT' ORDER BY id DESC LIMIT 1;
SELECT json_extract(vigil_audit_verify(), '$.keyed') AS keyed, json_extract(vigil_audit_verify(), '$.first_invalid') AS first_keyed_link;
SELECT vigil_audit_purge('2999-01-01T00:00:00Z') IS NOT NULL AS keyed_chain_started;
INSERT INTO accounts (id, email) VALUES (4, 'di@example.com');
SELECT vigil_audit_seal() AS sealed, json_extract(vigil_audit_verify(), '$.valid') AS valid_with_key;
SELECT vigil_audit_key(NULL);
SELECT json_extract(vigil_audit_verify(), '$.valid') AS valid_without_key;
SELECT count(*) AS key_in_file FROM sqlite_schema, vigil_audit_log WHERE sql LIKE '%0123456789abcdef%' OR detail LIKE '%0123456789abcdef%';
CREATE TABLE stolen (d TEXT);
CREATE TRIGGER thief AFTER INSERT ON stolen BEGIN UPDATE stolen SET d = vigil_audit_redact('"guess"'); END;
SELECT vigil_audit_key('0123456789abcdef0123456789abcdef');
SELECT json_extract(vigil_audit_verify(), '$.valid') AS valid, json_extract(vigil_audit_verify(), '$.foreign_objects') AS foreign_objects;
DROP TRIGGER thief;

-- Text that is not UTF-8 and a number beyond a double still seal and verify.
INSERT INTO accounts (id, email, balance) VALUES (5, CAST(x'ff80' AS TEXT), 1e400);
SELECT vigil_audit_seal() AS sealed, json_extract(vigil_audit_verify(), '$.valid') AS valid;
SELECT vigil_audit_enable(CAST(x'610062' AS TEXT));

-- Purge keeps the rest verifiable from a checkpoint, and is recorded.
SELECT vigil_audit_purge('not a time');
SELECT vigil_audit_purge(NULL);
SELECT json_extract(p, '$.purged') > 0 AS purged FROM (SELECT vigil_audit_purge('2999-01-01T00:00:00Z') AS p);
SELECT json_extract(v, '$.valid') AS valid, json_extract(v, '$.checked') AS checked, json_extract(v, '$.from_seq') > 0 AS from_checkpoint
FROM (SELECT vigil_audit_verify() AS v);
SELECT operation FROM vigil_audit_log;

-- Staged entries follow the transaction (docs/audit.md "Staged entries"):
-- a statement that fails, a savepoint rolled back and a transaction rolled
-- back take their entries with them, also once written or sealed.
SELECT vigil_audit_seal() AS sealed_before;
BEGIN;
INSERT INTO accounts (id, email) VALUES (10, 'a@example.com');
INSERT INTO accounts (id, email) VALUES (11, 'b@example.com'), (10, 'again@example.com');
SAVEPOINT s1;
INSERT INTO accounts (id, email) VALUES (12, 'c@example.com');
ROLLBACK TO s1;
INSERT INTO accounts (id, email) VALUES (13, 'd@example.com');
RELEASE s1;
COMMIT;
BEGIN; INSERT INTO accounts (id, email) VALUES (14, 'e@example.com'); ROLLBACK;
BEGIN;
INSERT INTO accounts (id, email) VALUES (15, 'f@example.com');
SAVEPOINT s2;
-- Sealing inside a savepoint seals what was committed; the transaction's
-- entries before the savepoint stay in memory until it ends.
SELECT vigil_audit_seal() AS sealed_in_savepoint;
ROLLBACK TO s2;
RELEASE s2;
SELECT count(*) AS batches_before_commit FROM vigil_audit_batch;
COMMIT;
SELECT vigil_audit_seal() AS sealed;
SELECT group_concat(i) AS kept FROM (SELECT json_extract(new_row, '$.id') AS i FROM vigil_audit_log
  WHERE operation = 'INSERT' AND json_extract(new_row, '$.id') BETWEEN 10 AND 19 ORDER BY id);
-- A long transaction writes its entries as it goes, a statement at a time;
-- sealing inside it seals them; rolling it back undoes all of it.
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 10099)
INSERT INTO accounts (id, email) SELECT i, printf('%.100c', 'x') FROM n;
UPDATE accounts SET balance = 1 WHERE id >= 100;
SELECT count(*) > 0 AS written_before_this_statement, sum(n) AS staged FROM vigil_audit_batch;
UPDATE accounts SET balance = 2 WHERE id >= 100;
SELECT vigil_audit_seal() AS sealed_in_transaction;
ROLLBACK;
SELECT count(*) AS batches, (SELECT count(*) FROM vigil_audit_log WHERE json_extract(row_key, '$.id') >= 100) AS bulk_rows,
       (SELECT count(*) FROM accounts) AS accounts,
       json_extract(vigil_audit_verify(), '$.valid') AS valid FROM vigil_audit_batch;
-- Without a transaction a large statement writes batches as it goes.
WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM n WHERE i < 40099)
INSERT INTO accounts (id, email) SELECT i, printf('%.100c', 'x') FROM n;
SELECT count(*) > 1 AS batches, sum(n) AS staged,
       group_concat(DISTINCT hex(substr(entries, 1, 1))) AS formats, sum(length(entries)) < 40000 * 100 AS compressed
FROM vigil_audit_batch;
DELETE FROM accounts WHERE id >= 100;
SELECT vigil_audit_seal() AS sealed, json_extract(vigil_audit_verify(), '$.valid') AS valid;
-- The capture table takes vigil's triggers' rows only; a malformed batch
-- stops the sealer, which seals nothing rather than a guess.
SELECT * FROM vigil_audit_capture;
DELETE FROM vigil_audit_capture;
INSERT INTO vigil_audit_capture (layout, operation, part) VALUES ('{}', 'INSERT', 0);
INSERT INTO vigil_audit_capture (layout, operation, part, v0) VALUES ('{"table":"t","columns":["a"],"key":[],"redact":[]}', 'INSERT', 1, 1);
INSERT INTO vigil_audit_capture (layout, operation, part, v0) VALUES ('{"table":"t","columns":["a"],"key":[],"redact":[]}', 'MERGE', 0, 1);
INSERT INTO accounts (id, email) VALUES (16, 'g@example.com');
UPDATE vigil_audit_batch SET entries = x'0000ff';
SELECT vigil_audit_seal();
-- Batches of more than 256 bytes are LZ4 blocks (format 1): a size the
-- block could not hold, a block that is not one, an unknown format.
UPDATE vigil_audit_batch SET entries = x'01ffffffff0f00';
SELECT vigil_audit_seal();
UPDATE vigil_audit_batch SET entries = x'01100102';
SELECT vigil_audit_seal();
UPDATE vigil_audit_batch SET entries = x'02';
SELECT vigil_audit_seal();
UPDATE vigil_audit_batch SET entries = x'';
SELECT vigil_audit_seal();
SELECT json_extract(vigil_audit_verify(), '$.unsealed') AS unsealed;
DELETE FROM vigil_audit_batch;

-- Disable: the triggers go, the entries stay.
SELECT vigil_audit_disable('accounts'), vigil_audit_disable('accounts');
SELECT count(*) AS audit_triggers FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'vigil_audit%';
SELECT vigil_audit_trigger();

-- A crafted log whose DEFAULT computes keyed digests of guesses is foreign:
-- the key is refused and verify says so (attack review, issue 13).
DROP TABLE vigil_audit_log;
CREATE TABLE vigil_audit_log (id INTEGER PRIMARY KEY, at TEXT NOT NULL, session_role TEXT, effective_role TEXT, actor TEXT,
  application_name TEXT, client_addr TEXT, txid INTEGER, table_schema TEXT, table_name TEXT, operation TEXT NOT NULL,
  row_key TEXT, old_row TEXT, new_row TEXT, changed_columns TEXT, statement TEXT, detail TEXT, old_digest TEXT,
  new_digest TEXT, seq INTEGER, entry_hash TEXT, oracle TEXT DEFAULT (vigil_audit_redact('"SSN-123-45-6789"')));
SELECT vigil_audit_key('0123456789abcdef0123456789abcdef');
SELECT json_extract(vigil_audit_verify(), '$.foreign_objects') AS foreign_objects;
