# COPY --from a stage defined later fails with BuildKit's words
# (dockerfile2llb/convert.go dispatch: "cannot copy from stage %q, it
# needs to be defined before current stage %q").
ARGS=(--target first)
EXPECT_FAIL='cannot copy from stage "second", it needs to be defined before current stage "first"'
BUILDAH_SKIP='buildah builds the later stage first'
