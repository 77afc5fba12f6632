# WORKDIR under USER by name: every directory it creates belongs to the
# user, resolved through the image's /etc/passwd
# (frontend/dockerfile/dockerfile2llb/convert.go dispatchWorkdir:
# llb.Mkdir(wd, 0755, llb.WithParents(true), llb.WithUser(config.User));
# BuildKit's testWorkdirUser).  buildah creates them as root, and not at
# all for a WORKDIR no later step uses (BuildKit's Mkdir always runs).
ALLOW=('^/home/app(/src(/deep|/other)?)? d ' '^/rootowned[ /]')
check() {
  entry /home 'd 755 0 0'
  entry /home/app 'd 755 1000 1000'
  entry /home/app/src 'd 755 1000 1000'
  entry /home/app/src/deep 'd 755 1000 1000'
  entry /home/app/src/other 'd 755 1000 1000'
  entry /home/app/src/deep/mine 'f 644 1000 1000'
  content /home/app/src/deep/uid 1000
  entry /rootowned/x 'd 755 0 0'
  cfg .WorkingDir '"/rootowned/x"'
}
