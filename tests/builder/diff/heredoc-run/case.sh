# RUN heredocs (dispatchRun: a heredoc with a shebang runs as a file, one
# without through the shell; several heredocs on one line are handed to
# the shell whole).
BUILDAH_FAILS='buildah 1.28 has no heredocs'
check() {
  content /one 'one env'
  content /two two
  content /quoted '$WHO'
  content /shebang shebang
  content /a from-a
  content /b from-b
}
