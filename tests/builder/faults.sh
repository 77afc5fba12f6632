#!/usr/bin/env bash
# Pushes and pulls through a proxy that injects faults (faultproxy.py):
# a connection dropped in the middle of a blob (upload, download), 500s,
# 429 with Retry-After, a wrong password, a wrong Docker-Content-Digest.
# Transfers complete, resume rather than restart (the proxy counts the
# bytes), and what is stored is intact (skopeo copies it back and checks
# every digest).
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo umoci htpasswd openssl jq curl python3
start_registry plain
start_registry auth auth

# start_proxy NAME UPSTREAM -> PX_<NAME>=127.0.0.1:PORT, rules in
# $T/rules-NAME.json, log in $T/proxy-NAME.log
start_proxy() {
  local name=$1 up=$2 port
  port=$(free_port)
  echo '[]' > "$T/rules-$name.json"
  python3 "$HERE/faultproxy.py" "$port" "$up" "$T/rules-$name.json" "$T/proxy-$name.log" \
    > "$T/proxy-$name.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
  printf -v "PX_$name" '%s' "127.0.0.1:$port"
}
rules() { echo "$2" > "$T/rules-$1.json"; : > "$T/proxy-$1.log"; }
start_proxy p "$REG_plain"
start_proxy a "$REG_auth"

# An image with one 20 MiB layer (random: gzip cannot shrink it), so its
# upload is a 16 MiB PATCH and a PUT of the rest.
mkdir -p "$T/ctx"
head -c $((20 * 1024 * 1024 + 4321)) /dev/urandom > "$T/ctx/big.bin"
printf 'FROM scratch\nCOPY big.bin /big.bin\n' > "$T/ctx/Dockerfile"
digest=$("$DW" build -q -t big:1 "$T/ctx") || { echo "not ok - build"; exit 1; }
layer=$(jq -r '.layers[0].digest' "$DOCKWRIGHT_ROOT/blobs/sha256/${digest#sha256:}")
lsize=$(jq -r '.layers[0].size' "$DOCKWRIGHT_ROOT/blobs/sha256/${digest#sha256:}")

# same_image REF: skopeo copies it back from the registry itself (every
# blob's digest checked) and the manifest is ours, byte for byte
same_image() {
  skopeo copy -q --src-tls-verify=false "docker://$1" "oci:$T/back:x" &&
    [[ $(skopeo inspect --raw --tls-verify=false "docker://$1" | sha256sum | cut -d' ' -f1) = "${digest#sha256:}" ]]
}
# sum FILTER: bytes the proxy counted over the requests jq selects
sum() { jq -s "[.[] | select($1)] | map(.in + .out) | add // 0" "$T/proxy-$2.log"; }
count() { jq -s "[.[] | select($1)] | length" "$T/proxy-$2.log"; }

# 1. upload: the connection drops 1 MiB into the PUT that follows the
# 16 MiB PATCH; the upload resumes at 16 MiB (GET on the upload URL)
rules p '[{"method":"PUT","path":"/blobs/uploads/","action":"drop_request","after":1048576,"times":1}]'
check "push completes over a dropped upload" "$DW" push big:1 "$PX_p/big:1"
cp "$T/last.log" "$T/up.log"
check "the upload resumed at 16 MiB" grep -q "resuming upload of ${layer:0:19} at byte 16777216" "$T/up.log"
check "the upload's status was asked" test "$(count '.method == "GET" and (.path | test("/blobs/uploads/"))' p)" -ge 1
check "the 16 MiB chunk went once (resumed, not restarted)" \
  test "$(count '.method == "PATCH"' p)" -eq 1
up=$(sum '(.method == "PATCH" or .method == "PUT") and (.path | test("/blobs/uploads/"))' p)
check "bytes sent: the layer + the lost MiB + the config, not twice the layer" \
  test "$up" -lt $((lsize + 2 * 1024 * 1024))
check "the stored image is intact (skopeo copy, digests)" same_image "$REG_plain/big:1"

# 2. download: the connection drops 5 MiB into the layer; the pull asks
# for the rest with Range
rules p '[{"method":"GET","path":"/blobs/sha256:","action":"drop_response","after":5242880,"times":1}]'
check "pull completes over a dropped download" "$DW" pull --root "$T/store2" "$PX_p/big:1"
check "the download resumed with a Range request" \
  test "$(count '.method == "GET" and .range == "bytes=5242880-" and .status == 206' p)" -eq 1
down=$(sum '.method == "GET" and (.path | test("/blobs/sha256:"))' p)
check "bytes received: the layer once (+ config), not twice" test "$down" -lt $((lsize + 64 * 1024))
check "the pulled image has our digest" sh -c "'$DW' images -q --root '$T/store2' | grep -qx '$digest'"

# 3. 500s: the HEAD of each blob answers 500 twice, the manifest PUT once
rules p '[{"method":"HEAD","path":"/blobs/","action":"status","status":500,"times":2},
          {"method":"PUT","path":"/manifests/","action":"status","status":503,"times":1}]'
check "push through 500 and 503 answers" "$DW" push big:1 "$PX_p/r500:1"
cp "$T/last.log" "$T/r500.log"
check "the 500s were retried (logged)" grep -q "HTTP 500; retrying in" "$T/r500.log"
check "the manifest PUT was retried" test "$(count '.method == "PUT" and (.path | test("/manifests/"))' p)" -eq 2
check "the image is intact" same_image "$REG_plain/r500:1"

# 4. 429 with Retry-After: 1 on the upload start: it waits that long
rules p '[{"method":"POST","path":"/blobs/uploads/","action":"status","status":429,"code":"TOOMANYREQUESTS","headers":{"Retry-After":"1"},"times":1}]'
start=$(date +%s.%N)
check "push through a 429" "$DW" push big:1 "$PX_p/r429:1"
cp "$T/last.log" "$T/r429.log"
end=$(date +%s.%N)
check "Retry-After was honoured (waited >= 1 s)" python3 -c "import sys; sys.exit(not ($end - $start >= 1.0))"
check "the wait is logged with Retry-After" grep -q "HTTP 429, Retry-After 1; retrying in 1.0 s" "$T/r429.log"
check "the image is intact" same_image "$REG_plain/r429:1"

# 5. a registry that keeps failing: bounded, then one clear error
rules p '[{"method":"HEAD","path":"/blobs/","action":"status","status":503,"times":1000}]'
start=$(date +%s)
"$DW" push big:1 "$PX_p/down:1" > "$T/down.log" 2>&1 && bad "a registry always answering 503 fails the push" || ok "a registry always answering 503 fails the push"
end=$(date +%s)
check "the error names the registry and the repository" grep -q "check blob sha256:.* in $PX_p/down: HTTP 503.*after 6 tries" "$T/down.log"
check "six tries per blob, no more" test "$(count '.method == "HEAD"' p)" -le 12
check "bounded in time (< 30 s)" test $((end - start)) -lt 30

# 6. a wrong password: one clear error, no retry storm
rules a '[]'
printf '{"auths":{"%s":{"auth":"%s"}}}' "$PX_a" "$(printf tester:wrong | base64)" > "$DOCKER_CONFIG/config.json"
"$DW" push big:1 "$PX_a/big:1" > "$T/wrong.log" 2>&1 && bad "a wrong password fails" || ok "a wrong password fails"
check "one error line naming the registry" test "$(grep -c "refused the credentials" "$T/wrong.log")" -eq 1
check "no retries" sh -c "! grep -q retrying '$T/wrong.log'"
check "a handful of requests, not a storm" test "$(count 'true' a)" -le 6
check "no password in the output" sh -c "! grep -q wrong '$T/wrong.log'"
echo '{}' > "$DOCKER_CONFIG/config.json"

# 7. registry errors are named: an unknown repository, a denied push
rules p '[]'
"$DW" pull --root "$T/store3" "$PX_p/nosuch/repo:1" > "$T/unknown.log" 2>&1
check "NAME_UNKNOWN / MANIFEST_UNKNOWN named with image and registry" \
  grep -Eq "get manifest 1 in $PX_p/nosuch/repo: (NAME|MANIFEST)_UNKNOWN" "$T/unknown.log"
rules p '[{"method":"POST","path":"/blobs/uploads/","action":"status","status":403,"code":"DENIED","times":100}]'
"$DW" push big:1 "$PX_p/denied:1" > "$T/denied.log" 2>&1
check "DENIED named, and not retried" sh -c "grep -q 'start upload of sha256:.* in $PX_p/denied: DENIED' '$T/denied.log' && ! grep -q retrying '$T/denied.log'"
check "one POST per blob: a 403 is final" test "$(count '.method == "POST"' p)" -le 2

# 8. the manifest PUT's Docker-Content-Digest must be ours
rules p '[{"method":"PUT","path":"/manifests/","action":"set_header","headers":{"Docker-Content-Digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"},"times":1}]'
"$DW" push big:1 "$PX_p/lie:1" > "$T/lie.log" 2>&1 && bad "a wrong Docker-Content-Digest fails the push" || ok "a wrong Docker-Content-Digest fails the push"
check "and says what the registry stored" grep -q "the registry stored sha256:0000" "$T/lie.log"
finish
