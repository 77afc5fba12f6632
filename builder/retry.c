/*
 * retry.c - the retry policy of registry requests (see retry.h).
 */
#include "retry.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void retry_init(struct retry *self) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  self->tries = 0;
  self->waited_ms = 0;
  self->seed = ((uint64_t)ts.tv_nsec << 17) ^ (uint64_t)ts.tv_sec ^
               ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)self;
  if (self->seed == 0)
    self->seed = 0x9e3779b97f4a7c15ull;
}

static uint64_t retry__rand(struct retry *self) {
  /* xorshift64: jitter needs spread, not secrecy */
  uint64_t x = self->seed;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  self->seed = x;
  return x;
}

bool retry_transient(const struct http_req *r) {
  if (r->result == ERR_NETWORK) {
    switch (r->curl_code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_TOO_MANY_REDIRECTS:
      return false;
    default:
      return true;
    }
  }
  if (r->result != 0)
    return false; /* cancelled, too big, the store failed: not the net */
  if (r->status == 429)
    return true;
  return r->status >= 500 && r->status != 501 && r->status != 505;
}

int64_t retry_after_ms(const char *value, time_t now) {
  if (value == NULL)
    return -1;
  while (*value == ' ')
    value++;
  if (*value >= '0' && *value <= '9') {
    char *end;
    long long s = strtoll(value, &end, 10);
    while (*end == ' ')
      end++;
    if (*end != '\0' || s < 0)
      return -1;
    if (s > RETRY_AFTER_MAX_MS / 1000 + 1)
      s = RETRY_AFTER_MAX_MS / 1000 + 1;
    return (int64_t)s * 1000;
  }
  /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == NULL || *end != '\0')
    return -1;
  time_t at = timegm(&tm);
  if (at <= now)
    return 0;
  return (int64_t)(at - now) * 1000;
}

int64_t retry_next(struct retry *self, const struct http_req *r) {
  self->tries++;
  if (self->tries >= RETRY_MAX_TRIES)
    return -1;
  int64_t wait;
  int64_t after = retry_after_ms(r->retry_after, time(NULL));
  if (after >= 0 && (r->status == 429 || r->status == 503)) {
    if (after > RETRY_AFTER_MAX_MS)
      return -1; /* the server asks for longer than we wait */
    wait = after;
  } else {
    uint64_t cap = (uint64_t)RETRY_BASE_MS << (self->tries - 1);
    if (cap > RETRY_CAP_MS)
      cap = RETRY_CAP_MS;
    wait = (int64_t)(cap / 2 + retry__rand(self) % (cap / 2 + 1));
  }
  if (self->waited_ms + (uint64_t)wait > RETRY_BUDGET_MS)
    return -1;
  self->waited_ms += (uint64_t)wait;
  return wait;
}

bool retry_sleep(uint64_t ms, const atomic_bool *cancel) {
  while (ms > 0) {
    if (cancel && atomic_load(cancel))
      return false;
    uint64_t slice = ms > 50 ? 50 : ms;
    struct timespec ts = {0, (long)slice * 1000000L};
    nanosleep(&ts, NULL);
    ms -= slice;
  }
  return !(cancel && atomic_load(cancel));
}

void retry_describe(const struct http_req *r, char *out, size_t n) {
  if (r->result < 0)
    snprintf(out, n, "%s", r->error[0] ? r->error : "network error");
  else if (r->retry_after)
    snprintf(out, n, "HTTP %ld, Retry-After %.40s", r->status, r->retry_after);
  else
    snprintf(out, n, "HTTP %ld", r->status);
}
