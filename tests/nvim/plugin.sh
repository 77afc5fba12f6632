#!/usr/bin/env bash
# End to end through the Neovim plugin (editors/nvim) in headless Neovim
# (0.7.2 on Debian 12): diagnostics, our grammar's highlights, completion,
# :DockwrightBuildAndPush to a docker-registry on a free loopback port
# (the image then checked with skopeo, and compared with what `dockwright
# build` makes of the same Dockerfile), and a failing RUN's diagnostic.
# Usage: tests/nvim/plugin.sh [path/to/dockwright]
# Prints "nvim: N passed, N failed" last; exits 1 on any failure.
set -uo pipefail
NVIM_DIR=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$NVIM_DIR/../.." && pwd)
DW=${1:-$REPO/build/dockwright}
DW=$(cd "$(dirname "$DW")" && pwd)/$(basename "$DW")
export DW
source "$REPO/tests/builder/lib.sh"

summary() { echo "nvim: $PASS passed, $FAIL failed"; [[ $FAIL -eq 0 ]]; }
for t in nvim docker-registry skopeo umoci cc; do
  if ! command -v "$t" >/dev/null; then
    echo "SKIP: $t is not installed (tools/setup.sh installs it)"
    bad "plugin e2e: $t missing"; summary; exit 1
  fi
done

start_registry main
REG=$REG_main
make_busybox "$REG"

# Our grammar as Neovim loads parsers: parser/dockerfile.so on 'runtimepath'.
mkdir -p "$T/rtp/parser"
cc -shared -fPIC -O1 -I "$REPO/grammar/src" -o "$T/rtp/parser/dockerfile.so" \
  "$REPO/grammar/src/parser.c" "$REPO/grammar/src/scanner.c"

mkdir -p "$T/bad" "$T/app" "$T/fail" "$T/cf"
printf 'FROM %s/busybox:latest\nEXPOSE 99999\n' "$REG" > "$T/bad/Dockerfile"
printf 'FROM %s/busybox:latest\nRUN true\n' "$REG" > "$T/cf/Containerfile"
cat > "$T/app/Dockerfile" <<EOF
FROM $REG/busybox:latest
RUN echo "hello from nvim \$((40 + 2))" && echo built > /built
COPY greeting.txt /greeting.txt
CMD ["cat", "/greeting.txt"]
EOF
echo "hi from the context" > "$T/app/greeting.txt"
printf 'FROM %s/busybox:latest\nRUN echo about to fail && exit 3\n' "$REG" > "$T/fail/Dockerfile"
mkdir -p "$T/slow"
printf 'FROM %s/busybox:latest\nRUN sleep 300\n' "$REG" > "$T/slow/Dockerfile"

# DW_E2E_APP (a directory to build instead, e.g. examples/flask),
# DW_E2E_BASE_OCI (an image such as oci:DIR:debian, pushed as
# $REG/debian:bookworm and given as --build-arg BASE) and DW_E2E_LOG_MARK
# (a line the build prints) build something else: tests/editors-flask.sh.
if [[ -n ${DW_E2E_APP:-} ]]; then
  rm -rf "$T/app" && cp -r "$DW_E2E_APP" "$T/app"
fi
BUILD_ARGS='{}' cli_args=()
if [[ -n ${DW_E2E_BASE_OCI:-} ]]; then
  skopeo copy -q --dest-tls-verify=false "$DW_E2E_BASE_OCI" "docker://$REG/debian:bookworm"
  BUILD_ARGS="{\"BASE\": \"$REG/debian:bookworm\"}"
  cli_args=(--build-arg "BASE=$REG/debian:bookworm")
fi
export BUILD_ARGS LOG_MARK=${DW_E2E_LOG_MARK:-hello from nvim 42}
export BUILD_TIMEOUT_MS=$(( ${DW_E2E_TIMEOUT:-400} * 1000 - 60000 ))

TAG=$REG/dw/nvim-app:v1
export BAD=$T/bad/Dockerfile APP=$T/app/Dockerfile FAILING=$T/fail/Dockerfile \
  CONTAINERFILE=$T/cf/Containerfile SLOW=$T/slow/Dockerfile TAG STORE=$T/store
start=$(date +%s.%N)
timeout "${DW_E2E_TIMEOUT:-400}" nvim --headless -u NONE -i NONE -n \
  --cmd "set rtp^=$REPO/editors/nvim,$T/rtp" --cmd "filetype on" \
  -c "luafile $NVIM_DIR/plugin-e2e.lua" -c "cquit 5" >"$T/out" 2>"$T/err" </dev/null
rc=$?
echo "nvim ran $(echo "$(date +%s.%N) - $start" | bc) s"
grep -v '^\(ok\|not ok\) ' "$T/out" | sed 's/^/  /' | tail -60
[[ -s $T/err ]] && sed 's/^/  nvim stderr: /' "$T/err" | tail -20
PASS=$((PASS + $(grep -c '^ok ' "$T/out")))
FAIL=$((FAIL + $(grep -c '^not ok ' "$T/out")))
grep '^\(ok\|not ok\) ' "$T/out"
if [[ $rc -eq 0 ]] && grep -q '^plugin checks:' "$T/out"; then
  ok "nvim exited 0 after the plugin checks"
else
  bad "nvim exited $rc before the end of the plugin checks"
fi

digest=$(sed -n 's/^digest \(sha256:.*\)$/\1/p' "$T/out")
check "the pushed image is in the registry (skopeo inspect)" \
  skopeo inspect --tls-verify=false "docker://$TAG"
remote=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$TAG" 2>/dev/null)
if [[ -n $digest && $remote == "$digest" ]]; then
  ok "the registry's digest is the one the build reported ($digest)"
else
  bad "registry digest '$remote' vs reported '$digest'"
fi
# The same Dockerfile from the command line: the same layers.
if DOCKWRIGHT_ROOT=$T/store "$DW" build "${cli_args[@]}" -t "$REG/dw/cli-app:v1" "$T/app" >"$T/cli.out" 2>&1 &&
   DOCKWRIGHT_ROOT=$T/store "$DW" push "$REG/dw/cli-app:v1" >>"$T/cli.out" 2>&1; then
  a=$(skopeo inspect --tls-verify=false --format '{{.Layers}}' "docker://$TAG" 2>/dev/null)
  b=$(skopeo inspect --tls-verify=false --format '{{.Layers}}' "docker://$REG/dw/cli-app:v1" 2>/dev/null)
  if [[ -n $a && $a == "$b" ]]; then ok "dockwright build gives the same layers as the editor"
  else bad "layers differ: editor $a, cli $b"; fi
else
  bad "dockwright build of the same Dockerfile failed"; tail -5 "$T/cli.out"
fi
summary
