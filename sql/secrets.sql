-- secrets.sql — passwords and API keys (issue 14) with real roles: an
-- application role that hashes and verifies, and an attacker that wants
-- the API-key secret. Hashes differ from run to run (random salts and
-- keys): the checks print what they prove, not the values.
CREATE ROLE regress_secrets_app LOGIN;
CREATE ROLE regress_secrets_attacker LOGIN;

-- Passwords: the reference implementation's vectors verify (Argon2id,
-- Argon2i 1.3 and 1.0, Argon2d), a wrong password does not.
SELECT vigil_password_verify('password', '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc') AS id,
       vigil_password_verify('password', '$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA') AS i,
       vigil_password_verify('password', '$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ') AS i10,
       vigil_password_verify('password', '$argon2d$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$lV5dWxY6G2C7o1/DbQSWR0+6T2tZrVNihmbwf7L5Pq8') AS d,
       vigil_password_verify('Password', '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc') AS wrong;

-- An application stores hashes; a login verifies; weaker parameters ask
-- for a rehash.
SET ROLE regress_secrets_app;
CREATE TEMP TABLE users (name text PRIMARY KEY, hash text NOT NULL);
INSERT INTO users VALUES ('ada', vigil_password_hash('correct horse battery staple')),
                         ('bob', vigil_password_hash('hunter2', '{"memory_kib": 47104, "iterations": 1}'));
SELECT name, hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%' AS owasp_default,
       vigil_password_verify(CASE name WHEN 'ada' THEN 'correct horse battery staple' ELSE 'hunter2' END, hash) AS right,
       vigil_password_verify('hunter3', hash) AS wrong,
       vigil_password_needs_rehash(hash) AS needs_rehash
FROM users ORDER BY name;
SELECT vigil_password_hash('same') <> vigil_password_hash('same') AS salted;
RESET ROLE;

-- NULLs, empty and 1 MB passwords, bad options and hostile hashes.
SELECT vigil_password_hash(NULL) IS NULL AS null_hash, vigil_password_verify(NULL, 'x') IS NULL AS null_verify,
       vigil_password_needs_rehash(NULL) IS NULL AS null_rehash,
       vigil_password_verify('', '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc') AS empty_verifies;
SELECT vigil_password_verify(repeat('x', 1000000), vigil_password_hash(repeat('x', 1000000))) AS one_mb;
\set VERBOSITY sqlstate
SELECT vigil_password_hash('');
SELECT vigil_password_hash(repeat('x', 1048577));
SELECT vigil_password_hash('pw', '{"memory_kib": 8192}');
SELECT vigil_password_hash('pw', '{"memory_kib": 1048576}');
SELECT vigil_password_hash('pw', '{"rounds": 3}');
SELECT vigil_password_hash('pw', '[1]');
SELECT vigil_password_verify('pw', '$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc');
SELECT vigil_password_verify('pw', '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW');
SELECT vigil_password_verify('pw', '');
SELECT vigil_password_needs_rehash('$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc', '{"memory_kib": 65536}');
\set VERBOSITY default

-- API keys: without a secret the hash refuses, naming where to put one.
SELECT vigil_api_key_generate('sk_live') ~ '^sk_live_[a-z2-7]{52}$' AS key_shape,
       vigil_api_key_generate('sk_live') <> vigil_api_key_generate('sk_live') AS random;
SELECT vigil_api_key_hash('sk_live_x');
SELECT vigil_api_key_secret('0123456789abcdef0123456789abcdef');
SELECT vigil_api_key_generate('bad-prefix');
-- The superuser puts the secret in the data directory (COPY TO PROGRAM
-- runs there). Readable by others, it is refused; at mode 0600 the hash is
-- HMAC-SHA256 under it, the same value the openssl command computes.
COPY (SELECT '0123456789abcdef0123456789abcdef') TO PROGRAM 'cat > vigil_api_key.key && chmod 644 vigil_api_key.key';
SELECT vigil_api_key_hash('vk_test');
COPY (SELECT '0123456789abcdef0123456789abcdef') TO PROGRAM 'cat > vigil_api_key.key && chmod 600 vigil_api_key.key';
SELECT vigil_api_key_hash('vk_test') = 'hmac-sha256$93d096ffc854fbb2eaf38826c39747b48423604a53835a529f5c61d251865f34' AS same_as_openssl;
SET ROLE regress_secrets_app;
CREATE TEMP TABLE keys (hash text PRIMARY KEY, owner text);
WITH k AS (SELECT vigil_api_key_generate('vk') AS key)
INSERT INTO keys SELECT vigil_api_key_hash(key), 'ada' FROM k RETURNING vigil_api_key_verify('nope', hash) AS wrong_key;
INSERT INTO keys VALUES (vigil_api_key_hash('vk_test'), 'bob');
SELECT owner AS found_by_hash FROM keys WHERE hash = vigil_api_key_hash('vk_test');
SELECT vigil_api_key_verify('vk_test', 'hmac-sha256$93d096ffc854fbb2eaf38826c39747b48423604a53835a529f5c61d251865f34') AS verifies;
DROP TABLE users, keys;
RESET ROLE;
-- The attacker computes hashes (an oracle of 256-bit keys) but never reads
-- the secret: not through SHOW, pg_settings or the file.
SET ROLE regress_secrets_attacker;
SHOW vigil.api_key_secret;
SELECT count(*) AS visible FROM pg_settings WHERE name = 'vigil.api_key_secret';
SELECT pg_read_file('vigil_api_key.key');
RESET ROLE;
SELECT vigil_api_key_verify('vk_test', 'sha256$00');
\set VERBOSITY sqlstate
SELECT vigil_api_key_hash('');
SELECT vigil_api_key_verify('vk_test', 'hmac-sha256$zz');
\set VERBOSITY default
-- A secret too short is refused, not used.
COPY (SELECT 'short') TO PROGRAM 'cat > vigil_api_key.key && chmod 600 vigil_api_key.key';
SELECT vigil_api_key_hash('vk_test');
COPY (SELECT 1) TO PROGRAM 'rm vigil_api_key.key';

DROP ROLE regress_secrets_app, regress_secrets_attacker;
