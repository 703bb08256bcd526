-- vigil--0.1.0--0.2.0.sql — ALTER EXTENSION vigil UPDATE from 0.1.0 to 0.2.0.
--
-- 0.2.0 is the release-engineering release: an upgrade chain, one version
-- source, a versioned SQLite schema. Its PostgreSQL objects are exactly
-- 0.1.0's, so this step changes nothing; it exists so that the chain is
-- complete (sql/upgrade.sql climbs it and compares with a fresh install).
-- Released upgrade scripts are history: never edit one after its release
-- (pg_ext/scripts/released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.2.0'" to load this file. \quit
