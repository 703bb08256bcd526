-- vigil.sql - the install script of the vigil extension (hand-edited; the
-- build copies it to vigil--<version>.sql).
--
-- Every function: C symbol = SQL name, explicit volatility, strictness and
-- parallel safety, and a COMMENT.

\echo Use "CREATE EXTENSION vigil" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Who may do what (docs/security.md). vigil's state lives in the schema
-- vigil_state, which only the extension's owner may use: no grant on the
-- user's schemas (GRANT ALL ON ALL TABLES IN SCHEMA public ...) reaches it.
-- vigil's functions are the only way in: they check who calls and then read
-- and write the state as its owner. Views of the same names in the
-- extension's schema let people read it: the histories for vigil_reader
-- (alerts also for pg_monitor), a table's rules for whoever has a privilege
-- on the table. The two roles are cluster-wide: created here only when
-- missing, and DROP EXTENSION leaves them.
-- ---------------------------------------------------------------------------
DO $vigil$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_reader') THEN
        CREATE ROLE vigil_reader NOLOGIN;
        COMMENT ON ROLE vigil_reader IS 'reads what vigil records: migration history and scripts, quality history, alerts';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_migrator') THEN
        CREATE ROLE vigil_migrator NOLOGIN IN ROLE vigil_reader;
        COMMENT ON ROLE vigil_migrator IS 'registers, applies, rolls back and repairs vigil migrations';
    END IF;
    -- Owns the views over vigil_state and may only read it: LOCK on a view
    -- locks its tables with its owner's rights, so a role granted ALL on
    -- the views (GRANT ALL ON ALL TABLES IN SCHEMA ...) can take no lock on
    -- vigil's state that blocks a writer or a migration.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_views') THEN
        CREATE ROLE vigil_views NOLOGIN;
        COMMENT ON ROLE vigil_views IS 'owns the read-only views over vigil_state (no login, no members)';
    END IF;
END
$vigil$;

CREATE SCHEMA vigil_state;
REVOKE ALL ON SCHEMA vigil_state FROM PUBLIC;
COMMENT ON SCHEMA vigil_state IS 'vigil''s own state; changed only through vigil''s functions';

-- ---------------------------------------------------------------------------
-- Validators (SPEC section 1). Pure: IMMUTABLE STRICT PARALLEL SAFE, NULL in, NULL out.
-- ---------------------------------------------------------------------------

CREATE FUNCTION vigil_is_email(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_email'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_email(text) IS 'true when the value is an RFC 5321 mailbox (RFC 6531 UTF-8 allowed)';

CREATE FUNCTION vigil_is_url(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_url'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_url(text) IS 'true when the value is an absolute http, https or ftp URL (RFC 3986)';

CREATE FUNCTION vigil_is_uuid(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_uuid'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_uuid(text) IS 'true when the value is an RFC 9562 UUID in 8-4-4-4-12 text form';

CREATE FUNCTION vigil_is_phone(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_phone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_phone(text) IS 'true when the value is a canonical E.164 number valid for its country';

CREATE FUNCTION vigil_is_iso8601(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_iso8601'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_iso8601(text) IS 'true when the value is an ISO 8601 date, time or date-time';

CREATE FUNCTION vigil_is_ipv4(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_ipv4'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_ipv4(text) IS 'true when the value is a dotted-decimal IPv4 address';

CREATE FUNCTION vigil_is_ipv6(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_ipv6'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_ipv6(text) IS 'true when the value is an RFC 4291 IPv6 address';

CREATE FUNCTION vigil_is_cidr(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_cidr'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_cidr(text) IS 'true when the value is an IPv4 or IPv6 network in CIDR notation';

CREATE FUNCTION vigil_is_iban(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_iban'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_iban(text) IS 'true when the value is an ISO 13616 IBAN in electronic format';

CREATE FUNCTION vigil_is_luhn(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_luhn'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_luhn(text) IS 'true when the value is digits with a valid Luhn check digit';

CREATE FUNCTION vigil_is_json(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_json'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_json(text) IS 'true when the value is RFC 8259 JSON text';

CREATE FUNCTION vigil_is_crypto_symbol(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_crypto_symbol'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_crypto_symbol(text) IS 'true when the value is a trading symbol such as BTC-USD';

CREATE FUNCTION vigil_is_btc_address(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_btc_address'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_btc_address(text) IS 'true when the value is a Bitcoin address (base58check, bech32, bech32m)';

CREATE FUNCTION vigil_is_eth_address(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_eth_address'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_eth_address(text) IS 'true when the value is an Ethereum address (EIP-55 when mixed case)';

CREATE FUNCTION vigil_is_username(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_username'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_username(text) IS 'true when the value is a username (3-32 letters, digits, . _ -)';

CREATE FUNCTION vigil_is_semver(value text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_semver'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_semver(text) IS 'true when the value is a Semantic Versioning 2.0.0 version';

CREATE FUNCTION vigil_is_phone(value text, region text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_is_phone_region'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_is_phone(text, text) IS 'true when the value is a valid phone number as typed in the region (ISO 3166-1 alpha-2)';

CREATE FUNCTION vigil_validate(kind text, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_validate'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_validate(text, text) IS 'NULL when the value is valid for the kind, else the reason it is not';

CREATE FUNCTION vigil_uuid_version(value text) RETURNS integer
    AS 'MODULE_PATHNAME', 'vigil_uuid_version'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_uuid_version(text) IS 'the version nibble of a UUID (0 for Nil, 15 for Max)';

CREATE FUNCTION vigil_iban_normalize(value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_iban_normalize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_iban_normalize(text) IS 'an IBAN in print format turned into electronic format';

CREATE FUNCTION vigil_json_schema_valid(schema text, doc text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_valid'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_json_schema_valid(text, text) IS 'true when the JSON document satisfies the JSON Schema (draft 2020-12; references within the schema)';

CREATE FUNCTION vigil_validators(OUT kind text, OUT description text, OUT example text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_validators'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16;
COMMENT ON FUNCTION vigil_validators() IS 'every validator kind with a description and a valid example';

CREATE FUNCTION vigil_rule_check(rule text, params jsonb, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_rule_check'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_rule_check(text, jsonb, text) IS 'NULL when the value passes the rule (kind and params as for vigil_rule_add), else the reason; value rules only';

CREATE FUNCTION vigil_version() RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_version'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_version() IS 'the version of the loaded vigil module';

CREATE FUNCTION vigil_functions(OUT name text, OUT arguments text, OUT result text, OUT volatility text,
                                OUT strict boolean, OUT parallel text, OUT effects text, OUT sqlite_flags text,
                                OUT description text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_functions'
    LANGUAGE C STABLE PARALLEL SAFE ROWS 50;
COMMENT ON FUNCTION vigil_functions() IS 'every vigil SQL function with its arguments, result, flags, what it touches and its SQLite registration';

-- ---------------------------------------------------------------------------
-- Rules, enforcement and validated insert (SPEC section 2).
-- A rule belongs to its table, stored with the table's schema and name as
-- resolved when it was added; only the table's owner adds, removes, enforces
-- and unenforces (the core decides, rules_pg.cc answers). Writers need no
-- privilege on vigil's state: the row checks read the rules as its owner.
-- ---------------------------------------------------------------------------
CREATE TABLE vigil_state.vigil_rules (
    id          bigserial PRIMARY KEY,
    table_name  text NOT NULL,
    column_name text,
    rule        text NOT NULL,
    params      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    table_schema text NOT NULL
);
CREATE INDEX vigil_rules_table ON vigil_state.vigil_rules (table_schema, table_name);
COMMENT ON TABLE vigil_state.vigil_rules IS 'data rules per table and column; change them with vigil_rule_add and vigil_rule_remove';
REVOKE ALL ON vigil_state.vigil_rules FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_rules', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_rules_id_seq', '');

-- Like information_schema's views: the rules of the tables the reader has
-- some privilege on (all of them for vigil_reader). enforced: whether the
-- table's vigil_enforce trigger is in place and enabled now.
CREATE VIEW vigil_rules WITH (security_barrier) AS
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
COMMENT ON VIEW vigil_rules IS 'the rules of the tables you have a privilege on (every rule for vigil_reader)';
REVOKE ALL ON vigil_rules FROM PUBLIC;
GRANT SELECT ON vigil_rules TO PUBLIC;

CREATE FUNCTION vigil_check(table_name text, "row" jsonb, raise boolean DEFAULT false, old_row jsonb DEFAULT NULL)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_check'
    LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION vigil_check(text, jsonb, boolean, jsonb) IS 'the rule violations of a row given as JSON (an empty array when it passes); with raise, a 23514 error listing them';

CREATE FUNCTION vigil_enforce_trigger() RETURNS trigger
    AS 'MODULE_PATHNAME', 'vigil_enforce_trigger'
    LANGUAGE C;
COMMENT ON FUNCTION vigil_enforce_trigger() IS 'BEFORE INSERT OR UPDATE row trigger installed by vigil_enforce: rejects a row with one error listing every violation';

CREATE FUNCTION vigil_enforce_trigger(table_name text, new_row jsonb, old_row jsonb, expressions jsonb) RETURNS void
    AS 'MODULE_PATHNAME', 'vigil_enforce_trigger_row'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_enforce_trigger(text, jsonb, jsonb, jsonb) IS 'what SQLite''s enforcement triggers call: rejects a row with one error listing every violation; PostgreSQL''s triggers use vigil_enforce_trigger()';

-- Sessions cache each table's parsed rules; a change to vigil_rules tells
-- every session to drop them (a relcache invalidation sent at commit).
CREATE TRIGGER vigil_rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vigil_state.vigil_rules
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_enforce_trigger();
-- The views over vigil's state are read-only, whatever is granted on them:
-- vigil_enforce_trigger() as an INSTEAD OF trigger refuses every write (42501).
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_rules
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();

CREATE FUNCTION vigil_rule_add(table_name text, column_name text, rule text, params jsonb DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'vigil_rule_add'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_rule_add(text, text, text, jsonb) IS 'adds a rule (or returns the id of the identical one) after checking the table, the column and the params';

CREATE FUNCTION vigil_rule_remove(table_name text, column_name text, rule text) RETURNS integer
    AS 'MODULE_PATHNAME', 'vigil_rule_remove'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_rule_remove(text, text, text) IS 'removes the rules of that table, column and kind; returns how many';

CREATE FUNCTION vigil_rules() RETURNS SETOF vigil_rules
    LANGUAGE sql STABLE
AS $vigil$ SELECT * FROM @extschema@.vigil_rules ORDER BY id $vigil$;
COMMENT ON FUNCTION vigil_rules() IS 'every rule, in the order added';

CREATE FUNCTION vigil_enforce(table_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_enforce'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_enforce(text) IS 'installs the vigil_enforce trigger: every INSERT and UPDATE is checked against the table''s rules';

CREATE FUNCTION vigil_unenforce(table_name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_unenforce'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_unenforce(text) IS 'removes the vigil_enforce trigger; true when there was one';

CREATE FUNCTION vigil_insert(table_name text, "row" jsonb) RETURNS jsonb
    LANGUAGE plpgsql VOLATILE
AS $vigil$
DECLARE
    rel regclass;
    cols text;
    keys text[];
    key jsonb;
    callers_path text;
    statement text;
BEGIN
    IF table_name IS NULL THEN
        RAISE EXCEPTION 'table must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF "row" IS NULL THEN
        RAISE EXCEPTION 'row must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Columns, types and rules, all at once: one error lists everything
    -- (vigil_check also raises 42P01 for an unknown table).
    PERFORM @extschema@.vigil_check(table_name, "row", true);
    rel := pg_catalog.to_regclass(pg_catalog.quote_ident(table_name));
    -- The statement is built under search_path pg_catalog, pg_temp, so no
    -- operator or function of a schema on the caller's path stands in for
    -- pg_catalog's; the insert itself runs under the caller's path again
    -- (the table's triggers and defaults are the owner's code, as ever).
    callers_path := pg_catalog.current_setting('search_path');
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') INTO cols
    FROM pg_catalog.jsonb_object_keys("row") AS k;
    SELECT pg_catalog.array_agg(a.attname::text ORDER BY pg_catalog.array_position(i.indkey::int2[], a.attnum)) INTO keys
    FROM pg_catalog.pg_index i
    JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
    WHERE i.indrelid = rel AND i.indisprimary;
    -- Values reach the table only as the bound jsonb parameter $1.
    statement := pg_catalog.format(
        CASE WHEN cols IS NULL THEN 'INSERT INTO %1$s DEFAULT VALUES RETURNING %3$s'
             ELSE 'INSERT INTO %1$s (%2$s) SELECT %2$s FROM pg_catalog.jsonb_populate_record(NULL::%1$s, $1) RETURNING %3$s' END,
        rel, cols,
        CASE WHEN keys IS NULL THEN 'NULL::pg_catalog.jsonb'
             WHEN pg_catalog.array_length(keys, 1) = 1 THEN pg_catalog.format('pg_catalog.to_jsonb(%I)', keys[1])
             ELSE 'pg_catalog.jsonb_build_object(' ||
                  (SELECT pg_catalog.string_agg(pg_catalog.format('%L, %I', k, k), ', ') FROM pg_catalog.unnest(keys) AS k) || ')' END);
    PERFORM pg_catalog.set_config('search_path', callers_path, true);
    EXECUTE statement INTO key USING "row";
    RETURN key;
END
$vigil$;
COMMENT ON FUNCTION vigil_insert(text, jsonb) IS 'validates a JSON row against the table''s columns, types and rules, inserts it with bound values and returns its key';

-- ---------------------------------------------------------------------------
-- Data quality (SPEC section 3), alerts and settings.
-- ---------------------------------------------------------------------------
CREATE TABLE vigil_state.vigil_quality_history (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL,
    table_name text,
    score      double precision NOT NULL,
    passed     boolean NOT NULL,
    below_threshold boolean NOT NULL,
    report     jsonb NOT NULL
);
COMMENT ON TABLE vigil_state.vigil_quality_history IS 'every quality check and report: one row per table, plus one overall row (table_name NULL) per report';

CREATE TABLE vigil_state.vigil_alerts (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL,
    source   text NOT NULL,
    severity text NOT NULL,
    "check"  text NOT NULL,
    message  text NOT NULL,
    details  jsonb
);
COMMENT ON TABLE vigil_state.vigil_alerts IS 'alerts raised on every change of state (quality reports and health checks); NOTIFY vigil_alerts carries each one''s id and kind';
REVOKE ALL ON vigil_state.vigil_quality_history, vigil_state.vigil_alerts FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_quality_history', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_alerts', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_quality_history_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_alerts_id_seq', '');

CREATE VIEW vigil_quality_history WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_quality_history WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_quality_history IS 'every quality check and report (for vigil_reader: reports hold sample keys)';
CREATE VIEW vigil_alerts WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_alerts
WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE') OR pg_catalog.pg_has_role('pg_monitor', 'USAGE');
COMMENT ON VIEW vigil_alerts IS 'every alert raised (for vigil_reader and pg_monitor); NOTIFY vigil_alerts carries only id and kind';
REVOKE ALL ON vigil_quality_history, vigil_alerts FROM PUBLIC;
GRANT SELECT ON vigil_quality_history TO vigil_reader;
GRANT SELECT ON vigil_alerts TO vigil_reader, pg_monitor;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_quality_history
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_alerts
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();

CREATE FUNCTION vigil_quality_check(table_name text, options jsonb DEFAULT '{}') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_quality_check'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_quality_check(text, jsonb) IS 'completeness, validity, uniqueness, integrity and freshness of one table, with a 0-100 score; recorded in vigil_quality_history';

CREATE FUNCTION vigil_quality_report(options jsonb DEFAULT '{}') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_quality_report'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_quality_report(jsonb) IS 'vigil_quality_check over every user table, with overall_score';

CREATE FUNCTION vigil_quality_issues(options jsonb DEFAULT '{}', OUT table_name text, OUT dimension text,
                                     OUT column_name text, OUT value double precision, OUT target text,
                                     OUT passed boolean, OUT sample_keys jsonb, OUT detail text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_quality_issues'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION vigil_quality_issues(jsonb) IS 'the metrics of vigil_quality_report(options) with offending rows or short of their target, one row each; records nothing';

CREATE FUNCTION vigil_config(key text, value text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_config'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_config(text, text) IS 'reads a vigil setting (GUC vigil.<key>); with a value, sets it for the session';

-- ---------------------------------------------------------------------------
-- Schema migrations (SPEC section 4). Scripts run with the caller's rights and
-- search_path; registering and running them needs the privileges of
-- vigil_migrator, reading the history those of vigil_reader (checked in C).
-- ---------------------------------------------------------------------------
CREATE TABLE vigil_state.vigil_migrations (
    version      text PRIMARY KEY,
    sort_key     text NOT NULL UNIQUE,
    name         text NOT NULL,
    up_sql       text NOT NULL,
    down_sql     text,
    checksum     text NOT NULL,
    new_up_sql   text,
    new_checksum text,
    added_at     timestamptz NOT NULL
);
COMMENT ON TABLE vigil_state.vigil_migrations IS 'registered migrations; new_up_sql/new_checksum hold a changed script of an applied migration (drift) until repaired';

CREATE TABLE vigil_state.vigil_migration_history (
    id          bigint PRIMARY KEY,
    version     text NOT NULL,
    name        text,
    action      text NOT NULL CONSTRAINT vigil_migration_history_action_check
                CHECK (action OPERATOR(pg_catalog.=) ANY (ARRAY['apply', 'undo', 'repair', 'fail', 'start', 'start_undo'])),
    checksum    text,
    at          timestamptz NOT NULL,
    applied_by  text,
    duration_ms double precision,
    error       text,
    schema_hash text,
    schema      text,
    prev_hash   text NOT NULL,
    entry_hash  text NOT NULL
);
COMMENT ON TABLE vigil_state.vigil_migration_history IS 'every apply, undo, repair, failure and start of a client-run script, hash-chained (entry_hash covers prev_hash)';
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_migrations', '');
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_migration_history', '');
REVOKE ALL ON vigil_state.vigil_migrations, vigil_state.vigil_migration_history FROM PUBLIC;
-- The anchor names the newest history entry vigil wrote (0.5.0), so that
-- vigil_migration_validate sees entries removed from the end of the chain.
CREATE TABLE vigil_state.vigil_migration_anchor (
    singleton  integer PRIMARY KEY CHECK (singleton OPERATOR(pg_catalog.=) 1),
    id         bigint NOT NULL,
    entry_hash text NOT NULL
);
COMMENT ON TABLE vigil_state.vigil_migration_anchor IS 'the newest migration history entry vigil wrote: validate sees entries removed from the end of the chain';
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_migration_anchor', '');
REVOKE ALL ON vigil_state.vigil_migration_anchor FROM PUBLIC;

CREATE VIEW vigil_migrations WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_migrations WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_migrations IS 'registered migrations and their scripts (for vigil_reader)';
CREATE VIEW vigil_migration_history WITH (security_barrier) AS
SELECT * FROM vigil_state.vigil_migration_history WHERE pg_catalog.pg_has_role('vigil_reader', 'USAGE');
COMMENT ON VIEW vigil_migration_history IS 'every apply, undo, repair and failure, hash-chained (for vigil_reader)';
REVOKE ALL ON vigil_migrations, vigil_migration_history FROM PUBLIC;
GRANT SELECT ON vigil_migrations, vigil_migration_history TO vigil_reader;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_migrations
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_migration_history
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();

CREATE FUNCTION vigil_checksum(script text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_checksum_v2'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_checksum(text) IS 'sha256:v2:<hex> of the script with a UTF-8 BOM removed, CRLF/CR turned into LF and trailing whitespace at its end removed';

CREATE FUNCTION vigil_migration_add(version text, name text, up_sql text, down_sql text DEFAULT NULL) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_migration_add'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_migration_add(text, text, text, text) IS 'registers a migration (and its undo script); returns its checksum';

CREATE FUNCTION vigil_migration_add_dir(path text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_migration_add_dir'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_migration_add_dir(text) IS 'registers V<version>__<name>.sql and U<version>__<name>.sql files from a server directory (pg_read_server_files)';

CREATE FUNCTION vigil_migrate(target text DEFAULT NULL, dry_run boolean DEFAULT false) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_migrate'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_migrate(text, boolean) IS 'applies pending migrations in version order, each atomically, under a lock on vigil''s migration state; dry_run rolls everything back';

CREATE FUNCTION vigil_rollback(target text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_rollback'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_rollback(text) IS 'runs undo scripts in reverse order down to target (''0'' undoes all)';

CREATE FUNCTION vigil_migration_repair(version text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_migration_repair'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_migration_repair(text) IS 'accepts the changed script of a drifted migration and records the repair';

CREATE FUNCTION vigil_migration_start(version text, undo boolean DEFAULT false) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_migration_start'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_migration_start(text, boolean) IS 'records the start of a no-transaction migration (or undo script) the client runs itself; returns the script';

CREATE FUNCTION vigil_migration_finish(version text, error text DEFAULT NULL, duration_ms double precision DEFAULT NULL) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_migration_finish'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_migration_finish(text, text, double precision) IS 'records the end of a started no-transaction migration: applied (or undone), or failed with the error';

CREATE FUNCTION vigil_migration_validate() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_migration_validate'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION vigil_migration_validate() IS 'drifted scripts (with the changed lines), missing migrations, the history chain and schema changes made outside migrations';

CREATE FUNCTION vigil_migration_status(OUT version text, OUT name text, OUT state text, OUT checksum text,
                                       OUT applied_at timestamptz, OUT applied_by text, OUT duration_ms double precision)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_migration_status'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION vigil_migration_status() IS 'every migration with its state: applied, pending, drifted, missing, failed or interrupted';

-- ---------------------------------------------------------------------------
-- The JSON Schema registry (issue 12): schemas registered under absolute
-- URIs, which vigil_json_schema_valid(schema, doc, '{"registry": true}') and
-- json_schema rules resolve. Shared contracts: readable by everyone (any
-- role may validate with them), changed only by members of
-- vigil_json_schema_admin through vigil_json_schema_add and _remove.
-- ---------------------------------------------------------------------------
DO $vigil$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'vigil_json_schema_admin') THEN
        CREATE ROLE vigil_json_schema_admin NOLOGIN;
        COMMENT ON ROLE vigil_json_schema_admin IS 'registers and removes JSON Schemas (vigil_json_schema_add, vigil_json_schema_remove)';
    END IF;
END
$vigil$;

CREATE TABLE vigil_state.vigil_json_schemas (
    uri      text PRIMARY KEY,
    schema   jsonb NOT NULL,
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    added_by text NOT NULL DEFAULT pg_catalog.session_user()
);
COMMENT ON TABLE vigil_state.vigil_json_schemas IS 'registered JSON Schemas; change them with vigil_json_schema_add and vigil_json_schema_remove';
REVOKE ALL ON vigil_state.vigil_json_schemas FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('vigil_state.vigil_json_schemas', '');
-- Sessions cache json_schema rules compiled with the registry: a change
-- drops them, as a rule change does.
CREATE TRIGGER vigil_json_schemas_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON vigil_state.vigil_json_schemas
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_enforce_trigger();

CREATE VIEW vigil_json_schemas AS
SELECT uri, schema, added_at, added_by FROM vigil_state.vigil_json_schemas;
COMMENT ON VIEW vigil_json_schemas IS 'the registered JSON Schemas';
REVOKE ALL ON vigil_json_schemas FROM PUBLIC;
GRANT SELECT ON vigil_json_schemas TO PUBLIC;
CREATE TRIGGER vigil_read_only INSTEAD OF INSERT OR UPDATE OR DELETE ON vigil_json_schemas
    FOR EACH ROW EXECUTE FUNCTION vigil_enforce_trigger();
GRANT SELECT ON vigil_state.vigil_json_schemas TO vigil_views;
ALTER VIEW vigil_json_schemas OWNER TO vigil_views;

-- PARALLEL RESTRICTED: with "registry" they read vigil's state through a
-- subtransaction, which a parallel worker may not start.
CREATE FUNCTION vigil_json_schema_valid(schema text, doc text, options jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_valid_options'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vigil_json_schema_valid(text, text, jsonb) IS 'vigil_json_schema_valid with options: format (assert or annotate), registry (resolve registered URIs), max_steps';

CREATE FUNCTION vigil_json_schema_check(schema text, doc text, options jsonb DEFAULT '{}') RETURNS jsonb
    AS 'MODULE_PATHNAME', 'vigil_json_schema_check'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vigil_json_schema_check(text, text, jsonb) IS 'the draft 2020-12 basic output: valid, and each failing keyword with its keyword and instance location';

CREATE FUNCTION vigil_json_schema_add(uri text, schema jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_add'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_json_schema_add(text, jsonb) IS 'registers a JSON Schema under an absolute URI, replacing the one registered there; true when the URI is new';

CREATE FUNCTION vigil_json_schema_remove(uri text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_remove'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION vigil_json_schema_remove(text) IS 'removes a registered JSON Schema unless a json_schema rule uses it; true when there was one';
-- Quality scans check json_schema rules with it, as they call vigil_rule_check.
CREATE FUNCTION vigil_state.vigil_json_schema_valid(schema text, doc text, options jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'vigil_json_schema_valid_options'
    LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION vigil_state.vigil_json_schema_valid(text, text, jsonb) IS 'vigil_json_schema_valid for quality scans';

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

-- The views belong to vigil_views, which may read vigil_state and nothing more.
GRANT USAGE ON SCHEMA vigil_state TO vigil_views;
GRANT SELECT ON vigil_state.vigil_rules, vigil_state.vigil_migrations, vigil_state.vigil_migration_history,
    vigil_state.vigil_quality_history, vigil_state.vigil_alerts TO vigil_views;
ALTER VIEW vigil_rules OWNER TO vigil_views;
ALTER VIEW vigil_migrations OWNER TO vigil_views;
ALTER VIEW vigil_migration_history OWNER TO vigil_views;
ALTER VIEW vigil_quality_history OWNER TO vigil_views;
ALTER VIEW vigil_alerts OWNER TO vigil_views;

-- A rule dies with its table (and a references rule with its target).
CREATE FUNCTION vigil_state.vigil_table_dropped() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'vigil_table_dropped'
    LANGUAGE C;
COMMENT ON FUNCTION vigil_state.vigil_table_dropped() IS 'sql_drop event trigger: removes the rules of dropped tables and the references rules that target them';
CREATE EVENT TRIGGER vigil_table_dropped ON sql_drop EXECUTE FUNCTION vigil_state.vigil_table_dropped();

-- The functions quality scans call (as each table's owner) are twins in
-- vigil_state, where no other role may create an overload that matches
-- better or makes the call ambiguous: the schema is usable by all (its
-- tables stay private), creatable by none but its owner.
GRANT USAGE ON SCHEMA vigil_state TO PUBLIC;
CREATE FUNCTION vigil_state.vigil_validate(kind text, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_validate'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION vigil_state.vigil_validate(text, text) IS 'vigil_validate for quality scans';
CREATE FUNCTION vigil_state.vigil_rule_check(rule text, params jsonb, value text) RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_rule_check'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_state.vigil_rule_check(text, jsonb, text) IS 'vigil_rule_check for quality scans';

-- Triggers on vigil's objects are vigil's: GRANT ALL ON ALL TABLES IN
-- SCHEMA ... hands out TRIGGER on the views, and an INSTEAD OF trigger of
-- another role's would run as whoever writes to them (and could silence
-- the refusal). Upgrade scripts that add triggers disable this first.
CREATE FUNCTION vigil_state.vigil_guard_triggers() RETURNS event_trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
AS $vigil$
DECLARE
    command record;
BEGIN
    FOR command IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
        IF EXISTS (
            SELECT 1 FROM pg_catalog.pg_trigger t
            JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                 AND d.objid OPERATOR(pg_catalog.=) t.tgrelid AND d.deptype OPERATOR(pg_catalog.=) 'e'
            JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                 AND e.extname OPERATOR(pg_catalog.=) 'vigil'
            WHERE t.oid OPERATOR(pg_catalog.=) command.objid) THEN
            RAISE EXCEPTION 'triggers on vigil''s objects are vigil''s: %', command.object_identity
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
END
$vigil$;
COMMENT ON FUNCTION vigil_state.vigil_guard_triggers() IS 'ddl_command_end event trigger: refuses triggers on vigil''s tables and views';
CREATE EVENT TRIGGER vigil_guard_triggers ON ddl_command_end WHEN TAG IN ('CREATE TRIGGER')
    EXECUTE FUNCTION vigil_state.vigil_guard_triggers();

-- Rules follow their table through a rename or a move, as constraints do
-- (and a references rule its target): ddl_command_start, so the rules move
-- with the command and a failed command undoes the move.
CREATE FUNCTION vigil_state.vigil_table_renamed() RETURNS event_trigger
    AS 'MODULE_PATHNAME', 'vigil_table_renamed'
    LANGUAGE C;
COMMENT ON FUNCTION vigil_state.vigil_table_renamed() IS 'ddl_command_start event trigger: moves the rules of a renamed or moved table, schema or column';
CREATE EVENT TRIGGER vigil_table_renamed ON ddl_command_start WHEN TAG IN ('ALTER TABLE', 'ALTER SCHEMA')
    EXECUTE FUNCTION vigil_state.vigil_table_renamed();
