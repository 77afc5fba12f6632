/*
 * debug.c - dockwright/debugDocument, a request for tests and bug reports
 * (like rust-analyzer's syntaxTree): the server's copy of a document, its
 * incrementally maintained tree, and the tree of a fresh parse of the same
 * text.  The two trees must be equal; a difference is a ts_tree_edit bug.
 */
#include <stdlib.h>

#include "../methods.h"
#include "../protocol.h"
#include "../server.h"

int debug_document(struct server *self, const struct rpc_msg *msg,
                   struct err *err) {
  const char *uri;
  int rc = proto_read_text_document(msg->params, &uri, NULL, err);
  if (rc)
    return rc;
  struct doc *d = doc_find(&self->docs, uri);
  if (d == NULL) {
    err_set(err, ERR_NOTFOUND, "%s is not open", uri);
    return RPC_INVALID_PARAMS;
  }
  doc_warm(d);
  char *tree = d->tree ? ts_node_string(ts_tree_root_node(d->tree)) : NULL;
  TSTree *fresh_tree = d->too_big
                           ? NULL
                           : ts_parser_parse_string(self->parser, NULL,
                                                    d->text, (uint32_t)d->len);
  char *fresh =
      fresh_tree ? ts_node_string(ts_tree_root_node(fresh_tree)) : NULL;
  rpc_reply(&self->rpc, msg->id, proto_debug_document(d, tree, fresh));
  free(tree);
  free(fresh);
  if (fresh_tree)
    ts_tree_delete(fresh_tree);
  return 0;
}
