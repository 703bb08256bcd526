-- quality.sql — data quality through the sqlite3 shell: declared foreign
-- keys (PRAGMA foreign_keys is off by default, so orphans happen), unique
-- indexes, the history and alert tables, vigil_config persisted.
.headers on
.mode list
.nullvalue NULL

CREATE TABLE q_users (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT);
CREATE TABLE q_orders (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES q_users (id), amount NUMERIC);
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100)
INSERT INTO q_users SELECT n, 'u' || n || '@example.com', CASE WHEN n % 10 = 0 THEN NULL ELSE 'n' || n END FROM g;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 200)
INSERT INTO q_orders SELECT n, CASE WHEN n IN (13, 26) THEN 1000 + n ELSE 1 + n % 100 END, n FROM g;

SELECT json_extract(r, '$.rows') AS rows, json_extract(r, '$.score') AS score, json_extract(r, '$.passed') AS passed,
       json_extract(r, '$.completeness.percent') AS completeness,
       json_extract(r, '$.completeness.columns[2].samples') AS name_samples,
       json_extract(r, '$.uniqueness') AS uniqueness
FROM (SELECT vigil_quality_check('q_users') AS r);
SELECT json_extract(r, '$.integrity') AS integrity, json_extract(r, '$.score') AS score
FROM (SELECT vigil_quality_check('q_orders') AS r);

-- Settings persist in vigil_config; a crossing of the threshold is an alert.
SELECT vigil_config('quality_alert_score') AS default_threshold, vigil_config('quality_alert_score', '99') AS new_threshold;
SELECT key, value FROM vigil_config;
SELECT json_extract(vigil_quality_check('q_users'), '$.score') < 99 AS under_new_threshold;
SELECT severity, "check", message FROM vigil_alerts ORDER BY id;
SELECT vigil_config('quality_alert_score', '80');
SELECT json_extract(vigil_quality_check('q_users'), '$.score') AS recovered;
SELECT severity, message FROM vigil_alerts ORDER BY id;

-- The report covers user tables, not vigil's own.
SELECT json_extract(vigil_quality_report(), '$.tables[0].table') AS first, json_array_length(json_extract(vigil_quality_report(), '$.tables')) AS tables;
SELECT count(*) FILTER (WHERE table_name IS NULL) AS overall_rows, count(*) AS history_rows FROM vigil_quality_history;

-- A trigger cannot run a quality check (it writes history): DIRECTONLY.
CREATE TABLE q_log (x TEXT);
CREATE TRIGGER q_sneaky AFTER INSERT ON q_log BEGIN SELECT vigil_quality_check('q_users'); END;
INSERT INTO q_log VALUES ('x');

-- The report's problems as rows (records nothing), and the hidden
-- argument: a view of a file cannot call it (DIRECTONLY), a misspelt
-- option is an error, an unusable constraint on the argument is refused.
SELECT count(*) AS history_before FROM vigil_quality_history;
SELECT table_name, dimension, column_name, value, target, passed, sample_keys, detail FROM vigil_quality_issues();
SELECT table_name, dimension FROM vigil_quality_issues('{"exclude": ["q_orders"]}');
SELECT count(*) AS history_after FROM vigil_quality_history;
SELECT * FROM vigil_quality_issues('{"exlude": ["q_orders"]}');
SELECT count(*) FROM vigil_quality_issues WHERE options > '{}';
CREATE VIEW q_issues AS SELECT * FROM vigil_quality_issues();
SELECT count(*) FROM q_issues;
