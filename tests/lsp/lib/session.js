'use strict';
// One language-server session under test: `dockwright --stdio` spawned as a
// child process and driven by vscode-languageserver-protocol, the client
// library VS Code itself uses.  Every test file goes through start().
//
// DOCKWRIGHT selects the binary (default: ../../build/dockwright), so the
// same suite runs against build-asan/dockwright.

const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const rpc = require('vscode-jsonrpc/node');
const lsp = require('vscode-languageserver-protocol/node');

const SERVER = process.env.DOCKWRIGHT ||
  path.resolve(__dirname, '../../../build/dockwright');

// Capabilities of a client like VS Code, for push diagnostics (no
// textDocument.diagnostic), with everything publishDiagnostics can carry.
function clientCapabilities(extra = {}) {
  const caps = {
    general: {},
    workspace: { configuration: false },
    textDocument: {
      synchronization: { dynamicRegistration: false },
      publishDiagnostics: {
        relatedInformation: true,
        versionSupport: true,
        tagSupport: { valueSet: [1, 2] },
        codeDescriptionSupport: true,
        dataSupport: true,
      },
    },
  };
  return deepMerge(caps, extra);
}

function deepMerge(a, b) {
  for (const [k, v] of Object.entries(b)) {
    if (v && typeof v === 'object' && !Array.isArray(v) &&
        a[k] && typeof a[k] === 'object')
      deepMerge(a[k], v);
    else
      a[k] = v;
  }
  return a;
}

class Session {
  constructor(opts = {}) {
    this.proc = spawn(SERVER, ['--stdio', ...(opts.args || [])], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, DOCKWRIGHT_LOG: opts.log || 'warn',
             ...(opts.env || {}) },
    });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    this.proc.stdin.on('error', () => {}); // EPIPE after the server exits
    this.conn = lsp.createProtocolConnection(
      new rpc.StreamMessageReader(this.proc.stdout),
      new rpc.StreamMessageWriter(this.proc.stdin));
    this.notifications = [];
    this.waiters = [];
    this.conn.onNotification((method, params) => {
      this.notifications.push({ method, params });
      for (const w of [...this.waiters]) w.check();
    });
    // vscode-jsonrpc routes $/logTrace to its tracer; a handler of our own
    // replaces that so the tests can see the server's traces.
    this.conn.onNotification('$/logTrace', (params) => {
      this.notifications.push({ method: '$/logTrace', params });
      for (const w of [...this.waiters]) w.check();
    });
    // $/progress too goes to a handler of its own in vscode-jsonrpc.
    this.conn.onNotification('$/progress', (params) => {
      this.notifications.push({ method: '$/progress', params });
      for (const w of [...this.waiters]) w.check();
    });
    // The server asks for progress tokens and lens refreshes (builds).
    this.progressCreates = [];
    this.conn.onRequest('window/workDoneProgress/create', (params) => {
      this.progressCreates.push(params.token);
      return null;
    });
    this.codeLensRefreshes = 0;
    this.conn.onRequest('workspace/codeLens/refresh', () => {
      this.codeLensRefreshes++;
      return null;
    });
    this.conn.onError(() => {});
    this.conn.onClose(() => {});
    this.configRequests = 0;
    this.settings = opts.settings === undefined ? null : opts.settings;
    this.conn.onRequest('workspace/configuration', (params) => {
      this.configRequests++;
      return params.items.map(() => this.settings);
    });
    this.refreshRequests = 0;
    this.conn.onRequest('workspace/diagnostic/refresh', () => {
      this.refreshRequests++;
      return null;
    });
    this.conn.listen();
  }

  // Extra arguments would turn params into an array (by-position), so pass
  // only what is given.
  request(method, params, token) {
    if (token !== undefined)
      return this.conn.sendRequest(method, params, token);
    if (params !== undefined) return this.conn.sendRequest(method, params);
    return this.conn.sendRequest(method);
  }

  notify(method, params) {
    if (params !== undefined)
      return this.conn.sendNotification(method, params);
    return this.conn.sendNotification(method);
  }

  // Writes bytes straight to the server's stdin, bypassing the framing.
  raw(bytes) {
    return new Promise((resolve) => this.proc.stdin.write(bytes, resolve));
  }

  async initialize(params = {}) {
    const { capabilities, ...rest } = params;
    const result = await this.request('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: clientCapabilities(capabilities || {}),
      clientInfo: { name: 'dockwright-tests' },
      ...rest,
    });
    await this.notify('initialized', {});
    return result;
  }

  // Resolves with the first notification (past or future) matching.
  waitFor(method, pred = () => true, timeout = 5000, since = 0) {
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          const hit = this.notifications.slice(since).find(
            (n) => n.method === method && pred(n.params));
          if (!hit) return false;
          clearTimeout(w.timer);
          this.waiters.splice(this.waiters.indexOf(w), 1);
          resolve(hit.params);
          return true;
        },
      };
      w.timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no ${method} within ${timeout} ms; stderr:\n` +
                         this.stderr));
      }, timeout);
      this.waiters.push(w);
      w.check();
    });
  }

  // The next publishDiagnostics for uri with this version.
  diagnostics(uri, version, timeout) {
    return this.waitFor('textDocument/publishDiagnostics',
      (p) => p.uri === uri && (version === undefined || p.version === version),
      timeout);
  }

  open(uri, text, version = 1) {
    return this.notify('textDocument/didOpen', {
      textDocument: { uri, languageId: 'dockerfile', version, text },
    });
  }

  change(uri, version, contentChanges) {
    return this.notify('textDocument/didChange', {
      textDocument: { uri, version }, contentChanges,
    });
  }

  debug(uri) {
    return this.request('dockwright/debugDocument', { textDocument: { uri } });
  }

  // shutdown + exit; resolves with the exit status.
  async stop() {
    if (this.proc.exitCode === null) {
      await this.request('shutdown');
      await this.notify('exit');
    }
    const r = await exitWithin(this, 10000);
    this.conn.dispose();
    return r;
  }

  // Under the ASan/UBSan build a report on stderr fails the test even when
  // the exit code looks right (UBSan goes on after a report).
  assertClean() {
    const m = /(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)/
      .exec(this.stderr);
    if (m) throw new Error('sanitizer report:\n' + this.stderr);
  }

  kill() {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    this.conn.dispose();
  }
}

function start(opts) {
  return new Session(opts);
}

// Bounded wait for the process to exit.
async function exitWithin(session, ms) {
  let timer;
  const r = await Promise.race([
    session.exited,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`server still running after ${ms} ms`)), ms);
    }),
  ]);
  clearTimeout(timer);
  // stderr may still be draining after 'exit'.
  await new Promise((resolve) => {
    if (session.proc.stderr.readableEnded) resolve();
    else session.proc.stderr.once('close', resolve);
  });
  session.assertClean();
  return r;
}

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dockwright-lsp-'));
}

function fileUri(p) {
  return 'file://' + p.split('/').map(encodeURIComponent).join('/');
}

// Frames a JSON-RPC message by hand (for the robustness tests).
function frame(obj) {
  const body = Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj));
  return Buffer.concat([
    Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
}

module.exports = { start, exitWithin, tmpdir, fileUri, frame, SERVER,
                   clientCapabilities, rpc, lsp };
