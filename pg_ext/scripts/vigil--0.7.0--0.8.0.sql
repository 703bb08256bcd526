-- vigil--0.7.0--0.8.0.sql - ALTER EXTENSION vigil UPDATE from 0.7.0 to 0.8.0.
--
-- 0.8.0 brings the tamper-evident audit trail (issue 13): the log, its
-- chain, the audit triggers, the DDL event triggers and their functions.
-- The same statements are in vigil.sql; sql/upgrade.sql compares the two.
-- Released upgrade scripts are history: never edit one after its release
-- (pg_ext/scripts/released.sha256, docs/releasing.md).

\echo Use "ALTER EXTENSION vigil UPDATE TO '0.8.0'" to load this file. \quit

-- The guard refuses triggers on vigil's objects; these are vigil's own.
ALTER EVENT TRIGGER vigil_guard_triggers DISABLE;

-- ---------------------------------------------------------------------------
-- The audit trail (SPEC section 5, issue 13; docs/audit.md). Row changes of the
-- tables whose owners enabled it, DDL, TRUNCATE, erasures and purges, in
-- vigil_state.vigil_audit_log: written by vigil's C triggers straight into
-- the table (writers need no privilege on it), sealed after commit into a
-- SHA-256 chain (HMAC-SHA256 under the key of the key file or of
-- vigil.audit_key) over the canonical encoding both engines compute.
-- vigil_auditor reads the log and verifies; vigil_audit_admin also purges
-- and erases. No role but the extension's owner can write the log.
-- ---------------------------------------------------------------------------
DO $vigil$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_auditor') THEN
        CREATE ROLE vigil_auditor NOLOGIN;
        COMMENT ON ROLE vigil_auditor IS 'reads the audit log, seals and verifies its chain (vigil_audit_verify, vigil_audit_head)';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_audit_admin') THEN
        CREATE ROLE vigil_audit_admin NOLOGIN IN ROLE vigil_auditor;
        COMMENT ON ROLE vigil_audit_admin IS 'purges old audit entries and erases a data subject''s row images (vigil_audit_purge, vigil_audit_erase)';
    END IF;
END
$vigil$;

CREATE TABLE vigil_state.vigil_audit_log (
    id               bigserial PRIMARY KEY,
    at               timestamptz NOT NULL,
    session_role     text,
    effective_role   text,
    actor            text,
    application_name text,
    client_addr      text,
    txid             bigint,
    table_schema     text,
    table_name       text,
    operation        text NOT NULL,
    row_key          jsonb,
    old_row          jsonb,
    new_row          jsonb,
    changed_columns  jsonb,
    statement        text,
    detail           jsonb,
    old_digest       text,
    new_digest       text,
    seq              bigint,
    entry_hash       text
);
COMMENT ON TABLE vigil_state.vigil_audit_log IS 'every audited change; seq and entry_hash are set when the entry is sealed into the chain';
CREATE UNIQUE INDEX vigil_audit_log_seq ON vigil_state.vigil_audit_log (seq) WHERE seq IS NOT NULL;
-- The chain's head as the sealer last wrote it, and the checkpoint a purge
-- leaves: entries removed from either end show.
CREATE TABLE vigil_state.vigil_audit_chain (
    singleton  integer PRIMARY KEY CHECK (singleton OPERATOR(pg_catalog.=) 1),
    head_seq   bigint NOT NULL,
    head_hash  text,
    from_seq   bigint NOT NULL,
    from_hash  text,
    -- The sealer's watermark: every entry with id < low_id is sealed or
    -- purged; every id up to horizon_id was drawn by a transaction whose id
    -- is below horizon_xid. The last sealing call read up to sealed_cap
    -- while waiting_xids were in progress (docs/audit.md, "Sealing").
    low_id       bigint NOT NULL DEFAULT 1,
    horizon_id   bigint,
    horizon_xid  xid8,
    sealed_cap   bigint NOT NULL DEFAULT 0,
    waiting_xids xid8[] NOT NULL DEFAULT '{}',
    horizon_origin text  -- "<system identifier>:<database oid>" the horizon was read in
);
-- No row here: the first seal makes it, so that pg_restore (which runs
-- CREATE EXTENSION, then restores the dumped row) finds no duplicate.
COMMENT ON TABLE vigil_state.vigil_audit_chain IS 'the audit chain''s newest sealed link (head), the checkpoint of the last purge (from) and the sealer''s watermark (low_id)';
-- Staged entries: a statement trigger that changes many rows writes their
-- raw values here, a batch of up to 1,000 entries a row, and the sealer
-- writes them into vigil_audit_log before it seals (docs/audit.md, "Staged
-- entries"). Written by the C trigger straight into the table, as the log
-- is; no index: the sealer reads it whole, and it holds only what is not
-- sealed yet.
CREATE TABLE vigil_state.vigil_audit_batch (
    id               bigserial NOT NULL,
    txid             bigint NOT NULL,
    at               timestamptz NOT NULL,
    session_role     text,
    effective_role   text,
    actor            text,
    application_name text,
    client_addr      text,
    table_schema     text NOT NULL,
    table_name       text NOT NULL,
    operation        text NOT NULL,
    statement        text,
    columns          name[] NOT NULL,
    types            oid[] NOT NULL,
    key_columns      name[] NOT NULL,
    n                integer NOT NULL,
    entries          bytea COMPRESSION lz4 NOT NULL
);
COMMENT ON TABLE vigil_state.vigil_audit_batch IS 'audit entries of large statements, staged as raw values until the sealer writes them into vigil_audit_log';
REVOKE ALL ON vigil_state.vigil_audit_log, vigil_state.vigil_audit_chain, vigil_state.vigil_audit_batch FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_audit_batch', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_audit_batch_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_audit_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_audit_chain', '');

CREATE VIEW vigil_audit_log WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_audit_log WHERE pg_catalog.pg_has_role('vigil_auditor', 'USAGE');
COMMENT ON VIEW vigil_audit_log IS 'the audit trail (for vigil_auditor)';
REVOKE ALL ON vigil_audit_log FROM PUBLIC;
GRANT SELECT ON vigil_audit_log TO vigil_auditor;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_audit_log
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
GRANT SELECT ON vigil_state.vigil_audit_log TO vigil_views;
ALTER VIEW vigil_audit_log OWNER TO vigil_views;

CREATE FUNCTION vigil_audit_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME', 'vigil_audit_trigger'
    LANGUAGE C;
COMMENT ON FUNCTION vigil_audit_trigger() IS 'the audit triggers vigil_audit_enable installs: write each change into vigil_audit_log (argument: the options)';

-- The audited tables are those with vigil's audit triggers: the triggers
-- are the configuration (pg_dump keeps them with their tables).
CREATE VIEW vigil_audit_tables AS
SELECT DISTINCT ON (c.oid) n.nspname::text AS table_schema, c.relname::text AS table_name,
       CASE WHEN t.tgname OPERATOR(pg_catalog.=) 'vigil_audit_row' THEN 'row' ELSE 'statement' END AS mode,
       pg_catalog.convert_from(pg_catalog.substring(t.tgargs, 1,
           pg_catalog.position(t.tgargs, '\x00'::pg_catalog.bytea) OPERATOR(pg_catalog.-) 1), 'UTF8')::pg_catalog.jsonb AS options,
       t.tgenabled OPERATOR(pg_catalog.<>) 'D' AS enabled
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
WHERE t.tgfoid OPERATOR(pg_catalog.=) 'vigil_audit_trigger()'::pg_catalog.regprocedure
ORDER BY c.oid, t.tgname;
COMMENT ON VIEW vigil_audit_tables IS 'the audited tables with their options and trigger mode (statement: transition tables; row: row triggers)';
REVOKE ALL ON vigil_audit_tables FROM PUBLIC;
GRANT SELECT ON vigil_audit_tables TO PUBLIC;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_audit_tables
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
ALTER VIEW vigil_audit_tables OWNER TO vigil_views;

CREATE FUNCTION vigil_audit_enable(table_name text, options jsonb DEFAULT '{}') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_audit_enable'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_enable(text, jsonb) IS 'audits the table''s INSERT, UPDATE, DELETE and TRUNCATE (options: exclude, redact, statement); the table''s owner only';

CREATE FUNCTION vigil_audit_disable(table_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_audit_disable'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_disable(text) IS 'stops auditing the table; true when it was audited; the table''s owner only';

CREATE FUNCTION vigil_set_actor(actor text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_set_actor'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_set_actor(text) IS 'sets the application''s actor recorded with audit entries for the session (NULL clears it); returns it';

CREATE FUNCTION vigil_actor() RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_actor'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_actor() IS 'the application''s actor set with vigil_set_actor (NULL when none)';

CREATE FUNCTION vigil_audit_seal() RETURNS bigint
    AS 'MODULE_PATHNAME', 'vigil_audit_seal'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_seal() IS 'seals the committed audit entries not sealed yet into the chain; returns how many (vigil_auditor)';

CREATE FUNCTION vigil_audit_verify(expected_head text DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_audit_verify'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_verify(text) IS 'checks the audit chain: entries checked, unsealed, and the first entry whose content, order or presence changed (vigil_auditor)';

CREATE FUNCTION vigil_audit_head() RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_audit_head'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_head() IS 'seals pending entries and returns the newest chain hash, to keep outside the database (vigil_auditor)';

CREATE FUNCTION vigil_audit_purge(before timestamptz) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_audit_purge'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_purge(timestamptz) IS 'deletes the sealed entries written before the time, keeping a checkpoint so the rest still verifies (vigil_audit_admin)';

CREATE FUNCTION vigil_audit_erase(table_name text, key jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_audit_erase'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_erase(text, jsonb) IS 'removes the row images of a table''s entries with that key, keeping their digests; recorded (vigil_audit_admin)';

CREATE FUNCTION vigil_audit_digest(entry jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_audit_digest'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_audit_digest(jsonb) IS 'the SHA-256 entry digest of an audit entry given as JSON (the same on both engines)';

CREATE FUNCTION vigil_audit_key(key text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_audit_key'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_key(text) IS 'SQLite: sets the connection''s audit HMAC key; PostgreSQL reads it from the key file or vigil.audit_key (raises 0A000)';

CREATE FUNCTION vigil_audit_statement() RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_audit_statement'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_audit_statement() IS 'the statement in progress with its constants replaced, as the audit log keeps it';

CREATE FUNCTION vigil_audit_redact(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_audit_redact'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_audit_redact(text) IS 'what SQLite''s audit triggers call for a redacted column (raises 0A000 on PostgreSQL, whose triggers redact in C)';

-- Secrets (issue 14; docs/secrets.md): passwords with Argon2id (PHC
-- strings), API keys with a keyed hash whose secret the server keeps out of
-- SQL (vigil_api_key.key in the data directory, or vigil.api_key_secret).
CREATE FUNCTION vigil_password_hash(password text, options jsonb DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_password_hash'
    LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_password_hash(text, jsonb) IS 'hashes a password with Argon2id into a PHC string (options memory_kib, iterations, parallelism; at least OWASP''s recommendation)';

CREATE FUNCTION vigil_password_verify(password text, hash text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_password_verify'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_password_verify(text, text) IS 'whether a password matches an Argon2 PHC string, compared in constant time; the work a stored hash may ask for is bounded';

CREATE FUNCTION vigil_password_needs_rehash(hash text, options jsonb DEFAULT NULL) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_password_needs_rehash'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_password_needs_rehash(text, jsonb) IS 'whether a PHC string is below the options: another algorithm, less memory or fewer passes (hash again at the next login)';

CREATE FUNCTION vigil_api_key_generate(prefix text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_api_key_generate'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_api_key_generate(text) IS 'a new API key: the prefix, an underscore and 256 random bits in base32';

CREATE FUNCTION vigil_api_key_hash(key text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_api_key_hash'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_api_key_hash(text) IS 'HMAC-SHA256 of an API key under the secret the database never holds (deterministic: store it and look keys up by it)';

CREATE FUNCTION vigil_api_key_verify(key text, hash text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_api_key_verify'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_api_key_verify(text, text) IS 'whether an API key matches its stored hash, compared in constant time';

CREATE FUNCTION vigil_api_key_secret(secret text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_api_key_secret'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_api_key_secret(text) IS 'SQLite: sets the connection''s API-key secret; PostgreSQL reads it from the key file or vigil.api_key_secret (raises 0A000)';

-- Query analysis (issue 15; docs/query-analysis.md): one canonical text
-- and fingerprint per statement shape, by PostgreSQL's lexical rules.
CREATE FUNCTION vigil_normalize(sql text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_normalize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_normalize(text) IS 'the statement with constants as ?, IN lists collapsed, comments and spacing removed, keywords lower-cased (the engine''s lexical rules)';

CREATE FUNCTION vigil_fingerprint(sql text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_fingerprint'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_fingerprint(text) IS '16 hex digits shared by statements that differ only in constants, IN-list lengths, spacing, comments or keyword case';

-- Runs as the caller: the plan is the caller's EXPLAIN, in a subtransaction
-- that is rolled back (docs/query-analysis.md).
CREATE FUNCTION vigil_analyze_query(sql text, options jsonb DEFAULT '{}') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_analyze_query'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION vigil_analyze_query(text, jsonb) IS 'static rules (issues with severity, message, hint, position), tables, kind, fingerprint and the engine''s plan summary of one statement';
CREATE FUNCTION vigil_index_advice(statements jsonb DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_index_advice'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_index_advice(jsonb) IS 'index suggestions over statements, merged per table and ranked by what they would save, with the invalid, duplicate, redundant and unused indexes';

-- Statement monitoring (SPEC section 8, docs/monitoring.md): shared memory and
-- hooks when vigil is in shared_preload_libraries (the functions raise
-- 55000 otherwise). Rows of other roles' statements show to members of
-- pg_read_all_stats (pg_monitor) only, as in pg_stat_statements.
CREATE TABLE vigil_state.vigil_query_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL,
    source      text NOT NULL,
    fingerprint text NOT NULL,
    query       text,
    calls       bigint NOT NULL,
    errors      bigint NOT NULL,
    rows        bigint NOT NULL,
    total_ms    double precision NOT NULL,
    max_ms      double precision NOT NULL,
    histogram   text NOT NULL,
    epoch       text,
    queryid     bigint,
    username    text,
    database    text
);
CREATE INDEX vigil_query_history_at ON vigil_state.vigil_query_history (at);
COMMENT ON TABLE vigil_state.vigil_query_history IS 'statement counters per snapshot interval (deltas), written by the background worker every vigil.snapshot_interval or by vigil_snapshot()';
REVOKE ALL ON vigil_state.vigil_query_history FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_query_history', '');

CREATE VIEW vigil_query_history WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_query_history
 WHERE username OPERATOR(pg_catalog.=) CURRENT_USER OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE');
COMMENT ON VIEW vigil_query_history IS 'the statement history: the caller''s own statements, every statement for pg_read_all_stats';
REVOKE ALL ON vigil_query_history FROM PUBLIC;
GRANT SELECT ON vigil_query_history TO PUBLIC;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_query_history
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
GRANT SELECT ON vigil_state.vigil_query_history TO vigil_views;
ALTER VIEW vigil_query_history OWNER TO vigil_views;

CREATE FUNCTION vigil_query_stats(OUT fingerprint text, OUT query text, OUT calls bigint, OUT errors bigint,
                                  OUT rows bigint, OUT total_ms double precision, OUT mean_ms double precision,
                                  OUT min_ms double precision, OUT max_ms double precision,
                                  OUT stddev_ms double precision, OUT p50_ms double precision,
                                  OUT p95_ms double precision, OUT p99_ms double precision,
                                  OUT first_seen timestamptz, OUT last_seen timestamptz, OUT queryid bigint,
                                  OUT username text, OUT database text, OUT application_name text,
                                  OUT client_addr text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_query_stats'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_query_stats() IS 'one row per monitored statement: calls, errors, rows, times with p50/p95/p99, first and last seen (PostgreSQL: needs shared_preload_libraries)';

CREATE FUNCTION vigil_slow_queries("limit" integer DEFAULT 100, OUT at timestamptz, OUT duration_ms double precision,
                                   OUT fingerprint text, OUT query text, OUT rows bigint, OUT username text,
                                   OUT database text, OUT application_name text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_slow_queries'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_slow_queries(integer) IS 'the newest executions that took at least vigil.slow_query_ms, normalised, newest first';

CREATE FUNCTION vigil_performance_report(hours integer DEFAULT 24) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_performance_report'
    LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION vigil_performance_report(integer) IS 'totals, p50/p95/p99, slow queries, top statements and an hourly trend over the last hours, from history and live counters';

-- Writing the history and forgetting the counters are for superusers and
-- the roles they grant them to (as pg_stat_statements_reset).
CREATE FUNCTION vigil_snapshot() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_snapshot'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_snapshot() IS 'writes the statement counters gathered since the last snapshot to vigil_query_history (PostgreSQL''s worker does it every vigil.snapshot_interval)';
REVOKE ALL ON FUNCTION vigil_snapshot() FROM PUBLIC;

CREATE FUNCTION vigil_query_stats_reset() RETURNS void
    AS 'MODULE_PATHNAME', 'vigil_query_stats_reset'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_query_stats_reset() IS 'forgets the statement counters and the slow-query log (the history stays)';
REVOKE ALL ON FUNCTION vigil_query_stats_reset() FROM PUBLIC;

-- Health checks, alerts and metrics (SPEC section 9, docs/health.md). Each
-- check reports what the caller may see (server-wide checks need
-- pg_monitor's privileges); vigil_health() records state changes and raises
-- alerts only for members of pg_monitor.
COMMENT ON TABLE vigil_state.vigil_alerts IS 'alerts raised on every change of state (quality reports and health checks); NOTIFY vigil_alerts carries each one''s id and kind';
CREATE TABLE vigil_state.vigil_health_state (
    "check" text PRIMARY KEY,
    status  text NOT NULL,
    since   timestamptz NOT NULL,
    value   double precision,
    message text
);
COMMENT ON TABLE vigil_state.vigil_health_state IS 'each health check''s last recorded status and since when; a change raises an alert';
REVOKE ALL ON vigil_state.vigil_health_state FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_health_state', '');
CREATE VIEW vigil_health_state WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_health_state
WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE') OR pg_catalog.pg_has_role('pg_monitor', 'USAGE');
COMMENT ON VIEW vigil_health_state IS 'each health check''s last recorded status (for vigil_reader and pg_monitor)';
REVOKE ALL ON vigil_health_state FROM PUBLIC;
GRANT SELECT ON vigil_health_state TO vigil_reader, pg_monitor;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_health_state
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
GRANT SELECT ON vigil_state.vigil_health_state TO vigil_views;
ALTER VIEW vigil_health_state OWNER TO vigil_views;

CREATE TABLE vigil_state.vigil_health_history (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    status  text NOT NULL,
    checks  jsonb NOT NULL,
    source  text NOT NULL
);
CREATE INDEX vigil_health_history_at ON vigil_state.vigil_health_history (at);
COMMENT ON TABLE vigil_state.vigil_health_history IS 'every health run the worker made (every vigil.health_interval) or vigil_health(''{"record": true}'') was asked to keep: overall status and each check''s status and value';
REVOKE ALL ON vigil_state.vigil_health_history FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_health_history', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_health_history_id_seq', '');
CREATE VIEW vigil_health_history WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_health_history
WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE') OR pg_catalog.pg_has_role('pg_monitor', 'USAGE');
COMMENT ON VIEW vigil_health_history IS 'the health history (for vigil_reader and pg_monitor)';
REVOKE ALL ON vigil_health_history FROM PUBLIC;
GRANT SELECT ON vigil_health_history TO vigil_reader, pg_monitor;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_health_history
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
GRANT SELECT ON vigil_state.vigil_health_history TO vigil_views;
ALTER VIEW vigil_health_history OWNER TO vigil_views;

CREATE FUNCTION vigil_health(options jsonb DEFAULT '{}') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_health'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_health(jsonb) IS 'status (healthy, degraded, unhealthy), every check with value, threshold and an actionable message, and the issues; records state changes as alerts';

CREATE FUNCTION vigil_health_checks(options jsonb DEFAULT '{}', OUT "check" text, OUT status text,
                                    OUT value double precision, OUT threshold double precision, OUT unit text,
                                    OUT message text, OUT details jsonb)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_health_checks'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_health_checks(jsonb) IS 'the health checks as rows (check, status ok/warning/critical/skipped, value, threshold, unit, message, details); records nothing';

CREATE FUNCTION vigil_pool_status() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_pool_status'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_pool_status() IS 'connections by state, the limit, utilisation and waiting connections (SQLite: this process''s connections to the file)';

CREATE FUNCTION vigil_metrics() RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_metrics'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_metrics() IS 'every health figure and the pool in Prometheus text exposition format (the vigil command''s exporter serves it)';

CREATE FUNCTION vigil_busy_backoff(max_ms integer) RETURNS integer
    AS 'MODULE_PATHNAME', 'vigil_busy_backoff'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_busy_backoff(integer) IS 'SQLite: installs a busy handler with exponential backoff and jitter, waiting up to max_ms (0 removes it); PostgreSQL raises 0A000 (use lock_timeout)';

-- Backups are SQLite's (vigil_backup writes an age-encrypted file there);
-- on PostgreSQL the same names point to pgBackRest and pg_basebackup.
CREATE FUNCTION vigil_backup(path text, passphrase text DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_backup'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_backup(text, text) IS 'SQLite: an online backup to a new file, encrypted in the age format with a passphrase (PostgreSQL raises 0A000: use pgBackRest or pg_basebackup)';

CREATE FUNCTION vigil_backup_verify(path text, passphrase text DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_backup_verify'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_backup_verify(text, text) IS 'SQLite: decrypts a backup in memory and runs PRAGMA integrity_check on it (PostgreSQL raises 0A000)';

CREATE FUNCTION vigil_restore(path text, passphrase text, target_path text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_restore'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_restore(text, text, text) IS 'SQLite: restores a backup to a new file, checked with PRAGMA integrity_check before it appears (PostgreSQL raises 0A000)';

-- DDL on the database is recorded while any table is audited.
CREATE FUNCTION vigil_state.vigil_audit_ddl() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'vigil_audit_ddl'
    LANGUAGE C;
COMMENT ON FUNCTION vigil_state.vigil_audit_ddl() IS 'ddl_command_end and sql_drop event trigger: records DDL in the audit log while a table is audited';
CREATE EVENT TRIGGER vigil_audit_ddl ON ddl_command_end EXECUTE FUNCTION vigil_state.vigil_audit_ddl();
CREATE EVENT TRIGGER vigil_audit_drop ON sql_drop EXECUTE FUNCTION vigil_state.vigil_audit_ddl();

ALTER EVENT TRIGGER vigil_guard_triggers ENABLE;
