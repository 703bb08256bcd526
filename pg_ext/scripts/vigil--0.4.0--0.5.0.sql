-- vigil--0.4.0--0.5.0.sql — ALTER EXTENSION vigil UPDATE from 0.4.0 to 0.5.0.
--
-- 0.5.0 anchors the migration history: vigil_migration_anchor names the
-- newest entry vigil wrote, filled here from the history as it is, so
-- vigil_migration_validate sees entries removed from the end of the chain
-- (before, only entries inside it). Checksums gain the v2 normalisation
-- (trailing whitespace at the end of a script is not part of it); recorded
-- v1 checksums keep verifying as v1. The same statements are in vigil.sql;
-- sql/upgrade.sql compares the two.
-- Released upgrade scripts are history: never edit one after its release
-- (pg_ext/scripts/released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.5.0'" to load this file. \quit

CREATE TABLE vigil_state.vigil_migration_anchor (
    singleton  integer PRIMARY KEY CHECK (singleton OPERATOR(pg_catalog.=) 1),
    id         bigint NOT NULL,
    entry_hash text NOT NULL
);
COMMENT ON TABLE vigil_state.vigil_migration_anchor IS 'the newest migration history entry vigil wrote: validate sees entries removed from the end of the chain';
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_migration_anchor', '');
REVOKE ALL ON vigil_state.vigil_migration_anchor FROM PUBLIC;
INSERT INTO vigil_state.vigil_migration_anchor (singleton, id, entry_hash)
    SELECT 1, h.id, h.entry_hash FROM vigil_state.vigil_migration_history h ORDER BY h.id DESC LIMIT 1;

-- vigil_checksum keeps its symbol's v1 meaning for databases not yet
-- updated; from 0.5.0 on it is v2 (a new symbol, docs/releasing.md).
CREATE OR REPLACE FUNCTION vigil_checksum(script text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_checksum_v2'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_checksum(text) IS 'sha256:v2:<hex> of the script with a UTF-8 BOM removed, CRLF/CR turned into LF and trailing whitespace at its end removed';
