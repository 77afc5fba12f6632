'use strict';
// The LSP lifecycle: initialize, initialized, shutdown, exit, and how the
// session ends (exit codes, stdin closing, the client process dying).
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { start, exitWithin } = require('./lib/session');

test('initialize advertises what works', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const r = await s.initialize();
  const c = r.capabilities;
  assert.equal(c.positionEncoding, 'utf-16');
  assert.deepEqual(c.textDocumentSync, { openClose: true, change: 2 });
  assert.equal(c.diagnosticProvider.identifier, 'dockwright');
  assert.equal(c.diagnosticProvider.interFileDependencies, false);
  assert.equal(r.serverInfo.name, 'dockwright');
  assert.equal(c.completionProvider.resolveProvider, true);
  for (const ch of ['$', '{', '-', '='])
    assert.ok(c.completionProvider.triggerCharacters.includes(ch), ch);
  assert.equal(c.hoverProvider, true);
  assert.deepEqual(c.codeActionProvider, { resolveProvider: true,
    codeActionKinds: ['quickfix', 'source.fixAll.dockwright'] });
  assert.ok(c.signatureHelpProvider.triggerCharacters.includes(' '));
  // Nothing that is not implemented.
  for (const k of ['typeDefinitionProvider', 'implementationProvider',
                   'colorProvider', 'callHierarchyProvider'])
    assert.equal(c[k], undefined, k);
  // Language intelligence II (each tested in its own file).
  for (const k of ['definitionProvider', 'referencesProvider',
                   'documentHighlightProvider', 'documentSymbolProvider',
                   'workspaceSymbolProvider', 'foldingRangeProvider',
                   'selectionRangeProvider', 'documentFormattingProvider',
                   'documentRangeFormattingProvider', 'inlayHintProvider'])
    assert.equal(c[k], true, k);
  assert.deepEqual(await s.stop(), { code: 0, signal: null });
});

test('requests before initialize get ServerNotInitialized', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await assert.rejects(s.request('textDocument/diagnostic', {
    textDocument: { uri: 'file:///x' } }), { code: -32002 });
  await assert.rejects(s.request('shutdown'), { code: -32002 });
  // Notifications before initialize are dropped, not answered.
  await s.notify('textDocument/didOpen', { textDocument: {
    uri: 'file:///x', languageId: 'dockerfile', version: 1, text: 'FROM a' } });
  await s.initialize();
  assert.equal(s.notifications.length, 0);
  assert.equal((await s.stop()).code, 0);
});

test('initialize twice is an InvalidRequest', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  await assert.rejects(s.request('initialize', { processId: null,
    capabilities: {} }), { code: -32600 });
  assert.equal((await s.stop()).code, 0);
});

test('unknown requests get MethodNotFound, unknown notifications nothing',
  async (t) => {
    const s = start({ log: 'info' });
    t.after(() => s.kill());
    await s.initialize();
    await assert.rejects(s.request('textDocument/unheardOf', {}),
      { code: -32601 });
    await s.notify('workspace/unheardOf', {});
    await s.notify('$/unheardOf', {});
    // The server is still answering, and logged only the non-$/ one.
    await assert.rejects(s.request('x/y'), { code: -32601 });
    assert.match(s.stderr, /ignoring notification workspace\/unheardOf/);
    assert.doesNotMatch(s.stderr, /\$\/unheardOf/);
    assert.equal((await s.stop()).code, 0);
  });

test('requests after shutdown are InvalidRequest; exit is 0', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  assert.equal(await s.request('shutdown'), null);
  await assert.rejects(s.request('textDocument/diagnostic', {
    textDocument: { uri: 'file:///x' } }), { code: -32600 });
  await s.notify('exit');
  assert.deepEqual(await exitWithin(s, 5000), { code: 0, signal: null });
});

test('exit without shutdown exits 1', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  await s.notify('exit');
  assert.deepEqual(await exitWithin(s, 5000), { code: 1, signal: null });
});

test('exit before initialize exits 1', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.notify('exit');
  assert.equal((await exitWithin(s, 5000)).code, 1);
});

test('stdin closing ends the session', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  s.proc.stdin.end();
  assert.equal((await exitWithin(s, 5000)).code, 1);
});

test('stdin closing after shutdown exits 0', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  await s.request('shutdown');
  s.proc.stdin.end();
  assert.equal((await exitWithin(s, 5000)).code, 0);
});

test('the server exits when the client process dies', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const client = spawn('sleep', ['60']);
  const died = new Promise((r) => client.on('exit', r));
  await s.initialize({ processId: client.pid });
  const t0 = Date.now();
  client.kill('SIGKILL');
  await died;
  const r = await exitWithin(s, 5000);
  assert.equal(r.code, 1);
  t.diagnostic(`exited ${Date.now() - t0} ms after the client died`);
});

test('$/setTrace turns $/logTrace on and off', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ trace: 'off' });
  await s.request('x/y').catch(() => {});
  assert.equal(s.notifications.filter((n) => n.method === '$/logTrace').length,
    0);
  await s.notify('$/setTrace', { value: 'verbose' });
  await s.request('x/z').catch(() => {});
  const tr = await s.waitFor('$/logTrace', (p) => /x\/z/.test(p.message));
  assert.equal(typeof tr.verbose, 'string');
  await s.notify('$/setTrace', { value: 'off' });
  const n = s.notifications.length;
  await s.request('x/w').catch(() => {});
  assert.equal(s.notifications.length, n);
  // A bad value is ignored (logged), the session goes on.
  await s.notify('$/setTrace', { value: 7 });
  assert.equal((await s.stop()).code, 0);
});

test('stdin and stdout may be regular files', async (t) => {
  const fs = require('node:fs');
  const path = require('node:path');
  const { tmpdir, frame, SERVER } = require('./lib/session');
  const dir = tmpdir();
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const uri = 'file:///files/Dockerfile';
  const msgs = [
    { jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { processId: null, capabilities: {},
                initializationOptions: { diagnostics: { debounceMs: 0 } } } },
    { jsonrpc: '2.0', method: 'initialized', params: {} },
    { jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument:
      { uri, languageId: 'dockerfile', version: 1,
        text: 'FROM busybox\nEXPOSE 99999\n' } } },
    { jsonrpc: '2.0', id: 2, method: 'x/y' },
  ];
  fs.writeFileSync(path.join(dir, 'in'), Buffer.concat(msgs.map(frame)));
  const inFd = fs.openSync(path.join(dir, 'in'), 'r');
  const outFd = fs.openSync(path.join(dir, 'out'), 'w');
  const p = spawn(SERVER, ['--stdio'], { stdio: [inFd, outFd, 'pipe'] });
  const code = await new Promise((r) => p.on('exit', r));
  fs.closeSync(inFd);
  fs.closeSync(outFd);
  assert.equal(code, 1); // input ended without shutdown
  const out = fs.readFileSync(path.join(dir, 'out'), 'utf8');
  const bodies = out.split(/Content-Length: \d+\r\n\r\n/).filter(Boolean)
    .map((b) => JSON.parse(b));
  assert.equal(bodies[0].id, 1);
  assert.equal(bodies.find((b) => b.id === 2).error.code, -32601);
});

test('a pull still waiting at shutdown is answered first', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ capabilities: { textDocument: { diagnostic: {} } },
    initializationOptions: { diagnostics: { debounceMs: 5000 } } });
  const uri = 'file:///shutdown/pull';
  await s.open(uri, 'FROM busybox\n');
  // A first pull opens a 5 s throttle window, so the next one waits.
  await s.request('textDocument/diagnostic', { textDocument: { uri } });
  await s.change(uri, 2, [{ text: 'FROM busybox\nEXPOSE 99999\n' }]);
  const pull = s.request('textDocument/diagnostic', { textDocument: { uri } });
  const order = [];
  pull.catch((e) => order.push(['pull', e.code]));
  await s.request('shutdown');
  order.push(['shutdown']);
  assert.deepEqual(order, [['pull', -32802], ['shutdown']]);
  await s.notify('exit');
  assert.equal((await exitWithin(s, 5000)).code, 0);
});

test('a closed or empty stdin ends the session (exit 1, no crash)',
  async () => {
    const { SERVER } = require('./lib/session');
    // fd 0 closed: the loop's own fds must not take its place.
    const closed = spawn('sh', ['-c', 'exec "$0" --stdio <&-', SERVER],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    assert.deepEqual(await new Promise((r) =>
      closed.on('exit', (code, signal) => r([code, signal]))), [1, null]);
    const devnull = spawn(SERVER, ['--stdio'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(await new Promise((r) => devnull.on('exit', r)), 1);
  });
