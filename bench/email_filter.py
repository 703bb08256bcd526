#!/usr/bin/python3
"""email_filter.py — vigil_is_email as a filter over 1,000,000 rows, against
its anchors, in the same run, on SQLite and PostgreSQL.

    bench/email_filter.py [--rows N] [--rounds R] [--sqlite-only]

Data: the realistic mix from bench/emails.h (core_bench --dump-emails),
loaded into one table per engine. Each round runs every query once, in
turn, so noise hits all of them alike; the median of the rounds is reported.

SQLite (in-process, Python's sqlite3 with the module loaded):
    anchor  SELECT count(*) FROM emails WHERE length(email) > 0
    vigil   SELECT count(*) FROM emails WHERE vigil_is_email(email)
PostgreSQL 15 (a temporary cluster; the extension must be installed; JIT
and parallel query off so that the functions, not the planner, are measured):
    anchor  ... WHERE length(email) > 0
    vigil   ... WHERE vigil_is_email(email)
    regex   ... WHERE email ~ <the WHATWG HTML5 email pattern>
Targets (issue 2): SQLite vigil/anchor <= 1.5; PostgreSQL vigil/anchor <= 1.3
and vigil faster than the regex.
"""
import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time

from benchlib import BUILD, pg_cluster, psql, sqlite_db
HTML5 = (r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
         r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")


def emails(n):
    out = subprocess.run([os.path.join(BUILD, "bench", "core_bench"), "--dump-emails", str(n)],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def report(engine, medians, counts, targets):
    anchor = medians["anchor"]
    print(f"\n{engine}:")
    for name, ms in medians.items():
        print(f"  {name:7s} {ms:9.1f} ms  ratio {ms / anchor:5.2f}  rows matched {counts[name]}")
    ok = True
    for text, cond in targets:
        print(f"  target {text}: {'met' if cond else 'NOT met'}")
        ok = ok and cond
    return ok


def bench_sqlite(data, rounds):
    db = sqlite_db()
    db.execute("CREATE TABLE emails(id INTEGER PRIMARY KEY, email TEXT)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO emails(email) VALUES (?)", ((e,) for e in data))
    db.execute("COMMIT")
    queries = {
        "anchor": "SELECT count(*) FROM emails WHERE length(email) > 0",
        "vigil": "SELECT count(*) FROM emails WHERE vigil_is_email(email)",
    }
    times = {k: [] for k in queries}
    counts = {}
    for _ in range(rounds):
        for name, sql in queries.items():
            t0 = time.perf_counter()
            counts[name] = db.execute(sql).fetchone()[0]
            times[name].append((time.perf_counter() - t0) * 1000)
    med = {k: statistics.median(v) for k, v in times.items()}
    return report("SQLite " + sqlite3.sqlite_version + f", {len(data):,} rows", med, counts,
                  [("vigil/anchor <= 1.5", med["vigil"] / med["anchor"] <= 1.5)])


def bench_pg(data, rounds):
    with pg_cluster("shared_buffers = '256MB'") as env:
        psql("CREATE EXTENSION vigil; CREATE TABLE emails(id serial PRIMARY KEY, email text);", env)
        copy = subprocess.run(["psql", "-X", "-q", "-c", "COPY emails(email) FROM STDIN"], input="\n".join(
            e.replace("\\", "\\\\") for e in data) + "\n", env=env, text=True, capture_output=True)
        if copy.returncode:
            sys.exit(copy.stderr)
        psql("VACUUM ANALYZE emails;", env)
        queries = {
            "anchor": "SELECT count(*) FROM emails WHERE length(email) > 0",
            "vigil": "SELECT count(*) FROM emails WHERE vigil_is_email(email)",
            "regex": "SELECT count(*) FROM emails WHERE email ~ " + "'" + HTML5.replace("'", "''") + "'",
        }
        body = ["SET jit = off; SET max_parallel_workers_per_gather = 0;",
                "CREATE TEMP TABLE timings(name text, ms float8, n bigint);",
                "DO $$ DECLARE t0 timestamptz; n bigint; BEGIN",
                f"FOR r IN 1..{rounds} LOOP"]
        for name, sql in queries.items():
            body.append(f"t0 := clock_timestamp(); EXECUTE {quote(sql)} INTO n; "
                        f"INSERT INTO timings VALUES ('{name}', 1000 * extract(epoch FROM clock_timestamp() - t0), n);")
        body.append("END LOOP; END $$;")
        body.append("SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), max(n) FROM timings GROUP BY name;")
        med, counts = {}, {}
        for line in psql("\n".join(body), env).splitlines():
            name, ms, n = line.split("|")
            med[name], counts[name] = float(ms), int(n)
        med = {k: med[k] for k in queries}
        version = psql("SHOW server_version;", env).strip()
        return report(f"PostgreSQL {version}, {len(data):,} rows", med, counts,
                      [("vigil/anchor <= 1.3", med["vigil"] / med["anchor"] <= 1.3),
                       ("vigil faster than the HTML5 regex", med["vigil"] < med["regex"])])


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    data = emails(args.rows)
    ok = bench_sqlite(data, args.rounds)
    if not args.sqlite_only:
        ok = bench_pg(data, args.rounds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
