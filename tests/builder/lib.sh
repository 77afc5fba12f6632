# lib.sh - shared helpers for the builder's integration tests (sourced).
# Each test gets a private directory ($T), starts what it needs on free
# loopback ports and stops it on exit.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DW=${DW:-$REPO/build/dockwright}
T=$(mktemp -d /tmp/dw-test.XXXXXX)
export DOCKWRIGHT_ROOT=$T/store
export DOCKER_CONFIG=$T/docker-config
mkdir -p "$DOCKER_CONFIG"
PIDS=()
PASS=0 FAIL=0

cleanup() {
  for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [[ ${KEEP:-0} = 1 ]] || rm -rf "$T"
}
trap cleanup EXIT

need() { # tool...
  for t in "$@"; do
    if ! command -v "$t" >/dev/null; then
      echo "SKIP: $t is not installed (tools/setup.sh installs it)"
      exit 77
    fi
  done
}

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { # description command...
  local d=$1; shift
  if "$@" >"$T/last.log" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/    /' "$T/last.log" | tail -20; fi
}
finish() {
  echo "# $PASS passed, $FAIL failed"
  [[ $FAIL -eq 0 ]]
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_registry NAME [auth|tls|token] -> sets REG_<NAME>=127.0.0.1:PORT
# (token: also TOKEN_LOG_<NAME>, the token service's request log)
start_registry() {
  local name=$1 mode=${2:-plain} port dir extra=""
  port=$(free_port)
  dir=$T/registry-$name
  mkdir -p "$dir/data"
  if [[ $mode = auth ]]; then
    htpasswd -Bbn tester testpass > "$dir/htpasswd"
    extra="auth:
  htpasswd:
    realm: test-realm
    path: $dir/htpasswd"
  fi
  if [[ $mode = token ]]; then
    # Bearer: a token service (tokenserver.py) signs JWTs the registry
    # checks against the service's certificate
    local tport; tport=$(free_port)
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dw-test-token \
      -keyout "$dir/token.key" -out "$dir/token.crt" 2>/dev/null
    python3 "$HERE/tokenserver.py" "$dir" "$tport" tester testpass > "$dir/token.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$tport/token" && break; sleep 0.1; done
    extra="auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: dw-test-registry
    issuer: dw-test-issuer
    rootcertbundle: $dir/token.crt"
    printf -v "TOKEN_LOG_$name" '%s' "$dir/token.log"
  fi
  cat > "$dir/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: dockwright-test
$extra
YML
  local scheme=http curlopt=()
  if [[ $mode = tls ]]; then
    # a test CA signs the registry's certificate
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dw-test-ca \
      -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
      -keyout "$dir/key.pem" -out "$dir/req.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$dir/ext"
    openssl x509 -req -in "$dir/req.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
      -CAcreateserial -days 2 -extfile "$dir/ext" -out "$dir/cert.pem" 2>/dev/null
    sed -i "/^  secret:/a\\  tls:\\n    certificate: $dir/cert.pem\\n    key: $dir/key.pem" "$dir/config.yml"
    mkdir -p "$T/certs.d/127.0.0.1:$port"
    cp "$dir/ca.crt" "$T/certs.d/127.0.0.1:$port/ca.crt"
    export DOCKWRIGHT_CERTS_DIR=$T/certs.d
    scheme=https curlopt=(--cacert "$dir/ca.crt")
  fi
  docker-registry serve "$dir/config.yml" > "$dir/log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    curl -s "${curlopt[@]}" -o /dev/null "$scheme://127.0.0.1:$port/v2/" && break
    sleep 0.1
  done
  printf -v "REG_$name" '%s' "127.0.0.1:$port"
}

# make_busybox REGISTRY -> pushes REGISTRY/busybox:latest (offline: the
# busybox-static binary, umoci, skopeo)
make_busybox() {
  local reg=$1 oci=$T/bb-oci b=$T/bb-bundle r
  umoci init --layout "$oci" >/dev/null
  umoci new --image "$oci:busybox" >/dev/null
  umoci unpack --image "$oci:busybox" "$b" >/dev/null
  r=$b/rootfs
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,var/tmp,home}
  chmod 1777 "$r/tmp" "$r/var/tmp"
  cp /bin/busybox "$r/bin/busybox"
  for a in sh ls cat echo true; do ln -sf busybox "$r/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\napp:x:1000:\n' > "$r/etc/group"
  umoci repack --image "$oci:busybox" "$b" >/dev/null
  umoci config --image "$oci:busybox" --config.cmd /bin/sh \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --architecture amd64 --os linux >/dev/null
  umoci gc --layout "$oci"
  skopeo copy -q --dest-tls-verify=false "oci:$oci:busybox" "docker://$reg/busybox:latest"
}

# Summarise an unpacked rootfs: path type mode uid gid target/size+hash
tree_summary() { # DIR
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
    if [[ -L $p ]]; then
      printf '%s l %s %s %s\n' "$p" "$(stat -c '%u %g' "$p")" "-" "$(readlink "$p")"
    elif [[ -p $p ]]; then
      printf '%s p %s\n' "$p" "$(stat -c '%a %u %g' "$p")"
    elif [[ -d $p ]]; then
      printf '%s d %s %s\n' "$p" "$(stat -c '%a %u %g' "$p")" "-"
    else
      printf '%s f %s %s %s\n' "$p" "$(stat -c '%a %u %g %h' "$p")" "$(sha256sum < "$p" | cut -c1-16)"
    fi
  done)
}
