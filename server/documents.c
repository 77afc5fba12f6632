/*
 * documents.c - open documents and position encodings.  See documents.h.
 */
#include "documents.h"

#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/ceilings.h"
#include "../common/utf8.h"
#include "../common/log.h"

static const char *const doc__enc_names[] = {"utf-16", "utf-8", "utf-32"};

const char *doc_encoding_name(enum doc_encoding enc) {
  return doc__enc_names[enc];
}

int doc_encoding_from_name(const char *name) {
  for (int i = 0; i < 3; i++)
    if (strcmp(name, doc__enc_names[i]) == 0)
      return i;
  return -1;
}

/* ---- the store -------------------------------------------------------- */

void doc_store_init(struct doc_store *s) {
  memset(s, 0, sizeof(*s));
}

static void doc__closed_free(struct doc_store *s) {
  free(s->closed.uri);
  free(s->closed.text);
  if (s->closed.tree)
    ts_tree_delete(s->closed.tree);
  memset(&s->closed, 0, sizeof(s->closed));
}

void doc_store_cleanup(struct doc_store *s) {
  for (size_t i = 0; i < s->n; i++)
    doc_free(s->v[i]);
  doc__closed_free(s);
  free(s->v);
  memset(s, 0, sizeof(*s));
}

/* A linear scan: editors keep tens of documents open, and even the
 * ceiling (DW_MAX_LSP_DOCUMENTS) costs microseconds per message. */
static size_t doc__index(const struct doc_store *s, const char *uri) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->v[i]->uri, uri) == 0)
      return i;
  return SIZE_MAX;
}

struct doc *doc_find(const struct doc_store *s, const char *uri) {
  size_t i = doc__index(s, uri);
  return i == SIZE_MAX ? NULL : s->v[i];
}

void doc_lend_text(struct doc *d, char **slot) {
  d->text_lent_to = slot;
}

void doc_unlend_text(struct doc *d) {
  d->text_lent_to = NULL;
}

/* Gives a lent buffer to its borrower and keeps a copy of `keep` bytes of
 * it (the rest is about to be rewritten), with room for `cap` bytes. */
static void doc__unshare(struct doc *d, size_t keep, size_t cap) {
  if (d->text_lent_to == NULL)
    return;
  char *copy = xmalloc(cap);
  if (keep > 0)
    memcpy(copy, d->text, keep);
  *d->text_lent_to = d->text;
  d->text_lent_to = NULL;
  d->text = copy;
  d->cap = cap;
}

static void doc__set_text(struct doc *d, const char *text, size_t len) {
  doc__unshare(d, 0, len + 1);
  if (len + 1 > d->cap) {
    d->cap = len + 1;
    d->text = xrealloc(d->text, d->cap);
  }
  if (len > 0)
    memcpy(d->text, text, len);
  d->len = len;
  d->text[len] = '\0';
  d->lines_dirty = true;
}

void doc_touch(struct doc_store *s, struct doc *d) {
  d->used = ++s->clock;
}

struct doc *doc_use(struct doc_store *s, const char *uri,
                    const struct dockerfile **df) {
  struct doc *d = doc_find(s, uri);
  if (d)
    doc_touch(s, d);
  *df = d ? doc_model(d) : NULL;
  return d;
}

void doc_store_trim(struct doc_store *s) {
  if (s->n <= DOC_WARM_MAX)
    return;
  for (size_t i = 0; i < s->n; i++) {
    struct doc *d = s->v[i];
    if (d->cold || d->diag_job != NULL)
      continue;
    size_t newer = 0;
    for (size_t k = 0; k < s->n && newer < DOC_WARM_MAX; k++)
      if (s->v[k]->used > d->used)
        newer++;
    if (newer < DOC_WARM_MAX)
      continue;
    if (d->tree)
      ts_tree_delete(d->tree);
    d->tree = NULL;
    dockerfile_free(d->model);
    d->model = NULL;
    d->model_prefix = SIZE_MAX;
    d->model_suffix = SIZE_MAX;
    d->cold = true;
  }
}

void doc_warm(struct doc *d) {
  if (d->cold)
    doc_reparse(d, d->parser);
}

int doc_open(struct doc_store *s, TSParser *parser, const char *uri,
             int64_t version, const char *text, size_t len, struct doc **out,
             struct err *err) {
  *out = NULL;
  if (doc__index(s, uri) != SIZE_MAX)
    return err_set(err, ERR_EXISTS, "%s is already open", uri);
  if (s->n >= DW_MAX_LSP_DOCUMENTS)
    return err_set(err, ERR_TOOBIG, "more than %u open documents",
                   DW_MAX_LSP_DOCUMENTS);
  struct doc *d = xcalloc(1, sizeof(*d));
  d->uri = xstrdup(uri);
  d->path = doc_uri_to_path(uri);
  d->version = version;
  d->revision = 1;
  d->parser = parser;
  doc_touch(s, d);
  if (s->closed.uri && strcmp(s->closed.uri, uri) == 0) {
    /* Reopened: the tree of its close, edited to this text (the bytes
     * between the common prefix and suffix), is parsed incrementally. */
    d->text = s->closed.text;
    d->len = s->closed.len;
    d->cap = s->closed.len + 1;
    d->tree = s->closed.tree;
    d->lines_dirty = true;
    s->closed.text = NULL;
    s->closed.tree = NULL;
    doc__closed_free(s);
    doc_apply_change(d, NULL, DOC_UTF8, text, len);
    d->revision = 1;
  } else {
    doc__set_text(d, text, len);
  }
  doc_reparse(d, parser);
  d->model_prefix = SIZE_MAX;
  d->model_suffix = SIZE_MAX;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 16;
    s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
  }
  s->v[s->n++] = d;
  *out = d;
  return 0;
}

void doc_store_closing(struct doc_store *s, struct doc *d) {
  if (d->tree == NULL || d->too_big)
    return;
  doc__closed_free(s);
  s->closed.uri = xstrdup(d->uri);
  /* A copy: the text may be lent to an analysis still running. */
  s->closed.text = xmalloc(d->len + 1);
  memcpy(s->closed.text, d->text, d->len + 1);
  s->closed.len = d->len;
  s->closed.tree = d->tree;
  d->tree = NULL;
}

struct doc *doc_remove(struct doc_store *s, const char *uri) {
  size_t i = doc__index(s, uri);
  if (i == SIZE_MAX)
    return NULL;
  struct doc *d = s->v[i];
  memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
  s->n--;
  return d;
}

void doc_free(struct doc *d) {
  if (d == NULL)
    return;
  free(d->uri);
  free(d->path);
  if (d->text_lent_to)
    *d->text_lent_to = d->text; /* the borrower frees it */
  else
    free(d->text);
  free(d->lines);
  free(d->ignore);
  if (d->tree)
    ts_tree_delete(d->tree);
  dockerfile_free(d->model);
  free(d);
}

const struct dockerfile *doc_model(struct doc *d) {
  if (d->too_big)
    return NULL;
  doc_warm(d);
  if (d->model == NULL) {
    d->model = dockerfile_parse(d->text, d->len, d->tree);
  } else if (d->model_prefix != SIZE_MAX || d->model_suffix != SIZE_MAX) {
    dockerfile_update(d->model, d->text, d->len, d->tree, d->model_prefix,
                      d->model_suffix);
  }
  d->model_prefix = SIZE_MAX; /* the model is of this text now */
  d->model_suffix = SIZE_MAX;
  return d->model;
}

/* ---- lines and characters --------------------------------------------- */

static void doc__lines(struct doc *d) {
  if (!d->lines_dirty && d->lines)
    return;
  size_t n = 1;
  for (const char *p = d->text, *e = d->text + d->len;
       (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    n++;
  d->lines = xrealloc(d->lines, n * sizeof(*d->lines));
  d->nlines = 0;
  d->lines[d->nlines++] = 0;
  for (const char *p = d->text, *e = d->text + d->len;
       (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
    d->lines[d->nlines++] = (uint32_t)(p - d->text + 1);
  d->lines_dirty = false;
}

/* End of line `line`, before its "\n" or "\r\n". */
static size_t doc__line_end(const struct doc *d, size_t line) {
  size_t e = line + 1 < d->nlines ? d->lines[line + 1] - 1 : d->len;
  if (e > d->lines[line] && line + 1 < d->nlines && d->text[e - 1] == '\r')
    e--;
  return e;
}

/*
 * Length in bytes of the character at s (at most n bytes available) and
 * its size in `enc` units.  A byte that does not start a valid UTF-8
 * sequence is one character of one unit.
 */
static size_t doc__char(const unsigned char *s, size_t n,
                        enum doc_encoding enc, uint32_t *units) {
  size_t len;
  utf8_decode((const char *)s, n, &len);
  if (enc == DOC_UTF8)
    *units = (uint32_t)len;
  else if (enc == DOC_UTF16)
    *units = len == 4 ? 2 : 1;
  else
    *units = 1;
  return len;
}

size_t doc_offset(struct doc *d, struct lsp_pos pos, enum doc_encoding enc) {
  doc__lines(d);
  if (pos.line >= d->nlines)
    return d->len;
  size_t p = d->lines[pos.line];
  size_t e = doc__line_end(d, pos.line);
  uint32_t units = 0;
  while (p < e) {
    uint32_t u;
    size_t n = doc__char((const unsigned char *)d->text + p, e - p, enc, &u);
    if (units + u > pos.character)
      break; /* the target is inside this character: its start */
    units += u;
    p += n;
  }
  return p;
}

static size_t doc__line_of(const struct doc *d, size_t offset) {
  size_t lo = 0, hi = d->nlines; /* lines[lo] <= offset < lines[hi] */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (d->lines[mid] <= offset)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

/* The units from byte p (a character start on the line) to `offset` on
 * the same line, added to *units; returns where it stopped (offset, or the
 * start of the character offset is inside).  ASCII, nearly every byte of
 * a Dockerfile, is one unit in every encoding and needs no decoding. */
static size_t doc__advance(const struct doc *d, size_t p, size_t offset,
                           enum doc_encoding enc, uint32_t *units) {
  const unsigned char *t = (const unsigned char *)d->text;
  uint32_t n = *units;
  while (p < offset) {
    if (t[p] < 0x80) {
      n++;
      p++;
      continue;
    }
    uint32_t u;
    size_t w = doc__char(t + p, d->len - p, enc, &u);
    if (p + w > offset)
      break;
    n += u;
    p += w;
  }
  *units = n;
  return p;
}

struct lsp_pos doc_position(struct doc *d, size_t offset,
                            enum doc_encoding enc) {
  doc__lines(d);
  if (offset > d->len)
    offset = d->len;
  size_t line = doc__line_of(d, offset);
  uint32_t units = 0;
  doc__advance(d, d->lines[line], offset, enc, &units);
  struct lsp_pos r = {(uint32_t)line, units};
  return r;
}

struct lsp_range doc_range(struct doc *d, const struct df_range *r,
                           enum doc_encoding enc) {
  struct lsp_range out;
  size_t a = r->start.byte, b = r->end.byte;
  if (b < a)
    b = a;
  doc__lines(d);
  if (a > d->len)
    a = d->len;
  if (b > d->len)
    b = d->len;
  size_t line = doc__line_of(d, a);
  uint32_t units = 0;
  size_t at = doc__advance(d, d->lines[line], a, enc, &units);
  out.start.line = (uint32_t)line;
  out.start.character = units;
  if (line + 1 < d->nlines && b >= d->lines[line + 1]) {
    out.end = doc_position(d, b, enc);
  } else {
    /* Most ranges end on the line they start on: go on from the start. */
    doc__advance(d, at, b, enc, &units);
    out.end.line = (uint32_t)line;
    out.end.character = units;
  }
  return out;
}

/* ---- edits ------------------------------------------------------------ */

static TSPoint doc__point(struct doc *d, size_t offset) {
  doc__lines(d);
  size_t line = doc__line_of(d, offset);
  TSPoint p = {(uint32_t)line, (uint32_t)(offset - d->lines[line])};
  return p;
}

/* Replaces bytes [start, end) with text and tells the tree. */
static void doc__edit(struct doc *d, size_t start, size_t end,
                      const char *text, size_t len);

/* Bytes compared at a time when a full-text change is diffed. */
#define DOC_CMP_BLOCK 256

void doc_apply_change(struct doc *d, const struct lsp_range *range,
                      enum doc_encoding enc, const char *text, size_t len) {
  d->revision++;
  if (range == NULL) {
    /*
     * A full replacement (TextDocumentSyncKind.Full clients send the whole
     * text on every keystroke): find the bytes that differ, between the
     * common prefix and the common suffix, and edit only those, so the
     * tree is reparsed incrementally and the model re-reads one run of
     * lines, as for an incremental change.
     */
    size_t max = len < d->len ? len : d->len;
    /* Whole blocks with memcmp first (a byte loop is a millisecond on a
     * large file), then the bytes of the block that differs. */
    size_t pre = 0;
    while (max - pre >= DOC_CMP_BLOCK &&
           memcmp(d->text + pre, text + pre, DOC_CMP_BLOCK) == 0)
      pre += DOC_CMP_BLOCK;
    while (pre < max && d->text[pre] == text[pre])
      pre++;
    size_t suf = 0;
    while (max - pre - suf >= DOC_CMP_BLOCK &&
           memcmp(d->text + d->len - suf - DOC_CMP_BLOCK,
                  text + len - suf - DOC_CMP_BLOCK, DOC_CMP_BLOCK) == 0)
      suf += DOC_CMP_BLOCK;
    while (suf < max - pre && d->text[d->len - 1 - suf] == text[len - 1 - suf])
      suf++;
    doc__edit(d, pre, d->len - suf, text + pre, len - suf - pre);
    return;
  }
  size_t start = doc_offset(d, range->start, enc);
  size_t end = doc_offset(d, range->end, enc);
  if (end < start) { /* a reversed range: be lenient */
    size_t t = start;
    start = end;
    end = t;
  }
  doc__edit(d, start, end, text, len);
}

static void doc__edit(struct doc *d, size_t start, size_t end,
                      const char *text, size_t len) {
  TSPoint start_pt = doc__point(d, start);
  TSPoint old_end_pt = doc__point(d, end);
  if (d->model_prefix > start)
    d->model_prefix = start;
  if (d->model_suffix > d->len - end)
    d->model_suffix = d->len - end;

  size_t newlen = d->len - (end - start) + len;
  if (d->text_lent_to) {
    size_t cap = newlen + 1 > d->cap ? newlen + 1 + newlen / 4 : d->cap;
    doc__unshare(d, d->len + 1, cap);
  }
  if (newlen + 1 > d->cap) {
    d->cap = newlen + 1 + newlen / 4; /* typing grows a bit at a time */
    d->text = xrealloc(d->text, d->cap);
  }
  memmove(d->text + start + len, d->text + end, d->len - end);
  if (len > 0)
    memcpy(d->text + start, text, len);
  d->len = newlen;
  d->text[newlen] = '\0';
  d->lines_dirty = true;

  TSPoint new_end_pt = start_pt;
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '\n') {
      new_end_pt.row++;
      new_end_pt.column = 0;
    } else {
      new_end_pt.column++;
    }
  }
  if (d->tree) {
    TSInputEdit edit = {
        .start_byte = (uint32_t)start,
        .old_end_byte = (uint32_t)end,
        .new_end_byte = (uint32_t)(start + len),
        .start_point = start_pt,
        .old_end_point = old_end_pt,
        .new_end_point = new_end_pt,
    };
    ts_tree_edit(d->tree, &edit);
  }
}

void doc_reparse(struct doc *d, TSParser *parser) {
  d->cold = false; /* a cold document has no tree: this is a full parse */
  bool too_big = d->len > DW_MAX_DOCKERFILE_BYTES;
  if (too_big && !d->too_big)
    log_warn("%s: %zu bytes, over the %u-byte limit; not analysed", d->uri,
             d->len, (unsigned)DW_MAX_DOCKERFILE_BYTES);
  d->too_big = too_big;
  if (too_big) {
    if (d->tree)
      ts_tree_delete(d->tree);
    d->tree = NULL;
    return;
  }
  /* With the edited old tree, tree-sitter reuses every unchanged subtree.
   * NULL (no language, or a failed parse) leaves the model to read the
   * whole text BuildKit's way. */
  TSTree *tree =
      ts_parser_parse_string(parser, d->tree, d->text, (uint32_t)d->len);
  if (d->tree)
    ts_tree_delete(d->tree);
  d->tree = tree;
  /* The model is brought up to date by the next analysis, on the thread
   * pool (features/diagnostics.c): doing it here on every keystroke would
   * only slow typing down. */
}

/* ---- URIs ------------------------------------------------------------- */

static int doc__hex(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

char *doc_uri_to_path(const char *uri) {
  if (strncasecmp(uri, "file://", 7) != 0)
    return NULL;
  const char *p = uri + 7;
  if (strncasecmp(p, "localhost/", 10) == 0)
    p += 9;
  if (*p != '/')
    return NULL; /* another host: not a local file */
  struct buf b = BUF_INIT;
  for (; *p && *p != '?' && *p != '#'; p++) {
    if (*p != '%') {
      buf_putc(&b, *p);
      continue;
    }
    int hi = doc__hex(p[1]), lo = hi < 0 ? -1 : doc__hex(p[2]);
    if (lo < 0 || (hi == 0 && lo == 0)) {
      buf_cleanup(&b);
      return NULL;
    }
    buf_putc(&b, (char)(hi * 16 + lo));
    p += 2;
  }
  return buf_take(&b);
}
