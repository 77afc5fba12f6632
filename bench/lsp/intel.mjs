#!/usr/bin/env node
// bench/lsp/intel.mjs - language intelligence II side by side: dockwright
// --stdio and dockerfile-language-server-nodejs 0.15.0 (docker-langserver
// --stdio) on bench.mjs's generated 30- and 5,000-line Dockerfiles, in one
// run.  For each server, one warm process opens both files, then times:
// definition, references and rename on a `COPY --from=<stage>` near the
// middle, documentSymbol, foldingRange, semanticTokens/full,
// semanticTokens/full/delta after a one-character edit (didChange, then the
// delta from the previous result's id), and formatting.  Our own
// didOpen -> publishDiagnostics of the same file in the same process is the
// yardstick for requests the peer does not have.  Requests a server does
// not advertise are reported as "-".
//
// Usage: node intel.mjs [--dockwright PATH] [--peer PATH] [--runs N]
//          [--peer-slow-runs N] [--markdown FILE]
// (bench/lsp/run.sh installs the peer; build-release/ holds dockwright.)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const rpc = require('vscode-jsonrpc/node');
const HERE = dirname(fileURLToPath(import.meta.url));

const o = {
  dockwright: join(HERE, '../../build-release/dockwright'),
  peer: join(HERE, 'node_modules/.bin/docker-langserver'),
  runs: 20, peerSlowRuns: 2, markdown: null,
};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  if (a === '--dockwright') o.dockwright = v();
  else if (a === '--peer') o.peer = v();
  else if (a === '--runs') o.runs = Number(v());
  else if (a === '--peer-slow-runs') o.peerSlowRuns = Number(v());
  else if (a === '--markdown') o.markdown = v();
  else throw new Error(`unknown argument ${a}`);
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : NaN; };
const TIMEOUT = 120000;
const within = (p, what) => Promise.race([p, new Promise((_, rej) =>
  setTimeout(() => rej(new Error(`timed out: ${what}`)), TIMEOUT).unref())]);

const dir = mkdtempSync(join(tmpdir(), 'dw-intel-bench-'));
execFileSync(process.execPath, [join(HERE, 'bench.mjs'), '--write-files', dir]);
const files = {
  small: { path: join(dir, 'Dockerfile.30') },
  large: { path: join(dir, 'Dockerfile.5000') },
};
for (const f of Object.values(files)) {
  f.text = readFileSync(f.path, 'utf8');
  f.uri = pathToFileURL(f.path).href;
  const lines = f.text.split('\n');
  // The --from= nearest the middle, and a label value to edit.
  const mid = lines.length >> 1;
  const near = (re) => {
    for (let d = 0; d < lines.length; d++)
      for (const l of [mid + d, mid - d]) {
        const m = l >= 0 && l < lines.length ? re.exec(lines[l]) : null;
        if (m) return { line: l, character: m.index + m[0].length };
      }
    throw new Error(`no ${re}`);
  };
  f.from = near(/--from=/);
  f.from.character += 1;
  f.edit = near(/org\.example\.build="/);
}

async function session(which) {
  const cmd = which === 'dockwright' ? o.dockwright : o.peer;
  const child = spawn(cmd, ['--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const conn = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout),
    new rpc.StreamMessageWriter(child.stdin));
  const diag = new Map();
  conn.onNotification('textDocument/publishDiagnostics', (p) => {
    const w = diag.get(p.uri); if (w) { diag.delete(p.uri); w(now()); } });
  conn.onRequest('workspace/configuration', (p) => p.items.map(() => null));
  conn.listen();
  const init = await within(conn.sendRequest('initialize', { processId: process.pid,
    rootUri: null, capabilities: { textDocument: {
      semanticTokens: { requests: { full: { delta: true }, range: true },
        tokenTypes: [], tokenModifiers: [], formats: ['relative'] },
      documentSymbol: { hierarchicalDocumentSymbolSupport: true },
      rename: { prepareSupport: true } } } }), 'initialize');
  conn.sendNotification('initialized', {});
  return { which, child, conn, caps: init.capabilities, diag };
}

async function timeIt(n, f) {
  const xs = [];
  await f(); // warm-up
  for (let i = 0; i < n; i++) { const t0 = now(); await f(); xs.push(now() - t0); }
  return median(xs);
}

async function measure(which) {
  const s = await session(which);
  const out = {};
  const c = s.caps;
  const slow = which === 'peer' ? o.peerSlowRuns : o.runs;
  try {
    for (const size of ['small', 'large']) {
      const f = files[size];
      const r = {};
      const opened = new Promise((res) => s.diag.set(f.uri, res));
      const t0 = now();
      s.conn.sendNotification('textDocument/didOpen', { textDocument: {
        uri: f.uri, languageId: 'dockerfile', version: 1, text: f.text } });
      r.didOpen = (await within(opened, 'diagnostics')) - t0;
      const td = { uri: f.uri };
      const req = (m, p) => within(s.conn.sendRequest(m, p), m);
      const n = size === 'large' ? slow : o.runs;
      if (c.definitionProvider)
        r.definition = await timeIt(o.runs, () => req('textDocument/definition',
          { textDocument: td, position: f.from }));
      if (c.referencesProvider)
        r.references = await timeIt(o.runs, () => req('textDocument/references',
          { textDocument: td, position: f.from, context: { includeDeclaration: true } }));
      if (c.renameProvider)
        r.rename = await timeIt(o.runs, () => req('textDocument/rename',
          { textDocument: td, position: f.from, newName: 'renamedstage' }));
      if (c.documentSymbolProvider)
        r.documentSymbol = await timeIt(o.runs, () => req('textDocument/documentSymbol',
          { textDocument: td }));
      if (c.foldingRangeProvider)
        r.foldingRange = await timeIt(o.runs, () => req('textDocument/foldingRange',
          { textDocument: td }));
      let last = null;
      if (c.semanticTokensProvider?.full)
        r.semanticTokensFull = await timeIt(n, async () => {
          last = await req('textDocument/semanticTokens/full', { textDocument: td });
        });
      if (c.semanticTokensProvider?.full?.delta && last?.resultId) {
        let version = 1, toggle = false;
        const xs = [];
        for (let i = 0; i <= n; i++) {
          toggle = !toggle;
          const range = toggle
            ? { start: f.edit, end: f.edit }
            : { start: f.edit, end: { line: f.edit.line, character: f.edit.character + 1 } };
          s.conn.sendNotification('textDocument/didChange', { textDocument: {
            uri: f.uri, version: ++version }, contentChanges: [{ range, text: toggle ? '7' : '' }] });
          const t0 = now();
          const d = await req('textDocument/semanticTokens/full/delta',
            { textDocument: td, previousResultId: last.resultId });
          if (i > 0) xs.push(now() - t0);
          last = d.resultId ? d : last;
        }
        r.semanticTokensDelta = median(xs);
      }
      if (c.documentFormattingProvider)
        r.formatting = await timeIt(n, () => req('textDocument/formatting',
          { textDocument: td, options: { tabSize: 4, insertSpaces: true } }));
      out[size] = r;
    }
  } finally {
    s.child.kill('SIGKILL');
    s.conn.dispose();
  }
  return out;
}

const fmt = (x) => (x === undefined ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const res = { dockwright: await measure('dockwright'), peer: await measure('peer') };
rmSync(dir, { recursive: true, force: true });
const keys = [['definition', 'definition'], ['references', 'references'],
  ['rename', 'rename'], ['documentSymbol', 'documentSymbol'],
  ['foldingRange', 'foldingRange'], ['semanticTokensFull', 'semanticTokens/full'],
  ['semanticTokensDelta', 'semanticTokens/full/delta after a 1-char edit'],
  ['formatting', 'formatting'], ['didOpen', 'didOpen -> diagnostics (yardstick)']];
const lines = [
  `Language intelligence II: dockwright vs dockerfile-language-server-nodejs 0.15.0`,
  `machine: ${cpus().length} cores, node ${process.version}; medians of ${o.runs} runs ` +
    `(peer: ${o.peerSlowRuns} on the 5,000-line file for tokens and formatting), ms`,
  '',
  '| request | lines | dockwright | peer | ratio / target |',
  '|---------|-------|-----------:|-----:|----------------|',
];
for (const size of ['small', 'large']) {
  const n = size === 'small' ? '30' : '5,000';
  for (const [k, label] of keys) {
    const a = res.dockwright[size][k], b = res.peer[size][k];
    let verdict = '';
    if (k === 'didOpen') verdict = 'info';
    else if (a !== undefined && b !== undefined)
      verdict = `${(b / a).toFixed(0)}x faster (${b / a >= 20 ? 'meets' : 'misses'} 20x)`;
    else if (a !== undefined)
      verdict = `peer has none; ${a <= res.dockwright[size].didOpen ? 'within' : 'over'} our didOpen`;
    lines.push(`| ${label} | ${n} | ${fmt(a)} | ${fmt(b)} | ${verdict} |`);
  }
}
const text = lines.join('\n') + '\n';
process.stdout.write(text);
if (o.markdown) writeFileSync(o.markdown, text);
process.exit(0);
