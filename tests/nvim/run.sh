#!/bin/sh
# Neovim 0.7.2 (Debian 12's) drives `dockwright --stdio` headless and must
# see our diagnostics, before and after an incremental edit, completion
# and hover through vim.lsp on a non-ASCII line, and a clean exit.  Usage: tests/nvim/run.sh [path/to/dockwright]
# Prints "nvim: N passed, N failed" last; exits 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/dockwright}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# é and 😀 before the bad port: Neovim 0.7 speaks UTF-16 positions.
printf 'FROM busybox\nLABEL x="é😀"\nEXPOSE é😀 99999\n' > "$dir/Dockerfile"

passed=0 failed=0
check() { # $1 = description, $2 = pattern expected in the output
  if grep -q -- "$2" "$dir/out"; then
    passed=$((passed + 1)); echo "ok - $1"
  else
    failed=$((failed + 1)); echo "not ok - $1 (no '$2')"
  fi
}

LSP_CMD="$bin --stdio" DOCKERFILE="$dir/Dockerfile" LSP_TIMEOUT=10000 \
  timeout 60 nvim --headless -u NONE -i NONE -n \
  -c "luafile $here/lsp-diag.lua" >"$dir/out" 2>"$dir/err" </dev/null
rc=$?
if [ $rc -eq 0 ]; then
  passed=$((passed + 1)); echo "ok - nvim exited 0"
else
  failed=$((failed + 1)); echo "not ok - nvim exited $rc"
fi
check "diagnostics published on open" '"event": "diagnostics"'
# On the wire: UTF-16 character 11 (é = 1 unit, 😀 = 2); Neovim turns it
# back into byte column 15 (1-based), which only works if ours was right.
check "InvalidPort at 2:11-2:16 in UTF-16 units" 'lsp 2:11-2:16 InvalidPort'
check "Neovim places it at byte column 15" \
  'Dockerfile:3:15: ERROR: invalid containerPort: 99999'
check "diagnostics after an incremental edit" \
  'Dockerfile:4:8: ERROR: invalid containerPort: 70000'
check "completion of mount types" \
  'complete mount types: bind,cache,secret,ssh,tmpfs'
# ${HO after LABEL y="é😀" z=: the name starts at UTF-16 unit 18 (é is
# one unit, 😀 two), the cursor is at 20.
check "completion of a variable, range in UTF-16 units" \
  'complete var HOME_DIR at 18-20 of 20 (HOME_DIR=/h)'
check "hover on LABEL" 'hover: LABEL <key>=<value> ...'
check "signature help inside --mount=: the mount's type key" \
  'signature: type=<bind|cache|tmpfs|secret|ssh>'
check "server exited 0 after shutdown" \
  '"code": 0, "event": "exit"\|"event": "exit", "code": 0'
# What Neovim printed (its diagnostics include the "ERROR: invalid
# containerPort" lines this test expects) is shown only when something
# failed, so a passing run's log holds no error-looking lines.
if [ $failed -ne 0 ]; then
  sed 's/^/    nvim stdout: /' "$dir/out"
  sed 's/^/    nvim stderr: /' "$dir/err"
fi
echo "nvim: $passed passed, $failed failed"
[ $failed -eq 0 ]
