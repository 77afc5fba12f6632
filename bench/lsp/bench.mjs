#!/usr/bin/env node
// bench/lsp/bench.mjs - side-by-side benchmark of `dockwright --stdio` and
// dockerfile-language-server-nodejs (docker-langserver --stdio), in one run.
//
// Both servers get the same client: the same initialize capabilities (push
// diagnostics, no workspace/configuration, so both use their defaults at
// once), the same generated Dockerfiles, the same edits.  Messages go through
// vscode-jsonrpc's StreamMessageReader/StreamMessageWriter over the child's
// stdin/stdout; stderr is drained.  Every wait is bounded by a time-out and
// every child is killed at the end (and on any failure).
//
// Measured, for each server:
//   spawn -> initialize response          fresh process per run
//   didOpen -> first publishDiagnostics    30- and 5,000-line files, cold
//                                          (first open in a fresh process)
//                                          and warm (close + reopen)
//   didChange (one character, incremental) -> next publishDiagnostics,
//                                          5,000-line file
//   VmRSS / VmHWM (/proc/<pid>/status) with both files open
//   requests on both files, in one warm process each (the files get one
//   more line, `RUN --mount=type=cache,target=/root/.cache true`, for the
//   mount completion): completion on a blank line, after `$`, after
//   `--from=` and after `--mount=type=`; hover on a keyword; codeAction on
//   a published diagnostic; a one-character change sent as the whole text
//   (TextDocumentSyncKind.Full clients) -> diagnostics
//   VmRSS with 20 copies of the 5,000-line file open (fresh process)
// dockwright debounces diagnostics after a change (dockwright.diagnostics.
// debounceMs, default 0: no window, edits coalesce while an analysis runs);
// the change is measured with the default and
// again in a second process started with initializationOptions
// {"dockwright": {"diagnostics": {"debounceMs": 0}}}.  The peer validates
// synchronously on every change.
// BENCH_SHOW_STDERR=1 prints the servers' stderr tails (try it with
// DOCKWRIGHT_LOG=debug for dockwright's own parse/analysis times).
//
// Usage: node bench.mjs [--dockwright PATH] [--peer PATH] [--spawn-runs N]
//          [--runs N] [--warmup N] [--json FILE] [--markdown FILE]
//          [--write-files DIR]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { StreamMessageReader, StreamMessageWriter } = require('vscode-jsonrpc/node');

const HERE = dirname(fileURLToPath(import.meta.url));

// ---- options ---------------------------------------------------------------

function parseArgs(argv) {
  const o = {
    dockwright: join(HERE, '../../build-release/dockwright'),
    peer: join(HERE, 'node_modules/.bin/docker-langserver'),
    spawnRuns: 30,
    runs: 40,
    warmup: 3,
    json: null,
    markdown: null,
  };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--dockwright') o.dockwright = v();
    else if (a === '--peer') o.peer = v();
    else if (a === '--spawn-runs') o.spawnRuns = Number(v());
    else if (a === '--runs') o.runs = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--json') o.json = v();
    else if (a === '--markdown') o.markdown = v();
    else if (a === '--write-files') o.writeFiles = v();
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench.mjs [--dockwright PATH] [--peer PATH] ' +
                  '[--spawn-runs N] [--runs N] [--warmup N] [--json FILE] [--markdown FILE] ' +
                  '[--write-files DIR (write the two Dockerfiles and exit)]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  for (const k of ['spawnRuns', 'runs', 'warmup'])
    if (!Number.isInteger(o[k]) || o[k] < 0 || o[k] > 1000)
      throw new Error(`--${k} must be an integer in 0..1000`);
  return o;
}

// ---- deterministic Dockerfile generator ------------------------------------

function mulberry32(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PACKAGES = ['ca-certificates', 'curl', 'git', 'gnupg', 'libssl-dev', 'libpq-dev',
  'build-essential', 'pkg-config', 'python3', 'python3-pip', 'unzip', 'xz-utils',
  'zlib1g-dev', 'libffi-dev', 'openssh-client', 'jq', 'tzdata', 'locales',
  'libxml2-dev', 'libyaml-dev', 'netcat-openbsd', 'procps'];
const IMAGES = ['debian:${DEBIAN_TAG}-slim', 'ubuntu:22.04', 'node:${NODE_VERSION}-bookworm',
  'python:3.12-slim-bookworm', 'golang:1.22-bookworm', 'alpine:3.19', 'eclipse-temurin:21-jre'];

// One stage of a multi-stage build; `problem` picks a deliberate defect.
function stage(k, rnd, problem, prev) {
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const pkgs = [];
  while (pkgs.length < 4) { const p = pick(PACKAGES); if (!pkgs.includes(p)) pkgs.push(p); }
  const name = `svc${k}`;
  const L = [];
  L.push(`# ---- stage ${k}: build and package service ${k} ----`);
  L.push(problem === 'fromas' ? `FROM ${pick(IMAGES)} as ${name}` : `FROM ${pick(IMAGES)} AS ${name}`);
  L.push(`ARG APP_VERSION_${k}=1.${k}.${Math.floor(rnd() * 10)}`);
  if (problem === 'maintainer') L.push(`MAINTAINER team${k}@example.com`);
  L.push(`ENV APP_HOME=/opt/app${k} \\`);
  L.push(`    PATH=/opt/app${k}/bin:$PATH \\`);
  L.push(`    LANG=C.UTF-8`);
  if (problem === 'legacyenv') L.push(`ENV APP_MODE production`);
  L.push(`LABEL org.opencontainers.image.title="service-${k}" \\`);
  L.push(`      org.opencontainers.image.version="\${APP_VERSION_${k}}" \\`);
  L.push(`      org.example.build="${k}"`);
  L.push(problem === 'workdir' ? `WORKDIR app${k}` : `WORKDIR /opt/app${k}`);
  L.push(`RUN set -eux; \\`);
  L.push(`    apt-get update; \\`);
  L.push(`    apt-get install -y --no-install-recommends \\`);
  for (const p of pkgs) L.push(`        ${p} \\`);
  L.push(`    ; \\`);
  L.push(`    rm -rf /var/lib/apt/lists/*`);
  if (problem === 'casing') L.push(`run echo "configuring service ${k}"`);
  if (prev !== null)
    L.push(problem === 'badflag'
      ? `COPY --frm=svc${prev} /opt/app${prev}/bin/ /usr/local/bin/`
      : `COPY --from=svc${prev} /opt/app${prev}/bin/ /usr/local/bin/`);
  L.push(`COPY --chown=1000:1000 services/${k}/ ./src/`);
  L.push(`RUN groupadd --system --gid 1000 app \\`);
  L.push(`    && useradd --system --uid 1000 --gid app --home-dir /opt/app${k} app`);
  L.push(`RUN ./src/configure --prefix=/opt/app${k} \\`);
  L.push(`        --enable-shared \\`);
  L.push(`        --with-openssl \\`);
  L.push(`    && make -C src -j"$(nproc)" \\`);
  L.push(`    && make -C src install`);
  L.push(`HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\`);
  L.push(`    CMD curl -fsS http://localhost:${8000 + (k % 1000)}/healthz || exit 1`);
  if (problem === 'healthcheck2') L.push(`HEALTHCHECK CMD curl -f http://localhost/ || exit 1`);
  L.push(problem === 'port' ? `EXPOSE 99999` : `EXPOSE ${8000 + (k % 1000)}/tcp`);
  L.push(`USER app`);
  L.push(`CMD ["/opt/app${k}/bin/server", "--port", "${8000 + (k % 1000)}"]`);
  if (problem === 'cmd2') L.push(`CMD /opt/app${k}/bin/server --debug`);
  L.push('');
  return L;
}

const PROBLEMS = [null, 'maintainer', null, 'workdir', null, 'cmd2', null, 'casing',
  null, 'port', null, 'healthcheck2', null, 'fromas', null, 'legacyenv', null, 'badflag'];

// A small two-stage build, for files under a stage's length.
const COMPACT = [
  '# syntax=docker/dockerfile:1',
  'ARG DEBIAN_TAG=12.5',
  'FROM golang:1.22-bookworm AS build',
  'WORKDIR /src',
  'ENV CGO_ENABLED=0 \\',
  '    GOFLAGS=-trimpath',
  'COPY go.mod go.sum ./',
  'RUN go mod download',
  'COPY . .',
  'RUN go build -o /out/server ./cmd/server \\',
  '    && go build -o /out/healthcheck ./cmd/healthcheck',
  '',
  'FROM debian:${DEBIAN_TAG}-slim as runtime',
  'MAINTAINER ops@example.com',
  'LABEL org.opencontainers.image.title="server" \\',
  '      org.example.build="30"',
  'RUN apt-get update \\',
  '    && apt-get install -y --no-install-recommends ca-certificates curl \\',
  '    && rm -rf /var/lib/apt/lists/*',
  'COPY --from=build /out/server /usr/local/bin/server',
  'COPY --from=build /out/healthcheck /usr/local/bin/healthcheck',
  'WORKDIR app',
  'ENV PORT 8080',
  'EXPOSE 8080/tcp',
  'HEALTHCHECK --interval=30s --timeout=3s \\',
  '    CMD ["/usr/local/bin/healthcheck"]',
  'USER 65532:65532',
  'CMD /usr/local/bin/server --port 8080',
];

// A Dockerfile of exactly `lines` lines (the last one ends with a newline).
function generateDockerfile(lines, seed) {
  if (lines < 60) {
    const out = COMPACT.slice(0, lines);
    let i = 0;
    while (out.length < lines) out.push(`LABEL org.example.pad${i}="${i++}"`);
    return { text: out.join('\n') + '\n', stages: 2 };
  }
  const rnd = mulberry32(seed);
  const out = [
    '# syntax=docker/dockerfile:1',
    `# Generated by bench/lsp/bench.mjs (seed ${seed}, ${lines} lines).`,
    'ARG DEBIAN_TAG=12.5',
    'ARG NODE_VERSION=20.11.1',
    '',
  ];
  let k = 0;
  for (;;) {
    const s = stage(k, rnd, PROBLEMS[k % PROBLEMS.length], k > 0 ? k - 1 : null);
    if (out.length + s.length > lines) break;
    out.push(...s);
    k++;
    if (k > 100000) throw new Error('generator runaway');
  }
  // Pad with a final small stage's labels (one line each) to the exact size.
  let i = 0;
  while (out.length < lines) out.push(`LABEL org.example.pad${i}="${i++}"`);
  return { text: out.join('\n') + '\n', stages: k };
}

// The position of a one-character edit: inside the org.example.build label
// value of the stage nearest the middle of the file.
function editPoint(text) {
  const lines = text.split('\n');
  const mid = Math.floor(lines.length / 2);
  for (let d = 0; d < lines.length; d++)
    for (const l of [mid + d, mid - d]) {
      if (l < 0 || l >= lines.length) continue;
      const c = lines[l].indexOf('org.example.build="');
      if (c >= 0) return { line: l, character: c + 'org.example.build="'.length };
    }
  throw new Error('no edit point');
}

// ---- statistics ------------------------------------------------------------

function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[idx]; // nearest-rank
}
const median = (xs) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const summary = (xs) => ({ n: xs.length, median: median(xs), p90: quantile(xs, 0.9),
  min: xs.length ? Math.min(...xs) : NaN, max: xs.length ? Math.max(...xs) : NaN });

// ---- a minimal LSP client --------------------------------------------------

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TIMEOUT_MS = 30000;
const live = new Set();

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms); }),
  ]);
}

class Client {
  constructor(name, command, args, env) {
    this.name = name; this.command = command; this.args = args; this.env = env;
    this.nextId = 1;
    this.pending = new Map();     // id -> {resolve, reject}
    this.diagWaiters = new Map(); // uri -> [{resolve}]
    this.stray = 0;               // publishDiagnostics nobody waited for
    this.stderrBytes = 0;
    this.stderrTail = '';
    this.exited = null;
  }

  start() {
    const t0 = now();
    this.child = spawn(this.command, this.args, { stdio: ['pipe', 'pipe', 'pipe'], env: this.env });
    live.add(this);
    this.pid = this.child.pid;
    this.exitPromise = new Promise((res) => this.child.on('exit', (code, sig) => {
      this.exited = { code, sig }; live.delete(this); res(this.exited);
      for (const p of this.pending.values()) p.reject(new Error(`${this.name} exited (${code ?? sig})`));
      this.pending.clear();
    }));
    this.child.on('error', (e) => { this.spawnError = e; });
    this.child.stdin.on('error', () => {}); // EPIPE after the server exits
    this.child.stderr.on('data', (b) => { // drain: the server logs there
      this.stderrBytes += b.length;
      this.stderrTail = (this.stderrTail + b.toString('utf8')).slice(-4000);
    });
    this.reader = new StreamMessageReader(this.child.stdout);
    this.writer = new StreamMessageWriter(this.child.stdin);
    this.reader.listen((m) => this.onMessage(m, now()));
    return t0;
  }

  onMessage(m, t) {
    if (m.id !== undefined && m.method === undefined) { // response
      const p = this.pending.get(m.id);
      if (p) { this.pending.delete(m.id); p.resolve({ t, result: m.result, error: m.error }); }
      return;
    }
    if (m.id !== undefined && m.method !== undefined) { // server -> client request
      let result = null;
      if (m.method === 'workspace/configuration')
        result = (m.params?.items ?? []).map(() => null);
      this.writer.write({ jsonrpc: '2.0', id: m.id, result });
      return;
    }
    if (m.method === 'textDocument/publishDiagnostics') {
      const q = this.diagWaiters.get(m.params.uri);
      if (q && q.length) q.shift().resolve({ t, params: m.params });
      else this.stray++;
    }
  }

  request(method, params) {
    const id = this.nextId++;
    const p = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    const t0 = now();
    this.writer.write({ jsonrpc: '2.0', id, method, params });
    return { t0, done: withTimeout(p, TIMEOUT_MS, `${this.name} ${method}`) };
  }

  notify(method, params) {
    this.writer.write({ jsonrpc: '2.0', method, params });
  }

  // The next publishDiagnostics for `uri` (register before sending).
  nextDiagnostics(uri) {
    let resolve;
    const p = new Promise((r) => { resolve = r; });
    if (!this.diagWaiters.has(uri)) this.diagWaiters.set(uri, []);
    this.diagWaiters.get(uri).push({ resolve });
    return withTimeout(p, TIMEOUT_MS, `${this.name} publishDiagnostics for ${uri}`);
  }

  memory() {
    const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1]);
    return { rssKiB: kb('VmRSS'), hwmKiB: kb('VmHWM'), anonKiB: kb('RssAnon'), fileKiB: kb('RssFile') };
  }

  async stop() {
    if (this.exited) return;
    try {
      await withTimeout(this.request('shutdown', null).done, 3000, 'shutdown');
      this.notify('exit', null);
      await withTimeout(this.exitPromise, 3000, 'exit');
    } catch (e) {
      // fall through to the kill
    }
    this.kill();
    await withTimeout(this.exitPromise, 3000, 'kill').catch(() => {});
    this.reader.dispose?.(); this.writer.dispose?.();
  }

  kill() {
    if (!this.exited && this.child) { try { this.child.kill('SIGKILL'); } catch {} }
  }
}

function killAll() { for (const c of live) c.kill(); }
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130); });

// ---- the scenario ----------------------------------------------------------

const CLIENT_CAPS = {
  textDocument: {
    synchronization: { dynamicRegistration: false, didSave: false },
    publishDiagnostics: { relatedInformation: true, versionSupport: true },
  },
  workspace: { configuration: false, workspaceFolders: false },
  general: { positionEncodings: ['utf-16'] },
};

// The feature runs add what an editor declares for quick fixes: the peer
// answers codeAction with [] unless the client can apply edits
// (workspace.applyEdit) and gets edits in the actions with literal support
// (as VS Code declares both).
const FEATURE_CAPS = {
  ...CLIENT_CAPS,
  textDocument: {
    ...CLIENT_CAPS.textDocument,
    codeAction: { codeActionLiteralSupport: { codeActionKind: {
      valueSet: ['', 'quickfix', 'refactor', 'source'] } } },
  },
  workspace: { ...CLIENT_CAPS.workspace, applyEdit: true },
};

async function initialize(c, initOptions, caps = CLIENT_CAPS) {
  const t0 = c.start();
  const r = c.request('initialize', {
    processId: process.pid,
    clientInfo: { name: 'dockwright-lsp-bench' },
    rootUri: null,
    capabilities: caps,
    initializationOptions: initOptions ?? null,
    trace: 'off',
  });
  const res = await r.done;
  if (res.error) throw new Error(`${c.name} initialize: ${JSON.stringify(res.error)}`);
  c.notify('initialized', {});
  return { ms: res.t - t0, result: res.result };
}

async function open(c, doc, version = 1) {
  const w = c.nextDiagnostics(doc.uri);
  const t0 = now();
  c.notify('textDocument/didOpen', { textDocument: { uri: doc.uri, languageId: 'dockerfile', version, text: doc.text } });
  const d = await w;
  return { ms: d.t - t0, count: d.params.diagnostics.length, version: d.params.version };
}

async function close(c, doc) {
  const w = c.nextDiagnostics(doc.uri); // both servers clear diagnostics on close
  c.notify('textDocument/didClose', { textDocument: { uri: doc.uri } });
  await w;
}

function spawnSpec(which, opts) {
  const env = { ...process.env };
  if (which === 'dockwright') return { command: opts.dockwright, args: ['--stdio'], env };
  return { command: opts.peer, args: ['--stdio'], env };
}

function makeClient(which, opts) {
  const s = spawnSpec(which, opts);
  return new Client(which, s.command, s.args, s.env);
}

// Fresh process per run: spawn -> initialize; then cold opens of both files
// and the memory with both open.
async function coldRun(which, opts, docs) {
  const c = makeClient(which, opts);
  try {
    const init = await initialize(c, null);
    const small = await open(c, docs.small);
    const large = await open(c, docs.large);
    await sleep(100); // let the process settle before reading its memory
    const mem = c.memory();
    return { init: init.ms, small: small.ms, large: large.ms, mem,
             smallCount: small.count, largeCount: large.count,
             caps: init.result?.capabilities };
  } finally {
    await c.stop();
    c.stderrBytesTotal = c.stderrBytes;
  }
}

// One long-lived process: warm reopen of both files, then one-character
// incremental changes on the large file.
async function warmRun(which, opts, docs, initOptions) {
  const c = makeClient(which, opts);
  const out = { small: [], large: [], change: [], versionMismatch: 0, changeCounts: new Set() };
  try {
    await initialize(c, initOptions);
    await open(c, docs.small);
    await open(c, docs.large);
    out.memOpen = c.memory();
    // Transport floor: a request for an unknown method, answered with
    // MethodNotFound by both servers (client + pipes + framing, no work).
    out.ping = [];
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      const r = c.request('bench/ping', null);
      const res = await r.done;
      if (!res.error) throw new Error(`${which}: bench/ping unexpectedly succeeded`);
      if (i >= opts.warmup) out.ping.push(res.t - r.t0);
      await sleep(10);
    }
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      await close(c, docs.small);
      const r = await open(c, docs.small);
      if (i >= opts.warmup) out.small.push(r.ms);
      await sleep(10);
    }
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      await close(c, docs.large);
      const r = await open(c, docs.large);
      if (i >= opts.warmup) out.large.push(r.ms);
      await sleep(10);
    }
    // Incremental one-character edits, alternately insert and delete, so
    // the text returns to the original every two edits.
    const p = docs.large.edit;
    let version = 1;
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      const insert = i % 2 === 0;
      const change = insert
        ? { range: { start: p, end: p }, text: '7' }
        : { range: { start: p, end: { line: p.line, character: p.character + 1 } }, text: '' };
      version++;
      const w = c.nextDiagnostics(docs.large.uri);
      const t0 = now();
      c.notify('textDocument/didChange', {
        textDocument: { uri: docs.large.uri, version }, contentChanges: [change] });
      const d = await w;
      if (d.params.version !== undefined && d.params.version !== version) out.versionMismatch++;
      out.changeCounts.add(d.params.diagnostics.length);
      if (i >= opts.warmup) out.change.push(d.t - t0);
      await sleep(10);
    }
    out.memEnd = c.memory();
    out.stray = c.stray;
  } finally {
    await c.stop();
    out.stderrBytes = c.stderrBytes;
    out.stderrTail = c.stderrTail;
    out.exit = c.exited;
  }
  out.changeCounts = [...out.changeCounts];
  return out;
}

// Positions for the feature requests in a document's text.
function featurePoints(text) {
  const lines = text.split('\n');
  const mid = Math.floor(lines.length / 2);
  const near = (pred) => {
    for (let d = 0; d < lines.length; d++)
      for (const l of [mid + d, mid - d]) {
        if (l < 0 || l >= lines.length) continue;
        const c = pred(lines[l], l);
        if (c !== null && c !== undefined && c >= 0) return { line: l, character: c };
      }
    throw new Error('no such position');
  };
  const after = (needle) => near((s) => { const i = s.indexOf(needle); return i < 0 ? -1 : i + needle.length; });
  return {
    blank: near((s, l) => (s === '' && l < lines.length - 1 ? 0 : -1)),
    dollar: after('$'),
    from: after('--from='),
    mount: after('--mount=type='),
    keyword: near((s) => (s.startsWith('RUN ') ? 1 : -1)),
  };
}

// One warm process: every feature request on both files, then full-text
// changes of the large file.
async function featureRun(which, opts, fdocs) {
  const c = makeClient(which, opts);
  const out = { counts: {} };
  const time = async (key, method, params, count) => {
    out[key] = [];
    for (let i = 0; i < opts.warmup + opts.runs; i++) {
      const r = c.request(method, params());
      const res = await r.done;
      if (res.error) throw new Error(`${which} ${method}: ${JSON.stringify(res.error)}`);
      if (i >= opts.warmup) out[key].push(res.t - r.t0);
      if (i === 0) out.counts[key] = count(res.result);
      await sleep(5);
    }
  };
  const items = (r) => (Array.isArray(r) ? r.length : r?.items?.length ?? 0);
  try {
    await initialize(c, null, FEATURE_CAPS);
    for (const size of ['small', 'large']) {
      const d = fdocs[size];
      const diags = await open(c, d);
      const at = (pos) => () => ({ textDocument: { uri: d.uri }, position: pos });
      await time(`${size}.blank`, 'textDocument/completion', at(d.points.blank), items);
      await time(`${size}.dollar`, 'textDocument/completion', at(d.points.dollar), items);
      await time(`${size}.from`, 'textDocument/completion', at(d.points.from), items);
      await time(`${size}.mount`, 'textDocument/completion', at(d.points.mount), items);
      await time(`${size}.hover`, 'textDocument/hover', at(d.points.keyword), (r) => (r ? 1 : 0));
      // A published diagnostic near the middle of the file.
      const w = c.nextDiagnostics(d.uri);
      c.notify('textDocument/didClose', { textDocument: { uri: d.uri } });
      await w;
      const pub = c.nextDiagnostics(d.uri);
      c.notify('textDocument/didOpen', { textDocument: { uri: d.uri, languageId: 'dockerfile', version: 1, text: d.text } });
      const list = (await pub).params.diagnostics;
      if (!list.length) throw new Error(`${which}: no diagnostics on ${size}`);
      // A diagnostic both servers fix: the instruction written in lower
      // case (`run echo ...`; the peer's "Convert instruction to
      // uppercase", our casing fix), the middle one of the file; its own
      // diagnostic for each server.
      const lines = d.text.split('\n');
      const casing = list.filter((x) => x.range.start.character === 0 &&
        /^run /.test(lines[x.range.start.line] || ''));
      // (The 30-line file has none: there the middle diagnostic.)
      const pick = casing.length ? casing : list;
      const mid = pick[Math.floor(pick.length / 2)];
      out.counts[`${size}.diagnostics`] = diags.count;
      await time(`${size}.codeAction`, 'textDocument/codeAction', () => ({
        textDocument: { uri: d.uri }, range: mid.range,
        context: { diagnostics: [mid] } }), items);
    }
    // Full-text one-character changes on both files.
    for (const size of ['small', 'large']) {
      const d = fdocs[size];
      const lines = d.text.split('\n');
      const p = d.points.keyword;
      const edited = [...lines];
      edited[p.line] = lines[p.line].slice(0, 4) + '7' + lines[p.line].slice(4);
      const texts = [edited.join('\n'), d.text];
      let version = 1;
      out[`${size}.full`] = [];
      for (let i = 0; i < opts.warmup + opts.runs; i++) {
        version++;
        const w = c.nextDiagnostics(d.uri);
        const t0 = now();
        c.notify('textDocument/didChange', {
          textDocument: { uri: d.uri, version }, contentChanges: [{ text: texts[i % 2] }] });
        const r = await w;
        if (i >= opts.warmup) out[`${size}.full`].push(r.t - t0);
        await sleep(10);
      }
    }
  } finally {
    await c.stop();
    out.exit = c.exited;
    out.stderrTail = c.stderrTail;
  }
  return out;
}

// A fresh process with `n` copies of the large file open.
async function manyDocsRun(which, opts, docs, n) {
  const c = makeClient(which, opts);
  try {
    await initialize(c, null);
    for (let i = 0; i < n; i++)
      await open(c, { uri: docs.large.uri.replace(/Dockerfile$/, `Dockerfile.${i}`), text: docs.large.text });
    await sleep(200);
    return c.memory();
  } finally {
    await c.stop();
  }
}

// Process-creation floor of this machine: spawn /bin/cat, write one byte,
// wait for it to come back.
async function catFloor() {
  const t0 = now();
  const child = spawn('/bin/cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
  const handle = { kill: () => child.kill('SIGKILL') };
  live.add(handle);
  child.on('exit', () => live.delete(handle));
  const got = new Promise((res) => child.stdout.once('data', () => res(now())));
  child.stdin.write('x');
  const t = await withTimeout(got, TIMEOUT_MS, '/bin/cat');
  const exited = new Promise((res) => child.on('exit', res));
  child.stdin.end();
  await withTimeout(exited, 3000, '/bin/cat exit').catch(() => child.kill('SIGKILL'));
  return t - t0;
}

// ---- reporting -------------------------------------------------------------

const fmtMs = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const fmtMiB = (kib) => (kib / 1024).toFixed(1);

function table(rows) {
  // rows: {metric, dw, peer, ratio, target, met}
  const head = ['metric', 'dockwright', 'peer (DLS 0.15.0)', 'ratio peer/dw', 'target', 'met'];
  const body = rows.map((r) => [r.metric, r.dw, r.peer, r.ratio, r.target, r.met]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(w[i])).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...body.map(line)].join('\n');
}

function markdown(rows) {
  const head = ['metric', 'dockwright', 'peer (DLS 0.15.0)', 'ratio peer/dw', 'target', 'met'];
  const esc = (s) => String(s).replace(/\|/g, '\\|');
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${[r.metric, r.dw, r.peer, r.ratio, r.target, r.met].map(esc).join(' | ')} |`),
  ].join('\n');
}

function latencyRow(metric, dw, peer, target = 20) {
  const a = summary(dw), b = summary(peer);
  const ratio = b.median / a.median;
  const ratio90 = b.p90 / a.p90;
  return {
    metric,
    dw: `${fmtMs(a.median)} ms (p90 ${fmtMs(a.p90)})`,
    peer: `${fmtMs(b.median)} ms (p90 ${fmtMs(b.p90)})`,
    ratio: `${ratio.toFixed(1)}x (p90 ${ratio90.toFixed(1)}x)`,
    target: target === null ? '-' : `>= ${target}x`,
    met: target === null ? '-' : (ratio >= target ? 'yes' : 'NO'),
    raw: { dw: a, peer: b, ratio, ratio90 },
  };
}

function memoryRow(metric, dwKiB, peerKiB, target = 5) {
  const a = median(dwKiB), b = median(peerKiB);
  const ratio = b / a;
  return {
    metric,
    dw: `${fmtMiB(a)} MiB`,
    peer: `${fmtMiB(b)} MiB`,
    ratio: `${ratio.toFixed(1)}x`,
    target: target === null ? '-' : `>= ${target}x less`,
    met: target === null ? '-' : (ratio >= target ? 'yes' : 'NO'),
    raw: { dwKiB: a, peerKiB: b, ratio },
  };
}

// ---- main ------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv);
  if (opts.writeFiles) {
    mkdirSync(opts.writeFiles, { recursive: true });
    writeFileSync(join(opts.writeFiles, 'Dockerfile.30'), generateDockerfile(30, 30).text);
    writeFileSync(join(opts.writeFiles, 'Dockerfile.5000'), generateDockerfile(5000, 5000).text);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dw-lsp-bench-'));
  try {
    const mk = (name, lines, seed) => {
      const g = generateDockerfile(lines, seed);
      mkdirSync(join(dir, name));
      const path = join(dir, name, 'Dockerfile');
      writeFileSync(path, g.text);
      return { uri: pathToFileURL(path).href, text: g.text, lines, stages: g.stages, edit: lines >= 60 ? editPoint(g.text) : null };
    };
    const docs = { small: mk('small', 30, 30), large: mk('large', 5000, 5000) };
    const log = (s) => process.stderr.write(s + '\n');
    log(`files: ${docs.small.lines} lines (${docs.small.stages} stage(s), ${docs.small.text.length} bytes), ` +
        `${docs.large.lines} lines (${docs.large.stages} stages, ${docs.large.text.length} bytes); ` +
        `edit at ${docs.large.edit.line + 1}:${docs.large.edit.character + 1}`);

    // 1. Fresh processes, alternating servers run by run.
    const load0 = loadavg();
    const cold = { dockwright: [], peer: [] };
    const floor = [];
    for (let i = 0; i < opts.spawnRuns; i++) floor.push(await catFloor());
    for (let i = 0; i < opts.spawnRuns; i++)
      for (const which of i % 2 ? ['peer', 'dockwright'] : ['dockwright', 'peer'])
        cold[which].push(await coldRun(which, opts, docs));
    log(`cold runs done (${opts.spawnRuns} per server)`);

    // 2. Warm: one process per configuration.
    const warm = {
      dockwright: await warmRun('dockwright', opts, docs, null),
      dockwright0: await warmRun('dockwright', opts, docs, { dockwright: { diagnostics: { debounceMs: 0 } } }),
      peer: await warmRun('peer', opts, docs, null),
    };
    log('warm runs done');

    // 3. Feature requests and full-text changes; 20 documents.
    const fmk = (name, base) => {
      mkdirSync(join(dir, name));
      const path = join(dir, name, 'Dockerfile');
      const text = base.text + 'RUN --mount=type=cache,target=/root/.cache true\n';
      writeFileSync(path, text);
      return { uri: pathToFileURL(path).href, text, points: featurePoints(text) };
    };
    const fdocs = { small: fmk('fsmall', docs.small), large: fmk('flarge', docs.large) };
    const feat = {
      dockwright: await featureRun('dockwright', opts, fdocs),
      peer: await featureRun('peer', opts, fdocs),
    };
    log('feature runs done');
    const many = { dockwright: [], peer: [] };
    for (let i = 0; i < Math.max(1, Math.min(3, opts.spawnRuns)); i++)
      for (const which of ['dockwright', 'peer'])
        many[which].push(await manyDocsRun(which, opts, docs, 20));
    log('20-document runs done');

    const col = (arr, f) => arr.map(f);
    const rows = [
      latencyRow('spawn -> initialize response', col(cold.dockwright, (r) => r.init), col(cold.peer, (r) => r.init)),
      latencyRow('didOpen 30 lines -> diagnostics, cold', col(cold.dockwright, (r) => r.small), col(cold.peer, (r) => r.small)),
      latencyRow('didOpen 5,000 lines -> diagnostics, cold', col(cold.dockwright, (r) => r.large), col(cold.peer, (r) => r.large)),
      latencyRow('didOpen 30 lines -> diagnostics, warm', warm.dockwright.small, warm.peer.small),
      latencyRow('didOpen 5,000 lines -> diagnostics, warm', warm.dockwright.large, warm.peer.large),
      latencyRow('didChange 1 char -> diagnostics, 5,000 lines (dockwright default settings)', warm.dockwright.change, warm.peer.change),
      latencyRow('didChange 1 char -> diagnostics, 5,000 lines (dockwright debounceMs 0)', warm.dockwright0.change, warm.peer.change),
      latencyRow('round trip, unknown request (transport floor, info)', warm.dockwright.ping, warm.peer.ping, null),
      ...['small', 'large'].flatMap((size) => {
        const n = size === 'small' ? '30' : '5,000';
        const t = size === 'small' ? null : 20;
        const f = (k) => latencyRow(k[1] + `, ${n} lines`, feat.dockwright[`${size}.${k[0]}`], feat.peer[`${size}.${k[0]}`], t);
        return [['blank', 'completion, blank line'], ['dollar', 'completion after $'],
          ['from', 'completion after --from='], ['mount', 'completion after --mount=type='],
          ['hover', 'hover on a keyword'], ['codeAction', 'codeAction on a diagnostic'],
          ['full', 'didChange 1 char as full text -> diagnostics']].map(f);
      }),
      memoryRow('VmRSS, both files open', col(cold.dockwright, (r) => r.mem.rssKiB), col(cold.peer, (r) => r.mem.rssKiB)),
      memoryRow('VmRSS, 20 open 5,000-line files', col(many.dockwright, (r) => r.rssKiB), col(many.peer, (r) => r.rssKiB)),
      memoryRow('VmHWM, both files open', col(cold.dockwright, (r) => r.mem.hwmKiB), col(cold.peer, (r) => r.mem.hwmKiB)),
      memoryRow('RssAnon (private heap etc.), both files open (info)', col(cold.dockwright, (r) => r.mem.anonKiB), col(cold.peer, (r) => r.mem.anonKiB), null),
      memoryRow('RssFile (mapped binary + shared libraries), both files open (info)', col(cold.dockwright, (r) => r.mem.fileKiB), col(cold.peer, (r) => r.mem.fileKiB), null),
      memoryRow('VmRSS after all warm runs (info)', [warm.dockwright.memEnd.rssKiB], [warm.peer.memEnd.rssKiB], null),
      memoryRow('VmHWM after all warm runs (info)', [warm.dockwright.memEnd.hwmKiB], [warm.peer.memEnd.hwmKiB], null),
    ];

    const counts = {
      dockwright: { small: cold.dockwright[0].smallCount, large: cold.dockwright[0].largeCount, change: warm.dockwright.changeCounts, features: feat.dockwright.counts },
      peer: { small: cold.peer[0].smallCount, large: cold.peer[0].largeCount, change: warm.peer.changeCounts, features: feat.peer.counts },
    };
    const notes = [];
    for (const w of ['dockwright', 'dockwright0', 'peer']) {
      const r = warm[w];
      if (r.versionMismatch) notes.push(`${w}: ${r.versionMismatch} change publishes carried another version`);
      if (r.stray) notes.push(`${w}: ${r.stray} publishDiagnostics nobody waited for`);
    }
    for (const which of ['dockwright', 'peer'])
      for (const k of ['small', 'large'])
        if (!counts[which][k]) notes.push(`${which}: no diagnostics on the ${k} file`);

    const cpu = cpus();
    const header = [
      `LSP benchmark: dockwright --stdio vs dockerfile-language-server-nodejs 0.15.0`,
      `machine: ${cpu.length} cores (${cpu[0]?.model ?? '?'}), node ${process.version}`,
      `runs: ${opts.spawnRuns} fresh processes per server (spawn, cold opens, memory); ` +
        `${opts.runs} timed iterations (+${opts.warmup} warm-up) for warm opens and changes`,
      `diagnostics published: dockwright ${counts.dockwright.small} (30 lines) / ${counts.dockwright.large} (5,000 lines); ` +
        `peer ${counts.peer.small} / ${counts.peer.large}`,
      `feature answers (items, or 1 for a hover): dockwright ${JSON.stringify(counts.dockwright.features)}; ` +
        `peer ${JSON.stringify(counts.peer.features)}`,
      `process-spawn floor here: /bin/cat echoes a byte ${fmtMs(median(floor))} ms (p90 ${fmtMs(quantile(floor, 0.9))}) after spawn`,
      `load average (1 min) at start ${load0[0].toFixed(2)}, at end ${loadavg()[0].toFixed(2)}`,
      `medians, p90 in brackets; ratio = peer median / dockwright median`,
    ].join('\n');
    const latRows = rows.filter((r) => r.target !== '-' && !/^(Vm|Rss)/.test(r.metric));
    const memRows = rows.filter((r) => r.target !== '-' && r.metric.startsWith('Vm'));
    const verdict = [
      `target >= 20x faster on every latency: ` +
        (latRows.every((r) => r.met === 'yes') ? 'MET' : `NOT MET (missed: ${latRows.filter((r) => r.met !== 'yes').map((r) => r.metric).join('; ')})`),
      `target >= 5x less memory: ` +
        (memRows.every((r) => r.met === 'yes') ? 'MET' : `NOT MET (missed: ${memRows.filter((r) => r.met !== 'yes').map((r) => r.metric).join('; ')})`),
    ];
    const text = [header, '', table(rows), '', ...verdict, ...(notes.length ? ['', 'notes:', ...notes.map((n) => `  ${n}`)] : [])].join('\n');
    console.log(text);

    if (opts.markdown) writeFileSync(opts.markdown, [header.split('\n').map((l) => `${l}  `).join('\n'), '', markdown(rows), '', ...verdict.map((v) => `- ${v}`), ...notes.map((n) => `- note: ${n}`), ''].join('\n'));
    if (opts.json) writeFileSync(opts.json, JSON.stringify({
      date: new Date().toISOString(), cores: cpu.length, cpu: cpu[0]?.model, node: process.version,
      opts: { spawnRuns: opts.spawnRuns, runs: opts.runs, warmup: opts.warmup },
      files: { small: { lines: docs.small.lines, bytes: docs.small.text.length }, large: { lines: docs.large.lines, bytes: docs.large.text.length, edit: docs.large.edit } },
      counts, notes, spawnFloor: summary(floor), loadavg: { start: load0, end: loadavg() }, rows: rows.map((r) => ({ metric: r.metric, ...r.raw })),
      raw: { cold, warm, feat, many },
    }, null, 1));
    for (const w of ['dockwright', 'dockwright0', 'peer'])
      if ((warm[w].exit && warm[w].exit.code !== 0) || process.env.BENCH_SHOW_STDERR)
        log(`${w}: exit ${JSON.stringify(warm[w].exit)}; stderr tail:\n${warm[w].stderrTail}`);
  } finally {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`bench.mjs: ${e.stack || e}`);
  for (const c of live) if (c.stderrTail) console.error(`${c.name} stderr tail:\n${c.stderrTail}`);
  killAll();
  process.exit(1);
});
