#!/usr/bin/python3
"""two_connections.py MODULE — rule changes made by one connection reach
another connection's cached rules (SQLITE_FCNTL_DATA_VERSION), and this
connection's own changes reach its cache at once (rule generation).
Prints 'N passed, N failed'."""
import os
import sqlite3
import sys
import tempfile

from harness import Checks
from harness import connect as connect_module
from harness import error_of

module = sys.argv[1]
checks = Checks()


def check(name, cond):
    checks(cond, name)


def connect(path):
    return connect_module(module, path)


def rejected(db, sql):
    e = error_of(db, sql)
    return None if e is None else str(e)


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "t.db")
    a, b = connect(path), connect(path)
    a.execute("CREATE TABLE ledger (id INTEGER PRIMARY KEY, amount NUMERIC, memo TEXT)")
    a.execute("SELECT vigil_enforce('ledger')")
    check("no rules: accepted", rejected(a, "INSERT INTO ledger VALUES (1, -5, 'x')") is None)
    a.execute("SELECT vigil_rule_add('ledger', 'amount', 'positive')")
    check("own rule seen at once", "amount (positive)" in (rejected(a, "INSERT INTO ledger VALUES (2, -5, 'x')") or ""))
    # b caches the plan, then a adds a rule: b must see it on its next write.
    check("b accepts a positive amount", rejected(b, "INSERT INTO ledger VALUES (3, 5, 'x')") is None)
    a.execute("""SELECT vigil_rule_add('ledger', 'memo', 'length', '{"max": 3}')""")
    check("other connection's rule seen", "memo (length)" in (rejected(b, "INSERT INTO ledger VALUES (4, 5, 'long memo')") or ""))
    # Inside one transaction on b (the bulk-load case), rules are read once
    # and still apply to every row.
    b.execute("BEGIN")
    for i in range(10, 1010):
        b.execute("INSERT INTO ledger VALUES (?, ?, 'ok')", (i, i))
    check("bulk rows still checked", "amount (positive)" in (rejected(b, "INSERT INTO ledger VALUES (2000, -1, 'ok')") or ""))
    b.execute("COMMIT")
    a.execute("SELECT vigil_rule_remove('ledger', 'memo', 'length')")
    check("removal reaches b", rejected(b, "INSERT INTO ledger VALUES (5, 5, 'long memo')") is None)
    check("row count", a.execute("SELECT count(*) FROM ledger").fetchone()[0] == 1003)
    a.close()
    b.close()

sys.exit(checks.summary("two connections"))
