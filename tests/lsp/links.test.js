'use strict';
// documentLink (images to registry pages, rule ids in # check= and
// # dockwright-ignore= comments to their docs) and inlayHint (values of
// variables in FROM lines and --from= values, each kind switchable).
const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/session');
const { slice } = require('./lib/text');

let seq = 0;
const uri = () => `file:///tmp/dockwright-links-${process.pid}/Dockerfile.${seq++}`;

const DOC = [
  '# check=skip=StageNameCasing,FromAsCasing;error=true',        // 0
  'ARG TAG=3.19',                                                // 1
  'ARG REG=ghcr.io',                                             // 2
  'FROM alpine:${TAG} AS base',                                  // 3
  'FROM docker.io/library/golang:1.22@sha256:abc AS go',         // 4
  'FROM bitnami/redis AS r',                                     // 5
  'FROM quay.io/prometheus/node-exporter:v1 AS q',               // 6
  'FROM mcr.microsoft.com/dotnet/sdk:8.0 AS m',                  // 7
  'FROM registry.example.com:5000/team/app AS x',                // 8
  'FROM ghcr.io/owner/tool AS g',                                // 9
  'FROM public.ecr.aws/docker/library/nginx AS e',               // 10
  'FROM scratch',                                                // 11
  'ARG SRC=base',                                                // 12
  '# dockwright-ignore=MaintainerDeprecated, NotARule',          // 13
  'LABEL é="ü"',                                                 // 14
  'COPY --from=$SRC /a /b',                                      // 15
  'COPY --from=base /a /b',                                      // 16
  'FROM --platform=$BUILDPLATFORM ${REG}/o/i:${TAG}',            // 17
  '',
].join('\n');

test('documentLink: registry pages and rule documentation', async (t) => {
  const s = start();
  t.after(() => s.kill());
  const init = await s.initialize();
  assert.deepEqual(init.capabilities.documentLinkProvider, { resolveProvider: false });
  const u = uri();
  await s.open(u, DOC);
  const links = await s.request('textDocument/documentLink',
    { textDocument: { uri: u } });
  const got = links.map((l) => [l.range.start.line, slice(DOC, l.range), l.target]);
  const docs = 'https://github.com/dockwright/dockwright/blob/main/docs/diagnostics.md#';
  assert.deepEqual(got, [
    [4, 'docker.io/library/golang:1.22@sha256:abc', 'https://hub.docker.com/_/golang'],
    [5, 'bitnami/redis', 'https://hub.docker.com/r/bitnami/redis'],
    [6, 'quay.io/prometheus/node-exporter:v1', 'https://quay.io/repository/prometheus/node-exporter'],
    [7, 'mcr.microsoft.com/dotnet/sdk:8.0', 'https://mcr.microsoft.com/en-us/artifact/mar/dotnet/sdk'],
    [8, 'registry.example.com:5000/team/app', 'https://registry.example.com:5000/team/app'],
    [9, 'ghcr.io/owner/tool', 'https://ghcr.io/owner/tool'],
    [10, 'public.ecr.aws/docker/library/nginx', 'https://gallery.ecr.aws/docker/library/nginx'],
    [0, 'StageNameCasing', docs + 'stagenamecasing'],
    [0, 'FromAsCasing', docs + 'fromascasing'],
    [13, 'MaintainerDeprecated', docs + 'maintainerdeprecated'],
  ]);
  assert.equal((await s.stop()).code, 0);
});

test('inlayHint: FROM and --from= variables, switchable', async (t) => {
  for (const [opts, want] of [
    [{}, [[3, 18, '= 3.19'], [15, 16, '= base'], [17, 30, '= linux/amd64'],
          [17, 37, '= ghcr.io'], [17, 48, '= 3.19']]],
    [{ fromVariables: false }, [[15, 16, '= base']]],
    [{ copyFrom: false }, [[3, 18, '= 3.19'], [17, 30, '= linux/amd64'],
          [17, 37, '= ghcr.io'], [17, 48, '= 3.19']]],
  ]) {
    const s = start();
    t.after(() => s.kill());
    const init = await s.initialize({ initializationOptions: { dockwright: {
      inlayHints: opts } } });
    assert.equal(init.capabilities.inlayHintProvider, true);
    const u = uri();
    await s.open(u, DOC);
    const hints = await s.request('textDocument/inlayHint', {
      textDocument: { uri: u },
      range: { start: { line: 0, character: 0 }, end: { line: 18, character: 0 } } });
    const got = hints.map((h) => [h.position.line, h.position.character, h.label]);
    // The automatic ARG's value is the server's platform: compare its shape.
    for (const g of got) if (/linux\//.test(g[2])) g[2] = '= linux/amd64';
    assert.deepEqual(got, want, JSON.stringify(opts));
    assert.equal((await s.stop()).code, 0);
  }
});

test('inlayHint: only the range asked for, UTF-16 columns', async (t) => {
  const s = start();
  t.after(() => s.kill());
  await s.initialize();
  const u = uri();
  const text = 'ARG V=1\nFROM a AS é\nFROM a AS b\nCOPY --from=${V:-x} /é /b\n';
  await s.open(u, text);
  const hints = await s.request('textDocument/inlayHint', {
    textDocument: { uri: u },
    range: { start: { line: 3, character: 0 }, end: { line: 4, character: 0 } } });
  assert.deepEqual(hints, []); // V is a global ARG: not in the stage's scope
  const u2 = uri();
  await s.open(u2, 'FROM a AS b\nARG ü=1 V=b\nCOPY --from=${V} /é /b\n');
  const h2 = await s.request('textDocument/inlayHint', {
    textDocument: { uri: u2 },
    range: { start: { line: 2, character: 0 }, end: { line: 3, character: 0 } } });
  assert.deepEqual(h2.map((h) => [h.position, h.label]),
    [[{ line: 2, character: 16 }, '= b']]);
  assert.equal((await s.stop()).code, 0);
});
