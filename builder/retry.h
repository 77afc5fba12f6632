/*
 * retry.h - when a registry request is sent again, and after how long.
 *
 * DESIGN: a failure is transient when the server could do better on a
 * later try: a dropped or timed-out connection, a 5xx other than 501, a
 * 429.  Those are retried with exponential backoff and jitter (the wait
 * doubles from RETRY_BASE_MS up to RETRY_CAP_MS, half of it random, so
 * clients that failed together do not come back together), or after the
 * server's Retry-After when it sent one.  A policy is bounded twice: at
 * most RETRY_MAX_TRIES sends, and at most RETRY_BUDGET_MS spent waiting.
 * Auth failures (401, 403) and every other 4xx are final: a wrong
 * password gives one error, never a storm of requests.
 */
#ifndef DW_RETRY_H
#define DW_RETRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "http.h"

#define RETRY_MAX_TRIES 6        /* sends of one request, the first included */
#define RETRY_BASE_MS 200        /* first backoff */
#define RETRY_CAP_MS 8000        /* longest backoff */
#define RETRY_AFTER_MAX_MS 60000 /* longest Retry-After honoured */
#define RETRY_BUDGET_MS 120000   /* total waiting of one policy */

struct retry {
  unsigned tries;     /* sends that failed so far */
  uint64_t waited_ms; /* time spent waiting */
  uint64_t seed;      /* jitter */
};

void retry_init(struct retry *self);

/* Whether r's outcome (transport result and status) is worth a new try. */
bool retry_transient(const struct http_req *r);

/* The wait before the next try after a transient failure of r, in ms, or
 * -1 when the policy is spent (tries or budget).  Counts the try. */
int64_t retry_next(struct retry *self, const struct http_req *r);

/* A Retry-After value (delta seconds or an HTTP date) as ms from `now`;
 * -1 when absent or unreadable. */
int64_t retry_after_ms(const char *value, time_t now);

/* Sleeps ms, in slices, returning early (false) when *cancel is set. */
bool retry_sleep(uint64_t ms, const atomic_bool *cancel);

/* "HTTP 503", "Connection reset by peer": why r failed, for a log line. */
void retry_describe(const struct http_req *r, char *out, size_t n);

#endif
