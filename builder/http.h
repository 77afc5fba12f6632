/*
 * http.h - HTTP transfers on a libuv loop: one curl multi handle driven by
 * uv_poll (CURLMOPT_SOCKETFUNCTION) and a uv_timer (CURLMOPT_TIMERFUNCTION).
 *
 * DESIGN: the builder thread owns a loop and an http.  http_run adds a
 * batch of requests and runs the loop until all of them end, so callers
 * write straight-line code while transfers in a batch run in parallel
 * (layers of one image download together).  Cancellation is an atomic
 * flag read by curl's progress callback; a cancelled transfer ends with
 * ERR_CANCELLED.
 *
 * Response bodies: a 2xx body goes to `sink` when one is set (hashed and
 * written as it streams); anything else is kept in `body` up to `max_body`
 * bytes (ERR_TOOBIG past it).
 *
 * Ownership: requests belong to the caller; http_run borrows them until it
 * returns.  Result fields are owned by the request (http_req_cleanup).
 */
#ifndef DW_HTTP_H
#define DW_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "store.h"

struct http;

typedef void (*http_progress_fn)(void *ctx, uint64_t now, uint64_t total);

struct http_req {
  /* in (set by the caller; borrowed unless marked owned) */
  const char *method;         /* "GET", "HEAD", "PUT", "POST", "PATCH" */
  char *url;                  /* owned */
  struct curl_slist *headers; /* owned */
  const char *ca_file;        /* extra CA bundle (certs.d/.../ca.crt) */
  bool tls_noverify;          /* --insecure-registry */
  bool follow;                /* follow redirects (GET/HEAD only) */
  const void *upload;         /* request body in memory ... */
  size_t upload_len;
  int upload_fd; /* ... or from a file (when >= 0) */
  uint64_t upload_off, upload_size;
  size_t max_body;           /* 0: DW_MAX_ERROR_BODY_BYTES */
  struct store_writer *sink; /* 2xx body goes here when set */
  uint64_t sink_max;         /* 0: DW_MAX_BLOB_BYTES */
  uint64_t range_from;       /* the caller asked for bytes range_from- (a
                                resumed download): a 206 body is appended
                                to the sink, a 200 (the server ignored the
                                range) rewinds it first */
  http_progress_fn progress;
  void *progress_ctx;

  /* out (owned by the request) */
  long status;
  struct buf body;
  char *location;
  char *www_authenticate;
  char *content_type;
  char *docker_digest;
  char *retry_after;      /* Retry-After (429, 503) */
  char *range;            /* Range (an upload's status: "0-N") */
  char *link;             /* the first Link header (pagination) */
  int64_t content_length; /* -1 when absent */
  int result;             /* 0, ERR_NETWORK, ERR_TOOBIG, ... */
  int curl_code;          /* CURLcode, for the TLS fallback */
  char error[256];

  /* private */
  void *easy;
  struct http *owner;
  uint64_t received;
  bool in_batch;
};

int http_new(uv_loop_t *loop, const atomic_bool *cancel, struct http **out,
             struct err *err) DW_WARN_UNUSED;
/* Closes every handle and runs the loop until they are closed. */
void http_free(struct http *self);
/* Takes the proxy settings (http_proxy, https_proxy / HTTPS_PROXY,
 * all_proxy / ALL_PROXY, no_proxy / NO_PROXY, as curl reads them) from env
 * ("K=V", borrowed for the life of self) instead of the process
 * environment. */
void http_set_env(struct http *self, const char *const *env, size_t n);

/* At most n connections to one host at a time (curl queues the other
 * transfers of a batch until one ends); 0: 6. */
void http_set_max_connections(struct http *self, long n);
/* Limits every transfer of self to ms milliseconds in all (0: no limit;
 * the default), for callers that would rather have no answer than a late
 * one (the server's tag completion). */
void http_set_timeout(struct http *self, unsigned ms);

/* Initialises a request (zeroes it, upload_fd = -1, content_length = -1).
 * url is copied. */
void http_req_init(struct http_req *r, const char *method, const char *url);
/* Adds "Name: value" to the headers. */
void http_req_header(struct http_req *r, const char *line);
/* Frees owned fields; r can be initialised again. */
void http_req_cleanup(struct http_req *r);
/* Clears the out fields so the request can be sent again. */
void http_req_reset(struct http_req *r);

/* Runs the requests to completion.  Returns ERR_CANCELLED when the cancel
 * flag was set, 0 otherwise; each request's own outcome is in its
 * `result` and `status`. */
int http_run(struct http *self, struct http_req **reqs, size_t n,
             struct err *err) DW_WARN_UNUSED;

#endif
