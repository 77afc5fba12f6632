'use strict';
// bench/lsp/build-latency - how much a running build slows the language
// server's answers: the latency of cheap requests while idle and while a
// dockwright.build runs in the same server, side by side, as a ratio.
//
// The build is real and heavy on purpose: a RUN that writes 200 MB of
// random bytes, whose layer is then packed with gzip on every core
// (builder/pgzip.c), built with noCache again and again until enough
// samples are taken.  The requests, one at a time:
//   diagnostic   didChange of one character + textDocument/diagnostic (a
//                pull: the model update and the analysis on the thread
//                pool), 300-line Dockerfile
//   codeLens     textDocument/codeLens (answered on the loop thread)
//   completion   textDocument/completion after `$` at the end of the
//                file (the ~100 variables in scope there, from the kept
//                model, on the loop thread)
//
// Needs root, docker-registry, umoci, skopeo and busybox (tools/setup.sh),
// and tests/lsp's node_modules (npm ci there).  The server is
// $DOCKWRIGHT or build/dockwright.
// Usage: bench/lsp/build-latency [--samples N] [--json FILE]
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const root = path.resolve(__dirname, '../..');
let session, reg;
try {
  session = require(path.join(root, 'tests/lsp/lib/session'));
  reg = require(path.join(root, 'tests/lsp/lib/registry'));
} catch (e) {
  console.error('build-latency: run `npm ci` in tests/lsp first (' + e.message + ')');
  process.exit(2);
}

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const SAMPLES = Number(opt('--samples', '150'));
const JSON_OUT = opt('--json', null);

function quantile(v, q) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function main() {
  const missing = reg.missingTools();
  if (missing.length || process.getuid() !== 0) {
    console.error('build-latency: needs root and ' +
                  (missing.join(', ') || 'nothing else'));
    process.exit(2);
  }
  const dir = session.tmpdir();
  const registry = await reg.startRegistry(path.join(dir, 'registry'));
  let s;
  try {
    reg.pushBusybox(registry.host);
    s = session.start();
    await s.initialize({
      initializationOptions: { dockwright: { root: path.join(dir, 'store') } },
      capabilities: { textDocument: { diagnostic: {} } },
    });

    // The document the requests are about.
    const lines = ['FROM busybox AS base'];
    for (let i = 0; lines.length < 299; i++)
      lines.push(i % 3 ? `RUN echo step-${i} && true` : `ENV V${i}=value-${i}`);
    lines.push('RUN echo $V');
    const doc = session.fileUri(path.join(dir, 'edit', 'Dockerfile'));
    await s.open(doc, lines.join('\n') + '\n');
    let version = 1;
    let previous;
    const requests = {
      diagnostic: async () => {
        version++;
        await s.change(doc, version, [{ range: {
          start: { line: 1, character: 0 }, end: { line: 1, character: 0 } },
          text: version % 2 ? ' ' : '' }]);
        const r = await s.request('textDocument/diagnostic',
          { textDocument: { uri: doc }, previousResultId: previous });
        previous = r.resultId;
      },
      codeLens: () => s.request('textDocument/codeLens',
        { textDocument: { uri: doc } }),
      completion: async () => {
        const r = await s.request('textDocument/completion', {
          textDocument: { uri: doc },
          position: { line: lines.length - 1,
                      character: lines[lines.length - 1].length } });
        if (r.items.length < 90)
          throw new Error(`completion: ${r.items.length} items`);
      },
    };

    // The project that is built.
    const proj = path.join(dir, 'heavy');
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'Dockerfile'),
      `FROM ${registry.host}/busybox:latest\n` +
      'RUN head -c 200000000 /dev/urandom > /big && echo wrote\n');
    const heavy = session.fileUri(path.join(proj, 'Dockerfile'));

    const sample = async (name, running) => {
      const out = [];
      while (out.length < SAMPLES && running()) {
        const t0 = performance.now();
        await requests[name]();
        out.push(performance.now() - t0);
      }
      return out;
    };

    for (const name of Object.keys(requests)) await sample(name, () => true);
    const idle = {};
    for (const name of Object.keys(requests))
      idle[name] = await sample(name, () => true);

    const busy = {};
    let builds = 0;
    for (const name of Object.keys(requests)) {
      busy[name] = [];
      while (busy[name].length < SAMPLES) {
        let done = false;
        const b = s.request('workspace/executeCommand', {
          command: 'dockwright.build',
          arguments: [{ uri: heavy, noCache: true }],
        }).finally(() => { done = true; });
        builds++;
        // Let the build get going (the RUN, then the packing).
        await new Promise((r) => setTimeout(r, 200));
        while (!done && busy[name].length < SAMPLES) {
          const t = await sample(name, () => !done);
          busy[name].push(...t.slice(0, SAMPLES - busy[name].length));
        }
        await b;
      }
    }

    const rows = Object.keys(requests).map((name) => {
      const r = {
        request: name,
        idle_median_ms: quantile(idle[name], 0.5),
        idle_p95_ms: quantile(idle[name], 0.95),
        build_median_ms: quantile(busy[name], 0.5),
        build_p95_ms: quantile(busy[name], 0.95),
      };
      r.ratio_median = r.build_median_ms / r.idle_median_ms;
      r.ratio_p95 = r.build_p95_ms / r.idle_p95_ms;
      return r;
    });
    const f = (x) => x.toFixed(2).padStart(8);
    console.log(`build-latency: ${SAMPLES} samples each, ${builds} builds ` +
                `(200 MB RUN layer, noCache), ${require('node:os').cpus().length} cores`);
    console.log('request        idle p50  idle p95  build p50 build p95  ratio p50 ratio p95');
    for (const r of rows)
      console.log(`${r.request.padEnd(12)} ${f(r.idle_median_ms)}  ${f(r.idle_p95_ms)}  ` +
                  `${f(r.build_median_ms)}  ${f(r.build_p95_ms)}  ${f(r.ratio_median)}x ` +
                  `${f(r.ratio_p95)}x`);
    if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify(rows, null, 2));
    await s.stop();
  } finally {
    if (s) s.kill();
    registry.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
