/*
 * login.c - login and logout (see login.h).
 */
#include "login.h"

#include <stdatomic.h>
#include <string.h>
#include <uv.h>

#include "auth.h"
#include "../model/ref.h"
#include "registry.h"

/* The registry a login names: "docker.io" and its aliases become the API
 * host ref.h uses; anything else is taken as given. */
static const char *login__api_host(const char *registry) {
  if (strcmp(registry, "docker.io") == 0 ||
      strcmp(registry, "index.docker.io") == 0 ||
      strcmp(registry, "https://index.docker.io/v1/") == 0)
    return "registry-1.docker.io";
  return registry;
}

static int login__check_name(const char *registry, struct err *err) {
  if (registry == NULL || registry[0] == '\0')
    return err_set(err, ERR_INVALID, "login needs a registry");
  for (const char *p = registry; *p; p++)
    if (*p == '/' || *p == ' ' || (unsigned char)*p < 0x20)
      if (strcmp(registry, "https://index.docker.io/v1/") != 0)
        return err_set(err, ERR_INVALID,
                       "\"%.100s\" is not a registry (host[:port])", registry);
  return 0;
}

int login_run(const struct login_request *req, struct login_result *out,
              struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc = login__check_name(req->registry, err);
  if (rc < 0)
    return rc;
  if (req->username == NULL || req->username[0] == '\0' ||
      strchr(req->username, ':'))
    return err_set(err, ERR_INVALID, "login needs a username (without ':')");
  if (req->password == NULL || req->password[0] == '\0')
    return err_set(err, ERR_INVALID, "login needs a password");
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0)
    return err_set(err, ERR_INTERNAL, "cannot start a loop");
  atomic_bool cancel = false;
  struct registry_opts ro;
  memset(&ro, 0, sizeof(ro));
  ro.insecure = req->insecure;
  ro.ninsecure = req->ninsecure;
  ro.env = req->env;
  ro.nenv = req->nenv;
  struct registry *reg = NULL;
  rc = registry_new(&loop, NULL, &ro, &cancel, &reg, err);
  if (rc == 0) {
    struct auth_cred c = {(char *)req->username, (char *)req->password};
    rc = registry_login(reg, login__api_host(req->registry), &c, &out->needed,
                        err);
    registry_free(reg);
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  (void)uv_loop_close(&loop);
  if (rc == 0) {
    struct auth_cred c = {(char *)req->username, (char *)req->password};
    rc = auth_store(req->registry, &c, out->where, sizeof(out->where), err);
  }
  return rc;
}

int login_logout(const char *registry, struct login_result *out,
                 struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc = login__check_name(registry, err);
  if (rc < 0)
    return rc;
  rc = auth_erase(registry, out->where, sizeof(out->where), err);
  if (rc == ERR_NOTFOUND)
    return err_set(err, ERR_NOTFOUND, "not logged in to %s", registry);
  return rc;
}
