# BuildKit's testCopySymlinks and testCopyThroughSymlinkContext
# (frontend/dockerfile/dockerfile_test.go): a source that is a symlink
# (named or matched by a wildcard) is followed; symlinks inside a copied
# directory stay symlinks; a symlink in a source's path is followed.
setup() {
  echo -n bar-contents > bar; ln -s bar foo
  mkdir sub; echo -n lfile-contents > sub/lfile; ln -s subfile sub/l0
  echo -n subfile-contents > sub/subfile; ln -s second sub/l1
  ln -s baz sub/second; echo -n baz-contents > sub/baz
  ln -s sub link
}
check() {
  content /foo bar-contents
  entry /foo 'f '
  content /alllinks/l0 subfile-contents
  content /alllinks/lfile lfile-contents
  content /alllinks/l1 baz-contents
  entry /subdir/l0 'l 777 0 0 -> subfile'
  entry /subdir/second 'l 777 0 0 -> baz'
  content /through-link lfile-contents
}
