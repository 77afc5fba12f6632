#!/usr/bin/env bash
# examples/flask from both editors, the same way as from `dockwright build`
# (run by tools/test.sh; about two minutes once the Debian base exists, one
# more to make it):
#   1. examples/flask/run.sh: the debootstrap Debian base (kept in
#      $DOCKWRIGHT_DEMO_DIR), `dockwright build`, push, podman run, GET /;
#   2. tests/nvim/plugin.sh and tests/vscode/run.sh building examples/flask
#      instead of their small app, with BASE (the same Debian base, pushed
#      to their registry) as a build argument; each also checks that
#      `dockwright build` of the same directory in the same store reuses
#      the editor's layers (same cache keys: same Dockerfile, context and
#      arguments).
# Usage: tests/editors-flask.sh [path/to/dockwright]
# Prints the suites' lines and "editors-flask: N passed, N failed".
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
DW=${1:-$REPO/build/dockwright}
export DOCKWRIGHT_DEMO_DIR=${DOCKWRIGHT_DEMO_DIR:-/var/tmp/dockwright-flask}
passed=0 failed=0
t0=$(date +%s)
if DW=$DW "$REPO/examples/flask/run.sh"; then
  passed=$((passed + 1)); echo "ok - examples/flask/run.sh (dockwright build, podman run, GET /)"
else
  failed=$((failed + 1)); echo "not ok - examples/flask/run.sh"
fi
echo "# command line: $(( $(date +%s) - t0 )) s"
export DW_E2E_APP=$REPO/examples/flask
export DW_E2E_BASE_OCI=oci:$DOCKWRIGHT_DEMO_DIR/oci:debian
export DW_E2E_LOG_MARK='Setting up python3-flask'
export DW_E2E_TIMEOUT=${DW_E2E_TIMEOUT:-1500}
for suite in "$REPO/tests/nvim/plugin.sh" "$REPO/tests/vscode/run.sh"; do
  t0=$(date +%s)
  log=$(mktemp)
  "$suite" "$DW" 2>&1 | tee "$log"
  echo "# $(basename "$(dirname "$suite")"): $(( $(date +%s) - t0 )) s"
  passed=$((passed + $(grep -c '^ok ' "$log"))); failed=$((failed + $(grep -c '^not ok ' "$log")))
  rm -f "$log"
done
echo "editors-flask: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
