#!/usr/bin/env bash
# Differential test against buildah (--runtime runc, vfs storage): the same
# Dockerfiles without RUN, both images unpacked with umoci; same files,
# modes, owners, symlinks, hardlinks and the same config.
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo umoci buildah runc jq
start_registry plain
make_busybox "$REG_plain" || exit 1
# buildah's own configuration, private to this test
mkdir -p "$T/conf"; echo "{}" > "$DOCKER_CONFIG/config.json"
cat > "$T/conf/registries.conf" <<CONF
[[registry]]
location = "$REG_plain"
insecure = true
CONF
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n' "$T/bstore" "$T/brun" > "$T/conf/storage.conf"
printf '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$T/conf/containers.conf"
export CONTAINERS_REGISTRIES_CONF=$T/conf/registries.conf CONTAINERS_STORAGE_CONF=$T/conf/storage.conf CONTAINERS_CONF=$T/conf/containers.conf
export BUILDAH_ISOLATION=chroot

C=$T/ctx; mkdir -p "$C/tree/deep/er" "$C/other"
echo one > "$C/tree/one"; echo two > "$C/tree/deep/two"; chmod 700 "$C/tree/deep"
echo x > "$C/tree/deep/er/x"; chmod 750 "$C/tree/deep/er/x"
ln -s one "$C/tree/sym"; ln -s /etc/passwd "$C/tree/abs"; ln "$C/tree/one" "$C/tree/hard"
echo o > "$C/other/a.txt"; echo p > "$C/other/b.md"; echo skip > "$C/skip.tmp"
printf '*.tmp\n' > "$C/.dockerignore"
cat > "$C/Dockerfile" <<DF
FROM $REG_plain/busybox:latest AS first
COPY tree /first/
FROM $REG_plain/busybox:latest
ARG V=2
ENV A=1 B="two words" V=\$V
LABEL l1=a l2="b c"
COPY tree /t/
COPY other/*.txt /w/
COPY --from=first /first/one /fromstage/one
COPY --chown=1000:1000 tree/one /owned/
ADD tree/deep /added/
WORKDIR /work/dir
USER 1000:1000
EXPOSE 80 443/tcp 53/udp
VOLUME ["/vol"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=5s CMD /bin/true
ONBUILD LABEL child=yes
ENTRYPOINT ["/bin/echo"]
CMD ["hi"]
DF
check "dockwright build (oci)" "$DW" build -q -t diff:1 --output "type=oci,dest=$T/dw-oci" "$C"
check "dockwright build (docker)" "$DW" build -q --format docker -t diff:1 --output "type=oci,dest=$T/dw-docker" "$C"
check "buildah build" buildah bud -q --format docker --layers=false -t localhost/diff:1 "$C"
check "buildah push to layout" buildah push -q localhost/diff:1 "oci:$T/bh-oci:1"
umoci unpack --image "$T/dw-oci:1" "$T/dw" >/dev/null 2>&1
umoci unpack --image "$T/bh-oci:1" "$T/bh" >/dev/null 2>&1
tree_summary "$T/dw/rootfs" > "$T/dw.tree"
tree_summary "$T/bh/rootfs" > "$T/bh.tree"
if diff -u "$T/bh.tree" "$T/dw.tree" > "$T/tree.diff"; then ok "same files, modes, owners, links"; else bad "filesystems differ (buildah -, dockwright +)"; head -40 "$T/tree.diff" | sed 's/^/    /'; fi
fields='{Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal, Healthcheck, OnBuild}'
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
m=$(blob "$T/dw-docker" "$(jq -r '.manifests[0].digest' "$T/dw-docker/index.json")")
jq -S ".config | $fields" "$(blob "$T/dw-docker" "$(jq -r .config.digest "$m")")" > "$T/dw.cfg"
# (buildah writes Healthcheck and OnBuild only in the docker format, and
# labels every image with its version)
buildah inspect --type image localhost/diff:1 | jq -S ".Docker.config | $fields | del(.Labels[\"io.buildah.version\"])" > "$T/bh-merged.cfg"
if diff -u "$T/bh-merged.cfg" "$T/dw.cfg" > "$T/cfg.diff"; then ok "same config"; else bad "configs differ (buildah -, dockwright +)"; sed 's/^/    /' "$T/cfg.diff"; fi
finish
