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
