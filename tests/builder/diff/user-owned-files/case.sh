# USER by name and by id: COPY and ADD ignore it (root unless --chown;
# dispatchCopy passes only --chown to llb.Copy), RUN's files belong to it
# (the executor runs as the resolved user).
check() {
  entry /copied-as-user 'f 644 0 0'
  entry /added-as-user 'f 644 0 0'
  entry /chowned-by-name 'f 644 1234 2345'
  entry /added-chowned 'f 644 1234 2345'
  entry /home/dwu/run-by-name 'f 644 1234 2345'
  entry /home/dwu/d 'd 755 1234 2345'
  entry /tmp/run-by-id 'f 644 1000 65534'
  entry /tmp/by-root 'f 644 0 0'
  cfg .User '"root"'
}
