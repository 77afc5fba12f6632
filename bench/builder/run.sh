#!/usr/bin/env bash
# Builder benchmarks (figures, not tests):
#  1. COPY of a 200 MB context of 10,000 files: dockwright vs buildah
#     (vfs storage, chroot isolation), FROM scratch, no cache.
#  2. Layer packing throughput: dockwright's COPY layer (tar + gzip -1 /
#     zstd -3, both digests, the blob written and fsynced) vs the
#     pipelines `tar | gzip -1 > file; sync file` and the same with zstd.
# Usage: bench/builder/run.sh [path/to/dockwright]
set -euo pipefail
cd "$(dirname "$0")/../.."
DW=${1:-build/dockwright}
W=${BENCH_DIR:-/tmp/dw-bench}
rm -rf "$W/store" "$W/bstore" "$W/brun"; mkdir -p "$W"
C=$W/ctx
if [[ ! -f $C/.done ]]; then
  rm -rf "$C"; mkdir -p "$C"
  python3 - "$C" <<'PY'
import os, random, sys
root = sys.argv[1]; random.seed(1)
words = [("w%d" % i).encode() for i in range(5000)]
for i in range(10000):
    d = os.path.join(root, "d%02d" % (i % 50), "s%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    # ~20 KiB: half random bytes, half text (compresses roughly like code)
    data = os.urandom(10240) + b" ".join(random.choice(words) for _ in range(2000))[:10240]
    open(os.path.join(d, "f%05d.bin" % i), "wb").write(data)
PY
  printf 'FROM scratch\nCOPY . /data/\n' > "$C/Dockerfile"
  touch "$C/.done"
fi
echo "context: $(du -sh --apparent-size "$C" | cut -f1), $(find "$C" -type f | wc -l) files"
cat "$C"/d*/s*/* > /dev/null   # warm the page cache for everyone

t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
best() { local b=999999 x; for _ in 1 2 3; do x=$(t "$@"); b=$(echo "if ($x < $b) $x else $b" | bc); done; echo "$b"; }

export DOCKWRIGHT_ROOT=$W/store
dw_gz=$(best "$DW" build -q --no-cache "$C")
dw_zs=$(best "$DW" build -q --no-cache --compression zstd "$C")
mkdir -p "$W/conf"
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$W/bstore" "$W/brun" > "$W/conf/storage.conf"
export CONTAINERS_STORAGE_CONF=$W/conf/storage.conf BUILDAH_ISOLATION=chroot
if command -v buildah >/dev/null; then
  bh=$(best buildah bud -q --layers=false --no-cache -t bench:1 "$C")
else
  bh=NA
fi
# The pipelines write their output to a file and fsync it, as the store
# does with every blob (discarding it would leave out a third of the work).
tar_gz=$(best sh -c "tar -C '$C' -cf - . | gzip -1 > '$W/out.gz' && sync '$W/out.gz'")
tar_zs=$(best sh -c "tar -C '$C' -cf - . | zstd -q -3 > '$W/out.zst' && sync '$W/out.zst'")
rm -f "$W/out.gz" "$W/out.zst"
printf '%-44s %8s s\n' "dockwright build (COPY, gzip -1)" "$dw_gz" \
  "dockwright build (COPY, zstd -3)" "$dw_zs" \
  "buildah bud (COPY, vfs)" "$bh" \
  "tar | gzip -1 > file; sync" "$tar_gz" "tar | zstd -3 > file; sync" "$tar_zs"
[[ $bh != NA ]] && echo "ratio dockwright/buildah: $(echo "scale=2; $dw_gz / $bh" | bc)"
echo "ratio dockwright gzip / (tar | gzip -1): $(echo "scale=2; $dw_gz / $tar_gz" | bc)"
echo "ratio dockwright zstd / (tar | zstd):    $(echo "scale=2; $dw_zs / $tar_zs" | bc)"
