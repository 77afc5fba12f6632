/*
 * signature.c - textDocument/signatureHelp: the instruction's syntax from
 * the knowledge table, its flags first and then its arguments, each a
 * parameter with its documentation, and the one under the cursor active:
 * the flag being typed (by name), else the argument by position (the last
 * parameter takes every further word, so COPY's sources stay on `<src>`
 * until the word typed is the last of the line, the destination).
 */
#include <string.h>

#include "../../common/arena.h"
#include "../../common/buf.h"
#include "../../model/knowledge.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "locate.h"

/* Is there another word after the cursor's word in the instruction? */
static bool signature__more_words(const struct locate *l) {
  const char *t = l->text;
  size_t end = l->instr->range.end.byte;
  for (size_t p = l->word_end; p < end && p < l->len; p++) {
    if (t[p] == l->df->escape && p + 1 < end &&
        (t[p + 1] == '\n' || t[p + 1] == '\r'))
      p++;
    else if (t[p] != ' ' && t[p] != '\t' && t[p] != '\n' && t[p] != '\r')
      return true;
  }
  return false;
}

int signature_handle(struct server *self, const struct rpc_msg *msg,
                     struct err *err) {
  const char *uri;
  struct lsp_pos pos;
  int rc = proto_read_position(msg->params, &uri, &pos, err);
  if (rc)
    return rc;
  struct doc *d = doc_find(&self->docs, uri);
  if (d)
    doc_touch(&self->docs, d);
  const struct dockerfile *df = d ? doc_model(d) : NULL;
  struct locate l;
  if (df)
    locate_at(&l, df, d->text, d->len, doc_offset(d, pos, self->encoding));
  const struct know_instr *k =
      df && l.where == LOCATE_ARGS ? know_instr(l.instr->kind) : NULL;
  if (k == NULL || (l.top->kind == DF_ONBUILD && l.instr == l.top)) {
    rpc_reply(&self->rpc, msg->id, NULL);
    return 0;
  }
  struct buf label = BUF_INIT;
  struct proto_parameter params[64];
  size_t np = 0;
  buf_puts(&label, k->keyword);
  size_t nf;
  const struct know_flag *fs = know_flags(&nf);
  const char *t = d->text;
  size_t active = SIZE_MAX;
  bool on_flag = l.word_end - l.word_start > 2 && t[l.word_start] == '-' &&
                 t[l.word_start + 1] == '-';
  size_t fname_end = l.word_start;
  while (fname_end < l.word_end && t[fname_end] != '=')
    fname_end++;
  for (size_t i = 0; i < nf && np < 60; i++) {
    if (fs[i].instr != k->kind)
      continue;
    buf_putc(&label, ' ');
    size_t s = label.len;
    if (fs[i].kind == KNOW_BOOL)
      buf_printf(&label, "[--%s]", fs[i].name);
    else
      buf_printf(&label, "[--%s=%s]", fs[i].name, fs[i].placeholder);
    params[np].start = s;
    params[np].end = label.len;
    params[np].doc = fs[i].doc;
    /* The flag typed: its whole name, or the first it begins. */
    size_t typed = fname_end - l.word_start - 2;
    if (on_flag && typed <= strlen(fs[i].name) &&
        strncmp(t + l.word_start + 2, fs[i].name, typed) == 0 &&
        (active == SIZE_MAX || typed == strlen(fs[i].name)))
      active = np;
    np++;
  }
  size_t first_arg = np;
  for (const char *const *p = k->parameters; *p && np < 64; p++) {
    buf_putc(&label, ' ');
    params[np].start = label.len;
    buf_puts(&label, *p);
    params[np].end = label.len;
    params[np].doc = NULL;
    np++;
  }
  if (active == SIZE_MAX && np > first_arg) {
    size_t argi = l.nwords_before - l.nflags_before;
    size_t nargs = np - first_arg;
    if (on_flag)
      argi = 0;
    if (argi >= nargs)
      argi = nargs - 1;
    /* A list then one last argument (COPY <src>... <dest>): the last
     * word typed is the destination. */
    if (nargs == 2 && (k->kind == DF_COPY || k->kind == DF_ADD))
      argi =
          l.nwords_before - l.nflags_before >= 1 && !signature__more_words(&l)
              ? 1
              : 0;
    active = first_arg + argi;
  }
  struct buf doc = BUF_INIT;
  char url[256];
  buf_printf(&doc, "%s\n\n[Dockerfile reference](%s)", k->doc,
             know_url(k->anchor, url, sizeof(url)));
  struct proto_signature sig = {buf_cstr(&label), buf_cstr(&doc), params, np,
                                active == SIZE_MAX ? 0 : active};
  rpc_reply(&self->rpc, msg->id, proto_signature_help(self, &sig));
  buf_cleanup(&label);
  buf_cleanup(&doc);
  return 0;
}
