"""benchlib.py — what the engine benchmarks share: the build paths, a
temporary PostgreSQL cluster, psql, SQLite with the module, and the report."""
import contextlib
import os
import sqlite3
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("VIGIL_BUILD", os.path.join(ROOT, "build"))


def sqlite_db():
    """An in-memory SQLite database in autocommit mode with vigil loaded."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(os.path.join(BUILD, "sqlite_ext", "vigil"))
    return db


@contextlib.contextmanager
def pg_cluster(*conf):
    """A temporary PostgreSQL cluster (scripts/pg-temp-cluster); yields the
    environment for psql. The extension must be installed."""
    script = os.path.join(ROOT, "scripts", "pg-temp-cluster")
    out = subprocess.run([script, "start", *conf], capture_output=True, text=True, check=True).stdout
    env = dict(os.environ)
    for part in out.replace("export ", "").split():
        key, value = part.split("=", 1)
        env[key] = value.strip("'")
    try:
        yield env
    finally:
        subprocess.run([script, "stop", env["VIGIL_PGDATA"]])


def psql(sql, env):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], input=sql, env=env,
                         capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    return out.stdout


def pg_medians(env, steps, rounds, settings="SET jit = off; SET max_parallel_workers_per_gather = 0;",
               setup=None, declare="n bigint; r jsonb;"):
    """Times PL/pgSQL `steps` ({name: statements}) in turn, `rounds` times,
    inside one DO block (so psql round trips are not measured); `setup`
    statements run before each step untimed. Returns {name: median ms}, in
    the order of `steps`. JIT and parallel query are off by default, so the
    functions are measured rather than the planner's choices."""
    body = [settings, "CREATE TEMP TABLE timings (name text, ms float8);",
            f"DO $$ DECLARE t0 timestamptz; {declare} BEGIN", f"FOR i IN 1..{rounds} LOOP"]
    for name, statements in steps.items():
        if setup and name in setup:
            body.append(setup[name])
        body.append(f"t0 := clock_timestamp(); {statements} "
                    f"INSERT INTO timings VALUES ('{name}', 1000 * extract(epoch FROM clock_timestamp() - t0));")
    body += ["END LOOP; END $$;",
             "SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM timings GROUP BY name;"]
    medians = dict(line.split("|") for line in psql("\n".join(body), env).splitlines())
    return {name: float(medians[name]) for name in steps}


def report(title, medians, anchor, target, unit="ms"):
    """Prints each median with its ratio to the anchor and whether vigil's
    ratio meets the target; returns that."""
    print(f"\n{title}:")
    for name, value in medians.items():
        print(f"  {name:12s} {value:10.1f} {unit}  ratio {value / medians[anchor]:5.2f}")
    ratio = medians["vigil"] / medians[anchor]
    ok = ratio <= target
    print(f"  target vigil/{anchor} <= {target}: {'met' if ok else 'NOT met'} ({ratio:.2f})")
    return ok
