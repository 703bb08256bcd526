#!/usr/bin/python3
"""worker_db.py — the worker's database dropped and renamed (issue 18).

A cluster with vigil preloaded, the worker pointed at database "mon"
(vigil.database) and checking every second:
  * before "mon" exists the worker waits (the postmaster starts it again
    every 10 s); once it exists with vigil, history rows appear;
  * DROP DATABASE mon WITH (FORCE) ends the worker's connection: the server
    goes on, and once "mon" is back with vigil, so is the history;
  * renamed away (the worker terminated first, as a rename needs), the
    worker waits; renamed back, it works again;
  * no crash and no worker ERROR in the log (its FATAL "does not exist"
    while it waits is expected).
Bounds on waiting are generous polls, never timed assertions.
Prints 'N passed, N failed'."""
import sys

from pgharness import Checks, psql, server_log, start_cluster, stop_cluster, wait, worker_errors

check = Checks()


def main():
    env = start_cluster("shared_preload_libraries = 'vigil'", "vigil.database = 'mon'", "vigil.worker_interval = 200",
                        "vigil.health_interval = 1", "log_line_prefix = '%m [%p] %b '")
    log = ""
    try:
        def rows():
            r = psql(env, "SELECT count(*) FROM vigil_health_history WHERE source = 'worker'", db="mon",
                     check_error=False)
            return int(r) if r.isdigit() else -1

        def worker_pid():
            return psql(env, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'vigil worker'")

        psql(env, "CREATE DATABASE mon")
        psql(env, "CREATE EXTENSION vigil", db="mon")
        check("the worker starts once its database exists", wait(lambda: rows() >= 2, 40), str(rows()))

        psql(env, "DROP DATABASE mon WITH (FORCE)")
        check("the server goes on without the worker's database", psql(env, "SELECT 1") == "1")
        psql(env, "CREATE DATABASE mon")
        psql(env, "CREATE EXTENSION vigil", db="mon")
        check("the database back, the worker is back", wait(lambda: rows() >= 2, 40), str(rows()))

        pid = worker_pid()
        renamed = False
        for _ in range(20):  # the rename needs the worker gone: it may have come back in between
            if pid:
                psql(env, f"SELECT pg_terminate_backend({int(pid)})")
            if not psql(env, "ALTER DATABASE mon RENAME TO mon_away", check_error=False).startswith("ERROR"):
                renamed = True
                break
            wait(lambda: False, 0.2)
            pid = worker_pid()
        check("renamed away from the worker", renamed)
        check("the worker waits (not connected)", wait(lambda: worker_pid() == "", 15))
        if renamed:
            psql(env, "ALTER DATABASE mon_away RENAME TO mon")
        n = rows()
        check("renamed back, the worker works again", wait(lambda: rows() > max(n, 0), 40), str(n))
    finally:
        log = open(server_log(env), encoding="utf-8", errors="replace").read()
        crashes = stop_cluster(env)
    check("no crash in the server log", not crashes, "\n".join(crashes[:5]))
    errors = worker_errors(log)
    check("no worker ERROR in the log", not errors, "\n".join(errors[:5]))
    return check.summary("pg worker database")


if __name__ == "__main__":
    sys.exit(main())
