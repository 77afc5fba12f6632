# BuildKit's testCopyRelative (frontend/dockerfile/dockerfile_test.go),
# on the local base: relative WORKDIR and destinations.
check() {
  cfg .WorkingDir '"/test5/test6"'
  content /test5/foo hello
  content /test1/test2/bar/baz hello
}
