# BuildKit's testCopyChownCreateDest: the destination directory COPY
# makes is owned by --chown (names from users a RUN added).  Adapted: no
# adduser applet in the local busybox; the RUN appends the users.
ARGS=(--build-arg group=user)
check() { entry /dest 'd 755 1001 1001'; entry /dest01 'd 755 1002 1001'; }
