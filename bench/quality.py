#!/usr/bin/python3
"""quality.py — vigil_quality_check against the hand-written SQL it replaces,
in the same run, on both engines.

    bench/quality.py [--pg-rows N] [--sqlite-rows N] [--rounds R] [--sqlite-only]

Table t: id and 8 columns c1..c8, two of them foreign keys (c1 -> parent_a,
c2 -> parent_b), some NULLs and a few orphans. No value rules: the anchor is
exactly what issue 3 names, the single scan
    SELECT count(*), count(c1), ..., count(c8) FROM t
plus one hand-written orphan anti-join per foreign key. vigil does the same
work and more (count(id), per-relationship checked counts, the catalog
look-ups, sample queries for the orphans it finds, a history row).
Targets: PostgreSQL (10,000,000 rows) <= 1.3x; SQLite (1,000,000 rows) <= 1.5x.
"""
import argparse
import sqlite3
import statistics
import sys
import time

from benchlib import pg_cluster, pg_medians, psql, report, sqlite_db
ANCHOR = ["SELECT count(*), " + ", ".join(f"count(c{i})" for i in range(1, 9)) + " FROM t",
          "SELECT count(*) FROM t WHERE c1 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM parent_a p WHERE p.id = t.c1)",
          "SELECT count(*) FROM t WHERE c2 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM parent_b p WHERE p.id = t.c2)"]


def bench_sqlite(rows, rounds):
    db = sqlite_db()
    db.executescript(f"""
        CREATE TABLE parent_a (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE parent_b (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE t (id INTEGER PRIMARY KEY, c1 INTEGER REFERENCES parent_a (id), c2 INTEGER REFERENCES parent_b (id),
                        c3 TEXT, c4 NUMERIC, c5 NUMERIC, c6 TEXT, c7 INTEGER, c8 TEXT);
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 10000)
        INSERT INTO parent_a SELECT n, 'a' || n FROM g;
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 1000)
        INSERT INTO parent_b SELECT n, 'b' || n FROM g;
        WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {rows})
        INSERT INTO t SELECT n, CASE WHEN n % 100000 = 7 THEN 99999999 ELSE 1 + n % 10000 END,
               CASE WHEN n % 50 = 0 THEN NULL ELSE 1 + n % 1000 END, 'sym' || (n % 300),
               n * 0.5, CASE WHEN n % 20 = 0 THEN NULL ELSE n % 977 END, 'note', n % 7,
               CASE WHEN n % 3 = 0 THEN NULL ELSE 'x' END FROM g;
    """)
    times = {"anchor": [], "vigil": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        for q in ANCHOR:
            db.execute(q).fetchall()
        times["anchor"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        db.execute("SELECT vigil_quality_check('t')").fetchone()
        times["vigil"].append((time.perf_counter() - t0) * 1000)
    med = {k: statistics.median(v) for k, v in times.items()}
    return report(f"SQLite {sqlite3.sqlite_version}, {rows:,} rows", med, "anchor", 1.5)


def bench_pg(rows, rounds):
    with pg_cluster("shared_buffers = '2GB'", "max_wal_size = '8GB'") as env:
        psql(f"""
            CREATE EXTENSION vigil;
            CREATE TABLE parent_a (id int PRIMARY KEY, name text);
            CREATE TABLE parent_b (id int PRIMARY KEY, name text);
            CREATE TABLE t (id bigint PRIMARY KEY, c1 int, c2 int, c3 text, c4 numeric, c5 numeric, c6 text,
                            c7 int, c8 text);
            INSERT INTO parent_a SELECT g, 'a' || g FROM generate_series(1, 100000) g;
            INSERT INTO parent_b SELECT g, 'b' || g FROM generate_series(1, 1000) g;
            INSERT INTO t SELECT g, CASE WHEN g % 1000000 = 7 THEN 99999999 ELSE 1 + g % 100000 END,
                   CASE WHEN g % 50 = 0 THEN NULL ELSE 1 + g % 1000 END, 'sym' || (g % 300),
                   g * 0.5, CASE WHEN g % 20 = 0 THEN NULL ELSE g % 977 END, 'note', g % 7,
                   CASE WHEN g % 3 = 0 THEN NULL ELSE 'x' END FROM generate_series(1, {rows}) g;
            ALTER TABLE t ADD FOREIGN KEY (c1) REFERENCES parent_a (id) NOT VALID;
            ALTER TABLE t ADD FOREIGN KEY (c2) REFERENCES parent_b (id) NOT VALID;
            VACUUM ANALYZE;
        """, env)
        med = pg_medians(env, {"anchor": " ".join(f"EXECUTE $q${q}$q$ INTO n;" for q in ANCHOR),
                               "vigil": "r := vigil_quality_check('t');"}, rounds)
        version = psql("SHOW server_version;", env).strip()
        return report(f"PostgreSQL {version}, {rows:,} rows", med, "anchor", 1.3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg-rows", type=int, default=10_000_000)
    ap.add_argument("--sqlite-rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    ok = bench_sqlite(args.sqlite_rows, args.rounds)
    if not args.sqlite_only:
        ok = bench_pg(args.pg_rows, args.rounds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
