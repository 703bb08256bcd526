#!/usr/bin/python3
"""boundary_lint.py — the PostgreSQL boundary rule, checked on the code.

Usage: boundary_lint.py BUILD_DIR FILE.cc...

A PostgreSQL error is a longjmp: it unwinds C++ frames without running
their destructors. So a function of the PostgreSQL adapter that can raise
one holds no local whose type has a non-trivial destructor
(docs/architecture.md, "The engine boundary").

"Can raise": the function calls a function declared in a PostgreSQL header
(every one of them may ereport; over-approximating is the point), or
vigil::pg::Raise, or another function of the adapter that can raise. The
functions in GUARDED catch every PostgreSQL error in their own PG_TRY and
hand it back as data, so calling them does not make a caller raise (their
own locals are still checked). Code inside a lambda is phase 2 (it runs in
vigil::pg::Run, where no PostgreSQL error may start) and is not counted.

How: libclang (python3-clang-14) finds the functions, their calls and their
locals, with the build's own compile flags (compile_commands.json); then the
compiler decides triviality: each file is compiled once more (-fsyntax-only)
with `static_assert(std::is_trivially_destructible_v<decltype(local)>)`
after every local of every function that can raise (references own
nothing and pass). A failed assertion
names the function and the local. Prints one line per violation and
'boundary lint: N functions checked, N violations'.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

import clang.cindex as ci

ci.Config.set_library_file("/usr/lib/llvm-14/lib/libclang-14.so.1")
K = ci.CursorKind

PG_HEADERS = "/usr/include/postgresql/"
RAISE = {"Raise"}  # vigil::pg::Raise
# Functions that catch every PostgreSQL error themselves (PG_TRY around all
# their engine calls) or never call the engine: calling them cannot longjmp.
GUARDED = {"SpiRunGuarded", "SubxactBeginGuarded", "SubxactRollbackGuarded", "NextXidGuarded", "RawStatementsGuarded",
           "Capture", "SqlState",
           "AllocNoThrow", "AllocNoThrowIn", "MakeText", "CopyCString", "ArgText"}


def kind(c):
    try:
        return c.kind
    except ValueError:  # a cursor kind newer than the Python binding
        return None


def in_file(c, path):
    f = c.location.file
    return f is not None and os.path.realpath(f.name) == path


def compile_args(build, path):
    with open(os.path.join(build, "compile_commands.json")) as f:
        for entry in json.load(f):
            if os.path.realpath(os.path.join(entry["directory"], entry["file"])) == path:
                return entry["directory"], shlex.split(entry["command"])
    sys.exit(f"boundary lint: {path} is not in {build}/compile_commands.json")


def clang_args(argv):
    """The preprocessor and language flags of a compile command."""
    out, i = [], 1
    while i < len(argv):
        a = argv[i]
        if a in ("-isystem", "-I", "-D", "-include"):
            out += [a, argv[i + 1]]
            i += 2
            continue
        if a.startswith(("-I", "-D", "-isystem", "-std=", "-U")):
            out.append(a)
        i += 1
    return out


def absolute(args, directory):
    """Relative include paths made absolute (libclang parses from elsewhere)."""
    out, prev = [], None
    for a in args:
        if a.startswith("-I") and len(a) > 2 and not os.path.isabs(a[2:]):
            a = "-I" + os.path.join(directory, a[2:])
        elif prev == "-isystem" and not os.path.isabs(a):
            a = os.path.join(directory, a)
        out.append(a)
        prev = a
    return out


class Function:
    def __init__(self, cursor):
        self.cursor = cursor
        self.name = cursor.spelling
        self.usr = cursor.get_usr()
        self.pg_calls = False
        self.callees = set()
        self.locals = []  # (name, decl_stmt cursor, container cursor)


SOURCES = {}


def written_here(cursor):
    loc = cursor.location
    if loc.file is None:
        return False
    if loc.file.name not in SOURCES:
        with open(loc.file.name, encoding="utf-8", errors="replace") as f:
            SOURCES[loc.file.name] = f.read().split("\n")
    line = SOURCES[loc.file.name][loc.line - 1] if loc.line <= len(SOURCES[loc.file.name]) else ""
    return line[loc.column - 1:].startswith(cursor.spelling)


def scan_body(fn, node, _parent):
    """Collect calls and locals of fn's own frame (not of nested lambdas);
    each local is kept with the statement that holds its declaration."""
    for child in node.get_children():
        k = kind(child)
        if k == K.LAMBDA_EXPR:
            continue
        if k == K.CALL_EXPR:
            callee = child.referenced
            if callee is not None:
                loc = callee.location.file
                if loc is not None and loc.name.startswith(PG_HEADERS):
                    fn.pg_calls = True
                elif callee.spelling in RAISE:
                    fn.pg_calls = True
                else:
                    fn.callees.add((callee.get_usr(), callee.spelling))
        if k == K.DECL_STMT:
            for var in child.get_children():
                # (a block-scope function declaration, as ereport's
                # pg_prevent_errno_in_scope() makes, is no object)
                # Declarations a PostgreSQL macro expands to (ereport's
                # block-scope __errno_location, SRF_RETURN_NEXT's rsi) are
                # plain C; a declaration is ours when its name is written
                # where it is declared.
                if kind(var) == K.VAR_DECL and var.type.get_canonical().kind != ci.TypeKind.FUNCTIONPROTO \
                        and written_here(var):
                    fn.locals.append((var.spelling, child, node))
        scan_body(fn, child, child)


def functions_of(path, args):
    tu = ci.Index.create().parse(path, args=args + ["-x", "c++"])
    errors = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
    if errors:
        sys.exit(f"boundary lint: {path} does not parse: {errors[0]}")
    found = []
    for c in tu.cursor.walk_preorder():
        if kind(c) in (K.FUNCTION_DECL, K.CXX_METHOD, K.FUNCTION_TEMPLATE, K.CONSTRUCTOR, K.DESTRUCTOR) \
                and c.is_definition() and in_file(c, path):
            fn = Function(c)
            for child in c.get_children():
                if kind(child) == K.COMPOUND_STMT:
                    scan_body(fn, child, child)
            found.append(fn)
    return found


def main():
    build = sys.argv[1]
    files = [os.path.realpath(f) for f in sys.argv[2:]]
    per_file, everything = {}, {}
    for path in files:
        directory, argv = compile_args(build, path)
        args = absolute(clang_args(argv), directory)
        fns = functions_of(path, args)
        per_file[path] = (directory, argv, fns)
        for fn in fns:
            everything.setdefault(fn.usr, []).append(fn)
    # Fixpoint: which functions can raise into their caller.
    raises = {usr for usr, fns in everything.items() if any(f.pg_calls for f in fns) and fns[0].name not in GUARDED}
    changed = True
    while changed:
        changed = False
        for usr, fns in everything.items():
            if usr in raises or fns[0].name in GUARDED:
                continue
            if any(c in raises for f in fns for c, _ in f.callees):
                raises.add(usr)
                changed = True
    checked = violations = 0
    for path, (directory, argv, fns) in per_file.items():
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        inserts = {}  # line index -> text to add after it
        for fn in fns:
            can_raise = fn.pg_calls or any(c in raises for c, _ in fn.callees)
            if not can_raise:
                continue
            checked += 1
            for name, stmt, container in fn.locals:
                if kind(container) != K.COMPOUND_STMT:
                    continue  # declared in a for/if/while header: no place for a static_assert
                end = stmt.extent.end
                msg = f"boundary: {fn.name}() can raise a PostgreSQL error, but its local '{name}' has a non-trivial destructor"
                inserts.setdefault(end.line - 1, []).append(
                    f"static_assert(std::is_reference_v<decltype({name})> || std::is_trivially_destructible_v<decltype({name})>,"
                    f" \"{msg}\");")
        if not inserts:
            continue
        out = []
        for i, line in enumerate(lines):
            out.append(line)
            if i in inserts:
                out.append(" ".join(inserts[i]))
        with tempfile.NamedTemporaryFile("w", suffix=".cc", dir=os.path.dirname(path), prefix=".boundary-lint-",
                                         delete=False) as tmp:
            tmp.write("#include <type_traits>\n#line 1\n" + "\n".join(out))
            probe = tmp.name
        try:
            cmd = [argv[0]] + [a for a in clang_args(argv)] + ["-fsyntax-only", probe]
            r = subprocess.run(cmd, cwd=directory, capture_output=True, text=True)
            for m in re.finditer(r"error: static assertion failed: (boundary: [^\n]*)", r.stderr):
                print(f"{os.path.relpath(path)}: {m.group(1)}")
                violations += 1
            if r.returncode != 0 and violations == 0:
                print(r.stderr[:3000])
                sys.exit(f"boundary lint: the probe of {path} did not compile")
        finally:
            os.unlink(probe)
    print(f"boundary lint: {checked} functions checked, {violations} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
