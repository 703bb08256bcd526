#!/usr/bin/python3
"""health.py VIGIL — health checks, alerts and the Prometheus exporter on a
PostgreSQL server of its own (issue 17), preloaded with vigil, with
max_connections 20 and WAL archiving that fails (archive_command false).

Each check is driven into warning and critical by a real condition where
that is cheap, by its thresholds otherwise:
  * held locks (a session waiting on another's ACCESS EXCLUSIVE lock), an
    idle-in-transaction session, a long statement, many connections, a
    slow query, a smallint sequence near its maximum, an unused, a
    duplicate and an invalid index (a failed CREATE UNIQUE INDEX
    CONCURRENTLY), dead rows in a table autovacuum skips, an inactive
    replication slot holding WAL, WAL archiving failing, a table over its
    size, disabled enforcement; disk, wraparound, cache, response time,
    database size and vacuum age by thresholds.
  * Roles: an ordinary role gets the server-wide checks skipped with the
    reason and records nothing; a pg_monitor member records and raises
    alerts; the NOTIFY payload carries only id and kind; four sessions
    seeing the same change raise one alert; a read-only transaction
    records nothing; thresholds are superuser-only settings.
  * vigil_metrics() and the exporter's /metrics pass `promtool check
    metrics`; the exporter says vigil_up 0 while the server is stopped and
    1 again once it is back; `vigil metrics` exits 1 while it is down. The
    Alertmanager rules pass `promtool check rules` and their unit tests.
Bounds on waiting are generous polls, never timed assertions.
Prints 'N passed, N failed'."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from pgharness import (ROOT, Checks, Session, pg_ctl, psql, script, server_log, start_cluster, stop_cluster, wait,
                       worker_errors)

VIGIL = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else shutil.which("vigil")
check = Checks()


def row(env, name, settings="", user="postgres", deep=False):
    """One check's (status, value, message, details) as `user`, after `settings` (SET ...;)."""
    opts = json.dumps({"checks": [name], "deep": deep})
    out = psql(env, f"{settings} SELECT json_build_object('status', status, 'value', value, 'message', message,"
                    f" 'details', details) FROM vigil_health_checks('{opts}')", user=user)
    return json.loads(out.splitlines()[-1])


def status(env, name, settings="", user="postgres"):
    return row(env, name, settings, user)["status"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=20) as r:
            return r.status, r.read().decode()
    except OSError as e:
        return 0, str(e)


def promtool(args, text=None):
    tool = shutil.which("promtool")
    if tool is None:
        return False, "promtool (Debian package prometheus) is not installed"
    p = subprocess.run([tool, *args], input=text, capture_output=True, text=True)
    return p.returncode == 0, p.stdout + p.stderr


def main():
    env = start_cluster("shared_preload_libraries = 'vigil'", "max_connections = 20", "vigil.worker_interval = 200",
                        "vigil.health_interval = 1", "log_line_prefix = '%m [%p] %b '",
                        "superuser_reserved_connections = 3", "vigil.slow_query_ms = 100", "autovacuum = off",
                        "archive_mode = on", "archive_command = 'false'", "listen_addresses = '127.0.0.1'")
    exporter = None
    sessions = []
    try:
        psql(env, "CREATE EXTENSION vigil")
        psql(env, "CREATE ROLE monitor LOGIN IN ROLE pg_monitor, vigil_reader; CREATE ROLE app LOGIN;"
                  " CREATE ROLE watcher LOGIN IN ROLE pg_monitor")
        psql(env, "CREATE TABLE t (id integer PRIMARY KEY, email text); INSERT INTO t SELECT g, 'a@example.com'"
                  " FROM generate_series(1, 100) g; GRANT ALL ON t TO app; CREATE INDEX t_email ON t (email);"
                  " ANALYZE t")

        # --- a fresh server --------------------------------------------------------
        h = json.loads(psql(env, "SELECT vigil_health()", user="monitor"))
        names = [c["check"] for c in h["checks"]]
        for n in ["response_time", "connections", "idle_in_transaction", "long_running", "lock_waits",
                  "replication_lag", "replication_slots", "wraparound", "disk_space", "database_size", "table_sizes",
                  "cache_hit", "dead_tuples", "vacuum_age", "invalid_indexes", "duplicate_indexes", "unused_indexes",
                  "sequences", "wal_archiving", "ssl", "slow_queries", "quality_score", "enforcement", "migrations",
                  "schema_drift", "audit_backlog"]:
            check(f"default check {n}", n in names)
        check("SQLite's checks are not PostgreSQL's defaults", "quick_check" not in names and "freelist" not in names)
        check("the monitor role records", isinstance(h["alerts"], int), str(h.get("alerts")))
        bad = [c for c in h["checks"] if c["status"] == "skipped" and c["check"] != "replication_lag"]
        check("a pg_monitor member runs every check", not bad, json.dumps(bad)[:500])
        lag = {c["check"]: c for c in h["checks"]}["replication_lag"]
        check("no standby: replication lag skipped, with why", lag["status"] == "skipped" and "standby" in lag["message"])

        # --- roles ---------------------------------------------------------------------
        h = json.loads(psql(env, "SELECT vigil_health()", user="app"))
        by = {c["check"]: c for c in h["checks"]}
        for n in ["connections", "lock_waits", "disk_space", "wal_archiving", "wraparound"]:
            check(f"{n} needs pg_monitor", by[n]["status"] == "skipped" and "pg_monitor" in by[n]["message"],
                  by[n]["message"])
        check("an ordinary role records nothing", h["alerts"] is None)
        check("vigil's own state needs a reader role", by["audit_backlog"]["status"] == "skipped")
        w = {c["check"]: c for c in json.loads(psql(env, "SELECT vigil_health()", user="watcher"))["checks"]}
        check("pg_monitor alone runs the server-wide checks", w["connections"]["status"] == "ok", str(w["connections"]))
        check("migration validation needs vigil_reader too (it runs as the caller)",
              w["migrations"]["status"] == "skipped" and "permission denied" in w["migrations"]["message"],
              str(w["migrations"]))
        e = psql(env, "SET vigil.lock_wait_warning_ms = 1", user="app", check_error=False)
        check("thresholds are superuser settings", "permission denied" in e, e)
        e = psql(env, "SELECT vigil_config('lock_wait_warning_ms', '1')", user="app", check_error=False)
        check("vigil_config too", "permission denied" in e, e)
        check("a superuser sets them through vigil_config",
              psql(env, "SELECT vigil_config('lock_wait_warning_ms', '7')") == "7")
        e = psql(env, "SET vigil.connections_warning_percent = 101", check_error=False)
        check("out of range refused", "ERROR" in e and "101" in e, e)
        e = psql(env, "SELECT vigil_health('{\"bogus\": 1}')", check_error=False)
        check("unknown option: 22023", "unknown health option" in e, e)
        e = psql(env, "SELECT * FROM vigil_health_checks('{\"checks\": [\"nope\"]}')", check_error=False)
        check("unknown check: 22023", "unknown health check" in e, e)
        e = psql(env, "SELECT vigil_busy_backoff(100)", check_error=False)
        check("vigil_busy_backoff is SQLite's", "SQLite" in e and "lock_timeout" in e, e)
        e = psql(env, "SELECT vigil_health('{\"checks\": [\"quick_check\"]}')")
        check("an SQLite check named on PostgreSQL is skipped", '"status": "skipped"' in e, e[:300])

        # --- held locks, idle in transaction, long statements ---------------------------------
        holder = Session(env)
        sessions.append(holder)
        holder.send("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT 1;")
        check("the holder is idle in its transaction", wait(lambda: psql(
            env, "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'") == "1", 20))
        waiter = Session(env, user="app")
        sessions.append(waiter)
        waiter.send("SELECT count(*) FROM t;")
        check("a session waits for the lock", wait(lambda: psql(
            env, "SELECT count(*) FROM pg_locks WHERE NOT granted AND waitstart IS NOT NULL") == "1", 20))
        time.sleep(0.3)
        lw = row(env, "lock_waits", "SET vigil.lock_wait_warning_ms = 100;")
        check("lock_waits warns", lw["status"] == "warning" and lw["value"] >= 100 and lw["details"]["waiting"],
              str(lw))
        check("lock_waits names the blocker", "blocked by" in lw["message"], lw["message"])
        check("lock_waits critical", status(env, "lock_waits", "SET vigil.lock_wait_critical_ms = 100;") == "critical")
        # The holder's ACCESS EXCLUSIVE lock on t (which has an unused index)
        # must not hold up any check: sizes come from the catalog, no check
        # opens a user table (review of issue 17: it once queued, and the
        # exporter said vigil_up 0).
        out = psql(env, "SET statement_timeout = '5s'; SELECT count(*) FROM vigil_health_checks()", user="monitor",
                   check_error=False)
        check("a lock on a table does not hold up the checks", not out.startswith("ERROR"), out[:300])
        pool = json.loads(psql(env, "SELECT vigil_pool_status()", user="monitor"))
        check("the pool counts the waiter", pool["waiting"] == 1 and pool["by_state"].get("idle_in_transaction") == 1,
              str(pool))
        time.sleep(1.1)
        ii = row(env, "idle_in_transaction", "SET vigil.idle_in_transaction_warning_s = 1;")
        check("idle in transaction warns", ii["status"] == "warning" and ii["value"] >= 1, str(ii))
        check("idle in transaction critical",
              status(env, "idle_in_transaction", "SET vigil.idle_in_transaction_critical_s = 1;") == "critical")
        check("the waiter's statement runs long", status(env, "long_running", "SET vigil.long_running_warning_s = 1;")
              == "warning")
        check("long running critical", status(env, "long_running", "SET vigil.long_running_critical_s = 1;")
              == "critical")
        check("all ok at the defaults", [status(env, n) for n in ("lock_waits", "idle_in_transaction", "long_running")]
              == ["ok", "ok", "ok"])
        holder.close()
        waiter.close()
        sessions.clear()
        check("the waiter got its lock", wait(lambda: psql(
            env, "SELECT count(*) FROM pg_locks WHERE NOT granted") == "0", 20))

        # --- a deadlock: counted for Prometheus (VigilDeadlocks alerts on its increase) ----------
        psql(env, "CREATE TABLE dl (id integer PRIMARY KEY, v integer); INSERT INTO dl VALUES (1, 0), (2, 0)")
        a, b = Session(env), Session(env)
        sessions.extend([a, b])
        a.send("BEGIN; UPDATE dl SET v = 1 WHERE id = 1;")
        b.send("BEGIN; UPDATE dl SET v = 1 WHERE id = 2;")
        wait(lambda: psql(env, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                               " WHERE c.relname = 'dl' AND l.mode = 'RowExclusiveLock'") == "2", 10)
        a.send("UPDATE dl SET v = 2 WHERE id = 2;")
        b.send("UPDATE dl SET v = 2 WHERE id = 1;")
        # A backend reports its statistics once out of its (aborted) transaction.
        a.send("ROLLBACK;")
        b.send("ROLLBACK;")
        check("the deadlock is counted", wait(lambda: "vigil_deadlocks_total 1\n" in psql(
            env, "SELECT vigil_metrics()", user="monitor") + "\n", 20))
        check("and in the pool status", json.loads(psql(env, "SELECT vigil_pool_status()"))["deadlocks"] == 1)
        a.close()
        b.close()
        sessions.clear()

        # --- many connections (17 for ordinary roles) ------------------------------------------
        crowd = []
        def used():
            return float(row(env, "connections")["value"])
        while used() <= 70 and len(crowd) < 17:
            s = Session(env, user="app")
            s.send("SELECT 1;")
            crowd.append(s)
            wait(lambda: used() > 0, 5)
            time.sleep(0.05)
        check("connections over 70 % warn", status(env, "connections") == "warning", str(used()))
        while used() <= 90 and len(crowd) < 17:
            s = Session(env, user="app")
            s.send("SELECT 1;")
            crowd.append(s)
            time.sleep(0.1)
        c = row(env, "connections")
        check("connections over 90 % are critical", c["status"] == "critical", str(c))
        check("the remedy names a pooler", "PgBouncer" in c["message"], c["message"])
        for s in crowd:
            s.close()
        check("connections drop back", wait(lambda: status(env, "connections") == "ok", 20))

        # --- slow queries, sequences, indexes, dead rows -------------------------------------
        psql(env, "SELECT pg_sleep(0.2)", user="app")
        sq = row(env, "slow_queries")
        check("a slow query warns", sq["status"] == "warning" and sq["value"] >= 1, str(sq))
        check("slow queries critical", status(env, "slow_queries", "SET vigil.slow_queries_critical = 0;") == "critical")
        psql(env, "CREATE SEQUENCE s AS smallint; SELECT setval('s', 28000); ALTER SEQUENCE s OWNER TO app")
        check("a sequence at 85 % warns", status(env, "sequences") == "warning")
        psql(env, "SELECT setval('s', 32000)")
        sv = row(env, "sequences")
        check("a sequence at 98 % is critical", sv["status"] == "critical" and "public.s" in sv["message"], str(sv))
        sv = row(env, "sequences", user="watcher")
        check("pg_monitor sees another role's sequence run out", sv["status"] == "critical", str(sv))
        psql(env, "DROP SEQUENCE s")
        psql(env, "CREATE TABLE ix (a integer, b integer); INSERT INTO ix SELECT g % 10, g FROM generate_series(1, 100) g;"
                  " CREATE INDEX ix_a ON ix (a); CREATE INDEX ix_a_again ON ix (a)")
        check("a duplicate index warns", status(env, "duplicate_indexes") == "warning")
        di = row(env, "duplicate_indexes", user="app")
        check("an ordinary role sees only its tables' indexes", di["status"] == "ok" and "ix_a" not in json.dumps(di),
              str(di))
        check("an unused index warns", status(env, "unused_indexes") == "warning")
        psql(env, "CREATE UNIQUE INDEX CONCURRENTLY ix_b ON ix (a)", check_error=False)
        iv = row(env, "invalid_indexes")
        check("a failed CREATE INDEX CONCURRENTLY is critical", iv["status"] == "critical" and "ix_b" in json.dumps(iv),
              str(iv))
        psql(env, "DROP TABLE ix")
        check("indexes ok again", [status(env, n) for n in ("duplicate_indexes", "invalid_indexes")] == ["ok", "ok"])
        psql(env, "CREATE TABLE dt (id integer) WITH (autovacuum_enabled = off);"
                  " INSERT INTO dt SELECT generate_series(1, 10000)")
        psql(env, "DELETE FROM dt WHERE id <= 3000")
        psql(env, "SELECT pg_stat_force_next_flush()")
        check("30 % dead rows warn", wait(lambda: status(env, "dead_tuples") == "warning", 10))
        psql(env, "DELETE FROM dt WHERE id <= 6000")
        check("60 % dead rows are critical", wait(lambda: status(env, "dead_tuples") == "critical", 10))
        check("a table due for vacuum", status(env, "vacuum_age", "SET vigil.vacuum_age_warning_hours = 0;") == "warning")
        psql(env, "VACUUM dt")
        check("vacuumed: no dead rows", wait(lambda: status(env, "dead_tuples") == "ok", 10))

        # --- slots, archiving, sizes, thresholds ------------------------------------------------
        psql(env, "SELECT pg_create_physical_replication_slot('held', true)")
        psql(env, "CREATE TABLE big AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g; ANALYZE big")
        rs = row(env, "replication_slots", "SET vigil.inactive_slot_warning_mb = 1;")
        check("an inactive slot holding WAL warns", rs["status"] == "warning" and rs["value"] > 1, str(rs))
        check("and critical", status(env, "replication_slots", "SET vigil.inactive_slot_critical_mb = 1;") == "critical")
        psql(env, "SELECT pg_drop_replication_slot('held')")
        psql(env, "SELECT pg_switch_wal()")
        check("WAL archiving failing is critical", wait(lambda: status(env, "wal_archiving") == "critical", 30))
        wa = row(env, "wal_archiving")
        check("the message says what to fix", "archive_command" in wa["message"] and wa["details"]["failed_count"] >= 1,
              str(wa))
        ts = row(env, "table_sizes", "SET vigil.table_size_warning_mb = 1;")
        check("a table over its size warns", ts["status"] == "warning" and "public.big" in ts["message"], str(ts))
        check("table size critical", status(env, "table_sizes", "SET vigil.table_size_critical_mb = 1;") == "critical")
        check("database size critical", status(env, "database_size", "SET vigil.database_size_critical_mb = 1;")
              == "critical")
        check("disk under its warning", status(env, "disk_space", "SET vigil.disk_free_warning_percent = 100;")
              == "warning")
        check("disk under its critical", status(env, "disk_space", "SET vigil.disk_free_critical_percent = 100;")
              == "critical")
        check("wraparound over its warning", status(env, "wraparound", "SET vigil.wraparound_warning_percent = 0;")
              == "warning")
        check("cache under its warning", status(env, "cache_hit", "SET vigil.cache_hit_warning_percent = 100;")
              == "warning")
        check("response time over its critical",
              status(env, "response_time", "SET vigil.response_time_critical_ms = 0;") == "critical")
        check("ssl: loopback clients are not counted", status(env, "ssl") == "ok")

        # --- vigil's own state ----------------------------------------------------------------
        psql(env, "SELECT vigil_rule_add('t', 'email', 'email'); SELECT vigil_enforce('t')")
        check("enforced: ok", status(env, "enforcement") == "ok")
        psql(env, "ALTER TABLE t DISABLE TRIGGER vigil_enforce")
        en = row(env, "enforcement")
        check("disabled enforcement is critical", en["status"] == "critical" and en["details"]["tables"] == ["public.t"],
              str(en))
        psql(env, "ALTER TABLE t ENABLE TRIGGER vigil_enforce")
        check("enabled again", status(env, "enforcement") == "ok")
        check("migrations and schema drift run", [status(env, n) for n in ("migrations", "schema_drift")] == ["ok", "ok"])
        psql(env, "SELECT vigil_migration_add('1', 'init', 'CREATE TABLE public.users (id integer PRIMARY KEY)');"
                  " SELECT vigil_migrate()")
        sd = row(env, "schema_drift", user="monitor")
        check("no drift right after a migration (names printed as the caller's path shows them)",
              sd["status"] == "ok", str(sd))
        psql(env, "CREATE TABLE outside (x integer)")
        check("a table made outside migrations is drift", status(env, "schema_drift", user="monitor") == "warning")
        psql(env, "DROP TABLE outside")
        check("the audit chain verifies (deep)", row(env, "audit_chain", deep=True)["status"] == "ok")

        # --- alerts: once per change, NOTIFY with id and kind only ----------------------------
        psql(env, "CREATE TABLE al (a integer); CREATE INDEX al_1 ON al (a)")
        before = int(psql(env, "SELECT count(*) FROM vigil_alerts WHERE \"check\" = 'duplicate_indexes'"))
        psql(env, "CREATE INDEX al_2 ON al (a)")
        procs = [subprocess.Popen(["psql", "-X", "-At", "-U", "monitor", "-c",
                                   "SELECT vigil_health('{\"checks\": [\"duplicate_indexes\"]}')"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outs = [p.communicate(60) for p in procs]
        check("four concurrent callers all answer", all(p.returncode == 0 for p in procs), str(outs)[:300])
        after = int(psql(env, "SELECT count(*) FROM vigil_alerts WHERE \"check\" = 'duplicate_indexes'"))
        check("one change, one alert", after == before + 1, f"{before} -> {after}")
        # Listening before the change: the worker (checking every second)
        # may record the recovery before the monitor's call does, and
        # either one's NOTIFY must arrive (it may notify other changes too).
        out = script(env, "LISTEN vigil_alerts;\nDROP INDEX al_2;\nSET ROLE monitor;\n"
                          "SELECT vigil_health('{\"checks\": [\"duplicate_indexes\"]}') IS NOT NULL;\n"
                          "RESET ROLE;\nSELECT 1;\n")
        payloads = [line.split('payload "', 1)[1].rsplit('"', 1)[0] for line in out.splitlines()
                    if "payload" in line and "duplicate_indexes" in line]
        check("the recovery is notified", len(payloads) == 1, out[:500])
        if payloads:
            p = json.loads(payloads[0])
            check("the payload is id and kind only", sorted(p) == ["id", "kind"] and p["kind"] == "duplicate_indexes",
                  payloads[0])
            sev = psql(env, f"SELECT severity FROM vigil_alerts WHERE id = {int(p['id'])}")
            check("the alert is the recovery (info)", sev == "info", sev)
        st = psql(env, "SELECT status FROM vigil_health_state WHERE \"check\" = 'duplicate_indexes'", user="monitor")
        check("the state view shows it", st == "ok", st)
        out = psql(env, "BEGIN READ ONLY; SELECT vigil_health(); COMMIT", user="monitor")
        h = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
        check("a read-only transaction records nothing", h["alerts"] is None, str(h.get("alerts")))

        # --- review of issue 18 ---------------------------------------------------------------
        # A role holding a lock on its own sequence: the check gives up after
        # a second and says so; the call and the worker do not wait.
        psql(env, "CREATE SEQUENCE app_seq; ALTER SEQUENCE app_seq OWNER TO app")
        locker = Session(env, user="app")
        sessions.append(locker)
        locker.send("BEGIN; ALTER SEQUENCE app_seq RESTART WITH 5; SELECT pg_sleep(30);")
        wait(lambda: psql(env, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%'"
                               " AND pid <> pg_backend_pid()") == "1", 10)
        sq = row(env, "sequences", "SET statement_timeout = '10s';", user="monitor")
        check("a lock on a sequence skips the check after a second", sq["status"] == "skipped"
              and "lock timeout" in sq["message"], str(sq))
        psql(env, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%'"
                  " AND pid <> pg_backend_pid()")
        locker.close()
        sessions.clear()
        psql(env, "DROP SEQUENCE app_seq")
        # A slot never reserved is no missing standby.
        psql(env, "SELECT pg_create_physical_replication_slot('unreserved', false)")
        check("an unreserved slot is no missing standby", status(env, "replication_lag") == "skipped")
        psql(env, "SELECT pg_drop_replication_slot('unreserved')")
        # History rows from calls: a superuser's only.
        calls = lambda: int(psql(env, "SELECT count(*) FROM vigil_health_history WHERE source = 'call'"))
        n = calls()
        psql(env, "SELECT vigil_health('{\"record\": true}')", user="monitor")
        check("a monitoring role's call keeps no history row", calls() == n)
        psql(env, "SELECT vigil_health('{\"record\": true}')")
        check("a superuser's does", calls() == n + 1)

        # --- the worker: history every vigil.health_interval, alerts without a caller ---------
        def worker_rows():
            return int(psql(env, "SELECT count(*) FROM vigil_health_history WHERE source = 'worker'"))
        check("the worker keeps history at the interval", wait(lambda: worker_rows() >= 3, 20), str(worker_rows()))
        row_ = json.loads(psql(env, "SELECT json_build_object('status', status, 'checks', checks)"
                                    " FROM vigil_health_history WHERE source = 'worker' ORDER BY id DESC LIMIT 1"))
        check("a history row holds every check", len(row_["checks"]) >= 26 and row_["status"] in
              ("healthy", "degraded", "unhealthy"), str(row_)[:200])
        before = int(psql(env, "SELECT count(*) FROM vigil_alerts WHERE \"check\" = 'duplicate_indexes'"))
        psql(env, "CREATE INDEX al_3 ON al (a)")
        check("the worker raises the alert, nobody calling", wait(lambda: int(psql(
            env, "SELECT count(*) FROM vigil_alerts WHERE \"check\" = 'duplicate_indexes'")) == before + 1, 20))
        psql(env, "DROP INDEX al_3")
        psql(env, "ALTER SYSTEM SET vigil.health_interval = 2")
        psql(env, "SELECT pg_reload_conf()")
        n = worker_rows()
        check("a reload is survived", wait(lambda: worker_rows() > n, 20))
        # The database's owner sets what its sessions start with; the worker
        # must not take it: a search_path where a type named text has a cast
        # that makes its caller superuser (it ran as the worker's superuser:
        # review of issue 18), and read-only transactions.
        own = dict(env, PGOPTIONS="-c search_path=public -c default_transaction_read_only=off")
        psql(own, "CREATE SCHEMA evil; CREATE TYPE evil.text AS ENUM ('pwned');"
                  " CREATE FUNCTION evil.f(jsonb) RETURNS evil.text LANGUAGE plpgsql AS $f$ BEGIN"
                  " IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN"
                  " EXECUTE 'ALTER ROLE app SUPERUSER'; END IF; RETURN 'pwned'; END $f$;"
                  " CREATE CAST (jsonb AS evil.text) WITH FUNCTION evil.f(jsonb)")
        psql(own, "ALTER DATABASE postgres SET search_path = evil, pg_catalog")
        psql(own, "ALTER DATABASE postgres SET default_transaction_read_only = on")
        pid = psql(own, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'vigil worker'")
        psql(own, f"SELECT pg_terminate_backend({int(pid)})")
        n = int(psql(own, "SELECT count(*) FROM vigil_health_history WHERE source = 'worker'"))
        check("pg_terminate_backend of the worker is survived (restarted within 10 s), read-only defaults or not",
              wait(lambda: int(psql(own, "SELECT count(*) FROM vigil_health_history WHERE source = 'worker'")) > n
                   + 1, 30), pid)
        check("the worker never ran the database owner's cast", psql(
            own, "SELECT rolsuper FROM pg_roles WHERE rolname = 'app'") == "f")
        psql(own, "ALTER DATABASE postgres RESET search_path")
        psql(own, "ALTER DATABASE postgres RESET default_transaction_read_only")
        psql(own, "DROP SCHEMA evil CASCADE")
        # A crash restart: kill -9 of a backend makes the postmaster restart
        # every process, the worker too.
        victim = Session(env)
        victim.send("SELECT pg_sleep(60);")
        sessions.append(victim)
        vpid = None
        if wait(lambda: psql(env, "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60);'") != "", 10):
            vpid = int(psql(env, "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60);'"))
            os.kill(vpid, 9)
        victim.close()
        sessions.clear()

        def up():
            return psql(env, "SELECT 1", check_error=False) == "1"
        check("the server restarts after the crash", vpid is not None and wait(up, 60))
        n = worker_rows()
        check("the worker is back after a crash restart", wait(lambda: worker_rows() > n, 40), str(n))
        check("history is read-only through its view",
              "ERROR" in psql(env, "DELETE FROM vigil_health_history", check_error=False))
        psql(env, "ALTER SYSTEM RESET vigil.health_interval")
        psql(env, "SELECT pg_reload_conf()")

        # --- metrics, exporter, rules ----------------------------------------------------------
        text = psql(env, "SELECT vigil_metrics()", user="monitor") + "\n"
        ok, why = promtool(["check", "metrics"], text)
        check("vigil_metrics() passes promtool check metrics", ok, why)
        check("metrics carry the pool", "vigil_connections_max 17" in text, text[-800:])
        port = free_port()
        exporter = subprocess.Popen([VIGIL, "exporter", "--listen", f"127.0.0.1:{port}"],
                                    env=dict(env, PGUSER="monitor"), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True)
        check("the exporter serves", wait(lambda: scrape(port)[0] == 200, 20))
        code, body = scrape(port)
        check("vigil_up 1", "\nvigil_up 1\n" in body, body[-300:])
        ok, why = promtool(["check", "metrics"], body)
        check("/metrics passes promtool check metrics", ok, why)
        # Slow clients (a header line now and then) hold a thread each, not
        # the exporter; a POST and an unknown path are refused.
        slow = []
        for _ in range(3):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        code, body = scrape(port)
        check("a scrape is served beside slow clients", code == 200 and "\nvigil_up 1\n" in body, str(code))
        for s in slow:
            s.close()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", data=b"x" * 100000, method="POST")
        try:
            urllib.request.urlopen(req, timeout=10)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        except OSError:
            code = -1
        check("POST is refused", code in (405, -1), str(code))
        pg_ctl(env, "stop", "-m", "fast")
        code, body = scrape(port)
        check("server stopped: vigil_up 0, still served", code == 200 and "\nvigil_up 0\n" in body, body[-300:])
        check("and the scrape's duration", "vigil_scrape_duration_seconds" in body)
        r = subprocess.run([VIGIL, "metrics"], env=dict(env, PGUSER="monitor"), capture_output=True, text=True)
        check("`vigil metrics` exits 1 while it is down", r.returncode == 1 and "vigil_up 0" in r.stdout, r.stdout[-200:])
        pg_ctl(env, "start")
        check("the exporter recovers", wait(lambda: "\nvigil_up 1\n" in scrape(port)[1], 30))
        exporter.terminate()
        exporter.wait(10)
        check("the exporter stops on SIGTERM", exporter.returncode == 0, str(exporter.returncode))
        exporter = None
        rules = os.path.join(ROOT, "packaging", "prometheus", "vigil-alerts.yml")
        ok, why = promtool(["check", "rules", rules])
        check("the Alertmanager rules pass promtool check rules", ok, why)
        ok, why = promtool(["test", "rules", os.path.join(ROOT, "packaging", "prometheus", "vigil-alerts.test.yml")])
        check("and their unit tests", ok, why)
    finally:
        for s in sessions:
            s.close()
        if exporter is not None:
            exporter.kill()
        log = open(server_log(env), encoding="utf-8", errors="replace").read()
        crashes = stop_cluster(env, expected_kills=True)
    check("no crash in the server log", not crashes, "\n".join(crashes[:5]))
    errors = worker_errors(log)
    check("no worker error in the log", not errors, "\n".join(errors[:5]))
    return check.summary("pg health")


if __name__ == "__main__":
    sys.exit(main())
