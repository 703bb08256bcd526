#!/usr/bin/env bash
# load_cost.sh [MODULE] — what loading vigil costs a short-lived process.
#
# Counts the instructions (valgrind --tool=callgrind: repeatable, unlike
# time on a shared machine) of a bare `sqlite3 :memory: "SELECT 1"` and of
# the same start that loads vigil and makes one validator call, and of one
# call that needs each companion module (its library is loaded then, not
# before). Prints both counts, the difference and the ratio. The goal
# (docs/performance.md): at most 5 million extra instructions for loading
# vigil and one validator call.
set -euo pipefail
cd "$(dirname "$0")/.."
module=${1:-build/sqlite_ext/vigil}
module=${module%.so}
command -v valgrind >/dev/null || { echo "load_cost: valgrind is missing (scripts/setup installs it)" >&2; exit 2; }

count() {  # count SQL... — instructions of one sqlite3 run
  local out
  out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null sqlite3 :memory: "$@" 2>&1 >/dev/null)
  echo "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

bare=$(count "SELECT 1")
printf '%-58s %12s %12s %8s\n' "run" "instructions" "extra" "ratio"
printf '%-58s %12d %12s %8s\n' "sqlite3 :memory: 'SELECT 1' (the anchor)" "$bare" "-" "1.00"
row() {  # row LABEL SQL
  local n
  n=$(count ".load $module" "$2")
  printf '%-58s %12d %12d %8s\n' "$1" "$n" $((n - bare)) "$(awk -v a="$n" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')"
}
row "load vigil + vigil_is_email (ASCII)" "SELECT vigil_is_email('trader@example.com')"
row "load vigil + vigil_checksum (OpenSSL companion)" "SELECT vigil_checksum('CREATE TABLE t (a int);')"
row "load vigil + regex rule check (RE2 companion)" "SELECT vigil_rule_check('regex', '{\"pattern\": \"^BTC\"}', 'BTC-USD')"
row "load vigil + vigil_is_email (UTF-8, libidn2 companion)" "SELECT vigil_is_email('josé@bücher.de')"
row "load vigil + vigil_is_eth_address (Crypto++ companion)" "SELECT vigil_is_eth_address('0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed')"
row "load vigil + vigil_is_phone (libphonenumber companion)" "SELECT vigil_is_phone('+14155552671')"
