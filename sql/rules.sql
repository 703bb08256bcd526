-- rules.sql — rules, enforcement and vigil_insert in PostgreSQL (the shared
-- corpus tests/cases/rules.jsonl covers both engines; this suite covers what
-- only PostgreSQL shows: the trigger in the catalog, transactions,
-- search_path and the extension's table).
CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL, iban text, status text DEFAULT 'open');
SELECT vigil_rule_add('accounts', 'email', 'email') > 0 AS added,
       vigil_rule_add('accounts', 'iban', 'iban') > 0 AS added_iban;
SELECT table_name, column_name, rule, params FROM vigil_rules() WHERE table_name = 'accounts';

-- vigil_insert returns the key, fills defaults, and binds values.
SELECT vigil_insert('accounts', '{"email": "trader@example.com", "iban": "DE89370400440532013000"}') AS key;
SELECT vigil_insert('accounts', '{"email": "o''brien\"); DROP TABLE accounts; --@example.com"}');
SELECT vigil_insert('accounts', '{"email": "o''brien@example.com"}') AS key;
SELECT id, email, iban, status FROM accounts ORDER BY id;

-- Three problems in one object: one error names all three, nothing written.
SELECT vigil_insert('accounts', '{"email": "not-an-email", "iban": "DE89370400440532013001", "nickname": "x"}');
SELECT count(*) FROM accounts;

-- The engine's own constraints still apply after vigil's checks.
SELECT vigil_insert('accounts', '{"iban": "DE89370400440532013000", "status": null}');

-- Composite keys come back as an object.
CREATE TABLE positions (account_id integer, symbol text, qty numeric, PRIMARY KEY (account_id, symbol));
SELECT vigil_insert('positions', '{"account_id": 1, "symbol": "BTC-USD", "qty": 0.5}') AS key;

-- Enforcement is a trigger; a rejected row inside a transaction leaves the
-- transaction usable only through a savepoint, as with any error.
SELECT vigil_enforce('accounts');
SELECT tgname, tgenabled, pg_get_triggerdef(oid) LIKE '%BEFORE INSERT OR UPDATE%FOR EACH ROW%' AS shape
FROM pg_trigger WHERE tgrelid = 'accounts'::regclass;
BEGIN;
INSERT INTO accounts (email) VALUES ('ok@example.com');
SAVEPOINT s;
INSERT INTO accounts (email, iban) VALUES ('bad@', 'XX00');
ROLLBACK TO s;
COMMIT;
SELECT count(*) FROM accounts;
UPDATE accounts SET email = 'still-bad' WHERE id = 1;
DO $$ BEGIN
  UPDATE accounts SET email = 'still-bad' WHERE id = 1;
EXCEPTION WHEN check_violation THEN
  RAISE NOTICE 'rejected with SQLSTATE %', SQLSTATE;
END $$;

-- A unique rule sees rows written earlier by the same statement.
SELECT vigil_rule_add('positions', 'symbol', 'unique') > 0 AS added;
SELECT vigil_enforce('positions');
INSERT INTO positions VALUES (2, 'ETH-USD', 1), (3, 'ETH-USD', 2);
SELECT count(*) FROM positions;

-- Sessions cache parsed rules; every change reaches them. In this session:
CREATE TABLE ledger (id int PRIMARY KEY, amount numeric, memo text);
SELECT vigil_enforce('ledger');
INSERT INTO ledger VALUES (1, -5, 'no rules yet');
SELECT vigil_rule_add('ledger', 'amount', 'positive') > 0 AS added;
INSERT INTO ledger VALUES (2, -5, 'now rejected');
SELECT vigil_rule_remove('ledger', 'amount', 'positive');
INSERT INTO ledger VALUES (3, -5, 'accepted again');
ALTER TABLE ledger ADD COLUMN currency text;
SELECT vigil_rule_add('ledger', 'currency', 'one_of', '["USD", "EUR"]') > 0 AS added;
INSERT INTO ledger VALUES (4, 1, 'new column', 'XXX');
-- ...and from another session (dblink commits in a second backend):
CREATE EXTENSION dblink;
SELECT id > 0 AS added_elsewhere
FROM dblink('host=' || current_setting('unix_socket_directories') || ' port=' || current_setting('port')
            || ' dbname=' || current_database(),
            $$SELECT vigil_rule_add('ledger', 'memo', 'length', '{"max": 10}')$$) AS t(id bigint);
INSERT INTO ledger VALUES (5, 1, 'a memo longer than ten', 'USD');
SELECT id, amount, memo, currency FROM ledger ORDER BY id;
DROP EXTENSION dblink;
DROP TABLE ledger;
-- A rule dies with its table, as a constraint does (sql_drop event
-- trigger): a table created later under that name inherits nothing.
SELECT count(*) AS rules_left FROM vigil_rules WHERE table_name = 'ledger';
SELECT vigil_rule_remove('ledger', 'memo', 'length') AS removed;

-- Rules follow their table through a rename, a move to another schema, a
-- schema's rename and a column's rename (and a references rule its target).
CREATE TABLE owners_r (id integer PRIMARY KEY);
INSERT INTO owners_r VALUES (1);
CREATE TABLE moving (id integer, qty integer, owner_id integer);
SELECT vigil_rule_add('moving', 'qty', 'positive') > 0 AS added,
       vigil_rule_add('moving', 'owner_id', 'references', '{"table": "owners_r", "column": "id", "enforce": true}') > 0 AS added_ref,
       vigil_enforce('moving');
ALTER TABLE moving RENAME TO moved;
INSERT INTO moved VALUES (1, -1, 1);
ALTER TABLE moved RENAME COLUMN qty TO quantity;
ALTER TABLE owners_r RENAME COLUMN id TO owner_key;
CREATE SCHEMA shelf;
ALTER TABLE moved SET SCHEMA shelf;
ALTER SCHEMA shelf RENAME TO storage;
INSERT INTO storage.moved VALUES (2, -1, 7);
SELECT table_schema, table_name, column_name, rule, params FROM vigil_rules WHERE table_name IN ('moving', 'moved') ORDER BY id;
-- A rename that is rolled back leaves the rules where they were.
BEGIN;
ALTER TABLE storage.moved RENAME TO owners_r_clash;
ALTER TABLE storage.owners_r_clash RENAME TO owners_r;
ROLLBACK;
SELECT count(*) AS rules_at_home FROM vigil_rules WHERE table_schema = 'storage' AND table_name = 'moved';
DROP TABLE storage.moved, owners_r;
DROP SCHEMA storage;

-- A rule belongs to its table (schema and name): a table of the same name
-- in another schema, first on the path, has none of its rules.
CREATE SCHEMA other;
CREATE TABLE other.accounts (id int PRIMARY KEY, email text);
SET search_path = other, public;
SELECT vigil_check('accounts', '{"id": 1, "email": "nope"}');
RESET search_path;

-- The extension's table is dumped with the data (pg_dump keeps rules).
SELECT extconfig::regclass[] FROM pg_extension WHERE extname = 'vigil';

SELECT vigil_unenforce('accounts'), vigil_unenforce('accounts');
DROP TABLE accounts, positions, other.accounts;
DROP SCHEMA other;
DELETE FROM vigil_state.vigil_rules WHERE table_name IN ('accounts', 'positions');
