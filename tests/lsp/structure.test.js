'use strict';
// documentSymbol (hierarchy), workspace/symbol (open Dockerfiles),
// foldingRange and selectionRange, with UTF-16 positions on non-ASCII lines.
const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/session');
const { slice, marked } = require('./lib/text');

let seq = 0;
const uri = () => `file:///tmp/dockwright-structure-${process.pid}/Dockerfile.${seq++}`;

const DOC = [
  '# syntax=docker/dockerfile:1',     // 0
  '# Build the thing',                // 1
  '# in two stages',                  // 2
  'ARG GO=1.22',                      // 3
  'FROM golang:${GO} AS build',       // 4
  'ENV CGO_ENABLED=0 ÜNI=1',          // 5
  'RUN go build \\',                  // 6
  '    -o /out ./...',                // 7
  '',                                 // 8
  'FROM scratch',                     // 9
  'LABEL title="café" v=1',           // 10
  'COPY --from=build /out /app',      // 11
  'RUN <<EOF',                        // 12
  'echo ü',                           // 13
  'EOF',                              // 14
  '',
].join('\n');

async function open(t, caps) {
  const s = start();
  t.after(() => s.kill());
  const init = await s.initialize(caps ? { capabilities: caps } : {});
  const u = uri();
  await s.open(u, DOC);
  return { s, u, init };
}

test('documentSymbol: global ARGs, stages with their instructions',
  async (t) => {
    const { s, u, init } = await open(t);
    assert.equal(init.capabilities.documentSymbolProvider, true);
    const syms = await s.request('textDocument/documentSymbol',
      { textDocument: { uri: u } });
    assert.deepEqual(syms.map((x) => [x.name, x.kind, x.detail]), [
      ['ARG', 13, 'GO=1.22'],
      ['build', 3, 'golang:${GO}'],
      ['stage 1', 3, 'scratch'],
    ]);
    const build = syms[1];
    assert.deepEqual(build.children.map((x) => [x.name, x.detail]), [
      ['ENV', 'CGO_ENABLED=0 ÜNI=1'],
      ['RUN', 'go build -o /out ./...'],
    ]);
    assert.deepEqual(build.range, { start: { line: 4, character: 0 },
      end: { line: 7, character: 17 } });
    assert.equal(slice(DOC, build.selectionRange), 'build');
    const label = syms[2].children[0];
    // The LABEL line has "café": its end is in UTF-16 units.
    assert.deepEqual(label.range.end, { line: 10, character: 22 });
    assert.equal((await s.stop()).code, 0);
  });

test('workspace/symbol: stages and variables of every open file',
  async (t) => {
    const { s, u, init } = await open(t);
    assert.equal(init.capabilities.workspaceSymbolProvider, true);
    const u2 = uri();
    await s.open(u2, 'FROM alpine AS builder\nARG BUILD_ID\n');
    let r = await s.request('workspace/symbol', { query: 'buil' });
    assert.deepEqual(r.map((x) => [x.name, x.location.uri === u ? 1 : 2,
      x.containerName]).sort(), [
      ['BUILD_ID', 2, 'builder'], ['build', 1, undefined],
      ['builder', 2, undefined]].sort());
    r = await s.request('workspace/symbol', { query: 'üni' });
    assert.equal(r.length, 0); // case-folding is ASCII only
    r = await s.request('workspace/symbol', { query: 'ÜNI' });
    assert.deepEqual(r.map((x) => [x.name, x.location.range.start]),
      [['ÜNI', { line: 5, character: 18 }]]);
    assert.equal((await s.stop()).code, 0);
  });

test('foldingRange: stages, instructions, heredocs, comment blocks',
  async (t) => {
    const { s, u, init } = await open(t);
    assert.equal(init.capabilities.foldingRangeProvider, true);
    const f = await s.request('textDocument/foldingRange',
      { textDocument: { uri: u } });
    const got = f.map((x) => [x.startLine, x.endLine, x.kind || null]);
    assert.deepEqual(got.sort((a, b) => a[0] - b[0] || a[1] - b[1]), [
      [0, 2, 'comment'],
      [4, 7, 'region'],
      [6, 7, null],
      [9, 14, 'region'],
      [12, 14, null],
    ]);
    assert.equal((await s.stop()).code, 0);
  });

test('selectionRange: word, argument, instruction, stage, document',
  async (t) => {
    const { s, u, init } = await open(t);
    assert.equal(init.capabilities.selectionRangeProvider, true);
    const m = marked(DOC.replace('title="café"', 'title="ca|fé"'));
    const r = await s.request('textDocument/selectionRange',
      { textDocument: { uri: u }, positions: [m.pos, { line: 7, character: 8 }] });
    const chain = (x) => {
      const out = [];
      for (; x; x = x.parent) out.push(slice(DOC, x.range));
      return out;
    };
    const c0 = chain(r[0]);
    assert.equal(c0[0], 'title="café"');
    assert.equal(c0[1], 'LABEL title="café" v=1');
    assert.match(c0[2], /^FROM scratch\n[\s\S]*EOF$/);
    assert.equal(c0[3], DOC);
    const c1 = chain(r[1]);
    assert.equal(c1[0], '/out');
    assert.equal(c1[c1.length - 1], DOC);
    assert.ok(c1.includes('RUN go build \\\n    -o /out ./...'));
    await assert.rejects(s.request('textDocument/selectionRange',
      { textDocument: { uri: u }, positions: 3 }), /positions must be an array/);
    assert.equal((await s.stop()).code, 0);
  });
