# BuildKit's testWorkdirCopyIgnoreRelative: a --from source path is
# relative to the source stage's root, not its WORKDIR.
check() { entry /Dockerfile 'f '; }
