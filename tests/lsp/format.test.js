'use strict';
// textDocument/formatting, rangeFormatting, onTypeFormatting and
// `dockwright fmt`: the edits applied as a client applies them (UTF-16
// positions on non-ASCII lines), idempotence, BuildKit's dump unchanged,
// the settings, and the command line's --check / --diff / in place.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { start, SERVER } = require('./lib/session');
const { applyEdits } = require('./lib/text');

const BIN = SERVER;
let seq = 0;
const uri = () => `file:///tmp/dockwright-format-${process.pid}/Dockerfile.${seq++}`;

const MESSY = [
  'from alpine:3.19 as bäse   ',
  '  label désc="héllo   wörld"   ',
  'run  echo ü && \\   ',
  '      true',
  'copy  --from=bäse \\',
  '  /a \\',
  '        /b',
  'env A="x \\',
  '   y" B=2',
  'RUN <<EOF  ',
  '  body stays   ',
  'EOF',
  '# comment   ',
  'onbuild run echo hi',
  '',
].join('\n');

const FORMATTED = [
  'FROM alpine:3.19 as bäse',
  'LABEL désc="héllo   wörld"',
  'RUN echo ü && \\',
  '      true',
  'COPY --from=bäse \\',
  '    /a \\',
  '    /b',
  'ENV A="x \\',
  '   y" B=2',
  'RUN <<EOF',
  '  body stays   ',
  'EOF',
  '# comment',
  'ONBUILD RUN echo hi',
  '',
].join('\n');

function dump(text) {
  const r = spawnSync(BIN, ['parse', '--format', 'buildkit', '-'],
    { input: text });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString();
}

test('formatting: edits in UTF-16, idempotent, BuildKit dump kept',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    const init = await s.initialize();
    assert.equal(init.capabilities.documentFormattingProvider, true);
    assert.equal(init.capabilities.documentRangeFormattingProvider, true);
    assert.deepEqual(init.capabilities.documentOnTypeFormattingProvider,
      { firstTriggerCharacter: '\n' });
    const u = uri();
    await s.open(u, MESSY);
    const opts = { tabSize: 4, insertSpaces: true };
    const edits = await s.request('textDocument/formatting',
      { textDocument: { uri: u }, options: opts });
    assert.ok(edits.length > 5);
    // One edit on the non-ASCII line 1 ends after "wörld\"" in UTF-16 units.
    const l1 = edits.filter((e) => e.range.start.line === 1);
    assert.ok(l1.some((e) => e.range.end.character === 31), JSON.stringify(l1));
    const out = applyEdits(MESSY, edits);
    assert.equal(out, FORMATTED);
    assert.equal(dump(out), dump(MESSY));
    await s.change(u, 2, [{ text: out }]);
    const again = await s.request('textDocument/formatting',
      { textDocument: { uri: u }, options: opts });
    assert.deepEqual(again, []);
    assert.equal((await s.stop()).code, 0);
    s.assertClean();
  });

test('rangeFormatting touches only the instructions in the range',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize();
    const u = uri();
    await s.open(u, MESSY);
    const edits = await s.request('textDocument/rangeFormatting', {
      textDocument: { uri: u }, options: { tabSize: 4, insertSpaces: true },
      range: { start: { line: 5, character: 0 },
               end: { line: 5, character: 2 } } });
    // Line 5 belongs to the COPY on lines 4-6: all of it, nothing else.
    assert.ok(edits.length > 0);
    for (const e of edits) {
      assert.ok(e.range.start.line >= 4 && e.range.end.line <= 6,
        JSON.stringify(e));
    }
    const out = applyEdits(MESSY, edits).split('\n');
    assert.deepEqual(out.slice(4, 7), FORMATTED.split('\n').slice(4, 7));
    assert.equal(out[0], MESSY.split('\n')[0]);
    assert.equal((await s.stop()).code, 0);
  });

test('onTypeFormatting indents the line after an escape', async (t) => {
  const s = start({ settings: undefined });
  t.after(() => s.kill());
  await s.initialize({ initializationOptions: { dockwright: {
    format: { indent: 2 } } } });
  const u = uri();
  const text = 'FROM a\nRUN apt-get update && \\\n\nRUN <<EOF\nx \\\n\nEOF\n';
  await s.open(u, text);
  const typed = (line) => s.request('textDocument/onTypeFormatting', {
    textDocument: { uri: u }, position: { line, character: 0 }, ch: '\n',
    options: { tabSize: 4, insertSpaces: true } });
  let e = await typed(2);
  assert.deepEqual(e, [{ range: { start: { line: 2, character: 0 },
    end: { line: 2, character: 0 } }, newText: '  ' }]);
  // In a heredoc body the backslash is the body's business.
  assert.deepEqual(await typed(5), []);
  assert.deepEqual(await typed(1), []);
  assert.equal((await s.stop()).code, 0);
});

test('settings: indent and operatorNewline', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize({ initializationOptions: { dockwright: {
    format: { indent: 2, operatorNewline: true } } } });
  const u = uri();
  const text = 'FROM a\nRUN apt-get update && \\\n    apt-get install -y x || \\\n true\n';
  await s.open(u, text);
  const edits = await s.request('textDocument/formatting',
    { textDocument: { uri: u }, options: { tabSize: 4, insertSpaces: true } });
  assert.equal(applyEdits(text, edits),
    'FROM a\nRUN apt-get update \\\n  && apt-get install -y x \\\n  || true\n');
  assert.equal((await s.stop()).code, 0);
});

test('dockwright fmt: --check, --diff, in place, stdin', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dw-fmt-'));
  const f = path.join(dir, 'Dockerfile');
  fs.writeFileSync(f, MESSY);
  let r = spawnSync(BIN, ['fmt', '--check', f]);
  assert.equal(r.status, 1);
  assert.match(r.stdout.toString(), /would be reformatted/);
  assert.equal(fs.readFileSync(f, 'utf8'), MESSY);
  r = spawnSync(BIN, ['fmt', '--diff', f]);
  assert.equal(r.status, 0);
  assert.match(r.stdout.toString(), /^-from alpine:3\.19 as bäse {3}$/m);
  assert.match(r.stdout.toString(), /^\+FROM alpine:3\.19 as bäse$/m);
  r = spawnSync(BIN, ['fmt', '-'], { input: MESSY });
  assert.equal(r.status, 0);
  assert.equal(r.stdout.toString(), FORMATTED);
  r = spawnSync(BIN, ['fmt', f]);
  assert.equal(r.status, 0);
  assert.equal(fs.readFileSync(f, 'utf8'), FORMATTED);
  r = spawnSync(BIN, ['fmt', '--check', f]);
  assert.equal(r.status, 0);
  r = spawnSync(BIN, ['fmt', '--indent', 'x', f]);
  assert.equal(r.status, 2);
  r = spawnSync(BIN, ['fmt', path.join(dir, 'missing')]);
  assert.equal(r.status, 2);
  fs.rmSync(dir, { recursive: true });
});
