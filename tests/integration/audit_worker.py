#!/usr/bin/python3
"""audit_worker.py VIGIL_COMMAND — the background worker and the vigil
command's audit subcommands, on a server of its own.

  * A cluster started with shared_preload_libraries = 'vigil' and
    vigil.worker_interval = 200 ms runs the "vigil worker" in the database
    vigil.database; entries written there are sealed without anyone calling
    vigil_audit_seal() (polled for up to 60 s: a bound on waiting, not a
    timed assertion), and the chain verifies.
  * An idle worker writes nothing: the chain's row keeps its version.
  * The worker reads the key file vigil_audit.key (mode 0600): the chain it
    seals is keyed; a key file others may read is refused in the log, and
    the worker goes on.
  * The utility hook records CREATE/DROP ROLE (its password replaced),
    ALTER SYSTEM and SET/RESET session_replication_role.
  * {"reads": true}: a SELECT of the table is recorded (columns, statement);
    nothing is written in a read-only transaction.
  * `vigil audit-head` prints the head, `vigil audit-verify HEAD` exits 0
    with it and 3 after a tampered entry.
Prints 'N passed, N failed'.
"""
import json
import os
import subprocess
import sys
import time

from pgharness import Checks, start_cluster, stop_cluster
from pgharness import psql as harness_psql

VIGIL = sys.argv[1]
check = Checks()


def start():
    return start_cluster("shared_preload_libraries = 'vigil'", "vigil.worker_interval = 200",
                         "vigil.database = 'audited'")


def psql(env, sql, db="audited"):
    return harness_psql(env, sql, db=db)


def wait_sealed(env, limit=60.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        report = json.loads(psql(env, "SELECT vigil_audit_verify()"))
        if report["unsealed"] == 0 and report["checked"] > 0:
            return report
        time.sleep(0.2)
    return json.loads(psql(env, "SELECT vigil_audit_verify()"))


def main():
    env = start()
    data = env["VIGIL_PGDATA"]
    try:
        psql(env, "CREATE DATABASE audited", db="postgres")
        psql(env, "CREATE EXTENSION vigil")
        # The worker connects to vigil.database when it starts, and is
        # restarted every 10 s until that database exists.
        deadline = time.monotonic() + 60
        workers = "0"
        while time.monotonic() < deadline and workers != "1":
            workers = psql(env, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'vigil worker'")
            time.sleep(0.2)
        check("the worker runs", workers == "1", workers)
        psql(env, "CREATE TABLE t (id integer PRIMARY KEY, v text)")
        psql(env, "SELECT vigil_audit_enable('t')")
        psql(env, "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 3000) g")
        report = wait_sealed(env)
        check("the worker sealed every committed entry", report["unsealed"] == 0 and report["valid"], str(report))
        # The 3,000-row statement was staged (docs/audit.md, "Staged
        # entries"): the worker wrote its entries into the log first.
        logged = psql(env, "SELECT (SELECT count(*) FROM vigil_state.vigil_audit_log WHERE operation = 'INSERT' "
                           "AND seq IS NOT NULL) || ' ' || (SELECT count(*) FROM vigil_state.vigil_audit_batch)")
        check("the worker wrote the staged entries into the log and sealed them", logged == "3000 0", logged)
        # The round after the last seal moves the watermark past the sealed
        # entries (docs/audit.md, "Sealing"); from then on idle rounds write
        # nothing: the chain row keeps its version.
        caught_up = "SELECT horizon_xid IS NULL AND low_id > (SELECT max(id) FROM vigil_state.vigil_audit_log) " \
                    "FROM vigil_state.vigil_audit_chain"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and psql(env, caught_up) != "t":
            time.sleep(0.2)
        check("the worker moved the watermark past every sealed entry", psql(env, caught_up) == "t",
              psql(env, "SELECT low_id, horizon_id, horizon_xid FROM vigil_state.vigil_audit_chain"))
        before = psql(env, "SELECT xmin FROM vigil_state.vigil_audit_chain")
        time.sleep(1.0)
        check("an idle worker writes nothing", psql(env, "SELECT xmin FROM vigil_state.vigil_audit_chain") == before)

        # The utility hook records what event triggers cannot see, with the
        # statement's constants (a password) replaced.
        psql(env, "CREATE ROLE audit_probe LOGIN PASSWORD 'hunter2-secret'")
        psql(env, "ALTER SYSTEM SET work_mem = '8MB'")
        psql(env, "ALTER SYSTEM RESET work_mem")
        psql(env, "SET session_replication_role = replica; RESET session_replication_role")
        psql(env, "DROP ROLE audit_probe")
        rows = psql(env, "SELECT detail->>'command' || ': ' || statement FROM vigil_state.vigil_audit_log "
                         "WHERE operation = 'DDL' AND detail->>'command' IN ('CREATE ROLE', 'ALTER SYSTEM', 'SET', "
                         "'RESET', 'DROP ROLE') ORDER BY id").splitlines()
        check("the utility hook records roles, ALTER SYSTEM and session_replication_role",
              rows == ["CREATE ROLE: create role audit_probe login password ?",
                       "ALTER SYSTEM: alter system set work_mem = ?",
                       "ALTER SYSTEM: alter system reset work_mem",
                       "SET: set session_replication_role = replica",
                       "RESET: reset session_replication_role",
                       "DROP ROLE: drop role audit_probe"], str(rows))
        check("no password in the log",
              psql(env, "SELECT count(*) FROM vigil_state.vigil_audit_log WHERE statement LIKE '%hunter2%'") == "0")

        # Not in a read-only transaction: the command must not fail for the
        # audit's sake (nothing can be written there).
        psql(env, "BEGIN READ ONLY; SET LOCAL session_replication_role = replica; COMMIT")
        # A planted vigil_state where vigil is not installed is not vigil's:
        # a superuser's command there must not run the planter's code
        # (attack review: the hooks and the worker ran as superusers).
        psql(env, "CREATE ROLE audit_planter LOGIN", db="postgres")
        psql(env, "CREATE DATABASE planted OWNER audit_planter", db="postgres")
        planter = dict(env, PGUSER="audit_planter")
        psql(planter, "CREATE SCHEMA vigil_state; "
                      "CREATE FUNCTION public.pwn() RETURNS int LANGUAGE plpgsql AS "
                      "$$ BEGIN EXECUTE 'ALTER ROLE audit_planter SUPERUSER'; RETURN 0; END $$; "
                      "CREATE VIEW vigil_state.vigil_audit_log AS SELECT NULL::bigint AS seq WHERE public.pwn() = 1",
             db="planted")
        psql(env, "ALTER ROLE audit_planter PASSWORD 'x'; SET session_replication_role = replica", db="planted")
        # The worker moved to the planted database (it reads vigil.database
        # when it starts; the postmaster restarts it 10 s after it ends).
        psql(env, "ALTER SYSTEM SET vigil.database = 'planted'", db="postgres")
        psql(env, "SELECT pg_reload_conf()", db="postgres")
        psql(env, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'vigil worker'",
             db="postgres")
        deadline = time.monotonic() + 40
        where = ""
        while time.monotonic() < deadline and where != "planted":
            where = psql(env, "SELECT coalesce(max(datname), '') FROM pg_stat_activity "
                              "WHERE backend_type = 'vigil worker'", db="postgres")
            time.sleep(0.2)
        time.sleep(1.0)  # five rounds
        check("the worker runs in the planted database", where == "planted", where)
        check("a planted vigil_state runs nothing of its planter's",
              psql(env, "SELECT rolsuper FROM pg_roles WHERE rolname = 'audit_planter'", db="postgres") == "f")
        psql(env, "ALTER SYSTEM RESET vigil.database", db="postgres")
        psql(env, "SELECT pg_reload_conf()", db="postgres")
        psql(env, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'vigil worker'",
             db="postgres")
        psql(env, "DROP DATABASE planted WITH (FORCE)", db="postgres")
        psql(env, "DROP ROLE audit_planter", db="postgres")

        # Reads, when asked: the executor hook records SELECTs of the table
        # (the columns read, the statement), not in a read-only transaction.
        psql(env, "SELECT vigil_audit_enable('t', '{\"reads\": true}')")
        psql(env, "SELECT v FROM t WHERE id = 1")
        psql(env, "BEGIN READ ONLY; SELECT v FROM t WHERE id = 2; COMMIT")
        reads = psql(env, "SELECT detail->>'columns' || ' ' || statement FROM vigil_state.vigil_audit_log "
                          "WHERE operation = 'SELECT' ORDER BY id").splitlines()
        check("reads are recorded: columns and statement", reads == ['["id", "v"] select v from t where id = ?'],
              str(reads))
        psql(env, "SELECT vigil_audit_enable('t')")

        # vigil audit-head / audit-verify.
        cmd_env = dict(env, PGDATABASE="audited")
        head = subprocess.run([VIGIL, "audit-head"], env=cmd_env, capture_output=True, text=True)
        check("vigil audit-head prints the head", head.returncode == 0 and len(head.stdout.strip()) == 64,
              head.stdout + head.stderr)
        ok = subprocess.run([VIGIL, "audit-verify", head.stdout.strip()], env=cmd_env, capture_output=True, text=True)
        check("vigil audit-verify HEAD exits 0", ok.returncode == 0 and "verifies" in ok.stdout, ok.stdout + ok.stderr)
        js = subprocess.run([VIGIL, "--json", "audit-verify"], env=cmd_env, capture_output=True, text=True)
        check("vigil --json audit-verify", js.returncode == 0 and json.loads(js.stdout)["valid"] is True, js.stdout)
        psql(env, "UPDATE vigil_state.vigil_audit_log SET actor = 'mallory' WHERE seq = 2")
        bad = subprocess.run([VIGIL, "audit-verify", head.stdout.strip()], env=cmd_env, capture_output=True, text=True)
        check("vigil audit-verify exits 3 after tampering", bad.returncode == 3 and "DOES NOT VERIFY" in bad.stdout,
              bad.stdout + bad.stderr)
        psql(env, "UPDATE vigil_state.vigil_audit_log SET actor = NULL WHERE seq = 2")

        # The key file: keyed links from the next purge's checkpoint on.
        key_path = os.path.join(data, "vigil_audit.key")
        subprocess.run(["runuser", "-u", "postgres", "--", "sh", "-c",
                        f"printf '%s\\n' 0123456789abcdef0123456789abcdef > {key_path} && chmod 600 {key_path}"]
                       if os.getuid() == 0 else
                       ["sh", "-c", f"printf '%s\\n' 0123456789abcdef0123456789abcdef > {key_path} && chmod 600 {key_path}"],
                       check=True)
        psql(env, "SELECT vigil_audit_purge(now() + interval '1 day')")
        psql(env, "INSERT INTO t VALUES (5000, 'keyed')")
        report = wait_sealed(env)
        check("with the key file the chain is keyed and verifies",
              report["keyed"] is True and report["valid"] is True and report["unsealed"] == 0, str(report))
        # A key file others may read is refused (the worker logs it and goes on).
        subprocess.run(["chmod", "644", key_path], check=True)
        r = subprocess.run(["psql", "-X", "-At", "-d", "audited", "-c", "SELECT vigil_audit_seal()"],
                           env=env, capture_output=True, text=True)
        check("a key file others may read is refused", r.returncode != 0 and "readable by others" in r.stderr,
              r.stdout + r.stderr)
        workers = psql(env, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'vigil worker'")
        check("the worker goes on", workers == "1", workers)
    finally:
        bad = stop_cluster(env)
    check("no crash in the server log", not bad, "\n".join(bad[:5]))
    return check.summary("audit worker")


if __name__ == "__main__":
    sys.exit(main())
