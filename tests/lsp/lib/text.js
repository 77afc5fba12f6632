'use strict';
// Text helpers for the tests: LSP positions (UTF-16 code units, which is
// what JavaScript strings index) to offsets, and TextEdit[] applied the way
// a client applies them.

function offsetAt(text, pos) {
  let off = 0;
  for (let line = 0; line < pos.line; line++) {
    const nl = text.indexOf('\n', off);
    if (nl < 0) return text.length;
    off = nl + 1;
  }
  const end = text.indexOf('\n', off);
  const lineEnd = end < 0 ? text.length : end;
  return Math.min(off + pos.character, lineEnd);
}

function positionAt(text, off) {
  const before = text.slice(0, off).split('\n');
  return { line: before.length - 1,
           character: before[before.length - 1].length };
}

// The text a range covers.
function slice(text, range) {
  return text.slice(offsetAt(text, range.start), offsetAt(text, range.end));
}

// TextEdit[] on text: edits must not overlap; applied from the last.
function applyEdits(text, edits) {
  const sorted = edits.map((e) => ({
    s: offsetAt(text, e.range.start), e: offsetAt(text, e.range.end),
    t: e.newText })).sort((a, b) => b.s - a.s);
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i].e > sorted[i - 1].s) throw new Error('overlapping edits');
  for (const e of sorted) text = text.slice(0, e.s) + e.t + text.slice(e.e);
  return text;
}

// The position of the '|' in a marked text, and the text without it.
function marked(m) {
  const i = m.indexOf('|');
  const text = m.slice(0, i) + m.slice(i + 1);
  return { text, pos: positionAt(text, i) };
}

module.exports = { offsetAt, positionAt, slice, applyEdits, marked };
