#!/usr/bin/env bash
# Side-by-side benchmark of `dockwright --stdio` against
# dockerfile-language-server-nodejs 0.15.0 (issue #3).  Installs the npm
# packages from package-lock.json when node_modules is missing, builds an
# optimized dockwright into build-release when missing, runs bench.mjs and
# prints its table.  Extra arguments go to bench.mjs (see its header), e.g.
#   bench/lsp/run.sh --runs 50 --markdown /tmp/lsp.md
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

command -v node >/dev/null || { echo "bench/lsp: node is required" >&2; exit 2; }
command -v npm >/dev/null || { echo "bench/lsp: npm is required" >&2; exit 2; }

if [[ ! -x "$here/node_modules/.bin/docker-langserver" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund >&2)
fi

cd "$root"
if [[ ! -f build-release/build.ninja ]]; then
  meson setup build-release --buildtype=release -Dtests=false >/dev/null
fi
# Always bring the binary up to date (a no-op when it is); if the tree does
# not build right now, say so and measure the binary there is.
if ! ninja -C build-release dockwright >/dev/null; then
  [[ -x build-release/dockwright ]] || { echo "bench/lsp: cannot build dockwright" >&2; exit 1; }
  echo "bench/lsp: WARNING: ninja failed; measuring the existing build-release/dockwright" >&2
fi

exec node "$here/bench.mjs" --dockwright "$root/build-release/dockwright" \
  --peer "$here/node_modules/.bin/docker-langserver" "$@"
