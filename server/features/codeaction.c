/*
 * codeaction.c - textDocument/codeAction and codeAction/resolve.
 *
 * DESIGN
 * The analysis already says how to fix what it can (struct diag_fix: a
 * range and its new text, the same fixes a diagnostic carries as `data`).
 * For each diagnostic under the requested range this offers:
 *   - one quick fix per fix, preferred when it is the only one;
 *   - "ignore here": a `# dockwright-ignore=Rule` line above the
 *     instruction (or the rule added to the one already there);
 *   - for BuildKit's build checks, "skip in this file": the rule added to
 *     the `# check=skip=` directive (or a new directive at the top);
 *   - a source action fixing every diagnostic of the same rule that has
 *     exactly one fix (overlapping fixes after the first are left out);
 *     asked for source.fixAll alone (fix on save), one action with every
 *     rule's.
 * The diagnostics are those of the current text (diagnostics_current), not
 * the client's copy, so a stale request never edits the wrong bytes; the
 * WorkspaceEdit names the document's version.
 *
 * With codeAction/resolve (the client lists "edit" in resolveSupport) the
 * list carries no edits, only data naming the diagnostic (rule and start
 * byte) and the action; resolve computes the edit then, on the current
 * text, and leaves it out when the document changed since.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analysis/analysis.h"
#include "../../common/arena.h"
#include "../../common/buf.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "diagnostics.h"
#include "locate.h"

#define CODEACTION_IGNORE "# dockwright-ignore="

enum codeaction_kind { CA_FIX, CA_IGNORE, CA_SKIP, CA_ALL };
static const char *const codeaction__kind_names[] = {"fix", "ignore", "skip",
                                                     "all"};

struct codeaction_edits {
  struct proto_edit *v; /* arena */
  size_t n, cap;
};

static void codeaction__edit(struct arena *a, struct codeaction_edits *e,
                             size_t start, size_t end, const char *text) {
  if (e->n == e->cap) {
    size_t cap = e->cap ? e->cap * 2 : 4;
    e->v = arena_realloc(a, e->v, e->cap * sizeof(*e->v), cap * sizeof(*e->v));
    e->cap = cap;
  }
  e->v[e->n].start = start;
  e->v[e->n].end = end;
  e->v[e->n].text = arena_strdup(a, text);
  e->n++;
}

static bool codeaction__is_check(const char *rule) {
  size_t n;
  const struct analysis_rule *rules = analysis_rules(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(rules[i].id, rule) == 0)
      return rules[i].buildkit_check;
  return false;
}

/* End of the line holding byte p, before "\r\n" or "\n". */
static size_t codeaction__line_end(const struct doc *d, size_t p) {
  while (p < d->len && d->text[p] != '\n')
    p++;
  if (p > 0 && p <= d->len && d->text[p - 1] == '\r')
    p--;
  return p;
}

/* `# dockwright-ignore=Rule` above the instruction holding g.  False when
 * there is no instruction, or every rule is already ignored there. */
static bool codeaction__ignore(struct doc *d, const struct diag *g,
                               struct arena *a, struct codeaction_edits *e) {
  const struct dockerfile *df = doc_model(d);
  if (df == NULL)
    return false;
  struct locate l;
  locate_at(&l, df, d->text, d->len, g->range.start.byte);
  if (l.top == NULL)
    return false;
  size_t at = l.top->range.start.byte;
  size_t ls = at;
  while (ls > 0 && d->text[ls - 1] != '\n')
    ls--;
  /* The line above: an ignore comment there takes the rule too. */
  if (ls > 0) {
    size_t pe = ls - 1, ps = pe;
    while (ps > 0 && d->text[ps - 1] != '\n')
      ps--;
    size_t q = ps;
    while (q < pe && (d->text[q] == ' ' || d->text[q] == '\t'))
      q++;
    size_t end = codeaction__line_end(d, q);
    size_t n = strlen(CODEACTION_IGNORE);
    if (end - q >= n - 1 &&
        strncmp(d->text + q, CODEACTION_IGNORE, n - 1) == 0) {
      if (end - q == n - 1 || d->text[q + n - 1] != '=')
        return false; /* "# dockwright-ignore": every rule already */
      while (end > q && (d->text[end - 1] == ' ' || d->text[end - 1] == '\t'))
        end--;
      struct buf b = BUF_INIT;
      buf_printf(&b, ",%s", g->rule);
      codeaction__edit(a, e, end, end, buf_cstr(&b));
      buf_cleanup(&b);
      return true;
    }
  }
  struct buf b = BUF_INIT;
  buf_append(&b, d->text + ls, at - ls); /* the instruction's indentation */
  buf_printf(&b, "%s%s\n", CODEACTION_IGNORE, g->rule);
  codeaction__edit(a, e, ls, ls, buf_cstr(&b));
  buf_cleanup(&b);
  return true;
}

/* `# check=skip=Rule` for the file.  False when every check is skipped. */
static bool codeaction__skip(struct doc *d, const struct diag *g,
                             struct arena *a, struct codeaction_edits *e) {
  const struct dockerfile *df = doc_model(d);
  if (df == NULL)
    return false;
  const struct df_directive *check = NULL;
  size_t after = 0; /* where a new directive goes: after the last one */
  for (size_t i = 0; i < df->ndirectives; i++) {
    const struct df_directive *dv = &df->directives[i];
    size_t end = codeaction__line_end(d, dv->range.start.byte);
    if (end < d->len)
      after = end + (d->text[end] == '\r' ? 2 : 1);
    else
      after = d->len;
    if (strcmp(dv->name, "check") == 0)
      check = dv;
  }
  struct buf b = BUF_INIT;
  if (check == NULL) {
    if (after == d->len && after > 0 && d->text[after - 1] != '\n')
      buf_putc(&b, '\n');
    buf_printf(&b, "# check=skip=%s\n", g->rule);
    codeaction__edit(a, e, after, after, buf_cstr(&b));
    buf_cleanup(&b);
    return true;
  }
  size_t ls = check->range.start.byte;
  while (ls > 0 && d->text[ls - 1] != '\n')
    ls--;
  size_t le = codeaction__line_end(d, ls);
  while (le > ls && (d->text[le - 1] == ' ' || d->text[le - 1] == '\t'))
    le--;
  const char *line = d->text + ls;
  const char *eq = memchr(line, '=', le - ls);
  if (eq == NULL) {
    buf_cleanup(&b);
    return false;
  }
  /* The skip= segment of "key=value;key=value". */
  size_t p = (size_t)(eq - d->text) + 1;
  while (p < le) {
    size_t q = p;
    while (q < le && d->text[q] != ';')
      q++;
    size_t k = p;
    while (k < q && (d->text[k] == ' ' || d->text[k] == '\t'))
      k++;
    if (q - k >= 5 && strncmp(d->text + k, "skip=", 5) == 0) {
      size_t ve = q;
      while (ve > k + 5 && (d->text[ve - 1] == ' ' || d->text[ve - 1] == '\t'))
        ve--;
      if (ve - (k + 5) == 3 && strncmp(d->text + k + 5, "all", 3) == 0) {
        buf_cleanup(&b);
        return false;
      }
      buf_printf(&b, "%s%s", ve > k + 5 ? "," : "", g->rule);
      codeaction__edit(a, e, ve, ve, buf_cstr(&b));
      buf_cleanup(&b);
      return true;
    }
    p = q + 1;
  }
  buf_printf(&b, ";skip=%s", g->rule);
  codeaction__edit(a, e, le, le, buf_cstr(&b));
  buf_cleanup(&b);
  return true;
}

static int codeaction__by_start(const void *x, const void *y) {
  const struct diag_fix *const *a = x, *const *b = y;
  uint32_t sa = (*a)->range.start.byte, sb = (*b)->range.start.byte;
  return sa < sb ? -1 : sa > sb;
}

/* The fix of every single-fix diagnostic of `rule` (every rule when NULL),
 * in text order, leaving out any that overlaps one before it. */
static size_t codeaction__all(const struct diag_list *l, const char *rule,
                              struct arena *a, struct codeaction_edits *e) {
  const struct diag_fix **fs = arena_calloc(a, l->n + 1, sizeof(*fs));
  size_t nf = 0;
  for (size_t i = 0; i < l->n; i++)
    if ((rule == NULL || strcmp(l->v[i].rule, rule) == 0) &&
        l->v[i].nfixes == 1)
      fs[nf++] = &l->v[i].fixes[0];
  /* Stable for equal starts: two inserts at one place keep their order. */
  for (size_t i = 1; i < nf; i++)
    for (size_t k = i; k > 0 && codeaction__by_start(&fs[k - 1], &fs[k]) > 0;
         k--) {
      const struct diag_fix *t = fs[k];
      fs[k] = fs[k - 1];
      fs[k - 1] = t;
    }
  size_t last_end = 0, count = 0;
  for (size_t i = 0; i < nf; i++) {
    const struct diag_fix *f = fs[i];
    if (count > 0 && f->range.start.byte < last_end)
      continue;
    codeaction__edit(a, e, f->range.start.byte, f->range.end.byte,
                     f->new_text ? f->new_text : "");
    if (f->range.end.byte > last_end)
      last_end = f->range.end.byte;
    count++;
  }
  return count;
}

/* The edits of one action on diagnostic g; false when it has none. */
static bool codeaction__edits(struct doc *d, const struct diag_list *l,
                              const struct diag *g, enum codeaction_kind kind,
                              size_t fix, struct arena *a,
                              struct codeaction_edits *e) {
  if (g == NULL && kind != CA_ALL)
    return false;
  switch (kind) {
  case CA_FIX:
    if (fix >= g->nfixes)
      return false;
    codeaction__edit(a, e, g->fixes[fix].range.start.byte,
                     g->fixes[fix].range.end.byte,
                     g->fixes[fix].new_text ? g->fixes[fix].new_text : "");
    return true;
  case CA_IGNORE:
    return codeaction__ignore(d, g, a, e);
  case CA_SKIP:
    return codeaction__is_check(g->rule) && codeaction__skip(d, g, a, e);
  case CA_ALL:
    return codeaction__all(l, g ? g->rule : NULL, a, e) > 0;
  }
  return false;
}

struct codeaction_list {
  struct proto_code_action *v; /* arena */
  size_t n, cap;
};

static void codeaction__add(struct server *self, struct doc *d,
                            const struct diag_list *l, const struct diag *g,
                            enum codeaction_kind kind, size_t fix,
                            const char *title, struct arena *a,
                            struct codeaction_list *out) {
  struct codeaction_edits e = {NULL, 0, 0};
  if (!codeaction__edits(d, l, g, kind, fix, a, &e))
    return;
  if (out->n == out->cap) {
    size_t cap = out->cap ? out->cap * 2 : 8;
    out->v = arena_realloc(a, out->v, out->cap * sizeof(*out->v),
                           cap * sizeof(*out->v));
    out->cap = cap;
  }
  struct proto_code_action *ca = &out->v[out->n++];
  memset(ca, 0, sizeof(*ca));
  ca->title = arena_strdup(a, title);
  ca->kind = kind == CA_ALL ? "source.fixAll.dockwright" : "quickfix";
  ca->preferred = kind == CA_FIX && g->nfixes == 1;
  /* g NULL: the fix-all of every rule (source.fixAll). */
  ca->diag = kind == CA_ALL ? NULL : g;
  ca->edits = e.v;
  ca->nedits = e.n;
  if (self->caps.code_action_resolve) {
    ca->lazy = true;
    ca->data.uri = d->uri;
    ca->data.version = d->version;
    ca->data.rule = g ? g->rule : "*";
    ca->data.at = g ? g->range.start.byte : 0;
    ca->data.action = codeaction__kind_names[kind];
    ca->data.fix = fix;
  }
}

int codeaction_handle(struct server *self, const struct rpc_msg *msg,
                      struct err *err) {
  const char *uri;
  struct lsp_range range;
  bool quickfix, fixall;
  int rc = proto_read_code_action(msg->params, &uri, &range, &quickfix,
                                  &fixall, err);
  if (rc)
    return rc;
  struct doc *d = doc_find(&self->docs, uri);
  if (d)
    doc_touch(&self->docs, d);
  const struct diag_list *l = d ? diagnostics_current(self, d) : NULL;
  if (l == NULL) {
    rpc_reply(&self->rpc, msg->id, proto_code_actions(self, NULL, NULL, 0));
    return 0;
  }
  size_t start = doc_offset(d, range.start, self->encoding);
  size_t end = doc_offset(d, range.end, self->encoding);
  if (end < start) {
    size_t t = start;
    start = end;
    end = t;
  }
  struct arena a;
  arena_init(&a);
  struct codeaction_list out = {NULL, 0, 0};
  const char *all_done[64];
  size_t nall = 0;
  for (size_t i = 0; i < l->n; i++) {
    const struct diag *g = &l->v[i];
    if (g->range.start.byte > end || g->range.end.byte < start)
      continue;
    struct buf t = BUF_INIT;
    if (quickfix) {
      for (size_t k = 0; k < g->nfixes; k++)
        codeaction__add(self, d, l, g, CA_FIX, k,
                        g->fixes[k].title ? g->fixes[k].title : "Fix", &a,
                        &out);
      buf_printf(&t, "Ignore %s here (# dockwright-ignore)", g->rule);
      codeaction__add(self, d, l, g, CA_IGNORE, 0, buf_cstr(&t), &a, &out);
      buf_reset(&t);
      buf_printf(&t, "Skip %s in this file (# check=skip)", g->rule);
      codeaction__add(self, d, l, g, CA_SKIP, 0, buf_cstr(&t), &a, &out);
    }
    bool done = false;
    for (size_t k = 0; k < nall; k++)
      done = done || strcmp(all_done[k], g->rule) == 0;
    if (fixall && g->nfixes == 1 && !done && nall < 64) {
      all_done[nall++] = g->rule;
      buf_reset(&t);
      buf_printf(&t, "Fix all %s problems in the file", g->rule);
      codeaction__add(self, d, l, g, CA_ALL, 0, buf_cstr(&t), &a, &out);
    }
    buf_cleanup(&t);
  }
  /* An editor fixing on save asks only for source.fixAll: one action with
   * every rule's unambiguous fixes, which it can apply as a whole. */
  if (fixall && !quickfix) {
    out.n = 0;
    codeaction__add(self, d, l, NULL, CA_ALL, 0,
                    "Fix all auto-fixable problems (dockwright)", &a, &out);
  }
  rpc_reply(&self->rpc, msg->id, proto_code_actions(self, d, out.v, out.n));
  arena_cleanup(&a);
  return 0;
}

int codeaction_resolve(struct server *self, const struct rpc_msg *msg,
                       struct err *err) {
  struct proto_action_data data;
  int rc = proto_read_action_data(msg->params, &data, err);
  if (rc)
    return rc;
  struct doc *d = doc_find(&self->docs, data.uri);
  const struct diag_list *l = NULL;
  /* Only for the text the action was offered on. */
  if (d && d->version == data.version)
    l = diagnostics_current(self, d);
  int kind = -1;
  for (int k = 0; k < 4; k++)
    if (strcmp(data.action, codeaction__kind_names[k]) == 0)
      kind = k;
  const struct diag *g = NULL;
  for (size_t i = 0; l && i < l->n && g == NULL; i++)
    if (strcmp(l->v[i].rule, data.rule) == 0 &&
        l->v[i].range.start.byte == data.at)
      g = &l->v[i];
  struct arena a;
  arena_init(&a);
  struct codeaction_edits e = {NULL, 0, 0};
  /* rule "*": the fix-all of every rule. */
  bool all = kind == CA_ALL && strcmp(data.rule, "*") == 0 && l != NULL;
  bool ok =
      (g || all) && kind >= 0 &&
      codeaction__edits(d, l, g, (enum codeaction_kind)kind, data.fix, &a, &e);
  rpc_reply(&self->rpc, msg->id,
            proto_code_action_resolved(self, ok ? d : NULL, msg->params,
                                       ok ? e.v : NULL, e.n));
  arena_cleanup(&a);
  return 0;
}
