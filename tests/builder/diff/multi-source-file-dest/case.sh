# Several sources to a destination that is no directory and has no '/':
# BuildKit copies each in turn (one fsutil copy action per source, or per
# wildcard match), so files land on the destination, the last one winning,
# and directories merge their contents into it.  The classic builder (and
# buildah) refuse it: "When using COPY with more than one source file,
# the destination must be a directory and end with a /".
BUILDAH_FAILS='buildah refuses several sources to a file destination'
setup() {
  echo a > a; echo b > b; mkdir dir1 dir2; echo 1 > dir1/one; echo 2 > dir2/two
  echo x > f1.txt; echo y > f2.txt
}
check() {
  content /dest b
  entry /dest 'f 644 0 0'
  content /merged/one 1
  content /merged/two 2
  content /last y
}
