/*
 * digest.h - content digests ("sha256:<64 hex>"): streaming SHA-256 with
 * OpenSSL and strict parsing of digest strings from outside.
 */
#ifndef DW_DIGEST_H
#define DW_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"

#define DIGEST_HEX_LEN 64
/* "sha256:" + 64 hex + NUL */
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN + 1)

struct digest_ctx {
  void *md; /* owned EVP_MD_CTX */
};

void digest_init(struct digest_ctx *self);
void digest_update(struct digest_ctx *self, const void *data, size_t len);
/* Writes "sha256:<hex>" into out and releases the context. */
void digest_final(struct digest_ctx *self, char out[DIGEST_STR_LEN]);
/* Releases a context that will not be finalised.  Accepts a zeroed one. */
void digest_cleanup(struct digest_ctx *self);

/* One-shot digest of a buffer. */
void digest_buf(const void *data, size_t len, char out[DIGEST_STR_LEN]);

/* True when s is exactly "sha256:" followed by 64 lower-case hex digits,
 * the only form we accept (anything else could reach a file name). */
bool digest_valid(const char *s);

/* The hex part of a valid digest (pointer into s). */
const char *digest_hex(const char *s);

#endif
