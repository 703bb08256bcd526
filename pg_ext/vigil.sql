-- vigil.sql — the install script of the vigil extension (hand-edited; the
-- build copies it to vigil--<version>.sql).
--
-- Every function: C symbol = SQL name, explicit volatility, strictness and
-- parallel safety, and a COMMENT.

\echo Use "CREATE EXTENSION vigil" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Validators (SPEC §1). Pure: IMMUTABLE STRICT PARALLEL SAFE, NULL in, NULL out.
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
COMMENT ON FUNCTION vigil_json_schema_valid(text, text) IS 'true when the JSON document satisfies the JSON Schema (draft 2020-12 subset)';

CREATE FUNCTION vigil_validators(OUT kind text, OUT description text, OUT example text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'vigil_validators'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 16;
COMMENT ON FUNCTION vigil_validators() IS 'every validator kind with a description and a valid example';

CREATE FUNCTION vigil_version() RETURNS text
    AS 'MODULE_PATHNAME', 'vigil_version'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION vigil_version() IS 'the version of the loaded vigil module';
