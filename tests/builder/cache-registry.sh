#!/usr/bin/env bash
# The build cache shared through a registry: --cache-to on one store,
# --cache-from on a fresh one: no RUN runs and the image digest is the
# same; a changed COPY source reruns only from that step.
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo umoci jq curl busybox
start_registry plain
make_busybox "$REG_plain" || { echo "cannot make busybox"; exit 1; }

C=$T/ctx; mkdir -p "$C"
echo one > "$C/a.txt"; echo two > "$C/b.txt"
cat > "$C/Dockerfile" <<DF
FROM $REG_plain/busybox AS base
COPY a.txt /a.txt
RUN echo ran-step-one && cat /a.txt > /one.txt
FROM base
COPY b.txt /b.txt
RUN echo ran-step-two && cat /a.txt /b.txt > /two.txt
DF
CACHE=$REG_plain/cache/app:main
# the image's "created" is the build's time unless SOURCE_DATE_EPOCH says
# otherwise: with it, the same steps give the same digest
export SOURCE_DATE_EPOCH=1700000000

check "build with --cache-to (mode=max)" sh -c "'$DW' build -t app:1 --progress=plain --cache-to type=registry,ref=$CACHE,mode=max '$C' > '$T/d1' 2> '$T/b1.log'"
d1=$(cat "$T/d1")
check "the RUNs ran" test "$(grep -c '| ran-step' "$T/b1.log")" -eq 2
check "the export is logged" grep -q "build cache to $CACHE: [1-9][0-9]* entries (mode=max)" "$T/b1.log"
skopeo inspect --raw --tls-verify=false "docker://$CACHE" > "$T/cache.json"
check "the cache is an OCI manifest with our config type" \
  jq -e '.mediaType == "application/vnd.oci.image.manifest.v1+json" and .config.mediaType == "application/vnd.dockwright.cache.config.v1+json" and (.layers | length) >= 3' "$T/cache.json"
check "skopeo copies the cache artifact (digests verified)" skopeo copy -q --src-tls-verify=false "docker://$CACHE" "oci:$T/cacheback:1"

check "a fresh store builds with --cache-from" sh -c "DOCKWRIGHT_ROOT='$T/s2' '$DW' build -t app:1 --cache-from type=registry,ref=$CACHE '$C' > '$T/d2' 2> '$T/b2.log'"
check "no RUN step ran" sh -c "! grep -q '| ran-step' '$T/b2.log'"
check "every cached step was a hit" test "$(grep -c 'CACHED' "$T/b2.log")" -ge 4
check "the image digest is identical" test "$(cat "$T/d2")" = "$d1"

echo changed > "$C/b.txt"
check "a fresh store, a changed COPY source" sh -c "DOCKWRIGHT_ROOT='$T/s3' '$DW' build -t app:2 --cache-from type=registry,ref=$CACHE '$C' > /dev/null 2> '$T/b3.log'"
check "the steps before it came from the cache" sh -c "! grep -q '| ran-step-one' '$T/b3.log'"
check "the RUN after it ran" grep -q '| ran-step-two' "$T/b3.log"

check "mode=min exports the final image's steps" sh -c "'$DW' build -t app:3 --cache-to type=registry,ref=$REG_plain/cache/app:min '$C' > /dev/null 2> '$T/b4.log'"
nmin=$(sed -n 's/.*build cache to .*: \([0-9]*\) entries (mode=min).*/\1/p' "$T/b4.log")
check "mode=min is logged with its count" test -n "$nmin"

check "a missing cache only slows the build" sh -c "DOCKWRIGHT_ROOT='$T/s4' '$DW' build -t app:4 --cache-from type=registry,ref=$REG_plain/cache/none:1 '$C' > /dev/null 2> '$T/b5.log'"
check "and says it was not used" grep -q "build cache from $REG_plain/cache/none:1 not used" "$T/b5.log"
"$DW" build --cache-to type=local,dest=/tmp/x "$C" > "$T/b6.log" 2>&1 && bad "type=local is refused" || ok "type=local is refused"
check "clearly" grep -q "only type=registry is supported" "$T/b6.log"
finish
