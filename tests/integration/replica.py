#!/usr/bin/python3
"""replica.py — health checks on a real streaming standby (issue 18).

A primary with vigil preloaded (the worker checking every second) and a
standby made with pg_basebackup streaming from a physical slot, both on
Unix sockets of their own:
  * the primary's replication_lag check reports the standby (its write,
    flush and replay lag); the standby reports its replay delay, and its
    vigil_health() records nothing (a standby cannot write);
  * the standby stopped: the primary's check turns critical (the slot's
    standby is missing) and the worker raises the alert, notified to a
    LISTENing session with its id and kind only;
  * the standby back: the check recovers, with an info alert.
Bounds on waiting are generous polls, never timed assertions.
Prints 'N passed, N failed'."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from pgharness import Checks, psql, start_cluster, stop_cluster, wait, worker_errors

check = Checks()
PGBIN = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()


def as_owner(cmd):
    return (["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []) + cmd


def row(env, name):
    out = psql(env, "SELECT json_build_object('status', status, 'value', value, 'message', message, 'details', details)"
                    f" FROM vigil_health_checks('{{\"checks\": [\"{name}\"]}}')")
    return json.loads(out.splitlines()[-1])


def main():
    primary = start_cluster("shared_preload_libraries = 'vigil'", "vigil.worker_interval = 200",
                            "vigil.health_interval = 1", "wal_level = replica", "max_wal_senders = 4",
                            "log_line_prefix = '%m [%p] %b '")
    sdir = tempfile.mkdtemp(prefix="vigil-standby.")
    os.chmod(sdir, 0o755)
    if os.getuid() == 0:
        shutil.chown(sdir, "postgres", "postgres")
    sdata = os.path.join(sdir, "data")
    sport = str(int(primary["PGPORT"]) + 1)
    standby = dict(primary, PGHOST=sdir, PGPORT=sport, VIGIL_PGDATA=sdata)
    slog = os.path.join(sdir, "server.log")

    def pg_ctl(*args):
        return subprocess.run(as_owner([os.path.join(PGBIN, "pg_ctl"), "-D", sdata, "-w", "-t", "60", *args, "-l", slog]),
                              capture_output=True, text=True)

    try:
        psql(primary, "CREATE EXTENSION vigil")
        psql(primary, "SELECT pg_create_physical_replication_slot('standby1')")
        r = subprocess.run(as_owner([os.path.join(PGBIN, "pg_basebackup"), "-D", sdata, "-R", "-S", "standby1",
                                     "-X", "stream", "-h", primary["PGHOST"], "-p", primary["PGPORT"], "-U", "postgres"]),
                           capture_output=True, text=True)
        check("pg_basebackup makes the standby", r.returncode == 0, r.stderr)
        with open(os.path.join(sdata, "postgresql.conf"), "a") as conf:
            conf.write(f"\nport = {sport}\nunix_socket_directories = '{sdir}'\nhot_standby = on\n")
        r = pg_ctl("start")
        check("the standby starts", r.returncode == 0, r.stderr)
        check("it streams", wait(lambda: psql(primary, "SELECT count(*) FROM pg_stat_replication"
                                                        " WHERE state = 'streaming'") == "1", 60))
        psql(primary, "CREATE TABLE t AS SELECT generate_series(1, 1000) AS g")
        lag = row(primary, "replication_lag")
        check("the primary reports its standby", lag["status"] == "ok" and lag["details"]["role"] == "primary"
              and len(lag["details"]["standbys"]) == 1, str(lag))
        check("with write, flush and replay lag", {"write_lag_s", "flush_lag_s", "replay_lag_s"}
              <= set(lag["details"]["standbys"][0]), str(lag))
        check("the standby has replayed the table", wait(lambda: psql(
            standby, "SELECT count(*) FROM t", check_error=False) == "1000", 60))
        slag = row(standby, "replication_lag")
        check("the standby reports its replay delay", slag["status"] == "ok" and slag["details"]["role"] == "standby",
              str(slag))
        h = json.loads(psql(standby, "SELECT vigil_health()").splitlines()[-1])
        check("a standby's vigil_health() records nothing", h["alerts"] is None, str(h.get("alerts")))
        check("and no worker runs there", psql(
            standby, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'vigil worker'") == "0")

        # Before the standby streamed, its slot had nobody: the worker may
        # have raised that and its recovery already. Settled first.
        check("the worker sees the standby", wait(lambda: psql(
            primary, "SELECT coalesce((SELECT status FROM vigil_health_state WHERE \"check\" = 'replication_lag'),"
                     " 'ok')") == "ok", 30))

        # The standby goes: critical, raised by the primary's worker, notified.
        listener = subprocess.Popen(["psql", "-X", "-q", "-At", "-d", "postgres"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=primary, text=True)
        listener.stdin.write("LISTEN vigil_alerts;\nSELECT 1;\n")
        listener.stdin.flush()
        before = int(psql(primary, "SELECT count(*) FROM vigil_alerts WHERE \"check\" = 'replication_lag'"))
        pg_ctl("stop", "-m", "fast")
        check("the primary's check turns critical", wait(lambda: row(primary, "replication_lag")["status"]
                                                         == "critical", 60))
        lag = row(primary, "replication_lag")
        check("it names the slot and what to do", "standby1" in lag["message"] and "pg_drop_replication_slot"
              in lag["message"], lag["message"])
        check("the worker raises the alert", wait(lambda: int(psql(
            primary, "SELECT count(*) FROM vigil_alerts WHERE \"check\" = 'replication_lag'")) == before + 1, 30))
        check("a critical one", psql(primary, "SELECT severity FROM vigil_alerts WHERE \"check\" = 'replication_lag'"
                                              " ORDER BY id DESC LIMIT 1") == "critical")
        alert_id = psql(primary, "SELECT max(id) FROM vigil_alerts WHERE \"check\" = 'replication_lag'")
        out, _ = listener.communicate("SELECT 2;\n", timeout=30)
        payloads = [line.split('payload "', 1)[1].rsplit('"', 1)[0] for line in out.splitlines()
                    if "payload" in line and "replication_lag" in line]
        check("a LISTENing session is notified: id and kind only",
              any(json.loads(p) == {"id": int(alert_id), "kind": "replication_lag"} for p in payloads), out[-400:])

        # The standby returns: recovered.
        pg_ctl("start")
        check("the check recovers", wait(lambda: row(primary, "replication_lag")["status"] == "ok", 60))
        check("with an info alert", wait(lambda: psql(
            primary, "SELECT severity FROM vigil_alerts WHERE \"check\" = 'replication_lag' ORDER BY id DESC LIMIT 1")
            == "info", 30))
        after = int(psql(primary, "SELECT count(*) FROM vigil_alerts WHERE \"check\" = 'replication_lag'"))
        check("one alert each way", after == before + 2, f"{before} -> {after}")
        hist = psql(primary, "SELECT count(*) FROM vigil_health_history WHERE source = 'worker'"
                             " AND checks @> '[{\"check\": \"replication_lag\", \"status\": \"critical\"}]'")
        check("the history shows the critical rounds", int(hist) >= 1, hist)
    finally:
        pg_ctl("stop", "-m", "immediate")
        log = open(os.path.join(os.path.dirname(primary["VIGIL_PGDATA"]), "server.log"), encoding="utf-8",
                   errors="replace").read()
        crashes = stop_cluster(primary)
        shutil.rmtree(sdir, ignore_errors=True)
    check("no crash in the primary's log", not crashes, "\n".join(crashes[:5]))
    errors = worker_errors(log)
    check("no worker error in the log", not errors, "\n".join(errors[:5]))
    return check.summary("pg replica")


if __name__ == "__main__":
    sys.exit(main())
