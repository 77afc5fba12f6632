/*
 * auth.h - registry credentials and challenges.
 *
 * Credentials come from $DOCKER_CONFIG/config.json (default
 * ~/.docker/config.json): `credHelpers` for the host, then `credsStore`,
 * then `auths` (base64 "user:password").  Helpers are the
 * docker-credential-<name> programs, run with "get" and the server name on
 * standard input.
 *
 * Invariant: a secret never reaches a log line or an error message; error
 * texts name the host and the helper only.
 */
#ifndef DW_AUTH_H
#define DW_AUTH_H

#include "../common/err.h"

struct auth_cred {
  char *username; /* owned */
  char *secret;   /* owned; wiped by auth_cred_cleanup */
};
void auth_cred_cleanup(struct auth_cred *c);

/* Finds credentials for a registry host ("127.0.0.1:5001", "docker.io").
 * Returns 0 with *out filled, ERR_NOTFOUND when there are none (not an
 * error for anonymous pulls), or another code when the configuration or a
 * helper fails. */
int auth_lookup(const char *host, struct auth_cred *out,
                struct err *err) DW_WARN_UNUSED;

/* Stores credentials for host as `docker login` does: in the credential
 * helper configured for it (credHelpers, then credsStore; the file then
 * keeps an empty entry), else base64 in config.json's auths.  The file is
 * rewritten whole with mode 0600.  `where` gets where they went. */
int auth_store(const char *host, const struct auth_cred *c, char *where,
               size_t nwhere, struct err *err) DW_WARN_UNUSED;
/* Removes host's credentials (helper and file).  ERR_NOTFOUND when there
 * were none. */
int auth_erase(const char *host, char *where, size_t nwhere,
               struct err *err) DW_WARN_UNUSED;

/* One WWW-Authenticate challenge. */
struct auth_challenge {
  char *scheme;  /* owned; "bearer" or "basic" (lower case) */
  char *realm;   /* owned or NULL */
  char *service; /* owned or NULL */
  char *scope;   /* owned or NULL */
};
void auth_challenge_cleanup(struct auth_challenge *c);
/* Parses the first challenge of a WWW-Authenticate value. */
int auth_parse_challenge(const char *value, struct auth_challenge *out,
                         struct err *err) DW_WARN_UNUSED;

/* "Basic <base64(user:secret)>" header line ("Authorization: ...");
 * caller frees (and should wipe). */
char *auth_basic_header(const struct auth_cred *c);

/* Base64 decode/encode helpers (decode returns NULL on bad input). */
char *auth_base64_encode(const void *data, size_t len);
char *auth_base64_decode(const char *s, size_t *len);

#endif
