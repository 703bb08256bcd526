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
for f in common/src/*.cc; do
  grep -q '#include "vigil/core_guard.h"' "$f" || say "$f does not include vigil/core_guard.h"
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

# Every SQL function the PostgreSQL script creates has a reference entry.
for fn in $(grep -oE '^CREATE FUNCTION vigil_[a-z0-9_]+' pg_ext/vigil.sql | awk '{print $3}' | sort -u); do
  grep -q "$fn" docs/reference.md 2>/dev/null || say "$fn has no entry in docs/reference.md"
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

[ $bad = 0 ] && echo "lint: ok"
exit $bad
