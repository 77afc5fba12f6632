#!/usr/bin/env bash
# Sets up a Debian 12 machine for Dockwright: installs the Debian packages
# that are missing (nothing else), then configures the two builds:
#   build/       the normal build (debugoptimized)
#   build-asan/  the same with AddressSanitizer and UndefinedBehaviorSanitizer
# Idempotent: a second run installs nothing and only rebuilds what changed.
# Quiet: one line per phase; a phase that fails shows the end of its output
# and where the rest is.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc libc6-dev meson ninja-build pkg-config clang-format git
          libtree-sitter-dev libuv1-dev libjson-c-dev libcurl4-openssl-dev
          libssl-dev libarchive-dev libcmocka-dev
          # builder/ and its integration tests (tests/builder/)
          libzstd-dev zlib1g-dev docker-registry skopeo umoci buildah runc
          busybox-static apache2-utils openssl curl jq zstd python3
          # RUN: rootless id maps; the Flask example (debootstrap base,
          # podman); bc for the benchmarks
          uidmap debootstrap podman bc
          # the language server's tests (tests/lsp/, tests/nvim/)
          neovim)

# phase WHAT COMMAND...: runs COMMAND with its output kept in a log; prints
# "setup: WHAT (Ns)", or on failure the log's last lines and its path.
phase() {
  local what=$1 log rc=0 t0=$SECONDS
  shift
  log=$(mktemp /tmp/dockwright-setup.XXXXXX)
  "$@" >"$log" 2>&1 </dev/null || rc=$?
  if ((rc != 0)); then
    echo "setup: $what failed (exit $rc); the last lines of its output:" >&2
    tail -n 40 "$log" | sed 's/^/  /' >&2
    echo "setup: the whole output is in $log" >&2
    return $rc
  fi
  # apt-get's own account of what it did, when it gave one
  local apt
  apt=$(sed -n 's/.* \([0-9]* newly installed\).*/\1/p; s/^After this operation, \(.*\) will be used.*/\1/p' "$log" |
    paste -sd, | sed 's/,/, /')
  rm -f "$log"
  echo "setup: $what${apt:+: $apt} ($((SECONDS - t0))s)"
}

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
  echo "setup: installing ${#missing[@]} Debian packages with apt-get and their" \
    "dependencies (a few minutes on a fresh machine): ${missing[*]}"
  sudo=()
  [[ $(id -u) -eq 0 ]] || { sudo=(sudo); sudo -v; } # asks for a password here
  export DEBIAN_FRONTEND=noninteractive
  phase "apt-get update" "${sudo[@]}" apt-get update -q
  phase "apt-get install" "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[[ -f build/build.ninja ]] || phase "configured build/ (meson)" \
  meson setup build --buildtype=debugoptimized
[[ -f build-asan/build.ninja ]] || phase "configured build-asan/ (meson)" \
  meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
phase "built build/dockwright" ninja -C build
phase "built build-asan/dockwright" ninja -C build-asan
