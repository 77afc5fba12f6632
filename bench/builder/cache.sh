#!/usr/bin/env bash
# Registry cache benchmark (figures, not a test): a busybox image whose
# RUN steps compute for a while and write 40 MB, built cold with
# --cache-to (mode=max) to a loopback registry, then from a fresh store
# with --cache-from: no RUN runs; only the base and the cache's layers come
# over the network.  Best of three each.
# Usage: bench/builder/cache.sh [path/to/dockwright]
set -euo pipefail
cd "$(dirname "$0")/../.."
DW=$(realpath "${1:-build/dockwright}")
. tests/builder/lib.sh
set +e
need docker-registry skopeo umoci busybox bc
start_registry r
make_busybox "$REG_r" > /dev/null
mkdir -p "$T/ctx"
echo data > "$T/ctx/a.txt"
cat > "$T/ctx/Dockerfile" <<DF
FROM $REG_r/busybox
COPY a.txt /a.txt
RUN i=0; while [ \$i -lt 400000 ]; do i=\$((i+1)); done; echo \$i > /count
RUN head -c 20000000 /dev/urandom > /r1 && sha256sum /r1 > /r1.sum
RUN i=0; while [ \$i -lt 400000 ]; do i=\$((i+1)); done; head -c 20000000 /dev/urandom > /r2
DF
export SOURCE_DATE_EPOCH=1700000000
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1 || echo "FAILED: $*" >&2; e=$(date +%s.%N); echo "$e - $s" | bc; }
min() { echo "if ($1 < $2) $1 else $2" | bc; }
cold=999 warm=999
for round in 1 2 3; do
  cold=$(min "$cold" "$(DOCKWRIGHT_ROOT=$T/cold$round t "$DW" build -q --cache-to "type=registry,ref=$REG_r/cache:$round,mode=max" "$T/ctx")")
  warm=$(min "$warm" "$(DOCKWRIGHT_ROOT=$T/warm$round t "$DW" build -q --cache-from "type=registry,ref=$REG_r/cache:$round" "$T/ctx")")
done
d1=$(DOCKWRIGHT_ROOT=$T/cold1 "$DW" build -q "$T/ctx" 2> /dev/null)
d2=$(DOCKWRIGHT_ROOT=$T/warm1 "$DW" build -q "$T/ctx" 2> /dev/null)
printf 'cold build + --cache-to (s)          %6.2f\n' "$cold"
printf 'fresh store + --cache-from (s)       %6.2f   (%.2fx the cold build)\n' "$warm" "$(echo "$warm / $cold" | bc -l)"
printf 'same image digest: %s\n' "$([[ -n $d1 && $d1 = "$d2" ]] && echo yes || echo "no ($d1 / $d2)")"
