# ARG scoping: global ARGs reach a stage only when declared in it (with
# their global value), a stage's ARG ends with the stage, a build arg
# overrides the default (dispatchArg: buildArgValues first, then the
# global value, then the default expanded against the stage's env).
ARGS=(--build-arg H=from-cli)
check() {
  content /one 'global from-cli local-global'
  content /two 'G= L='
  cfg '.Env | map(select(startswith("PATH=") | not))' '["E=over"]'
}
