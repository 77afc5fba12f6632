#!/usr/bin/env bash
# Every test: set everything up (tools/setup.sh), then run
#   - the unit tests (cmocka), in the normal and the ASan+UBSan build;
#   - the C formatting check (.clang-format);
#   - the grammar's corpus with the tree-sitter CLI;
#   - the scripts' own tests (tests/tools/);
#   - the builder's integration tests (tests/builder/), both builds, and
#     its differential suite against buildah (tests/builder/diff.sh);
#   - the language server's protocol tests (tests/lsp/, node + npm), both
#     builds, and headless Neovim (tests/nvim/run.sh), both builds;
#   - the editor clients end to end: the Neovim plugin (tests/nvim/plugin.sh,
#     both builds), the VS Code extension in code-server (tests/vscode/),
#     and examples/flask from both editors (tests/editors-flask.sh).
# Each suite's output goes to the terminal and to build/test-logs/<suite>.log
# (kept). Ends with the failed tests (suite, name, log) and, last, the line
# "N passed, N failed" (.ci/run reads it); exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
./tools/setup.sh || exit 1

logs=build/test-logs
rm -rf "$logs" && mkdir -p "$logs"
passed=0 failed=0 failures=()

# suite NAME COMMAND...: runs COMMAND with its output shown and kept in
# $logs/NAME.log; sets $log and $rc.
suite() {
  log=$logs/$(tr -cs 'A-Za-z0-9._' '-' <<<"$1" | sed 's/^-//; s/-$//').log
  echo "== $1"
  "${@:2}" </dev/null 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
}
# tally NAME OK BAD: adds a suite's counts (empty OK: it gave no result)
# and names its failed tests: the log's "not ok" lines (TAP), meson's FAIL
# lines and tree-sitter's ✗ lines.
tally() {
  local name=$1 ok=$2 bad=${3:-0} line n=0
  if [[ -z $ok ]]; then
    failed=$((failed + 1))
    failures+=("$name: gave no result (exit $rc)  [$log]")
  fi
  passed=$((passed + ${ok:-0})) failed=$((failed + bad))
  while IFS= read -r line; do
    failures+=("$name: $line  [$log]") n=$((n + 1))
  done < <(sed 's/\x1b\[[0-9;]*m//g' "$log" |
    sed -nE 's/^ *not ok [0-9]* *-? *(.*)/\1/p
      s/^ *[0-9]+\/[0-9]+ +(.*[^ ]) +(FAIL|TIMEOUT|ERROR) .*/\1 \2/p
      s/^ *[0-9]+\. ✗ (.*)/\1/p')
  ((bad == 0 || n > 0)) || failures+=("$name: $bad failed  [$log]")
}

for b in build build-asan; do
  suite "unit tests ($b)" meson test -C "$b" --print-errorlogs
  tally "unit tests ($b)" "$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$log" | tail -n1)" \
    "$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$log" | tail -n1)"
done

suite "C formatting (.clang-format)" ./tools/check-format.sh
if ((rc == 0)); then tally format 1 0; else tally format 0 1; fi

suite "grammar corpus (tree-sitter test)" bash -c 'cd grammar && ../tools/tree-sitter test'
ok=$(grep -c '✓' "$log"); bad=$(grep -c '✗' "$log")
((ok > 0)) || ok=""
tally "grammar corpus" "$ok" "$bad"

# --- scripts' tests, builder integration tests ----------------------------
# Each script prints "ok"/"not ok" lines; exit 77 means a tool is missing
# (skipped).  The builder's (tests/builder/*.sh) start their own
# docker-registry on free loopback ports; the ASan+UBSan build runs them
# too, except the buildah comparisons (their time goes to buildah, and the
# normal build already runs them).
# The differential suite (diff.sh) runs on the ASan+UBSan build without
# buildah, checking only its BuildKit assertions on dockwright's images.
runs=()
for t in tests/tools/*.sh; do runs+=(":$t"); done
for t in tests/builder/*.sh; do
  case $(basename "$t") in
    lib.sh) ;;
    buildah-*) runs+=("build:$t") ;;
    *) runs+=("build:$t" "build-asan:$t") ;;
  esac
done
for run in "${runs[@]}"; do
  b=${run%%:*} t=${run#*:}
  name="$t${b:+ ($b)}"
  suite "$name" env ${b:+DW=$PWD/$b/dockwright} \
    DIFF_BUILDAH=$([[ $b = build ]] && echo 1 || echo 0) bash "$t"
  ok=$(grep -c '^ok ' "$log"); bad=$(grep -c '^not ok ' "$log")
  [[ $rc -eq 0 || $rc -eq 77 || $bad -gt 0 ]] || ok=""
  tally "$name" "$ok" "$bad"
done
# --- end of builder integration tests ----------------------------------

# --- language server tests (tests/lsp/, tests/nvim/) ------------------
# node's own test runner drives dockwright --stdio (normal and ASan build)
# through vscode-languageserver-protocol, VS Code's client library; then
# headless Neovim 0.7.2 checks our diagnostics from a second real client.
lsp_deps() { # npm ci only when package-lock.json changed since the last one
  cd tests/lsp || return 1
  cmp -s package-lock.json node_modules/.dockwright-lock 2>/dev/null && return
  npm ci --no-audit --no-fund --loglevel=error &&
    cp package-lock.json node_modules/.dockwright-lock
}
suite "lsp npm packages (npm ci)" lsp_deps
if ((rc == 0)); then
  for b in build build-asan; do
    bin=$PWD/$b/dockwright
    suite "lsp protocol tests ($b)" bash -c 'cd tests/lsp &&
      DOCKWRIGHT=$0 node --test --test-reporter=tap ./*.test.js' "$bin"
    tally "lsp protocol tests ($b)" "$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n1)" \
      "$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n1)"
  done
else
  tally "lsp npm packages (npm ci)" "" 0
fi
for b in build build-asan; do
  suite "neovim lsp test ($b)" tests/nvim/run.sh "$b/dockwright"
  tally "neovim lsp test ($b)" "$(sed -n 's/^nvim: \([0-9]*\) passed.*/\1/p' "$log")" \
    "$(sed -n 's/^nvim: [0-9]* passed, \([0-9]*\) failed/\1/p' "$log")"
done
# --- end of language server tests ---------------------------------------

# --- editor clients end to end (tests/nvim/plugin.sh, tests/vscode/) ---
# The Neovim plugin (editors/nvim) in headless Neovim 0.7.2 and the VS Code
# extension (editors/vscode, built into a .vsix) in code-server driven by
# Chromium: diagnostics, completion, build and push to a loopback
# registry.  The VS Code run installs code-server from npm into
# ~/.cache/dockwright-e2e the first time (a few minutes) and takes about
# a minute; screenshots go to build/test-artifacts/vscode/.
editor_tally() { # $1 = the suite's name, $2 = the summary's prefix
  tally "$1" "$(sed -n "s/^$2: \([0-9]*\) passed.*/\1/p" "$log" | tail -n1)" \
    "$(sed -n "s/^$2: [0-9]* passed, \([0-9]*\) failed/\1/p" "$log" | tail -n1)"
}
for b in build build-asan; do
  suite "neovim plugin end to end ($b)" tests/nvim/plugin.sh "$b/dockwright"
  editor_tally "neovim plugin end to end ($b)" nvim
done
suite "vs code extension end to end (build)" tests/vscode/run.sh build/dockwright
editor_tally "vs code extension end to end (build)" vscode
# examples/flask from the command line and from both editors (the
# debootstrap base is kept in /var/tmp/dockwright-flask, as tools/main.sh
# keeps it; about two minutes once it exists).
suite "examples/flask from both editors (build)" tests/editors-flask.sh build/dockwright
editor_tally "examples/flask from both editors (build)" editors-flask
# --- end of editor clients end to end ----------------------------------

echo
if ((${#failures[@]})); then
  echo "failed:"
  printf '  %s\n' "${failures[@]}"
fi
echo "logs: $logs/ (one per suite)"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
