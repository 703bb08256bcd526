-- validators.sql — the validator family through the sqlite3 shell.
.headers on
.mode list
.nullvalue NULL

-- Must show 2: the issue's own example.
SELECT vigil_is_email('a@b.co'), vigil_validate('email','a@@b');

-- Every kind, its description and example; every example is valid.
SELECT kind, vigil_validate(kind, example) IS NULL AS example_ok FROM vigil_validators();

-- NULL in, NULL out; empty strings are values, not NULLs.
SELECT vigil_is_email(NULL), vigil_validate('email', NULL), vigil_validate(NULL, 'x'), vigil_is_phone('+14155552671', NULL);
SELECT vigil_is_email(''), vigil_validate('uuid', '');

-- A megabyte string answers at once, false, without a crash.
SELECT vigil_is_email(replace(hex(zeroblob(1000000)), '00', 'a') || '@example.com') AS mb_email,
       vigil_validate('url', 'https://example.com/' || replace(hex(zeroblob(500000)), '00', 'a') || ' ') AS mb_url;

-- Invalid UTF-8 reaches SQLite functions as text: rejected, never trusted.
SELECT vigil_is_email(CAST(X'C328406578616D706C652E636F6D' AS TEXT)) AS bad_utf8,
       vigil_validate('email', CAST(X'61EDA080406578616D706C652E636F6D' AS TEXT)) AS surrogate;

-- Numbers are read as their text.
SELECT vigil_is_luhn(4111111111111111), vigil_is_luhn(4111111111111112);

-- Errors carry the "vigil: " prefix; the session goes on working.
SELECT vigil_validate('nokind', 'x');
SELECT vigil_uuid_version('not-a-uuid');
SELECT vigil_is_phone('12345', 'XX');
SELECT vigil_json_schema_valid('{"type":"strin"}', '"x"');
SELECT vigil_json_schema_valid('{', '1');
SELECT 'still working' AS after_errors, vigil_is_uuid('0f8fad5b-d9cb-469f-a165-70867728950e') AS uuid_ok;

-- Deterministic and innocuous: usable in CHECK constraints, indexes and
-- generated columns.
CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT CHECK (vigil_is_email(email)),
                   email_problem TEXT GENERATED ALWAYS AS (vigil_validate('email', email)) VIRTUAL);
CREATE INDEX users_valid_email ON users(vigil_is_email(email));
INSERT INTO users(email) VALUES ('trader@example.com');
INSERT INTO users(email) VALUES ('not-an-email');
SELECT id, email, email_problem FROM users;

-- Registration flags: every vigil function is deterministic and innocuous.
SELECT count(*) AS functions,
       sum((flags & 0x000000800) != 0) AS deterministic,
       sum((flags & 0x000200000) != 0) AS innocuous
FROM pragma_function_list WHERE name LIKE 'vigil\_%' ESCAPE '\';
SELECT name FROM pragma_module_list WHERE name LIKE 'vigil\_%' ESCAPE '\';
