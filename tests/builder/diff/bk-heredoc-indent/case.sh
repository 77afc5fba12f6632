# BuildKit's testHeredocIndent (frontend/dockerfile/
# dockerfile_heredoc_test.go): <<EOF keeps leading tabs, <<-EOF removes
# them, for COPY and RUN heredocs (plain shell, shebang, redirect).
BUILDAH_FAILS='buildah 1.28 has no heredocs'
check() {
  content /foo-copy "$(printf '\tfoo')"
  content /bar-copy bar
  content /foo-run "$(printf '\n\tfoo')"
  content /foo2-run "$(printf '\n\tfoo')"
  content /foo3-run "$(printf '\n\tfoo')"
  content /bar-run "$(printf '\nbar')"
  content /bar2-run "$(printf '\nbar')"
  content /bar3-run "$(printf '\nbar')"
}
