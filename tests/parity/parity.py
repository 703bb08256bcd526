#!/usr/bin/python3
"""parity.py — run the case corpus on SQLite and PostgreSQL and compare.

Usage: parity.py --sqlite MODULE.so [--pg] CASES.jsonl...

Each case (tests/cases/*.jsonl) is turned into one SQL expression in each
dialect and evaluated: on SQLite through Python's sqlite3 with the module
loaded, on PostgreSQL through psql (PGHOST/PGPORT/PGDATABASE from the
environment, extension already created). A case passes when every engine it
names returns the expected value; booleans map to 0/1 in SQLite, errors must
carry the same message (SQLite prefixes "vigil: ") and, in PostgreSQL, the
expected SQLSTATE.

It also checks the manifest: both engines expose exactly the same vigil_*
functions (name and argument count) and every one of them is exercised by at
least one case. Prints 'N passed, N failed' and exits non-zero on failure.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from internal_objects import INTERNAL_SQLITE_MODULES  # noqa: E402

# Result types come from the function table (vigil_functions(), read from
# the SQLite module in main()): boolean results are 0/1 in SQLite, jsonb
# results are JSON text there.
BOOLEAN_FUNCTIONS = set()
JSON_FUNCTIONS = set()


def load_result_types(module):
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(module)
    for name, result in db.execute("SELECT name, result FROM vigil_functions"):
        if result == "boolean":
            BOOLEAN_FUNCTIONS.add(name)
        elif result == "jsonb":
            JSON_FUNCTIONS.add(name)
    db.close()


# The release, from the one version source: a case expecting "@VERSION@"
# expects the content of the top-level VERSION file.
VERSION = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "VERSION"),
               encoding="utf-8").read().strip()


def load_cases(paths):
    cases = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                case = json.loads(line)
                if case.get("expect") == "@VERSION@":
                    case["expect"] = VERSION
                case["where"] = f"{os.path.basename(path)}:{lineno}"
                cases.append(case)
    return cases


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def arg_sql(a, dialect):
    if a is None:
        return "NULL"
    if isinstance(a, bool):
        return ("true" if a else "false") if dialect == "pg" else ("1" if a else "0")
    if isinstance(a, str):
        return quote(a)
    if isinstance(a, (int, float)):
        return repr(a)
    if "repeat" in a:
        n = a["times"]
        if dialect == "pg":
            body = f"repeat({quote(a['repeat'])}, {n})"
        else:
            body = f"replace(hex(zeroblob({n})), '00', {quote(a['repeat'])})"
        return f"({body} || {quote(a['suffix'])})"
    if "hex" in a:
        if dialect == "pg":
            return f"convert_from('\\x{a['hex']}'::bytea, 'UTF8')"
        return f"CAST(X'{a['hex']}' AS TEXT)"
    raise ValueError(a)


def expression(case, dialect):
    if "exec" in case:
        return case["exec"]
    if "sql" in case:
        return case["sql"]
    return f"{case['fn']}({', '.join(arg_sql(a, dialect) for a in case['args'])})"


def is_boolean(case):
    return case.get("fn", "") in BOOLEAN_FUNCTIONS


def run_sqlite(module, cases):
    db = sqlite3.connect(":memory:", isolation_level=None)  # autocommit, as the shell
    db.enable_load_extension(True)
    db.load_extension(module)
    results = []
    for case in cases:
        try:
            if "exec" in case:
                db.execute(case["exec"])
                results.append("ok")
                continue
            value = db.execute("SELECT " + expression(case, "sqlite")).fetchone()[0]
            if case.get("fn") in JSON_FUNCTIONS and isinstance(value, str):
                value = json.loads(value)
            if is_boolean(case) and value is not None:
                if value not in (0, 1):
                    value = {"error": f"boolean function returned {value!r}"}
                else:
                    value = bool(value)
            results.append(value)
        except sqlite3.Error as e:
            msg = str(e)
            if msg.startswith("vigil: "):
                # The message is the first line; DETAIL and HINT follow.
                results.append({"error": msg[len("vigil: "):].split("\n", 1)[0]})
            else:
                results.append({"error": "NOT A VIGIL ERROR: " + msg})
    functions = set()
    for name, narg in db.execute(
            "SELECT name, narg FROM pragma_function_list WHERE name LIKE 'vigil\\_%' ESCAPE '\\'"):
        functions.add((name, narg))
    arities = {name: in_arities(arguments) for name, arguments in db.execute("SELECT name, arguments FROM vigil_functions")}
    for (name,) in db.execute("SELECT name FROM pragma_module_list WHERE name LIKE 'vigil\\_%' ESCAPE '\\'"):
        if name in INTERNAL_SQLITE_MODULES:  # no SQL function (tests/internal_objects.py)
            continue
        # table-valued: its arguments are hidden columns, any of which may be left out
        for n in arities.get(name, [0]):
            functions.add((name, n))
    return results, functions


def in_arities(arguments):
    """The argument counts a function accepts, from its arguments as
    pg_get_function_arguments prints them (OUT columns are no arguments; a
    DEFAULT makes one optional)."""
    parts, depth, quoted, cur = [], 0, False, ""
    for ch in arguments:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch in "()":
            depth += 1 if ch == "(" else -1
        if ch == "," and depth == 0 and not quoted:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    ins = [p for p in parts if not p.startswith("OUT ")]
    required = sum(1 for p in ins if " DEFAULT " not in p)
    return list(range(required, len(ins) + 1))


def psql(sql):
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-F", "\x1f"],
                         input=sql, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit("psql failed: " + out.stderr)
    return out.stdout


def run_pg(cases):
    lines = ["""
CREATE FUNCTION pg_temp.vigil_eval(expr text, is_exec boolean) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r jsonb;
BEGIN
  IF is_exec THEN
    EXECUTE expr;
    RETURN '"ok"';
  END IF;
  EXECUTE 'SELECT to_jsonb((' || expr || '))' INTO r;
  RETURN coalesce(r::text, 'null');
EXCEPTION WHEN OTHERS THEN
  RETURN json_build_object('error', SQLERRM, 'sqlstate', SQLSTATE)::text;
END $f$;
SELECT n, pg_temp.vigil_eval(e, x) FROM (VALUES"""]
    rows = [f"({i}, {quote(expression(c, 'pg'))}, {'true' if 'exec' in c else 'false'})" for i, c in enumerate(cases)]
    lines.append(",\n".join(rows))
    lines.append(") AS v(n, e, x) ORDER BY n;")
    results = [None] * len(cases)
    for line in psql("\n".join(lines)).splitlines():
        n, value = line.split("\x1f", 1)
        results[int(n)] = json.loads(value)
    functions = set()
    manifest = psql("""
SELECT p.proname, n FROM pg_proc p
CROSS JOIN LATERAL generate_series((p.pronargs - p.pronargdefaults)::int, p.pronargs::int) AS n
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'vigil'
WHERE p.pronamespace = e.extnamespace;  -- vigil_state's internals are no part of the SQL surface""")
    for line in manifest.splitlines():
        name, nargs = line.split("\x1f")
        functions.add((name, int(nargs)))
    return results, functions


def subset(expected, got):
    """True when every key of `expected` is in `got` with a matching value
    (recursively; lists match element by element, same length)."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(k in got and subset(v, got[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(got, list) and len(expected) == len(got) and all(subset(e, g) for e, g in zip(expected, got))
    if isinstance(expected, float) or isinstance(got, float):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(expected - got) < 1e-9
    return expected == got and type(expected) is type(got)


def matches(expected, got, engine, case=None):
    if case is not None and case.get("expect_subset"):
        return subset(expected, got)
    if isinstance(expected, dict) and "error" in expected:
        if not isinstance(got, dict) or got.get("error") != expected["error"]:
            return False
        return engine != "pg" or got.get("sqlstate") == expected["sqlstate"]
    if expected == "ok":
        return got == "ok"
    if isinstance(expected, bool) or expected is None:
        return got is expected
    return got == expected and not isinstance(got, bool)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sqlite", required=True)
    ap.add_argument("--pg", action="store_true")
    ap.add_argument("cases", nargs="+")
    args = ap.parse_args()
    load_result_types(args.sqlite)
    # Each corpus file is a scenario on a fresh database of each engine.
    cases = []
    sqlite_results, sqlite_functions = [], set()
    pg_results, pg_functions = [], set()
    for n, path in enumerate(args.cases):
        file_cases = load_cases([path])
        cases += file_cases
        r, f = run_sqlite(args.sqlite, file_cases)
        sqlite_results += r
        sqlite_functions |= f
        if args.pg:
            db = f"vigil_parity_{n}"
            psql(f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db};")
            old = os.environ.get("PGDATABASE")
            os.environ["PGDATABASE"] = db
            psql("CREATE EXTENSION vigil;")
            r, f = run_pg(file_cases)
            pg_results += r
            pg_functions |= f
            if old is None:
                del os.environ["PGDATABASE"]
            else:
                os.environ["PGDATABASE"] = old
    engines = {"sqlite": (sqlite_results, sqlite_functions)}
    if args.pg:
        engines["pg"] = (pg_results, pg_functions)
    passed = failed = 0
    for i, case in enumerate(cases):
        wanted = case.get("engines", ["core", "sqlite", "pg"])
        ok = True
        for engine, (results, _) in engines.items():
            if engine not in wanted:
                continue
            if not matches(case["expect"], results[i], engine, case):
                ok = False
                shown = expression(case, engine)
                print(f"FAIL {case['where']} [{engine}] {shown[:160]}\n"
                      f"     expected {json.dumps(case['expect'])[:200]}\n"
                      f"     got      {json.dumps(results[i])[:200]}")
        passed += ok
        failed += not ok
    # Manifest: same functions on both engines, each one exercised.
    exercised = {c.get("fn") for c in cases} | {
        w for c in cases if "sql" in c for w in c["sql"].replace("(", " ").split()}
    manifests = {e: fns for e, (_, fns) in engines.items()}
    if "pg" in manifests:
        only_sqlite = manifests["sqlite"] - manifests["pg"]
        only_pg = manifests["pg"] - manifests["sqlite"]
        if only_sqlite or only_pg:
            failed += 1
            print(f"FAIL manifest differs: only in SQLite {sorted(only_sqlite)}, only in PostgreSQL {sorted(only_pg)}")
        else:
            passed += 1
            print(f"manifest: {len(manifests['pg'])} functions, identical on both engines")
    for name, nargs in sorted(manifests["sqlite"]):
        if name not in exercised:
            failed += 1
            print(f"FAIL no parity case exercises {name}/{nargs}")
    print(f"parity ({', '.join(engines)}): {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
