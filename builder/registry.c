/*
 * registry.c - pull and push over the OCI distribution API.
 *
 * DESIGN: every call goes through registry__send, which adds the
 * Authorization header for the host and scope, runs a batch on the
 * http engine, and on a 401 answers the challenge (fetching a Bearer token
 * or switching to Basic) and sends the failed requests once more.  Hosts
 * are pinged once (GET /v2/) to pick the scheme and learn the challenge.
 * This file is the client (hosts, auth, tokens, sending, errors, login);
 * registry_pull.c and registry_push.c are the two directions
 * (registry_int.h is what they share).
 */
#include "registry.h"
#include "registry_int.h"

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

void registry__log(struct registry *self, const char *fmt, ...) {
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

void registry__prog_init(struct registry__prog *p, struct registry *self,
                         const char *verb, const char *digest,
                         uint64_t total) {
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

void registry__prog_attach(struct http_req *r, struct registry__prog *p) {
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
void registry__remember(struct registry *self, const struct registry__host *h,
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
int registry__run_retried(struct registry *self, struct http_req *r,
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

struct registry__host *registry__host(struct registry *self, const char *host,
                                      struct err *err, int *rc) {
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

void registry__url_escape(struct buf *b, const char *s) {
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

void registry__call_init(struct registry__call *c, struct registry__host *h,
                         const char *method, const char *url) {
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
int registry__send(struct registry *self, struct registry__host *h,
                   const char *scope, struct registry__call **calls, size_t n,
                   struct err *err) {
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
int registry__fail(struct err *err, const struct registry__host *h,
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

char *registry__url(const struct registry__host *h, const char *path,
                    const char *what, const char *ref) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s://%s/v2/%s/%s/%s", h->scheme, h->host, path, what, ref);
  return buf_take(&b);
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
