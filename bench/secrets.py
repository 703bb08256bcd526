#!/usr/bin/python3
"""secrets.py — what a password hash costs through vigil, beside Debian's
argon2 command (the same libargon2) at the same parameters, in the same
run (issue 14).

    /usr/bin/python3 bench/secrets.py [--rounds N]

For each parameter set (OWASP's default, 19 MiB x 2; 46 MiB x 1; 64 MiB x 3):
  vigil   SELECT vigil_password_hash(pw, options) in SQLite (Debian's
          /usr/bin/python3 and its sqlite3 module, the module from
          $VIGIL_BUILD, default build/), one statement per hash, timed per
          statement
  argon2  Debian's argon2 command, the time it prints for its own hash (its
          process start is not counted)
Then vigil_password_verify of one hash, and vigil_api_key_hash (HMAC-SHA256)
and vigil_api_key_generate per call. Medians of N (default 15). Times are
reported, never asserted.
"""
import argparse
import re
import sqlite3
import statistics
import subprocess
import time

from benchlib import sqlite_db

PARAMS = [(19456, 2, 1), (47104, 1, 1), (65536, 3, 1)]


def timed(fn, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def argon2_cli(m, t, p, rounds):
    times = []
    for _ in range(rounds):
        out = subprocess.run(["argon2", "somesaltsomesalt", "-id", "-t", str(t), "-k", str(m), "-p", str(p)],
                             input=b"correct horse battery staple", capture_output=True, check=True).stdout.decode()
        times.append(float(re.search(r"([\d.]+) seconds", out).group(1)) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    db = sqlite_db()
    print(f"SQLite {sqlite3.sqlite_version}; median of {args.rounds} hashes each")
    print(f"  {'parameters':28s} {'vigil (ms)':>11s} {'argon2 (ms)':>12s} {'ratio':>6s}")
    for m, t, p in PARAMS:
        opts = f'{{"memory_kib": {m}, "iterations": {t}, "parallelism": {p}}}'
        v = timed(lambda: db.execute("SELECT vigil_password_hash('correct horse battery staple', ?)",
                                     (opts,)).fetchone(), args.rounds)
        a = argon2_cli(m, t, p, args.rounds)
        print(f"  m={m:6d} KiB, t={t}, p={p}        {v:11.1f} {a:12.1f} {v / a:6.2f}")
    h = db.execute("SELECT vigil_password_hash('correct horse battery staple')").fetchone()[0]
    v = timed(lambda: db.execute("SELECT vigil_password_verify('correct horse battery staple', ?)", (h,)).fetchone(),
              args.rounds)
    print(f"  vigil_password_verify at the default parameters: {v:.1f} ms")
    db.execute("SELECT vigil_api_key_secret('bench-secret-0123456789abcdef')")
    n = 20000
    t0 = time.perf_counter()
    db.execute("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
               "SELECT count(vigil_api_key_hash('bot_live_' || i)) FROM g", (n,)).fetchone()
    hash_us = (time.perf_counter() - t0) * 1e6 / n
    t0 = time.perf_counter()
    db.execute("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
               "SELECT count(vigil_api_key_generate('bot_live')) FROM g", (n,)).fetchone()
    gen_us = (time.perf_counter() - t0) * 1e6 / n
    print(f"  vigil_api_key_hash: {hash_us:.2f} us per key; vigil_api_key_generate: {gen_us:.2f} us per key "
          f"({n:,} in one statement)")


if __name__ == "__main__":
    main()
