/*
 * registry_push.c - writing to a registry: one state machine per blob
 * (HEAD, POST or a cross-repository mount, PATCH chunks, PUT; resumed
 * from the upload's status after a failure) run several at once, then
 * the manifest, whose returned digest is checked.  Calls go through
 * registry__send (registry.c).
 */
#include "registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/ceilings.h"
#include "registry_int.h"
#include "retry.h"

static char *registry__resolve_location(const struct registry__host *h,
                                        const char *loc) {
  struct buf b = BUF_INIT;
  if (strncmp(loc, "http://", 7) == 0 || strncmp(loc, "https://", 8) == 0)
    buf_puts(&b, loc);
  else if (loc[0] == '/')
    buf_printf(&b, "%s://%s%s", h->scheme, h->host, loc);
  else
    buf_printf(&b, "%s://%s/%s", h->scheme, h->host, loc);
  return buf_take(&b);
}

#define REGISTRY_CHUNK (16u * 1024u * 1024u)

/* One blob going up: a small state machine, so that several run at once.
 *
 *   HEAD --404--> START (POST, with ?mount= when the blob is known in
 *   another repository of this registry) --202--> SEND (PATCH chunks of
 *   REGISTRY_CHUNK, then the PUT with the rest and ?digest=) --201--> DONE
 *
 * A transient failure (retry.h) waits its backoff and goes on: HEAD and
 * START send again; a lost SEND asks the upload's status (GET on its
 * URL: 204 with Range 0-N) and resumes at byte N+1, or, when the
 * registry no longer knows the session, starts a new one.  Every other
 * answer is final. */
enum registry__up_step {
  UP_HEAD,
  UP_START,
  UP_SEND,
  UP_STATUS,
  UP_DONE,
};

struct registry__up {
  const char *digest; /* borrowed */
  enum registry__up_step step;
  struct registry__call call;
  bool sending; /* call holds a request */
  char *loc;    /* the upload URL (owned) */
  char *mount;  /* "path" of a repository to mount from (owned) */
  int fd;
  uint64_t size, off;
  struct retry rt;
  uint64_t not_before; /* ms, monotonic: backoff */
  struct registry__prog prog;
  char range[96];
};

static uint64_t registry__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Fills u->call with the request of u's step. */
static int registry__up_prepare(struct registry *self,
                                struct registry__host *h, const char *path,
                                struct registry__up *u, struct err *err) {
  struct registry__call *c = &u->call;
  switch (u->step) {
  case UP_HEAD: {
    char *url = registry__url(h, path, "blobs", u->digest);
    registry__call_init(c, h, "HEAD", url);
    free(url);
    break;
  }
  case UP_START: {
    struct buf url = BUF_INIT;
    buf_printf(&url, "%s://%s/v2/%s/blobs/uploads/", h->scheme, h->host, path);
    if (u->mount) {
      buf_puts(&url, "?mount=");
      registry__url_escape(&url, u->digest);
      buf_puts(&url, "&from=");
      registry__url_escape(&url, u->mount);
    }
    registry__call_init(c, h, "POST", url.data);
    buf_cleanup(&url);
    break;
  }
  case UP_STATUS:
    registry__call_init(c, h, "GET", u->loc);
    break;
  case UP_SEND: {
    if (u->fd < 0) {
      char *bp = store_blob_path(self->store, u->digest);
      u->fd = open(bp, O_RDONLY | O_CLOEXEC);
      free(bp);
      struct stat st;
      if (u->fd < 0 || fstat(u->fd, &st) != 0)
        return err_set(err, ERR_NOTFOUND, "blob %s is not in the store",
                       u->digest);
      u->size = (uint64_t)st.st_size;
      registry__prog_init(&u->prog, self, "push", u->digest, u->size);
    }
    bool last = u->size - u->off <= REGISTRY_CHUNK;
    if (last) {
      struct buf put = BUF_INIT;
      buf_printf(&put, "%s%cdigest=", u->loc, strchr(u->loc, '?') ? '&' : '?');
      registry__url_escape(&put, u->digest);
      registry__call_init(c, h, "PUT", put.data);
      buf_cleanup(&put);
      c->req.upload_size = u->size;
    } else {
      registry__call_init(c, h, "PATCH", u->loc);
      snprintf(u->range, sizeof(u->range), "Content-Range: %llu-%llu",
               (unsigned long long)u->off,
               (unsigned long long)(u->off + REGISTRY_CHUNK - 1));
      c->extra = u->range;
      c->req.upload_size = u->off + REGISTRY_CHUNK;
    }
    c->content_type = "application/octet-stream";
    c->req.upload_fd = u->fd;
    c->req.upload_off = u->off;
    u->prog.base = u->off;
    registry__prog_attach(&c->req, &u->prog);
    break;
  }
  case UP_DONE:
    break;
  }
  c->no_retry = true; /* the machine recovers by itself */
  u->sending = true;
  return 0;
}

/* "0-N" (an upload's Range) -> the bytes the registry holds.  Distribution
 * writes "0-0" for an empty upload, so that reads as 0. */
static bool registry__upload_range(const char *v, uint64_t *have) {
  if (v == NULL)
    return false;
  if (strncmp(v, "bytes=", 6) == 0)
    v += 6;
  char *end;
  if (strncmp(v, "0-", 2) != 0)
    return false;
  unsigned long long last = strtoull(v + 2, &end, 10);
  if (end == v + 2 || *end != '\0')
    return false;
  *have = last == 0 ? 0 : last + 1;
  return true;
}

static void registry__up_new_loc(struct registry__up *u,
                                 const struct registry__host *h,
                                 const char *loc) {
  free(u->loc);
  u->loc = registry__resolve_location(h, loc);
}

/* A transient failure: back off, or fail when the policy is spent. */
static int registry__up_backoff(struct registry *self,
                                struct registry__host *h, const char *path,
                                struct registry__up *u, const char *what,
                                struct err *err) {
  int64_t wait = retry_next(&u->rt, &u->call.req);
  if (wait < 0) {
    struct buf w = BUF_INIT;
    buf_printf(&w, "%s %s", what, u->digest);
    u->call.tries = u->rt.tries;
    int rc = registry__fail(err, h, path, w.data, &u->call);
    buf_cleanup(&w);
    return rc;
  }
  char why[200];
  retry_describe(&u->call.req, why, sizeof(why));
  registry__log(self, "%s %.19s: %s; retrying in %.1f s", what, u->digest, why,
                (double)wait / 1000.0);
  u->not_before = registry__now_ms() + (uint64_t)wait;
  return 0;
}

/* Moves u on after its request's answer. */
static int registry__up_advance(struct registry *self,
                                struct registry__host *h, const char *path,
                                struct registry__up *u, struct err *err) {
  struct http_req *r = &u->call.req;
  bool transient = retry_transient(r);
  long st = r->result == 0 ? r->status : 0;
  int rc = 0;
  struct buf what = BUF_INIT;
  switch (u->step) {
  case UP_HEAD:
    if (st == 200) {
      u->step = UP_DONE;
      registry__log(self, "%.19s already in %s/%s", u->digest, h->host, path);
    } else if (st == 404) {
      u->step = UP_START;
    } else if (transient) {
      rc = registry__up_backoff(self, h, path, u, "check blob", err);
    } else {
      buf_printf(&what, "check blob %s", u->digest);
      rc = registry__fail(err, h, path, what.data, &u->call);
    }
    break;
  case UP_START:
    if (st == 201 && u->mount) {
      registry__log(self, "mounted %.19s from %s/%s", u->digest, h->host,
                    u->mount);
      u->step = UP_DONE;
    } else if (st == 202 && r->location) {
      registry__up_new_loc(u, h, r->location);
      u->off = 0;
      u->step = UP_SEND;
    } else if (transient) {
      rc = registry__up_backoff(self, h, path, u, "start upload", err);
    } else {
      buf_printf(&what, "start upload of %s", u->digest);
      rc = registry__fail(err, h, path, what.data, &u->call);
    }
    /* A refused mount falls back to an upload (the 202 above). */
    free(u->mount);
    u->mount = NULL;
    break;
  case UP_SEND: {
    bool last = strcmp(r->method, "PUT") == 0;
    if (!last && st == 202 && r->location) {
      registry__up_new_loc(u, h, r->location);
      u->off += REGISTRY_CHUNK;
    } else if (last && st == 201) {
      if (r->docker_digest && strcmp(r->docker_digest, u->digest) != 0) {
        rc = err_set(err, ERR_DIGEST,
                     "push blob %s to %s/%s: the registry stored "
                     "%.80s",
                     u->digest, h->host, path, r->docker_digest);
        break;
      }
      u->step = UP_DONE;
      registry__log(self, "pushed %.19s (%llu bytes)", u->digest,
                    (unsigned long long)u->size);
    } else if (transient) {
      rc = registry__up_backoff(self, h, path, u, "upload", err);
      u->step = UP_STATUS;
    } else if (st == 404 || st == 400) {
      /* BLOB_UPLOAD_UNKNOWN / _INVALID: the session is gone; start over
       * (bounded by the same policy). */
      int64_t wait = retry_next(&u->rt, r);
      if (wait < 0) {
        buf_printf(&what, "upload of %s", u->digest);
        rc = registry__fail(err, h, path, what.data, &u->call);
      } else {
        registry__log(self,
                      "upload of %.19s: the registry lost the "
                      "session; starting it again",
                      u->digest);
        u->step = UP_START;
      }
    } else {
      buf_printf(&what, "upload of %s", u->digest);
      rc = registry__fail(err, h, path, what.data, &u->call);
    }
    break;
  }
  case UP_STATUS: {
    uint64_t have = 0;
    if (st == 204 && registry__upload_range(r->range, &have) &&
        have <= u->size) {
      if (r->location)
        registry__up_new_loc(u, h, r->location);
      registry__log(self, "resuming upload of %.19s at byte %llu of %llu",
                    u->digest, (unsigned long long)have,
                    (unsigned long long)u->size);
      u->off = have;
      u->step = UP_SEND;
    } else if (transient) {
      rc = registry__up_backoff(self, h, path, u, "upload status", err);
    } else {
      registry__log(self,
                    "upload of %.19s: the registry lost the session "
                    "(HTTP %ld); starting it again",
                    u->digest, st);
      u->step = UP_START;
    }
    break;
  }
  case UP_DONE:
    break;
  }
  buf_cleanup(&what);
  http_req_cleanup(&u->call.req);
  u->sending = false;
  return rc;
}

static void registry__up_cleanup(struct registry__up *u) {
  if (u->sending)
    http_req_cleanup(&u->call.req);
  if (u->fd >= 0)
    close(u->fd);
  free(u->loc);
  free(u->mount);
}

/* A repository of h the blob is known to be in, other than path: what a
 * mount can take it from (owned, or NULL). */
static char *registry__mount_source(struct registry *self,
                                    const struct registry__host *h,
                                    const char *path, const char *digest) {
  struct strv src = STRV_INIT;
  struct err e;
  char *found = NULL;
  size_t hl = strlen(h->host);
  if (store_source_list(self->store, digest, &src, &e) == 0)
    for (size_t i = 0; i < src.n && found == NULL; i++)
      if (strncmp(src.v[i], h->host, hl) == 0 && src.v[i][hl] == '/' &&
          strcmp(src.v[i] + hl + 1, path) != 0)
        found = xstrdup(src.v[i] + hl + 1);
  strv_cleanup(&src);
  return found;
}

/* Pushes blobs (duplicates allowed), at most opts.max_uploads at once. */
static int registry__push_blobs(struct registry *self,
                                struct registry__host *h, const char *path,
                                const char *scope, const char *const *digests,
                                size_t n, struct err *err) {
  size_t max = self->max_uploads ? self->max_uploads : 4;
  struct registry__up *ups = xcalloc(n ? n : 1, sizeof(*ups));
  size_t nu = 0;
  for (size_t i = 0; i < n; i++) {
    bool dup = false;
    for (size_t j = 0; j < nu && !dup; j++)
      dup = strcmp(ups[j].digest, digests[i]) == 0;
    if (dup)
      continue;
    struct registry__up *u = &ups[nu++];
    u->digest = digests[i];
    u->fd = -1;
    u->mount = registry__mount_source(self, h, path, digests[i]);
    retry_init(&u->rt);
  }
  /* A mount needs pull on its source: one token for the whole push. */
  struct buf xscope = BUF_INIT;
  buf_puts(&xscope, scope);
  for (size_t i = 0; i < nu; i++) {
    if (ups[i].mount == NULL)
      continue;
    struct buf one = BUF_INIT;
    buf_printf(&one, "repository:%s:pull", ups[i].mount);
    if (strstr(xscope.data, one.data) == NULL)
      buf_printf(&xscope, " %s", one.data);
    buf_cleanup(&one);
  }
  scope = xscope.data;
  struct registry__call **batch = xcalloc(max, sizeof(*batch));
  struct registry__up **owners = xcalloc(max, sizeof(*owners));
  http_set_max_connections(self->http, (long)max);
  size_t done = 0;
  int rc = 0;
  while (rc == 0 && done < nu) {
    /* The first `max` unfinished blobs in order are the active ones. */
    size_t nb = 0;
    uint64_t now = registry__now_ms(), wake = UINT64_MAX;
    size_t active = 0;
    for (size_t i = 0; i < nu && active < max; i++) {
      struct registry__up *u = &ups[i];
      if (u->step == UP_DONE)
        continue;
      active++;
      if (u->not_before > now) {
        if (u->not_before < wake)
          wake = u->not_before;
        continue;
      }
      rc = registry__up_prepare(self, h, path, u, err);
      if (rc < 0)
        break;
      owners[nb] = u;
      batch[nb++] = &u->call;
    }
    if (rc < 0)
      break;
    if (nb == 0) {
      if (!retry_sleep(wake - now, self->cancel))
        rc = err_set(err, ERR_CANCELLED, "cancelled");
      continue;
    }
    rc = registry__send(self, h, scope, batch, nb, err);
    for (size_t i = 0; i < nb; i++) {
      struct registry__up *u = owners[i];
      int r2 = rc == 0 ? registry__up_advance(self, h, path, u, err) : 0;
      if (rc < 0 && u->sending) {
        http_req_cleanup(&u->call.req);
        u->sending = false;
      }
      if (r2 < 0 && rc == 0)
        rc = r2;
      if (u->step == UP_DONE) {
        done++;
        if (u->fd >= 0)
          close(u->fd);
        u->fd = -1;
      }
    }
  }
  for (size_t i = 0; i < nu; i++) {
    if (rc == 0) /* now in path too: a later push elsewhere mounts it */
      registry__remember(self, h, path, ups[i].digest);
    registry__up_cleanup(&ups[i]);
  }
  buf_cleanup(&xscope);
  free(batch);
  free(owners);
  free(ups);
  return rc;
}

/* Whether the registry has `digest` under `reference` (HEAD). */
static int registry__manifest_present(struct registry *self,
                                      struct registry__host *h,
                                      const char *path, const char *scope,
                                      const char *reference,
                                      const char *digest, const char *mt,
                                      bool *present, struct err *err) {
  *present = false;
  char *url = registry__url(h, path, "manifests", reference);
  struct registry__call c;
  registry__call_init(&c, h, "HEAD", url);
  free(url);
  c.accept = mt;
  struct registry__call *cs[] = {&c};
  int rc = registry__send(self, h, scope, cs, 1, err);
  if (rc == 0 && c.req.status == 200 && c.req.docker_digest &&
      strcmp(c.req.docker_digest, digest) == 0) {
    *present = true;
    registry__log(self, "%s/%s:%.80s is %.19s already", h->host, path,
                  reference, digest);
  }
  /* Anything else (404, another digest, an error status): push. */
  http_req_cleanup(&c.req);
  return rc;
}

static int registry__push_manifest(struct registry *self,
                                   struct registry__host *h, const char *path,
                                   const char *scope, const char *reference,
                                   const char *digest, const char *mt,
                                   unsigned depth, struct err *err) {
  /* Already there under this reference: a registry accepts a manifest
   * only once every blob it names is in, so nothing is left to send (a
   * re-push costs one request). */
  bool present = false;
  int rc = registry__manifest_present(self, h, path, scope, reference, digest,
                                      mt, &present, err);
  if (rc < 0 || present)
    return rc;
  struct buf b = BUF_INIT;
  rc = store_blob_read(self->store, digest, DW_MAX_MANIFEST_BYTES, &b, err);
  if (rc == 0 && image_is_index(mt)) {
    struct image_index x;
    rc = depth > 2 ? err_set(err, ERR_UNSUPPORTED, "nested index")
                   : image_index_parse(b.data, b.len, &x, err);
    if (rc == 0) {
      for (size_t i = 0; rc == 0 && i < x.n; i++)
        if (store_blob_exists(self->store, x.manifests[i].digest))
          rc = registry__push_manifest(
              self, h, path, scope, x.manifests[i].digest,
              x.manifests[i].digest, x.manifests[i].media_type, depth + 1,
              err);
      image_index_cleanup(&x);
    }
  } else if (rc == 0) {
    struct image_manifest m;
    rc = image_manifest_parse(b.data, b.len, &m, err);
    if (rc == 0) {
      const char **ds = xcalloc(m.nlayers + 1, sizeof(*ds));
      for (size_t i = 0; i < m.nlayers; i++)
        ds[i] = m.layers[i].digest;
      ds[m.nlayers] = m.config.digest;
      rc = registry__push_blobs(self, h, path, scope, ds, m.nlayers + 1, err);
      free(ds);
      image_manifest_cleanup(&m);
    }
  }
  if (rc == 0) {
    char *url = registry__url(h, path, "manifests", reference);
    struct registry__call c;
    registry__call_init(&c, h, "PUT", url);
    free(url);
    c.content_type = mt;
    c.req.upload = b.data;
    c.req.upload_len = b.len;
    struct registry__call *cs[] = {&c};
    rc = registry__send(self, h, scope, cs, 1, err);
    if (rc == 0 && c.req.status != 201) {
      struct buf what = BUF_INIT;
      buf_printf(&what, "put manifest %.80s", reference);
      rc = registry__fail(err, h, path, what.data, &c);
      buf_cleanup(&what);
    }
    /* The registry says what it stored: it must be what we sent. */
    if (rc == 0 && c.req.docker_digest &&
        strcmp(c.req.docker_digest, digest) != 0)
      rc = err_set(err, ERR_DIGEST,
                   "put manifest %.80s in %s/%s: the registry stored "
                   "%.80s, not %s",
                   reference, h->host, path, c.req.docker_digest, digest);
    http_req_cleanup(&c.req);
  }
  buf_cleanup(&b);
  return rc;
}

int registry_push(struct registry *self, const struct ref *ref,
                  const char *digest, const char *media_type,
                  struct err *err) {
  int rc;
  struct registry__host *h = registry__host(self, ref_api_host(ref), err, &rc);
  if (h == NULL)
    return rc;
  struct buf scope = BUF_INIT;
  buf_printf(&scope, "repository:%s:pull,push", ref->path);
  rc = registry__push_manifest(self, h, ref->path, scope.data,
                               ref->tag ? ref->tag : digest, digest,
                               media_type, 0, err);
  buf_cleanup(&scope);
  return rc;
}
