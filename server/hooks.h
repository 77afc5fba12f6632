/*
 * hooks.h - what a feature needs to hear about besides its own methods:
 * the settings changed, or the session is stopping (shutdown, exit, input
 * closed).  One table (HOOK_MAP), like methods.h: a feature that keeps
 * state adds one line here, and server.c fans each event out to every row
 * in table order.  settings.c, server.c, textsync.c and dockerignore.c
 * thus know no feature by name.
 *
 * Two events are per document: its .dockerignore read finished (found or
 * not), so what depends on it (diagnostics, completion's source paths) can
 * go on; and it is closing (answer or drop what waits for it).
 *
 * A hook may be NULL.  All run on the loop thread; a stop hook may run
 * twice (shutdown, then exit) and must be idempotent.
 */
#ifndef DW_HOOKS_H
#define DW_HOOKS_H

struct server;
struct doc;

typedef void (*hook_fn)(struct server *self);
typedef void (*hook_doc_fn)(struct server *self, struct doc *d);

/* X(feature, on_settings_changed, on_stop, on_ignore_ready, on_close) */
#define HOOK_MAP(X)                                                           \
  X("diagnostics", diagnostics_settings_changed, diagnostics_stop,            \
    diagnostics_ignore_ready, diagnostics_forget)                             \
  X("completion", NULL, completion_stop, completion_ignore_ready,             \
    completion_forget)                                                        \
  X("hover", NULL, hover_stop, NULL, NULL)                                    \
  X("build", NULL, build_stop, NULL, NULL)                                    \
  X("semtokens", NULL, semtokens_stop, NULL, semtokens_forget)                \
  X("tags", NULL, tags_stop, NULL, NULL)

/* The hooks, by feature (features/<feature>.c). */
void diagnostics_settings_changed(struct server *self);
void diagnostics_stop(struct server *self);
void diagnostics_ignore_ready(struct server *self, struct doc *d);
void diagnostics_forget(struct server *self, struct doc *d);
void completion_stop(struct server *self);
void completion_ignore_ready(struct server *self, struct doc *d);
void completion_forget(struct server *self, struct doc *d);
void hover_stop(struct server *self);
void build_stop(struct server *self);
void semtokens_stop(struct server *self);
void semtokens_forget(struct server *self, struct doc *d);
void tags_stop(struct server *self);

/* Every row's settings hook: the settings in self->settings are new. */
void server_settings_changed(struct server *self);
/* Every row's stop hook: forget deferred work; results are dropped. */
void server_stop_features(struct server *self);
/* Every row's .dockerignore hook for document d. */
void server_ignore_ready(struct server *self, struct doc *d);
/* Every row's close hook: d is leaving the store. */
void server_doc_closing(struct server *self, struct doc *d);

#endif
