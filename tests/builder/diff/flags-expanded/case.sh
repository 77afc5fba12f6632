# Flags BuildKit expands with the ARG/ENV in scope: --chmod, --chown,
# --exclude (instructions/commands.go's Expand methods), RUN --mount
# options (instructions/parse.go parseMount gets the expander); BuildKit's
# testCopyChmod with --build-arg mode=755.  (--from is not expanded by BuildKit: toCommand
# looks the stage up by the raw value.)
ARGS=(--build-arg mode=755)
BUILDAH_FAILS='buildah 1.28 does not expand --chmod nor know --exclude'
check() {
  entry /f 'f 755 0 0'
  entry /g 'f 700 0 0'
  entry /h 'f 644 1000 65534'
  content /dir/k k
  absent /dir/x.skip
  entry /a 'f 755 1000 1000'
  content /from-mount s
}
