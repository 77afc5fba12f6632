/*
 * hooks.h - what a feature needs to hear about besides its own methods:
 * the settings changed, or the session is stopping (shutdown, exit, input
 * closed).  One table (HOOK_MAP), like methods.h: a feature that keeps
 * state adds one line here, and server.c fans each event out to every row
 * in table order.  settings.c and server.c thus know no feature by name.
 *
 * A hook may be NULL.  Both run on the loop thread; a stop hook may run
 * twice (shutdown, then exit) and must be idempotent.
 */
#ifndef DW_HOOKS_H
#define DW_HOOKS_H

struct server;

typedef void (*hook_fn)(struct server *self);

/* X(feature, on_settings_changed, on_stop) */
#define HOOK_MAP(X)                                                           \
  X("diagnostics", diagnostics_settings_changed, diagnostics_stop)

void diagnostics_settings_changed(struct server *self);
void diagnostics_stop(struct server *self);

/* Every row's settings hook: the settings in self->settings are new. */
void server_settings_changed(struct server *self);
/* Every row's stop hook: forget deferred work; results are dropped. */
void server_stop_features(struct server *self);

#endif
