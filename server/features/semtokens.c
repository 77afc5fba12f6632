/*
 * semtokens.c - textDocument/semanticTokens/full, full/delta and range,
 * with the legend of semtokens.h (docs/language-server.md).
 *
 * DESIGN
 * The tokens are painted onto the document's bytes, lowest priority
 * first (strings and shell operators, then flags, keys, keywords, then
 * the names navigation.h finds: stages, images, variables, heredoc
 * delimiters), so a later, more precise token simply wins where two
 * overlap (a $VAR inside a quoted string splits the string).  Runs of
 * equal paint become tokens, cut at line ends (no multi-line tokens) and
 * converted to the client's position units by documents.c.
 *
 * The last full result of each document is kept by its result id; a
 * delta request that names it gets one edit: the data between the common
 * prefix and the common suffix of the old and new integer arrays.  An
 * unknown id gets a full result.
 */
#include "semtokens.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../hooks.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "navigation.h"

struct semtok_result {
  char *uri; /* owned */
  char id[24];
  uint32_t *data; /* owned */
  size_t n;
};

struct semtok_state {
  struct semtok_result *v; /* owned */
  size_t n, cap;
  uint64_t next_id;
};

/* ---- painting --------------------------------------------------------- */

/* One byte's paint: 0 for none, else (type + 1) | modifiers << 8. */
typedef uint16_t semtok_paint;

struct semtok_canvas {
  const char *text;
  size_t len;
  semtok_paint *p; /* len entries */
};

static void semtok__paint(struct semtok_canvas *c, size_t s, size_t e,
                          enum semtok_type type, unsigned mods) {
  if (e > c->len)
    e = c->len;
  semtok_paint v = (semtok_paint)((type + 1) | (mods << 8));
  for (size_t i = s; i < e; i++)
    c->p[i] = v;
}

static bool semtok__blank(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Quoted strings everywhere in [s, e), and, for a shell form, && || | ;
 * outside them; heredoc bodies skipped. */
static void semtok__strings(struct semtok_canvas *c, const struct df_instr *in,
                            size_t s, size_t e, char esc) {
  const char *t = c->text;
  bool shell = in->form == DF_FORM_SHELL;
  for (size_t i = s; i < e;) {
    bool in_body = false;
    for (size_t h = 0; h < in->nheredocs; h++)
      if (i >= in->heredocs[h].body.start.byte &&
          i < in->heredocs[h].body.end.byte) {
        i = in->heredocs[h].body.end.byte;
        in_body = true;
      }
    if (in_body)
      continue;
    char ch = t[i];
    if (ch == esc) {
      i += 2;
      continue;
    }
    if (ch == '"' || ch == '\'') {
      size_t q = i + 1;
      while (q < e && t[q] != ch) {
        if (ch == '"' && t[q] == esc)
          q++;
        q++;
      }
      if (q < e)
        q++;
      semtok__paint(c, i, q, SEMTOK_STRING, 0);
      i = q;
      continue;
    }
    if (shell && (ch == '&' || ch == '|' || ch == ';')) {
      size_t q = i + 1;
      if (q < e && t[q] == ch && ch != ';')
        q++;
      semtok__paint(c, i, q, SEMTOK_OPERATOR, 0);
      i = q;
      continue;
    }
    if (ch == '<' && i + 1 < e && t[i + 1] == '<' && in->nheredocs > 0) {
      size_t q = i + 2;
      if (q < e && t[q] == '-')
        q++;
      semtok__paint(c, i, q, SEMTOK_OPERATOR, 0);
      i = q;
      continue;
    }
    i++;
  }
}

/* --name[=value] and, in a --mount value, key=value pairs. */
static void semtok__flags(struct semtok_canvas *c, const struct df_instr *in) {
  const char *t = c->text;
  for (size_t f = 0; f < in->nflags; f++) {
    size_t s = in->flags[f].range.start.byte, e = in->flags[f].range.end.byte;
    if (e > c->len || s >= e)
      continue;
    const char *eq = memchr(t + s, '=', e - s);
    size_t ne = eq ? (size_t)(eq - t) : e;
    semtok__paint(c, s, ne, SEMTOK_PARAMETER, 0);
    if (!eq)
      continue;
    semtok__paint(c, ne, ne + 1, SEMTOK_OPERATOR, 0);
    if (strcmp(in->flags[f].name, "mount") != 0)
      continue;
    for (size_t p = ne + 1; p < e;) {
      size_t q = p;
      while (q < e && t[q] != ',' && t[q] != '=')
        q++;
      semtok__paint(c, p, q, SEMTOK_PROPERTY, 0);
      if (q < e && t[q] == '=')
        semtok__paint(c, q, q + 1, SEMTOK_OPERATOR, 0);
      while (q < e && t[q] != ',')
        q++;
      p = q + 1;
    }
  }
}

static void semtok__instr(struct semtok_canvas *c, const struct df_instr *in,
                          char esc) {
  const char *t = c->text;
  semtok__strings(c, in, in->keyword_range.end.byte, in->range.end.byte, esc);
  semtok__flags(c, in);
  if (in->kind == DF_FROM) {
    if (in->nargs > 0)
      semtok__paint(c, in->args[0].range.start.byte,
                    in->args[0].range.end.byte, SEMTOK_TYPE, 0);
    if (in->nargs > 1 && strcasecmp(in->args[1].value, "as") == 0)
      semtok__paint(c, in->args[1].range.start.byte,
                    in->args[1].range.end.byte, SEMTOK_KEYWORD, 0);
  }
  if (in->form == DF_FORM_KEYVAL || in->kind == DF_ARG) {
    size_t step = in->form == DF_FORM_KEYVAL ? 3 : 1;
    for (size_t a = 0; a < in->nargs; a += step) {
      size_t s = in->args[a].range.start.byte;
      size_t e = in->args[a].range.end.byte;
      size_t k = s;
      while (k < e && k < c->len && t[k] != '=' && !semtok__blank(t[k]))
        k++;
      if (in->kind == DF_LABEL)
        semtok__paint(c, s, k, SEMTOK_PROPERTY, 0);
      if (k < c->len && t[k] == '=') /* a KEYVAL key's range ends before */
        semtok__paint(c, k, k + 1, SEMTOK_OPERATOR, 0);
    }
  }
  semtok__paint(c, in->keyword_range.start.byte, in->keyword_range.end.byte,
                SEMTOK_KEYWORD,
                in->kind == DF_MAINTAINER ? SEMTOK_MOD(DEPRECATED) : 0);
  if (in->sub)
    semtok__instr(c, in->sub, esc);
}

/* Comment lines outside heredoc bodies, and the directives. */
static void semtok__comments(struct semtok_canvas *c,
                             const struct dockerfile *df) {
  const char *t = c->text;
  size_t ii = 0;
  for (size_t p = 0; p < c->len;) {
    const char *nl = memchr(t + p, '\n', c->len - p);
    size_t e = nl ? (size_t)(nl - t) : c->len;
    while (ii < df->ninstrs && df->instrs[ii].range.end.byte <= p)
      ii++;
    bool body = false;
    if (ii < df->ninstrs) {
      const struct df_instr *in = &df->instrs[ii];
      const struct df_instr *ins[2] = {in, in->sub};
      for (int k = 0; k < 2; k++)
        for (size_t h = 0; ins[k] && h < ins[k]->nheredocs; h++)
          if (p >= ins[k]->heredocs[h].body.start.byte &&
              p < ins[k]->heredocs[h].body.end.byte)
            body = true;
    }
    size_t s = p;
    while (s < e && semtok__blank(t[s]))
      s++;
    if (!body && s < e && t[s] == '#')
      semtok__paint(c, s, e > s && t[e - 1] == '\r' ? e - 1 : e,
                    SEMTOK_COMMENT, 0);
    p = e + 1;
  }
  for (size_t i = 0; i < df->ndirectives; i++)
    semtok__paint(c, df->directives[i].range.start.byte,
                  df->directives[i].range.end.byte, SEMTOK_MACRO, 0);
}

static void semtok__names(struct semtok_canvas *c,
                          const struct nav_index *ix) {
  for (size_t i = 0; i < ix->n; i++) {
    const struct nav_item *it = &ix->v[i];
    unsigned decl = it->decl ? SEMTOK_MOD(DECLARATION) : 0;
    switch (it->kind) {
    case NAV_STAGE:
      semtok__paint(c, it->start, it->end, SEMTOK_NAMESPACE, decl);
      break;
    case NAV_IMAGE:
      semtok__paint(c, it->start, it->end, SEMTOK_TYPE, 0);
      break;
    case NAV_VAR:
      semtok__paint(c, it->start, it->end, SEMTOK_VARIABLE, decl);
      break;
    case NAV_BUILTIN:
      semtok__paint(c, it->start, it->end, SEMTOK_VARIABLE,
                    SEMTOK_MOD(READONLY));
      break;
    case NAV_HEREDOC:
      semtok__paint(c, it->start, it->end, SEMTOK_LABEL, decl);
      break;
    }
  }
}

/* ---- encoding ----------------------------------------------------------- */

struct semtok_data {
  uint32_t *v;
  size_t n, cap;
};

static void semtok__put(struct semtok_data *d, uint32_t a, uint32_t b,
                        uint32_t c, uint32_t e, uint32_t f) {
  if (d->n + 5 > d->cap) {
    d->cap = d->cap ? d->cap * 2 : 1024;
    d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
  }
  uint32_t *p = d->v + d->n;
  p[0] = a;
  p[1] = b;
  p[2] = c;
  p[3] = e;
  p[4] = f;
  d->n += 5;
}

/* The tokens of bytes [from, to) (whole lines), encoded. */
static void semtok__compute(struct server *self, struct doc *d,
                            const struct dockerfile *df, size_t from,
                            size_t to, struct semtok_data *out) {
  struct semtok_canvas c = {d->text, d->len, NULL};
  c.p = xcalloc(d->len + 1, sizeof(*c.p));
  for (size_t i = 0; i < df->ninstrs; i++)
    semtok__instr(&c, &df->instrs[i], df->escape);
  struct nav_index ix;
  nav_index_build(&ix, df, d->text, d->len);
  semtok__names(&c, &ix);
  nav_index_cleanup(&ix);
  semtok__comments(&c, df);

  uint32_t prev_line = 0, prev_char = 0;
  const char *t = d->text;
  for (size_t i = from; i < to && i < d->len;) {
    semtok_paint v = c.p[i];
    if (v == 0 || t[i] == '\n') {
      i++;
      continue;
    }
    size_t e = i;
    while (e < to && e < d->len && c.p[e] == v && t[e] != '\n')
      e++;
    /* No blanks at a token's ends (a string is whole, blanks inside). */
    size_t s = i;
    while (s < e && semtok__blank(t[s]))
      s++;
    size_t te = e;
    while (te > s && semtok__blank(t[te - 1]))
      te--;
    if (te > s) {
      struct df_range r;
      memset(&r, 0, sizeof(r));
      r.start.byte = (uint32_t)s;
      r.end.byte = (uint32_t)te;
      struct lsp_range lr = doc_range(d, &r, self->encoding);
      uint32_t dl = lr.start.line - prev_line;
      uint32_t dc =
          dl == 0 ? lr.start.character - prev_char : lr.start.character;
      semtok__put(out, dl, dc, lr.end.character - lr.start.character,
                  (uint32_t)((v & 0xff) - 1), (uint32_t)(v >> 8));
      prev_line = lr.start.line;
      prev_char = lr.start.character;
    }
    i = e;
  }
  free(c.p);
}

/* ---- results kept for deltas -------------------------------------------- */

static struct semtok_result *semtok__result(struct server *self,
                                            const char *uri, bool create) {
  struct semtok_state *st = self->semtokens;
  if (st == NULL) {
    if (!create)
      return NULL;
    st = self->semtokens = xcalloc(1, sizeof(*st));
  }
  for (size_t i = 0; i < st->n; i++)
    if (strcmp(st->v[i].uri, uri) == 0)
      return &st->v[i];
  if (!create)
    return NULL;
  if (st->n == st->cap) {
    st->cap = st->cap ? st->cap * 2 : 8;
    st->v = xrealloc(st->v, st->cap * sizeof(*st->v));
  }
  struct semtok_result *r = &st->v[st->n++];
  memset(r, 0, sizeof(*r));
  r->uri = xstrdup(uri);
  return r;
}

/* Keeps data (taken) as uri's latest result, with a new id. */
static struct semtok_result *semtok__keep(struct server *self, const char *uri,
                                          struct semtok_data *data) {
  struct semtok_result *r = semtok__result(self, uri, true);
  free(r->data);
  r->data = data->v;
  r->n = data->n;
  snprintf(r->id, sizeof(r->id), "%llu",
           (unsigned long long)++self->semtokens->next_id);
  memset(data, 0, sizeof(*data));
  return r;
}

void semtokens_forget(struct server *self, struct doc *d) {
  struct semtok_state *st = self->semtokens;
  for (size_t i = 0; st && i < st->n; i++)
    if (strcmp(st->v[i].uri, d->uri) == 0) {
      free(st->v[i].uri);
      free(st->v[i].data);
      st->v[i] = st->v[--st->n];
      return;
    }
}

void semtokens_stop(struct server *self) {
  struct semtok_state *st = self->semtokens;
  if (st == NULL)
    return;
  for (size_t i = 0; i < st->n; i++) {
    free(st->v[i].uri);
    free(st->v[i].data);
  }
  free(st->v);
  free(st);
  self->semtokens = NULL;
}

/* ---- requests -------------------------------------------------------------
 */

static struct doc *semtok__doc(struct server *self, const char *uri,
                               const struct dockerfile **df) {
  struct doc *d = doc_use(&self->docs, uri, df);
  return *df ? d : NULL;
}

int semtokens_full(struct server *self, const struct rpc_msg *msg,
                   struct err *err) {
  const char *uri;
  int rc = proto_read_text_document(msg->params, &uri, NULL, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = semtok__doc(self, uri, &df);
  if (d == NULL) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  struct semtok_data data = {0};
  semtok__compute(self, d, df, 0, d->len, &data);
  struct semtok_result *r = semtok__keep(self, uri, &data);
  rpc_reply(&self->rpc, msg->id, proto_semantic_tokens(r->id, r->data, r->n));
  return 0;
}

int semtokens_delta(struct server *self, const struct rpc_msg *msg,
                    struct err *err) {
  const char *uri, *previous;
  int rc = proto_read_tokens_delta(msg->params, &uri, &previous, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = semtok__doc(self, uri, &df);
  if (d == NULL) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  struct semtok_data data = {0};
  semtok__compute(self, d, df, 0, d->len, &data);
  struct semtok_result *old = semtok__result(self, uri, false);
  if (old == NULL || previous == NULL || strcmp(old->id, previous) != 0) {
    struct semtok_result *r = semtok__keep(self, uri, &data);
    rpc_reply(&self->rpc, msg->id,
              proto_semantic_tokens(r->id, r->data, r->n));
    return 0;
  }
  /* One edit: what lies between the common prefix and suffix. */
  size_t pre = 0;
  while (pre < old->n && pre < data.n && old->data[pre] == data.v[pre])
    pre++;
  size_t suf = 0;
  while (suf < old->n - pre && suf < data.n - pre &&
         old->data[old->n - 1 - suf] == data.v[data.n - 1 - suf])
    suf++;
  size_t del = old->n - pre - suf, ins = data.n - pre - suf;
  uint32_t *add = xmalloc((ins ? ins : 1) * sizeof(uint32_t));
  memcpy(add, data.v + pre, ins * sizeof(uint32_t));
  struct semtok_result *r = semtok__keep(self, uri, &data);
  rpc_reply(&self->rpc, msg->id,
            proto_semantic_delta(r->id, pre, del, add, ins));
  free(add);
  return 0;
}

int semtokens_range(struct server *self, const struct rpc_msg *msg,
                    struct err *err) {
  const char *uri;
  struct lsp_range range;
  int rc = proto_read_range_request(msg->params, &uri, &range, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = semtok__doc(self, uri, &df);
  if (d == NULL) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  /* Whole lines: a token never starts before the range's first line. */
  struct lsp_pos a = {range.start.line, 0};
  size_t from = doc_offset(d, a, self->encoding);
  size_t to = d->len;
  if (range.end.line < UINT32_MAX) {
    struct lsp_pos b = {range.end.line + 1, 0};
    to = doc_offset(d, b, self->encoding); /* clamped past the end */
  }
  struct semtok_data data = {0};
  semtok__compute(self, d, df, from, to, &data);
  rpc_reply(&self->rpc, msg->id, proto_semantic_tokens(NULL, data.v, data.n));
  free(data.v);
  return 0;
}
