# SHELL applies to RUN and to shell-form CMD and ENTRYPOINT (convert.go
# dispatchCmd / dispatchEntrypoint: withShell(d.image, args)); ENTRYPOINT
# keeps a CMD set earlier in the same stage (dispatchEntrypoint clears Cmd
# only when this stage set none: d.cmd.IsSet).  buildah ignores SHELL for
# CMD and ENTRYPOINT.
ALLOW_CFG=(Cmd Entrypoint)
check() {
  cfg .Shell '["/bin/sh","-e","-c"]'
  cfg .Entrypoint '["/bin/sh","-e","-c","exec echo entry"]'
  cfg .Cmd '["/bin/sh","-e","-c","echo shell form"]'
}
