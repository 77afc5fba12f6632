# COPY --exclude with several patterns and a wildcard source (BuildKit's
# testExcludedFilesOnCopy, frontend/dockerfile/dockerfile_test.go; it
# crashed dockwright); patterns match relative to each source
# (llb.CopyInfo.ExcludePatterns).
setup() {
  mkdir -p dir1 dir2/sub
  for f in a.mp3 b.jpeg c.png d.pdf e.txt keep.go; do echo "$f" > "dir1/$f"; echo "$f" > "dir2/$f"; done
  echo s > dir2/sub/s.go; echo t > top.txt
}
BUILDAH_SKIP='buildah 1.28 has no COPY --exclude'
check() {
  content /4/keep.go keep.go
  absent /4/a.mp3; absent /4/c.png; absent /4/e.txt
  absent /4/dir1
  content /5/dir1/keep.go keep.go
  absent /5/dir2/sub/s.go
  absent /5/dir1/e.txt; absent /5/top.txt
  content /5/dir1/a.mp3 a.mp3
  content /6/a.mp3 a.mp3
  absent /6/c.png
}
