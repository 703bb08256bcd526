-- query.sql — vigil_analyze_query on PostgreSQL (issue 15) with real
-- roles: the plan is the caller's EXPLAIN, never more; an analysed write
-- changes nothing; the schema, prepared statements and settings are the
-- same after every analysis.
CREATE ROLE regress_query_owner LOGIN;
CREATE ROLE regress_query_reader LOGIN;
CREATE ROLE regress_query_attacker LOGIN;
CREATE SCHEMA regress_query AUTHORIZATION regress_query_owner;
SET ROLE regress_query_owner;
CREATE TABLE regress_query.orders (id serial PRIMARY KEY, user_id int NOT NULL, status text NOT NULL, total numeric);
INSERT INTO regress_query.orders (user_id, status, total)
  SELECT g % 500, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END, g FROM generate_series(1, 20000) g;
ANALYZE regress_query.orders;
-- The owner's own code on the table: a trigger that records every delete.
CREATE TABLE regress_query.deleted (id int);
CREATE FUNCTION regress_query.note_delete() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO regress_query.deleted VALUES (OLD.id); RETURN OLD; END$$;
CREATE TRIGGER note BEFORE DELETE ON regress_query.orders FOR EACH ROW EXECUTE FUNCTION regress_query.note_delete();
GRANT USAGE ON SCHEMA regress_query TO regress_query_reader, regress_query_attacker;
GRANT SELECT ON regress_query.orders TO regress_query_reader;
RESET ROLE;

-- The catalog before any analysis.
CREATE TEMP TABLE catalog_before AS
  SELECT c.oid, c.relname, c.relkind, (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid) AS indexes
  FROM pg_class c WHERE c.relnamespace = 'regress_query'::regnamespace;

-- The static part: the rules, tables, kind and fingerprint.
SELECT r->>'kind' AS kind, r->'tables' AS tables, r->'statements' AS statements,
       (SELECT jsonb_agg(i->>'rule') FROM jsonb_array_elements(r->'issues') i) AS rules
FROM vigil_analyze_query('SELECT * FROM regress_query.orders WHERE lower(status) = ''open'' ORDER BY random()', '{"plan": false}') r;

-- The plan: a whole-table scan named, with the planner's estimate.
SELECT r->'plan'->'full_scans' AS full_scans, (r->'plan'->>'rows')::int > 0 AS estimated,
       r->'plan'->'scans'->0->>'node' AS node
FROM vigil_analyze_query('SELECT id FROM regress_query.orders WHERE total > 100', '{"plan_as_superuser": true}') r;
-- With parameters: the generic plan, the same after a NULL would have
-- made a custom one meaningless.
SELECT r->'plan'->'scans'->0->>'filter' AS filter
FROM vigil_analyze_query('SELECT id FROM regress_query.orders WHERE status = $1 AND total > $2', '{"plan_as_superuser": true}') r;
SELECT count(*) AS prepared_left FROM pg_prepared_statements;
SHOW plan_cache_mode;

-- EXPLAIN ANALYZE of a DELETE runs it, the owner's trigger included, and
-- rolls it back: every row is still there, the trigger's table is empty.
SET ROLE regress_query_owner;
SELECT (r->'plan'->>'analyzed')::boolean AS analyzed, r->'issues'->0->>'rule' AS rule
FROM vigil_analyze_query('DELETE FROM regress_query.orders', '{"analyze": true}') r;
SELECT (SELECT count(*) FROM regress_query.orders) AS orders, (SELECT count(*) FROM regress_query.deleted) AS deleted;
RESET ROLE;

-- Inside the caller's transaction: what the caller did before stays, the
-- analysis leaves nothing.
BEGIN;
CREATE TEMP TABLE mine (a int);
SELECT vigil_analyze_query('INSERT INTO mine VALUES (1)', '{"analyze": true, "plan_as_superuser": true}')->'plan'->>'analyzed' AS analyzed;
SELECT count(*) AS rows_in_mine FROM mine;
COMMIT;

-- A reader plans what it may read, and no more.
SET ROLE regress_query_reader;
SELECT vigil_analyze_query('SELECT id FROM regress_query.orders WHERE id = 1')->'plan'->'scans'->0->>'index' IS NOT NULL AS uses_pkey;
SELECT vigil_analyze_query('DELETE FROM regress_query.orders WHERE id = 1', '{"analyze": true}')->>'plan_error' AS refused;
RESET ROLE;
-- An attacker has no SELECT on the table: planning is refused as it would
-- be for the attacker's own EXPLAIN, and analysing a write does not write.
SET ROLE regress_query_attacker;
SELECT vigil_analyze_query('SELECT id FROM regress_query.orders')->>'plan_error' AS refused;
SELECT vigil_analyze_query('DELETE FROM regress_query.orders', '{"analyze": true}')->>'plan_error' AS refused;
-- Stacked statements never reach EXPLAIN: the server's parser counts them first.
SELECT vigil_analyze_query('SELECT 1; DROP TABLE regress_query.orders')->>'plan_error' AS refused;
SELECT vigil_analyze_query($q$SELECT 1 AS "a;b" /* ; DROP TABLE x */$q$)->'plan'->>'rows' AS one_statement;
-- Statements EXPLAIN does not take, and bad ones.
SELECT vigil_analyze_query('DROP TABLE regress_query.orders')->>'plan_error' AS refused;
SELECT vigil_analyze_query('SELEC 1')->>'plan_error' AS refused;
RESET ROLE;
SELECT count(*) AS orders_still FROM regress_query.orders;

-- A superuser's plan is refused unless asked for: planning evaluates the
-- statement's immutable functions, in views too, as the caller. An
-- attacker's view whose function would act as superuser is not planned
-- (no NOTICE below), and the static analysis still answers.
CREATE SCHEMA regress_query_att AUTHORIZATION regress_query_attacker;
SET ROLE regress_query_attacker;
CREATE FUNCTION regress_query_att.f(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$BEGIN RAISE NOTICE 'attacker code ran as superuser: %', current_setting('is_superuser'); RETURN $1; END$$;
CREATE VIEW regress_query_att.v AS SELECT regress_query_att.f(1) AS x;
RESET ROLE;
SELECT r->>'plan_error' AS refused, r->>'kind' AS kind FROM vigil_analyze_query('SELECT * FROM regress_query_att.v') r;
SELECT vigil_analyze_query('SELECT x FROM regress_query_att.v', '{"plan_as_superuser": true}')->'plan'->>'rows' AS planned_when_asked;
-- The attacker planning its own view runs its own code with its own rights.
SET ROLE regress_query_attacker;
SELECT vigil_analyze_query('SELECT x FROM regress_query_att.v')->'plan'->>'rows' AS own_plan;
RESET ROLE;
DROP SCHEMA regress_query_att CASCADE;

-- Index suggestions proven by hypothetical indexes: the owner's query on
-- an unindexed column gets one, the suggested DDL creates an index the
-- planner then uses, a query its index serves gets none, and nothing is
-- created by the analysis.
SET ROLE regress_query_owner;
SELECT s->>'ddl' AS ddl, s->'removes_full_scans' AS removes,
       (s->'plan_after'->>'total_cost')::float < (s->'plan_before'->>'total_cost')::float AS cheaper
FROM jsonb_array_elements(vigil_analyze_query('SELECT id, total FROM regress_query.orders WHERE user_id = 42')->'index_suggestions') s;
SELECT count(*) AS indexes_after_analysis FROM pg_index WHERE indrelid = 'regress_query.orders'::regclass;
CREATE INDEX "orders_user_id_idx" ON regress_query."orders" ("user_id");
SELECT vigil_analyze_query('SELECT id, total FROM regress_query.orders WHERE user_id = 42')->'plan'->'scans'->0->>'index' AS now_used,
       vigil_analyze_query('SELECT id, total FROM regress_query.orders WHERE user_id = 42')->'index_suggestions' AS suggestions;
-- A join over the new index, a range with parameters, and a sort.
SELECT s->>'ddl' AS ddl
FROM jsonb_array_elements(vigil_analyze_query('SELECT id FROM regress_query.orders WHERE status = $1 AND total > $2')->'index_suggestions') s;
SELECT s->>'ddl' AS ddl
FROM jsonb_array_elements(vigil_analyze_query('SELECT id FROM regress_query.orders ORDER BY total DESC LIMIT 5')->'index_suggestions') s;
SELECT count(*) AS prepared_left FROM pg_prepared_statements;
DROP INDEX regress_query.orders_user_id_idx;
RESET ROLE;

-- Lint that reads the schema: a function on an indexed column, a leading
-- wildcard on a large table, a join along a foreign key without an index;
-- near misses beside each.
SET ROLE regress_query_owner;
CREATE TABLE regress_query.users (id int PRIMARY KEY, email text, country text);
INSERT INTO regress_query.users SELECT g, 'u' || g || '@example.com', 'DE' FROM generate_series(0, 499) g;
CREATE INDEX users_email ON regress_query.users (email);
ALTER TABLE regress_query.orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES regress_query.users (id);
ANALYZE regress_query.users;
SELECT q, (SELECT jsonb_agg(i->>'rule') FROM jsonb_array_elements(vigil_analyze_query(q)->'issues') i) AS rules
FROM (VALUES ('SELECT id FROM regress_query.users WHERE lower(email) = ''a'''),
             ('SELECT id FROM regress_query.users WHERE lower(country) = ''de'''),
             ('SELECT id FROM regress_query.orders WHERE status LIKE ''%pen'''),
             ('SELECT id FROM regress_query.users WHERE email LIKE ''%example.com'''),
             ('SELECT o.id FROM regress_query.orders o JOIN regress_query.users u ON u.id = o.user_id WHERE u.country = ''FR''')) v(q);
ALTER TABLE regress_query.orders DROP CONSTRAINT orders_user;
DROP TABLE regress_query.users;
RESET ROLE;

-- vigil_index_advice over statements: merged per table, ranked by the
-- time they would save; the database's invalid, duplicate, redundant and
-- unused indexes (an invalid one from a failed CREATE INDEX CONCURRENTLY).
SET ROLE regress_query_owner;
CREATE INDEX orders_status_a ON regress_query.orders (status);
CREATE INDEX orders_status_b ON regress_query.orders (status);
RESET ROLE;
CREATE UNIQUE INDEX CONCURRENTLY orders_user_unique ON regress_query.orders (user_id);
SET ROLE regress_query_owner;
SELECT a->>'statements' AS statements, a->>'planned' AS planned, a->>'ranked_by' AS ranked_by,
       (SELECT jsonb_agg(jsonb_build_object('ddl', s->>'ddl', 'statements', s->'statements',
                                            'saves_time', (s->>'estimated_ms_saved')::float > 0))
        FROM jsonb_array_elements(a->'suggestions') s) AS suggestions,
       a->'errors' AS errors
FROM vigil_index_advice('[{"sql": "SELECT id FROM regress_query.orders WHERE user_id = 7", "calls": 50, "total_ms": 400},
                          {"sql": "SELECT id FROM regress_query.orders WHERE user_id = 8 AND total > 10", "calls": 5, "total_ms": 40},
                          "SELECT id FROM regress_query.orders WHERE total > 19990",
                          "SELECT id FROM regress_query.nowhere"]') a;
SELECT (SELECT jsonb_agg(x->>'index') FROM jsonb_array_elements(a->'invalid_indexes') x
        WHERE x->>'table' LIKE 'regress_query.%') AS invalid,
       (SELECT jsonb_agg((x->>'index') || ' duplicates ' || (x->>'duplicate_of')) FROM jsonb_array_elements(a->'duplicate_indexes') x
        WHERE x->>'table' LIKE 'regress_query.%') AS duplicate,
       (SELECT count(*) FROM jsonb_array_elements(a->'unused_indexes') x WHERE x->>'index' = 'orders_status_a') AS status_a_unused
FROM vigil_index_advice() a;
DROP INDEX regress_query.orders_status_a, regress_query.orders_status_b, regress_query.orders_user_unique;
RESET ROLE;

-- Found by an attack review of the hypothetical indexes, each fixed:
-- 1. A function the planner evaluates during vigil's EXPLAIN plans its own
--    query one level deeper: that plan never sees the hypothetical index
--    (it would be executed, and cached by PL/pgSQL, with an index that
--    does not exist). The function still works after many analyses.
SET ROLE regress_query_owner;
CREATE FUNCTION regress_query.user_total(p int) RETURNS numeric STABLE LANGUAGE plpgsql AS
  $$DECLARE t numeric; BEGIN SELECT total INTO t FROM regress_query.orders WHERE user_id = p LIMIT 1; RETURN t; END$$;
SELECT count(*) AS analyses FROM generate_series(1, 8) g,
  LATERAL vigil_analyze_query('SELECT id FROM regress_query.orders WHERE user_id = 3 AND total > regress_query.user_total(5)') a
WHERE jsonb_array_length(a->'index_suggestions') > 0;
SELECT regress_query.user_total(7) IS NOT NULL AS function_still_works;
-- 2. The suggested DDL never collides: a real index already named like
--    the suggestion (on another column) neither passes for it nor blocks it.
CREATE INDEX orders_user_id_idx ON regress_query.orders (status);
SELECT s->>'ddl' AS ddl, s->'plan_after'->'scans'->0->>'index' AS plan_after_uses
FROM jsonb_array_elements(vigil_analyze_query('SELECT id, total FROM regress_query.orders WHERE user_id = 42')->'index_suggestions') s;
DROP INDEX regress_query.orders_user_id_idx;
DROP FUNCTION regress_query.user_total(int);
RESET ROLE;
-- 3. The superuser refusal holds inside a SECURITY DEFINER function a
--    superuser owns: the current user is what counts.
CREATE FUNCTION regress_query.advise(q text) RETURNS jsonb SECURITY DEFINER LANGUAGE sql AS
  $$SELECT vigil_analyze_query(q)$$;
GRANT EXECUTE ON FUNCTION regress_query.advise(text) TO regress_query_attacker;
SET ROLE regress_query_attacker;
SELECT regress_query.advise('SELECT 1 FROM pg_class')->>'plan_error' LIKE 'not planned for a superuser%' AS refused;
RESET ROLE;
DROP FUNCTION regress_query.advise(text);

-- A plan deeper than vigil reads is a plan_error, not a failed call.
SELECT vigil_analyze_query('SELECT * FROM ' || repeat('(SELECT * FROM ', 300) || 'regress_query.orders' ||
                           repeat(' LIMIT 1000) s', 300), '{"plan_as_superuser": true}')->>'plan_error' AS too_deep;

-- Errors.
SELECT vigil_analyze_query('SELECT 1', '{"analyze": true, "plan": false}');
SELECT vigil_analyze_query('SELECT $1', '{"analyze": true}');
SELECT vigil_analyze_query('SELECT 1', '{"offset_threshold": "x"}');
SELECT vigil_analyze_query(repeat('x', 17 * 1024 * 1024));
SELECT vigil_analyze_query(NULL) IS NULL AS null_in_null_out;

-- The schema is unchanged.
SELECT count(*) AS changed FROM (
  (SELECT c.oid, c.relname, c.relkind, (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)
   FROM pg_class c WHERE c.relnamespace = 'regress_query'::regnamespace)
  EXCEPT ALL SELECT * FROM catalog_before) d;
SELECT (SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'regress_query'::regnamespace) =
       (SELECT count(*) FROM catalog_before) AS same_count;

DROP SCHEMA regress_query CASCADE;
DROP ROLE regress_query_owner, regress_query_reader, regress_query_attacker;
