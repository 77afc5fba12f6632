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
#include "retry.h"

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
  unsigned max_uploads, max_downloads; /* 0: 4 */
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

void registry_set_concurrency(struct registry *self, unsigned uploads,
                              unsigned downloads) {
  self->max_uploads = uploads;
  self->max_downloads = downloads;
}

/* Where a blob is: best effort (a push without it only uploads more). */
static void registry__remember(struct registry *self,
                               const struct registry__host *h,
                               const char *path, const char *digest) {
  struct buf repo = BUF_INIT;
  struct err e;
  buf_printf(&repo, "%s/%s", h->host, path);
  if (store_source_add(self->store, digest, repo.data, &e) < 0)
    registry__log(self, "cannot note where %.19s is: %s", digest, e.msg);
  buf_cleanup(&repo);
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

/* The part of a URL after the host, for log lines. */
static const char *registry__url_path(const char *url) {
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  return p ? p : url;
}

/* Sends one request without auth, again after a backoff while it fails
 * for a transient reason (a token service's 503, a dropped download of
 * ADD <url>); a sink starts over from its first byte. */
static int registry__run_retried(struct registry *self, struct http_req *r,
                                 struct err *err) {
  struct retry rt;
  retry_init(&rt);
  for (;;) {
    int rc = http_run(self->http, (struct http_req *[]){r}, 1, err);
    if (rc < 0)
      return rc;
    if (!retry_transient(r))
      break;
    int64_t wait = retry_next(&rt, r);
    if (wait < 0)
      break;
    char why[200];
    retry_describe(r, why, sizeof(why));
    registry__log(self, "%s %s: %s; retrying in %.1f s", r->method,
                  registry__url_path(r->url), why, (double)wait / 1000.0);
    if (!retry_sleep((uint64_t)wait, self->cancel))
      return err_set(err, ERR_CANCELLED, "cancelled");
    if (r->sink && (rc = store_writer_rewind(r->sink, err)) < 0)
      return rc;
  }
  if (r->result < 0)
    return err_set(err, r->result, "%s %s: %s", r->method, r->url, r->error);
  return 0;
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
   * and only when TLS failed for a reason other than the certificate.
   * A loopback registry without a certs.d CA is asked over http first: a
   * failed TLS attempt costs loading the system CA bundle (~30 ms, most
   * of a re-push), and a TLS registry answers plain http with a 400, so
   * https is tried next. */
  bool http_first = loop && h.ca_file == NULL;
  const char *schemes[] = {http_first ? "http" : "https",
                           http_first ? "https" : "http"};
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
    if (strcmp(schemes[i], "https") == 0 && (cert_problem || status != 0))
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
  /* One scope= per scope (a mount also asks pull on its source); none
   * for a login, which only checks the credentials. */
  const char *sp = scope;
  while (*sp) {
    size_t len = strcspn(sp, " ");
    char *one = xstrndup(sp, len);
    buf_puts(&url, "scope=");
    registry__url_escape(&url, one);
    buf_putc(&url, '&');
    free(one);
    sp += len;
    while (*sp == ' ')
      sp++;
  }
  if (url.len &&
      (url.data[url.len - 1] == '&' || url.data[url.len - 1] == '?'))
    url.data[--url.len] = '\0';
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
  rc = registry__run_retried(self, &r, err);
  if (rc == 0 && r.status == 401 && h->has_cred)
    rc = err_set(err, ERR_AUTH,
                 "registry %s: the token service refused the credentials "
                 "(HTTP 401)",
                 h->host);
  else if (rc == 0 && r.status != 200)
    rc = err_set(err, ERR_AUTH,
                 "token request for %s (%s) failed: HTTP "
                 "%ld",
                 h->host, scope[0] ? scope : "login", r.status);
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
  bool no_retry;     /* the caller recovers from transient failures */
  unsigned tries;    /* sends so far */
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
                     "credentials were found: dockwright login %s",
                     h->host, h->host);
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
  if (c->req.range_from > 0) {
    char range[64];
    snprintf(range, sizeof(range), "Range: bytes=%llu-",
             (unsigned long long)c->req.range_from);
    http_req_header(&c->req, range);
  }
  if (auth)
    http_req_header(&c->req, auth);
}

static void registry__wipe_headers(struct registry__call *c) {
  /* The header list holds the secret: rebuild it without. */
  registry__set_headers(c, NULL);
}

/* Rewinds a download's sink to its first byte (a new token, a new try
 * from zero). */
static int registry__rewind(struct registry__call *c, struct err *err) {
  c->req.range_from = 0;
  if (c->req.sink == NULL)
    return 0;
  return store_writer_rewind(c->req.sink, err);
}

/* Sends calls with auth: answers one round of 401s (the challenge may
 * come only now, or a token expired), and sends again, after a backoff,
 * the calls that failed for a transient reason (retry.h) unless they are
 * `no_retry` (their caller recovers: blob uploads).  A download into a
 * sink resumes where it stopped (Range).  Returns an error for transport
 * failures of retried calls and for refused credentials; the HTTP status
 * of every call is left to the caller. */
static int registry__send(struct registry *self, struct registry__host *h,
                          const char *scope, struct registry__call **calls,
                          size_t n, struct err *err) {
  char *auth = NULL;
  int rc = registry__auth_line(self, h, scope, false, &auth, err);
  if (rc < 0)
    return rc;
  struct http_req **reqs = xcalloc(n ? n : 1, sizeof(*reqs));
  struct registry__call **todo = xcalloc(n ? n : 1, sizeof(*todo));
  memcpy(todo, calls, n * sizeof(*todo));
  size_t ntodo = n;
  bool reauthed = false;
  struct retry rt;
  retry_init(&rt);
  while (ntodo > 0) {
    for (size_t i = 0; i < ntodo; i++) {
      registry__set_headers(todo[i], auth);
      todo[i]->tries++;
      reqs[i] = &todo[i]->req;
    }
    rc = http_run(self->http, reqs, ntodo, err);
    if (rc < 0)
      break;
    struct registry__call *denied = NULL;
    for (size_t i = 0; i < ntodo && denied == NULL; i++)
      if (todo[i]->req.result == 0 && todo[i]->req.status == 401)
        denied = todo[i];
    if (denied && !reauthed) {
      /* Learn the challenge (a registry may ask only now) and answer it
       * once; the transient failures of this round go again with it. */
      reauthed = true;
      if (denied->req.www_authenticate) {
        struct auth_challenge ch;
        struct err e2;
        if (auth_parse_challenge(denied->req.www_authenticate, &ch, &e2) ==
            0) {
          auth_challenge_cleanup(&h->chal);
          h->chal = ch;
        }
      }
      if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
        auth = NULL;
      }
      if (h->chal.scheme == NULL)
        rc = err_set(err, ERR_AUTH,
                     "registry %s answered 401 without a "
                     "challenge",
                     h->host);
      else
        rc = registry__auth_line(self, h, scope, true, &auth, err);
      size_t m = 0;
      for (size_t i = 0; rc == 0 && i < ntodo; i++) {
        struct registry__call *c = todo[i];
        if (c->req.result == 0 && c->req.status == 401) {
          rc = registry__rewind(c, err);
          todo[m++] = c;
        } else if (!c->no_retry && retry_transient(&c->req)) {
          if (c->req.sink)
            c->req.range_from = c->req.sink->size;
          todo[m++] = c;
        }
      }
      if (rc < 0)
        break;
      ntodo = m;
      continue;
    }
    size_t m = 0;
    for (size_t i = 0; i < ntodo; i++)
      if (!todo[i]->no_retry && retry_transient(&todo[i]->req))
        todo[m++] = todo[i];
    if (m == 0)
      break;
    int64_t wait = retry_next(&rt, &todo[0]->req);
    if (wait < 0)
      break; /* reported below */
    char why[200];
    retry_describe(&todo[0]->req, why, sizeof(why));
    registry__log(self, "%s %s: %s; retrying in %.1f s", todo[0]->req.method,
                  registry__url_path(todo[0]->req.url), why,
                  (double)wait / 1000.0);
    if (!retry_sleep((uint64_t)wait, self->cancel)) {
      rc = err_set(err, ERR_CANCELLED, "cancelled");
      break;
    }
    for (size_t i = 0; i < m; i++)
      if (todo[i]->req.sink)
        todo[i]->req.range_from = todo[i]->req.sink->size;
    ntodo = m;
  }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    struct registry__call *c = calls[i];
    if (c->req.result < 0 && !(c->no_retry && retry_transient(&c->req)))
      rc =
          err_set(err, c->req.result, "%s %s%s: %s", c->req.method, c->req.url,
                  c->tries > 1 ? " (after retries)" : "", c->req.error);
    else if (c->req.result == 0 && c->req.status == 401)
      rc = h->has_cred
               ? err_set(err, ERR_AUTH,
                         "registry %s refused the credentials for %s "
                         "(HTTP 401)",
                         h->host, scope)
               : err_set(err, ERR_AUTH,
                         "registry %s needs credentials for %s (HTTP 401) "
                         "and none were found: dockwright login %s",
                         h->host, scope, h->host);
  }
  for (size_t i = 0; i < n; i++)
    registry__wipe_headers(calls[i]);
  if (auth) {
    memset(auth, 0, strlen(auth));
    free(auth);
  }
  free(todo);
  free(reqs);
  return rc;
}

/* The OCI error codes (distribution spec, "Error Codes") we name, with our
 * code and what the user can do about it. */
#define REGISTRY_ERROR_MAP(X)                                                 \
  X("UNAUTHORIZED", ERR_AUTH,                                                 \
    "not logged in, or the login was refused: "                               \
    "dockwright login")                                                       \
  X("DENIED", ERR_AUTH,                                                       \
    "these credentials may not do this to this "                              \
    "repository")                                                             \
  X("NAME_UNKNOWN", ERR_NOTFOUND, "no such repository on this registry")      \
  X("NAME_INVALID", ERR_INVALID, "the registry refuses this repository name") \
  X("MANIFEST_UNKNOWN", ERR_NOTFOUND, "no such tag or manifest")              \
  X("MANIFEST_INVALID", ERR_INVALID, "the registry refused the manifest")     \
  X("MANIFEST_BLOB_UNKNOWN", ERR_INVALID,                                     \
    "the manifest names a blob the registry does not have")                   \
  X("BLOB_UNKNOWN", ERR_NOTFOUND, "the registry does not have this blob")     \
  X("BLOB_UPLOAD_UNKNOWN", ERR_NETWORK, "the upload session is gone")         \
  X("BLOB_UPLOAD_INVALID", ERR_NETWORK, "the upload session is broken")       \
  X("DIGEST_INVALID", ERR_DIGEST, "the content does not match its digest")    \
  X("SIZE_INVALID", ERR_INVALID, "the content does not match its size")       \
  X("TOOMANYREQUESTS", ERR_NETWORK, "rate limited by the registry")           \
  X("UNSUPPORTED", ERR_UNSUPPORTED, "the registry does not support this")

/* The first {"errors":[{"code","message"}]} entry of r's body (copies,
 * bounded). */
static void registry__oci_error(const struct http_req *r, char *code,
                                size_t ncode, char *msg, size_t nmsg) {
  code[0] = msg[0] = '\0';
  json_object *o = r->body.data ? json_tokener_parse(r->body.data) : NULL;
  json_object *errs;
  if (o && json_object_object_get_ex(o, "errors", &errs) &&
      json_object_is_type(errs, json_type_array) &&
      json_object_array_length(errs) > 0) {
    json_object *e0 = json_object_array_get_idx(errs, 0), *c, *m;
    if (json_object_object_get_ex(e0, "code", &c) &&
        json_object_is_type(c, json_type_string))
      snprintf(code, ncode, "%.60s", json_object_get_string(c));
    if (json_object_object_get_ex(e0, "message", &m) &&
        json_object_is_type(m, json_type_string))
      snprintf(msg, nmsg, "%.200s", json_object_get_string(m));
  }
  json_object_put(o);
}

/* Fails with what the registry answered to `what` (e.g. "push blob
 * sha256:..."), naming the registry and the repository: the OCI error
 * code picks our code and a hint. */
static int registry__fail(struct err *err, const struct registry__host *h,
                          const char *path, const char *what,
                          const struct registry__call *c) {
  const struct http_req *r = &c->req;
  if (r->result < 0)
    return err_set(err, r->result, "%s in %s/%s: %s%s", what, h->host, path,
                   r->error, c->tries > 1 ? " (retries exhausted)" : "");
  char code[64], msg[208];
  registry__oci_error(r, code, sizeof(code), msg, sizeof(msg));
  int ec = r->status == 401 || r->status == 403 ? ERR_AUTH
           : r->status == 404                   ? ERR_NOTFOUND
                                                : ERR_NETWORK;
  const char *hint = NULL;
#define REGISTRY__PICK(name, ourcode, text)                                   \
  if (hint == NULL && strcmp(code, name) == 0) {                              \
    ec = ourcode;                                                             \
    hint = text;                                                              \
  }
  REGISTRY_ERROR_MAP(REGISTRY__PICK)
#undef REGISTRY__PICK
  /* A HEAD has no body: the status alone speaks. */
  if (hint == NULL && r->status == 401)
    hint = "not logged in, or the login was refused: dockwright login";
  if (hint == NULL && r->status == 403)
    hint = "denied: these credentials may not do this to this repository";
  if (hint == NULL && r->status == 429)
    hint = "rate limited by the registry";
  struct buf b = BUF_INIT;
  if (path[0])
    buf_printf(&b, "%s in %s/%s: ", what, h->host, path);
  else
    buf_printf(&b, "%s at %s: ", what, h->host);
  if (code[0])
    buf_printf(&b, "%s", code);
  else
    buf_printf(&b, "HTTP %ld", r->status);
  if (msg[0])
    buf_printf(&b, " (%s)", msg);
  if (hint)
    buf_printf(&b, ": %s", hint);
  if (code[0])
    buf_printf(&b, " [HTTP %ld]", r->status);
  if (c->tries > 1 && retry_transient(r))
    buf_printf(&b, " after %u tries", c->tries);
  int rc = err_set(err, ec, "%s", b.data);
  buf_cleanup(&b);
  return rc;
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
    struct buf what = BUF_INIT;
    buf_printf(&what, "get manifest %.80s", reference);
    rc = registry__fail(err, h, path, what.data, &c);
    buf_cleanup(&what);
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
  if (rc == 0 && m) {
    http_set_max_connections(self->http,
                             self->max_downloads ? self->max_downloads : 4);
    rc = registry__send(self, h, scope.data, calls, m, err);
  }
  for (size_t i = 0; i < m; i++) {
    struct registry__dl *x = &dl[i];
    if (rc == 0 && x->call.req.status != 200 && x->call.req.status != 206) {
      struct buf what = BUF_INIT;
      buf_printf(&what, "get blob %s", x->d->digest);
      rc = registry__fail(err, h, path, what.data, &x->call);
      buf_cleanup(&what);
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
  /* Remember where the blobs are, for a later push to mount them. */
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (store_blob_exists(self->store, ds[i].digest))
      registry__remember(self, h, path, ds[i].digest);
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

int registry_login(struct registry *self, const char *host,
                   const struct auth_cred *cred, bool *needed,
                   struct err *err) {
  *needed = false;
  int rc;
  struct registry__host *h = registry__host(self, host, err, &rc);
  if (h == NULL)
    return rc;
  /* These credentials, not the stored ones. */
  auth_cred_cleanup(&h->cred);
  h->cred.username = xstrdup(cred->username);
  h->cred.secret = xstrdup(cred->secret);
  h->cred_loaded = h->has_cred = true;
  if (h->chal.scheme == NULL)
    return 0; /* GET /v2/ answered 200 without credentials */
  *needed = true;
  if (strcmp(h->chal.scheme, "bearer") == 0) {
    const char *hdr;
    return registry__token(self, h, "", true, &hdr, err);
  }
  if (strcmp(h->chal.scheme, "basic") != 0)
    return err_set(err, ERR_UNSUPPORTED,
                   "registry %s asks for auth scheme \"%.40s\"", h->host,
                   h->chal.scheme);
  struct buf url = BUF_INIT;
  buf_printf(&url, "%s://%s/v2/", h->scheme, h->host);
  struct registry__call c;
  registry__call_init(&c, h, "GET", url.data);
  buf_cleanup(&url);
  char *line = auth_basic_header(&h->cred);
  registry__set_headers(&c, line);
  memset(line, 0, strlen(line));
  free(line);
  rc = registry__run(self, (struct http_req *[]){&c.req}, 1, err);
  registry__wipe_headers(&c);
  if (rc == 0 && c.req.status == 401)
    rc = err_set(err, ERR_AUTH,
                 "registry %s refused the credentials "
                 "(HTTP 401)",
                 h->host);
  else if (rc == 0 && c.req.status != 200)
    rc = registry__fail(err, h, "", "login", &c);
  http_req_cleanup(&c.req);
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
  rc = registry__run_retried(self, &r, err);
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
    if (rc == 0 && c.req.status != 200)
      rc = registry__fail(err, h, ref->path, "list tags", &c);
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
