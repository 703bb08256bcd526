#!/usr/bin/python3
"""notify.py — NOTIFY vigil_alerts says nothing a listener may not know.

Anyone may LISTEN (and NOTIFY) in PostgreSQL, so the notification vigil
sends with an alert carries only the alert's id and kind; the alert itself
is a row of vigil_alerts, which a plain role cannot read. A role without any
vigil privilege listens while the superuser's quality check raises an alert:
the payload must be exactly {"id": <the new alert's id>, "kind": "quality_score"},
and the listener must see no row of vigil_alerts. Uses the cluster in
PGHOST/PGPORT with the extension in PGDATABASE (psql prints notifications).
"""
import json
import re
import subprocess
import sys
import time


def psql(*commands, user=None):
    args = ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1"] + (["-U", user] if user else [])
    for c in commands:
        args += ["-c", c]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def main():
    failed = 0

    def check(ok, what):
        nonlocal failed
        print(("ok   " if ok else "FAIL ") + what)
        failed += 0 if ok else 1

    psql("DROP ROLE IF EXISTS vigil_notify_listener", "CREATE ROLE vigil_notify_listener LOGIN",
         "DROP TABLE IF EXISTS notify_t", "CREATE TABLE notify_t (id int PRIMARY KEY, email text)",
         "INSERT INTO notify_t VALUES (1, 'nope')",
         # An alert is raised when a table's state changes: start from none.
         "DELETE FROM vigil_state.vigil_quality_history WHERE table_name = 'notify_t'",
         "SELECT vigil_rule_add('notify_t', 'email', 'email')", "GRANT SELECT ON notify_t TO vigil_notify_listener")
    # The listener's session: LISTEN, then a statement in which the
    # superuser's alert (committed by then) is delivered; psql prints it.
    listener = subprocess.Popen(
        ["psql", "-X", "-qAt", "-U", "vigil_notify_listener", "-c", "LISTEN vigil_alerts", "-c", "SELECT pg_sleep(2)",
         "-c", "SELECT count(*) FROM vigil_alerts"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.7)
    out = psql("SET vigil.quality_alert_score = 100", "SELECT vigil_quality_check('notify_t')->>'score'",
               "SELECT max(id) FROM vigil_state.vigil_alerts")
    alert_id = int(out.stdout.strip().splitlines()[-1])
    stdout, stderr = listener.communicate(timeout=60)
    text = stdout + stderr
    m = re.search(r'Asynchronous notification "vigil_alerts" with payload "(.*)" received', text)
    check(m is not None, "the listener received a notification on vigil_alerts")
    if m:
        payload = json.loads(m.group(1))
        check(payload == {"id": alert_id, "kind": "quality_score"},
              f"the payload is only the alert's id and kind: {m.group(1)}")
    check("permission denied for view vigil_alerts" in stderr, f"the listener may not read vigil_alerts: {stderr.strip()}")
    psql("DROP TABLE notify_t", "DELETE FROM vigil_state.vigil_rules WHERE table_name = 'notify_t'",
         "DROP ROLE vigil_notify_listener")
    print(f"notify: {'ok' if failed == 0 else f'{failed} failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
