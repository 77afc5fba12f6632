/*
 * diagnostics.h - diagnostics for open documents: pushed with
 * textDocument/publishDiagnostics after open and change (debounced), and
 * pulled with textDocument/diagnostic.  The handler itself is declared by
 * methods.h; these are the hooks the rest of the server calls.
 *
 * Push or pull: a client that declares textDocument.diagnostic pulls (and
 * gets nothing pushed, so it never sees the same problem twice); any other
 * client gets pushes.
 */
#ifndef DW_FEATURES_DIAGNOSTICS_H
#define DW_FEATURES_DIAGNOSTICS_H

#include <stdbool.h>

struct server;
struct doc;

/* The diagnostics of the document's current text and settings: the latest
 * analysis when it is current, else an analysis run now on this thread
 * (for code actions and hover, which need them at once).  Owned by the
 * document; valid until its next change.  NULL when diagnostics are off or
 * the document is over the size limit. */
const struct diag_list *diagnostics_current(struct server *self,
                                            struct doc *d);

/* The document changed (or opened, with `now`): analyse it after the
 * debounce delay. */
void diagnostics_schedule(struct server *self, struct doc *d, bool now);
/* diagnostics_settings_changed (analyse every document again) and
 * diagnostics_stop (forget waiting pulls and running jobs) and
 * diagnostics_ignore_ready (the .dockerignore is read) and
 * diagnostics_forget (the document is closing: answer waiting pulls, clear
 * pushed ones) are hooks,
 * declared and called through server/hooks.h. */

#endif
