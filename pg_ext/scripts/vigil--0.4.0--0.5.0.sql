-- vigil--0.4.0--0.5.0.sql — ALTER EXTENSION vigil UPDATE from 0.4.0 to 0.5.0.
--
-- 0.5.0 anchors the migration history: vigil_migration_anchor names the
-- newest entry vigil wrote, filled here from the history as it is, so
-- vigil_migration_validate sees entries removed from the end of the chain
-- (before, only entries inside it). Checksums gain the v2 normalisation
-- (trailing whitespace at the end of a script is not part of it); recorded
-- v1 checksums keep verifying as v1. Migrations marked no-transaction are
-- run by the vigil command between vigil_migration_start and
-- vigil_migration_finish (history actions start, start_undo). The same
-- statements are in vigil.sql;
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

-- Client-run (no-transaction) migrations: their start is recorded.
ALTER TABLE vigil_state.vigil_migration_history DROP CONSTRAINT vigil_migration_history_action_check,
    ADD CONSTRAINT vigil_migration_history_action_check
    CHECK (action OPERATOR(pg_catalog.=) ANY (ARRAY['apply', 'undo', 'repair', 'fail', 'start', 'start_undo']));
COMMENT ON TABLE vigil_state.vigil_migration_history IS 'every apply, undo, repair, failure and start of a client-run script, hash-chained (entry_hash covers prev_hash)';
COMMENT ON FUNCTION vigil_migration_status() IS 'every migration with its state: applied, pending, drifted, missing, failed or interrupted';

CREATE FUNCTION vigil_migration_start(version text, undo boolean DEFAULT false) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_migration_start'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_migration_start(text, boolean) IS 'records the start of a no-transaction migration (or undo script) the client runs itself; returns the script';

CREATE FUNCTION vigil_migration_finish(version text, error text DEFAULT NULL, duration_ms double precision DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_migration_finish'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_migration_finish(text, text, double precision) IS 'records the end of a started no-transaction migration: applied (or undone), or failed with the error';
