/*
 * auth.c - credentials from Docker's config and credential helpers;
 * WWW-Authenticate parsing.
 */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/ceilings.h"

extern char **environ;

static void auth__wipe_free(char *s) {
  if (s) {
    volatile char *p = s;
    while (*p)
      *p++ = 0;
    free(s);
  }
}

void auth_cred_cleanup(struct auth_cred *c) {
  free(c->username);
  auth__wipe_free(c->secret);
  c->username = c->secret = NULL;
}

void auth_challenge_cleanup(struct auth_challenge *c) {
  free(c->scheme);
  free(c->realm);
  free(c->service);
  free(c->scope);
  memset(c, 0, sizeof(*c));
}

char *auth_base64_encode(const void *data, size_t len) {
  char *out = xmalloc(4 * ((len + 2) / 3) + 1);
  int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
  out[n] = '\0';
  return out;
}

char *auth_base64_decode(const char *s, size_t *len) {
  size_t n = strlen(s);
  if (n % 4 != 0)
    return NULL;
  unsigned char *out = xmalloc(n / 4 * 3 + 1);
  int m = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
  if (m < 0) {
    free(out);
    return NULL;
  }
  /* EVP_DecodeBlock counts padding as zero bytes. */
  if (n >= 1 && s[n - 1] == '=')
    m--;
  if (n >= 2 && s[n - 2] == '=')
    m--;
  out[m] = '\0';
  *len = (size_t)m;
  return (char *)out;
}

char *auth_basic_header(const struct auth_cred *c) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s:%s", c->username, c->secret);
  char *enc = auth_base64_encode(b.data, b.len);
  auth__wipe_free(buf_take(&b));
  struct buf h = BUF_INIT;
  buf_printf(&h, "Authorization: Basic %s", enc);
  auth__wipe_free(enc);
  return buf_take(&h);
}

/* Runs docker-credential-<helper> ACTION with `input` on its standard
 * input; its standard output (bounded) goes to reply, its exit status to
 * *status (-1 when it did not exit). */
static int auth__helper_run(const char *helper, const char *action,
                            const char *input, struct buf *reply, int *status,
                            struct err *err) {
  *status = -1;
  for (const char *p = helper; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.'))
      return err_set(err, ERR_INVALID, "bad credential helper name");
  struct buf prog = BUF_INIT;
  buf_printf(&prog, "docker-credential-%s", helper);
  int in[2], outp[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    buf_cleanup(&prog);
    return err_set(err, ERR_IO, "pipe: %s", strerror(errno));
  }
  if (pipe2(outp, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    buf_cleanup(&prog);
    return err_set(err, ERR_IO, "pipe: %s", strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
  char *argv[] = {prog.data, (char *)action, NULL};
  pid_t pid;
  int src = posix_spawnp(&pid, prog.data, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(outp[1]);
  if (src != 0) {
    close(in[1]);
    close(outp[0]);
    int rc = err_set(err, ERR_AUTH, "credential helper %s: %s", prog.data,
                     strerror(src));
    buf_cleanup(&prog);
    return rc;
  }
  /* The input is small (a server name, or one JSON object of
   * credentials): the pipe buffer takes it whole. */
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  ssize_t w = write(in[1], input, strlen(input));
  (void)w;
  close(in[1]);
  char chunk[4096];
  ssize_t n;
  int rc = 0;
  while ((n = read(outp[0], chunk, sizeof(chunk))) != 0) {
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (reply->len + (size_t)n > DW_MAX_CRED_HELPER_BYTES) {
      rc = err_set(err, ERR_TOOBIG, "credential helper %s: reply too large",
                   prog.data);
      break;
    }
    buf_append(reply, chunk, (size_t)n);
  }
  close(outp[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  signal(SIGPIPE, old);
  if (WIFEXITED(st))
    *status = WEXITSTATUS(st);
  buf_cleanup(&prog);
  return rc;
}

/* Runs docker-credential-<helper> get, feeding it the server name. */
static int auth__helper(const char *helper, const char *server,
                        struct auth_cred *out, struct err *err) {
  struct buf reply = BUF_INIT;
  int status;
  int rc = auth__helper_run(helper, "get", server, &reply, &status, err);
  if (rc == 0 && status != 0) {
    /* "credentials not found in native keychain" means anonymous. */
    rc = reply.data && strstr(reply.data, "not found")
             ? ERR_NOTFOUND
             : err_set(err, ERR_AUTH,
                       "credential helper docker-credential-%s failed for "
                       "%s",
                       helper, server);
  }
  if (rc == 0) {
    json_object *o = json_tokener_parse(reply.data ? reply.data : "");
    json_object *u, *s;
    if (o && json_object_object_get_ex(o, "Username", &u) &&
        json_object_object_get_ex(o, "Secret", &s)) {
      out->username = xstrdup(json_object_get_string(u));
      out->secret = xstrdup(json_object_get_string(s));
    } else {
      rc = err_set(err, ERR_AUTH,
                   "credential helper docker-credential-%s: unreadable "
                   "reply",
                   helper);
    }
    json_object_put(o);
  }
  if (reply.data)
    memset(reply.data, 0, reply.len);
  buf_cleanup(&reply);
  return rc;
}

/* $DOCKER_CONFIG/config.json, or ~/.docker/config.json (owned; NULL
 * without HOME). */
static char *auth__config_path(void) {
  struct buf path = BUF_INIT;
  const char *dc = getenv("DOCKER_CONFIG");
  if (dc && *dc) {
    buf_printf(&path, "%s/config.json", dc);
  } else {
    const char *home = getenv("HOME");
    if (home == NULL)
      return NULL;
    buf_printf(&path, "%s/.docker/config.json", home);
  }
  return buf_take(&path);
}

static json_object *auth__load_config(struct err *err, int *rc) {
  *rc = 0;
  struct buf path = BUF_INIT;
  char *p = auth__config_path();
  if (p == NULL)
    return NULL;
  buf_puts(&path, p);
  free(p);
  struct buf b = BUF_INIT;
  int r = buf_read_file(path.data, DW_MAX_DOCKER_CONFIG_BYTES, &b, err);
  if (r == ERR_NOTFOUND || r == ERR_IO) {
    /* no config (or none we may read): no credentials */
    err_clear(err);
    buf_cleanup(&b);
    buf_cleanup(&path);
    return NULL;
  }
  *rc = r;
  json_object *o = NULL;
  if (*rc == 0) {
    o = json_tokener_parse(b.data ? b.data : "");
    if (o == NULL || !json_object_is_type(o, json_type_object)) {
      json_object_put(o);
      o = NULL;
      *rc = err_set(err, ERR_SYNTAX, "%s is not a JSON object", path.data);
    }
  }
  if (b.data)
    memset(b.data, 0, b.len);
  buf_cleanup(&b);
  buf_cleanup(&path);
  return o;
}

int auth_lookup(const char *host, struct auth_cred *out, struct err *err) {
  memset(out, 0, sizeof(*out));
  int rc;
  json_object *cfg = auth__load_config(err, &rc);
  if (cfg == NULL)
    return rc < 0 ? rc : ERR_NOTFOUND;
  bool hub = strcmp(host, "docker.io") == 0 ||
             strcmp(host, "registry-1.docker.io") == 0;
  /* The names under which a host can appear. */
  struct buf k1 = BUF_INIT, k2 = BUF_INIT, k3 = BUF_INIT;
  buf_printf(&k1, "%s", hub ? "https://index.docker.io/v1/" : host);
  buf_printf(&k2, "https://%s", host);
  buf_printf(&k3, "http://%s", host);
  const char *keys[] = {k1.data, host, k2.data, k3.data,
                        hub ? "index.docker.io" : host};
  rc = ERR_NOTFOUND;
  json_object *helpers, *store, *auths, *v;
  if (json_object_object_get_ex(cfg, "credHelpers", &helpers) &&
      json_object_is_type(helpers, json_type_object)) {
    for (size_t i = 0; i < 5 && rc == ERR_NOTFOUND; i++)
      if (json_object_object_get_ex(helpers, keys[i], &v) &&
          json_object_is_type(v, json_type_string))
        rc = auth__helper(json_object_get_string(v), keys[i], out, err);
  }
  if (rc == ERR_NOTFOUND && json_object_object_get_ex(cfg, "auths", &auths) &&
      json_object_is_type(auths, json_type_object)) {
    for (size_t i = 0; i < 5 && rc == ERR_NOTFOUND; i++) {
      json_object *a;
      if (!json_object_object_get_ex(auths, keys[i], &v) ||
          !json_object_object_get_ex(v, "auth", &a))
        continue;
      size_t n;
      char *dec = auth_base64_decode(json_object_get_string(a), &n);
      char *colon = dec ? memchr(dec, ':', n) : NULL;
      if (colon == NULL) {
        auth__wipe_free(dec);
        rc = err_set(err, ERR_SYNTAX, "docker config: bad auth for %s", host);
        break;
      }
      out->username = xstrndup(dec, (size_t)(colon - dec));
      out->secret = xstrdup(colon + 1);
      auth__wipe_free(dec);
      rc = 0;
    }
  }
  if (rc == ERR_NOTFOUND &&
      json_object_object_get_ex(cfg, "credsStore", &store) &&
      json_object_is_type(store, json_type_string) &&
      json_object_get_string_len(store) > 0)
    rc = auth__helper(json_object_get_string(store), hub ? keys[0] : host, out,
                      err);
  buf_cleanup(&k1);
  buf_cleanup(&k2);
  buf_cleanup(&k3);
  json_object_put(cfg);
  return rc;
}

/* challenge := scheme 1*SP param *("," param); param := key=value|"value" */
int auth_parse_challenge(const char *value, struct auth_challenge *out,
                         struct err *err) {
  memset(out, 0, sizeof(*out));
  const char *p = value;
  while (*p == ' ')
    p++;
  const char *s = p;
  while (*p && *p != ' ')
    p++;
  if (p == s)
    return err_set(err, ERR_SYNTAX, "empty WWW-Authenticate");
  out->scheme = xstrndup(s, (size_t)(p - s));
  for (char *c = out->scheme; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  while (*p) {
    while (*p == ' ' || *p == ',')
      p++;
    const char *k = p;
    while (*p && *p != '=' && *p != ',' && *p != ' ')
      p++;
    size_t kn = (size_t)(p - k);
    if (*p != '=') {
      continue;
    }
    p++;
    struct buf v = BUF_INIT;
    if (*p == '"') {
      p++;
      while (*p && *p != '"') {
        if (*p == '\\' && p[1])
          p++;
        buf_putc(&v, *p++);
      }
      if (*p == '"')
        p++;
    } else {
      while (*p && *p != ',' && *p != ' ')
        buf_putc(&v, *p++);
    }
    char **slot = NULL;
    if (kn == 5 && strncasecmp(k, "realm", 5) == 0)
      slot = &out->realm;
    else if (kn == 7 && strncasecmp(k, "service", 7) == 0)
      slot = &out->service;
    else if (kn == 5 && strncasecmp(k, "scope", 5) == 0)
      slot = &out->scope;
    if (slot && *slot == NULL)
      *slot = buf_take(&v);
    buf_cleanup(&v);
  }
  return 0;
}

/* --- login and logout ---------------------------------------------------- */

/* The key Docker files a registry under: Docker Hub's historical URL, or
 * the host as given. */
static const char *auth__key(const char *host) {
  if (strcmp(host, "docker.io") == 0 ||
      strcmp(host, "registry-1.docker.io") == 0 ||
      strcmp(host, "index.docker.io") == 0)
    return "https://index.docker.io/v1/";
  return host;
}

/* The helper configured for key: credHelpers[key], else credsStore, else
 * NULL (borrowed from cfg). */
static const char *auth__helper_for(json_object *cfg, const char *key) {
  json_object *v;
  if (cfg && json_object_object_get_ex(cfg, "credHelpers", &v) &&
      json_object_is_type(v, json_type_object) &&
      json_object_object_get_ex(v, key, &v) &&
      json_object_is_type(v, json_type_string) &&
      json_object_get_string_len(v) > 0)
    return json_object_get_string(v);
  if (cfg && json_object_object_get_ex(cfg, "credsStore", &v) &&
      json_object_is_type(v, json_type_string) &&
      json_object_get_string_len(v) > 0)
    return json_object_get_string(v);
  return NULL;
}

/* Writes cfg as the config file: a temporary file of mode 0600 in the
 * same directory, fsynced and renamed over it (as Docker does), so a
 * crash leaves the old file or the new one. */
static int auth__save_config(json_object *cfg, struct err *err) {
  char *path = auth__config_path();
  if (path == NULL)
    return err_set(err, ERR_INVALID,
                   "no DOCKER_CONFIG or HOME: nowhere to store credentials");
  char *slash = strrchr(path, '/');
  if (slash) {
    *slash = '\0';
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      int rc = err_set(err, ERR_IO, "mkdir %s: %s", path, strerror(errno));
      free(path);
      return rc;
    }
    *slash = '/';
  }
  struct buf tmp = BUF_INIT;
  buf_printf(&tmp, "%s.XXXXXX", path);
  int fd = mkostemp(tmp.data, O_CLOEXEC);
  int rc = 0;
  if (fd < 0) {
    rc = err_set(err, ERR_IO, "create %s: %s", tmp.data, strerror(errno));
  } else {
    const char *text = json_object_to_json_string_ext(
        cfg, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB |
                 JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t len = strlen(text);
    if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len ||
        write(fd, "\n", 1) != 1 || fsync(fd) != 0)
      rc = err_set(err, ERR_IO, "write %s: %s", tmp.data, strerror(errno));
    close(fd);
    if (rc == 0 && rename(tmp.data, path) != 0)
      rc = err_set(err, ERR_IO, "rename to %s: %s", path, strerror(errno));
    if (rc < 0)
      unlink(tmp.data);
  }
  buf_cleanup(&tmp);
  free(path);
  return rc;
}

int auth_store(const char *host, const struct auth_cred *c, char *where,
               size_t nwhere, struct err *err) {
  int rc;
  json_object *cfg = auth__load_config(err, &rc);
  if (rc < 0)
    return rc;
  if (cfg == NULL)
    cfg = json_object_new_object();
  const char *key = auth__key(host);
  const char *helper = auth__helper_for(cfg, key);
  json_object *auths;
  if (!json_object_object_get_ex(cfg, "auths", &auths) ||
      !json_object_is_type(auths, json_type_object)) {
    auths = json_object_new_object();
    json_object_object_add(cfg, "auths", auths);
  }
  json_object *entry = json_object_new_object();
  if (helper) {
    /* The helper keeps the secret; the file keeps an empty entry, so
     * the registry is listed as logged in (Docker's native store). */
    json_object *in = json_object_new_object();
    json_object_object_add(in, "ServerURL", json_object_new_string(key));
    json_object_object_add(in, "Username",
                           json_object_new_string(c->username));
    json_object_object_add(in, "Secret", json_object_new_string(c->secret));
    struct buf input = BUF_INIT;
    buf_puts(&input,
             json_object_to_json_string_ext(in, JSON_C_TO_STRING_PLAIN));
    json_object_put(in);
    struct buf reply = BUF_INIT;
    int status;
    rc = auth__helper_run(helper, "store", input.data, &reply, &status, err);
    memset(input.data, 0, input.len);
    buf_cleanup(&input);
    if (rc == 0 && status != 0)
      rc = err_set(err, ERR_AUTH,
                   "credential helper docker-credential-%s could not store "
                   "the credentials for %s",
                   helper, key);
    buf_cleanup(&reply);
    snprintf(where, nwhere, "credential helper docker-credential-%s", helper);
  } else {
    struct buf up = BUF_INIT;
    buf_printf(&up, "%s:%s", c->username, c->secret);
    char *enc = auth_base64_encode(up.data, up.len);
    memset(up.data, 0, up.len);
    buf_cleanup(&up);
    json_object_object_add(entry, "auth", json_object_new_string(enc));
    auth__wipe_free(enc);
    char *p = auth__config_path();
    snprintf(where, nwhere, "%s", p ? p : "config.json");
    free(p);
  }
  if (rc == 0) {
    json_object_object_add(auths, key, entry);
    entry = NULL;
    rc = auth__save_config(cfg, err);
  }
  json_object_put(entry);
  json_object_put(cfg);
  return rc;
}

int auth_erase(const char *host, char *where, size_t nwhere, struct err *err) {
  int rc;
  json_object *cfg = auth__load_config(err, &rc);
  if (rc < 0)
    return rc;
  if (cfg == NULL)
    return ERR_NOTFOUND;
  const char *key = auth__key(host);
  const char *helper = auth__helper_for(cfg, key);
  bool found = false;
  where[0] = '\0';
  if (helper) {
    struct buf reply = BUF_INIT;
    int status;
    rc = auth__helper_run(helper, "erase", key, &reply, &status, err);
    if (rc == 0 && status == 0)
      found = true;
    else if (rc == 0 && !(reply.data && strstr(reply.data, "not found")))
      rc = err_set(err, ERR_AUTH,
                   "credential helper docker-credential-%s could not erase "
                   "the credentials for %s",
                   helper, key);
    buf_cleanup(&reply);
    snprintf(where, nwhere, "credential helper docker-credential-%s", helper);
  }
  json_object *auths;
  if (rc == 0 && json_object_object_get_ex(cfg, "auths", &auths) &&
      json_object_is_type(auths, json_type_object)) {
    struct buf k2 = BUF_INIT, k3 = BUF_INIT;
    buf_printf(&k2, "https://%s", host);
    buf_printf(&k3, "http://%s", host);
    const char *keys[] = {key, k2.data, k3.data};
    bool changed = false;
    for (size_t i = 0; i < 3; i++) {
      json_object *v;
      if (json_object_object_get_ex(auths, keys[i], &v)) {
        json_object_object_del(auths, keys[i]);
        changed = true;
      }
    }
    buf_cleanup(&k2);
    buf_cleanup(&k3);
    if (changed) {
      found = true;
      rc = auth__save_config(cfg, err);
      if (where[0] == '\0') {
        char *p = auth__config_path();
        snprintf(where, nwhere, "%s", p ? p : "config.json");
        free(p);
      }
    }
  }
  json_object_put(cfg);
  if (rc == 0 && !found)
    rc = ERR_NOTFOUND;
  return rc;
}
