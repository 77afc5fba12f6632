#!/usr/bin/env bash
# The main job: set everything up, then read every example Dockerfile the
# way BuildKit does and print it (BuildKit's AST dump, then the tree);
# then the Flask example end to end (examples/flask/run.sh: a registry on
# loopback, a debootstrap Debian base pushed there, dockwright build,
# podman run, an HTTP request).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/setup.sh
for f in examples/*/Dockerfile; do
  echo "== $f (BuildKit AST)"
  ./build/dockwright parse --format buildkit "$f"
  echo "== $f (syntax tree)"
  ./build/dockwright parse --format sexp "$f"
done
echo "== examples/flask end to end (registry, debootstrap base, build, podman run, request)"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
"${sudo[@]}" ./examples/flask/run.sh
