# A wildcard that matches nothing is no error: what matched is copied
# (frontend/dockerfile/dockerfile2llb/convert.go dispatchCopy:
# llb.CopyInfo{AllowWildcard: true, AllowEmptyWildcard: true};
# BuildKit's testEmptyWildcard).  buildah refuses an empty wildcard.
BUILDAH_FAILS='buildah: "no items matching glob"'
check() {
  content /dst/real.txt real
  absent /nomatch
  absent /dst/x
}
