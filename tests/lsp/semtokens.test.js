'use strict';
// semanticTokens/full, full/delta and range: the legend, golden token
// types at known places (UTF-16 columns on non-ASCII lines), a delta
// applied to the previous result equals the full result after random
// edits, and a range gives the full result's tokens on its lines.
const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/session');

let seq = 0;
const uri = () => `file:///tmp/dockwright-semtok-${process.pid}/Dockerfile.${seq++}`;

const DOC = [
  '# syntax=docker/dockerfile:1',                         // 0
  '# a comment',                                          // 1
  'ARG BASE=alpine',                                      // 2
  'FROM --platform=$BUILDPLATFORM ${BASE}:3.19 AS build', // 3
  'ENV DIR=/src',                                         // 4
  'LABEL désc="café $DIR" v=1',                           // 5
  'RUN --mount=type=cache,target=/c echo "é" && make',    // 6
  'COPY <<EOF /x',                                        // 7
  'body',                                                 // 8
  'EOF',                                                  // 9
  'FROM build',                                           // 10
  'COPY --from=build /a /b',                              // 11
  'MAINTAINER me',                                        // 12
  '',
].join('\n');

function decode(data, legend, text) {
  const lines = text.split('\n');
  const out = [];
  let line = 0, ch = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i];
    ch = data[i] === 0 ? ch + data[i + 1] : data[i + 1];
    const mods = legend.tokenModifiers.filter((_, k) => data[i + 4] & (1 << k));
    out.push({ line, ch, len: data[i + 2], text: lines[line].substr(ch, data[i + 2]),
               type: legend.tokenTypes[data[i + 3]], mods });
  }
  return out;
}

function applyDelta(data, edits) {
  const d = data.slice();
  for (const e of edits.slice().sort((a, b) => b.start - a.start))
    d.splice(e.start, e.deleteCount, ...(e.data || []));
  return d;
}

test('full: legend and golden positions', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const init = await s.initialize();
  const prov = init.capabilities.semanticTokensProvider;
  assert.deepEqual(prov.full, { delta: true });
  assert.equal(prov.range, true);
  const legend = prov.legend;
  assert.deepEqual(legend.tokenTypes, ['keyword', 'comment', 'macro',
    'parameter', 'property', 'variable', 'namespace', 'type', 'string',
    'operator', 'label']);
  assert.deepEqual(legend.tokenModifiers, ['declaration', 'readonly',
    'deprecated']);
  const u = uri();
  await s.open(u, DOC);
  const r = await s.request('textDocument/semanticTokens/full',
    { textDocument: { uri: u } });
  assert.ok(typeof r.resultId === 'string');
  const toks = decode(r.data, legend, DOC);
  const find = (line, text) => toks.find((x) => x.line === line && x.text === text);
  const golden = [
    [0, '# syntax=docker/dockerfile:1', 'macro', []],
    [1, '# a comment', 'comment', []],
    [2, 'ARG', 'keyword', []],
    [2, 'BASE', 'variable', ['declaration']],
    [2, '=', 'operator', []],
    [3, '--platform', 'parameter', []],
    [3, 'BUILDPLATFORM', 'variable', ['readonly']],
    [3, 'BASE', 'variable', []],
    [3, 'AS', 'keyword', []],
    [3, 'build', 'namespace', ['declaration']],
    [4, 'DIR', 'variable', ['declaration']],
    [5, 'désc', 'property', []],
    [5, 'DIR', 'variable', []],
    [6, '--mount', 'parameter', []],
    [6, 'type', 'property', []],
    [6, 'target', 'property', []],
    [6, '"é"', 'string', []],
    [6, '&&', 'operator', []],
    [7, '<<', 'operator', []],
    [7, 'EOF', 'label', ['declaration']],
    [9, 'EOF', 'label', []],
    [10, 'build', 'namespace', []],
    [11, 'build', 'namespace', []],
    [12, 'MAINTAINER', 'keyword', ['deprecated']],
  ];
  for (const [line, text, type, mods] of golden) {
    const tok = find(line, text);
    assert.ok(tok, `no token "${text}" on line ${line}: ` +
      JSON.stringify(toks.filter((x) => x.line === line)));
    assert.equal(tok.type, type, `${text} on line ${line}`);
    assert.deepEqual(tok.mods, mods, `${text} on line ${line}`);
  }
  // The string split around $DIR on the LABEL line: UTF-16 columns.
  const l5 = toks.filter((x) => x.line === 5).map((x) => [x.ch, x.text, x.type]);
  assert.deepEqual(l5, [[0, 'LABEL', 'keyword'], [6, 'désc', 'property'],
    [10, '=', 'operator'], [11, '"café $', 'string'], [18, 'DIR', 'variable'],
    [21, '"', 'string'], [23, 'v', 'property'], [24, '=', 'operator']]);
  // The heredoc body is not tokenized.
  assert.equal(toks.filter((x) => x.line === 8).length, 0);
  assert.equal((await s.stop()).code, 0);
});

test('delta after random edits equals full; range equals full on its lines',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    const init = await s.initialize();
    const legend = init.capabilities.semanticTokensProvider.legend;
    const u = uri();
    let text = DOC;
    let version = 1;
    await s.open(u, text, version);
    let prev = await s.request('textDocument/semanticTokens/full',
      { textDocument: { uri: u } });
    // Deterministic pseudo-random edits (an LCG), with non-ASCII text.
    let seed = 12345;
    const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const pieces = ['x', ' ', '\n', '$A', '"', 'é', 'RUN ', '\\\n', 'AS b', '#'];
    for (let i = 0; i < 60; i++) {
      const lines = text.split('\n');
      const line = rnd(lines.length);
      const ch = rnd(lines[line].length + 1);
      const del = rnd(3) === 0 ? Math.min(2, lines[line].length - ch) : 0;
      const ins = rnd(4) === 0 ? '' : pieces[rnd(pieces.length)];
      const range = { start: { line, character: ch },
                      end: { line, character: ch + del } };
      lines[line] = lines[line].slice(0, ch) + '\u0000' + lines[line].slice(ch + del);
      text = lines.join('\n').replace('\u0000', ins);
      await s.change(u, ++version, [{ range, text: ins }]);
      const delta = await s.request('textDocument/semanticTokens/full/delta',
        { textDocument: { uri: u }, previousResultId: prev.resultId });
      assert.ok(delta.edits, 'a delta, not a full result');
      const patched = applyDelta(prev.data, delta.edits);
      const full = await s.request('textDocument/semanticTokens/full',
        { textDocument: { uri: u } });
      assert.deepEqual(patched, full.data, `after edit ${i}`);
      prev = full;
    }
    // An unknown previous id gets a full result.
    const r = await s.request('textDocument/semanticTokens/full/delta',
      { textDocument: { uri: u }, previousResultId: 'nope' });
    assert.deepEqual(r.data, prev.data);
    // Range: the full tokens of lines 3..6.
    await s.change(u, ++version, [{ text: DOC }]);
    const full = decode((await s.request('textDocument/semanticTokens/full',
      { textDocument: { uri: u } })).data, legend, DOC);
    const rr = decode((await s.request('textDocument/semanticTokens/range',
      { textDocument: { uri: u }, range: { start: { line: 3, character: 5 },
        end: { line: 6, character: 2 } } })).data, legend, DOC);
    assert.deepEqual(rr, full.filter((x) => x.line >= 3 && x.line <= 6));
    assert.equal((await s.stop()).code, 0);
    s.assertClean();
  });
