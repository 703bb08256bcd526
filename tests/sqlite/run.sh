#!/usr/bin/env bash
# run.sh SQLITE3 MODULE SUITE_DIR — run every *.sql suite in SUITE_DIR through
# the real sqlite3 shell with the module loaded (`.load MODULE`) and compare
# stdout+stderr with the matching *.out file. Prints a diff and fails on any
# difference. VIGIL_ACCEPT=1 rewrites the expected files instead.
set -uo pipefail
sqlite3=$1 module=${2%.so} dir=$3
fail=0 pass=0
for sql in "$dir"/*.sql; do
  name=$(basename "$sql" .sql)
  expected="$dir/$name.out"
  actual=$(mktemp)
  # stdbuf keeps stdout and stderr in statement order.
  (cd "$dir" && stdbuf -o0 -e0 "$sqlite3" -batch :memory: ".load $module" ".read $name.sql") >"$actual" 2>&1
  if [ "${VIGIL_ACCEPT:-0}" = 1 ]; then
    cp "$actual" "$expected"
  fi
  if diff -u "$expected" "$actual"; then
    pass=$((pass + 1))
  else
    echo "sqlite suite $name: output differs" >&2
    fail=$((fail + 1))
  fi
  rm -f "$actual"
done
echo "sqlite suites: $pass passed, $fail failed"
[ "$fail" = 0 ]
