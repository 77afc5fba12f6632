# BuildKit's testCopyChownExistingDir (frontend/dockerfile/
# dockerfile_test.go), its two stages in one image (copy_from under
# /plain): existing directories keep their owner and mode, with or without
# --chown (tonistiigi/fsutil copy: metadata is applied to the directories
# it creates); new ones take the source's owner, or --chown's.  Plus the
# same from the context, where an existing subdirectory meets a source
# directory of the same name.  buildah chowns an existing subdirectory
# (to the source's owner, or --chown's); and /plain holds the mount stubs
# buildah's RUN left in the stage (/run, /etc/hosts, ...).
ALLOW=('^(/plain)?/existingdir2?/existingsubdir d ' '^/plain/run d ' '^/plain/etc/(hostname|hosts|resolv\.conf) f ')
check() {
  # without --chown (stage copy_from)
  entry /plain/file 'f 644 100 200'
  entry /plain/dir 'd 755 0 0'
  entry /plain/dir/subdir 'd 755 101 201'
  entry /plain/dir/subdir/nestedfile 'f 644 102 202'
  entry /plain/existingdir 'd 755 500 600'
  entry /plain/existingdir/existingsubdir 'd 755 501 601'
  entry /plain/existingdir/existingfile 'f 644 501 601'
  entry /plain/existingdir/subdir 'd 755 101 201'
  entry /plain/existingdir/subdir/nestedfile 'f 644 102 202'
  entry /plain/existingdir2 'd 750 500 600'
  entry /plain/existingdir2/existingsubdir 'd 755 501 601'
  entry /plain/existingdir2/new 'f 644 0 0'
  # with --chown=300:400
  entry /file 'f 644 300 400'
  entry /dir 'd 755 300 400'
  entry /dir/subdir 'd 755 300 400'
  entry /dir/subdir/nestedfile 'f 644 300 400'
  entry /existingdir 'd 755 500 600'
  entry /existingdir/existingsubdir 'd 755 501 601'
  entry /existingdir/existingfile 'f 644 501 601'
  entry /existingdir/subdir 'd 755 300 400'
  entry /existingdir/subdir/nestedfile 'f 644 300 400'
  entry /existingdir2 'd 750 500 600'
  entry /existingdir2/existingsubdir 'd 755 501 601'
  entry /existingdir2/existingsubdir/c 'f 644 300 400'
  entry /existingdir2/new 'f 644 300 400'
}
