/*
 * build.h - building and pushing from the editor: workspace/executeCommand
 * with dockwright.build, dockwright.push and dockwright.buildAndPush,
 * progress, cancel, the build log, a failed build's diagnostic and the
 * code lenses (docs/editor-protocol.md).  The handlers are declared by
 * methods.h; these are the hooks the rest of the server calls.
 */
#ifndef DW_FEATURES_BUILD_H
#define DW_FEATURES_BUILD_H

#include "../protocol.h"

struct server;
struct doc;

/* The commands, NULL-terminated, for executeCommandProvider. */
extern const char *const build_commands[];

/* The last failed build's diagnostic for uri, or NULL: merged into the
 * document's published and pulled diagnostics. */
const struct proto_build_diag *build_diagnostic(struct server *self,
                                                const char *uri);

/* An edit of an open document (range NULL: the whole text): a diagnostic
 * on the edited lines is dropped, those below move with the edit. */
void build_did_change(struct server *self, struct doc *d,
                      const struct lsp_range *range, const char *text,
                      size_t len);

/* Shutdown or the end of the session: every build is cancelled; their
 * requests are forgotten (rpc answers them) and nothing more is sent. */
void build_stop(struct server *self);

#endif
