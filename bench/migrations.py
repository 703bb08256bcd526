#!/usr/bin/python3
"""migrations.py — applying 1,000 small migrations through vigil against
running the same scripts bare, one transaction each, in the same run; and
vigil_migration_status() over 1,000 migrations.

    bench/migrations.py [--count N] [--sqlite-only]

Each migration creates a small table and an index. Bare: SQLite executes
BEGIN; script; COMMIT per migration on one connection; PostgreSQL runs the
same through one psql session. vigil: the scripts are registered first (not
timed), then one vigil_migrate() applies all of them (timed). Targets
(issue 4): vigil/bare <= 1.2 on both engines; status under 50 ms.
"""
import argparse
import os
import sqlite3
import sys
import tempfile
import time

from benchlib import BUILD, pg_cluster, psql


def scripts(n, prefix):
    return [(str(i), f"m{i}", f"CREATE TABLE {prefix}_{i} (id integer PRIMARY KEY, v text);\n"
                                f"CREATE INDEX {prefix}_{i}_v ON {prefix}_{i} (v);\n") for i in range(1, n + 1)]


def line(name, ms, anchor):
    print(f"  {name:14s} {ms:10.1f} ms  ratio {ms / anchor:5.2f}")


def bench_sqlite(n):
    with tempfile.TemporaryDirectory() as d:
        bare = sqlite3.connect(os.path.join(d, "bare.db"), isolation_level=None)
        t0 = time.perf_counter()
        for _, _, up in scripts(n, "t"):
            bare.executescript("BEGIN;\n" + up + "COMMIT;")
        bare_ms = (time.perf_counter() - t0) * 1000
        db = sqlite3.connect(os.path.join(d, "vigil.db"), isolation_level=None)
        db.enable_load_extension(True)
        db.load_extension(os.path.join(BUILD, "sqlite_ext", "vigil"))
        db.execute("BEGIN")
        for v, name, up in scripts(n, "t"):
            db.execute("SELECT vigil_migration_add(?, ?, ?)", (v, name, up))
        db.execute("COMMIT")
        t0 = time.perf_counter()
        db.execute("SELECT vigil_migrate()").fetchone()
        vigil_ms = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        rows = db.execute("SELECT count(*) FROM vigil_migration_status()").fetchone()[0]
        status_ms = (time.perf_counter() - t0) * 1000
    print(f"\nSQLite {sqlite3.sqlite_version}, {n} migrations (file databases):")
    line("bare", bare_ms, bare_ms)
    line("vigil_migrate", vigil_ms, bare_ms)
    print(f"  vigil_migration_status(): {status_ms:.1f} ms for {rows} rows")
    ok = vigil_ms / bare_ms <= 1.2 and status_ms < 50
    print(f"  targets vigil/bare <= 1.2 and status < 50 ms: {'met' if ok else 'NOT met'}")
    return ok


def bench_pg(n):
    # One vigil_migrate call is one transaction: 1,000 migrations creating 2,000
    # relations need more lock slots than the default 64 per transaction.
    with pg_cluster("max_locks_per_transaction = 1024") as env:
        psql("CREATE EXTENSION vigil;", env)
        bare_sql = "\n".join(f"BEGIN;\n{up}COMMIT;" for _, _, up in scripts(n, "b"))
        body = ["CREATE TEMP TABLE timings (name text, ms float8);",
                "SELECT clock_timestamp() AS t0 \\gset",
                bare_sql,
                "INSERT INTO timings SELECT 'bare', 1000 * extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);",
                "BEGIN;"]
        body += [f"SELECT vigil_migration_add('{v}', '{name}', $m${up}$m$) \\g /dev/null" for v, name, up in scripts(n, "t")]
        body += ["COMMIT;",
                 "SELECT clock_timestamp() AS t0 \\gset",
                 "SELECT vigil_migrate() \\g /dev/null",
                 "INSERT INTO timings SELECT 'vigil', 1000 * extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);",
                 "SELECT clock_timestamp() AS t0 \\gset",
                 "SELECT count(*) FROM vigil_migration_status() \\g /dev/null",
                 "INSERT INTO timings SELECT 'status', 1000 * extract(epoch FROM clock_timestamp() - :'t0'::timestamptz);",
                 "SELECT name, ms FROM timings;"]
        res = dict(line_.split("|") for line_ in psql("\n".join(body), env).splitlines())
        res = {k: float(v) for k, v in res.items()}
        version = psql("SHOW server_version;", env).strip()
    print(f"\nPostgreSQL {version}, {n} migrations (one psql session):")
    line("bare", res["bare"], res["bare"])
    line("vigil_migrate", res["vigil"], res["bare"])
    print(f"  vigil_migration_status(): {res['status']:.1f} ms for {n} rows")
    ok = res["vigil"] / res["bare"] <= 1.2 and res["status"] < 50
    print(f"  targets vigil/bare <= 1.2 and status < 50 ms: {'met' if ok else 'NOT met'}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    ok = bench_sqlite(args.count)
    if not args.sqlite_only:
        ok = bench_pg(args.count) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
