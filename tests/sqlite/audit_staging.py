#!/usr/bin/python3
"""audit_staging.py MODULE [--seeds N,...] — SQLite's staged audit entries (docs/audit.md,
"Staged entries") against the truth, found by the attack review of the
capture table:

- a shadow log kept by plain triggers (rolled back with the same
  transactions and savepoints) and vigil's log after sealing agree entry
  for entry, in order, over a random mix of changes to a narrow table and
  a wide one (their entries pass through vigil_audit_capture8 and
  vigil_audit_capture), transactions, savepoints
  (also the one that opens a transaction), failing statements, statements
  large enough to be written mid-transaction, and seals inside and
  outside transactions (fixed seed);
- one statement whose entries go through both capture tables gives them
  one time, in order;
- found by the attack review of the two capture tables: after a rollback
  (a failing statement, ROLLBACK TO) an entry joined a chunk older than
  the other table's entries, so the log misplaced it, or two batches got
  one id and COMMIT failed, losing the transaction; and a seal inside a
  savepoint sealed the entries after it before those before it (seeds 5
  and 11 of the random mix found that one too);
- found by the second review: a seal inside a savepoint, rolled back,
  left the transaction's batch-id base inside an earlier transaction's
  range (COMMIT failed, or the log misordered); a write that fails as a
  statement starts dropped every entry of the transaction, which then
  committed without them; and a write that fails after some batches left
  those in memory to be written twice;
- found by the third review: a TEMP trigger on vigil_audit_batch created
  after the transaction's first write was not refused, and when it made
  the write fail, the write's own rollback dropped the held entries;
- a 2,000-column table with redacted columns seals its UPDATE;
- a trigger on vigil_audit_batch is refused, not run inside the write.
Prints 'N passed, N failed'."""
import json
import os
import random
import sqlite3
import sys
import tempfile

from harness import Checks
from harness import connect as connect_module
from harness import error_of

module = sys.argv[1]
# --seeds 5: the random mix's seeds (the sanitizer stage runs one: each
# takes 40 s there).
SEEDS = (1, 2, 5, 11)
if len(sys.argv) > 3 and sys.argv[2] == "--seeds":
    SEEDS = tuple(int(s) for s in sys.argv[3].split(","))
checks = Checks()

def shadow_of(t):
    return f"""
CREATE TRIGGER sh_i_{t} AFTER INSERT ON {t} BEGIN INSERT INTO shadow_log (t, op, id, new_v) VALUES ('{t}', 'INSERT', NEW.id, NEW.v); END;
CREATE TRIGGER sh_u_{t} AFTER UPDATE ON {t} BEGIN INSERT INTO shadow_log (t, op, id, old_v, new_v) VALUES ('{t}', 'UPDATE', NEW.id, OLD.v, NEW.v); END;
CREATE TRIGGER sh_d_{t} AFTER DELETE ON {t} BEGIN INSERT INTO shadow_log (t, op, id, old_v) VALUES ('{t}', 'DELETE', OLD.id, OLD.v); END;
"""


SHADOW = "CREATE TABLE shadow_log (n INTEGER PRIMARY KEY, t TEXT, op TEXT, id INTEGER, old_v TEXT, new_v TEXT);" + \
    shadow_of("items")
# Ten columns: its entries go through vigil_audit_capture, items' (two)
# through vigil_audit_capture8.
WIDE = "CREATE TABLE wide (id INTEGER PRIMARY KEY, v TEXT, c1, c2, c3, c4, c5, c6, c7, c8);" + shadow_of("wide")


def audited(path, wide=False):
    """A connection to a new file with items (and wide) audited and shadowed."""
    db = connect_module(module, path)
    db.executescript("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT);" + SHADOW + (WIDE if wide else ""))
    db.execute("SELECT vigil_audit_enable('items')")
    if wide:
        db.execute("SELECT vigil_audit_enable('wide')")
    return db


def random_mix(path, seed):
    rnd = random.Random(seed)
    db = connect_module(module, path)
    db.executescript("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT);" + SHADOW + WIDE)
    db.execute("SELECT vigil_audit_enable('items')")
    db.execute("SELECT vigil_audit_enable('wide')")
    next_id = 1
    depth = 0  # open savepoints
    in_tx = False
    for step in range(250):
        r = rnd.random()
        t = rnd.choice(["items", "wide"])
        cols = "(id, v)" if t == "items" else "(id, v, c1, c8)"
        extra = "" if t == "items" else ", 1, x'00ff'"
        try:
            if r < 0.25:
                rows = rnd.choice([1, 1, 2, 5, 40])
                values = []
                for _ in range(rows):
                    values.append((next_id, "v%d" % next_id))
                    next_id += 1
                if rnd.random() < 0.15:  # a conflict: the statement fails as a whole
                    values.append((rnd.randrange(1, next_id), "dup"))
                db.execute(f"INSERT INTO {t} {cols} VALUES " + ", ".join(f"(?, ?{extra})" for _ in values),
                           [x for v in values for x in v])
            elif r < 0.28:
                # Large enough to be written while the transaction goes on
                # (1 MiB at the next statement, 4 MiB after an entry).
                n = rnd.choice([9000, 36000])
                db.execute("WITH RECURSIVE g(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
                           f"INSERT INTO {t} {cols} SELECT i, printf('%.100c', 'x') || i{extra} FROM g",
                           (next_id, next_id + n - 1))
                next_id += n
            elif r < 0.40:
                db.execute(f"UPDATE {t} SET v = v || '+' WHERE id % ? = 0 AND id >= ?", (rnd.choice([3, 7]), next_id - 400))
            elif r < 0.45:
                db.execute(f"DELETE FROM {t} WHERE id % ? = 1 AND id >= ?", (rnd.choice([5, 11]), next_id - 400))
            elif r < 0.55 and not in_tx and depth == 0:
                db.execute("BEGIN")
                in_tx = True
            elif r < 0.62 and (in_tx or depth > 0):
                if rnd.random() < 0.5:
                    db.execute("COMMIT")
                else:
                    db.execute("ROLLBACK")
                in_tx, depth = False, 0
            elif r < 0.72:
                db.execute(f"SAVEPOINT s{depth}")  # outside a transaction it opens one
                depth += 1
            elif r < 0.80 and depth > 0:
                k = rnd.randrange(depth)
                db.execute(f"ROLLBACK TO s{k}")
                if rnd.random() < 0.5:
                    db.execute(f"RELEASE s{k}")
                    depth = k
                else:
                    depth = k + 1
            elif r < 0.86 and depth > 0:
                k = rnd.randrange(depth)
                db.execute(f"RELEASE s{k}")
                depth = k
            elif r < 0.92:
                db.execute("SELECT vigil_audit_seal()").fetchone()
            else:
                db.execute("SELECT vigil_set_actor(?)", (rnd.choice(["ann", "bob", None]),)).fetchone()
        except sqlite3.IntegrityError:
            pass
        if db.in_transaction is False:
            in_tx, depth = False, 0
    if db.in_transaction:
        db.execute("COMMIT")
    db.execute("SELECT vigil_audit_seal()").fetchone()
    log = db.execute("SELECT table_name, operation, json_extract(row_key, '$.id'), json_extract(old_row, '$.v'), "
                     "json_extract(new_row, '$.v') FROM vigil_audit_log WHERE table_name IN ('items', 'wide') "
                     "ORDER BY id").fetchall()
    shadow = db.execute("SELECT t, op, id, old_v, new_v FROM shadow_log ORDER BY n").fetchall()
    report = json.loads(db.execute("SELECT vigil_audit_verify()").fetchone()[0])
    staged = db.execute("SELECT count(*) FROM vigil_audit_batch").fetchone()[0]
    db.close()
    return log, shadow, report, staged


with tempfile.TemporaryDirectory() as d:
    for seed in SEEDS:
        log, shadow, report, staged = random_mix(os.path.join(d, f"mix{seed}.db"), seed)
        first = next((i for i, (a, b) in enumerate(zip(log, shadow)) if a != b), None)
        checks(log == shadow, f"seed {seed}: the sealed log is the shadow log ({len(log)} and {len(shadow)} entries; "
                              f"first difference at {first}: {log[first] if first is not None else None} "
                              f"vs {shadow[first] if first is not None else None})")
        checks(report.get("valid") is True and report.get("unsealed") == 0 and staged == 0,
               f"seed {seed}: the chain verifies, nothing left staged: {report}, {staged} batches")

    # Entries kept in memory behind a mark (the statement's own savepoint, a
    # user's) and a later statement large enough to be written while it
    # runs: the sealer still reads them in the order they happened.
    for opener in ("BEGIN", "SAVEPOINT outer"):
        db = connect_module(module, os.path.join(d, f"order{opener[0]}.db"))
        db.executescript("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT);" + SHADOW)
        db.execute("SELECT vigil_audit_enable('items', '{\"statement\": true}')")
        db.execute("SELECT vigil_set_actor('ann')")
        db.execute(opener)
        db.execute("INSERT INTO items VALUES (1, 'first')")
        db.execute("SAVEPOINT inner")
        db.execute("UPDATE items SET v = 'second' WHERE id = 1")
        db.execute("WITH RECURSIVE g(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM g WHERE i < 40001) "
                   "INSERT INTO items SELECT i, printf('%.100c', 'x') FROM g")
        written = db.execute("SELECT count(*) FROM vigil_audit_batch").fetchone()[0]
        db.execute("RELEASE inner")
        db.execute("DELETE FROM items WHERE id = 1")
        db.execute("COMMIT" if opener == "BEGIN" else "RELEASE outer")
        db.execute("SELECT vigil_audit_seal()").fetchone()
        log = db.execute("SELECT operation, json_extract(row_key, '$.id') FROM vigil_audit_log ORDER BY id").fetchall()
        shadow = db.execute("SELECT op, id FROM shadow_log ORDER BY n").fetchall()
        checks(written > 0, f"{opener}: the large statement was written while the transaction ran ({written} batches)")
        checks(log == shadow, f"{opener}: the log keeps the order of the changes: {log[:2]} ... {log[-1:]}")
        who = db.execute("SELECT count(*), count(*) FILTER (WHERE actor = 'ann' AND statement IS NOT NULL "
                         "AND at LIKE '____-__-__T__:__:__.______Z') FROM vigil_audit_log").fetchone()
        checks(who[0] == who[1], f"{opener}: every entry keeps its actor, statement and time: {who}")
        db.close()

    # One statement whose entries pass through both capture tables (a
    # trigger of the user's copies each row of items into wide): they keep
    # their order and share the statement's time, though the statement
    # outlasts the clock's millisecond (slow() sleeps), with and without a
    # transaction around it; the second capture table joins mid-statement.
    import time

    def slow():
        time.sleep(0.004)
        return ""

    for opener in (None, "BEGIN"):
        db = connect_module(module, os.path.join(d, f"both{opener}.db"))
        db.create_function("slow", 0, slow)
        db.executescript("CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT);" + SHADOW + WIDE +
                         "CREATE TRIGGER fan AFTER INSERT ON items BEGIN "
                         "INSERT INTO wide (id, v) VALUES (NEW.id, NEW.v || slow()); END;")
        db.execute("SELECT vigil_audit_enable('items')")
        db.execute("SELECT vigil_audit_enable('wide')")
        if opener:
            db.execute(opener)
        db.execute("INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        db.execute("SAVEPOINT s")
        db.execute("INSERT INTO items VALUES (4, 'd')")
        db.execute("ROLLBACK TO s")
        db.execute("RELEASE s")
        db.execute("INSERT INTO items VALUES (5, 'e')")
        if opener:
            db.execute("COMMIT")
        db.execute("SELECT vigil_audit_seal()").fetchone()
        log = db.execute("SELECT table_name, operation, json_extract(row_key, '$.id'), at FROM vigil_audit_log "
                         "ORDER BY id").fetchall()
        shadow = db.execute("SELECT t, op, id FROM shadow_log ORDER BY n").fetchall()
        # (The order of one row's triggers is SQLite's: compared per table.)
        for t in ("items", "wide"):
            checks([r[:3] for r in log if r[0] == t] == [r for r in shadow if r[0] == t],
                   f"{opener}: {t}'s entries, as the shadow log has them: {log}")
        times = [r[3] for r in log]
        checks(len(log) == 8 and len(set(times[:6])) == 1 and times[6] == times[7] and times[6] != times[0],
               f"{opener}: the entries of one statement share its time, across both tables: {times}")
        report = json.loads(db.execute("SELECT vigil_audit_verify()").fetchone()[0])
        checks(report.get("valid") is True and report.get("unsealed") == 0, f"{opener}: the chain verifies: {report}")
        db.close()

    # Rollbacks, then the other table: each case's log is its shadow log,
    # in order, and COMMIT succeeds.
    cases = {
        "failing statement": ["BEGIN", "INSERT INTO items VALUES (1, 'a1')", "INSERT INTO wide (id, v) VALUES (2, 'b2')",
                              "INSERT INTO items VALUES (3, 'x'), (1, 'dup')", "INSERT INTO items VALUES (4, 'a4')",
                              "COMMIT"],
        "rollback to": ["BEGIN", "INSERT INTO items VALUES (1, 'a1')", "INSERT INTO wide (id, v) VALUES (2, 'b2')",
                        "SAVEPOINT s", "INSERT INTO items VALUES (3, 'x')", "ROLLBACK TO s", "RELEASE s",
                        "INSERT INTO items VALUES (4, 'a4')", "COMMIT"],
        "written at a savepoint": ["BEGIN", "INSERT INTO items VALUES (1, 'a1')", "SAVEPOINT s1",
                                   "INSERT INTO wide (id, v) VALUES (2, 'b2')", "SAVEPOINT s2",
                                   "INSERT INTO items VALUES (3, 'x')", "ROLLBACK TO s2", "RELEASE s2",
                                   "INSERT INTO items VALUES (4, 'a4' || hex(randomblob(1100000)))", "SAVEPOINT s3",
                                   "RELEASE s3", "RELEASE s1", "COMMIT"],
        "sealed in a savepoint": ["BEGIN", "INSERT INTO items VALUES (1, 'a1')", "SAVEPOINT s",
                                  "INSERT INTO items VALUES (2, 'a2')", "INSERT INTO wide (id, v) VALUES (3, 'b3')",
                                  "SELECT vigil_audit_seal()", "RELEASE s", "SELECT vigil_audit_seal()",
                                  "INSERT INTO items VALUES (4, 'a4')", "COMMIT"],
    }
    for name, script in cases.items():
        db = audited(os.path.join(d, f"case-{name.replace(' ', '-')}.db"), wide=True)
        failed = []
        for sql in script:
            e = error_of(db, sql)
            if e is not None and "dup" not in sql:
                failed.append((sql[:40], str(e)))
        db.execute("SELECT vigil_audit_seal()").fetchone()
        log = db.execute("SELECT table_name, json_extract(row_key, '$.id') FROM vigil_audit_log ORDER BY id").fetchall()
        shadow = db.execute("SELECT t, id FROM shadow_log ORDER BY n").fetchall()
        report = json.loads(db.execute("SELECT vigil_audit_verify()").fetchone()[0])
        checks(not failed and log == shadow and len(log) >= 3 and report.get("valid") is True,
               f"{name}: the log is the shadow log, in order, and every statement but the failing one ran: "
               f"{log} vs {shadow}; {failed}; {report.get('valid')}")
        db.close()

    # A seal inside a savepoint that is rolled back: the batches it sealed
    # come back, below the base the transaction computed after the seal.
    for gap in (False, True):
        db = audited(os.path.join(d, f"base{gap}.db"), wide=True)
        failed = []
        script = ["BEGIN", "INSERT INTO items VALUES (1, 'a')"] + \
            (["INSERT INTO items VALUES (9, 'x'), (1, 'dup')"] if gap else []) + \
            ["INSERT INTO wide (id, v) VALUES (2, 'b')", "COMMIT", "BEGIN", "SAVEPOINT s", "SELECT vigil_audit_seal()",
             "INSERT INTO items VALUES (3, 'c')", "SELECT vigil_audit_seal()", "ROLLBACK TO s",
             "INSERT INTO items VALUES (4, 'd')", "COMMIT"]
        for sql in script:
            e = error_of(db, sql)
            if e is not None and "dup" not in sql:
                failed.append((sql, str(e)))
        db.execute("SELECT vigil_audit_seal()").fetchone()
        log = db.execute("SELECT table_name, json_extract(row_key, '$.id') FROM vigil_audit_log ORDER BY id").fetchall()
        shadow = db.execute("SELECT t, id FROM shadow_log ORDER BY n").fetchall()
        report = json.loads(db.execute("SELECT vigil_audit_verify()").fetchone()[0])
        checks(not failed and log == shadow == [("items", 1), ("wide", 2), ("items", 4)] and report.get("valid") is True,
               f"a seal rolled back{' after a gap' if gap else ''}: COMMIT succeeds and the log keeps the order: "
               f"{log}; {failed}")
        db.close()

    # A write that fails: at a statement's start (a TEMP trigger on
    # vigil_audit_batch is refused), the statement fails and the entries
    # stay; once the trigger is gone, COMMIT writes them all, once.
    db = audited(os.path.join(d, "refused.db"))
    db.execute("BEGIN")
    db.execute("CREATE TEMP TRIGGER watch AFTER INSERT ON main.vigil_audit_batch BEGIN SELECT 1; END")
    db.execute("INSERT INTO items VALUES (1, 'before')")
    db.execute("WITH RECURSIVE g(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM g WHERE i < 12001) "
               "INSERT INTO items SELECT i, printf('%.100c', 'x') FROM g")
    e = error_of(db, "INSERT INTO items VALUES (20000, 'a'), (20001, 'b')")
    db.execute("DROP TRIGGER temp.watch")
    db.execute("INSERT INTO items VALUES (20002, 'c')")
    db.execute("COMMIT")
    db.execute("SELECT vigil_audit_seal()").fetchone()
    log = db.execute("SELECT json_extract(row_key, '$.id') FROM vigil_audit_log ORDER BY id").fetchall()
    shadow = db.execute("SELECT id FROM shadow_log ORDER BY n").fetchall()
    checks(e is not None and log == shadow and len(log) == 12002,
           f"a write refused at a statement's start fails the statement and keeps the entries: {e}, "
           f"{len(log)} entries, {len(shadow)} changes")
    db.close()

    # A write that fails after some batches: the first (small entries) is
    # written, the next (incompressible, past SQLite's length limit) is
    # refused; the first must leave memory, or COMMIT writes it twice.
    db = audited(os.path.join(d, "toobig.db"))
    default_length = db.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
    db.execute("BEGIN")
    db.execute("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 1000) "
               "INSERT INTO items SELECT i, 's' || i FROM g")
    db.execute("WITH RECURSIVE g(i) AS (SELECT 1001 UNION ALL SELECT i + 1 FROM g WHERE i < 1012) "
               "INSERT INTO items SELECT i, hex(randomblob(50000)) FROM g")
    db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 300000)
    e = error_of(db, "INSERT INTO items VALUES (5000, 'refused')")
    batches = db.execute("SELECT count(*) FROM vigil_audit_batch").fetchone()[0]
    db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, default_length)
    after = error_of(db, "INSERT INTO items VALUES (5001, 'after')")
    commit = error_of(db, "COMMIT")
    db.execute("SELECT vigil_audit_seal()").fetchone()
    log = db.execute("SELECT json_extract(row_key, '$.id') FROM vigil_audit_log ORDER BY id").fetchall()
    shadow = db.execute("SELECT id FROM shadow_log ORDER BY n").fetchall()
    checks(e is not None and batches == 1 and after is None and commit is None and log == shadow and len(log) == 1013,
           f"a write refused after its first batch: that batch leaves memory; COMMIT writes the rest once: "
           f"{e}; {batches} batch written; then {after}; commit {commit}; {len(log)} entries, {len(shadow)} changes")
    db.close()

    # A trigger on vigil_audit_batch created in the middle of a transaction,
    # after vigil wrote batches: refused at the next write too (a trigger
    # that aborts would otherwise fail vigil's INSERT and roll it back),
    # with entries held behind a savepoint and a chunk cut at it.
    for cut in (False, True):
        db = audited(os.path.join(d, f"late-trigger{cut}.db"))
        big = ("WITH RECURSIVE g(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
               "INSERT INTO items SELECT i, hex(randomblob(100000)) FROM g")
        db.execute("BEGIN")
        db.execute("INSERT INTO items VALUES (0, 'before')")
        if cut:
            db.execute("SAVEPOINT a")
            db.execute("INSERT INTO items VALUES (-1, 'cut')")
        db.execute(big, (1, 30))  # 6 MB: written while the statement runs
        db.execute("CREATE TEMP TRIGGER watch AFTER INSERT ON main.vigil_audit_batch BEGIN SELECT RAISE(ABORT, 'no'); END")
        refused = [error_of(db, big, (100, 111)), error_of(db, "INSERT INTO items VALUES (500, 'x')")]
        db.execute("DROP TRIGGER temp.watch")
        db.execute("INSERT INTO items VALUES (501, 'y')")
        if cut:
            db.execute("RELEASE a")
        db.execute("COMMIT")
        db.execute("SELECT vigil_audit_seal()").fetchone()
        log = db.execute("SELECT json_extract(row_key, '$.id') FROM vigil_audit_log ORDER BY id").fetchall()
        shadow = db.execute("SELECT id FROM shadow_log ORDER BY n").fetchall()
        checks(any(e is not None for e in refused) and log == shadow and (0,) in log,
               f"a trigger created mid-transaction{' (a chunk cut at a savepoint)' if cut else ''} is refused and "
               f"nothing is lost: {refused}; {len(log)} entries, {len(shadow)} changes")
        db.close()

    # The savepoint that opens a transaction, rolled back: no entry.
    db = connect_module(module, os.path.join(d, "sp.db"))
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, w TEXT)")
    db.execute("SELECT vigil_audit_enable('t')")
    db.execute("SAVEPOINT x")
    db.execute("INSERT INTO t VALUES (1, 'never happened')")
    db.execute("SAVEPOINT y")
    db.execute("INSERT INTO t VALUES (2, 'nor this')")
    db.execute("ROLLBACK TO x")
    db.execute("RELEASE x")
    db.execute("SELECT vigil_audit_seal()").fetchone()
    checks(db.execute("SELECT count(*) FROM vigil_audit_log WHERE table_name = 't'").fetchone()[0] == 0,
           "ROLLBACK TO the savepoint that began the transaction leaves no entry")

    # A trigger on vigil_audit_batch does not run inside vigil's write.
    db.execute("CREATE TEMP TRIGGER watch AFTER INSERT ON main.vigil_audit_batch BEGIN SELECT 1; END")
    e = error_of(db, "INSERT INTO t VALUES (3, 'x')")
    checks(e is not None and "vigil_audit_batch has a trigger" in str(e), f"a trigger on vigil_audit_batch is refused: {e}")
    checks(db.execute("SELECT count(*) FROM t").fetchone()[0] == 0, "the refused commit kept nothing")
    db.execute("DROP TRIGGER temp.watch")
    db.execute("INSERT INTO t VALUES (3, 'x')")
    checks(db.execute("SELECT vigil_audit_seal()").fetchone()[0] == 1, "without it the entry is staged and sealed")

    db.close()

    # 2,000 columns (SQLite's limit here), 200 of them redacted: an UPDATE's
    # entry holds 4,200 values and seals.
    db = connect_module(module, os.path.join(d, "wide.db"))
    cols = ", ".join(f"c{i} INTEGER" for i in range(1, 2000))
    db.execute(f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {cols})")
    redact = json.dumps({"redact": [f"c{i}" for i in range(1, 201)]})
    db.execute("SELECT vigil_audit_enable('wide', ?)", (redact,))
    db.execute("INSERT INTO wide (id, c1, c500) VALUES (1, 1, 1)")
    db.execute("UPDATE wide SET c1 = 2, c500 = 2, c1999 = 7 WHERE id = 1")
    sealed = db.execute("SELECT vigil_audit_seal()").fetchone()[0]
    changed = db.execute("SELECT changed_columns FROM vigil_audit_log WHERE operation = 'UPDATE'").fetchone()
    checks(sealed == 2 and changed is not None and json.loads(changed[0]) == ["c1", "c500", "c1999"],
           f"a 2,000-column UPDATE with redacted columns seals: {sealed}, {changed}")
    db.close()

sys.exit(checks.summary("audit staging"))
