#!/usr/bin/python3
"""backup.py — what encryption adds to an SQLite backup (issue 14), in one
run beside a plain online backup.

    /usr/bin/python3 bench/backup.py [--rounds N] [--mb M]

A file database of M MB (default 100; WAL; one table of 1,000-byte random
blobs) in a temporary directory, then, each round, in rotating order:
  anchor     Python's sqlite3 Connection.backup (SQLite's online backup API)
             into a new file, then fsync of that file: a plain online backup
  plain      vigil_backup(path): the same API, without a passphrase
  encrypted  vigil_backup(path, passphrase): the age format, scrypt at work
             factor 18 (age's default) plus ChaCha20-Poly1305 over every byte
  scrypt     vigil_backup of a one-page database with a passphrase: the
             fixed cost per backup, nearly all of it scrypt
Wall time, median of N rounds (default 5). The per-byte ratio is
(encrypted - scrypt) / anchor. Target: at most 1.3. scrypt's fixed cost is
reported apart, not hidden in the ratio. Times are reported, never
asserted.
"""
import argparse
import os
import shutil
import sqlite3
import statistics
import tempfile
import time

from benchlib import BUILD


def vigil(path):
    db = sqlite3.connect(path, isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(os.path.join(BUILD, "sqlite_ext", "vigil"))
    return db


def main():
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--mb", type=int, default=100)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-bench-backup.")
    try:
        src = os.path.join(work, "src.db")
        db = sqlite3.connect(src, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE t (id integer PRIMARY KEY, payload blob)")
        db.execute("BEGIN")
        db.execute("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
                   "INSERT INTO t SELECT i, randomblob(1000) FROM g", (args.mb * 1000,))
        db.execute("COMMIT")
        db.close()
        tiny = os.path.join(work, "tiny.db")
        sqlite3.connect(tiny).execute("CREATE TABLE t (x)").connection.close()
        size = os.path.getsize(src)
        times = {k: [] for k in ("anchor", "plain", "encrypted", "scrypt")}
        n = 0

        def out():
            nonlocal n
            n += 1
            return os.path.join(work, f"out-{n}")

        def anchor():
            s, d = sqlite3.connect(src), sqlite3.connect(out())
            s.backup(d)
            d.close()
            fd = os.open(os.path.join(work, f"out-{n}"), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)
            s.close()

        v, vt = vigil(src), vigil(tiny)
        runs = {"anchor": anchor,
                "plain": lambda: v.execute("SELECT vigil_backup(?)", (out(),)).fetchone(),
                "encrypted": lambda: v.execute("SELECT vigil_backup(?, 'bench passphrase')", (out(),)).fetchone(),
                "scrypt": lambda: vt.execute("SELECT vigil_backup(?, 'bench passphrase')", (out(),)).fetchone()}
        names = list(runs)
        for r in range(args.rounds):
            for name in names[r % 4:] + names[:r % 4]:
                t0 = time.perf_counter()
                runs[name]()
                times[name].append((time.perf_counter() - t0) * 1000)
                for f in os.listdir(work):
                    if f.startswith("out-"):
                        os.remove(os.path.join(work, f))
        med = {k: statistics.median(t) for k, t in times.items()}
        print(f"SQLite {sqlite3.sqlite_version}; a {size / 1e6:.0f} MB database; median of {args.rounds} (wall):")
        for k in names:
            print(f"  {k:10s} {med[k]:9.1f} ms   ({', '.join(f'{t:.0f}' for t in times[k])})")
        per_byte = (med["encrypted"] - med["scrypt"]) / med["anchor"]
        print(f"  per-byte cost of encryption: (encrypted - scrypt) / anchor = {per_byte:.2f} "
              f"(target <= 1.3: {'met' if per_byte <= 1.3 else 'NOT met'}); "
              f"vigil plain / anchor = {med['plain'] / med['anchor']:.2f}; scrypt's fixed cost {med['scrypt']:.0f} ms")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
