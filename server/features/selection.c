/*
 * selection.c - textDocument/selectionRange: for each position, the word
 * under it (locate.c's word), the flag or argument holding it, the
 * instruction, the stage, then the whole document; each range strictly
 * larger than the one before.
 */
#include <stdlib.h>
#include <string.h>

#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "locate.h"

/* Appends [s, e) when it holds the last range and is larger. */
static void selection__add(struct proto_span *v, size_t *n, size_t s,
                           size_t e) {
  if (e < s)
    return;
  if (*n > 0) {
    const struct proto_span *p = &v[*n - 1];
    if (s > p->start || e < p->end || (s == p->start && e == p->end))
      return;
  }
  v[*n].start = s;
  v[*n].end = e;
  v[*n].kind = 0;
  (*n)++;
}

/* The argument or flag of `in` holding off, as bytes. */
static bool selection__part(const struct df_instr *in, size_t off, size_t *s,
                            size_t *e) {
  for (size_t f = 0; f < in->nflags; f++)
    if (in->flags[f].range.start.byte <= off &&
        off <= in->flags[f].range.end.byte) {
      *s = in->flags[f].range.start.byte;
      *e = in->flags[f].range.end.byte;
      return true;
    }
  for (size_t a = 0; a < in->nargs; a++)
    if (in->args[a].range.start.byte <= off &&
        off <= in->args[a].range.end.byte &&
        in->args[a].range.end.byte > in->args[a].range.start.byte) {
      *s = in->args[a].range.start.byte;
      *e = in->args[a].range.end.byte;
      return true;
    }
  return false;
}

#define SELECTION_DEPTH 8

int selection_handle(struct server *self, const struct rpc_msg *msg,
                     struct err *err) {
  const char *uri;
  struct lsp_pos *pos;
  size_t npos;
  int rc = proto_read_selection(msg->params, &uri, &pos, &npos, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = doc_use(&self->docs, uri, &df);
  if (df == NULL) {
    free(pos);
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  struct proto_span *chains =
      xcalloc(npos * SELECTION_DEPTH + 1, sizeof(*chains));
  size_t *off = xcalloc(npos + 1, sizeof(size_t));
  size_t n = 0;
  for (size_t i = 0; i < npos; i++) {
    off[i] = n;
    size_t at = doc_offset(d, pos[i], self->encoding);
    struct locate l;
    locate_at(&l, df, d->text, d->len, at);
    struct proto_span *v = chains + n;
    size_t k = 0;
    if (l.word_end > l.word_start)
      selection__add(v, &k, l.word_start, l.word_end);
    else
      selection__add(v, &k, at, at);
    if (l.top) {
      size_t s, e;
      if (l.instr && selection__part(l.instr, at, &s, &e))
        selection__add(v, &k, s, e);
      if (l.instr && l.instr != l.top)
        selection__add(v, &k, l.instr->range.start.byte,
                       l.instr->range.end.byte);
      selection__add(v, &k, l.top->range.start.byte, l.top->range.end.byte);
      const struct df_stage *st = locate_stage(df, l.top_index);
      if (st && st->ninstrs > 0)
        selection__add(
            v, &k, df->instrs[st->from_instr].range.start.byte,
            df->instrs[st->from_instr + st->ninstrs - 1].range.end.byte);
    }
    selection__add(v, &k, 0, d->len);
    n += k;
  }
  off[npos] = n;
  rpc_reply(&self->rpc, msg->id,
            proto_selection_ranges(self, d, chains, off, npos));
  free(chains);
  free(off);
  free(pos);
  return 0;
}
