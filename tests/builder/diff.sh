#!/usr/bin/env bash
# Differential suite: every case under tests/builder/diff/<case>/ is built
# by `dockwright build` and by buildah (--layers, overlay, runc) in the same
# run; both images are unpacked with umoci and compared path by path (type,
# mode, uid, gid, size, content hash, link target: difftree.py) and config
# field by field (read from the raw config blobs).  BuildKit, not buildah,
# is the reference: where buildah differs, the case allows that named
# deviation and asserts BuildKit's behaviour on our image, citing the
# BuildKit source it comes from.
#
# A case directory holds the Dockerfile ("@BASE@" stands for the local
# busybox image), its context files, and case.sh, sourced before the
# build, which may set:
#   ARGS=(...)            extra `build` arguments for both builders
#   EXPECT_FAIL='re'      dockwright must fail with a message matching it
#   BUILDAH_FAILS='why'   buildah fails (or is not asked) where BuildKit
#                         succeeds; only the assertions are checked
#   BUILDAH_SKIP='why'    buildah's result is not compared at all
#   ALLOW=('regex' ...)   tree lines (either side) that may differ
#   ALLOW_CFG=(field ...) config fields not compared with buildah
# and define setup() (run in the context directory, for names git cannot
# hold) and check() (assertions on dockwright's image, helpers below).
#
# DIFF_BUILDAH=0 (the ASan+UBSan run of tools/test.sh) builds only with
# dockwright and checks the assertions.  DIFF_CASES='a b' runs some cases.
# Prints "ok N - case" / "not ok N - case".
. "$(dirname "$0")/lib.sh"
need docker-registry skopeo umoci jq python3
BUILDAH=${DIFF_BUILDAH:-1}
if [[ $BUILDAH = 1 ]]; then
  need buildah runc
  [[ $(id -u) = 0 ]] || { echo "SKIP: buildah overlay needs root"; exit 77; }
fi
[[ $(id -u) = 0 ]] || { echo "SKIP: umoci unpack keeps owners only as root"; exit 77; }
start_registry plain
make_busybox "$REG_plain" >/dev/null || { echo "cannot make busybox"; exit 1; }
BASE=$REG_plain/busybox:latest
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

FIELDS='Env Cmd Entrypoint WorkingDir User ExposedPorts Volumes Labels StopSignal Healthcheck Shell OnBuild'
# Mount stubs buildah's runtime leaves in a RUN's layer (an empty /run and
# the empty /etc files it binds).  BuildKit removes /etc/hosts,
# /etc/resolv.conf and the --mount targets it made (executor/stubs.go
# MountStubsCleaner) and makes no /run nor /etc/hostname, and so does
# dockwright: allowed in every case.  (/dev, /proc and /sys, made by the
# runtime, stay in all three.)
STUBS='^/run d |^/etc/(hostname|hosts|resolv\.conf) f [0-9]+ 0 0 0 e3b0c44298fc1c14'

N=0
DW_CFG="" DW_TREE="" CASE_ERRS=()
blob() { echo "$1/blobs/sha256/${2#sha256:}"; }
# config_of LAYOUT -> the raw config blob of its first manifest
config_of() {
  local m
  m=$(blob "$1" "$(jq -r '.manifests[0].digest' "$1/index.json")")
  blob "$1" "$(jq -r .config.digest "$m")"
}

# --- assertions for check() (on dockwright's image) --------------------
fail() { CASE_ERRS+=("$*"); }
# (names as difftree.py writes them: bytes outside printable ASCII as \xNN)
esc() { python3 -c 'import os, sys; sys.path.insert(0, sys.argv[1]); from difftree import esc; print(esc(os.fsencode(sys.argv[2])))' "$HERE" "$1"; }
# entry PATH 'type mode uid gid [...]': PATH's difftree line begins so
entry() {
  local p line
  p=$(esc "$1")
  line=$(P=$p awk '$1 == ENVIRON["P"]' "$DW_TREE" | head -n1)
  [[ -n $line && ${line#"$p "} == "$2"* ]] || fail "entry $p: want '$2', have '${line#"$p "}'"
}
absent() {
  ! P=$(esc "$1") awk '$1 == ENVIRON["P"] { f = 1 } END { exit !f }' "$DW_TREE" || fail "$1 should not exist"
}
# content PATH TEXT: the file holds TEXT and a newline
content() {
  local have
  have=$(cat "$DW_ROOT$1" 2>/dev/null) || { fail "content $1: missing"; return; }
  [[ $have == "$2" ]] || fail "content $1: want '$2', have '$have'"
}
# cfg JQ JSON: the config's .config | JQ equals JSON (compact, sorted)
cfg() {
  local have want
  have=$(jq -cS ".config | $1" "$DW_CFG")
  want=$(jq -cS . <<<"$2")
  [[ $have == "$want" ]] || fail "config $1: want $want, have $have"
}
# image JQ JSON: the whole config document's JQ equals JSON (author, ...)
image() {
  local have want
  have=$(jq -cS "$1" "$DW_CFG")
  want=$(jq -cS . <<<"$2")
  [[ $have == "$want" ]] || fail "image $1: want $want, have $have"
}
# --------------------------------------------------------------------------

# tree_of ROOTFS OUT: difftree.py's lines, minus the common stubs
tree_of() { python3 "$HERE/difftree.py" "$1" | grep -Ev "$STUBS" > "$2"; }

# filter_allowed FILE: drops the lines a case allows
filter_allowed() {
  local f=$1 re
  for re in "${ALLOW[@]}"; do
    grep -Ev -- "$re" "$f" > "$f.t"; mv "$f.t" "$f"
  done
}

run_case() { # DIR
  local dir=$1 n c
  n=$(basename "$dir")
  c=$T/c/$n
  ARGS=() EXPECT_FAIL="" BUILDAH_FAILS="" BUILDAH_SKIP="" ALLOW=() ALLOW_CFG=() CASE_ERRS=()
  unset -f setup check
  # shellcheck disable=SC1091
  . "$dir/case.sh"
  mkdir -p "$c/ctx"
  (cd "$dir" && find . -mindepth 1 -maxdepth 1 ! -name case.sh -exec cp -a {} "$c/ctx/" \;)
  sed -i "s|@BASE@|$BASE|g" "$c/ctx/Dockerfile"
  if declare -F setup >/dev/null; then (cd "$c/ctx" && setup) || fail "setup failed"; fi
  local dwout=$c/dw bhout=$c/bh
  "$DW" build -q -t "dw-$n:1" --output "type=oci,dest=$dwout" "${ARGS[@]}" "$c/ctx" > "$c/dw.log" 2>&1
  local dwrc=$?
  if grep -q 'Sanitizer\|runtime error:' "$c/dw.log"; then
    fail "sanitizer report: $(grep -m1 'Sanitizer\|runtime error:' "$c/dw.log")"
  fi
  if [[ -n $EXPECT_FAIL ]]; then
    if [[ $dwrc -eq 0 ]]; then fail "dockwright build succeeded; BuildKit fails"
    elif ! grep -Eq -- "$EXPECT_FAIL" "$c/dw.log"; then fail "dockwright error does not match /$EXPECT_FAIL/: $(tail -n2 "$c/dw.log")"; fi
  elif [[ $dwrc -ne 0 ]]; then
    fail "dockwright build failed: $(tail -n3 "$c/dw.log")"
  else
    umoci unpack --image "$dwout:1" "$c/dwu" > /dev/null 2>&1 || fail "umoci unpack (dockwright)"
    DW_ROOT=$c/dwu/rootfs DW_TREE=$c/dw.tree DW_CFG=$(config_of "$dwout")
    tree_of "$DW_ROOT" "$DW_TREE" || fail "difftree.py failed on dockwright's image"
    if declare -F check >/dev/null; then check; fi
  fi
  if [[ $BUILDAH = 1 && -z $BUILDAH_SKIP && -z $EXPECT_FAIL && -z $BUILDAH_FAILS && ${#CASE_ERRS[@]} -eq 0 ]]; then
    if ! buildah bud -q --layers --storage-driver overlay --runtime runc --format docker \
        -t "localhost/bh-$n:1" "${ARGS[@]}" "$c/ctx" > "$c/bh.log" 2>&1; then
      fail "buildah build failed: $(tail -n3 "$c/bh.log")"
    else
      buildah push -q "localhost/bh-$n:1" "oci:$bhout:1" > /dev/null 2>&1
      buildah push -q --format v2s2 "localhost/bh-$n:1" "dir:$c/bhdir" > /dev/null 2>&1
      umoci unpack --image "$bhout:1" "$c/bhu" > /dev/null 2>&1 || fail "umoci unpack (buildah)"
      tree_of "$c/bhu/rootfs" "$c/bh.tree" || fail "difftree.py failed on buildah's image"
      cp "$DW_TREE" "$c/dw.cmp"; cp "$c/bh.tree" "$c/bh.cmp"
      filter_allowed "$c/dw.cmp"; filter_allowed "$c/bh.cmp"
      if ! diff -u "$c/bh.cmp" "$c/dw.cmp" > "$c/tree.diff"; then
        fail "trees differ (buildah -, dockwright +): $(grep '^[-+]/' "$c/tree.diff" | head -n8)"
      fi
      local bcfg f skip
      bcfg=$c/bhdir/$(jq -r '.config.digest | sub("sha256:"; "")' "$c/bhdir/manifest.json")
      for f in $FIELDS; do
        skip=0
        for s in "${ALLOW_CFG[@]}"; do [[ $s = "$f" ]] && skip=1; done
        [[ $skip = 1 ]] && continue
        # (buildah labels every image with its version; an empty map is
        # the same as none)
        local q=".config.$f | if type == \"object\" then del(.\"io.buildah.version\") else . end | if . == {} or . == [] or . == \"\" then null else . end"
        if [[ $(jq -cS "$q" "$DW_CFG") != "$(jq -cS "$q" "$bcfg")" ]]; then
          fail "config $f: buildah $(jq -cS "$q" "$bcfg"), dockwright $(jq -cS "$q" "$DW_CFG")"
        fi
      done
    fi
  elif [[ $BUILDAH = 1 && -n $EXPECT_FAIL && -z $BUILDAH_FAILS && -z $BUILDAH_SKIP && ${#CASE_ERRS[@]} -eq 0 ]]; then
    if buildah bud -q --layers --storage-driver overlay --runtime runc \
        -t "localhost/bh-$n:1" "${ARGS[@]}" "$c/ctx" > "$c/bh.log" 2>&1; then
      fail "buildah builds what must fail"
    fi
  fi
  N=$((N + 1))
  if [[ ${#CASE_ERRS[@]} -eq 0 ]]; then
    PASS=$((PASS + 1)); echo "ok $N - $n"
  else
    FAIL_N=$((FAIL_N + 1)); echo "not ok $N - $n"
    printf '    %s\n' "${CASE_ERRS[@]}"
  fi
}

FAIL_N=0
for d in "$HERE"/diff/*/; do
  d=${d%/}
  if [[ -n ${DIFF_CASES:-} && " $DIFF_CASES " != *" $(basename "$d") "* ]]; then continue; fi
  run_case "$d"
done
# buildah's overlay storage keeps mounts under $T: release them before
# lib.sh removes $T.
if [[ $BUILDAH = 1 ]]; then
  buildah rm -a > /dev/null 2>&1
  buildah rmi -a -f > /dev/null 2>&1
  awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
fi
echo "# $PASS passed, $FAIL_N failed"
[[ $FAIL_N -eq 0 ]]
