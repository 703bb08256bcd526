#!/usr/bin/python3
"""audit.py — what the audit trail costs a writer, against its anchors, in
the same run, on both engines (issue 13).

    eval "$(scripts/pg-private-install build)"   # or: meson install -C build
    /usr/bin/python3 bench/audit.py [--quick] [--rounds R] [--seal-rounds S] [--keep-callgrind DIR]
                                    [--no-sqlite] [--no-pg] [--no-bulk] [--no-callgrind]

The table, on both engines: trades (id bigint primary key, user_id int,
symbol text, price numeric, qty numeric, side text, created_at timestamptz;
SQLite: the same names with SQLite's types).

1. PostgreSQL, bulk: one 200,000-row INSERT ... SELECT FROM generate_series,
   autocommit, timed by psql (\\timing: round trip and commit included),
   with the backend's CPU time (/proc/PID/stat) beside it, into
     plain    the table, no trigger                       anchor of target (a)
     vigil    the table after vigil_audit_enable (statement triggers with
              transition tables, C trigger writing vigil_state.vigil_audit_log)
     plpgsql  the classic audit trigger: AFTER INSERT OR UPDATE OR DELETE FOR
              EACH ROW, PL/pgSQL inserting TG_TABLE_NAME, TG_OP, now(),
              session_user and to_jsonb(NEW)/to_jsonb(OLD) into an audit
              table with a bigserial key                 anchor of target (b)
     capture  a statement trigger that declares a transition table and
              does nothing: what keeping the statement's rows costs
     floor    not an audit: the design's floor. A PL/pgSQL statement
              trigger with a transition table copies the raw rows into a
              table without an index (no image, identity or key): what any
              audit built on transition tables pays at least.
   Before every timed statement (untimed): TRUNCATE of the data tables and of
   both audit logs (vigil's chain row reset with them), VACUUM, CHECKPOINT;
   the variants' order rotates each round. Then, separately (sealing is off
   the writer's path), SELECT vigil_audit_seal() over the 200,000 committed
   entries, in the first --seal-rounds rounds (default 1: a seal of 200,000
   takes tens of seconds today). Medians of R rounds (default 5; --quick 3).
   Targets: (a) vigil <= 1.5x plain; (b) plpgsql >= 2x vigil.

2. PostgreSQL, single-row writes: instructions per statement under
   valgrind --tool=callgrind, on a single-user backend (postgres --single,
   after the temporary cluster is stopped cleanly), fed one autocommitted
   statement a line: INSERT of a new id, UPDATE of qty and price by id,
   DELETE by id. Each (variant, statement) runs twice, with 200 and 1,200
   statements (--quick: 100 and 600) on distinct ids; (difference of the
   totals) / (difference of the counts) removes startup, catalog caching,
   plan building and shutdown. Target: vigil below plpgsql for each.

3. SQLite (Debian's /usr/bin/python3 and its sqlite3 module, the module from
   $VIGIL_BUILD, default build/): a fresh file database per round and variant
   (journal_mode=WAL, synchronous=NORMAL), one transaction of 1,000,000 rows
   (--quick: 200,000), two ways:
     executemany  a prepared INSERT with bound values from a list built
                  before the clock starts (what an application does)
     select       INSERT ... SELECT from a recursive CTE (no Python per row)
   into the plain table (anchor) and into the table after
   vigil_audit_enable (generated triggers that insert each entry; sealed
   afterwards by vigil_audit_seal(), timed apart), and the floor: one bare
   AFTER INSERT trigger copying each row's values into a table without an
   index (what any per-row trigger log pays at least).
   Medians of R rounds (default 1: an audited million takes about a minute
   today; --rounds 3 for a median). Target: vigil <= 2x plain,
   stated for executemany; both ratios are reported.

Every run checks its entry counts. Missed targets are printed, never
failed: the exit status is non-zero only on an error.
"""
import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import BUILD, pg_cluster, psql

COLUMNS_PG = ("id bigint PRIMARY KEY, user_id int, symbol text, price numeric, qty numeric, "
              "side text, created_at timestamptz")
COLUMNS_SQLITE = ("id integer PRIMARY KEY, user_id integer, symbol text, price numeric, qty numeric, "
                  "side text, created_at text")
SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "BRK.B"]

CLASSIC = """
CREATE TABLE audit_classic (
    id bigserial PRIMARY KEY, table_name text NOT NULL, operation text NOT NULL,
    at timestamptz NOT NULL, who text NOT NULL, old_row jsonb, new_row jsonb);
CREATE FUNCTION audit_classic() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_classic (table_name, operation, at, who, new_row)
        VALUES (TG_TABLE_NAME, TG_OP, now(), session_user, to_jsonb(NEW));
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_classic (table_name, operation, at, who, old_row, new_row)
        VALUES (TG_TABLE_NAME, TG_OP, now(), session_user, to_jsonb(OLD), to_jsonb(NEW));
    ELSE
        INSERT INTO audit_classic (table_name, operation, at, who, old_row)
        VALUES (TG_TABLE_NAME, TG_OP, now(), session_user, to_jsonb(OLD));
    END IF;
    RETURN NULL;
END
$$;
"""


# The floor of any audit built on statement triggers with transition
# tables (the design issue 13 asks for): the statement's rows materialised
# and written once more, raw, into a table without an index; no image, no
# identity, no key. Not an audit: what no audit of this design can go below.
FLOOR = """
CREATE TABLE audit_floor (LIKE trades_plain);
CREATE FUNCTION audit_floor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_floor SELECT * FROM new_rows;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_floor AFTER INSERT ON trades_floor REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_floor();
"""

# What the transition table alone costs: a statement trigger that declares
# one and does nothing with it. PostgreSQL keeps the statement's rows in a
# tuplestore whatever the function does.
CAPTURE = """
CREATE FUNCTION audit_capture() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_capture AFTER INSERT ON trades_capture REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_capture();
"""


def pg_tables(prefix):
    """The three variants' tables: {variant: table}, and the SQL creating them."""
    tables = {"plain": f"{prefix}_plain", "vigil": f"{prefix}_vigil", "plpgsql": f"{prefix}_plpgsql"}
    sql = [f"CREATE TABLE {t} ({COLUMNS_PG});" for t in tables.values()]
    sql.append(f"CREATE TRIGGER audit_classic AFTER INSERT OR UPDATE OR DELETE ON {tables['plpgsql']} "
               "FOR EACH ROW EXECUTE FUNCTION audit_classic();")
    return tables, sql


def pg_generate(lo, hi):
    """A SELECT of trade rows with ids lo..hi."""
    symbols = ",".join(f"'{s}'" for s in SYMBOLS)
    return (f"SELECT g, 1 + g % 5000, (ARRAY[{symbols}])[1 + g % {len(SYMBOLS)}], "
            "round(100 + (g % 90000) / 7.0, 2), 1 + g % 100, CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END, "
            f"timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' FROM generate_series({lo}, {hi}) g")


def ratio_line(label, value, target, cmp):
    ok = value <= target if cmp == "<=" else value >= target
    print(f"  target {label} {cmp} {target}: {'met' if ok else 'NOT met'} ({value:.2f})")


# ------------------------------------------------------------ PostgreSQL, bulk

def bench_pg_bulk(env, rows, rounds, seal_rounds):
    tables, create = pg_tables("trades")
    tables["floor"] = "trades_floor"
    tables["capture"] = "trades_capture"
    create.append(f"CREATE TABLE trades_floor ({COLUMNS_PG});")
    create.append(f"CREATE TABLE trades_capture ({COLUMNS_PG});")
    psql("\n".join(["CREATE EXTENSION vigil;", CLASSIC, *create, FLOOR, CAPTURE,
                    f"SELECT vigil_audit_enable('{tables['vigil']}');"]), env)
    reset = ("TRUNCATE " + ", ".join(tables.values()) + ";\n"
             "TRUNCATE vigil_state.vigil_audit_log, vigil_state.vigil_audit_batch, audit_classic, audit_floor "
             "RESTART IDENTITY;\n"
             "UPDATE vigil_state.vigil_audit_chain SET head_seq = 0, head_hash = NULL, from_seq = 0, from_hash = NULL;\n"
             "VACUUM ANALYZE;\nCHECKPOINT;\n")
    names = list(tables)
    # Each timed statement also reads the backend's CPU time (utime + stime
    # in /proc/PID/stat) before and after: on a shared machine the wall time
    # includes waiting for a CPU, the backend's CPU time does not.
    cpu = "\\! echo \"@cpu {} $(cut -d' ' -f14,15 /proc/$VIGIL_BENCH_PID/stat)\""

    def timed(name, statement):
        return [f"\\echo @@ {name}", cpu.format(name), "\\timing on", statement, "\\timing off", cpu.format(name)]

    script = ["SET jit = off;", "SET max_parallel_workers_per_gather = 0;",
              "SELECT pg_backend_pid() AS pid \\gset", "\\setenv VIGIL_BENCH_PID :pid"]
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            script += [reset, *timed(name, f"INSERT INTO {tables[name]} {pg_generate(1, rows)};")]
            if name == "vigil" and r < seal_rounds:
                # Entries written or staged (docs/audit.md "Staged entries").
                script += ["SELECT (SELECT count(*) FROM vigil_state.vigil_audit_log WHERE operation = 'INSERT') + "
                           "(SELECT coalesce(sum(n), 0) FROM vigil_state.vigil_audit_batch);",
                           "CHECKPOINT;", *timed("seal", "SELECT vigil_audit_seal();"),
                           "SELECT count(*) FROM vigil_state.vigil_audit_log WHERE seq IS NULL;"]
            if name == "plpgsql":
                script.append("SELECT count(*) FROM audit_classic;")
            if name == "floor":
                script.append("SELECT count(*) FROM audit_floor;")
    out = psql("\n".join(script), env)
    times = {n: [] for n in names + ["seal"]}
    ticks = {n: [] for n in names + ["seal"]}
    current = None
    checks = []
    for line in out.splitlines():
        if line.startswith("@@ "):
            current = line[3:]
        elif line.startswith("@cpu "):
            _, name, utime, stime = line.split()
            ticks[name].append(int(utime) + int(stime))
        elif line.startswith("Time: "):
            times[current].append(float(re.match(r"Time: ([\d.]+) ms", line).group(1)))
            current = None
        elif line.strip():
            checks.append(line.strip())
    hz = os.sysconf("SC_CLK_TCK")
    cpu_ms = {n: [(t[i + 1] - t[i]) * 1000 / hz for i in range(0, len(t) - 1, 2)] for n, t in ticks.items()}
    # Per round: vigil's INSERT entries, the sealed count, unsealed left (0),
    # the classic log's count; in the order the variants ran.
    expected = []
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            expected += {"plain": [], "vigil": [str(rows), str(rows), "0"] if r < seal_rounds else [],
                         "plpgsql": [str(rows)], "floor": [str(rows)], "capture": []}[name]
    if (checks != expected or any(len(times[n]) != rounds or len(cpu_ms[n]) != rounds for n in names)
            or len(times["seal"]) != seal_rounds):
        sys.exit(f"PostgreSQL bulk: unexpected output {checks[:12]} (expected {expected[:12]})")
    med = {n: statistics.median(v) for n, v in times.items()}
    cmed = {n: statistics.median(v) for n, v in cpu_ms.items()}
    version = psql("SHOW server_version;", env).strip()
    print(f"\nPostgreSQL {version}, one INSERT ... SELECT of {rows:,} rows, median of {rounds} "
          "(wall: psql's \\timing; cpu: the backend's user + system time):")
    for name in names:
        print(f"  {name:8s} wall {med[name]:8.1f} ms  ratio {med[name] / med['plain']:5.2f}   "
              f"cpu {cmed[name]:8.1f} ms  ratio {cmed[name] / cmed['plain']:5.2f}   "
              f"(wall: {', '.join(f'{t:.0f}' for t in times[name])})")
    print(f"  seal     wall {med['seal']:8.1f} ms  cpu {cmed['seal']:8.1f} ms  (vigil_audit_seal() of the {rows:,} "
          f"entries, off the writer's path; median of {seal_rounds}: {', '.join(f'{t:.0f}' for t in times['seal'])})")
    for label, m in (("wall", med), ("cpu", cmed)):
        print(f"  the transition table alone ({label}): {m['capture'] / m['plain']:.2f}x plain")
        print(f"  floor of the design ({label}): a raw copy through a transition table costs "
              f"{m['floor'] / m['plain']:.2f}x plain; vigil is {m['vigil'] / m['floor']:.2f}x that floor")
        ratio_line(f"vigil/plain ({label})", m["vigil"] / m["plain"], 1.5, "<=")
        ratio_line(f"plpgsql/vigil ({label})", m["plpgsql"] / m["vigil"], 2.0, ">=")
    return med


# ------------------------------------------------- PostgreSQL, single rows (callgrind)

def as_owner(cmd):
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


def bench_pg_callgrind(env, small, large, keep):
    if not shutil.which("valgrind"):
        sys.exit("valgrind not found (scripts/setup installs it)")
    tables, create = pg_tables("single")
    prefill = small + large
    setup = ["CREATE EXTENSION vigil;", CLASSIC, *create]
    setup += [f"INSERT INTO {t} {pg_generate(1, prefill)};" for t in tables.values()]
    setup += [f"SELECT vigil_audit_enable('{tables['vigil']}');", "VACUUM ANALYZE;", "CHECKPOINT;"]
    setup.append("SELECT (SELECT count(*) FROM vigil_state.vigil_audit_log), (SELECT count(*) FROM audit_classic);")
    before = [int(x) for x in psql("\n".join(setup), env).splitlines()[-1].split("|")]
    data = env["VIGIL_PGDATA"]
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(as_owner([f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]),
                   check=True, capture_output=True)
    work = tempfile.mkdtemp(prefix="vigil-bench-audit.")
    try:
        os.chmod(work, 0o777)
        return callgrind_runs(tables, data, bindir, work, small, large, before, keep)
    finally:
        shutil.rmtree(work)


def callgrind_runs(tables, data, bindir, work, small, large, before, keep):
    """Runs every (variant, statement) at both sizes in `work`; returns
    {(variant, op): instructions per statement} after printing them."""
    prefill = small + large

    def statements(op, table, lo, hi):
        for k in range(lo, hi + 1):
            if op == "INSERT":
                g = 1_000_000 + k
                yield (f"INSERT INTO {table} VALUES ({g}, {1 + g % 5000}, '{SYMBOLS[g % len(SYMBOLS)]}', "
                       f"{100 + (g % 90000) / 7.0:.2f}, {1 + g % 100}, '{'buy' if g % 2 == 0 else 'sell'}', "
                       f"timestamptz '2026-01-01 00:00:00+00' + interval '{g} seconds');")
            elif op == "UPDATE":
                yield f"UPDATE {table} SET qty = qty + 1, price = price + 0.01 WHERE id = {k};"
            else:
                yield f"DELETE FROM {table} WHERE id = {k};"

    def run(name, op, lo, hi):
        sql = os.path.join(work, f"{name}-{op}-{hi - lo + 1}.sql")
        with open(sql, "w") as f:
            f.write("\n".join(statements(op, tables[name], lo, hi)) + "\n")
        out_file = os.path.join(work, f"callgrind.{name}-{op}-{hi - lo + 1}")
        with open(sql) as stdin:
            p = subprocess.run(as_owner(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
                                         f"{bindir}/postgres", "--single", "-D", data, "-c", "jit=off",
                                         "postgres"]), stdin=stdin, capture_output=True, text=True)
        collected = re.search(r"Collected : (\d+)", p.stderr)
        if p.returncode or not collected or "ERROR:" in p.stderr or "ERROR:" in p.stdout:
            sys.exit(f"callgrind run {name} {op} failed:\n{p.stderr[-3000:]}\n{p.stdout[-2000:]}")
        return int(collected.group(1))

    per = {}
    ops = ["INSERT", "UPDATE", "DELETE"]
    for name in tables:
        for op in ops:
            a = run(name, op, 1, small)
            b = run(name, op, small + 1, small + large)
            per[(name, op)] = (b - a) / (large - small)
    # The runs wrote what they should have: the rows left and the entries.
    check = subprocess.run(as_owner([f"{bindir}/postgres", "--single", "-D", data, "postgres"]),
                           input="SELECT count(*) AS n FROM vigil_state.vigil_audit_log\n"
                                 "SELECT count(*) AS n FROM audit_classic\n",
                           capture_output=True, text=True)
    counts = [int(x) for x in re.findall(r'n = "(\d+)"', check.stdout)]
    want = [b + 3 * prefill for b in before]  # one entry per statement, each run on its own ids
    if counts != want:
        sys.exit(f"callgrind runs: audit entries {counts}, expected {want}\n{check.stderr[-2000:]}")
    if keep:
        os.makedirs(keep, exist_ok=True)
        for f in os.listdir(work):
            if f.startswith("callgrind."):
                shutil.copy(os.path.join(work, f), keep)
    print(f"\nPostgreSQL single-row writes, instructions per statement "
          f"(callgrind, single-user backend, ({large:,} - {small:,} statements) / {large - small:,}):")
    print(f"  {'':8s} {'plain':>10s} {'vigil':>10s} {'plpgsql':>10s}   vigil/plain  plpgsql/vigil  target vigil < plpgsql")
    for op in ops:
        p, v, c = (per[(n, op)] for n in ("plain", "vigil", "plpgsql"))
        print(f"  {op:8s} {p:10,.0f} {v:10,.0f} {c:10,.0f}   {v / p:11.2f}  {c / v:13.2f}  "
              f"{'met' if v < c else 'NOT met'}")
    return per


# -------------------------------------------------------------------- SQLite

def sqlite_rows(n):
    return [(g, 1 + g % 5000, SYMBOLS[g % len(SYMBOLS)], round(100 + (g % 90000) / 7.0, 2), 1 + g % 100,
             "buy" if g % 2 == 0 else "sell",
             time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1767225600 + g))) for g in range(1, n + 1)]


# SQLite's floor of any per-row trigger log: one AFTER INSERT trigger that
# copies the row's values into a table without an index.
SQLITE_FLOOR = ("CREATE TABLE floor_log (id, user_id, symbol, price, qty, side, created_at);"
                "CREATE TRIGGER floor AFTER INSERT ON trades BEGIN INSERT INTO floor_log VALUES "
                "(NEW.id, NEW.user_id, NEW.symbol, NEW.price, NEW.qty, NEW.side, NEW.created_at); END;")


def sqlite_open(path, audited):
    db = sqlite3.connect(path, isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(os.path.join(BUILD, "sqlite_ext", "vigil"))
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(f"CREATE TABLE trades ({COLUMNS_SQLITE})")
    if audited == "floor":
        db.executescript(SQLITE_FLOOR)
    elif audited:
        db.execute("SELECT vigil_audit_enable('trades')")
    return db


def bench_sqlite(rows, rounds):
    data = sqlite_rows(rows)
    select = ("WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) "
              "SELECT n, 1 + n % 5000, "
              f"CASE n % 8 {' '.join(f'WHEN {i} THEN {chr(39)}{s}{chr(39)}' for i, s in enumerate(SYMBOLS))} END, "
              "round(100 + (n % 90000) / 7.0, 2), 1 + n % 100, CASE WHEN n % 2 = 0 THEN 'buy' ELSE 'sell' END, "
              "strftime('%Y-%m-%dT%H:%M:%SZ', 1767225600 + n, 'unixepoch') FROM g")
    work = tempfile.mkdtemp(prefix="vigil-bench-audit.")
    times = {(w, v): [] for w in ("executemany", "select") for v in ("plain", "vigil", "floor")}
    cpu = {k: [] for k in times}
    seals = []
    try:
        for r in range(rounds):
            for way in ("executemany", "select"):
                for variant in (("plain", "vigil", "floor") if r % 2 == 0 else ("floor", "vigil", "plain")):
                    path = os.path.join(work, f"{way}-{variant}-{r}.db")
                    db = sqlite_open(path, "floor" if variant == "floor" else variant == "vigil")
                    t0, c0 = time.perf_counter(), time.process_time()
                    db.execute("BEGIN")
                    if way == "executemany":
                        db.executemany("INSERT INTO trades VALUES (?, ?, ?, ?, ?, ?, ?)", data)
                    else:
                        db.execute(f"INSERT INTO trades {select}", (rows,))
                    db.execute("COMMIT")
                    times[(way, variant)].append((time.perf_counter() - t0) * 1000)
                    cpu[(way, variant)].append((time.process_time() - c0) * 1000)
                    n = db.execute("SELECT count(*) FROM trades").fetchone()[0]
                    if variant == "vigil":
                        # Sealing is after commit, off the writer's path: timed apart.
                        s0 = time.perf_counter()
                        sealed = db.execute("SELECT vigil_audit_seal()").fetchone()[0]
                        seals.append((time.perf_counter() - s0) * 1000)
                        entries, unsealed = db.execute(
                            "SELECT count(*), count(*) FILTER (WHERE seq IS NULL) FROM vigil_audit_log "
                            "WHERE operation = 'INSERT'").fetchone()
                        if (entries, unsealed, sealed) != (rows, 0, rows):
                            sys.exit(f"SQLite: {entries} entries, {unsealed} unsealed, {sealed} sealed, "
                                     f"expected {rows}, 0 and {rows}")
                    if variant == "floor" and db.execute("SELECT count(*) FROM floor_log").fetchone()[0] != rows:
                        sys.exit("SQLite: the floor's trigger did not copy every row")
                    if n != rows:
                        sys.exit(f"SQLite: {n} rows, expected {rows}")
                    db.close()
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(path + suffix):
                            os.remove(path + suffix)
    finally:
        shutil.rmtree(work)
    print(f"\nSQLite {sqlite3.sqlite_version}, {rows:,} rows in one transaction, file database "
          f"(WAL, synchronous=NORMAL), median of {rounds} (wall; cpu: this process's user + system time):")
    med = {k: statistics.median(v) for k, v in times.items()}
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    for way in ("executemany", "select"):
        p, v = med[(way, "plain")], med[(way, "vigil")]
        cp, cv = cmed[(way, "plain")], cmed[(way, "vigil")]
        print(f"  {way:12s} plain {p:9.1f} ms  vigil {v:9.1f} ms  ratio {v / p:5.2f}   "
              f"cpu plain {cp:9.1f} ms  vigil {cv:9.1f} ms  ratio {cv / cp:5.2f}   "
              f"target vigil/plain <= 2: {'met' if v / p <= 2 else 'NOT met'}")
        f = med[(way, "floor")]
        print(f"  {'':12s} floor {f:9.1f} ms: a bare trigger copying each row costs {f / p:5.2f}x plain "
              f"(cpu {cmed[(way, 'floor')] / cp:5.2f}x); vigil is {v / f:5.2f}x that floor")
    print(f"  seal         vigil_audit_seal() of the {rows:,} entries afterwards: median "
          f"{statistics.median(seals):9.1f} ms (off the writer's path)")
    return med


def main():
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--quick", action="store_true", help="fewer rounds and rows (SQLite 200,000, callgrind 100/600)")
    ap.add_argument("--rounds", type=int, help="rounds per variant (default 5 PostgreSQL, 1 SQLite; --quick 3/1)")
    ap.add_argument("--seal-rounds", type=int, default=1,
                    help="rounds that also time vigil_audit_seal() (default 1: it takes tens of seconds today)")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-bulk", action="store_true", help="skip the PostgreSQL INSERT ... SELECT")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--keep-callgrind", metavar="DIR", help="copy the callgrind output files here")
    args = ap.parse_args()
    pg_rounds = args.rounds or (3 if args.quick else 5)
    sqlite_rounds = args.rounds or 1
    small, large = (100, 600) if args.quick else (200, 1200)
    started = time.time()
    if not args.no_sqlite:
        bench_sqlite(200_000 if args.quick else 1_000_000, sqlite_rounds)
    if not args.no_pg:
        if not args.no_bulk:
            with pg_cluster("shared_buffers = '1GB'", "max_wal_size = '8GB'") as env:
                bench_pg_bulk(env, 200_000, pg_rounds, min(args.seal_rounds, pg_rounds))
        if not args.no_callgrind:
            with pg_cluster("shared_buffers = '128MB'") as env:
                bench_pg_callgrind(env, small, large, args.keep_callgrind)
    print(f"\n({time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
