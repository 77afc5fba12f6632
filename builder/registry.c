/*
 * registry.c - pull and push over the OCI distribution API.
 *
 * DESIGN: every call goes through registry__send, which adds the
 * Authorization header for the host and scope, runs a batch on the
 * http engine, and on a 401 answers the challenge (fetching a Bearer token
 * or switching to Basic) and sends the failed requests once more.  Hosts
 * are pinged once (GET /v2/) to pick the scheme and learn the challenge.
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
#include "auth.h"
#include "http.h"

struct registry__token {
  char *scope;
  char *header; /* "Authorization: Bearer ..." */
};

struct registry__host {
  char *host;
  const char *scheme; /* "https" or "http" */
  bool noverify;
  char *ca_file;
  bool cred_loaded, has_cred;
  struct auth_cred cred;
  struct auth_challenge chal; /* scheme NULL: no auth asked */
  struct registry__token *tokens;
  size_t ntokens;
};

struct registry {
  uv_loop_t *loop;
  struct store *store;
  struct http *http;
  struct registry_opts opts;
  const atomic_bool *cancel;
  struct registry__host *hosts;
  size_t nhosts;
};

static void registry__log(struct registry *self, const char *fmt, ...)
    DW_PRINTF(2, 3);
static void registry__log(struct registry *self, const char *fmt, ...) {
  if (self->opts.log == NULL)
    return;
  struct buf b = BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  buf_vprintf(&b, fmt, ap);
  va_end(ap);
  self->opts.log(self->opts.log_ctx, b.data);
  buf_cleanup(&b);
}

/* One blob transfer's progress, throttled to whole percentages. */
struct registry__prog {
  struct registry *self;
  const char *verb;
  const char *digest;
  uint64_t base, total; /* bytes sent by earlier requests; blob size */
  int last_pct;
};

static void registry__prog_init(struct registry__prog *p,
                                struct registry *self, const char *verb,
                                const char *digest, uint64_t total) {
  p->self = self;
  p->verb = verb;
  p->digest = digest;
  p->base = 0;
  p->total = total;
  p->last_pct = -1;
}

static void registry__prog_cb(void *ctx, uint64_t now, uint64_t total) {
  struct registry__prog *p = ctx;
  (void)total; /* a chunk's own total; the blob's is p->total */
  if (p->self->opts.progress == NULL || p->total == 0)
    return;
  uint64_t done = p->base + now;
  if (done > p->total)
    done = p->total;
  int pct = (int)(done * 100 / p->total);
  if (pct == p->last_pct)
    return;
  p->last_pct = pct;
  p->self->opts.progress(p->self->opts.log_ctx, p->verb, p->digest, done,
                         p->total);
}

static void registry__prog_attach(struct http_req *r,
                                  struct registry__prog *p) {
  r->progress = registry__prog_cb;
  r->progress_ctx = p;
}

int registry_new(uv_loop_t *loop, struct store *store,
                 const struct registry_opts *opts, const atomic_bool *cancel,
                 struct registry **out, struct err *err) {
  *out = NULL;
  struct registry *r = xcalloc(1, sizeof(*r));
  r->loop = loop;
  r->store = store;
  r->cancel = cancel;
  if (opts)
    r->opts = *opts;
  int rc = http_new(loop, cancel, &r->http, err);
  if (rc < 0) {
    free(r);
    return rc;
  }
  if (r->opts.env)
    http_set_env(r->http, r->opts.env, r->opts.nenv);
  *out = r;
  return 0;
}

void registry_set_timeout(struct registry *self, unsigned ms) {
  http_set_timeout(self->http, ms);
}

void registry_free(struct registry *self) {
  if (self == NULL)
    return;
  for (size_t i = 0; i < self->nhosts; i++) {
    struct registry__host *h = &self->hosts[i];
    free(h->host);
    free(h->ca_file);
    auth_cred_cleanup(&h->cred);
    auth_challenge_cleanup(&h->chal);
    for (size_t j = 0; j < h->ntokens; j++) {
      free(h->tokens[j].scope);
      memset(h->tokens[j].header, 0, strlen(h->tokens[j].header));
      free(h->tokens[j].header);
    }
    free(h->tokens);
  }
  free(self->hosts);
  http_free(self->http);
  free(self);
}

static bool registry__insecure(const struct registry *self, const char *h) {
  for (size_t i = 0; i < self->opts.ninsecure; i++)
    if (strcmp(self->opts.insecure[i], h) == 0)
      return true;
  return false;
}

static char *registry__find_ca(const char *host) {
  const char *env = getenv("DOCKWRIGHT_CERTS_DIR");
  const char *dirs[] = {env && *env ? env : NULL, "/etc/containers/certs.d",
                        "/etc/docker/certs.d"};
  for (size_t i = 0; i < 3; i++) {
    if (dirs[i] == NULL)
      continue;
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/%s/ca.crt", dirs[i], host);
    if (access(p.data, R_OK) == 0)
      return buf_take(&p);
    buf_cleanup(&p);
  }
  return NULL;
}

/* Sends a batch; transport errors become err.  Per-request HTTP status is
 * left to the caller. */
static int registry__run(struct registry *self, struct http_req **reqs,
                         size_t n, struct err *err) {
  int rc = http_run(self->http, reqs, n, err);
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < n; i++)
    if (reqs[i]->result < 0)
      return err_set(err, reqs[i]->result, "%s %s: %s", reqs[i]->method,
                     reqs[i]->url, reqs[i]->error);
  return 0;
}

static struct registry__host *registry__host(struct registry *self,
                                             const char *host, struct err *err,
                                             int *rc) {
  *rc = 0;
  for (size_t i = 0; i < self->nhosts; i++)
    if (strcmp(self->hosts[i].host, host) == 0)
      return &self->hosts[i];
  bool insecure = registry__insecure(self, host);
  bool loop = ref_host_is_loopback(host);
  struct registry__host h;
  memset(&h, 0, sizeof(h));
  h.host = xstrdup(host);
  h.noverify = insecure;
  h.ca_file = registry__find_ca(host);
  /* Ping: https first; plain http only for loopback or insecure hosts
   * and only when TLS failed for a reason other than the certificate. */
  const char *schemes[] = {"https", "http"};
  size_t tries = insecure || loop ? 2 : 1;
  struct http_req r;
  for (size_t i = 0; i < tries; i++) {
    struct buf url = BUF_INIT;
    buf_printf(&url, "%s://%s/v2/", schemes[i], host);
    http_req_init(&r, "GET", url.data);
    buf_cleanup(&url);
    r.ca_file = h.ca_file;
    r.tls_noverify = h.noverify;
    *rc = http_run(self->http, (struct http_req *[]){&r}, 1, err);
    if (*rc < 0) {
      http_req_cleanup(&r);
      break;
    }
    if (r.result == 0 && (r.status == 200 || r.status == 401)) {
      h.scheme = schemes[i];
      if (r.status == 401 && r.www_authenticate) {
        struct err e2;
        if (auth_parse_challenge(r.www_authenticate, &h.chal, &e2) < 0)
          auth_challenge_cleanup(&h.chal);
      }
      http_req_cleanup(&r);
      break;
    }
    bool cert_problem = r.curl_code == CURLE_PEER_FAILED_VERIFICATION ||
                        r.curl_code == CURLE_SSL_CACERT_BADFILE;
    if (r.result == 0)
      *rc = err_set(err, ERR_NETWORK,
                    "%s is not a registry: GET /v2/ "
                    "answered %ld",
                    host, r.status);
    else
      *rc = err_set(err, ERR_NETWORK, "cannot reach registry %s: %s", host,
                    r.error);
    long status = r.status;
    http_req_cleanup(&r);
    if (cert_problem || status != 0)
      break;
  }
  if (h.scheme == NULL) {
    if (*rc == 0)
      *rc = err_set(err, ERR_NETWORK, "cannot reach registry %s", host);
    free(h.host);
    free(h.ca_file);
    auth_challenge_cleanup(&h.chal);
    return NULL;
  }
  err_clear(err);
  *rc = 0;
  self->hosts = xrealloc(self->hosts, (self->nhosts + 1) * sizeof(h));
  self->hosts[self->nhosts] = h;
  return &self->hosts[self->nhosts++];
}

static int registry__creds(struct registry__host *h, struct err *err) {
  if (h->cred_loaded)
    return 0;
  h->cred_loaded = true;
  int rc = auth_lookup(h->host, &h->cred, err);
  if (rc == ERR_NOTFOUND) {
    err_clear(err);
    return 0;
  }
  if (rc == 0)
    h->has_cred = true;
  return rc;
}

static void registry__url_escape(struct buf *b, const char *s) {
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~')
      buf_putc(b, (char)c);
    else
      buf_printf(b, "%%%02X", c);
  }
}

/* Gets (or reuses) a Bearer token for scope. */
static int registry__token(struct registry *self, struct registry__host *h,
                           const char *scope, bool refresh,
                           const char **header, struct err *err) {
  *header = NULL;
  for (size_t i = 0; i < h->ntokens; i++)
    if (strcmp(h->tokens[i].scope, scope) == 0) {
      if (!refresh) {
        *header = h->tokens[i].header;
        return 0;
      }
    }
  const char *realm = h->chal.realm;
  if (realm == NULL || (strncmp(realm, "https://", 8) != 0 &&
                        strncmp(realm, "http://", 7) != 0))
    return err_set(err, ERR_AUTH,
                   "registry %s sent a Bearer challenge "
                   "without a usable realm",
                   h->host);
  int rc = registry__creds(h, err);
  if (rc < 0)
    return rc;
  struct buf url = BUF_INIT;
  buf_puts(&url, realm);
  buf_putc(&url, strchr(realm, '?') ? '&' : '?');
  if (h->chal.service) {
    buf_puts(&url, "service=");
    registry__url_escape(&url, h->chal.service);
    buf_putc(&url, '&');
  }
  buf_puts(&url, "scope=");
  registry__url_escape(&url, scope);
  struct http_req r;
  http_req_init(&r, "GET", url.data);
  buf_cleanup(&url);
  r.follow = true;
  r.max_body = DW_MAX_TOKEN_BYTES;
  r.ca_file = h->ca_file;
  r.tls_noverify = h->noverify;
  if (h->has_cred) {
    char *line = auth_basic_header(&h->cred);
    http_req_header(&r, line);
    memset(line, 0, strlen(line));
    free(line);
  }
  rc = registry__run(self, (struct http_req *[]){&r}, 1, err);
  if (rc == 0 && r.status != 200)
    rc = err_set(err, ERR_AUTH,
                 "token request for %s (%s) failed: HTTP "
                 "%ld",
                 h->host, scope, r.status);
  char *tok = NULL;
  if (rc == 0) {
    json_object *o = json_tokener_parse(r.body.data ? r.body.data : "");
    json_object *t;
    if (o &&
        (json_object_object_get_ex(o, "token", &t) ||
         json_object_object_get_ex(o, "access_token", &t)) &&
        json_object_is_type(t, json_type_string))
      tok = xstrdup(json_object_get_string(t));
    else
      rc = err_set(err, ERR_AUTH, "token reply from %s has no token", h->host);
    json_object_put(o);
  }
  if (r.body.data)
    memset(r.body.data, 0, r.body.len);
  http_req_cleanup(&r);
  if (rc < 0)
    return rc;
  struct buf hb = BUF_INIT;
  buf_printf(&hb, "Authorization: Bearer %s", tok);
  memset(tok, 0, strlen(tok));
  free(tok);
  for (size_t i = 0; i < h->ntokens; i++)
    if (strcmp(h->tokens[i].scope, scope) == 0) {
      memset(h->tokens[i].header, 0, strlen(h->tokens[i].header));
      free(h->tokens[i].header);
      h->tokens[i].header = buf_take(&hb);
      *header = h->tokens[i].header;
      return 0;
    }
  h->tokens = xrealloc(h->tokens, (h->ntokens + 1) * sizeof(*h->tokens));
  h->tokens[h->ntokens].scope = xstrdup(scope);
  h->tokens[h->ntokens].header = buf_take(&hb);
  *header = h->tokens[h->ntokens++].header;
  return 0;
}

/* One call: a request plus the headers it needs apart from auth. */
struct registry__call {
  struct http_req req;
  const char *accept;
  const char *content_type;
  const char *extra; /* e.g. Content-Range */
};

static void registry__call_init(struct registry__call *c,
                                struct registry__host *h, const char *method,
                                const char *url) {
  memset(c, 0, sizeof(*c));
  http_req_init(&c->req, method, url);
  c->req.ca_file = h->ca_file;
  c->req.tls_noverify = h->noverify;
}

static int registry__auth_line(struct registry *self, struct registry__host *h,
                               const char *scope, bool refresh, char **line,
                               struct err *err) {
  *line = NULL;
  if (h->chal.scheme == NULL)
    return 0;
  if (strcmp(h->chal.scheme, "basic") == 0) {
    int rc = registry__creds(h, err);
    if (rc < 0)
      return rc;
    if (!h->has_cred)
      return err_set(err, ERR_AUTH,
                     "registry %s asks for a login and no "
                     "credentials were found (DOCKER_CONFIG/config.json)",
                     h->host);
    *line = auth_basic_header(&h->cred);
    return 0;
  }
  if (strcmp(h->chal.scheme, "bearer") == 0) {
    const char *hdr;
    int rc = registry__token(self, h, scope, refresh, &hdr, err);
    if (rc < 0)
      return rc;
    *line = xstrdup(hdr);
    return 0;
  }
  return err_set(err, ERR_UNSUPPORTED,
                 "registry %s asks for auth scheme "
                 "\"%.40s\"",
                 h->host, h->chal.scheme);
}

static void registry__set_headers(struct registry__call *c, const char *auth) {
  curl_slist_free_all(c->req.headers);
  c->req.headers = NULL;
  if (c->accept) {
    struct buf b = BUF_INIT;
    buf_printf(&b, "Accept: %s", c->accept);
    http_req_header(&c->req, b.data);
    buf_cleanup(&b);
  }
  if (c->content_type) {
    struct buf b = BUF_INIT;
    buf_printf(&b, "Content-Type: %s", c->content_type);
    http_req_header(&c->req, b.data);
    buf_cleanup(&b);
  }
  if (c->extra)
    http_req_header(&c->req, c->extra);
  if (auth)
    http_req_header(&c->req, auth);
}

static void registry__wipe_headers(struct registry__call *c) {
  /* The header list holds the secret: rebuild it without. */
  registry__set_headers(c, NULL);
}

/* Sends calls with auth, answering one round of 401s. */
static int registry__send(struct registry *self, struct registry__host *h,
                          const char *scope, struct registry__call **calls,
                          size_t n, struct err *err) {
  char *auth = NULL;
  int rc = registry__auth_line(self, h, scope, false, &auth, err);
  if (rc < 0)
    return rc;
  struct http_req **reqs = xcalloc(n ? n : 1, sizeof(*reqs));
  for (size_t i = 0; i < n; i++) {
    registry__set_headers(calls[i], auth);
    reqs[i] = &calls[i]->req;
  }
  rc = registry__run(self, reqs, n, err);
  size_t again = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (calls[i]->req.status == 401)
      reqs[again++] = &calls[i]->req;
  if (rc == 0 && again) {
    /* Learn the challenge (a registry may ask only now) and retry. */
    struct http_req *first = reqs[0];
    if (first->www_authenticate) {
      struct auth_challenge ch;
      struct err e2;
      if (auth_parse_challenge(first->www_authenticate, &ch, &e2) == 0) {
        auth_challenge_cleanup(&h->chal);
        h->chal = ch;
      }
    }
    if (auth) {
      memset(auth, 0, strlen(auth));
      free(auth);
      auth = NULL;
    }
    if (h->chal.scheme == NULL) {
      rc = err_set(err, ERR_AUTH, "%s: 401 without a challenge", h->host);
    } else {
      rc = registry__auth_line(self, h, scope, true, &auth, err);
    }
    for (size_t i = 0; rc == 0 && i < again; i++) {
      struct registry__call *c = (struct registry__call *)reqs[i];
      if (c->req.sink) {
        /* Restart the stream from zero. */
        if (ftruncate(c->req.sink->fd, 0) != 0 ||
            lseek(c->req.sink->fd, 0, SEEK_SET) != 0) {
          rc = err_set(err, ERR_IO, "truncate: %s", strerror(errno));
          break;
        }
        digest_cleanup(&c->req.sink->dg);
        digest_init(&c->req.sink->dg);
        c->req.sink->size = 0;
      }
      registry__set_headers(c, auth);
    }
    if (rc == 0)
      rc = registry__run(self, reqs, again, err);
    for (size_t i = 0; rc == 0 && i < again; i++)
      if (reqs[i]->status == 401)
        rc = h->has_cred
                 ? err_set(err, ERR_AUTH,
                           "%s refused the credentials for %s "
                           "(HTTP 401)",
                           h->host, scope)
                 : err_set(err, ERR_AUTH,
                           "%s needs credentials for %s (HTTP 401) and "
                           "none were found: docker login %s, or "
                           "DOCKER_CONFIG",
                           h->host, scope, h->host);
  }
  for (size_t i = 0; i < n; i++)
    registry__wipe_headers(calls[i]);
  if (auth) {
    memset(auth, 0, strlen(auth));
    free(auth);
  }
  free(reqs);
  return rc;
}

/* The registry's own error text ({"errors":[{"code","message"}]}). */
static void registry__explain(struct buf *b, const struct http_req *r) {
  buf_printf(b, "HTTP %ld", r->status);
  json_object *o = r->body.data ? json_tokener_parse(r->body.data) : NULL;
  json_object *errs;
  if (o && json_object_object_get_ex(o, "errors", &errs) &&
      json_object_is_type(errs, json_type_array) &&
      json_object_array_length(errs) > 0) {
    json_object *e0 = json_object_array_get_idx(errs, 0), *code, *msg;
    if (json_object_object_get_ex(e0, "code", &code))
      buf_printf(b, " %.60s", json_object_get_string(code));
    if (json_object_object_get_ex(e0, "message", &msg))
      buf_printf(b, ": %.200s", json_object_get_string(msg));
  }
  json_object_put(o);
}

static char *registry__url(const struct registry__host *h, const char *path,
                           const char *what, const char *ref) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s://%s/v2/%s/%s/%s", h->scheme, h->host, path, what, ref);
  return buf_take(&b);
}

static const char registry__accept[] = MT_OCI_INDEX
    ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST;

/* GETs a manifest or index into memory; checks it against `digest` when
 * given, and returns its digest. */
static int registry__get_manifest(struct registry *self,
                                  struct registry__host *h, const char *path,
                                  const char *reference, const char *digest,
                                  struct buf *out, char **media_type,
                                  char digest_out[DIGEST_STR_LEN],
                                  struct err *err) {
  struct buf scope = BUF_INIT;
  buf_printf(&scope, "repository:%s:pull", path);
  char *url = registry__url(h, path, "manifests", reference);
  struct registry__call c;
  registry__call_init(&c, h, "GET", url);
  free(url);
  c.accept = registry__accept;
  c.req.max_body = DW_MAX_MANIFEST_BYTES;
  c.req.follow = true;
  struct registry__call *cs[] = {&c};
  int rc = registry__send(self, h, scope.data, cs, 1, err);
  if (rc == 0 && c.req.status != 200) {
    struct buf why = BUF_INIT;
    registry__explain(&why, &c.req);
    rc = err_set(err, c.req.status == 404 ? ERR_NOTFOUND : ERR_NETWORK,
                 "manifest %s/%s:%s: %s", h->host, path, reference, why.data);
    buf_cleanup(&why);
  }
  if (rc == 0) {
    digest_buf(c.req.body.data ? c.req.body.data : "", c.req.body.len,
               digest_out);
    if (digest && strcmp(digest, digest_out) != 0)
      rc = err_set(err, ERR_DIGEST,
                   "manifest %s/%s@%s: content hashes to "
                   "%s",
                   h->host, path, digest, digest_out);
  }
  if (rc == 0) {
    char *mt = image_sniff_media_type(c.req.body.data, c.req.body.len);
    if (mt == NULL)
      rc = err_set(err, ERR_SYNTAX, "manifest %s/%s:%s is not JSON", h->host,
                   path, reference);
    *media_type = mt;
    buf_append(out, c.req.body.data, c.req.body.len);
  }
  http_req_cleanup(&c.req);
  buf_cleanup(&scope);
  return rc;
}

struct registry__dl {
  struct registry__call call;
  struct store_writer w;
  const struct image_desc *d;
  bool open;
  struct registry__prog prog;
};

/* Downloads blobs in parallel into the store (skipping those present). */
static int registry__get_blobs(struct registry *self, struct registry__host *h,
                               const char *path, const struct image_desc *ds,
                               size_t n, struct err *err) {
  struct buf scope = BUF_INIT;
  buf_printf(&scope, "repository:%s:pull", path);
  struct registry__dl *dl = xcalloc(n ? n : 1, sizeof(*dl));
  struct registry__call **calls = xcalloc(n ? n : 1, sizeof(*calls));
  size_t m = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (store_blob_exists(self->store, ds[i].digest))
      continue;
    bool dup = false;
    for (size_t j = 0; j < m; j++)
      if (strcmp(dl[j].d->digest, ds[i].digest) == 0)
        dup = true;
    if (dup)
      continue;
    struct registry__dl *x = &dl[m];
    x->d = &ds[i];
    char *url = registry__url(h, path, "blobs", ds[i].digest);
    registry__call_init(&x->call, h, "GET", url);
    free(url);
    x->call.req.follow = true;
    rc = store_writer_open(self->store, &x->w, err);
    if (rc < 0) {
      http_req_cleanup(&x->call.req);
      break;
    }
    x->open = true;
    x->call.req.sink = &x->w;
    x->call.req.sink_max = (uint64_t)ds[i].size;
    registry__prog_init(&x->prog, self, "pull", ds[i].digest,
                        (uint64_t)ds[i].size);
    registry__prog_attach(&x->call.req, &x->prog);
    calls[m++] = &x->call;
  }
  if (rc == 0 && m)
    rc = registry__send(self, h, scope.data, calls, m, err);
  for (size_t i = 0; i < m; i++) {
    struct registry__dl *x = &dl[i];
    if (rc == 0 && x->call.req.status != 200) {
      struct buf why = BUF_INIT;
      registry__explain(&why, &x->call.req);
      rc = err_set(err, ERR_NETWORK, "blob %s: %s", x->d->digest, why.data);
      buf_cleanup(&why);
    }
    if (rc == 0 && x->w.size != (uint64_t)x->d->size)
      rc = err_set(err, ERR_DIGEST,
                   "blob %s: got %llu bytes, the manifest "
                   "says %lld",
                   x->d->digest, (unsigned long long)x->w.size,
                   (long long)x->d->size);
    if (rc == 0) {
      uint64_t size = x->w.size;
      rc = store_writer_commit(&x->w, x->d->digest, NULL, err);
      if (rc == 0)
        registry__log(self, "pulled %.19s (%llu bytes)", x->d->digest,
                      (unsigned long long)size);
    } else {
      store_writer_abort(&x->w);
    }
    http_req_cleanup(&x->call.req);
  }
  free(calls);
  free(dl);
  buf_cleanup(&scope);
  return rc;
}

int registry_pull(struct registry *self, const struct ref *ref,
                  const struct image_platform *p, struct registry_pulled *out,
                  struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc;
  struct registry__host *h = registry__host(self, ref_api_host(ref), err, &rc);
  if (h == NULL)
    return rc;
  struct buf top = BUF_INIT;
  char *mt = NULL;
  const char *reference = ref->digest ? ref->digest : ref->tag;
  rc = registry__get_manifest(self, h, ref->path, reference, ref->digest, &top,
                              &mt, out->digest, err);
  if (rc < 0) {
    buf_cleanup(&top);
    return rc;
  }
  out->media_type = xstrdup(mt);
  out->size = top.len;
  struct buf man = BUF_INIT;
  char mdigest[DIGEST_STR_LEN];
  memcpy(mdigest, out->digest, sizeof(mdigest));
  if (image_is_index(mt)) {
    struct image_index x;
    rc = image_index_parse(top.data, top.len, &x, err);
    if (rc == 0) {
      const struct image_desc *d = image_index_select(&x, p);
      if (d == NULL) {
        rc = err_set(err, ERR_NOTFOUND, "%s/%s has no image for %s/%s%s%s",
                     ref->domain, ref->path, p->os, p->arch,
                     p->variant[0] ? "/" : "", p->variant);
      } else {
        free(mt);
        mt = NULL;
        rc = registry__get_manifest(self, h, ref->path, d->digest, d->digest,
                                    &man, &mt, mdigest, err);
      }
      image_index_cleanup(&x);
    }
    if (rc == 0)
      rc = store_blob_put(self->store, top.data, top.len, NULL, err);
  } else {
    buf_append(&man, top.data, top.len);
  }
  struct image_manifest m;
  memset(&m, 0, sizeof(m));
  if (rc == 0 && !image_is_manifest(mt))
    rc = err_set(err, ERR_UNSUPPORTED,
                 "%s/%s: media type \"%.100s\" is not "
                 "an image manifest",
                 ref->domain, ref->path, mt);
  if (rc == 0)
    rc = image_manifest_parse(man.data, man.len, &m, err);
  if (rc == 0) {
    struct image_desc *all = xcalloc(m.nlayers + 1, sizeof(*all));
    all[0] = m.config;
    for (size_t i = 0; i < m.nlayers; i++)
      all[i + 1] = m.layers[i];
    rc = registry__get_blobs(self, h, ref->path, all, m.nlayers + 1, err);
    free(all); /* shallow copies: m still owns the strings */
  }
  if (rc == 0)
    rc = store_blob_put(self->store, man.data, man.len, NULL, err);
  image_manifest_cleanup(&m);
  free(mt);
  buf_cleanup(&man);
  buf_cleanup(&top);
  if (rc < 0) {
    free(out->media_type);
    out->media_type = NULL;
  }
  return rc;
}

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

static int registry__push_blob(struct registry *self, struct registry__host *h,
                               const char *path, const char *scope,
                               const char *digest, struct err *err) {
  char *url = registry__url(h, path, "blobs", digest);
  struct registry__call c;
  registry__call_init(&c, h, "HEAD", url);
  free(url);
  struct registry__call *cs[] = {&c};
  int rc = registry__send(self, h, scope, cs, 1, err);
  bool present = rc == 0 && c.req.status == 200;
  http_req_cleanup(&c.req);
  if (rc < 0 || present)
    return rc;
  /* Start an upload. */
  struct buf u = BUF_INIT;
  buf_printf(&u, "%s://%s/v2/%s/blobs/uploads/", h->scheme, h->host, path);
  registry__call_init(&c, h, "POST", u.data);
  buf_cleanup(&u);
  rc = registry__send(self, h, scope, cs, 1, err);
  if (rc == 0 && (c.req.status != 202 || c.req.location == NULL)) {
    struct buf why = BUF_INIT;
    registry__explain(&why, &c.req);
    rc = err_set(err, ERR_NETWORK, "start upload of %.19s to %s/%s: %s",
                 digest, h->host, path, why.data);
    buf_cleanup(&why);
  }
  char *loc = rc == 0 ? registry__resolve_location(h, c.req.location) : NULL;
  http_req_cleanup(&c.req);
  if (rc < 0)
    return rc;
  char *bp = store_blob_path(self->store, digest);
  int fd = open(bp, O_RDONLY | O_CLOEXEC);
  free(bp);
  if (fd < 0) {
    free(loc);
    return err_set(err, ERR_NOTFOUND, "blob %s is not in the store", digest);
  }
  struct stat st;
  fstat(fd, &st);
  uint64_t size = (uint64_t)st.st_size;
  uint64_t off = 0;
  struct registry__prog prog;
  registry__prog_init(&prog, self, "push", digest, size);
  /* Large blobs go in PATCH chunks; the last request is the PUT. */
  while (rc == 0 && size - off > REGISTRY_CHUNK) {
    registry__call_init(&c, h, "PATCH", loc);
    c.content_type = "application/octet-stream";
    char range[96];
    snprintf(range, sizeof(range), "Content-Range: %llu-%llu",
             (unsigned long long)off,
             (unsigned long long)(off + REGISTRY_CHUNK - 1));
    c.extra = range;
    c.req.upload_fd = fd;
    c.req.upload_off = off;
    c.req.upload_size = off + REGISTRY_CHUNK;
    prog.base = off;
    registry__prog_attach(&c.req, &prog);
    rc = registry__send(self, h, scope, cs, 1, err);
    if (rc == 0 && (c.req.status != 202 || c.req.location == NULL)) {
      struct buf why = BUF_INIT;
      registry__explain(&why, &c.req);
      rc = err_set(err, ERR_NETWORK, "upload chunk of %.19s: %s", digest,
                   why.data);
      buf_cleanup(&why);
    }
    if (rc == 0) {
      free(loc);
      loc = registry__resolve_location(h, c.req.location);
      off += REGISTRY_CHUNK;
    }
    http_req_cleanup(&c.req);
  }
  if (rc == 0) {
    struct buf put = BUF_INIT;
    buf_printf(&put, "%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?',
               digest);
    registry__call_init(&c, h, "PUT", put.data);
    buf_cleanup(&put);
    c.content_type = "application/octet-stream";
    c.req.upload_fd = fd;
    c.req.upload_off = off;
    c.req.upload_size = size;
    prog.base = off;
    registry__prog_attach(&c.req, &prog);
    rc = registry__send(self, h, scope, cs, 1, err);
    if (rc == 0 && c.req.status != 201) {
      struct buf why = BUF_INIT;
      registry__explain(&why, &c.req);
      rc = err_set(err, ERR_NETWORK, "upload of %.19s to %s/%s: %s", digest,
                   h->host, path, why.data);
      buf_cleanup(&why);
    }
    http_req_cleanup(&c.req);
  }
  close(fd);
  free(loc);
  if (rc == 0)
    registry__log(self, "pushed %.19s (%llu bytes)", digest,
                  (unsigned long long)size);
  return rc;
}

static int registry__push_manifest(struct registry *self,
                                   struct registry__host *h, const char *path,
                                   const char *scope, const char *reference,
                                   const char *digest, const char *mt,
                                   unsigned depth, struct err *err) {
  struct buf b = BUF_INIT;
  int rc =
      store_blob_read(self->store, digest, DW_MAX_MANIFEST_BYTES, &b, err);
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
      for (size_t i = 0; rc == 0 && i < m.nlayers; i++)
        rc =
            registry__push_blob(self, h, path, scope, m.layers[i].digest, err);
      if (rc == 0)
        rc = registry__push_blob(self, h, path, scope, m.config.digest, err);
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
      struct buf why = BUF_INIT;
      registry__explain(&why, &c.req);
      rc = err_set(err, ERR_NETWORK, "put manifest %s/%s:%s: %s", h->host,
                   path, reference, why.data);
      buf_cleanup(&why);
    }
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

int registry_fetch_url(struct registry *self, const char *url,
                       const char *checksum, char digest_out[DIGEST_STR_LEN],
                       struct err *err) {
  if (checksum && !digest_valid(checksum))
    return err_set(err, ERR_INVALID,
                   "unsupported checksum \"%.80s\" (want "
                   "sha256:<64 hex>)",
                   checksum);
  struct store_writer w;
  int rc = store_writer_open(self->store, &w, err);
  if (rc < 0)
    return rc;
  struct http_req r;
  http_req_init(&r, "GET", url);
  r.follow = true;
  r.sink = &w;
  r.sink_max = DW_MAX_ADD_URL_BYTES;
  rc = registry__run(self, (struct http_req *[]){&r}, 1, err);
  if (rc == 0 && (r.status < 200 || r.status >= 300))
    rc = err_set(err, ERR_NETWORK, "GET %s: HTTP %ld", url, r.status);
  http_req_cleanup(&r);
  if (rc == 0)
    rc = store_writer_commit(&w, checksum, digest_out, err);
  else
    store_writer_abort(&w);
  return rc;
}

/* --- tag lists ----------------------------------------------------------- */

/* The next page's URL from a Link header (`<url>; rel="next"`), on the same
 * scheme and host only; NULL when there is none. */
static char *registry__next_link(const struct registry__host *h,
                                 const char *link) {
  for (const char *p = link; p && *p;) {
    const char *lt = strchr(p, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (gt == NULL)
      return NULL;
    const char *end = strchr(gt, ',');
    size_t plen = end ? (size_t)(end - gt) : strlen(gt);
    char *params = xstrndup(gt + 1, plen - 1);
    bool next = strstr(params, "rel=\"next\"") || strstr(params, "rel=next");
    free(params);
    if (next) {
      char *target = xstrndup(lt + 1, (size_t)(gt - lt - 1));
      struct buf b = BUF_INIT;
      buf_printf(&b, "%s://%s/", h->scheme, h->host);
      char *url = NULL;
      if (target[0] == '/') {
        buf_puts(&b, target + 1);
        url = buf_take(&b);
      } else if (strncmp(target, buf_cstr(&b), b.len) == 0) {
        url = xstrdup(target);
      }
      buf_cleanup(&b);
      free(target);
      return url;
    }
    p = end ? end + 1 : NULL;
  }
  return NULL;
}

/* A tag as the distribution spec allows it: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * (anything else a registry sends is dropped, not shown in an editor). */
static bool registry__tag_ok(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

int registry_tags(struct registry *self, const struct ref *ref, unsigned page,
                  registry_tags_fn cb, void *ctx, struct err *err) {
  int rc;
  struct registry__host *h = registry__host(self, ref_api_host(ref), err, &rc);
  if (h == NULL)
    return rc;
  struct buf scope = BUF_INIT;
  buf_printf(&scope, "repository:%s:pull", ref->path);
  struct buf first = BUF_INIT;
  buf_printf(&first, "%s://%s/v2/%s/tags/list", h->scheme, h->host, ref->path);
  if (page > 0)
    buf_printf(&first, "?n=%u", page);
  char *url = buf_take(&first);
  size_t total = 0;
  for (unsigned pages = 0;
       url && rc == 0 && pages < DW_MAX_TAG_PAGES && total < DW_MAX_TAGS;
       pages++) {
    struct registry__call c;
    registry__call_init(&c, h, "GET", url);
    free(url);
    url = NULL;
    c.accept = "application/json";
    c.req.max_body = DW_MAX_TAG_PAGE_BYTES;
    struct registry__call *cs[] = {&c};
    rc = registry__send(self, h, scope.data, cs, 1, err);
    if (rc == 0 && c.req.status != 200) {
      struct buf why = BUF_INIT;
      registry__explain(&why, &c.req);
      rc = err_set(err, c.req.status == 404 ? ERR_NOTFOUND : ERR_NETWORK,
                   "tags of %s/%s: %s", h->host, ref->path, why.data);
      buf_cleanup(&why);
    }
    json_object *o = NULL, *tags = NULL;
    if (rc == 0) {
      o = json_tokener_parse(c.req.body.data ? c.req.body.data : "");
      if (!json_object_object_get_ex(o, "tags", &tags) ||
          !(json_object_is_type(tags, json_type_array) ||
            json_object_is_type(tags, json_type_null)))
        rc = err_set(err, ERR_SYNTAX,
                     "tags of %s/%s: the reply has no \"tags\" list", h->host,
                     ref->path);
    }
    if (rc == 0) {
      size_t n = json_object_is_type(tags, json_type_array)
                     ? json_object_array_length(tags)
                     : 0;
      const char **v = xcalloc(n ? n : 1, sizeof(*v));
      size_t m = 0;
      for (size_t i = 0; i < n && total + m < DW_MAX_TAGS; i++) {
        json_object *t = json_object_array_get_idx(tags, i);
        if (json_object_is_type(t, json_type_string) &&
            registry__tag_ok(json_object_get_string(t)))
          v[m++] = json_object_get_string(t);
      }
      total += m;
      cb(ctx, v, m);
      free(v);
      if (c.req.link)
        url = registry__next_link(h, c.req.link);
    }
    json_object_put(o);
    http_req_cleanup(&c.req);
  }
  free(url);
  buf_cleanup(&scope);
  return rc;
}
