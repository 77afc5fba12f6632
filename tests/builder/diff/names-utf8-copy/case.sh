# COPY of context files whose names are UTF-8 (issue #10: the pax writer
# ran in the C locale and refused them).  Names are bytes in a layer.
setup() {
  echo u > ünï.txt; mkdir -p dír/sübdir; echo s > dír/sübdir/f€.txt
  echo m > 日本語.md
}
check() {
  content /ünï.txt u
  content /dír/sübdir/f€.txt s
  content /docs/日本語.md m
}
