/*
 * login.h - `dockwright login` and `logout`: credentials checked against a
 * registry, then kept where Docker keeps them (auth.h).
 *
 * DESIGN: a login meets the registry exactly as a push would (the ping,
 * its 401 challenge, Basic or a Bearer token from the realm), so a login
 * that succeeds is one a push can use.  It runs on a private loop on the
 * caller's thread: one short exchange, no events.
 */
#ifndef DW_LOGIN_H
#define DW_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"

struct login_request {
  const char *registry; /* "host[:port]"; "docker.io" for Docker Hub */
  const char *username;
  const char *password;        /* borrowed; never in a message */
  const char *const *insecure; /* registries allowed over http / bad TLS */
  size_t ninsecure;
  const char *const *env; /* "K=V": proxies */
  size_t nenv;
};

struct login_result {
  bool needed;     /* the registry asked for credentials */
  char where[512]; /* where they were stored (or removed from) */
};

/* Checks the credentials, then stores them.  ERR_AUTH when the registry
 * refuses them (nothing stored). */
int login_run(const struct login_request *req, struct login_result *out,
              struct err *err) DW_WARN_UNUSED;
/* Removes the credentials for registry.  ERR_NOTFOUND when there were
 * none. */
int login_logout(const char *registry, struct login_result *out,
                 struct err *err) DW_WARN_UNUSED;

#endif
