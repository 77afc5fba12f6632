# BuildKit's testWorkdirExists: WORKDIR on an existing directory keeps its
# owner.  Adapted: the local busybox has no adduser applet, so the user
# is appended to /etc/passwd and /etc/group.
check() { entry /mydir 'd 755 1001 1001'; }
