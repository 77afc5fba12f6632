# COPY --parents keeps the source's path under the destination
# (dispatchCopy: llb.Copy with IncludePatterns and the parent dirs;
# BuildKit's testCopyParents).
BUILDAH_FAILS='buildah 1.28 has no COPY --parents'
setup() { mkdir -p a/x a/y b/c; echo x > a/x/f.txt; echo y > a/y/f.txt; echo g > b/c/g.txt; echo n > a/x/other; }
check() {
  content /dst/a/x/f.txt x
  content /dst/a/y/f.txt y
  absent /dst/a/x/other
  content /dst2/b/c/g.txt g
}
