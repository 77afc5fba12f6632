# COPY from heredocs: expanded unless the name is quoted, --chmod applies,
# several heredocs into a directory by their names (dispatchCopy with
# SourceContents; testCopyHeredoc* in BuildKit's dockerfile_heredoc_test.go).
BUILDAH_FAILS='buildah 1.28 has no heredocs'
check() {
  content /hello.txt 'hello world'
  entry /script.sh 'f 755 0 0'
  content /script.sh "$(printf '#!/bin/sh\necho "$NAME stays"')"
  content /multi/A a
  content /multi/B b
}
