# mirror.sh - the Debian mirror, for the scripts that fetch from Debian
# outside the system's apt (the debootstrap base of examples/flask/run.sh,
# Debian 13's tree-sitter CLI in tools/tree-sitter).  Sourced; defines
#
#   mirror_debian     prints the Debian archive's URL (no trailing slash)
#   mirror_security   prints the security archive's URL, or nothing when
#                     this machine's apt has none
#
# Both return 1 with a message on stderr when they cannot answer, so call
# them as `m=$(mirror_debian) || exit 1` (under `set -e` a bare failing
# substitution would end the script without a word).
#
# Where the answer comes from, first found wins:
#   1. $DOCKWRIGHT_MIRROR (and $DOCKWRIGHT_SECURITY_MIRROR);
#   2. the sources apt itself reads, in either layout: deb822
#      (/etc/apt/sources.list.d/*.sources, Debian 12's installer) or classic
#      (/etc/apt/sources.list and sources.list.d/*.list, debootstrap's).
#      apt-get reads them for us (`indextargets`), so options, disabled
#      entries and comments count exactly as they do for apt; APT_CONFIG is
#      honoured.  The archive is the one serving this release's codename
#      (/etc/os-release), the security archive the one serving
#      <codename>-security.

mirror__codename() {
  local c=""
  [[ -r /etc/os-release ]] && c=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  echo "${c:-bookworm}"
}

# Prints the URL of the first deb source for suite $1, or nothing; 1 when
# apt cannot read its sources.
mirror__find() {
  local targets
  targets=$(apt-get indextargets --no-release-info \
    --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>&1) || {
    echo "$targets" >&2
    echo "mirror: apt cannot read its sources (above)" >&2
    return 1
  }
  awk -v suite="$1" '$1 == "deb" && $2 == suite && $3 ~ /^(https?|file):/ {
      sub(/\/+$/, "", $3); print $3; exit }' <<<"$targets"
}

mirror_debian() {
  if [[ -n ${DOCKWRIGHT_MIRROR:-} ]]; then
    echo "${DOCKWRIGHT_MIRROR%/}"
    return 0
  fi
  local suite url
  suite=$(mirror__codename)
  url=$(mirror__find "$suite") || return 1
  if [[ -z $url ]]; then
    echo "mirror: no Debian mirror for $suite in apt's sources" \
      "(/etc/apt/sources.list, /etc/apt/sources.list.d/*.list or *.sources);" \
      "set DOCKWRIGHT_MIRROR, e.g. DOCKWRIGHT_MIRROR=http://deb.debian.org/debian" >&2
    return 1
  fi
  echo "$url"
}

mirror_security() {
  if [[ -n ${DOCKWRIGHT_SECURITY_MIRROR:-} ]]; then
    echo "${DOCKWRIGHT_SECURITY_MIRROR%/}"
    return 0
  fi
  mirror__find "$(mirror__codename)-security"
}
