# ENV quoting: double quotes, escaped spaces, single quotes keep $, an
# escaped quote; the legacy `ENV KEY value` form keeps the rest of the
# line; an empty value.  E sees A and B as they were before the line
# (unset): see env-same-line.
check() {
  content /env 'a b|c d|$HOME|x"y|-|value with   spaces|'
  cfg '.Env[1:]' '["A=a b","B=c d","C=$HOME","D=x\"y","E=-","LEGACY=value with   spaces","EMPTY="]'
}
