# One ENV line expands every word against the environment before the line
# (frontend/dockerfile/dockerfile2llb/convert.go dispatch: words of an
# instruction that SupportsSingleWordExpansion are expanded with
# getEnv(d.state) before dispatchEnv runs; the Dockerfile reference's
# `ENV abc=bye def=$abc` example).  ARG is the exception: each pair sees
# the ones before it (dispatchArg: ProcessWord per arg, AddEnv after it).
# buildah expands `ARG X=a Y=${X}b` against the line before (Y=b): the
# file /out and Env differ there, asserted below.
ALLOW=('^/out ')
ALLOW_CFG=(Env)
check() {
  cfg '.Env | map(select(startswith("PATH=") | not))' \
    '["A=22","B=1","C=1-x","XY=ab","D=2"]'
  cfg .Labels '{"l1":"2","l2":"1","A":"3"}'
  content /out '22 1 1-x 2 ab'
}
