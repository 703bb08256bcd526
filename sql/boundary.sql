-- boundary.sql — the C++/PostgreSQL boundary: every core failure becomes a
-- clean SQL error with its SQLSTATE, the session keeps working, and 100,000
-- failing calls leave the backend's memory flat.
\set VERBOSITY default

SELECT vigil_validate('nokind', 'x');                          -- 22023
SELECT vigil_uuid_version('not-a-uuid');                         -- 22P02
SELECT vigil_is_phone('12345', 'XX');                            -- 22023
SELECT vigil_json_schema_valid('{"type":"strin"}', '"x"');       -- 22023
SELECT vigil_json_schema_valid('{', '1');                        -- 22P02, parser exception inside the core
SELECT vigil_json_schema_valid('{"$ref":"https://example.com/s.json"}', '1');  -- 22023, not registered
SELECT vigil_json_schema_valid('{"$ref":"#"}', '1');             -- 54000, cycle
SELECT vigil_json_schema_valid('{}', repeat('[', 100000));       -- 22P02 or 54000, never a stack overflow
SELECT vigil_validate('x"; DROP TABLE users; --', 'v');          -- a hostile kind is only a name

-- SQLSTATEs as a handler sees them.
DO $$
DECLARE state text;
BEGIN
  BEGIN PERFORM vigil_validate('nokind', 'x'); EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE; RAISE NOTICE 'unknown kind: %', state; END;
  BEGIN PERFORM vigil_uuid_version('x'); EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE; RAISE NOTICE 'bad uuid: %', state; END;
  BEGIN PERFORM vigil_json_schema_valid('{"$ref":"#"}', '1'); EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE; RAISE NOTICE 'ref cycle: %', state; END;
END $$;

-- The session goes on working after the errors above.
SELECT 'still working' AS after_errors, vigil_is_uuid('0f8fad5b-d9cb-469f-a165-70867728950e');

-- Memory: 100,000 failing calls through each error path. A leak of even one
-- std::string per call would add megabytes; the backend's resident size and
-- its memory contexts must stay flat. (A measurement, not a timing.)
CREATE FUNCTION pg_temp.rss_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmRSS:\s+(\d+)'))[1]::bigint
$$;
CREATE FUNCTION pg_temp.fail_many(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE failures int := 0;
BEGIN
  FOR i IN 1..n LOOP
    BEGIN
      CASE i % 3
        WHEN 0 THEN PERFORM vigil_validate('no-such-kind-' || i, 'x');
        WHEN 1 THEN PERFORM vigil_json_schema_valid('{"type": [' || i || ']}', '1');
        ELSE PERFORM vigil_uuid_version('bad-' || i);
      END CASE;
    EXCEPTION WHEN OTHERS THEN
      failures := failures + 1;
    END;
  END LOOP;
  RETURN failures;
END $$;
SELECT pg_temp.fail_many(20000) AS warmup_failures;
CREATE TEMP TABLE mem AS
  SELECT pg_temp.rss_kb() AS rss, (SELECT sum(used_bytes) FROM pg_backend_memory_contexts) AS ctx;
SELECT pg_temp.fail_many(100000) AS failures;
SELECT pg_temp.rss_kb() - rss < 2048 AS rss_flat,
       (SELECT sum(used_bytes) FROM pg_backend_memory_contexts) - ctx < 1048576 AS contexts_flat
FROM mem;

-- The same through the rules path: a BEFORE trigger whose check object lives
-- in a memory context across SPI queries. 20,000 rejected rows must not
-- grow the backend either.
CREATE TABLE boundary_trades (id integer PRIMARY KEY, user_id integer, side text, price numeric);
SELECT vigil_rule_add('boundary_trades', 'side', 'one_of', '["buy", "sell"]');
SELECT vigil_rule_add('boundary_trades', 'user_id', 'unique');
SELECT vigil_rule_add('boundary_trades', NULL, 'expression', '{"sql": "price > 0"}');
SELECT vigil_enforce('boundary_trades');
CREATE FUNCTION pg_temp.reject_many(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE rejected int := 0;
BEGIN
  FOR i IN 1..n LOOP
    BEGIN
      INSERT INTO boundary_trades VALUES (i, i, 'hold', -1);
    EXCEPTION WHEN check_violation THEN
      rejected := rejected + 1;
    END;
  END LOOP;
  RETURN rejected;
END $$;
SELECT pg_temp.reject_many(5000) AS warmup_rejected;
UPDATE mem SET rss = pg_temp.rss_kb(), ctx = (SELECT sum(used_bytes) FROM pg_backend_memory_contexts);
SELECT pg_temp.reject_many(20000) AS rejected;
SELECT pg_temp.rss_kb() - rss < 2048 AS rss_flat,
       (SELECT sum(used_bytes) FROM pg_backend_memory_contexts) - ctx < 1048576 AS contexts_flat
FROM mem;
SELECT count(*) AS rows_written FROM boundary_trades;
SELECT vigil_unenforce('boundary_trades');
SELECT vigil_rule_remove('boundary_trades', 'side', 'one_of') + vigil_rule_remove('boundary_trades', 'user_id', 'unique')
       + vigil_rule_remove('boundary_trades', NULL, 'expression') AS rules_removed;
DROP TABLE boundary_trades;

-- Long work in the core yields to cancellation: a 2 KB schema whose $refs
-- fan out doubles its work per level (2^31 steps here), and
-- statement_timeout stops it (tests/integration/cancel.py times this and
-- pg_cancel_backend / pg_terminate_backend from another session).
SELECT '{"$defs": {' || string_agg(format('"a%s": {"anyOf": [{"$ref": "#/$defs/a%s"}, {"$ref": "#/$defs/a%s"}]}', i, i + 1, i + 1), ', ')
       || ', "a31": {"type": "string"}}, "$ref": "#/$defs/a0"}' AS exploding
FROM generate_series(0, 30) AS i \gset
SELECT length(:'exploding') BETWEEN 2000 AND 3000 AS about_2kb;
-- With the default step budget the fan-out ends at 10,000,000 steps
-- (54000); with the largest budget statement_timeout stops it first.
SELECT vigil_json_schema_valid(:'exploding', '1');
SET statement_timeout = '1s';
SELECT vigil_json_schema_valid(:'exploding', '1', '{"max_steps": 1000000000}');
RESET statement_timeout;
SELECT vigil_json_schema_valid('{"type": "string"}', '"x"') AS session_continues;

-- The registry is read without a subtransaction (before the core runs),
-- so a parallel query's leader can resolve registered URIs.
SELECT vigil_json_schema_add('https://example.com/boundary/int.json', '{"type": "integer"}');
SET force_parallel_mode = on;
SELECT vigil_json_schema_valid('{"$ref": "https://example.com/boundary/int.json"}', '1', '{"registry": true}') AS in_parallel_mode;
SELECT vigil_json_schema_check('{"$ref": "https://example.com/boundary/int.json"}', '"x"', '{"registry": true}') AS checked;
RESET force_parallel_mode;
SELECT vigil_json_schema_remove('https://example.com/boundary/int.json');

-- Quality scans build their literals so that standard_conforming_strings
-- cannot change them: a json_schema rule's pattern with a backslash.
CREATE TABLE boundary_scs (id integer PRIMARY KEY, body text);
INSERT INTO boundary_scs VALUES (1, '{"a": "5"}'), (2, '{"a": "x"}');
SELECT vigil_rule_add('boundary_scs', 'body', 'json_schema', '{"schema": {"properties": {"a": {"pattern": "^\\d$"}}}}') > 0 AS added;
SET standard_conforming_strings = off;
SELECT vigil_quality_check('boundary_scs')->'validity'->'rows_invalid' AS invalid_rows_scs_off;
RESET standard_conforming_strings;
SELECT vigil_quality_check('boundary_scs')->'validity'->'rows_invalid' AS invalid_rows;
SELECT vigil_rule_remove('boundary_scs', 'body', 'json_schema');
DROP TABLE boundary_scs;
DELETE FROM vigil_state.vigil_quality_history;
DELETE FROM vigil_state.vigil_alerts;
