#!/usr/bin/python3
"""health.py MODULE — health checks, alerts, pool status, metrics and busy
backoff on SQLite (issue 17). Each check is driven into warning and
critical by a real condition where that is cheap, by its threshold
otherwise:

  * duplicate index, free pages (a deleted 4 MB table), journal mode off
    and memory, foreign keys off with keys declared, a foreign-key
    violation and a corrupted page (deep), disk and file size (thresholds),
    slow executions (slow_query_ms 0), a busy wait against a second
    connection that holds the write lock (vigil_busy_backoff: give-up and
    success after retries; waiting seen by vigil_pool_status() meanwhile),
    enforcement whose trigger was dropped, a quality score under 80, an
    audit backlog and a tampered audit entry (deep), a drifted migration
    and a table created outside migrations;
  * alerts on every change of state and only then, a recovery as info;
    a read-only file records nothing; vigil_metrics() passes
    `promtool check metrics`;
  * bad input: unknown options and checks, out-of-range and unknown
    settings, a hand-edited out-of-range threshold (skipped, not a crash),
    bad vigil_busy_backoff arguments; DIRECTONLY and INNOCUOUS from a view.
Prints 'N passed, N failed'."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from harness import Checks, error_of
from harness import connect as connect_module

MODULE = os.path.abspath(sys.argv[1])
check = Checks()
tmp = tempfile.mkdtemp()
path = os.path.join(tmp, "h.db")


def connect(p=path, **kw):
    return connect_module(MODULE, p, **kw)


def health(db, options=None):
    sql = "SELECT vigil_health(?)" if options is not None else "SELECT vigil_health()"
    args = (json.dumps(options),) if options is not None else ()
    return json.loads(db.execute(sql, args).fetchone()[0])


def checks(db, options=None):
    return {c["check"]: c for c in health(db, options)["checks"]}


def one(db, name, deep=False):
    opts = {"checks": [name]}
    if deep:
        opts["deep"] = True
    return checks(db, opts)[name]


def err(db, sql, args=()):
    e = error_of(db, sql, args)
    return str(e) if e is not None else ""


def setting(db, key, value):
    db.execute("SELECT vigil_config(?, ?)", (key, str(value)))


db = connect()
db.executescript("""
PRAGMA journal_mode = wal;
PRAGMA foreign_keys = ON;
CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE trades (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), qty INTEGER);
""")

# --- a healthy file ---------------------------------------------------------
h = health(db)
names = [c["check"] for c in h["checks"]]
check(h["status"] == "healthy", f"a fresh WAL file is healthy: {h['status']} {h['issues']}")
check(h["engine"] == "sqlite", "engine")
for n in ["response_time", "lock_waits", "disk_space", "database_size", "cache_hit", "duplicate_indexes",
          "slow_queries", "quality_score", "journal_mode", "foreign_keys", "freelist", "enforcement",
          "migrations", "schema_drift", "audit_backlog"]:
    check(n in names, f"default check {n}")
for n in ["quick_check", "foreign_key_check", "table_sizes", "audit_chain", "connections", "wraparound"]:
    check(n not in names, f"{n} is not a default SQLite check")
deep = checks(db, {"deep": True})
for n in ["quick_check", "foreign_key_check", "table_sizes", "audit_chain"]:
    check(n in deep and deep[n]["status"] == "ok", f"deep check {n}: {deep.get(n)}")
c = one(db, "connections")
check(c["status"] == "skipped" and "PostgreSQL" in c["message"], f"a PostgreSQL check named on SQLite: {c}")
rows = db.execute("SELECT \"check\", status, value, threshold, unit, message, details FROM vigil_health_checks").fetchall()
check(len(rows) == len(h["checks"]), "vigil_health_checks has the same checks")
rows = db.execute("SELECT \"check\" FROM vigil_health_checks('{\"deep\": true}') WHERE \"check\" = 'quick_check'").fetchall()
check(rows == [("quick_check",)], "vigil_health_checks takes the options")

# --- duplicate index: warning, alert once, recovery ------------------------
alerts0 = db.execute("SELECT count(*) FROM vigil_alerts").fetchone()[0]
db.execute("CREATE INDEX trades_user ON trades(user_id)")
db.execute("CREATE INDEX trades_user_again ON trades(user_id)")
h = health(db)
dup = {c["check"]: c for c in h["checks"]}["duplicate_indexes"]
check(dup["status"] == "warning" and dup["value"] == 1, f"duplicate index warns: {dup}")
check("trades_user_again" in json.dumps(dup["details"]), "the duplicate is named")
check(h["status"] == "degraded" and h["alerts"] == 1, f"one alert raised: {h['alerts']}")
check(any(i["check"] == "duplicate_indexes" for i in h["issues"]), "listed in issues")
a = db.execute("SELECT source, severity, \"check\", message, details FROM vigil_alerts ORDER BY id DESC LIMIT 1").fetchone()
check(a[0] == "health" and a[1] == "warning" and a[2] == "duplicate_indexes" and "Drop the duplicate" in a[3],
      f"the alert row: {a}")
check(json.loads(a[4])["from"] == "ok" and json.loads(a[4])["to"] == "warning", "details: from and to")
h = health(db)
check(h["alerts"] == 0, "no change, no alert")
st = db.execute("SELECT status FROM vigil_health_state WHERE \"check\" = 'duplicate_indexes'").fetchone()
check(st == ("warning",), f"state recorded: {st}")
db.execute("DROP INDEX trades_user_again")
h = health(db)
check(h["alerts"] == 1 and h["status"] == "healthy", f"recovery raises one alert: {h['alerts']} {h['issues']}")
a = db.execute("SELECT severity, message FROM vigil_alerts ORDER BY id DESC LIMIT 1").fetchone()
check(a[0] == "info" and "recovered" in a[1], f"recovery alert: {a}")
check(db.execute("SELECT count(*) FROM vigil_alerts").fetchone()[0] == alerts0 + 2, "exactly two alerts")

# --- free pages -------------------------------------------------------------
db.execute("CREATE TABLE junk (b BLOB)")
db.execute("INSERT INTO junk SELECT randomblob(4000) FROM generate_series(1, 1000)" if False else
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
           " INSERT INTO junk SELECT randomblob(4000) FROM n")
db.execute("DROP TABLE junk")
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
f = one(db, "freelist")
check(f["status"] == "critical" and f["value"] > 50, f"a dropped 4 MB table leaves free pages: {f}")
check("VACUUM" in f["message"], "the remedy says VACUUM")
size = one(db, "database_size")
check(size["status"] == "ok" and size["value"] > 3, f"database size without a limit: {size}")
setting(db, "database_size_warning_mb", 1)
check(one(db, "database_size")["status"] == "warning", "database size over its warning")
setting(db, "database_size_critical_mb", 2)
check(one(db, "database_size")["status"] == "critical", "database size over its critical")
setting(db, "database_size_warning_mb", 0)
setting(db, "database_size_critical_mb", 0)
db.execute("VACUUM")
f = one(db, "freelist")
check(f["status"] == "ok" and f["value"] == 0, f"after VACUUM: {f}")

# --- disk space by thresholds ------------------------------------------------
d = one(db, "disk_space")
check(d["status"] == "ok" and 0 < d["value"] <= 100 and d["details"]["total_mb"] > 0, f"disk space: {d}")
setting(db, "disk_free_warning_percent", 100)
check(one(db, "disk_space")["status"] == "warning", "disk under its warning threshold")
setting(db, "disk_free_critical_percent", 100)
check(one(db, "disk_space")["status"] == "critical", "disk under its critical threshold")
setting(db, "disk_free_warning_percent", 20)
setting(db, "disk_free_critical_percent", 10)
mem = connect(":memory:")
check(one(mem, "disk_space")["status"] == "skipped", "in memory: no disk to check")

# --- journal mode and foreign keys ------------------------------------------
other = os.path.join(tmp, "j.db")
j = connect(other)
j.execute("CREATE TABLE t (x)")
j.execute("PRAGMA journal_mode = off")
check(one(j, "journal_mode")["status"] == "critical", "journal_mode off is critical")
j.execute("PRAGMA journal_mode = memory")
check(one(j, "journal_mode")["status"] == "warning", "journal_mode memory warns")
j.execute("PRAGMA journal_mode = delete")
r = one(j, "journal_mode")
check(r["status"] == "ok" and "wal" in r["message"], f"delete is ok, with a word on wal: {r}")
check(one(j, "foreign_keys")["status"] == "ok", "foreign keys off but none declared")
j.close()
db.execute("PRAGMA foreign_keys = OFF")
fk = one(db, "foreign_keys")
check(fk["status"] == "warning" and "foreign_keys = ON" in fk["message"], f"keys declared, enforcement off: {fk}")
db.execute("INSERT INTO trades (user_id, qty) VALUES (999, 1)")
check("foreign_key_check" not in checks(db), "foreign_key_check is deep")
fkc = one(db, "foreign_key_check", deep=True)
check(fkc["status"] == "warning" and fkc["value"] == 1 and fkc["details"]["first"][0]["table"] == "trades",
      f"an orphan row: {fkc}")
db.execute("DELETE FROM trades")
db.execute("PRAGMA foreign_keys = ON")

# --- slow executions ---------------------------------------------------------
setting(db, "slow_query_ms", 0)
for i in range(3):
    db.execute("SELECT count(*) FROM users WHERE id > ?", (i,)).fetchall()
s = one(db, "slow_queries")
check(s["status"] == "warning" and s["value"] >= 3, f"slow executions warn: {s}")
setting(db, "slow_queries_critical", 2)
check(one(db, "slow_queries")["status"] == "critical", "over the critical count")
setting(db, "slow_query_ms", 1000)
setting(db, "slow_queries_critical", 50)

# --- busy waits --------------------------------------------------------------
busy_path = os.path.join(tmp, "b.db")
a_db = sqlite3.connect(busy_path, isolation_level=None, timeout=0, check_same_thread=False)
a_db.enable_load_extension(True)
a_db.load_extension(MODULE)
b_db = connect(busy_path, timeout=0)
a_db.execute("PRAGMA journal_mode = wal")
a_db.execute("CREATE TABLE q (x)")
check(a_db.execute("SELECT vigil_busy_backoff(300)").fetchone()[0] == 300, "vigil_busy_backoff returns max_ms")
b_db.execute("BEGIN IMMEDIATE")
b_db.execute("INSERT INTO q VALUES (1)")
t0 = time.monotonic()
e = err(a_db, "INSERT INTO q VALUES (2)")
waited = time.monotonic() - t0
check("locked" in e and 0.25 <= waited < 3, f"gives up after about max_ms: {e!r} {waited:.3f}")
lw = one(a_db, "lock_waits")
check(lw["value"] >= 250 and lw["details"]["timeouts"] == 1 and lw["details"]["waits"] >= 3,
      f"the wait is counted: {lw}")
check(lw["details"]["busy_backoff"] is True, "installed on this connection")
b_db.execute("ROLLBACK")
setting(a_db, "lock_wait_warning_ms", 100)
check(one(a_db, "lock_waits")["status"] == "warning", "a wait over lock_wait_warning_ms warns")
setting(a_db, "lock_wait_critical_ms", 200)
check(one(a_db, "lock_waits")["status"] == "critical", "and over lock_wait_critical_ms is critical")
# Waiting now, seen from the other connection; then success after retries.
a_db.execute("SELECT vigil_busy_backoff(5000)")
b_db.execute("BEGIN IMMEDIATE")
b_db.execute("INSERT INTO q VALUES (1)")
seen = {}


def writer():
    seen["error"] = err(a_db, "INSERT INTO q VALUES (3)")


th = threading.Thread(target=writer)
th.start()
deadline = time.monotonic() + 3
pool = {}
while time.monotonic() < deadline:
    pool = json.loads(b_db.execute("SELECT vigil_pool_status()").fetchone()[0])
    if pool["waiting"] >= 1:
        break
    time.sleep(0.01)
check(pool.get("waiting") == 1 and pool.get("connections") == 2, f"waiting seen by the pool status: {pool}")
check(pool.get("max_connections") is None and "other processes" in pool.get("notes", ""), "says what it cannot know")
b_db.execute("COMMIT")
th.join(10)
check(seen.get("error") == "", f"the insert succeeds once the lock is free: {seen}")
check(a_db.execute("SELECT count(*) FROM q").fetchone()[0] == 2, "both rows in")
# Loading the module again replaces the connection's monitor: the busy
# handler goes with the old one and comes back with the new (the sanitizer
# stage runs this under ASan: the handler once kept a freed pointer).
a_db.execute("SELECT vigil_busy_backoff(1200)")
a_db.load_extension(MODULE)
b_db.execute("BEGIN IMMEDIATE")
b_db.execute("INSERT INTO q VALUES (9)")
t0 = time.monotonic()
e = err(a_db, "INSERT INTO q VALUES (10)")
waited = time.monotonic() - t0
check("locked" in e and waited >= 1.0, f"after a reload the back-off still waits: {e!r} {waited:.3f}")
b_db.execute("ROLLBACK")
a_db.execute("SELECT vigil_busy_backoff(0)")
b_db.execute("BEGIN IMMEDIATE")
t0 = time.monotonic()
e = err(a_db, "INSERT INTO q VALUES (4)")
check("locked" in e and time.monotonic() - t0 < 0.2, "0 removes the handler: SQLITE_BUSY at once")
b_db.execute("ROLLBACK")
for bad, code in [("NULL", "must not be NULL"), ("-1", "from 0 to 3600000"), ("3600001", "from 0 to 3600000"),
                  ("'abc'", "integer"), ("1.5", "integer")]:
    e = err(a_db, f"SELECT vigil_busy_backoff({bad})")
    check(e.startswith("vigil: ") and code in e, f"vigil_busy_backoff({bad}): {e!r}")
m = a_db.execute("SELECT vigil_metrics()").fetchone()[0]
check("vigil_busy_waits" in m and "vigil_connections_waiting 0" in m, "busy figures in the metrics")
a_db.close()
b_db.close()

# --- vigil's own state -------------------------------------------------------
db.execute("SELECT vigil_rule_add('users', 'email', 'email')")
db.execute("SELECT vigil_enforce('users')")
check(one(db, "enforcement")["status"] == "ok", "enforced table: ok")
trig = db.execute("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'users' LIMIT 1").fetchone()[0]
db.execute(f'DROP TRIGGER "{trig}"')
en = one(db, "enforcement")
check(en["status"] == "critical" and en["details"]["tables"] == ["users"], f"a dropped trigger is critical: {en}")
check("vigil_enforce" in en["message"], "the remedy names vigil_enforce")
db.execute("SELECT vigil_enforce('users')")
check(one(db, "enforcement")["status"] == "ok", "enforced again")

db.execute("SELECT vigil_unenforce('users')")
db.executemany("INSERT INTO users (email) VALUES (?)", [("bad",)] * 9 + [("ok@example.com",)])
db.execute("SELECT vigil_quality_report()")
q = one(db, "quality_score")
check(q["status"] == "warning" and q["value"] < 80, f"a low quality score warns: {q}")
n_alerts = db.execute("SELECT count(*) FROM vigil_alerts WHERE source = 'health' AND \"check\" = 'quality_score'").fetchone()[0]
check(n_alerts == 0, "health raises no alert of its own for quality (the report did)")
db.execute("DELETE FROM users")

db.execute("SELECT vigil_audit_enable('trades')")
for i in range(5):
    db.execute("INSERT INTO trades (qty) VALUES (?)", (i,))
ab = one(db, "audit_backlog")
check(ab["status"] == "ok" and ab["value"] == 5, f"five unsealed entries: {ab}")
setting(db, "audit_backlog_warning", 4)
check(one(db, "audit_backlog")["status"] == "warning", "backlog over its warning")
db.execute("SELECT vigil_audit_seal()")
check(one(db, "audit_backlog")["value"] == 0, "sealed: no backlog")
setting(db, "audit_backlog_warning", 10000)
check(one(db, "audit_chain", deep=True)["status"] == "ok", "the chain verifies")
db.execute("UPDATE vigil_audit_log SET new_row = '{\"qty\": 1000}' WHERE seq = 2")
ac = one(db, "audit_chain", deep=True)
check(ac["status"] == "critical" and ac["details"]["first_invalid"] is not None, f"a tampered entry: {ac}")
check("audit_chain" not in checks(db), "the chain's verification is deep")

db.execute("SELECT vigil_migration_add('1', 'first', 'CREATE TABLE m1 (x)')")
db.execute("SELECT vigil_migrate()")
check(one(db, "migrations")["status"] == "ok" and one(db, "schema_drift")["status"] == "ok", "applied, no drift")
db.execute("CREATE TABLE outside (x)")
sd = one(db, "schema_drift")
check(sd["status"] == "warning" and sd["value"] >= 1 and "outside" in json.dumps(sd["details"]), f"schema drift: {sd}")
db.execute("DROP TABLE outside")
db.execute("SELECT vigil_migration_add('1', 'first', 'CREATE TABLE m1 (x, y)')")
mg = one(db, "migrations")
check(mg["status"] == "critical" and mg["value"] >= 1, f"a drifted migration is critical: {mg}")

# --- history when asked -------------------------------------------------------
n0 = db.execute("SELECT count(*) FROM vigil_health_history").fetchone()[0]
health(db)
check(db.execute("SELECT count(*) FROM vigil_health_history").fetchone()[0] == n0, "no history unless asked")
h = health(db, {"record": True})
hist = db.execute("SELECT at, status, checks, source FROM vigil_health_history ORDER BY id DESC LIMIT 1").fetchone()
check(hist is not None and hist[1] == h["status"] and hist[3] == "call" and hist[0] == h["checked_at"],
      f"{{\"record\": true}} keeps the run: {hist}")
check(len(json.loads(hist[2])) == len(h["checks"]), "every check in the history row")
db.execute("INSERT INTO vigil_health_history (at, status, checks, source) VALUES ('2000-01-01T00:00:00.000Z', 'healthy', '[]', 'call')")
health(db, {"record": True})
check(db.execute("SELECT count(*) FROM vigil_health_history WHERE at < '2001'").fetchone()[0] == 0,
      "rows older than history_days go")
# A bad history_days in the file: the history is not kept, the states and
# alerts still are (review of issue 18).
db.execute("INSERT OR REPLACE INTO vigil_config (key, value) VALUES ('history_days', 'abc')")
db.execute("CREATE INDEX users_email_1 ON users(email)")
db.execute("CREATE INDEX users_email_2 ON users(email)")
n_hist = db.execute("SELECT count(*) FROM vigil_health_history").fetchone()[0]
h = health(db, {"record": True})
check(isinstance(h["alerts"], int) and h["alerts"] >= 1 and "history" in h.get("not_recorded", "") and
      db.execute("SELECT status FROM vigil_health_state WHERE \"check\" = 'duplicate_indexes'").fetchone()
      == ("warning",), f"states and alerts kept, the history's failure said: {h.get('alerts')} {h.get('not_recorded')}")
check(db.execute("SELECT count(*) FROM vigil_health_history").fetchone()[0] == n_hist, "no history row")
db.execute("DELETE FROM vigil_config WHERE key = 'history_days'")
db.execute("DROP INDEX users_email_2")
db.execute("DROP INDEX users_email_1")
health(db)
e = err(db, "SELECT vigil_health('{\"record\": 1}')")
check("record" in e and "true or false" in e, f"record must be a boolean: {e!r}")

# --- the vigil command: health once, and on a schedule (SQLite has no worker) --
CLI = os.path.join(os.path.dirname(os.path.dirname(MODULE)), "cli", "vigil")
if os.path.exists(CLI):  # the sanitizer build has no command (-Dcli=false)
    cli_db = os.path.join(tmp, "cli.db")
    sqlite3.connect(cli_db).execute("CREATE TABLE y (b)").connection.close()
    base = [CLI, "--db", cli_db, "--module", MODULE]
    r = subprocess.run(base + ["--json", "health"], capture_output=True, text=True)
    doc = json.loads(r.stdout) if r.stdout.startswith("{") else {}
    check(r.returncode == 0 and doc.get("status") == "healthy", f"vigil health: exit 0 when healthy {r.stderr}")
    c2 = connect(cli_db)
    c2.execute("CREATE TABLE x (a)")
    c2.execute("CREATE INDEX x1 ON x(a)")
    c2.execute("CREATE INDEX x2 ON x(a)")
    r = subprocess.run(base + ["health"], capture_output=True, text=True)
    check(r.returncode == 4 and "duplicate_indexes" in r.stdout, f"exit 4 when degraded: {r.returncode} {r.stdout}")
    p = subprocess.Popen(base + ["health", "--every", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and c2.execute("SELECT count(*) FROM vigil_health_history").fetchone()[0] < 4:
        time.sleep(0.1)
    p.terminate()
    out, errs = p.communicate(10)
    check(p.returncode == 0 and out.count("health: degraded") >= 2, f"--every runs until SIGTERM: {p.returncode} {errs}")
    check(c2.execute("SELECT count(*) FROM vigil_health_history").fetchone()[0] >= 4, "each run kept in the history")
    c2.close()
    r = subprocess.run([CLI, "--db", os.path.join(tmp, "typo.db"), "--module", MODULE, "health"], capture_output=True,
                       text=True)
    check(r.returncode == 2 and "no database file" in r.stderr and not os.path.exists(os.path.join(tmp, "typo.db")),
          f"a missing file is not created: {r.returncode} {r.stderr}")
    # SIGTERM ends the loop at once, even while it waits on a locked file.
    locker = sqlite3.connect(cli_db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    p = subprocess.Popen(base + ["health", "--every", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    t0 = time.monotonic()
    p.terminate()
    p.communicate(10)
    check(p.returncode == 0 and time.monotonic() - t0 < 3, f"SIGTERM during a lock wait: {p.returncode}")
    locker.execute("ROLLBACK")
    locker.close()
    for args in (["health", "--every", "0"], ["status", "--every", "5"], ["health", "--every", "x"]):
        r = subprocess.run(base + args, capture_output=True, text=True)
        check(r.returncode == 2 and "--every" in r.stderr, f"usage: {args} {r.returncode} {r.stderr[:100]}")

# --- metrics ----------------------------------------------------------------
text = db.execute("SELECT vigil_metrics()").fetchone()[0]
check("vigil_health_status" in text and 'vigil_check_status{check="migrations"} 2' in text, "metrics text")
promtool = shutil.which("promtool")
if promtool:
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
    check(p.returncode == 0, f"promtool check metrics: {p.stdout} {p.stderr}")
else:
    check(False, "promtool (Debian package prometheus) is installed")

# --- bad input ---------------------------------------------------------------
for opts, want in [("[]", "must be a JSON object"), ('{"deep": 1}', "true or false"), ('{"bogus": true}', "unknown health option"),
                   ('{"checks": ["nope"]}', "unknown health check"), ('{"checks": "disk_space"}', "array"), ("{", "")]:
    e = err(db, "SELECT vigil_health(?)", (opts,))
    check(e.startswith("vigil: ") and want in e, f"vigil_health({opts}): {e!r}")
    e = err(db, "SELECT * FROM vigil_health_checks(?)", (opts,))
    check(e.startswith("vigil: ") and want in e, f"vigil_health_checks({opts}): {e!r}")
check(json.loads(db.execute("SELECT vigil_health(NULL)").fetchone()[0])["checks"], "NULL options: the defaults")
for key, value, want in [("connections_warning_percent", "101", "from 0 to 100"), ("lock_wait_warning_ms", "-5", "from 0"),
                         ("disk_free_warning_percent", "ten", "integer"), ("no_such_threshold", "1", "unknown setting")]:
    e = err(db, "SELECT vigil_config(?, ?)", (key, value))
    check(e.startswith("vigil: ") and want in e, f"vigil_config({key}, {value}): {e!r}")
# A threshold a hand-edited file holds out of range: that check is skipped.
db.execute("INSERT OR REPLACE INTO vigil_config (key, value) VALUES ('freelist_warning_percent', '9999')")
fl = one(db, "freelist")
check(fl["status"] in ("skipped", "ok"), f"an out-of-range stored threshold: {fl}")
db.execute("DELETE FROM vigil_config WHERE key = 'freelist_warning_percent'")
db.execute("CREATE VIEW v_health AS SELECT vigil_health() AS h")
check("unsafe use" in err(db, "SELECT * FROM v_health"), "vigil_health is DIRECTONLY: a view cannot call it")
# What describes the database (names, sizes, the file's directory) is
# DIRECTONLY: an attached file's trigger cannot copy main's facts into its
# own tables (review of issue 17).
for fn in ["(SELECT count(*) FROM vigil_health_checks)", "vigil_pool_status()", "vigil_metrics()",
           "vigil_index_advice()"]:
    db.execute(f"CREATE VIEW v_describe AS SELECT {fn} AS x")
    check("unsafe use" in err(db, "SELECT * FROM v_describe"), f"{fn} is DIRECTONLY")
    db.execute("DROP VIEW v_describe")
hostile = os.path.join(tmp, "hostile.db")
hdb = sqlite3.connect(hostile)
hdb.executescript("""CREATE TABLE bait (x); CREATE TABLE loot (y);
CREATE TRIGGER steal AFTER INSERT ON bait BEGIN
  INSERT INTO loot SELECT group_concat("check" || message) FROM vigil_health_checks('{"deep": true}');
END;""")
hdb.close()
db.execute("ATTACH ? AS h", (hostile,))
e = err(db, "INSERT INTO h.bait VALUES (1)")
check("unsafe use" in e, f"an attached file's trigger cannot read main's health: {e!r}")
check(db.execute("SELECT count(*) FROM h.loot").fetchone()[0] == 0, "nothing carried off")
db.execute("DETACH h")
db.execute("CREATE VIEW v_backoff AS SELECT vigil_busy_backoff(1000000)")
check("unsafe use" in err(db, "SELECT * FROM v_backoff"), "vigil_busy_backoff is DIRECTONLY")

# --- a corrupted page (deep) and a read-only file ----------------------------
db.close()
bad = os.path.join(tmp, "bad.db")
c2 = sqlite3.connect(bad)
c2.execute("CREATE TABLE t (x TEXT)")
c2.execute("CREATE INDEX t_x ON t(x)")
c2.executemany("INSERT INTO t VALUES (?)", [("row %d %s" % (i, "y" * 50),) for i in range(2000)])
c2.commit()
pages = c2.execute("PRAGMA page_count").fetchone()[0]
psize = c2.execute("PRAGMA page_size").fetchone()[0]
c2.close()
with open(bad, "r+b") as fh:
    fh.seek(psize * (pages - 3) + 100)
    fh.write(b"\xff" * 200)
bdb = connect(bad)
qc = one(bdb, "quick_check", deep=True)
check(qc["status"] == "critical" and qc["value"] >= 1 and qc["details"]["problems"], f"a corrupted page: {qc}")
h = health(bdb, {"deep": True})
check(h["status"] == "unhealthy", f"the whole call still answers: {h['status']}")
bdb.close()
ro = connect(path, readonly=True)
h = health(ro)
check(h["alerts"] is None, f"a read-only file records nothing: {h['alerts']}")
ro.close()

sys.exit(check.summary("sqlite health"))
