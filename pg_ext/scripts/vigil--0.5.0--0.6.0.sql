-- vigil--0.5.0--0.6.0.sql — ALTER EXTENSION vigil UPDATE from 0.5.0 to 0.6.0.
--
-- 0.6.0 hardens rules, quality and every input against hostile use (issue
-- 11). The same statements are in vigil.sql; sql/upgrade.sql compares the
-- two. Released upgrade scripts are history: never edit one after its
-- release (pg_ext/scripts/released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.6.0'" to load this file. \quit

-- Quality issues as rows (issue 11): the report people read with a plain
-- SELECT.
CREATE FUNCTION vigil_quality_issues(options jsonb DEFAULT '{}', OUT table_name text, OUT dimension text,
                                     OUT column_name text, OUT value double precision, OUT target text,
                                     OUT passed boolean, OUT sample_keys jsonb, OUT detail text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_quality_issues'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION vigil_quality_issues(jsonb) IS 'the metrics of vigil_quality_report(options) with offending rows or short of their target, one row each; records nothing';
