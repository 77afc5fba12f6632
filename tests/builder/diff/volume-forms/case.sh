# VOLUME in JSON and plain forms, expanded; a RUN after it still writes
# into the volume path (BuildKit keeps what RUN writes; VOLUME only
# records the config).  buildah makes the volume directories and drops
# what a later RUN writes in them (the classic builder's behaviour).
ALLOW=('^/[abcde] d ' '^/c/x ')
check() {
  cfg .Volumes '{"/a":{},"/b":{},"/c":{},"/d":{},"/e":{}}'
  content /c/x x
  absent /a
}
