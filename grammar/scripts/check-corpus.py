#!/usr/bin/env python3
"""Checks the grammar against the shared corpus:
  - ERROR / MISSING counts by kind (official-image, project, test-fixture);
  - top-level instruction count vs BuildKit's dump (real-buildkit-dump);
  - instruction start/end rows vs scripts/bkref.py (BuildKit line rules);
  - every line is covered by an instruction, comment, directive or is blank.
Usage: scripts/check-corpus.py [-v] [files...]"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import bkref  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DUMP = os.path.join(HERE, '..', 'build', 'dumptree')
CORPUS = '/work/shared/corpus/real'
BKDUMP = '/work/shared/corpus/real-buildkit-dump'
NON_INSTR = {'comment', 'parser_directive', 'ERROR', 'line_continuation'}


def kinds():
    k = {}
    with open(os.path.join(CORPUS, 'SOURCES.tsv')) as f:
        next(f)
        for line in f:
            cols = line.rstrip('\n').split('\t')
            k[cols[0]] = cols[5]
    return k


def run_dump(files):
    out = subprocess.run([DUMP] + files, capture_output=True, text=True,
                         errors='replace', timeout=600).stdout
    res, cur = {}, None
    for line in out.splitlines():
        cols = line.split('\t')
        if cols[0] == 'FILE':
            cur = cols[1]
            res[cur] = {'err': int(cols[2]), 'miss': int(cols[3]), 'nodes': []}
        else:
            res[cur]['nodes'].append((cols[0], int(cols[1]), int(cols[2]), int(cols[3]), int(cols[4])))
    return res


def main():
    verbose = '-v' in sys.argv
    args = [a for a in sys.argv[1:] if a != '-v']
    kind = kinds()
    files = args or sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS) if f != 'SOURCES.tsv')
    res = run_dump(files)
    stats = {}
    bad_count, bad_rows, bad_cover = [], [], []
    for path in files:
        name = os.path.basename(path)
        k = kind.get(name, 'other')
        r = res.get(path)
        st = stats.setdefault(k, {'files': 0, 'err_files': 0, 'err': 0, 'miss': 0})
        st['files'] += 1
        if r is None:
            st['err_files'] += 1
            continue
        if r['err'] or r['miss']:
            st['err_files'] += 1
            st['err'] += r['err']
            st['miss'] += r['miss']
            if verbose:
                print('ERROR', k, path, r['err'], r['miss'])
        instr = [n for n in r['nodes'] if n[0] not in NON_INSTR]
        data = open(path, 'rb').read()
        ref = bkref.instructions(data)
        dump = os.path.join(BKDUMP, name + '.result')
        if os.path.exists(dump):
            expected = sum(1 for _ in open(dump, errors='replace'))
            if expected != len(instr):
                bad_count.append((path, expected, len(instr)))
        got_rows = [(n[1], n[2]) for n in instr]
        ref_rows = [(s, e) for s, e, _ in ref]
        if got_rows != ref_rows:
            bad_rows.append((path, ref_rows, got_rows))
        # coverage: every non-blank line inside some top-level node
        text = data.decode('utf-8', errors='replace').split('\n')
        covered = [False] * (len(text) + 1)
        for n in r['nodes']:
            for row in range(n[1], n[2] + 1):
                if row < len(covered):
                    covered[row] = True
        for row, line in enumerate(text):
            if line.strip(bkref.SPACES + '\ufeff') and not covered[row]:
                bad_cover.append((path, row, line[:60]))
                break
    for k, st in sorted(stats.items()):
        print(f"{k:15} files={st['files']:4} files_with_errors={st['err_files']:3} ERROR={st['err']} MISSING={st['miss']}")
    print(f"instruction-count mismatches vs BuildKit dumps: {len(bad_count)}")
    for b in bad_count[:30]:
        print('  COUNT', *b)
    print(f"row mismatches vs BuildKit line rules: {len(bad_rows)}")
    for path, ref_rows, got_rows in bad_rows[:30]:
        diff = [(a, b) for a, b in zip(ref_rows, got_rows) if a != b][:3]
        print('  ROWS', path, len(ref_rows), len(got_rows), diff)
    print(f"uncovered lines: {len(bad_cover)}")
    for b in bad_cover[:20]:
        print('  COVER', *b)


if __name__ == '__main__':
    main()
