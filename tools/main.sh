#!/usr/bin/env bash
# The main job: set everything up, then read every example Dockerfile the
# way BuildKit does and print it (BuildKit's AST dump, then the tree);
# then the Flask example end to end (examples/flask/run.sh: a registry on
# loopback, a debootstrap Debian base pushed there, dockwright build,
# podman run, an HTTP request).  Ends with a summary: what was built, its
# digest and size, where it was pushed, the HTTP answer, the time of each
# phase, and where the files are.  A rerun is fast: the base and the build
# cache are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
W=${DOCKWRIGHT_DEMO_DIR:-/var/tmp/dockwright-flask}
times=() t=$SECONDS t_all=$SECONDS
lap() { times+=("$1 $((SECONDS - t))s"); t=$SECONDS; }

./tools/setup.sh
lap set-up
for f in examples/*/Dockerfile; do
  echo "== $f (BuildKit AST)"
  ./build/dockwright parse --format buildkit "$f"
  echo "== $f (syntax tree)"
  ./build/dockwright parse --format sexp "$f"
done
lap "reading the examples"
echo "== examples/flask end to end (registry, debootstrap base, build, podman run, request)"
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
rc=0
"${sudo[@]}" env DOCKWRIGHT_DEMO_DIR="$W" ./examples/flask/run.sh || rc=$?

# The summary, from what examples/flask/run.sh wrote in $W/last-run.
registry="" image="" digest="" size="" http="" base_s="" build_s="" push_s="" run_s=""
# shellcheck source=/dev/null
[[ -r $W/last-run ]] && . "$W/last-run"
for p in "Debian base (made or reused) and registry:$base_s" "build:$build_s" \
  "push:$push_s" "podman run and request:$run_s"; do
  [[ -z ${p##*:} ]] || times+=("${p%:*} ${p##*:}s")
done
echo
echo "== summary"
if ((rc != 0)); then
  echo "FAILED     examples/flask/run.sh exited $rc (its output is above)"
fi
[[ -z $image ]] || echo "image      $image (examples/flask, built by build/dockwright)"
[[ -z $digest ]] || echo "digest     $digest"
[[ -z $size ]] || echo "size       $(awk -v b="$size" 'BEGIN {printf "%.1f MB", b / 1e6}')" \
  "(config and compressed layers, the Debian base's included)"
[[ -z $digest ]] || echo "pushed to  the registry on $registry (docker-registry; stopped at the end," \
  "its data stays in $W/registry)"
[[ -z $http ]] || echo "answer     $http"
echo "time       $(printf '%s, ' "${times[@]}")total $((SECONDS - t_all))s"
echo "files      $W ($(du -sh "$W" 2>/dev/null | cut -f1)): the Debian base, the build cache," \
  "the registry, podman's storage"
echo "clean      ./tools/clean.sh removes them but the base and the build cache (what makes" \
  "a rerun fast); ./tools/clean.sh --all removes everything the two commands made"
exit $rc
