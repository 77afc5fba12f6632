'use strict';
// Diagnostics: pushed on open and change (throttled), pulled through
// textDocument/diagnostic, cancellation of a waiting pull, the .dockerignore
// next to the file, and closing.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { start, tmpdir, fileUri, rpc } = require('./lib/session');

const fast = { dockwright: { diagnostics: { debounceMs: 20 } } };
const at = (l1, c1, l2, c2, text) =>
  ({ range: { start: { line: l1, character: c1 },
              end: { line: l2, character: c2 } }, text });

test('push: every field of a diagnostic', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ initializationOptions: fast });
  const uri = 'file:///push/Dockerfile';
  const t0 = Date.now();
  await s.open(uri, 'FROM busybox\nEXPOSE 99999\n', 7);
  const p = await s.diagnostics(uri, 7);
  t.diagnostic(`didOpen to publishDiagnostics: ${Date.now() - t0} ms`);
  const d = p.diagnostics.find((x) => x.code === 'InvalidPort');
  assert.ok(d, JSON.stringify(p));
  assert.deepEqual(d.range, { start: { line: 1, character: 7 },
                              end: { line: 1, character: 12 } });
  assert.equal(d.severity, 1);
  assert.equal(d.source, 'dockwright');
  assert.match(d.message, /99999/);
  assert.match(d.codeDescription.href, /^https:\/\/.*#invalidport$/);
  assert.equal(d.data.version, 7);
  assert.ok(Array.isArray(d.data.fixes));
  assert.equal((await s.stop()).code, 0);
});

test('push: optional fields only for a client that declares them',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    // A minimal client: no relatedInformation, tagSupport,
    // codeDescriptionSupport or dataSupport.
    await s.initialize({ initializationOptions: fast, capabilities: {
      textDocument: { publishDiagnostics: { relatedInformation: false,
        tagSupport: null, codeDescriptionSupport: false,
        dataSupport: false } } } });
    const uri = 'file:///push/minimal';
    await s.open(uri,
      'FROM busybox AS a\nFROM busybox AS a\nMAINTAINER me\nEXPOSE 99999\n');
    const p = await s.diagnostics(uri, 1);
    const codes = p.diagnostics.map((x) => x.code);
    for (const c of ['DuplicateStageName', 'MaintainerDeprecated',
      'InvalidPort'])
      assert.ok(codes.includes(c), JSON.stringify(codes));
    for (const d of p.diagnostics) {
      for (const k of ['data', 'codeDescription', 'tags',
        'relatedInformation'])
        assert.equal(d[k], undefined, `${d.code} carries ${k}`);
      assert.ok(d.range && d.severity && d.code && d.message);
    }
    assert.equal((await s.stop()).code, 0);
  });

test('push: a burst of changes is coalesced and published with its version',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ initializationOptions: { dockwright: {
      diagnostics: { debounceMs: 150 } } } });
    const uri = 'file:///push/debounce';
    await s.open(uri, 'FROM busybox\nEXPOSE 80\n');
    const first = await s.diagnostics(uri, 1);
    assert.equal(first.diagnostics.filter((x) => x.code === 'InvalidPort')
      .length, 0);
    // A burst of edits: one publish, for the last version.
    const n0 = s.notifications.length;
    const t0 = Date.now();
    await s.change(uri, 2, [at(1, 7, 1, 9, '9')]);
    await s.change(uri, 3, [at(1, 8, 1, 8, '9')]);
    await s.change(uri, 4, [at(1, 9, 1, 9, '999')]);
    const p = await s.diagnostics(uri, 4);
    const ms = Date.now() - t0;
    t.diagnostic(`burst of 3 changes to publish: ${ms} ms (window 150)`);
    // The open's analysis began the 150 ms window; the burst inside it is
    // analysed once, at its end.
    assert.ok(ms >= 100, `published after ${ms} ms`);
    assert.equal(p.diagnostics.filter((x) => x.code === 'InvalidPort').length,
      1);
    const pubs = s.notifications.slice(n0).filter(
      (x) => x.method === 'textDocument/publishDiagnostics');
    assert.deepEqual(pubs.map((x) => x.params.version), [4]);
    assert.equal((await s.stop()).code, 0);
  });

test('push: closing clears the document\'s diagnostics', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ initializationOptions: fast });
  const uri = 'file:///push/close';
  await s.open(uri, 'FROM busybox\nEXPOSE 99999\n');
  await s.diagnostics(uri, 1);
  const n0 = s.notifications.length;
  await s.notify('textDocument/didClose', { textDocument: { uri } });
  const p = await s.waitFor('textDocument/publishDiagnostics',
    (x) => x.uri === uri, 3000, n0);
  assert.deepEqual(p.diagnostics, []);
  assert.equal((await s.stop()).code, 0);
});

const pullCaps = { textDocument: { diagnostic: { dynamicRegistration: false,
  relatedDocumentSupport: false } } };

test('pull: full report, then unchanged, then full after an edit',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: pullCaps, initializationOptions: fast });
    const uri = 'file:///pull/Dockerfile';
    await s.open(uri, 'FROM busybox\nEXPOSE 99999\n');
    const t0 = Date.now();
    const r1 = await s.request('textDocument/diagnostic',
      { textDocument: { uri } });
    t.diagnostic(`first pull: ${Date.now() - t0} ms`);
    assert.equal(r1.kind, 'full');
    assert.ok(r1.resultId);
    assert.ok(r1.items.some((x) => x.code === 'InvalidPort'));
    const r2 = await s.request('textDocument/diagnostic',
      { textDocument: { uri }, previousResultId: r1.resultId });
    assert.deepEqual(r2, { kind: 'unchanged', resultId: r1.resultId });
    await s.change(uri, 2, [at(1, 7, 1, 12, '80')]);
    const r3 = await s.request('textDocument/diagnostic',
      { textDocument: { uri }, previousResultId: r1.resultId });
    assert.equal(r3.kind, 'full');
    assert.notEqual(r3.resultId, r1.resultId);
    assert.equal(r3.items.filter((x) => x.code === 'InvalidPort').length, 0);
    // A pulling client gets nothing pushed.
    assert.equal(s.notifications.filter(
      (x) => x.method === 'textDocument/publishDiagnostics').length, 0);
    // Unknown documents: an empty report.
    const r4 = await s.request('textDocument/diagnostic',
      { textDocument: { uri: 'file:///pull/none' } });
    assert.deepEqual(r4, { kind: 'full', items: [] });
    assert.equal((await s.stop()).code, 0);
  });

test('$/cancelRequest cancels a waiting pull', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ capabilities: pullCaps, initializationOptions: {
    dockwright: { diagnostics: { debounceMs: 500 } } } });
  const uri = 'file:///pull/cancel';
  await s.open(uri, 'FROM busybox\n');
  // The first analysis runs at once and opens a 500 ms throttle window.
  await s.request('textDocument/diagnostic', { textDocument: { uri } });
  await s.change(uri, 2, [at(1, 0, 1, 0, 'EXPOSE 99999\n')]);
  // The next analysis waits for the window's end, so the pull waits;
  // cancel it.
  const source = new rpc.CancellationTokenSource();
  const pending = s.request('textDocument/diagnostic',
    { textDocument: { uri } }, source.token);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = Date.now();
  source.cancel();
  await assert.rejects(pending, { code: -32800 });
  t.diagnostic(`cancel answered in ${Date.now() - t0} ms`);
  // The server goes on; a pull without cancel still gets its answer.
  const r = await s.request('textDocument/diagnostic',
    { textDocument: { uri } });
  assert.ok(r.items.some((x) => x.code === 'InvalidPort'));
  assert.equal((await s.stop()).code, 0);
});

test('a pull waiting when the document closes gets an empty report',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: pullCaps, initializationOptions: {
      dockwright: { diagnostics: { debounceMs: 5000 } } } });
    const uri = 'file:///pull/closing';
    await s.open(uri, 'FROM busybox\n');
    // Open a 5 s throttle window, so the pull after the change waits.
    await s.request('textDocument/diagnostic', { textDocument: { uri } });
    await s.change(uri, 2, [at(1, 0, 1, 0, 'EXPOSE 99999\n')]);
    const pending = s.request('textDocument/diagnostic',
      { textDocument: { uri } });
    await new Promise((r) => setTimeout(r, 50));
    await s.notify('textDocument/didClose', { textDocument: { uri } });
    assert.deepEqual(await pending, { kind: 'full', items: [] });
    assert.equal((await s.stop()).code, 0);
  });

test('the .dockerignore next to the file is read', async (t) => {
  const dir = tmpdir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'secret.txt\n*.log\n');
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ initializationOptions: fast });
  const uri = fileUri(path.join(dir, 'Dockerfile'));
  await s.open(uri, 'FROM busybox\nCOPY secret.txt /x\n');
  await s.diagnostics(uri, 1);
  assert.equal((await s.debug(uri)).ignoreFile, 'secret.txt\n*.log\n');
  // <Dockerfile>.dockerignore wins over .dockerignore.
  fs.writeFileSync(path.join(dir, 'Dockerfile.dev.dockerignore'), 'x\n');
  const uri2 = fileUri(path.join(dir, 'Dockerfile.dev'));
  await s.open(uri2, 'FROM busybox\n');
  await s.diagnostics(uri2, 1);
  assert.equal((await s.debug(uri2)).ignoreFile, 'x\n');
  // No file, or a URI that is not a file: none.
  const uri3 = 'untitled:Untitled-1';
  await s.open(uri3, 'FROM busybox\n');
  await s.diagnostics(uri3, 1);
  assert.equal((await s.debug(uri3)).ignoreFile, null);
  assert.equal((await s.stop()).code, 0);
});

test('paths with spaces and non-ASCII names (percent-encoded URIs)',
  async (t) => {
    const dir = path.join(tmpdir(), 'a dir é');
    fs.mkdirSync(dir);
    t.after(() => fs.rmSync(path.dirname(dir), { recursive: true }));
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n');
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ initializationOptions: fast });
    const uri = fileUri(path.join(dir, 'Dockerfile'));
    assert.match(uri, /%20/);
    await s.open(uri, 'FROM busybox\n');
    await s.diagnostics(uri, 1);
    assert.equal((await s.debug(uri)).ignoreFile, 'node_modules\n');
    assert.equal((await s.stop()).code, 0);
  });
