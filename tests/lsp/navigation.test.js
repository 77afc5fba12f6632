'use strict';
// definition, references, documentHighlight, prepareRename and rename:
// stage names, ARG/ENV variables with BuildKit's scoping, heredoc
// delimiters; refusals with their messages; UTF-16 positions on lines with
// non-ASCII text before the name.
const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/session');
const { applyEdits, slice, marked } = require('./lib/text');

let seq = 0;
const uri = () => `file:///tmp/dockwright-nav-${process.pid}/Dockerfile.${seq++}`;

const DOC = [
  'ARG VERSION=3.19',                         // 0
  'ARG BASE=alpine',                          // 1
  'FROM $BASE:${VERSION} AS build',           // 2
  'ARG VERSION',                              // 3
  'ENV DIR=/src',                             // 4
  'LABEL note="ünïcödé" v=$VERSION',          // 5
  'RUN echo "é $DIR" && cat <<EOF',           // 6
  'hello $DIR',                               // 7
  'EOF',                                      // 8
  'FROM build AS test',                       // 9
  'RUN echo "ü" $DIR',                        // 10
  'FROM --platform=$BUILDPLATFORM alpine AS final',  // 11
  'ENV DIR=/other',                           // 12
  'COPY --from=build $DIR /x',                // 13
  'RUN --mount=type=cache,from=test,target=/c echo $TARGETOS',  // 14
  '',
].join('\n');

async function session(t) {
  const s = start();
  t.after(() => s.kill());
  const init = await s.initialize();
  return { s, init };
}

function at(line, needle, nth = 0) {
  const l = DOC.split('\n')[line];
  let i = -1;
  for (let k = 0; k <= nth; k++) i = l.indexOf(needle, i + 1);
  assert.ok(i >= 0, `${needle} on line ${line}`);
  return { line, character: i + 1 };
}

const req = (s, m, u, pos, extra = {}) =>
  s.request(m, { textDocument: { uri: u }, position: pos, ...extra });

test('capabilities', async (t) => {
  const { s, init } = await session(t);
  const c = init.capabilities;
  assert.equal(c.definitionProvider, true);
  assert.equal(c.referencesProvider, true);
  assert.equal(c.documentHighlightProvider, true);
  assert.deepEqual(c.renameProvider, { prepareProvider: true });
  assert.equal((await s.stop()).code, 0);
});

test('definition: stages, variables by scope, heredocs', async (t) => {
  const { s } = await session(t);
  const u = uri();
  await s.open(u, DOC);
  const def = async (pos) => {
    const r = await req(s, 'textDocument/definition', u, pos);
    return r && r.map((l) => [l.range.start.line, slice(DOC, l.range)]);
  };
  // FROM build -> the AS build.
  assert.deepEqual(await def(at(9, 'build')), [[2, 'build']]);
  assert.deepEqual(await def(at(13, 'build')), [[2, 'build']]);
  assert.deepEqual(await def(at(14, 'test')), [[9, 'test']]);
  // $VERSION in FROM: the global ARG; in the stage: the stage's ARG, which
  // is one variable with the global (both declarations).
  assert.deepEqual(await def(at(2, 'VERSION')), [[0, 'VERSION'], [3, 'VERSION']]);
  // $DIR on the non-ASCII line 10 (stage test FROM build): build's ENV.
  assert.deepEqual(await def(at(10, 'DIR')), [[4, 'DIR']]);
  // $DIR in stage final: its own ENV, not build's.
  assert.deepEqual(await def(at(13, 'DIR')), [[12, 'DIR']]);
  // Heredoc terminator -> marker.
  assert.deepEqual(await def({ line: 8, character: 1 }), [[6, 'EOF']]);
  // An image and a built-in ARG have no definition here.
  assert.equal(await def(at(11, 'alpine')), null);
  assert.equal(await def(at(11, 'BUILDPLATFORM')), null);
  assert.equal(await def(at(14, 'TARGETOS')), null);
  assert.equal((await s.stop()).code, 0);
});

test('references and highlights', async (t) => {
  const { s } = await session(t);
  const u = uri();
  await s.open(u, DOC);
  let r = await req(s, 'textDocument/references', u, at(4, 'DIR'),
    { context: { includeDeclaration: true } });
  assert.deepEqual(r.map((l) => l.range.start.line), [4, 6, 10]);
  // Position in UTF-16 after "é " on line 6.
  const l6 = r.find((l) => l.range.start.line === 6);
  assert.equal(l6.range.start.character, DOC.split('\n')[6].indexOf('DIR'));
  r = await req(s, 'textDocument/references', u, at(4, 'DIR'),
    { context: { includeDeclaration: false } });
  assert.deepEqual(r.map((l) => l.range.start.line), [6, 10]);
  const h = await req(s, 'textDocument/documentHighlight', u, at(2, 'build'));
  assert.deepEqual(h.map((x) => [x.range.start.line, x.kind]),
    [[2, 3], [9, 2], [13, 2]]);
  const hd = await req(s, 'textDocument/documentHighlight', u, at(6, 'EOF'));
  assert.deepEqual(hd.map((x) => x.range.start.line), [6, 8]);
  assert.equal((await s.stop()).code, 0);
});

test('rename: stage, variable family, heredoc', async (t) => {
  const { s } = await session(t);
  const u = uri();
  await s.open(u, DOC);
  const p = await req(s, 'textDocument/prepareRename', u, at(9, 'build'));
  assert.equal(p.placeholder, 'build');
  let e = await req(s, 'textDocument/rename', u, at(9, 'build'),
    { newName: 'compile' });
  let out = applyEdits(DOC, e.changes[u]);
  assert.match(out, /AS compile\n/);
  assert.match(out, /FROM compile AS test/);
  assert.match(out, /COPY --from=compile /);
  // The global VERSION and the stage's bare redeclaration go together.
  e = await req(s, 'textDocument/rename', u, at(5, 'VERSION'),
    { newName: 'ALPINE_VERSION' });
  out = applyEdits(DOC, e.changes[u]);
  assert.equal((out.match(/ALPINE_VERSION/g) || []).length, 4);
  assert.doesNotMatch(out, /\bVERSION\b/);
  // Heredoc delimiter: marker and terminator.
  e = await req(s, 'textDocument/rename', u, at(6, 'EOF'), { newName: 'END' });
  out = applyEdits(DOC, e.changes[u]);
  assert.match(out, /cat <<END\nhello \$DIR\nEND\n/);
  assert.equal((await s.stop()).code, 0);
});

test('rename refusals say why', async (t) => {
  const { s } = await session(t);
  const u = uri();
  await s.open(u, DOC);
  const refused = async (pos, newName, re) => {
    await assert.rejects(
      req(s, 'textDocument/rename', u, pos, { newName }),
      (e) => { assert.equal(e.code, -32803); assert.match(e.message, re); return true; });
  };
  await refused(at(9, 'build'), 'final', /a stage named 'final' already exists \(line 12\)/);
  await refused(at(9, 'build'), 'alpine', /'alpine' is used as an image on line 12/);
  await refused(at(11, 'alpine'), 'x', /names an image/);
  await refused(at(11, 'BUILDPLATFORM'), 'X', /built-in ARG/);
  // $TARGETOS in a stage that does not declare it names nothing.
  await refused(at(14, 'TARGETOS'), 'X', /nothing to rename here/);
  await refused(at(9, 'build'), '9bad', /not a valid stage name/);
  await refused(at(4, 'DIR'), 'VERSION', /VERSION is already in scope|already declared/);
  await refused(at(4, 'DIR'), 'TARGETARCH', /built-in/);
  await refused(at(6, 'EOF'), 'hello $DIR', /not a valid name/);
  await assert.rejects(req(s, 'textDocument/prepareRename', u, at(11, 'alpine')),
    /names an image/);
  // Renaming a heredoc to a line its body has would end it early.
  const u2 = uri();
  await s.open(u2, 'FROM a\nRUN <<EOF\nSTOP\nEOF\n');
  await assert.rejects(req(s, 'textDocument/rename', u2,
    { line: 1, character: 7 }, { newName: 'STOP' }), /end the heredoc/);
  assert.equal((await s.stop()).code, 0);
});

test('rename with documentChanges and marked positions', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ capabilities: { workspace: { workspaceEdit: {
    documentChanges: true } } } });
  const u = uri();
  const m = marked('FROM alpine AS bäse\nFROM bäse AS n\nLABEL x="é" y=1\nCOPY --from=bä|se /a /b\n');
  await s.open(u, m.text, 7);
  const e = await req(s, 'textDocument/rename', u, m.pos, { newName: 'base2' });
  assert.equal(e.documentChanges[0].textDocument.version, 7);
  const out = applyEdits(m.text, e.documentChanges[0].edits);
  assert.equal(out, 'FROM alpine AS base2\nFROM base2 AS n\nLABEL x="é" y=1\nCOPY --from=base2 /a /b\n');
  assert.equal((await s.stop()).code, 0);
});

test('bad params and unknown documents: an error or null, then answers',
  async (t) => {
    const { s } = await session(t);
    const methods = ['textDocument/definition', 'textDocument/references',
      'textDocument/documentHighlight', 'textDocument/prepareRename',
      'textDocument/rename', 'textDocument/documentSymbol',
      'textDocument/foldingRange', 'textDocument/selectionRange',
      'textDocument/semanticTokens/full', 'textDocument/semanticTokens/full/delta',
      'textDocument/semanticTokens/range', 'textDocument/formatting',
      'textDocument/rangeFormatting', 'textDocument/onTypeFormatting',
      'textDocument/documentLink', 'textDocument/inlayHint', 'workspace/symbol'];
    const bad = [{}, { textDocument: { uri: 5 } },
      { textDocument: { uri: 'file:///nowhere' }, position: { line: -1, character: 0 } },
      { textDocument: { uri: 'file:///nowhere' }, position: { line: 1e12, character: 1e12 },
        range: { start: { line: 9e9, character: 0 }, end: { line: 0, character: 0 } },
        positions: [{ line: 1e9, character: 1e9 }], newName: 'x', ch: '\n',
        query: 7 }];
    for (const m of methods)
      for (const p of bad) {
        try {
          const r = await s.request(m, p);
          assert.ok(r === null || Array.isArray(r) || typeof r === 'object', m);
        } catch (e) {
          assert.ok(typeof e.code === 'number', `${m}: ${e}`);
        }
      }
    // Past-the-end positions in an open document are clamped.
    const u = uri();
    await s.open(u, DOC);
    for (const m of methods) {
      try {
        await s.request(m, { textDocument: { uri: u },
          position: { line: 1e6, character: 1e6 },
          range: { start: { line: 1e6, character: 0 }, end: { line: 1e6, character: 9 } },
          positions: [{ line: 1e6, character: 1e6 }], newName: 'x', ch: '\n',
          query: '', options: { tabSize: 4, insertSpaces: true } });
      } catch (e) {
        assert.ok(typeof e.code === 'number', `${m}: ${e}`);
      }
    }
    const r = await s.request('textDocument/definition',
      { textDocument: { uri: u }, position: at(9, 'build') });
    assert.equal(r.length, 1);
    assert.equal((await s.stop()).code, 0);
    s.assertClean();
  });
