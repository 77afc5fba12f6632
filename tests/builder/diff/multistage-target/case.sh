# --target builds the named stage and what it needs only (the failing
# stage `three` and the last one are never run: dockerfile2llb builds the
# target's reachable stages).
ARGS=(--target two)
check() {
  content /one one
  content /two two
  content /copied-one one
  absent /three
  absent /final
}
