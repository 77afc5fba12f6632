# ENV is inherited through FROM <stage> (dispatchState.init clones the
# base's image config), an ARG is not in the child's environment (it is
# no ENV: AddEnv only on the stage's own state).  buildah moves a re-set
# variable to the end of Env; BuildKit's addEnv (dockerfile2llb/
# convert.go) replaces it in place.
ALLOW_CFG=(Env)
check() {
  content /seen 'base base-child [] /opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  # (addEnv: a known name is replaced in place, a new one appended)
  cfg '.Env' '["PATH=/opt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","FROMBASE=final","CHILD=base-child"]'
}
