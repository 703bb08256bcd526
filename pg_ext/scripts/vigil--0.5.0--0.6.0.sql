-- vigil--0.5.0--0.6.0.sql — ALTER EXTENSION vigil UPDATE from 0.5.0 to 0.6.0.
--
-- 0.6.0 hardens rules, quality and every input against hostile use (issue
-- 11). The same statements are in vigil.sql; sql/upgrade.sql compares the
-- two. Released upgrade scripts are history: never edit one after its
-- release (pg_ext/scripts/released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.6.0'" to load this file. \quit

-- vigil_rules says whether each table's enforcement is in place now.
CREATE OR REPLACE VIEW vigil_rules WITH (security_barrier) AS
SELECT r.id, r.table_name, r.column_name, r.rule, r.params, r.created_at, r.table_schema,
       EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
               WHERE t.tgrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.quote_ident(r.table_schema)
                         OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(r.table_name))
                 AND t.tgname OPERATOR(pg_catalog.=) 'vigil_enforce'
                 AND t.tgenabled OPERATOR(pg_catalog.<>) 'D') AS enforced
FROM vigil_state.vigil_rules r
WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE')
   OR pg_catalog.has_table_privilege(
        pg_catalog.to_regclass(pg_catalog.quote_ident(r.table_schema) OPERATOR(pg_catalog.||) '.'
                               OPERATOR(pg_catalog.||) pg_catalog.quote_ident(r.table_name)),
        'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER');

-- Quality issues as rows (issue 11): the report people read with a plain
-- SELECT.
CREATE FUNCTION vigil_quality_issues(options jsonb DEFAULT '{}', OUT table_name text, OUT dimension text,
                                     OUT column_name text, OUT value double precision, OUT target text,
                                     OUT passed boolean, OUT sample_keys jsonb, OUT detail text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_quality_issues'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION vigil_quality_issues(jsonb) IS 'the metrics of vigil_quality_report(options) with offending rows or short of their target, one row each; records nothing';
