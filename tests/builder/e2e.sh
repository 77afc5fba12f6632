#!/usr/bin/env bash
# The vertical slice: FROM busybox (local registry) -> COPY -> config ->
# OCI layout read by umoci and skopeo -> push to plain, Basic-auth and TLS
# registries -> pull back; images/rmi/prune.
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo umoci htpasswd openssl busybox jq curl
start_registry plain
start_registry auth auth
start_registry tls tls
make_busybox "$REG_plain" || { echo "cannot make busybox"; exit 1; }

C=$T/ctx; mkdir -p "$C/dir/sub"
echo "hello from COPY" > "$C/greeting.txt"
echo a > "$C/dir/a.txt"; echo b > "$C/dir/sub/b.txt"; chmod 751 "$C/dir/sub/b.txt"
ln -s a.txt "$C/dir/link"; ln "$C/dir/a.txt" "$C/dir/hard"
echo secret > "$C/ignored.log"; printf '*.log\n' > "$C/.dockerignore"
cat > "$C/Dockerfile" <<DF
ARG BASE=$REG_plain/busybox
FROM \$BASE AS base
LABEL org.example.stage=base
FROM base
ARG WHO=world
ENV GREETING=hello APP_HOME=/app
COPY greeting.txt /app/greeting.txt
COPY dir /app/dir/
COPY --chown=app:app --chmod=640 greeting.txt /app/owned.txt
COPY <<EOT /app/heredoc.txt
hi \$WHO
EOT
WORKDIR /app/work
USER app
EXPOSE 8080 53/udp
VOLUME /data
LABEL version=1.0 "who"=\$WHO
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --retries=2 CMD ["/bin/true"]
ONBUILD COPY greeting.txt /onbuild.txt
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/greeting.txt"]
DF
out=$T/out
check "build with --output type=oci" \
  "$DW" build -q -t "$REG_plain/e2e:v1" --output "type=oci,dest=$out" "$C"
check "index.json names the tag" \
  sh -c "jq -e '.manifests[0].annotations[\"org.opencontainers.image.ref.name\"] == \"v1\"' $out/index.json"
check "umoci unpack" umoci unpack --rootless --image "$out:v1" "$T/bundle"
R=$T/bundle/rootfs
check "COPY file" grep -qx "hello from COPY" "$R/app/greeting.txt"
check "COPY dir contents" test -f "$R/app/dir/sub/b.txt" -a -f "$R/app/dir/a.txt"
check "symlink kept" test "$(readlink "$R/app/dir/link")" = a.txt
check ".dockerignore applied" test ! -e "$R/app/ignored.log"
check "mode kept" test "$(stat -c %a "$R/app/dir/sub/b.txt")" = 751
check "--chmod" test "$(stat -c %a "$R/app/owned.txt")" = 640
check "heredoc expanded" grep -qx "hi world" "$R/app/heredoc.txt"
check "WORKDIR created" test -d "$R/app/work"
check "base files present" test -x "$R/bin/busybox"
check "hardlink kept" sh -c "tar -tvzf $out/blobs/sha256/\$(jq -r '.layers[-4].digest' $out/blobs/sha256/\$(jq -r '.manifests[0].digest' $out/index.json | cut -d: -f2) | cut -d: -f2) | grep -q 'app/dir/hard link to app/dir/a.txt'"
check "skopeo inspect (layout)" skopeo inspect "oci:$out:v1"
skopeo inspect --raw --config "oci:$out:v1" > "$T/config.json"
check "config readable" test -s "$T/config.json"
check "config Env" jq -e '.config.Env | index("GREETING=hello") != null' "$T/config.json"
check "config User/WorkingDir" jq -e '.config.User == "app" and .config.WorkingDir == "/app/work"' "$T/config.json"
check "config ExposedPorts" jq -e '.config.ExposedPorts | has("8080/tcp") and has("53/udp")' "$T/config.json"
check "config Labels (base + own)" jq -e '.config.Labels["org.example.stage"] == "base" and .config.Labels.who == "world"' "$T/config.json"
check "config Entrypoint/Cmd" jq -e '.config.Entrypoint == ["/bin/sh","-c"] and .config.Cmd == ["cat /app/greeting.txt"]' "$T/config.json"
check "config Healthcheck" jq -e '.config.Healthcheck.Test == ["CMD","/bin/true"] and .config.Healthcheck.Interval == 5000000000' "$T/config.json"
check "config OnBuild/StopSignal/Volumes" jq -e '.config.OnBuild == ["COPY greeting.txt /onbuild.txt"] and .config.StopSignal == "SIGTERM" and (.config.Volumes | has("/data"))' "$T/config.json"

# owners need a root unpack
if [[ $(id -u) = 0 ]]; then
  umoci unpack --image "$out:v1" "$T/bundle-root" >/dev/null 2>&1
  check "--chown=app:app" test "$(stat -c %u:%g "$T/bundle-root/rootfs/app/owned.txt")" = 1000:1000
fi

# push to the three registries
check "push plain" "$DW" push "$REG_plain/e2e:v1"
check "skopeo inspect (plain registry)" skopeo inspect --tls-verify=false "docker://$REG_plain/e2e:v1"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_auth" "$(printf tester:testpass | base64)" > "$DOCKER_CONFIG/config.json"
check "push Basic auth" "$DW" push "$REG_plain/e2e:v1" "$REG_auth/e2e:v1"
check "skopeo inspect (auth registry)" skopeo inspect --tls-verify=false --creds tester:testpass "docker://$REG_auth/e2e:v1"
check "push TLS (test CA via certs.d)" "$DW" push "$REG_plain/e2e:v1" "$REG_tls/e2e:v1"
check "skopeo inspect (TLS registry)" skopeo inspect --cert-dir "$T/certs.d/$REG_tls" "docker://$REG_tls/e2e:v1"
echo '{}' > "$DOCKER_CONFIG/config.json"
if "$DW" pull "$REG_auth/e2e:v1" > "$T/noauth.log" 2>&1; then bad "pull without credentials fails"; else ok "pull without credentials fails"; fi
check "no credential in errors" sh -c "! grep -q testpass $T/noauth.log"
# a layer over the 16 MiB chunk size goes up in PATCH chunks
mkdir -p "$T/ctxbig"
head -c $((20 * 1024 * 1024 + 12345)) /dev/urandom > "$T/ctxbig/big.bin"
printf 'FROM scratch\nCOPY big.bin /big.bin\n' > "$T/ctxbig/Dockerfile"
check "build a 20 MiB layer" "$DW" build -q -t "$REG_plain/big:1" "$T/ctxbig"
check "push it (chunked)" "$DW" push "$REG_plain/big:1"
check "skopeo copies it back, digests verified" skopeo copy -q --src-tls-verify=false "docker://$REG_plain/big:1" "oci:$T/bigback:1"
umoci unpack --rootless --image "$T/bigback:1" "$T/bigbundle" >/dev/null 2>&1
check "the file came back whole" cmp "$T/ctxbig/big.bin" "$T/bigbundle/rootfs/big.bin"

# Bearer: the registry sends us to a token service (as Docker Hub does)
start_registry tok token
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_tok" "$(printf tester:testpass | base64)" > "$DOCKER_CONFIG/config.json"
check "push through a Bearer token service" "$DW" push "$REG_plain/e2e:v1" "$REG_tok/e2e:v1"
check "skopeo reads it back with the same credentials" skopeo inspect --tls-verify=false --creds tester:testpass "docker://$REG_tok/e2e:v1"
check "pull through the token service" "$DW" pull --root "$T/store-tok" "$REG_tok/e2e:v1"
check "the token service was asked for push and pull, authenticated" \
  jq -se 'any(.[]; .authed and (.scope | join(" ") | test("e2e:.*push"))) and any(.[]; .authed and (.scope | join(" ") | test("e2e:pull")))' "$TOKEN_LOG_tok"
echo '{}' > "$DOCKER_CONFIG/config.json"
"$DW" pull --root "$T/store-tok2" "$REG_tok/e2e:v1" > "$T/tok-anon.log" 2>&1 && bad "Bearer pull without credentials fails" || ok "Bearer pull without credentials fails"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_tok" "$(printf tester:wrong | base64)" > "$DOCKER_CONFIG/config.json"
"$DW" pull --root "$T/store-tok3" "$REG_tok/e2e:v1" > "$T/tok-bad.log" 2>&1 && bad "Bearer with a wrong password fails" || ok "Bearer with a wrong password fails"
check "no password in the error" sh -c "! grep -q wrong '$T/tok-bad.log'"
echo '{}' > "$DOCKER_CONFIG/config.json"

# a credential helper program (credHelpers, then credsStore)
mkdir -p "$T/bin"
cat > "$T/bin/docker-credential-dwtest" <<'SH'
#!/bin/sh
# docker-credential-dwtest get: the server name on stdin, JSON out
[ "$1" = get ] || exit 1
read -r server
echo "$server" >> "${0%/*}/asked"
printf '{"ServerURL":"%s","Username":"tester","Secret":"testpass"}\n' "$server"
SH
chmod +x "$T/bin/docker-credential-dwtest"
printf '{"credHelpers":{"%s":"dwtest"}}' "$REG_auth" > "$DOCKER_CONFIG/config.json"
check "pull with a credHelpers program" env PATH="$T/bin:$PATH" "$DW" pull --root "$T/store-ch" "$REG_auth/e2e:v1"
check "the helper was asked for the registry" grep -q "$REG_auth" "$T/bin/asked"
printf '{"credsStore":"dwtest"}' > "$DOCKER_CONFIG/config.json"
check "pull with a credsStore program" env PATH="$T/bin:$PATH" "$DW" pull --root "$T/store-cs" "$REG_auth/e2e:v1"
echo '{}' > "$DOCKER_CONFIG/config.json"
(unset DOCKWRIGHT_CERTS_DIR; "$DW" pull --root "$T/store2" "$REG_tls/e2e:v1" > "$T/tls.log" 2>&1) \
  && bad "TLS without the CA is refused" || ok "TLS without the CA is refused"

# ONBUILD runs when used as a base
mkdir -p "$T/ctx2"; echo onb > "$T/ctx2/greeting.txt"
printf 'FROM %s/e2e:v1\n' "$REG_plain" > "$T/ctx2/Dockerfile"
check "build FROM image with ONBUILD" "$DW" build -q -t child:1 --output "type=oci,dest=$T/out2" "$T/ctx2"
umoci unpack --rootless --image "$T/out2:1" "$T/bundle2" >/dev/null 2>&1
check "ONBUILD trigger ran" grep -qx onb "$T/bundle2/rootfs/onbuild.txt"

# pull into a fresh store, images, rmi, prune
check "pull" "$DW" pull --root "$T/store3" "$REG_plain/e2e:v1"
check "images lists it" sh -c "'$DW' images --root '$T/store3' | grep -q '$REG_plain/e2e:v1'"
check "rmi" "$DW" rmi --root "$T/store3" "$REG_plain/e2e:v1"
check "store empty after rmi" test -z "$(ls "$T/store3/blobs/sha256")"
check "prune" "$DW" prune --root "$T/store3"

# ADD: a local archive is extracted; a URL is downloaded (mode 0600),
# its --checksum verified
mkdir -p "$T/ctx3/tree/sub" "$T/www"
echo in-tar > "$T/ctx3/tree/sub/t.txt"
tar -C "$T/ctx3/tree" -czf "$T/ctx3/bundle.tar.gz" .
echo downloaded > "$T/www/file.txt"
sum=$(sha256sum "$T/www/file.txt" | cut -d' ' -f1)
wport=$(free_port)
(cd "$T/www" && exec python3 -m http.server --bind 127.0.0.1 "$wport") > "$T/www.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$wport/" && break; sleep 0.1; done
cat > "$T/ctx3/Dockerfile" <<DF
FROM scratch
ADD bundle.tar.gz /x/
ADD http://127.0.0.1:$wport/file.txt /dl/
ADD --checksum=sha256:$sum http://127.0.0.1:$wport/file.txt /dl/checked.txt
DF
check "ADD archive and URLs" "$DW" build -q --output "type=oci,dest=$T/out3" -t add:1 "$T/ctx3"
umoci unpack --rootless --image "$T/out3:1" "$T/bundle3" >/dev/null 2>&1
check "ADD extracts a local tar.gz" grep -qx in-tar "$T/bundle3/rootfs/x/sub/t.txt"
check "ADD <url> into a directory keeps the name" grep -qx downloaded "$T/bundle3/rootfs/dl/file.txt"
check "ADD <url> file mode 0600" test "$(stat -c %a "$T/bundle3/rootfs/dl/file.txt")" = 600
check "ADD --checksum that matches" grep -qx downloaded "$T/bundle3/rootfs/dl/checked.txt"
printf 'FROM scratch\nADD --checksum=sha256:%064d http://127.0.0.1:%s/file.txt /f\n' 0 "$wport" > "$T/ctx3/Dockerfile.bad"
"$DW" build -f "$T/ctx3/Dockerfile.bad" "$T/ctx3" > "$T/addbad.log" 2>&1 && bad "ADD --checksum mismatch fails" || ok "ADD --checksum mismatch fails"
check "checksum mismatch named" grep -qi "checksum\|digest" "$T/addbad.log"

# a multi-arch index: the platform asked for (the host's by default)
oci=$T/bb-oci
umoci config --image "$oci:busybox" --tag amd --config.env MARK=amd64-image >/dev/null
umoci config --image "$oci:busybox" --tag arm --architecture arm64 --config.env MARK=arm64-image >/dev/null
python3 - "$oci" <<'PY'
import hashlib, json, os, sys
oci = sys.argv[1]
idx = json.load(open(f"{oci}/index.json"))
by = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
plat = {"amd": {"architecture": "amd64", "os": "linux"},
        "arm": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
ml = [dict({k: by[t][k] for k in ("mediaType", "digest", "size")}, platform=plat[t]) for t in ("arm", "amd")]
blob = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": ml}).encode()
d = hashlib.sha256(blob).hexdigest()
open(f"{oci}/blobs/sha256/{d}", "wb").write(blob)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + d,
                         "size": len(blob), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(f"{oci}/index.json", "w"))
PY
check "push a multi-arch index (skopeo)" skopeo copy -q --all --dest-tls-verify=false "oci:$oci:multi" "docker://$REG_plain/multi:1"
mkdir -p "$T/ctx4"
printf 'FROM %s/multi:1\n' "$REG_plain" > "$T/ctx4/Dockerfile"
printf 'FROM --platform=linux/arm64 %s/multi:1\n' "$REG_plain" > "$T/ctx4/Dockerfile.arm"
check "build FROM an index (host platform)" "$DW" build -q --output "type=oci,dest=$T/out4" -t m:1 "$T/ctx4"
check "the host's platform was chosen" sh -c "skopeo inspect --config 'oci:$T/out4:1' | jq -e '.config.Env | index(\"MARK=amd64-image\") != null'"
check "build FROM --platform=linux/arm64 an index" "$DW" build -q -f "$T/ctx4/Dockerfile.arm" --output "type=oci,dest=$T/out5" -t m:2 "$T/ctx4"
check "the arm64 image was chosen" sh -c "skopeo inspect --config 'oci:$T/out5:2' | jq -e '(.config.Env | index(\"MARK=arm64-image\") != null) and .architecture == \"arm64\"'"
check "pull --platform linux/arm64/v8" "$DW" pull --root "$T/store-arm" --platform linux/arm64/v8 "$REG_plain/multi:1"
printf 'FROM --platform=linux/s390x %s/multi:1\n' "$REG_plain" > "$T/ctx4/Dockerfile.none"
"$DW" build -f "$T/ctx4/Dockerfile.none" "$T/ctx4" > "$T/noplat.log" 2>&1 && bad "no manifest for the platform fails" || ok "no manifest for the platform fails"
check "the missing platform is named" grep -q "s390x" "$T/noplat.log"

# RUN on scratch (no shell) fails clearly: the line and the exit code
printf 'FROM scratch\nRUN echo hi\n' > "$T/ctx2/Dockerfile.run"
"$DW" build -f "$T/ctx2/Dockerfile.run" "$T/ctx2" > "$T/run.log" 2>&1
check "RUN without a shell fails with line and exit code" grep -q "line 2.*exit code: 127" "$T/run.log"

# Proxies come in the request (the command line passes its environment):
# a dead proxy fails the pull, no_proxy for the registry lets it through
free=$(free_port)
if http_proxy=http://127.0.0.1:$free "$DW" pull --root "$T/store-px" "$REG_plain/multi:1" > "$T/px.log" 2>&1; then
  bad "a dead http_proxy is used"
else
  ok "a dead http_proxy is used"
fi
check "no_proxy bypasses it" env http_proxy=http://127.0.0.1:$free no_proxy=127.0.0.1 "$DW" pull --root "$T/store-px" "$REG_plain/multi:1"
finish
