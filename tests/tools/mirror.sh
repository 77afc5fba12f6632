#!/usr/bin/env bash
# tools/lib/mirror.sh finds the Debian mirror from either apt layout or the
# environment, and says so when it cannot (the callers run under
# `set -euo pipefail`, where a silent failure used to end them without a
# word).  apt is pointed at private sources with APT_CONFIG.
# Prints "ok"/"not ok" lines and "# N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
T=$(mktemp -d /tmp/dw-mirror-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
expect() { # description expected actual
  if [[ $2 == "$3" ]]; then
    pass=$((pass + 1)); echo "ok - $1"
  else
    fail=$((fail + 1)); echo "not ok - $1 (expected '$2', got '$3')"
  fi
}

codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
codename=${codename:-bookworm}

# layout NAME: a private apt configuration whose sources are $T/NAME/
layout() {
  local d=$T/$1
  mkdir -p "$d/sources.list.d" "$d/lists"
  : >"$d/sources.list"
  printf 'Dir::Etc::sourcelist "%s";\nDir::Etc::sourceparts "%s";\nDir::State::lists "%s";\n' \
    "$d/sources.list" "$d/sources.list.d" "$d/lists" >"$d/apt.conf"
  echo "$d"
}
ask() { # apt-dir function -> its output, or "FAILED: message"
  local out rc
  out=$(APT_CONFIG=$1/apt.conf DOCKWRIGHT_MIRROR= DOCKWRIGHT_SECURITY_MIRROR= \
    bash -c 'set -euo pipefail; source "$0"; '"$2" "$repo/tools/lib/mirror.sh" 2>"$T/err")
  rc=$?
  if ((rc == 0)); then echo "$out"; else echo "FAILED: $(tr '\n' ' ' <"$T/err")"; fi
}

# deb822, as Debian 12's installer writes it
d=$(layout deb822)
cat >"$d/sources.list.d/debian.sources" <<S
Types: deb
URIs: http://deb.example.org/debian/
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
S
expect "deb822: the archive" "http://deb.example.org/debian" "$(ask "$d" mirror_debian)"
expect "deb822: the security archive" "http://security.example.org/debian-security" \
  "$(ask "$d" mirror_security)"

# classic sources.list, as debootstrap leaves it (no security line), plus
# another vendor's repository first and a source-only line
d=$(layout classic)
printf 'deb https://packages.example.com/apt cloud-%s main\n' "$codename" \
  >"$d/sources.list.d/vendor.list"
printf '# a comment\ndeb-src http://src.example.org/debian %s main\ndeb [arch=amd64] http://ftp.example.org/debian %s main contrib\n' \
  "$codename" "$codename" >"$d/sources.list"
expect "classic: the archive (options, deb-src and other vendors skipped)" \
  "http://ftp.example.org/debian" "$(ask "$d" mirror_debian)"
expect "classic without a security line: none, and no failure" "" "$(ask "$d" mirror_security)"

# a disabled deb822 entry does not count; an enabled one after it does
d=$(layout disabled)
printf 'Types: deb\nURIs: http://off.example.org/debian\nSuites: %s\nComponents: main\nEnabled: no\n\nTypes: deb\nURIs: http://on.example.org/debian\nSuites: %s\nComponents: main\n' \
  "$codename" "$codename" >"$d/sources.list.d/debian.sources"
expect "deb822: Enabled: no is skipped" "http://on.example.org/debian" "$(ask "$d" mirror_debian)"

# nothing configured: a message naming the variable
d=$(layout empty)
out=$(ask "$d" mirror_debian)
expect "no sources: fails naming DOCKWRIGHT_MIRROR" yes \
  "$([[ $out == FAILED:*DOCKWRIGHT_MIRROR* ]] && echo yes || echo "$out")"
expect "no sources, DOCKWRIGHT_MIRROR set: taken as is" "http://env.example.org/debian" \
  "$(APT_CONFIG=$d/apt.conf DOCKWRIGHT_MIRROR=http://env.example.org/debian/ \
    bash -c 'source "$0"; mirror_debian' "$repo/tools/lib/mirror.sh")"

# sources apt refuses: apt's own words come through
d=$(layout broken)
echo 'deb this is not a source line' >"$d/sources.list"
out=$(ask "$d" mirror_debian)
expect "unreadable sources: fails with apt's message" yes \
  "$([[ $out == FAILED:*"apt cannot read its sources"* ]] && echo yes || echo "$out")"

# the callers: tools/tree-sitter with an empty cache and no mirror stops
# with a message instead of silently (it runs under set -euo pipefail)
d=$(layout empty2)
out=$(APT_CONFIG=$d/apt.conf DOCKWRIGHT_MIRROR= TREE_SITTER_CLI_CACHE=$T/ts-cache \
  "$repo/tools/tree-sitter" --version 2>&1)
rc=$?
expect "tools/tree-sitter without a mirror: exit 1 with a message" "1 yes" \
  "$rc $([[ $out == *"no Debian mirror"*"DOCKWRIGHT_MIRROR"* ]] && echo yes || echo "$out")"

echo "# $pass passed, $fail failed"
((fail == 0))
