/*
 * formatting.c - textDocument/formatting, rangeFormatting and
 * onTypeFormatting.
 *
 * The first two are the formatter's core (analysis/format.c, shared with
 * `dockwright fmt`) on the document's kept model, with the settings'
 * dockwright.format.* options; a range formats every instruction one of
 * its lines touches.  On-type formatting answers the newline typed after
 * a line that ends with the escape character inside an instruction: the
 * new line gets the continuation indent.  Heredoc bodies and comments
 * never get one.
 */
#include <stdlib.h>
#include <string.h>

#include "../../analysis/format.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "locate.h"

static void formatting__reply(struct server *self, const struct rpc_msg *msg,
                              struct doc *d, uint32_t first, uint32_t last) {
  const struct dockerfile *df = doc_model(d);
  if (df == NULL) {
    rpc_reply(&self->rpc, msg->id, json_object_new_array());
    return;
  }
  struct format_edits fe = {0};
  format_edits(d->text, d->len, df, &self->settings.format, first, last, &fe);
  struct proto_edit *pe = xcalloc(fe.n ? fe.n : 1, sizeof(*pe));
  for (size_t i = 0; i < fe.n; i++) {
    pe[i].start = fe.v[i].start;
    pe[i].end = fe.v[i].end;
    pe[i].text = fe.v[i].text;
  }
  rpc_reply(&self->rpc, msg->id, proto_text_edits(self, d, pe, fe.n));
  free(pe);
  format_edits_cleanup(&fe);
}

static struct doc *formatting__doc(struct server *self, const char *uri,
                                   struct err *err) {
  struct doc *d = doc_find(&self->docs, uri);
  if (d == NULL) {
    err_set(err, ERR_NOTFOUND, "%s is not open", uri);
    return NULL;
  }
  doc_touch(&self->docs, d);
  return d;
}

int formatting_document(struct server *self, const struct rpc_msg *msg,
                        struct err *err) {
  const char *uri;
  int rc = proto_read_text_document(msg->params, &uri, NULL, err);
  if (rc)
    return rc;
  struct doc *d = formatting__doc(self, uri, err);
  if (d == NULL)
    return RPC_INVALID_PARAMS;
  formatting__reply(self, msg, d, 0, UINT32_MAX);
  return 0;
}

int formatting_range(struct server *self, const struct rpc_msg *msg,
                     struct err *err) {
  const char *uri;
  struct lsp_range r;
  int rc = proto_read_range_request(msg->params, &uri, &r, err);
  if (rc)
    return rc;
  struct doc *d = formatting__doc(self, uri, err);
  if (d == NULL)
    return RPC_INVALID_PARAMS;
  uint32_t last = r.end.line;
  /* A range ending at the start of a line does not take that line. */
  if (r.end.character == 0 && r.end.line > r.start.line)
    last--;
  formatting__reply(self, msg, d, r.start.line, last);
  return 0;
}

int formatting_on_type(struct server *self, const struct rpc_msg *msg,
                       struct err *err) {
  const char *uri, *ch;
  struct lsp_pos pos;
  int rc = proto_read_on_type(msg->params, &uri, &pos, &ch, err);
  if (rc)
    return rc;
  struct doc *d = formatting__doc(self, uri, err);
  if (d == NULL)
    return RPC_INVALID_PARAMS;
  const struct dockerfile *df = doc_model(d);
  if (df == NULL || strcmp(ch, "\n") != 0 || pos.line == 0) {
    rpc_reply(&self->rpc, msg->id, json_object_new_array());
    return 0;
  }
  struct lsp_pos line0 = {pos.line, 0};
  size_t ls = doc_offset(d, line0, self->encoding);
  const char *t = d->text;
  /* The line above, without its line end and trailing blanks. */
  size_t pe = ls > 0 ? ls - 1 : 0;
  if (pe > 0 && t[pe - 1] == '\r')
    pe--;
  while (pe > 0 && (t[pe - 1] == ' ' || t[pe - 1] == '\t'))
    pe--;
  struct locate l;
  bool cont = pe > 0 && t[pe - 1] == df->escape;
  if (cont) {
    locate_at(&l, df, t, d->len, pe - 1);
    cont = l.where == LOCATE_ARGS || l.where == LOCATE_KEYWORD;
  }
  if (!cont) {
    rpc_reply(&self->rpc, msg->id, json_object_new_array());
    return 0;
  }
  size_t ws = ls;
  while (ws < d->len && (t[ws] == ' ' || t[ws] == '\t'))
    ws++;
  char indent[FORMAT_INDENT_MAX + 1];
  unsigned n = self->settings.format.indent;
  memset(indent, ' ', n);
  indent[n] = '\0';
  struct proto_edit e = {ls, ws, indent};
  bool same = ws - ls == n && strncmp(t + ls, indent, n) == 0;
  rpc_reply(&self->rpc, msg->id, proto_text_edits(self, d, &e, same ? 0 : 1));
  return 0;
}
