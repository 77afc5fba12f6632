# Symlinks and hardlinks made in the image: copied from a stage, a
# directory's links stay links (dangling ones too) and its hardlinks stay
# one inode; a source that is a symlink is followed, relative or absolute
# (resolved inside the source stage: testCopyThroughSymlinkMultiStage).
check() {
  entry /copied/rel 'l 777 0 0 -> d/x'
  entry /copied/abs 'l 777 0 0 -> /out/d/x'
  entry /copied/dangling 'l 777 0 0 -> missing'
  entry /copied/d/hard 'f 644 0 0 2 '
  content /followed-rel x
  content /followed-abs x
  content /copied/d/via-link via
}
