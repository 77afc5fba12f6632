'use strict';
// Settings: initializationOptions, workspace/didChangeConfiguration and
// workspace/configuration (section "dockwright"), mapped onto the analysis
// configuration.
const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/session');

const TEXT = 'FROM busybox\nEXPOSE 99999\n';
const ports = (p) => p.diagnostics.filter((x) => x.code === 'InvalidPort');

test('initializationOptions: a rule turned off, another re-graded',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ initializationOptions: { dockwright: {
      diagnostics: { debounceMs: 10 },
      rules: { InvalidPort: 'off' } } } });
    await s.open('file:///s/a', TEXT);
    assert.equal(ports(await s.diagnostics('file:///s/a', 1)).length, 0);
    assert.equal((await s.stop()).code, 0);
  });

test('initializationOptions may be the section itself', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ initializationOptions: {
    rules: { InvalidPort: 'hint' } } });
  await s.open('file:///s/b', TEXT);
  const p = ports(await s.diagnostics('file:///s/b', 1));
  assert.equal(p.length, 1);
  assert.equal(p[0].severity, 4);
  assert.equal((await s.stop()).code, 0);
});

test('didChangeConfiguration re-grades open documents', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  await s.open('file:///s/c', TEXT);
  assert.equal(ports(await s.diagnostics('file:///s/c', 1))[0].severity, 1);
  let n0 = s.notifications.length;
  await s.notify('workspace/didChangeConfiguration', { settings: {
    dockwright: { rules: { InvalidPort: 'warning' } } } });
  let p = await s.waitFor('textDocument/publishDiagnostics',
    (x) => x.uri === 'file:///s/c', 3000, n0);
  assert.equal(ports(p)[0].severity, 2);
  n0 = s.notifications.length;
  await s.notify('workspace/didChangeConfiguration', { settings: {
    dockwright: { diagnostics: { enable: false } } } });
  p = await s.waitFor('textDocument/publishDiagnostics',
    (x) => x.uri === 'file:///s/c', 3000, n0);
  assert.deepEqual(p.diagnostics, []);
  // Other sections are not ours: settings unchanged, nothing published.
  n0 = s.notifications.length;
  await s.notify('workspace/didChangeConfiguration', { settings: {
    other: { x: 1 } } });
  await assert.rejects(s.request('x/y'), { code: -32601 });
  assert.equal(s.notifications.length, n0);
  assert.equal((await s.stop()).code, 0);
});

test('bad values are skipped, good ones kept', async (t) => {
  const s = start({ log: 'warn' });
  t.after(() => s.kill());
  await s.initialize({ initializationOptions: { dockwright: {
    diagnostics: { enable: 'yes', debounceMs: -4 },
    rules: { NoSuchRule: 'off', InvalidPort: 'information',
             FromAsCasing: 'loud' } } } });
  await s.open('file:///s/d', TEXT);
  assert.equal(ports(await s.diagnostics('file:///s/d', 1))[0].severity, 3);
  assert.match(s.stderr, /NoSuchRule/);
  assert.match(s.stderr, /FromAsCasing: severity must be/);
  assert.match(s.stderr, /enable must be a boolean/);
  assert.equal((await s.stop()).code, 0);
});

test('workspace/configuration is asked for when the client supports it',
  async (t) => {
    const s = start({ settings: { rules: { InvalidPort: 'off' } } });
    t.after(() => s.kill());
    await s.initialize({ capabilities: { workspace: { configuration: true } },
      initializationOptions: { dockwright: { rules: {
        InvalidPort: 'warning' } } } });
    await s.open('file:///s/e', TEXT);
    // The first publish already honours the client's answer.
    assert.equal(ports(await s.diagnostics('file:///s/e', 1)).length, 0);
    assert.equal(s.configRequests, 1);
    // didChangeConfiguration (VS Code sends settings: null) asks again.
    s.settings = { rules: { InvalidPort: 'hint' } };
    const n0 = s.notifications.length;
    await s.notify('workspace/didChangeConfiguration', { settings: null });
    const p = await s.waitFor('textDocument/publishDiagnostics',
      (x) => x.uri === 'file:///s/e', 3000, n0);
    assert.equal(ports(p)[0].severity, 4);
    assert.equal(s.configRequests, 2);
    assert.equal((await s.stop()).code, 0);
  });

test('pulling clients are told to refresh after a settings change',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: {
      textDocument: { diagnostic: {} },
      workspace: { diagnostics: { refreshSupport: true } } } });
    const uri = 'file:///s/f';
    await s.open(uri, TEXT);
    let r = await s.request('textDocument/diagnostic', { textDocument: { uri } });
    assert.equal(r.items.filter((x) => x.code === 'InvalidPort').length, 1);
    await s.notify('workspace/didChangeConfiguration', { settings: {
      dockwright: { rules: { InvalidPort: 'off' } } } });
    r = await s.request('textDocument/diagnostic',
      { textDocument: { uri }, previousResultId: r.resultId });
    assert.equal(r.kind, 'full');
    assert.equal(r.items.filter((x) => x.code === 'InvalidPort').length, 0);
    assert.equal(s.refreshRequests, 1);
    assert.equal((await s.stop()).code, 0);
  });
