# Names outside ASCII read back from layers: a stage built on another
# (its layers extracted for RUN) and COPY --from reading a stage's layers;
# symlink targets outside ASCII too (pax "linkpath").
setup() {
  mkdir ünï; echo a > ünï/ä.txt; echo b > "ünï/$(printf 'l\351')"
  ln -s ä.txt ünï/lïnk; ln -s "$(printf 'l\351')" ünï/latin-link
}
check() {
  content /copied/ä.txt a
  content "$(printf '/copied/l\351')" b
  content "$(printf '/copied/r\377')" r
  content /seen r
  entry /copied/lïnk 'l 777 0 0 -> \xc3\xa4.txt'
  entry /copied/latin-link 'l 777 0 0 -> l\xe9'
  content /through-link a
}
