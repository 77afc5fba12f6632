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

# --- builder integration tests (tests/builder/*.sh) --------------------
# Each script starts its own docker-registry on free loopback ports and
# prints "ok"/"not ok" lines; exit 77 means a tool is missing (skipped).
for t in tests/builder/*.sh; do
  [[ $(basename "$t") = lib.sh ]] && continue
  echo "== builder: $t"
  blog=$(mktemp)
  DW=$PWD/build/dockwright bash "$t" 2>&1 | tee "$blog"
  rc=${PIPESTATUS[0]}
  ok=$(grep -c '^ok ' "$blog"); bad=$(grep -c '^not ok ' "$blog")
  passed=$((passed + ok)); failed=$((failed + bad))
  [[ $rc -eq 0 || $rc -eq 77 || $bad -gt 0 ]] || failed=$((failed + 1))
  rm -f "$blog"
done
# --- end of builder integration tests ----------------------------------

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
