'use strict';
// textDocument/codeAction and codeAction/resolve: every quick fix is applied
// to the text (as the client would apply the WorkspaceEdit) and the result
// analysed again: the diagnostic it fixes must be gone and every other
// diagnostic must stay as it was (by rule and message).
const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/session');

// Pull diagnostics: the answer is the analysis of exactly this text.
const CAPS = {
  textDocument: {
    diagnostic: {},
    codeAction: {
      codeActionLiteralSupport: {
        codeActionKind: { valueSet: ['quickfix', 'source.fixAll'] } },
      dataSupport: true,
    },
  },
  workspace: { workspaceEdit: { documentChanges: true } },
};

// Applies LSP TextEdits (UTF-16 positions) to text.
function applyEdits(text, edits) {
  const lines = text.split('\n');
  const offset = (p) => {
    let o = 0;
    for (let i = 0; i < p.line; i++) o += lines[i].length + 1;
    return o + p.character; // UTF-16 units = JS string indices
  };
  // From the end; inserts at one position appear in array order (LSP), so
  // the later of two is applied first.
  const sorted = edits.map((e, i) => ({ s: offset(e.range.start),
    e: offset(e.range.end), t: e.newText, i }))
    .sort((a, b) => b.s - a.s || b.i - a.i);
  for (const x of sorted) text = text.slice(0, x.s) + x.t + text.slice(x.e);
  return text;
}

function editsOf(action, uri, version) {
  const dc = action.edit.documentChanges;
  assert.equal(dc.length, 1);
  assert.equal(dc[0].textDocument.uri, uri);
  assert.equal(dc[0].textDocument.version, version);
  return dc[0].edits;
}

let n = 0;
async function analyse(s, text) {
  const uri = `file:///tmp/dockwright-ca-${process.pid}-${n++}/Dockerfile`;
  await s.open(uri, text, 7);
  const r = await s.request('textDocument/diagnostic',
    { textDocument: { uri } });
  return { uri, items: r.items };
}

const key = (d) => `${d.code}: ${d.message}`;
function without(list, one) {
  const out = list.map(key);
  out.splice(out.indexOf(key(one)), 1);
  return out.sort();
}

// One text per rule that has a fix; the fix's diagnostic is the first of
// that rule.
const CASES = [
  ['MaintainerDeprecated', 'FROM alpine:3.19\nMAINTAINER Jane <j@x.org>\n'],
  ['StageNameCasing', 'FROM alpine:3.19 AS Build\n'],
  ['FromAsCasing', 'FROM alpine:3.19 as build\n'],
  ['ConsistentInstructionCasing', 'FROM alpine:3.19\nRUN true\nrun true\nRUN true\n'],
  ['LegacyKeyValueFormat', 'FROM alpine:3.19\nENV A b\n'],
  ['JSONArgsRecommended', 'FROM alpine:3.19\nCMD echo hi\n'],
  ['WorkdirRelativePath', 'FROM alpine:3.19\nWORKDIR app\n'],
  ['ExposeProtoCasing', 'FROM alpine:3.19\nEXPOSE 80/TCP\n'],
  ['ExposeInvalidFormat', 'FROM alpine:3.19\nEXPOSE 8080:80\n'],
  ['RedundantTargetPlatform', 'FROM --platform=$TARGETPLATFORM alpine:3.19\n'],
  ['UnknownFlag', 'FROM alpine:3.19\nCOPY --chmodd=644 a /b\n'],
  ['UnknownInstruction', 'FROM alpine:3.19\nCOPPY a /b\n'],
  ['FlagMissingValue', 'FROM alpine:3.19 AS b\nFROM alpine:3.19\nCOPY --from b /x /y\n'],
  ['ShellNotJson', 'FROM alpine:3.19\nSHELL /bin/sh -c\n'],
  ['AddInsteadOfCopy', 'FROM alpine:3.19\nADD a.txt /b\n'],
  ['AptGetMissingYes', 'FROM debian:12\nRUN apt-get update && apt-get install --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n'],
  ['AptGetNoInstallRecommends', 'FROM debian:12\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n'],
  ['MultipleInstructionsDisallowed', 'FROM alpine:3.19\nCMD ["a"]\nCMD ["b"]\n'],
  ['ApkAddNoCache', 'FROM alpine:3.19\nRUN apk add curl\n'],
  ['PipNoCacheDir', 'FROM python:3.12\nRUN pip install flask\n'],
  ['NoEmptyContinuation', 'FROM alpine:3.19\nRUN echo a \\\n\n  b\n'],
  ['MistypedPath', 'FROM python:3.12\nCOPY . /opt/sour_code\n' +
    'CMD ["python", "/opt/source_code/app.py"]\n'],
];

test('every quick fix removes its diagnostic and changes nothing else',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: CAPS });
    for (const [rule, text] of CASES) {
      const { uri, items } = await analyse(s, text);
      const diag = items.find((d) => d.code === rule);
      assert.ok(diag, `${rule}: no diagnostic in ${JSON.stringify(text)}: ` +
        JSON.stringify(items.map(key)));
      const actions = await s.request('textDocument/codeAction', {
        textDocument: { uri }, range: diag.range,
        context: { diagnostics: [diag] } });
      const fixes = actions.filter((a) => a.kind === 'quickfix' &&
        a.diagnostics && a.diagnostics[0].code === rule &&
        !a.title.startsWith('Ignore') && !a.title.startsWith('Skip'));
      assert.ok(fixes.length > 0, `${rule}: no quick fix`);
      if (fixes.length === 1) assert.equal(fixes[0].isPreferred, true, rule);
      for (const fix of fixes) {
        const fixed = applyEdits(text, editsOf(fix, uri, 7));
        const after = await analyse(s, fixed);
        assert.deepEqual(after.items.map(key).sort(), without(items, diag),
          `${rule}: "${fix.title}" turned ${JSON.stringify(text)} into ` +
          JSON.stringify(fixed));
      }
    }
    assert.equal((await s.stop()).code, 0);
  });

test('ignore and skip actions silence the rule there, and only it',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: CAPS });
    const text = '# syntax=docker/dockerfile:1\nFROM alpine:3.19 as build\n' +
      '  MAINTAINER x\nWORKDIR app\n';
    const { uri, items } = await analyse(s, text);
    for (const rule of ['FromAsCasing', 'MaintainerDeprecated']) {
      const diag = items.find((d) => d.code === rule);
      const actions = await s.request('textDocument/codeAction', {
        textDocument: { uri }, range: diag.range,
        context: { diagnostics: [diag] } });
      for (const prefix of ['Ignore', 'Skip']) {
        const a = actions.find((x) => x.title.startsWith(prefix));
        assert.ok(a, `${rule}: no ${prefix} action`);
        const fixed = applyEdits(text, editsOf(a, uri, 7));
        const after = await analyse(s, fixed);
        assert.deepEqual(after.items.map(key).sort(), without(items, diag),
          `${prefix} ${rule}: ${JSON.stringify(fixed)}`);
      }
    }
    // A second rule joins the ignore comment already there.
    const twice = '# syntax=docker/dockerfile:1\nFROM alpine:3.19\n' +
      '# dockwright-ignore=MaintainerDeprecated\nmaintainer x\n';
    const r = await analyse(s, twice);
    const casing = r.items.find((d) => d.code === 'InstructionCasing' ||
      d.code === 'ConsistentInstructionCasing');
    assert.ok(casing, JSON.stringify(r.items));
    const actions = await s.request('textDocument/codeAction', {
      textDocument: { uri: r.uri }, range: casing.range,
      context: { diagnostics: [casing] } });
    const ign = actions.find((x) => x.title.startsWith('Ignore'));
    const edits = editsOf(ign, r.uri, 7);
    assert.equal(edits[0].newText, ',' + casing.code);
    const after = await analyse(s, applyEdits(twice, edits));
    assert.deepEqual(after.items.map(key).sort(), without(r.items, casing));
    assert.equal((await s.stop()).code, 0);
  });

// InstructionCasing speaks only in a file written mostly in lower case:
// upper-casing one keyword makes it the odd one out for
// ConsistentInstructionCasing, so its fix is applied to the whole file.
test('InstructionCasing is fixed for the whole file by its fix-all action',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    await s.initialize({ capabilities: CAPS });
    const text = 'from alpine:3.19\nrun true\nworkdir /app\n';
    const { uri, items } = await analyse(s, text);
    assert.equal(items.filter((d) => d.code === 'InstructionCasing').length, 3);
    const actions = await s.request('textDocument/codeAction', {
      textDocument: { uri }, range: items[1].range,
      context: { diagnostics: [items[1]] } });
    const all = actions.find((a) => a.kind === 'source.fixAll.dockwright');
    const fixed = applyEdits(text, editsOf(all, uri, 7));
    assert.equal(fixed, 'FROM alpine:3.19\nRUN true\nWORKDIR /app\n');
    assert.deepEqual((await analyse(s, fixed)).items, []);
    assert.equal((await s.stop()).code, 0);
  });

test('fix all of one kind, and lazy edits through codeAction/resolve',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    const caps = JSON.parse(JSON.stringify(CAPS));
    caps.textDocument.codeAction.resolveSupport = { properties: ['edit'] };
    const init = await s.initialize({ capabilities: caps });
    assert.equal(init.capabilities.codeActionProvider.resolveProvider, true);
    const text = 'FROM alpine:3.19\nENV A b\nENV C d\nRUN true\nENV E f\n';
    const { uri, items } = await analyse(s, text);
    const legacy = items.filter((d) => d.code === 'LegacyKeyValueFormat');
    assert.equal(legacy.length, 3);
    const actions = await s.request('textDocument/codeAction', {
      textDocument: { uri }, range: legacy[0].range,
      context: { diagnostics: [legacy[0]] } });
    for (const a of actions) assert.equal(a.edit, undefined, a.title);
    const all = actions.find((a) => a.kind === 'source.fixAll.dockwright');
    assert.ok(all, JSON.stringify(actions.map((a) => a.title)));
    const resolved = await s.request('codeAction/resolve', all);
    const fixed = applyEdits(text, editsOf(resolved, uri, 7));
    assert.equal(fixed, 'FROM alpine:3.19\nENV A=b\nENV C=d\nRUN true\nENV E=f\n');
    const after = await analyse(s, fixed);
    assert.equal(after.items.filter((d) => d.code === 'LegacyKeyValueFormat')
      .length, 0);
    // After an edit the old action resolves without an edit.
    await s.change(uri, 8, [{ text: text + '\n' }]);
    const stale = await s.request('codeAction/resolve', all);
    assert.equal(stale.edit, undefined);
    assert.equal((await s.stop()).code, 0);
  });

test('a client without documentChanges gets changes; no diagnostics, no actions',
  async (t) => {
    const s = start();
    t.after(() => s.kill());
    const caps = JSON.parse(JSON.stringify(CAPS));
    caps.workspace.workspaceEdit.documentChanges = false;
    await s.initialize({ capabilities: caps });
    const text = 'FROM alpine:3.19 as x\n';
    const { uri, items } = await analyse(s, text);
    const actions = await s.request('textDocument/codeAction', {
      textDocument: { uri }, range: items[0].range,
      context: { diagnostics: [items[0]] } });
    const fix = actions.find((a) => a.isPreferred);
    assert.deepEqual(Object.keys(fix.edit), ['changes']);
    assert.equal(applyEdits(text, fix.edit.changes[uri]),
      'FROM alpine:3.19 AS x\n');
    const clean = await analyse(s, 'FROM alpine:3.19\n');
    assert.deepEqual(await s.request('textDocument/codeAction', {
      textDocument: { uri: clean.uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 4 } },
      context: { diagnostics: [] } }), []);
    assert.deepEqual(await s.request('textDocument/codeAction', {
      textDocument: { uri: 'file:///not/open' },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [] } }), []);
    assert.equal((await s.stop()).code, 0);
  });

test('source.fixAll alone: one action fixing every rule, also lazily',
  async (t) => {
    for (const lazy of [false, true]) {
      const s = start();
      t.after(() => s.kill());
      const caps = JSON.parse(JSON.stringify(CAPS));
      if (lazy)
        caps.textDocument.codeAction.resolveSupport = { properties: ['edit'] };
      await s.initialize({ capabilities: caps });
      const text = 'FROM debian:12 as build\nENV A b\n' +
        'RUN apt-get update && apt-get install curl && ' +
        'rm -rf /var/lib/apt/lists/*\nMAINTAINER me\nWORKDIR app\n';
      const { uri, items } = await analyse(s, text);
      const actions = await s.request('textDocument/codeAction', {
        textDocument: { uri }, range: { start: { line: 0, character: 0 },
          end: { line: 5, character: 0 } },
        context: { diagnostics: [], only: ['source.fixAll'] } });
      assert.equal(actions.length, 1);
      assert.equal(actions[0].kind, 'source.fixAll.dockwright');
      const a = lazy ? await s.request('codeAction/resolve', actions[0])
        : actions[0];
      const fixed = applyEdits(text, editsOf(a, uri, 7));
      assert.equal(fixed, 'FROM debian:12 AS build\nENV A=b\n' +
        'RUN apt-get update && apt-get install -y --no-install-recommends ' +
        'curl && rm -rf /var/lib/apt/lists/*\n' +
        'LABEL org.opencontainers.image.authors="me"\nWORKDIR /app\n');
      const after = await analyse(s, fixed);
      const left = after.items.map((d) => d.code);
      for (const d of items)
        if (['FromAsCasing', 'LegacyKeyValueFormat', 'AptGetMissingYes',
             'AptGetNoInstallRecommends', 'MaintainerDeprecated',
             'WorkdirRelativePath'].includes(d.code))
          assert.ok(!left.includes(d.code), `${d.code} left: ${left}`);
      assert.equal((await s.stop()).code, 0);
    }
  });
