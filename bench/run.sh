#!/usr/bin/env bash
# Runs the benchmarks on an optimized build and prints their figures.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/setup.sh >/dev/null
[[ -f build-release/build.ninja ]] || meson setup build-release --buildtype=release -Dtests=false >/dev/null
ninja -C build-release parse_bench >/dev/null
echo "== parse (issue #2 targets: full < 5 ms, incremental < 0.5 ms)"
# Real-world input: the official-image Dockerfiles of the conformance corpus
# concatenated (when ../shared is there), then the dense synthetic file.
corpus=${DOCKWRIGHT_SHARED:-$(cd .. && pwd)/shared}/corpus/real
if [[ -f $corpus/SOURCES.tsv ]]; then
  real=$(mktemp)
  awk -F'\t' '$6=="official-image"{print $1}' "$corpus/SOURCES.tsv" |
    while read -r f; do cat "$corpus/$f"; echo; done >"$real"
  ./build-release/parse_bench "$real"
  rm -f "$real"
  echo
fi
./build-release/parse_bench

# ==== language server vs dockerfile-language-server-nodejs (issue #3) — bench/lsp/ ====
echo
echo "== language server vs dockerfile-language-server-nodejs 0.15.0 (issue #3 targets: >= 20x faster on every latency, >= 5x less memory)"
if command -v node >/dev/null && command -v npm >/dev/null; then
  bench/lsp/run.sh
else
  echo "skipped: bench/lsp needs node and npm"
fi
echo
echo "== language server latency during a build vs idle (issue #11 goal: <= 2x)"
if command -v node >/dev/null && [[ $(id -u) -eq 0 ]]; then
  bench/lsp/build-latency || echo "bench/lsp/build-latency failed"
else
  echo "skipped: bench/lsp/build-latency needs node and root"
fi
# ==== end of bench/lsp section ====
