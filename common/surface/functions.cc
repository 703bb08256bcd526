// functions.cc — the table of vigil's SQL functions (see functions.h).
//
// A row's arguments and result are spelled exactly as PostgreSQL's
// pg_get_function_arguments() and pg_get_function_result() print them, so
// sql/catalog.sql compares the installed catalog with this table as text.
#include "surface/functions.h"

#include <string>

#include "base/core_guard.h"

namespace vigil::core {
namespace {

constexpr FunctionInfo kFunctions[] = {
    {"vigil_is_email", "vigil_is_email", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is an RFC 5321 mailbox (RFC 6531 UTF-8 allowed)"},
    {"vigil_is_url", "vigil_is_url", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is an absolute http, https or ftp URL (RFC 3986)"},
    {"vigil_is_uuid", "vigil_is_uuid", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is an RFC 9562 UUID in 8-4-4-4-12 text form"},
    {"vigil_is_phone", "vigil_is_phone", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is a canonical E.164 number valid for its country"},
    {"vigil_is_iso8601", "vigil_is_iso8601", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is an ISO 8601 date, time or date-time"},
    {"vigil_is_ipv4", "vigil_is_ipv4", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is a dotted-decimal IPv4 address"},
    {"vigil_is_ipv6", "vigil_is_ipv6", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is an RFC 4291 IPv6 address"},
    {"vigil_is_cidr", "vigil_is_cidr", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is an IPv4 or IPv6 network in CIDR notation"},
    {"vigil_is_iban", "vigil_is_iban", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is an ISO 13616 IBAN in electronic format"},
    {"vigil_is_luhn", "vigil_is_luhn", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is digits with a valid Luhn check digit"},
    {"vigil_is_json", "vigil_is_json", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is RFC 8259 JSON text"},
    {"vigil_is_crypto_symbol", "vigil_is_crypto_symbol", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is a trading symbol such as BTC-USD"},
    {"vigil_is_btc_address", "vigil_is_btc_address", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is a Bitcoin address (base58check, bech32, bech32m)"},
    {"vigil_is_eth_address", "vigil_is_eth_address", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is an Ethereum address (EIP-55 when mixed case)"},
    {"vigil_is_username", "vigil_is_username", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is a username (3-32 letters, digits, . _ -)"},
    {"vigil_is_semver", "vigil_is_semver", "value text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is a Semantic Versioning 2.0.0 version"},
    {"vigil_is_phone", "vigil_is_phone_region", "value text, region text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the value is a valid phone number as typed in the region (ISO 3166-1 alpha-2)"},
    {"vigil_validate", "vigil_validate", "kind text, value text", "text", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "NULL when the value is valid for the kind, else the reason it is not"},
    {"vigil_uuid_version", "vigil_uuid_version", "value text", "integer", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "the version nibble of a UUID (0 for Nil, 15 for Max)"},
    {"vigil_iban_normalize", "vigil_iban_normalize", "value text", "text", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "an IBAN in print format turned into electronic format"},
    {"vigil_json_schema_valid", "vigil_json_schema_valid", "schema text, doc text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "true when the JSON document satisfies the JSON Schema (draft 2020-12; references within the schema)"},
    {"vigil_json_schema_valid", "vigil_json_schema_valid_options", "schema text, doc text, options jsonb", "boolean", Shape::kScalar, Volatility::kStable, true, Parallel::kRestricted,
     kReads, -1, false,
     "vigil_json_schema_valid with options: format (assert or annotate), registry (resolve registered URIs), max_steps"},
    {"vigil_json_schema_check", "vigil_json_schema_check", "schema text, doc text, options jsonb DEFAULT '{}'::jsonb", "jsonb", Shape::kScalar, Volatility::kStable, true, Parallel::kRestricted,
     kReads, -1, false,
     "the draft 2020-12 basic output: valid, and each failing keyword with its keyword and instance location"},
    {"vigil_json_schema_add", "vigil_json_schema_add", "uri text, schema jsonb", "boolean", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "registers a JSON Schema under an absolute URI, replacing the one registered there; true when the URI is new"},
    {"vigil_json_schema_remove", "vigil_json_schema_remove", "uri text", "boolean", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "removes a registered JSON Schema unless a json_schema rule uses it; true when there was one"},
    {"vigil_validators", "vigil_validators", "OUT kind text, OUT description text, OUT example text", "SETOF record", Shape::kTable, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "every validator kind with a description and a valid example"},
    {"vigil_rule_check", "vigil_rule_check", "rule text, params jsonb, value text", "text", Shape::kScalar, Volatility::kImmutable, false, Parallel::kSafe,
     kPure, -1, false,
     "NULL when the value passes the rule (kind and params as for vigil_rule_add), else the reason; value rules only"},
    {"vigil_version", "vigil_version", "", "text", Shape::kScalar, Volatility::kStable, false, Parallel::kSafe,
     kPure, -1, false,
     "the version of the loaded vigil module"},
    {"vigil_functions", "vigil_functions", "OUT name text, OUT arguments text, OUT result text, OUT volatility text, OUT strict boolean, OUT parallel text, OUT effects text, OUT sqlite_flags text, OUT description text", "SETOF record", Shape::kTable, Volatility::kStable, false, Parallel::kSafe,
     kPure, -1, false,
     "every vigil SQL function with its arguments, result, flags, what it touches and its SQLite registration"},
    {"vigil_check", "vigil_check", "table_name text, \"row\" jsonb, raise boolean DEFAULT false, old_row jsonb DEFAULT NULL::jsonb", "jsonb", Shape::kScalar, Volatility::kStable, false, Parallel::kRestricted,
     kReads | kRunsStoredSql, -1, false,
     "the rule violations of a row given as JSON (an empty array when it passes); with raise, a 23514 error listing them"},
    {"vigil_enforce_trigger", "vigil_enforce_trigger", "", "trigger", Shape::kTrigger, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads, -1, false,
     "BEFORE INSERT OR UPDATE row trigger installed by vigil_enforce: rejects a row with one error listing every violation"},
    {"vigil_enforce_trigger", "vigil_enforce_trigger_row", "table_name text, new_row jsonb, old_row jsonb, expressions jsonb", "void", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads, -1, true,
     "what SQLite's enforcement triggers call: rejects a row with one error listing every violation; PostgreSQL's triggers use vigil_enforce_trigger()"},
    {"vigil_rule_add", nullptr, "table_name text, column_name text, rule text, params jsonb DEFAULT NULL::jsonb", "bigint", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "adds a rule (or returns the id of the identical one) after checking the table, the column and the params"},
    {"vigil_rule_remove", nullptr, "table_name text, column_name text, rule text", "integer", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "removes the rules of that table, column and kind; returns how many"},
    {"vigil_rules", nullptr, "", "SETOF vigil_rules", Shape::kTable, Volatility::kStable, false, Parallel::kUnsafe,
     kReads, -1, false,
     "every rule, in the order added"},
    {"vigil_enforce", nullptr, "table_name text", "boolean", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "installs the vigil_enforce trigger: every INSERT and UPDATE is checked against the table's rules"},
    {"vigil_unenforce", nullptr, "table_name text", "boolean", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "removes the vigil_enforce trigger; true when there was one"},
    {"vigil_insert", nullptr, "table_name text, \"row\" jsonb", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites | kRunsStoredSql, -1, false,
     "validates a JSON row against the table's columns, types and rules, inserts it with bound values and returns its key"},
    {"vigil_quality_check", "vigil_quality_check", "table_name text, options jsonb DEFAULT '{}'::jsonb", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites | kRunsStoredSql, -1, false,
     "completeness, validity, uniqueness, integrity and freshness of one table, with a 0-100 score; recorded in vigil_quality_history"},
    {"vigil_quality_report", "vigil_quality_report", "options jsonb DEFAULT '{}'::jsonb", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites | kRunsStoredSql, -1, false,
     "vigil_quality_check over every user table, with overall_score"},
    {"vigil_quality_issues", "vigil_quality_issues", "options jsonb DEFAULT '{}'::jsonb, OUT table_name text, OUT dimension text, OUT column_name text, OUT value double precision, OUT target text, OUT passed boolean, OUT sample_keys jsonb, OUT detail text", "SETOF record", Shape::kTable, Volatility::kStable, false, Parallel::kUnsafe,
     kReads | kRunsStoredSql, -1, false,
     "the metrics of vigil_quality_report(options) with offending rows or short of their target, one row each; records nothing"},
    {"vigil_config", "vigil_config", "key text, value text DEFAULT NULL::text", "text", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, 2, false,
     "reads a vigil setting (GUC vigil.<key>); with a value, sets it for the session"},
    {"vigil_checksum", "vigil_checksum_v2", "script text", "text", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "sha256:v2:<hex> of the script with a UTF-8 BOM removed, CRLF/CR turned into LF and trailing whitespace at its end removed"},
    {"vigil_migration_add", "vigil_migration_add", "version text, name text, up_sql text, down_sql text DEFAULT NULL::text", "text", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "registers a migration (and its undo script); returns its checksum"},
    {"vigil_migration_add_dir", "vigil_migration_add_dir", "path text", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "registers V<version>__<name>.sql and U<version>__<name>.sql files from a server directory (pg_read_server_files)"},
    {"vigil_migrate", "vigil_migrate", "target text DEFAULT NULL::text, dry_run boolean DEFAULT false", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites | kRunsStoredSql, -1, false,
     "applies pending migrations in version order, each atomically, under a lock on vigil's migration state; dry_run rolls everything back"},
    {"vigil_rollback", "vigil_rollback", "target text", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites | kRunsStoredSql, -1, false,
     "runs undo scripts in reverse order down to target ('0' undoes all)"},
    {"vigil_migration_repair", "vigil_migration_repair", "version text", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "accepts the changed script of a drifted migration and records the repair"},
    {"vigil_migration_start", "vigil_migration_start", "version text, undo boolean DEFAULT false", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "records the start of a no-transaction migration (or undo script) the client runs itself; returns the script"},
    {"vigil_migration_finish", "vigil_migration_finish", "version text, error text DEFAULT NULL::text, duration_ms double precision DEFAULT NULL::double precision", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "records the end of a started no-transaction migration: applied (or undone), or failed with the error"},
    {"vigil_migration_validate", "vigil_migration_validate", "", "jsonb", Shape::kScalar, Volatility::kStable, false, Parallel::kUnsafe,
     kReads, -1, false,
     "drifted scripts (with the changed lines), missing migrations, the history chain and schema changes made outside migrations"},
    {"vigil_migration_status", "vigil_migration_status", "OUT version text, OUT name text, OUT state text, OUT checksum text, OUT applied_at timestamp with time zone, OUT applied_by text, OUT duration_ms double precision", "SETOF record", Shape::kTable, Volatility::kStable, false, Parallel::kUnsafe,
     kReads, -1, false,
     "every migration with its state: applied, pending, drifted, missing, failed or interrupted"},
    {"vigil_audit_trigger", "vigil_audit_trigger", "", "trigger", Shape::kTrigger, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "the audit triggers vigil_audit_enable installs: write each change into vigil_audit_log (argument: the options)"},
    {"vigil_audit_enable", "vigil_audit_enable", "table_name text, options jsonb DEFAULT '{}'::jsonb", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "audits the table's INSERT, UPDATE, DELETE and TRUNCATE (options: exclude, redact, statement); the table's owner only"},
    {"vigil_audit_disable", "vigil_audit_disable", "table_name text", "boolean", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "stops auditing the table; true when it was audited; the table's owner only"},
    {"vigil_set_actor", "vigil_set_actor", "actor text", "text", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kWrites, -1, false,
     "sets the application's actor recorded with audit entries for the session (NULL clears it); returns it"},
    {"vigil_actor", "vigil_actor", "", "text", Shape::kScalar, Volatility::kStable, false, Parallel::kSafe,
     kReads, -1, true,
     "the application's actor set with vigil_set_actor (NULL when none)"},
    {"vigil_audit_seal", "vigil_audit_seal", "", "bigint", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "seals the committed audit entries not sealed yet into the chain; returns how many (vigil_auditor)"},
    {"vigil_audit_verify", "vigil_audit_verify", "expected_head text DEFAULT NULL::text", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads, -1, false,
     "checks the audit chain: entries checked, unsealed, and the first entry whose content, order or presence changed (vigil_auditor)"},
    {"vigil_audit_head", "vigil_audit_head", "", "text", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "seals pending entries and returns the newest chain hash, to keep outside the database (vigil_auditor)"},
    {"vigil_audit_purge", "vigil_audit_purge", "before timestamp with time zone", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "deletes the sealed entries written before the time, keeping a checkpoint so the rest still verifies (vigil_audit_admin)"},
    {"vigil_audit_erase", "vigil_audit_erase", "table_name text, key jsonb", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "removes the row images of a table's entries with that key, keeping their digests; recorded (vigil_audit_admin)"},
    {"vigil_audit_digest", "vigil_audit_digest", "entry jsonb", "text", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "the SHA-256 entry digest of an audit entry given as JSON (the same on both engines)"},
    {"vigil_audit_key", "vigil_audit_key", "key text", "boolean", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kWrites, -1, false,
     "SQLite: sets the connection's audit HMAC key; PostgreSQL reads it from the key file or vigil.audit_key (raises 0A000)"},
    {"vigil_audit_statement", "vigil_audit_statement", "", "text", Shape::kScalar, Volatility::kStable, false, Parallel::kSafe,
     kReads, -1, true,
     "the statement in progress with its constants replaced, as the audit log keeps it"},
    {"vigil_audit_redact", "vigil_audit_redact", "value text", "text", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads, -1, true,
     "what SQLite's audit triggers call for a redacted column (raises 0A000 on PostgreSQL, whose triggers redact in C)"},

    // ---- secrets (issue 14; docs/secrets.md) ----
    {"vigil_password_hash", "vigil_password_hash", "password text, options jsonb DEFAULT NULL::jsonb", "text", Shape::kScalar, Volatility::kVolatile, false, Parallel::kSafe,
     kPure, -1, false,
     "hashes a password with Argon2id into a PHC string (options memory_kib, iterations, parallelism; at least OWASP's recommendation)"},
    {"vigil_password_verify", "vigil_password_verify", "password text, hash text", "boolean", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "whether a password matches an Argon2 PHC string, compared in constant time; the work a stored hash may ask for is bounded"},
    {"vigil_password_needs_rehash", "vigil_password_needs_rehash", "hash text, options jsonb DEFAULT NULL::jsonb", "boolean", Shape::kScalar, Volatility::kImmutable, false, Parallel::kSafe,
     kPure, -1, false,
     "whether a PHC string is below the options: another algorithm, less memory or fewer passes (hash again at the next login)"},
    {"vigil_api_key_generate", "vigil_api_key_generate", "prefix text", "text", Shape::kScalar, Volatility::kVolatile, true, Parallel::kSafe,
     kPure, -1, false,
     "a new API key: the prefix, an underscore and 256 random bits in base32"},
    {"vigil_api_key_hash", "vigil_api_key_hash", "key text", "text", Shape::kScalar, Volatility::kStable, true, Parallel::kSafe,
     kUsesSecret, -1, false,
     "HMAC-SHA256 of an API key under the secret the database never holds (deterministic: store it and look keys up by it)"},
    {"vigil_api_key_verify", "vigil_api_key_verify", "key text, hash text", "boolean", Shape::kScalar, Volatility::kStable, true, Parallel::kSafe,
     kUsesSecret, -1, false,
     "whether an API key matches its stored hash, compared in constant time"},
    {"vigil_api_key_secret", "vigil_api_key_secret", "secret text", "boolean", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kWrites, -1, false,
     "SQLite: sets the connection's API-key secret; PostgreSQL reads it from the key file or vigil.api_key_secret (raises 0A000)"},
    // ---- query analysis (issue 15; docs/query-analysis.md) ----
    {"vigil_normalize", "vigil_normalize", "sql text", "text", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "the statement with constants as ?, IN lists collapsed, comments and spacing removed, keywords lower-cased (the engine's lexical rules)"},
    {"vigil_fingerprint", "vigil_fingerprint", "sql text", "text", Shape::kScalar, Volatility::kImmutable, true, Parallel::kSafe,
     kPure, -1, false,
     "16 hex digits shared by statements that differ only in constants, IN-list lengths, spacing, comments or keyword case"},
    {"vigil_analyze_query", "vigil_analyze_query", "sql text, options jsonb DEFAULT '{}'::jsonb", "jsonb", Shape::kScalar, Volatility::kVolatile, true, Parallel::kUnsafe,
     kReads, -1, false,
     "static rules (issues with severity, message, hint, position), tables, kind, fingerprint and the engine's plan summary of one statement"},
    {"vigil_index_advice", "vigil_index_advice", "statements jsonb DEFAULT NULL::jsonb", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kDescribes, -1, false,
     "index suggestions over statements, merged per table and ranked by what they would save, with the invalid, duplicate, redundant and unused indexes"},
    {"vigil_query_stats", "vigil_query_stats", "OUT fingerprint text, OUT query text, OUT calls bigint, OUT errors bigint, OUT rows bigint, OUT total_ms double precision, OUT mean_ms double precision, OUT min_ms double precision, OUT max_ms double precision, OUT stddev_ms double precision, OUT p50_ms double precision, OUT p95_ms double precision, OUT p99_ms double precision, OUT first_seen timestamp with time zone, OUT last_seen timestamp with time zone, OUT queryid bigint, OUT username text, OUT database text, OUT application_name text, OUT client_addr text", "SETOF record", Shape::kTable, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads, -1, false,
     "one row per monitored statement: calls, errors, rows, times with p50/p95/p99, first and last seen (PostgreSQL: needs shared_preload_libraries)"},
    {"vigil_slow_queries", "vigil_slow_queries", "\"limit\" integer DEFAULT 100, OUT at timestamp with time zone, OUT duration_ms double precision, OUT fingerprint text, OUT query text, OUT rows bigint, OUT username text, OUT database text, OUT application_name text", "SETOF record", Shape::kTable, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads, -1, false,
     "the newest executions that took at least vigil.slow_query_ms, normalised, newest first"},
    {"vigil_performance_report", "vigil_performance_report", "hours integer DEFAULT 24", "jsonb", Shape::kScalar, Volatility::kVolatile, true, Parallel::kUnsafe,
     kReads, -1, false,
     "totals, p50/p95/p99, slow queries, top statements and an hourly trend over the last hours, from history and live counters"},
    {"vigil_snapshot", "vigil_snapshot", "", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites, -1, false,
     "writes the statement counters gathered since the last snapshot to vigil_query_history (PostgreSQL's worker does it every vigil.snapshot_interval)"},
    {"vigil_query_stats_reset", "vigil_query_stats_reset", "", "void", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kWrites, -1, false,
     "forgets the statement counters and the slow-query log (the history stays)"},
    // ---- health (issue 17; docs/health.md) ----
    {"vigil_health", "vigil_health", "options jsonb DEFAULT '{}'::jsonb", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kWrites | kDescribes, -1, false,
     "status (healthy, degraded, unhealthy), every check with value, threshold and an actionable message, and the issues; records state changes as alerts"},
    {"vigil_health_checks", "vigil_health_checks", "options jsonb DEFAULT '{}'::jsonb, OUT \"check\" text, OUT status text, OUT value double precision, OUT threshold double precision, OUT unit text, OUT message text, OUT details jsonb", "SETOF record", Shape::kTable, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kDescribes, -1, false,
     "the health checks as rows (check, status ok/warning/critical/skipped, value, threshold, unit, message, details); records nothing"},
    {"vigil_pool_status", "vigil_pool_status", "", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kDescribes, -1, false,
     "connections by state, the limit, utilisation and waiting connections (SQLite: this process's connections to the file)"},
    {"vigil_metrics", "vigil_metrics", "", "text", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kDescribes, -1, false,
     "every health figure and the pool in Prometheus text exposition format (the vigil command's exporter serves it)"},
    {"vigil_busy_backoff", "vigil_busy_backoff", "max_ms integer", "integer", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kWrites, -1, false,
     "SQLite: installs a busy handler with exponential backoff and jitter, waiting up to max_ms (0 removes it); PostgreSQL raises 0A000 (use lock_timeout)"},
    {"vigil_backup", "vigil_backup", "path text, passphrase text DEFAULT NULL::text", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kReads | kFiles, -1, false,
     "SQLite: an online backup to a new file, encrypted in the age format with a passphrase (PostgreSQL raises 0A000: use pgBackRest or pg_basebackup)"},
    {"vigil_backup_verify", "vigil_backup_verify", "path text, passphrase text DEFAULT NULL::text", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kFiles, -1, false,
     "SQLite: decrypts a backup in memory and runs PRAGMA integrity_check on it (PostgreSQL raises 0A000)"},
    {"vigil_restore", "vigil_restore", "path text, passphrase text, target_path text", "jsonb", Shape::kScalar, Volatility::kVolatile, false, Parallel::kUnsafe,
     kFiles, -1, false,
     "SQLite: restores a backup to a new file, checked with PRAGMA integrity_check before it appears (PostgreSQL raises 0A000)"},
};

constexpr std::size_t kCount = sizeof(kFunctions) / sizeof(kFunctions[0]);

// Arity from the argument text: OUT columns are not arguments; a DEFAULT
// makes an argument optional. Commas inside parentheses or quotes (a
// DEFAULT '{}'::jsonb, a numeric(10,2)) do not separate arguments.
constexpr void CountArgs(const char* s, int* in, int* defaults) {
  *in = 0;
  *defaults = 0;
  if (s == nullptr || *s == '\0') return;
  int depth = 0;
  bool quoted = false, out = false, has_default = false;
  const char* start = s;
  auto finish = [&](const char* end) {
    // "OUT name type" columns start with OUT
    out = end - start >= 4 && start[0] == 'O' && start[1] == 'U' && start[2] == 'T' && start[3] == ' ';
    if (!out) {
      ++*in;
      if (has_default) ++*defaults;
    }
    has_default = false;
  };
  for (const char* p = s;; ++p) {
    char c = *p;
    if (c == '\0' || (c == ',' && depth == 0 && !quoted)) {
      finish(p);
      if (c == '\0') break;
      start = p + 2;  // ", "
      continue;
    }
    if (c == '\'') quoted = !quoted;
    if (quoted) continue;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ' ' && p[1] == 'D' && p[2] == 'E' && p[3] == 'F' && p[4] == 'A' && p[5] == 'U' && p[6] == 'L' &&
        p[7] == 'T' && p[8] == ' ')
      has_default = true;
  }
}

// DIRECTONLY: what writes, runs stored SQL, computes with a secret,
// touches files or describes the database (a view or trigger of an
// untrusted file must not obtain keyed hashes, read or write files, or copy
// the main database's names, sizes and directory into its own tables).
constexpr bool WritesOrRunsSql(unsigned effects) {
  return (effects & (kWrites | kRunsStoredSql | kUsesSecret | kFiles | kDescribes)) != 0;
}

constexpr unsigned FlagsAt(const FunctionInfo& f, int nargs) {
  unsigned e = f.reads_only_below >= 0 && nargs < f.reads_only_below ? (f.effects & kReads) : f.effects;
  if (WritesOrRunsSql(e)) return kDirectOnly;
  if (e == kPure && f.volatility == Volatility::kImmutable) return kDeterministic | kInnocuous;
  return kInnocuous;
}

// The rules the table must keep, checked by the compiler.
constexpr bool TableIsSound() {
  for (const FunctionInfo& f : kFunctions) {
    int in = 0, defaults = 0;
    CountArgs(f.arguments, &in, &defaults);
    for (int n = in - defaults; n <= in; ++n) {
      // A function vigil's own triggers call cannot be DIRECTONLY.
      if (f.called_by_triggers && (FlagsAt(f, n) & kDirectOnly)) return false;
    }
    // Pure functions are immutable; immutable ones touch nothing.
    if (f.volatility == Volatility::kImmutable && f.effects != kPure) return false;
  }
  return true;
}
static_assert(TableIsSound(), "functions.cc: a trigger-called function is DIRECTONLY, or an immutable one has effects");

}  // namespace

const FunctionInfo* Functions(std::size_t* count) noexcept {
  *count = kCount;
  return kFunctions;
}

int MinArgs(const FunctionInfo& f) noexcept {
  int in = 0, defaults = 0;
  CountArgs(f.arguments, &in, &defaults);
  return in - defaults;
}

int MaxArgs(const FunctionInfo& f) noexcept {
  int in = 0, defaults = 0;
  CountArgs(f.arguments, &in, &defaults);
  return in;
}

unsigned EffectsAt(const FunctionInfo& f, int nargs) noexcept {
  return f.reads_only_below >= 0 && nargs < f.reads_only_below ? (f.effects & kReads) : f.effects;
}

unsigned SqliteFlagsOf(const FunctionInfo& f, int nargs) noexcept { return FlagsAt(f, nargs); }

const char* VolatilityName(Volatility v) noexcept {
  switch (v) {
    case Volatility::kImmutable: return "immutable";
    case Volatility::kStable: return "stable";
    case Volatility::kVolatile: return "volatile";
  }
  return "volatile";
}

const char* ParallelName(Parallel p) noexcept {
  switch (p) {
    case Parallel::kSafe: return "safe";
    case Parallel::kRestricted: return "restricted";
    case Parallel::kUnsafe: return "unsafe";
  }
  return "unsafe";
}

std::string EffectsText(unsigned effects) {
  if (effects == kPure) return "pure";
  std::string out;
  auto add = [&](unsigned bit, const char* word) {
    if (effects & bit) out += (out.empty() ? "" : ", ") + std::string(word);
  };
  add(kReads, "reads");
  add(kWrites, "writes");
  add(kRunsStoredSql, "runs stored SQL");
  add(kUsesSecret, "uses a secret");
  add(kFiles, "touches files");
  add(kDescribes, "describes the database");
  return out;
}

std::string SqliteFlagsText(unsigned flags) {
  std::string out;
  auto add = [&](unsigned bit, const char* word) {
    if (flags & bit) out += (out.empty() ? "" : ", ") + std::string(word);
  };
  add(kDeterministic, "deterministic");
  add(kInnocuous, "innocuous");
  add(kDirectOnly, "directonly");
  return out.empty() ? "none" : out;
}

std::string SqliteRegistrationText(const FunctionInfo& f) {
  if (f.shape == Shape::kTable) return SqliteFlagsText(FlagsAt(f, 0)) + " (table-valued)";
  unsigned first = FlagsAt(f, MinArgs(f));
  bool same = true;
  std::string all;
  for (int n = MinArgs(f); n <= MaxArgs(f); ++n) {
    unsigned flags = FlagsAt(f, n);
    same = same && flags == first;
    all += (all.empty() ? "" : "; ") + std::to_string(n) + ": " + SqliteFlagsText(flags);
  }
  return same ? SqliteFlagsText(first) : all;
}

}  // namespace vigil::core
