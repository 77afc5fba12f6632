#!/usr/bin/env bash
# Removes what ./tools/main.sh and ./tools/test.sh leave behind (the README's
# "What the commands install and leave behind" lists it all).
#
#   tools/clean.sh        the Flask example's registry, podman storage and
#                         last image; keeps the caches that make a rerun
#                         fast: its Debian base and build cache, the
#                         tree-sitter CLI, the npm packages, build/ and
#                         build-asan/
#   tools/clean.sh --all  everything: the caches too (code-server for the
#                         VS Code test, the extension's npm packages and
#                         .vsix), and the user dw-rootless the tests made
#                         (with its subuid and subgid entries)
#
# Debian packages are never removed (some may have been there before):
# the list tools/setup.sh installs from is printed instead.
set -euo pipefail
cd "$(dirname "$0")/.."
all=0
case ${1:-} in
  --all) all=1 ;;
  "") ;;
  *) echo "usage: $0 [--all]" >&2; exit 2 ;;
esac
W=${DOCKWRIGHT_DEMO_DIR:-/var/tmp/dockwright-flask}
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
removed() { echo "clean: removed $1"; }

# rm_tree DIR: unmounts what podman or a build left mounted below DIR,
# then removes it without crossing into another file system
rm_tree() {
  [[ -e $1 ]] || return 0
  local m
  while read -r m; do
    "${sudo[@]}" umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$1/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  "${sudo[@]}" rm -rf --one-file-system "$1"
}

if [[ -d $W ]]; then
  if ((all)); then
    rm_tree "$W" && removed "$W (the Flask example: Debian base, build cache, registry, podman storage)"
  else
    for d in registry podman-storage podman-run containers reply last-run; do
      rm_tree "$W/$d"
    done
    removed "the Flask example's registry and podman storage under $W (kept: debian-rootfs/, oci/, store/)"
  fi
fi

if ((all)); then
  cache=${XDG_CACHE_HOME:-$HOME/.cache}
  for d in build build-asan tests/lsp/node_modules editors/vscode/node_modules \
    editors/vscode/dockwright.vsix "$cache/tree-sitter-cli-0.22.6" "$cache/tree-sitter" \
    "${DOCKWRIGHT_E2E_CACHE:-$cache/dockwright-e2e}"; do
    [[ ! -e $d ]] || { rm -rf "$d" && removed "$d"; }
  done
  if id dw-rootless >/dev/null 2>&1; then
    "${sudo[@]}" userdel dw-rootless
    # userdel leaves the subordinate ids when its configuration says so
    "${sudo[@]}" sed -i '/^dw-rootless:/d' /etc/subuid /etc/subgid
    removed "the user dw-rootless and its /etc/subuid, /etc/subgid entries"
  fi
  echo "clean: kept npm's download cache (~/.npm: npm cache clean --force empties it)"
  echo "clean: kept the Debian packages; tools/setup.sh installs those missing among:"
  awk '/^packages=\(/ {p = 1} p {sub(/#.*/, ""); print; if (/\)/) exit}' tools/setup.sh |
    sed 's/packages=(//; s/)//' | xargs | fold -s -w 72 | sed 's/ *$//; s/^/  /'
  echo "  and nodejs, npm when node or npm is missing; tests/vscode/install.sh those among"
  echo "  chromium fonts-dejavu-core ripgrep build-essential python3 pkg-config"
  echo "  libsecret-1-dev libkrb5-dev libx11-dev libxkbfile-dev."
  echo "  apt-get remove those you do not want."
else
  echo "clean: kept the caches (./tools/clean.sh --all removes them)"
fi
