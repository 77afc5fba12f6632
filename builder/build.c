/*
 * build.c - the build thread and its event queue (see build.h).
 *
 * DESIGN: the build thread appends events to a locked singly linked
 * queue and calls uv_async_send; the caller's loop moves the whole queue
 * out under the lock and delivers it unlocked (libuv threadpool.c).  LOG
 * events are merged into the previous LOG while more than
 * BUILD_QUEUE_SOFT events wait, so a chatty build cannot grow the queue
 * without bound.  The terminal event is queued last by the thread, just
 * before it exits.
 */
#include "build.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../common/buf.h"
#include "dispatch.h"
#include "images.h"
#include "store.h"

#define BUILD_QUEUE_SOFT 256
/* The nice value of a background build. */
#define BUILD_BACKGROUND_NICE 10

struct build__ev {
  struct build_event ev;
  struct buf text;
  struct build__ev *next;
};

struct build__req_copy {
  struct build_request req;
  struct strv strings; /* owns every string req points to */
  const char **tags, **args, **insecure, **secrets, **env, **cache_from;
};

struct build {
  uv_loop_t *loop;
  uv_async_t async;
  uv_thread_t thread;
  bool thread_started, joined;
  uv_mutex_t lock;
  struct build__ev *head, *tail;
  size_t qlen;
  build_event_fn cb;
  void *ctx;
  atomic_bool cancel;
  bool terminal_seen;
  struct build__req_copy rc;
};

static const char *build__dup(struct build__req_copy *c, const char *s) {
  if (s == NULL)
    return NULL;
  strv_push(&c->strings, s);
  return c->strings.v[c->strings.n - 1];
}

static const char **build__dupv(struct build__req_copy *c,
                                const char *const *v, size_t n) {
  const char **out = xcalloc(n ? n : 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    out[i] = build__dup(c, v[i]);
  return out;
}

static void build__copy_req(struct build__req_copy *c,
                            const struct build_request *r) {
  memset(c, 0, sizeof(*c));
  c->req = *r;
  c->req.context_dir = build__dup(c, r->context_dir);
  c->req.dockerfile = build__dup(c, r->dockerfile);
  if (r->dockerfile_text) {
    strv_pushn(&c->strings, r->dockerfile_text, r->dockerfile_len);
    c->req.dockerfile_text = c->strings.v[c->strings.n - 1];
  }
  c->req.target = build__dup(c, r->target);
  c->req.platform = build__dup(c, r->platform);
  c->req.output = build__dup(c, r->output);
  if (r->root) {
    c->req.root = build__dup(c, r->root);
  } else {
    strv_push_take(&c->strings, store_default_root(r->env, r->nenv));
    c->req.root = c->strings.v[c->strings.n - 1];
  }
  c->req.push_dest = build__dup(c, r->push_dest);
  c->env = build__dupv(c, r->env, r->nenv);
  c->req.env = c->env;
  c->tags = build__dupv(c, r->tags, r->ntags);
  c->args = build__dupv(c, r->build_args, r->nbuild_args);
  c->insecure = build__dupv(c, r->insecure, r->ninsecure);
  c->secrets = build__dupv(c, r->secrets, r->nsecrets);
  c->req.secrets = c->secrets;
  c->req.tags = c->tags;
  c->req.build_args = c->args;
  c->req.insecure = c->insecure;
  c->cache_from = build__dupv(c, r->cache_from, r->ncache_from);
  c->req.cache_from = c->cache_from;
  c->req.cache_to = build__dup(c, r->cache_to);
}

static void build__free_req(struct build__req_copy *c) {
  free(c->tags);
  free(c->args);
  free(c->insecure);
  free(c->secrets);
  free(c->env);
  free(c->cache_from);
  strv_cleanup(&c->strings);
}

/* Build thread: queue a whole event (its text copied). */
static void build__post_ev(struct build *b, const struct build_event *ev) {
  struct build__ev *e = xcalloc(1, sizeof(*e));
  e->ev = *ev;
  buf_puts(&e->text, ev->text ? ev->text : "");
  e->ev.text = NULL;
  uv_mutex_lock(&b->lock);
  if (b->tail)
    b->tail->next = e;
  else
    b->head = e;
  b->tail = e;
  b->qlen++;
  uv_mutex_unlock(&b->lock);
  uv_async_send(&b->async);
}

/* Build thread: queue an event. */
static void build__post(struct build *b, enum build_event_kind kind,
                        const char *text, unsigned step, unsigned nsteps,
                        unsigned line, int code) {
  uv_mutex_lock(&b->lock);
  if (kind == BUILD_EV_LOG && b->qlen > BUILD_QUEUE_SOFT && b->tail &&
      b->tail->ev.kind == BUILD_EV_LOG && b->tail->ev.line == line) {
    buf_putc(&b->tail->text, '\n');
    buf_puts(&b->tail->text, text);
    uv_mutex_unlock(&b->lock);
    uv_async_send(&b->async);
    return;
  }
  struct build__ev *e = xcalloc(1, sizeof(*e));
  e->ev.kind = kind;
  e->ev.step = step;
  e->ev.nsteps = nsteps;
  e->ev.line = line;
  e->ev.code = code;
  buf_puts(&e->text, text ? text : "");
  if (b->tail)
    b->tail->next = e;
  else
    b->head = e;
  b->tail = e;
  b->qlen++;
  uv_mutex_unlock(&b->lock);
  uv_async_send(&b->async);
}

static void build__sink_step(void *ctx, unsigned step, unsigned nsteps,
                             unsigned line, const char *text) {
  build__post(ctx, BUILD_EV_STEP, text, step, nsteps, line, 0);
}

static void build__sink_log(void *ctx, const char *line) {
  build__post(ctx, BUILD_EV_LOG, line, 0, 0, 0, 0);
}

static void build__sink_log_at(void *ctx, unsigned line, const char *text) {
  build__post(ctx, BUILD_EV_LOG, text, 0, 0, line, 0);
}

static void build__sink_step_done(void *ctx, unsigned step, unsigned nsteps,
                                  unsigned line, bool cached, double seconds) {
  struct build_event ev = {.kind = BUILD_EV_STEP_DONE,
                           .step = step,
                           .nsteps = nsteps,
                           .line = line,
                           .cached = cached,
                           .seconds = seconds};
  build__post_ev(ctx, &ev);
}

static void build__sink_layer(void *ctx, unsigned line, const char *digest,
                              uint64_t size) {
  struct build_event ev = {
      .kind = BUILD_EV_LAYER, .line = line, .total = size, .text = digest};
  build__post_ev(ctx, &ev);
}

static void build__sink_image(void *ctx, const char *name, const char *digest,
                              bool pushed) {
  struct build_event ev = {.kind = BUILD_EV_IMAGE,
                           .code =
                               pushed ? BUILD_ACTION_PUSH : BUILD_ACTION_BUILD,
                           .text = name};
  snprintf(ev.digest, sizeof(ev.digest), "%s", digest);
  build__post_ev(ctx, &ev);
}

static void build__sink_progress(void *ctx, const char *verb,
                                 const char *digest, uint64_t done,
                                 uint64_t total) {
  char what[96];
  snprintf(what, sizeof(what), "%s %s", verb, digest);
  struct build_event ev = {.kind = BUILD_EV_PROGRESS,
                           .current = done,
                           .total = total,
                           .text = what};
  build__post_ev(ctx, &ev);
}

/* A page of tags, one event: the server keeps them as they come. */
static void build__tags_page(void *ctx, const char *const *tags, size_t n) {
  struct buf text = BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (i)
      buf_putc(&text, '\n');
    buf_puts(&text, tags[i]);
  }
  struct build_event ev = {
      .kind = BUILD_EV_TAGS, .current = n, .text = buf_cstr(&text)};
  build__post_ev(ctx, &ev);
  buf_cleanup(&text);
}

static void build__thread(void *arg) {
  struct build *b = arg;
  /* Linux: the nice value is per thread and inherited by the threads and
   * processes this one starts (pgzip's workers, layer jobs, RUN). */
  if (b->rc.req.background &&
      setpriority(PRIO_PROCESS, (id_t)gettid(), BUILD_BACKGROUND_NICE) != 0)
    build__post(b, BUILD_EV_LOG, "cannot lower the build's priority", 0, 0, 0,
                0);
  uv_loop_t loop;
  struct err err;
  err_clear(&err);
  char digest[72] = "";
  int rc = uv_loop_init(&loop);
  if (rc != 0) {
    build__post(b, BUILD_EV_FAILED, "cannot start the build loop", 0, 0, 0,
                ERR_INTERNAL);
    return;
  }
  struct dispatch_sink sink = {build__sink_step,      build__sink_log,
                               build__sink_log_at,    b,
                               build__sink_step_done, build__sink_layer,
                               build__sink_image,     build__sink_progress};
  const struct build_request *req = &b->rc.req;
  switch (req->action) {
  case BUILD_ACTION_BUILD: {
    /* Entries touched from here on are this build's (the export's). */
    struct timespec since;
    clock_gettime(CLOCK_REALTIME, &since);
    rc = images_cache_import_run(req, &loop, &b->cancel, &sink, &err);
    if (rc == 0)
      rc = dispatch_run(req, &loop, &b->cancel, &sink, digest, &err);
    if (rc == 0 && req->cache_to && !atomic_load(&b->cancel))
      rc = images_cache_export_run(req, &loop, &b->cancel, &sink, digest,
                                   &since, &err);
    if (rc == 0 && req->push && req->ntags > 0 && !atomic_load(&b->cancel)) {
      char pushed[72];
      rc = images_push_run(req, &loop, &b->cancel, &sink, pushed, &err);
    }
    break;
  }
  case BUILD_ACTION_PULL:
    rc = images_pull_run(req, &loop, &b->cancel, &sink, digest, &err);
    break;
  case BUILD_ACTION_PUSH:
    rc = images_push_run(req, &loop, &b->cancel, &sink, digest, &err);
    break;
  case BUILD_ACTION_TAGS:
    rc = images_tags_run(req, &loop, &b->cancel, build__tags_page, b, &err);
    break;
  default:
    rc = err_set(&err, ERR_INVALID, "unknown build action %d",
                 (int)req->action);
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  (void)uv_loop_close(&loop);
  if (rc == 0)
    build__post(b, BUILD_EV_DONE, digest, 0, 0, 0, 0);
  else if (rc == ERR_CANCELLED || atomic_load(&b->cancel))
    build__post(b, BUILD_EV_CANCELLED, "cancelled", 0, 0, 0, ERR_CANCELLED);
  else
    build__post(b, BUILD_EV_FAILED, err.msg[0] ? err.msg : err_code_text(rc),
                0, 0, err.line, rc);
}

/* Caller's loop: drain the whole queue. */
static void build__async_cb(uv_async_t *h) {
  struct build *b = h->data;
  uv_mutex_lock(&b->lock);
  struct build__ev *e = b->head;
  b->head = b->tail = NULL;
  b->qlen = 0;
  uv_mutex_unlock(&b->lock);
  while (e) {
    struct build__ev *next = e->next;
    e->ev.text = e->text.data ? e->text.data : "";
    bool terminal = e->ev.kind == BUILD_EV_DONE ||
                    e->ev.kind == BUILD_EV_FAILED ||
                    e->ev.kind == BUILD_EV_CANCELLED;
    if (!b->terminal_seen && b->cb)
      b->cb(b->ctx, &e->ev);
    if (terminal) {
      b->terminal_seen = true;
      /* Nothing more will come: let the loop end. */
      uv_unref((uv_handle_t *)&b->async);
    }
    buf_cleanup(&e->text);
    free(e);
    e = next;
  }
}

int build_start(uv_loop_t *loop, const struct build_request *req,
                build_event_fn cb, void *ctx, struct build **out,
                struct err *err) {
  *out = NULL;
  if (req == NULL ||
      (req->action == BUILD_ACTION_BUILD && req->context_dir == NULL))
    return err_set(err, ERR_INVALID, "a build needs a context directory");
  struct build *b = xcalloc(1, sizeof(*b));
  b->loop = loop;
  b->cb = cb;
  b->ctx = ctx;
  atomic_init(&b->cancel, false);
  build__copy_req(&b->rc, req);
  if (uv_mutex_init(&b->lock) != 0) {
    build__free_req(&b->rc);
    free(b);
    return err_set(err, ERR_INTERNAL, "uv_mutex_init failed");
  }
  if (uv_async_init(loop, &b->async, build__async_cb) != 0) {
    uv_mutex_destroy(&b->lock);
    build__free_req(&b->rc);
    free(b);
    return err_set(err, ERR_INTERNAL, "uv_async_init failed");
  }
  b->async.data = b;
  if (uv_thread_create(&b->thread, build__thread, b) != 0) {
    /* No callback will run; the handle still needs closing. */
    b->cb = NULL;
    b->terminal_seen = true;
    *out = b;
    build_free(b);
    *out = NULL;
    return err_set(err, ERR_INTERNAL, "cannot start the build thread");
  }
  b->thread_started = true;
  *out = b;
  return 0;
}

void build_cancel(struct build *b) {
  if (b)
    atomic_store(&b->cancel, true);
}

static void build__closed(uv_handle_t *h) {
  struct build *b = h->data;
  struct build__ev *e = b->head;
  while (e) {
    struct build__ev *n = e->next;
    buf_cleanup(&e->text);
    free(e);
    e = n;
  }
  uv_mutex_destroy(&b->lock);
  build__free_req(&b->rc);
  free(b);
}

void build_free(struct build *b) {
  if (b == NULL)
    return;
  if (b->thread_started && !b->joined) {
    uv_thread_join(&b->thread);
    b->joined = true;
  }
  uv_close((uv_handle_t *)&b->async, build__closed);
}

int build_run(const struct build_request *req, build_event_fn cb, void *ctx,
              struct build **handle_out, struct err *err) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0)
    return err_set(err, ERR_INTERNAL, "uv_loop_init failed");
  struct build *b;
  int rc = build_start(&loop, req, cb, ctx, &b, err);
  if (rc == 0) {
    if (handle_out)
      *handle_out = b;
    uv_run(&loop, UV_RUN_DEFAULT);
    if (handle_out)
      *handle_out = NULL;
    build_free(b);
    uv_run(&loop, UV_RUN_DEFAULT);
  } else {
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  (void)uv_loop_close(&loop);
  return rc;
}
