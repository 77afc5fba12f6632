/*
 * server.c - the session: set-up, the dispatch of each message through the
 * method table, the lifecycle gate, and tear-down.  See server.h.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "hooks.h"
#include "methods.h"
#include "protocol.h"
#include "tree-sitter-dockerfile.h"
#include "tsalloc.h"

/* How often the client process is checked (initialize's processId). */
#define SERVER_PID_POLL_MS 500
/* Freed memory kept for reuse, and the smallest block given its own
 * mapping (see server__tune_malloc). */
#define SERVER_MALLOC_KEEP_BYTES (32 * 1024 * 1024)

struct server_method {
  const char *name;
  method_handler handler;
  enum method_kind kind;
};

static const struct server_method server_methods[] = {
#define SERVER_METHOD_ENTRY(name, handler, kind, cap) {name, handler, kind},
    METHOD_MAP(SERVER_METHOD_ENTRY)
#undef SERVER_METHOD_ENTRY
};

static const struct server_method *server__lookup(const char *name) {
  for (size_t i = 0; i < sizeof(server_methods) / sizeof(server_methods[0]);
       i++)
    if (strcmp(server_methods[i].name, name) == 0)
      return &server_methods[i];
  return NULL;
}

void server_trace(struct server *self, const char *verbose, const char *fmt,
                  ...) {
  if (self->trace == TRACE_OFF || self->exiting)
    return;
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  rpc_notify(&self->rpc, "$/logTrace",
             proto_log_trace(buf_cstr(&b),
                             self->trace == TRACE_VERBOSE ? verbose : NULL));
  buf_cleanup(&b);
}

/* Answers the lifecycle rules before any handler runs.  Returns 0 when the
 * message may go on to its handler. */
static int server__gate(struct server *self, const struct rpc_msg *msg,
                        const char **why) {
  bool is_exit = strcmp(msg->method, "exit") == 0;
  switch (self->state) {
  case SERVER_UNINITIALIZED:
    if (strcmp(msg->method, "initialize") == 0 || is_exit)
      return 0;
    *why = "the server is not initialized";
    return RPC_SERVER_NOT_INITIALIZED;
  case SERVER_RUNNING:
    if (strcmp(msg->method, "initialize") == 0) {
      *why = "initialize may only be sent once";
      return RPC_INVALID_REQUEST;
    }
    return 0;
  case SERVER_SHUTDOWN:
    if (is_exit)
      return 0;
    *why = "the server is shutting down";
    return RPC_INVALID_REQUEST;
  }
  return 0;
}

static void server__dispatch(struct server *self, const struct rpc_msg *msg) {
  bool request = msg->kind == RPC_REQUEST;
  char idtext[64] = "";
  if (request)
    rpc_id_text(msg->id, idtext, sizeof(idtext));
  log_debug("<- %s %s", msg->method, idtext);

  const char *why = NULL;
  int rc = server__gate(self, msg, &why);
  if (rc != 0) {
    if (request)
      rpc_reply_error(&self->rpc, msg->id, rc, why);
    else
      log_debug("%s dropped: %s", msg->method, why);
    return;
  }
  if (self->trace != TRACE_OFF && strcmp(msg->method, "$/setTrace") != 0) {
    const char *params =
        msg->params ? json_object_to_json_string_ext(
                          msg->params, JSON_C_TO_STRING_PLAIN |
                                           JSON_C_TO_STRING_NOSLASHESCAPE)
                    : "No parameters provided.";
    if (request)
      server_trace(self, params, "Received request '%s - (%s)'.", msg->method,
                   idtext);
    else
      server_trace(self, params, "Received notification '%s'.", msg->method);
  }

  const struct server_method *m = server__lookup(msg->method);
  if (m == NULL || (m->kind == METHOD_REQUEST) != request) {
    if (request) {
      char text[300];
      snprintf(text, sizeof(text), "unhandled method %.200s", msg->method);
      rpc_reply_error(&self->rpc, msg->id, RPC_METHOD_NOT_FOUND, text);
    } else if (strncmp(msg->method, "$/", 2) != 0) {
      log_info("ignoring notification %s", msg->method);
    }
    return;
  }
  struct err err;
  err_clear(&err);
  uint64_t t0 = uv_hrtime();
  rc = m->handler(self, msg, &err);
  uint64_t us = (uv_hrtime() - t0) / 1000;
  log_debug("   %s took %llu us", msg->method, (unsigned long long)us);
  if (rc == 0)
    return;
  if (request) {
    rpc_reply_error(&self->rpc, msg->id, rc, err.msg);
  } else {
    log_warn("%s: %s", msg->method, err.msg);
  }
}

static void server__on_message(void *ctx, const char *body, size_t len) {
  struct server *self = ctx;
  if (self->exiting)
    return;
  json_object *root = NULL, *bad_id = NULL;
  struct rpc_msg msg;
  struct err err;
  err_clear(&err);
  int rc = rpc_parse(&self->rpc, body, len, &root, &msg, &bad_id, &err);
  if (rc != 0) {
    log_warn("bad message: %s", err.msg);
    rpc_reply_error(&self->rpc, bad_id, rc, err.msg);
    json_object_put(bad_id);
    return;
  }
  if (msg.kind == RPC_RESPONSE)
    rpc_handle_response(&self->rpc, &msg);
  else
    server__dispatch(self, &msg);
  json_object_put(root);
}

static void server__on_oversize(void *ctx, size_t len) {
  struct server *self = ctx;
  char text[160];
  snprintf(text, sizeof(text),
           "message of %zu bytes is over the limit; skipped", len);
  rpc_reply_error(&self->rpc, NULL, RPC_INVALID_REQUEST, text);
}

static void server__on_hangup(void *ctx) {
  struct server *self = ctx;
  log_info("input closed; exiting");
  server_stop(self, self->state == SERVER_SHUTDOWN ? 0 : 1);
}

/* ---- the client process watch ---------------------------------------- */

static void server__on_pid_timer(uv_timer_t *t) {
  struct server *self = t->data;
  if (self->client_pid <= 0)
    return;
  /* EPERM means it exists but is not ours to signal: still alive. */
  if (kill((pid_t)self->client_pid, 0) == 0 || errno == EPERM)
    return;
  log_info("client process %lld is gone; exiting",
           (long long)self->client_pid);
  server_stop(self, 1);
}

void server_watch_pid(struct server *self, int64_t pid) {
  self->client_pid = pid;
  if (pid > 0)
    uv_timer_start(&self->pid_timer, server__on_pid_timer, SERVER_PID_POLL_MS,
                   SERVER_PID_POLL_MS);
}

/*
 * glibc's defaults suit a process that allocates once: blocks from 128 KiB
 * up are mmap()ed and unmapped on free, and a heap whose free top passes
 * 128 KiB is given back to the kernel (a thread-pool arena with
 * madvise(MADV_DONTNEED)).  A server that builds a model of the same
 * document on every keystroke then page-faults its memory in again each
 * time: on a 5,000-line file that was over half of each analysis (4.3 ms
 * of model building instead of 1.3).  Keeping what was freed makes the
 * resident size the high-water mark of one analysis, a few MiB.
 */
static void server__tune_malloc(void) {
  if (mallopt(M_MMAP_THRESHOLD, SERVER_MALLOC_KEEP_BYTES) != 1 ||
      mallopt(M_TRIM_THRESHOLD, SERVER_MALLOC_KEEP_BYTES) != 1)
    log_debug("mallopt refused the thresholds; keeping glibc's");
  /* One heap for every thread: otherwise each thread-pool worker that
   * ever ran an analysis keeps its own arena with what it freed (a model's
   * worth each), and twenty open documents cost 20 MB instead of 14.  At
   * most one analysis runs per document and the loop thread mostly waits,
   * so they hardly ever contend for the lock. */
  if (mallopt(M_ARENA_MAX, 1) != 1)
    log_debug("mallopt refused M_ARENA_MAX; one arena per thread");
}

/* ---- the features' hooks (hooks.h) ----------------------------------- */

struct server_hook {
  const char *feature;
  hook_fn settings_changed;
  hook_fn stop;
  hook_doc_fn ignore_ready;
  hook_doc_fn close;
};

static const struct server_hook server_hooks[] = {
#define SERVER_HOOK_ENTRY(feature, settings_changed, stop, ignore_ready,      \
                          close)                                              \
  {feature, settings_changed, stop, ignore_ready, close},
    HOOK_MAP(SERVER_HOOK_ENTRY)
#undef SERVER_HOOK_ENTRY
};

void server_settings_changed(struct server *self) {
  for (size_t i = 0; i < sizeof(server_hooks) / sizeof(server_hooks[0]); i++)
    if (server_hooks[i].settings_changed)
      server_hooks[i].settings_changed(self);
}

void server_stop_features(struct server *self) {
  for (size_t i = 0; i < sizeof(server_hooks) / sizeof(server_hooks[0]); i++)
    if (server_hooks[i].stop)
      server_hooks[i].stop(self);
}

void server_ignore_ready(struct server *self, struct doc *d) {
  for (size_t i = 0; i < sizeof(server_hooks) / sizeof(server_hooks[0]); i++)
    if (server_hooks[i].ignore_ready)
      server_hooks[i].ignore_ready(self, d);
}

void server_doc_closing(struct server *self, struct doc *d) {
  for (size_t i = 0; i < sizeof(server_hooks) / sizeof(server_hooks[0]); i++)
    if (server_hooks[i].close)
      server_hooks[i].close(self, d);
}

/* ---- tear-down -------------------------------------------------------- */

static void server__on_timer_closed(uv_handle_t *h) {
  struct server *self = h->data;
  self->open_handles--;
}

void server_stop(struct server *self, int code) {
  if (self->exiting)
    return;
  self->exiting = true;
  self->exit_code = code;
  server_stop_features(self);
  uv_close((uv_handle_t *)&self->pid_timer, server__on_timer_closed);
  uv_close((uv_handle_t *)&self->diag_timer, server__on_timer_closed);
  transport_close(&self->transport, NULL);
}

static void server__walk_close(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) {
    log_error("handle %s left open at exit", uv_handle_type_name(h->type));
    uv_close(h, NULL);
  }
}

/* A closed fd 0, 1 or 2 would be reused by the loop's own epoll or
 * signal fds, which then get read as stdin or written as the protocol
 * (libuv even asserts on it): park /dev/null there first. */
static void server__guard_std_fds(void) {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
      continue;
    int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    if (n >= 0 && n != fd) {
      dup2(n, fd);
      close(n);
    }
  }
}

int server_run(int in_fd, int out_fd, int *exit_code, struct err *err) {
  *exit_code = 2;
  server__guard_std_fds();
  /* A client that goes away while we write must not kill us with
   * SIGPIPE: the write fails with EPIPE and we exit cleanly. */
  signal(SIGPIPE, SIG_IGN);
  server__tune_malloc();
  tsalloc_install();

  uv_loop_t loop;
  int rc = uv_loop_init(&loop);
  if (rc < 0)
    return err_set(err, ERR_IO, "uv_loop_init: %s", uv_strerror(rc));

  struct server *self = xcalloc(1, sizeof(*self));
  self->loop = &loop;
  self->exit_code = 1;
  self->parser = ts_parser_new();
  if (!ts_parser_set_language(self->parser, tree_sitter_dockerfile()))
    log_warn("the grammar's ABI does not match tree-sitter's; documents "
             "are read without a tree");
  doc_store_init(&self->docs);
  settings_init(&self->settings);
  uv_timer_init(&loop, &self->pid_timer);
  uv_timer_init(&loop, &self->diag_timer);
  self->pid_timer.data = self;
  self->diag_timer.data = self;
  self->open_handles = 2;

  struct transport_callbacks cb = {server__on_message, server__on_oversize,
                                   server__on_hangup};
  rpc_init(&self->rpc, &self->transport);
  rc = transport_init(&self->transport, &loop, in_fd, out_fd, &cb, self, err);
  if (rc == 0)
    rc = transport_start(&self->transport, err);
  if (rc < 0)
    server_stop(self, 2);
  uv_run(&loop, UV_RUN_DEFAULT);

  /* Everything should be closed by now; anything else is a bug, but the
   * loop must still close cleanly. */
  uv_walk(&loop, server__walk_close, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    log_error("the event loop did not close cleanly");

  *exit_code = self->exit_code;
  rpc_cleanup(&self->rpc);
  transport_cleanup(&self->transport);
  doc_store_cleanup(&self->docs);
  settings_cleanup(&self->settings);
  ts_parser_delete(self->parser);
  free(self);
  return rc < 0 ? rc : 0;
}
