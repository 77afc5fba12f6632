# BuildKit's testCopyChown (frontend/dockerfile/dockerfile_test.go),
# adapted: the local busybox has no "daemon" user, so "app" (1000:1000).
ARGS=(--build-arg group=nobody)
setup() { printf foo-contents > foo; mkdir bar; : > bar/sub; chmod 700 bar; chmod 600 foo bar/sub; }
check() {
  content /fooowner 'app app'
  content /subowner '1000 nobody'
  content /foobisowner '1000 nobody'
}
