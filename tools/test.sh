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

echo "== C formatting (.clang-format)"
if ./tools/check-format.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== grammar corpus (tree-sitter test)"
(cd grammar && ../tools/tree-sitter test) 2>&1 | tee "$log"
ok=$(grep -c '✓' "$log"); bad=$(grep -c '✗' "$log")
passed=$((passed + ok)); failed=$((failed + bad))
[[ $ok -gt 0 ]] || failed=$((failed + 1))
rm -f "$log"

# --- builder integration tests (tests/builder/*.sh) --------------------
# Each script starts its own docker-registry on free loopback ports and
# prints "ok"/"not ok" lines; exit 77 means a tool is missing (skipped).
# The ASan+UBSan build runs them too, except the buildah comparisons
# (their time goes to buildah, and the normal build already runs them).
runs=()
for t in tests/builder/*.sh; do
  case $(basename "$t") in
    lib.sh) ;;
    buildah-*) runs+=("build:$t") ;;
    *) runs+=("build:$t" "build-asan:$t") ;;
  esac
done
for run in "${runs[@]}"; do
  b=${run%%:*} t=${run#*:}
  echo "== builder ($b): $t"
  blog=$(mktemp)
  DW=$PWD/$b/dockwright bash "$t" 2>&1 | tee "$blog"
  rc=${PIPESTATUS[0]}
  ok=$(grep -c '^ok ' "$blog"); bad=$(grep -c '^not ok ' "$blog")
  passed=$((passed + ok)); failed=$((failed + bad))
  [[ $rc -eq 0 || $rc -eq 77 || $bad -gt 0 ]] || failed=$((failed + 1))
  rm -f "$blog"
done
# --- end of builder integration tests ----------------------------------

# --- language server tests (tests/lsp/, tests/nvim/) ------------------
# node's own test runner drives dockwright --stdio (normal and ASan build)
# through vscode-languageserver-protocol, VS Code's client library; then
# headless Neovim 0.7.2 checks our diagnostics from a second real client.
lsp_deps() { # npm ci only when package-lock.json changed since the last one
  cmp -s package-lock.json node_modules/.dockwright-lock 2>/dev/null && return
  npm ci --no-audit --no-fund </dev/null &&
    cp package-lock.json node_modules/.dockwright-lock
}
if (cd tests/lsp && lsp_deps); then
  for b in build build-asan; do
    echo "== lsp protocol tests ($b)"
    llog=$(mktemp)
    bin=$PWD/$b/dockwright
    (cd tests/lsp && DOCKWRIGHT=$bin node --test --test-reporter=tap \
      ./*.test.js) </dev/null 2>&1 | tee "$llog"
    ok=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$llog" | tail -n1)
    bad=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$llog" | tail -n1)
    passed=$((passed + ${ok:-0})); failed=$((failed + ${bad:-0}))
    [[ -n $ok ]] || failed=$((failed + 1))
    rm -f "$llog"
  done
else
  echo "lsp: npm ci failed"; failed=$((failed + 1))
fi
for b in build build-asan; do
  echo "== neovim lsp test ($b)"
  nlog=$(mktemp)
  tests/nvim/run.sh "$b/dockwright" </dev/null 2>&1 | tee "$nlog"
  ok=$(sed -n 's/^nvim: \([0-9]*\) passed.*/\1/p' "$nlog")
  bad=$(sed -n 's/^nvim: [0-9]* passed, \([0-9]*\) failed/\1/p' "$nlog")
  passed=$((passed + ${ok:-0})); failed=$((failed + ${bad:-0}))
  [[ -n $ok ]] || failed=$((failed + 1))
  rm -f "$nlog"
done
# --- end of language server tests ---------------------------------------

# --- editor clients end to end (tests/nvim/plugin.sh, tests/vscode/) ---
# The Neovim plugin (editors/nvim) in headless Neovim 0.7.2 and the VS Code
# extension (editors/vscode, built into a .vsix) in code-server driven by
# Chromium: diagnostics, completion, build and push to a loopback
# registry.  The VS Code run installs code-server from npm into
# ~/.cache/dockwright-e2e the first time (a few minutes) and takes about
# a minute; screenshots go to build/test-artifacts/vscode/.
editor_tally() { # $1 = log, $2 = the summary's prefix (nvim, vscode)
  local ok bad
  ok=$(sed -n "s/^$2: \([0-9]*\) passed.*/\1/p" "$1" | tail -n1)
  bad=$(sed -n "s/^$2: [0-9]* passed, \([0-9]*\) failed/\1/p" "$1" | tail -n1)
  passed=$((passed + ${ok:-0})); failed=$((failed + ${bad:-0}))
  [[ -n $ok ]] || failed=$((failed + 1))
}
for b in build build-asan; do
  echo "== neovim plugin end to end ($b)"
  elog=$(mktemp)
  tests/nvim/plugin.sh "$b/dockwright" </dev/null 2>&1 | tee "$elog"
  editor_tally "$elog" nvim
  rm -f "$elog"
done
echo "== vs code extension end to end (build)"
elog=$(mktemp)
tests/vscode/run.sh build/dockwright </dev/null 2>&1 | tee "$elog"
editor_tally "$elog" vscode
rm -f "$elog"
# examples/flask from the command line and from both editors (the
# debootstrap base is kept in /var/tmp/dockwright-flask, as tools/main.sh
# keeps it; about two minutes once it exists).
echo "== examples/flask from both editors (build)"
elog=$(mktemp)
tests/editors-flask.sh build/dockwright </dev/null 2>&1 | tee "$elog"
editor_tally "$elog" editors-flask
rm -f "$elog"
# --- end of editor clients end to end ----------------------------------

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
