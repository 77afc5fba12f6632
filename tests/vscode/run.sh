#!/usr/bin/env bash
# End to end in a real VS Code: code-server 4.100.3 (npm) with the
# extension's .vsix installed, driven by playwright-core in Debian's
# Chromium (tests/vscode/e2e.js).  A Dockerfile with a mistake shows the
# squiggle and the Problems entry; completion shows the server's items;
# "Dockwright: Build and Push Image" shows a progress notification with
# its steps and the image lands in a docker-registry on a free loopback
# port (checked with skopeo).  Screenshots: build/test-artifacts/vscode/.
# Usage: tests/vscode/run.sh [path/to/dockwright]
# Prints "ok"/"not ok" lines and "vscode: N passed, N failed" last.
set -uo pipefail
VS_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$VS_DIR/../.." && pwd)
DW=${1:-$REPO/build/dockwright}
DW=$(cd "$(dirname "$DW")" && pwd)/$(basename "$DW")
source "$REPO/tests/builder/lib.sh"
ART=$REPO/build/test-artifacts/vscode
summary() { echo "vscode: $PASS passed, $FAIL failed"; [[ $FAIL -eq 0 ]]; }

for t in docker-registry skopeo umoci node npm; do
  if ! command -v "$t" >/dev/null; then
    bad "vscode e2e: $t is not installed (tools/setup.sh installs it)"
    summary; exit 1
  fi
done
if ! CS=$("$VS_DIR/install.sh"); then
  bad "vscode e2e: code-server could not be installed (see above)"
  summary; exit 1
fi
# the Node 20 install.sh fetched when this machine's node is older: code-server
# and the extension's packaging (vsce) need it
# (trusting the system's CAs, as Debian's node does; see install.sh)
if [[ -x $CS/bin/node ]]; then
  export PATH=$CS/bin:$PATH
  [[ -n ${NODE_EXTRA_CA_CERTS:-} || ! -r /etc/ssl/certs/ca-certificates.crt ]] ||
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

# The Node 20 install.sh fetched when this machine's node is older: for
# code-server, and for tsc and @vscode/vsce (which want Node 20 too).
[[ ! -x $CS/bin/node ]] || export PATH=$CS/bin:$PATH

# The extension, as the README builds it.
ext=$REPO/editors/vscode
(
  cd "$ext" &&
  { cmp -s package-lock.json node_modules/.dockwright-lock 2>/dev/null ||
    { npm ci --no-audit --no-fund </dev/null &&
      cp package-lock.json node_modules/.dockwright-lock; }; } &&
  npm run --silent package </dev/null
) >"$T/vsix.log" 2>&1
if [[ -f $ext/dockwright.vsix ]] && grep -q 'DONE' "$T/vsix.log"; then
  ok "the .vsix builds (npm run package)"
else
  bad "the .vsix does not build"; tail -20 "$T/vsix.log"; summary; exit 1
fi
check "package.json lists the server's rules (scripts/rules.js --check)" \
  node "$ext/scripts/rules.js" --check "$DW"

start_registry main
REG=$REG_main
make_busybox "$REG"

W=$T/work
mkdir -p "$W" "$T/cs-data/User" "$T/cs-ext" "$ART"
rm -f "$ART"/*.png
printf 'FROM %s/busybox:latest\nEXPOSE 99999\n' "$REG" > "$W/broken.Dockerfile"
printf 'FROM %s/busybox:latest\nRUN sleep 300\n' "$REG" > "$W/slow.Dockerfile"
printf 'FROM %s/busybox:latest\nRUN echo about to fail && exit 3\n' "$REG" > "$W/fail.Dockerfile"
cat > "$W/Dockerfile" <<EOF
FROM $REG/busybox:latest
RUN echo "hello from vscode \$((40 + 2))" && sleep 2 && echo built > /built
COPY greeting.txt /greeting.txt
RUN sleep 1
CMD ["cat", "/greeting.txt"]
EOF
echo "hi from the context" > "$W/greeting.txt"
# DW_E2E_APP, DW_E2E_BASE_OCI, DW_E2E_LOG_MARK, DW_E2E_TIMEOUT: build
# something else (tests/editors-flask.sh; see tests/nvim/plugin.sh).
build_args='{}'
if [[ -n ${DW_E2E_APP:-} ]]; then
  rm -f "$W/Dockerfile" "$W/greeting.txt" && cp -r "$DW_E2E_APP"/. "$W"/
fi
if [[ -n ${DW_E2E_BASE_OCI:-} ]]; then
  skopeo copy -q --dest-tls-verify=false "$DW_E2E_BASE_OCI" "docker://$REG/debian:bookworm"
  build_args="{\"BASE\": \"$REG/debian:bookworm\"}"
fi
cat > "$T/cs-data/User/settings.json" <<EOF
{
  "dockwright.server.path": "$DW",
  "dockwright.root": "$T/store",
  "dockwright.build.buildArgs": $build_args,
  "dockwright.rules": {"ImageTagLatest": "off"},
  "editor.wordBasedSuggestions": "off",
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off"
}
EOF

csbin=$CS/node_modules/.bin/code-server
if "$csbin" --user-data-dir "$T/cs-data" --extensions-dir "$T/cs-ext" \
    --install-extension "$ext/dockwright.vsix" >"$T/install-ext.log" 2>&1; then
  ok "code-server installs the .vsix"
else
  bad "code-server does not install the .vsix"; tail "$T/install-ext.log"
fi

port=$(free_port)
setsid "$csbin" --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry \
  --disable-update-check --disable-workspace-trust --user-data-dir "$T/cs-data" \
  --extensions-dir "$T/cs-ext" "$W" >"$T/cs.log" 2>&1 &
cspid=$!
cs_stop() { kill -- "-$cspid" 2>/dev/null; }
trap 'cs_stop; cleanup' EXIT
for _ in $(seq 300); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.2
done

TAG=$REG/dw/vscode-app:v1
start=$(date +%s)
limit=${DW_E2E_TIMEOUT:-420}
NODE_PATH=$CS/node_modules E2E_BUILD_MS=$(( (limit - 180) * 1000 )) \
  timeout "$limit" node "$VS_DIR/e2e.js" "http://127.0.0.1:$port/?folder=$W" \
  "$TAG" "$ART" "${DW_E2E_LOG_MARK:-hello from vscode 42}" >"$T/e2e.out" 2>&1
rc=$?
echo "# workbench session: $(( $(date +%s) - start )) s, exit $rc"
cat "$T/e2e.out"
PASS=$((PASS + $(grep -c '^ok ' "$T/e2e.out")))
FAIL=$((FAIL + $(grep -c '^not ok ' "$T/e2e.out")))

short=$(sed -n 's/^digest \([0-9a-f]\{12\}\)$/\1/p' "$T/e2e.out")
remote=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$TAG" 2>/dev/null)
if [[ -n $short && $remote == sha256:$short* ]]; then
  ok "the image is in the registry with the digest VS Code showed ($remote)"
else
  bad "registry digest '$remote' vs shown '$short'"
fi
cs_stop
grep -i -E 'error|exception' "$T/cs.log" | grep -v -i 'telemetry' | tail -5 | sed 's/^/# cs.log: /'
summary
