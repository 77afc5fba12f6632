/*
 * context.c - .dockerignore rules and the glob matcher.
 */
#include "context.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/ceilings.h"
#include "layer.h"

/* The rules are model/dockerignore.c's, shared with the analysis, so the
 * editor's CopyIgnoredFile and the build agree on every pattern. */
void match_rules_init(struct match_rules *m) {
  m->di = dockerignore_new("", 0);
  m->has_exceptions = false;
}

void match_rules_cleanup(struct match_rules *m) {
  dockerignore_free(m->di);
  memset(m, 0, sizeof(*m));
}

void match_rules_add(struct match_rules *m, const char *line) {
  dockerignore_add_line(m->di, line, strlen(line));
  m->has_exceptions = dockerignore_has_exceptions(m->di);
}

bool match_has_meta(const char *s) {
  return strpbrk(s, "*?[\\") != NULL;
}

/* Matches a character class at *pp against c; advances *pp past ']'. */
static bool match__class(const char **pp, char c, bool *ok) {
  const char *p = *pp + 1;
  bool neg = false;
  if (*p == '^' || *p == '!') {
    neg = true;
    p++;
  }
  bool hit = false;
  bool first = true;
  while (*p && (first || *p != ']')) {
    first = false;
    char lo = *p;
    if (lo == '\\' && p[1])
      lo = *++p;
    p++;
    char hi = lo;
    if (*p == '-' && p[1] && p[1] != ']') {
      p++;
      hi = *p;
      if (hi == '\\' && p[1])
        hi = *++p;
      p++;
    }
    if (c >= lo && c <= hi)
      hit = true;
  }
  if (*p != ']') {
    *ok = false;
    return false;
  }
  *pp = p + 1;
  *ok = true;
  return hit != neg;
}

static bool match__at(const char *p, const char *s, unsigned depth) {
  if (depth > 64)
    return false;
  while (*p) {
    if (p[0] == '*' && p[1] == '*') {
      while (*p == '*')
        p++;
      if (*p == '\0')
        return true;
      if (*p == '/') {
        p++;
        /* "**\/x": x at the start or after any '/'. */
        for (const char *t = s;; t++) {
          if ((t == s || t[-1] == '/') && match__at(p, t, depth + 1))
            return true;
          if (*t == '\0')
            return false;
        }
      }
      for (const char *t = s;; t++) {
        if (match__at(p, t, depth + 1))
          return true;
        if (*t == '\0')
          return false;
      }
    }
    if (*p == '*') {
      p++;
      for (const char *t = s;; t++) {
        if (match__at(p, t, depth + 1))
          return true;
        if (*t == '\0' || *t == '/')
          return false;
      }
    }
    if (*s == '\0')
      return false;
    if (*p == '?') {
      if (*s == '/')
        return false;
      p++;
      s++;
      continue;
    }
    if (*p == '[') {
      bool ok;
      if (*s == '/' || !match__class(&p, *s, &ok) || !ok)
        return false;
      s++;
      continue;
    }
    if (*p == '\\' && p[1])
      p++;
    if (*p != *s)
      return false;
    p++;
    s++;
  }
  return *s == '\0';
}

bool match_glob(const char *pattern, const char *path) {
  return match__at(pattern, path, 0);
}

bool match_rules_excluded(const struct match_rules *m, const char *path) {
  return dockerignore_excludes(m->di, path);
}

static int context__read_ignore(const char *path, struct match_rules *m,
                                struct err *err) {
  struct buf b = BUF_INIT;
  int rc = buf_read_file(path, DW_MAX_BUILD_IGNORE_BYTES, &b, err);
  if (rc == ERR_NOTFOUND)
    err_clear(err); /* no .dockerignore: nothing excluded */
  if (rc < 0) {
    buf_cleanup(&b);
    return rc;
  }
  /* A UTF-8 byte-order mark before the first pattern is not part of it. */
  char *line = b.data ? b.data : (char *)"";
  if (strncmp(line, "\xEF\xBB\xBF", 3) == 0)
    line += 3;
  while (line < b.data + b.len) {
    char *nl = memchr(line, '\n', (size_t)(b.data + b.len - line));
    if (nl)
      *nl = '\0';
    match_rules_add(m, line);
    if (nl == NULL)
      break;
    line = nl + 1;
  }
  buf_cleanup(&b);
  return 0;
}

int context_open(const char *dir, const char *dockerfile, struct context *out,
                 struct err *err) {
  memset(out, 0, sizeof(*out));
  char *root = realpath(dir, NULL);
  if (root == NULL)
    return err_set(err, ERR_NOTFOUND, "build context %s: %s", dir,
                   strerror(errno));
  out->root = root;
  match_rules_init(&out->ignore);
  int rc = ERR_NOTFOUND;
  if (dockerfile) {
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s.dockerignore", dockerfile);
    rc = context__read_ignore(p.data, &out->ignore, err);
    buf_cleanup(&p);
  }
  if (rc == ERR_NOTFOUND) {
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/.dockerignore", root);
    rc = context__read_ignore(p.data, &out->ignore, err);
    buf_cleanup(&p);
  }
  if (rc == ERR_NOTFOUND)
    rc = 0;
  if (rc < 0)
    context_cleanup(out);
  return rc;
}

void context_cleanup(struct context *c) {
  free(c->root);
  match_rules_cleanup(&c->ignore);
  memset(c, 0, sizeof(*c));
}
