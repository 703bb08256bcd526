-- vigil--0.2.0--0.3.0.sql — ALTER EXTENSION vigil UPDATE from 0.2.0 to 0.3.0.
--
-- 0.3.0 declares the SQL surface in one table (common/surface/functions.h),
-- readable as vigil_functions() on both engines, and gives SQLite's
-- enforcement triggers their own entry point, vigil_enforce_trigger(table,
-- new_row, old_row, expressions), which PostgreSQL has too (it explains that
-- PostgreSQL's triggers run vigil_enforce_trigger()). The same statements
-- are in vigil.sql; sql/upgrade.sql compares the two.
-- Released upgrade scripts are history: never edit one after its release
-- (pg_ext/scripts/released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.3.0'" to load this file. \quit

CREATE FUNCTION vigil_functions(OUT name text, OUT arguments text, OUT result text, OUT volatility text,
                                OUT strict boolean, OUT parallel text, OUT effects text, OUT sqlite_flags text,
                                OUT description text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_functions'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 50;
COMMENT ON FUNCTION vigil_functions() IS 'every vigil SQL function with its arguments, result, flags, what it touches and its SQLite registration';

CREATE FUNCTION vigil_enforce_trigger(table_name text, new_row jsonb, old_row jsonb, expressions jsonb) RETURNS void
    AS 'MODULE_PATHNAME', 'vigil_enforce_trigger_row'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_enforce_trigger(text, jsonb, jsonb, jsonb) IS 'what SQLite''s enforcement triggers call: rejects a row with one error listing every violation; PostgreSQL''s triggers use vigil_enforce_trigger()';

-- Migrations are serialised by a lock on vigil_migrations, no longer by a
-- public advisory-lock key.
COMMENT ON FUNCTION vigil_migrate(text, boolean) IS 'applies pending migrations in version order, each atomically, under a lock on vigil''s migration state; dry_run rolls everything back';
