#!/usr/bin/python3
"""audit_concurrency.py SQLITE_MODULE [--pg] — the audit trail under
concurrent writers, concurrent sealers and a crash, with real processes.

  * SQLite: 4 processes (WAL, 30 s busy timeout, one HMAC key) change one
    file at once: transactions of an INSERT, two UPDATEs and a DELETE,
    autocommit statements, and rolled-back transactions, each process also
    sealing every 25 transactions beside the others. Each process counts
    the rows its committed statements changed (rowcount); the log must hold
    exactly that many entries per operation, replay to the table's state,
    and verify with every entry checked.
  * PostgreSQL (with --pg; PGHOST/PGPORT/PGUSER point at a cluster the
    caller started, vigil installed): 8 pgbench clients for
    VIGIL_AUDIT_SECONDS seconds (default 30) run three scripts whose every
    statement changes a known number of rows (each client owns its keys:
    one fresh INSERT, UPDATEs of keys that always exist, DELETEs that find
    exactly the rows they want), one of them rolled back. The changed-row
    counts come from pgbench's committed transactions per script and are
    checked against the table's own state; the log must hold exactly those
    entries, grouped by transaction as the scripts wrote them, and replay
    to the table. Meanwhile two sealer loops call vigil_audit_seal() every
    ~0.5 s (seal calls must return, having sealed, while the writers run),
    a verifier calls vigil_audit_verify() every ~5 s (valid every time),
    and a sampler watches pg_stat_activity for a writer waiting on a lock a
    sealer holds (sampling, not proof; no duration is asserted). Afterwards
    one more seal; the chain verifies with every entry checked and none
    unsealed.
    Then the sealer's watermark beside an open transaction, a rolled-back
    one and a REPEATABLE READ seal (pg_watermark).
    Then, in a database of its own with sealed and unsealed entries,
    kill -9 of a backend while its big INSERT ... SELECT's audit trigger is
    writing: after crash recovery none of that statement's entries exist,
    the committed ones do, and the chain seals and verifies.
Prints the figures and 'N passed, N failed'.
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

MODULE = sys.argv[1]
PG = "--pg" in sys.argv
SECONDS = int(os.environ.get("VIGIL_AUDIT_SECONDS", "30"))
SQLITE_TXNS = int(os.environ.get("VIGIL_AUDIT_SQLITE_TXNS", "300"))
KEY = "audit-concurrency-test-key-0123456789"
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


# ---- SQLite ---------------------------------------------------------------------------

# Each worker owns the keys of its owner number: 20 stable rows
# (owner * 1000 + 1..20) that are only updated, and 10 fresh rows at any
# time (each transaction inserts as many as it deletes). Counts are of
# committed statements only, each taken from the statement's rowcount.
SQLITE_WORKER = r"""
import json, random, sqlite3, sys
path, module, key, owner, txns = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
db = sqlite3.connect(path, isolation_level=None, timeout=30)
db.enable_load_extension(True)
db.load_extension(module)
db.execute("SELECT vigil_audit_key(?)", (key,))
rnd = random.Random(owner)
counts = {"INSERT": 0, "UPDATE": 0, "DELETE": 0, "transactions": 0, "rolled_back": 0}
next_fresh = [1_000_000 * (owner + 1) + 10]

def changed(sql, args, want):
    n = db.execute(sql, args).rowcount
    if n != want:
        raise SystemExit(f"{sql} {args}: {n} rows changed, {want} expected")
    return n

def insert():
    next_fresh[0] += 1
    return changed("INSERT INTO items (id, owner, fresh) VALUES (?, ?, 1)", (next_fresh[0], owner), 1)

def delete_one():
    return changed("DELETE FROM items WHERE id = (SELECT id FROM items WHERE owner = ? AND fresh "
                   "ORDER BY id LIMIT 1 OFFSET ?)", (owner, rnd.randrange(10)), 1)

def update_one():
    return changed("UPDATE items SET v = v + 1 WHERE id = ?", (owner * 1000 + rnd.randint(1, 20),), 1)

def update_five():
    k = owner * 1000 + rnd.randint(1, 16)
    return changed("UPDATE items SET v = v + 1 WHERE id BETWEEN ? AND ?", (k, k + 4), 5)

for i in range(txns):
    kind = rnd.choices(["txn", "auto", "rollback"], [6, 2, 1])[0]
    if kind == "txn":
        db.execute("BEGIN IMMEDIATE")
        c = {"INSERT": insert(), "UPDATE": update_one() + update_five(), "DELETE": delete_one()}
        db.execute("COMMIT")
        for op, n in c.items():
            counts[op] += n
        counts["transactions"] += 1
    elif kind == "auto":
        counts["INSERT"] += insert()
        counts["UPDATE"] += update_five()
        counts["DELETE"] += delete_one()
        counts["transactions"] += 3
    else:
        db.execute("BEGIN IMMEDIATE")
        insert(); update_one(); delete_one()
        db.execute("UPDATE items SET r = r + 1 WHERE id = ?", (owner * 1000 + 1,))
        db.execute("ROLLBACK")
        counts["rolled_back"] += 1
    # Sealing runs beside the writers: every worker seals now and then,
    # under the write lock (entries are sealed after commit, docs/audit.md).
    if i % 25 == 24:
        db.execute("SELECT vigil_audit_seal()")
print(json.dumps(counts))
"""

SQLITE_WORKERS = 4


def sqlite_open(path):
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    db.enable_load_extension(True)
    db.load_extension(MODULE)
    db.execute("SELECT vigil_audit_key(?)", (KEY,))
    return db


def sqlite_concurrency():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "audit.db")
        db = sqlite_open(path)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, fresh INTEGER NOT NULL, "
                   "v INTEGER NOT NULL DEFAULT 0, r INTEGER NOT NULL DEFAULT 0)")
        for o in range(SQLITE_WORKERS):
            db.executemany("INSERT INTO items (id, owner, fresh) VALUES (?, ?, ?)",
                           [(o * 1000 + k, o, 0) for k in range(1, 21)] +
                           [(1_000_000 * (o + 1) + k, o, 1) for k in range(1, 11)])
        seed_fresh = {r[0] for r in db.execute("SELECT id FROM items WHERE fresh")}
        db.execute("SELECT vigil_audit_enable('items')")
        db.close()
        t0 = time.monotonic()
        procs = [subprocess.Popen(["/usr/bin/python3", "-c", SQLITE_WORKER, path, MODULE, KEY, str(o),
                                   str(SQLITE_TXNS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for o in range(SQLITE_WORKERS)]
        results = [p.communicate(timeout=300) for p in procs]
        took = time.monotonic() - t0
        ok = all(p.returncode == 0 for p in procs)
        check("sqlite: every writer process succeeded", ok, str([r[1][-400:] for r in results]))
        if not ok:
            return
        total = {"INSERT": 0, "UPDATE": 0, "DELETE": 0, "transactions": 0, "rolled_back": 0}
        for out, _ in results:
            for k, v in json.loads(out).items():
                total[k] += v
        db = sqlite_open(path)
        # What the writers' own seals left: staged entries reach the log
        # when they are sealed (docs/audit.md "Staged entries").
        db.execute("SELECT vigil_audit_seal()")
        logged = dict(db.execute("SELECT operation, count(*) FROM vigil_audit_log WHERE table_name = 'items' "
                                 "GROUP BY operation").fetchall())
        for op in ("INSERT", "UPDATE", "DELETE"):
            check(f"sqlite: {op} entries == rows changed", logged.get(op, 0) == total[op],
                  f"log {logged.get(op, 0)}, changed {total[op]}")
        check("sqlite: no other operation on the table", set(logged) <= {"INSERT", "UPDATE", "DELETE"}, str(logged))
        # The table's own state agrees with the counts.
        check("sqlite: sum(v) == UPDATE rows", db.execute("SELECT sum(v) FROM items").fetchone()[0] == total["UPDATE"])
        check("sqlite: rolled-back changes left nothing",
              db.execute("SELECT sum(r) FROM items").fetchone()[0] == 0 and
              db.execute("SELECT count(*) FROM vigil_audit_log WHERE json_extract(new_row, '$.r') <> 0 "
                         "OR json_extract(old_row, '$.r') <> 0").fetchone()[0] == 0)
        # Replay: the seed's fresh rows plus the logged inserts minus the
        # logged deletes are the fresh rows the table holds.
        inserted = [r[0] for r in db.execute("SELECT json_extract(new_row, '$.id') FROM vigil_audit_log "
                                             "WHERE table_name = 'items' AND operation = 'INSERT'")]
        deleted = [r[0] for r in db.execute("SELECT json_extract(old_row, '$.id') FROM vigil_audit_log "
                                            "WHERE table_name = 'items' AND operation = 'DELETE'")]
        alive = {r[0] for r in db.execute("SELECT id FROM items WHERE fresh")}
        check("sqlite: the log replays to the table's rows",
              len(set(inserted)) == len(inserted) and (seed_fresh | set(inserted)) - set(deleted) == alive,
              f"{len(alive)} fresh rows")
        entries = db.execute("SELECT count(*) FROM vigil_audit_log").fetchone()[0]
        seqs = db.execute("SELECT count(DISTINCT seq), min(seq), max(seq), count(entry_hash) FROM vigil_audit_log"
                          ).fetchone()
        check("sqlite: every entry sealed once, seq 1..N without gap", seqs == (entries, 1, entries, entries),
              f"{seqs} for {entries} entries")
        report = json.loads(db.execute("SELECT vigil_audit_verify()").fetchone()[0])
        check("sqlite: the chain verifies, every entry checked",
              report.get("valid") is True and report.get("checked") == entries and report.get("unsealed") == 0
              and report.get("keyed") is True, f"{report} for {entries} entries")
        db.close()
        print(f"sqlite: {SQLITE_WORKERS} processes, {total['transactions']} committed transactions, "
              f"{total['rolled_back']} rolled back, {entries} entries in {took:.1f} s")


# ---- PostgreSQL -----------------------------------------------------------------------

DB = "vigil_audit_concurrency"
CLIENTS = 8


HANG = 60  # seconds: a statement_timeout far beyond any honest seal or verify here; a guard, not a measure


def psql(sql, db=DB, check_rc=True, app=None):
    env = dict(os.environ, PGOPTIONS=f"-c statement_timeout={HANG}s")
    if app:
        env["PGAPPNAME"] = app
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                         capture_output=True, text=True, env=env)
    if check_rc and out.returncode:
        raise RuntimeError(f"{sql[:200]}: {out.stderr}")
    return out.stdout.strip()


# The scripts: every statement changes a known number of rows. Client c
# owns the stable rows c*1000+1..100 (never deleted, so UPDATEs always find
# them) and its fresh rows, 50 at every commit (an INSERT before each
# DELETE, so the DELETE's OFFSET always finds a row). The entries each
# script's transaction writes: txn 1 INSERT, 6 UPDATE, 1 DELETE; multi 3
# INSERT (one statement), 1 UPDATE, 3 DELETE (one statement); rollback none.
SCRIPTS = {
    "txn": (6, (1, 6, 1), """\\set k random(1, 100)
\\set r random(1, 96)
\\set off random(0, 49)
BEGIN;
INSERT INTO accounts (id, owner, fresh) VALUES (nextval('accounts_id'), :client_id, true);
UPDATE accounts SET v = v + 1 WHERE id = :client_id * 1000 + :k;
UPDATE accounts SET v = v + 1 WHERE id BETWEEN :client_id * 1000 + :r AND :client_id * 1000 + :r + 4;
DELETE FROM accounts WHERE id = (SELECT id FROM accounts WHERE owner = :client_id AND fresh ORDER BY id OFFSET :off LIMIT 1);
COMMIT;
"""),
    "multi": (1, (3, 1, 3), """BEGIN;
INSERT INTO accounts (id, owner, fresh) SELECT nextval('accounts_id'), :client_id, true FROM generate_series(1, 3);
UPDATE accounts SET w = w + 1 WHERE id = :client_id * 1000 + 100;
DELETE FROM accounts WHERE id IN (SELECT id FROM accounts WHERE owner = :client_id AND fresh ORDER BY id LIMIT 3);
COMMIT;
"""),
    "rollback": (1, (0, 0, 0), """\\set k random(1, 100)
BEGIN;
INSERT INTO accounts (id, owner, fresh, r) VALUES (nextval('accounts_id'), :client_id, true, 1);
UPDATE accounts SET r = r + 1 WHERE id = :client_id * 1000 + :k;
DELETE FROM accounts WHERE id = (SELECT min(id) FROM accounts WHERE owner = :client_id AND fresh);
ROLLBACK;
"""),
}
SEED_FRESH = (1_000_000, 1_000_000 + CLIENTS * 50 - 1)

PG_SETUP = f"""
CREATE EXTENSION vigil;
CREATE TABLE accounts (id bigint PRIMARY KEY, owner integer NOT NULL, fresh boolean NOT NULL,
                       v bigint NOT NULL DEFAULT 0, w bigint NOT NULL DEFAULT 0, r bigint NOT NULL DEFAULT 0);
CREATE INDEX accounts_fresh ON accounts (owner, id) WHERE fresh;
CREATE SEQUENCE accounts_id START {SEED_FRESH[0]};
INSERT INTO accounts (id, owner, fresh) SELECT o * 1000 + k, o, false FROM generate_series(0, {CLIENTS - 1}) o, generate_series(1, 100) k;
INSERT INTO accounts (id, owner, fresh) SELECT nextval('accounts_id'), o, true FROM generate_series(0, {CLIENTS - 1}) o, generate_series(1, 50) k ORDER BY o, k;
SELECT vigil_audit_enable('accounts');
"""


def audit_call(name, sql, db=DB):
    """audit_call runs one sealing or verifying call; a failure (a crashed
    backend) fails the check `name`, waits for the server and returns None."""
    try:
        result = json.loads(psql(sql, db))
    except RuntimeError as e:
        check(name, False, str(e)[-400:])
        wait_for_server()
        return None
    check(name, True)
    return result


class Loop(threading.Thread):
    """Loop runs body() every `every` seconds until stopped; it keeps the
    results and the first errors."""

    def __init__(self, body, every):
        super().__init__(daemon=True)
        self.body, self.every = body, every
        self.stopping = threading.Event()
        self.results, self.errors, self.finished = [], [], []

    def run(self):
        while not self.stopping.is_set():
            try:
                self.results.append(self.body())
                self.finished.append(time.monotonic())
            except Exception as e:  # noqa: BLE001 — reported as a failed check
                self.errors.append(str(e)[:300])
            self.stopping.wait(self.every)

    def stop(self):
        self.stopping.set()
        self.join(timeout=120)


def parse_pgbench(out):
    """parse_pgbench returns {script name: committed transactions}, the
    failed transactions and the processed total of pgbench's summary."""
    per = {}
    for m in re.finditer(r"^SQL script \d+: .*/(\w+)\.sql\n - weight: .*\n - (\d+) transactions", out, re.M):
        per[m.group(1)] = int(m.group(2))
    failed_tx = re.search(r"^number of failed transactions: (\d+)", out, re.M)
    processed = re.search(r"^number of transactions actually processed: (\d+)", out, re.M)
    return per, int(failed_tx.group(1)) if failed_tx else None, int(processed.group(1)) if processed else None


def pg_concurrency():
    psql(f"DROP DATABASE IF EXISTS {DB}", "postgres")
    psql(f"CREATE DATABASE {DB}", "postgres")
    psql(PG_SETUP)
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        files = []
        for name, (weight, _, text) in SCRIPTS.items():
            with open(os.path.join(d, f"{name}.sql"), "w") as f:
                f.write(text)
            files += ["-f", f"{d}/{name}.sql@{weight}"]

        def seal():
            return int(psql("SELECT vigil_audit_seal()", app="vigil-sealer"))

        def verify():
            return json.loads(psql("SELECT vigil_audit_verify()", app="vigil-sealer"))

        # One sample: each writer waiting on a lock, with the lock it waits
        # for and whether a sealer or verifier holds it. A relation extension
        # lock is held only while a page is added (anyone writing the log
        # takes it); any other lock a sealer holds lasts until its commit.
        # The lock a writer waits for comes from pg_locks (the lock manager,
        # read when the query runs), not from pg_stat_activity's
        # wait_event: that view is a snapshot taken once per transaction,
        # and a writer it showed idle ('ClientRead') could be waiting by the
        # time pg_blocking_pids ran (a fresh run failed on exactly that).
        sample_sql = ("SELECT l.locktype || ':' || bool_or(s.application_name = 'vigil-sealer') "
                      "FROM pg_locks l JOIN pg_stat_activity w ON w.pid = l.pid "
                      "CROSS JOIN LATERAL pg_catalog.unnest(pg_blocking_pids(l.pid)) b(pid) "
                      "JOIN pg_stat_activity s ON s.pid = b.pid "
                      "WHERE NOT l.granted AND w.application_name = 'pgbench' GROUP BY l.pid, l.locktype")

        def sample():
            return [tuple(line.split(":")) for line in psql(sample_sql, app="vigil-sampler").splitlines()]

        sealer_a = Loop(seal, 0.5)
        sealer_b = Loop(seal, 0.5)
        verifier = Loop(verify, 5)
        sampler = Loop(sample, 0.2)
        t0 = time.monotonic()
        # One pgbench thread: its per-script counters are shared by its
        # threads without a lock ("XXX could use a mutex here"), and with -j 2
        # they lost a transaction now and then; its total is per thread.
        bench = subprocess.Popen(["pgbench", "-n", "-c", str(CLIENTS), "-j", "1", "-T", str(SECONDS), "-M", "prepared",
                                  *files, DB], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sealer_a.start()
        time.sleep(0.25)
        sealer_b.start()
        verifier.start()
        sampler.start()
        try:
            out, err = bench.communicate(timeout=SECONDS + 120)
        finally:
            bench_end = time.monotonic()
            if bench.poll() is None:
                bench.kill()
            for loop in (sealer_a, sealer_b, verifier, sampler):
                loop.stop()
        took = time.monotonic() - t0

    # A sealer or verifier that failed (a backend that crashed takes the
    # server through crash recovery: wait for it, the committed rows stay).
    check("pg: the sealer and verifier loops never failed",
          not sealer_a.errors and not sealer_b.errors and not verifier.errors,
          str(sealer_a.errors[:2] + sealer_b.errors[:2] + verifier.errors[:2]))
    wait_for_server()
    per, failed_tx, processed = parse_pgbench(out)
    check("pg: pgbench ran every client to the end", bench.returncode == 0 and "aborted" not in (out + err),
          f"rc {bench.returncode}: {err[-600:]}")
    check("pg: pgbench's summary has the three scripts", set(per) == set(SCRIPTS) and processed == sum(per.values()),
          f"{per} processed {processed}\n{out[-1500:]}")
    check("pg: no failed transaction", failed_tx == 0, f"failed {failed_tx}")
    if set(per) != set(SCRIPTS):
        return
    expected = {op: sum(per[s] * SCRIPTS[s][1][i] for s in SCRIPTS) for i, op in enumerate(("INSERT", "UPDATE", "DELETE"))}

    # The table's own state confirms pgbench's counts.
    state = psql("SELECT sum(v) || ',' || sum(w) || ',' || sum(r) || ',' || count(*) FILTER (WHERE fresh) || ',' || "
                 "count(*) FILTER (WHERE NOT fresh) FROM accounts")
    check("pg: the table's state agrees with pgbench's counts",
          state == f"{6 * per['txn']},{per['multi']},0,{CLIENTS * 50},{CLIENTS * 100}",
          f"sum(v),sum(w),sum(r),fresh,stable = {state}; txn {per['txn']}, multi {per['multi']}")

    # Sealing makes progress under load: seal calls return (and commit) while
    # the writers run, rather than one call chasing them to the end; the
    # verifier, which shares the chain row with sealers, gets its turn.
    seals = sorted(zip(sealer_a.finished + sealer_b.finished, sealer_a.results + sealer_b.results))
    sealed_during = sum(n for at, n in seals if at < bench_end)
    returned_during = sum(1 for at, n in seals if at < bench_end and n > 0)
    verifies = verifier.results
    verifies_during = sum(1 for at in verifier.finished if at < bench_end)
    check("pg: seal calls returned having sealed entries while the writers ran", returned_during >= 2,
          f"{returned_during} seal calls returned with entries before the writers stopped "
          f"(of {len(seals)}; {sealed_during} entries sealed by them)")
    check("pg: verify calls completed while the writers ran", verifies_during >= 1,
          f"{verifies_during} of {len(verifies)} completed before the writers stopped")
    check("pg: every verify under load was valid", verifies and all(v.get("valid") is True for v in verifies),
          str([v for v in verifies if v.get("valid") is not True][:2]))
    waits = [w for sample in sampler.results for w in sample]
    on_sealer = [event for event, sealer in waits if sealer == "true"]
    check("pg: no sample saw a writer waiting on a sealer's transaction-long lock",
          not sampler.errors and all(event == "extend" for event in on_sealer),
          f"writers waiting on a sealer for {sorted(on_sealer)} in {len(sampler.results)} samples {sampler.errors[:2]}")
    blocked_by_sealer = len(on_sealer)
    writer_waits = f"{len(waits)} writer lock waits ({', '.join(sorted(set(e for e, _ in waits))) or 'none'})"

    sealed_after = audit_call("pg: the final vigil_audit_seal() returned", "SELECT vigil_audit_seal()")
    t1 = time.monotonic()
    report = audit_call("pg: the final vigil_audit_verify() returned", "SELECT vigil_audit_verify()") or {}
    verify_took = time.monotonic() - t1
    entries = int(psql("SELECT count(*) FROM vigil_audit_log"))
    check("pg: after one more seal the chain verifies, every entry checked, none unsealed",
          report.get("valid") is True and report.get("checked") == entries and report.get("unsealed") == 0,
          f"{report} for {entries} entries")
    check("pg: seq is 1..N without gap or duplicate",
          psql("SELECT count(DISTINCT seq) || ',' || min(seq) || ',' || max(seq) FROM vigil_audit_log")
          == f"{entries},1,{entries}")

    logged = dict(line.split("|") for line in psql(
        "SELECT operation, count(*) FROM vigil_audit_log WHERE table_name = 'accounts' GROUP BY operation").splitlines())
    for op in ("INSERT", "UPDATE", "DELETE"):
        check(f"pg: {op} entries == rows changed", int(logged.get(op, 0)) == expected[op],
              f"log {logged.get(op, 0)}, changed {expected[op]}")
    check("pg: no other operation on the table", set(logged) <= {"INSERT", "UPDATE", "DELETE"}, str(logged))
    # Grouped by transaction, the entries are exactly the scripts' shapes.
    shapes = {tuple(int(x) for x in line.split("|")[:3]): int(line.split("|")[3]) for line in psql(
        "SELECT i, u, d, count(*) FROM (SELECT txid, count(*) FILTER (WHERE operation = 'INSERT') i, "
        "count(*) FILTER (WHERE operation = 'UPDATE') u, count(*) FILTER (WHERE operation = 'DELETE') d "
        "FROM vigil_audit_log WHERE table_name = 'accounts' GROUP BY txid) t GROUP BY 1, 2, 3").splitlines()}
    want = {SCRIPTS["txn"][1]: per["txn"], SCRIPTS["multi"][1]: per["multi"]}
    check("pg: each committed transaction's entries, and no rolled-back one's", shapes == want,
          f"log {shapes}, pgbench {want}")
    check("pg: no entry of a rolled-back change",
          psql("SELECT count(*) FROM vigil_audit_log WHERE table_name = 'accounts' AND "
               "(new_row->>'r' <> '0' OR old_row->>'r' <> '0')") == "0")
    # Replay: the seed's fresh rows plus the logged inserts minus the logged
    # deletes are the table's fresh rows; the UPDATE images add up to v and w.
    diff = psql(f"""WITH alive AS (
        (SELECT generate_series({SEED_FRESH[0]}::bigint, {SEED_FRESH[1]})
         UNION ALL SELECT (new_row->>'id')::bigint FROM vigil_audit_log WHERE table_name = 'accounts' AND operation = 'INSERT')
        EXCEPT ALL SELECT (old_row->>'id')::bigint FROM vigil_audit_log WHERE table_name = 'accounts' AND operation = 'DELETE'),
      fresh AS (SELECT id FROM accounts WHERE fresh)
      SELECT (SELECT count(*) FROM (TABLE alive EXCEPT ALL TABLE fresh) a) + (SELECT count(*) FROM (TABLE fresh EXCEPT ALL TABLE alive) b)""")
    check("pg: the logged inserts and deletes replay to the table's rows", diff == "0", f"{diff} rows differ")
    deltas = psql("SELECT sum((new_row->>'v')::bigint - (old_row->>'v')::bigint) || ',' || "
                  "sum((new_row->>'w')::bigint - (old_row->>'w')::bigint) FROM vigil_audit_log "
                  "WHERE table_name = 'accounts' AND operation = 'UPDATE'")
    check("pg: the UPDATE images add up to the table's values", deltas == f"{6 * per['txn']},{per['multi']}", deltas)

    print(f"pg: {CLIENTS} clients for {SECONDS} s ({took:.1f} s with the sealers): transactions committed "
          f"{per['txn']} txn + {per['multi']} multi, {per['rollback']} rolled back; {entries} entries "
          f"({expected['INSERT']} INSERT, {expected['UPDATE']} UPDATE, {expected['DELETE']} DELETE); "
          f"{len(seals)} seal calls ({returned_during} returned with entries while the writers ran, sealing "
          f"{sealed_during}), {sealed_after} sealed after; {verifies_during} of {len(verifies)} verifies while the "
          f"writers ran; verify of {entries} took {verify_took:.1f} s; "
          f"{len(sampler.results)} lock samples: {writer_waits}, {blocked_by_sealer} on a sealer (extend only)")
    if failed == 0:
        psql(f"DROP DATABASE {DB}", "postgres")


def wait_for_server():
    for _ in range(300):
        time.sleep(0.2)
        if subprocess.run(["psql", "-X", "-At", "-d", "postgres", "-c", "SELECT 1"], capture_output=True).returncode == 0:
            return True
    return False


CRASH_DB = "vigil_audit_crash"


def pg_crash():
    """pg_crash kills a backend while its INSERT ... SELECT's statement
    trigger is writing (staging) entries, on a chain with sealed and unsealed
    entries (a database of its own, so the checks walk a short chain)."""
    rows = 300_000
    psql(f"DROP DATABASE IF EXISTS {CRASH_DB}", "postgres")
    psql(f"CREATE DATABASE {CRASH_DB}", "postgres")
    psql("CREATE EXTENSION vigil; CREATE TABLE big (id bigint PRIMARY KEY, payload text); "
         "SELECT vigil_audit_enable('big'); INSERT INTO big SELECT g, 'sealed' FROM generate_series(1, 10) g; "
         "SELECT vigil_audit_seal(); INSERT INTO big SELECT g, 'unsealed' FROM generate_series(11, 15) g;", CRASH_DB)
    before_entries = int(psql("SELECT count(*) FROM vigil_audit_log", CRASH_DB))
    # The statement stages its entries (docs/audit.md, "Staged entries"):
    # a batch of 1,000 takes an id of the batch sequence when it is written.
    batches = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM vigil_state.vigil_audit_batch_id_seq"
    id_before = int(psql(batches, CRASH_DB))
    proc = subprocess.Popen(["psql", "-X", "-q", "-At", "-d", CRASH_DB, "-c",
                             f"INSERT INTO big SELECT g, md5(g::text) FROM generate_series(16, {rows}) g"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PGAPPNAME="vigil-big"))
    pid, written = "", 0
    # Wait until the statement's audit trigger is writing its entries (the
    # batches' id sequence moves outside the transaction), then kill.
    for _ in range(3000):
        time.sleep(0.01)
        if not pid:
            pid = psql("SELECT pid FROM pg_stat_activity WHERE application_name = 'vigil-big' AND state = 'active'",
                       CRASH_DB, check_rc=False)
        written = (int(psql(batches, CRASH_DB)) - id_before) * 1000
        if pid and written > 1000 or proc.poll() is not None:
            break
    check("pg crash: the INSERT ... SELECT was caught while its entries were being written",
          pid != "" and proc.poll() is None and 1000 < written < rows, f"pid {pid!r}, {written} entries staged")
    if not pid or proc.poll() is not None:
        proc.kill()
        proc.communicate()
        return
    os.kill(int(pid), signal.SIGKILL)
    proc.communicate(timeout=60)
    check("pg crash: the server recovered", wait_for_server())
    check("pg crash: the table has only the committed rows", psql("SELECT count(*) FROM big", CRASH_DB) == "15")
    check("pg crash: no entry of the killed statement, the committed ones kept",
          psql("SELECT count(*) || ',' || count(seq) FROM vigil_audit_log WHERE table_name = 'big' "
               "AND operation = 'INSERT'", CRASH_DB) == "15,10" and
          int(psql("SELECT count(*) FROM vigil_audit_log", CRASH_DB)) == before_entries and
          psql("SELECT count(*) FROM vigil_state.vigil_audit_batch", CRASH_DB) == "0")
    sealed = audit_call("pg crash: vigil_audit_seal() returned after recovery", "SELECT vigil_audit_seal()", CRASH_DB)
    report = audit_call("pg crash: vigil_audit_verify() returned after recovery", "SELECT vigil_audit_verify()",
                        CRASH_DB) or {}
    check("pg crash: after sealing the chain verifies, every entry checked",
          sealed == 5 and report.get("valid") is True and report.get("checked") == before_entries
          and report.get("unsealed") == 0, f"sealed {sealed}; {report} for {before_entries} entries")
    psql("INSERT INTO big VALUES (0, 'after')", CRASH_DB)
    audit_call("pg crash: vigil_audit_seal() returned on a grown chain", "SELECT vigil_audit_seal()", CRASH_DB)
    report = audit_call("pg crash: vigil_audit_verify() returned on a grown chain", "SELECT vigil_audit_verify()",
                        CRASH_DB) or {}
    check("pg crash: the chain grows and verifies after recovery",
          report.get("valid") is True and report.get("checked") == before_entries + 1, str(report))
    print(f"pg crash: killed after {written} of {rows - 15} entries were written; {sealed} sealed after recovery")
    psql(f"DROP DATABASE {CRASH_DB}", "postgres")


MARK_DB = "vigil_audit_watermark"


class Session:
    """Session is one psql process kept open: statements go in one by one,
    so a transaction stays open between them."""

    def __init__(self, db, app):
        self.app, self.db = app, db
        self.proc = subprocess.Popen(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=dict(os.environ, PGAPPNAME=app))

    def send(self, sql):
        """send runs sql and waits until the session is idle again (in its
        transaction or not)."""
        self.proc.stdin.write(sql + "\n")
        self.proc.stdin.flush()
        for _ in range(1000):
            time.sleep(0.01)
            state = psql(f"SELECT state FROM pg_stat_activity WHERE application_name = '{self.app}'", self.db)
            if state.startswith("idle"):
                return state
        raise RuntimeError(f"{self.app}: {sql} did not finish")

    def close(self):
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, err


def pg_watermark():
    """pg_watermark: the sealer finds unsealed entries from the chain's
    watermark up (there is no index of unsealed entries), and must never
    move it past an entry that can still commit: an open transaction's
    entry below newer committed ones, a rolled-back transaction's gap, a
    seal under REPEATABLE READ."""
    psql(f"DROP DATABASE IF EXISTS {MARK_DB}", "postgres")
    psql(f"CREATE DATABASE {MARK_DB}", "postgres")
    db = MARK_DB
    psql("CREATE EXTENSION vigil; CREATE TABLE w (id bigint PRIMARY KEY, v text); SELECT vigil_audit_enable('w');", db)
    mark = "SELECT low_id FROM vigil_state.vigil_audit_chain"
    open_txn = Session(db, "vigil-open-txn")
    open_txn.send("BEGIN; INSERT INTO w VALUES (1, 'open');")
    first = int(psql("SELECT last_value FROM vigil_state.vigil_audit_log_id_seq", db))
    psql("INSERT INTO w SELECT g, 'committed' FROM generate_series(2, 40) g", db)
    psql("BEGIN; INSERT INTO w VALUES (100, 'rolled back'); ROLLBACK;", db)
    psql("INSERT INTO w VALUES (41, 'committed')", db)
    committed = int(psql("SELECT count(*) FROM vigil_audit_log", db))
    sealed = sum(int(psql("SELECT vigil_audit_seal()", db)) for _ in range(4))
    check("pg watermark: four seals beside an open transaction seal every committed entry",
          sealed == committed and committed >= 40, f"{sealed} of {committed}")
    low = int(psql(mark, db))
    check("pg watermark: the watermark stays at or below the open transaction's entry", low <= first,
          f"low_id {low}, the open entry {first}")
    check("pg watermark: verify counts the open transaction's entry as not there yet",
          json.loads(psql("SELECT vigil_audit_verify()", db)).get("unsealed") == 0)
    state = open_txn.send("INSERT INTO w VALUES (42, 'open'); COMMIT;")
    code, err = open_txn.close()
    check("pg watermark: the open transaction committed", code == 0 and state == "idle", err)
    sealed = int(psql("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT vigil_audit_seal(); COMMIT;", db).split()[0])
    check("pg watermark: a seal under REPEATABLE READ seals the late entries below the watermark's horizon",
          sealed == 2, str(sealed))
    for _ in range(3):
        psql("SELECT vigil_audit_seal()", db)
    entries = int(psql("SELECT count(*) FROM vigil_audit_log", db))
    report = json.loads(psql("SELECT vigil_audit_verify()", db))
    check("pg watermark: every committed entry sealed and verified", report.get("valid") is True
          and report.get("checked") == entries and report.get("unsealed") == 0 and entries == committed + 2,
          f"{entries}: {report}")
    top = int(psql("SELECT max(id) FROM vigil_state.vigil_audit_log", db))
    check("pg watermark: the watermark passed every entry and the rolled-back gap",
          psql("SELECT low_id > " + str(top) + " AND horizon_xid IS NULL FROM vigil_state.vigil_audit_chain", db) == "t",
          psql("SELECT low_id, horizon_id, horizon_xid FROM vigil_state.vigil_audit_chain", db))
    before = psql("SELECT xmin FROM vigil_state.vigil_audit_chain", db)
    psql("SELECT vigil_audit_seal()", db)
    check("pg watermark: an idle seal writes nothing", psql("SELECT xmin FROM vigil_state.vigil_audit_chain", db) == before)
    # Under REPEATABLE READ by default the watermark still moves (a seal
    # records its horizon whatever its isolation).
    psql(f"ALTER DATABASE {MARK_DB} SET default_transaction_isolation = 'repeatable read'", "postgres")
    psql("INSERT INTO w SELECT g, 'rr' FROM generate_series(100, 120) g", db)
    for _ in range(3):
        psql("SELECT vigil_audit_seal()", db)
    top = int(psql("SELECT max(id) FROM vigil_state.vigil_audit_log", db))
    check("pg watermark: under REPEATABLE READ by default the watermark passes every entry",
          int(psql(mark, db)) > top, psql("SELECT low_id, horizon_id, horizon_xid FROM vigil_state.vigil_audit_chain", db))
    psql(f"ALTER DATABASE {MARK_DB} RESET default_transaction_isolation", "postgres")
    # An owner who gives the sequence a cache: a session's cached id below
    # the watermark must still be sealed (the sealer rescans from the start
    # until the cache is 1 again), and verify counts any entry left behind.
    psql("ALTER SEQUENCE vigil_state.vigil_audit_log_id_seq CACHE 100", db)
    cached = Session(db, "vigil-cached")
    cached.send("INSERT INTO w VALUES (200, 'cached');")
    psql("INSERT INTO w VALUES (201, 'other session')", db)
    for _ in range(3):
        psql("SELECT vigil_audit_seal()", db)
    cached.send("INSERT INTO w VALUES (202, 'cached, below the watermark');")
    cached.close()
    for _ in range(2):
        psql("SELECT vigil_audit_seal()", db)
    entries = int(psql("SELECT count(*) FROM vigil_audit_log", db))
    report = json.loads(psql("SELECT vigil_audit_verify()", db))
    check("pg watermark: with a cached sequence every entry is still sealed",
          report.get("valid") is True and report.get("checked") == entries and report.get("unsealed") == 0,
          f"{entries}: {report}")
    psql("ALTER SEQUENCE vigil_state.vigil_audit_log_id_seq CACHE 1", db)
    # pg_dump and pg_restore keep the trail: the chain's row (made by the
    # first seal, not by CREATE EXTENSION) restores without a duplicate,
    # the restored chain verifies, and the old cluster's horizon is not
    # trusted in the new database.
    restored = MARK_DB + "_restored"
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "dump")
        out = subprocess.run(["pg_dump", "-Fc", "-f", dump, db], capture_output=True, text=True)
        check("pg watermark: pg_dump of an audited database", out.returncode == 0, out.stderr[-400:])
        psql(f"DROP DATABASE IF EXISTS {restored}", "postgres")
        psql(f"CREATE DATABASE {restored}", "postgres")
        out = subprocess.run(["pg_restore", "--exit-on-error", "-d", restored, dump], capture_output=True, text=True)
        check("pg watermark: pg_restore without errors", out.returncode == 0, out.stderr[-400:])
    psql("INSERT INTO w VALUES (300, 'after the restore')", restored)
    psql("SELECT vigil_audit_seal()", restored)
    entries = int(psql("SELECT count(*) FROM vigil_audit_log", restored))
    report = json.loads(psql("SELECT vigil_audit_verify()", restored))
    check("pg watermark: the restored chain verifies and grows", report.get("valid") is True
          and report.get("checked") == entries and report.get("unsealed") == 0 and entries > 40, f"{entries}: {report}")
    psql(f"DROP DATABASE {restored}", "postgres")
    psql(f"DROP DATABASE {MARK_DB}", "postgres")


def part(name, body):
    """part runs one part; an exception (a psql that failed, a server that
    went away) fails it and lets the next part run."""
    try:
        body()
    except Exception as e:  # noqa: BLE001 — reported as a failed check
        check(f"{name} ran to its end", False, str(e)[-800:])


started = time.monotonic()
part("sqlite", sqlite_concurrency)
if PG:
    part("pg concurrency", pg_concurrency)
    wait_for_server()
    part("pg watermark", pg_watermark)
    part("pg crash", pg_crash)
print(f"audit concurrency: {passed} passed, {failed} failed ({time.monotonic() - started:.0f} s)")
sys.exit(1 if failed else 0)
