#!/usr/bin/python3
"""json_schema_suite.py — the official JSON Schema Test Suite (draft 2020-12)
through the SQL surface of SQLite and PostgreSQL.

    json_schema_suite.py --sqlite build/sqlite_ext/vigil.so [--pg]

Every remote in ../shared/testdata/json-schema-test-suite/remotes is
registered with vigil_json_schema_add under http://localhost:1234/, then
every case runs as vigil_json_schema_valid(schema, data, options) with
{"registry": true} (format.json, which tests draft 2020-12's default of
format as an annotation, adds {"format": "annotate"}: vigil asserts by
default; docs/validation.md). Required files must all pass on each engine;
optional files' scores are printed. PostgreSQL runs in the database
PGDATABASE names (vigil installed), as a superuser, in one psql session.
"""
import glob
import json
import os
import sqlite3
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUITE = os.environ.get("VIGIL_TESTDATA", os.path.join(ROOT, "..", "shared", "testdata")) + "/json-schema-test-suite"
BASE = "http://localhost:1234/"


def remotes():
    root = os.path.join(SUITE, "remotes")
    out = []
    for path in sorted(glob.glob(os.path.join(root, "**", "*.json"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            out.append((BASE + os.path.relpath(path, root).replace(os.sep, "/"), f.read()))
    return out


def cases():
    """(file, required, description, schema, data, valid, options) per test."""
    out = []
    tests = os.path.join(SUITE, "tests", "draft2020-12")
    files = [(p, True) for p in sorted(glob.glob(os.path.join(tests, "*.json")))]
    files += [(p, False) for p in sorted(glob.glob(os.path.join(tests, "optional", "**", "*.json"), recursive=True))]
    for path, required in files:
        name = os.path.relpath(path, tests)
        options = {"registry": True}
        if name == "format.json":
            options["format"] = "annotate"
        with open(path, encoding="utf-8") as f:
            for group in json.load(f):
                for t in group["tests"]:
                    out.append((name, required, group["description"] + " / " + t["description"],
                                json.dumps(group["schema"]), json.dumps(t["data"]), t["valid"], json.dumps(options)))
    return out


def run_sqlite(module, all_cases):
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.enable_load_extension(True)
    db.load_extension(module)
    for uri, text in remotes():
        db.execute("SELECT vigil_json_schema_add(?, ?)", (uri, text))
    answers = []
    for c in all_cases:
        try:
            answers.append(bool(db.execute("SELECT vigil_json_schema_valid(?, ?, ?)", c[3:5] + (c[6],)).fetchone()[0]))
        except sqlite3.Error as e:
            answers.append("error: " + str(e).splitlines()[0])
    return answers


def quote(s):
    return "'" + s.replace("'", "''") + "'"


def run_pg(all_cases):
    # One session; each case in its own savepoint-free DO-less statement:
    # errors are caught by a PL/pgSQL wrapper so one error does not stop psql.
    lines = ["\\set ON_ERROR_STOP 1", "SET client_min_messages = warning;",
             "CREATE TEMP TABLE js_case (n int, schema text, doc text, options jsonb);"]
    for uri, text in remotes():
        lines.append(f"SELECT vigil_json_schema_add({quote(uri)}, {quote(text)}::jsonb) IS NOT NULL AS registered \\g /dev/null")
    lines.append("COPY js_case FROM STDIN WITH (FORMAT csv);")
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for i, c in enumerate(all_cases):
        w.writerow([i, c[3], c[4], c[6]])
    lines.append(buf.getvalue() + "\\.")
    lines.append("""CREATE FUNCTION pg_temp.try(s text, d text, o jsonb) RETURNS text LANGUAGE plpgsql AS $$
BEGIN RETURN vigil_json_schema_valid(s, d, o)::text;
EXCEPTION WHEN OTHERS THEN RETURN 'error: ' || SQLERRM; END $$;""")
    lines.append("\\copy (SELECT n, pg_temp.try(schema, doc, options) FROM js_case ORDER BY n) TO STDOUT WITH (FORMAT csv)")
    out = subprocess.run(["psql", "-X", "-q", "-At"], input="\n".join(lines) + "\n", capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise SystemExit("psql failed")
    import csv as _csv
    answers = [None] * len(all_cases)
    for row in _csv.reader(io.StringIO(out.stdout)):
        if len(row) == 2 and row[0].isdigit():
            v = row[1]
            answers[int(row[0])] = True if v == "true" else False if v == "false" else v
    return answers


def report(engine, all_cases, answers):
    failed = 0
    per_file = {}
    for c, a in zip(all_cases, answers):
        ok = a is c[5]
        s = per_file.setdefault((c[1], c[0]), [0, 0])
        s[0] += ok
        s[1] += 1
        if c[1] and not ok:
            failed += 1
            print(f"FAIL [{engine}] {c[0]}: {c[2]}: expected {c[5]}, got {a}")
    req = [v for (r, _), v in per_file.items() if r]
    opt = [(n, v) for (r, n), v in per_file.items() if not r]
    print(f"{engine}: required {sum(v[0] for v in req)}/{sum(v[1] for v in req)} passed; "
          f"optional {sum(v[0] for _, v in opt)}/{sum(v[1] for _, v in opt)}")
    for n, v in sorted(opt):
        print(f"  {engine} optional {n:45} {v[0]:4}/{v[1]}")
    return failed


def main(argv):
    module = argv[argv.index("--sqlite") + 1] if "--sqlite" in argv else None
    all_cases = cases()
    required = sum(1 for c in all_cases if c[1])
    if required != 1299:
        print(f"FAIL the required suite has {required} cases, expected 1299")
        return 1
    failed = 0
    if module:
        failed += report("sqlite", all_cases, run_sqlite(module, all_cases))
    if "--pg" in argv:
        failed += report("postgresql", all_cases, run_pg(all_cases))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
