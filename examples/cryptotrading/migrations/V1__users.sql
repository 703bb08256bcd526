-- Users of the trading platform. Portable SQL: the same logical schema on
-- PostgreSQL and SQLite.
CREATE TABLE users (
    id            integer PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    email         text NOT NULL,
    password_hash text,
    country       text,
    created_at    timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
