# --chmod applies to every file and directory copied (fsutil copy: Mode
# overrides; BuildKit's testCopyChmod, testAddURLChmod's 0413), the
# destination directory it makes included; setuid kept.  A plain COPY
# keeps the context's mode (buildah drops setuid bits: not tested here).
setup() { chmod 755 dir dir/sub; chmod 644 file dir/sub/s; }
check() {
  entry /d700/sub 'd 700 0 0'
  entry /d700/sub/s 'f 700 0 0'
  entry /f640 'f 640 0 0'
  entry /suid 'f 4755 0 0'
  entry /f413 'f 413 0 0'
  entry /plain 'f 644 0 0'
}
