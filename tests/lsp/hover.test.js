'use strict';
// textDocument/hover and textDocument/signatureHelp: contents at
// representative positions, markdown or plain text as the client prefers,
// ranges in UTF-16 units.
const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/session');

let seq = 0;
async function at(s, method, marked) {
  const i = marked.indexOf('|');
  const text = marked.slice(0, i) + marked.slice(i + 1);
  const lines = text.slice(0, i).split('\n');
  const uri = `file:///tmp/dockwright-hover-${process.pid}/Dockerfile.${seq++}`;
  await s.open(uri, text, 1);
  return s.request(method, { textDocument: { uri }, position: {
    line: lines.length - 1, character: lines[lines.length - 1].length } });
}
const hover = (s, m) => at(s, 'textDocument/hover', m);
const sig = (s, m) => at(s, 'textDocument/signatureHelp', m);

const MD = { textDocument: {
  hover: { contentFormat: ['markdown', 'plaintext'] },
  signatureHelp: { signatureInformation: {
    documentationFormat: ['markdown'],
    parameterInformation: { labelOffsetSupport: true } } },
  diagnostic: {} } };

test('hover: instructions, flags, mount keys, directives', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ capabilities: MD });
  let h = await hover(s, 'FROM alpine:3.19\nCO|PY a /b');
  assert.equal(h.contents.kind, 'markdown');
  assert.match(h.contents.value, /^```dockerfile\nCOPY <src> \.\.\. <dest>\n```/);
  assert.match(h.contents.value, /reference\/dockerfile\/#copy\)/);
  assert.deepEqual(h.range, { start: { line: 1, character: 0 },
    end: { line: 1, character: 4 } });
  h = await hover(s, 'FROM alpine:3.19\nRUN --netw|ork=none true');
  assert.match(h.contents.value, /^`--network=<mode>`/);
  assert.match(h.contents.value, /Values: `default\|none\|host`/);
  h = await hover(s, 'FROM a\nRUN --mount=type=cache,sha|ring=locked true');
  assert.match(h.contents.value, /`sharing`: How concurrent builds/);
  h = await hover(s, 'FROM a\nRUN --mount=type=ss|h true');
  assert.match(h.contents.value, /`type=ssh`: The SSH agent socket/);
  h = await hover(s, '# esc|ape=`\nFROM a');
  assert.match(h.contents.value, /^`# escape=`/);
  h = await hover(s, 'FROM a\nONBUILD CO|PY a /b');
  assert.match(h.contents.value, /COPY <src>/);
  assert.equal(await hover(s, 'FROM a\n\n|\nRUN x'), null);
  assert.equal((await s.stop()).code, 0);
});

test('hover: variables through global ARG, FROM, stage ARG and ENV',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: MD });
    const head = 'ARG VERSION=3.19\nFROM alpine:$VERSI|ON AS base\n';
    let h = await hover(s, head);
    assert.match(h.contents.value, /^`VERSION` = `3\.19`\n\nARG on line 1/);
    assert.deepEqual(h.range, { start: { line: 1, character: 12 },
      end: { line: 1, character: 20 } });
    const text = 'ARG VERSION=3.19\nFROM alpine:$VERSION AS base\n' +
      'ENV APP=/srv\nFROM base\nARG VERSION\nRUN echo ${AP|P} $VERSION\n';
    h = await hover(s, text);
    assert.match(h.contents.value,
      /^`APP` = `\/srv`\n\nENV on line 3 \(inherited from stage `base`\)/);
    h = await hover(s, text.replace('${AP|P} $VERSION', '${APP} $VER|SION'));
    assert.match(h.contents.value, /^`VERSION` = `3\.19`\n\nARG on line 5/);
    // Values as BuildKit expands them, through a parent stage's own ARG.
    h = await hover(s, 'ARG V=3.19\nFROM a AS base\nARG V\n' +
      'ENV X="${V}-x" P=$PATH:/z\nFROM base\nRUN echo $X $|P');
    assert.match(h.contents.value, /^`P` = `\$PATH:\/z`/);
    h = await hover(s, 'ARG V=3.19\nFROM a AS base\nARG V\n' +
      'ENV X="${V}-x" P=$PATH:/z\nFROM base\nRUN echo $|X $P');
    assert.match(h.contents.value,
      /^`X` = `3\.19-x` \(written `"\$\{V\}-x"`\)\n\nENV on line 4 \(inherited from stage `base`\)/);
    h = await hover(s, 'FROM a\nWORKDIR $NOP|E');
    assert.match(h.contents.value, /not declared here/);
    // UTF-16 range after an emoji.
    h = await hover(s, 'FROM a\nENV X=1\nLABEL a="😀" b=$|X');
    assert.deepEqual(h.range, { start: { line: 2, character: 15 },
      end: { line: 2, character: 17 } });
    assert.equal((await s.stop()).code, 0);
  });

test('hover: stages and a diagnostic\'s rule; plain text clients',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: MD });
    let h = await hover(s, 'FROM golang:1.22 AS build\nFROM alpine:3.19\n' +
      'COPY --from=bui|ld /out /out');
    assert.match(h.contents.value,
      /^Stage 0 `build`: `FROM golang:1\.22` on line 1/);
    h = await hover(s, 'FROM alpine:3.19\nMAINTAI|NER me');
    assert.match(h.contents.value, /\*\*MaintainerDeprecated\*\*/);
    assert.match(h.contents.value, /diagnostics\.md#maintainerdeprecated/);
    const p = start();
    t.after(() => p.kill());
    await p.initialize({ capabilities: { textDocument: {
      hover: { contentFormat: ['plaintext'] } } } });
    h = await hover(p, 'FROM a\nRUN --netw|ork=none true');
    assert.equal(h.contents.kind, 'plaintext');
    assert.ok(!h.contents.value.includes('`'), h.contents.value);
    assert.match(h.contents.value,
      /Dockerfile reference \(https:\/\/docs\.docker\.com/);
    assert.equal((await p.stop()).code, 0);
    assert.equal((await s.stop()).code, 0);
  });

function active(r) {
  const sg = r.signatures[r.activeSignature];
  const [a, b] = sg.parameters[r.activeParameter].label;
  return sg.label.slice(a, b);
}

test('signature help: the active flag or argument', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ capabilities: MD });
  let r = await sig(s, 'FROM a\nCOPY --cho|');
  assert.equal(r.signatures[0].label, 'COPY [--from=<stage|image>] ' +
    '[--chown=<user>[:<group>]] [--chmod=<perms>] [--link] [--parents] ' +
    '[--exclude=<pattern>] <src> ... <dest>');
  assert.equal(active(r), '[--chown=<user>[:<group>]]');
  assert.match(r.signatures[0].documentation.value, /build context/);
  r = await sig(s, 'FROM a\nCOPY a| b');
  assert.equal(active(r), '<src> ...');
  r = await sig(s, 'FROM a\nCOPY a b |');
  assert.equal(active(r), '<dest>');
  r = await sig(s, 'FROM |a');
  assert.equal(active(r), '<image>[:<tag>|@<digest>]');
  r = await sig(s, 'FROM a |');
  assert.equal(active(r), '[AS <name>]');
  r = await sig(s, 'FROM a\nRUN --mou|');
  assert.equal(active(r), '[--mount=type=<type>[,<key>=<value>...]]');
  // Inside the mount's value, the mount's own signature, the key active.
  r = await sig(s, 'FROM a\nRUN --mount=type=cache,sha|ring=locked true');
  assert.equal(r.activeSignature, 1);
  assert.equal(r.signatures[0].label.slice(0, 4), 'RUN ');
  assert.match(r.signatures[1].label,
    /^--mount=type=<bind\|cache\|tmpfs\|secret\|ssh>,target=<target>,/);
  assert.equal(active(r), 'sharing=<shared|private|locked>');
  r = await sig(s, 'FROM a\nRUN --mount=type=secret,en|v=TOKEN true');
  assert.equal(active(r), 'env=<env>');
  assert.ok(!r.signatures[1].label.includes('sharing'));
  r = await sig(s, 'FROM a\nHEALTHCHECK --interval=5s |');
  assert.equal(active(r), 'CMD <command> | NONE');
  assert.equal(await sig(s, 'FROM a\n|'), null);
  // Without label offsets: the parameter's text.
  const p = start();
  t.after(() => p.kill());
  await p.initialize({});
  r = await sig(p, 'FROM a\nRUN --netw|');
  assert.equal(r.signatures[0].parameters[r.activeParameter].label,
    '[--network=<mode>]');
  assert.equal((await p.stop()).code, 0);
  assert.equal((await s.stop()).code, 0);
});

test('hover on FROM\'s image: digest, size and platforms from the local store',
  async (t) => {
    const fs = require('node:fs');
    const path = require('node:path');
    const crypto = require('node:crypto');
    const { tmpdir } = require('./lib/session');
    const root = tmpdir();
    fs.mkdirSync(path.join(root, 'tags'));
    fs.mkdirSync(path.join(root, 'blobs', 'sha256'), { recursive: true });
    const blob = (o) => {
      const b = Buffer.from(JSON.stringify(o));
      const h = crypto.createHash('sha256').update(b).digest('hex');
      fs.writeFileSync(path.join(root, 'blobs', 'sha256', h), b);
      return { digest: `sha256:${h}`, size: b.length };
    };
    const cfg = blob({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    const man = blob({ schemaVersion: 2, config: { digest: cfg.digest } });
    const index = blob({ schemaVersion: 2, manifests: [
      { digest: man.digest, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: man.digest, platform: { os: 'linux', architecture: 'arm64',
        variant: 'v8' } }] });
    const tag = (ref, b, mt) => fs.writeFileSync(path.join(root, 'tags',
      ref.replace(/[^A-Za-z0-9._-]/g, (c) => '%' +
        c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'))),
      JSON.stringify({ name: ref, digest: b.digest, mediaType: mt,
        size: b.size }));
    tag('docker.io/library/alpine:3.19', index,
      'application/vnd.oci.image.index.v1+json');
    tag('registry.example.com:5000/app:latest', man,
      'application/vnd.oci.image.manifest.v1+json');
    const s = start({ env: { DOCKWRIGHT_ROOT: root } });
    t.after(() => s.kill());
    await s.initialize({ capabilities: MD });
    let h = await hover(s, 'FROM alp|ine:3.19\n');
    assert.match(h.contents.value,
      /Image `docker\.io\/library\/alpine:3\.19` in the local store/);
    assert.match(h.contents.value, new RegExp(`digest \`${index.digest}\``));
    assert.match(h.contents.value, /platforms: linux\/amd64, linux\/arm64\/v8/);
    assert.deepEqual(h.range, { start: { line: 0, character: 5 },
      end: { line: 0, character: 16 } });
    h = await hover(s, 'FROM registry.example.com:5000/a|pp AS x\n');
    assert.match(h.contents.value, /platforms: linux\/arm64\/v8$/);
    // Not in the store: only what else there is (here ImageTagLatest).
    h = await hover(s, 'FROM debi|an\n');
    assert.doesNotMatch(h.contents.value, /local store/);
    assert.match(h.contents.value, /ImageTagLatest/);
    assert.equal(await hover(s, 'FROM debi|an:12\n'), null);
    assert.equal((await s.stop()).code, 0);
  });
