/*
 * textsync.c - textDocument/didOpen, didChange (incremental and full) and
 * didClose: keeps the document store in step with the editor and tells the
 * features that depend on the text.
 *
 * Notifications cannot be answered, so a bad one is logged and ignored; a
 * change to a document that is not open is ignored the same way (the
 * editor will send didOpen with the full text if it cares).
 */
#include <inttypes.h>

#include "../../common/log.h"
#include "../dockerignore.h"
#include "../hooks.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "build.h"
#include "diagnostics.h"

static void textsync__close(struct server *self, const char *uri) {
  struct doc *d = doc_remove(&self->docs, uri);
  if (d == NULL)
    return;
  dockerignore_detach(d);
  server_doc_closing(self, d);
  doc_store_closing(&self->docs, d);
  doc_free(d);
}

int textsync_did_open(struct server *self, const struct rpc_msg *msg,
                      struct err *err) {
  struct proto_did_open o;
  int rc = proto_read_did_open(msg->params, &o, err);
  if (rc)
    return rc;
  if (doc_find(&self->docs, o.uri) != NULL) {
    /* LSP forbids it, but the new text is the truth: start over. */
    log_warn("%s opened twice; replacing it", o.uri);
    textsync__close(self, o.uri);
  }
  uint64_t t0 = uv_hrtime();
  struct doc *d;
  if (doc_open(&self->docs, self->parser, o.uri, o.version, o.text, o.len, &d,
               err) < 0)
    return RPC_REQUEST_FAILED;
  log_debug("%s: opened, %zu bytes parsed in %.2f ms", o.uri, o.len,
            (double)(uv_hrtime() - t0) / 1e6);
  doc_store_trim(&self->docs); /* the new document is the warm one now */
  dockerignore_load(self, d);
  diagnostics_schedule(self, d, true);
  return 0;
}

int textsync_did_change(struct server *self, const struct rpc_msg *msg,
                        struct err *err) {
  struct proto_did_change c;
  int rc = proto_read_did_change(msg->params, &c, err);
  if (rc) {
    proto_did_change_cleanup(&c);
    return rc;
  }
  struct doc *d = doc_find(&self->docs, c.uri);
  if (d == NULL) {
    log_warn("didChange for %s, which is not open; ignored", c.uri);
    proto_did_change_cleanup(&c);
    return 0;
  }
  if (c.version <= d->version)
    log_info("%s: version %" PRId64 " after %" PRId64, c.uri, c.version,
             d->version);
  uint64_t t0 = uv_hrtime();
  doc_touch(&self->docs, d);
  for (size_t i = 0; i < c.nchanges; i++) {
    const struct proto_change *ch = &c.changes[i];
    build_did_change(self, d, ch->has_range ? &ch->range : NULL, ch->text,
                     ch->len);
    doc_apply_change(d, ch->has_range ? &ch->range : NULL, self->encoding,
                     ch->text, ch->len);
  }
  d->version = c.version;
  doc_reparse(d, self->parser);
  log_debug("%s: %zu changes applied and reparsed in %.2f ms", c.uri,
            c.nchanges, (double)(uv_hrtime() - t0) / 1e6);
  proto_did_change_cleanup(&c);
  diagnostics_schedule(self, d, false);
  return 0;
}

int textsync_did_close(struct server *self, const struct rpc_msg *msg,
                       struct err *err) {
  const char *uri;
  int rc = proto_read_text_document(msg->params, &uri, NULL, err);
  if (rc)
    return rc;
  if (doc_find(&self->docs, uri) == NULL) {
    log_warn("didClose for %s, which is not open; ignored", uri);
    return 0;
  }
  textsync__close(self, uri);
  return 0;
}
