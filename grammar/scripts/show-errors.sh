#!/bin/sh
# Prints the source line of every ERROR / MISSING node in the given files.
for f in "$@"; do
  "$(dirname "$0")/../../tools/tree-sitter" parse "$f" 2>/dev/null |
    grep -oE '\((ERROR|MISSING[^[]*) \[[0-9]+, [0-9]+\]' |
    sed -E 's/.*\[([0-9]+), ([0-9]+)\]/\1 \2/' | sort -un -k1,1 |
    while read -r row col; do
      printf '%s:%d:%d: %s\n' "$(basename "$f")" $((row + 1)) "$col" "$(sed -n "$((row + 1))p" "$f" | cut -c1-120)"
    done
done
