# BuildKit's testCopyChmod, as it is (--build-arg mode=755).
ARGS=(--build-arg mode=755)
BUILDAH_FAILS='buildah 1.28 does not expand --chmod=${mode}'
setup() { printf foo-contents > foo; printf bar-contents > bar; chmod 600 foo; chmod 700 bar; }
check() {
  content /fooperm 0644
  content /barperm 0777
  content /foobisperm 0000
  content /footerperm 0755
}
