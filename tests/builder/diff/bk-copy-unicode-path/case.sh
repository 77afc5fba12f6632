# BuildKit's testCopyUnicodePath (on the local busybox, not alpine).
setup() { printf foo > test-äöü.txt; printf bar > test-%C3%A4%C3%B6%C3%BC.txt; printf baz > test+aou.txt; }
check() { content /test-äöü.txt foo; content /test-%C3%A4%C3%B6%C3%BC.txt bar; content /test+aou.txt baz; }
