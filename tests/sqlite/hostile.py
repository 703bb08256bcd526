#!/usr/bin/python3
"""hostile.py MODULE — the SQLite module under hostile use (issue 11).

Each check failed on 0.5.0. The cases that crashed the process then (deep
JSON, expressions that re-enter the row check) run in a child process, so
a crash is reported as a failure here instead of ending the suite.
Prints 'N passed, N failed'."""
import os
import sqlite3
import subprocess
import sys
import tempfile

from harness import Checks
from harness import connect as connect_module
from harness import error_of

MODULE = sys.argv[1]
PY = "/usr/bin/python3"  # Debian's python3: its sqlite3 module loads extensions
check = Checks()


def connect(path=":memory:", load=True):
    return connect_module(MODULE, path, load=load)


def in_child(code):
    """Runs `code` with `db` connected in a child process; returns (exit status, output)."""
    prelude = (
        "import sqlite3\n"
        "db = sqlite3.connect(':memory:', isolation_level=None)\n"
        "db.enable_load_extension(True)\n"
        f"db.load_extension({MODULE!r})\n"
        "def err(sql, args=()):\n"
        "    try:\n"
        "        db.execute(sql, args).fetchall()\n"
        "        return 'ok'\n"
        "    except sqlite3.Error as e:\n"
        "        return str(e).split(chr(10))[0]\n"
    )
    p = subprocess.run([PY, "-c", prelude + code], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout.strip() + p.stderr.strip()[-400:]


# --- Deep JSON: every JSON argument, and a deep value stored in the rule store.
deep = "[" * 60000 + "]" * 60000
rc, out = in_child(
    "deep = '[' * 60000 + ']' * 60000\n"
    "db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)')\n"
    "print(err(\"SELECT vigil_insert('t', ?)\", ('{\"a\": ' + deep + '}',)))\n"
    "print(err(\"SELECT vigil_check('t', ?)\", ('{\"a\": ' + deep + '}',)))\n"
    "print(err(\"SELECT vigil_rule_add('t', 'a', 'one_of', ?)\", (deep,)))\n"
    "print(err(\"SELECT vigil_quality_check('t', ?)\", ('{\"unique\": ' + deep + '}',)))\n"
    "print(err(\"SELECT vigil_json_schema_valid(?, '1')\", (deep,)))\n"
    "db.execute(\"SELECT vigil_rule_add('t', 'a', 'one_of', '[1]')\")\n"
    "db.execute(\"SELECT vigil_enforce('t')\")\n"
    "db.execute('UPDATE vigil_rule_store SET params = ?', (deep,))\n"
    "print(err(\"INSERT INTO t (a) VALUES ('x')\"))\n"
    "print(err(\"SELECT vigil_check('t', '{}')\"))\n"
    "print('alive')\n")
lines = out.splitlines()
check(rc == 0 and lines[-1:] == ["alive"], f"deep JSON: the process survives (exit {rc}): {out[-300:]}")
check(len(lines) >= 7 and all("nested deeper than 512 levels" in l for l in lines[:3]),
      f"deep JSON: arguments refused at the documented depth: {lines[:3]}")
check(len(lines) >= 7 and "nested deeper than 512 levels" in lines[5],
      f"deep JSON: a deep stored rule fails the write closed, with the reason: {lines[5:7]}")
rc, out = in_child(
    "db.execute('CREATE TABLE x (id INTEGER PRIMARY KEY, a TEXT)')\n"
    "print(err(\"SELECT vigil_check('x', ?)\", ('[' * 512 + ']' * 512,)))\n"
    "print(err(\"SELECT vigil_check('x', ?)\", ('[' * 513 + ']' * 513,)))\n")
check("must be a JSON object" in out.splitlines()[0] and "deeper than 512" in out.splitlines()[1],
      f"deep JSON: 512 levels pass the parser, 513 do not: {out}")

# --- Re-entry through an application function: bounded, no crash.
rc, out = in_child(
    "db.create_function('recheck', 0, lambda: db.execute(\"SELECT vigil_check('t', '{}')\").fetchone()[0])\n"
    "db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)')\n"
    "db.execute(\"\"\"SELECT vigil_rule_add('t', NULL, 'expression', '{\"sql\": \"recheck() IS NOT NULL\"}')\"\"\")\n"
    "print(err(\"SELECT vigil_check('t', '{}')\"))\n"
    "print(err(\"SELECT vigil_insert('t', '{}')\"))\n"
    "print(db.execute('SELECT count(*) FROM t').fetchone()[0])\n"
    "print('alive')\n")
check(rc == 0 and out.endswith("0\nalive"), f"re-entry: the process survives, nothing inserted (exit {rc}): {out[-300:]}")

db = connect()

# --- Rejections are constraint errors; DETAIL and HINT follow the message.
db.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, email TEXT)")
db.execute("SELECT vigil_rule_add('acct', 'email', 'email')")
db.execute("SELECT vigil_enforce('acct')")
e = error_of(db, "INSERT INTO acct (email) VALUES ('nope')")
check(isinstance(e, sqlite3.IntegrityError) and str(e).startswith("vigil: row rejected by 1 rule"),
      f"a trigger's rejection is an IntegrityError (SQLITE_CONSTRAINT): {e!r}")
e = error_of(db, "SELECT vigil_insert('acct', '{\"email\": \"nope\"}')")
check(isinstance(e, sqlite3.IntegrityError), f"vigil_insert's rejection is an IntegrityError: {e!r}")
e = error_of(db, "SELECT vigil_validate('nokind', 'x')")
check(isinstance(e, sqlite3.OperationalError) and str(e) ==
      'vigil: unknown validator kind "nokind"\nHINT:  SELECT kind FROM vigil_validators() lists the kinds.',
      f"a HINT follows the message on its own line: {e!r}")

# --- Error messages never echo input whole, nor raw bytes.
e = error_of(db, "SELECT vigil_check(?, '{}')", ("x" * 50_000_000,))
check(e is not None and len(str(e)) < 4200 and "..." in str(e), f"a 50 MB name gives a short error ({len(str(e or ''))} chars)")
e = error_of(db, "SELECT vigil_check(CAST(? AS TEXT), '{}')", (b"bad\xff\x00name\n",))
check(e is not None and "\xff" not in str(e) and "\n" not in str(e).split("DETAIL")[0],
      f"invalid UTF-8, NUL and newlines never reach a message raw: {e!r}")

# --- Adding a rule is atomic: a rule whose triggers do not build is not stored.
before = db.execute("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'acct' ORDER BY name").fetchall()
e = error_of(db, """SELECT vigil_rule_add('acct', NULL, 'expression', '{"sql": "?1 IS NULL"}')""")
check(e is not None and db.execute("SELECT count(*) FROM vigil_rules WHERE table_name = 'acct'").fetchone()[0] == 1,
      f"a rule SQLite refuses in a trigger is not stored: {e}")
after = db.execute("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'acct' ORDER BY name").fetchall()
check(after == before and len(after) == 2, "the table's triggers are unchanged after the failed add")
check(error_of(db, "INSERT INTO acct (email) VALUES ('nope')") is not None, "the table is still enforced")
db.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, n INTEGER)")
db.execute("SELECT vigil_enforce('wide')")
# The refusal comes from SQLite's expression depth limit (1000 by default:
# each rule adds a level). Lowered to 100 here: the same refusal after 96
# rules instead of 996, whose rebuilt triggers cost 50 s in the sanitizer build.
db.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 100)
db.execute("BEGIN")
too_large = None
for i in range(1, 1300):
    too_large = error_of(db, "SELECT vigil_rule_add('wide', 'n', 'range', ?)", (f'{{"max": {i}}}',))
    if too_large is not None:
        break
db.execute("COMMIT")
stored = db.execute("SELECT count(*) FROM vigil_rules WHERE table_name = 'wide'").fetchone()[0]
check(too_large is not None and stored == i - 1,
      f"the rule that makes the trigger too large is refused and not stored ({stored} stored, refused at {i}: {too_large})")
check(error_of(db, "INSERT INTO wide (n) VALUES (5)") is not None, "the wide table is still enforced")
db.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 1000)

# --- A rule change rolled back is rolled back in the rule cache too.
db.execute("CREATE TABLE roll (id INTEGER PRIMARY KEY, a INTEGER)")
db.execute("SELECT vigil_enforce('roll')")
db.execute("INSERT INTO roll (a) VALUES (10)")  # the plan is cached now
db.execute("BEGIN")
db.execute("""SELECT vigil_rule_add('roll', 'a', 'range', '{"max": 5}')""")
check(error_of(db, "INSERT INTO roll (a) VALUES (10)") is not None, "inside the transaction the new rule applies")
db.execute("ROLLBACK")
check(error_of(db, "INSERT INTO roll (a) VALUES (10)") is None, "after ROLLBACK the rolled-back rule no longer applies")
check(db.execute("SELECT vigil_check('roll', '{\"a\": 10}')").fetchone()[0] == "[]", "vigil_check agrees")

# --- Rollback-journal mode: a second connection sees a committed rule at once.
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "j.db")
    a, b = connect(path), connect(path)
    a.execute("PRAGMA journal_mode = DELETE")
    a.execute("CREATE TABLE j (id INTEGER PRIMARY KEY, a INTEGER)")
    check(b.execute("SELECT vigil_check('j', '{\"a\": -1}')").fetchone()[0] == "[]", "b: no rules yet")
    a.execute("SELECT vigil_rule_add('j', 'a', 'positive')")
    check(b.execute("SELECT vigil_check('j', '{\"a\": -1}')").fetchone()[0] != "[]",
          "b sees a's committed rule without reading a table first")
    a.close()
    b.close()

# --- DROP COLUMN on an enforced table.
db.execute("CREATE TABLE fees (id INTEGER PRIMARY KEY, fee REAL, memo TEXT, note TEXT)")
db.execute("SELECT vigil_rule_add('fees', 'fee', 'positive')")
db.execute("SELECT vigil_enforce('fees')")
check(error_of(db, "ALTER TABLE fees DROP COLUMN note") is None, "a column no rule reads can be dropped")
db.execute("SELECT vigil_rule_remove('fees', 'fee', 'positive')")
check(error_of(db, "ALTER TABLE fees DROP COLUMN fee") is None, "a column whose rules are removed can be dropped")
check(error_of(db, "INSERT INTO fees (memo) VALUES ('x')") is None, "and the table takes rows afterwards")

# --- vigil_insert into a WITHOUT ROWID table: the key, and nothing kept on failure.
db.execute("CREATE TABLE wr (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID")
check(db.execute("SELECT vigil_insert('wr', '{\"k\": \"x\", \"v\": 1}')").fetchone()[0] == '"x"', "WITHOUT ROWID: the key")
check(db.execute("SELECT count(*) FROM wr").fetchone()[0] == 1, "WITHOUT ROWID: one row")
db.execute("CREATE TABLE wr2 (a TEXT, b INTEGER, c TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID")
check(db.execute("SELECT vigil_insert('wr2', '{\"a\": \"x\", \"b\": 2, \"c\": \"z\"}')").fetchone()[0] == '{"a":"x","b":2}',
      "WITHOUT ROWID: a composite key as an object")
db.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, t TEXT)")
db.execute("SELECT vigil_insert('big', '{\"t\": 99999999999999999999}')")
db.execute("SELECT vigil_insert('big', '{\"t\": 0.1000000000000000000001}')")
db.execute("SELECT vigil_insert('big', '{\"t\": 0.1}')")
check(db.execute("SELECT group_concat(t, ' ') FROM big").fetchone()[0] == "99999999999999999999 0.1000000000000000000001 0.1",
      "a number past what a double holds is never rounded or clamped (a TEXT column keeps every digit)")

# --- An enforced table without the module: fails closed, says which function is missing.
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "m.db")
    a = connect(path)
    a.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, email TEXT)")
    a.execute("SELECT vigil_rule_add('m', 'email', 'email')")
    a.execute("SELECT vigil_enforce('m')")
    a.close()
    plain = connect(path, load=False)
    e = error_of(plain, "INSERT INTO m (email) VALUES ('not an email')")
    check(e is not None and "no such function: vigil_" in str(e),
          f"a connection without vigil cannot write to an enforced table: {e}")
    check(plain.execute("SELECT count(*) FROM m").fetchone()[0] == 0, "nothing was written")
    check(error_of(plain, "SELECT count(*) FROM m") is None, "reading needs no module")
    plain.close()

# --- vigil_insert over a scan of the same table: the documented remedy
# (docs/rules.md) inserts one row per source row.
db.execute("CREATE TABLE selfscan (id INTEGER PRIMARY KEY, a INTEGER)")
db.executemany("INSERT INTO selfscan (a) VALUES (?)", [(i,) for i in range(5)])
db.execute("WITH src AS MATERIALIZED (SELECT a FROM selfscan) SELECT vigil_insert('selfscan', json_object('a', a)) FROM src").fetchall()
check(db.execute("SELECT count(*) FROM selfscan").fetchone()[0] == 10, "a materialised source inserts one row per row")
db.execute("SELECT vigil_rule_add('selfscan', 'a', 'positive')")
db.execute("BEGIN")
e = error_of(db, "WITH src AS MATERIALIZED (SELECT a - 2 AS a FROM selfscan ORDER BY id)"
                 " SELECT vigil_insert('selfscan', json_object('a', a)) FROM src")
db.execute("ROLLBACK")
check(e is not None and db.execute("SELECT count(*) FROM selfscan").fetchone()[0] == 10,
      "a bulk load that fails partway, in a transaction rolled back, leaves nothing")

# --- A damaged rule store fails closed, and says so.
db.execute("SAVEPOINT damage")
db.execute("DROP TABLE vigil_rule_store")
e = error_of(db, "INSERT INTO acct (email) VALUES ('nope')")
check(e is not None and "vigil_rule_store table is missing" in str(e), f"a dropped rule store refuses the bad row: {e}")
e = error_of(db, "SELECT * FROM vigil_rules")
check(e is not None and "vigil_rule_store table is missing" in str(e), f"vigil_rules says what is wrong: {e}")
db.execute("ROLLBACK TO damage")
db.execute("RELEASE damage")
db.execute("UPDATE vigil_rule_store SET params = '{bad' WHERE table_name = 'acct'")
e = error_of(db, "INSERT INTO acct (email) VALUES ('nope')")
check(e is not None and "params is not valid JSON" in str(e), f"a malformed stored rule refuses the bad row: {e}")

# --- A crafted file's view named vigil_meta is never run by the rule cache.
spied = []
v = connect()
v.create_function("spy", 0, lambda: spied.append(1) or 1)
v.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)")
v.execute("CREATE VIEW vigil_meta AS SELECT 'rules_generation' AS key, spy() AS value")
e = error_of(v, "SELECT vigil_check('t', '{}')")
check(e is not None and "not vigil's table" in str(e) and not spied,
      f"a view named vigil_meta is refused, never run ({len(spied)} calls): {e}")
v.close()

# --- Review findings (attacker review of issue 11's work): bypasses of an
# enforced table through the triggers' fast and slow paths.
r = connect()
r.execute("CREATE TABLE f (id INTEGER PRIMARY KEY, x REAL, y REAL, u REAL, a INTEGER, b REAL)")
r.execute("""SELECT vigil_rule_add('f', 'x', 'range', '{"max": 1}')""")
r.execute("""SELECT vigil_rule_add('f', 'y', 'one_of', '[1]')""")
r.execute("SELECT vigil_rule_add('f', 'u', 'unique')")
r.execute("""SELECT vigil_rule_add('f', 'a', 'range', '{"max": 7083203114907025400}')""")
r.execute("""SELECT vigil_rule_add('f', 'b', 'range', '{"max": 731.06254112942223}')""")
r.execute("SELECT vigil_enforce('f')")
check(error_of(r, "INSERT INTO f (x) VALUES (1.0000000000000002)") is not None, "a REAL just above a range's max is refused")
check(error_of(r, "INSERT INTO f (y) VALUES (1.0000000000000002)") is not None, "a REAL just beside a one_of value is refused")
r.execute("INSERT INTO f (u) VALUES (0.1 + 0.2)")
check(error_of(r, "INSERT INTO f (u) VALUES (0.1 + 0.2)") is not None, "a duplicate REAL is refused by unique")
check(error_of(r, "INSERT INTO f (a) VALUES (7083203114907025405)") is not None, "an integer just above an integer max is refused")
check(error_of(r, "INSERT INTO f (a) VALUES (7083203114907025400)") is None, "the integer max itself is accepted")
# A REAL is judged as its shortest round-trip spelling (docs/rules.md
# "Numbers"): 731.0625411294222 is the same double as the bound
# 731.06254112942223, as SQLite's own CHECK (b <= ...) would also find.
check(error_of(r, "INSERT INTO f (b) VALUES (731.0625411294222)") is None, "a REAL equal, as a double, to a long decimal max passes")
check(error_of(r, "INSERT INTO f (b) VALUES (731.0625411294223)") is not None, "the next double above it is refused")
r.execute("CREATE TABLE q (id INTEGER PRIMARY KEY, r REAL, x REAL, o REAL)")
r.execute("""SELECT vigil_rule_add('q', 'r', 'range', '{"max": 9223372036854775807.9}')""")
r.execute("""SELECT vigil_rule_add('q', 'x', 'range', '{"max": 0.1000000000000000194285}')""")
r.execute("""SELECT vigil_rule_add('q', 'o', 'one_of', '[0.30000000000000004]')""")
r.execute("SELECT vigil_enforce('q')")
check(error_of(r, "INSERT INTO q (r) VALUES (9223372036854775808)") is not None, "2^63 as a REAL is above 9223372036854775807.9")
check(error_of(r, "INSERT INTO q (x) VALUES (?)", (0.10000000000000002,)) is not None, "nextafter(0.1, 1) is above 0.1000000000000000194285")
check(error_of(r, "INSERT INTO q (o) VALUES (0.1 + 0.2)") is None, "0.1 + 0.2 is one of [0.30000000000000004]")
check(error_of(r, "SELECT vigil_insert('q', '{\"o\": 0.30000000000000004}')") is None, "and vigil_insert agrees")
r.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, p REAL)")
r.execute("SELECT vigil_rule_add('big', 'p', 'positive')")
r.execute("SELECT vigil_enforce('big')")
check(error_of(r, "INSERT INTO big (p) VALUES (1.7976931348623157e308)") is None, "the largest double is positive")
# A renamed table takes its triggers along: a new table of the old name is not enforced by them.
r.execute("CREATE TABLE rn (id INTEGER PRIMARY KEY, a INTEGER)")
r.execute("SELECT vigil_rule_add('rn', 'a', 'positive')")
r.execute("SELECT vigil_enforce('rn')")
r.execute("ALTER TABLE rn RENAME TO rn_archive")
r.execute("CREATE TABLE rn (id INTEGER PRIMARY KEY, a INTEGER)")
check(r.execute("SELECT enforced FROM vigil_rules WHERE table_name = 'rn'").fetchone()[0] == 0,
      "after a rename, the new table of the old name reads enforced = 0")
r.execute("SELECT vigil_migration_add('1', 'archive', 'ALTER TABLE rn RENAME TO rn_old; CREATE TABLE rn (id INTEGER PRIMARY KEY, a INTEGER);')")
r.execute("DROP TABLE rn")
r.execute("CREATE TABLE rn (id INTEGER PRIMARY KEY, a INTEGER)")
r.execute("SELECT vigil_enforce('rn')")
r.execute("SELECT vigil_migrate()")
check(error_of(r, "INSERT INTO rn (a) VALUES (-1)") is not None, "a migration that renames an enforced table away and recreates it re-enforces it")
r.execute("DROP TRIGGER \"vigil_enforce_update:rn\"")
check(r.execute("SELECT enforced FROM vigil_rules WHERE table_name = 'rn'").fetchone()[0] == 0,
      "a table missing its update trigger reads enforced = 0")
# A trigger's rejection under vigil_insert keeps its code and one prefix.
r.execute("CREATE TABLE g (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED)")
r.execute("""SELECT vigil_rule_add('g', 'b', 'range', '{"max": 10}')""")
r.execute("SELECT vigil_enforce('g')")
e = error_of(r, """SELECT vigil_insert('g', '{"a": 6}')""")
check(isinstance(e, sqlite3.IntegrityError) and str(e).startswith("vigil: row rejected") and "vigil: vigil:" not in str(e),
      f"a trigger's rejection under vigil_insert is one IntegrityError: {e!r}")
check(r.execute("SELECT count(*) FROM g").fetchone()[0] == 0, "and nothing was written")
r.close()

# A crafted file's view named like one of vigil's table-valued functions.
v = connect()
v.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)")
v.execute("CREATE VIEW vigil_rules AS SELECT 1 AS id, 't' AS table_name, 'a' AS column_name, 'positive' AS rule,"
          " NULL AS params, '' AS created_at, 'main' AS table_schema, 1 AS enforced")
e = error_of(v, "SELECT vigil_rule_add('t', 'a', 'positive')")
check(e is not None and "hides vigil's table-valued function" in str(e), f"a view named vigil_rules is refused: {e}")
v.close()

# A rule whose stored table name is a blob never applies, so it never reads as enforced.
v = connect()
v.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)")
v.execute("SELECT vigil_rule_add('t', 'a', 'positive')")
v.execute("SELECT vigil_enforce('t')")
v.execute("UPDATE vigil_rule_store SET table_name = CAST('t' AS BLOB)")
check(v.execute("SELECT enforced FROM vigil_rules").fetchone()[0] == 0, "a blob table name reads enforced = 0")
v.close()

# RENAME COLUMN under an enforced table: the rule reads enforced = 0, and writes say why they are refused.
v = connect()
v.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)")
v.execute("SELECT vigil_rule_add('t', 'a', 'positive')")
v.execute("SELECT vigil_enforce('t')")
v.execute("ALTER TABLE t RENAME COLUMN a TO z")
check(v.execute("SELECT enforced FROM vigil_rules").fetchone()[0] == 0, "a rule on a renamed column reads enforced = 0")
e = error_of(v, "INSERT INTO t (z) VALUES (-1)")
check(e is not None and "no longer has" in str(e), f"writes are refused, saying why: {e}")
v.close()

# SQLite's names ignore case: a rule added as 'T' is table t's rule.
v = connect()
v.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER)")
v.execute("SELECT vigil_rule_add('T', 'a', 'positive')")
check(v.execute("SELECT table_name FROM vigil_rules").fetchone()[0] == "t", "the rule is stored under the table's own name")
check(error_of(v, "SELECT vigil_insert('t', '{\"a\": -1}')") is not None, "vigil_insert('t') applies it")
check(error_of(v, "SELECT vigil_insert('T', '{\"a\": -1}')") is not None, "vigil_insert('T') applies it")
v.execute("SELECT vigil_enforce('T')")
check(v.execute("SELECT enforced FROM vigil_rules").fetchone()[0] == 1, "vigil_enforce('T') enforces table t")
check(error_of(v, "INSERT INTO t (a) VALUES (-1)") is not None, "and its trigger applies the rule")
v.close()

# Second attacker review: fast-path bypasses and forged state.
v = connect()
v.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT COLLATE NOCASE, r TEXT COLLATE RTRIM, l TEXT, e TEXT, u, w INTEGER, flags INTEGER)")
v.execute("""SELECT vigil_rule_add('t', 's', 'one_of', '["a", "b"]')""")
v.execute("""SELECT vigil_rule_add('t', 'r', 'one_of', '["a", "b"]')""")
v.execute("""SELECT vigil_rule_add('t', 'l', 'length', '{"max": 3}')""")
v.execute("SELECT vigil_rule_add('t', 'e', 'email')")
v.execute("SELECT vigil_rule_add('t', 'u', 'uuid')")
v.execute("""SELECT vigil_rule_add('t', NULL, 'expression', '{"sql": "coalesce(flags & 4294967296, 1)"}')""")
v.execute("SELECT vigil_enforce('t')")
check(error_of(v, "INSERT INTO t (s) VALUES ('A')") is not None, "one_of on a NOCASE column: 'A' is not one of [\"a\"]")
check(error_of(v, "INSERT INTO t (r) VALUES ('a   ')") is not None, "one_of on an RTRIM column: 'a   ' is not one of [\"a\"]")
check(error_of(v, "INSERT INTO t (l) VALUES ('ab' || char(0) || 'cdefgh')") is not None, "length counts past a NUL")
check(error_of(v, "INSERT INTO t (l) VALUES (CAST(x'ff80fe' AS TEXT))") is not None, "length refuses invalid UTF-8")
check(error_of(v, "INSERT INTO t (e) VALUES (CAST('a@b.co' AS BLOB))") is not None, "a validator refuses a BLOB")
check(error_of(v, "INSERT INTO t (u) VALUES (CAST('123e4567-e89b-12d3-a456-426614174000' AS BLOB))") is not None,
      "a uuid rule refuses a BLOB")
check(error_of(v, "INSERT INTO t (flags) VALUES (4294967296)") is None and
      error_of(v, "SELECT vigil_insert('t', '{\"flags\": 4294967296}')") is None,
      "an expression's 64-bit result is read whole by the trigger and vigil_insert alike")
v.execute("INSERT INTO vigil_rule_store (table_name, column_name, rule, params) VALUES ('t', 'w', 'range', '{\"max\": 10}')")
check(v.execute("SELECT enforced FROM vigil_rules WHERE column_name = 'w'").fetchone()[0] == 0,
      "a rule added to the store by hand reads enforced = 0 (the triggers predate it)")
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "h.db")
    a = connect(path)
    a.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, w INTEGER)")
    a.execute("""SELECT vigil_rule_add('t', 'v', 'range', '{"max": 10}')""")
    a.execute("SELECT vigil_enforce('t')")
    a.execute("INSERT INTO vigil_rule_store (table_name, column_name, rule, params) VALUES ('t', 'w', 'range', '{\"max\": 10}')")
    a.close()
    b = connect(path)
    # A write that takes the full check fails closed on the rule the
    # triggers do not know (one the fast check passes is the documented
    # limit of hand edits; vigil_rules says enforced = 0 for it).
    e = error_of(b, "INSERT INTO t (v, w) VALUES (11, 999)")
    check(e is not None and "predate rule" in str(e), f"a rule newer than the triggers fails the full check closed: {e}")
    b.execute("CREATE TRIGGER \"vigil_enforce_insert:t2\" AFTER INSERT ON t WHEN 0 BEGIN SELECT 1; END")
    b.execute("CREATE TABLE t2 (id INTEGER PRIMARY KEY, v INTEGER)")
    b.execute("""SELECT vigil_rule_add('t2', 'v', 'range', '{"max": 10}')""")
    b.execute("DROP TRIGGER \"vigil_enforce_insert:t2\"")
    b.execute("CREATE TRIGGER \"vigil_enforce_insert:t2\" AFTER INSERT ON t2 WHEN 0 BEGIN SELECT 1; END")
    b.execute("CREATE TRIGGER \"vigil_enforce_update:t2\" AFTER UPDATE ON t2 WHEN 0 BEGIN SELECT 1; END")
    check(b.execute("SELECT enforced FROM vigil_rules WHERE table_name = 't2'").fetchone()[0] == 0,
          "stand-in triggers with vigil's names do not read as enforced")
    b.close()
e = error_of(v, "SELECT vigil_insert('vigil_rule_store', '{\"table_name\": \"t\", \"rule\": \"unique\"}')")
check(e is not None and "writes user tables" in str(e), f"vigil_insert does not write vigil's state: {e}")
v.execute("CREATE VIEW vv AS SELECT * FROM t")
e = error_of(v, "SELECT vigil_insert('vv', '{\"w\": 1}')")
check(e is not None and "is not a table" in str(e), f"vigil_insert refuses a view: {e}")
e = error_of(v, "SELECT vigil_rule_add('t', NULL, 'expression', '{\"sql\": \"rowid > 0\"}')")
check(e is not None and "does not compile" in str(e), f"an expression naming what only the table has is refused at add: {e}")
v.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER)")
v.execute("""SELECT vigil_rule_add('c', 'v', 'range', '{"max": 10}')""")
v.execute("SELECT vigil_enforce('c')")
v.execute("SELECT vigil_migration_add('1', 'recase', 'DROP TABLE c; CREATE TABLE C (id INTEGER PRIMARY KEY, v INTEGER);')")
v.execute("SELECT vigil_migrate()")
check(error_of(v, "INSERT INTO C (v) VALUES (70)") is not None, "a migration recreating c as C keeps it enforced")
v.close()

# --- The JSON Schema registry (issue 12) in a crafted file.
def registry_file(d):
    """A file with one registered schema, written by vigil; its path."""
    path = os.path.join(d, "crafted.db")
    a = connect(path)
    a.execute("SELECT vigil_json_schema_add('https://example.com/a.json', '{\"type\": \"integer\"}')")
    a.close()
    return path


with tempfile.TemporaryDirectory() as d:
    path = registry_file(d)
    # A view in the registry's place is refused, never read.
    plain = connect(path, load=False)
    plain.execute("ALTER TABLE vigil_json_schemas RENAME TO old_schemas")
    plain.execute("CREATE VIEW vigil_json_schemas AS SELECT uri, 'true' AS schema, added_at FROM old_schemas")
    plain.commit()
    plain.close()
    b = connect(path)
    e = error_of(b, "SELECT vigil_json_schema_valid('{\"$ref\": \"https://example.com/a.json\"}', '\"x\"', '{\"registry\": true}')")
    check(e is not None and "not a table" in str(e).lower() or (e is not None and "vigil_json_schemas" in str(e)),
          f"a view named vigil_json_schemas is refused: {e}")
    b.close()
with tempfile.TemporaryDirectory() as d:
    path = registry_file(d)
    plain = connect(path, load=False)
    # Hostile content written behind vigil's back: not JSON, 100,000 levels
    # deep, a self-reference, a schema loading itself through 2,000 URIs.
    plain.execute("INSERT INTO vigil_json_schemas VALUES ('https://example.com/bad.json', '{', '')")
    plain.execute("INSERT INTO vigil_json_schemas VALUES ('https://example.com/deep.json', ?, '')",
                  ("[" * 100000 + "]" * 100000,))
    plain.execute("INSERT INTO vigil_json_schemas VALUES ('https://example.com/self.json', "
                  "'{\"$ref\": \"https://example.com/self.json\"}', '')")
    for i in range(2000):
        plain.execute("INSERT INTO vigil_json_schemas VALUES (?, ?, '')",
                      (f"https://example.com/c{i}.json", '{"$ref": "https://example.com/c%d.json"}' % (i + 1)))
    plain.commit()
    plain.close()
    rc, out = in_child(
        f"db = sqlite3.connect({path!r}, isolation_level=None)\n"
        f"db.enable_load_extension(True)\ndb.load_extension({MODULE!r})\n"
        "for u in ['bad', 'deep', 'self', 'c0']:\n"
        "    print(u, err(\"SELECT vigil_json_schema_valid(?, '1', '{\\\"registry\\\": true}')\", "
        "('{\"$ref\": \"https://example.com/' + u + '.json\"}',)))\n"
        "print('alive')\n")
    check(rc == 0 and out.endswith("alive"), f"hostile registry content never crashes: {out[-300:]}")
    check("bad vigil: json_schema: registered schema https://example.com/bad.json is not valid JSON" in out,
          f"a registered schema that is not JSON names its URI: {out[:300]}")
    check("deep vigil:" in out and "512" in out, f"a deep registered schema is refused: {out[:400]}")
    # Depth or measured stack ends it, whichever comes first in this build
    # (AddressSanitizer's frames are about three times larger).
    check("self vigil: json_schema: evaluation nests deeper" in out or
          "self vigil: json_schema: evaluation needs more than 1 MB of stack" in out, f"a self-reference ends: {out[:600]}")
    check("c0 vigil: json_schema: a schema loads more than 1000 documents" in out, f"a chain of 2,000 ends: {out[:800]}")

# --- Registry writes are atomic: a refused add leaves nothing behind.
r = connect()
r.execute("CREATE TABLE o (id INTEGER PRIMARY KEY, doc TEXT)")
r.execute("SELECT vigil_json_schema_add('https://example.com/p.json', '{\"$defs\": {\"n\": {\"type\": \"integer\"}}}')")
r.execute("SELECT vigil_rule_add('o', 'doc', 'json_schema', '{\"schema\": {\"$ref\": \"https://example.com/p.json#/$defs/n\"}}')")
e = error_of(r, "SELECT vigil_json_schema_add('https://example.com/p.json', '{}')")
check(e is not None and "no longer compiles" in str(e), f"replacing a contract a rule needs is refused: {e}")
check(r.execute("SELECT schema FROM vigil_json_schemas").fetchone()[0] == '{"$defs": {"n": {"type": "integer"}}}',
      "the refused replacement left the registered schema as it was")
r.execute("BEGIN")
r.execute("SELECT vigil_json_schema_add('https://example.com/q.json', 'true')")
r.execute("ROLLBACK")
check(r.execute("SELECT count(*) FROM vigil_json_schemas").fetchone()[0] == 1, "a rolled-back add is gone")
e = error_of(r, "SELECT vigil_json_schema_add('https://example.com/z.json', ?)", ("{" * 100000,))
check(e is not None and "vigil:" in str(e), f"a malformed schema is refused: {str(e)[:100]}")
e = error_of(r, "SELECT vigil_json_schema_add(?, 'true')", ("https://example.com/\xff",))
check(e is None or "vigil:" in str(e), f"odd bytes in a URI are handled: {e}")
r.close()

# --- A plan built inside a rolled-back transaction is never enforced later
# (the rules generation was a counter that rolled back with the change).
with tempfile.TemporaryDirectory() as d:
    g = connect(os.path.join(d, "gen.db"))
    g.execute("SELECT vigil_json_schema_add('urn:x', '{\"type\": \"string\"}')")
    g.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, j TEXT)")
    g.execute("SELECT vigil_rule_add('t', 'j', 'json_schema', '{\"schema\": {\"$ref\": \"urn:x\"}}')")
    g.execute("SELECT vigil_enforce('t')")
    g.execute("BEGIN")
    g.execute("SELECT vigil_json_schema_add('urn:x', '{}')")
    g.execute("INSERT INTO t (j) VALUES ('1')")
    g.execute("ROLLBACK")
    g.execute("BEGIN")
    g.execute("SELECT vigil_json_schema_add('urn:x', '{\"type\": \"string\", \"maxLength\": 3}')")
    check(error_of(g, "INSERT INTO t (j) VALUES ('2')") is not None, "a rolled-back contract is not enforced after")
    g.execute("COMMIT")
    g.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, v INTEGER)")
    g.execute("SELECT vigil_rule_add('u', 'v', 'range', '{\"max\": 10}')")
    g.execute("SELECT vigil_enforce('u')")
    g.execute("BEGIN")
    g.execute("SELECT vigil_rule_remove('u', 'v', 'range')")
    g.execute("SELECT vigil_rule_add('u', 'v', 'range', '{\"max\": 1000}')")
    g.execute("INSERT INTO u (v) VALUES (500)")
    g.execute("ROLLBACK")
    g.execute("BEGIN")
    g.execute("SELECT vigil_rule_remove('u', 'v', 'range')")
    g.execute("SELECT vigil_rule_add('u', 'v', 'range', '{\"max\": 5}')")
    check(error_of(g, "INSERT INTO u (v) VALUES (500)") is not None, "a rolled-back rule is not enforced after")
    g.execute("COMMIT")
    g.close()

# --- A CHECK constraint of the file calls vigil's DIRECTONLY functions.
# SQLite does not hold DIRECTONLY against a CHECK calling a function that
# is not DETERMINISTIC; vigil refuses the call unless the statement that
# runs it names the function (module_sqlite.cc, DirectCall).
with tempfile.TemporaryDirectory() as d:
    evil = os.path.join(d, "evil.db")
    plain = connect(evil)  # the attacker's own copy of vigil makes the file
    plain.execute("CREATE TABLE users (name TEXT CHECK (vigil_api_key_secret('attacker-known-secret-123') = 1))")
    plain.execute("CREATE TABLE leak (name TEXT CHECK (typeof(vigil_migration_add('999', 'leak', "
                  "'SELECT ' || quote(vigil_api_key_hash(name)))) <> 'x'))")
    plain.execute("CREATE TABLE copies (name TEXT CHECK (typeof(vigil_backup(name || '.copy')) <> 'x'))")
    plain.close()
    v = connect(evil)
    v.execute("SELECT vigil_api_key_secret('the-applications-own-secret')")
    mine = v.execute("SELECT vigil_api_key_hash('k')").fetchone()[0]
    e = error_of(v, "INSERT INTO users VALUES ('x')")
    check(e is not None and "not from a CHECK constraint" in str(e), f"a CHECK cannot set the API-key secret: {e}")
    check(v.execute("SELECT vigil_api_key_hash('k')").fetchone()[0] == mine, "the secret is the application's still")
    e = error_of(v, "INSERT INTO leak VALUES ('victim_key')")
    check(e is not None and "not from a CHECK constraint" in str(e), f"a CHECK cannot add a migration or hash: {e}")
    e = error_of(v, "INSERT INTO copies VALUES (?)", (os.path.join(d, "exfil"),))
    check(e is not None and not os.path.exists(os.path.join(d, "exfil.copy")),
          f"a CHECK cannot write a backup: {e}")
    # What a second review found around the first fix: vigil's own
    # statements carry the file's names (vigil_insert's RETURNING names the
    # key column), strings and comments mention names, a name is a prefix
    # of another's, and a CHECK can re-enter the function the application
    # called.
    v.execute("SELECT vigil_api_key_secret('the-applications-own-secret')")
    plain = connect(evil)
    plain.execute("CREATE TABLE orders (vigil_backup INTEGER PRIMARY KEY, item TEXT, "
                  f"CHECK (vigil_backup('{os.path.join(d, 'pk.copy')}') IS NOT NULL))")
    plain.execute("CREATE TABLE notes (body TEXT, CHECK (vigil_api_key_secret('attacker-known-secret-123') = 1))")
    plain.execute("CREATE TABLE r (v INTEGER, CHECK (vigil_insert('r', '{\"v\": 1}') IS NOT NULL))")
    plain.close()
    v.close()
    v = connect(evil)
    v.execute("SELECT vigil_api_key_secret('the-applications-own-secret')")
    e = error_of(v, "SELECT vigil_insert('orders', '{\"item\": \"x\"}')")
    check(e is not None and not os.path.exists(os.path.join(d, "pk.copy")),
          f"a key column named vigil_backup does not let a CHECK write a backup: {e}")
    e = error_of(v, "INSERT INTO notes VALUES ('how to call vigil_api_key_secret(x)') -- vigil_api_key_secret(")
    check(e is not None and v.execute("SELECT vigil_api_key_hash('k')").fetchone()[0] == mine,
          f"a name in a string or a comment vouches for nothing: {e}")
    target = os.path.join(d, "prefix")
    e = error_of(v, "INSERT INTO copies SELECT ? WHERE 1 OR vigil_backup_verify('x', 'y') IS NULL", (target,))
    check(e is not None and not os.path.exists(target + ".copy"),
          f"a statement calling vigil_backup_verify does not vouch for vigil_backup: {e}")
    e = error_of(v, "SELECT vigil_insert('r', '{\"v\": 1}')")
    check(e is not None and "not from a CHECK constraint" in str(e),
          f"a CHECK re-entering the application's vigil_insert is refused, no recursion: {e}")
    # The application's own statements still call them, even beside the
    # hostile table.
    check(error_of(v, "SELECT vigil_api_key_secret('another-secret-of-the-app')") is None,
          "the application's own call still works")
    v.close()

sys.exit(check.summary("hostile"))
