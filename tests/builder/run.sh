#!/usr/bin/env bash
# RUN and the build cache: shell, exec and heredoc forms; the layer a RUN
# leaves (created, changed, deleted files, whiteouts, opaque directories,
# hardlinks, symlinks, special modes); USER, WORKDIR, ARG/ENV; failures
# naming the line and exit code; cancel; --network=none; --mount cache,
# bind, tmpfs, secret; the cache (unchanged rebuild runs nothing, an edited
# COPY source reruns from that step); a rootless build as a normal user.
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo umoci jq
[[ $(id -u) = 0 ]] || { echo "SKIP: run as root (the rootless part switches user)"; exit 77; }
start_registry plain
make_busybox "$REG_plain" >/dev/null || { echo "cannot make busybox"; exit 1; }
BB=$REG_plain/busybox

C=$T/ctx; mkdir -p "$C/src"
echo one > "$C/src/one.txt"; echo two > "$C/src/two.txt"
echo "top secret value" > "$T/secret.txt"
cat > "$C/Dockerfile" <<DF
FROM $BB
ARG FLAVOUR=plain
ENV GREETING=hello
RUN echo "marker-run-1 \$GREETING \$FLAVOUR"; mkdir -p /data/sub /gone/inner && echo a > /data/a && echo g > /gone/inner/g
RUN ["/bin/sh", "-c", "echo marker-exec; echo b > /data/b; ln /data/b /data/b-hard; ln -s a /data/a-link; chmod 4755 /data/a; rm -rf /gone; rm /bin/true"]
RUN <<EOT
echo marker-heredoc
mkdir -p /opq && touch /opq/new
EOT
RUN cat <<EOT > /data/from-heredoc
written by \$GREETING
EOT
COPY src/one.txt /copied/one.txt
RUN echo marker-after-copy; cat /copied/one.txt > /data/copy-seen
COPY src/two.txt /copied/two.txt
RUN echo marker-last; rm -rf /data/sub && echo file > /data/sub
WORKDIR /home/app
USER app
RUN echo "marker-user \$(id -u):\$(id -g) \$(pwd) HOME=\$HOME" && touch /home/app/mine 2>/dev/null || true
USER root
RUN --network=none echo "marker-net \$(grep -c : /proc/net/dev) \$(grep -o 'lo:' /proc/net/dev)"
RUN --mount=type=cache,target=/cache echo x >> /cache/count && echo "marker-cache \$(wc -l < /cache/count)"
RUN --mount=type=bind,source=src,target=/ctx cat /ctx/two.txt > /data/bound
RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && echo "marker-tmpfs \$(ls /scratch)"
RUN --mount=type=secret,id=tok,required cp /run/secrets/tok /data/secret-copy-was-here && rm /data/secret-copy-was-here && echo "marker-secret \$(wc -c < /run/secrets/tok)"
RUN mknod /data/null c 1 3 && mkfifo /data/fifo && mkdir -p /etc/more && echo m > /etc/more/m && rm -rf /opq && mkdir /opq && touch -d @1000000000 /opq/old
DF
out=$T/out
"$DW" build -t "$REG_plain/run:1" --secret id=tok,src="$T/secret.txt" --output "type=oci,dest=$out" "$C" > "$T/b1.log" 2>&1
check "build with RUN succeeds" grep -q '^sha256:' "$T/b1.log"
check "shell form with ENV and ARG" grep -q "| marker-run-1 hello plain" "$T/b1.log"
check "log lines tagged with the RUN's line" grep -q "^  5| marker-exec" "$T/b1.log"
check "heredoc RUN" grep -q "| marker-heredoc" "$T/b1.log"
check "USER/WORKDIR in RUN" grep -q "| marker-user 1000:1000 /home/app HOME=/home/app" "$T/b1.log"
check "--network=none has only lo" grep -q "| marker-net 1 lo:$" "$T/b1.log"
check "tmpfs mount" grep -q "| marker-tmpfs t" "$T/b1.log"
check "secret mounted" grep -q "| marker-secret 17" "$T/b1.log"
check "secret not in the log" sh -c "! grep -q 'top secret' '$T/b1.log'"
# A RUN's layer is packed in the background and its line printed during a
# later step: each layer line names the step that made it.
check "the first RUN's layer line names its step (#4)" grep -q '^  layer sha256:[0-9a-f]* of step #4: ' "$T/b1.log"
check "every layer line names a step that makes one (RUN, COPY, WORKDIR)" awk '
  /^#[0-9]+\// { n = substr($1, 2); sub(/\/.*/, "", n); kind[n] = substr($0, index($0, "] ") + 2) }
  /^  layer sha256:/ { m = $0; sub(/.* of step #/, "", m); sub(/:.*/, "", m); seen++
                       if (kind[m] !~ /^(RUN|COPY|ADD|WORKDIR) /) bad++ }
  END { exit !(seen > 10 && bad == 0) }' "$T/b1.log"
umoci unpack --image "$out:1" "$T/bundle" >/dev/null 2>&1
R=$T/bundle/rootfs
check "created file" grep -qx a "$R/data/a"
check "setuid kept" test "$(stat -c %a "$R/data/a")" = 4755
check "hardlink" test "$(stat -c %i "$R/data/b")" = "$(stat -c %i "$R/data/b-hard")"
check "symlink" test "$(readlink "$R/data/a-link")" = a
check "deleted directory (whiteout)" test ! -e "$R/gone"
check "deleted file (whiteout)" test ! -e "$R/bin/true" -a -e "$R/bin/busybox"
check "directory replaced by a file" sh -c "test -f '$R/data/sub' && grep -qx file '$R/data/sub'"
check "heredoc to file" grep -qx "written by hello" "$R/data/from-heredoc"
check "RUN saw the COPY" grep -qx one "$R/data/copy-seen"
check "bind mount from the context" grep -qx two "$R/data/bound"
check "no mount stubs left in the image" sh -c "test ! -e '$R/ctx' -a ! -e '$R/scratch' -a ! -e '$R/cache' -a ! -e '$R/run/secrets' -a ! -e '$R/etc/hosts' -a ! -e '$R/etc/resolv.conf'"
# (the base has no /proc, /sys, /dev: runc makes them and BuildKit's stub
# cleaner leaves them, moby/buildkit#3455)
check "/proc, /sys, /dev kept as BuildKit keeps them" test -d "$R/proc" -a -d "$R/sys" -a -d "$R/dev"
check "no secret in any layer" sh -c "! (for b in '$out'/blobs/sha256/*; do zcat -f \"\$b\" 2>/dev/null; done | grep -aq 'top secret')"
cfg=$(jq -r '.config.digest' "$out/blobs/sha256/$(jq -r '.manifests[0].digest' "$out/index.json" | cut -d: -f2)" | cut -d: -f2)
check "history names RUN as BuildKit does" jq -e '[.history[].created_by | select(startswith("RUN |1 FLAVOUR=plain /bin/sh -c echo \"marker-run-1"))] | length == 1' "$out/blobs/sha256/$cfg"
check "no secret in the history" sh -c "! grep -q 'top secret' '$out/blobs/sha256/$cfg'"
# whiteouts and opaque directories as OCI entries
check "layer has .wh. entries" sh -c "for b in \$(jq -r '.layers[].digest' '$out/blobs/sha256/$(jq -r '.manifests[0].digest' "$out/index.json" | cut -d: -f2)' | cut -d: -f2); do tar -tzf '$out'/blobs/sha256/\$b; done | grep -q '^gone$\|^\.wh\.gone$\|/\.wh\.true$'"

# A RUN's upper directory is reused as its layer's lower directory (not
# unpacked again): it must hold exactly what unpacking the blob gives.
mv "$DOCKWRIGHT_ROOT/layers" "$T/adopted"
sed '$a RUN true' "$C/Dockerfile" > "$T/Dockerfile.more"
"$DW" build -f "$T/Dockerfile.more" --secret id=tok,src="$T/secret.txt" "$C" > "$T/b1x.log" 2>&1
check "rebuild unpacking every layer succeeds" grep -q '^sha256:' "$T/b1x.log"
# The RUN layers (COPY layers are unpacked both times).
man=$out/blobs/sha256/$(jq -r '.manifests[0].digest' "$out/index.json" | cut -d: -f2)
run_layers=$(paste <(jq -r '.layers[].digest' "$man") \
  <(jq -r '.history[] | select(.empty_layer | not) | .created_by | startswith("RUN ")' "$out/blobs/sha256/$cfg") |
  awk '$2 == "true" { sub("sha256:", "", $1); print $1 }')
cmp_fail=
nadopted=0
for h in $run_layers; do
  [[ -d $T/adopted/$h ]] || { cmp_fail=1; echo "RUN layer $h: no reused directory"; continue; }
  nadopted=$((nadopted + 1))
  "$HERE/treecmp.py" "$T/adopted/$h" "$DOCKWRIGHT_ROOT/layers/$h" > "$T/treecmp.log" || { cmp_fail=1; cat "$T/treecmp.log"; }
done
check "reused upper directories equal the unpacked layers ($nadopted RUNs)" test -z "$cmp_fail" -a "$nadopted" -ge 12
rm -rf "$T/adopted"
# The same with SOURCE_DATE_EPOCH: the packed times are clamped, so are the
# reused directory's.
mkdir -p "$T/ctxe"
printf 'FROM %s\nRUN mkdir -p /e/d && echo new > /e/d/f && touch -d @100 /e/old && rm /bin/cat\n' "$BB" > "$T/ctxe/Dockerfile"
SOURCE_DATE_EPOCH=1000000000 "$DW" build --output "type=oci,dest=$T/oute" -t e:1 "$T/ctxe" > "$T/e1.log" 2>&1
eman=$T/oute/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/oute/index.json" | cut -d: -f2)
eh=$(jq -r '.layers[-1].digest' "$eman" | cut -d: -f2)
mv "$DOCKWRIGHT_ROOT/layers/$eh" "$T/adopted-e"
sed '$a RUN true' "$T/ctxe/Dockerfile" > "$T/ctxe/Dockerfile.more"
SOURCE_DATE_EPOCH=1000000000 "$DW" build -f "$T/ctxe/Dockerfile.more" "$T/ctxe" > "$T/e2.log" 2>&1
check "with SOURCE_DATE_EPOCH too" "$HERE/treecmp.py" "$T/adopted-e" "$DOCKWRIGHT_ROOT/layers/$eh"
check "times clamped in the reused directory" test "$(stat -c %Y "$T/adopted-e/e/d/f")" = 1000000000 -a "$(stat -c %Y "$T/adopted-e/e/old")" = 100

# --- the cache ----------------------------------------------------------
"$DW" build -t "$REG_plain/run:1" --secret id=tok,src="$T/secret.txt" "$C" > "$T/b2.log" 2>&1
check "unchanged rebuild succeeds" grep -q '^sha256:' "$T/b2.log"
check "unchanged rebuild runs no RUN" sh -c "! grep -q '| marker-' '$T/b2.log'"
check "unchanged rebuild: every RUN/COPY CACHED" test "$(grep -c '^  CACHED' "$T/b2.log")" -ge 14
echo "edited" >> "$C/src/one.txt"
"$DW" build -t "$REG_plain/run:1" --secret id=tok,src="$T/secret.txt" "$C" > "$T/b3.log" 2>&1
check "edit: RUNs before the COPY cached" sh -c "! grep -q '| marker-run-1\|| marker-exec\|| marker-heredoc' '$T/b3.log'"
check "edit: RUN after the COPY reruns" grep -q "| marker-after-copy" "$T/b3.log"
check "edit: later RUNs rerun" grep -q "| marker-last" "$T/b3.log"
check "cache mount kept across builds" grep -q "| marker-cache 2" "$T/b3.log"
touch "$C/src/two.txt"   # mtime only: not a change
"$DW" build --secret id=tok,src="$T/secret.txt" "$C" > "$T/b4.log" 2>&1
check "mtime-only change reruns nothing" sh -c "! grep -q '| marker-' '$T/b4.log'"
"$DW" build --no-cache --secret id=tok,src="$T/secret.txt" "$C" > "$T/b5.log" 2>&1
check "--no-cache reruns everything" grep -q "| marker-run-1" "$T/b5.log"
check "prune keeps the cache" "$DW" prune
"$DW" build --secret id=tok,src="$T/secret.txt" "$C" > "$T/b6.log" 2>&1
check "cache survives prune" sh -c "grep -q '^sha256:' '$T/b6.log' && ! grep -q '| marker-' '$T/b6.log'"
"$DW" prune -a > /dev/null 2>&1
check "prune -a empties the cache" sh -c "test -z \"\$(ls '$DOCKWRIGHT_ROOT/cache' 2>/dev/null)\" && test -z \"\$(ls '$DOCKWRIGHT_ROOT/layers' 2>/dev/null)\""

# --- predefined proxy ARGs ------------------------------------------------
mkdir -p "$T/ctxp"
printf 'FROM %s\nRUN echo "marker-proxy $http_proxy $NO_PROXY"\n' "$BB" > "$T/ctxp/Dockerfile"
"$DW" build --output "type=oci,dest=$T/outp" --build-arg http_proxy=http://proxy.invalid:3128 --build-arg NO_PROXY=local "$T/ctxp" > "$T/p1.log" 2>&1
check "proxy build args reach RUN without an ARG line" grep -q "| marker-proxy http://proxy.invalid:3128 local" "$T/p1.log"
check "proxy build args stay out of the history" sh -c "! grep -rq proxy.invalid '$T/outp/blobs'"
"$DW" build --build-arg http_proxy=http://other.invalid:3128 "$T/ctxp" > "$T/p2.log" 2>&1
check "proxy build args stay out of the cache key" sh -c "grep -q CACHED '$T/p2.log' && ! grep -q '| marker-proxy' '$T/p2.log'"

# --- failures and cancel --------------------------------------------------
mkdir -p "$T/ctx2"
printf 'FROM %s\nRUN echo before\nRUN echo oops && exit 3\n' "$BB" > "$T/ctx2/Dockerfile"
"$DW" build "$T/ctx2" > "$T/f.log" 2>&1; rc=$?
check "failing RUN: exit status 1" test $rc = 1
check "failing RUN: names line and exit code" grep -q "line 3.*exit code: 3" "$T/f.log"
"$DW" build "$T/ctx2" > "$T/f1.log" 2>&1
check "failing RUN: the step before it was cached" sh -c "grep -A1 'RUN echo before' '$T/f1.log' | grep -q CACHED"
printf 'FROM scratch\nRUN echo hi\n' > "$T/ctx2/Dockerfile.scratch"
"$DW" build -f "$T/ctx2/Dockerfile.scratch" "$T/ctx2" > "$T/f2.log" 2>&1
check "RUN without a shell: exit code 127" grep -q "line 2.*exit code: 127" "$T/f2.log"
printf 'FROM %s\nRUN echo started; sleep 1000 & sleep 1000; echo never\n' "$BB" > "$T/ctx2/Dockerfile.slow"
"$DW" build -f "$T/ctx2/Dockerfile.slow" "$T/ctx2" > "$T/c.log" 2>&1 &
bpid=$!
for _ in $(seq 100); do grep -q "| started" "$T/c.log" && break; sleep 0.1; done
kill -INT $bpid; wait $bpid; rc=$?
check "cancel: exit status 130" test $rc = 130
check "cancel: no sleep left behind" sh -c "! pgrep -x sleep >/dev/null || ! pgrep -a sleep | grep -q 1000"
printf 'FROM %s\nRUN echo ok\n' "$BB" > "$T/ctx2/Dockerfile.ok"
check "cancel: the store still works" "$DW" build -q -f "$T/ctx2/Dockerfile.ok" "$T/ctx2"

# --- RUN --mount=type=bind,from=<stage or image> ---------------------------
mkdir -p "$T/ctxm"
cat > "$T/ctxm/Dockerfile" <<DF
FROM $BB AS src
RUN mkdir -p /out/sub && echo one > /out/sub/one && echo top > /out/top && ln -s sub/one /out/link
RUN rm /out/top && echo again > /out/sub/two
FROM $BB
RUN --mount=type=bind,from=src,source=/out,target=/in echo "marker-ro \$(cat /in/sub/one /in/sub/two /in/link | tr '\n' ' ')\$(ls /in | tr '\n' ' ')" && (touch /in/x 2>/dev/null && echo marker-ro-writable || echo marker-ro-readonly)
RUN --mount=type=bind,from=src,source=/out/link,target=/one.txt echo "marker-file \$(cat /one.txt)"
RUN --mount=type=bind,from=src,source=/out,target=/in,rw echo changed > /in/sub/one && echo "marker-rw \$(cat /in/sub/one)"
RUN --mount=type=bind,from=src,source=/out,target=/in echo "marker-after \$(cat /in/sub/one)"
RUN --mount=type=bind,from=$BB,source=/etc/passwd,target=/p echo "marker-image \$(head -c 4 /p)"
DF
"$DW" build --output "type=oci,dest=$T/outm" -t m:1 "$T/ctxm" > "$T/m1.log" 2>&1
check "bind from a stage: its layers merged (whiteouts too)" grep -q "| marker-ro one again one link sub $" "$T/m1.log"
check "bind from a stage: read-only" grep -q "| marker-ro-readonly" "$T/m1.log"
check "bind from a stage: a file through a symlink in the stage" grep -q "| marker-file one" "$T/m1.log"
check "bind from a stage, rw: writable" grep -q "| marker-rw changed" "$T/m1.log"
check "bind from a stage, rw: writes dropped" grep -q "| marker-after one" "$T/m1.log"
check "bind from an image" grep -q "| marker-image root" "$T/m1.log"
umoci unpack --image "$T/outm:1" "$T/bm" >/dev/null 2>&1
check "no mount points of them left in the image" test ! -e "$T/bm/rootfs/in" -a ! -e "$T/bm/rootfs/one.txt" -a ! -e "$T/bm/rootfs/p"
printf 'FROM %s AS e\nRUN true\nRUN true\nFROM %s\nRUN --mount=type=bind,from=e,target=/x echo "marker-twice $(ls /x/bin/busybox)"\n' "$BB" "$BB" > "$T/ctxm/Dockerfile.twice"
"$DW" build -f "$T/ctxm/Dockerfile.twice" "$T/ctxm" > "$T/m3.log" 2>&1
check "bind from a stage whose layers repeat (two empty RUNs)" grep -q "| marker-twice /x/bin/busybox" "$T/m3.log"
printf 'FROM %s AS a\nFROM %s\nRUN --mount=type=bind,from=a,source=/nope,target=/x true\n' "$BB" "$BB" > "$T/ctxm/Dockerfile.missing"
"$DW" build -f "$T/ctxm/Dockerfile.missing" "$T/ctxm" > "$T/m2.log" 2>&1 && bad "bind from a stage: a missing source fails" || ok "bind from a stage: a missing source fails"
check "the missing source is named" grep -q "/nope does not exist" "$T/m2.log"

# --- two builds at once on one store --------------------------------------
mkdir -p "$T/ctxc"
for n in 1 2; do
  printf 'FROM %s\nRUN echo shared > /shared\nRUN echo "marker-conc-%s" && echo %s > /own\nCOPY Dockerfile.%s /df\n' "$BB" "$n" "$n" "$n" > "$T/ctxc/Dockerfile.$n"
done
"$DW" build -f "$T/ctxc/Dockerfile.1" --output "type=oci,dest=$T/outc1" -t c:1 "$T/ctxc" > "$T/c1.log" 2>&1 & c1=$!
"$DW" build -f "$T/ctxc/Dockerfile.2" --output "type=oci,dest=$T/outc2" -t c:2 "$T/ctxc" > "$T/c2.log" 2>&1 & c2=$!
wait $c1; r1=$?; wait $c2; r2=$?
check "two concurrent builds succeed" test "$r1$r2" = 00
umoci unpack --image "$T/outc1:1" "$T/bc1" >/dev/null 2>&1; umoci unpack --image "$T/outc2:2" "$T/bc2" >/dev/null 2>&1
check "each got its own layers" sh -c "grep -qx 1 '$T/bc1/rootfs/own' && grep -qx 2 '$T/bc2/rootfs/own' && grep -qx shared '$T/bc1/rootfs/shared' && grep -qx shared '$T/bc2/rootfs/shared'"
"$DW" build -f "$T/ctxc/Dockerfile.1" "$T/ctxc" > "$T/c3.log" 2>&1
check "the store is sound after them (cached rebuild)" sh -c "grep -q '^sha256:' '$T/c3.log' && ! grep -q '| marker-conc' '$T/c3.log'"

# --- rootless -------------------------------------------------------------
U=dw-rootless
id "$U" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /bin/sh "$U"
RL=$(mktemp -d /tmp/dw-rootless.XXXXXX); chmod 755 "$RL"
mkdir -p "$RL/ctx"; echo hi > "$RL/ctx/f.txt"
printf 'FROM %s\nRUN echo "marker-rootless uid=$(id -u)" && mkdir /made && echo x > /made/x && rm /bin/ls\nCOPY f.txt /made/f.txt\nRUN ls -ln /made\n' "$BB" > "$RL/ctx/Dockerfile"
# The user may not be able to reach $DW (a clone under /root, mode 0700):
# it runs a copy, with the builder plugin the executable loads from its
# own directory (when the build has one).
mkdir "$RL/bin"
for f in "$DW" "$(dirname "$DW")/libdockwright-builder.so"; do
  [[ ! -e $f ]] || cp "$f" "$RL/bin/"
done
RLDW=$RL/bin/$(basename "$DW")
chown -R "$U" "$RL"
rl() { setpriv --reuid="$U" --regid="$U" --clear-groups env -i PATH=/usr/bin:/bin HOME="$RL" DOCKWRIGHT_ROOT="$RL/store" "$@"; }
rl "$RLDW" build -t "$REG_plain/rootless:1" --output "type=oci,dest=$RL/out" "$RL/ctx" > "$T/rl.log" 2>&1
check "rootless build succeeds" grep -q '^sha256:' "$T/rl.log"
check "rootless RUN is root inside" grep -q "| marker-rootless uid=0" "$T/rl.log"
umoci unpack --image "$RL/out:1" "$T/rl-bundle" >/dev/null 2>&1
check "rootless layer: file owned by root in the image" test "$(stat -c %u:%g "$T/rl-bundle/rootfs/made/x")" = 0:0
check "rootless layer: whiteout" test ! -e "$T/rl-bundle/rootfs/bin/ls"
rl "$RLDW" build "$RL/ctx" > "$T/rl2.log" 2>&1
check "rootless cached rebuild" sh -c "! grep -q '| marker-' '$T/rl2.log' && grep -q '^sha256:' '$T/rl2.log'"
rm -rf "$RL"
finish
