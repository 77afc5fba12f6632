/*
 * format.c - the formatter's core.  See format.h.
 *
 * DESIGN
 * Formatting works on physical lines and never adds or removes one, so an
 * edit is always inside a line (cursor positions in the editor survive).
 * Each line is one of: a heredoc body line (never touched), a line of an
 * instruction (its keyword line or a continuation line, comments and
 * blank lines inside a continuation included), or a free line (comment,
 * blank, directive) where only trailing blanks go.
 *
 * An instruction is rewritten at the most ambitious level whose result
 * BuildKit reads the same: its lines are read again alone (with the
 * file's escape directive) before and after, and the dumps compared.  So
 * no rule here needs to know which blanks BuildKit keeps (a shell-form
 * command keeps a continuation line's indentation in its string, a COPY
 * does not; a quoted ENV value spanning lines keeps it too): the reading
 * decides.  For a file with problems the whole result is read once more
 * at the end as a safety net; if it differs, nothing is changed.
 */
#include "format.h"

#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../model/dump.h"

void format_opts_init(struct format_opts *o) {
  o->indent = FORMAT_INDENT_DEFAULT;
  o->operator_newline = false;
}

void format_edits_cleanup(struct format_edits *e) {
  for (size_t i = 0; i < e->n; i++)
    free(e->v[i].text);
  free(e->v);
  memset(e, 0, sizeof(*e));
}

static void format__push(struct format_edits *e, size_t start, size_t end,
                         const char *text, size_t len) {
  if (e->n == e->cap) {
    e->cap = e->cap ? e->cap * 2 : 16;
    e->v = xrealloc(e->v, e->cap * sizeof(*e->v));
  }
  e->v[e->n].start = start;
  e->v[e->n].end = end;
  e->v[e->n].text = xstrndup(text, len);
  e->n++;
}

char *format_apply(const char *text, size_t len, const struct format_edits *e,
                   size_t *out_len) {
  struct buf b = BUF_INIT;
  size_t at = 0;
  for (size_t i = 0; i < e->n; i++) {
    buf_append(&b, text + at, e->v[i].start - at);
    buf_puts(&b, e->v[i].text);
    at = e->v[i].end;
  }
  buf_append(&b, text + at, len - at);
  *out_len = b.len;
  buf_putc(&b, '\0');
  char *r = buf_take(&b);
  return r;
}

/* ---- lines -------------------------------------------------------------- */

enum format_line_kind { LINE_FREE, LINE_INSTR, LINE_BODY };

struct format_line {
  size_t start; /* first byte */
  size_t end;   /* end of the content: before "\r\n" or "\n" */
  size_t next;  /* start of the next line (len for the last) */
  enum format_line_kind kind;
};

struct format_ctx {
  const char *text;
  size_t len;
  char escape;
  const struct format_opts *o;
  struct format_line *lines;
  size_t nlines;
};

static bool format__blank(char c) {
  return c == ' ' || c == '\t';
}

static void format__lines(struct format_ctx *c) {
  size_t cap = 64;
  c->lines = xmalloc(cap * sizeof(*c->lines));
  c->nlines = 0;
  size_t p = 0;
  for (;;) {
    const char *nl = memchr(c->text + p, '\n', c->len - p);
    size_t e = nl ? (size_t)(nl - c->text) : c->len;
    if (c->nlines == cap) {
      cap *= 2;
      c->lines = xrealloc(c->lines, cap * sizeof(*c->lines));
    }
    struct format_line *l = &c->lines[c->nlines++];
    l->start = p;
    l->end = e > p && c->text[e - 1] == '\r' ? e - 1 : e;
    l->next = nl ? e + 1 : c->len;
    l->kind = LINE_FREE;
    if (!nl)
      break;
    p = e + 1;
  }
}

/* The last row a range covers (an end at column 0 ends the row before). */
static uint32_t format__last_row(const struct df_range *r) {
  if (r->end.col == 0 && r->end.row > r->start.row)
    return r->end.row - 1;
  return r->end.row;
}

static void format__mark_bodies(struct format_ctx *c,
                                const struct df_instr *in) {
  for (size_t h = 0; h < in->nheredocs; h++) {
    const struct df_range *b = &in->heredocs[h].body;
    if (b->end.byte <= b->start.byte)
      continue;
    for (uint32_t r = b->start.row; r <= format__last_row(b) && r < c->nlines;
         r++)
      c->lines[r].kind = LINE_BODY;
  }
  if (in->sub)
    format__mark_bodies(c, in->sub);
}

/* ---- rewriting one instruction ------------------------------------------ */

enum format_level {
  LEVEL_NONE,     /* as written */
  LEVEL_LINE,     /* keyword case and spacing, trailing blanks */
  LEVEL_INDENT,   /* + continuation lines indented */
  LEVEL_OPERATOR, /* + `&&`/`||` moved to the next line, shell lines too */
};

/* New content of rows [r0, r1], one string per row (owned). */
struct format_rows {
  char **v;
  uint32_t r0, r1;
};

static void format__rows_free(struct format_rows *rs) {
  if (!rs->v)
    return;
  for (uint32_t r = rs->r0; r <= rs->r1; r++)
    free(rs->v[r - rs->r0]);
  free(rs->v);
  rs->v = NULL;
}

static bool format__upper_kw(const struct df_instr *in) {
  return in->kind != DF_UNKNOWN;
}

/* Keyword line: no blanks before the keyword, upper case, one blank after
 * it when something follows. */
static char *format__keyword_line(const struct format_ctx *c,
                                  const struct format_line *l,
                                  const struct df_instr *in) {
  const char *t = c->text;
  size_t p = l->start;
  size_t e = l->end;
  while (e > p && format__blank(t[e - 1]))
    e--;
  struct buf b = BUF_INIT;
  size_t kw = in->keyword_range.start.byte;
  size_t kwe = in->keyword_range.end.byte;
  if (kw < p || kwe > e || kwe <= kw) {
    buf_append(&b, t + p, e - p);
    buf_putc(&b, '\0');
    return buf_take(&b);
  }
  for (size_t i = p; i < kw; i++)
    if (!format__blank(t[i])) { /* not just blanks before: leave it */
      buf_append(&b, t + p, e - p);
      buf_putc(&b, '\0');
      return buf_take(&b);
    }
  const struct df_instr *sub = in->sub;
  size_t i = kw;
  for (; i < kwe; i++) {
    char ch = t[i];
    if (format__upper_kw(in) && ch >= 'a' && ch <= 'z')
      ch = (char)(ch - 'a' + 'A');
    buf_putc(&b, ch);
  }
  size_t q = i;
  while (q < e && format__blank(t[q]))
    q++;
  if (q < e) {
    buf_putc(&b, ' ');
    for (; q < e; q++) {
      char ch = t[q];
      if (sub && q >= sub->keyword_range.start.byte &&
          q < sub->keyword_range.end.byte && format__upper_kw(sub) &&
          ch >= 'a' && ch <= 'z')
        ch = (char)(ch - 'a' + 'A');
      buf_putc(&b, ch);
    }
  }
  buf_putc(&b, '\0');
  return buf_take(&b);
}

static bool format__comment_line_n(const char *s, size_t n) {
  size_t i = 0;
  while (i < n && format__blank(s[i]))
    i++;
  return i < n && s[i] == '#';
}

static bool format__comment_line(const char *s) {
  while (format__blank(*s))
    s++;
  return *s == '#';
}

/* Does the (trailing-blank-free) line end with `&& <esc>` or `|| <esc>`?
 * *op is where the operator starts. */
static bool format__ends_operator(const char *s, char esc, size_t *op) {
  size_t n = strlen(s);
  if (n < 3 || s[n - 1] != esc)
    return false;
  size_t k = n - 1;
  while (k > 0 && format__blank(s[k - 1]))
    k--;
  if (k < 2)
    return false;
  if (!((s[k - 1] == '&' && s[k - 2] == '&') ||
        (s[k - 1] == '|' && s[k - 2] == '|')))
    return false;
  if (k >= 3 && (s[k - 3] == '&' || s[k - 3] == '|' || s[k - 3] == esc))
    return false;
  *op = k - 2;
  return true;
}

static void format__rewrite(const struct format_ctx *c,
                            const struct df_instr *in, uint32_t r0,
                            uint32_t r1, enum format_level level,
                            struct format_rows *out) {
  out->r0 = r0;
  out->r1 = r1;
  out->v = xcalloc(r1 - r0 + 1, sizeof(char *));
  const char *t = c->text;
  /* A shell-form command keeps a continuation line's blanks in its
   * string: reindenting one can only fail the check (comments inside the
   * continuation are dropped by BuildKit, so they may move). */
  bool shell =
      in->form == DF_FORM_SHELL || (in->sub && in->sub->form == DF_FORM_SHELL);
  for (uint32_t r = r0; r <= r1; r++) {
    const struct format_line *l = &c->lines[r];
    char **slot = &out->v[r - r0];
    if (level == LEVEL_NONE || l->kind == LINE_BODY) {
      *slot = xstrndup(t + l->start, l->end - l->start);
      continue;
    }
    if (r == r0) {
      *slot = format__keyword_line(c, l, in);
      continue;
    }
    size_t p = l->start, e = l->end;
    while (e > p && format__blank(t[e - 1]))
      e--;
    size_t s = p;
    while (s < e && format__blank(t[s]))
      s++;
    struct buf b = BUF_INIT;
    if (s == e) {
      /* a blank line inside a continuation: nothing */
    } else if (level >= LEVEL_INDENT &&
               (level >= LEVEL_OPERATOR || !shell ||
                format__comment_line_n(t + s, e - s))) {
      for (unsigned k = 0; k < c->o->indent; k++)
        buf_putc(&b, ' ');
      buf_append(&b, t + s, e - s);
    } else {
      buf_append(&b, t + p, e - p);
    }
    buf_putc(&b, '\0');
    *slot = buf_take(&b);
  }
  if (level < LEVEL_OPERATOR)
    return;
  for (uint32_t r = r0; r < r1; r++) {
    char *cur = out->v[r - r0];
    char *nxt = out->v[r + 1 - r0];
    size_t op;
    if (c->lines[r].kind == LINE_BODY || c->lines[r + 1].kind == LINE_BODY ||
        format__comment_line(cur) || format__comment_line(nxt) ||
        nxt[0] == '\0' || !format__ends_operator(cur, c->escape, &op))
      continue;
    char opc[3] = {cur[op], cur[op + 1], '\0'};
    struct buf a = BUF_INIT;
    size_t k = op;
    while (k > 0 && format__blank(cur[k - 1]))
      k--;
    buf_append(&a, cur, k);
    buf_putc(&a, ' ');
    buf_putc(&a, c->escape);
    buf_putc(&a, '\0');
    struct buf n = BUF_INIT;
    const char *rest = nxt;
    while (format__blank(*rest))
      rest++;
    for (unsigned i = 0; i < c->o->indent; i++)
      buf_putc(&n, ' ');
    buf_printf(&n, "%s %s", opc, rest);
    free(out->v[r - r0]);
    free(out->v[r + 1 - r0]);
    out->v[r - r0] = buf_take(&a);
    out->v[r + 1 - r0] = buf_take(&n);
  }
}

/* ---- checking that BuildKit reads the same ------------------------------ */

/* A shell string as the shell splits it: blank runs outside quotes made
 * one blank, blanks at both ends dropped. */
static void format__shell_norm(struct buf *b, const char *s, size_t len) {
  enum { NONE, SINGLE, DOUBLE } q = NONE;
  bool blank = false;
  size_t start = b->len;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (q == NONE && format__blank(ch)) {
      blank = true;
      continue;
    }
    if (blank && b->len > start)
      buf_putc(b, ' ');
    blank = false;
    buf_putc(b, ch);
    if (q == SINGLE) {
      if (ch == '\'')
        q = NONE;
    } else if (ch == '\\' && i + 1 < len) {
      buf_putc(b, s[++i]);
    } else if (q == DOUBLE) {
      if (ch == '"')
        q = NONE;
    } else if (ch == '\'') {
      q = SINGLE;
    } else if (ch == '"') {
      q = DOUBLE;
    }
  }
}

/* One instruction's reading, as compared: its dump, or (relaxed) the dump
 * with shell-form strings as the shell splits them. */
static void format__key(struct buf *b, const struct df_instr *in,
                        bool relaxed) {
  if (!relaxed || in->form != DF_FORM_SHELL) {
    if (relaxed && in->sub) {
      buf_printf(b, "(onbuild ");
      format__key(b, in->sub, relaxed);
      buf_putc(b, ')');
      return;
    }
    dump_instr(b, in);
    return;
  }
  buf_printf(b, "(%s", df_kind_name(in->kind));
  for (size_t f = 0; f < in->nflags; f++) {
    buf_putc(b, ' ');
    dump_go_quote(b, in->flags[f].text, strlen(in->flags[f].text));
  }
  for (size_t a = 0; a < in->nargs; a++) {
    buf_puts(b, " <");
    format__shell_norm(b, in->args[a].value, in->args[a].len);
    buf_putc(b, '>');
  }
  for (size_t h = 0; h < in->nheredocs; h++) {
    buf_puts(b, " <<");
    buf_append(b, in->heredocs[h].content, in->heredocs[h].content_len);
  }
  buf_putc(b, ')');
}

static void format__reading(struct buf *b, const char *text, size_t len,
                            bool relaxed) {
  struct dockerfile *df = dockerfile_parse(text, len, NULL);
  for (size_t i = 0; i < df->ninstrs; i++) {
    format__key(b, &df->instrs[i], relaxed);
    buf_putc(b, '\n');
  }
  for (size_t i = 0; i < df->nproblems; i++)
    buf_printf(b, "!%s\n", df->problems[i].message);
  dockerfile_free(df);
}

/* The rows as a Dockerfile of their own (with the file's escape). */
static void format__snippet(const struct format_ctx *c,
                            const struct format_rows *rs, struct buf *b) {
  if (c->escape != '\\')
    buf_printf(b, "# escape=%c\n", c->escape);
  for (uint32_t r = rs->r0; r <= rs->r1; r++) {
    const struct format_line *l = &c->lines[r];
    buf_puts(b, rs->v[r - rs->r0]);
    buf_append(b, c->text + l->end, l->next - l->end);
  }
}

static bool format__same_rows(const struct format_rows *a,
                              const struct format_rows *b) {
  for (uint32_t r = a->r0; r <= a->r1; r++)
    if (strcmp(a->v[r - a->r0], b->v[r - b->r0]) != 0)
      return false;
  return true;
}

/* Does BuildKit read rows `cand` as it reads `orig`? */
static bool format__same_reading(const struct format_ctx *c,
                                 const struct format_rows *orig,
                                 const struct format_rows *cand,
                                 bool relaxed) {
  struct buf so = BUF_INIT, sc = BUF_INIT, ko = BUF_INIT, kc = BUF_INIT;
  format__snippet(c, orig, &so);
  format__snippet(c, cand, &sc);
  format__reading(&ko, so.data, so.len, relaxed);
  format__reading(&kc, sc.data, sc.len, relaxed);
  bool same = ko.len == kc.len &&
              (ko.len == 0 || memcmp(ko.data, kc.data, ko.len) == 0);
  buf_cleanup(&so);
  buf_cleanup(&sc);
  buf_cleanup(&ko);
  buf_cleanup(&kc);
  return same;
}

/* ---- edits -------------------------------------------------------------- */

/* The edit turning line l into `nw`: only the bytes that differ. */
static void format__line_edit(const struct format_ctx *c,
                              const struct format_line *l, const char *nw,
                              struct format_edits *out) {
  const char *old = c->text + l->start;
  size_t on = l->end - l->start, nn = strlen(nw);
  if (on == nn && memcmp(old, nw, on) == 0)
    return;
  size_t pre = 0;
  while (pre < on && pre < nn && old[pre] == nw[pre])
    pre++;
  size_t suf = 0;
  while (suf < on - pre && suf < nn - pre &&
         old[on - 1 - suf] == nw[nn - 1 - suf])
    suf++;
  format__push(out, l->start + pre, l->end - suf, nw + pre, nn - pre - suf);
}

static void format__free_line(const struct format_ctx *c,
                              const struct format_line *l,
                              struct format_edits *out) {
  const char *t = c->text;
  size_t s = l->start;
  while (s < l->end && format__blank(t[s]))
    s++;
  if (s < l->end && t[s] != '#')
    return; /* not a comment or blank line: not ours to touch */
  size_t e = l->end;
  while (e > l->start && format__blank(t[e - 1]))
    e--;
  if (e < l->end)
    format__push(out, e, l->end, "", 0);
}

void format_edits(const char *text, size_t len, const struct dockerfile *df,
                  const struct format_opts *o, uint32_t first_line,
                  uint32_t last_line, struct format_edits *out) {
  struct format_ctx c = {text, len, df->escape, o, NULL, 0};
  format__lines(&c);
  /* Which rows belong to which instruction. */
  size_t *owner = xmalloc(c.nlines * sizeof(size_t));
  for (size_t r = 0; r < c.nlines; r++)
    owner[r] = SIZE_MAX;
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    uint32_t r1 = format__last_row(&in->range);
    for (uint32_t r = in->range.start.row; r <= r1 && r < c.nlines; r++) {
      owner[r] = i;
      c.lines[r].kind = LINE_INSTR;
    }
    format__mark_bodies(&c, in);
  }
  bool relaxed_ok = o->operator_newline;
  for (size_t r = 0; r < c.nlines;) {
    if (owner[r] == SIZE_MAX) {
      if (r >= first_line && r <= last_line && c.lines[r].kind == LINE_FREE)
        format__free_line(&c, &c.lines[r], out);
      r++;
      continue;
    }
    const struct df_instr *in = &df->instrs[owner[r]];
    uint32_t r0 = (uint32_t)r, r1 = (uint32_t)r;
    while (r1 + 1 < c.nlines && owner[r1 + 1] == owner[r])
      r1++;
    r = r1 + 1;
    if (r1 < first_line || r0 > last_line)
      continue;
    struct format_rows orig = {0}, best = {0};
    format__rewrite(&c, in, r0, r1, LEVEL_NONE, &orig);
    enum format_level top = relaxed_ok ? LEVEL_OPERATOR : LEVEL_INDENT;
    for (int lv = top; lv > LEVEL_NONE; lv--) {
      struct format_rows cand = {0};
      format__rewrite(&c, in, r0, r1, (enum format_level)lv, &cand);
      if (format__same_rows(&orig, &cand)) {
        format__rows_free(&cand);
        break; /* already formatted at this level */
      }
      if (format__same_reading(&c, &orig, &cand, lv == LEVEL_OPERATOR)) {
        best = cand;
        break;
      }
      format__rows_free(&cand);
    }
    if (best.v) {
      for (uint32_t k = r0; k <= r1; k++)
        if (c.lines[k].kind != LINE_BODY)
          format__line_edit(&c, &c.lines[k], best.v[k - r0], out);
      format__rows_free(&best);
    }
    format__rows_free(&orig);
  }
  free(owner);

  /* The safety net, for a file with problems: there the tree may split
   * instructions where BuildKit would not, so an instruction read alone
   * proves less; read the whole result as the whole original.  Without
   * problems each instruction's rows are exactly one of BuildKit's
   * instructions (the model's invariant), every changed one was read
   * again above, and the other lines are comments and blanks. */
  if (out->n > 0 && df->nproblems > 0) {
    size_t nlen;
    char *nt = format_apply(text, len, out, &nlen);
    struct buf a = BUF_INIT, b = BUF_INIT;
    format__reading(&a, text, len, relaxed_ok);
    format__reading(&b, nt, nlen, relaxed_ok);
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
      format_edits_cleanup(out);
    buf_cleanup(&a);
    buf_cleanup(&b);
    free(nt);
  }
  free(c.lines);
}
