#!/usr/bin/env bash
# Differential test for RUN against buildah (--layers, overlay storage,
# runc): Dockerfiles whose RUNs create, change and delete files, replace
# directories with files and back, make hardlinks, symlinks, special modes
# and owners; both images unpacked with umoci must have the same files,
# modes, owners, links, contents, and the same config.
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo umoci buildah runc jq
[[ $(id -u) = 0 ]] || { echo "SKIP: buildah overlay needs root"; exit 77; }
start_registry plain
make_busybox "$REG_plain" >/dev/null || exit 1
mkdir -p "$T/conf"; echo "{}" > "$DOCKER_CONFIG/config.json"
cat > "$T/conf/registries.conf" <<CONF
[[registry]]
location = "$REG_plain"
insecure = true
CONF
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$T/bstore" "$T/brun" > "$T/conf/storage.conf"
printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$T/conf/containers.conf"
export CONTAINERS_REGISTRIES_CONF=$T/conf/registries.conf CONTAINERS_STORAGE_CONF=$T/conf/storage.conf CONTAINERS_CONF=$T/conf/containers.conf
export BUILDAH_ISOLATION=oci BUILDAH_RUNTIME=runc

# compare NAME: builds $T/NAME/Dockerfile with both, diffs trees and configs
compare() {
  local n=$1 c=$T/$1
  if ! "$DW" build -q -t "dw-$n:1" --output "type=oci,dest=$T/dw-$n" "$c" > "$T/dw-$n.log" 2>&1; then
    bad "$n: dockwright build"; tail -5 "$T/dw-$n.log" | sed 's/^/    /'; return
  fi
  if ! buildah bud -q --layers --runtime runc --format oci -t "localhost/bh-$n:1" "$c" > "$T/bh-$n.log" 2>&1; then
    bad "$n: buildah build"; tail -5 "$T/bh-$n.log" | sed 's/^/    /'; return
  fi
  buildah push -q "localhost/bh-$n:1" "oci:$T/bh-$n:1" >/dev/null 2>&1
  umoci unpack --image "$T/dw-$n:1" "$T/dwu-$n" >/dev/null 2>&1
  umoci unpack --image "$T/bh-$n:1" "$T/bhu-$n" >/dev/null 2>&1
  tree_summary "$T/dwu-$n/rootfs" > "$T/dw-$n.tree"
  # buildah leaves /run and the empty /etc files it binds in the image;
  # BuildKit's mount stub cleaner removes /etc/hosts and /etc/resolv.conf
  # (and makes no /run nor /etc/hostname), and so does dockwright.  /dev,
  # /proc, /sys stay in both, as runc made them.
  tree_summary "$T/bhu-$n/rootfs" | grep -Ev '^\./run d |^\./etc/(hostname|hosts|resolv\.conf) f [0-9]+ 0 0 1 e3b0c44298fc1c14' > "$T/bh-$n.tree"
  if diff -u "$T/bh-$n.tree" "$T/dw-$n.tree" > "$T/$n.diff"; then
    ok "$n: same files, modes, owners, links, contents"
  else
    bad "$n: trees differ (buildah -, dockwright +)"; head -30 "$T/$n.diff" | sed 's/^/    /'
  fi
  local fields='{Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal}'
  local blob m
  blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
  m=$(blob "$T/dw-$n" "$(jq -r '.manifests[0].digest' "$T/dw-$n/index.json")")
  jq -S ".config | $fields" "$(blob "$T/dw-$n" "$(jq -r .config.digest "$m")")" > "$T/dw-$n.cfg"
  m=$(blob "$T/bh-$n" "$(jq -r '.manifests[0].digest' "$T/bh-$n/index.json")")
  jq -S ".config | $fields | del(.Labels[\"io.buildah.version\"]) | if .Labels == {} then .Labels = null else . end" "$(blob "$T/bh-$n" "$(jq -r .config.digest "$m")")" > "$T/bh-$n.cfg"
  if diff -u "$T/bh-$n.cfg" "$T/dw-$n.cfg" > "$T/$n.cfgdiff"; then ok "$n: same config"; else bad "$n: configs differ"; sed 's/^/    /' "$T/$n.cfgdiff"; fi
  [[ ${2:-} = same-layers ]] || return 0
  # (buildah folds WORKDIR into the next layer; BuildKit and dockwright
  # give it its own)
  local dl bl
  dl=$(jq '.layers | length' "$(blob "$T/dw-$n" "$(jq -r '.manifests[0].digest' "$T/dw-$n/index.json")")")
  bl=$(jq '.layers | length' "$(blob "$T/bh-$n" "$(jq -r '.manifests[0].digest' "$T/bh-$n/index.json")")")
  check "$n: same number of layers ($bl)" test "$dl" = "$bl"
}

mkdir -p "$T/files"
cat > "$T/files/Dockerfile" <<DF
FROM $REG_plain/busybox:latest
RUN mkdir -p /d/sub /keep /repl && echo one > /d/one && echo two > /d/sub/two && echo k > /keep/k && echo r > /repl/r
RUN echo changed > /d/one && rm /d/sub/two && echo new > /d/new && chmod 600 /keep/k && rm /bin/cat
RUN rm -rf /d/sub && echo now-a-file > /d/sub && rm -rf /repl && mkdir /repl && echo fresh > /repl/fresh
RUN rm /d/sub && mkdir -p /d/sub/again && echo back > /d/sub/again/f
RUN echo data > /h1 && ln /h1 /h2 && ln -s /h1 /abs-link && ln -s ../d/one /keep/rel-link && ln -s dangling /keep/dangling
RUN mkdir /modes && touch /modes/suid /modes/sgid /modes/plain && chmod 4755 /modes/suid && chmod 2755 /modes/sgid && chmod 640 /modes/plain && mkdir /modes/sticky && chmod 1777 /modes/sticky && mkdir /modes/setgid-dir && chmod 2775 /modes/setgid-dir
RUN mkdir /owned && touch /owned/a /owned/b && chown 1000:1000 /owned/a && chown 65534:65534 /owned/b && chown 1000:65534 /owned
RUN mkfifo /fifo && touch /empty && mkdir -p /deep/a/b/c/d && echo x > /deep/a/b/c/d/x
RUN chmod 700 /etc && chmod 755 /etc && touch /etc/touched
DF
compare files same-layers

mkdir -p "$T/env"; echo hello > "$T/env/in.txt"
cat > "$T/env/Dockerfile" <<DF
FROM $REG_plain/busybox:latest
ARG WHO=world
ENV GREETING=hi HOME_DIR=/home/app
WORKDIR /work
COPY in.txt .
RUN echo "\$GREETING \$WHO" > /work/out.txt && cat in.txt >> out.txt
USER app
RUN id > /tmp/id.txt 2>&1; echo "\$(id -u)" > /tmp/uid && mkdir -p /tmp/appdir
USER root
RUN ["/bin/sh", "-c", "echo exec > /exec.txt"]
SHELL ["/bin/sh", "-e", "-c"]
RUN echo shell > /shell.txt
ENTRYPOINT ["/bin/cat"]
CMD ["/work/out.txt"]
DF
compare env

# COPY and WORKDIR destinations looked up through the RUN layers (the
# merged view of extracted layers): symlinks inside the image, a deleted
# directory (whiteout), a directory made again (opaque), users added by a
# RUN for --chown.
mkdir -p "$T/dest/sub"; echo in > "$T/dest/in.txt"; echo s > "$T/dest/sub/s.txt"
cat > "$T/dest/Dockerfile" <<DF
FROM $REG_plain/busybox:latest
RUN mkdir -p /real/dir /gone/x /opq/old && ln -s /real /alink && ln -s real/dir /rlink && echo 'dwuser:x:1234:2345::/home/dw:/bin/sh' >> /etc/passwd && echo 'dwgrp:x:3456:' >> /etc/group
RUN rm -rf /gone && rm -rf /opq && mkdir /opq && touch /opq/new
COPY in.txt /alink/
COPY in.txt /rlink/viasym
COPY in.txt /gone/
COPY sub /opq/old/
COPY sub /opq/
COPY --chown=dwuser in.txt /owned-by-name
COPY --chown=dwuser:dwgrp in.txt /owned-by-names
WORKDIR /alink/dir
COPY in.txt rel-to-workdir
DF
compare dest

# COPY --from a stage read through its layers: what later RUNs deleted
# (whiteouts) or made again (opaque) stays hidden, links are copied as
# links, wildcards match in the merged view.
mkdir -p "$T/fromstage"
cat > "$T/fromstage/Dockerfile" <<DF
FROM $REG_plain/busybox:latest AS src
RUN mkdir -p /out/a /out/gone /out/opq/old && echo 1 > /out/a/f && echo g > /out/gone/g && ln -s a/f /out/link && echo o > /out/opq/old/o
RUN rm -rf /out/gone && rm -rf /out/opq && mkdir /out/opq && echo n > /out/opq/new && echo 2 > /out/a/f2 && rm /out/a/f && echo 3 > /out/a/f
FROM $REG_plain/busybox:latest
COPY --from=src /out /copied/
COPY --from=src /out/a/f* /glob/
COPY --from=src /out/link /via-link
DF
compare fromstage
finish
