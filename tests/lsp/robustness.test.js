'use strict';
// Bad input never ends the session: each bad message gets the right error
// (or is ignored), and the next request is answered.
const test = require('node:test');
const assert = require('node:assert/strict');
const { start, frame, exitWithin } = require('./lib/session');

// A request the server answers in any state after initialize.
async function stillAnswers(s) {
  await assert.rejects(s.request('dockwright/noSuchMethod', {}),
    { code: -32601 });
}

// Error responses to messages sent raw (not through the client library)
// come back with ids the library never issued; it reports them as
// "unhandled responses", so read them from the raw stdout instead.
function rawResponses(s) {
  const seen = [];
  let buf = Buffer.alloc(0);
  s.proc.stdout.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const h = buf.indexOf('\r\n\r\n');
      if (h < 0) break;
      const m = /Content-Length: (\d+)/i.exec(buf.subarray(0, h).toString());
      const len = Number(m[1]);
      if (buf.length < h + 4 + len) break;
      seen.push(JSON.parse(buf.subarray(h + 4, h + 4 + len).toString()));
      buf = buf.subarray(h + 4 + len);
    }
  });
  return seen;
}

async function until(pred, ms = 3000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('invalid JSON gets ParseError with id null', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const seen = rawResponses(s);
  await s.initialize();
  await s.raw(frame('{"jsonrpc": "2.0", "id": 5, "method": '));
  await s.raw(frame('{nope}'));
  await s.raw(frame('{"jsonrpc":"2.0","id":6,"method":"x"} trailing'));
  await until(() => seen.filter((m) => m.error).length >= 3);
  for (const m of seen.filter((x) => x.error)) {
    assert.equal(m.error.code, -32700);
    assert.equal(m.id, null);
  }
  await stillAnswers(s);
  assert.equal((await s.stop()).code, 0);
});

test('invalid request shapes get InvalidRequest', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const seen = rawResponses(s);
  await s.initialize();
  const bad = [
    [{ jsonrpc: '2.0', id: 1, method: 'x' }], // a batch
    42,
    { jsonrpc: '1.0', id: 71, method: 'shutdown' },
    { jsonrpc: '2.0', id: 72, method: 17 },
    { jsonrpc: '2.0', id: 73, method: 'x', params: 'str' },
    { jsonrpc: '2.0', id: { a: 1 }, method: 'x' },
    { jsonrpc: '2.0' },
  ];
  for (const b of bad) await s.raw(frame(b));
  await until(() => seen.filter((m) => m.error).length >= bad.length);
  const errs = seen.filter((m) => m.error);
  assert.deepEqual(errs.map((e) => e.error.code),
    bad.map(() => -32600));
  // The id is echoed when it could be read.
  assert.deepEqual(errs.map((e) => e.id),
    [null, null, 71, 72, 73, null, null]);
  await stillAnswers(s);
  assert.equal((await s.stop()).code, 0); // "shutdown" above was refused
});

test('garbage bytes and truncated headers are skipped', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  await s.raw(Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]));
  await s.raw('Content-Length: abc\r\n\r\n');
  await s.raw('Content-Type: application/vscode-jsonrpc\r\n\r\n');
  await s.raw('Content-Len');          // a header cut short ...
  await s.raw('garbage\r\n\r\n');      // ... then more garbage
  await s.raw(Buffer.alloc(20000, 'x')); // over the header ceiling
  await s.raw('\r\n\r\n');
  await stillAnswers(s);
  assert.equal((await s.stop()).code, 0);
});

test('Content-Type is tolerated; headers in any case', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const seen = rawResponses(s);
  await s.initialize();
  const body = Buffer.from(JSON.stringify(
    { jsonrpc: '2.0', id: 'ct', method: 'x/y' }));
  await s.raw(Buffer.concat([Buffer.from(
    `content-type: application/vscode-jsonrpc; charset=utf-8\r\n` +
    `CONTENT-LENGTH:   ${body.length}  \r\n\r\n`), body]));
  await until(() => seen.some((m) => m.id === 'ct'));
  assert.equal(seen.find((m) => m.id === 'ct').error.code, -32601);
  assert.equal((await s.stop()).code, 0);
});

test('several messages in one write, and one message byte by byte',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    const seen = rawResponses(s);
    await s.initialize();
    const many = [];
    for (let i = 0; i < 50; i++)
      many.push(frame({ jsonrpc: '2.0', id: `m${i}`, method: 'x/y' }));
    await s.raw(Buffer.concat(many));
    const one = frame({ jsonrpc: '2.0', id: 'slow', method: 'x/y' });
    for (const b of one) await s.raw(Buffer.from([b]));
    await until(() => seen.some((m) => m.id === 'slow'));
    assert.equal(seen.filter((m) => /^m\d+$/.test(m.id)).length, 50);
    assert.deepEqual(seen.filter((m) => /^m\d+$/.test(m.id)).map((m) => m.id),
      many.map((_, i) => `m${i}`));
    assert.equal((await s.stop()).code, 0);
  });

test('wrong parameter types get InvalidParams', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await assert.rejects(s.request('initialize', { processId: 'me',
    capabilities: {} }), { code: -32602 });
  await assert.rejects(s.request('initialize', { processId: null,
    capabilities: 3 }), { code: -32602 });
  await s.initialize(); // the failed ones did not initialize
  await assert.rejects(s.request('textDocument/diagnostic',
    { textDocument: 5 }), { code: -32602 });
  await assert.rejects(s.request('textDocument/diagnostic',
    { textDocument: { uri: 7 } }), { code: -32602 });
  await assert.rejects(s.request('textDocument/diagnostic', [1, 2]),
    { code: -32602 });
  // Notifications with bad params are logged and ignored.
  await s.notify('textDocument/didOpen', { textDocument: { uri: 1 } });
  await s.notify('textDocument/didChange', { textDocument: { uri: 'file:///a',
    version: 'x' }, contentChanges: 3 });
  await s.notify('textDocument/didClose', {});
  await s.notify('$/cancelRequest', { id: [] });
  await s.notify('workspace/didChangeConfiguration', { settings: 5 });
  await stillAnswers(s);
  assert.equal((await s.stop()).code, 0);
});

test('positions past the end are clamped; bad ranges rejected whole',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize();
    const uri = 'file:///clamp/Dockerfile';
    await s.open(uri, 'FROM a\nRUN b\n');
    await s.change(uri, 2, [
      { range: { start: { line: 1, character: 99 },
                 end: { line: 1, character: 1000 } }, text: ' c' },
      { range: { start: { line: 50, character: 0 },
                 end: { line: 60, character: 4 } }, text: 'CMD d' },
    ]);
    let d = await s.debug(uri);
    assert.equal(d.text, 'FROM a\nRUN b c\nCMD d');
    assert.equal(d.tree, d.freshTree);
    // A negative position makes the whole change invalid: nothing applied.
    await s.change(uri, 3, [
      { range: { start: { line: 0, character: 0 },
                 end: { line: 0, character: 0 } }, text: 'X' },
      { range: { start: { line: -1, character: 0 },
                 end: { line: 0, character: 0 } }, text: 'Y' },
    ]);
    d = await s.debug(uri);
    assert.equal(d.text, 'FROM a\nRUN b c\nCMD d');
    assert.equal(d.version, 2);
    assert.equal((await s.stop()).code, 0);
  });

test('changes to unopened documents are ignored', async (t) => {
  const s = start({ log: 'warn' });
  t.after(() => s.kill());
  await s.initialize();
  await s.change('file:///never/opened', 2, [{ text: 'FROM x' }]);
  await s.notify('textDocument/didClose',
    { textDocument: { uri: 'file:///never/opened' } });
  await assert.rejects(s.debug('file:///never/opened'), { code: -32602 });
  assert.match(s.stderr, /not open; ignored/);
  await stillAnswers(s);
  assert.equal((await s.stop()).code, 0);
});

test('a message of many megabytes is handled', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  const uri = 'file:///big/Dockerfile';
  // Comment lines: the point is the transport, not the analysis.
  const line = '# ' + 'x'.repeat(98) + '\n';
  const text = 'FROM busybox\n' + line.repeat(200000) + 'EXPOSE 99999\n';
  assert.ok(text.length > 20e6);
  const t0 = Date.now();
  await s.open(uri, text);
  const p = await s.diagnostics(uri, 1, 60000);
  t.diagnostic(`20 MB didOpen to publishDiagnostics: ${Date.now() - t0} ms`);
  assert.ok(p.diagnostics.some((d) => d.code === 'InvalidPort' &&
    d.range.start.line === 200001));
  await stillAnswers(s);
  assert.equal((await s.stop()).code, 0);
});

test('a message over the size ceiling gets an error', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const seen = rawResponses(s);
  await s.initialize();
  // Only the header: the server answers at once and would skip that many
  // bytes, so the session cannot go on; closing stdin ends it.
  await s.raw('Content-Length: 99999999999\r\n\r\n{');
  await until(() => seen.some((m) => m.error));
  assert.equal(seen.find((m) => m.error).error.code, -32600);
  assert.equal(seen.find((m) => m.error).id, null);
  s.proc.stdin.end();
  assert.equal((await exitWithin(s, 5000)).code, 1);
});

test('input ending inside a message exits cleanly', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  await s.raw('Content-Length: 100\r\n\r\n{"jsonrpc"');
  s.proc.stdin.end();
  assert.equal((await exitWithin(s, 5000)).code, 1);
});

// Completion, hover, signature help and code actions at every position of
// a document full of odd corners (and past its ends), and with bad params:
// each gets an answer, and the server stays up (under ASan too).
test('feature requests at every position of an odd document', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ capabilities: {
    textDocument: { completion: { completionItem: { snippetSupport: true } },
      codeAction: { resolveSupport: { properties: ['edit'] } } } } });
  const text = [
    '# syntax=docker/dockerfile:1', '# check=skip=;error=', '#escape=\\',
    'ARG A=${B:-x} C', 'FROM --platform=$BUILDPLATFORM a:${A AS b',
    'onbuild onbuild run x', 'ONBUILD COPY --from= \\', '  --mount=,,= /x',
    'RUN --mount=type=cache,target=/é😀,from=$ <<EOF cat', 'é😀 ${',
    'EOF', 'COPY <<-"X" --chmod=7 /a', 'X', 'ENV = ==', 'ENV A', 'LABEL "',
    'EXPOSE /', 'HEALTHCHECK --interval= CMD', 'STOPSIGNAL', 'SHELL [',
    'WORKDIR ${A:', 'FROM b AS', '\tRUN --=x', 'ADD --checksum= http://x',
    'FROM', '$', '${}', '--', '\r', 'USER é😀:${', '',
  ].join('\n');
  const uri = 'file:///robust/features/Dockerfile';
  await s.open(uri, text);
  const lines = text.split('\n');
  for (let line = 0; line <= lines.length; line++) {
    const len = line < lines.length ? lines[line].length : 0;
    for (let character = 0; character <= len + 2; character++) {
      const p = { textDocument: { uri }, position: { line, character } };
      const [c, h, g] = await Promise.all([
        s.request('textDocument/completion', p),
        s.request('textDocument/hover', p),
        s.request('textDocument/signatureHelp', p)]);
      // Only a FROM image's tags load (from a registry) in the background.
      assert.ok(c.isIncomplete === false || /^FROM .*:/.test(lines[line]),
        JSON.stringify({ line, character }));
      for (const it of c.items) {
        const r = it.textEdit.range;
        assert.ok(r.start.line === r.end.line && r.start.line <= line,
          JSON.stringify({ line, character, it }));
      }
      assert.ok(h === null || typeof h.contents.value === 'string');
      assert.ok(g === null || g.signatures.length > 0);
    }
    const actions = await s.request('textDocument/codeAction', {
      textDocument: { uri }, range: { start: { line, character: 0 },
        end: { line, character: 99 } }, context: { diagnostics: [] } });
    for (const a of actions) {
      const r = await s.request('codeAction/resolve', a);
      assert.ok(r.edit, a.title);
    }
  }
  // Bad params: InvalidParams, never a crash.
  for (const [m, p] of [
    ['textDocument/completion', { textDocument: { uri }, position: { line: -1, character: 0 } }],
    ['textDocument/hover', { textDocument: {}, position: { line: 0, character: 0 } }],
    ['textDocument/signatureHelp', { textDocument: { uri } }],
    ['textDocument/codeAction', { textDocument: { uri }, range: { start: {} } }],
    ['codeAction/resolve', { title: 'x', data: { uri: 5 } }],
    ['codeAction/resolve', { title: 'x' }],
  ])
    await assert.rejects(s.request(m, p), { code: -32602 }, m);
  // A resolve for a closed document: the action back, without an edit.
  const r = await s.request('codeAction/resolve', { title: 'x', data: {
    uri: 'file:///closed', version: 1, rule: 'X', at: 0, action: 'fix', fix: 0 } });
  assert.equal(r.edit, undefined);
  assert.equal((await s.stop()).code, 0);
});
