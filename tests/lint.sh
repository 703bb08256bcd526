#!/usr/bin/env bash
# lint.sh — the project rules a script can check (STYLE.md "CI checks the
# rules it can"). Prints one line per violation; exits non-zero on any.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
say() { echo "lint: $*"; bad=1; }

# The core includes no engine header, and every core file ends its includes
# with the guard that turns a leak into a compile error.
if grep -rnE '#include *[<"](postgres|fmgr|sqlite3|sqlite3ext)\.h' common/; then
  say "an engine header is included under common/"
fi
for f in common/*/*.cc; do
  grep -q '#include "base/core_guard.h"' "$f" || say "$f does not include base/core_guard.h"
done

# Every pg_regress suite is scheduled, and has its expected output.
scheduled=$(sed -n 's/^REGRESS = //p' pg_ext/Makefile)
for f in sql/*.sql; do
  name=$(basename "$f" .sql)
  [[ " $scheduled " == *" $name "* ]] || say "sql/$name.sql is not in REGRESS (pg_ext/Makefile)"
  [ -f "expected/$name.out" ] || say "expected/$name.out is missing"
done
for f in expected/*.out; do
  [ -f "sql/$(basename "$f" .out).sql" ] || say "$f has no sql/ file"
done
for f in tests/sqlite/*.sql; do
  [ -f "${f%.sql}.out" ] || say "${f%.sql}.out is missing"
done

# Every fuzz target is built (tests/fuzz/meson.build) and has its seed corpus.
fuzz_targets=$(sed -n "/^fuzz_targets = \[/,/\]/p" tests/fuzz/meson.build | grep -oE "'[a-z_0-9]+'" | tr -d "'")
for f in tests/fuzz/*.cc; do
  t=$(basename "$f" .cc)
  grep -qx "$t" <<<"$fuzz_targets" || say "$f is not in fuzz_targets (tests/fuzz/meson.build)"
done
for t in $fuzz_targets; do
  [ -f "tests/fuzz/$t.cc" ] || say "fuzz target $t has no tests/fuzz/$t.cc"
  [ -n "$(ls -A "tests/fuzz/corpus/$t" 2>/dev/null)" ] || say "fuzz target $t has no seeds in tests/fuzz/corpus/$t"
done

# Every SQL function the PostgreSQL script creates has a reference entry.
for fn in $(grep -oE '^CREATE FUNCTION vigil_[a-z0-9_]+' pg_ext/vigil.sql | awk '{print $3}' | sort -u); do
  grep -q "$fn" docs/reference.md 2>/dev/null || say "$fn has no entry in docs/reference.md"
done

# Every health check and every health threshold is documented in docs/health.md.
for c in $(sed -n '/^constexpr CheckDef kChecks/,/^};/p' common/health/health.cc | grep -oE '^    \{"[a-z_]+"' | tr -d ' {"'); do
  grep -q "\`$c\`" docs/health.md || say "health check $c is not in docs/health.md"
done
for k in $(sed -n '/^constexpr ConfigKey kHealthKeys/,/^};/p' common/base/config.cc | grep -oE '^    \{"[a-z_]+"' | tr -d ' {"'); do
  stem=${k%_warning*}; stem=${stem%_critical*}
  grep -q "$stem" docs/health.md || say "health setting $k is not in docs/health.md"
done

# Wrappers: only boundary.h catches in the adapters.
for f in pg_ext/*.cc sqlite_ext/*.cc; do
  if grep -n 'catch *(' "$f" >/dev/null; then say "$f catches exceptions outside boundary.h"; fi
done

# Generated corpora are up to date with their generators.
tmp=$(mktemp)
/usr/bin/python3 examples/cryptotrading/generate.py --corpus "$tmp"
cmp -s "$tmp" tests/cases/quality.jsonl || say "tests/cases/quality.jsonl is stale: run examples/cryptotrading/generate.py --corpus tests/cases/quality.jsonl"
rm -f "$tmp"

# One version source (docs/releasing.md): VERSION. Meson reads it, the
# PGXS Makefile reads it, vigil.control and VIGIL_VERSION are generated from
# it; nothing else may spell the current version.
version=$(cat VERSION)
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || say "VERSION ($version) is not MAJOR.MINOR.PATCH"
grep -q "version : files('VERSION')" meson.build || say "meson.build does not take its version from VERSION"
grep -q "^EXTVERSION := \$(shell cat ../VERSION)" pg_ext/Makefile || say "pg_ext/Makefile does not take its version from VERSION"
grep -q "^default_version = '@VERSION@'" pg_ext/vigil.control.in || say "pg_ext/vigil.control.in must say default_version = '@VERSION@'"
[ -e pg_ext/vigil.control ] && git ls-files --error-unmatch pg_ext/vigil.control >/dev/null 2>&1 &&
  say "pg_ext/vigil.control is committed; it is generated from vigil.control.in"
if git grep -nE '#define VIGIL_VERSION |default_version = .[0-9]' -- ':!docs' ':!tests/lint.sh' >/dev/null; then
  git grep -nE '#define VIGIL_VERSION |default_version = .[0-9]' -- ':!docs' ':!tests/lint.sh'
  say "a second copy of the version (only VERSION holds it)"
fi

# The upgrade chain: every script in pg_ext/scripts is installed by Meson (the
# PGXS Makefile takes the folder), starts with the psql guard, and the steps
# lead from every kept install script to VERSION; the current version's
# install script is vigil.sql itself, not a copy.
for f in pg_ext/scripts/vigil--*.sql; do
  b=$(basename "$f")
  grep -q "'scripts/$b'" pg_ext/meson.build || say "pg_ext/meson.build does not install scripts/$b"
  grep -m1 -vE '^(--.*)?$' "$f" | grep -q '^\\echo Use ".*" to load this file\. \\quit$' ||
    say "$f does not start with the \\echo ... \\quit guard"
done
for f in $(grep -oE "'scripts/[^']+'" pg_ext/meson.build | tr -d "'"); do
  [ -f "pg_ext/$f" ] || say "pg_ext/meson.build installs $f, which does not exist"
done
[ -e "pg_ext/scripts/vigil--$version.sql" ] && say "pg_ext/scripts/vigil--$version.sql: the current install script is pg_ext/vigil.sql"
/usr/bin/python3 - "$version" pg_ext/scripts <<'PY' || bad=1
import os, re, sys
version, folder = sys.argv[1], sys.argv[2]
key = lambda v: tuple(int(x) for x in v.split("."))
steps, bases = {}, [version]
for f in os.listdir(folder):
    m = re.fullmatch(r"vigil--([0-9.]+)--([0-9.]+)\.sql", f)
    if m:
        steps.setdefault(m[1], []).append(m[2])
    elif re.fullmatch(r"vigil--([0-9.]+)\.sql", f):
        bases.append(f[7:-4])
for base in bases:
    at, seen = base, set()
    while at != version:
        nxt = [t for t in steps.get(at, []) if key(t) > key(at)]
        if not nxt:
            print(f"lint: no upgrade step from {at} (kept install script vigil--{base}.sql) towards {version}")
            sys.exit(1)
        at = min(nxt, key=key)
    for t in [t for ts in steps.values() for t in ts]:
        if key(t) > key(version):
            print(f"lint: an upgrade step leads to {t}, beyond VERSION {version}")
            sys.exit(1)
PY

# Released scripts are history: pg_ext/scripts/released.sha256 freezes them,
# and every released version older than VERSION has its SQLite fixture.
(cd pg_ext/scripts && sha256sum --quiet --strict -c released.sha256) || say "a released script in pg_ext/scripts changed (released.sha256)"
# The install script and the scripts not yet released are ASCII: CREATE
# EXTENSION reads them in the database's encoding, and EUC_JP (say) has no
# em dash (the review of issue 16 found CREATE EXTENSION failing there).
for f in pg_ext/vigil.sql pg_ext/scripts/vigil--*.sql; do
  grep -q " ${f##*/}\$" pg_ext/scripts/released.sha256 && continue
  LC_ALL=C grep -q '[^ -~	]' "$f" && say "$f holds a byte that is not printable ASCII"
done
for v in $(grep -oE 'vigil--[0-9.]+(--[0-9.]+)?\.sql' pg_ext/scripts/released.sha256 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | sort -uV); do
  [ "$v" = "$version" ] && continue
  [ "$(printf '%s\n%s\n' "$v" "$version" | sort -V | head -1)" = "$v" ] || say "released.sha256 names $v, newer than VERSION $version"
  [ -f "tests/fixtures/vigil-$v.db" ] && [ -f "tests/fixtures/vigil-$v.sql" ] ||
    say "release $v has no SQLite fixture (scripts/make-fixture $v)"
done

[ $bad = 0 ] && echo "lint: ok"
exit $bad
