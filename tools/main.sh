#!/usr/bin/env bash
# The main job: set everything up, then read every example Dockerfile the
# way BuildKit does and print it (BuildKit's AST dump, then the tree).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/setup.sh
for f in examples/*/Dockerfile; do
  echo "== $f (BuildKit AST)"
  ./build/dockwright parse --format buildkit "$f"
  echo "== $f (syntax tree)"
  ./build/dockwright parse --format sexp "$f"
done
