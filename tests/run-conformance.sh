#!/usr/bin/env bash
# Conformance against BuildKit's data, with the sanitizer build so a crash
# or a leak fails the run.  Usage: tests/run-conformance.sh CORPUS_DIR
# Ends with "N passed, N failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
corpus=${1:?usage: tests/run-conformance.sh CORPUS_DIR}
bin=build-asan/tests
bk=$corpus/buildkit-parser
passed=0 failed=0 log=$(mktemp)

run() { # name, command...
  local name=$1; shift
  echo "== conformance: $name"
  timeout 600 "$@" 2>&1 | tee "$log" | grep -v '^ok ' | tail -n 60
  local line p f
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)
  if [[ -z $line ]]; then
    echo "conformance: $name did not finish"; failed=$((failed + 1)); return
  fi
  p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
  passed=$((passed + p)); failed=$((failed + f))
}

run "BuildKit testfiles" "$bin/conform" testfiles "$bk"
run "BuildKit Go test data" "$bin/conform" gotests "$bk"
run "BuildKit shell tables" "$bin/shell_tables" "$bk/shell/envVarTest" "$bk/shell/wordsTest"
run "real-world corpus" "$bin/conform" real "$corpus/real" "$corpus/real-buildkit-dump" "$corpus/real/SOURCES.tsv"
# The formatter: BuildKit's dump unchanged and idempotent over the official
# and project files (analysis/format.h).
run "formatter over the real-world corpus" "$bin/format_check" --tsv "$corpus/real/SOURCES.tsv" --kinds official-image,project "$corpus/real"
rm -f "$log"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
