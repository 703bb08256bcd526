#!/usr/bin/python3
"""cancel.py — long work in vigil's core stops when PostgreSQL asks it to.

Runs vigil_json_schema_valid on a 2 KB schema whose $refs fan out (2^31
evaluation steps; it would never finish) in a backend, and stops it three
ways from outside: statement_timeout, pg_cancel_backend and
pg_terminate_backend from a second session. Each must end the statement
with PostgreSQL's own error; the time from the request to the end is
printed (the issue's measure: within about a second). The bound below only
catches a hang, it is not a performance assertion. Uses the cluster in
PGHOST/PGPORT with the extension in PGDATABASE.
"""
import subprocess
import sys
import time

SCHEMA = ('{"$defs": {' + ", ".join(
    f'"a{i}": {{"anyOf": [{{"$ref": "#/$defs/a{i + 1}"}}, {{"$ref": "#/$defs/a{i + 1}"}}]}}' for i in range(31))
    + ', "a31": {"type": "string"}}, "$ref": "#/$defs/a0"}')
QUERY = f"SELECT vigil_json_schema_valid('{SCHEMA}', '1', '{{\"max_steps\": 1000000000}}')"
HANG = 60  # seconds: far beyond any honest answer


def psql(sql):
    return subprocess.run(["psql", "-X", "-qAt", "-c", sql], capture_output=True, text=True, timeout=HANG)


def run(label, setup, stop):
    tag = f"vigil-cancel-{label}"
    proc = subprocess.Popen(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", f"SET application_name = '{tag}'",
                             "-c", setup, "-c", QUERY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = None
    for _ in range(200):
        out = psql(f"SELECT pid FROM pg_stat_activity WHERE application_name = '{tag}' AND state = 'active' "
                   f"AND query LIKE 'SELECT vigil_json_schema_valid%'").stdout.strip()
        if out:
            pid = int(out)
            break
        time.sleep(0.05)
    if pid is None:
        proc.kill()
        return False, f"{label}: the statement never started"
    time.sleep(0.5)  # well into the evaluation
    start = time.monotonic()
    if stop:
        psql(f"SELECT {stop}({pid})")
    try:
        _, err = proc.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        proc.kill()
        return False, f"{label}: still running {HANG} s after the request"
    took = time.monotonic() - start
    return True, (took, " / ".join(err.strip().splitlines()))


def main():
    failed = 0
    cases = [
        ("statement_timeout", "SET statement_timeout = '1500ms'", None, "canceling statement due to statement timeout"),
        ("pg_cancel_backend", "SET statement_timeout = 0", "pg_cancel_backend", "canceling statement due to user request"),
        ("pg_terminate_backend", "SET statement_timeout = 0", "pg_terminate_backend",
         "terminating connection due to administrator command"),
    ]
    for label, setup, stop, want in cases:
        ok, result = run(label, setup, stop)
        if not ok:
            print("FAIL", result)
            failed += 1
            continue
        took, err = result
        if label == "statement_timeout":
            took += 0.5  # the timeout started with the statement, half a second before the clock here
            note = f"{took:.2f} s after the statement started (statement_timeout 1.5 s)"
        else:
            note = f"{took:.2f} s after {stop}()"
        good = want in err
        failed += not good
        print(("ok  " if good else "FAIL"), f"{label}: stopped {note}: {err}")
    print(f"cancel: {3 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
