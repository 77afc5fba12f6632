# BuildKit's testHeredocVarSubstitution: an unquoted COPY heredoc expands
# ${name} (quotes inside kept), a quoted one keeps it; a RUN heredoc is
# the shell's to expand (shadowing works).
BUILDAH_FAILS='buildah 1.28 has no heredocs'
check() {
  content /c1 'Hello world!'
  content /c2 'Hello ${name}!'
  content /c3 'Hello ${name}!'
  content /q1 "Hello 'world'!"
  content /q2 'Hello "world"!'
  content /qsingle1 "Hello '\${name}'!"
  content /qsingle2 'Hello "${name}"!'
  content /qdouble1 "Hello '\${name}'!"
  content /qdouble2 'Hello "${name}"!'
  content /r1 'Hello world!'
  content /r2 'Hello new world!'
}
