/*
 * tags.c - registry tag lists through the builder plugin, cached.  See
 * tags.h.
 */
#include "tags.h"

#include <stdlib.h>
#include <string.h>

#include "../../builder/plugin.h"
#include "../../common/buf.h"
#include "../../common/log.h"
#include "../hooks.h"
#include "../server.h"

extern char **environ;

/* A fetch that takes longer is given up (a registry that does not
 * answer must not leave the list loading for curl's own timeouts). */
#define TAGS_TIMEOUT_MS 3000
/* How long a list is trusted, and a failure remembered. */
#define TAGS_TTL_MS (5 * 60 * 1000)
#define TAGS_FAIL_TTL_MS (30 * 1000)
/* Lists kept; the least recently fetched goes first. */
#define TAGS_MAX_ENTRIES 64
/* Tags asked for per page; $DOCKWRIGHT_TAGS_PAGE overrides (tests use a
 * small one to exercise the Link pagination). */
#define TAGS_PAGE 1000

enum tags__state { TAGS__LOADING, TAGS__READY, TAGS__FAILED };

struct tags_entry {
  char *repo; /* owned */
  enum tags__state state;
  struct strv tags;    /* READY; while LOADING the pages so far */
  uint64_t started_at; /* loop time of the fetch */
  uint64_t done_at;    /* of the result */
  struct build *b;     /* the fetch, until its terminal event */
  unsigned generation; /* settings.generation it was fetched under */
  struct tags_state *st;
  struct tags_entry *next;
};

struct tags_state {
  const struct builder_plugin *plugin;
  bool plugin_failed;
  struct tags_entry *entries;
  struct server *self;
  bool stopped;
};

static void tags__entry_free(struct tags_entry *e) {
  free(e->repo);
  strv_cleanup(&e->tags);
  free(e);
}

/* Frees the state once it is stopped and no fetch is out. */
static void tags__maybe_free(struct server *self) {
  struct tags_state *st = self->tags;
  if (st == NULL || !st->stopped)
    return;
  for (struct tags_entry *e = st->entries; e; e = e->next)
    if (e->b)
      return;
  while (st->entries) {
    struct tags_entry *e = st->entries;
    st->entries = e->next;
    tags__entry_free(e);
  }
  free(st);
  self->tags = NULL;
}

static void tags__on_event(void *ctx, const struct build_event *ev) {
  struct tags_entry *e = ctx;
  struct tags_state *st = e->st;
  struct server *self = st->self;
  switch (ev->kind) {
  case BUILD_EV_TAGS:
    if (e->state != TAGS__LOADING)
      return; /* given up on (timed out) */
    for (const char *p = ev->text; *p;) {
      const char *nl = strchr(p, '\n');
      size_t len = nl ? (size_t)(nl - p) : strlen(p);
      if (len)
        strv_pushn(&e->tags, p, len);
      p += len + (nl != NULL);
    }
    return;
  case BUILD_EV_DONE:
  case BUILD_EV_FAILED:
  case BUILD_EV_CANCELLED:
    if (e->state == TAGS__LOADING) {
      e->state = ev->kind == BUILD_EV_DONE ? TAGS__READY : TAGS__FAILED;
      e->done_at = uv_now(self->loop);
      if (ev->kind == BUILD_EV_FAILED)
        log_info("tags of %s: %s", e->repo, ev->text);
      else if (ev->kind == BUILD_EV_DONE)
        log_debug("tags of %s: %zu in %llu ms", e->repo, e->tags.n,
                  (unsigned long long)(e->done_at - e->started_at));
    }
    st->plugin->build_free(e->b);
    e->b = NULL;
    tags__maybe_free(self);
    return;
  default:
    return;
  }
}

/* What the fetch may take from the environment: proxies (the store and
 * credentials are not the request's business: auth.h reads the Docker
 * config itself). */
static void tags__env(struct strv *env) {
  static const char *const keep[] = {
      "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
      "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
  for (char **v = environ; v && *v; v++)
    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
      size_t n = strlen(keep[i]);
      if (strncmp(*v, keep[i], n) == 0 && (*v)[n] == '=')
        strv_push(env, *v);
    }
}

/* Starts the fetch of e; false when it cannot start (e failed). */
static bool tags__start(struct tags_state *st, struct tags_entry *e) {
  struct server *self = st->self;
  struct err err;
  err_clear(&err);
  if (st->plugin == NULL && !st->plugin_failed) {
    /* The first tag completion of the session maps the builder. */
    st->plugin = builder_plugin_load(&err);
    if (st->plugin == NULL) {
      st->plugin_failed = true;
      log_warn("tag completion: %s", err.msg);
    }
  }
  if (st->plugin == NULL)
    return false;
  struct strv env = STRV_INIT;
  tags__env(&env);
  const char *page = getenv("DOCKWRIGHT_TAGS_PAGE");
  const char *const refs[] = {e->repo};
  struct build_request req = {
      .action = BUILD_ACTION_TAGS,
      .tags = refs,
      .ntags = 1,
      .insecure = (const char *const *)self->settings.insecure.v,
      .ninsecure = self->settings.insecure.n,
      .env = (const char *const *)env.v,
      .nenv = env.n,
      .background = true,
      /* Each transfer (ping, token, page) ends by then, so a given-up
       * fetch does not linger past the session. */
      .timeout_ms = TAGS_TIMEOUT_MS,
      .tags_page =
          page && *page ? (unsigned)strtoul(page, NULL, 10) : TAGS_PAGE,
  };
  /* build_start copies the request. */
  int rc = st->plugin->build_start(self->loop, &req, tags__on_event, e, &e->b,
                                   &err);
  strv_cleanup(&env);
  if (rc < 0) {
    log_warn("tag completion: %s", err.msg);
    e->b = NULL;
    return false;
  }
  return true;
}

enum tags_status tags_lookup(struct server *self, const char *repo,
                             const char *const **tags, size_t *n) {
  *tags = NULL;
  *n = 0;
  if (self->tags == NULL) {
    self->tags = xcalloc(1, sizeof(*self->tags));
    self->tags->self = self;
  }
  struct tags_state *st = self->tags;
  if (st->stopped)
    return TAGS_NONE;
  uint64_t now = uv_now(self->loop);
  struct tags_entry *e = NULL, **at = NULL;
  size_t count = 0;
  for (struct tags_entry **pp = &st->entries; *pp; pp = &(*pp)->next) {
    count++;
    if (strcmp((*pp)->repo, repo) == 0) {
      e = *pp;
      at = pp;
    }
  }
  /* Another registry setting (insecureRegistries) may give another
   * answer: what was fetched before is stale. */
  bool stale_settings = e && e->generation != self->settings.generation;
  if (e && e->state == TAGS__LOADING &&
      now - e->started_at > TAGS_TIMEOUT_MS) {
    log_info("tags of %s: no answer within %d ms", e->repo, TAGS_TIMEOUT_MS);
    e->state = TAGS__FAILED;
    e->done_at = now;
    strv_cleanup(&e->tags);
    st->plugin->build_cancel(e->b);
  }
  if (e && e->state == TAGS__LOADING)
    return TAGS_LOADING;
  bool fresh = e && !stale_settings &&
               now - e->done_at <=
                   (e->state == TAGS__READY ? TAGS_TTL_MS : TAGS_FAIL_TTL_MS);
  if (fresh && e->state == TAGS__READY) {
    *tags = (const char *const *)e->tags.v;
    *n = e->tags.n;
    return TAGS_READY;
  }
  if (fresh)
    return TAGS_NONE;
  if (e != NULL) {
    if (e->b != NULL) /* a given-up fetch not ended yet: wait for it */
      return TAGS_NONE;
    *at = e->next;
    tags__entry_free(e);
    count--;
  }
  /* Make room: drop the oldest finished entry. */
  while (count >= TAGS_MAX_ENTRIES) {
    struct tags_entry **old = NULL;
    for (struct tags_entry **pp = &st->entries; *pp; pp = &(*pp)->next)
      if ((*pp)->b == NULL &&
          (old == NULL || (*pp)->started_at < (*old)->started_at))
        old = pp;
    if (old == NULL)
      return TAGS_NONE; /* every entry is loading */
    struct tags_entry *x = *old;
    *old = x->next;
    tags__entry_free(x);
    count--;
  }
  e = xcalloc(1, sizeof(*e));
  e->repo = xstrdup(repo);
  e->st = st;
  strv_init(&e->tags);
  e->state = TAGS__LOADING;
  e->started_at = now;
  e->generation = self->settings.generation;
  e->next = st->entries;
  st->entries = e;
  if (!tags__start(st, e)) {
    e->state = TAGS__FAILED;
    e->done_at = now;
    return TAGS_NONE;
  }
  return TAGS_LOADING;
}

void tags_stop(struct server *self) {
  struct tags_state *st = self->tags;
  if (st == NULL || st->stopped)
    return;
  st->stopped = true;
  for (struct tags_entry *e = st->entries; e; e = e->next)
    if (e->b)
      st->plugin->build_cancel(e->b);
  tags__maybe_free(self);
}
