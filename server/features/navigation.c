/*
 * navigation.c - textDocument/definition, references, documentHighlight,
 * prepareRename and rename, on the index of names in navigation.h.
 *
 * DESIGN
 * One pass over the model collects every occurrence (nav_index_build);
 * each request then finds the occurrence under the cursor and the others
 * with its kind and key.  Variable uses are resolved with locate_vars, the
 * scoping hover and completion use, once per instruction that has uses.
 * Declarations are grouped into variables with a union-find: a rename
 * must change every declaration BuildKit would treat as the same
 * variable, or the build would mean something else.
 *
 * A rename is refused, with a message saying why, when the name is not
 * one BuildKit accepts, when it would clash with another stage or a
 * variable already in scope, when the cursor is on an image or a built-in
 * ARG, or when a heredoc body has a line equal to the new delimiter.
 */
#include "navigation.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/buf.h"
#include "../../model/knowledge.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "locate.h"

/* ---- the index ------------------------------------------------------------
 */

struct nav_build {
  struct nav_index *ix;
  const struct dockerfile *df;
  const char *text;
  size_t len;
  size_t nheredocs;
};

static struct nav_item *nav__push(struct nav_index *ix, enum nav_kind kind,
                                  size_t start, size_t end, size_t instr) {
  if (ix->n == ix->cap) {
    ix->cap = ix->cap ? ix->cap * 2 : 64;
    ix->v = xrealloc(ix->v, ix->cap * sizeof(*ix->v));
  }
  struct nav_item *it = &ix->v[ix->n++];
  memset(it, 0, sizeof(*it));
  it->kind = kind;
  it->start = start;
  it->end = end;
  it->instr = instr;
  it->unit = SIZE_MAX;
  return it;
}

static bool nav__all_digits(const char *s, size_t n) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i]))
      return false;
  return true;
}

/* A stage or image word at bytes [s, e) of the text, used by instruction
 * i: a stage defined before i by that name, else an image. */
static void nav__stage_or_image(struct nav_build *b, size_t s, size_t e,
                                size_t i) {
  const char *t = b->text;
  if (e > s + 1 && (t[s] == '"' || t[s] == '\'') && t[e - 1] == t[s]) {
    s++;
    e--;
  }
  if (e <= s || memchr(t + s, '$', e - s) || nav__all_digits(t + s, e - s))
    return;
  const struct df_stage *st = locate_stage_named(b->df, t + s, e - s, i);
  if (st && st->name) {
    nav__push(b->ix, NAV_STAGE, s, e, i)->key = st->index;
    return;
  }
  nav__push(b->ix, NAV_IMAGE, s, e, i);
}

/* --from=VALUE and --mount=...,from=VALUE,... */
static void nav__flags(struct nav_build *b, const struct df_instr *in,
                       size_t i) {
  const char *t = b->text;
  for (size_t f = 0; f < in->nflags; f++) {
    const struct df_flag *fl = &in->flags[f];
    size_t s = fl->range.start.byte, e = fl->range.end.byte;
    if (e > b->len || s >= e)
      continue;
    if (strcmp(fl->name, "from") == 0) {
      const char *eq = memchr(t + s, '=', e - s);
      if (eq)
        nav__stage_or_image(b, (size_t)(eq - t) + 1, e, i);
    } else if (strcmp(fl->name, "mount") == 0) {
      const char *eq = memchr(t + s, '=', e - s);
      size_t p = eq ? (size_t)(eq - t) + 1 : e;
      while (p < e) {
        size_t q = p;
        while (q < e && t[q] != ',')
          q++;
        if (q - p > 5 && strncasecmp(t + p, "from=", 5) == 0)
          nav__stage_or_image(b, p + 5, q, i);
        p = q + 1;
      }
    }
  }
}

static bool nav__in_bodies(const struct df_instr *in, size_t p,
                           size_t *skip_to) {
  for (size_t h = 0; h < in->nheredocs; h++) {
    const struct df_range *r = &in->heredocs[h].body;
    if (p >= r->start.byte && p < r->end.byte) {
      *skip_to = r->end.byte;
      return true;
    }
  }
  return false;
}

/* $NAME and ${NAME...} uses in an instruction's text (heredoc bodies
 * left out); resolved later. */
static void nav__uses(struct nav_build *b, const struct df_instr *in,
                      size_t i) {
  const char *t = b->text;
  size_t p = in->keyword_range.end.byte, e = in->range.end.byte;
  if (e > b->len)
    e = b->len;
  while (p < e) {
    size_t skip;
    if (nav__in_bodies(in, p, &skip)) {
      p = skip;
      continue;
    }
    if (t[p] == b->df->escape) {
      p += 2;
      continue;
    }
    if (t[p] != '$') {
      p++;
      continue;
    }
    size_t s = p + 1;
    if (s < e && t[s] == '{')
      s++;
    size_t q = s;
    if (q < e && (isalpha((unsigned char)t[q]) || t[q] == '_'))
      while (q < e && locate_is_name_char(t[q]))
        q++;
    if (q > s)
      nav__push(b->ix, NAV_VAR, s, q, i)->key = SIZE_MAX; /* unresolved */
    p = q > p + 1 ? q : p + 1;
  }
}

static void nav__decls(struct nav_build *b, const struct df_instr *in,
                       size_t i, size_t unit) {
  const char *t = b->text;
  if (in->kind == DF_ARG) {
    for (size_t a = 0; a < in->nargs; a++) {
      const char *w = in->args[a].value;
      const char *eq = strchr(w, '=');
      size_t n = eq ? (size_t)(eq - w) : strlen(w);
      size_t s = in->args[a].range.start.byte;
      if (n == 0 || s + n > b->len || memcmp(t + s, w, n) != 0)
        continue;
      struct nav_item *it = nav__push(b->ix, NAV_VAR, s, s + n, i);
      it->decl = true;
      it->bare = eq == NULL;
      it->unit = unit;
    }
  } else if (in->kind == DF_ENV) {
    for (size_t a = 0; a + 1 < in->nargs; a += 3) {
      const struct df_arg *k = &in->args[a];
      size_t s = k->range.start.byte;
      if (k->len == 0 || s + k->len > b->len ||
          memcmp(t + s, k->value, k->len) != 0)
        continue;
      struct nav_item *it = nav__push(b->ix, NAV_VAR, s, s + k->len, i);
      it->decl = true;
      it->unit = unit;
    }
  }
}

/* The delimiter in a heredoc marker (<<EOF, <<-"EOF", 3<<'EOF'). */
static bool nav__marker_name(const struct nav_build *b,
                             const struct df_heredoc *h, size_t *s,
                             size_t *e) {
  size_t n = strlen(h->name);
  size_t ms = h->marker.start.byte, me = h->marker.end.byte;
  if (n == 0 || me > b->len)
    return false;
  for (size_t p = me >= n ? me - n : 0; p + n <= me && p >= ms; p--) {
    if (memcmp(b->text + p, h->name, n) == 0) {
      *s = p;
      *e = p + n;
      return true;
    }
    if (p == 0)
      break;
  }
  return false;
}

static void nav__heredocs(struct nav_build *b, const struct df_instr *in,
                          size_t i) {
  const char *t = b->text;
  for (size_t h = 0; h < in->nheredocs; h++) {
    const struct df_heredoc *hd = &in->heredocs[h];
    size_t s, e;
    if (!nav__marker_name(b, hd, &s, &e))
      continue;
    size_t key = b->nheredocs++;
    struct nav_item *it = nav__push(b->ix, NAV_HEREDOC, s, e, i);
    it->decl = true;
    it->key = key;
    /* The terminator: the body's last line. */
    size_t be = hd->body.end.byte;
    if (be > b->len || be <= hd->body.start.byte)
      continue;
    size_t le = be;
    while (le > hd->body.start.byte &&
           (t[le - 1] == '\n' || t[le - 1] == '\r'))
      le--;
    size_t ls = le;
    while (ls > hd->body.start.byte && t[ls - 1] != '\n')
      ls--;
    while (ls < le && t[ls] == '\t')
      ls++;
    size_t n = strlen(hd->name);
    if (le - ls == n && memcmp(t + ls, hd->name, n) == 0)
      nav__push(b->ix, NAV_HEREDOC, ls, le, i)->key = key;
  }
}

static size_t nav__find(size_t *parent, size_t x) {
  while (parent[x] != x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

static bool nav__same_name(const char *t, const struct nav_item *a,
                           const struct nav_item *b) {
  return a->end - a->start == b->end - b->start &&
         memcmp(t + a->start, t + b->start, a->end - a->start) == 0;
}

static int nav__cmp(const void *a, const void *b) {
  const struct nav_item *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* Groups declarations into variables, then resolves each use. */
static void nav__resolve(struct nav_build *b) {
  struct nav_index *ix = b->ix;
  const struct dockerfile *df = b->df;
  const char *t = b->text;
  size_t *parent = xmalloc((ix->n ? ix->n : 1) * sizeof(size_t));
  for (size_t i = 0; i < ix->n; i++)
    parent[i] = i;
  /* The parent stage of each stage (built FROM an earlier stage). */
  size_t *up = xmalloc((df->nstages ? df->nstages : 1) * sizeof(size_t));
  for (size_t s = 0; s < df->nstages; s++) {
    const struct df_stage *st = &df->stages[s];
    const struct df_stage *p =
        st->base ? locate_stage_named(df, st->base, strlen(st->base),
                                      st->from_instr)
                 : NULL;
    up[s] = p && p != st ? p->index : SIZE_MAX;
  }
  for (size_t i = 0; i < ix->n; i++) {
    struct nav_item *a = &ix->v[i];
    if (a->kind != NAV_VAR || !a->decl)
      continue;
    for (size_t j = 0; j < i; j++) {
      struct nav_item *c = &ix->v[j];
      if (c->kind != NAV_VAR || !c->decl || !nav__same_name(t, a, c))
        continue;
      bool join = c->unit == a->unit ||
                  (a->bare && a->unit != SIZE_MAX && c->unit == SIZE_MAX) ||
                  (a->unit != SIZE_MAX && up[a->unit] == c->unit);
      if (join)
        parent[nav__find(parent, i)] = nav__find(parent, j);
    }
  }
  for (size_t i = 0; i < ix->n; i++)
    if (ix->v[i].kind == NAV_VAR && ix->v[i].decl)
      ix->v[i].key = nav__find(parent, i);
  /* Uses: the declaration locate_vars finds in scope. */
  size_t cached = SIZE_MAX;
  struct locate_vars vs;
  memset(&vs, 0, sizeof(vs));
  for (size_t i = 0; i < ix->n; i++) {
    struct nav_item *u = &ix->v[i];
    if (u->kind != NAV_VAR || u->decl)
      continue;
    const struct df_instr *in = &df->instrs[u->instr];
    if (in->kind == DF_ONBUILD)
      continue; /* a trigger runs in another build */
    if (cached != u->instr) {
      if (cached != SIZE_MAX)
        locate_vars_cleanup(&vs);
      locate_vars(&vs, df, u->instr);
      cached = u->instr;
    }
    const struct locate_var *v =
        locate_var_find(&vs, t + u->start, u->end - u->start);
    if (v == NULL)
      continue;
    if (v->line == 0) {
      u->kind = NAV_BUILTIN;
      continue;
    }
    for (size_t j = 0; j < ix->n; j++)
      if (ix->v[j].kind == NAV_VAR && ix->v[j].decl &&
          ix->v[j].start == v->range.start.byte) {
        u->key = ix->v[j].key;
        break;
      }
  }
  if (cached != SIZE_MAX)
    locate_vars_cleanup(&vs);
  free(up);
  free(parent);
}

void nav_index_build(struct nav_index *ix, const struct dockerfile *df,
                     const char *text, size_t len) {
  memset(ix, 0, sizeof(*ix));
  struct nav_build b = {ix, df, text, len, 0};
  for (size_t s = 0; s < df->nstages; s++) {
    const struct df_stage *st = &df->stages[s];
    if (st->name == NULL ||
        st->name_range.end.byte <= st->name_range.start.byte)
      continue;
    struct nav_item *it = nav__push(ix, NAV_STAGE, st->name_range.start.byte,
                                    st->name_range.end.byte, st->from_instr);
    it->decl = true;
    it->key = st->index;
  }
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    const struct df_stage *st = locate_stage(df, i);
    size_t unit = st && in->kind != DF_FROM ? st->index : SIZE_MAX;
    if (in->kind == DF_FROM && in->nargs > 0)
      nav__stage_or_image(&b, in->args[0].range.start.byte,
                          in->args[0].range.end.byte, i);
    nav__flags(&b, in, i);
    nav__decls(&b, in, i, unit);
    nav__heredocs(&b, in, i);
    nav__uses(&b, in, i);
    if (in->sub) {
      nav__flags(&b, in->sub, i);
      nav__heredocs(&b, in->sub, i);
    }
  }
  /* Declarations before uses at the same place cannot happen; sorting
   * keeps each kind's relative order for equal starts. */
  nav__resolve(&b);
  qsort(ix->v, ix->n, sizeof(*ix->v), nav__cmp);
  /* Unresolved uses name nothing of this file. */
  size_t w = 0;
  for (size_t i = 0; i < ix->n; i++)
    if (!(ix->v[i].kind == NAV_VAR && ix->v[i].key == SIZE_MAX))
      ix->v[w++] = ix->v[i];
  ix->n = w;
}

void nav_index_cleanup(struct nav_index *ix) {
  free(ix->v);
  memset(ix, 0, sizeof(*ix));
}

const struct nav_item *nav_index_at(const struct nav_index *ix, size_t off) {
  size_t lo = 0, hi = ix->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ix->v[mid].start <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* Adjacent names (none in practice) prefer the one starting at off. */
  if (lo > 0 && off <= ix->v[lo - 1].end)
    return &ix->v[lo - 1];
  return NULL;
}

/* ---- requests -------------------------------------------------------------
 */

struct nav_ctx {
  struct doc *d;
  const struct dockerfile *df;
  struct nav_index ix;
  const struct nav_item *at;
};

/* The document, its index and the occurrence at the position; false (and
 * a null reply sent) when there is none. */
static int nav__open(struct server *self, const struct rpc_msg *msg,
                     const char *uri, struct lsp_pos pos, struct nav_ctx *c) {
  memset(c, 0, sizeof(*c));
  c->d = doc_find(&self->docs, uri);
  if (c->d)
    doc_touch(&self->docs, c->d);
  c->df = c->d ? doc_model(c->d) : NULL;
  if (c->df == NULL) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return -1;
  }
  nav_index_build(&c->ix, c->df, c->d->text, c->d->len);
  c->at = nav_index_at(&c->ix, doc_offset(c->d, pos, self->encoding));
  return 0;
}

static bool nav__together(const struct nav_ctx *c, const struct nav_item *a,
                          const struct nav_item *b) {
  if (a->kind != b->kind)
    return false;
  if (a->kind == NAV_BUILTIN || a->kind == NAV_IMAGE)
    return a->end - a->start == b->end - b->start &&
           memcmp(c->d->text + a->start, c->d->text + b->start,
                  a->end - a->start) == 0;
  return a->key == b->key;
}

/* The occurrences that go with c->at (declarations too when decls). */
static size_t nav__group(const struct nav_ctx *c, struct proto_span *out,
                         bool decls) {
  size_t n = 0;
  for (size_t i = 0; i < c->ix.n; i++) {
    const struct nav_item *it = &c->ix.v[i];
    if (!nav__together(c, c->at, it) || (!decls && it->decl))
      continue;
    out[n].start = it->start;
    out[n].end = it->end;
    out[n].kind = it->decl ? 3 : 2; /* Write : Read */
    n++;
  }
  return n;
}

int navigation_definition(struct server *self, const struct rpc_msg *msg,
                          struct err *err) {
  const char *uri;
  struct lsp_pos pos;
  int rc = proto_read_position(msg->params, &uri, &pos, err);
  if (rc)
    return rc;
  struct nav_ctx c;
  if (nav__open(self, msg, uri, pos, &c) < 0)
    return 0;
  struct proto_span *v = xcalloc(c.ix.n + 1, sizeof(*v));
  size_t n = 0;
  if (c.at && c.at->kind != NAV_IMAGE && c.at->kind != NAV_BUILTIN)
    for (size_t i = 0; i < c.ix.n; i++)
      if (c.ix.v[i].decl && nav__together(&c, c.at, &c.ix.v[i])) {
        v[n].start = c.ix.v[i].start;
        v[n].end = c.ix.v[i].end;
        n++;
      }
  rpc_reply(&self->rpc, msg->id, n ? proto_locations(self, c.d, v, n) : NULL);
  free(v);
  nav_index_cleanup(&c.ix);
  return 0;
}

int navigation_references(struct server *self, const struct rpc_msg *msg,
                          struct err *err) {
  const char *uri;
  struct lsp_pos pos;
  bool decls = true;
  int rc = proto_read_references(msg->params, &uri, &pos, &decls, err);
  if (rc)
    return rc;
  struct nav_ctx c;
  if (nav__open(self, msg, uri, pos, &c) < 0)
    return 0;
  struct proto_span *v = xcalloc(c.ix.n + 1, sizeof(*v));
  size_t n = c.at ? nav__group(&c, v, decls) : 0;
  rpc_reply(&self->rpc, msg->id,
            c.at ? proto_locations(self, c.d, v, n) : NULL);
  free(v);
  nav_index_cleanup(&c.ix);
  return 0;
}

int navigation_highlight(struct server *self, const struct rpc_msg *msg,
                         struct err *err) {
  const char *uri;
  struct lsp_pos pos;
  int rc = proto_read_position(msg->params, &uri, &pos, err);
  if (rc)
    return rc;
  struct nav_ctx c;
  if (nav__open(self, msg, uri, pos, &c) < 0)
    return 0;
  struct proto_span *v = xcalloc(c.ix.n + 1, sizeof(*v));
  size_t n = c.at ? nav__group(&c, v, true) : 0;
  rpc_reply(&self->rpc, msg->id,
            c.at ? proto_highlights(self, c.d, v, n) : NULL);
  free(v);
  nav_index_cleanup(&c.ix);
  return 0;
}

/* Why the occurrence cannot be renamed, or NULL. */
static const char *nav__refuse_at(const struct nav_item *at) {
  if (at == NULL)
    return "nothing to rename here: rename works on stage names, ARG and "
           "ENV variables and heredoc delimiters";
  if (at->kind == NAV_IMAGE)
    return "this names an image, not a stage of this Dockerfile: it "
           "cannot be renamed here";
  if (at->kind == NAV_BUILTIN)
    return "this is one of BuildKit's built-in ARGs: its name cannot "
           "change";
  return NULL;
}

int navigation_prepare_rename(struct server *self, const struct rpc_msg *msg,
                              struct err *err) {
  const char *uri;
  struct lsp_pos pos;
  int rc = proto_read_position(msg->params, &uri, &pos, err);
  if (rc)
    return rc;
  struct nav_ctx c;
  if (nav__open(self, msg, uri, pos, &c) < 0)
    return 0;
  const char *why = nav__refuse_at(c.at);
  if (why) {
    err_set(err, ERR_INVALID, "%s", why);
    nav_index_cleanup(&c.ix);
    return RPC_REQUEST_FAILED;
  }
  char *name = xstrndup(c.d->text + c.at->start, c.at->end - c.at->start);
  rpc_reply(&self->rpc, msg->id,
            proto_prepare_rename(self, c.d, c.at->start, c.at->end, name));
  free(name);
  nav_index_cleanup(&c.ix);
  return 0;
}

static bool nav__valid_name(enum nav_kind k, const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 256)
    return false;
  if (k == NAV_STAGE) { /* BuildKit: ^[a-z][a-z0-9-_\.]*$ (lower-cased) */
    if (!isalpha((unsigned char)s[0]))
      return false;
    for (size_t i = 1; i < n; i++)
      if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
        return false;
    return true;
  }
  if (k == NAV_VAR && isdigit((unsigned char)s[0]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!locate_is_name_char(s[i]))
      return false;
  return true;
}

static bool nav__builtin_name(const char *s) {
  size_t n;
  const struct know_arg *autos = know_auto_args(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(autos[i].name, s) == 0)
      return true;
  for (const char *const *p = know_proxy_args(); *p; p++)
    if (strcmp(*p, s) == 0)
      return true;
  return false;
}

/* Would renaming c->at's group to `nw` change what the file means?  A
 * message (in *msg) when it would. */
static bool nav__clash(const struct nav_ctx *c, const char *nw,
                       struct buf *msg) {
  const char *t = c->d->text;
  const struct dockerfile *df = c->df;
  size_t nl = strlen(nw);
  if (c->at->kind == NAV_STAGE) {
    for (size_t s = 0; s < df->nstages; s++)
      if (df->stages[s].name && s != c->at->key &&
          strcasecmp(df->stages[s].name, nw) == 0) {
        buf_printf(msg, "a stage named '%s' already exists (line %u)", nw,
                   df->stages[s].name_range.start.row + 1);
        return true;
      }
    for (size_t i = 0; i < c->ix.n; i++) {
      const struct nav_item *it = &c->ix.v[i];
      if (it->kind == NAV_IMAGE && it->end - it->start == nl &&
          strncasecmp(t + it->start, nw, nl) == 0) {
        buf_printf(msg,
                   "'%s' is used as an image on line %u: a stage of that "
                   "name would replace it",
                   nw, df->instrs[it->instr].start_line);
        return true;
      }
    }
    return false;
  }
  if (c->at->kind == NAV_HEREDOC) {
    /* The same instruction's other heredocs, and the body's lines. */
    const struct df_instr *in = &df->instrs[c->at->instr];
    const struct df_instr *ins[2] = {in, in->sub};
    for (int k = 0; k < 2; k++)
      for (size_t h = 0; ins[k] && h < ins[k]->nheredocs; h++) {
        const struct df_heredoc *hd = &ins[k]->heredocs[h];
        if (strcmp(hd->name, nw) == 0) {
          buf_printf(msg, "the instruction already has a heredoc '%s'", nw);
          return true;
        }
        for (const char *p = hd->content;
             p && p < hd->content + hd->content_len;) {
          const char *e = memchr(p, '\n', hd->content + hd->content_len - p);
          size_t ll = e ? (size_t)(e - p)
                        : (size_t)(hd->content + hd->content_len - p);
          const char *q = p;
          while (hd->chomp && q < p + ll && *q == '\t')
            q++;
          if ((size_t)(p + ll - q) == nl && memcmp(q, nw, nl) == 0) {
            buf_printf(msg,
                       "a line of the heredoc's body is '%s': it would "
                       "end the heredoc there",
                       nw);
            return true;
          }
          p = e ? e + 1 : hd->content + hd->content_len;
        }
      }
    return false;
  }
  /* A variable: another declaration of the new name where this one is
   * declared or used, or a variable of that name in scope at a use. */
  if (nav__builtin_name(nw)) {
    buf_printf(msg, "%s is one of BuildKit's built-in ARGs", nw);
    return true;
  }
  for (size_t i = 0; i < c->ix.n; i++) {
    const struct nav_item *it = &c->ix.v[i];
    if (!nav__together(c, c->at, it))
      continue;
    for (size_t j = 0; j < c->ix.n; j++) {
      const struct nav_item *o = &c->ix.v[j];
      if (o->kind == NAV_VAR && o->decl && o->end - o->start == nl &&
          memcmp(t + o->start, nw, nl) == 0 &&
          (o->unit == it->unit || o->unit == SIZE_MAX)) {
        buf_printf(msg, "a variable named %s is already declared on line %u",
                   nw, df->instrs[o->instr].start_line);
        return true;
      }
    }
    if (it->decl)
      continue;
    struct locate_vars vs;
    locate_vars(&vs, df, it->instr);
    const struct locate_var *v = locate_var_find(&vs, nw, nl);
    if (v) {
      if (v->line)
        buf_printf(msg,
                   "%s is already in scope on line %u (declared on "
                   "line %u)",
                   nw, df->instrs[it->instr].start_line, v->line);
      else
        buf_printf(msg, "%s is already in scope on line %u", nw,
                   df->instrs[it->instr].start_line);
    }
    locate_vars_cleanup(&vs);
    if (v)
      return true;
  }
  return false;
}

int navigation_rename(struct server *self, const struct rpc_msg *msg,
                      struct err *err) {
  const char *uri, *nw;
  struct lsp_pos pos;
  int rc = proto_read_rename(msg->params, &uri, &pos, &nw, err);
  if (rc)
    return rc;
  struct nav_ctx c;
  if (nav__open(self, msg, uri, pos, &c) < 0)
    return 0;
  const char *why = nav__refuse_at(c.at);
  if (why) {
    err_set(err, ERR_INVALID, "%s", why);
    nav_index_cleanup(&c.ix);
    return RPC_REQUEST_FAILED;
  }
  if (!nav__valid_name(c.at->kind, nw)) {
    err_set(err, ERR_INVALID,
            c.at->kind == NAV_STAGE
                ? "'%s' is not a valid stage name (a letter, then letters, "
                  "digits, '-', '_' or '.')"
                : "'%s' is not a valid name (letters, digits and '_')",
            nw);
    nav_index_cleanup(&c.ix);
    return RPC_REQUEST_FAILED;
  }
  struct buf why_buf = BUF_INIT;
  bool same = c.at->end - c.at->start == strlen(nw) &&
              memcmp(c.d->text + c.at->start, nw, strlen(nw)) == 0;
  if (!same && nav__clash(&c, nw, &why_buf)) {
    err_set(err, ERR_EXISTS, "cannot rename to %s: %s", nw,
            buf_cstr(&why_buf));
    buf_cleanup(&why_buf);
    nav_index_cleanup(&c.ix);
    return RPC_REQUEST_FAILED;
  }
  buf_cleanup(&why_buf);
  struct proto_span *v = xcalloc(c.ix.n + 1, sizeof(*v));
  size_t n = nav__group(&c, v, true);
  struct proto_edit *e = xcalloc(n + 1, sizeof(*e));
  for (size_t i = 0; i < n; i++) {
    e[i].start = v[i].start;
    e[i].end = v[i].end;
    e[i].text = nw;
  }
  rpc_reply(&self->rpc, msg->id, proto_rename_edit(self, c.d, e, n));
  free(e);
  free(v);
  nav_index_cleanup(&c.ix);
  return 0;
}
