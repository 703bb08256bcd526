-- rules.sql — rules through the sqlite3 shell: storage, generated triggers,
-- and what only SQLite shows (DIRECTONLY, trusted_schema, json_object).
.headers on
.mode list
.nullvalue NULL

CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT NOT NULL, iban TEXT, status TEXT DEFAULT 'open');
SELECT vigil_rule_add('accounts', 'email', 'email'), vigil_rule_add('accounts', 'iban', 'iban');
SELECT id, table_name, column_name, rule, params FROM vigil_rules;
SELECT count(*) AS via_function_syntax FROM vigil_rules();
SELECT name FROM sqlite_schema WHERE name LIKE 'vigil%' ORDER BY name;

-- vigil_insert: the key, defaults, bound values, one error for all problems.
SELECT vigil_insert('accounts', '{"email": "trader@example.com", "iban": "DE89370400440532013000"}') AS key;
SELECT vigil_insert('accounts', '{"email": "o''brien@example.com"}') AS key;
SELECT vigil_insert('accounts', '{"email": "not-an-email", "iban": "DE89370400440532013001", "nickname": "x"}');
SELECT vigil_insert('accounts', '{"iban": "DE89370400440532013000", "status": null}');
SELECT id, email, iban, status FROM accounts ORDER BY id;
CREATE TABLE positions (account_id INTEGER, symbol TEXT, qty NUMERIC, PRIMARY KEY (account_id, symbol));
SELECT vigil_insert('positions', '{"account_id": 1, "symbol": "BTC-USD", "qty": 0.5}') AS key;
CREATE TABLE notes (body TEXT);
SELECT vigil_insert('notes', '{"body": "no primary key: the rowid is the key"}') AS key;

-- Enforcement: generated triggers call vigil_check(table, row, 1).
SELECT vigil_enforce('accounts');
SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name;
BEGIN;
INSERT INTO accounts (email) VALUES ('ok@example.com');
INSERT INTO accounts (email, iban) VALUES ('bad@', 'XX00');
COMMIT;
SELECT count(*) AS accounts FROM accounts;
UPDATE accounts SET email = 'still-bad' WHERE id = 1;
SELECT email FROM accounts WHERE id = 1;

-- With trusted_schema off, the triggers still work: vigil_check is innocuous.
PRAGMA trusted_schema = OFF;
INSERT INTO accounts (email) VALUES ('trusted@example.com');
INSERT INTO accounts (email) VALUES ('untrusted');
-- ...but a trigger cannot call the functions that change the database.
CREATE TRIGGER sneaky AFTER INSERT ON notes BEGIN SELECT vigil_rule_remove('accounts', 'email', 'email'); END;
INSERT INTO notes (body) VALUES ('x');
DROP TRIGGER sneaky;
PRAGMA trusted_schema = ON;

-- Wide tables: json_object takes at most 63 pairs, so triggers merge chunks.
CREATE TABLE wide (c1 INTEGER, c2 INTEGER, c3 INTEGER, c4 INTEGER, c5 INTEGER, c6 INTEGER, c7 INTEGER, c8 INTEGER, c9 INTEGER, c10 INTEGER, c11 INTEGER, c12 INTEGER, c13 INTEGER, c14 INTEGER, c15 INTEGER, c16 INTEGER, c17 INTEGER, c18 INTEGER, c19 INTEGER, c20 INTEGER, c21 INTEGER, c22 INTEGER, c23 INTEGER, c24 INTEGER, c25 INTEGER, c26 INTEGER, c27 INTEGER, c28 INTEGER, c29 INTEGER, c30 INTEGER, c31 INTEGER, c32 INTEGER, c33 INTEGER, c34 INTEGER, c35 INTEGER, c36 INTEGER, c37 INTEGER, c38 INTEGER, c39 INTEGER, c40 INTEGER, c41 INTEGER, c42 INTEGER, c43 INTEGER, c44 INTEGER, c45 INTEGER, c46 INTEGER, c47 INTEGER, c48 INTEGER, c49 INTEGER, c50 INTEGER, c51 INTEGER, c52 INTEGER, c53 INTEGER, c54 INTEGER, c55 INTEGER, c56 INTEGER, c57 INTEGER, c58 INTEGER, c59 INTEGER, c60 INTEGER, c61 INTEGER, c62 INTEGER, c63 INTEGER, c64 INTEGER, c65 INTEGER, c66 INTEGER, c67 INTEGER, c68 INTEGER, c69 INTEGER, c70 INTEGER, c71 INTEGER, c72 INTEGER, c73 INTEGER, c74 INTEGER, c75 INTEGER, c76 INTEGER, c77 INTEGER, c78 INTEGER, c79 INTEGER, c80 INTEGER, c81 INTEGER, c82 INTEGER, c83 INTEGER, c84 INTEGER, c85 INTEGER, c86 INTEGER, c87 INTEGER, c88 INTEGER, c89 INTEGER, c90 INTEGER, c91 INTEGER, c92 INTEGER, c93 INTEGER, c94 INTEGER, c95 INTEGER, c96 INTEGER, c97 INTEGER, c98 INTEGER, c99 INTEGER, c100 INTEGER, c101 INTEGER, c102 INTEGER, c103 INTEGER, c104 INTEGER, c105 INTEGER, c106 INTEGER, c107 INTEGER, c108 INTEGER, c109 INTEGER, c110 INTEGER, c111 INTEGER, c112 INTEGER, c113 INTEGER, c114 INTEGER, c115 INTEGER, c116 INTEGER, c117 INTEGER, c118 INTEGER, c119 INTEGER, c120 INTEGER, c121 INTEGER, c122 INTEGER, c123 INTEGER, c124 INTEGER, c125 INTEGER, c126 INTEGER, c127 INTEGER, c128 INTEGER, c129 INTEGER, c130 INTEGER, c131 INTEGER, c132 INTEGER, c133 INTEGER, c134 INTEGER, c135 INTEGER, c136 INTEGER, c137 INTEGER, c138 INTEGER, c139 INTEGER, c140 INTEGER, c141 INTEGER, c142 INTEGER, c143 INTEGER, c144 INTEGER, c145 INTEGER, c146 INTEGER, c147 INTEGER, c148 INTEGER, c149 INTEGER, c150 INTEGER);
SELECT vigil_rule_add('wide', 'c150', 'positive'), vigil_enforce('wide');
INSERT INTO wide (c1, c150) VALUES (1, 1);
INSERT INTO wide (c1, c150) VALUES (2, -1);
SELECT count(*) AS wide_rows FROM wide;

-- Errors.
SELECT vigil_enforce('nope');
SELECT vigil_rule_add('accounts', 'email', 'range', '{"min": 5, "max": 1}');
SELECT vigil_enforce_trigger();

-- A rule belongs to the file's own table (main), and a reference's target
-- is fixed when the rule is added: a temporary table of the same name
-- shadows neither.
CREATE TABLE owners (id INTEGER PRIMARY KEY);
INSERT INTO owners VALUES (1);
CREATE TABLE holdings (id INTEGER PRIMARY KEY, owner_id INTEGER);
SELECT vigil_rule_add('holdings', 'owner_id', 'references', '{"table": "owners", "column": "id", "enforce": true}') > 0 AS added;
SELECT params, table_schema FROM vigil_rules WHERE table_name = 'holdings';
SELECT vigil_rule_add('holdings', 'owner_id', 'references', '{"table": "owners", "column": "id", "schema": "other"}');
CREATE TEMP TABLE owners (id INTEGER);
INSERT INTO temp.owners VALUES (9);
SELECT vigil_check('holdings', '{"id": 1, "owner_id": 9}');
CREATE TEMP TABLE holdings (id INTEGER, owner_id INTEGER);
SELECT vigil_rule_add('temp.holdings', 'owner_id', 'not_null');
SELECT vigil_check('holdings', '{"id": 1, "owner_id": 1}');
DROP TABLE temp.owners;
DROP TABLE temp.holdings;
-- The rules of a dropped table can still be removed.
DROP TABLE holdings;
SELECT vigil_rule_remove('holdings', 'owner_id', 'references') AS removed;
