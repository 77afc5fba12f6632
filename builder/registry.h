/*
 * registry.h - the OCI distribution API client: pull into the store, push
 * from it.
 *
 * Transport: https with the system CAs plus certs.d/<host[:port]>/ca.crt
 * (from $DOCKWRIGHT_CERTS_DIR, /etc/containers/certs.d,
 * /etc/docker/certs.d).  Plain http only for loopback registries (asked
 * first when no certs.d CA names them, https next) and for hosts given as
 * insecure (after https fails with a non-certificate error, as Docker
 * pings; certificate checks skipped).
 * Auth: the 401 challenge decides: Bearer (token from the realm, anonymous
 * or with credentials) or Basic; credentials from auth.h.  Tokens are
 * cached per host and scope for the life of the client.
 *
 * Ownership: registry_new borrows loop, store and cancel for the life of
 * the client.  One client per thread.
 */
#ifndef DW_REGISTRY_H
#define DW_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../common/err.h"
#include "image.h"
#include "../model/ref.h"
#include "store.h"

struct registry;

/* Progress/log sink: one line, no newline, never a credential. */
typedef void (*registry_log_fn)(void *ctx, const char *line);
/* A blob moving: verb "pull" or "push", bytes done of total.  Called when
 * the whole percentage changes and at the end. */
typedef void (*registry_progress_fn)(void *ctx, const char *verb,
                                     const char *digest, uint64_t done,
                                     uint64_t total);

struct registry_opts {
  const char *const *insecure; /* "host[:port]" */
  size_t ninsecure;
  registry_log_fn log;
  void *log_ctx;
  registry_progress_fn progress; /* may be NULL; ctx is log_ctx */
  const char *const *env;        /* proxies from here (http_set_env); */
  size_t nenv;                   /* NULL: the process environment */
};

int registry_new(uv_loop_t *loop, struct store *store,
                 const struct registry_opts *opts, const atomic_bool *cancel,
                 struct registry **out, struct err *err) DW_WARN_UNUSED;
void registry_free(struct registry *self);
/* Blobs moved at once: pushed (uploads) and pulled (downloads); 0: 4. */
void registry_set_concurrency(struct registry *self, unsigned uploads,
                              unsigned downloads);
/* Limits each transfer of self to ms milliseconds (http_set_timeout). */
void registry_set_timeout(struct registry *self, unsigned ms);

/* Pulls ref (the manifest for platform p when it is an index) with its
 * config and layers into the store.  Out: the digest, media type and size
 * of the top document fetched (the index when there is one), which is what
 * a tag should point to. */
struct registry_pulled {
  char digest[DIGEST_STR_LEN];
  char *media_type; /* owned */
  uint64_t size;
};
int registry_pull(struct registry *self, const struct ref *ref,
                  const struct image_platform *p, struct registry_pulled *out,
                  struct err *err) DW_WARN_UNUSED;

/* Pushes a stored manifest (or index) and the blobs it references to ref.
 * out_digest may be NULL. */
int registry_push(struct registry *self, const struct ref *ref,
                  const char *digest, const char *media_type,
                  struct err *err) DW_WARN_UNUSED;

/* Checks cred against host's registry with the challenge a push would
 * meet: Basic (GET /v2/ with them) or Bearer (a token from the realm,
 * without a scope).  *needed: whether the registry asks for a login at
 * all.  ERR_AUTH when the registry refuses them. */
struct auth_cred;
int registry_login(struct registry *self, const char *host,
                   const struct auth_cred *cred, bool *needed,
                   struct err *err) DW_WARN_UNUSED;
/* One page of a repository's tags (tag list order), borrowed for the
 * call. */
typedef void (*registry_tags_fn)(void *ctx, const char *const *tags, size_t n);

/* Lists the tags of ref's repository: GET /v2/<name>/tags/list?n=<page>
 * (page 0: the registry's own default), then each Link rel="next" on the
 * same host, with the pulls' auth (anonymous Bearer tokens; credentials
 * only when auth.h has some for that host).  cb runs once per page.  Stops
 * at DW_MAX_TAG_PAGES pages or DW_MAX_TAGS tags; a Link to another host is
 * not followed (it would get this host's credentials). */
int registry_tags(struct registry *self, const struct ref *ref, unsigned page,
                  registry_tags_fn cb, void *ctx,
                  struct err *err) DW_WARN_UNUSED;

/* Downloads a URL (ADD <url>) into the store, verifying `checksum`
 * ("sha256:...") when given.  digest_out gets the blob digest. */
int registry_fetch_url(struct registry *self, const char *url,
                       const char *checksum, char digest_out[DIGEST_STR_LEN],
                       struct err *err) DW_WARN_UNUSED;

#endif
