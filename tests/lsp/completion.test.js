'use strict';
// textDocument/completion and completionItem/resolve: golden lists at
// representative positions ("|" marks the cursor), the edit ranges in the
// client's encoding, snippets only for clients that take them, source paths
// from the build context with .dockerignore applied, local images.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { start, tmpdir, fileUri } = require('./lib/session');

const CAPS = { textDocument: { completion: { completionItem: {
  snippetSupport: false, documentationFormat: ['markdown', 'plaintext'] } } } };

let seq = 0;
// Opens text (with "|" at the cursor) in dir and asks for completion there.
async function complete(s, dir, marked) {
  const at = marked.indexOf('|');
  const text = marked.slice(0, at) + marked.slice(at + 1);
  const lines = text.slice(0, at).split('\n');
  const uri = fileUri(path.join(dir, `Dockerfile.${seq++}`));
  await s.open(uri, text, 1);
  const position = { line: lines.length - 1,
    character: lines[lines.length - 1].length }; // UTF-16: JS indices
  const r = await s.request('textDocument/completion',
    { textDocument: { uri }, position });
  return { r, uri, text, position };
}

const labels = (r) => r.items.map((i) => i.label);
const sorted = (r) => [...r.items].sort((a, b) =>
  (a.sortText || a.label).localeCompare(b.sortText || b.label))
  .map((i) => i.label);

const ALL = ['FROM', 'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV',
  'EXPOSE', 'HEALTHCHECK', 'LABEL', 'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL',
  'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

const GOLDEN = [
  // Keywords: only FROM and ARG before the first FROM, FROM first.
  ['|', ['FROM', 'ARG']],
  ['FROM alpine:3.19\n|', ALL],
  ['FROM alpine:3.19\n  ru|', ALL],
  ['FROM alpine:3.19\nONBUILD |', ['ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT',
    'ENV', 'EXPOSE', 'HEALTHCHECK', 'LABEL', 'RUN', 'SHELL', 'STOPSIGNAL',
    'USER', 'VOLUME', 'WORKDIR']],
  // Nothing in comments and heredoc bodies.
  ['FROM alpine:3.19\n# a comm|ent', []],
  ['FROM alpine:3.19\nRUN <<EOF\n  ech|\nEOF\n', []],
  // Parser directives.
  ['# |\nFROM a', ['check', 'escape', 'syntax']],
  ['# escape=|\nFROM a', ['\\', '`']],
  ['# syntax=docker/|\nFROM a', ['docker/dockerfile:1',
    'docker/dockerfile:1-labs']],
  ['# check=|\nFROM a', ['error=', 'experimental=', 'skip=']],
  ['# check=error=true;skip=FromAsCasing,|\nFROM a', 'rules'],
  // Flags and their values.
  ['FROM a\nRUN --|', ['--device', '--mount', '--network', '--security']],
  ['FROM a\nCOPY --|', ['--chmod', '--chown', '--exclude', '--from', '--link',
    '--parents']],
  ['FROM a\nADD --|', ['--checksum', '--chmod', '--chown', '--exclude',
    '--keep-git-dir', '--link', '--unpack']],
  ['FROM a\nCOPY --link --|', ['--chmod', '--chown', '--exclude', '--from',
    '--parents']],
  ['FROM --|', ['--platform']],
  ['FROM a\nHEALTHCHECK --|', ['--interval', '--retries', '--start-interval',
    '--start-period', '--timeout']],
  ['FROM a\nRUN --network=|', ['default', 'host', 'none']],
  ['FROM a\nRUN --security=|', ['insecure', 'sandbox']],
  ['FROM a\nRUN --mount=|', ['from', 'rw', 'source', 'target', 'type']],
  ['FROM a\nRUN --mount=type=|', ['bind', 'cache', 'secret', 'ssh', 'tmpfs']],
  ['FROM a\nRUN --mount=type=cache,|', ['from', 'gid', 'id', 'mode', 'ro',
    'sharing', 'source', 'target', 'uid']],
  ['FROM a\nRUN --mount=type=secret,|', ['env', 'gid', 'id', 'mode',
    'required', 'target', 'uid']],
  ['FROM a\nRUN --mount=type=tmpfs,|', ['size', 'target']],
  ['FROM a\nRUN --mount=type=cache,sharing=|', ['locked', 'private',
    'shared']],
  // Stages: only those defined earlier, never the current one.
  ['FROM a AS one\nFROM b AS two\nCOPY --from=| /x /y\nFROM c AS three',
    ['one']],
  ['FROM a AS one\nFROM b AS two\nFROM c\nCOPY --from=| /x /y\nFROM d AS x',
    ['one', 'two']],
  ['FROM a AS one\nFROM b AS two\nRUN --mount=from=|', ['one']],
  ['FROM a AS one\nFROM |', ['one', 'scratch', '--platform']],
  ['FROM a |', ['AS']],
  ['FROM a AS |', []],
  // Variables in BuildKit's scope.
  ['ARG V=1\nARG W\nFROM a:$|', ['V', 'W', 'BUILDARCH', 'BUILDOS',
    'BUILDPLATFORM', 'BUILDVARIANT', 'TARGETARCH', 'TARGETOS',
    'TARGETPLATFORM', 'TARGETVARIANT']],
  ['ARG V=1\nFROM a\nRUN echo $|', ['ALL_PROXY', 'FTP_PROXY', 'HTTPS_PROXY',
    'HTTP_PROXY', 'NO_PROXY', 'all_proxy', 'ftp_proxy', 'http_proxy',
    'https_proxy', 'no_proxy']],
  ['ARG V=1\nFROM a AS base\nENV E=2\nFROM base\nARG V\nARG TARGETOS\n' +
    'ENV F=3\nWORKDIR /${|}\nENV G=4', ['E', 'F', 'TARGETOS', 'V']],
  ['FROM a\nENV A=1\nRUN echo ${A:|', ['-', '+', '?']],
  ['FROM a\nARG |', 'args'],
  // By instruction.
  ['FROM a\nHEALTHCHECK |', ['CMD', 'NONE', '--interval', '--retries',
    '--start-interval', '--start-period', '--timeout']],
  ['FROM a\nSTOPSIGNAL SIGT|', 'signals'],
  ['FROM a\nEXPOSE 8080/|', ['sctp', 'tcp', 'udp']],
  ['FROM a\nSHELL |', ['["/bin/sh", "-c"]', '["/bin/bash", "-c"]',
    '["powershell", "-command"]', '["cmd", "/S", "/C"]']],
  ['FROM a\nCMD |', ['["executable", "param"]']],
  ['FROM a\nUSER |', []],
];

test('golden completion lists', async (t) => {
  // An empty store: FROM and --from= also list the local images.
  const s = start({ env: { DOCKWRIGHT_ROOT: tmpdir() } });
  t.after(() => s.kill());
  await s.initialize({ capabilities: CAPS });
  const dir = tmpdir();
  for (const [marked, want] of GOLDEN) {
    const { r } = await complete(s, dir, marked);
    assert.equal(r.isIncomplete, false);
    const got = sorted(r);
    if (want === 'rules') {
      assert.ok(got.includes('all') && got.includes('StageNameCasing') &&
        got.includes('JSONArgsRecommended'), JSON.stringify(got));
      assert.ok(!got.includes('AptGetMissingYes'), 'not a build check');
    } else if (want === 'args') {
      for (const a of ['TARGETOS', 'BUILDPLATFORM', 'HTTP_PROXY'])
        assert.ok(got.includes(a), `${a} in ${got}`);
    } else if (want === 'signals') {
      assert.ok(got.includes('SIGTERM') && got.includes('SIGKILL'));
    } else if (want.every((w) => !w.startsWith('--')) &&
               got.some((g) => g.startsWith('--'))) {
      assert.deepEqual(got, want, JSON.stringify(marked));
    } else {
      assert.deepEqual(got.slice().sort(), want.slice().sort(),
        JSON.stringify(marked));
    }
  }
  assert.equal((await s.stop()).code, 0);
});

test('items replace the typed word, in UTF-16 units on non-ASCII lines',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: CAPS });
    const dir = tmpdir();
    // é is one UTF-16 unit and two bytes; 😀 two units and four bytes.
    let { r, position } = await complete(s, dir,
      'FROM a\nENV HOME_DIR=/h\nRUN echo "é😀" ${HO|');
    let item = r.items.find((i) => i.label === 'HOME_DIR');
    assert.equal(item.detail, 'HOME_DIR=/h');
    assert.deepEqual(item.textEdit.range, {
      start: { line: 2, character: position.character - 2 },
      end: position });
    assert.equal(item.textEdit.newText, 'HOME_DIR}');
    ({ r, position } = await complete(s, dir,
      'FROM a\nLABEL x="😀" \nRUN --mount=type=cache,sha|ring=x true'));
    item = r.items.find((i) => i.label === 'sharing');
    assert.deepEqual(item.textEdit.range, {
      start: { line: 2, character: 23 }, end: { line: 2, character: 32 } });
    // The keyword being typed, and what follows it on the line.
    ({ r } = await complete(s, dir, 'FROM a\nWORK|DIR'));
    item = r.items.find((i) => i.label === 'WORKDIR');
    assert.deepEqual(item.textEdit.range, {
      start: { line: 1, character: 0 }, end: { line: 1, character: 7 } });
    assert.equal(item.textEdit.newText, 'WORKDIR ');
    assert.equal(item.insertTextFormat, 1);
    assert.equal((await s.stop()).code, 0);
  });

test('snippets for clients that take them; documentation by resolve',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: { textDocument: { completion: {
      completionItem: { snippetSupport: true,
        documentationFormat: ['markdown'],
        resolveSupport: { properties: ['documentation'] } } } } } });
    const dir = tmpdir();
    let { r } = await complete(s, dir, 'FROM a\n|');
    const copy = r.items.find((i) => i.label === 'COPY');
    assert.equal(copy.insertTextFormat, 2);
    assert.equal(copy.textEdit.newText, 'COPY ${1:src} ${2:dest}');
    assert.equal(copy.documentation, undefined);
    const res = await s.request('completionItem/resolve', copy);
    assert.equal(res.documentation.kind, 'markdown');
    assert.match(res.documentation.value, /build context/);
    assert.match(res.documentation.value,
      /https:\/\/docs\.docker\.com\/reference\/dockerfile\/#copy/);
    ({ r } = await complete(s, dir, 'FROM a\nRUN --|'));
    const net = r.items.find((i) => i.label === '--network');
    assert.equal(net.textEdit.newText, '--network=${1|default,none,host|}');
    const mount = r.items.find((i) => i.label === '--mount');
    assert.equal(mount.textEdit.newText,
      '--mount=type=${1|bind,cache,tmpfs,secret,ssh|}');
    const flag = await s.request('completionItem/resolve', mount);
    assert.match(flag.documentation.value, /run---mount/);
    // Without snippet support: plain text, documentation inline.
    const p = start();
    t.after(() => p.kill());
    await p.initialize({ capabilities: CAPS });
    ({ r } = await complete(p, dir, 'FROM a\nRUN --|'));
    const plain = r.items.find((i) => i.label === '--network');
    assert.equal(plain.textEdit.newText, '--network=');
    assert.equal(plain.insertTextFormat, 1);
    assert.match(plain.documentation.value, /network/);
    assert.equal((await p.stop()).code, 0);
    assert.equal((await s.stop()).code, 0);
  });

test('COPY sources from the build context, minus .dockerignore; WORKDIRs',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: CAPS });
    const dir = tmpdir();
    fs.mkdirSync(path.join(dir, 'src', 'lib'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'src', 'main.c'), '');
    fs.writeFileSync(path.join(dir, 'package.json'), '{}');
    fs.writeFileSync(path.join(dir, 'secret.env'), 'x');
    fs.writeFileSync(path.join(dir, '.dockerignore'), '*.env\nsrc/lib\n');
    let { r } = await complete(s, dir, 'FROM a\nCOPY |');
    let got = labels(r).filter((l) => !l.startsWith('--')).sort();
    assert.deepEqual(got, ['.dockerignore', 'package.json', 'src/']);
    ({ r } = await complete(s, dir, 'FROM a\nCOPY src/m|'));
    assert.deepEqual(labels(r), ['main.c']);
    assert.equal(r.items[0].textEdit.range.start.character, 9);
    assert.equal(r.items[0].kind, 17); // File
    ({ r } = await complete(s, dir,
      'FROM a\nWORKDIR /app\nWORKDIR web\nCOPY --chown=1 package.json |'));
    got = labels(r);
    assert.ok(got.includes('/app') && got.includes('/app/web') &&
      got.includes('./'), JSON.stringify(got));
    // --from: the sources are in a stage, not the context.
    ({ r } = await complete(s, dir, 'FROM a AS b\nFROM a\nCOPY --from=b |'));
    assert.ok(!labels(r).includes('package.json'));
    assert.equal((await s.stop()).code, 0);
  });

test('FROM and --from= offer the images of the local store', async (t) => {
  const root = tmpdir();
  fs.mkdirSync(path.join(root, 'tags'));
  // The store names tag files by the reference, %XX for other bytes.
  for (const ref of ['docker.io/library/alpine:3.19',
                     'registry.example.com:5000/team/app:v1'])
    fs.writeFileSync(path.join(root, 'tags',
      ref.replace(/[^A-Za-z0-9._-]/g,
        (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()
          .padStart(2, '0'))), '{}');
  const s = start({ env: { DOCKWRIGHT_ROOT: root } });
  t.after(() => s.kill());
  await s.initialize({ capabilities: CAPS });
  const { r } = await complete(s, tmpdir(), 'FROM a AS base\nFROM |');
  const got = labels(r);
  for (const l of ['alpine:3.19', 'registry.example.com:5000/team/app:v1',
                   'base', 'scratch'])
    assert.ok(got.includes(l), `${l} in ${JSON.stringify(got)}`);
  // COPY --from= and --mount=from= take an image too (not scratch).
  for (const marked of ['FROM a AS base\nFROM a\nCOPY --from=| /x /y',
                        'FROM a AS base\nFROM a\nRUN --mount=from=|,target=/x']) {
    const { r: c } = await complete(s, tmpdir(), marked);
    assert.deepEqual(sorted(c), ['base', 'alpine:3.19',
      'registry.example.com:5000/team/app:v1'], marked);
  }
  assert.equal((await s.stop()).code, 0);
});

test('a request for a closed document, and bad params', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ capabilities: CAPS });
  const r = await s.request('textDocument/completion', {
    textDocument: { uri: 'file:///nowhere/Dockerfile' },
    position: { line: 0, character: 0 } });
  assert.deepEqual(r, { isIncomplete: false, items: [] });
  await assert.rejects(s.request('textDocument/completion', {
    textDocument: { uri: 'file:///x' } }), { code: -32602 });
  await assert.rejects(s.request('completionItem/resolve', []),
    { code: -32602 });
  assert.equal((await s.stop()).code, 0);
});
