#!/usr/bin/python3
"""upgrade_fixtures.py — every kept SQLite fixture opens under this module.

Usage: upgrade_fixtures.py MODULE.so FIXTURES_DIR

tests/fixtures/vigil-<version>.db was written by release <version>'s module
(scripts/make-fixture) from vigil-<version>.sql, which follows one template:
tables users and trades with rules on both, both enforced, migrations 1 and 2
applied and 3 registered, a quality report with alerts. For each fixture,
on a copy, this proves (sqlite-vec's legacy-compatibility test is the model):

- a read-only connection reads its rules and checks rows as they are;
- loading the module upgrades it in place to the module's schema version
  (or, when another connection holds the write lock, the first writing
  call does, and until then its old triggers fail closed), after which
  vigil's tables are exactly those of a fresh database and the
  enforcement triggers exactly those the module generates;
- its rules still enforce, its migration history still validates (and
  continues), its quality history and alerts survived;
- a database claiming a newer schema is refused by readers and writers and
  left byte for byte as it was; an 0.1.0 database holding only some of
  vigil's tables (0.1.0 created them lazily) is completed; a damaged
  vigil_meta is a clear error; hostile files (a view named like vigil's
  table, an unknown or non-canonical version stamp) are refused, untouched,
  without crashing a child process.

Prints 'N passed, N failed'.
"""
import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from harness import Checks
from harness import connect as connect_module
from harness import error_of as harness_error_of

MODULE = os.path.abspath(sys.argv[1])
FIXTURES = sys.argv[2]
check = Checks()


def connect(path, readonly=False, timeout=5.0):
    return connect_module(MODULE, path, readonly=readonly, timeout=timeout)


def error_of(db, sql, args=()):
    e = harness_error_of(db, sql, args)
    return None if e is None else str(e)


def vigil_objects(db):
    return sorted(db.execute(
        "SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema"
        " WHERE tbl_name LIKE 'vigil\\_%' ESCAPE '\\'").fetchall())


def triggers(db):
    return sorted(db.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger'").fetchall())


def stored_version(db):
    try:
        return db.execute("SELECT value FROM vigil_meta WHERE key = 'schema_version'").fetchone()[0]
    except sqlite3.Error:
        return "0.1.0"  # no vigil_meta: written by 0.1.0


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fresh_objects(tmp):
    db = connect(os.path.join(tmp, "fresh.db"))
    db.execute("SELECT vigil_config('quality_alert_score', '80')")  # any writer creates the schema
    version = db.execute("SELECT value FROM vigil_meta WHERE key = 'schema_version'").fetchone()[0]
    objects = vigil_objects(db)
    db.close()
    return version, objects


def run_fixture(fixture, tmp, current, fresh):
    name = os.path.basename(fixture)
    path = os.path.join(tmp, name)
    shutil.copy(fixture, path)

    # Read-only first: readers work on the old layout, writers say why not.
    ro = connect(path, readonly=True)
    rules = ro.execute("SELECT count(*) FROM vigil_rules").fetchone()[0]
    check(rules == 7, f"{name}: read-only connection lists the 7 rules (got {rules})")
    check(ro.execute("SELECT vigil_check('users', '{\"email\": \"x\"}')").fetchone()[0] != "[]",
          f"{name}: read-only vigil_check still finds a violation")
    check(stored_version(ro) == "0.1.0" or name != "vigil-0.1.0.db", f"{name}: a read-only file is not upgraded")
    err = error_of(ro, "SELECT vigil_rule_add('users', 'email', 'not_null')")
    at_current = stored_version(ro) == current
    check(at_current or (err is not None and "read-only" in err),
          f"{name}: a writer on a read-only old database says why: {err}")
    ro.close()

    # Loaded while another connection holds the write lock, the module
    # cannot upgrade at once: the old triggers fail closed (a row is
    # refused, never let through unchecked), and the first writing call
    # upgrades.
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    # A short busy timeout: the load gives up on the held lock at once
    # instead of waiting out Python's default 5 s (7 fixtures, 35 s).
    db = connect(path, timeout=0.1)
    db.execute("PRAGMA busy_timeout = 5000")
    holder.execute("ROLLBACK")
    holder.close()
    check(stored_version(db) == "0.1.0" or name != "vigil-0.1.0.db",
          f"{name}: not upgraded while another connection wrote ({stored_version(db)})")
    if stored_version(db) != current:
        # Triggers of 0.1.0 and 0.2.0 fail closed (even a good row is
        # refused); those of 0.3.0 on are the module's own and check rows.
        # Either way a bad row is never let through.
        err = error_of(db, "INSERT INTO trades VALUES (20, 1, 'BTC-USD', -5, 'buy')")
        check(err is not None, f"{name}: before the upgrade a bad row is refused: {err}")
        if stored_version(db) in ("0.1.0", "0.2.0"):
            err = error_of(db, "INSERT INTO trades VALUES (21, 1, 'BTC-USD', 5, 'buy')")
            check(err is not None, f"{name}: before the upgrade the old triggers fail closed: {err}")
        db.execute("SELECT vigil_rule_remove('no_such_table', 'x', 'not_null')")  # a writing call
    db.close()
    check(at_current or sha256(path) != sha256(fixture), f"{name}: upgraded in place")

    # A later load finds it upgraded; loading a fresh copy upgrades at once.
    shutil.copy(fixture, path)
    db = connect(path)
    version = stored_version(db)
    check(version == current, f"{name}: loading the module upgrades to schema {current} (got {version})")
    check(vigil_objects(db) == fresh, f"{name}: vigil's tables equal a fresh database's:\n"
          f"  upgraded {vigil_objects(db)}\n  fresh    {fresh}")
    err = error_of(db, "INSERT INTO trades VALUES (20, 1, 'BTC-USD', -5, 'buy')")
    check(err is not None and "row rejected" in err and "price (range)" in err,
          f"{name}: after the upgrade a bad row is rejected: {err}")
    check(error_of(db, "INSERT INTO trades VALUES (21, 1, 'BTC-USD', 5, 'buy')") is None,
          f"{name}: after the upgrade a good row goes in")
    before_triggers = triggers(db)
    validate = json.loads(db.execute("SELECT vigil_migration_validate()").fetchone()[0])
    check(validate["valid"] is True and validate["history"]["entries"] == 2,
          f"{name}: the migration history validates: {validate}")
    status = db.execute("SELECT version, state FROM vigil_migration_status").fetchall()
    check(status == [("1", "applied"), ("2", "applied"), ("3", "pending")], f"{name}: migration status {status}")

    # The enforcement triggers are those this module generates.
    for table in ("users", "trades"):
        db.execute("SELECT vigil_enforce(?)", (table,))
    check(triggers(db) == before_triggers, f"{name}: enforcement triggers are the module's own")

    # Rules still enforce after the upgrade, every kind the fixture holds.
    for row, rule in (((22, 1, 'BTC-USD', 5, 'hold'), "side (one_of)"),
                      ((23, 99, 'BTC-USD', 5, 'buy'), "user_id (references)"),
                      ((24, 1, 'not a symbol!', 5, 'buy'), "symbol (crypto_symbol)"),
                      ((25, 1, 'BTC-USD', 0.5, 'sell'), "(row) (expression)")):
        err = error_of(db, "INSERT INTO trades VALUES (?, ?, ?, ?, ?)", row)
        check(err is not None and rule in err, f"{name}: {rule} still enforced: {err}")
    err = error_of(db, "UPDATE users SET email = 'nope' WHERE id = 1")
    check(err is not None and "email (email)" in err, f"{name}: updates still checked: {err}")
    check(error_of(db, "INSERT INTO users VALUES (4, 'dee@example.com', 'dee')") is None,
          f"{name}: a good user goes in")

    # History continues across the versions.
    migrate = json.loads(db.execute("SELECT vigil_migrate()").fetchone()[0])
    check(migrate["status"] == "ok" and [m["version"] for m in migrate["applied"]] == ["3"],
          f"{name}: the pending migration applies: {migrate}")
    validate = json.loads(db.execute("SELECT vigil_migration_validate()").fetchone()[0])
    check(validate["valid"] is True and validate["history"]["entries"] == 3,
          f"{name}: the chain continues: {validate}")
    # Checksums recorded as v1 keep verifying, and the same script with a
    # final newline more (v2 ignores trailing whitespace) is no drift.
    again = db.execute("SELECT vigil_migration_add('1', 'accounts', ?, 'DROP TABLE accounts;')",
                       ("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner INTEGER);\n\n",)).fetchone()[0]
    status = db.execute("SELECT version, state FROM vigil_migration_status").fetchall()
    # Releases before 0.5.0 recorded v1 checksums; from 0.5.0 on, v2.
    release = tuple(int(x) for x in name[len("vigil-"):-len(".db")].split("."))
    tag = "v1" if release < (0, 5, 0) else "v2"
    check(again.startswith(f"sha256:{tag}:") and status[0] == ("1", "applied"),
          f"{name}: a {tag} record and its text with a final newline: same script ({again}, {status[0]})")
    # The upgrade anchored the history: removing its newest entry is seen.
    db.execute("SAVEPOINT tail")
    db.execute("DELETE FROM vigil_migration_history WHERE id = (SELECT max(id) FROM vigil_migration_history)")
    validate = json.loads(db.execute("SELECT vigil_migration_validate()").fetchone()[0])
    check(validate["valid"] is False and validate["history"]["broken_at"] == 3,
          f"{name}: removing the newest history entry is detected: {validate['history']}")
    db.execute("ROLLBACK TO tail")
    db.execute("RELEASE tail")
    history = db.execute("SELECT count(*) FROM vigil_quality_history").fetchone()[0]
    alerts = db.execute("SELECT count(*) FROM vigil_alerts").fetchone()[0]
    check(history >= 3 and alerts >= 1, f"{name}: quality history ({history}) and alerts ({alerts}) survived")
    db.execute("SELECT vigil_quality_report()")
    check(db.execute("SELECT count(*) FROM vigil_quality_history").fetchone()[0] > history,
          f"{name}: quality history grows")
    if tuple(int(p) for p in name[len("vigil-"):-len(".db")].split(".")) >= (0, 7, 0):
        check(db.execute("SELECT count(*) FROM vigil_json_schemas").fetchone()[0] == 1,
              f"{name}: the registered JSON Schema survived")
    # 0.8.0: the audit trail works on an upgraded file.
    db.execute("SELECT vigil_audit_enable('trades')")
    db.execute("UPDATE trades SET price = price + 1 WHERE id = 10")
    check(json.loads(db.execute("SELECT vigil_audit_verify()").fetchone()[0])["valid"],
          f"{name}: an upgraded file audits and its chain verifies")
    db.close()


def run_refusals(fixture, tmp):
    name = os.path.basename(fixture)
    # A schema newer than the module: refused by readers and writers, untouched.
    path = os.path.join(tmp, "newer-" + name)
    shutil.copy(fixture, path)
    db = connect(path)
    db.execute("SELECT vigil_config('quality_alert_score', '80')")  # upgrade to current
    db.execute("UPDATE vigil_meta SET value = '99.0.0' WHERE key = 'schema_version'")
    db.close()
    digest = sha256(path)
    db = connect(path)
    for sql in ("SELECT vigil_rule_add('users', 'email', 'not_null')", "SELECT * FROM vigil_rules",
                "INSERT INTO trades VALUES (30, 1, 'BTC-USD', -5, 'buy')", "SELECT vigil_migrate()",
                "SELECT vigil_config('quality_alert_score')", "SELECT * FROM vigil_migration_status"):
        err = error_of(db, sql)
        check(err is not None and "schema version 99.0.0, newer than this module" in err,
              f"newer schema refused by {sql}: {err}")
    db.close()
    check(sha256(path) == digest, "a newer database is left byte for byte as it was")

    # 0.1.0 created its tables lazily: a database holding only some is completed.
    path = os.path.join(tmp, "subset.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE vigil_config (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO vigil_config VALUES ('quality_alert_score', '70')")
    db.close()
    db = connect(path)
    check(db.execute("SELECT vigil_config('quality_alert_score')").fetchone()[0] == "70",
          "an 0.1.0 subset is read before the upgrade")
    db.execute("SELECT vigil_rule_add('vigil_config', 'value', 'not_null')")
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    check({"vigil_rule_store", "vigil_migrations", "vigil_migration_history", "vigil_alerts",
           "vigil_quality_history", "vigil_meta"} <= names, f"an 0.1.0 subset is completed: {sorted(names)}")
    check(db.execute("SELECT vigil_config('quality_alert_score')").fetchone()[0] == "70", "its settings are kept")

    # A damaged vigil_meta is a clear error, not a guess.
    db.execute("DELETE FROM vigil_meta")
    err = error_of(db, "SELECT vigil_rule_add('vigil_config', 'key', 'not_null')")
    check(err is not None and "holds no valid schema_version" in err, f"damaged vigil_meta: {err}")
    db.close()


def shell(path, *sql):
    """Runs the sqlite3 shell in a child process: a crash is a failure here,
    not the end of this test."""
    r = subprocess.run(["sqlite3", "-batch", path, ".load " + MODULE[:-3]] + list(sql),
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def run_hostile(tmp):
    """Files crafted against the version logic (found by an attacker's
    review): each is refused with a clear error, in a child process that
    must not crash, and nothing is stamped that was not reached."""
    meta = ("CREATE TABLE vigil_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO vigil_meta VALUES ('schema_version', '{v}');")
    cases = [
        # a view named like vigil's table that calls vigil: recursion, once a crash
        ("view-config", meta.format(v="0.2.0") +
         "CREATE VIEW vigil_config (key, value) AS SELECT 'quality_alert_score', vigil_config('quality_alert_score');",
         ["SELECT vigil_config('quality_alert_score')"], "vigil_config is a view, not vigil's table"),
        ("view-rules", "CREATE TABLE t (a);"
         "CREATE VIEW vigil_rule_store (id, table_name, column_name, rule, params) AS"
         " SELECT 1, 't', 'a', 'not_null', vigil_check('t', '{}');",
         ["SELECT vigil_check('t', '{\"a\": 1}')"], "vigil_rule_store is a view, not vigil's table"),
        # a stamp no step starts from is never skipped over
        ("unknown-stamp", meta.format(v="0.1.5"),
         ["SELECT vigil_config('quality_alert_score', '70')"], "no upgrade path from vigil schema version 0.1.5"),
        ("not-canonical", meta.format(v="00.2.0"),
         ["SELECT vigil_config('quality_alert_score', '70')"], "holds no valid schema_version"),
        ("huge-part", meta.format(v="999999999999999999999.0.0"),
         ["SELECT * FROM vigil_rules"], "holds no valid schema_version"),
    ]
    for name, ddl, sql, want in cases:
        path = os.path.join(tmp, f"hostile-{name}.db")
        db = sqlite3.connect(path, isolation_level=None)
        db.executescript(ddl)
        db.close()
        digest = sha256(path)
        for q in sql:
            rc, out = shell(path, q)
            check(rc in (0, 1) and want in out, f"hostile {name}: {q} -> rc {rc}, {out.strip()[:200]}")
        check(sha256(path) == digest, f"hostile {name}: the file is left as it was")

    # A stored expression rule never runs from a view or trigger of the file
    # (the attacker's review: vigil_check ran it with the application's
    # rights, even under trusted_schema=OFF). vigil_check is DIRECTONLY; the
    # triggers' entry point evaluates no stored SQL.
    path = os.path.join(tmp, "hostile-expression.db")
    db = connect(path)
    db.execute("CREATE TABLE t (a INTEGER)")
    db.execute("SELECT vigil_rule_add('t', NULL, 'expression', ?)",
               (json.dumps({"sql": "vigil_config('quality_alert_score', '7') IS NOT NULL"}),))
    db.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("CREATE VIEW innocent AS SELECT vigil_check('t', '{\"a\": 1}') AS v;"
                     "CREATE VIEW innocent2 AS SELECT vigil_enforce_trigger('t', '{\"a\": 1}', NULL, '{}') AS v;"
                     "CREATE TABLE log (x); CREATE TRIGGER sneaky AFTER INSERT ON log BEGIN"
                     " SELECT vigil_check('t', '{\"a\": 1}'); END;")
    db.close()
    for pragma in ("", "PRAGMA trusted_schema = OFF"):
        rc, out = shell(path, *( [pragma] if pragma else []), "SELECT * FROM innocent")
        check(rc in (0, 1) and "unsafe use of vigil_check()" in out, f"a view cannot call vigil_check ({pragma}): {out.strip()}")
        rc, out = shell(path, *( [pragma] if pragma else []), "INSERT INTO log VALUES (1)")
        check(rc in (0, 1) and "unsafe use of vigil_check()" in out, f"a trigger cannot call vigil_check ({pragma}): {out.strip()}")
        shell(path, *( [pragma] if pragma else []), "SELECT * FROM innocent2")
        rc, out = shell(path, "SELECT vigil_config('quality_alert_score')")
        check(out.strip() == "80", f"no stored expression ran from the file's views ({pragma}): setting {out.strip()}")

    # The second attacker's review of 0.3.0, one check per finding.
    path = os.path.join(tmp, "review2.db")
    db = connect(path)
    db.executescript("CREATE TABLE t (a INTEGER, b INTEGER);")
    db.execute("SELECT vigil_rule_add('t', 'a', 'positive')")
    db.execute("SELECT vigil_enforce('t')")
    # A rule whose triggers do not build is not stored, and the old ones stay.
    huge = json.dumps({"sql": "a" + "+a" * 1000 + " > 0"})
    err = error_of(db, "SELECT vigil_rule_add('t', NULL, 'expression', ?)", (huge,))
    check(err is not None, f"a rule SQLite cannot build into a trigger is refused: {err}")
    check(db.execute("SELECT count(*) FROM vigil_rules WHERE table_name = 't'").fetchone()[0] == 1,
          "the refused rule is not stored")
    check(error_of(db, "INSERT INTO t VALUES (-1, 0)") is not None, "the table is still enforced")
    # An expression cannot break out of the SQL vigil builds around it.
    db.execute("INSERT INTO vigil_rule_store (table_name, rule, params) VALUES ('t', 'expression', ?)",
               (json.dumps({"sql": "1)))) IS NOT 1 AND 0 AND (((SELECT (1"}),))
    err = error_of(db, "SELECT vigil_enforce('t')")
    check(err is not None and "closes a parenthesis" in err, f"a breakout expression is refused: {err}")
    db.execute("DELETE FROM vigil_rule_store WHERE params LIKE '%))))%'")
    # An expression's result is read as an integer on both paths.
    db.execute("SELECT vigil_rule_add('t', NULL, 'expression', ?)", (json.dumps({"sql": "CASE WHEN b = 7 THEN '0' END"}),))
    err = error_of(db, "INSERT INTO t VALUES (1, 7)")
    check(err is not None and "expression is false" in err, f"the text '0' fails in the trigger too: {err}")
    check(db.execute("SELECT vigil_check('t', '{\"a\": 1, \"b\": 7}')").fetchone()[0] != "[]",
          "and in vigil_check")
    # A stored expression runs with the file's rights only.
    for fn in ("load_extension('/nonexistent')", "vigil_migrate()"):
        db.execute("INSERT INTO vigil_rule_store (table_name, rule, params) VALUES ('t', 'expression', ?)",
                   (json.dumps({"sql": fn + " IS NULL OR 1"}),))
        err = error_of(db, "SELECT vigil_check('t', '{\"a\": 1}')")
        check(err is not None and "which this database's own schema may not call" in err,
              f"vigil_check refuses a stored expression calling {fn}: {err}")
        err = error_of(db, "SELECT vigil_quality_check('t')")
        check(err is not None and "which this database's own schema may not call" in err,
              f"the quality check refuses it too: {err}")
        db.execute("DELETE FROM vigil_rule_store WHERE params LIKE '%IS NULL OR 1%'")
    db.execute("INSERT INTO vigil_rule_store (table_name, rule, params) VALUES ('t', 'expression', ?)",
               (json.dumps({"sql": "json_extract('{}', '$.a') IS NULL"}),))
    check(error_of(db, "SELECT vigil_check('t', '{\"a\": 1}')") is None, "an ordinary function is fine")
    db.execute("PRAGMA trusted_schema = OFF")
    err = error_of(db, "SELECT vigil_check('t', '{\"a\": 1}')")
    check(err is not None and "under PRAGMA trusted_schema = OFF" in err,
          f"under trusted_schema=OFF a non-innocuous one is refused: {err}")
    db.close()
    # vigil's tables carry no triggers.
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TRIGGER wipe AFTER UPDATE ON vigil_meta BEGIN DELETE FROM vigil_rule_store; END")
    db.close()
    rc, out = shell(path, "SELECT count(*) FROM vigil_rules")
    check(rc in (0, 1) and "a trigger on vigil's table vigil_meta" in out, f"a trigger on vigil_meta is refused: {out.strip()}")

    # 0.1.0 files hold whichever tables were used: readers of a missing one
    # answer as for an empty store instead of failing (or reading an
    # ATTACHed file's table of that name).
    path = os.path.join(tmp, "only-rules.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("CREATE TABLE t (a); CREATE TABLE vigil_rule_store (id INTEGER PRIMARY KEY, table_name TEXT NOT NULL,"
                     " column_name TEXT, rule TEXT NOT NULL, params TEXT, created_at TEXT NOT NULL DEFAULT 'x');")
    db.close()
    aux = os.path.join(tmp, "aux.db")
    db = sqlite3.connect(aux, isolation_level=None)
    db.executescript("CREATE TABLE vigil_config (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "INSERT INTO vigil_config VALUES ('quality_alert_score', '7');")
    db.close()
    db = connect(path)
    db.execute("ATTACH ? AS aux", (aux,))
    check(db.execute("SELECT vigil_config('quality_alert_score')").fetchone()[0] == "80",
          "an 0.1.0 file without vigil_config reads the default, not an attached file's setting")
    check(db.execute("SELECT count(*) FROM vigil_migration_status").fetchone()[0] == 0,
          "an 0.1.0 file without migration tables has no migrations")
    db.close()


def main():
    fixtures = sorted(glob.glob(os.path.join(FIXTURES, "vigil-*.db")))
    check(len(fixtures) > 0, f"fixtures found in {FIXTURES}")
    with tempfile.TemporaryDirectory() as tmp:
        current, fresh = fresh_objects(tmp)
        for fixture in fixtures:
            run_fixture(fixture, tmp, current, fresh)
        run_refusals(fixtures[0], tmp)
        run_hostile(tmp)
    return check.summary(f"upgrade fixtures ({len(fixtures)})")


if __name__ == "__main__":
    sys.exit(main())
