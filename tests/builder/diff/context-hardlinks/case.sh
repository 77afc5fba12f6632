# Hardlinks in the context: inside one COPY of a directory they stay
# hardlinks (tonistiigi/fsutil copy keeps an inode map per copy); two
# sources that are one inode are two copy actions (dispatchCopy: one
# llb.Copy per source), so two files.
setup() { mkdir -p tree/sub; echo h > tree/a; ln tree/a tree/b; ln tree/a tree/sub/c; }
check() {
  entry /tree/a 'f 644 0 0 2 '
  content /tree/sub/c h
  [[ $(stat -c %i "$DW_ROOT/tree/a") == $(stat -c %i "$DW_ROOT/tree/sub/c") ]] || fail "tree/a and tree/sub/c are not one inode"
  entry /pair/a 'f 644 0 0 2 '
  entry /pair/b 'f 644 0 0 2 '
  [[ $(stat -c %h "$DW_ROOT/pair/a") == 1 ]] || fail "/pair/a is hardlinked"
}
