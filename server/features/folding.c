/*
 * folding.c - textDocument/foldingRange: each stage (its FROM line to its
 * last instruction's last line), each instruction over several lines,
 * each heredoc (the marker's line to the terminator), and each run of two
 * or more comment lines (kind "comment").  Lines only: no positions in
 * characters, so nothing to convert.
 */
#include <stdlib.h>
#include <string.h>

#include "../methods.h"
#include "../protocol.h"
#include "../server.h"

struct folding_list {
  struct proto_fold *v;
  size_t n, cap;
};

static void folding__add(struct folding_list *l, uint32_t a, uint32_t b,
                         const char *kind) {
  if (b <= a)
    return;
  if (l->n > 0 && l->v[l->n - 1].start_line == a &&
      l->v[l->n - 1].end_line == b)
    return; /* the same lines as the fold before (a stage of one RUN) */
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 32;
    l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
  }
  l->v[l->n].start_line = a;
  l->v[l->n].end_line = b;
  l->v[l->n].kind = kind;
  l->n++;
}

/* The last row a range covers (an end at column 0 ends the row before). */
static uint32_t folding__last_row(const struct df_range *r) {
  if (r->end.col == 0 && r->end.row > r->start.row)
    return r->end.row - 1;
  return r->end.row;
}

static void folding__heredocs(struct folding_list *l,
                              const struct df_instr *in) {
  for (size_t h = 0; h < in->nheredocs; h++) {
    const struct df_heredoc *hd = &in->heredocs[h];
    if (hd->body.end.byte > hd->body.start.byte)
      folding__add(l, hd->marker.start.row, folding__last_row(&hd->body),
                   NULL);
  }
  if (in->sub)
    folding__heredocs(l, in->sub);
}

int folding_handle(struct server *self, const struct rpc_msg *msg,
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
  struct folding_list l;
  memset(&l, 0, sizeof(l));
  size_t next_stage = 0;
  for (size_t i = 0; i < df->ninstrs; i++) {
    const struct df_instr *in = &df->instrs[i];
    if (next_stage < df->nstages && df->stages[next_stage].from_instr == i) {
      const struct df_stage *st = &df->stages[next_stage++];
      const struct df_instr *last =
          &df->instrs[st->from_instr + (st->ninstrs ? st->ninstrs - 1 : 0)];
      folding__add(&l, in->range.start.row, folding__last_row(&last->range),
                   "region");
    }
    folding__add(&l, in->range.start.row, folding__last_row(&in->range), NULL);
    folding__heredocs(&l, in);
  }
  /* Comment blocks: lines whose first non-blank is '#' outside any
   * instruction (comments inside a continuation fold with it). */
  const char *t = d->text;
  size_t ii = 0;
  uint32_t row = 0, block = UINT32_MAX;
  for (size_t p = 0; p <= d->len; row++) {
    const char *nl = memchr(t + p, '\n', d->len - p);
    size_t e = nl ? (size_t)(nl - t) : d->len;
    while (ii < df->ninstrs && df->instrs[ii].range.end.byte <= p)
      ii++;
    bool inside = ii < df->ninstrs && df->instrs[ii].range.start.byte <= p;
    size_t s = p;
    while (s < e && (t[s] == ' ' || t[s] == '\t'))
      s++;
    bool comment = !inside && s < e && t[s] == '#';
    if (comment && block == UINT32_MAX)
      block = row;
    if (!comment && block != UINT32_MAX) {
      folding__add(&l, block, row - 1, "comment");
      block = UINT32_MAX;
    }
    if (!nl) {
      if (comment)
        folding__add(&l, block, row, "comment");
      break;
    }
    p = e + 1;
  }
  rpc_reply(&self->rpc, msg->id, proto_folding_ranges(l.v, l.n));
  free(l.v);
  return 0;
}
