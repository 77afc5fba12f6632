# HEALTHCHECK in the config (dispatchHealthcheck: durations in
# nanoseconds, shell form as CMD-SHELL, NONE as ["NONE"]); the raw config
# blob carries it (skopeo inspect --config without --raw drops it).
ARGS=(--target two)
check() {
  cfg .Healthcheck '{"Test":["CMD-SHELL","/bin/true shell form"]}'
}
