# .dockerignore with exclusions, exceptions (!), ** and a directory
# pattern (moby/patternmatcher, used by BuildKit's context transfer).
setup() {
  mkdir -p a/b/c logs keep docs
  echo 1 > a/b/c/x.tmp; echo 2 > a/b/c/y.txt; echo 3 > logs/l.log; echo 4 > logs/keep.log
  echo 5 > keep/k.tmp; echo 6 > docs/d.md; echo 7 > top.tmp; echo 8 > .hidden
  printf '**/*.tmp\n!keep/*.tmp\nlogs\n!logs/keep.log\n*.md\ndocs/*.md\nDockerfile\n' > .dockerignore
}
check() {
  absent /ctx/a/b/c/x.tmp
  content /ctx/a/b/c/y.txt 2
  absent /ctx/logs/l.log
  content /ctx/logs/keep.log 4
  content /ctx/keep/k.tmp 5
  absent /ctx/docs/d.md
  absent /ctx/top.tmp
  content /ctx/.hidden 8
  absent /ctx/Dockerfile
  entry /ctx/.dockerignore 'f 644 0 0'
}
