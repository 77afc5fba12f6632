# Names that are not UTF-8 at all (bytes 0xff, 0xfe; Latin-1 é as 0xe9):
# from the context and from a RUN, carried byte for byte (BuildKit's
# archive/tar writes the name's bytes as they are: Go strings are bytes).
setup() {
  echo a > "$(printf 'lat\351n')"; mkdir "$(printf 'd\377')"
  echo b > "$(printf 'd\377/\376f')"
}
check() {
  content "$(printf '/ctx/lat\351n')" a
  content "$(printf '/ctx/d\377/\376f')" b
  content "$(printf '/r\377/b\376')" r
}
