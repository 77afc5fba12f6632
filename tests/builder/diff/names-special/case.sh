# Names with spaces, quotes, #, brackets, a leading dash, a newline-free
# backslash: from the context and in JSON form.
setup() {
  echo s > 'with space.txt'; echo q > "it's \"q\".txt"; echo h > '#hash'
  echo b > '[bracket]'; echo d > -dash; echo bs > 'back\slash'
}
check() {
  content "/ctx/with space.txt" s
  content "/ctx/it's \"q\".txt" q
  content '/ctx/#hash' h
  content '/ctx/[bracket]' b
  content /ctx/-dash d
  content '/ctx/back\slash' bs
  content "/json form/with space.txt" s
}
