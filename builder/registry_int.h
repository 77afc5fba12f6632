/*
 * registry_int.h - what the files of the registry module share:
 * registry.c (the client, hosts, auth and tokens, sending a call with its
 * retries and answering challenges, errors, login), registry_pull.c
 * (manifests, verified blob downloads, ADD <url>, tag lists) and
 * registry_push.c (the upload state machine, blob mounts, manifests).
 * Nothing outside the module includes it.
 */
#ifndef DW_REGISTRY_INT_H
#define DW_REGISTRY_INT_H

#include "auth.h"
#include "http.h"
#include "registry.h"

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

/* One blob transfer's progress, throttled to whole percentages. */
struct registry__prog {
  struct registry *self;
  const char *verb;
  const char *digest;
  uint64_t base, total; /* bytes sent by earlier requests; blob size */
  int last_pct;
};

/* One call: a request plus the headers it needs apart from auth. */
struct registry__call {
  struct http_req req;
  const char *accept;
  const char *content_type;
  const char *extra; /* e.g. Content-Range */
  bool no_retry;     /* the caller recovers from transient failures */
  unsigned tries;    /* sends so far */
};

void registry__call_init(struct registry__call *c, struct registry__host *h,
                         const char *method, const char *url);

/* Fails with what the registry answered to `what` (e.g. "push blob
 * sha256:..."), naming the registry and the repository: the OCI error
 * code picks our code and a hint. */
int registry__fail(struct err *err, const struct registry__host *h,
                   const char *path, const char *what,
                   const struct registry__call *c);

struct registry__host *registry__host(struct registry *self, const char *host,
                                      struct err *err, int *rc);

void registry__log(struct registry *self, const char *fmt, ...)
    DW_PRINTF(2, 3);

void registry__prog_attach(struct http_req *r, struct registry__prog *p);

void registry__prog_init(struct registry__prog *p, struct registry *self,
                         const char *verb, const char *digest, uint64_t total);

/* Where a blob is: best effort (a push without it only uploads more). */
void registry__remember(struct registry *self, const struct registry__host *h,
                        const char *path, const char *digest);

/* Sends one request without auth, again after a backoff while it fails
 * for a transient reason (a token service's 503, a dropped download of
 * ADD <url>); a sink starts over from its first byte. */
int registry__run_retried(struct registry *self, struct http_req *r,
                          struct err *err);

/* Sends calls with auth: answers one round of 401s (the challenge may
 * come only now, or a token expired), and sends again, after a backoff,
 * the calls that failed for a transient reason (retry.h) unless they are
 * `no_retry` (their caller recovers: blob uploads).  A download into a
 * sink resumes where it stopped (Range).  Returns an error for transport
 * failures of retried calls and for refused credentials; the HTTP status
 * of every call is left to the caller. */
int registry__send(struct registry *self, struct registry__host *h,
                   const char *scope, struct registry__call **calls, size_t n,
                   struct err *err);

char *registry__url(const struct registry__host *h, const char *path,
                    const char *what, const char *ref);

void registry__url_escape(struct buf *b, const char *s);

#endif
