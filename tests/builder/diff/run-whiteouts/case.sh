# Deletions become whiteouts, a directory deleted and made again an opaque
# one: the unpacked image shows only what the last layer left.
check() {
  absent /d/one
  absent /d/sub/two
  content /d/sub/back back
  absent /keep/k
  content /keep/new new
  absent /etc/extra
  absent /bin/cat
}
