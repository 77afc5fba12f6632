#!/usr/bin/env bash
# Runs the benchmarks on an optimized build and prints their figures.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/setup.sh >/dev/null
[[ -f build-release/build.ninja ]] || meson setup build-release --buildtype=release -Dtests=false >/dev/null
ninja -C build-release parse_bench >/dev/null
echo "== parse (issue #2 targets: full < 5 ms, incremental < 0.5 ms)"
./build-release/parse_bench
