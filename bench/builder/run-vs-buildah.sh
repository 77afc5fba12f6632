#!/usr/bin/env bash
# RUN and the build cache, side by side with buildah (--layers, overlay
# storage, runc), on the busybox example and on examples/flask:
#   cold build (empty store: base pulled from the local registry, every
#   RUN executed), fully cached rebuild, rebuild after editing one source
#   file (greeting.txt / app.py).
# The Debian base comes from examples/flask/run.sh's OCI layout (run that
# once first).  Figures, not tests.  Usage: bench/builder/run-vs-buildah.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DW=${DW:-$PWD/build/dockwright}
W=${BENCH_DIR:-/tmp/dw-bench-run}
DEMO=${DOCKWRIGHT_DEMO_DIR:-/var/tmp/dockwright-flask}
RUNS=${RUNS:-5}
[[ -f $DEMO/oci/index.json ]] || { echo "run examples/flask/run.sh first (it makes the Debian base)" >&2; exit 1; }
rm -rf "$W"; mkdir -p "$W"
PIDS=()
trap 'for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null; done' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
REG=127.0.0.1:$port
printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' "$W/reg" "$REG" > "$W/reg.yml"
docker-registry serve "$W/reg.yml" > "$W/reg.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci:$DEMO/oci:debian" "docker://$REG/debian:bookworm"
# busybox base (as tests/builder/lib.sh makes it)
B=$W/bb; umoci init --layout "$B/oci" >/dev/null; umoci new --image "$B/oci:bb" >/dev/null
umoci unpack --image "$B/oci:bb" "$B/bundle" >/dev/null
mkdir -p "$B/bundle/rootfs"/{bin,etc,tmp}; cp /bin/busybox "$B/bundle/rootfs/bin/"; ln -s busybox "$B/bundle/rootfs/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$B/bundle/rootfs/etc/passwd"; printf 'root:x:0:\n' > "$B/bundle/rootfs/etc/group"
umoci repack --image "$B/oci:bb" "$B/bundle" >/dev/null
umoci config --image "$B/oci:bb" --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --architecture amd64 --os linux >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$B/oci:bb" "docker://$REG/busybox:latest"

mkdir -p "$W/ctx-bb" "$W/ctx-flask"
echo "hello from COPY" > "$W/ctx-bb/greeting.txt"
cat > "$W/ctx-bb/Dockerfile" <<DF
FROM $REG/busybox:latest
RUN echo hi > /hi
COPY greeting.txt /app/greeting.txt
ENV GREETING=world APP_HOME=/app
WORKDIR /app
ENTRYPOINT ["/bin/sh", "-c", "cat /hi /app/greeting.txt; echo \$GREETING; pwd"]
DF
cp examples/flask/app.py "$W/ctx-flask/"
sed "s|^ARG BASE=.*|ARG BASE=$REG/debian:bookworm|" examples/flask/Dockerfile > "$W/ctx-flask/Dockerfile"

# buildah's private configuration
mkdir -p "$W/conf"
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REG" > "$W/conf/registries.conf"
printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' "$W/bstore" "$W/brun" > "$W/conf/storage.conf"
printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$W/conf/containers.conf"
export CONTAINERS_REGISTRIES_CONF=$W/conf/registries.conf CONTAINERS_STORAGE_CONF=$W/conf/storage.conf CONTAINERS_CONF=$W/conf/containers.conf
export BUILDAH_ISOLATION=oci BUILDAH_RUNTIME=runc
export DOCKWRIGHT_ROOT=$W/store

dwb() { "$DW" build -q -t "$1" "${@:3}" "$2" >/dev/null; }
bhb() { buildah bud -q --layers --runtime runc -t "$1" "${@:3}" "$2" >/dev/null; }
secs() { local s; s=$(date +%s.%N); "$@"; echo "$(date +%s.%N) - $s" | bc; }
hf() { # name command... -> mean seconds
  local n=$1; shift
  hyperfine -N -w 1 -r "$RUNS" --export-json "$W/hf.json" "$@" >/dev/null 2>&1
  jq -r '.results[0].mean' "$W/hf.json"
}
hf_prep() { # prepare command -> mean seconds
  hyperfine -w 1 -r "$RUNS" --prepare "$1" --export-json "$W/hf.json" "$2" >/dev/null 2>&1
  jq -r '.results[0].mean' "$W/hf.json"
}
row() { printf '| %-34s | %8.3f s | %8.3f s | %5.2f |\n' "$1" "$2" "$3" "$(echo "$2 / $3" | bc -l)"; }

echo "| | dockwright | buildah | ratio |"
echo "|---|---|---|---|"
# busybox: cold (empty stores every run)
dc=$(hf_prep "rm -rf $W/store" "$DW build -q -t bb:1 $W/ctx-bb")
bc_=$(hf_prep "buildah rmi -a -f >/dev/null 2>&1 || true" "buildah bud -q --layers --runtime runc -t bb:1 $W/ctx-bb")
row "busybox cold" "$dc" "$bc_"
dwb bb:1 "$W/ctx-bb"; bhb bb:1 "$W/ctx-bb"
row "busybox cached rebuild" "$(hf x "$DW build -q -t bb:1 $W/ctx-bb")" "$(hf x "buildah bud -q --layers --runtime runc -t bb:1 $W/ctx-bb")"
row "busybox after editing greeting.txt" \
  "$(hf_prep "date +%s%N >> $W/ctx-bb/greeting.txt" "$DW build -q -t bb:1 $W/ctx-bb")" \
  "$(hf_prep "date +%s%N >> $W/ctx-bb/greeting.txt" "buildah bud -q --layers --runtime runc -t bb:1 $W/ctx-bb")"
# flask cold: apt-get inside, so network-bound: the Debian mirror's
# latency can swing by tens of seconds from run to run (the spread is
# printed).  Straight from the mirror, one unmeasured build each to warm
# it; FLASK_RUNS cold builds each, alternating which goes first; medians.
# FLASK_PROXY=1 adds a row through a local caching proxy
# (bench/builder/pkgcache.py, given to both as BuildKit's predefined
# http_proxy build arg).  Not the default: buildah's RUN reaches it
# through its bridge network and was 17 s slower that way than from the
# mirror (dockwright 4 s), so that row favours dockwright.
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
FLASK_ARGS=()
flask_cold() { # which -> seconds
  rm -rf "$W/store"; buildah rmi -a -f >/dev/null 2>&1 || true
  if [[ $1 == dw ]]; then secs dwb flask:1 "$W/ctx-flask" "${FLASK_ARGS[@]}"
  else secs bhb flask:1 "$W/ctx-flask" "${FLASK_ARGS[@]}"; fi
}
FLASK_RUNS=${FLASK_RUNS:-5}
flask_rows() { # label
  flask_cold dw >/dev/null; flask_cold bh >/dev/null
  local fds=() fbs=() fd fb
  for ((i = 0; i < FLASK_RUNS; i++)); do
    if ((i % 2)); then fbs+=("$(flask_cold bh)"); fds+=("$(flask_cold dw)")
    else fds+=("$(flask_cold dw)"); fbs+=("$(flask_cold bh)"); fi
  done
  fd=$(printf '%s\n' "${fds[@]}" | median); fb=$(printf '%s\n' "${fbs[@]}" | median)
  row "flask cold, $1, median of $FLASK_RUNS" "$fd" "$fb"
  echo "  (flask cold runs, $1: dockwright ${fds[*]}; buildah ${fbs[*]})" >&2
}
flask_rows "packages from the mirror"
if [[ ${FLASK_PROXY:-0} = 1 ]]; then
  python3 bench/builder/pkgcache.py "$W/pkgcache" "$W/pkgcache.port" & PIDS+=($!)
  for _ in $(seq 50); do [[ -s $W/pkgcache.port ]] && break; sleep 0.1; done
  HOST_IP=$(hostname -I | awk '{print $1}')   # reachable from buildah's bridge too
  FLASK_ARGS=(--build-arg "http_proxy=http://$HOST_IP:$(cat "$W/pkgcache.port")")
  flask_rows "packages from a local caching proxy"
  FLASK_ARGS=()
fi
# both stores hold the image now (flask_cold leaves each one built)
dwb flask:1 "$W/ctx-flask"; bhb flask:1 "$W/ctx-flask"
row "flask cached rebuild" "$(hf x "$DW build -q -t flask:1 $W/ctx-flask")" "$(hf x "buildah bud -q --layers --runtime runc -t flask:1 $W/ctx-flask")"
row "flask after editing app.py" \
  "$(hf_prep "echo '# '\$(date +%s%N) >> $W/ctx-flask/app.py" "$DW build -q -t flask:1 $W/ctx-flask")" \
  "$(hf_prep "echo '# '\$(date +%s%N) >> $W/ctx-flask/app.py" "buildah bud -q --layers --runtime runc -t flask:1 $W/ctx-flask")"
