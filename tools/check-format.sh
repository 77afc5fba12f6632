#!/usr/bin/env bash
# Checks that every C file we write follows .clang-format (generated and
# vendored files excluded).  Prints the files that differ; exits 1 if any.
set -uo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' |
  grep -v -e '^grammar/src/parser.c$' -e '^grammar/src/tree_sitter/' -e '^grammar/bindings/')
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=1
  fi
done
exit $bad
