#!/usr/bin/env bash
# tools/clean.sh without --all, on a copy of the Flask example's directory:
# the registry, podman's storage and the last run go; the Debian base and
# the build cache (what makes a rerun fast) stay.  (--all also removes the
# clone's builds and the test user, so it is not run here.)
# Prints "ok"/"not ok" lines and "# N passed, N failed".
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
W=$(mktemp -d /tmp/dw-clean-test.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0 fail=0
check() { # description command...
  local d=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - $d"; else fail=$((fail + 1)); echo "not ok - $d"; fi
}
for d in debian-rootfs/usr/bin oci/blobs store/blobs registry/data podman-storage/overlay \
  podman-run containers; do
  mkdir -p "$W/$d"
done
touch "$W/debian-rootfs/usr/bin/apt-get" "$W/oci/index.json" "$W/store/blobs/x" \
  "$W/registry/data/x" "$W/podman-storage/overlay/x" "$W/last-run" "$W/reply"
out=$(DOCKWRIGHT_DEMO_DIR=$W "$repo/tools/clean.sh" 2>&1)
rc=$?
check "exits 0" test $rc -eq 0
check "says what it removed and kept" grep -q "removed.*registry.*kept" <<<"$out"
check "the registry, podman's storage, the last run are gone" \
  bash -c 'cd "$1" && ! ls -d registry podman-storage podman-run containers last-run reply 2>/dev/null' _ "$W"
check "the Debian base and the build cache stay" \
  test -e "$W/debian-rootfs/usr/bin/apt-get" -a -e "$W/oci/index.json" -a -e "$W/store/blobs/x"
out=$(DOCKWRIGHT_DEMO_DIR=$W "$repo/tools/clean.sh" --bogus 2>&1)
check "an unknown option is refused" test $? -eq 2
echo "# $pass passed, $fail failed"
((fail == 0))
