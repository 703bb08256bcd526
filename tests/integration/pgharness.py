"""pgharness.py — what the PostgreSQL integration tests share: a count of
checks ending in the 'N passed, N failed' line, a throw-away cluster of
their own (scripts/pg-temp-cluster) with extra postgresql.conf lines,
psql runs as any role, sessions held open, polling, and the server log's
scan for crashes when the cluster stops."""
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Checks:
    """check(name, cond, detail) counts a check and prints FAIL when cond is false."""

    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, name, cond, detail=""):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name} {detail}")

    def summary(self, label):
        print(f"{label}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def start_cluster(*conf, extra_env=None):
    """Starts a cluster with `conf` lines; returns the environment that reaches it
    (PGHOST, PGPORT, PGUSER, PGDATABASE, VIGIL_PGDATA)."""
    out = subprocess.run([os.path.join(ROOT, "scripts/pg-temp-cluster"), "start", *conf], check=True,
                         capture_output=True, text=True, env=dict(os.environ, **(extra_env or {}))).stdout
    env = dict(os.environ)
    for part in out.replace("export ", "").split():
        k, v = part.split("=", 1)
        env[k] = v.strip("'")
    return env


def server_log(env):
    return os.path.join(os.path.dirname(env["VIGIL_PGDATA"]), "server.log")


def pg_ctl(env, *args):
    """Runs pg_ctl on the cluster as its owner (stop, start, restart ...)."""
    bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
    owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    return subprocess.run(owner + [os.path.join(bindir, "pg_ctl"), "-D", env["VIGIL_PGDATA"], "-w", *args,
                                   "-l", server_log(env)], env=env, capture_output=True, text=True)


def stop_cluster(env, expected_kills=False):
    """Stops the cluster and returns the server log's crash lines (a PANIC,
    an assertion, a backend ended by a signal other than the test's kill -9)."""
    path = server_log(env)
    log = open(path, encoding="utf-8", errors="replace").read() if os.path.exists(path) else ""
    subprocess.run([os.path.join(ROOT, "scripts/pg-temp-cluster"), "stop", env["VIGIL_PGDATA"]], capture_output=True)
    return [line for line in log.splitlines()
            if "PANIC" in line or "TRAP" in line or "segmentation" in line.lower()
            or ("terminated by signal" in line and not (expected_kills and "signal 9" in line))]


def worker_errors(log):
    """The server log's lines where vigil's background worker logged an ERROR."""
    return [line for line in log.splitlines() if "vigil worker" in line and "ERROR:" in line]


def psql(env, sql, user="postgres", check_error=True, db="postgres"):
    """Runs `sql` (one psql -c: one implicit transaction); returns its unaligned rows,
    or 'ERROR: ...' when check_error is false and it failed."""
    r = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-U", user, "-d", db, "-c", sql],
                       env=env, capture_output=True, text=True)
    if r.returncode != 0 and check_error:
        raise RuntimeError(r.stderr)
    return r.stdout.strip() if r.returncode == 0 else "ERROR: " + r.stderr.strip()


def script(env, sql, user="postgres", db="postgres"):
    """Runs a script in one session, statement by statement; returns stdout
    (psql prints notifications there too)."""
    r = subprocess.run(["psql", "-X", "-q", "-At", "-U", user, "-d", db], input=sql, env=env,
                       capture_output=True, text=True)
    return r.stdout


class Session:
    """A psql session held open: statements are written to it and run as
    they arrive; close() ends it (and its transaction)."""

    def __init__(self, env, user="postgres", db="postgres"):
        self.p = subprocess.Popen(["psql", "-X", "-q", "-At", "-U", user, "-d", db], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, text=True)

    def send(self, sql):
        self.p.stdin.write(sql + "\n")
        self.p.stdin.flush()

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def wait(cond, limit=60.0, step=0.1):
    """Polls cond until it holds or `limit` seconds pass (a bound, never a timing assertion)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()
