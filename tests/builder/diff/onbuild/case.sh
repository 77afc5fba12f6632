# ONBUILD triggers run when a stage is used as a base (convert.go:
# initOnBuildTriggers takes the base stage's OnbuildCommands), once: the
# child's image has them cleared; the final stage's own ONBUILD is kept
# in its config, not run.
check() {
  content /triggered triggered
  content /base base
  absent /never
  cfg '.Labels["from-trigger"]' '"yes"'
  cfg .OnBuild '["RUN echo never > /never"]'
}
