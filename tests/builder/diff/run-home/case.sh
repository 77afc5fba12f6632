# HOME for RUN: the user's passwd home, "/" for a uid not in passwd, an
# ENV HOME wins (runc's GetExecUser defaults; BuildKit sets HOME only when
# the environment lacks it).
check() {
  content /tmp/home-app /home/app
  content /tmp/home-unknown /
  content /tmp/home-env /custom
  entry /tmp/home-unknown 'f 644 4242 0'
}
