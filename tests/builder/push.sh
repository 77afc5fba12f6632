#!/usr/bin/env bash
# build --push; several blobs at once (--max-concurrent-uploads/-downloads,
# seen by a counting proxy); cross-repository mounts (plain and Bearer);
# --progress tty/plain/quiet.
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo openssl jq curl python3
start_registry plain
start_registry tok token

port=$(free_port)
echo '[]' > "$T/rules.json"
python3 "$HERE/faultproxy.py" "$port" "$REG_plain" "$T/rules.json" "$T/proxy.log" > "$T/proxy.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
PX=127.0.0.1:$port
maxin() { jq -s "[.[] | select($1) | .inflight] | max // 0" "$T/proxy.log"; }
count() { jq -s "[.[] | select($1)] | length" "$T/proxy.log"; }

# five layers of 3 MiB (random: they stay 3 MiB)
mkdir -p "$T/ctx"
: > "$T/ctx/Dockerfile"
echo 'FROM scratch' > "$T/ctx/Dockerfile"
for i in 1 2 3 4 5; do
  head -c $((3 * 1024 * 1024)) /dev/urandom > "$T/ctx/f$i"
  echo "COPY f$i /f$i" >> "$T/ctx/Dockerfile"
done

"$DW" build --push "$T/ctx" > "$T/nopush.log" 2>&1 && bad "--push without -t is refused" || ok "--push without -t is refused"
check "build --push -t pushes (plain progress)" sh -c "'$DW' build --push --progress=plain -t '$PX/app:1' '$T/ctx' > '$T/digest' 2> '$T/plain.log'"
digest=$(cat "$T/digest")
check "the registry has the image, same digest" \
  sh -c "[ \"\$(skopeo inspect --raw --tls-verify=false docker://$REG_plain/app:1 | sha256sum | cut -d' ' -f1)\" = '${digest#sha256:}' ]"
check "skopeo copies it back (digests verified)" skopeo copy -q --src-tls-verify=false "docker://$REG_plain/app:1" "oci:$T/back:1"
check "plain progress: a line per blob at 100%" test "$(grep -c '^  push sha256:.* 100% ' "$T/plain.log")" -ge 6
check "plain progress: no terminal codes" sh -c "! grep -q $'\033' '$T/plain.log'"
check "the push is reported" grep -q "pushed $PX/app:1 $digest" "$T/plain.log"
check "blobs went up at once (default 4)" test "$(maxin '.method == "PUT" or .method == "PATCH"')" -ge 2

: > "$T/proxy.log"
check "push --max-concurrent-uploads 1" "$DW" push --max-concurrent-uploads 1 "$PX/app:1" "$PX/one:1"
check "one blob at a time" test "$(maxin 'true')" -eq 1

# mounts: the store knows the blobs are in app (pushed there)
: > "$T/proxy.log"
check "push to another repository" sh -c "'$DW' push '$PX/app:1' '$PX/other:1' > '$T/mount.log' 2>&1"
check "the blobs were mounted from app" test "$(grep -c "mounted sha256:.* from $PX/app" "$T/mount.log")" -ge 5
check "mount requests answered 201" test "$(count '.method == "POST" and (.path | test("mount=sha256")) and .status == 201')" -ge 5
check "no blob bytes uploaded" test "$(count '.method == "PUT" and (.path | test("/blobs/"))')" -eq 0
check "the mounted image is intact" skopeo copy -q --src-tls-verify=false "docker://$REG_plain/other:1" "oci:$T/back2:1"

# a pulled image's blobs are known in its source repository
: > "$T/proxy.log"
check "pull --max-concurrent-downloads 1 into a fresh store" "$DW" pull --root "$T/s2" --max-concurrent-downloads 1 "$PX/app:1"
check "one download at a time" test "$(maxin '.method == "GET"')" -eq 1
: > "$T/proxy.log"
check "pull with the default" "$DW" pull --root "$T/s3" "$PX/other:1"
check "downloads at once" test "$(maxin '.method == "GET" and (.path | test("/blobs/"))')" -ge 2
check "push from the pulled store mounts from where it came from" \
  sh -c "'$DW' push --root '$T/s3' '$PX/other:1' '$PX/third:1' 2>&1 | grep -q 'mounted sha256:.* from $PX/other'"

# Bearer: the token asks pull on the source repository too
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_tok" "$(printf tester:testpass | base64)" > "$DOCKER_CONFIG/config.json"
check "push to a token registry" "$DW" push "$PX/app:1" "$REG_tok/src:1"
check "push to another repository there" sh -c "'$DW' push '$PX/app:1' '$REG_tok/dst:1' > '$T/tokmount.log' 2>&1"
check "mounted from src" grep -q "mounted sha256:.* from $REG_tok/src" "$T/tokmount.log"
check "the token scope asked pull on src and push on dst" \
  jq -se 'any(.[]; .authed and ((.scope | index("repository:dst:pull,push")) != null) and ((.scope | index("repository:src:pull")) != null))' "$TOKEN_LOG_tok"

# tty progress: bars redrawn in place, a total with the rate
mkdir -p "$T/ctx2"
head -c $((6 * 1024 * 1024)) /dev/urandom > "$T/ctx2/big"
printf 'FROM scratch\nCOPY big /big\n' > "$T/ctx2/Dockerfile"
check "--progress=tty draws bars" sh -c "'$DW' build --push --progress=tty -t '$PX/tty:1' '$T/ctx2' 2> '$T/tty.log' > /dev/null"
check "tty: cursor moved up and lines cleared" grep -q $'\033\\[[0-9]*A\033\\[J' "$T/tty.log"
check "tty: a total line with the rate" grep -Eq 'total .* / .*, .*/s' "$T/tty.log"
check "--progress=quiet prints no progress" sh -c "'$DW' push --progress=quiet '$PX/app:1' '$PX/q:1' 2> '$T/q.log' > /dev/null && ! grep -q 'push sha256\|total' '$T/q.log'"
"$DW" push --progress=loud "$PX/app:1" > "$T/bad.log" 2>&1 && bad "--progress=loud is refused" || ok "--progress=loud is refused"
finish
