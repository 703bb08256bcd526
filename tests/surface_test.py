#!/usr/bin/python3
"""surface_test.py — a load registers exactly the function table.

Usage: surface_test.py MODULE.so REFERENCE.md

The function table (common/surface/functions.cc) is read back through
vigil_functions(). Like sqlite-vec's test of the exact function list, this
checks that loading the module registers exactly the table's functions:
every arity of every scalar function, with the flags the table derives for
it (pure and immutable: deterministic + innocuous; writes or runs stored
SQL: directonly; otherwise innocuous) and nothing else, every table-valued
function as a module; that a function vigil's own triggers call is never
directonly; and that docs/reference.md documents every function.
sql/catalog.sql checks the same table against PostgreSQL's catalog.
Prints 'N passed, N failed'.
"""
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from internal_objects import INTERNAL_SQLITE_MODULES  # noqa: E402

DETERMINISTIC, DIRECTONLY, INNOCUOUS = 0x800, 0x80000, 0x200000
FLAG_BITS = {"deterministic": DETERMINISTIC, "innocuous": INNOCUOUS, "directonly": DIRECTONLY}
passed = failed = 0


def check(ok, what):
    global passed, failed
    passed += bool(ok)
    failed += not ok
    if not ok:
        print("FAIL", what)


def arities(arguments):
    """IN arguments without and with a DEFAULT, as the core counts them."""
    parts, depth, quoted, current = [], 0, False, ""
    for c in arguments:
        if c == "'":
            quoted = not quoted
        if not quoted and c == "(":
            depth += 1
        if not quoted and c == ")":
            depth -= 1
        if c == "," and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += c
    if current.strip():
        parts.append(current.strip())
    ins = [p for p in parts if not p.startswith("OUT ")]
    optional = sum(1 for p in ins if " DEFAULT " in p)
    return len(ins) - optional, len(ins)


def flags_of(text, nargs):
    """The flags vigil_functions() says arity nargs is registered with."""
    text = text.replace(" (table-valued)", "")
    if ":" in text:
        text = dict(part.split(": ", 1) for part in text.split("; "))[str(nargs)]
    return 0 if text == "none" else sum(FLAG_BITS[w] for w in text.split(", "))


def main():
    module, reference = sys.argv[1], sys.argv[2]
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(module)
    table = db.execute("SELECT name, arguments, result, effects, sqlite_flags, description FROM vigil_functions").fetchall()
    check(len(table) >= 45, f"the function table has {len(table)} rows")
    registered = {(n, a): f for n, a, f in db.execute(
        "SELECT name, narg, flags FROM pragma_function_list WHERE name LIKE 'vigil\\_%' ESCAPE '\\'")}
    modules = {n for (n,) in db.execute("SELECT name FROM pragma_module_list WHERE name LIKE 'vigil\\_%' ESCAPE '\\'")}
    modules -= INTERNAL_SQLITE_MODULES  # no SQL function (tests/internal_objects.py)
    expected, expected_modules = {}, set()
    for name, arguments, result, effects, sqlite_flags, description in table:
        if result.startswith("SETOF"):
            expected_modules.add(name)
            continue
        low, high = arities(arguments)
        for n in range(low, high + 1):
            expected[(name, n)] = flags_of(sqlite_flags, n)
        if "directonly" in sqlite_flags:
            check(any(w in effects for w in ("writes", "runs stored SQL", "uses a secret", "touches files",
                                             "describes the database")),
                  f"{name}: directonly only for what writes, runs stored SQL, uses a secret, touches files or"
                  f" describes the database ({effects})")
        check(bool(description), f"{name}: has a description (its PostgreSQL COMMENT)")
    mask = DETERMINISTIC | DIRECTONLY | INNOCUOUS
    for key, flags in sorted(expected.items()):
        got = registered.get(key)
        check(got is not None, f"{key[0]}/{key[1]} is registered")
        if got is not None:
            check(got & mask == flags, f"{key[0]}/{key[1]} flags {got & mask:#x}, the table says {flags:#x}")
    for key in sorted(set(registered) - set(expected)):
        check(False, f"{key[0]}/{key[1]} is registered but not in the function table")
    check(modules == expected_modules, f"table-valued functions {sorted(modules)} vs the table's {sorted(expected_modules)}")
    # The trigger entry stays callable from triggers.
    check(expected.get(("vigil_enforce_trigger", 4), DIRECTONLY) & DIRECTONLY == 0,
          "vigil_enforce_trigger/4, which the triggers call, is not directonly")

    # The module exports its entry point only, and links no heavy library:
    # those load with their companion module when a function needs them.
    exported = subprocess.run(["nm", "-D", "--defined-only", module], capture_output=True, text=True).stdout.split()
    check([w for w in exported if not re.fullmatch(r"[0-9a-f]+|[A-Za-z]", w)] == ["sqlite3_vigil_init"],
          f"the module exports only sqlite3_vigil_init: {exported[:12]}")

    def mapped(name):
        with open("/proc/self/maps", encoding="utf-8") as f:
            return name in f.read()
    heavy = ["libphonenumber", "libre2", "libcrypto++", "libidn2", "libicu", "libprotobuf", "libstdc++"]
    db.execute("SELECT vigil_is_email('trader@example.com')").fetchone()
    check(not any(mapped(h) for h in heavy), f"after load and a validator call, none of {heavy} is loaded")
    for sql, companion, library in (("SELECT vigil_is_phone('+14155552671')", "vigil_phone.so", "libphonenumber"),
                                    ("SELECT vigil_rule_check('regex', '{\"pattern\": \"^a\"}', 'zz')", "vigil_re2.so",
                                     "libre2")):
        check(db.execute(sql).fetchone()[0] is not None, f"{sql} answers")
        check(mapped(companion) and mapped(library), f"{sql} loaded {companion} and {library}")

    # docs/reference.md: a heading for every function (overloads: one each).
    with open(reference, encoding="utf-8") as f:
        headings = [line for line in f.read().splitlines() if line.startswith("### ")]
    kinds = {k for (k,) in db.execute("SELECT kind FROM vigil_validators()")}
    names = [row[0] for row in table]
    for name in sorted(set(names)):
        documented = sum(1 for h in headings if re.search(re.escape(name) + r"\(", h))
        if name.startswith("vigil_is_") and name[9:] in kinds and any("vigil_is_<kind>(" in h for h in headings):
            documented += 1
        check(documented >= names.count(name), f"docs/reference.md documents {name} ({documented} of {names.count(name)})")
    print(f"surface: {len(table)} functions, {len(expected)} registrations; {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
