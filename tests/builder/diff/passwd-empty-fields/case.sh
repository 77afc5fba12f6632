# /etc/passwd and /etc/group entries with empty fields (no password): the
# fields keep their places (moby/sys/user parseLine splits at every ':').
check() {
  entry /by-user 'f 644 1234 2345'
  entry /by-user-group 'f 644 1234 999'
  entry /by-id-group 'f 644 1234 999'
  # (busybox's id prints no user name here; the kernel sorts the groups)
  content /tmp/id 'uid=1234 gid=2345 groups=777(mem),2345'
}
