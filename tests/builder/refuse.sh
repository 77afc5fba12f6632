#!/usr/bin/env bash
# refuse.sh - one rulebook (model/refuse.h): whatever the builder refuses
# from the Dockerfile alone, `dockwright lint` reports first, on the same
# line and in the same words.  Each case is built (the build must fail
# before it pulls anything or reads the context: no registry runs here) and
# linted; the build's message and the lint's first error must be equal.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$T/ctx"
n=0
case_() { # description dockerfile-text want-words
  local d=$1 text=$2 want=$3 f="$T/ctx/Dockerfile.$((++n))"
  printf '%s\n' "$text" >"$f"
  local blog lint bmsg bline lmsg lline
  blog=$(timeout 60 "$DW" build -f "$f" --root "$T/store" "$T/ctx" 2>&1 >/dev/null)
  # "dockwright: build failed (line N): FILE:N: words"
  bline=$(sed -n 's/.*build failed (line \([0-9]*\)).*/\1/p' <<<"$blog" | head -1)
  bmsg=$(sed -n "s|.*build failed (line [0-9]*): $f:[0-9]*: ||p" <<<"$blog" | head -1)
  lint=$("$DW" lint "$f" 2>&1 | grep ': error: ' | head -1)
  lline=$(sed -n "s|^$f:\([0-9]*\):.*|\1|p" <<<"$lint")
  lmsg=$(sed -n 's/.*: error: \(.*\) \[[A-Za-z]*\]$/\1/p' <<<"$lint")
  # (the analysis may add a suggestion after the builder's words)
  if [[ $bmsg == "$want" && ($lmsg == "$want" || $lmsg == "$want (did you mean "*) &&
    -n $bline && $bline == "$lline" ]]; then
    ok "$d: $want"
  else
    bad "$d"
    echo "    want:  $want"
    echo "    build: line ${bline:-?}: ${bmsg:-$blog}"
    echo "    lint:  line ${lline:-?}: ${lmsg:-$lint}"
  fi
}

# instructions/parse.go: the instruction as a whole.
case_ "stage name starting with a digit" 'FROM scratch AS 1bad' \
  'invalid name for build stage: "1bad", name can'"'"'t start with a number or contain symbols'
case_ "FROM with two words" $'FROM scratch\nFROM a b' \
  "FROM requires either one or three arguments: expected AS after the image name"
case_ "HEALTHCHECK of an unknown type" $'FROM scratch\nHEALTHCHECK RUN x' \
  'Unknown type "RUN" in HEALTHCHECK (try CMD)'
case_ "HEALTHCHECK NONE with arguments" $'FROM scratch\nHEALTHCHECK NONE x' \
  "HEALTHCHECK NONE takes no arguments"
case_ "HEALTHCHECK CMD without a command" $'FROM scratch\nHEALTHCHECK CMD' \
  "Missing command after HEALTHCHECK CMD"
case_ "a heredoc as COPY's destination" $'FROM scratch\nCOPY x <<EOF\nhi\nEOF' \
  "COPY cannot accept a heredoc as a destination"
case_ "COPY with one argument" $'FROM scratch\nCOPY x' \
  "COPY requires at least two arguments, but only one was provided. Destination could not be determined."
case_ "EXPOSE without a port" $'FROM scratch\nEXPOSE' "EXPOSE requires at least one argument"
case_ "VOLUME of an empty string" $'FROM scratch\nVOLUME ""' \
  "VOLUME specified can not be an empty string"
case_ "ONBUILD MAINTAINER" $'FROM scratch\nONBUILD MAINTAINER x' \
  "MAINTAINER isn't allowed as an ONBUILD trigger"
case_ "SHELL not in JSON" $'FROM scratch\nSHELL /bin/sh -c' \
  "SHELL requires the arguments to be in JSON form"
case_ "check directive with an unknown option" $'# check=skip=all;foo=bar\nFROM scratch' \
  'failed to parse check options: invalid check option "foo"'
case_ "COPY --from a later stage" $'FROM scratch AS a\nCOPY --from=b x /y\nFROM scratch AS b' \
  'cannot copy from stage "b", it needs to be defined before current stage "a"'
case_ "COPY --from an index past the last stage" $'FROM scratch\nCOPY --from=3 x /y' \
  "invalid stage index 3"
# The tutorial's first line (distribution/reference's words).
case_ "FROM with upper case" $'FROM busybox\nRUN true\nFROM Ubuntu' \
  "invalid reference format: repository name must be lowercase"
case_ "FROM with a bad tag" 'FROM busybox:-x' "invalid reference format"
case_ "FROM with a short digest" 'FROM busybox@sha256:12' "invalid reference format"
case_ "FROM with a doubled slash" 'FROM a//b' "invalid reference format"
case_ "COPY --from naming no stage" $'FROM scratch AS base\nCOPY --from=Base2 a /b' \
  "invalid reference format: repository name must be lowercase"
case_ "FROM --platform with a dash" 'FROM --platform=linux-amd64 scratch' \
  'bad platform "linux-amd64" (want os/arch[/variant])'
case_ "COPY --chmod not octal" $'FROM scratch\nCOPY --chmod=999 a /b' \
  "invalid chmod parameter: '999'. it should be octal string and between 0 and 07777"
case_ "ADD --chmod too large" $'FROM scratch\nADD --chmod=17777 a /b' \
  "invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777"
case_ "EXPOSE port out of range" $'FROM scratch\nEXPOSE 80 70000' "invalid containerPort: 70000"
case_ "EXPOSE reversed range" $'FROM scratch\nEXPOSE 90-80' \
  "invalid range specified for container port: 90-80"
case_ "EXPOSE bad protocol" $'FROM scratch\nEXPOSE 80/xyz' "invalid proto: xyz"
case_ "STOPSIGNAL unknown" $'FROM scratch\nSTOPSIGNAL SIGFOO' "Invalid signal: SIGFOO"
case_ "STOPSIGNAL zero" $'FROM scratch\nSTOPSIGNAL 0' "Invalid signal: 0"
case_ "HEALTHCHECK duration without unit" $'FROM scratch\nHEALTHCHECK --interval=30 CMD true' \
  'time: invalid duration "30"'
case_ "HEALTHCHECK duration under 1ms" $'FROM scratch\nHEALTHCHECK --timeout=10us CMD true' \
  'Interval "timeout" cannot be less than 1ms'
case_ "HEALTHCHECK negative retries" $'FROM scratch\nHEALTHCHECK --retries=-1 CMD true' \
  '--retries cannot be negative (-1)'
case_ "HEALTHCHECK retries not a number" $'FROM scratch\nHEALTHCHECK --retries=x CMD true' \
  '--retries must be an integer, not "x"'
case_ "RUN --mount with an unknown key" $'FROM scratch\nRUN --mount=type=cache,target=/c,colour=red true' \
  "unexpected key 'colour' in 'colour=red'"
case_ "RUN --mount of an unknown type" $'FROM scratch\nRUN --mount=type=nfs,target=/c true' \
  'unsupported mount type "nfs"'
case_ "RUN --mount size on a cache" $'FROM scratch\nRUN --mount=type=cache,target=/c,size=1m true' \
  "unexpected key 'size' for mount type 'cache'"
case_ "RUN --mount uid on a bind" $'FROM scratch\nRUN --mount=target=/c,uid=1 true' \
  'uid not allowed for "bind" type mounts'
case_ "RUN --mount from a variable" $'FROM scratch\nARG S=x\nRUN --mount=from=$S,target=/c true' \
  "'from' doesn't support variable expansion, define alias stage instead"
case_ "RUN --mount bad sharing" $'FROM scratch\nRUN --mount=type=cache,target=/c,sharing=all true' \
  'unsupported sharing value "all"'
case_ "RUN --network unknown" $'FROM scratch\nRUN --network=bridge true' \
  'unsupported network mode "bridge"'
# A value holding a variable is known only at build time: the lint is
# silent, the build refuses it when it comes to it (same words, later).
printf 'FROM scratch\nARG m=999\nCOPY --chmod=$m a /b\n' >"$T/ctx/Dockerfile.var"
if "$DW" lint "$T/ctx/Dockerfile.var" | grep -q ': error: '; then
  bad "a variable's value is left to the build"
else
  ok "a variable's value is left to the build"
fi
# The flags' rulebook (model/flags.h) goes the same way.
case_ "unknown flag" $'FROM scratch\nCOPY --frm=x a /b' "unknown flag: frm"
finish
