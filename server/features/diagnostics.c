/*
 * diagnostics.c - the diagnostics feature: runs analysis_run on a
 * document's text, tree and model, and delivers the result by push
 * (publishDiagnostics) or pull (textDocument/diagnostic).
 *
 * DESIGN
 * Typing produces a change every few milliseconds; analysing each one
 * would waste work on text that is already stale.  A change marks the
 * document dirty and due `debounceMs` later; one server-wide timer fires at
 * the earliest due time and analyses every due document.  Opening a
 * document is due at once, but also waits for its .dockerignore read and,
 * right after start-up, for the client's workspace/configuration answer,
 * so the first result already honours the user's settings.
 *
 * A pull for a document whose analysis is not due yet is deferred (kept in
 * the document's waiting list) and answered when it runs; until then
 * $/cancelRequest can cancel it.  Result ids are "<revision>.<settings
 * generation>", so a pull whose previousResultId is still current gets
 * "unchanged".
 */
#include "diagnostics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../analysis/analysis.h"
#include "../../common/log.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "../settings.h"

static bool diagnostics__pull_mode(const struct server *self) {
  return self->caps.pull_diagnostics;
}

static void diagnostics__result_id(const struct server *self,
                                   const struct doc *d, char *out,
                                   size_t size) {
  snprintf(out, size, "%" PRIu64 ".%u", d->revision,
           self->settings.generation);
}

/* Does this document need the timer?  Pushes are needed for every dirty
 * document; in pull mode only for documents someone is waiting for. */
static bool diagnostics__wanted(const struct server *self,
                                const struct doc *d) {
  if (!d->ignore_ready)
    return false;
  if (d->diag_waiting != NULL)
    return true;
  return d->diag_dirty && !diagnostics__pull_mode(self);
}

static void diagnostics__on_timer(uv_timer_t *t);

/* Starts the timer for the earliest due document (or stops it). */
static void diagnostics__arm(struct server *self) {
  /* After shutdown the client expects nothing but the exit handshake. */
  if (self->exiting || self->state == SERVER_SHUTDOWN) {
    if (!self->exiting)
      uv_timer_stop(&self->diag_timer);
    return;
  }
  uint64_t now = uv_now(self->loop);
  uint64_t due = UINT64_MAX;
  for (size_t i = 0; i < self->docs.n; i++) {
    const struct doc *d = self->docs.v[i];
    if (diagnostics__wanted(self, d) && d->diag_due < due)
      due = d->diag_due;
  }
  uint64_t until;
  if (due != UINT64_MAX && settings_wait(self, &until) && until > due)
    due = until;
  if (due == UINT64_MAX) {
    uv_timer_stop(&self->diag_timer);
    return;
  }
  uv_timer_start(&self->diag_timer, diagnostics__on_timer,
                 due > now ? due - now : 0, 0);
}

/* Analyses one document and delivers the result to whoever wants it. */
static void diagnostics__run(struct server *self, struct doc *d) {
  struct diag_list l;
  diag_list_init(&l);
  uint64_t t0 = uv_hrtime();
  if (self->settings.diagnostics_enable && !d->too_big) {
    struct analysis_input in = {
        .text = d->text,
        .len = d->len,
        .tree = d->tree,
        .df = d->df,
        .dockerignore = d->ignore,
        .dockerignore_len = d->ignore_len,
        .config = &self->settings.config,
    };
    analysis_run(&in, &l);
  }
  double ms = (double)(uv_hrtime() - t0) / 1e6;
  d->diag_dirty = false;

  char rid[64];
  diagnostics__result_id(self, d, rid, sizeof(rid));
  if (!diagnostics__pull_mode(self)) {
    rpc_notify(&self->rpc, "textDocument/publishDiagnostics",
               proto_publish_diagnostics(self, d, &l));
  }
  while (d->diag_waiting) {
    struct rpc_pending *p = d->diag_waiting;
    d->diag_waiting = p->owner_next;
    rpc_pending_reply(&self->rpc, p,
                      proto_diagnostic_report(self, d, &l, rid));
  }
  log_debug("%s: %zu diagnostics in %.2f ms", d->uri, l.n, ms);
  server_trace(self, NULL,
               "Diagnostics for %s (version %" PRId64 "): %zu in %.2f ms.",
               d->uri, d->version, l.n, ms);
  diag_list_cleanup(&l);
}

static bool diagnostics__runnable(struct server *self, const struct doc *d,
                                  uint64_t now) {
  uint64_t until;
  return d->ignore_ready && d->diag_due <= now && !settings_wait(self, &until);
}

static void diagnostics__on_timer(uv_timer_t *t) {
  struct server *self = t->data;
  uint64_t now = uv_now(self->loop);
  for (size_t i = 0; i < self->docs.n; i++) {
    struct doc *d = self->docs.v[i];
    if (diagnostics__wanted(self, d) && diagnostics__runnable(self, d, now))
      diagnostics__run(self, d);
  }
  diagnostics__arm(self);
}

void diagnostics_schedule(struct server *self, struct doc *d, bool now) {
  d->diag_dirty = true;
  d->diag_due = uv_now(self->loop) + (now ? 0 : self->settings.debounce_ms);
  diagnostics__arm(self);
}

void diagnostics_ignore_ready(struct server *self, struct doc *d) {
  d->diag_dirty = true; /* the input changed */
  diagnostics__arm(self);
}

void diagnostics_forget(struct server *self, struct doc *d) {
  /* The document is gone: a waiting pull gets an empty report. */
  while (d->diag_waiting) {
    struct rpc_pending *p = d->diag_waiting;
    d->diag_waiting = p->owner_next;
    rpc_pending_reply(&self->rpc, p,
                      proto_diagnostic_report(self, d, NULL, NULL));
  }
  if (!diagnostics__pull_mode(self) && !self->exiting)
    rpc_notify(&self->rpc, "textDocument/publishDiagnostics",
               proto_publish_empty(d->uri));
}

void diagnostics_settings_changed(struct server *self) {
  uint64_t now = uv_now(self->loop);
  for (size_t i = 0; i < self->docs.n; i++) {
    self->docs.v[i]->diag_dirty = true;
    self->docs.v[i]->diag_due = now;
  }
  diagnostics__arm(self);
  /* Pulling clients ask again when told to. */
  if (diagnostics__pull_mode(self) && self->caps.diagnostic_refresh &&
      self->docs.n > 0)
    rpc_request(&self->rpc, "workspace/diagnostic/refresh", NULL, NULL, NULL);
}

void diagnostics_stop(struct server *self) {
  /* Pending requests are dropped with the session (rpc_cleanup); only the
   * documents' links to them go here. */
  for (size_t i = 0; i < self->docs.n; i++)
    self->docs.v[i]->diag_waiting = NULL;
}

/* $/cancelRequest on a waiting pull: unlink it from its document. */
static void diagnostics__on_cancel(void *owner, struct rpc_pending *p) {
  struct doc *d = owner;
  for (struct rpc_pending **pp = &d->diag_waiting; *pp;
       pp = &(*pp)->owner_next)
    if (*pp == p) {
      *pp = p->owner_next;
      return;
    }
}

int diagnostics_pull(struct server *self, const struct rpc_msg *msg,
                     struct err *err) {
  const char *uri, *previous;
  int rc = proto_read_text_document(msg->params, &uri, &previous, err);
  if (rc)
    return rc;
  struct doc *d = doc_find(&self->docs, uri);
  if (d == NULL) {
    /* Not open (or closed meanwhile): nothing to report. */
    rpc_reply(&self->rpc, msg->id,
              proto_diagnostic_report(self, NULL, NULL, NULL));
    return 0;
  }
  uint64_t now = uv_now(self->loop);
  if (!diagnostics__runnable(self, d, now)) {
    struct rpc_pending *p =
        rpc_defer(&self->rpc, msg->id, msg->method, diagnostics__on_cancel, d);
    p->owner_next = d->diag_waiting;
    d->diag_waiting = p;
    diagnostics__arm(self);
    return 0;
  }
  char rid[64];
  diagnostics__result_id(self, d, rid, sizeof(rid));
  if (previous != NULL && strcmp(previous, rid) == 0 && !d->diag_dirty) {
    rpc_reply(&self->rpc, msg->id, proto_diagnostic_unchanged(rid));
    return 0;
  }
  struct rpc_pending *p =
      rpc_defer(&self->rpc, msg->id, msg->method, diagnostics__on_cancel, d);
  p->owner_next = d->diag_waiting;
  d->diag_waiting = p;
  diagnostics__run(self, d);
  return 0;
}
