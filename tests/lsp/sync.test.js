'use strict';
// Text synchronisation: incremental edits applied to the text and to the
// tree (ts_tree_edit + incremental reparse), full replacement, position
// encodings on non-ASCII text, many documents.
const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/session');

// Applies LSP edits to a JS string the way the spec says (UTF-16 offsets).
function applyUtf16(text, changes) {
  for (const c of changes) {
    if (!c.range) { text = c.text; continue; }
    const lines = text.split('\n');
    const off = (p) => {
      if (p.line >= lines.length) return text.length;
      let o = 0;
      for (let i = 0; i < p.line; i++) o += lines[i].length + 1;
      return o + Math.min(p.character, lines[p.line].length);
    };
    text = text.slice(0, off(c.range.start)) + c.text +
           text.slice(off(c.range.end));
  }
  return text;
}

const at = (l1, c1, l2, c2, text) =>
  ({ range: { start: { line: l1, character: c1 },
              end: { line: l2, character: c2 } }, text });

test('incremental edits keep text and tree in step', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  const uri = 'file:///sync/Dockerfile';
  let text = 'FROM busybox AS base\nRUN echo one \\\n    two\nCMD ["sh"]\n';
  await s.open(uri, text);
  const steps = [
    [at(1, 9, 1, 12, 'uno')],                      // replace a word
    [at(3, 0, 3, 0, 'ENV A=1 B=2\n')],             // insert a line
    [at(0, 0, 0, 4, 'from')],                      // keyword case
    [at(1, 13, 2, 7, '')],                         // join a continuation
    [at(4, 0, 4, 0, 'COPY <<EOF /x\nhello\nEOF\n')], // a heredoc
    [at(0, 20, 0, 20, '\nARG V=1'), at(5, 0, 5, 3, 'cmd')], // two at once
    [at(2, 0, 99, 0, '')],                         // delete to the end
  ];
  let version = 1;
  for (const changes of steps) {
    text = applyUtf16(text, changes);
    await s.change(uri, ++version, changes);
    const d = await s.debug(uri);
    assert.equal(d.text, text, `text after version ${version}`);
    assert.equal(d.version, version);
    assert.ok(d.tree, 'a tree');
    assert.equal(d.tree, d.freshTree, `tree after version ${version}`);
  }
  assert.equal((await s.stop()).code, 0);
});

test('typing character by character, then deleting it all', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  const uri = 'file:///sync/typing';
  await s.open(uri, '');
  const target = 'FROM alpine:3.19 AS b\nRUN apk add --no-cache curl\n' +
    'COPY --from=b /a /b\nENTRYPOINT ["curl"]\n';
  let text = '', version = 1, line = 0, ch = 0;
  for (const c of target) {
    await s.change(uri, ++version, [at(line, ch, line, ch, c)]);
    text += c;
    if (c === '\n') { line++; ch = 0; } else ch++;
  }
  let d = await s.debug(uri);
  assert.equal(d.text, target);
  assert.equal(d.tree, d.freshTree);
  // Backspace from the end.
  for (let i = 0; i < 30; i++) {
    const lines = text.split('\n');
    const l = lines.length - 1;
    const edit = lines[l].length > 0
      ? at(l, lines[l].length - 1, l, lines[l].length, '')
      : at(l - 1, lines[l - 1].length, l, 0, '');
    text = applyUtf16(text, [edit]);
    await s.change(uri, ++version, [edit]);
  }
  d = await s.debug(uri);
  assert.equal(d.text, text);
  assert.equal(d.tree, d.freshTree);
  assert.equal((await s.stop()).code, 0);
});

test('full-text changes replace the document', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  const uri = 'file:///sync/full';
  await s.open(uri, 'FROM a\n');
  await s.change(uri, 2, [{ text: 'FROM b\nRUN c\n' },
                          at(1, 4, 1, 5, 'd')]);
  const d = await s.debug(uri);
  assert.equal(d.text, 'FROM b\nRUN d\n');
  assert.equal(d.tree, d.freshTree);
  assert.equal((await s.stop()).code, 0);
});

test('UTF-16 positions on non-ASCII text (the default)', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const r = await s.initialize();
  assert.equal(r.capabilities.positionEncoding, 'utf-16');
  const uri = 'file:///enc/utf16';
  // é is 1 UTF-16 unit (2 bytes), 😀 is 2 units (4 bytes).
  let text = 'FROM busybox\nLABEL a="é😀x"\nEXPOSE é😀 99999\n';
  await s.open(uri, text);
  // Replace the x after the emoji: character 12 in UTF-16.
  const edit = at(1, 12, 1, 13, 'ÿ');
  text = applyUtf16(text, [edit]);
  await s.change(uri, 2, [edit]);
  const d = await s.debug(uri);
  assert.equal(d.text, 'FROM busybox\nLABEL a="é😀ÿ"\nEXPOSE é😀 99999\n');
  assert.equal(d.tree, d.freshTree);
  // A position inside the surrogate pair moves to the emoji's start.
  await s.change(uri, 3, [at(1, 11, 1, 11, 'Z')]);
  assert.equal((await s.debug(uri)).text,
    'FROM busybox\nLABEL a="éZ😀ÿ"\nEXPOSE é😀 99999\n');
  // Diagnostics after non-ASCII text are in UTF-16 units.
  const p = await s.diagnostics(uri, 3);
  const port = p.diagnostics.find((x) => /99999/.test(x.message));
  assert.deepEqual(port.range, { start: { line: 2, character: 11 },
                                 end: { line: 2, character: 16 } });
  const emoji = p.diagnostics.find((x) => /😀/.test(x.message));
  assert.deepEqual(emoji.range, { start: { line: 2, character: 7 },
                                  end: { line: 2, character: 10 } });
  assert.equal((await s.stop()).code, 0);
});

test('UTF-8 positions when the client prefers them', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const r = await s.initialize({ capabilities: {
    general: { positionEncodings: ['utf-8', 'utf-16'] } } });
  assert.equal(r.capabilities.positionEncoding, 'utf-8');
  const uri = 'file:///enc/utf8';
  await s.open(uri, 'FROM busybox\nLABEL a="é😀x"\nEXPOSE é😀 99999\n');
  // x is at byte 15 of its line (é = 2 bytes, 😀 = 4).
  await s.change(uri, 2, [at(1, 15, 1, 16, 'ÿ')]);
  // A byte offset inside a character moves to the character's start.
  await s.change(uri, 3, [at(1, 12, 1, 12, 'Z')]);
  const d = await s.debug(uri);
  assert.equal(d.text, 'FROM busybox\nLABEL a="éZ😀ÿ"\nEXPOSE é😀 99999\n');
  assert.equal(d.tree, d.freshTree);
  const p = await s.diagnostics(uri, 3);
  const port = p.diagnostics.find((x) => /99999/.test(x.message));
  assert.deepEqual(port.range, { start: { line: 2, character: 14 },
                                 end: { line: 2, character: 19 } });
  assert.equal((await s.stop()).code, 0);
});

test('utf-16 is chosen when the client offers only unknown encodings',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    const r = await s.initialize({ capabilities: {
      general: { positionEncodings: ['utf-7', 42] } } });
    assert.equal(r.capabilities.positionEncoding, 'utf-16');
    assert.equal((await s.stop()).code, 0);
  });

test('CRLF line ends', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  const uri = 'file:///enc/crlf';
  await s.open(uri, 'FROM busybox\r\nEXPOSE 99999\r\n');
  // Past the end of line 0 clamps before the \r\n.
  await s.change(uri, 2, [at(0, 40, 0, 40, ' AS b')]);
  const d = await s.debug(uri);
  assert.equal(d.text, 'FROM busybox AS b\r\nEXPOSE 99999\r\n');
  assert.equal(d.tree, d.freshTree);
  const p = await s.diagnostics(uri, 2);
  const port = p.diagnostics.find((x) => x.code === 'InvalidPort');
  assert.deepEqual(port.range.start, { line: 1, character: 7 });
  assert.equal((await s.stop()).code, 0);
});

test('many documents at once, each with its own state', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ initializationOptions: { dockwright: {
    diagnostics: { debounceMs: 10 } } } });
  const n = 40;
  for (let i = 0; i < n; i++)
    await s.open(`file:///many/${i}/Dockerfile`,
      `FROM busybox\nEXPOSE ${70000 + i}\n`);
  for (let i = 0; i < n; i += 2)
    await s.change(`file:///many/${i}/Dockerfile`, 2,
      [at(1, 7, 1, 12, String(80 + i))]);
  for (let i = 0; i < n; i++) {
    const uri = `file:///many/${i}/Dockerfile`;
    const p = await s.diagnostics(uri, i % 2 === 0 ? 2 : 1);
    const ports = p.diagnostics.filter((x) => x.code === 'InvalidPort');
    assert.equal(ports.length, i % 2 === 0 ? 0 : 1, uri);
    if (i % 2) assert.match(ports[0].message, new RegExp(`${70000 + i}`));
  }
  for (let i = 0; i < n; i++)
    await s.notify('textDocument/didClose',
      { textDocument: { uri: `file:///many/${i}/Dockerfile` } });
  await assert.rejects(s.debug('file:///many/0/Dockerfile'),
    { code: -32602 });
  assert.equal((await s.stop()).code, 0);
});

// The server keeps the model between analyses and reads again only the
// runs of lines an edit touched (dockerfile_update); after any sequence of
// edits, including bursts the server coalesces, the diagnostics must be
// those of a fresh open of the same text.
test('diagnostics after random edits equal those of a fresh open',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize();
    let seed = 12345;
    const rand = (n) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = [
      'FROM alpine:3.19 AS build\n', 'from golang as Builder\n',
      'ARG V=1\n', 'ENV key value\n', 'RUN apt-get install curl \\\n  && x\n',
      'RUN <<EOF\necho hi\nEOF\n', 'COPY --from=build /a /b\n',
      'WORKDIR app\n', 'EXPOSE 99999\n', 'CMD echo ${V}\n', '# comment\n',
      'MAINTAINER me\n', 'HEALTHCHECK CMD true\n', '\n', 'ONBUILD RUN x\n',
    ];
    const inserts = ['\n', '\\\n', 'x', '#', '<<EOF', 'EOF\n', 'FROM y\n',
      ' ', '$', '"', 'é', ''];
    let text = '';
    for (let i = 0; i < 60; i++) text += pieces[rand(pieces.length)];
    const uri = 'file:///random/edits/Dockerfile';
    await s.open(uri, text);
    await s.diagnostics(uri, 1);
    const pos = () => {
      const lines = text.split('\n');
      const line = rand(lines.length);
      return { line, character: rand(lines[line].length + 1) };
    };
    // Related locations name the document, fixes its version.
    const strip = (ds) => ds.map((d) => {
      const c = { ...d };
      if (c.data && c.data.version !== undefined)
        c.data = { ...c.data, version: 0 };
      if (c.relatedInformation)
        c.relatedInformation = c.relatedInformation.map((r) =>
          ({ ...r, location: { ...r.location, uri: '' } }));
      return c;
    });
    let version = 1;
    for (let round = 0; round < 60; round++) {
      const burst = 1 + rand(4);
      for (let b = 0; b < burst; b++) {
        // Insert a line, insert a snippet, or delete a few characters
        // (sometimes up to the start of the next line).
        const start = pos();
        let end = start;
        let ins = inserts[rand(inserts.length)];
        const kind = rand(3);
        if (kind === 0) {
          start.character = 0;
          ins = pieces[rand(pieces.length)];
        } else if (kind === 2) {
          const lines = text.split('\n');
          const len = lines[start.line].length;
          end = rand(4) === 0 && start.line + 1 < lines.length
            ? { line: start.line + 1, character: 0 }
            : { line: start.line,
                character: Math.min(len, start.character + 1 + rand(8)) };
          ins = '';
        }
        const change = { range: { start, end }, text: ins };
        text = applyUtf16(text, [change]);
        await s.change(uri, ++version, [change]);
      }
      const got = await s.diagnostics(uri, version);
      const fresh = `file:///random/fresh${round}/Dockerfile`;
      await s.open(fresh, text);
      const want = await s.diagnostics(fresh, 1);
      assert.deepEqual(strip(got.diagnostics), strip(want.diagnostics),
        `round ${round}, text:\n${text}`);
      await s.notify('textDocument/didClose', { textDocument: { uri: fresh } });
    }
    assert.equal((await s.stop()).code, 0);
  });

// A client that sends the whole text on every change: the server turns each
// into the edit between the common prefix and suffix, so the tree is edited
// and reparsed incrementally; it must equal a fresh parse, and the
// diagnostics those of a fresh open.
// Run on a small document and on one past 4 KB, whose diff compares whole
// blocks.
for (const [npieces, nversions] of [[30, 40], [500, 16]])
test(`full-text changes become minimal edits: tree and diagnostics exact (${npieces} pieces)`,
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize();
    let seed = 777;
    const rand = (n) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = ['FROM alpine:3.19 AS build\n', 'ARG V=1\n',
      'ENV key value\n', 'RUN apt-get install curl \\\n  && x\n',
      'RUN <<EOF\necho hi\nEOF\n', 'COPY --from=build /a /b\n', 'é😀\n',
      'WORKDIR app\n', '# comment\n', '\n', 'ONBUILD RUN x\n'];
    let text = '';
    for (let i = 0; i < npieces; i++) text += pieces[rand(pieces.length)];
    const uri = 'file:///full/edits/Dockerfile';
    await s.open(uri, text);
    await s.diagnostics(uri, 1);
    const strip = (ds) => ds.map((d) => {
      const c = { ...d };
      delete c.data;
      delete c.relatedInformation;
      return c;
    });
    for (let v = 2; v < nversions; v++) {
      const at = rand(text.length + 1);
      const del = rand(3) === 0 ? rand(6) : 0;
      const ins = ['x', '\n', '\\\n', 'EOF\n', 'é', '', 'FROM y\n'][rand(7)];
      text = text.slice(0, at) + ins + text.slice(at + del);
      await s.change(uri, v, [{ text }]);
      const d = await s.debug(uri);
      assert.equal(d.text, text);
      assert.equal(d.tree, d.freshTree, `version ${v}`);
      const got = await s.diagnostics(uri, v);
      const fresh = `file:///full/fresh${v}/Dockerfile`;
      await s.open(fresh, text);
      const want = await s.diagnostics(fresh, 1);
      assert.deepEqual(strip(got.diagnostics), strip(want.diagnostics),
        `version ${v}, text:\n${text}`);
      await s.notify('textDocument/didClose', { textDocument: { uri: fresh } });
    }
    // Identical text, and an emptied document.
    await s.change(uri, nversions, [{ text }]);
    assert.equal((await s.debug(uri)).text, text);
    await s.change(uri, nversions + 1, [{ text: '' }]);
    const d = await s.debug(uri);
    assert.equal(d.text, '');
    assert.equal(d.tree, d.freshTree);
    assert.equal((await s.stop()).code, 0);
  });

// Only the two documents used last keep their tree and model; the others
// keep their text and are rebuilt when used: every answer must be the same
// as for a document that never went cold.
test('cold documents are rebuilt on use, with the same answers', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ capabilities: { textDocument: { diagnostic: {} } } });
  const text = (i) => `FROM alpine:3.19 as b${i}\nENV K${i} v\nRUN echo $K${i}\n`;
  const uris = [];
  for (let i = 0; i < 5; i++) {
    uris.push(`file:///cold/${i}/Dockerfile`);
    await s.open(uris[i], text(i));
  }
  const pull = (uri) => s.request('textDocument/diagnostic',
    { textDocument: { uri } });
  const first = await pull(uris[0]); // cold by now: analysed again
  assert.deepEqual(first.items.map((d) => d.code).sort(),
    ['FromAsCasing', 'LegacyKeyValueFormat']);
  // An edit of a cold document: the tree is rebuilt, then edited.
  await s.change(uris[1], 2, [{ range: { start: { line: 2, character: 4 },
    end: { line: 2, character: 4 } }, text: 'x' }]);
  const d = await s.debug(uris[1]);
  assert.equal(d.text, text(1).replace('RUN ', 'RUN x'));
  assert.equal(d.tree, d.freshTree);
  for (let i = 0; i < 5; i++) {
    const r = await s.request('textDocument/hover', { textDocument:
      { uri: uris[i] }, position: { line: 2, character: i === 1 ? 11 : 10 } });
    assert.match(r.contents.value, new RegExp(`^K${i} = v`), `doc ${i}`);
    assert.equal((await pull(uris[i])).items.length, 2);
  }
  assert.equal((await s.stop()).code, 0);
});

// A reopened document starts from the tree of its close (the last closed
// document is kept), edited to the new text: the same tree and
// diagnostics as a fresh open, whatever changed on disk meanwhile.
test('a reopened document reuses its closed tree, exactly', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  const base = 'FROM alpine:3.19 AS build\nENV key value\nRUN <<EOF\necho é😀\nEOF\n' +
    'WORKDIR app\nFROM build\nCOPY --from=build /a /b\n';
  const uri = 'file:///reopen/a/Dockerfile';
  const other = 'file:///reopen/b/Dockerfile';
  const variants = [base, base, base.replace('ENV key value', 'ENV k=v'),
    base + 'RUN x\n', 'FROM y\n', '', base];
  let v = 1;
  for (const [i, text] of variants.entries()) {
    await s.open(uri, text, v);
    await s.diagnostics(uri, v);
    const d = await s.debug(uri);
    assert.equal(d.text, text, `variant ${i}`);
    assert.equal(d.tree, d.freshTree, `variant ${i}`);
    await s.notify('textDocument/didClose', { textDocument: { uri } });
    // Another document closed in between drops the kept one.
    if (i === 4) {
      await s.open(other, base, 1);
      await s.notify('textDocument/didClose', { textDocument: { uri: other } });
    }
    v++;
  }
  assert.equal((await s.stop()).code, 0);
});
