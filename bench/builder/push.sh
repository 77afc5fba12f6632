#!/usr/bin/env bash
# Push benchmark (figures, not a test): an image of about 300 MB (six
# random 50 MB layers, which gzip cannot shrink) pushed to an empty
# loopback docker-registry by dockwright and by `skopeo copy` (from the
# same image as an OCI layout), each to its own registry, then pushed
# again (every blob present).  Best of three for the re-push; the cold
# push runs against a fresh registry each time.
# Usage: bench/builder/push.sh [path/to/dockwright]
set -euo pipefail
cd "$(dirname "$0")/../.."
DW=$(realpath "${1:-build/dockwright}")
. tests/builder/lib.sh
set +e
need docker-registry skopeo bc
MB=${BENCH_LAYER_MB:-50}
mkdir -p "$T/ctx"
echo 'FROM scratch' > "$T/ctx/Dockerfile"
for i in 1 2 3 4 5 6; do
  head -c $((MB * 1024 * 1024)) /dev/urandom > "$T/ctx/l$i"
  echo "COPY l$i /l$i" >> "$T/ctx/Dockerfile"
done
"$DW" build -q -t bench:1 --output "type=oci,dest=$T/oci" "$T/ctx" > /dev/null
size=$(du -sm --apparent-size "$T/oci/blobs" | cut -f1)

t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1 || echo "FAILED: $*" >&2; e=$(date +%s.%N); echo "$e - $s" | bc; }
min() { echo "if ($1 < $2) $1 else $2" | bc; }

dw_cold=999 sk_cold=999 dw_re=999 sk_re=999
for round in 1 2 3; do
  start_registry "d$round"; start_registry "s$round"
  d=REG_d$round s=REG_s$round
  dw_cold=$(min "$dw_cold" "$(t "$DW" push --progress=quiet bench:1 "${!d}/bench:1")")
  sk_cold=$(min "$sk_cold" "$(t skopeo copy -q --dest-tls-verify=false "oci:$T/oci:1" "docker://${!s}/bench:1")")
  dw_re=$(min "$dw_re" "$(t "$DW" push --progress=quiet bench:1 "${!d}/bench:1")")
  sk_re=$(min "$sk_re" "$(t skopeo copy -q --dest-tls-verify=false "oci:$T/oci:1" "docker://${!s}/bench:1")")
done
printf 'image: %s MB in 7 blobs + manifest\n' "$size"
printf '%-28s %8s %8s %6s\n' "" dockwright skopeo ratio
printf '%-28s %8.2f %8.2f %6.2f\n' "cold push (s)" "$dw_cold" "$sk_cold" "$(echo "$dw_cold / $sk_cold" | bc -l)"
printf '%-28s %8.2f %8.2f %6.2f\n' "re-push, all present (s)" "$dw_re" "$sk_re" "$(echo "$dw_re / $sk_re" | bc -l)"
