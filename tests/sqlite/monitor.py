#!/usr/bin/python3
"""monitor.py MODULE — statement monitoring on SQLite (issue 16).

  * Exact counting: N executions of M statement shapes (constants
    differing) give exactly N calls and the rows each returned or changed,
    one row per fingerprint, the fingerprint vigil_fingerprint() gives.
  * vigil's own statements, and the triggers a statement fires, are not
    counted apart; a statement finalized and another prepared at the same
    address is told apart by its text.
  * Slow queries: a slow recursive CTE over slow_query_ms is logged with
    its normalised text (no constant), newest first, limited.
  * vigil_snapshot() writes each connection's counts since its last
    snapshot, tagged by connection, so two connections never count twice;
    vigil_performance_report(hours) reads history plus live counts, windows
    by the snapshot time (rows with controlled timestamps), and lists slow
    queries with avg_time_ms.
  * Reset; eviction when max_statements is small; settings checked; bad
    arguments refused; vigil_index_advice() reads the heaviest statements.
  * A hostile history row (malformed histogram) is an error, not a figure.
Prints 'N passed, N failed'."""
import json
import os
import sqlite3
import sys
import tempfile

from harness import Checks, error_of
from harness import connect as connect_module

MODULE = os.path.abspath(sys.argv[1])
check = Checks()
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "m.db")


def err(db, sql):
    e = error_of(db, sql)
    return str(e) if e is not None else ""


def stats(db):
    return {r[0]: r for r in db.execute(
        "SELECT fingerprint, query, calls, errors, rows, total_ms, mean_ms, min_ms, max_ms, stddev_ms,"
        " p50_ms, p95_ms, p99_ms, first_seen, last_seen, queryid, username FROM vigil_query_stats")}


def fp(db, sql):
    return db.execute("SELECT vigil_fingerprint(?)", (sql,)).fetchone()[0]


db = connect_module(MODULE, path)
db.executescript("""
CREATE TABLE acct (id INTEGER PRIMARY KEY, owner TEXT, balance INTEGER);
CREATE TABLE log (n INTEGER);
CREATE TRIGGER acct_log AFTER UPDATE ON acct BEGIN INSERT INTO log VALUES (new.id); END;
""")
db.execute("SELECT vigil_query_stats_reset()")

# --- exact counting ---------------------------------------------------------
N = 200
for i in range(N):
    db.execute(f"INSERT INTO acct (id, owner, balance) VALUES ({i}, 'owner{i}', {i * 10})")
for i in range(N):
    db.execute("SELECT owner FROM acct WHERE id = ?", (i,)).fetchall()
for i in range(N // 2):
    db.execute(f"UPDATE acct SET balance = balance + 1 WHERE id < {i % 7 + 1}")
db.execute("SELECT * FROM acct WHERE balance >= 0").fetchall()
s = stats(db)
ins = s.get(fp(db, "INSERT INTO acct (id, owner, balance) VALUES (1, 'x', 2)"))
sel = s.get(fp(db, "SELECT owner FROM acct WHERE id = ?"))
upd = s.get(fp(db, "UPDATE acct SET balance = balance + 1 WHERE id < 3"))
scan = s.get(fp(db, "SELECT * FROM acct WHERE balance >= 0"))
check(ins is not None and ins[2] == N and ins[4] == N, f"inserts: {N} calls, {N} rows ({ins and ins[2:5]})")
check(sel is not None and sel[2] == N and sel[4] == N, f"point selects: {N} calls, {N} rows ({sel and sel[2:5]})")
expected_upd_rows = sum(i % 7 + 1 for i in range(N // 2))
check(upd is not None and upd[2] == N // 2 and upd[4] == expected_upd_rows,
      f"updates: {N // 2} calls, {expected_upd_rows} rows changed ({upd and upd[2:5]})")
check(scan is not None and scan[2] == 1 and scan[4] == N, "a scan returning every row counts them")
check(ins is not None and ins[1] == "insert into acct(id, owner, balance) values (?, ?, ?)",
      f"the text is normalised: no constant ({ins and ins[1]})")
check(not any("insert into log" in r[1] for r in s.values()), "the trigger's statement is not counted apart")
check(not any("vigil_rule_store" in r[1] or "sqlite_schema" in r[1] for r in s.values()),
      "vigil's own statements are not counted")
check(all(r[3] is None and r[15] is None and r[16] is None for r in s.values()),
      "errors, queryid and username are NULL on SQLite")
r = sel
check(r[6] > 0 and r[7] <= r[10] <= r[8] and r[7] <= r[11] <= r[8] and r[12] <= r[8] and r[5] >= r[8],
      f"times: min <= p50, p95 <= max <= total ({r[5:13]})")
check(r[13] <= r[14] and r[13].endswith("Z"), "first_seen <= last_seen, ISO-8601 UTC")
fps = [r[0] for r in db.execute("SELECT fingerprint FROM vigil_query_stats")]
check(len(fps) == len(set(fps)) and len(fps) >= len(s), "one row per fingerprint")

# A statement finalized and another prepared (perhaps at the same address).
before = stats(db)
for k in range(50):
    c = db.cursor()
    c.execute("SELECT count(*) FROM acct WHERE id > ?" if k % 2 else "SELECT count(*) FROM log WHERE n > ?", (k,))
    c.fetchall()
    c.close()
    db.execute("SELECT vigil_fingerprint('x')")  # churn Python's statement cache a little
s = stats(db)
a = s.get(fp(db, "SELECT count(*) FROM acct WHERE id > ?"))
b = s.get(fp(db, "SELECT count(*) FROM log WHERE n > ?"))
check(a is not None and b is not None and a[2] == 25 and b[2] == 25, "two shapes alternating: 25 calls each")

# --- slow queries -------------------------------------------------------------
db.execute("SELECT vigil_config('slow_query_ms', '0')")
check(db.execute("SELECT vigil_config('slow_query_ms')").fetchone()[0] == "0", "slow_query_ms is a setting")
db.execute("SELECT vigil_config('slow_query_ms', '20')")
db.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 3000000)"
           " SELECT count(*) FROM r WHERE i != 424242").fetchall()
db.execute("SELECT 1").fetchall()
slow = db.execute("SELECT at, duration_ms, fingerprint, query, rows, username FROM vigil_slow_queries()").fetchall()
check(len(slow) >= 1 and slow[0][1] >= 20 and "424242" not in slow[0][3] and "with recursive" in slow[0][3]
      and slow[0][4] == 1, f"the slow CTE is logged, normalised ({slow[:1]})")
check(not any(q[3] == "select ?" for q in slow), "a fast statement is not")
check(db.execute("SELECT count(*) FROM vigil_slow_queries(0)").fetchone()[0] == 0, "limit 0: none")
check("must be a non-negative integer" in (err(db, "SELECT * FROM vigil_slow_queries(-1)")),
      "a negative limit is refused")
check("setting slow_query_ms" in (err(db, "SELECT vigil_config('slow_query_ms', '-2')")),
      "slow_query_ms below -1 is refused")
check("setting max_statements" in (err(db, "SELECT vigil_config('max_statements', '5')")),
      "max_statements below 100 is refused")
db.execute("SELECT vigil_config('slow_query_ms', '-1')")
db.execute("WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 3000000)"
           " SELECT count(*) FROM r WHERE i != 7").fetchall()
check(len(db.execute("SELECT * FROM vigil_slow_queries()").fetchall()) == len(slow), "-1 logs nothing")
db.execute("SELECT vigil_config('slow_query_ms', '20')")

# --- index advice from the heaviest statements ---------------------------------
# On a connection of its own, so that the range scan is among its heaviest.
adv = connect_module(MODULE, os.path.join(tmp, "advice.db"))
adv.execute("CREATE TABLE log (n INTEGER, note TEXT)")
adv.execute("BEGIN")
adv.executemany("INSERT INTO log VALUES (?, ?)", ((i, "x" * 20) for i in range(5000)))
adv.execute("COMMIT")
adv.execute("ANALYZE")
for k in range(20):
    adv.execute("SELECT count(*) FROM log WHERE n > ?", (4990 - k,)).fetchall()
advice = json.loads(adv.execute("SELECT vigil_index_advice()").fetchone()[0])
check(advice["source"] == "monitoring" and advice["statements"] >= 1,
      f"vigil_index_advice() reads the heaviest statements ({advice.get('source')})")
check(any(sug["table"] == "log" and sug["columns"] == ["n"] for sug in advice["suggestions"]),
      f"and suggests the index a monitored range scan on log needs ({[(x['table'], x['columns']) for x in advice['suggestions']]})")
adv.close()

# --- snapshots, two connections, the report ------------------------------------
snap = json.loads(db.execute("SELECT vigil_snapshot()").fetchone()[0])
check(snap["statements"] >= 6 and ":" in snap["source"], f"a snapshot writes the statements ({snap})")
rows_after_first = db.execute("SELECT count(*) FROM vigil_query_history").fetchone()[0]
snap2 = json.loads(db.execute("SELECT vigil_snapshot()").fetchone()[0])
check(snap2["statements"] <= 2, f"a second snapshot writes only what ran since ({snap2})")
other = connect_module(MODULE, path)
for i in range(30):
    other.execute("SELECT owner FROM acct WHERE id = ?", (i,)).fetchall()
json.loads(other.execute("SELECT vigil_snapshot()").fetchone()[0])
src = dict(db.execute("SELECT source, sum(calls) FROM vigil_query_history WHERE fingerprint = ? GROUP BY source",
                      (fp(db, "SELECT owner FROM acct WHERE id = 1"),)).fetchall())
check(sorted(src.values()) == [30, N], f"each connection's counts once, tagged by connection ({src})")
# On a file of its own (so the statement is among the report's top ten):
# two connections' snapshots and one's live counts, each counted once.
path2 = os.path.join(tmp, "two.db")
first, second = connect_module(MODULE, path2), connect_module(MODULE, path2)
first.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT)")
for c, n in ((first, 40), (second, 25)):
    for i in range(n):
        c.execute("SELECT v FROM p WHERE id = ?", (i,)).fetchall()
    c.execute("SELECT vigil_snapshot()")
for i in range(5):
    first.execute("SELECT v FROM p WHERE id = ?", (i,)).fetchall()
two = json.loads(first.execute("SELECT vigil_performance_report(24)").fetchone()[0])
pt = {t["fingerprint"]: t for t in two["top_statements"]}.get(fp(first, "SELECT v FROM p WHERE id = 1"))
check(pt is not None and pt["calls"] == 70, f"the report sums both connections' history and the live counts ({pt and pt['calls']})")
first.close()
second.close()
report = json.loads(db.execute("SELECT vigil_performance_report(24)").fetchone()[0])
check(report["hours"] == 24 and report["snapshots"] >= 2 and report["errors"] is None
      and report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"], "window, snapshots, percentiles, errors null")
sq = [q for q in report["slow_queries"] if "with recursive" in q["query"]]
check(len(sq) == 1 and sq[0]["calls"] == 2 and sq[0]["avg_time_ms"] >= 20
      and sq[0]["max_time_ms"] >= sq[0]["avg_time_ms"],
      f"slow queries with avg_time_ms and max_time_ms ({[ (q['calls'], q['avg_time_ms']) for q in sq]})")
check(report["hourly"] and sum(h["calls"] for h in report["hourly"]) == report["calls"], "the hourly trend adds up")

# Controlled timestamps: a row two days old is outside 24 h, inside 72 h.
db.execute("INSERT INTO vigil_query_history (at, source, fingerprint, query, calls, errors, rows, total_ms, max_ms,"
           " histogram) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 days'), 'test', 'aaaaaaaaaaaaaaaa',"
           " 'select old', 7, NULL, 7, 70, 10, '97:7')")
r24 = json.loads(db.execute("SELECT vigil_performance_report(24)").fetchone()[0])
r72 = json.loads(db.execute("SELECT vigil_performance_report(72)").fetchone()[0])
old72 = [h for h in r72["hourly"] if h["hour"] < r24["from"]]
old24 = [h for h in r24["hourly"] if h["hour"] < r24["from"]]
check([h["calls"] for h in old72] == [7] and not old24 and r72["from"] < r24["from"],
      f"the window is the snapshot time ({old72}, {old24})")
for bad in ["0", "-1", "87601", "'x'", "1.5"]:
    check("hours must" in (err(db, f"SELECT vigil_performance_report({bad})")), f"hours {bad} refused")
check(db.execute("SELECT vigil_performance_report(NULL)").fetchone()[0] is None, "NULL in, NULL out")
db.execute("INSERT INTO vigil_query_history (at, source, fingerprint, query, calls, errors, rows, total_ms, max_ms,"
           " histogram) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hours'), 'test', 'bbbbbbbbbbbbbbbb',"
           " 'select bad', 1, NULL, 1, 1, 1, '999:1')")
check("malformed histogram" in (err(db, "SELECT vigil_performance_report(24)")),
      "a malformed history row is an error, not a figure")
db.execute("DELETE FROM vigil_query_history WHERE source = 'test'")

# history_days: a snapshot deletes older rows.
db.execute("INSERT INTO vigil_query_history (at, source, fingerprint, query, calls, errors, rows, total_ms, max_ms,"
           " histogram) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-9 days'), 'test', 'cccccccccccccccc',"
           " 'select older', 1, NULL, 1, 1, 1, '1:1')")
db.execute("SELECT vigil_snapshot()")
check(db.execute("SELECT count(*) FROM vigil_query_history WHERE source = 'test'").fetchone()[0] == 0,
      "rows older than history_days (7) go at a snapshot")

# --- reset and eviction -----------------------------------------------------------
db.execute("SELECT vigil_query_stats_reset()")
check(db.execute("SELECT count(*) FROM vigil_query_stats WHERE query NOT LIKE '%vigil_query_stats_reset%'")
      .fetchone()[0] == 0 and db.execute("SELECT count(*) FROM vigil_slow_queries()").fetchone()[0] == 0, "reset forgets counters and log")
check(db.execute("SELECT count(*) FROM vigil_query_history").fetchone()[0] >= rows_after_first, "the history stays")
db.execute("SELECT vigil_config('max_statements', '100')")
for k in range(150):
    db.execute(f"SELECT {k} AS c{k}").fetchall()
n = db.execute("SELECT count(*) FROM vigil_query_stats").fetchone()[0]
check(n <= 100, f"at most max_statements entries ({n})")
db.execute("SELECT vigil_config('max_statements', '5000')")

# --- a file's stored settings are checked, as vigil_config checks them -------------
db.execute("INSERT OR REPLACE INTO vigil_config (key, value) VALUES ('history_days', '212346574')")
check("setting history_days must be" in err(db, "SELECT vigil_snapshot()"),
      "an out-of-range stored history_days is an error, not an overflow that empties the history")
db.execute("INSERT OR REPLACE INTO vigil_config (key, value) VALUES ('history_days', '7')")
db.execute("INSERT OR REPLACE INTO vigil_config (key, value) VALUES ('max_statements', 'abc')")
check("setting max_statements must be" in err(db, "SELECT count(*) FROM vigil_query_stats"),
      "a stored max_statements that is not a number is a clear error")
db.execute("INSERT OR REPLACE INTO vigil_config (key, value) VALUES ('max_statements', '5000')")

# A crafted history row whose histogram holds fewer executions than its
# calls: percentiles are read from what the histogram holds.
db.execute("INSERT INTO vigil_query_history (at, source, fingerprint, query, calls, errors, rows, total_ms, max_ms,"
           " histogram) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hours'), 'test', 'dddddddddddddddd',"
           " 'select crafted', 1000000, NULL, 1, 5, 5, '97:1')")
crafted = json.loads(db.execute("SELECT vigil_performance_report(24)").fetchone()[0])
check(crafted["p50_ms"] < 10, f"a crafted histogram cannot make p50 absurd ({crafted['p50_ms']})")
db.execute("INSERT INTO vigil_query_history (at, source, fingerprint, query, calls, errors, rows, total_ms, max_ms,"
           " histogram) VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hours'), 'test', 'eeeeeeeeeeeeeeee',"
           " CAST(X'73656c65637420ff' AS TEXT), 1, NULL, 1, 1, 1, '1:1')")
check(json.loads(db.execute("SELECT vigil_performance_report(24)").fetchone()[0])["calls"] > 0,
      "a history text that is not UTF-8 does not break the report")
db.execute("DELETE FROM vigil_query_history WHERE source = 'test'")

# --- a statement the application prepares itself, stepped part way -----------------
db.execute("SELECT vigil_query_stats_reset()")
cur = db.execute("SELECT id FROM acct ORDER BY id")
cur.fetchmany(3)
cur.close()
part = stats(db).get(fp(db, "SELECT id FROM acct ORDER BY id"))
check(part is not None and part[2] == 1, "a statement reset part way counts one call")

other.close()
db.close()

# A read-only file: counting works, the snapshot cannot write and says so.
ro = connect_module(MODULE, path, readonly=True)
ro.execute("SELECT count(*) FROM acct").fetchall()
check(ro.execute("SELECT count(*) FROM vigil_query_stats").fetchone()[0] >= 1, "a read-only connection counts")
check(error_of(ro, "SELECT vigil_snapshot()") is not None, "a read-only file refuses the snapshot")
ro.close()
# A failed sqlite3_close() (a statement still open) leaves the connection
# open: counting goes on, and loading the module again then (which drops
# the first load's functions and its monitor) must detach the old trace
# first (the second review found a use-after-free here; ASan in the
# sanitizer stage runs this too). Through the C API with ctypes, as a C
# program would do it.
import ctypes
lib = ctypes.CDLL("libsqlite3.so.0")
lib.sqlite3_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.sqlite3_enable_load_extension.argtypes = [ctypes.c_void_p, ctypes.c_int]
lib.sqlite3_load_extension.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
lib.sqlite3_exec.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
lib.sqlite3_prepare_v2.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                                   ctypes.c_void_p]
lib.sqlite3_step.argtypes = [ctypes.c_void_p]
lib.sqlite3_finalize.argtypes = [ctypes.c_void_p]
lib.sqlite3_close.argtypes = [ctypes.c_void_p]
lib.sqlite3_column_int64.argtypes = [ctypes.c_void_p, ctypes.c_int]
lib.sqlite3_column_int64.restype = ctypes.c_int64
cdb = ctypes.c_void_p()
lib.sqlite3_open(b":memory:", ctypes.byref(cdb))
lib.sqlite3_enable_load_extension(cdb, 1)
check(lib.sqlite3_load_extension(cdb, MODULE.encode(), None, None) == 0, "C API: the module loads")
lib.sqlite3_exec(cdb, b"CREATE TABLE t (a); INSERT INTO t VALUES (1), (2)", None, None, None)
held = ctypes.c_void_p()
lib.sqlite3_prepare_v2(cdb, b"SELECT * FROM t", -1, ctypes.byref(held), None)
lib.sqlite3_step(held)
check(lib.sqlite3_close(cdb) == 5, "C API: close with a statement open is SQLITE_BUSY")
lib.sqlite3_exec(cdb, b"SELECT count(*) FROM t WHERE a > 0", None, None, None)
lib.sqlite3_finalize(held)
check(lib.sqlite3_load_extension(cdb, MODULE.encode(), None, None) == 0, "C API: loading again after the failed close")
lib.sqlite3_exec(cdb, b"SELECT count(*) FROM t WHERE a > 1", None, None, None)
counted = ctypes.c_void_p()
lib.sqlite3_prepare_v2(cdb, b"SELECT count(*) FROM vigil_query_stats() WHERE query = 'select count(*) from t where a > ?'",
                       -1, ctypes.byref(counted), None)
lib.sqlite3_step(counted)
check(lib.sqlite3_column_int64(counted, 0) == 1, "C API: the second load counts")
lib.sqlite3_finalize(counted)
check(lib.sqlite3_close(cdb) == 0, "C API: and the connection closes")
check.summary("sqlite monitor")
