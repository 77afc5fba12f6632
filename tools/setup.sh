#!/usr/bin/env bash
# Sets up a Debian 12 machine for Dockwright: installs the Debian packages
# that are missing (nothing else), then configures the two builds:
#   build/       the normal build (debugoptimized)
#   build-asan/  the same with AddressSanitizer and UndefinedBehaviorSanitizer
# Idempotent: a second run installs nothing and only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc libc6-dev meson ninja-build pkg-config clang-format git
          libtree-sitter-dev libuv1-dev libjson-c-dev libcurl4-openssl-dev
          libssl-dev libarchive-dev libcmocka-dev
          # builder/ and its integration tests (tests/builder/)
          libzstd-dev zlib1g-dev docker-registry skopeo umoci buildah runc
          busybox-static apache2-utils openssl curl jq zstd python3
          # RUN: rootless id maps; the Flask example (debootstrap base, podman)
          uidmap debootstrap podman bc
          # the language server's tests (tests/lsp/, tests/nvim/)
          neovim)

missing=()
# node and npm for tests/lsp/: judged by command, since a NodeSource
# nodejs (which bundles npm and conflicts with Debian's npm) is just as good.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

quiet() { # runs a command, showing its output only when it fails
  local log rc
  log=$(mktemp)
  rc=0
  "$@" >"$log" 2>&1 || rc=$?
  ((rc == 0)) || cat "$log" >&2
  rm -f "$log"
  return $rc
}
[[ -f build/build.ninja ]] || quiet meson setup build --buildtype=debugoptimized
[[ -f build-asan/build.ninja ]] || quiet meson setup build-asan --buildtype=debug \
  -Db_sanitize=address,undefined -Db_lundef=false
quiet ninja -C build
quiet ninja -C build-asan
echo "setup: built build/dockwright and build-asan/dockwright"
