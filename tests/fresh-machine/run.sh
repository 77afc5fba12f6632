#!/usr/bin/env bash
# The README's Quick start on fresh Debian 12 machines, as a new user meets
# it: for each apt layout (classic /etc/apt/sources.list as debootstrap
# leaves it; deb822 /etc/apt/sources.list.d/debian.sources as the
# installer writes it), a debootstrap minbase root with only git and
# ca-certificates added; the repository cloned into /root/dockwright in it;
# then the commands of the README's Quick start block, word for word, run
# there as root with that root as "/" (a mount point, in a private mount
# namespace: RUN's `make / private` and buildah need that, a chroot is not
# enough), then ./tools/main.sh once more (it must be fast: cached), then
# ./tools/clean.sh --all (what is left is reported).
#
#   tests/fresh-machine/run.sh [-l classic|deb822|both] [-d DIR] [REPO [REF]]
#
# REPO defaults to this repository, REF to its HEAD (committed work only:
# the clone takes REF's commit). DIR (default /var/tmp/dockwright-fresh)
# holds <layout>/ (the machine, kept for a look and removed at the next
# run) and <layout>-*.log. Needs root, debootstrap, and the network (the
# Debian mirror of this host's apt, either layout, or $DOCKWRIGHT_MIRROR;
# the npm registry). Each layout takes about half an hour and some GB.
# Prints one result line per command and layout; exits 1 if any failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
layouts=(classic deb822) top=/var/tmp/dockwright-fresh
while getopts l:d: o; do
  case $o in
    l) [[ $OPTARG == both ]] || layouts=("$OPTARG") ;;
    d) top=$OPTARG ;;
    *) echo "usage: $0 [-l classic|deb822|both] [-d DIR] [REPO [REF]]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
repo=${1:-$(cd "$here/../.." && pwd)}
ref=${2:-HEAD}
[[ $(id -u) -eq 0 ]] || { echo "fresh-machine: needs root (debootstrap, mounts)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "fresh-machine: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
commit=$(git -C "$repo" rev-parse --verify "$ref^{commit}")
source "$here/../../tools/lib/mirror.sh"
mirror=$(mirror_debian) || exit 1
mkdir -p "$top"

# inside DIR CWD COMMAND...: COMMAND in CWD with DIR as / (a mount point)
# in a private mount namespace with /proc, /sys and /dev; a clean
# environment, no stdin. Nothing is mounted in this host's namespace.
inside() {
  cp -L /etc/resolv.conf "$1/etc/resolv.conf"
  unshare --mount --propagation private -- /bin/bash -c '
    set -e; dir=$1 cwd=$2; shift 2
    mount --bind "$dir" "$dir"
    mount -t proc proc "$dir/proc"
    mount --rbind /sys "$dir/sys"
    mount --rbind /dev "$dir/dev"
    cd "$dir"; mkdir -p .oldroot; pivot_root . .oldroot
    umount -l /.oldroot; rmdir /.oldroot; cd "$cwd"
    exec /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
      TERM=dumb LANG=C.UTF-8 \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"' \
    fresh "$@" </dev/null
}

# make DIR LAYOUT: the fresh machine
make_root() {
  local dir=$1 layout=$2
  rm -rf --one-file-system "$dir"
  debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 ||
    { tail -20 "$dir.debootstrap.log"; return 1; }
  if [[ $layout == deb822 ]]; then
    rm -f "$dir/etc/apt/sources.list"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" >"$dir/etc/apt/sources.list.d/debian.sources"
  else
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" \
      >"$dir/etc/apt/sources.list"
  fi
  inside "$dir" / /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq git ca-certificates' \
    >"$dir.apt.log" 2>&1 || { tail -20 "$dir.apt.log"; return 1; }
  # trust what this host trusts (an intercepting proxy's CA, if any)
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
}

# The Quick start block of the clone's README: its command lines, comments
# dropped.
quick_start() {
  awk '/^## Quick start/ {q = 1; next} /^## / {q = 0}
       q && /^```sh/ {b = 1; next} q && b && /^```/ {exit}
       q && b { sub(/[[:space:]]+#.*/, ""); if ($0 != "") print }' "$1/README.md"
}

mb() { { du -sm --one-file-system "$1" 2>/dev/null || echo 0; } | cut -f1; }
status=0 results=()
for layout in "${layouts[@]}"; do
  dir=$top/$layout log=$top/$layout
  echo "== $layout: making a fresh Debian 12 at $dir ($mirror)"
  t0=$(date +%s)
  make_root "$dir" "$layout"
  git clone -q --no-checkout "$repo" "$dir/root/dockwright"
  git -C "$dir/root/dockwright" checkout -q -B fresh-machine "$commit"
  base=$(mb "$dir")
  echo "   made in $(($(date +%s) - t0)) s, $base MB; cloned $commit into /root/dockwright"
  mapfile -t cmds < <(quick_start "$dir/root/dockwright")
  ((${#cmds[@]})) || { echo "no commands in the README's Quick start" >&2; exit 1; }
  cmds+=("./tools/main.sh")  # again: cached, fast, the summary last
  i=0
  for c in "${cmds[@]}"; do
    i=$((i + 1))
    clog=$log-$i-$(tr -c 'a-z0-9' '-' <<<"${c##*/}" | sed 's/-*$//').log
    echo "== $layout: $c (log: $clog)"
    t0=$(date +%s) rc=0
    inside "$dir" /root/dockwright /bin/bash -c "$c" >"$clog" 2>&1 || rc=$?
    took=$(($(date +%s) - t0))
    tail_line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$clog" | tail -n1 || true)
    r="$layout: '$c' exit $rc in ${took}s, $(wc -l <"$clog") lines${tail_line:+; $tail_line}"
    echo "   $r"; echo "   last lines:"; tail -n 12 "$clog" | sed 's/^/     | /'
    results+=("$r")
    ((rc == 0)) || status=1
  done
  r="$layout: disk: machine $base MB before, $(mb "$dir") MB after; clone $(mb "$dir/root/dockwright") MB"
  r+=" (build $(mb "$dir/root/dockwright/build") MB, build-asan $(mb "$dir/root/dockwright/build-asan") MB,"
  r+=" tests/lsp/node_modules $(mb "$dir/root/dockwright/tests/lsp/node_modules") MB);"
  r+=" /var/tmp/dockwright-flask $(mb "$dir/var/tmp/dockwright-flask") MB; /root/.cache $(mb "$dir/root/.cache") MB;"
  r+=" /root/.npm $(mb "$dir/root/.npm") MB; /var/cache/apt $(mb "$dir/var/cache/apt") MB"
  echo "   $r"
  results+=("$r")
  rc=0
  inside "$dir" /root/dockwright ./tools/clean.sh --all >"$log-clean.log" 2>&1 || rc=$?
  left=""
  for f in var/tmp/dockwright-flask root/dockwright/build root/dockwright/build-asan \
    root/dockwright/tests/lsp/node_modules root/dockwright/editors/vscode/node_modules \
    root/dockwright/editors/vscode/dockwright.vsix root/.cache/tree-sitter-cli-0.22.6 \
    root/.cache/tree-sitter root/.cache/dockwright-e2e; do
    [[ ! -e $dir/$f ]] || left+=" /$f"
  done
  grep -q '^dw-rootless:' "$dir/etc/passwd" "$dir/etc/subuid" "$dir/etc/subgid" && left+=" dw-rootless"
  r="$layout: './tools/clean.sh --all' exit $rc; machine $(mb "$dir") MB after it; left: ${left:-nothing of ours}"
  echo "   $r"
  results+=("$r")
  [[ $rc -eq 0 && -z $left ]] || status=1
done
echo "== results"
printf '%s\n' "${results[@]}"
exit $status
