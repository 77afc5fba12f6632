#!/usr/bin/env bash
# Every test: set everything up, then run the unit tests in the normal and
# the sanitizer build, and the grammar's corpus with the tree-sitter CLI.
# Ends with "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
./tools/setup.sh || exit 1

passed=0 failed=0
count_meson() { # $1 = log of `meson test`
  local ok fail
  ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$1" | tail -n1)
  fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$1" | tail -n1)
  passed=$((passed + ${ok:-0})); failed=$((failed + ${fail:-0}))
  [[ -n $ok ]] || failed=$((failed + 1))
}

log=$(mktemp)
for b in build build-asan; do
  echo "== unit tests ($b)"
  meson test -C "$b" --print-errorlogs 2>&1 | tee "$log"
  count_meson "$log"
done

echo "== grammar corpus (tree-sitter test)"
(cd grammar && ../tools/tree-sitter test) 2>&1 | tee "$log"
ok=$(grep -c '✓' "$log"); bad=$(grep -c '✗' "$log")
passed=$((passed + ok)); failed=$((failed + bad))
[[ $ok -gt 0 ]] || failed=$((failed + 1))
rm -f "$log"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
