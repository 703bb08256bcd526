#!/usr/bin/python3
"""enforce.py — the cost of vigil_enforce on 200,000 inserted rows, against
its anchors, in the same run, on both engines.

    bench/enforce.py [--rows N] [--rounds R] [--sqlite-only]

Rules (both engines): email (validator), price range 0..1,000,000, qty
positive, side one_of buy/sell. Rows are generated in SQL and inserted with
one INSERT ... SELECT per round into an emptied table; the median of the
rounds is reported.

PostgreSQL anchor: the same rules as CHECK constraints
    CHECK (vigil_is_email(email)), CHECK (price BETWEEN 0 AND 1000000),
    CHECK (qty > 0), CHECK (side IN ('buy', 'sell'))
  target: vigil_enforce <= 1.5x the CHECK constraints (issue 3).
SQLite anchor: the same insert into an unconstrained table
  target: vigil_enforce <= 2x (issue 3).
"""
import argparse
import sqlite3
import statistics
import sys
import time

from benchlib import pg_cluster, pg_medians, psql, report, sqlite_db
COLUMNS = "id integer PRIMARY KEY, email text, price numeric, qty numeric, side text"
RULES = [("email", "email", None), ("price", "range", '{"min": 0, "max": 1000000}'),
         ("qty", "positive", None), ("side", "one_of", '["buy", "sell"]')]


def bench_sqlite(rows, rounds):
    db = sqlite_db()
    db.execute(f"CREATE TABLE plain ({COLUMNS})")
    db.execute(f"CREATE TABLE enforced ({COLUMNS})")
    for col, rule, params in RULES:
        db.execute("SELECT vigil_rule_add('enforced', ?, ?, ?)", (col, rule, params))
    db.execute("SELECT vigil_enforce('enforced')")
    gen = (f"WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rows}) "
           "SELECT n, 'user' || n || '@example.com', (n % 1000) + 0.5, 1 + n % 7, "
           "CASE WHEN n % 2 = 0 THEN 'buy' ELSE 'sell' END FROM g")
    times = {"plain": [], "vigil": []}
    for _ in range(rounds):
        for name, table in (("plain", "plain"), ("vigil", "enforced")):
            db.execute(f"DELETE FROM {table}")
            t0 = time.perf_counter()
            db.execute("BEGIN")
            db.execute(f"INSERT INTO {table} {gen}")
            db.execute("COMMIT")
            times[name].append((time.perf_counter() - t0) * 1000)
    assert db.execute("SELECT count(*) FROM enforced").fetchone()[0] == rows
    med = {k: statistics.median(v) for k, v in times.items()}
    return report(f"SQLite {sqlite3.sqlite_version}, {rows:,} rows", med, "plain", 2.0)


def bench_pg(rows, rounds):
    with pg_cluster("shared_buffers = '256MB'") as env:
        setup = ["CREATE EXTENSION vigil;",
                 f"CREATE TABLE plain ({COLUMNS});",
                 f"CREATE TABLE checked ({COLUMNS}, CHECK (vigil_is_email(email)), "
                 "CHECK (price BETWEEN 0 AND 1000000), CHECK (qty > 0), CHECK (side IN ('buy', 'sell')));",
                 f"CREATE TABLE enforced ({COLUMNS});"]
        for col, rule, params in RULES:
            p = "NULL" if params is None else f"'{params}'"
            setup.append(f"SELECT vigil_rule_add('enforced', '{col}', '{rule}', {p});")
        setup.append("SELECT vigil_enforce('enforced');")
        psql("\n".join(setup), env)
        gen = (f"SELECT g, 'user' || g || '@example.com', (g % 1000) + 0.5, 1 + g % 7, "
               f"CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END FROM generate_series(1, {rows}) g")
        tables = {"plain": "plain", "check": "checked", "vigil": "enforced"}
        med = pg_medians(env, {name: f"INSERT INTO {table} {gen};" for name, table in tables.items()}, rounds,
                         settings="SET jit = off;", setup={name: f"TRUNCATE {table};" for name, table in tables.items()})
        version = psql("SHOW server_version;", env).strip()
        return report(f"PostgreSQL {version}, {rows:,} rows", med, "check", 1.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    ok = bench_sqlite(args.rows, args.rounds)
    if not args.sqlite_only:
        ok = bench_pg(args.rows, args.rounds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
