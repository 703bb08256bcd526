-- vigil--0.5.0--0.6.0.sql — ALTER EXTENSION vigil UPDATE from 0.5.0 to 0.6.0.
--
-- 0.6.0 hardens rules, quality and every input against hostile use (issue
-- 11). The same statements are in vigil.sql; sql/upgrade.sql compares the
-- two. Released upgrade scripts are history: never edit one after its
-- release (pg_ext/scripts/released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.6.0'" to load this file. \quit
