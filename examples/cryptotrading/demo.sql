-- demo.sql — vigil on the crypto-trading example, in the sqlite3 shell.
-- Run by scripts/demo:  sqlite3 demo/vigil-demo.db ".load build/sqlite_ext/vigil" ".read examples/cryptotrading/demo.sql"
.mode box
.headers on
.nullvalue ·

SELECT 'vigil ' || vigil_version() || ' loaded into SQLite ' || sqlite_version() AS "vigil demo";

.print
.print 1. The validators vigil offers (SELECT * FROM vigil_validators())
SELECT kind, description FROM vigil_validators();

.print
.print 2. Sign-ups from the trading platform, checked with vigil_validate(kind, value)
DROP TABLE IF EXISTS signups;
CREATE TABLE signups (username TEXT, email TEXT, phone TEXT, iban TEXT);
INSERT INTO signups VALUES
  ('satoshi_n',  'satoshi@example.com',        '+14155552671',  'DE89370400440532013000'),
  ('vitalik',    'vitalik@ethereum.example',   '+442071838750', 'GB29NWBK60161331926819'),
  ('_whale',     'whale@@exchange.io',         '+1 415 555',    'GB29NWBK60161331926818'),
  ('josé.trader','josé@bücher.de',             '+4930123456',   'de89 3704 0044 0532 0130 00'),
  ('mo',         'trader@localhost',           '0049301234567', 'XX89370400440532013000');
SELECT username,
       coalesce(vigil_validate('username', username), 'ok') AS username_check,
       coalesce(vigil_validate('email', email), 'ok')       AS email_check,
       coalesce(vigil_validate('phone', phone), 'ok')       AS phone_check,
       coalesce(vigil_validate('iban', iban), 'ok')         AS iban_check
FROM signups;

.print
.print    Print-format IBANs and national phone numbers have helpers:
SELECT vigil_iban_normalize('de89 3704 0044 0532 0130 00') AS normalized_iban,
       vigil_is_iban(vigil_iban_normalize('de89 3704 0044 0532 0130 00')) AS valid,
       vigil_is_phone('(415) 555-2671', 'US') AS us_national_phone_valid,
       vigil_uuid_version('017f22e2-79b0-7cc3-98c4-dc0c0c07398f') AS order_id_uuid_version;

.print
.print 3. Wallets and trading symbols
DROP TABLE IF EXISTS wallets;
CREATE TABLE wallets (owner TEXT, chain TEXT, address TEXT);
INSERT INTO wallets VALUES
  ('satoshi_n', 'btc', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'),
  ('satoshi_n', 'btc', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'),
  ('satoshi_n', 'btc', 'bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd'),
  ('vitalik',   'eth', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'),
  ('vitalik',   'eth', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'),
  ('vitalik',   'eth', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed');
SELECT owner, address,
       coalesce(vigil_validate(chain || '_address', address), 'ok') AS check_result
FROM wallets;
SELECT s AS symbol, coalesce(vigil_validate('crypto_symbol', s), 'ok') AS check_result
FROM (SELECT 'BTC-USD' AS s UNION ALL SELECT 'ETH/USDT' UNION ALL SELECT 'SOLUSDT'
      UNION ALL SELECT 'btc-usd' UNION ALL SELECT 'BTC--USD');

.print
.print 4. A trading signal's payload, checked against a JSON Schema (pattern via RE2, formats via vigil)
SELECT vigil_json_schema_valid(
         '{"type":"object","required":["symbol","side","qty"],
           "properties":{"symbol":{"type":"string","pattern":"^[A-Z0-9]+-[A-Z0-9]+$","format":"vigil:crypto_symbol"},
                         "side":{"enum":["buy","sell"]},
                         "qty":{"type":"number","exclusiveMinimum":0},
                         "at":{"format":"date-time"}},
           "additionalProperties":false}',
         payload) AS valid,
       payload
FROM (SELECT '{"symbol":"BTC-USD","side":"buy","qty":0.25,"at":"2024-02-29T13:45:00Z"}' AS payload
      UNION ALL SELECT '{"symbol":"BTC-USD","side":"hold","qty":0.25}'
      UNION ALL SELECT '{"symbol":"btc","side":"sell","qty":1}'
      UNION ALL SELECT '{"symbol":"ETH-USD","side":"sell","qty":-1}');

.print
.print 4b. A shared contract: an order schema registered once, its reasons naming where, and a rule through $ref
SELECT vigil_json_schema_add('https://schemas.example.com/trading/order.json',
         '{"type":"object","required":["symbol","side","qty"],
           "properties":{"symbol":{"type":"string","format":"vigil:crypto_symbol"},
                         "side":{"enum":["buy","sell"]},
                         "qty":{"$ref":"quantity.json"},
                         "legs":{"type":"array","items":{"$ref":"#"}}},
           "unevaluatedProperties":false}') IS NOT NULL AS registered_order;
SELECT vigil_json_schema_add('https://schemas.example.com/trading/quantity.json',
         '{"type":"number","exclusiveMinimum":0,"maximum":1000}') IS NOT NULL AS registered_quantity;
SELECT uri FROM vigil_json_schemas ORDER BY uri;
.print    the basic output: each failing keyword, where in the document, where in the schema
SELECT value ->> 'instanceLocation' AS at, value ->> 'error' AS error, value ->> 'absoluteKeywordLocation' AS keyword
FROM json_each(vigil_json_schema_check('{"$ref":"https://schemas.example.com/trading/order.json"}',
                                        '{"symbol":"BTC-USD","side":"buy","qty":5,"legs":[{"symbol":"ETH-USD","side":"sell","qty":-1,"note":"x"}]}',
                                        '{"registry":true}') -> '$.errors');
DROP TABLE IF EXISTS signals;
CREATE TABLE signals (id INTEGER PRIMARY KEY, payload TEXT);
SELECT vigil_rule_add('signals', 'payload', 'json_schema',
         '{"schema":{"$ref":"https://schemas.example.com/trading/order.json"}}') > 0 AS rule_added;
SELECT vigil_enforce('signals') AS enforced;
INSERT INTO signals (payload) VALUES ('{"symbol":"BTC-USD","side":"buy","qty":0.5}');
.print    inserting a signal whose quantity is 5000 ...
INSERT INTO signals (payload) VALUES ('{"symbol":"BTC-USD","side":"buy","qty":5000}');
.print    the contract is shared: removing it while a rule uses it is refused ...
SELECT vigil_json_schema_remove('https://schemas.example.com/trading/quantity.json');
SELECT count(*) AS signals_stored FROM signals;

.print
.print 5. Validators as constraints: the engine itself refuses bad rows
DROP TABLE IF EXISTS users;
CREATE TABLE users (
  id       INTEGER PRIMARY KEY,
  username TEXT NOT NULL CHECK (vigil_is_username(username)),
  email    TEXT NOT NULL CHECK (vigil_is_email(email)));
INSERT INTO users (username, email) VALUES ('satoshi_n', 'satoshi@example.com');
.print    inserting username whale, email whale@@exchange.io ...
INSERT INTO users (username, email) VALUES ('whale', 'whale@@exchange.io');
SELECT id, username, email FROM users;

.print
.print 6. Bad input is an answer or a clear error, never a crash
SELECT vigil_is_email(replace(hex(zeroblob(1000000)), '00', 'a') || '@example.com') AS one_mb_email,
       vigil_is_email(CAST(X'C328406578616D706C652E636F6D' AS TEXT)) AS invalid_utf8,
       vigil_is_email(NULL) AS null_in;
.print    vigil_validate of a kind vigil does not have (ssn) ...
SELECT vigil_validate('ssn', '078-05-1120');

.print
.print 7. Rules: declared once, checked by vigil_check, vigil_insert and enforced triggers
DROP TABLE IF EXISTS trades;
DROP TABLE IF EXISTS traders;
CREATE TABLE traders (id INTEGER PRIMARY KEY, username TEXT NOT NULL, email TEXT, country TEXT);
CREATE TABLE trades (id INTEGER PRIMARY KEY, trader_id INTEGER, symbol TEXT, side TEXT, price NUMERIC, qty NUMERIC);
SELECT vigil_rule_add('traders', 'username', 'username') AS r1,
       vigil_rule_add('traders', 'username', 'unique') AS r2,
       vigil_rule_add('traders', 'email', 'email') AS r3,
       vigil_rule_add('traders', 'country', 'one_of', '["US", "GB", "DE", "JP", "SG"]') AS r4,
       vigil_rule_add('trades', 'trader_id', 'references', '{"table": "traders", "column": "id", "enforce": true}') AS r5,
       vigil_rule_add('trades', 'symbol', 'crypto_symbol') AS r6,
       vigil_rule_add('trades', 'side', 'one_of', '["buy", "sell"]') AS r7,
       vigil_rule_add('trades', 'price', 'positive') AS r8,
       vigil_rule_add('trades', NULL, 'expression', '{"sql": "price * qty <= 1000000"}') AS r9;
SELECT table_name, coalesce(column_name, '(row)') AS column_name, rule, coalesce(params, '') AS params FROM vigil_rules;

.print
.print    Sign-ups arrive as JSON and go through vigil_insert (one error lists every problem; nothing is written):
SELECT vigil_insert('traders', '{"username": "satoshi_n", "email": "satoshi@example.com", "country": "JP"}') AS new_key;
SELECT vigil_insert('traders', '{"username": "vitalik", "email": "vitalik@example.org", "country": "SG"}') AS new_key;
.print    vigil_insert of satoshi_n again, with email fake@@example.com, country XX and a column referrer ...
SELECT vigil_insert('traders', '{"username": "satoshi_n", "email": "fake@@example.com", "country": "XX", "referrer": "bob"}');
SELECT vigil_check('traders', '{"username": "_whale", "email": "whale@exchange", "country": "US"}') AS what_vigil_check_reports;
SELECT id, username, email, country FROM traders;

.print
.print    With vigil_enforce, plain INSERT and UPDATE statements are checked too:
SELECT vigil_enforce('trades') AS enforced;
.print    vigil_rules says which tables' enforcement is in place (triggers as the rules make them now):
SELECT table_name, max(enforced) AS enforced FROM vigil_rules GROUP BY table_name;
INSERT INTO trades (trader_id, symbol, side, price, qty) VALUES (1, 'BTC-USD', 'buy', 64000, 0.25);
.print    INSERT a trade of trader 42 (none), symbol btc-usd, side hold, price -1 ...
INSERT INTO trades (trader_id, symbol, side, price, qty) VALUES (42, 'btc-usd', 'hold', -1, 1);
.print    INSERT a trade of 500 ETH at 3200 (over the 1000000 limit of the expression rule) ...
INSERT INTO trades (trader_id, symbol, side, price, qty) VALUES (2, 'ETH-USD', 'sell', 3200, 500);
.print    UPDATE trade 1 to side short ...
UPDATE trades SET side = 'short' WHERE id = 1;
SELECT id, trader_id, symbol, side, price, qty FROM trades;
.print    One rule, one value, no table (also usable in CHECK constraints):
SELECT vigil_rule_check('range', '{"min": 0, "max": 1000000}', '2500000') AS price_check,
       vigil_rule_check('regex', '{"pattern": "^[A-Z]+-[A-Z]+$"}', 'BTC-USD') AS symbol_check;
SELECT vigil_unenforce('trades') AS unenforced;

.print
.print 8. A day of generated trading data (examples/cryptotrading/generate.py) loaded row by row:
.print    vigil_check first, then vigil_insert for the rows without problems. The rows the rules
.print    rejected, and why:
DROP TABLE IF EXISTS trades;
DROP TABLE IF EXISTS traders;
.output /dev/null
SELECT vigil_rule_remove(table_name, column_name, rule) FROM (SELECT DISTINCT table_name, column_name, rule FROM vigil_rules WHERE table_name IN ('trades', 'traders'));
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS market_data;
.read demo/generated.sql
.output
SELECT l.table_name AS "table", json_extract(l.row, '$.id') AS id,
       group_concat(json_extract(p.value, '$.column') || ' (' || json_extract(p.value, '$.rule') || '): '
                    || json_extract(p.value, '$.reason'), '; ') AS "rejected because"
FROM temp.vigil_load AS l, json_each(l.problems) AS p
GROUP BY l.n ORDER BY l.n;
.print
.print    Loaded (the generator made 200 users, 500 trades, 100 market rows):
SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM trades) AS trades, (SELECT count(*) FROM market_data) AS market_data;
.print
.print 9. What the rules could not stop on insert, found by the quality report: NULL emails
.print    (the email rule lets NULL pass: counted in the score, though 96 % complete meets the
.print    95 % target), orphaned trades (this references rule is not enforced on write, and
.print    rejected users leave their trades behind), stale market data.
.print    The report (vigil_quality_report) records each table's score in vigil_quality_history:
.output /dev/null
SELECT vigil_quality_report('{"tables": {"market_data": {"freshness_column": "ts", "max_age_hours": 24}}}');
.output
SELECT coalesce(table_name, '(overall)') AS "table", score, passed
FROM vigil_quality_history WHERE at = (SELECT max(at) FROM vigil_quality_history)
ORDER BY table_name IS NULL, table_name;
.print    What to fix, with up to 5 sample keys each (SELECT * FROM vigil_quality_issues(options)):
SELECT table_name AS "table", dimension, column_name AS "column", value, target, sample_keys, detail
FROM vigil_quality_issues('{"tables": {"market_data": {"freshness_column": "ts", "max_age_hours": 24}}}');
.print    Options are checked: a misspelt table name is an error, not a quietly different report:
SELECT * FROM vigil_quality_issues('{"tables": {"market_date": {"freshness_column": "ts"}}}');
.print    Scores under vigil_config('quality_alert_score') raised alerts:
SELECT vigil_config('quality_alert_score') AS quality_alert_score;
SELECT severity, message FROM vigil_alerts ORDER BY id;

.print
.print 10. The audit trail: who changed which trade, sealed into a hash chain
.print    vigil_audit_enable('trades') generates three triggers; the application names its actor:
SELECT vigil_audit_enable('trades', '{"statement": true}') AS enabled;
SELECT vigil_set_actor('desk-ops@exchange.io') AS actor;
UPDATE trades SET price = round(price * 1.01, 2) WHERE id IN (SELECT id FROM trades ORDER BY id LIMIT 2);
DELETE FROM trades WHERE id = (SELECT max(id) FROM trades);
.print    The triggers only stage the raw values (cheap for the writer); verify counts them as unsealed:
SELECT sum(n) AS staged, json_extract(vigil_audit_verify(), '$.unsealed') AS unsealed FROM vigil_audit_batch;
.print    Sealing them (vigil_audit_seal, after commit) writes the entries and links them; keep the head outside the database:
SELECT vigil_audit_seal() AS sealed, substr(vigil_audit_head(), 1, 16) || '...' AS head;
.print    The entries, with the statement's constants replaced (row images shortened here):
SELECT id, operation, actor, row_key, changed_columns, substr(coalesce(new_row, old_row), 1, 60) || '...' AS "row image", statement
FROM vigil_audit_log ORDER BY id;
SELECT json_extract(v, '$.valid') AS valid, json_extract(v, '$.checked') AS checked FROM (SELECT vigil_audit_verify() AS v);
.print    Someone edits the log behind vigil's back: the price of the first change becomes 1.
UPDATE vigil_audit_log SET new_row = json_set(new_row, '$.price', 1) WHERE id = (SELECT min(id) FROM vigil_audit_log);
.print    vigil_audit_verify() finds it and names the entry:
SELECT json_extract(v, '$.valid') AS valid, json_extract(v, '$.first_invalid') AS first_invalid FROM (SELECT vigil_audit_verify() AS v);

.print
.print 11. Secrets: a trader's password and an API key for the trading bot
.print    vigil_password_hash stores Argon2id (OWASP's parameters); a login checks with vigil_password_verify:
CREATE TABLE logins (email text PRIMARY KEY, password_hash text NOT NULL);
INSERT INTO logins VALUES ('alice@example.com', vigil_password_hash('correct horse battery staple'));
SELECT email, substr(password_hash, 1, 31) || '...' AS stored,
       vigil_password_verify('correct horse battery staple', password_hash) AS right_password,
       vigil_password_verify('Tr0ub4dor&3', password_hash) AS wrong_password,
       vigil_password_needs_rehash(password_hash) AS needs_rehash
FROM logins;
.print    An API key is shown once; only its keyed hash is stored. The secret is the connection's
.print    (vigil_api_key_secret or VIGIL_API_KEY_SECRET), never the file's:
SELECT vigil_api_key_secret('demo-secret-0123456789abcdef') AS secret_set;
CREATE TEMP TABLE issued AS SELECT vigil_api_key_generate('bot_live') AS api_key;
CREATE TABLE api_keys (key_hash text PRIMARY KEY, owner text NOT NULL);
INSERT INTO api_keys SELECT vigil_api_key_hash(api_key), 'alice@example.com' FROM issued;
SELECT substr(api_key, 1, 12) || '...' AS "key (shown once)", substr(key_hash, 1, 24) || '...' AS stored,
       (SELECT owner FROM api_keys WHERE key_hash = vigil_api_key_hash(api_key)) AS "found by hash",
       vigil_api_key_verify(api_key, key_hash) AS verifies,
       vigil_api_key_verify('bot_live_guess', key_hash) AS "a guess verifies"
FROM issued, api_keys;
.print    An encrypted backup of this file while it is open (the age format: age -d opens it),
.print    verified, and restored to a new file checked by PRAGMA integrity_check first:
SELECT json_extract(r, '$.encrypted') AS encrypted, json_extract(r, '$.pages') AS pages,
       json_extract(r, '$.work_factor') AS scrypt_work_factor
FROM (SELECT vigil_backup('demo/vigil-demo-backup.age', 'demo passphrase, not a real one') AS r);
SELECT json_extract(v, '$.valid') AS valid, json_extract(v, '$.integrity') AS integrity
FROM (SELECT vigil_backup_verify('demo/vigil-demo-backup.age', 'demo passphrase, not a real one') AS v);
SELECT json_extract(v, '$.path') AS restored_to, json_extract(v, '$.integrity') AS integrity
FROM (SELECT vigil_restore('demo/vigil-demo-backup.age', 'demo passphrase, not a real one',
                           'demo/vigil-demo-restored.db') AS v);
.print    A wrong passphrase is an error, and nothing is restored:
SELECT vigil_restore('demo/vigil-demo-backup.age', 'a guess', 'demo/never.db');

.print
.print 12. Statement shapes: the canonical text and fingerprint statement monitoring groups by
SELECT vigil_normalize(q) AS normalized, vigil_fingerprint(q) AS fingerprint
FROM (SELECT 'SELECT * FROM trades WHERE user_id = 42 AND side IN (''buy'', ''sell'') -- desk 7' AS q
      UNION ALL SELECT 'select *  from TRADES where user_id=7 and side in (''buy'')'
      UNION ALL SELECT 'SELECT * FROM trades WHERE symbol = ''BTC-USD''');

.print
.print 13. Query analysis: a handful of bad queries on the trading tables, the rules they break and SQLite's plan
SELECT substr(q, 1, 60) AS query, json_extract(i.value, '$.rule') AS rule,
       json_extract(i.value, '$.severity') AS severity, json_extract(i.value, '$.position') AS at
FROM (SELECT 'SELECT * FROM trades WHERE lower(symbol) = ''btc-usd'' ORDER BY random() LIMIT 5' AS q
      UNION ALL SELECT 'SELECT t.id FROM trades t, traders u WHERE t.qty > 1'
      UNION ALL SELECT 'DELETE FROM trades'
      UNION ALL SELECT 'SELECT id FROM traders WHERE email LIKE ''%@example.com'' OR ''1''=''1'''
      UNION ALL SELECT 'SELECT id FROM traders WHERE country = NULL OR country = ''DE'' OR country = ''FR'' OR country = ''US'''
      UNION ALL SELECT 'INSERT INTO traders VALUES (99, ''eve'', NULL, ''XX'')') AS bad,
     json_each(vigil_analyze_query(q), '$.issues') AS i;
.print    Index suggestions, proven against SQLite's planner on a copy of the schema and its statistics:
SELECT json_extract(s.value, '$.ddl') AS suggested, json_extract(s.value, '$.removes_full_scans') AS ends_full_scan_of,
       json_extract(s.value, '$.plan_after.scans[0].detail') AS plan_after
FROM json_each(vigil_analyze_query('SELECT id, price FROM trades WHERE symbol = ''BTC-USD'' AND price > 60000'), '$.index_suggestions') AS s;
.print    Advice over a day's statements, merged and ranked, with the indexes that cost without serving:
SELECT json_extract(s.value, '$.ddl') AS suggested, json_extract(s.value, '$.statements') AS serves_statements,
       json_extract(s.value, '$.calls') AS calls
FROM json_each(vigil_index_advice('[{"sql": "SELECT id FROM trades WHERE symbol = ?1", "calls": 900},
                                    {"sql": "SELECT id, qty FROM trades WHERE symbol = ?1 AND price > ?2", "calls": 40},
                                    "SELECT username FROM traders WHERE country = ''DE''"]'), '$.suggestions') AS s;
.print    The hint for the first bad query above, and what SQLite would do with it (tables read in full):
SELECT json_extract(a, '$.issues[1].hint') AS hint, json_extract(a, '$.plan.full_scans') AS full_scans,
       json_extract(a, '$.plan.temp_b_tree') AS sorts_in_a_temp_b_tree
FROM (SELECT vigil_analyze_query('SELECT * FROM trades WHERE lower(symbol) = ''btc-usd'' ORDER BY random() LIMIT 5') AS a);

.print
.print 14. Statement monitoring: every statement of this demo was counted by vigil's trace and timed by its own clock
.print    Every statement of the demo so far, by total time (vigil_query_stats):
SELECT count(*) AS statement_shapes, sum(calls) AS executions, round(sum(total_ms)) AS total_ms FROM vigil_query_stats();
.print    Counting from zero (vigil_query_stats_reset), a slow-query threshold of 20 ms, and a trading desk's day
.print    in miniature: symbol scans, point lookups and one slow report:
SELECT vigil_query_stats_reset();
SELECT vigil_config('slow_query_ms', '20') AS slow_query_ms;
SELECT count(*) AS trades FROM trades WHERE symbol = 'BTC-USD' AND side = 'buy';
SELECT count(*) AS trades FROM trades WHERE symbol = 'ETH-USD' AND side = 'sell';
SELECT count(*) AS trades FROM trades WHERE symbol = 'SOL-USD' AND side = 'buy';
SELECT count(*) AS trades FROM trades WHERE symbol = 'ADA-USD' AND side = 'sell';
SELECT username FROM users WHERE id = 1;
SELECT username FROM users WHERE id = 2;
SELECT username FROM users WHERE id = 3;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
SELECT count(*) AS slow_report FROM n, (SELECT count(*) AS c FROM trades) WHERE i % 1000 = c % 1000;
SELECT json_extract(vigil_snapshot(), '$.statements') AS statements_snapshotted;
.print    The heaviest statements, with percentiles from vigil's histogram (vigil_query_stats):
SELECT substr(query, 1, 58) AS query, calls, rows, round(mean_ms, 3) AS mean_ms, round(p95_ms, 3) AS p95_ms,
       round(max_ms, 3) AS max_ms
FROM vigil_query_stats() ORDER BY total_ms DESC LIMIT 5;
.print    The slow-query log: executions over slow_query_ms, constants replaced:
SELECT round(duration_ms, 1) AS ms, rows, substr(query, 1, 80) AS query FROM vigil_slow_queries(3);
.print    vigil_performance_report(24): the day's totals and percentiles, from the history and the live counters,
SELECT json_extract(r, '$.calls') AS calls, json_extract(r, '$.statements') AS statements,
       json_extract(r, '$.avg_time_ms') AS avg_ms, json_extract(r, '$.p50_ms') AS p50_ms,
       json_extract(r, '$.p95_ms') AS p95_ms, json_extract(r, '$.p99_ms') AS p99_ms,
       json_extract(r, '$.snapshots') AS snapshots
FROM (SELECT vigil_performance_report(24) AS r);
.print    and its slow queries (the seed's slow_queries[...]['avg_time_ms']):
SELECT substr(json_extract(s.value, '$.query'), 1, 60) AS query, json_extract(s.value, '$.calls') AS calls,
       json_extract(s.value, '$.avg_time_ms') AS avg_time_ms, json_extract(s.value, '$.max_time_ms') AS max_time_ms
FROM json_each(vigil_performance_report(24), '$.slow_queries') AS s LIMIT 4;
.print    vigil_index_advice() with no argument advises on the heaviest statements it has seen:
SELECT json_extract(a, '$.source') AS source, json_extract(a, '$.statements') AS statements,
       json_extract(a, '$.suggestions[0].ddl') AS first_suggestion
FROM (SELECT vigil_index_advice() AS a);
.print
.print 15. Health: every check with its value, threshold and what to do; alerts on every change of state
.print    (SQLite's checks; PostgreSQL adds sessions, locks, replication, wraparound, vacuum, WAL archiving ...).
.print    The demo's slow report shows up, and a duplicate index made on purpose:
CREATE INDEX trades_by_user ON trades(user_id);
CREATE INDEX trades_by_user_again ON trades(user_id);
SELECT json_extract(h, '$.status') AS status, json_array_length(h, '$.checks') AS checks,
       json_array_length(h, '$.issues') AS issues, json_extract(h, '$.alerts') AS alerts_raised
FROM (SELECT vigil_health() AS h);
SELECT "check", status, value, threshold, unit, substr(message, 1, 100) AS message
FROM vigil_health_checks() ORDER BY status <> 'ok' DESC, "check";
.print    Alerts are rows (vigil_alerts; PostgreSQL also NOTIFY vigil_alerts with the id and kind only):
SELECT source, severity, "check", substr(message, 1, 90) AS message FROM vigil_alerts ORDER BY id DESC LIMIT 3;
DROP INDEX trades_by_user_again;
SELECT json_extract(vigil_health(), '$.alerts') AS alerts_after_the_fix;
SELECT severity, "check", substr(message, 1, 90) AS message FROM vigil_alerts ORDER BY id DESC LIMIT 1;
.print    The deep checks read the whole file (PRAGMA quick_check, foreign_key_check, table sizes, the audit chain,
.print    which still finds the entry step 10 tampered with):
SELECT "check", status, value, substr(message, 1, 80) AS message
FROM vigil_health_checks('{"deep": true}') WHERE "check" IN ('quick_check', 'foreign_key_check', 'table_sizes', 'audit_chain');
.print    Pool status: SQLite has no server, so vigil says what it can know and what it cannot:
SELECT json_extract(p, '$.connections') AS connections, json_extract(p, '$.max_connections') AS max_connections,
       json_extract(p, '$.waiting') AS waiting, substr(json_extract(p, '$.notes'), 1, 90) AS notes
FROM (SELECT vigil_pool_status() AS p);
.print    History: SQLite has no worker, so a run is kept when asked (`vigil health --every 60` does it on a schedule):
SELECT json_extract(vigil_health('{"record": true}'), '$.status') AS recorded_status;
SELECT at, status, json_array_length(checks) AS checks, source FROM vigil_health_history ORDER BY id DESC LIMIT 1;
.print    A busy file: vigil_busy_backoff(2000) retries a locked database with exponential backoff and jitter:
SELECT vigil_busy_backoff(2000) AS max_ms;
.print    vigil_metrics(): every figure in Prometheus text (`vigil exporter --listen` serves it with vigil_up); a few lines:
WITH RECURSIVE lines(line, rest) AS (
  SELECT '', vigil_metrics()
  UNION ALL SELECT substr(rest, 1, instr(rest, char(10)) - 1), substr(rest, instr(rest, char(10)) + 1)
  FROM lines WHERE rest <> '')
SELECT line AS metric FROM lines
WHERE line LIKE 'vigil_health_status %' OR line LIKE 'vigil_check_status{check="slow_queries"}%'
   OR line LIKE 'vigil_check_value{check="database_size"%' OR line LIKE 'vigil_connections{%';
.print
.print    Every vigil function is declared once (SELECT * FROM vigil_functions()); those that
.print    run stored SQL, use a secret or touch files are DIRECTONLY: no view, trigger or CHECK of a file can call them:
SELECT name, effects, sqlite_flags FROM vigil_functions()
WHERE effects LIKE '%stored SQL%' OR effects LIKE '%secret%' OR effects LIKE '%files%' ORDER BY name;

.print
.print    The file records the version of vigil's tables, so a newer vigil upgrades it in place
.print    (the PostgreSQL counterpart is ALTER EXTENSION vigil UPDATE; docs/releasing.md):
SELECT value AS vigil_schema_version, vigil_version() AS module FROM vigil_meta WHERE key = 'schema_version';

.print
.print demo complete: every row above was checked inside SQLite by vigil.
