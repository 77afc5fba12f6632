/*
 * http.c - curl multi on libuv.  The pattern is libuv's: curl tells us
 * which sockets to watch (socket callback) and when to wake (timer
 * callback); we tell curl what happened (curl_multi_socket_action).
 */
#include "http.h"

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../common/ceilings.h"

struct http {
  const char *const *env; /* proxies come from here when set */
  size_t nenv;
  bool has_env;
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;
  const atomic_bool *cancel;
  size_t active;
  long timeout_ms; /* every transfer's limit; 0: none */
};

struct http__sock {
  uv_poll_t poll;
  curl_socket_t fd;
  struct http *h;
};

static void http__sock_closed(uv_handle_t *h) {
  free(h->data);
}

static void http__check_done(struct http *self) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(self->multi, &left)) != NULL) {
    if (m->msg != CURLMSG_DONE)
      continue;
    struct http_req *r = NULL;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    CURLcode cc = m->data.result;
    curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &r->status);
    r->curl_code = (int)cc;
    if (cc == CURLE_OK) {
      /* keep result as set by callbacks (0 unless a sink failed) */
    } else if (r->result != 0) {
      /* a callback already recorded why it stopped */
    } else if (cc == CURLE_ABORTED_BY_CALLBACK && self->cancel &&
               atomic_load(self->cancel)) {
      r->result = ERR_CANCELLED;
      snprintf(r->error, sizeof(r->error), "cancelled");
    } else {
      r->result = ERR_NETWORK;
      if (r->error[0] == '\0')
        snprintf(r->error, sizeof(r->error), "%s", curl_easy_strerror(cc));
    }
    curl_multi_remove_handle(self->multi, m->easy_handle);
    r->in_batch = false;
    self->active--;
  }
}

static void http__poll_cb(uv_poll_t *p, int status, int events) {
  struct http__sock *c = p->data;
  int flags = 0;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    flags |= CURL_CSELECT_OUT;
  int running;
  struct http *h = c->h;
  curl_multi_socket_action(h->multi, c->fd, flags, &running);
  http__check_done(h);
}

static void http__timer_cb(uv_timer_t *t) {
  struct http *h = t->data;
  int running;
  curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  http__check_done(h);
}

static int http__socket_fn(CURL *e, curl_socket_t s, int what, void *userp,
                           void *socketp) {
  struct http *h = userp;
  struct http__sock *c = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (c) {
      uv_poll_stop(&c->poll);
      uv_close((uv_handle_t *)&c->poll, http__sock_closed);
      curl_multi_assign(h->multi, s, NULL);
    }
    return 0;
  }
  if (c == NULL) {
    c = xcalloc(1, sizeof(*c));
    c->fd = s;
    c->h = h;
    c->poll.data = c;
    if (uv_poll_init_socket(h->loop, &c->poll, s) != 0) {
      free(c);
      return -1;
    }
    curl_multi_assign(h->multi, s, c);
  }
  int ev = 0;
  if (what & CURL_POLL_IN)
    ev |= UV_READABLE;
  if (what & CURL_POLL_OUT)
    ev |= UV_WRITABLE;
  uv_poll_start(&c->poll, ev, http__poll_cb);
  return 0;
}

static int http__timer_fn(CURLM *m, long timeout_ms, void *userp) {
  struct http *h = userp;
  if (timeout_ms < 0)
    uv_timer_stop(&h->timer);
  else
    uv_timer_start(&h->timer, http__timer_cb, (uint64_t)timeout_ms, 0);
  return 0;
}

void http_set_max_connections(struct http *self, long n) {
  curl_multi_setopt(self->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                    n > 0 ? n : 6L);
}

void http_set_env(struct http *self, const char *const *env, size_t n) {
  self->env = env;
  self->nenv = n;
  self->has_env = true;
}

void http_set_timeout(struct http *self, unsigned ms) {
  self->timeout_ms = (long)ms;
}

/* curl's own choice of variables: plain http only from the lower-case
 * name (an upper-case HTTP_PROXY can be set by a CGI request header). */
static void http__proxy(const struct http *self, CURL *e, const char *url) {
  const char *const *v = self->env;
  size_t n = self->nenv;
  const char *p = NULL;
  if (strncmp(url, "https:", 6) == 0) {
    p = strv_getenv(v, n, "https_proxy");
    if (p == NULL)
      p = strv_getenv(v, n, "HTTPS_PROXY");
  } else {
    p = strv_getenv(v, n, "http_proxy");
  }
  if (p == NULL)
    p = strv_getenv(v, n, "all_proxy");
  if (p == NULL)
    p = strv_getenv(v, n, "ALL_PROXY");
  /* "" turns proxies off, the process environment included. */
  curl_easy_setopt(e, CURLOPT_PROXY, p ? p : "");
  const char *np = strv_getenv(v, n, "no_proxy");
  if (np == NULL)
    np = strv_getenv(v, n, "NO_PROXY");
  if (np)
    curl_easy_setopt(e, CURLOPT_NOPROXY, np);
}

int http_new(uv_loop_t *loop, const atomic_bool *cancel, struct http **out,
             struct err *err) {
  *out = NULL;
  static atomic_bool inited = false;
  bool expect = false;
  if (atomic_compare_exchange_strong(&inited, &expect, true))
    curl_global_init(CURL_GLOBAL_DEFAULT);
  struct http *h = xcalloc(1, sizeof(*h));
  h->loop = loop;
  h->cancel = cancel;
  h->multi = curl_multi_init();
  if (h->multi == NULL) {
    free(h);
    return err_set(err, ERR_INTERNAL, "curl_multi_init failed");
  }
  uv_timer_init(loop, &h->timer);
  h->timer.data = h;
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http__socket_fn);
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http__timer_fn);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
  curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 6L);
  *out = h;
  return 0;
}

static void http__timer_closed(uv_handle_t *t) {
  (void)t;
}

void http_free(struct http *self) {
  if (self == NULL)
    return;
  /* curl_multi_cleanup calls the socket callback with REMOVE for live
   * sockets, which closes their polls. */
  curl_multi_cleanup(self->multi);
  uv_close((uv_handle_t *)&self->timer, http__timer_closed);
  uv_run(self->loop, UV_RUN_NOWAIT);
  uv_run(self->loop, UV_RUN_NOWAIT);
  free(self);
}

void http_req_init(struct http_req *r, const char *method, const char *url) {
  memset(r, 0, sizeof(*r));
  r->method = method;
  r->url = xstrdup(url);
  r->upload_fd = -1;
  r->content_length = -1;
}

void http_req_header(struct http_req *r, const char *line) {
  struct curl_slist *n = curl_slist_append(r->headers, line);
  if (n == NULL) {
    fputs("dockwright: out of memory (curl_slist)\n", stderr);
    abort();
  }
  r->headers = n;
}

void http_req_reset(struct http_req *r) {
  buf_cleanup(&r->body);
  free(r->location);
  free(r->www_authenticate);
  free(r->content_type);
  free(r->docker_digest);
  free(r->retry_after);
  free(r->range);
  free(r->link);
  r->link = NULL;
  r->location = r->www_authenticate = r->content_type = r->docker_digest =
      NULL;
  r->retry_after = r->range = NULL;
  r->status = 0;
  r->result = 0;
  r->curl_code = 0;
  r->error[0] = '\0';
  r->received = 0;
  r->content_length = -1;
}

void http_req_cleanup(struct http_req *r) {
  http_req_reset(r);
  free(r->url);
  r->url = NULL;
  curl_slist_free_all(r->headers);
  r->headers = NULL;
  if (r->easy)
    curl_easy_cleanup(r->easy);
  r->easy = NULL;
}

static char *http__trim_dup(const char *s, size_t n) {
  while (n && (s[0] == ' ' || s[0] == '\t')) {
    s++;
    n--;
  }
  while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' '))
    n--;
  return xstrndup(s, n);
}

static size_t http__header_fn(char *data, size_t size, size_t nitems,
                              void *userp) {
  struct http_req *r = userp;
  size_t n = size * nitems;
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    /* A new response (after a redirect or 100): forget earlier headers. */
    free(r->location);
    free(r->www_authenticate);
    free(r->content_type);
    free(r->docker_digest);
    free(r->retry_after);
    free(r->range);
    free(r->link);
    r->link = NULL;
    r->location = r->www_authenticate = r->content_type = r->docker_digest =
        NULL;
    r->retry_after = r->range = NULL;
    r->content_length = -1;
    return n;
  }
  const char *colon = memchr(data, ':', n);
  if (colon == NULL)
    return n;
  size_t kn = (size_t)(colon - data);
  const char *v = colon + 1;
  size_t vn = n - kn - 1;
  char **slot = NULL;
  if (kn == 8 && strncasecmp(data, "location", 8) == 0)
    slot = &r->location;
  else if (kn == 16 && strncasecmp(data, "www-authenticate", 16) == 0)
    slot = &r->www_authenticate;
  else if (kn == 12 && strncasecmp(data, "content-type", 12) == 0)
    slot = &r->content_type;
  else if (kn == 21 && strncasecmp(data, "docker-content-digest", 21) == 0)
    slot = &r->docker_digest;
  else if (kn == 11 && strncasecmp(data, "retry-after", 11) == 0)
    slot = &r->retry_after;
  else if (kn == 5 && strncasecmp(data, "range", 5) == 0)
    slot = &r->range;
  else if (kn == 4 && strncasecmp(data, "link", 4) == 0)
    slot = &r->link;
  else if (kn == 14 && strncasecmp(data, "content-length", 14) == 0) {
    char *s = http__trim_dup(v, vn);
    r->content_length = strtoll(s, NULL, 10);
    free(s);
  }
  if (slot && *slot == NULL) /* first challenge wins */
    *slot = http__trim_dup(v, vn);
  return n;
}

static size_t http__write_fn(char *data, size_t size, size_t nmemb,
                             void *userp) {
  struct http_req *r = userp;
  size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  r->received += n;
  if (r->sink && status >= 200 && status < 300) {
    uint64_t max = r->sink_max ? r->sink_max : DW_MAX_BLOB_BYTES;
    struct err e;
    err_clear(&e);
    if (r->range_from > 0 && status != 206 && r->received == n &&
        store_writer_rewind(r->sink, &e) < 0) {
      r->result = e.code;
      snprintf(r->error, sizeof(r->error), "%.200s", e.msg);
      return 0;
    }
    if (r->sink->size + n > max) {
      r->result = ERR_TOOBIG;
      snprintf(r->error, sizeof(r->error), "body larger than %llu bytes",
               (unsigned long long)max);
      return 0;
    }
    if (store_writer_write(r->sink, data, n, &e) < 0) {
      r->result = e.code;
      snprintf(r->error, sizeof(r->error), "%.200s", e.msg);
      return 0;
    }
    return n;
  }
  size_t max = r->max_body ? r->max_body : DW_MAX_ERROR_BODY_BYTES;
  if (r->body.len + n > max) {
    r->result = ERR_TOOBIG;
    snprintf(r->error, sizeof(r->error), "response larger than %zu bytes",
             max);
    return 0;
  }
  buf_append(&r->body, data, n);
  return n;
}

static size_t http__read_fn(char *out, size_t size, size_t nitems,
                            void *userp) {
  struct http_req *r = userp;
  size_t want = size * nitems;
  if (r->upload_fd >= 0) {
    uint64_t left = r->upload_size - r->upload_off;
    if (want > left)
      want = (size_t)left;
    if (want == 0)
      return 0;
    ssize_t got = pread(r->upload_fd, out, want, (off_t)r->upload_off);
    if (got < 0)
      return CURL_READFUNC_ABORT;
    r->upload_off += (uint64_t)got;
    return (size_t)got;
  }
  uint64_t left = r->upload_len - r->upload_off;
  if (want > left)
    want = (size_t)left;
  memcpy(out, (const char *)r->upload + r->upload_off, want);
  r->upload_off += want;
  return want;
}

static int http__xfer_fn(void *userp, curl_off_t dltotal, curl_off_t dlnow,
                         curl_off_t ultotal, curl_off_t ulnow) {
  struct http_req *r = userp;
  if (r->owner->cancel && atomic_load(r->owner->cancel))
    return 1;
  if (r->progress) {
    if (ultotal > 0)
      r->progress(r->progress_ctx, (uint64_t)ulnow, (uint64_t)ultotal);
    else if (dltotal > 0)
      r->progress(r->progress_ctx, r->range_from + (uint64_t)dlnow,
                  r->range_from + (uint64_t)dltotal);
  }
  return 0;
}

/* Adds the certs.d CA to OpenSSL's store next to the system CAs (curl's
 * CAINFO would replace them). */
static CURLcode http__ssl_ctx_fn(CURL *curl, void *sslctx, void *userp) {
  const char *file = userp;
  FILE *f = fopen(file, "r");
  if (f == NULL)
    return CURLE_SSL_CACERT_BADFILE;
  X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)sslctx);
  X509 *x;
  int added = 0;
  while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
    if (X509_STORE_add_cert(store, x) == 1)
      added++;
    X509_free(x);
  }
  fclose(f);
  return added ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

static int http__prepare(struct http *self, struct http_req *r,
                         struct err *err) {
  if (r->easy == NULL)
    r->easy = curl_easy_init();
  else
    curl_easy_reset(r->easy);
  CURL *e = r->easy;
  if (e == NULL)
    return err_set(err, ERR_INTERNAL, "curl_easy_init failed");
  http_req_reset(r);
  r->owner = self;
  r->upload_off = r->upload_fd >= 0 ? r->upload_off : 0;
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  if (self->has_env)
    http__proxy(self, e, r->url);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "dockwright/0.1");
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http__header_fn);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http__write_fn);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, http__xfer_fn);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
  if (self->timeout_ms > 0)
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, self->timeout_ms);
  /* Stalled transfers end: under 1 byte/s for 60 s. */
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  if (r->follow) {
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  }
  if (r->tls_noverify) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (r->ca_file) {
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, http__ssl_ctx_fn);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, (void *)r->ca_file);
  }
  if (strcmp(r->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (strcmp(r->method, "GET") != 0) {
    bool has_body = r->upload_fd >= 0 || r->upload != NULL;
    uint64_t size =
        r->upload_fd >= 0 ? r->upload_size - r->upload_off : r->upload_len;
    if (strcmp(r->method, "PUT") == 0 || has_body) {
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, http__read_fn);
      curl_easy_setopt(e, CURLOPT_READDATA, r);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                       (curl_off_t)(has_body ? size : 0));
    }
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    if (strcmp(r->method, "POST") == 0 && !has_body) {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    }
  }
  return 0;
}

int http_run(struct http *self, struct http_req **reqs, size_t n,
             struct err *err) {
  for (size_t i = 0; i < n; i++) {
    int rc = http__prepare(self, reqs[i], err);
    if (rc < 0)
      return rc;
  }
  for (size_t i = 0; i < n; i++) {
    reqs[i]->in_batch = true;
    curl_multi_add_handle(self->multi, reqs[i]->easy);
    self->active++;
  }
  while (self->active > 0)
    uv_run(self->loop, UV_RUN_ONCE);
  if (self->cancel && atomic_load(self->cancel))
    return err_set(err, ERR_CANCELLED, "cancelled");
  return 0;
}
