'use strict';
// `FROM image:|` completion from the registry's tag list (features/tags.c):
// a real docker-registry on a loopback port with a few pushed tags, read a
// page of two at a time (Link pagination); the builder plugin loaded only
// then; the first answer isIncomplete while the list loads; a registry that
// never answers blocks nothing and ends as an empty list; credentials go
// only to the registry the Docker config has them for (a recording proxy in
// front of a real registry that asks for a login).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const http = require('node:http');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { start, tmpdir, fileUri } = require('./lib/session');
const reg = require('./lib/registry');

const missing = reg.missingTools();
const skip = missing.length ? `missing ${missing.join(', ')} (tools/setup.sh)`
  : false;

const TAGS = ['1.36', '1.37', 'edge', 'latest', 'v2'];
const USER = 'tagger', PASSWORD = 'pw-' + process.pid;
let dir, plain, locked;

function copy(from, to, creds) {
  execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false',
    '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []),
    `docker://${from}`, `docker://${to}`], { stdio: ['ignore', 'ignore', 'pipe'] });
}

test.before(async () => {
  if (skip) return;
  dir = tmpdir();
  plain = await reg.startRegistry(path.join(dir, 'plain'));
  reg.pushBusybox(plain.host);
  for (const t of TAGS.filter((x) => x !== 'latest'))
    copy(`${plain.host}/busybox:latest`, `${plain.host}/busybox:${t}`);
  locked = await reg.startRegistry(path.join(dir, 'locked'),
    { user: USER, password: PASSWORD });
  copy(`${plain.host}/busybox:latest`, `${locked.host}/team/app:v1`,
    `${USER}:${PASSWORD}`);
});

test.after(() => {
  if (plain) plain.stop();
  if (locked) locked.stop();
  if (dir && !process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
async function complete(s, marked, uri) {
  const at = marked.indexOf('|');
  const text = marked.slice(0, at) + marked.slice(at + 1);
  const lines = text.slice(0, at).split('\n');
  if (!uri) {
    uri = fileUri(path.join(dir, `Dockerfile.${seq++}`));
    await s.open(uri, text, 1);
  }
  return s.request('textDocument/completion', { textDocument: { uri },
    position: { line: lines.length - 1,
                character: lines[lines.length - 1].length } });
}

// Asks again (as a client does while the list is incomplete) until the
// answer is complete; the answers in order.
async function untilComplete(s, marked) {
  const seen = [];
  const t0 = Date.now();
  for (;;) {
    const r = await complete(s, marked);
    seen.push(r);
    if (!r.isIncomplete || Date.now() - t0 > 10000) return seen;
    await new Promise((res) => setTimeout(res, 50));
  }
}

const maps = (s) => fs.readFileSync(`/proc/${s.proc.pid}/maps`, 'utf8');

// A proxy in front of a registry that records each request's path and
// Authorization header (or null).  With `paginate`, it also pages tag lists
// as distribution 3 and Docker Hub do (sorted, ?n= and &last=, a Link
// rel="next" while more remain): Debian's docker-registry (2.8) ignores n.
async function recorder(target, paginate) {
  const seen = [];
  const [host, port] = target.split(':');
  const srv = http.createServer((req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization || null });
    const u = new URL(req.url, 'http://x');
    const page = paginate && /^\/v2\/.+\/tags\/list$/.test(u.pathname);
    const up = http.request({ host, port, method: req.method,
      path: page ? u.pathname : req.url, headers: req.headers }, (r) => {
      if (!page || r.statusCode !== 200) {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
        return;
      }
      let body = '';
      r.on('data', (d) => { body += d; });
      r.on('end', () => {
        const o = JSON.parse(body);
        const n = Number(u.searchParams.get('n')) || 1000;
        const last = u.searchParams.get('last');
        const all = o.tags.sort().filter((t) => last === null || t > last);
        o.tags = all.slice(0, n);
        const headers = { 'content-type': 'application/json' };
        if (all.length > n)
          headers.link = `<${u.pathname}?last=${o.tags[n - 1]}&n=${n}>; ` +
                         'rel="next"';
        res.writeHead(200, headers);
        res.end(JSON.stringify(o));
      });
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  return { host: `127.0.0.1:${srv.address().port}`, seen,
           close: () => srv.close() };
}

test('tags of a typed image, a page at a time; the plugin loaded only then',
  { skip }, async (t) => {
    const p = await recorder(plain.host, true);
    t.after(() => p.close());
    const s = start({ env: { DOCKWRIGHT_TAGS_PAGE: '2',
                             DOCKWRIGHT_ROOT: path.join(dir, 'store') } });
    t.after(() => s.kill());
    await s.initialize();
    // Image names and other FROM completion load no builder.
    await complete(s, `FROM ${p.host}/busy|`);
    await complete(s, 'FROM busybox AS a\nCOPY --from=|');
    assert.doesNotMatch(maps(s), /libdockwright-builder/);
    const seen = await untilComplete(s, `FROM ${p.host}/busybox:|`);
    assert.match(maps(s), /libdockwright-builder/);
    // Answered at once while loading, then complete.
    assert.equal(seen[0].isIncomplete, true);
    assert.deepEqual(seen[0].items, []);
    const last = seen[seen.length - 1];
    assert.equal(last.isIncomplete, false);
    // Every page, in the registry's order.
    assert.deepEqual(last.items.map((i) => i.label), TAGS);
    const pages = p.seen.filter((x) => x.url.startsWith('/v2/busybox/tags/'));
    assert.equal(pages.length, 3, JSON.stringify(pages));
    assert.equal(pages[0].url, '/v2/busybox/tags/list?n=2');
    assert.equal(pages[1].url, '/v2/busybox/tags/list?last=1.37&n=2');
    assert.equal(pages[2].url, '/v2/busybox/tags/list?last=latest&n=2');
    assert.deepEqual([...last.items].sort((x, y) =>
      x.sortText.localeCompare(y.sortText)).map((i) => i.label),
    last.items.map((i) => i.label));
    assert.equal(last.items[0].detail, `tag in ${p.host}/busybox`);
    // The edit replaces what follows the colon.
    const r = await complete(s, `FROM ${p.host}/busybox:1.3|7 AS x`);
    assert.equal(r.isIncomplete, false);
    const e = r.items.find((i) => i.label === '1.37').textEdit;
    const col = `FROM ${p.host}/busybox:`.length;
    assert.deepEqual(e.range, { start: { line: 0, character: col },
                                end: { line: 0, character: col + 4 } });
    // COPY --from= and --mount=from= take an image's tags too (cached
    // now); in a mount the edit stops at the next key.
    const c = await complete(s, `FROM a\nCOPY --from=${p.host}/busybox:e| /x /y`);
    assert.equal(c.isIncomplete, false);
    assert.deepEqual(c.items.map((i) => i.label), TAGS);
    const m = await complete(s,
      `FROM a\nRUN --mount=from=${p.host}/busybox:|x,target=/x true`);
    const me = m.items.find((i) => i.label === 'edge').textEdit.range;
    const mcol = `RUN --mount=from=${p.host}/busybox:`.length;
    assert.deepEqual(me, { start: { line: 1, character: mcol },
                           end: { line: 1, character: mcol + 1 } });
    // New settings (insecureRegistries may change the answer): fetched
    // again.
    await s.notify('workspace/didChangeConfiguration',
      { settings: { dockwright: { insecureRegistries: [] } } });
    const again = await untilComplete(s, `FROM ${p.host}/busybox:|`);
    assert.equal(again[0].isIncomplete, true);
    assert.deepEqual(again[again.length - 1].items.map((i) => i.label), TAGS);
    // An unknown repository: an empty, complete list.
    const none = await untilComplete(s, `FROM ${plain.host}/nothere:|`);
    assert.deepEqual(none[none.length - 1].items, []);
    assert.equal((await s.stop()).code, 0);
  });

test('a registry that never answers blocks nothing and ends empty',
  { skip, timeout: 30000 }, async (t) => {
    // Accepts connections and says nothing.
    const sockets = [];
    const hole = net.createServer((c) => sockets.push(c));
    await new Promise((res) => hole.listen(0, '127.0.0.1', res));
    t.after(() => { sockets.forEach((c) => c.destroy()); hole.close(); });
    const host = `127.0.0.1:${hole.address().port}`;
    const s = start();
    t.after(() => s.kill());
    await s.initialize();
    const t0 = Date.now();
    const first = await complete(s, `FROM ${host}/app:|`);
    assert.equal(first.isIncomplete, true);
    // Everything else is answered meanwhile, quickly.
    for (let i = 0; i < 5; i++) {
      const a = Date.now();
      const r = await complete(s, 'FROM alpine AS a\nFROM a\nCOPY --from=|');
      assert.deepEqual(r.items.map((x) => x.label), ['a']);
      const h = await s.request('textDocument/hover', { textDocument: {
        uri: fileUri(path.join(dir, `Dockerfile.${seq - 1}`)) },
        position: { line: 0, character: 1 } });
      assert.ok(h.contents);
      assert.ok(Date.now() - a < 1000, `${Date.now() - a} ms`);
    }
    assert.equal((await complete(s, `FROM ${host}/app:|`)).isIncomplete, true);
    // Past the timeout (3 s): given up, a complete empty list.
    await new Promise((res) => setTimeout(res, 3500 - (Date.now() - t0)));
    const late = await complete(s, `FROM ${host}/app:|`);
    assert.deepEqual(late, { isIncomplete: false, items: [] });
    // And the server exits promptly with the fetch given up.
    const a = Date.now();
    assert.equal((await s.stop()).code, 0);
    assert.ok(Date.now() - a < 5000, `${Date.now() - a} ms to exit`);
  });

test('credentials go only to the registry logged in to',
  { skip }, async (t) => {
    const a = await recorder(locked.host);
    const b = await recorder(locked.host);
    t.after(() => { a.close(); b.close(); });
    // Logged in to a only.
    const cfg = reg.dockerConfig(path.join(dir, 'docker-a'), a.host, USER,
                                 PASSWORD);
    const s = start({ env: { DOCKER_CONFIG: cfg }, log: 'info' });
    t.after(() => s.kill());
    await s.initialize();
    let seen = await untilComplete(s, `FROM ${a.host}/team/app:|`);
    assert.deepEqual(seen[seen.length - 1].items.map((i) => i.label), ['v1']);
    assert.ok(a.seen.some((x) => x.url.startsWith('/v2/team/app/tags/list') &&
                          x.auth && x.auth.startsWith('Basic ')),
              JSON.stringify(a.seen));
    seen = await untilComplete(s, `FROM ${b.host}/team/app:|`);
    assert.deepEqual(seen[seen.length - 1].items, []);
    assert.ok(b.seen.length > 0, 'b was asked');
    assert.deepEqual(b.seen.filter((x) => x.auth !== null), [],
                     'no credentials to b');
    // The failure is logged (the registry's words are registry.c's).
    assert.match(s.stderr, new RegExp(`tags of ${b.host}/team/app: `));
    assert.doesNotMatch(s.stderr, new RegExp(PASSWORD));
    assert.equal((await s.stop()).code, 0);
  });
