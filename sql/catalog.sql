-- catalog.sql — the installed functions are exactly the function table's
-- (common/surface/functions.cc, which vigil_functions() lists): the same
-- arguments and result, volatility, strictness, parallel safety and
-- COMMENT, no more and no fewer. The install script is hand-written and
-- checked here against the table, instead of against golden rows.
CREATE TEMP VIEW installed AS
SELECT p.proname::text AS name, pg_get_function_arguments(p.oid) AS arguments, pg_get_function_result(p.oid) AS result,
       CASE p.provolatile WHEN 'i' THEN 'immutable' WHEN 's' THEN 'stable' ELSE 'volatile' END AS volatility,
       p.proisstrict AS strict,
       CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' ELSE 'unsafe' END AS parallel,
       obj_description(p.oid, 'pg_proc') AS description
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vigil'
WHERE p.pronamespace = e.extnamespace;

-- vigil_state holds vigil's internals, out of the SQL surface: the event
-- triggers' functions and the twins quality scans call.
SELECT p.oid::regprocedure AS internal, l.lanname, CASE WHEN l.lanname = 'c' THEN p.prosrc END AS symbol
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'vigil_state'::regnamespace ORDER BY 1;

SELECT 'installed, not in the table' AS side, * FROM (
  SELECT * FROM installed EXCEPT SELECT name, arguments, result, volatility, strict, parallel, description FROM vigil_functions()) d
UNION ALL
SELECT 'in the table, not installed', * FROM (
  SELECT name, arguments, result, volatility, strict, parallel, description FROM vigil_functions() EXCEPT SELECT * FROM installed) d
ORDER BY 2, 3;

-- Not vacuous: every function is there once.
SELECT count(*) AS functions, count(DISTINCT name) AS names FROM vigil_functions();
SELECT count(*) = (SELECT count(*) FROM vigil_functions()) AS all_installed FROM installed;

-- A C function's symbol is its SQL name, or that name plus a suffix for an
-- overload (vigil_is_phone_region, vigil_enforce_trigger_row).
SELECT p.proname, p.prosrc FROM pg_proc p
JOIN pg_language l ON l.oid = p.prolang AND l.lanname = 'c'
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vigil'
WHERE p.prosrc <> p.proname::text AND p.prosrc NOT LIKE p.proname::text || '\_%'
ORDER BY 1;

-- SQLite's registration, derived from what each function touches.
SELECT name, effects, sqlite_flags FROM vigil_functions() WHERE sqlite_flags NOT LIKE 'deterministic, innocuous%' ORDER BY name, arguments;

DROP VIEW installed;
DROP EXTENSION vigil;
