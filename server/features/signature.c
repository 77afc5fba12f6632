/*
 * signature.c - textDocument/signatureHelp: the instruction's syntax from
 * the knowledge table, its flags first and then its arguments, each a
 * parameter with its documentation, and the one under the cursor active:
 * the flag being typed (by name), else the argument by position (the last
 * parameter takes every further word, so COPY's sources stay on `<src>`
 * until the word typed is the last of the line, the destination).
 *
 * Inside a `--mount=` value a second signature, the mount's own, is the
 * active one: `--mount=type=<type>,target=<path>,...` with the keys of the
 * mount's type (bind unless `type=` says) and the key under the cursor
 * active.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The mount's signature for the value starting at byte `value`. */
static struct proto_signature signature__mount(const struct locate *l,
                                               size_t value, struct buf *label,
                                               struct proto_parameter *params,
                                               size_t max) {
  const char *t = l->text;
  /* The mount's type, and the key under the cursor. */
  const struct know_mount_type *type = know_mount_type("bind");
  for (size_t k = value; k + 5 <= l->word_end; k++)
    if ((k == value || t[k - 1] == ',') &&
        strncasecmp(t + k, "type=", 5) == 0) {
      size_t e = k + 5;
      while (e < l->word_end && t[e] != ',')
        e++;
      char *name = strndup(t + k + 5, e - k - 5);
      if (know_mount_type(name))
        type = know_mount_type(name);
      free(name);
    }
  size_t seg = value;
  for (size_t k = value; k < l->off; k++)
    if (t[k] == ',')
      seg = k + 1;
  size_t se = seg;
  while (se < l->word_end && t[se] != '=' && t[se] != ',')
    se++;
  char *key = strndup(t + seg, se - seg);
  const struct know_mount_key *cur = know_mount_key(key);
  bool on_type = strcasecmp(key, "type") == 0;
  free(key);

  struct proto_signature sig;
  memset(&sig, 0, sizeof(sig));
  buf_puts(label, "--mount=");
  size_t np = 0;
  params[np].start = label->len;
  buf_puts(label, "type=<bind|cache|tmpfs|secret|ssh>");
  params[np].end = label->len;
  params[np].doc = type->doc;
  np++;
  size_t nk;
  const struct know_mount_key *keys = know_mount_keys(&nk);
  for (size_t i = 0; i < nk && np < max; i++) {
    if (!(keys[i].types & type->bit))
      continue;
    buf_putc(label, ',');
    params[np].start = label->len;
    if (keys[i].values && strchr(keys[i].values, '|'))
      buf_printf(label, "%s=<%s>", keys[i].key, keys[i].values);
    else
      buf_printf(label, "%s=<%s>", keys[i].key, keys[i].key);
    params[np].end = label->len;
    params[np].doc = keys[i].doc;
    if (&keys[i] == cur)
      sig.active = np;
    np++;
  }
  if (on_type)
    sig.active = 0;
  sig.label = buf_cstr(label);
  sig.doc = type->doc;
  sig.params = params;
  sig.nparams = np;
  return sig;
}

int signature_handle(struct server *self, const struct rpc_msg *msg,
                     struct err *err) {
  const char *uri;
  struct lsp_pos pos;
  int rc = proto_read_position(msg->params, &uri, &pos, err);
  if (rc)
    return rc;
  const struct dockerfile *df;
  struct doc *d = doc_use(&self->docs, uri, &df);
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
  struct proto_signature sigs[2] = {{buf_cstr(&label), buf_cstr(&doc), params,
                                     np, active == SIZE_MAX ? 0 : active}};
  struct buf mlabel = BUF_INIT;
  struct proto_parameter mparams[32];
  size_t nsigs = 1;
  if (on_flag && fname_end < l.word_end && l.off > fname_end &&
      fname_end - l.word_start == 7 &&
      strncmp(t + l.word_start, "--mount", 7) == 0) {
    sigs[1] = signature__mount(&l, fname_end + 1, &mlabel, mparams, 32);
    nsigs = 2;
  }
  rpc_reply(&self->rpc, msg->id,
            proto_signature_help(self, sigs, nsigs, nsigs - 1));
  buf_cleanup(&label);
  buf_cleanup(&doc);
  buf_cleanup(&mlabel);
  return 0;
}
