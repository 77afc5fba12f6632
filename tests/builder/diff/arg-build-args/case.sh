# --build-arg overrides a declared ARG's default; one no ARG declares is
# not in RUN's environment; ARGs are not in the image's Env.
ARGS=(--build-arg B=cli-b --build-arg C=cli-c --build-arg UNDECLARED=u)
check() {
  content /args 'default-a cli-b [cli-c] []'
  cfg .Env '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
}
