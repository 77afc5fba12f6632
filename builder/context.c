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

void match_rules_init(struct match_rules *m) { memset(m, 0, sizeof(*m)); }

void match_rules_cleanup(struct match_rules *m) {
  strv_cleanup(&m->patterns);
  free(m->exclude);
  memset(m, 0, sizeof(*m));
}

void match_rules_add(struct match_rules *m, const char *line) {
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
               line[n - 1] == '\t'))
    n--;
  while (n && (*line == ' ' || *line == '\t')) {
    line++;
    n--;
  }
  if (n == 0 || line[0] == '#')
    return;
  bool neg = false;
  if (line[0] == '!') {
    neg = true;
    line++;
    n--;
  }
  char *raw = xstrndup(line, n);
  char *clean = NULL;
  (void)layer_clean_path(raw, &clean);
  free(raw);
  if (clean[0] == '\0') {
    free(clean);
    return;
  }
  strv_push_take(&m->patterns, clean);
  m->exclude = xrealloc(m->exclude, m->patterns.n * sizeof(bool));
  m->exclude[m->patterns.n - 1] = neg;
  if (neg)
    m->has_exceptions = true;
}

bool match_has_meta(const char *s) { return strpbrk(s, "*?[\\") != NULL; }

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

/* The pattern matches path or one of its parent directories. */
static bool match__or_parent(const char *pattern, const char *path) {
  if (match_glob(pattern, path))
    return true;
  char *tmp = xstrdup(path);
  bool hit = false;
  for (char *sl = strrchr(tmp, '/'); sl && !hit; sl = strrchr(tmp, '/')) {
    *sl = '\0';
    hit = match_glob(pattern, tmp);
  }
  free(tmp);
  return hit;
}

bool match_rules_excluded(const struct match_rules *m, const char *path) {
  bool excluded = false;
  for (size_t i = 0; i < m->patterns.n; i++) {
    if (m->exclude[i] == !excluded)
      continue; /* cannot change the answer */
    if (match__or_parent(m->patterns.v[i], path))
      excluded = !m->exclude[i];
  }
  return excluded;
}

static int context__read_ignore(const char *path, struct match_rules *m,
                                struct err *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return errno == ENOENT ? ERR_NOTFOUND
                           : err_set(err, ERR_IO, "%s: %s", path,
                                     strerror(errno));
  char *line = NULL;
  size_t cap = 0, total = 0;
  ssize_t n;
  int rc = 0;
  while ((n = getline(&line, &cap, f)) >= 0) {
    total += (size_t)n;
    if (total > DW_MAX_BUILD_IGNORE_BYTES) {
      rc = err_set(err, ERR_TOOBIG, "%s is larger than %u bytes", path,
                   DW_MAX_BUILD_IGNORE_BYTES);
      break;
    }
    if (n && line[n - 1] == '\n')
      line[n - 1] = '\0';
    match_rules_add(m, line);
  }
  free(line);
  fclose(f);
  return rc;
}

int context_open(const char *dir, const char *dockerfile,
                 struct context *out, struct err *err) {
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
