# Destinations through symlinks in the image are followed inside the
# root (fsutil copy: fs.RootPath).
check() {
  content /real/f f
  content /real/sub/viarel f
  content /real/sub/rel f
  entry /alink 'l 777 0 0 -> /real'
  cfg .WorkingDir '"/alink/sub"'
}
