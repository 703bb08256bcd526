-- quality.sql — data quality in PostgreSQL: what only PostgreSQL shows
-- (declared foreign keys, NOT VALID orphans, TABLESAMPLE, the GUC,
-- extension tables left out). The shared scenario (tests/cases/quality.jsonl)
-- covers the report on both engines.
CREATE TABLE q_users (id int PRIMARY KEY, email text UNIQUE, name text);
CREATE TABLE q_orders (id int PRIMARY KEY, user_id int, amount numeric);
INSERT INTO q_users SELECT g, 'u' || g || '@example.com', CASE WHEN g % 10 = 0 THEN NULL ELSE 'n' || g END
FROM generate_series(1, 100) g;
INSERT INTO q_orders SELECT g, CASE WHEN g IN (13, 26) THEN 1000 + g ELSE 1 + g % 100 END, g FROM generate_series(1, 200) g;
-- A declared foreign key added NOT VALID: the existing orphans stay, and the
-- report finds them.
ALTER TABLE q_orders ADD CONSTRAINT q_orders_user FOREIGN KEY (user_id) REFERENCES q_users (id) NOT VALID;

SELECT r->'rows' AS rows, r->'score' AS score, r->'passed' AS passed,
       r->'completeness'->'percent' AS completeness,
       (r->'completeness'->'columns'->2) - 'percent' AS name_column,
       r->'uniqueness' AS uniqueness
FROM vigil_quality_check('q_users') AS r;
SELECT r->'integrity' AS integrity, r->'score' AS score
FROM vigil_quality_check('q_orders') AS r;

-- The GUC is vigil_config's PostgreSQL side.
SHOW vigil.quality_alert_score;
SELECT vigil_config('quality_alert_score', '99');
SHOW vigil.quality_alert_score;
SELECT (vigil_quality_check('q_users')->>'score')::float < 99 AS under_new_threshold;
SELECT severity, "check", message FROM vigil_alerts ORDER BY id;
RESET vigil.quality_alert_score;
SET vigil.nonsense = 1;

-- Sampling reads a part of the table (TABLESAMPLE SYSTEM).
SELECT (r->>'rows')::int <= 200 AS sampled, r->'sample_percent' AS sample_percent
FROM vigil_quality_check('q_orders', '{"sample_percent": 50}') AS r;

-- The report covers user tables only: not the extension's own tables.
SELECT jsonb_path_query_array(vigil_quality_report(), '$.tables[*].table') AS tables;
SELECT count(*) FILTER (WHERE table_name IS NULL) AS overall_rows, count(*) AS history_rows FROM vigil_quality_history;

DROP TABLE q_orders, q_users;
DELETE FROM vigil_state.vigil_quality_history;
DELETE FROM vigil_state.vigil_alerts;
