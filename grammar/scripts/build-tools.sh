#!/bin/sh
# Builds scripts/dumptree against the system tree-sitter runtime (0.20.7).
set -e
cd "$(dirname "$0")/.."
mkdir -p build
gcc -std=c11 -O2 -Wall -Wextra -c src/scanner.c -I src -o build/scanner.o
gcc -std=c11 -O2 -w -c src/parser.c -I src -o build/parser.o
gcc -std=c11 -O2 -Wall -D_POSIX_C_SOURCE=200809L scripts/dumptree.c build/parser.o build/scanner.o -ltree-sitter -o build/dumptree
