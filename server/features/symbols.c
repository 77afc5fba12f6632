/*
 * symbols.c - textDocument/documentSymbol and workspace/symbol.
 *
 * A document's symbols are a hierarchy: the global ARGs at the top, then
 * each stage (its name, or "stage N" when it has none; detail: the base
 * image) with its instructions as children (the keyword; detail: the rest
 * of the logical line, shortened).  The workspace's are the open
 * Dockerfiles' stages and ARG/ENV variables whose name contains the query
 * (case-insensitively); a document not used lately (cold, see
 * documents.h) is read without its tree rather than warmed up.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/buf.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"

/* LSP's SymbolKind values we use. */
enum {
  SYM_FILE = 1,
  SYM_NAMESPACE = 3,
  SYM_PROPERTY = 7,
  SYM_FIELD = 8,
  SYM_FUNCTION = 12,
  SYM_VARIABLE = 13,
  SYM_CONSTANT = 14,
  SYM_KEY = 20,
  SYM_EVENT = 24,
};

static int symbols__kind(enum df_kind k) {
  switch (k) {
  case DF_RUN:
  case DF_CMD:
  case DF_ENTRYPOINT:
  case DF_SHELL:
  case DF_HEALTHCHECK:
    return SYM_FUNCTION;
  case DF_ARG:
  case DF_ENV:
    return SYM_VARIABLE;
  case DF_LABEL:
    return SYM_PROPERTY;
  case DF_COPY:
  case DF_ADD:
  case DF_WORKDIR:
  case DF_VOLUME:
    return SYM_FILE;
  case DF_EXPOSE:
  case DF_STOPSIGNAL:
    return SYM_CONSTANT;
  case DF_USER:
  case DF_MAINTAINER:
    return SYM_KEY;
  case DF_ONBUILD:
    return SYM_EVENT;
  default:
    return SYM_FIELD;
  }
}

/* The strings the symbols borrow, kept until the reply is built. */
struct symbols_list {
  struct proto_symbol *v;
  size_t n, cap;
  struct strv strings;
};

static struct proto_symbol *symbols__push(struct symbols_list *l) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 32;
    l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
  }
  struct proto_symbol *s = &l->v[l->n++];
  memset(s, 0, sizeof(*s));
  s->parent = SIZE_MAX;
  return s;
}

static const char *symbols__keep(struct symbols_list *l, char *s) {
  strv_push_take(&l->strings, s);
  return s;
}

static void symbols__cleanup(struct symbols_list *l) {
  free(l->v);
  strv_cleanup(&l->strings);
}

/* An instruction's detail: its logical line after the keyword, blanks
 * squeezed, at most 80 bytes (cut at a UTF-8 boundary). */
static char *symbols__detail(const struct df_instr *in) {
  const char *o = in->original ? in->original : "";
  size_t kl = strlen(in->keyword);
  while (*o == ' ' || *o == '\t')
    o++;
  if (strncasecmp(o, in->keyword, kl) == 0)
    o += kl;
  struct buf b = BUF_INIT;
  bool blank = false;
  for (; *o && b.len < 80; o++) {
    if (isspace((unsigned char)*o)) {
      blank = b.len > 0;
      continue;
    }
    if (blank)
      buf_putc(&b, ' ');
    blank = false;
    buf_putc(&b, *o);
  }
  if (*o) {
    while (b.len > 0 && ((unsigned char)b.data[b.len - 1] & 0xC0) == 0x80)
      b.len--;
    if (b.len > 0 && ((unsigned char)b.data[b.len - 1] & 0x80))
      b.len--;
    buf_puts(&b, "…");
  }
  buf_putc(&b, '\0');
  return buf_take(&b);
}

static void symbols__instr(struct symbols_list *l, const struct df_instr *in,
                           size_t parent) {
  struct proto_symbol *s = symbols__push(l);
  char *kw = xstrdup(in->keyword);
  for (char *p = kw; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  s->name = symbols__keep(l, kw);
  s->detail = symbols__keep(l, symbols__detail(in));
  s->kind = symbols__kind(in->kind);
  s->start = in->range.start.byte;
  s->end = in->range.end.byte;
  s->sel_start = in->keyword_range.start.byte;
  s->sel_end = in->keyword_range.end.byte;
  s->parent = parent;
}

static void symbols__document(struct symbols_list *l,
                              const struct dockerfile *df) {
  for (size_t i = 0; i < df->nglobal && i < df->ninstrs; i++)
    symbols__instr(l, &df->instrs[i], SIZE_MAX);
  for (size_t k = 0; k < df->nstages; k++) {
    const struct df_stage *st = &df->stages[k];
    const struct df_instr *from = &df->instrs[st->from_instr];
    const struct df_instr *last =
        &df->instrs[st->from_instr + (st->ninstrs ? st->ninstrs - 1 : 0)];
    size_t idx = l->n;
    struct proto_symbol *s = symbols__push(l);
    if (st->name) {
      s->name = st->name;
      s->sel_start = st->name_range.start.byte;
      s->sel_end = st->name_range.end.byte;
    } else {
      struct buf b = BUF_INIT;
      buf_printf(&b, "stage %zu", st->index);
      s->name = symbols__keep(l, buf_take(&b));
      s->sel_start = from->keyword_range.start.byte;
      s->sel_end = from->keyword_range.end.byte;
    }
    s->detail = st->base;
    s->kind = SYM_NAMESPACE;
    s->start = from->range.start.byte;
    s->end = last->range.end.byte;
    for (size_t i = st->from_instr + 1; i < st->from_instr + st->ninstrs; i++)
      symbols__instr(l, &df->instrs[i], idx);
  }
}

int symbols_document(struct server *self, const struct rpc_msg *msg,
                     struct err *err) {
  const char *uri;
  int rc = proto_read_text_document(msg->params, &uri, NULL, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = doc_use(&self->docs, uri, &df);
  if (df == NULL) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  struct symbols_list l;
  memset(&l, 0, sizeof(l));
  strv_init(&l.strings);
  symbols__document(&l, df);
  rpc_reply(&self->rpc, msg->id, proto_document_symbols(self, d, l.v, l.n));
  symbols__cleanup(&l);
  return 0;
}

static bool symbols__matches(const char *name, size_t len, const char *query) {
  size_t q = strlen(query);
  if (q == 0)
    return true;
  for (size_t i = 0; i + q <= len; i++)
    if (strncasecmp(name + i, query, q) == 0)
      return true;
  return false;
}

/* A document's stages and variables matching the query. */
static void symbols__workspace(struct symbols_list *l,
                               const struct dockerfile *df, const char *text,
                               const char *query) {
  size_t stage_sym = SIZE_MAX;
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (in->kind == DF_FROM) {
      stage_sym = SIZE_MAX;
      for (size_t k = 0; k < df->nstages; k++) {
        const struct df_stage *st = &df->stages[k];
        if (st->from_instr != i || st->name == NULL ||
            !symbols__matches(st->name, strlen(st->name), query))
          continue;
        stage_sym = l->n;
        struct proto_symbol *s = symbols__push(l);
        s->name = st->name;
        s->kind = SYM_NAMESPACE;
        s->sel_start = st->name_range.start.byte;
        s->sel_end = st->name_range.end.byte;
      }
      continue;
    }
    size_t step = in->kind == DF_ENV ? 3 : 1;
    if (in->kind != DF_ARG && in->kind != DF_ENV)
      continue;
    for (size_t a = 0; a < in->nargs; a += step) {
      const struct df_arg *arg = &in->args[a];
      const char *eq = in->kind == DF_ARG ? strchr(arg->value, '=') : NULL;
      size_t n = eq ? (size_t)(eq - arg->value) : strlen(arg->value);
      size_t s0 = arg->range.start.byte;
      if (n == 0 || memcmp(text + s0, arg->value, n) != 0 ||
          !symbols__matches(arg->value, n, query))
        continue;
      struct proto_symbol *s = symbols__push(l);
      s->name = symbols__keep(l, xstrndup(arg->value, n));
      s->kind = SYM_VARIABLE;
      s->sel_start = s0;
      s->sel_end = s0 + n;
      s->parent = stage_sym;
    }
  }
}

int symbols_workspace(struct server *self, const struct rpc_msg *msg,
                      struct err *err) {
  const char *query;
  int rc = proto_read_workspace_symbol(msg->params, &query, err);
  if (rc)
    return rc;
  json_object *list = json_object_new_array();
  for (size_t i = 0; i < self->docs.n; i++) {
    struct doc *d = self->docs.v[i];
    if (d->too_big)
      continue;
    struct dockerfile *own = NULL;
    const struct dockerfile *df =
        d->cold ? (own = dockerfile_parse(d->text, d->len, NULL))
                : doc_model(d);
    if (df == NULL)
      continue;
    struct symbols_list l;
    memset(&l, 0, sizeof(l));
    strv_init(&l.strings);
    symbols__workspace(&l, df, d->text, query);
    proto_workspace_symbols_add(list, self, d, l.v, l.n);
    symbols__cleanup(&l);
    dockerfile_free(own);
  }
  rpc_reply(&self->rpc, msg->id, list);
  return 0;
}
