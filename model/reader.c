/*
 * reader.c - dockerfile_parse: source lines to instructions, with
 * BuildKit's line rules (its parser.Parse), over the runs of lines the
 * tree marks (see the DESIGN note in dockerfile.h).
 */
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

#include "args.h"
#include "dockerfile.h"
#include "expand.h"
#include "text.h"

/* bufio.Scanner's token limit: BuildKit refuses longer lines. */
#define READER_MAX_LINE (64 * 1024)

struct reader_line {
  uint32_t start; /* first byte */
  uint32_t end;   /* past the last byte, line end included */
};

/* One piece of a logical line: logical [loff, loff+len) is source
 * [soff, soff+len), all on source row `row`. */
struct reader_piece {
  size_t loff;
  size_t soff;
  size_t len;
  size_t row;
};

struct reader_logical {
  struct buf text;
  struct reader_piece *pieces;
  size_t npieces, cap;
};

struct reader {
  const char *src;
  size_t len;
  struct reader_line *lines;
  size_t nlines;
  char escape;
  size_t bom; /* bytes of BOM skipped at the start of line 0 */
  struct dockerfile *df;
  struct arena *arena; /* &df->arena: where the model's memory comes from */
  size_t instr_cap, problem_cap;
  size_t row_hint; /* the row of the last position asked for */
  /* Scratch reused from one instruction to the next, so reading one
   * allocates nothing but its share of the arena. */
  struct reader_logical lg;
  struct args_command cmd;
  struct args_result res;
};

/* ---- positions ---------------------------------------------------- */

static bool reader__row_has(const struct reader *r, size_t row, size_t byte) {
  return r->lines[row].start <= byte &&
         (row + 1 == r->nlines || byte < r->lines[row + 1].start);
}

static struct df_pos reader__pos(struct reader *r, size_t byte) {
  struct df_pos p;
  p.byte = (uint32_t)byte;
  if (r->nlines == 0) {
    p.row = 0;
    p.col = (uint32_t)byte;
    return p;
  }
  /* Positions come in reading order, nearly always on the row of the one
   * before or the next: try those before a binary search. */
  size_t row = r->row_hint;
  if (!reader__row_has(r, row, byte)) {
    if (row + 1 < r->nlines && reader__row_has(r, row + 1, byte)) {
      row++;
    } else {
      size_t lo = 0, hi = r->nlines;
      while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (r->lines[mid].start <= byte)
          lo = mid;
        else
          hi = mid;
      }
      row = lo;
    }
  }
  r->row_hint = row;
  p.row = (uint32_t)row;
  p.col = (uint32_t)(byte - r->lines[row].start);
  return p;
}

/* The position of a byte known to be on `row`: no search. */
static struct df_pos reader__pos_on(const struct reader *r, size_t row,
                                    size_t byte) {
  struct df_pos p;
  p.byte = (uint32_t)byte;
  p.row = (uint32_t)row;
  p.col = (uint32_t)(byte - r->lines[row].start);
  return p;
}

static struct df_range reader__range(struct reader *r, size_t start,
                                     size_t end) {
  struct df_range rg;
  rg.start = reader__pos(r, start);
  rg.end = reader__pos(r, end);
  return rg;
}

/* Source offset of a logical offset.  `at_end` picks the piece a range
 * ends in rather than the one it starts in, so an end never jumps to the
 * next source line.  Sets *piece to the piece it is in (or past the end
 * of), or -1 when there is none. */
static size_t reader__map(const struct reader_logical *lg, size_t loff,
                          bool at_end, ptrdiff_t *piece) {
  *piece = -1;
  if (lg->npieces == 0)
    return 0;
  for (size_t i = 0; i < lg->npieces; i++) {
    const struct reader_piece *p = &lg->pieces[i];
    size_t pend = p->loff + p->len;
    if (at_end ? loff <= pend : loff < pend) {
      *piece = (ptrdiff_t)i;
      return p->soff + (loff > p->loff ? loff - p->loff : 0);
    }
  }
  *piece = (ptrdiff_t)lg->npieces - 1;
  const struct reader_piece *last = &lg->pieces[lg->npieces - 1];
  return last->soff + last->len;
}

/* A mapped offset's position: its piece knows the row.  A piece ends
 * before its line's end (the line end is never in a piece) unless the
 * line is the file's last, so the row is the one a search would find. */
static struct df_pos reader__lpos(struct reader *r,
                                  const struct reader_logical *lg, size_t byte,
                                  ptrdiff_t piece) {
  if (piece < 0)
    return reader__pos(r, byte);
  return reader__pos_on(r, lg->pieces[piece].row, byte);
}

static struct df_range reader__lrange(struct reader *r,
                                      const struct reader_logical *lg,
                                      size_t start, size_t end) {
  ptrdiff_t sp, ep;
  size_t s = reader__map(lg, start, false, &sp);
  size_t e = s;
  ep = sp;
  if (end > start)
    e = reader__map(lg, end, true, &ep);
  if (e < s) {
    e = s;
    ep = sp;
  }
  struct df_range rg;
  rg.start = reader__lpos(r, lg, s, sp);
  rg.end = reader__lpos(r, lg, e, ep);
  return rg;
}

/* ---- model building ----------------------------------------------- */

/* Records a problem; the message is copied into the model. */
static void reader__problem(struct reader *r, enum df_problem_kind kind,
                            struct df_range range, const char *message) {
  struct dockerfile *df = r->df;
  if (df->nproblems == r->problem_cap) {
    size_t cap = r->problem_cap ? r->problem_cap * 2 : 8;
    df->problems = arena_realloc(r->arena, df->problems,
                                 r->problem_cap * sizeof(*df->problems),
                                 cap * sizeof(*df->problems));
    r->problem_cap = cap;
  }
  struct df_problem *p = &df->problems[df->nproblems++];
  p->kind = kind;
  p->message = arena_strdup(r->arena, message);
  p->range = range;
}

/* reader__problem with a message built in m (freed here). */
static void reader__problem_buf(struct reader *r, enum df_problem_kind kind,
                                struct df_range range, struct buf *m) {
  reader__problem(r, kind, range, buf_cstr(m));
  buf_cleanup(m);
}

static struct df_instr *reader__new_instr(struct reader *r) {
  struct dockerfile *df = r->df;
  if (df->ninstrs == r->instr_cap) {
    size_t cap = r->instr_cap ? r->instr_cap * 2 : 32;
    df->instrs =
        arena_realloc(r->arena, df->instrs, r->instr_cap * sizeof(*df->instrs),
                      cap * sizeof(*df->instrs));
    r->instr_cap = cap;
  }
  struct df_instr *in = &df->instrs[df->ninstrs++];
  memset(in, 0, sizeof(*in));
  in->node_index = UINT32_MAX;
  return in;
}

/* ---- line helpers (BuildKit's processLine and friends) ------------- */

/* trimNewline: the line without its trailing \r and \n bytes. */
static size_t reader__content_end(const struct reader *r, size_t row) {
  size_t s = r->lines[row].start, e = r->lines[row].end;
  while (e > s && (r->src[e - 1] == '\n' || r->src[e - 1] == '\r'))
    e--;
  return e;
}

static size_t reader__line_start(const struct reader *r, size_t row) {
  return r->lines[row].start + (row == 0 ? r->bom : 0);
}

static bool reader__is_comment(const struct reader *r, size_t row) {
  size_t s = reader__line_start(r, row), e = reader__content_end(r, row);
  s += text_space_prefix(r->src + s, e - s);
  return s < e && r->src[s] == '#';
}

static bool reader__is_blank(const struct reader *r, size_t row) {
  size_t s = reader__line_start(r, row), e = reader__content_end(r, row);
  return s + text_space_prefix(r->src + s, e - s) == e;
}

/* BuildKit's line continuation regex, ([^E])E[ \t]*$|^E[ \t]*$: if
 * src[s..e) continues, sets *cut to where the escape character is. */
static bool reader__continues(const struct reader *r, size_t s, size_t e,
                              size_t *cut) {
  size_t k = e;
  while (k > s && (r->src[k - 1] == ' ' || r->src[k - 1] == '\t'))
    k--;
  if (k == s || r->src[k - 1] != r->escape)
    return false;
  size_t esc = k - 1;
  if (esc > s && r->src[esc - 1] == r->escape)
    return false;
  *cut = esc;
  return true;
}

static void reader__append(struct reader_logical *lg, const char *src,
                           size_t row, size_t s, size_t e) {
  if (e <= s)
    return;
  if (lg->npieces == lg->cap) {
    lg->cap = lg->cap ? lg->cap * 2 : 8;
    lg->pieces = xrealloc(lg->pieces, lg->cap * sizeof(*lg->pieces));
  }
  lg->pieces[lg->npieces].loff = lg->text.len;
  lg->pieces[lg->npieces].soff = s;
  lg->pieces[lg->npieces].len = e - s;
  lg->pieces[lg->npieces].row = row;
  lg->npieces++;
  buf_append(&lg->text, src + s, e - s);
}

/* ---- directives ----------------------------------------------------- */

static bool reader__re_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static bool reader__alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool reader__alnum(char c) {
  return reader__alpha(c) || (c >= '0' && c <= '9');
}

/* Matches ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ on src[s..e). */
static bool reader__directive_match(const char *src, size_t s, size_t e,
                                    size_t *ks, size_t *ke, size_t *vs,
                                    size_t *ve) {
  if (s >= e || src[s] != '#')
    return false;
  size_t i = s + 1;
  while (i < e && reader__re_space(src[i]))
    i++;
  if (i >= e || !reader__alpha(src[i]))
    return false;
  *ks = i;
  while (i < e && reader__alnum(src[i]))
    i++;
  *ke = i;
  while (i < e && reader__re_space(src[i]))
    i++;
  if (i >= e || src[i] != '=')
    return false;
  i++;
  while (i < e && reader__re_space(src[i]))
    i++;
  size_t v_end = e;
  while (v_end > i && reader__re_space(src[v_end - 1]))
    v_end--;
  if (v_end <= i)
    return false;
  *vs = i;
  *ve = v_end;
  return true;
}

/* Reads the leading run of parser directives.  Returns false when BuildKit
 * stops on one (the problem is recorded).  *header_end is the end of the
 * last line looked at: the directives depend on nothing after it. */
static bool reader__directives(struct reader *r, size_t *header_end) {
  static const char *const valid[] = {"syntax", "escape", "check"};
  bool seen[3] = {false, false, false};
  struct dockerfile *df = r->df;

  *header_end = r->len;
  for (size_t row = 0; row < r->nlines; row++) {
    *header_end = r->lines[row].end;
    size_t s = reader__line_start(r, row), e = reader__content_end(r, row);
    s += text_space_prefix(r->src + s, e - s);
    size_t ks, ke, vs, ve;
    if (!reader__directive_match(r->src, s, e, &ks, &ke, &vs, &ve))
      return true;
    int which = -1;
    for (int k = 0; k < 3; k++)
      if (text_ieq(r->src + ks, ke - ks, valid[k]))
        which = k;
    if (which < 0)
      return true;
    struct df_range rg = reader__range(r, s, e);
    if (seen[which]) {
      struct buf m = BUF_INIT;
      buf_printf(&m, "only one %s parser directive can be used", valid[which]);
      reader__problem_buf(r, DF_PROBLEM_ERROR, rg, &m);
      return false;
    }
    seen[which] = true;
    df->directives = arena_realloc(
        r->arena, df->directives, df->ndirectives * sizeof(*df->directives),
        (df->ndirectives + 1) * sizeof(*df->directives));
    struct df_directive *d = &df->directives[df->ndirectives++];
    d->name = arena_strdup(r->arena, valid[which]);
    d->value = arena_strndup(r->arena, r->src + vs, ve - vs);
    d->range = rg;
    if (which == 1) {
      if (ve - vs == 1 && (r->src[vs] == '`' || r->src[vs] == '\\')) {
        r->escape = r->src[vs];
      } else {
        struct buf m = BUF_INIT;
        buf_printf(&m, "invalid escape token '%.*s' does not match ` or \\",
                   (int)(ve - vs), r->src + vs);
        reader__problem_buf(r, DF_PROBLEM_ERROR, reader__range(r, vs, ve), &m);
        return false;
      }
    }
  }
  return true;
}

/* ---- heredocs -------------------------------------------------------- */

static bool reader__is_digit(char c) {
  return c >= '0' && c <= '9';
}

int dockerfile_heredoc_word(const char *word, struct df_heredoc *out,
                            char **msg) {
  const char *p = word;
  unsigned fd = 0;
  while (reader__is_digit(*p)) {
    if (fd < 100000)
      fd = fd * 10 + (unsigned)(*p - '0');
    p++;
  }
  if (p[0] != '<' || p[1] != '<')
    return 0;
  p += 2;
  bool chomp = false;
  if (*p == '-') {
    chomp = true;
    p++;
  }
  while (reader__re_space(*p))
    p++;
  if (strchr(p, '<') != NULL || *p == '\0')
    return 0;

  size_t n = strlen(p);
  struct expand_opts opts = {'\\', EXPAND_SKIP_UNSET};
  struct expand_env env = {NULL, NULL};
  struct strv words = STRV_INIT, raw = STRV_INIT;
  struct err e;
  err_clear(&e);
  int rc = 0;
  if (expand_words(p, n, &opts, &env, NULL, &words, &e) < 0) {
    *msg = xstrdup(e.msg);
    rc = -1;
    goto out;
  }
  if (words.n != 1)
    goto out;
  opts.flags |= EXPAND_RAW_QUOTES;
  if (expand_words(p, n, &opts, &env, NULL, &raw, &e) < 0) {
    *msg = xstrdup(e.msg);
    rc = -1;
    goto out;
  }
  if (raw.n != words.n) {
    struct buf m = BUF_INIT;
    buf_printf(
        &m, "internal lexing of heredoc produced inconsistent results: %s", p);
    *msg = buf_take(&m);
    rc = -1;
    goto out;
  }
  size_t q1 = 0, q2 = 0;
  for (const char *c = words.v[0]; *c; c++)
    q1 += (*c == '\'' || *c == '"');
  for (const char *c = raw.v[0]; *c; c++)
    q2 += (*c == '\'' || *c == '"');
  memset(out, 0, sizeof(*out));
  out->name = xstrdup(words.v[0]);
  out->fd = fd;
  out->chomp = chomp;
  out->expand = q1 == q2;
  rc = 1;
out:
  strv_cleanup(&words);
  strv_cleanup(&raw);
  return rc;
}

/* Finds the source offsets of the k-th heredoc marker in the logical line:
 * the k-th "<<" that is not part of "<<<", with its leading digits. */
static void reader__marker_span(const char *line, size_t len, size_t k,
                                size_t *start, size_t *end) {
  size_t seen = 0;
  for (size_t i = 0; i + 1 < len; i++) {
    if (line[i] != '<' || line[i + 1] != '<')
      continue;
    if ((i > 0 && line[i - 1] == '<') || (i + 2 < len && line[i + 2] == '<'))
      continue;
    if (seen++ != k) {
      i++;
      continue;
    }
    size_t s = i;
    while (s > 0 && reader__is_digit(line[s - 1]))
      s--;
    size_t e = i + 2;
    if (e < len && line[e] == '-')
      e++;
    while (e < len && (line[e] == ' ' || line[e] == '\t'))
      e++;
    while (e < len && line[e] != ' ' && line[e] != '\t')
      e++;
    *start = s;
    *end = e;
    return;
  }
  *start = *end = len;
}

static bool reader__can_heredoc(const struct df_instr *in) {
  if (in->kind == DF_ONBUILD && in->sub)
    in = in->sub;
  if (in->kind != DF_RUN && in->kind != DF_COPY && in->kind != DF_ADD)
    return false;
  return in->form != DF_FORM_JSON;
}

/* ---- one instruction ------------------------------------------------ */

static void reader__fill_instr(struct reader *r, struct df_instr *in,
                               const struct reader_logical *lg, size_t start,
                               size_t end, char **error,
                               struct df_range *error_range);

static void reader__set_args(struct reader *r, struct df_instr *in,
                             const struct reader_logical *lg,
                             const struct args_result *res) {
  in->form = res->form;
  in->nargs = res->values.n;
  in->args =
      in->nargs ? arena_alloc(r->arena, in->nargs * sizeof(*in->args)) : NULL;
  for (size_t i = 0; i < res->values.n; i++) {
    in->args[i].value = res->values.v[i].value; /* already in the arena */
    in->args[i].len = res->values.v[i].len;
    in->args[i].range =
        reader__lrange(r, lg, res->values.v[i].start, res->values.v[i].end);
  }
  if (res->json)
    in->form = in->kind == DF_HEALTHCHECK ? DF_FORM_HEALTH : DF_FORM_JSON;
}

/* newNodeFromLine on logical [start, end).  On a BuildKit error sets
 * *error (malloc'd; the caller frees it) unless one is set already. */
static void reader__fill_instr(struct reader *r, struct df_instr *in,
                               const struct reader_logical *lg, size_t start,
                               size_t end, char **error,
                               struct df_range *error_range) {
  const char *line = lg->text.data ? lg->text.data : "";
  /* r->cmd and r->res are scratch: done with before the ONBUILD
   * recursion below reuses them. */
  struct args_command *cmd = &r->cmd;
  args_split_command(line + start, end - start, r->arena, cmd);
  size_t cs = start + cmd->cmd_start, ce = start + cmd->cmd_end;
  in->keyword = arena_strndup(r->arena, line + cs, ce - cs);
  in->kind = df_kind_from_word(line + cs, ce - cs);
  in->keyword_range = reader__lrange(r, lg, cs, ce);
  in->original = arena_strndup(r->arena, line + start, end - start);

  in->nflags = cmd->flags.n;
  in->flags = in->nflags
                  ? arena_alloc(r->arena, in->nflags * sizeof(*in->flags))
                  : NULL;
  for (size_t i = 0; i < cmd->flags.n; i++) {
    struct df_flag *f = &in->flags[i];
    f->text = cmd->flags.v[i].value; /* already in the arena */
    char *t = f->text;
    if (t[0] == '-' && t[1] == '-')
      t += 2;
    char *eq = strchr(t, '=');
    f->name = arena_strndup(r->arena, t, eq ? (size_t)(eq - t) : strlen(t));
    f->value = eq ? eq + 1 : NULL; /* the tail of the text */
    f->range = reader__lrange(r, lg, start + cmd->flags.v[i].start,
                              start + cmd->flags.v[i].end);
  }

  size_t rs = start + cmd->rest_start, re = start + cmd->rest_end;
  in->args_range = reader__lrange(r, lg, rs, re);

  if (in->kind == DF_ONBUILD) {
    if (rs == re)
      return;
    in->form = DF_FORM_SUB;
    in->sub = arena_calloc(r->arena, 1, sizeof(*in->sub));
    in->sub->node_index = UINT32_MAX;
    reader__fill_instr(r, in->sub, lg, rs, re, error, error_range);
    in->sub->range = in->args_range;
    return;
  }

  struct args_result *res = &r->res;
  args_parse(in->kind, line, rs, re, r->escape, r->arena, res);
  if (res->error) {
    if (*error == NULL) {
      *error = res->error;
      *error_range = reader__lrange(r, lg, res->error_start, res->error_end);
    } else {
      free(res->error);
    }
    res->error = NULL;
  }
  reader__set_args(r, in, lg, res);
}

/* heredocsFromLine plus reading the bodies from row `row` on.  Returns the
 * row after the last body. */
static size_t reader__heredocs(struct reader *r, struct df_instr *in,
                               const struct reader_logical *lg, size_t row,
                               size_t row_end, char **error,
                               struct df_range *error_range) {
  const char *line = lg->text.data ? lg->text.data : "";
  if (!reader__can_heredoc(in) || strstr(line, "<<") == NULL)
    return row;

  struct expand_opts opts = {'\\', EXPAND_RAW_QUOTES | EXPAND_RAW_ESCAPES |
                                       EXPAND_SKIP_UNSET};
  struct expand_env env = {NULL, NULL};
  struct strv words = STRV_INIT;
  struct err e;
  err_clear(&e);
  if (expand_words(line, lg->text.len, &opts, &env, NULL, &words, &e) < 0) {
    /* BuildKit ignores a lexing error here: no heredocs. */
    strv_cleanup(&words);
    return row;
  }

  size_t k = 0;
  for (size_t w = 0; w < words.n; w++) {
    struct df_heredoc hd;
    char *msg = NULL;
    int rc = dockerfile_heredoc_word(words.v[w], &hd, &msg);
    if (rc == 0)
      continue;
    size_t ms, me;
    reader__marker_span(line, lg->text.len, k++, &ms, &me);
    struct df_range marker = reader__lrange(r, lg, ms, me);
    if (rc < 0) {
      if (*error == NULL) {
        *error = msg;
        *error_range = marker;
      } else {
        free(msg);
      }
      break;
    }
    hd.marker = marker;
    /* The name moves into the model. */
    char *name = hd.name;
    hd.name = arena_strdup(r->arena, name);
    free(name);

    /* The body: raw lines until one equals the name.  They follow each
     * other in the source, so the content is one slice of it. */
    size_t body_start = row < row_end ? r->lines[row].start : r->len;
    size_t content_end = body_start;
    bool terminated = false;
    size_t name_len = strlen(hd.name);
    while (row < row_end) {
      size_t s = r->lines[row].start, ce = reader__content_end(r, row);
      if (hd.chomp)
        while (s < ce && r->src[s] == '\t')
          s++;
      row++;
      if (ce - s == name_len && memcmp(r->src + s, hd.name, name_len) == 0) {
        terminated = true;
        break;
      }
      content_end = r->lines[row - 1].end;
    }
    size_t body_end = row > 0 ? reader__content_end(r, row - 1) : 0;
    if (body_end < body_start)
      body_end = body_start;
    hd.body = reader__range(r, body_start, body_end);
    hd.content_len = content_end - body_start;
    hd.content = arena_strndup(r->arena, r->src + body_start, hd.content_len);
    in->heredocs = arena_realloc(r->arena, in->heredocs,
                                 in->nheredocs * sizeof(*in->heredocs),
                                 (in->nheredocs + 1) * sizeof(*in->heredocs));
    in->heredocs[in->nheredocs++] = hd;
    if (!terminated) {
      if (*error == NULL) {
        *error = xstrdup("unterminated heredoc");
        *error_range = marker;
      }
      break;
    }
  }
  strv_cleanup(&words);
  return row;
}

/* ---- the line loop ---------------------------------------------------- */

/* Reads rows [row, row_end) as BuildKit's Parse loop does.  Returns false
 * after a line BuildKit refuses outright (too long). */
static bool reader__segment(struct reader *r, size_t row, size_t row_end,
                            uint32_t node_index) {
  struct reader_logical *lg = &r->lg;

  while (row < row_end) {
    size_t first = row;
    if (r->lines[row].end - r->lines[row].start > READER_MAX_LINE) {
      struct buf m = BUF_INIT;
      buf_printf(&m, "dockerfile line greater than max allowed size of %d",
                 READER_MAX_LINE - 1);
      reader__problem_buf(
          r, DF_PROBLEM_ERROR,
          reader__range(r, r->lines[row].start, reader__content_end(r, row)),
          &m);
      return false;
    }
    size_t s = reader__line_start(r, row), e = reader__content_end(r, row);
    s += text_space_prefix(r->src + s, e - s);
    row++;
    if (s < e && r->src[s] == '#')
      continue; /* a comment (trimComments empties the line) */
    size_t cut;
    bool more = reader__continues(r, s, e, &cut);
    if (!more && s == e)
      continue;

    buf_reset(&lg->text);
    lg->npieces = 0;
    reader__append(lg, r->src, first, s, more ? cut : e);
    bool empty_continuation = false;
    while (more && row < row_end) {
      size_t ls = r->lines[row].start, le = reader__content_end(r, row);
      bool comment = reader__is_comment(r, row);
      bool blank = reader__is_blank(r, row);
      row++;
      if (comment)
        continue;
      if (blank) {
        empty_continuation = true;
        continue;
      }
      more = reader__continues(r, ls, le, &cut);
      reader__append(lg, r->src, row - 1, ls, more ? cut : le);
    }

    struct df_instr *in = reader__new_instr(r);
    char *error = NULL;
    struct df_range error_range;
    memset(&error_range, 0, sizeof(error_range));
    reader__fill_instr(r, in, lg, 0, lg->text.len, &error, &error_range);
    in->node_index = node_index;
    in->empty_continuation = empty_continuation;
    in->start_line = (uint32_t)first + 1;
    if (error == NULL)
      row = reader__heredocs(r, in, lg, row, row_end, &error, &error_range);
    in->end_line = (uint32_t)row;
    size_t last = row - 1;
    in->range.start = reader__pos_on(r, first, s);
    in->range.end = reader__pos_on(r, last, reader__content_end(r, last));
    if (empty_continuation) {
      struct buf m = BUF_INIT;
      buf_puts(&m, "Empty continuation line found in: ");
      buf_append(&m, lg->text.data ? lg->text.data : "", lg->text.len);
      reader__problem_buf(r, DF_PROBLEM_WARNING, in->range, &m);
    }
    if (error) {
      in->invalid = true;
      reader__problem(r, DF_PROBLEM_ERROR, error_range, error);
      free(error);
    }
  }
  return true;
}

/* ---- segments from the tree ---------------------------------------- */

struct reader_segment {
  size_t row;
  uint32_t node_index;
};

/* Start rows of the runs the tree marks: row 0, then each top-level
 * instruction or ERROR node. */
static size_t reader__segments(const struct reader *r, const TSTree *tree,
                               struct reader_segment **out) {
  size_t n = 0, cap = 16;
  struct reader_segment *segs = xmalloc(cap * sizeof(*segs));
  segs[n].row = 0;
  segs[n].node_index = UINT32_MAX;
  n++;
  if (tree != NULL) {
    /* A cursor, not ts_node_child(): that one walks from the first child
     * each time, which is quadratic over a long file. */
    TSTreeCursor cur = ts_tree_cursor_new(ts_tree_root_node(tree));
    uint32_t i = 0;
    for (bool more = ts_tree_cursor_goto_first_child(&cur); more;
         more = ts_tree_cursor_goto_next_sibling(&cur), i++) {
      TSNode child = ts_tree_cursor_current_node(&cur);
      if (!ts_node_is_named(child) && !ts_node_is_missing(child))
        continue;
      /* Only instructions and ERROR nodes start a run; comments,
       * directives and a stray continuation at the end of the file are
       * read by BuildKit's rules inside the run before them. */
      const char *type = ts_node_type(child);
      size_t tlen = strlen(type);
      bool instr = tlen > 12 && strcmp(type + tlen - 12, "_instruction") == 0;
      if (!instr && strcmp(type, "ERROR") != 0)
        continue;
      size_t row = ts_node_start_point(child).row;
      if (row >= r->nlines)
        continue;
      if (row <= segs[n - 1].row) {
        if (segs[n - 1].node_index == UINT32_MAX)
          segs[n - 1].node_index = i;
        continue;
      }
      if (n == cap) {
        cap *= 2;
        segs = xrealloc(segs, cap * sizeof(*segs));
      }
      segs[n].row = row;
      segs[n].node_index = i;
      n++;
    }
    ts_tree_cursor_delete(&cur);
  }
  *out = segs;
  return n;
}

/* ---- stages ------------------------------------------------------------ */

/* Is `name` the lower-case form of `word`? */
static bool reader__is_lower_of(const char *name, const char *word) {
  for (; *word; name++, word++) {
    char c = *word;
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (*name != c)
      return false;
  }
  return *name == '\0';
}

/* The stages of df->instrs.  An update (dockerfile_update) reuses the
 * array when the number of stages is the same, and each stage's name when
 * it is unchanged, so typing leaves nothing behind in the arena. */
static void reader__stages(struct dockerfile *df) {
  size_t n = 0;
  for (size_t i = 0; i < df->ninstrs; i++)
    n += df->instrs[i].kind == DF_FROM;
  struct df_stage *old = df->stages;
  size_t nold = df->nstages;
  if (n == 0)
    df->stages = NULL;
  else if (n != nold)
    df->stages = arena_alloc(&df->arena, n * sizeof(*df->stages));
  df->nstages = 0;
  df->nglobal = df->ninstrs;
  struct df_stage *cur = NULL;
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->kind == DF_FROM) {
      if (cur == NULL)
        df->nglobal = i;
      size_t k = df->nstages++;
      /* The name this stage had before an update, if any. */
      char *was = k < nold && old == df->stages ? old[k].name : NULL;
      cur = &df->stages[k];
      memset(cur, 0, sizeof(*cur));
      cur->index = k;
      cur->from_instr = i;
      if (in->nargs >= 1)
        cur->base = in->args[0].value; /* shared: both live in the arena */
      if (in->nargs >= 3 &&
          text_ieq(in->args[1].value, strlen(in->args[1].value), "as")) {
        const char *word = in->args[2].value;
        char *name = was;
        if (name == NULL || !reader__is_lower_of(name, word)) {
          name = arena_strdup(&df->arena, word);
          for (char *c = name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
              *c = (char)(*c - 'A' + 'a');
        }
        cur->name = name;
        cur->name_range = in->args[2].range;
      }
    }
    if (cur)
      cur->ninstrs++;
  }
}

/* ---- what an update reuses ------------------------------------------- */

/* One run of lines as it was read: its bytes and what it produced. */
struct reader_run {
  uint32_t start, end; /* bytes [start, end) of the text */
  uint32_t first_instr, ninstrs;
  uint32_t first_problem, nproblems;
  bool local; /* every position it produced lies in [start, end] */
};

/* Private to reader.c, hung off struct dockerfile (malloc'd). */
struct df_incr {
  size_t len;        /* of the text the model was read from */
  size_t header_end; /* the directives depend on bytes [0, header_end) */
  bool reusable;     /* false: the next update reads everything */
  struct reader_run *runs;
  size_t nruns;
  size_t instr_cap, problem_cap; /* allocated sizes of the two arrays */
  size_t garbage; /* arena bytes of runs read again since the full read */
};

/* Positions after an edit move by d bytes and dr rows (modulo 2^32:
 * either may be negative); columns stay, since a reused run starts at the
 * start of a line and lies wholly after the edit. */
static void reader__shift_pos(struct df_pos *p, uint32_t d, uint32_t dr) {
  p->byte += d;
  p->row += dr;
}

static void reader__shift_range(struct df_range *r, uint32_t d, uint32_t dr) {
  reader__shift_pos(&r->start, d, dr);
  reader__shift_pos(&r->end, d, dr);
}

static void reader__shift_instr(struct df_instr *in, uint32_t d, uint32_t dr) {
  reader__shift_range(&in->range, d, dr);
  reader__shift_range(&in->keyword_range, d, dr);
  reader__shift_range(&in->args_range, d, dr);
  /* Only top-level instructions carry line numbers (an ONBUILD's nested
   * one keeps 0, as reader__segment leaves it). */
  if (in->start_line != 0) {
    in->start_line += dr;
    in->end_line += dr;
  }
  for (size_t i = 0; i < in->nflags; i++)
    reader__shift_range(&in->flags[i].range, d, dr);
  for (size_t i = 0; i < in->nargs; i++)
    reader__shift_range(&in->args[i].range, d, dr);
  for (size_t i = 0; i < in->nheredocs; i++) {
    reader__shift_range(&in->heredocs[i].marker, d, dr);
    reader__shift_range(&in->heredocs[i].body, d, dr);
  }
  if (in->sub)
    reader__shift_instr(in->sub, d, dr);
}

static bool reader__range_in(const struct df_range *r, uint32_t s,
                             uint32_t e) {
  return r->start.byte >= s && r->start.byte <= e && r->end.byte >= s &&
         r->end.byte <= e;
}

static bool reader__instr_in(const struct df_instr *in, uint32_t s,
                             uint32_t e) {
  if (!reader__range_in(&in->range, s, e) ||
      !reader__range_in(&in->keyword_range, s, e) ||
      !reader__range_in(&in->args_range, s, e))
    return false;
  for (size_t i = 0; i < in->nflags; i++)
    if (!reader__range_in(&in->flags[i].range, s, e))
      return false;
  for (size_t i = 0; i < in->nargs; i++)
    if (!reader__range_in(&in->args[i].range, s, e))
      return false;
  for (size_t i = 0; i < in->nheredocs; i++)
    if (!reader__range_in(&in->heredocs[i].marker, s, e) ||
        !reader__range_in(&in->heredocs[i].body, s, e))
      return false;
  return in->sub == NULL || reader__instr_in(in->sub, s, e);
}

/* Is everything the run produced inside it?  Not always: a heredoc with
 * no body line left in its run has its (empty) body at the end of the
 * file.  Such a run depends on more than its lines and is never reused. */
static bool reader__run_local(const struct dockerfile *df,
                              const struct reader_run *run) {
  for (uint32_t k = 0; k < run->ninstrs; k++)
    if (!reader__instr_in(&df->instrs[run->first_instr + k], run->start,
                          run->end))
      return false;
  for (uint32_t k = 0; k < run->nproblems; k++)
    if (!reader__range_in(&df->problems[run->first_problem + k].range,
                          run->start, run->end))
      return false;
  return true;
}

static void reader__push_run(struct df_incr *inc, size_t *cap,
                             struct reader_run run) {
  if (inc->nruns == *cap) {
    *cap = *cap ? *cap * 2 : 64;
    inc->runs = xrealloc(inc->runs, *cap * sizeof(*inc->runs));
  }
  inc->runs[inc->nruns++] = run;
}

/* ---- reading ------------------------------------------------------------ */

/* Sets up r for text; `lines_hint` is about how many lines it has (an
 * update knows it from the model), so the table is not regrown. */
static void reader__init(struct reader *r, struct dockerfile *df,
                         const char *text, size_t len, size_t lines_hint) {
  memset(r, 0, sizeof(*r));
  r->src = text ? text : "";
  r->len = text ? len : 0;
  r->escape = '\\';
  r->df = df;
  r->arena = &df->arena;

  /* Lines as bufio.Scanner with BuildKit's scanLines splits them. */
  size_t cap = lines_hint > 64 ? lines_hint : 64;
  r->lines = xmalloc(cap * sizeof(*r->lines));
  size_t start = 0;
  while (start < r->len) {
    const char *nl = memchr(r->src + start, '\n', r->len - start);
    size_t end = nl ? (size_t)(nl - r->src) + 1 : r->len;
    if (r->nlines == cap) {
      cap *= 2;
      r->lines = xrealloc(r->lines, cap * sizeof(*r->lines));
    }
    r->lines[r->nlines].start = (uint32_t)start;
    r->lines[r->nlines].end = (uint32_t)end;
    r->nlines++;
    start = end;
  }
  if (r->len >= 3 && memcmp(r->src, "\xEF\xBB\xBF", 3) == 0)
    r->bom = 3;
}

static void reader__cleanup(struct reader *r) {
  free(r->lines);
  buf_cleanup(&r->lg.text);
  free(r->lg.pieces);
  args_list_cleanup(&r->cmd.flags);
  args_result_cleanup(&r->res);
}

/* Bytes [start, end) of the rows [row, row_end). */
static struct reader_run reader__run_span(const struct reader *r, size_t row,
                                          size_t row_end) {
  struct reader_run run;
  memset(&run, 0, sizeof(run));
  run.start = r->lines[row].start;
  run.end = row_end < r->nlines ? r->lines[row_end].start : (uint32_t)r->len;
  return run;
}

/* Reads one run and records what it produced.  False when reading stops
 * (see reader__segment). */
static bool reader__read_run(struct reader *r, struct df_incr *inc,
                             size_t *runs_cap, size_t row, size_t row_end,
                             uint32_t node_index) {
  struct dockerfile *df = r->df;
  struct reader_run run = reader__run_span(r, row, row_end);
  run.first_instr = (uint32_t)df->ninstrs;
  run.first_problem = (uint32_t)df->nproblems;
  bool more = reader__segment(r, row, row_end, node_index);
  run.ninstrs = (uint32_t)df->ninstrs - run.first_instr;
  run.nproblems = (uint32_t)df->nproblems - run.first_problem;
  run.local = reader__run_local(df, &run);
  reader__push_run(inc, runs_cap, run);
  return more;
}

/* The whole text, into an empty model. */
static void reader__read_all(struct dockerfile *df, const char *text,
                             size_t len, const TSTree *tree) {
  struct reader r;
  reader__init(&r, df, text, len, 0);
  df->nlines = (uint32_t)r.nlines;
  df->has_bom = r.bom > 0;
  struct df_incr *inc = xcalloc(1, sizeof(*inc));
  df->incr = inc;
  inc->len = r.len;
  size_t runs_cap = 0;

  bool whole = reader__directives(&r, &inc->header_end);
  inc->reusable = whole;
  if (whole) {
    struct reader_segment *segs;
    size_t nsegs = reader__segments(&r, tree, &segs);
    if (tree != NULL) {
      /* With a tree nearly every run is one instruction: size the array
       * once rather than copying it as it doubles. */
      r.instr_cap = nsegs + 8;
      df->instrs = arena_alloc(r.arena, r.instr_cap * sizeof(*df->instrs));
    }
    for (size_t i = 0; i < nsegs; i++) {
      size_t end = i + 1 < nsegs ? segs[i + 1].row : r.nlines;
      if (!reader__read_run(&r, inc, &runs_cap, segs[i].row, end,
                            segs[i].node_index)) {
        inc->reusable = false;
        break;
      }
    }
    free(segs);
  }
  df->escape = r.escape;
  if (df->ninstrs == 0 && df->nproblems == 0) {
    size_t at = r.nlines ? r.lines[r.nlines - 1].start : 0;
    reader__problem(&r, DF_PROBLEM_ERROR, reader__range(&r, at, at),
                    "file with no instructions");
    inc->reusable = false; /* that problem belongs to no run */
  }
  inc->instr_cap = r.instr_cap;
  inc->problem_cap = r.problem_cap;
  reader__stages(df);
  reader__cleanup(&r);
}

/* ---- public ----------------------------------------------------------- */

struct dockerfile *dockerfile_parse(const char *text, size_t len,
                                    const struct TSTree *tree) {
  struct dockerfile *df = xcalloc(1, sizeof(*df));
  arena_init(&df->arena);
  reader__read_all(df, text, len, (const TSTree *)tree);
  return df;
}

static void reader__incr_free(struct df_incr *inc) {
  if (inc == NULL)
    return;
  free(inc->runs);
  free(inc);
}

void dockerfile_free(struct dockerfile *df) {
  if (df == NULL)
    return;
  /* Every string and array of the model is in the arena. */
  arena_cleanup(&df->arena);
  reader__incr_free(df->incr);
  free(df);
}

/* Empties df and reads the whole text again. */
static void reader__reread(struct dockerfile *df, const char *text, size_t len,
                           const TSTree *tree) {
  arena_cleanup(&df->arena);
  reader__incr_free(df->incr);
  memset(df, 0, sizeof(*df));
  arena_init(&df->arena);
  reader__read_all(df, text, len, tree);
}

/*
 * DESIGN (dockerfile_update)
 * A run's instructions and problems depend only on the run's lines and on
 * the escape character (see reader__segment), and the header (directives,
 * BOM) only on the lines reader__directives looked at.  So when the new
 * tree marks a run with exactly the bytes of a run read before, wholly in
 * the unchanged prefix or wholly in the unchanged suffix, its output is
 * what reading it again would give, moved by the edit's byte and row
 * deltas.  Everything else is read again.  The runs are walked in order,
 * so instructions and problems stay in source order.
 *
 * Runs read again leave their old strings in the arena; once that garbage
 * outgrows half the arena the next update reads everything instead, so a
 * long editing session stays within about twice a fresh model's memory.
 */
void dockerfile_update(struct dockerfile *df, const char *text, size_t len,
                       const struct TSTree *tree, size_t same_prefix,
                       size_t same_suffix) {
  struct df_incr *inc = df->incr;
  if (text == NULL)
    len = 0;
  if (inc == NULL || !inc->reusable || same_prefix < inc->header_end ||
      same_prefix > len || same_prefix > inc->len ||
      same_suffix > len - same_prefix ||
      same_suffix > inc->len - same_prefix ||
      inc->garbage > arena_bytes(&df->arena) / 2) {
    reader__reread(df, text, len, (const TSTree *)tree);
    return;
  }
  struct reader r;
  reader__init(&r, df, text, len, (size_t)df->nlines + 64);
  r.escape = df->escape;
  uint32_t d = (uint32_t)(len - inc->len);
  uint32_t dr = (uint32_t)(r.nlines - df->nlines);
  size_t suffix_start = len - same_suffix; /* in the new text */

  struct df_instr *old_instrs = df->instrs;
  size_t old_instr_size = inc->instr_cap * sizeof(*old_instrs);
  struct df_problem *old_problems = df->problems;
  size_t old_problem_size = inc->problem_cap * sizeof(*old_problems);
  struct reader_run *old_runs = inc->runs;
  size_t old_nruns = inc->nruns;

  struct reader_segment *segs;
  size_t nsegs = reader__segments(&r, (const TSTree *)tree, &segs);
  r.instr_cap = (df->ninstrs > nsegs ? df->ninstrs : nsegs) + 8;
  df->instrs = arena_alloc(r.arena, r.instr_cap * sizeof(*df->instrs));
  df->ninstrs = 0;
  r.problem_cap = df->nproblems + 8;
  df->problems = arena_alloc(r.arena, r.problem_cap * sizeof(*df->problems));
  df->nproblems = 0;
  df->nlines = (uint32_t)r.nlines;
  inc->runs = NULL;
  inc->nruns = 0;
  size_t runs_cap = 0;

  size_t j = 0; /* old runs before j start before anything still wanted */
  for (size_t i = 0; i < nsegs; i++) {
    size_t end = i + 1 < nsegs ? segs[i + 1].row : r.nlines;
    struct reader_run want = reader__run_span(&r, segs[i].row, end);
    /* Where the run would have been in the old text. */
    bool before = want.end <= same_prefix;
    bool after = want.start >= suffix_start;
    const struct reader_run *old = NULL;
    if (before || after) {
      uint32_t os = before ? want.start : want.start - d;
      uint32_t oe = before ? want.end : want.end - d;
      while (j < old_nruns && old_runs[j].start < os)
        j++;
      if (j < old_nruns && old_runs[j].start == os && old_runs[j].end == oe &&
          old_runs[j].local)
        old = &old_runs[j];
    }
    if (old == NULL) {
      size_t held = arena_bytes(r.arena);
      bool more = reader__read_run(&r, inc, &runs_cap, segs[i].row, end,
                                   segs[i].node_index);
      inc->garbage += arena_bytes(r.arena) - held;
      if (!more) {
        inc->reusable = false;
        break;
      }
      continue;
    }
    struct reader_run run = want;
    run.first_instr = (uint32_t)df->ninstrs;
    run.ninstrs = old->ninstrs;
    run.first_problem = (uint32_t)df->nproblems;
    run.nproblems = old->nproblems;
    run.local = true;
    for (uint32_t k = 0; k < old->ninstrs; k++) {
      struct df_instr *in = reader__new_instr(&r);
      *in = old_instrs[old->first_instr + k];
      in->node_index = segs[i].node_index;
      if (after)
        reader__shift_instr(in, d, dr);
    }
    for (uint32_t k = 0; k < old->nproblems; k++) {
      struct df_problem p = old_problems[old->first_problem + k];
      if (after)
        reader__shift_range(&p.range, d, dr);
      if (df->nproblems == r.problem_cap) {
        size_t cap = r.problem_cap * 2;
        df->problems = arena_realloc(r.arena, df->problems,
                                     r.problem_cap * sizeof(*df->problems),
                                     cap * sizeof(*df->problems));
        r.problem_cap = cap;
      }
      df->problems[df->nproblems++] = p;
    }
    reader__push_run(inc, &runs_cap, run);
  }
  free(segs);
  free(old_runs);
  /* Small arrays stay in their chunk until the next full read. */
  inc->garbage += (old_instr_size > ARENA_LARGE ? 0 : old_instr_size) +
                  (old_problem_size > ARENA_LARGE ? 0 : old_problem_size);
  arena_free(r.arena, old_instrs, old_instr_size);
  arena_free(r.arena, old_problems, old_problem_size);
  inc->len = r.len;
  inc->instr_cap = r.instr_cap;
  inc->problem_cap = r.problem_cap;
  if (df->ninstrs == 0 && df->nproblems == 0) {
    /* "file with no instructions": the full read words it. */
    reader__cleanup(&r);
    reader__reread(df, text, len, (const TSTree *)tree);
    return;
  }
  reader__stages(df);
  reader__cleanup(&r);
}

const struct df_problem *dockerfile_first_error(const struct dockerfile *df) {
  const struct df_problem *first = NULL;
  for (size_t i = 0; i < df->nproblems; i++) {
    const struct df_problem *p = &df->problems[i];
    if (p->kind != DF_PROBLEM_ERROR)
      continue;
    if (first == NULL || p->range.start.byte < first->range.start.byte)
      first = p;
  }
  return first;
}

const char *df_kind_name(enum df_kind kind) {
  switch (kind) {
#define DF_KIND_NAME(name, kw)                                                \
  case DF_##name:                                                             \
    return kw;
    DF_INSTR_MAP(DF_KIND_NAME)
#undef DF_KIND_NAME
  case DF_UNKNOWN:
  case DF_KIND_COUNT:
    break;
  }
  return "";
}

enum df_kind df_kind_from_word(const char *word, size_t len) {
  /* The length first: most keywords are ruled out without a compare. */
#define DF_KIND_MATCH(name, kw)                                               \
  if (len == sizeof(kw) - 1 && text_ieq(word, len, kw))                       \
    return DF_##name;
  DF_INSTR_MAP(DF_KIND_MATCH)
#undef DF_KIND_MATCH
  return DF_UNKNOWN;
}
