#include "digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"

void digest_init(struct digest_ctx *self) {
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
    /* Only fails on allocation failure: the xmalloc policy applies. */
    fputs("dockwright: out of memory (sha256)\n", stderr);
    abort();
  }
  self->md = md;
}

void digest_update(struct digest_ctx *self, const void *data, size_t len) {
  if (len)
    EVP_DigestUpdate((EVP_MD_CTX *)self->md, data, len);
}

void digest_final(struct digest_ctx *self, char out[DIGEST_STR_LEN]) {
  unsigned char md[32];
  unsigned int n = 0;
  EVP_DigestFinal_ex((EVP_MD_CTX *)self->md, md, &n);
  EVP_MD_CTX_free((EVP_MD_CTX *)self->md);
  self->md = NULL;
  static const char hex[] = "0123456789abcdef";
  memcpy(out, "sha256:", 7);
  for (unsigned i = 0; i < 32; i++) {
    out[7 + 2 * i] = hex[md[i] >> 4];
    out[7 + 2 * i + 1] = hex[md[i] & 15];
  }
  out[7 + 64] = '\0';
}

void digest_cleanup(struct digest_ctx *self) {
  if (self->md)
    EVP_MD_CTX_free((EVP_MD_CTX *)self->md);
  self->md = NULL;
}

void digest_buf(const void *data, size_t len, char out[DIGEST_STR_LEN]) {
  struct digest_ctx c;
  digest_init(&c);
  digest_update(&c, data, len);
  digest_final(&c, out);
}

bool digest_valid(const char *s) {
  if (s == NULL || strncmp(s, "sha256:", 7) != 0)
    return false;
  size_t i = 0;
  for (const char *p = s + 7; *p; p++, i++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return i == DIGEST_HEX_LEN;
}

const char *digest_hex(const char *s) {
  return s + 7;
}
