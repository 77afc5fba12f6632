# What a RUN leaves of its mount points, as BuildKit: the --mount targets
# it made and their parents it made, and /etc/hosts, /etc/resolv.conf,
# are removed when still empty (executor/stubs.go MountStubsCleaner, with
# the Dockerfile frontend's RemoveMountStubsRecursive); /proc, /sys and
# /dev, which the runtime made on this base that lacks them, stay
# (moby/buildkit#3455).  A file the command wrote next to a mount target
# stays with its directory.  buildah leaves the parents it made for a
# tmpfs target (/scratch/deep).
ALLOW=('^/scratch(/deep)? d ')
check() {
  absent /scratch
  absent /var/cache/c
  content /var/cache/next-to-mount kept
  absent /etc/ctxmount
  absent /etc/hosts
  absent /etc/resolv.conf
  entry /proc 'd 755 0 0'
  entry /sys 'd 755 0 0'
  entry /dev 'd 755 0 0'
  content /from-bind bound
}
