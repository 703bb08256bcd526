-- validators.sql — the validator family in PostgreSQL (pg_regress).
CREATE EXTENSION vigil;

-- Must show 3: the same calls as in SQLite give the same answers.
SELECT vigil_is_email('a@b.co'), vigil_validate('email', 'a@@b');

-- Every kind, and every kind's example is valid.
SELECT kind, vigil_validate(kind, example) IS NULL AS example_ok FROM vigil_validators();

-- NULL in, NULL out (STRICT); empty strings are values.
SELECT vigil_is_email(NULL), vigil_validate('email', NULL), vigil_validate(NULL, 'x'),
       vigil_is_phone('+14155552671', NULL);
SELECT vigil_is_email(''), vigil_validate('uuid', '');

-- A megabyte string: a clean false, at once.
SELECT vigil_is_email(repeat('a', 1000000) || '@example.com') AS mb_email,
       vigil_validate('url', 'https://example.com/' || repeat('a', 500000) || ' ') AS mb_url;

-- Invalid UTF-8 cannot reach a function in a UTF8 database: the server
-- rejects it at input, before vigil is called.
SELECT vigil_is_email(convert_from('\xc328406578616d706c652e636f6d'::bytea, 'UTF8'));

-- A sample from each kind, accepting and rejecting, with reasons.
SELECT v.kind, v.value, vigil_validate(v.kind, v.value) AS reason
FROM (VALUES
  ('email', 'trader@example.com'), ('email', 'josé@bücher.de'), ('email', 'trader@example'),
  ('url', 'https://api.example.com/v1/ticker?symbol=BTC-USD'), ('url', 'https://exa mple.com'),
  ('uuid', '0f8fad5b-d9cb-469f-a165-70867728950e'), ('uuid', '{0f8fad5b-d9cb-469f-a165-70867728950e}'),
  ('phone', '+14155552671'), ('phone', '+1 415 555 2671'),
  ('iso8601', '2024-02-29T13:45:00Z'), ('iso8601', '2023-02-29'),
  ('ipv4', '192.0.2.1'), ('ipv4', '192.168.01.1'),
  ('ipv6', '2001:db8::1'), ('ipv6', 'fe80::1%eth0'),
  ('cidr', '10.0.0.0/8'), ('cidr', '10.0.0.1/8'),
  ('iban', 'DE89370400440532013000'), ('iban', 'DE89370400440532013001'),
  ('luhn', '4111111111111111'), ('luhn', '4111111111111112'),
  ('json', '{"side":"buy"}'), ('json', '{side:buy}'),
  ('crypto_symbol', 'BTC-USD'), ('crypto_symbol', 'btc-usd'),
  ('btc_address', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'), ('btc_address', 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5'),
  ('eth_address', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'), ('eth_address', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'),
  ('username', 'satoshi_n'), ('username', '_satoshi'),
  ('semver', '1.4.0-rc.1+build.7'), ('semver', 'v1.4.0')
) AS v(kind, value);

SELECT vigil_uuid_version('017f22e2-79b0-7cc3-98c4-dc0c0c07398f'),
       vigil_is_phone('(415) 555-2671', 'US'),
       vigil_iban_normalize('de89 3704 0044 0532 0130 00'),
       vigil_json_schema_valid('{"type":"object","required":["qty"],"properties":{"qty":{"type":"number","exclusiveMinimum":0}}}',
                               '{"qty": 0.25}');

-- Pure functions can back CHECK constraints and expression indexes.
CREATE TABLE users (id serial PRIMARY KEY, email text CHECK (vigil_is_email(email)));
CREATE INDEX users_valid_email ON users (vigil_is_email(email));
INSERT INTO users (email) VALUES ('trader@example.com');
INSERT INTO users (email) VALUES ('not-an-email');
SELECT id, email FROM users;
DROP TABLE users;
