#!/usr/bin/env bash
# The Flask example end to end, on a fresh machine:
#   1. a docker-registry on a free loopback port;
#   2. a Debian bookworm base made with debootstrap (minbase, from this
#      machine's Debian mirror; kept for later runs), packed with umoci and
#      pushed there;
#   3. dockwright build of examples/flask (apt-get runs inside RUN), and a
#      push of the result to the registry;
#   4. podman runs the image (runc, host network) and curl asks it for /.
# Everything lives under $DOCKWRIGHT_DEMO_DIR (default /var/tmp/dockwright-
# flask); nothing under /etc is changed.  Needs root (debootstrap, podman).
# A rerun reuses the base, the build cache and the registry's port.  What
# happened is written to $W/last-run (shell assignments; tools/main.sh
# prints its summary from it); tools/clean.sh removes the directory.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DW=${DW:-$REPO/build/dockwright}
W=${DOCKWRIGHT_DEMO_DIR:-/var/tmp/dockwright-flask}
mkdir -p "$W"
PIDS=()
CONTAINER=dockwright-flask-$$
cleanup() {
  podman rm -f -t 0 "$CONTAINER" >/dev/null 2>&1 || true
  for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
say() { printf '== %s\n' "$*"; }
RESULT=$W/last-run
rm -f "$RESULT"
result() { # NAME VALUE: one line of $RESULT
  printf '%s=%q\n' "$1" "$2" >>"$RESULT"
}
t=$SECONDS
took() { # NAME: the seconds since the last call, as NAME_s in $RESULT
  result "${1}_s" $((SECONDS - t))
  t=$SECONDS
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root (debootstrap, podman)" >&2; exit 1; }

# 1. the registry -----------------------------------------------------------
# the port of the last run when it is free (the image's name stays the same)
mkdir -p "$W/registry"
port=$(cat "$W/registry/port" 2>/dev/null || true)
[[ -n $port ]] && python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null || port=$(free_port)
echo "$port" >"$W/registry/port"
REG=127.0.0.1:$port
cat > "$W/registry/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $W/registry/data
http:
  addr: $REG
YML
docker-registry serve "$W/registry/config.yml" > "$W/registry/log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.1; done
say "registry on $REG"

# 2. the Debian base --------------------------------------------------------
ROOTFS=$W/debian-rootfs
if [[ ! -x $ROOTFS/usr/bin/apt-get ]]; then
  # the mirror this machine's apt uses (either layout) or $DOCKWRIGHT_MIRROR
  source "$REPO/tools/lib/mirror.sh"
  MIRROR=$(mirror_debian) || exit 1
  SECURITY=$(mirror_security) || exit 1
  say "debootstrap --variant=minbase bookworm ($MIRROR)"
  rm -rf "$ROOTFS" "$ROOTFS.tmp"
  debootstrap --variant=minbase bookworm "$ROOTFS.tmp" "$MIRROR" > "$W/debootstrap.log" 2>&1 \
    || { tail -20 "$W/debootstrap.log"; exit 1; }
  cat > "$ROOTFS.tmp/etc/apt/sources.list" <<SL
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
SL
  # the security archive only if this machine uses one
  [[ -z $SECURITY ]] || echo "deb $SECURITY bookworm-security main" >>"$ROOTFS.tmp/etc/apt/sources.list"
  rm -rf "$ROOTFS.tmp"/var/cache/apt/archives/*.deb "$ROOTFS.tmp"/var/lib/apt/lists/*
  : > "$ROOTFS.tmp/etc/resolv.conf"
  echo debian > "$ROOTFS.tmp/etc/hostname"
  mv "$ROOTFS.tmp" "$ROOTFS"
fi
OCI=$W/oci
if [[ ! -f $OCI/index.json ]] || ! umoci stat --image "$OCI:debian" >/dev/null 2>&1; then
  say "packing the base with umoci"
  rm -rf "$OCI" "$W/bundle"
  umoci init --layout "$OCI"
  umoci new --image "$OCI:debian"
  umoci unpack --image "$OCI:debian" "$W/bundle" >/dev/null
  rmdir "$W/bundle/rootfs" && mv "$ROOTFS" "$W/bundle/rootfs"
  umoci repack --image "$OCI:debian" "$W/bundle" || { mv "$W/bundle/rootfs" "$ROOTFS"; exit 1; }
  mv "$W/bundle/rootfs" "$ROOTFS"
  rm -rf "$W/bundle"
  umoci config --image "$OCI:debian" --config.cmd bash \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --architecture amd64 --os linux
  umoci gc --layout "$OCI"
fi
skopeo copy -q --dest-tls-verify=false "oci:$OCI:debian" "docker://$REG/debian:bookworm"
say "pushed $REG/debian:bookworm"
result registry "$REG"
took base

# 3. the build --------------------------------------------------------------
export DOCKWRIGHT_ROOT=${DOCKWRIGHT_ROOT:-$W/store}
say "dockwright build examples/flask"
IMAGE=$REG/flask:latest
"$DW" build --build-arg "BASE=$REG/debian:bookworm" -t "$IMAGE" "$HERE"
say "built in $((SECONDS - t)) s"
result image "$IMAGE"
took build
pushed=$("$DW" push "$IMAGE")
say "pushed $pushed"
result digest "${pushed##* }"
result size "$("$DW" images | awk -v i="$IMAGE" '$1 == i {print $3}')"
took push

# 4. podman run + a request -------------------------------------------------
C=$W/containers; mkdir -p "$C"
cat > "$C/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
cat > "$C/registries.conf" <<CONF
[[registry]]
location = "$REG"
insecure = true
CONF
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$W/podman-storage" "$W/podman-run" > "$C/storage.conf"
export CONTAINERS_CONF=$C/containers.conf CONTAINERS_REGISTRIES_CONF=$C/registries.conf CONTAINERS_STORAGE_CONF=$C/storage.conf
hport=$(free_port)
say "podman run $REG/flask:latest (host network, port $hport)"
podman run -q -d --name "$CONTAINER" --network=host -e "FLASK_RUN_PORT=$hport" "$REG/flask:latest" >/dev/null
reply="" url=http://127.0.0.1:$hport/
for _ in $(seq 100); do
  reply=$(curl -fsS -w 'HTTP %{http_code}: ' -o "$W/reply" "$url" 2>/dev/null) && break
  reply=""
  sleep 0.2
done
if [[ -z $reply ]]; then
  podman logs "$CONTAINER" | tail -20
  echo "flask did not answer" >&2
  exit 1
fi
reply+=$(cat "$W/reply")
say "GET $url -> $reply"
result http "GET $url -> $reply"
took run
