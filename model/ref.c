/*
 * ref.c - Docker's reference grammar (distribution/reference), normalised.
 * Pure: the builder pulls by it and the analysis reports by it, so what
 * `dockwright lint` calls an invalid reference is what the build refuses,
 * in the same words (distribution/reference's errors).
 */
#include "ref.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/ceilings.h"

void ref_cleanup(struct ref *self) {
  free(self->domain);
  free(self->path);
  free(self->tag);
  free(self->digest);
  memset(self, 0, sizeof(*self));
}

static bool ref__alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := alnum+ (separator alnum+)*, separator := "." | "_" |
 * "__" | "-"+ */
static bool ref__component_ok(const char *s, size_t n) {
  size_t i = 0;
  for (;;) {
    size_t run = i;
    while (i < n && ref__alnum(s[i]))
      i++;
    if (i == run)
      return false;
    if (i == n)
      return true;
    if (s[i] == '.') {
      i++;
    } else if (s[i] == '_') {
      i++;
      if (i < n && s[i] == '_')
        i++;
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-')
        i++;
    } else {
      return false;
    }
  }
}

/* digest.Digest's form as ReferenceRegexp accepts it, for the algorithm
 * the registries use: sha256 and 64 lowercase hex digits. */
static bool ref__digest_ok(const char *s) {
  if (strncmp(s, "sha256:", 7) != 0)
    return false;
  size_t i = 0;
  for (const char *p = s + 7; *p; p++, i++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return i == 64;
}

/* A component that only fails for its upper-case letters: Parse's
 * ErrNameContainsUppercase rather than ErrReferenceInvalidFormat. */
static bool ref__component_upper(const char *s, size_t n) {
  char buf[256];
  if (n >= sizeof(buf))
    return false;
  bool upper = false;
  for (size_t i = 0; i < n; i++) {
    upper |= s[i] >= 'A' && s[i] <= 'Z';
    buf[i] = (char)tolower((unsigned char)s[i]);
  }
  return upper && ref__component_ok(buf, n);
}

static bool ref__tag_ok(const char *t) {
  size_t n = strlen(t);
  if (n == 0 || n > 128)
    return false;
  if (!(isalnum((unsigned char)t[0]) || t[0] == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' ||
          t[i] == '-'))
      return false;
  return true;
}

static bool ref__domain_ok(const char *d) {
  if (*d == '\0')
    return false;
  for (const char *p = d; *p; p++)
    if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == ':' ||
          *p == '[' || *p == ']'))
      return false;
  return true;
}

int ref_parse(const char *s, struct ref *out, struct err *err) {
  memset(out, 0, sizeof(*out));
  size_t len = strlen(s);
  if (len == 0)
    return err_set(err, ERR_INVALID,
                   "invalid reference format: repository name must have at "
                   "least one component");
  if (len > DW_MAX_REF_LEN)
    return err_set(err, ERR_TOOBIG, "reference longer than %u bytes",
                   DW_MAX_REF_LEN);
  char *work = xstrdup(s);
  const char *at = strchr(work, '@');
  if (at) {
    if (!ref__digest_ok(at + 1)) {
      free(work);
      return err_set(err, ERR_INVALID, "invalid reference format");
    }
    out->digest = xstrdup(at + 1);
    work[at - work] = '\0';
  }
  /* The tag is after the last ':' that follows the last '/'. */
  char *slash = strrchr(work, '/');
  char *colon = strrchr(slash ? slash : work, ':');
  if (colon) {
    *colon = '\0';
    if (!ref__tag_ok(colon + 1)) {
      free(work);
      ref_cleanup(out);
      return err_set(err, ERR_INVALID, "invalid reference format");
    }
    out->tag = xstrdup(colon + 1);
  }
  char *first_slash = strchr(work, '/');
  const char *name = work;
  if (first_slash) {
    size_t dn = (size_t)(first_slash - work);
    bool is_domain = memchr(work, '.', dn) || memchr(work, ':', dn) ||
                     (dn == 9 && memcmp(work, "localhost", 9) == 0);
    for (size_t i = 0; i < dn && !is_domain; i++)
      if (isupper((unsigned char)work[i]))
        is_domain = true;
    if (is_domain) {
      out->domain = xstrndup(work, dn);
      name = first_slash + 1;
    }
  }
  if (out->domain == NULL)
    out->domain = xstrdup("docker.io");
  if (strcmp(out->domain, "index.docker.io") == 0) {
    free(out->domain);
    out->domain = xstrdup("docker.io");
  }
  if (!ref__domain_ok(out->domain)) {
    free(work);
    ref_cleanup(out);
    return err_set(err, ERR_INVALID, "invalid reference format");
  }
  /* Check each path component. */
  const char *p = name;
  for (;;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (!ref__component_ok(p, n)) {
      bool upper = ref__component_upper(p, n);
      free(work);
      ref_cleanup(out);
      return err_set(err, ERR_INVALID,
                     upper ? "invalid reference format: repository name "
                             "must be lowercase"
                           : "invalid reference format");
    }
    if (!e)
      break;
    p = e + 1;
  }
  if (strlen(out->domain) + 1 + strlen(name) > 255) {
    free(work);
    ref_cleanup(out);
    return err_set(err, ERR_INVALID,
                   "invalid reference format: repository name must not be "
                   "more than 255 characters");
  }
  if (strcmp(out->domain, "docker.io") == 0 && strchr(name, '/') == NULL) {
    struct buf b = BUF_INIT;
    buf_printf(&b, "library/%s", name);
    out->path = buf_take(&b);
  } else {
    out->path = xstrdup(name);
  }
  if (out->tag == NULL && out->digest == NULL)
    out->tag = xstrdup("latest");
  free(work);
  return 0;
}

char *ref_string(const struct ref *self) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/%s", self->domain, self->path);
  if (self->tag)
    buf_printf(&b, ":%s", self->tag);
  if (self->digest)
    buf_printf(&b, "@%s", self->digest);
  return buf_take(&b);
}

char *ref_name(const struct ref *self) {
  struct buf b = BUF_INIT;
  buf_printf(&b, "%s/%s", self->domain, self->path);
  return buf_take(&b);
}

const char *ref_api_host(const struct ref *self) {
  if (strcmp(self->domain, "docker.io") == 0)
    return "registry-1.docker.io";
  return self->domain;
}

bool ref_host_is_loopback(const char *hostport) {
  char host[256];
  size_t n = strlen(hostport);
  if (n >= sizeof(host))
    return false;
  memcpy(host, hostport, n + 1);
  if (host[0] == '[') { /* [::1]:5000 */
    char *e = strchr(host, ']');
    if (!e)
      return false;
    *e = '\0';
    return strcmp(host + 1, "::1") == 0;
  }
  char *c = strchr(host, ':');
  if (c)
    *c = '\0';
  if (strcmp(host, "localhost") == 0)
    return true;
  if (strncmp(host, "127.", 4) != 0)
    return false;
  for (const char *p = host + 4; *p; p++)
    if (!(isdigit((unsigned char)*p) || *p == '.'))
      return false;
  return true;
}
