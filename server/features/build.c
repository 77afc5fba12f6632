/*
 * build.c - building and pushing from the editor (see build.h and
 * docs/editor-protocol.md).
 *
 * DESIGN
 * The builder runs in this process through its door (builder/plugin.h),
 * loaded on the first command, so a session that never builds never maps
 * libcurl and friends.  A build runs on the builder's own thread and loop;
 * its events come back to this loop through the builder's uv_async, so a
 * build never blocks a keystroke, a pull or a completion.  One job per
 * command; the command's request stays open (rpc_defer) until the job's
 * terminal event answers it, so $/cancelRequest can reach it.
 *
 * Progress: when the client gave no workDoneToken but declared
 * window.workDoneProgress, the job asks for a token of its own and starts
 * the builder only once the client has answered (a $/progress on a token
 * the client does not know yet would be dropped).
 *
 * A second build of a document whose build runs is refused (not queued):
 * the user would otherwise wait for a result of text they have already
 * changed.  A cancelled build no longer counts: it is winding down, and a
 * rebuild may start next to it (the cache keeps what it finished).
 *
 * What the server keeps after a build, per document: the steps (for the
 * code lenses) and a failure's diagnostic, which protocol.c merges into the
 * document's diagnostics; an edit of its lines drops it, edits above move
 * it.
 */
#include "build.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../builder/plugin.h"
#include "../../common/buf.h"
#include "../../common/log.h"
#include "../methods.h"
#include "../protocol.h"
#include "../server.h"
#include "diagnostics.h"

/* Output lines of the failing step shown in its diagnostic. */
#define BUILD_TAIL_LINES 10
/* Characters of an instruction shown in a progress report. */
#define BUILD_REPORT_CHARS 80
/* The share of a build-and-push's progress the build takes. */
#define BUILD_SHARE_WITH_PUSH 90

extern char **environ;

const char *const build_commands[] = {"dockwright.build", "dockwright.push",
                                      "dockwright.buildAndPush", NULL};

enum build_kind { BUILD_KIND_BUILD, BUILD_KIND_PUSH, BUILD_KIND_BOTH };

/* What is kept of a document's last build. */
struct build_doc {
  char *uri;
  struct proto_build_step *steps; /* owned */
  size_t nsteps;
  bool has_diag;
  struct proto_build_diag diag;
  struct build_doc *next;
};

struct build_job {
  struct build_state *st;
  struct server *self;
  struct build_job *next;
  enum build_kind kind;
  char *uri;
  char *name;                  /* the file's name, for log messages */
  struct rpc_pending *pending; /* NULL once answered */
  json_object *token;          /* owned; NULL: no progress */
  bool waiting_token;          /* window/workDoneProgress/create asked */
  bool cancelled;
  struct build *b;   /* NULL until started */
  uint64_t revision; /* the document's when the command came, 0 when
                        not open */

  /* The request's values (build_start copies them). */
  struct build_request req;
  struct strv strings; /* every string the request points to */
  struct strv tags, args, env, insecure;

  struct proto_build_step *steps; /* owned */
  size_t nsteps, cap;
  unsigned total_steps, done_steps;
  int pct;
  char *tail[BUILD_TAIL_LINES]; /* the running step's last output lines */
  size_t tail_next;
  unsigned cur_step; /* the step running, for its log lines */
};

struct build_state {
  const struct builder_plugin *plugin;
  struct build_job *jobs;
  struct build_doc *docs;
  unsigned next_token;
  bool stopped;
};

/* ---- per-document records --------------------------------------------- */

static struct build_doc *build__doc(struct build_state *st, const char *uri,
                                    bool create) {
  for (struct build_doc *bd = st->docs; bd; bd = bd->next)
    if (strcmp(bd->uri, uri) == 0)
      return bd;
  if (!create)
    return NULL;
  struct build_doc *bd = xcalloc(1, sizeof(*bd));
  bd->uri = xstrdup(uri);
  bd->next = st->docs;
  st->docs = bd;
  return bd;
}

static void build__steps_free(struct proto_build_step *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(v[i].text);
  free(v);
}

static void build__doc_free(struct build_doc *bd) {
  build__steps_free(bd->steps, bd->nsteps);
  free(bd->diag.message);
  free(bd->uri);
  free(bd);
}

const struct proto_build_diag *build_diagnostic(struct server *self,
                                                const char *uri) {
  if (self->builds == NULL)
    return NULL;
  struct build_doc *bd = build__doc(self->builds, uri, false);
  return bd && bd->has_diag ? &bd->diag : NULL;
}

static uint32_t build__newlines(const char *text, size_t len) {
  uint32_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += text[i] == '\n';
  return n;
}

void build_did_change(struct server *self, struct doc *d,
                      const struct lsp_range *range, const char *text,
                      size_t len) {
  if (self->builds == NULL)
    return;
  struct build_doc *bd = build__doc(self->builds, d->uri, false);
  if (bd == NULL)
    return;
  if (range == NULL) { /* the whole text replaced */
    bd->has_diag = false;
    return;
  }
  int64_t delta = (int64_t)build__newlines(text, len) -
                  (int64_t)(range->end.line - range->start.line);
  if (bd->has_diag) {
    struct lsp_range *r = &bd->diag.range;
    if (range->start.line <= r->end.line && range->end.line >= r->start.line)
      bd->has_diag = false; /* the instruction itself was edited */
    else if (range->end.line < r->start.line) {
      r->start.line = (uint32_t)((int64_t)r->start.line + delta);
      r->end.line = (uint32_t)((int64_t)r->end.line + delta);
    }
  }
  /* The lenses move with their lines. */
  for (size_t i = 0; delta != 0 && i < bd->nsteps; i++) {
    struct proto_build_step *s = &bd->steps[i];
    if (s->line >= 1 && range->end.line < s->line - 1)
      s->line = (unsigned)((int64_t)s->line + delta);
  }
}

/* Publishes the document's diagnostics again (the build's changed). */
static void build__republish(struct server *self, const char *uri) {
  if (self->exiting || self->state == SERVER_SHUTDOWN)
    return;
  struct doc *d = doc_find(&self->docs, uri);
  if (d != NULL) {
    /* The analysis publishes (or answers the next pull) with both sets. */
    diagnostics_schedule(self, d, true);
    if (self->caps.pull_diagnostics && self->caps.diagnostic_refresh)
      rpc_request(&self->rpc, "workspace/diagnostic/refresh", NULL, NULL,
                  NULL);
    return;
  }
  if (!self->caps.pull_diagnostics)
    rpc_notify(&self->rpc, "textDocument/publishDiagnostics",
               proto_publish_build(uri, build_diagnostic(self, uri)));
}

/* ---- jobs ----------------------------------------------------------------
 */

static void build__state_maybe_free(struct server *self) {
  struct build_state *st = self->builds;
  if (st == NULL || !st->stopped || st->jobs != NULL)
    return;
  while (st->docs) {
    struct build_doc *bd = st->docs;
    st->docs = bd->next;
    build__doc_free(bd);
  }
  free(st);
  self->builds = NULL;
}

static void build__job_free(struct build_job *j) {
  struct build_state *st = j->st;
  for (struct build_job **pp = &st->jobs; *pp; pp = &(*pp)->next)
    if (*pp == j) {
      *pp = j->next;
      break;
    }
  if (j->b)
    st->plugin->build_free(j->b);
  json_object_put(j->token);
  strv_cleanup(&j->strings);
  strv_cleanup(&j->tags);
  strv_cleanup(&j->args);
  strv_cleanup(&j->env);
  strv_cleanup(&j->insecure);
  build__steps_free(j->steps, j->nsteps);
  for (size_t i = 0; i < BUILD_TAIL_LINES; i++)
    free(j->tail[i]);
  free(j->uri);
  free(j->name);
  struct server *self = j->self;
  free(j);
  build__state_maybe_free(self);
}

static bool build__quiet(const struct build_job *j) {
  return j->st->stopped || j->self->exiting;
}

static void build__progress(struct build_job *j, const char *kind,
                            const char *title, const char *message) {
  if (j->token == NULL || build__quiet(j))
    return;
  rpc_notify(&j->self->rpc, "$/progress",
             proto_progress(j->token, kind, title, message, j->pct));
}

static void build__log(struct build_job *j, unsigned step, const char *stream,
                       const char *text) {
  if (build__quiet(j))
    return;
  rpc_notify(&j->self->rpc, "dockwright/buildLog",
             proto_build_log(j->uri, step, stream, text));
  if (j->self->caps.build_log)
    return;
  struct buf b = BUF_INIT;
  buf_printf(&b, "[%s] %s", j->name, text);
  rpc_notify(&j->self->rpc, "window/logMessage",
             proto_log_message(4, buf_cstr(&b)));
  buf_cleanup(&b);
}

static void build__set_pct(struct build_job *j, int pct) {
  if (pct > 100)
    pct = 100;
  if (pct > j->pct) /* never backwards */
    j->pct = pct;
}

/* "1.2 MB" */
static void build__bytes(char *out, size_t size, uint64_t n) {
  if (n < 1000)
    snprintf(out, size, "%" PRIu64 " B", n);
  else if (n < 1000 * 1000)
    snprintf(out, size, "%.1f kB", (double)n / 1e3);
  else if (n < 1000ull * 1000 * 1000)
    snprintf(out, size, "%.1f MB", (double)n / 1e6);
  else
    snprintf(out, size, "%.2f GB", (double)n / 1e9);
}

static struct proto_build_step *build__step_at(struct build_job *j,
                                               unsigned step) {
  for (size_t i = j->nsteps; i-- > 0;)
    if (j->steps[i].step == step)
      return &j->steps[i];
  return NULL;
}

static void build__tail_reset(struct build_job *j) {
  for (size_t i = 0; i < BUILD_TAIL_LINES; i++) {
    free(j->tail[i]);
    j->tail[i] = NULL;
  }
  j->tail_next = 0;
}

static void build__tail_add(struct build_job *j, const char *text) {
  const char *p = text;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    free(j->tail[j->tail_next]);
    j->tail[j->tail_next] = xstrndup(p, n);
    j->tail_next = (j->tail_next + 1) % BUILD_TAIL_LINES;
    p += n + (nl ? 1 : 0);
  }
}

static void build__on_step(struct build_job *j, const struct build_event *ev) {
  /* The builder's text is "[stage k/n] INSTRUCTION"; the report counts
   * over the whole build. */
  const char *instr = strstr(ev->text, "] ");
  instr = instr ? instr + 2 : ev->text;
  if (j->nsteps == j->cap) {
    j->cap = j->cap ? 2 * j->cap : 16;
    j->steps = xrealloc(j->steps, j->cap * sizeof(*j->steps));
  }
  struct proto_build_step *s = &j->steps[j->nsteps++];
  memset(s, 0, sizeof(*s));
  s->step = ev->step;
  s->line = ev->line;
  /* Cut at a character's start, never inside one. */
  size_t cut = strlen(instr);
  if (cut > BUILD_REPORT_CHARS) {
    cut = BUILD_REPORT_CHARS;
    while (cut > 0 && ((unsigned char)instr[cut] & 0xC0) == 0x80)
      cut--;
  }
  struct buf t = BUF_INIT;
  buf_printf(&t, "[%u/%u] %.*s%s", ev->step, ev->nsteps, (int)cut, instr,
             instr[cut] ? "..." : "");
  /* One line in a progress report. */
  for (size_t i = 0; i < t.len; i++)
    if (t.data[i] == '\n' || t.data[i] == '\r')
      t.data[i] = ' ';
  s->text = buf_take(&t);
  j->total_steps = ev->nsteps;
  j->cur_step = ev->step;
  build__tail_reset(j);
  build__progress(j, "report", NULL, s->text);
  struct buf l = BUF_INIT;
  buf_printf(&l, "#%u/%u %s", ev->step, ev->nsteps, ev->text);
  build__log(j, ev->step, "status", buf_cstr(&l));
  buf_cleanup(&l);
}

static void build__on_step_done(struct build_job *j,
                                const struct build_event *ev) {
  struct proto_build_step *s = build__step_at(j, ev->step);
  if (s == NULL)
    return;
  s->done = true;
  j->cur_step = 0; /* lines from now until the next step are no step's */
  s->cached = ev->cached;
  s->seconds = ev->seconds;
  j->done_steps++;
  int share = j->kind == BUILD_KIND_BOTH ? BUILD_SHARE_WITH_PUSH : 100;
  if (ev->nsteps)
    build__set_pct(j, (int)(j->done_steps * (unsigned)share / ev->nsteps));
  char m[BUILD_REPORT_CHARS + 64];
  if (ev->cached)
    snprintf(m, sizeof(m), "%s CACHED", s->text);
  else
    snprintf(m, sizeof(m), "%s %.1fs", s->text, ev->seconds);
  build__progress(j, "report", NULL, m);
}

static void build__on_layer(struct build_job *j,
                            const struct build_event *ev) {
  for (size_t i = j->nsteps; i-- > 0;)
    if (j->steps[i].line == ev->line) {
      j->steps[i].has_layer = true;
      j->steps[i].layer_size = ev->total;
      return;
    }
}

static void build__on_progress(struct build_job *j,
                               const struct build_event *ev) {
  /* "push sha256:<64 hex>": the verb and 12 hex digits are enough to
   * tell blobs apart. */
  const char *sp = strchr(ev->text, ' ');
  int verb = sp ? (int)(sp - ev->text) : (int)strlen(ev->text);
  const char *digest = sp ? sp + 1 : "";
  const char *hex = strchr(digest, ':');
  int dlen = hex ? (int)(hex - digest) + 1 + 12 : (int)strlen(digest);
  char done[32], total[32], m[160];
  build__bytes(done, sizeof(done), ev->current);
  build__bytes(total, sizeof(total), ev->total);
  unsigned pct = ev->total ? (unsigned)(ev->current * 100 / ev->total) : 100;
  snprintf(m, sizeof(m), "%.*s %.*s %s / %s (%u%%)", verb, ev->text, dlen,
           digest, done, total, pct);
  if (strncmp(ev->text, "push", 4) == 0 && j->kind != BUILD_KIND_BUILD)
    build__set_pct(j, j->kind == BUILD_KIND_BOTH ? BUILD_SHARE_WITH_PUSH : 0);
  build__progress(j, "report", NULL, m);
}

/* The failing instruction's range: the whole instruction when the
 * document is open and unchanged since the command, else its first
 * line. */
static struct lsp_range build__fail_range(struct build_job *j, unsigned line) {
  struct lsp_range r = {{line - 1, 0}, {line, 0}};
  struct doc *d = doc_find(&j->self->docs, j->uri);
  if (d == NULL || d->tree == NULL || d->revision != j->revision)
    return r;
  TSNode root = ts_tree_root_node(d->tree);
  uint32_t n = ts_node_named_child_count(root);
  for (uint32_t i = 0; i < n; i++) {
    TSNode c = ts_node_named_child(root, i);
    if (ts_node_start_point(c).row != line - 1)
      continue;
    r.start = doc_position(d, ts_node_start_byte(c), j->self->encoding);
    r.end = doc_position(d, ts_node_end_byte(c), j->self->encoding);
    break;
  }
  return r;
}

/* The terminal event: keep what the editor shows afterwards, end the
 * progress, answer.  The answer goes last, so a client that stops
 * listening at the answer has seen the whole progress and the lens
 * refresh. */
static void build__finish(struct build_job *j, const struct build_event *ev) {
  struct server *self = j->self;
  bool quiet = build__quiet(j);
  struct build_doc *bd = quiet ? NULL : build__doc(j->st, j->uri, true);
  bool had_diag = bd && bd->has_diag;
  if (bd && ev->kind == BUILD_EV_DONE && j->kind != BUILD_KIND_PUSH)
    bd->has_diag = false;
  if (bd && ev->kind == BUILD_EV_FAILED && ev->line > 0 &&
      j->kind != BUILD_KIND_PUSH) {
    struct buf g = BUF_INIT;
    buf_puts(&g, ev->text);
    for (size_t k = 0; k < BUILD_TAIL_LINES; k++) {
      const char *t = j->tail[(j->tail_next + k) % BUILD_TAIL_LINES];
      if (t)
        buf_printf(&g, "\n%s", t);
    }
    free(bd->diag.message);
    bd->diag.message = buf_take(&g);
    bd->diag.range = build__fail_range(j, ev->line);
    bd->has_diag = true;
  }
  bool lenses = bd && j->kind != BUILD_KIND_PUSH && j->nsteps > 0;
  if (lenses) { /* the steps this build finished */
    build__steps_free(bd->steps, bd->nsteps);
    bd->steps = j->steps;
    bd->nsteps = j->nsteps;
    j->steps = NULL;
    j->nsteps = 0;
  }

  struct buf m = BUF_INIT;
  if (ev->kind == BUILD_EV_DONE)
    buf_puts(&m, ev->text);
  else if (ev->kind == BUILD_EV_FAILED)
    buf_printf(&m, "failed: %s", ev->text);
  else
    buf_puts(&m, "cancelled");
  build__log(j, 0, "status", buf_cstr(&m));
  build__progress(j, "end", NULL, buf_cstr(&m));
  buf_cleanup(&m);

  if (lenses && self->caps.code_lens_refresh)
    rpc_request(&self->rpc, "workspace/codeLens/refresh", NULL, NULL, NULL);
  if (bd && (had_diag || bd->has_diag))
    build__republish(self, j->uri);

  if (j->pending && ev->kind == BUILD_EV_DONE)
    rpc_pending_reply(
        &self->rpc, j->pending,
        proto_build_result(ev->text, (const char *const *)j->tags.v, j->tags.n,
                           bd ? bd->steps : NULL, lenses ? bd->nsteps : 0));
  else if (j->pending && ev->kind == BUILD_EV_FAILED)
    rpc_pending_reply_error(&self->rpc, j->pending, RPC_REQUEST_FAILED,
                            ev->text);
  else if (j->pending)
    rpc_pending_reply_error(&self->rpc, j->pending, RPC_REQUEST_CANCELLED,
                            "cancelled");
  j->pending = NULL;
  build__job_free(j);
}

static void build__on_event(void *ctx, const struct build_event *ev) {
  struct build_job *j = ctx;
  switch (ev->kind) {
  case BUILD_EV_STEP:
    build__on_step(j, ev);
    break;
  case BUILD_EV_STEP_DONE:
    build__on_step_done(j, ev);
    break;
  case BUILD_EV_LAYER:
    build__on_layer(j, ev);
    break;
  case BUILD_EV_LOG:
    if (ev->line)
      build__tail_add(j, ev->text);
    build__log(j, j->cur_step, ev->line ? "output" : "status", ev->text);
    break;
  case BUILD_EV_PROGRESS:
    build__on_progress(j, ev);
    break;
  case BUILD_EV_IMAGE:
    break; /* the builder's log says "tagged" and "pushed" */
  case BUILD_EV_DONE:
  case BUILD_EV_FAILED:
  case BUILD_EV_CANCELLED:
    build__finish(j, ev);
    break;
  case BUILD_EV_TAGS: /* features/tags.c asks for those */
    break;
  }
}

/* Ends a job that never reached the builder. */
static void build__abort(struct build_job *j, int code, const char *message) {
  struct build_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.kind =
      code == RPC_REQUEST_CANCELLED ? BUILD_EV_CANCELLED : BUILD_EV_FAILED;
  ev.text = message;
  build__finish(j, &ev);
}

static void build__begin(struct build_job *j) {
  if (j->cancelled) {
    build__abort(j, RPC_REQUEST_CANCELLED, "cancelled");
    return;
  }
  const char *verb = j->kind == BUILD_KIND_BUILD  ? "Building"
                     : j->kind == BUILD_KIND_PUSH ? "Pushing"
                                                  : "Building and pushing";
  struct buf title = BUF_INIT;
  buf_printf(&title, "%s %s", verb, j->tags.n ? j->tags.v[0] : "");
  j->pct = 0;
  build__progress(j, "begin", buf_cstr(&title), j->name);
  buf_cleanup(&title);
  j->req.tags = (const char *const *)j->tags.v;
  j->req.ntags = j->tags.n;
  j->req.build_args = (const char *const *)j->args.v;
  j->req.nbuild_args = j->args.n;
  j->req.env = (const char *const *)j->env.v;
  j->req.nenv = j->env.n;
  j->req.insecure = (const char *const *)j->insecure.v;
  j->req.ninsecure = j->insecure.n;
  struct err err;
  err_clear(&err);
  if (j->st->plugin->build_start(j->self->loop, &j->req, build__on_event, j,
                                 &j->b, &err) < 0) {
    j->b = NULL;
    build__abort(j, RPC_REQUEST_FAILED, err.msg);
  }
}

static void build__on_created(void *data, json_object *result,
                              json_object *error) {
  struct build_job *j = data;
  j->waiting_token = false;
  /* The answer is null (json-c's NULL too); both NULL while exiting means
   * the request was dropped with the session. */
  (void)result;
  if (error == NULL && j->self->exiting) {
    j->cancelled = true;
    build__job_free(j);
    return;
  }
  if (error != NULL) { /* no progress for this one */
    json_object_put(j->token);
    j->token = NULL;
  }
  build__begin(j);
}

/* $/cancelRequest: rpc answers the request; the build stops. */
static void build__on_request_cancel(void *owner, struct rpc_pending *p) {
  struct build_job *j = owner;
  (void)p;
  j->pending = NULL;
  j->cancelled = true;
  if (j->b)
    j->st->plugin->build_cancel(j->b);
}

/* ---- the command ----------------------------------------------------------
 */

/* localhost/<context directory's name>:latest, the name lowered and made a
 * valid repository path component. */
static char *build__default_tag(const char *context) {
  const char *base = strrchr(context, '/');
  base = base && base[1] ? base + 1 : context;
  struct buf b = BUF_INIT;
  buf_puts(&b, "localhost/");
  size_t start = b.len;
  char prev = '-';
  for (const char *p = base; *p; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum)
      c = '-';
    if (!alnum && (b.len == start || prev == '-'))
      continue; /* no leading or repeated separators */
    buf_putc(&b, c);
    prev = c;
  }
  while (b.len > start && b.data[b.len - 1] == '-')
    b.len--;
  if (b.len == start)
    buf_puts(&b, "image");
  buf_puts(&b, ":latest");
  return buf_take(&b);
}

static const char *build__keep(struct build_job *j, const char *s) {
  if (s == NULL)
    return NULL;
  strv_push(&j->strings, s);
  return j->strings.v[j->strings.n - 1];
}

/* The variables a build may take from the server's environment (the
 * editor's): where the store is by default, the reproducible-build clock
 * and the proxies.  Build arguments and secrets come only from the
 * command. */
static void build__env(struct build_job *j) {
  static const char *const keep[] = {
      "DOCKWRIGHT_ROOT", "XDG_DATA_HOME", "HOME",        "SOURCE_DATE_EPOCH",
      "http_proxy",      "https_proxy",   "HTTPS_PROXY", "all_proxy",
      "ALL_PROXY",       "no_proxy",      "NO_PROXY"};
  for (char **e = environ; e && *e; e++)
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
      size_t n = strlen(keep[i]);
      if (strncmp(*e, keep[i], n) == 0 && (*e)[n] == '=')
        strv_push(&j->env, *e);
    }
}

/* Fills the job from the command's argument.  Returns 0 or an rpc error
 * with err. */
static int build__prepare(struct server *self, struct build_job *j,
                          const struct proto_build_cmd *c, struct err *err) {
  char *path = doc_uri_to_path(c->uri);
  if (path == NULL) {
    err_set(err, ERR_INVALID, "%s: uri must be a file: URI, not %.200s",
            c->command, c->uri);
    return RPC_INVALID_PARAMS;
  }
  const char *slash = strrchr(path, '/');
  j->name = xstrdup(slash ? slash + 1 : path);
  char *dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
  if (dir[0] == '\0') {
    free(dir);
    dir = xstrdup("/");
  }
  char *context = NULL;
  if (c->context && strncmp(c->context, "file:", 5) == 0)
    context = doc_uri_to_path(c->context);
  else if (c->context && c->context[0] == '/')
    context = xstrdup(c->context);
  else if (c->context && c->context[0]) {
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s/%s", dir, c->context);
    context = buf_take(&b);
  } else {
    context = xstrdup(dir);
  }
  free(dir);
  if (context == NULL) {
    free(path);
    err_set(err, ERR_INVALID, "%s: context %.200s is not a directory path",
            c->command, c->context);
    return RPC_INVALID_PARAMS;
  }
  j->req.action =
      j->kind == BUILD_KIND_PUSH ? BUILD_ACTION_PUSH : BUILD_ACTION_BUILD;
  j->req.push = j->kind == BUILD_KIND_BOTH;
  j->req.context_dir = build__keep(j, context);
  j->req.dockerfile = build__keep(j, path);
  for (size_t i = 0; i < c->ntags; i++)
    strv_push(&j->tags, c->tags[i]);
  if (c->ntags == 0)
    strv_push_take(&j->tags, build__default_tag(context));
  free(context);
  free(path);
  for (size_t i = 0; i < c->nargs; i++) {
    struct buf kv = BUF_INIT;
    buf_printf(&kv, "%s=%s", c->arg_keys[i], c->arg_values[i]);
    strv_push_take(&j->args, buf_take(&kv));
  }
  j->req.target = build__keep(j, c->target);
  j->req.platform = build__keep(j, c->platform);
  j->req.output = build__keep(j, c->output);
  j->req.no_cache = c->no_cache;
  j->req.background = true; /* the loop thread answers first */
  j->req.root = build__keep(j, self->settings.root);
  for (size_t i = 0; i < self->settings.insecure.n; i++)
    strv_push(&j->insecure, self->settings.insecure.v[i]);
  build__env(j);
  /* What the editor shows is what gets built, saved or not. */
  struct doc *d = doc_find(&self->docs, c->uri);
  if (d != NULL && j->kind != BUILD_KIND_PUSH) {
    strv_pushn(&j->strings, d->text, d->len);
    j->req.dockerfile_text = j->strings.v[j->strings.n - 1];
    j->req.dockerfile_len = d->len;
    j->revision = d->revision;
  }
  return 0;
}

int build_execute_command(struct server *self, const struct rpc_msg *msg,
                          struct err *err) {
  struct proto_build_cmd c;
  int rc = proto_read_execute_command(msg->params, &c, err);
  enum build_kind kind = BUILD_KIND_BUILD;
  if (rc == 0) {
    if (strcmp(c.command, "dockwright.build") == 0)
      kind = BUILD_KIND_BUILD;
    else if (strcmp(c.command, "dockwright.push") == 0)
      kind = BUILD_KIND_PUSH;
    else if (strcmp(c.command, "dockwright.buildAndPush") == 0)
      kind = BUILD_KIND_BOTH;
    else {
      err_set(err, ERR_INVALID, "unknown command %.200s", c.command);
      rc = RPC_INVALID_PARAMS;
    }
  }
  if (rc == 0 && c.uri == NULL) {
    /* Without an argument, the one open Dockerfile (a client that cannot
     * pass arguments, like Helix's :lsp-workspace-command). */
    if (self->docs.n == 1) {
      c.uri = self->docs.v[0]->uri;
    } else {
      err_set(err, ERR_INVALID,
              "%s takes one argument object with at least \"uri\" "
              "(it may be left out only while exactly one Dockerfile is "
              "open; %zu are)",
              c.command, self->docs.n);
      rc = RPC_INVALID_PARAMS;
    }
  }
  if (rc) {
    proto_build_cmd_cleanup(&c);
    return rc;
  }
  if (self->builds == NULL)
    self->builds = xcalloc(1, sizeof(*self->builds));
  struct build_state *st = self->builds;
  for (struct build_job *o = st->jobs; o; o = o->next)
    if (!o->cancelled && strcmp(o->uri, c.uri) == 0) {
      err_set(err, ERR_EXISTS, "a build of %.300s is already running", c.uri);
      proto_build_cmd_cleanup(&c);
      return RPC_REQUEST_FAILED;
    }
  if (st->plugin == NULL) {
    /* The first build of the session maps the builder. */
    st->plugin = builder_plugin_load(err);
    if (st->plugin == NULL) {
      proto_build_cmd_cleanup(&c);
      return RPC_REQUEST_FAILED;
    }
  }
  struct build_job *j = xcalloc(1, sizeof(*j));
  j->st = st;
  j->self = self;
  j->kind = kind;
  j->uri = xstrdup(c.uri);
  j->pct = -1;
  rc = build__prepare(self, j, &c, err);
  j->next = st->jobs;
  st->jobs = j;
  if (rc) {
    proto_build_cmd_cleanup(&c);
    build__job_free(j);
    return rc;
  }
  j->pending =
      rpc_defer(&self->rpc, msg->id, msg->method, build__on_request_cancel, j);
  if (c.work_done_token) {
    j->token = json_object_get(c.work_done_token);
    build__begin(j);
  } else if (self->caps.work_done_progress) {
    char t[48];
    snprintf(t, sizeof(t), "dockwright/build/%u", ++st->next_token);
    j->token = json_object_new_string(t);
    j->waiting_token = true;
    rpc_request(&self->rpc, "window/workDoneProgress/create",
                proto_progress_create(j->token), build__on_created, j);
  } else {
    build__begin(j);
  }
  proto_build_cmd_cleanup(&c);
  return 0;
}

int build_progress_cancel(struct server *self, const struct rpc_msg *msg,
                          struct err *err) {
  json_object *token;
  int rc = proto_read_progress_cancel(msg->params, &token, err);
  if (rc)
    return rc;
  if (self->builds == NULL)
    return 0;
  for (struct build_job *j = self->builds->jobs; j; j = j->next)
    if (j->token && json_object_equal(j->token, token)) {
      j->cancelled = true;
      if (j->b)
        self->builds->plugin->build_cancel(j->b);
      return 0;
    }
  log_debug("window/workDoneProgress/cancel for a token no longer in use");
  return 0;
}

/* ---- code lenses ----------------------------------------------------------
 */

int build_code_lens(struct server *self, const struct rpc_msg *msg,
                    struct err *err) {
  const char *uri;
  int rc = proto_read_text_document(msg->params, &uri, NULL, err);
  if (rc)
    return rc;
  struct doc *d = doc_find(&self->docs, uri);
  struct build_doc *bd =
      self->builds ? build__doc(self->builds, uri, false) : NULL;
  size_t cap = 2 + (bd ? bd->nsteps : 0);
  struct proto_lens *v = NULL;
  struct strv titles = STRV_INIT;
  size_t n = 0;
  if (d != NULL && d->tree != NULL) {
    TSNode root = ts_tree_root_node(d->tree);
    uint32_t nc = ts_node_named_child_count(root);
    cap += nc;
    v = xcalloc(cap, sizeof(*v));
    v[n++] = (struct proto_lens){0, "Build and push",
                                 "dockwright.buildAndPush", uri, NULL};
    v[n++] = (struct proto_lens){0, "Build", "dockwright.build", uri, NULL};
    unsigned stage = 0;
    for (uint32_t i = 0; i < nc; i++) {
      TSNode c = ts_node_named_child(root, i);
      if (strcmp(ts_node_type(c), "from_instruction") != 0)
        continue;
      TSNode as = ts_node_child_by_field_name(c, "as", 2);
      struct buf t = BUF_INIT;
      if (!ts_node_is_null(as) && ts_node_end_byte(as) <= d->len) {
        strv_pushn(&titles, d->text + ts_node_start_byte(as),
                   ts_node_end_byte(as) - ts_node_start_byte(as));
      } else {
        buf_printf(&t, "%u", stage);
        strv_push_take(&titles, buf_take(&t));
      }
      const char *target = titles.v[titles.n - 1];
      buf_printf(&t, "Build stage %s", target);
      strv_push_take(&titles, buf_take(&t));
      v[n++] = (struct proto_lens){ts_node_start_point(c).row,
                                   titles.v[titles.n - 1], "dockwright.build",
                                   uri, target};
      stage++;
    }
  } else {
    v = xcalloc(cap, sizeof(*v));
  }
  for (size_t i = 0; bd && i < bd->nsteps; i++) {
    const struct proto_build_step *s = &bd->steps[i];
    if (!s->done || s->line == 0)
      continue;
    struct buf t = BUF_INIT;
    if (s->cached)
      buf_puts(&t, "CACHED");
    else
      buf_printf(&t, "built %.1fs", s->seconds);
    if (s->has_layer) {
      char size[32];
      build__bytes(size, sizeof(size), s->layer_size);
      buf_printf(&t, " \xc2\xb7 %s", size);
    }
    strv_push_take(&titles, buf_take(&t));
    v[n++] = (struct proto_lens){s->line - 1, titles.v[titles.n - 1], "", NULL,
                                 NULL};
  }
  rpc_reply(&self->rpc, msg->id, proto_code_lenses(v, n));
  free(v);
  strv_cleanup(&titles);
  return 0;
}

void build_stop(struct server *self) {
  struct build_state *st = self->builds;
  if (st == NULL || st->stopped)
    return;
  st->stopped = true;
  for (struct build_job *j = st->jobs; j; j = j->next) {
    j->pending = NULL; /* rpc answers or drops it */
    j->cancelled = true;
    if (j->b)
      st->plugin->build_cancel(j->b);
  }
  build__state_maybe_free(self);
}
