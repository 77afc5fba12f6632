/*
 * inlay.c - textDocument/inlayHint: after each variable used in a FROM
 * line (dockwright.inlayHints.fromVariables) and in a --from= or
 * --mount=...,from= value (dockwright.inlayHints.copyFrom), the value
 * BuildKit would give it there ("= 3.19"), resolved with locate.c's
 * scoping.  A variable without a known value gets no hint.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/buf.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "locate.h"
#include "navigation.h"

/* Is [s, e) inside a from value of one of in's flags? */
static bool inlay__in_from_flag(const struct df_instr *in, const char *t,
                                size_t s) {
  for (size_t f = 0; f < in->nflags; f++) {
    const struct df_flag *fl = &in->flags[f];
    if (s < fl->range.start.byte || s >= fl->range.end.byte)
      continue;
    if (strcmp(fl->name, "from") == 0)
      return true;
    if (strcmp(fl->name, "mount") != 0)
      return false;
    /* the key of the segment holding s */
    size_t k = s;
    while (k > fl->range.start.byte && t[k - 1] != ',' && t[k - 1] != '=')
      k--;
    if (k > fl->range.start.byte && t[k - 1] == '=') {
      size_t ks = k - 1;
      while (ks > fl->range.start.byte && t[ks - 1] != ',' && t[ks - 1] != '=')
        ks--;
      return k - 1 - ks == 4 && strncmp(t + ks, "from", 4) == 0;
    }
    return false;
  }
  return false;
}

int inlay_handle(struct server *self, const struct rpc_msg *msg,
                 struct err *err) {
  const char *uri;
  struct lsp_range range;
  int rc = proto_read_range_request(msg->params, &uri, &range, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = doc_use(&self->docs, uri, &df);
  if (df == NULL) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  size_t from = doc_offset(d, range.start, self->encoding);
  size_t to = doc_offset(d, range.end, self->encoding);
  struct nav_index ix;
  nav_index_build(&ix, df, d->text, d->len);
  struct proto_inlay *v = xcalloc(ix.n + 1, sizeof(*v));
  struct strv labels;
  strv_init(&labels);
  size_t n = 0, cached = SIZE_MAX;
  struct locate_vars vs;
  memset(&vs, 0, sizeof(vs));
  const char *t = d->text;
  for (size_t i = 0; i < ix.n; i++) {
    const struct nav_item *it = &ix.v[i];
    if ((it->kind != NAV_VAR && it->kind != NAV_BUILTIN) || it->decl ||
        it->start < from || it->start > to)
      continue;
    const struct df_instr *in = &df->instrs[it->instr];
    bool want = in->kind == DF_FROM
                    ? self->settings.inlay_from
                    : self->settings.inlay_copy_from &&
                          inlay__in_from_flag(in, t, it->start);
    if (!want)
      continue;
    if (cached != it->instr) {
      if (cached != SIZE_MAX)
        locate_vars_cleanup(&vs);
      locate_vars(&vs, df, it->instr);
      cached = it->instr;
    }
    const struct locate_var *var =
        locate_var_find(&vs, t + it->start, it->end - it->start);
    if (var == NULL || var->value == NULL)
      continue;
    /* After ${NAME...}'s closing brace, or after $NAME. */
    size_t at = it->end;
    if (it->start >= 2 && t[it->start - 1] == '{') {
      size_t depth = 1;
      for (size_t p = it->end; p < in->range.end.byte && p < d->len; p++) {
        if (t[p] == '{')
          depth++;
        else if (t[p] == '}' && --depth == 0) {
          at = p + 1;
          break;
        }
      }
    }
    struct buf b = BUF_INIT;
    buf_printf(&b, "= %s", var->value);
    char *label = buf_take(&b);
    strv_push_take(&labels, label);
    v[n].at = at;
    v[n].label = label;
    v[n].tooltip = var->line ? NULL : "BuildKit's built-in ARG";
    n++;
  }
  if (cached != SIZE_MAX)
    locate_vars_cleanup(&vs);
  rpc_reply(&self->rpc, msg->id, proto_inlay_hints(self, d, v, n));
  strv_cleanup(&labels);
  free(v);
  nav_index_cleanup(&ix);
  return 0;
}
