'use strict';
// Building from the editor (docs/editor-protocol.md): workspace/executeCommand
// with dockwright.build / dockwright.push / dockwright.buildAndPush against a
// real docker-registry on a loopback port, the builder plugin loaded by the
// server itself.  Progress (begin, a report per step, end), cancel from
// window/workDoneProgress/cancel and $/cancelRequest, a rebuild from the
// cache, a failed RUN's diagnostic and how it is cleared, requests answered
// while a build runs, code lenses, and a push checked with skopeo.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { start, tmpdir, fileUri, rpc } = require('./lib/session');
const reg = require('./lib/registry');

const missing = reg.missingTools();
const skip = process.getuid() !== 0
  ? 'RUN needs root (user namespaces are not enough here)'
  : missing.length ? `missing ${missing.join(', ')} (tools/setup.sh)` : false;

let dir, registry, store;

test.before(async () => {
  if (skip) return;
  dir = tmpdir();
  store = path.join(dir, 'store');
  registry = await reg.startRegistry(path.join(dir, 'registry'));
  reg.pushBusybox(registry.host);
});

test.after(() => {
  if (registry) registry.stop();
  if (dir && !process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

// A session of a client that declares window.workDoneProgress and
// codeLens refresh, with the store under the test's directory.
async function session(t, extra = {}, env = {}) {
  const saved = { ...process.env };
  Object.assign(process.env, env); // the child's environment at spawn
  const s = start();
  process.env = saved;
  t.after(() => s.kill());
  await s.initialize({
    initializationOptions: { dockwright: { root: store,
                                           diagnostics: { debounceMs: 0 } } },
    capabilities: { window: { workDoneProgress: true },
                    workspace: { codeLens: { refreshSupport: true } },
                    ...extra },
  });
  return s;
}

// Writes a Dockerfile in its own directory and opens it.
async function project(s, name, text) {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  const file = path.join(d, 'Dockerfile');
  fs.writeFileSync(file, text);
  const uri = fileUri(file);
  await s.open(uri, text);
  await s.diagnostics(uri, 1);
  return uri;
}

// The $/progress values sent on token, in order.
function progress(s, token) {
  return s.notifications
    .filter((n) => n.method === '$/progress' && n.params.token === token)
    .map((n) => n.params.value);
}

function build(s, args, command = 'dockwright.build', token) {
  return s.request('workspace/executeCommand',
    { command, arguments: [args] }, token);
}

const timeout = { timeout: 120000 };

test('initialize advertises the three commands and code lenses',
  { skip }, async (t) => {
    const s = start();
    t.after(() => s.kill());
    const r = await s.initialize();
    assert.deepEqual(r.capabilities.executeCommandProvider.commands,
      ['dockwright.build', 'dockwright.push', 'dockwright.buildAndPush']);
    assert.ok(r.capabilities.codeLensProvider);
    // Opening, diagnostics and lenses build nothing and load no builder.
    const uri = 'file:///nothing/Dockerfile';
    await s.open(uri, 'FROM busybox AS a\nRUN touch /x\nFROM a\n');
    await s.diagnostics(uri, 1);
    const lenses = await s.request('textDocument/codeLens',
      { textDocument: { uri } });
    assert.deepEqual(lenses.map((l) => l.command.title),
      ['Build and push', 'Build', 'Build stage a', 'Build stage 1']);
    assert.doesNotMatch(fs.readFileSync(`/proc/${s.proc.pid}/maps`, 'utf8'),
      /libdockwright-builder|libcurl/);
    assert.equal((await s.stop()).code, 0);
  });

test('a multi-stage build: progress in order, result, log, lenses',
  { skip, ...timeout }, async (t) => {
    // The server passes SOURCE_DATE_EPOCH on: the rebuild is the same
    // image, byte for byte.
    const s = await session(t, {}, { SOURCE_DATE_EPOCH: '1700000000' });
    const text = [
      `FROM ${registry.host}/busybox:latest AS build`,
      'RUN echo hello-from-run && echo built > /out.txt',
      `FROM ${registry.host}/busybox:latest`,
      'COPY --from=build /out.txt /out.txt',
      'RUN cat /out.txt',
      '',
    ].join('\n');
    const uri = await project(s, 'My Multi', text);
    // The builder is mapped on the first build command, not before.
    const maps = () => fs.readFileSync(`/proc/${s.proc.pid}/maps`, 'utf8');
    assert.doesNotMatch(maps(), /libdockwright-builder/);
    const since = s.notifications.length;
    const res = await build(s, { uri });
    assert.match(maps(), /libdockwright-builder/);
    assert.match(res.digest, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(res.tags, ['localhost/my-multi:latest']);
    assert.equal(res.steps.length, 5, JSON.stringify(res.steps));
    assert.deepEqual(res.steps.map((x) => x.line), [1, 2, 3, 4, 5]);
    assert.match(res.steps[1].text, /^\[2\/5\] RUN echo hello-from-run/);
    assert.ok(res.steps.every((x) => typeof x.seconds === 'number'));
    assert.ok(res.steps[1].layerSize > 0, JSON.stringify(res.steps[1]));

    // The server asked for a token, then begin, reports, end in order.
    assert.equal(s.progressCreates.length, 1);
    const token = s.progressCreates[0];
    const p = progress(s, token);
    assert.equal(p[0].kind, 'begin');
    assert.match(p[0].title, /localhost\/my-multi:latest/);
    assert.equal(p[0].cancellable, true);
    assert.equal(p[p.length - 1].kind, 'end');
    assert.equal(p[p.length - 1].message, res.digest);
    const reports = p.slice(1, -1);
    assert.ok(reports.every((v) => v.kind === 'report'));
    for (let i = 1; i <= 5; i++) {
      const start = reports.findIndex((v) => v.message.startsWith(`[${i}/5] `));
      const done = reports.findIndex((v) =>
        v.message.startsWith(`[${i}/5] `) && /( CACHED|\d\.\ds)$/.test(v.message));
      assert.ok(start >= 0 && done > start, `step ${i}: ${JSON.stringify(reports)}`);
    }
    assert.ok(reports.some((v) => /^pull sha256:[0-9a-f]{12} .*\(\d+%\)$/.test(v.message)),
      JSON.stringify(reports));
    const pct = reports.map((v) => v.percentage);
    assert.ok(pct.every((x, i) => i === 0 || x >= pct[i - 1]), JSON.stringify(pct));

    // The log: the RUN's output tagged with its step, and logMessage.
    const logs = s.notifications.slice(since)
      .filter((n) => n.method === 'dockwright/buildLog').map((n) => n.params);
    const out = logs.find((l) => l.stream === 'output' && /hello-from-run/.test(l.text));
    assert.ok(out, JSON.stringify(logs));
    assert.equal(out.uri, uri);
    assert.equal(out.step, 2);
    assert.ok(logs.some((l) => l.stream === 'status' && /^#2\/5 /.test(l.text)));
    assert.ok(s.notifications.some((n) => n.method === 'window/logMessage' &&
      n.params.type === 4 && /\[Dockerfile\] hello-from-run/.test(n.params.message)));

    // Lenses: build and push, a lens per FROM, a result per step.
    assert.ok(s.codeLensRefreshes >= 1);
    const lenses = await s.request('textDocument/codeLens',
      { textDocument: { uri } });
    const titles = lenses.map((l) => `${l.range.start.line}:${l.command.title}`);
    assert.ok(titles.includes('0:Build and push'), JSON.stringify(titles));
    assert.ok(titles.includes('0:Build stage build'), JSON.stringify(titles));
    assert.ok(titles.includes('2:Build stage 1'), JSON.stringify(titles));
    assert.ok(titles.some((x) => /^1:built \d+\.\ds · \d/.test(x)), JSON.stringify(titles));
    const stage = lenses.find((l) => l.command.title === 'Build stage build');
    assert.deepEqual(stage.command.arguments, [{ uri, target: 'build' }]);
    assert.equal(stage.command.command, 'dockwright.build');

    // Again: every step that can be cached is.
    const again = await build(s, { uri });
    assert.equal(again.digest, res.digest);
    assert.deepEqual(again.steps.map((x) => x.cached),
      [false, true, false, true, true]);
    s.assertClean();
    assert.equal((await s.stop()).code, 0);
  });

test('cancel from the progress: cancelled, then a rebuild reuses the cache',
  { skip, ...timeout }, async (t) => {
    const s = await session(t);
    const text = [
      `FROM ${registry.host}/busybox:latest`,
      'RUN echo first > /first',
      'RUN sleep 30',
      'RUN echo after',
      '',
    ].join('\n');
    const uri = await project(s, 'cancel', text);
    const pending = build(s, { uri, tags: ['localhost/cancel:1'] });
    const report = await s.waitFor('$/progress',
      (p) => p.value.kind === 'report' && /RUN sleep 30$/.test(p.value.message),
      60000);
    const t0 = Date.now();
    await s.notify('window/workDoneProgress/cancel', { token: report.token });
    await assert.rejects(pending, (e) => e.code === -32800);
    const end = await s.waitFor('$/progress',
      (p) => p.token === report.token && p.value.kind === 'end', 10000);
    assert.equal(end.value.message, 'cancelled');
    assert.ok(Date.now() - t0 < 10000, 'the sleep was killed');
    // The steps that finished are in the cache.
    await s.change(uri, 2, [{ text: text.replace('sleep 30', 'echo instead') }]);
    const res = await build(s, { uri, tags: ['localhost/cancel:1'] });
    assert.equal(res.steps[1].cached, true, JSON.stringify(res.steps));
    assert.equal(res.steps[2].cached, false);
    s.assertClean();
    assert.equal((await s.stop()).code, 0);
  });

test('$/cancelRequest cancels the build too', { skip, ...timeout },
  async (t) => {
    const s = await session(t);
    const uri = await project(s, 'cancel-request',
      `FROM ${registry.host}/busybox:latest\nRUN sleep 30\n`);
    const source = new rpc.CancellationTokenSource();
    const pending = build(s, { uri }, 'dockwright.build', source.token);
    const report = await s.waitFor('$/progress',
      (p) => p.value.kind === 'report' && /RUN sleep 30$/.test(p.value.message),
      60000);
    source.cancel();
    await assert.rejects(pending, (e) => e.code === -32800);
    const end = await s.waitFor('$/progress',
      (p) => p.token === report.token && p.value.kind === 'end', 10000);
    assert.equal(end.value.message, 'cancelled');
    s.assertClean();
    assert.equal((await s.stop()).code, 0);
  });

test('a failing RUN: the diagnostic on its line, cleared by a fix',
  { skip, ...timeout }, async (t) => {
    const s = await session(t);
    const text = [
      `FROM ${registry.host}/busybox:latest`,
      'ENV A=1',
      'RUN echo about-to-fail && \\',
      '    exit 3',
      'RUN echo never',
      '',
    ].join('\n');
    const uri = await project(s, 'fail', text);
    await assert.rejects(build(s, { uri }), (e) =>
      e.code === -32803 && /exit code: 3/.test(e.message));
    const pub = await s.waitFor('textDocument/publishDiagnostics',
      (p) => p.uri === uri && p.diagnostics.some((d) => d.source === 'dockwright build'));
    const d = pub.diagnostics.find((x) => x.source === 'dockwright build');
    assert.equal(d.range.start.line, 2);
    assert.equal(d.range.end.line, 3);
    assert.equal(d.severity, 1);
    assert.match(d.message, /exit code: 3/);
    assert.match(d.message, /about-to-fail/);
    // The analysis's diagnostics are still there next to it.
    assert.ok(pub.diagnostics.some((x) => x.source === 'dockwright'),
      JSON.stringify(pub.diagnostics));

    // An edit above moves it; an edit of the instruction clears it.
    await s.change(uri, 2, [{ range: { start: { line: 1, character: 0 },
                                       end: { line: 1, character: 0 } },
                              text: 'ENV B=2\n' }]);
    const moved = await s.diagnostics(uri, 2);
    const m = moved.diagnostics.find((x) => x.source === 'dockwright build');
    assert.ok(m, JSON.stringify(moved));
    assert.equal(m.range.start.line, 3);
    await s.change(uri, 3, [{ range: { start: { line: 4, character: 4 },
                                       end: { line: 4, character: 10 } },
                              text: 'true' }]);
    const fixed = await s.diagnostics(uri, 3);
    assert.ok(!fixed.diagnostics.some((x) => x.source === 'dockwright build'),
      JSON.stringify(fixed.diagnostics));
    const res = await build(s, { uri });
    assert.match(res.digest, /^sha256:/);

    // Failing again, then a successful build without an edit of that line
    // clears it as well.
    await s.change(uri, 4, [{ text: text }]);
    await s.diagnostics(uri, 4);
    await assert.rejects(build(s, { uri }));
    await s.waitFor('textDocument/publishDiagnostics', (p) => p.uri === uri &&
      p.version === 4 && p.diagnostics.some((x) => x.source === 'dockwright build'));
    const n = s.notifications.length;
    await build(s, { uri, target: '0', buildArgs: { X: 'y' } })
      .catch(() => {}); // same Dockerfile: fails again, keeps it
    const ok = text.replace('exit 3', 'true');
    fs.writeFileSync(path.join(dir, 'fail', 'Dockerfile'), ok);
    await s.notify('textDocument/didClose', { textDocument: { uri } });
    await s.waitFor('textDocument/publishDiagnostics',
      (p) => p.uri === uri && p.diagnostics.length === 0, 5000, n);
    const n2 = s.notifications.length;
    await build(s, { uri }); // from the file now
    const cleared = await s.waitFor('textDocument/publishDiagnostics',
      (p) => p.uri === uri && p.diagnostics.length === 0, 5000, n2);
    assert.deepEqual(cleared.diagnostics, []);
    s.assertClean();
    assert.equal((await s.stop()).code, 0);
  });

test('a pulling client gets the build\'s diagnostic in its report',
  { skip, ...timeout }, async (t) => {
    const s = await session(t, { textDocument: { diagnostic: {} },
                                 workspace: { diagnostics: { refreshSupport: true } } });
    const d = path.join(dir, 'pull');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'Dockerfile'), '');
    const uri = fileUri(path.join(d, 'Dockerfile'));
    await s.open(uri, `FROM ${registry.host}/busybox:latest\nRUN exit 5\n`);
    const before = await s.request('textDocument/diagnostic',
      { textDocument: { uri } });
    assert.ok(!before.items.some((x) => x.source === 'dockwright build'));
    await assert.rejects(build(s, { uri }), /exit code: 5/);
    assert.ok(s.refreshRequests >= 1, 'workspace/diagnostic/refresh sent');
    const after = await s.request('textDocument/diagnostic',
      { textDocument: { uri }, previousResultId: before.resultId });
    assert.equal(after.kind, 'full');
    const g = after.items.find((x) => x.source === 'dockwright build');
    assert.ok(g, JSON.stringify(after));
    assert.equal(g.range.start.line, 1);
    assert.equal(g.code, 'BuildFailed');
    // Nothing is pushed to a pulling client.
    assert.ok(!s.notifications.some((n) =>
      n.method === 'textDocument/publishDiagnostics'));
    assert.equal((await s.stop()).code, 0);
  });

test('requests are answered while a build runs; one build per document',
  { skip, ...timeout }, async (t) => {
    const s = await session(t);
    const uri = await project(s, 'busy',
      `FROM ${registry.host}/busybox:latest\nRUN sleep 4\n`);
    const other = await project(s, 'other',
      `FROM ${registry.host}/busybox:latest\nRUN echo other\n`);
    const pending = build(s, { uri });
    await s.waitFor('$/progress',
      (p) => p.value.kind === 'report' && /RUN sleep 4$/.test(p.value.message),
      60000);
    // The same document again: refused.
    await assert.rejects(build(s, { uri }), (e) =>
      e.code === -32803 && /already running/.test(e.message));
    // Diagnostics of an edit, and other requests, come at once.
    const t0 = Date.now();
    await s.change(uri, 2, [{ text: 'FROM busybox\nEXPOSE 99999\nRUN sleep 4\n' }]);
    const p = await s.diagnostics(uri, 2);
    const dt = Date.now() - t0;
    assert.ok(p.diagnostics.some((d) => d.code === 'InvalidPort'));
    const lenses = await s.request('textDocument/codeLens', { textDocument: { uri } });
    assert.ok(lenses.length >= 2);
    t.diagnostic(`didChange to publishDiagnostics during a build: ${dt} ms`);
    assert.ok(dt < 1000, `${dt} ms`);
    // Another document builds at the same time.
    const r2 = await build(s, { uri: other });
    assert.match(r2.digest, /^sha256:/);
    const ended = s.notifications.some((n) => n.method === '$/progress' &&
      n.params.value.kind === 'end' && n.params.value.message === r2.digest);
    assert.ok(ended);
    await pending;
    s.assertClean();
    assert.equal((await s.stop()).code, 0);
  });

test('buildAndPush lands the image in the registry; push alone too',
  { skip, ...timeout }, async (t) => {
    const s = await session(t);
    const uri = await project(s, 'push',
      `FROM ${registry.host}/busybox:latest\nRUN echo pushed > /p\n`);
    const tag = `${registry.host}/dw/app:1`;
    const res = await build(s, { uri, tags: [tag] }, 'dockwright.buildAndPush');
    assert.deepEqual(res.tags, [tag]);
    const info = reg.inspect(tag);
    assert.equal(info.Digest, res.digest);
    const token = s.progressCreates[s.progressCreates.length - 1];
    const p = progress(s, token);
    assert.match(p[0].title, /^Building and pushing /);
    assert.ok(p.some((v) => /^push sha256:[0-9a-f]{12} .* \/ .* \(100%\)$/.test(v.message)),
      JSON.stringify(p));
    // Push the stored image under a second name.
    const tag2 = `${registry.host}/dw/app:2`;
    await build(s, { uri, tags: [tag2] });
    const r2 = await build(s, { uri, tags: [tag2] }, 'dockwright.push');
    assert.deepEqual(r2.steps, []);
    assert.equal(reg.inspect(tag2).Digest, r2.digest);
    s.assertClean();
    assert.equal((await s.stop()).code, 0);
  });

test('without an argument: the one open Dockerfile; the client\'s token',
  { skip, ...timeout }, async (t) => {
    const s = await session(t);
    const uri = await project(s, 'noarg',
      `FROM ${registry.host}/busybox:latest\nRUN echo no-arguments\n`);
    const res = await s.request('workspace/executeCommand',
      { command: 'dockwright.build', workDoneToken: 'client-token-7' });
    assert.deepEqual(res.tags, ['localhost/noarg:latest']);
    // The request's own token is used: no token was asked for.
    assert.equal(s.progressCreates.length, 0);
    const p = progress(s, 'client-token-7');
    assert.equal(p[0].kind, 'begin');
    assert.equal(p[p.length - 1].message, res.digest);
    assert.ok(s.notifications.some((n) => n.method === 'dockwright/buildLog' &&
      n.params.uri === uri && /no-arguments/.test(n.params.text)));
    assert.equal((await s.stop()).code, 0);
  });

test('a client that shows dockwright/buildLog gets no logMessage copy',
  { skip, ...timeout }, async (t) => {
    const s = await session(t,
      { experimental: { dockwright: { buildLog: true } } });
    const uri = await project(s, 'logonce',
      `FROM ${registry.host}/busybox:latest\nRUN echo log-once\n`);
    const res = await build(s, { uri });
    assert.match(res.digest, /^sha256:/);
    assert.ok(s.notifications.some((n) => n.method === 'dockwright/buildLog' &&
      /log-once/.test(n.params.text)));
    assert.ok(!s.notifications.some((n) => n.method === 'window/logMessage' &&
      /log-once/.test(n.params.message)));
    assert.equal((await s.stop()).code, 0);
  });

test('credentials never reach progress, logs, diagnostics or errors',
  { skip, ...timeout }, async (t) => {
    const password = 'S3cret-pass-word';
    const locked = await reg.startRegistry(path.join(dir, 'locked'),
      { user: 'tester', password });
    t.after(() => locked.stop());
    const good = reg.dockerConfig(path.join(dir, 'cfg-good'), locked.host,
      'tester', password);
    const s = await session(t, {}, { DOCKER_CONFIG: good });
    const uri = await project(s, 'secret',
      `FROM ${registry.host}/busybox:latest\nRUN echo pushing\n`);
    const tag = `${locked.host}/private/app:1`;
    const res = await build(s, { uri, tags: [tag] }, 'dockwright.buildAndPush');
    assert.match(res.digest, /^sha256:/);
    // A wrong password fails, and says nothing of it either.
    const wrong = 'Wr0ng-pass-word';
    const bad = reg.dockerConfig(path.join(dir, 'cfg-bad'), locked.host,
      'tester', wrong);
    const s2 = await session(t, {}, { DOCKER_CONFIG: bad });
    const uri2 = await project(s2, 'secret2',
      `FROM ${registry.host}/busybox:latest\n`);
    const e = await build(s2, { uri: uri2, tags: [`${locked.host}/private/app:2`] },
      'dockwright.buildAndPush').then(() => assert.fail('pushed'), (x) => x);
    assert.equal(e.code, -32803);
    const said = JSON.stringify([s.notifications, s2.notifications, e.message]);
    for (const secret of [password, wrong,
      Buffer.from(`tester:${password}`).toString('base64'),
      Buffer.from(`tester:${wrong}`).toString('base64')])
      assert.ok(!said.includes(secret), `${secret} was sent to the client`);
    assert.equal((await s.stop()).code, 0);
    assert.equal((await s2.stop()).code, 0);
  });

test('exit during a build: the build is cancelled, the server exits cleanly',
  { skip, ...timeout }, async (t) => {
    const s = await session(t);
    const uri = await project(s, 'exit', `FROM ${registry.host}/busybox:latest\nRUN sleep 30\n`);
    const pending = build(s, { uri }).catch((x) => x);
    await s.waitFor('$/progress',
      (p) => p.value.kind === 'report' && /RUN sleep 30$/.test(p.value.message),
      60000);
    const t0 = Date.now();
    assert.equal((await s.stop()).code, 0);
    assert.ok(Date.now() - t0 < 10000, `${Date.now() - t0} ms`);
    const e = await pending;
    assert.ok(e instanceof Error, 'the build request got no result');
  });

test('bad arguments are errors that name the field', { skip }, async (t) => {
  const s = await session(t);
  const e = (p) => s.request('workspace/executeCommand', p).then(
    () => assert.fail('no error'), (x) => x);
  let x = await e({ command: 'dockwright.build', arguments: [] });
  assert.equal(x.code, -32602);
  assert.match(x.message, /exactly one Dockerfile is open; 0 are/);
  x = await e({ command: 'dockwright.build', arguments: [{ uri: 'file:///x/Dockerfile', tags: 'a' }] });
  assert.match(x.message, /tags/);
  x = await e({ command: 'dockwright.build',
                arguments: [{ uri: 'file:///x/Dockerfile', buildArgs: { 'A=B': 'c' } }] });
  assert.match(x.message, /buildArgs: "A=B" is not an argument name/);
  x = await e({ command: 'dockwright.build',
                arguments: [{ uri: 'file:///x/Dockerfile', buildArgs: { A: 1 } }] });
  assert.match(x.message, /buildArgs\.A must be a string/);
  x = await e({ command: 'dockwright.nope', arguments: [{ uri: 'file:///x' }] });
  assert.match(x.message, /unknown command/);
  x = await e({ command: 'dockwright.build', arguments: [{ uri: 'untitled:1' }] });
  assert.match(x.message, /file: URI/);
  // A missing Dockerfile fails through the builder, with no diagnostic.
  x = await e({ command: 'dockwright.build',
                arguments: [{ uri: fileUri(path.join(dir, 'none', 'Dockerfile')) }] });
  assert.equal(x.code, -32803);
  assert.equal((await s.stop()).code, 0);
});

test('completion and hover read the store the root setting names, as builds do',
  { skip, ...timeout }, async (t) => {
    // The environment names another (empty) store: the setting wins.
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(path.join(elsewhere, 'tags'), { recursive: true });
    const s = await session(t, { textDocument: { hover: {
      contentFormat: ['markdown'] } } }, { DOCKWRIGHT_ROOT: elsewhere });
    const uri = await project(s, 'rooted',
      `FROM ${registry.host}/busybox:latest\nRUN echo rooted > /r\n`);
    const res = await build(s, { uri, tags: ['localhost/rooted:v1'] });
    const doc = fileUri(path.join(dir, 'rooted', 'Dockerfile.use'));
    await s.open(doc, 'FROM localhost/rooted:v1\n');
    const r = await s.request('textDocument/completion',
      { textDocument: { uri: doc }, position: { line: 0, character: 5 } });
    const labels = r.items.map((i) => i.label);
    assert.ok(labels.includes('localhost/rooted:v1'), JSON.stringify(labels));
    const h = await s.request('textDocument/hover',
      { textDocument: { uri: doc }, position: { line: 0, character: 8 } });
    assert.match(h.contents.value,
      /Image `localhost\/rooted:v1` in the local store/);
    assert.ok(h.contents.value.includes(res.digest), h.contents.value);
    assert.deepEqual(fs.readdirSync(path.join(elsewhere, 'tags')), []);
    assert.equal((await s.stop()).code, 0);
  });
