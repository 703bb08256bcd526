#!/usr/bin/python3
"""monitor.py — statement monitoring on a PostgreSQL server of its own
(issue 16), preloaded with vigil and pg_stat_statements side by side.

  * Exact counting: N executions of three statement shapes (their constants
    differing) give N calls each and the rows each returned or changed;
    pg_stat_statements, loaded beside vigil, reports the same calls for the
    same query ids. A failed INSERT counts as an error, not a call.
  * Slow queries: pg_sleep over vigil.slow_query_ms is logged normalised;
    the performance report lists it with avg_time_ms.
  * Roles: a role sees its own statements; another sees them as
    <insufficient privilege> until granted pg_read_all_stats; only the
    superuser may snapshot or reset.
  * The worker writes vigil_query_history at vigil.snapshot_interval (1 s).
  * A clean restart keeps the counters; kill -9 of a backend makes the
    postmaster reinitialise shared memory: counters start again under a new
    epoch, the history taken before the crash stays, the report shows the
    reset.
  * Reset; eviction at vigil.max_statements; vigil_index_advice() on the
    heaviest statements; no crash in the server log.
Bounds on waiting are generous polls, never timed assertions.
Prints 'N passed, N failed'."""
import json
import os
import signal
import subprocess
import sys
import time

from pgharness import Checks, pg_ctl, psql, script, start_cluster, stop_cluster, wait

check = Checks()
N = 60


def cluster():
    # MALLOC_PERTURB_ fills freed memory: a read after free shows (the
    # report once read its result after SPI_finish freed it).
    return start_cluster("shared_preload_libraries = 'vigil, pg_stat_statements'", "vigil.worker_interval = 200",
                         "vigil.snapshot_interval = 1", "vigil.slow_query_ms = 100", "vigil.max_statements = 100",
                         "pg_stat_statements.track_utility = off", "restart_after_crash = on",
                         extra_env={"MALLOC_PERTURB_": "165"})


def stats(env, user="postgres"):
    out = psql(env, "SELECT fingerprint, query, calls, errors, rows, coalesce(queryid, 0) FROM vigil_query_stats()",
               user=user)
    rows = {}
    for line in out.splitlines():
        fp, query, calls, errors, rows_, qid = line.split("|")
        rows[(fp, query)] = (int(calls), int(errors), int(rows_), int(qid))
    return rows


def by_fp(env, sql):
    return psql(env, f"SELECT vigil_fingerprint($q${sql}$q$)")



def main():
    env = cluster()
    try:
        psql(env, "CREATE EXTENSION vigil")
        psql(env, "CREATE EXTENSION pg_stat_statements")
        psql(env, "CREATE TABLE t (id integer PRIMARY KEY, v text)")
        psql(env, "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 1000) g")
        psql(env, "CREATE TABLE t2 (id integer PRIMARY KEY)")
        psql(env, "CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; GRANT SELECT, INSERT, UPDATE ON t, t2 TO alice")
        psql(env, "SELECT vigil_query_stats_reset(); SELECT pg_stat_statements_reset()")

        # --- exact counting, beside pg_stat_statements ---------------------------
        work = "".join(f"SELECT v FROM t WHERE id = {k};\nUPDATE t SET v = 'y' WHERE id <= {k % 5 + 1};\n"
                       f"INSERT INTO t2 VALUES ({k});\n" for k in range(1, N + 1))
        work += "INSERT INTO t2 VALUES (1);\n"  # fails: duplicate key
        script(env, work, user="alice")
        s = stats(env)
        sel = next((v for (fp, q), v in s.items() if q == "select v from t where id = ?"), None)
        upd = next((v for (fp, q), v in s.items() if q == "update t set v = ? where id <= ?"), None)
        ins = next((v for (fp, q), v in s.items() if q == "insert into t2 values (?)"), None)
        check("selects: N calls, N rows", sel is not None and sel[:3] == (N, 0, N), str(sel))
        upd_rows = sum(k % 5 + 1 for k in range(1, N + 1))
        check("updates: N calls, the rows they changed", upd is not None and upd[:3] == (N, 0, upd_rows), str(upd))
        check("inserts: N calls, one error (the duplicate)", ins is not None and ins[:3] == (N, 1, N), str(ins))
        fp_sel = by_fp(env, "SELECT v FROM t WHERE id = 1")
        check("the row's fingerprint is vigil_fingerprint's", any(fp == fp_sel for (fp, q) in s), fp_sel)
        pgss = dict(tuple(line.split("|")) for line in psql(
            env, "SELECT queryid, calls FROM pg_stat_statements WHERE userid = 'alice'::regrole").splitlines())
        for name, row in (("select", sel), ("update", upd), ("insert", ins)):
            check(f"pg_stat_statements counts the same {name} calls for the same query id",
                  row is not None and pgss.get(str(row[3])) == str(N), f"{row} {pgss}")
        detail = psql(env, "SELECT username, database, application_name, mean_ms > 0, p50_ms <= p99_ms,"
                           " min_ms <= max_ms, first_seen <= last_seen FROM vigil_query_stats()"
                           " WHERE query = 'select v from t where id = ?'")
        check("user, database, application and times", detail == "alice|postgres|psql|t|t|t|t", detail)

        # --- slow queries ------------------------------------------------------------
        script(env, "SELECT pg_sleep(0.15);\nSELECT pg_sleep(0.01);\n", user="alice")
        slow = psql(env, "SELECT query, duration_ms >= 150, username FROM vigil_slow_queries()")
        check("the slow sleep is logged, normalised", slow.splitlines() == ["select pg_sleep(?)|t|alice"], slow)

        # --- roles ----------------------------------------------------------------------
        bob = stats(env, user="bob")
        check("bob sees alice's statements without their text",
              bob and all(q == "<insufficient privilege>" for (fp, q) in bob if "vigil_query_stats" not in q), str(bob)[:300])
        check("bob sees none of alice's slow queries", psql(env, "SELECT count(*) FROM vigil_slow_queries()", "bob") == "0")
        check("bob may not snapshot", "permission denied" in psql(env, "SELECT vigil_snapshot()", "bob", False))
        check("bob may not reset", "permission denied" in psql(env, "SELECT vigil_query_stats_reset()", "bob", False))
        psql(env, "GRANT pg_read_all_stats TO bob")
        bob = stats(env, user="bob")
        check("with pg_read_all_stats bob reads the texts", any(q == "select v from t where id = ?" for (fp, q) in bob))
        advice = json.loads(psql(env, "SELECT vigil_index_advice()", "alice"))
        check("vigil_index_advice() reads alice's heaviest statements",
              advice["source"] == "monitoring" and advice["statements"] >= 3, str(advice)[:300])

        # --- what the attack review found (issue 16) ---------------------------------
        # Fingerprints of other roles' statements stay hidden (a hash that
        # would confirm a guess at their text).
        psql(env, "REVOKE pg_read_all_stats FROM bob")
        hidden = psql(env, "SELECT count(*) FROM vigil_query_stats() WHERE query = '<insufficient privilege>'"
                           " AND fingerprint IS NOT NULL", "bob")
        check("other roles' fingerprints are hidden", hidden == "0", hidden)
        psql(env, "GRANT pg_read_all_stats TO bob")
        # Consecutive failures are each counted.
        script(env, "".join(f"SELECT 1 / (id - id) FROM t2 WHERE id = {k};\n" for k in (1, 2, 3)), user="alice")
        errs = psql(env, "SELECT errors, calls FROM vigil_query_stats() WHERE query = 'select ? / (id - id) from t2 where id = ?'")
        check("three failures in a row are three errors", errs == "3|0", errs)
        # A literal stays out of the text when standard_conforming_strings is off.
        script(env, "SET standard_conforming_strings = off;\nSELECT 'Pa\\'ss word-s3cr3t' AS x;\n", user="alice")
        leak = psql(env, "SELECT count(*) FROM vigil_query_stats() WHERE query LIKE '%s3cr3t%'")
        check("no literal with standard_conforming_strings off", leak == "0", leak)
        # Utility statements differing in constants are one entry.
        script(env, "".join(f"SET application_name = 'app{k}';\n" for k in range(30)), user="alice")
        sets = psql(env, "SELECT count(*), sum(calls) FROM vigil_query_stats() WHERE query = 'set application_name = ?'")
        check("SET with 30 constants is one entry of 30 calls", sets == "1|30", sets)
        # Statements a SECURITY DEFINER function runs (here a deferred
        # trigger's, at commit) are not counted as the definer's own.
        psql(env, "CREATE FUNCTION alice_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $f$"
                  " BEGIN PERFORM count(*) FROM t2 WHERE id > 424242; RETURN NULL; END $f$")
        psql(env, "ALTER FUNCTION alice_audit() OWNER TO alice")
        psql(env, "CREATE TABLE mal (id integer); GRANT INSERT ON mal TO bob")
        psql(env, "CREATE CONSTRAINT TRIGGER mal_defer AFTER INSERT ON mal DEFERRABLE INITIALLY DEFERRED"
                  " FOR EACH ROW EXECUTE FUNCTION alice_audit()")
        script(env, "INSERT INTO mal VALUES (1), (2), (3);\n", user="bob")
        definer = psql(env, "SELECT count(*) FROM vigil_query_stats() WHERE username = 'alice' AND query LIKE '%424242%'"
                            " OR query LIKE 'select count(*) from t2 where id > ?'")
        check("a SECURITY DEFINER function's statements are not counted as the definer's", definer == "0", definer)
        # A rolled-back snapshot loses nothing: the counts stay live and the
        # next snapshot writes them.
        psql(env, "ALTER SYSTEM SET vigil.snapshot_interval = 0")
        psql(env, "SELECT pg_reload_conf()")
        time.sleep(0.5)
        script(env, "".join(f"SELECT v FROM t WHERE id = {k} AND v <> 'rolled';\n" for k in range(7)), user="alice")
        rolled = "SELECT coalesce(sum(calls), 0) FROM vigil_query_history WHERE query LIKE '%v <> ?'"
        script(env, "BEGIN;\nSELECT vigil_snapshot();\nROLLBACK;\n")
        check("a rolled-back snapshot writes nothing", psql(env, rolled) == "0", psql(env, rolled))
        check("a second snapshot in one transaction is refused",
              "already taken" in psql(env, "BEGIN; SELECT vigil_snapshot(); SELECT vigil_snapshot(); COMMIT",
                                      check_error=False))
        psql(env, "SELECT vigil_snapshot()")
        check("and the next snapshot writes what it held", psql(env, rolled) == "7", psql(env, rolled))
        psql(env, "ALTER SYSTEM RESET vigil.snapshot_interval")
        psql(env, "SELECT pg_reload_conf()")
        # A database that is not UTF-8 cannot break the report.
        psql(env, "CREATE DATABASE ascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        psql(env, "CREATE EXTENSION vigil", db="ascii")
        subprocess.run(["psql", "-X", "-At", "-d", "ascii", "-c", b"SELECT pg_sleep(0.12) AS \"caf\xe9_\xff\""],
                       env=env, capture_output=True)
        psql(env, "SELECT vigil_snapshot()")
        report = psql(env, "SELECT vigil_performance_report(24)->>'calls'", check_error=False)
        check("the report survives a statement from an SQL_ASCII database", report.isdigit(), report)
        check("and its text is UTF-8 in the history", psql(
            env, "SELECT count(*) FROM vigil_query_history WHERE query LIKE 'select pg_sleep(?) as \"caf?_?\"'") == "1")

        # The second review: a LATIN1 database keeps SAVEPOINT and ROLLBACK
        # working (no conversion outside a transaction), reads texts in its
        # own encoding, and a character it lacks comes out as '?'.
        psql(env, "CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        psql(env, "CREATE EXTENSION vigil", db="latin")
        r = subprocess.run(["psql", "-X", "-At", "-d", "latin"],
                           input="CREATE TABLE l (x text);\nBEGIN;\nSAVEPOINT a;\nINSERT INTO l VALUES ('caf\u00e9');\n"
                                 "ROLLBACK TO a;\nINSERT INTO l VALUES ('ok');\nCOMMIT;\n"
                                 "BEGIN;\nSELECT 1 / 0;\nROLLBACK;\nSELECT 'caf\u00e9' AS \"caf\u00e9\";\n",
                           env=dict(env, PGCLIENTENCODING="UTF8"), capture_output=True, text=True)
        check("SAVEPOINT, ROLLBACK TO and ROLLBACK work in a LATIN1 database",
              "cannot perform encoding conversion" not in r.stderr and "WARNING" not in r.stderr
              and psql(env, "SELECT x FROM l", db="latin") == "ok",
              r.stderr[-300:])
        psql(env, "SELECT 1 AS \"\u65e5\u672c\"")  # a name LATIN1 has no characters for, from a UTF-8 database
        latin = subprocess.run(["psql", "-X", "-At", "-d", "latin", "-c",
                                "SELECT query FROM vigil_query_stats() WHERE query LIKE '%caf%' OR query LIKE 'select ? as \"%'"],
                               env=dict(env, PGCLIENTENCODING="UTF8"), capture_output=True, text=True)
        check("a LATIN1 database reads the texts in its encoding, '?' for what it lacks",
              latin.returncode == 0 and 'select ? as "caf\u00e9"' in latin.stdout and 'select ? as "??"' in latin.stdout,
              latin.stdout + latin.stderr)
        # The third review: in an EUC_JP database a character UTF-8 lacks
        # does not make the statement fail (it becomes '?' in the text),
        # and an error while a statement starts (permission denied) counts.
        psql(env, "CREATE DATABASE eucjp ENCODING 'EUC_JP' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        psql(env, "CREATE EXTENSION vigil", db="eucjp")
        euc = subprocess.run(["psql", "-X", "-At", "-d", "eucjp", "-c", b"SELECT length('\xa9\xa1') AS \"\xa9\xa1\""],
                             env=dict(env, PGCLIENTENCODING="EUC_JP"), capture_output=True)
        check("a character UTF-8 lacks does not fail the statement in EUC_JP", euc.stdout.strip() == b"1",
              (euc.stdout + euc.stderr).decode("latin-1"))
        euc_text = psql(env, "SELECT query FROM vigil_query_stats() WHERE query LIKE 'select length(?) as %'")
        check("and shows as '?' in the text", euc_text == 'select length(?) as "?"', euc_text)
        psql(env, "CREATE TABLE secret (a integer)")
        script(env, "SELECT a FROM secret WHERE a > 1;\nSELECT a FROM secret WHERE a > 2;\n", user="alice")
        denied = psql(env, "SELECT calls, errors FROM vigil_query_stats() WHERE query = 'select a from secret where a > ?'")
        check("a permission denied while starting counts as an error", denied == "0|2", denied)
        # An immutable function folded while planning runs its statement
        # nested in the planning, not as a top-level statement.
        psql(env, "CREATE FUNCTION imm_f(integer) RETURNS bigint IMMUTABLE LANGUAGE plpgsql AS"
                  " $f$ BEGIN RETURN (SELECT count(*) FROM t WHERE id = $1 AND v <> 'folded'); END $f$")
        psql(env, "SELECT imm_f(3)")
        folded = psql(env, "SELECT count(*) FROM vigil_query_stats() WHERE query LIKE '%folded%' OR query LIKE '%v <> ?)%'")
        check("a statement run while planning is not top-level", folded == "0", folded)
        # PREPARE TRANSACTION after a snapshot is refused.
        prep = psql(env, "BEGIN; SELECT vigil_snapshot(); PREPARE TRANSACTION 'p1'", check_error=False)
        check("PREPARE after a snapshot is refused", "cannot PREPARE a transaction that took a statement snapshot" in prep,
              prep)
        # --- the worker's snapshots and the report -----------------------------------
        check("the worker writes the history", wait(lambda: int(psql(
            env, "SELECT coalesce(sum(calls), 0) FROM vigil_query_history WHERE query = 'select v from t where id = ?'"))
            == N), psql(env, "SELECT count(*) FROM vigil_query_history"))
        # The history read before the report: a snapshot may land between the
        # two (every second), and it can only add to what the report counts.
        hist_calls = int(psql(env, "SELECT sum(calls) FROM vigil_query_history"))
        report = json.loads(psql(env, "SELECT vigil_performance_report(24)"))
        slow_q = [q for q in report["slow_queries"] if q["query"] == "select pg_sleep(?)"]
        check("the report lists the slow query with avg_time_ms",
              len(slow_q) == 1 and slow_q[0]["max_time_ms"] >= 150 and slow_q[0]["avg_time_ms"] >= 75, str(slow_q))
        live_before = report["calls"]
        check("the report counts the history once (history plus live, never both)",
              hist_calls <= live_before <= hist_calls + 200, f"{hist_calls} {live_before}")
        # The counters started with the server and again at the reset above.
        resets = report["resets"]
        check("the report lists when the counters started in the window", len(resets) == 2, str(resets))
        check("bad hours are 22023", "hours must be" in psql(env, "SELECT vigil_performance_report(0)", check_error=False))
        # Windows by snapshot time, with controlled timestamps: a row two
        # days old is outside 24 hours and inside 72.
        psql(env, "INSERT INTO vigil_state.vigil_query_history (at, source, fingerprint, query, calls, errors, rows,"
                  " total_ms, max_ms, histogram, epoch, username) VALUES (now() - interval '2 days', 'test',"
                  " 'aaaaaaaaaaaaaaaa', 'select old', 7, 0, 7, 70, 10, '97:7', '', 'postgres')")
        r24 = json.loads(psql(env, "SELECT vigil_performance_report(24)"))
        r72 = json.loads(psql(env, "SELECT vigil_performance_report(72)"))
        old72 = [h for h in r72["hourly"] if h["hour"] < r24["from"]]
        old24 = [h for h in r24["hourly"] if h["hour"] < r24["from"]]
        check("the report's window is the snapshot time", [h["calls"] for h in old72] == [7] and not old24,
              f"{old72} {old24}")
        psql(env, "DELETE FROM vigil_state.vigil_query_history WHERE source = 'test'")

        # --- clean restart ---------------------------------------------------------------
        since = report["stats_since"]
        r = pg_ctl(env, "-m", "fast", "restart")
        check("the server restarts", r.returncode == 0, r.stderr)
        s = stats(env)
        sel2 = next((v for (fp, q), v in s.items() if q == "select v from t where id = ?"), None)
        check("a clean restart keeps the counters", sel2 is not None and sel2[0] == N, str(sel2))
        after = json.loads(psql(env, "SELECT vigil_performance_report(24)"))
        check("and the epoch: no new start", after["stats_since"] == since and after["resets"] == resets,
              str(after["resets"]))

        # --- crash: kill -9 of a backend -----------------------------------------------------
        history_before = int(psql(env, "SELECT count(*) FROM vigil_query_history"))
        victim = subprocess.Popen(["psql", "-X", "-At", "-d", "postgres", "-c", "SELECT pg_sleep(60)"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pid = None
        if wait(lambda: psql(env, "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'") != ""):
            pid = int(psql(env, "SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'"))
            os.kill(pid, signal.SIGKILL)
        victim.wait(timeout=60)

        def up():
            r = subprocess.run(["psql", "-X", "-At", "-d", "postgres", "-c", "SELECT 1"], env=env, capture_output=True,
                               text=True)
            return r.returncode == 0 and r.stdout.strip() == "1"
        check("the server recovers from the crash", pid is not None and wait(up))
        s = stats(env)
        check("the counters started again", not any(q == "select v from t where id = ?" for (fp, q) in s), str(s)[:200])
        check("the history from before the crash is intact",
              int(psql(env, "SELECT count(*) FROM vigil_query_history")) >= history_before)
        report = json.loads(psql(env, "SELECT vigil_performance_report(24)"))
        check("the report shows the crash's new start",
              report["resets"][:2] == resets and len(report["resets"]) == 3 and report["stats_since"] != since,
              str(report["resets"]))
        check("and still counts the history", report["calls"] >= hist_calls, f"{report['calls']} {hist_calls}")

        # A reset between a snapshot and its commit: the marks belong to the
        # entries the snapshot read, not to those made since.
        psql(env, "ALTER SYSTEM SET vigil.snapshot_interval = 0")
        psql(env, "SELECT pg_reload_conf()")
        time.sleep(0.5)
        serial_sql = ("SELECT coalesce(sum(calls), 0) FROM vigil_query_history"
                      " WHERE query = 'select v from t where id = ? and v <> ?'")
        before = int(psql(env, serial_sql))
        script(env, "".join(f"SELECT v FROM t WHERE id = {k} AND v <> 'serial';\n" for k in range(10)), user="alice")
        holder = subprocess.Popen(["psql", "-X", "-At", "-d", "postgres"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, text=True)
        holder.stdin.write("BEGIN;\nSELECT vigil_snapshot();\nSELECT 'held';\n")
        holder.stdin.flush()
        holder.stdout.readline()
        holder.stdout.readline()
        psql(env, "SELECT vigil_query_stats_reset()")
        script(env, "".join(f"SELECT v FROM t WHERE id = {k} AND v <> 'serial';\n" for k in range(25)), user="alice")
        holder.communicate("COMMIT;\n", timeout=60)
        psql(env, "SELECT vigil_snapshot()")
        serial = int(psql(env, serial_sql)) - before
        check("a reset between a snapshot and its commit loses nothing", serial == 35, str(serial))
        psql(env, "ALTER SYSTEM RESET vigil.snapshot_interval")
        psql(env, "SELECT pg_reload_conf()")

        # --- reset, eviction -----------------------------------------------------------------
        psql(env, "SELECT vigil_query_stats_reset()")
        check("reset forgets the counters", psql(
            env, "SELECT count(*) FROM vigil_query_stats() WHERE query NOT LIKE '%vigil_query_stats%'") == "0")
        script(env, "".join(f"SELECT {k} AS c{k};\n" for k in range(150)))
        n = int(psql(env, "SELECT count(*) FROM vigil_query_stats()"))
        check("at most vigil.max_statements entries", 0 < n <= 100, str(n))
    finally:
        bad = stop_cluster(env, expected_kills=True)
    check("no crash in the server log but the one the test caused", not bad, "\n".join(bad[:5]))
    return check.summary("pg monitor")


if __name__ == "__main__":
    sys.exit(main())
