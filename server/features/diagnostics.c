/*
 * diagnostics.c - the diagnostics feature: runs analysis_run on a
 * document's text, tree and model, and delivers the result by push
 * (publishDiagnostics) or pull (textDocument/diagnostic).
 *
 * DESIGN
 * Typing produces a change every few milliseconds; analysing each one
 * would waste work on text that is already stale, but making the first
 * edit wait would make every single fix feel slow.  So changes are
 * throttled, not debounced: an edit after a quiet period is analysed at
 * once; further edits within `debounceMs` of that analysis are coalesced
 * into one more analysis at the end of the window.  One server-wide timer
 * fires at the earliest due time and analyses every due document.  Opening a
 * document is due at once, but also waits for its .dockerignore read and,
 * right after start-up, for the client's workspace/configuration answer,
 * so the first result already honours the user's settings.
 *
 * The analysis runs on libuv's thread pool, so a slow rule never stalls
 * the loop (a cancel, a keystroke or shutdown is handled meanwhile).  The
 * job works on a snapshot: the document's text, lent rather than copied
 * (an edit meanwhile first hands the buffer over to the job, see
 * doc_lend_text), ts_tree_copy of the tree (tree-sitter's documented way
 * to share a tree with a thread), and copies of the .dockerignore and the
 * rule settings.  It also takes the document's
 * model (the one the previous job read) with the bytes unchanged since,
 * brings it up to date with dockerfile_update (a keystroke reads one run
 * of lines again instead of the whole file) and hands it back; the
 * document counts the edits made meanwhile for the next job.  One job per
 * document at a time.  A result whose document changed meanwhile (or whose
 * settings did) is dropped: its ranges belong to text that no longer
 * exists; the document is dirty again and gets a new job.
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
#include "../../common/buf.h"
#include "../../common/log.h"
#include "../hooks.h"
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
  if (!d->ignore_ready || d->diag_job != NULL)
    return false; /* a running job re-arms when it ends */
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

struct diag_job {
  uv_work_t req;
  struct server *self;
  struct doc *doc; /* NULL once the document closed or the session ended */
  uint64_t revision;
  unsigned generation;
  /* The snapshot, owned by the job; the text is the document's, lent
   * (doc_lend_text): text_own is set when the document has handed the
   * buffer over (it changed or closed meanwhile) and the job frees it. */
  const char *text;
  char *text_own;
  size_t len;
  TSTree *tree;
  char *ignore;
  size_t ignore_len;
  struct analysis_config config;
  bool enabled;
  /* The document's model, taken for the job and given back after it
   * (NULL: read the whole text), and the bytes unchanged since it was
   * read.  Owned by the job while it runs. */
  struct dockerfile *model;
  size_t same_prefix;
  size_t same_suffix;
  /* The result, filled on the worker. */
  struct diag_list out;
  double ms;
};

/* Runs on a thread-pool thread: touches only the job. */
static void diagnostics__work(uv_work_t *req) {
  struct diag_job *j = req->data;
  uint64_t t0 = uv_hrtime();
  if (j->enabled) {
    if (j->model)
      dockerfile_update(j->model, j->text, j->len, j->tree, j->same_prefix,
                        j->same_suffix);
    else
      j->model = dockerfile_parse(j->text, j->len, j->tree);
    struct analysis_input in = {
        .text = j->text,
        .len = j->len,
        .tree = j->tree,
        .df = j->model,
        .dockerignore = j->ignore,
        .dockerignore_len = j->ignore_len,
        .config = &j->config,
    };
    analysis_run(&in, &j->out);
  }
  j->ms = (double)(uv_hrtime() - t0) / 1e6;
}

static void diagnostics__job_free(struct diag_job *j) {
  if (j->doc && j->doc->text_lent_to == &j->text_own)
    doc_unlend_text(j->doc);
  free(j->text_own);
  free(j->ignore);
  if (j->tree)
    ts_tree_delete(j->tree);
  analysis_config_cleanup(&j->config);
  diag_list_cleanup(&j->out);
  dockerfile_free(j->model);
  free(j);
}

/* Delivers a fresh result to whoever wants it: a push, and every pull
 * waiting for this document. */
static void diagnostics__deliver(struct server *self, struct doc *d,
                                 const struct diag_list *l, double ms) {
  char rid[64];
  diagnostics__result_id(self, d, rid, sizeof(rid));
  if (!diagnostics__pull_mode(self)) {
    struct buf b = BUF_INIT;
    rpc_notify_begin(&b, "textDocument/publishDiagnostics");
    proto_publish_diagnostics(&b, self, d, l);
    rpc_notify_end(&self->rpc, &b);
    buf_cleanup(&b);
  }
  while (d->diag_waiting) {
    struct rpc_pending *p = d->diag_waiting;
    d->diag_waiting = p->owner_next;
    rpc_pending_reply(&self->rpc, p, proto_diagnostic_report(self, d, l, rid));
  }
  log_debug("%s: %zu diagnostics in %.2f ms", d->uri, l->n, ms);
  server_trace(self, NULL,
               "Diagnostics for %s (version %" PRId64 "): %zu in %.2f ms.",
               d->uri, d->version, l->n, ms);
}

/* Keeps l (taken: *l is left empty) as d's latest result. */
static void diagnostics__keep(struct diag_list *l, struct doc *d,
                              uint64_t revision, unsigned generation) {
  if (d->diags == NULL) {
    d->diags = xmalloc(sizeof(*d->diags));
    diag_list_init(d->diags);
  }
  diag_list_cleanup(d->diags);
  *d->diags = *l;
  diag_list_init(l);
  d->diags_revision = revision;
  d->diags_generation = generation;
}

static void diagnostics__drop_kept(struct doc *d) {
  if (d->diags) {
    diag_list_cleanup(d->diags);
    free(d->diags);
  }
  d->diags = NULL;
}

const struct diag_list *diagnostics_current(struct server *self,
                                            struct doc *d) {
  if (!self->settings.diagnostics_enable || d->too_big)
    return NULL;
  if (d->diags && d->diags_revision == d->revision &&
      d->diags_generation == self->settings.generation)
    return d->diags;
  const struct dockerfile *df = doc_model(d); /* warms d: tree too */
  if (df == NULL)
    return NULL;
  struct analysis_input in = {
      .text = d->text,
      .len = d->len,
      .tree = d->tree,
      .df = df,
      .dockerignore = d->ignore,
      .dockerignore_len = d->ignore_len,
      .config = &self->settings.config,
  };
  struct diag_list l;
  diag_list_init(&l);
  analysis_run(&in, &l);
  diagnostics__keep(&l, d, d->revision, self->settings.generation);
  return d->diags;
}

/* Documents not used lately give their tree, model and kept result back
 * (code actions and hover analyse a cold document again): before an
 * analysis, so its model is built in their place, and after one. */
static void diagnostics__trim(struct server *self) {
  doc_store_trim(&self->docs);
  for (size_t i = 0; i < self->docs.n; i++)
    if (self->docs.v[i]->cold)
      diagnostics__drop_kept(self->docs.v[i]);
}

static void diagnostics__after_work(uv_work_t *req, int status) {
  struct diag_job *j = req->data;
  struct server *self = j->self;
  struct doc *d = j->doc;
  if (d != NULL) {
    d->diag_job = NULL;
    /* The model of the job's text, stale or not: the document counted the
     * edits since.  (A job that did not run has a model of older text.) */
    if (j->model && d->model == NULL && status == 0) {
      d->model = j->model;
      j->model = NULL;
    }
  }
  if (d != NULL && status == 0 && !self->exiting) {
    if (j->revision == d->revision &&
        j->generation == self->settings.generation) {
      diagnostics__deliver(self, d, &j->out, j->ms);
      if (j->enabled)
        diagnostics__keep(&j->out, d, j->revision, j->generation);
    } else
      log_debug("%s: dropping a stale analysis (%.2f ms)", d->uri, j->ms);
  }
  diagnostics__job_free(j);
  diagnostics__trim(self);
  diagnostics__arm(self);
}

static void diagnostics__config_copy(struct analysis_config *dst,
                                     const struct analysis_config *src) {
  analysis_config_init(dst);
  if (src->nrules == 0)
    return;
  dst->rules = xcalloc(src->nrules, sizeof(*dst->rules));
  for (size_t i = 0; i < src->nrules; i++) {
    dst->rules[i].rule = xstrdup(src->rules[i].rule);
    dst->rules[i].severity = src->rules[i].severity;
  }
  dst->nrules = src->nrules;
}

/* Snapshots the document and queues its analysis. */
static void diagnostics__start(struct server *self, struct doc *d) {
  diagnostics__trim(self);
  doc_warm(d);
  struct diag_job *j = xcalloc(1, sizeof(*j));
  j->self = self;
  j->doc = d;
  j->revision = d->revision;
  j->generation = self->settings.generation;
  j->enabled = self->settings.diagnostics_enable && !d->too_big;
  diag_list_init(&j->out);
  if (j->enabled) {
    j->text = d->text;
    j->len = d->len;
    doc_lend_text(d, &j->text_own);
    j->tree = d->tree ? ts_tree_copy(d->tree) : NULL;
    if (d->ignore)
      j->ignore = xstrndup(d->ignore, d->ignore_len);
    j->ignore_len = d->ignore_len;
    diagnostics__config_copy(&j->config, &self->settings.config);
    j->model = d->model;
    j->same_prefix = d->model_prefix;
    j->same_suffix = d->model_suffix;
    d->model = NULL;
    d->model_prefix = SIZE_MAX; /* from now on: edits after the snapshot */
    d->model_suffix = SIZE_MAX;
  } else {
    analysis_config_init(&j->config);
  }
  j->req.data = j;
  int rc = uv_queue_work(self->loop, &j->req, diagnostics__work,
                         diagnostics__after_work);
  if (rc < 0) { /* the callbacks will not run */
    log_error("cannot queue an analysis: %s", uv_strerror(rc));
    diagnostics__job_free(j);
    return;
  }
  d->diag_job = j;
  d->diag_started = uv_now(self->loop);
  d->diag_dirty = false; /* a change from now on makes it dirty again */
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
      diagnostics__start(self, d);
  }
  diagnostics__arm(self);
}

void diagnostics_schedule(struct server *self, struct doc *d, bool now) {
  uint64_t t = uv_now(self->loop);
  uint64_t window_end = d->diag_started + self->settings.debounce_ms;
  d->diag_dirty = true;
  /* Leading edge when idle; otherwise the end of the throttle window (a
   * running job also makes it wait: one job per document). */
  if (now ||
      (d->diag_job == NULL && (d->diag_started == 0 || window_end <= t)))
    d->diag_due = t;
  else
    d->diag_due = window_end > t ? window_end : t;
  diagnostics__arm(self);
}

void diagnostics_ignore_ready(struct server *self, struct doc *d) {
  d->diag_dirty = true; /* the input changed */
  diagnostics__arm(self);
}

void diagnostics_forget(struct server *self, struct doc *d) {
  diagnostics__drop_kept(d);
  if (d->diag_job)
    d->diag_job->doc = NULL; /* it finishes and frees itself */
  d->diag_job = NULL;
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
  for (size_t i = 0; i < self->docs.n; i++) {
    struct doc *d = self->docs.v[i];
    d->diag_waiting = NULL;
    diagnostics__drop_kept(d);
    if (d->diag_job)
      d->diag_job->doc = NULL;
    d->diag_job = NULL;
    /* The job may go on reading the text: the documents are freed only
     * after the loop has run every job's callback (server_run). */
    doc_unlend_text(d);
  }
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
  if (previous != NULL && strcmp(previous, rid) == 0 && !d->diag_dirty &&
      d->diag_job == NULL) {
    rpc_reply(&self->rpc, msg->id, proto_diagnostic_unchanged(rid));
    return 0;
  }
  struct rpc_pending *p =
      rpc_defer(&self->rpc, msg->id, msg->method, diagnostics__on_cancel, d);
  p->owner_next = d->diag_waiting;
  d->diag_waiting = p;
  /* The answer comes from a job on the thread pool. */
  if (d->diag_job == NULL)
    diagnostics__start(self, d);
  return 0;
}
