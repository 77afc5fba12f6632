# Names outside ASCII read back from layers: a stage built on another
# (its layers extracted for RUN) and COPY --from reading a stage's layers.
setup() { mkdir ünï; echo a > ünï/ä.txt; echo b > "ünï/$(printf 'l\351')"; }
check() {
  content /copied/ä.txt a
  content "$(printf '/copied/l\351')" b
  content "$(printf '/copied/r\377')" r
  content /seen r
}
