# --start-interval (instructions/parse.go parseHealthcheck, Docker 25+):
# StartInterval in nanoseconds.
BUILDAH_FAILS='buildah 1.28: "flag provided but not defined: -start-interval"'
check() {
  cfg .Healthcheck '{"Test":["CMD","/bin/true"],"Interval":60000000000,"StartInterval":2000000000}'
}
