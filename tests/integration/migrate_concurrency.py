#!/usr/bin/python3
"""migrate_concurrency.py SQLITE_MODULE [--pg] — vigil_migrate under
concurrency and crashes, with real processes.

  * SQLite: 4 processes call vigil_migrate() on one database file at once;
    every migration is applied exactly once and the history is consistent.
  * PostgreSQL (with --pg; PGHOST/PGPORT/PGUSER point at a cluster the
    caller started, vigil installed): 4 sessions at once, same checks; then
    kill -9 of the backend in the middle of a long migration: after the
    server's crash recovery the status is consistent (nothing applied, no
    lock left) and the migration applies cleanly.
Prints 'N passed, N failed'.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

MODULE = sys.argv[1]
PG = "--pg" in sys.argv
N_MIGRATIONS = 20
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def migrations():
    for i in range(1, N_MIGRATIONS + 1):
        # Each one creates a table and counts itself, so a double apply shows.
        yield str(i), f"step {i}", (f"CREATE TABLE step_{i} (x integer);\n"
                                    f"INSERT INTO applied_count (n) VALUES ({i});\n")


SQLITE_WORKER = r"""
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.enable_load_extension(True)
db.load_extension(sys.argv[2])
print(db.execute("SELECT vigil_migrate()").fetchone()[0])
"""


def sqlite_concurrency():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "app.db")
        db = sqlite3.connect(path, isolation_level=None)
        db.enable_load_extension(True)
        db.load_extension(MODULE)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE applied_count (n integer)")
        for v, name, up in migrations():
            db.execute("SELECT vigil_migration_add(?, ?, ?)", (v, name, up))
        db.close()
        procs = [subprocess.Popen(["/usr/bin/python3", "-c", SQLITE_WORKER, path, MODULE], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        results = [p.communicate(timeout=120) for p in procs]
        check("sqlite: every process succeeded", all(p.returncode == 0 for p in procs),
              str([r[1][-300:] for r in results]))
        applied = sum(len(json.loads(out)["applied"]) for out, _ in results if out.strip())
        check("sqlite: 20 applies in all", applied == N_MIGRATIONS, f"applied {applied}")
        db = sqlite3.connect(path)
        check("sqlite: each migration ran once",
              db.execute("SELECT count(*), count(DISTINCT n) FROM applied_count").fetchone() == (N_MIGRATIONS, N_MIGRATIONS))
        check("sqlite: history has one apply per version",
              db.execute("SELECT count(*) FROM vigil_migration_history WHERE action = 'apply'").fetchone()[0] == N_MIGRATIONS)
        db.close()


def psql(sql, db="postgres", check_rc=True):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                         capture_output=True, text=True)
    if check_rc and out.returncode:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def pg_concurrency():
    psql("DROP DATABASE IF EXISTS vigil_concurrency")
    psql("CREATE DATABASE vigil_concurrency")
    db = "vigil_concurrency"
    psql("CREATE EXTENSION vigil; CREATE TABLE applied_count (n integer);", db)
    for v, name, up in migrations():
        psql("SELECT vigil_migration_add('%s', '%s', $m$%s$m$)" % (v, name, up), db)
    procs = [subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c",
                               "SELECT vigil_migrate()"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [p.communicate(timeout=120) for p in procs]
    check("pg: every session succeeded", all(p.returncode == 0 for p in procs), str([r[1][-300:] for r in results]))
    applied = sum(len(json.loads(out)["applied"]) for out, _ in results if out.strip())
    check("pg: 20 applies in all", applied == N_MIGRATIONS, f"applied {applied}")
    check("pg: each migration ran once",
          psql("SELECT count(*) || ',' || count(DISTINCT n) FROM applied_count", db) == f"{N_MIGRATIONS},{N_MIGRATIONS}")
    check("pg: history has one apply per version",
          psql("SELECT count(*) FROM vigil_migration_history WHERE action = 'apply'", db) == str(N_MIGRATIONS))


def pg_crash():
    db = "vigil_concurrency"
    psql("SELECT vigil_migration_add('21', 'slow', $m$CREATE TABLE slow (x integer);\nSELECT pg_sleep(30);\n$m$)", db)
    proc = subprocess.Popen(["psql", "-X", "-q", "-At", "-d", db, "-c", "SELECT vigil_migrate()"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = ""
    for _ in range(100):
        time.sleep(0.1)
        pid = psql("SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT vigil_migrate()%' AND pid <> pg_backend_pid()")
        if pid:
            break
    check("pg crash: the migrating backend was found", pid != "")
    if not pid:
        proc.kill()
        return
    time.sleep(0.5)
    os.kill(int(pid), signal.SIGKILL)
    proc.communicate(timeout=60)
    # The postmaster restarts every backend and recovers; wait for it.
    for _ in range(300):
        time.sleep(0.2)
        if subprocess.run(["psql", "-X", "-At", "-d", db, "-c", "SELECT 1"], capture_output=True).returncode == 0:
            break
    state = psql("SELECT state FROM vigil_migration_status() WHERE version = '21'", db)
    check("pg crash: the killed migration is pending, not applied or dirty", state == "pending", state)
    check("pg crash: its table was rolled back", psql("SELECT to_regclass('slow') IS NULL", db) == "t")
    check("pg crash: no advisory lock left", psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'", db) == "0")
    psql("SELECT vigil_migration_add('21', 'slow', $m$CREATE TABLE slow (x integer);\n$m$)", db)
    result = json.loads(psql("SELECT vigil_migrate()", db))
    check("pg crash: it applies cleanly afterwards", result["status"] == "ok" and len(result["applied"]) == 1, str(result))
    psql("DROP DATABASE vigil_concurrency")


sqlite_concurrency()
if PG:
    pg_concurrency()
    pg_crash()
print(f"migration concurrency: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
