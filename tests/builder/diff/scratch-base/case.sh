# FROM scratch: no base layer; the config gets BuildKit's default PATH
# (toDispatchState: "make sure that PATH is always set").  buildah makes
# no WORKDIR directory that no later step uses (BuildKit's Mkdir does).
ALLOW=('^/w d ')
check() {
  content /f f
  content /d/i i
  entry /w 'd 755 0 0'
  cfg .Env '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=1"]'
  cfg .Cmd '["/f"]'
}
