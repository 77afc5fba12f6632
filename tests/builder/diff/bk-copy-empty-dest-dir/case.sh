# BuildKit's testCopyEmptyDestDir and testCopyPreserveDestDirSlash: an
# empty destination is the working directory; "/sample/" a directory.
check() { content /testfile contents0; content /sample/testfile contents0; }
