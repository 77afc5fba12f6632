# Wildcards matching directories copy their contents (testCopyWildcards'
# `COPY sub/* /subdest/`); ? and [..] classes; `**` is no recursive glob in
# COPY sources (filepath.Match: `**` is `*`), so sub/**/deep.txt matches
# only one level down.
setup() { mkdir -p sub/a/x sub/b; echo 1 > sub/a/f1; echo 2 > sub/b/f2; echo d > sub/a/deep.txt; echo n > sub/a/x/deep.txt; }
check() {
  content /dirs/f1 1
  content /dirs/f2 2
  content /class/f1 1
  content /class/x/deep.txt n
  content /doublestar/deep.txt d
}
