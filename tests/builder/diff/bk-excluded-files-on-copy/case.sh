# BuildKit's testExcludedFilesOnCopy (frontend/dockerfile/
# dockerfile_exclude_patterns_test.go, #4439), as it is: --exclude with
# wildcard sources (builder4 crashed dockwright), ADD of several
# directories to a destination without '/' (builder5: BuildKit copies
# each match in turn), everything excluded (builder6: an empty directory).
BUILDAH_FAILS='buildah 1.28 has no --exclude'
setup() {
  mkdir dir1 dir2 dir3; chmod 777 dir1 dir2 dir3
  printf 2 > dir1/file-101.png; printf 3 > dir1/file-102.txt; printf 4 > dir1/file-103.jpeg
  printf 6 > dir2/file-201.pdf; printf 7 > dir2/file-202.jpeg; printf 8 > dir2/file-203.png
  printf 9 > dir3/file-301.mp3; printf 10 > dir3/file-302.mpeg
  chmod 600 dir*/*
}
check() {
  absent /builder1/1/dir1/file-101.png; content /builder1/1/dir1/file-102.txt 3
  absent /builder1/1/dir1/file-103.jpeg; content /builder1/1/dir2/file-201.pdf 6
  absent /builder1/1/dir2/file-202.jpeg; absent /builder1/1/dir2/file-203.png
  content /builder1/1/dir3/file-301.mp3 9; content /builder1/1/dir3/file-302.mpeg 10
  content /builder2/2/dir1/file-101.png 2; absent /builder2/2/dir1/file-102.txt
  content /builder2/2/dir1/file-103.jpeg 4; absent /builder2/2/dir2/file-201.pdf
  content /builder2/2/dir2/file-202.jpeg 7; content /builder2/2/dir2/file-203.png 8
  content /builder2/2/dir3/file-301.mp3 9; content /builder2/2/dir3/file-302.mpeg 10
  absent /builder3/3/file-301.mp3; content /builder3/3/file-302.mpeg 10
  for f in 101.png 102.txt 103.jpeg 201.pdf 202.jpeg 203.png 301.mp3; do absent "/builder4/4/file-$f"; done
  content /builder4/4/file-302.mpeg 10
  for f in 101.png 103.jpeg 201.pdf 202.jpeg 203.png 301.mp3 302.mpeg; do absent "/builder5/5/file-$f"; done
  content /builder5/5/file-102.txt 3
  entry /builder6/6 'd '
  [[ -z $(ls -A "$DW_ROOT/builder6/6" 2>/dev/null) ]] || fail "/builder6/6 is not empty"
}
