-- catalog.sql — every vigil function declares volatility, strictness and
-- parallel safety, has a COMMENT, and a C function's symbol equals its SQL
-- name.
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       p.provolatile, p.proisstrict, p.proparallel,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS has_comment,
       p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c') OR p.prosrc = p.proname
         OR (p.proname = 'vigil_is_phone' AND p.prosrc = 'vigil_is_phone_region') AS symbol_matches
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vigil'
ORDER BY 1, 2;

DROP EXTENSION vigil;
