# BuildKit's testCopyWildcards (frontend/dockerfile/dockerfile_test.go),
# adapted to the local base image; `COPY f*.go foo2.go`: a wildcard with
# one match copies to a file destination.  Plus dotfiles (a wildcard
# matches them when the pattern starts with a dot) and a bracket class.
setup() { chmod 700 sub sub/dir1 sub/dir1/dir2; chmod 600 foo.go bar.go sub/dir1/dir2/foo; }
check() {
  content /gofiles/foo.go foo-contents
  content /gofiles/bar.go bar-contents
  content /foo2.go foo-contents
  content /subdest/dir2/foo foo-contents
  content /subdest2/foo foo-contents
  content /subdest3/bar foo-contents
  content /subdest4/dir2/foo foo-contents
  content /subdest5/dir2/foo foo-contents
  content /subdest6/dir2/foo foo-contents
  content /dots/.dotfile d
  content /dots/in e
  content /bracket/bar.go bar-contents
}
