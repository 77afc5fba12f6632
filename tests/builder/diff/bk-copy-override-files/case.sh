# BuildKit's testCopyOverrideFiles: copying the same things twice.
setup() { mkdir -p sub/dir1/dir2 files; printf foo-contents > sub/dir1/dir2/foo; printf foo.go-contents > files/foo.go; chmod 700 sub sub/dir1 sub/dir1/dir2 files; chmod 600 sub/dir1/dir2/foo files/foo.go; }
check() { content /sub/dir1/dir2/foo foo-contents; content /dest/foo.go foo.go-contents; }
