#!/usr/bin/env bash
# Hostile input: a base layer with "..", absolute paths, symlinks and
# hardlinks pointing out, device nodes; a context with symlinks leaving it.
# Each is refused or contained: nothing is written outside the store.
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo umoci python3 jq
start_registry plain
OUTSIDE=$T/outside; mkdir -p "$OUTSIDE"; echo original > "$OUTSIDE/victim"

# mklayout NAME: an OCI layout whose single layer is $T/NAME.tar
mklayout() {
  local name=$1; local dir=$T/$name-oci
  python3 - "$T/$name.tar" "$dir" <<'PY'
import hashlib, json, os, sys, gzip, shutil
tar, d = sys.argv[1], sys.argv[2]
os.makedirs(d + "/blobs/sha256", exist_ok=True)
raw = open(tar, "rb").read()
gz = gzip.compress(raw, mtime=0)
def put(b):
    h = hashlib.sha256(b).hexdigest()
    open(f"{d}/blobs/sha256/{h}", "wb").write(b)
    return "sha256:" + h
ld = put(gz)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}).encode()
cd = put(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": len(gz)}]}).encode()
md = put(man)
open(d + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(d + "/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
  {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(man),
   "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))
PY
  skopeo copy -q --dest-tls-verify=false "oci:$dir:latest" "docker://$REG_plain/$name:latest"
}

mktar() { # NAME python-statements using tarfile t and helper add()
  python3 - "$T/$1.tar" "$OUTSIDE" <<PY
import tarfile, io, sys
out, outside = sys.argv[1], sys.argv[2]
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
def add(name, type=tarfile.REGTYPE, data=b"x", link="", devmajor=0, devminor=0, mode=0o644):
    i = tarfile.TarInfo(name); i.type = type; i.mode = mode; i.linkname = link
    i.devmajor, i.devminor = devmajor, devminor
    if type == tarfile.REGTYPE:
        i.size = len(data); t.addfile(i, io.BytesIO(data))
    else:
        t.addfile(i)
$2
t.close()
PY
}

try_base() { # NAME expect(refused|contained) description
  local name=$1 expect=$2 desc=$3; local c=$T/ctx-$name
  mkdir -p "$c"; echo f > "$c/f"
  printf 'FROM scratch\nCOPY --from=%s/%s / /copied/\n' "$REG_plain" "$name" > "$c/Dockerfile"
  "$DW" build -q "$c" > "$T/$name.log" 2>&1; local rc=$?
  if [[ $expect = refused && $rc -eq 0 ]]; then bad "$desc: build should fail"; return; fi
  if [[ $expect = contained && $rc -ne 0 ]]; then bad "$desc: build failed"; sed 's/^/    /' "$T/$name.log"; return; fi
  ok "$desc ($expect)"
}

mktar dotdot 'add("../../../../../../../..'"$OUTSIDE"'/victim", data=b"pwned")
add("a/../../escape", data=b"pwned")'
mklayout dotdot; try_base dotdot refused "'..' paths in a base layer"

mktar abspath 'add("'"$OUTSIDE"'/victim", data=b"pwned")'
mklayout abspath; try_base abspath contained "absolute path in a base layer"

mktar symout 'add("evil", tarfile.SYMTYPE, link="'"$OUTSIDE"'")
add("evil/victim", data=b"pwned")
add("rel", tarfile.SYMTYPE, link="../../../../../../../../..'"$OUTSIDE"'")
add("rel/victim", data=b"pwned")'
mklayout symout; try_base symout contained "symlinks pointing out, written through"

mktar hardout 'add("hl", tarfile.LNKTYPE, link="'"$OUTSIDE"'/victim")
add("hl2", tarfile.LNKTYPE, link="../../../../../../..'"$OUTSIDE"'/victim")'
mklayout hardout; try_base hardout refused "hardlinks pointing out"

mktar devs 'add("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0)
add("dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1)
add("ok", data=b"fine")'
mklayout devs; try_base devs contained "device nodes"
check "device nodes not created in the store" sh -c "! find '$T/store' \\( -type b -o -type c \\) | grep -q ."

check "nothing outside was written" grep -qx original "$OUTSIDE/victim"
check "no stray files next to the victim" test "$(ls "$OUTSIDE")" = victim

# a context whose symlinks leave it
c=$T/ctx-links; mkdir -p "$c"
ln -s "$OUTSIDE/victim" "$c/abs"; ln -s ../outside/victim "$c/rel"
printf 'FROM scratch\nCOPY abs /abs\n' > "$c/Dockerfile.abs"
printf 'FROM scratch\nCOPY rel /rel\n' > "$c/Dockerfile.rel"
printf 'FROM scratch\nCOPY . /all/\n' > "$c/Dockerfile.all"
if "$DW" build -q -f "$c/Dockerfile.abs" "$c" >/dev/null 2>&1; then bad "COPY of a symlink to an absolute path outside: followed"; else ok "COPY of a symlink to outside is not followed"; fi
if "$DW" build -q -f "$c/Dockerfile.rel" "$c" >/dev/null 2>&1; then bad "COPY of ../ symlink: followed"; else ok "COPY of a ../ symlink is not followed"; fi
check "COPY . keeps symlinks as symlinks" "$DW" build -q -f "$c/Dockerfile.all" --output "type=oci,dest=$T/links-out" -t links:1 "$c"
umoci unpack --rootless --image "$T/links-out:1" "$T/links-b" >/dev/null 2>&1
check "symlink copied, not its target" test -L "$T/links-b/rootfs/all/abs"
check "outside still untouched" grep -qx original "$OUTSIDE/victim"
# a base whose symlinks aim COPY and WORKDIR destinations and --chown's
# /etc/passwd at the host: resolved inside the image, never followed out
printf 'evil:x:4242:4242::/:/bin/sh\n' > "$OUTSIDE/passwd"
mktar symdst 'add("app", tarfile.SYMTYPE, link="'"$OUTSIDE"'")
add("rel", tarfile.SYMTYPE, link="../../../../../../../..'"$OUTSIDE"'")
add("etc", tarfile.DIRTYPE, mode=0o755)
add("etc/passwd", tarfile.SYMTYPE, link="'"$OUTSIDE"'/passwd")'
mklayout symdst
c=$T/ctx-symdst; mkdir -p "$c"; echo pwned > "$c/victim"
printf 'FROM %s/symdst\nCOPY victim /app/victim\nCOPY victim /rel/\nWORKDIR /app/wd\n' "$REG_plain" > "$c/Dockerfile"
check "COPY through a base symlink pointing out: contained" "$DW" build -q --output "type=oci,dest=$T/symdst-out" -t symdst:1 "$c"
umoci unpack --rootless --image "$T/symdst-out:1" "$T/symdst-b" >/dev/null 2>&1
check "COPY landed inside the image" test -f "$T/symdst-b/rootfs$OUTSIDE/victim"
check "WORKDIR made inside the image" test -d "$T/symdst-b/rootfs$OUTSIDE/wd"
printf 'FROM %s/symdst\nCOPY --chown=evil victim /v\n' "$REG_plain" > "$c/Dockerfile.chown"
if "$DW" build -q -f "$c/Dockerfile.chown" "$c" > "$T/symdst-chown.log" 2>&1; then bad "--chown read the host's passwd through a symlink"; else ok "--chown does not read /etc/passwd outside the image"; fi
check "outside still untouched after destinations" sh -c "grep -qx original '$OUTSIDE/victim' && test \"\$(ls '$OUTSIDE')\" = 'passwd
victim'"
finish
