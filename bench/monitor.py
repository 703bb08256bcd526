#!/usr/bin/python3
"""monitor.py — what statement monitoring costs per statement (issue 16).

    /usr/bin/python3 bench/monitor.py [pg-callgrind] [pgbench] [sqlite-callgrind] [sqlite-time]

With no argument, all four parts run. The anchors are measured in the same
run as vigil:

1. PostgreSQL, deterministic: instructions per statement under
   `valgrind --tool=callgrind` of a single-user backend (`postgres --single`)
   running N point selects on a 100,000-row table, with no module, with
   pg_stat_statements and with vigil in shared_preload_libraries. A run of
   zero statements is subtracted, so start-up does not count. Targets:
   vigil's extra instructions per statement at most pg_stat_statements' and
   at most 3 % of the bare statement's.
2. PostgreSQL, wall clock (secondary: these machines move 12-19 % between
   identical runs): `pgbench -S -M prepared -c 2 -j 2 -T 10`, the three
   configurations alternating, three rounds; medians of tps.
3. SQLite, deterministic: instructions per execution of a prepared point
   query through Python's sqlite3 (Debian's /usr/bin/python3), without a
   module, with the floor (bench/trace_floor.cc: SQLite's trace events and
   two clock reads a statement, nothing counted: what any monitor built on
   the trace API pays) and with vigil loaded (and so monitoring), N
   executions minus zero.
4. SQLite, wall clock: 1,000,000 executions each of the three, in 40
   batches rotating between three connections of one process; the median
   of the per-batch ratios. Target for 3 and 4: at most 5 % more.

Reported, never asserted. Needs the Meson build installed where pg_config
points (`meson install -C build`; scripts/test does it) and valgrind."""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from benchlib import BUILD, ROOT, pg_cluster, psql

PARTS = sys.argv[1:] or ["pg-callgrind", "pgbench", "sqlite-callgrind", "sqlite-time"]
PG_STATEMENTS = 3000
SQLITE_CG = 100000
SQLITE_TIME = 1000000
OWNER = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []


def bindir():
    return subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()


def callgrind_total(cmd, stdin_path=None, env=None, owner=()):
    out = tempfile.NamedTemporaryFile(prefix="vigil-cg-", suffix=".out", delete=False, dir="/tmp")
    out.close()
    os.chmod(out.name, 0o666)
    with open(stdin_path or os.devnull, "rb") as stdin:
        subprocess.run(list(owner) + ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}"] + cmd,
                       stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    text = open(out.name, encoding="utf-8", errors="replace").read()
    os.unlink(out.name)
    m = re.search(r"^summary:\s+(\d+)", text, re.M) or re.search(r"^totals:\s+(\d+)", text, re.M)
    return int(m.group(1))


def pg_callgrind():
    tmp = tempfile.mkdtemp(prefix="vigil-bench-")
    os.chmod(tmp, 0o777)
    data = os.path.join(tmp, "data")
    subprocess.run(OWNER + [os.path.join(bindir(), "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E",
                            "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    setup = os.path.join(tmp, "setup.sql")
    with open(setup, "w") as f:
        f.write("CREATE TABLE acct (aid integer PRIMARY KEY, abalance integer)\n"
                "INSERT INTO acct SELECT g, 0 FROM generate_series(1, 100000) g\n"
                "VACUUM ANALYZE acct\n")
    scripts = {}
    for n in (0, PG_STATEMENTS):
        path = os.path.join(tmp, f"work{n}.sql")
        with open(path, "w") as f:
            for k in range(n):
                f.write(f"SELECT abalance FROM acct WHERE aid = {(k * 7919) % 100000 + 1}\n")
        scripts[n] = path
    os.system(f"chmod a+r {tmp}/*.sql")
    postgres = os.path.join(bindir(), "postgres")
    with open(setup, "rb") as stdin:
        subprocess.run(OWNER + [postgres, "--single", "-D", data, "postgres"], stdin=stdin, check=True,
                       capture_output=True)
    # "bare + query ids" computes the core's query ids (compute_query_id =
    # on) with no module: both modules need them (EnableQueryId), so it is
    # the anchor that shows what each module adds beyond the core's work.
    configs = {"bare": ("", "auto"), "bare + query ids": ("", "on"),
               "pg_stat_statements": ("pg_stat_statements", "auto"), "vigil": ("vigil", "auto"),
               "vigil, tracking off": ("vigil", "auto")}
    per = {}
    for name, (lib, qid) in configs.items():
        cmd = [postgres, "--single", "-D", data, "-c", f"shared_preload_libraries={lib}", "-c", "jit=off",
               "-c", f"compute_query_id={qid}"]
        if name == "vigil, tracking off":
            cmd += ["-c", "vigil.track_statements=off"]
        cmd.append("postgres")
        totals = {n: callgrind_total(cmd, scripts[n], owner=OWNER) for n in (0, PG_STATEMENTS)}
        per[name] = (totals[PG_STATEMENTS] - totals[0]) / PG_STATEMENTS
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nPostgreSQL, callgrind, {PG_STATEMENTS} point selects in a single-user backend (instructions per statement):")
    for anchor in ("bare", "bare + query ids"):
        base = per[anchor]
        print(f"  against {anchor}:")
        for name, v in per.items():
            extra = v - base
            print(f"    {name:22s} {v:12,.0f}   extra {extra:+10,.0f}  ({100 * extra / base:+.2f} %)")
        ve, pe = per["vigil"] - base, per["pg_stat_statements"] - base
        print(f"    target vigil extra <= pg_stat_statements' and <= 3 %: "
              f"{'met' if ve <= pe and ve <= 0.03 * base else 'NOT met'} ({100 * ve / base:.2f} % vs {100 * pe / base:.2f} %)")


def pgbench():
    rounds = 3
    results = {"bare": [], "pg_stat_statements": [], "vigil": []}
    for r in range(rounds):
        for name, lib in (("bare", ""), ("pg_stat_statements", "pg_stat_statements"), ("vigil", "vigil")):
            conf = [f"shared_preload_libraries = '{lib}'"] if lib else []
            with pg_cluster(*conf, "max_connections = 20") as env:
                subprocess.run(["pgbench", "-i", "-s", "1", "-q"], env=env, check=True, capture_output=True)
                out = subprocess.run(["pgbench", "-S", "-M", "prepared", "-c", "2", "-j", "2", "-T", "10"], env=env,
                                     check=True, capture_output=True, text=True).stdout
                tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
                results[name].append(tps)
    print(f"\nPostgreSQL, pgbench -S -M prepared -c 2 -j 2 -T 10, {rounds} rounds alternating (median tps):")
    bare = statistics.median(results["bare"])
    for name, v in results.items():
        m = statistics.median(v)
        print(f"  {name:20s} {m:10,.0f} tps  ratio {m / bare:.3f}   rounds {[round(x) for x in v]}")


SQLITE_SCRIPT = r"""
import sqlite3, sys
n, module = int(sys.argv[1]), sys.argv[2]
db = sqlite3.connect(":memory:", isolation_level=None)
if module != "-":
    db.enable_load_extension(True)
    db.load_extension(module)
db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
db.execute("BEGIN")
db.executemany("INSERT INTO t VALUES (?, ?)", ((i, "v%d" % i) for i in range(1, 100001)))
db.execute("COMMIT")
cur = db.cursor()
q = "SELECT v FROM t WHERE id = ?"
import time
t0 = time.perf_counter()
for i in range(n):
    cur.execute(q, (i % 100000 + 1,)).fetchone()
t1 = time.perf_counter()
print(t1 - t0)
"""


def sqlite_script():
    path = os.path.join(tempfile.gettempdir(), "vigil-bench-sqlite.py")
    with open(path, "w") as f:
        f.write(SQLITE_SCRIPT)
    return path


def sqlite_callgrind():
    script = sqlite_script()
    per = {}
    for name, module in SQLITE_VARIANTS:
        # A fixed hash seed: Python's randomised string hashing moves the
        # interpreter's own count by a few hundred instructions between runs.
        env = dict(os.environ, PYTHONHASHSEED="0")
        totals = {n: callgrind_total(["/usr/bin/python3", script, str(n), module], env=env) for n in (0, SQLITE_CG)}
        per[name] = (totals[SQLITE_CG] - totals[0]) / SQLITE_CG
    base = per["without vigil"]
    print(f"\nSQLite, callgrind, {SQLITE_CG:,} executions of a prepared point query through Python's sqlite3 "
          f"(instructions per execution):")
    for name, v in per.items():
        print(f"  {name:20s} {v:10,.0f}   ratio {v / base:.3f}")
    r = per["with vigil"] / base
    print(f"  target <= 1.05: {'met' if r <= 1.05 else 'NOT met'} ({r:.3f}); vigil beyond the floor: "
          f"{per['with vigil'] - per['floor']:,.0f} instructions")


SQLITE_TIME_SCRIPT = r"""
import sqlite3, sys, time
batches, per, modules = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
def connect(module):
    db = sqlite3.connect(":memory:", isolation_level=None)
    if module != "-":
        db.enable_load_extension(True)
        db.load_extension(module)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO t VALUES (?, ?)", ((i, "v%d" % i) for i in range(1, 100001)))
    db.execute("COMMIT")
    return db.cursor()
cursors = [connect(m) for m in modules]
q = "SELECT v FROM t WHERE id = ?"
for b in range(batches):
    for k in range(len(cursors)):
        v = (b + k) % len(cursors)
        cur = cursors[v]
        t0 = time.perf_counter()
        for i in range(per):
            cur.execute(q, (i % 100000 + 1,)).fetchone()
        print(v, time.perf_counter() - t0)
"""

# What the SQLite parts compare: no module, the floor, vigil.
SQLITE_VARIANTS = (("without vigil", "-"), ("floor", os.path.join(BUILD, "bench", "trace_floor")),
                   ("with vigil", os.path.join(BUILD, "sqlite_ext", "vigil")))


def sqlite_time():
    # One process, three connections (no module, the floor, vigil), batches
    # rotating among them: the machine's drift hits all alike, and each
    # batch's ratio is taken against the batch without a module beside it.
    path = os.path.join(tempfile.gettempdir(), "vigil-bench-sqlite-time.py")
    with open(path, "w") as f:
        f.write(SQLITE_TIME_SCRIPT)
    batches, per = 40, SQLITE_TIME // 40
    out = subprocess.run(["/usr/bin/python3", path, str(batches), str(per)] + [m for _, m in SQLITE_VARIANTS],
                         capture_output=True, text=True, check=True).stdout.split()
    times = [[] for _ in SQLITE_VARIANTS]
    for v, seconds in zip(out[0::2], out[1::2]):
        times[int(v)].append(float(seconds))
    print(f"\nSQLite, {SQLITE_TIME:,} executions each of a prepared point query through Python's sqlite3, "
          f"in {batches} batches rotating between three connections of one process:")
    medians = {}
    for (name, _), v in zip(SQLITE_VARIANTS, times):
        ratios = sorted(w / o for w, o in zip(v, times[0]))
        medians[name] = statistics.median(ratios)
        print(f"  {name:20s} {sum(v):8.3f} s  {1e9 * statistics.median(v) / per:7.0f} ns/execution (median batch)"
              f"  ratio {medians[name]:.3f} (batches {ratios[0]:.3f} to {ratios[-1]:.3f})")
    r = medians["with vigil"]
    print(f"  median batch ratio {r:.3f}; target <= 1.05: {'met' if r <= 1.05 else 'NOT met'}; "
          f"the floor alone {medians['floor']:.3f}")


for part in PARTS:
    {"pg-callgrind": pg_callgrind, "pgbench": pgbench, "sqlite-callgrind": sqlite_callgrind,
     "sqlite-time": sqlite_time}[part]()
