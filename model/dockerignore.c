/*
 * dockerignore.c - see dockerignore.h.  Patterns are cleaned as Docker's
 * ignorefile.ReadAll cleans them (trimmed, filepath.Clean, a leading '/'
 * dropped) and matched by model/glob.c (Go's filepath.Match) with
 * patternmatcher's additions: `**` matches nothing or anything that ends
 * in a slash (anything at all at the pattern's end), and every pattern may
 * be followed by "/anything" (a directory's content).
 */
#include "dockerignore.h"

#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "glob.h"

struct dockerignore_pattern {
  char *glob; /* owned; cleaned */
  bool exclusion;
};

struct dockerignore {
  struct dockerignore_pattern *v; /* owned */
  size_t n;
  size_t cap;
  bool has_exceptions;
};

/* filepath.Clean for '/'-separated paths, relative result. */
static char *dockerignore__clean(const char *p, size_t n) {
  struct buf out = BUF_INIT;
  bool rooted = n > 0 && p[0] == '/';
  size_t i = 0;
  /* Component stack as offsets into out. */
  size_t *marks = xmalloc((n + 1) * sizeof(*marks));
  size_t depth = 0;
  while (i < n) {
    while (i < n && p[i] == '/')
      i++;
    size_t s = i;
    while (i < n && p[i] != '/')
      i++;
    size_t len = i - s;
    if (len == 0 || (len == 1 && p[s] == '.'))
      continue;
    if (len == 2 && p[s] == '.' && p[s + 1] == '.') {
      if (depth > 0) {
        out.len = marks[--depth];
        continue;
      }
      if (rooted)
        continue;
    }
    marks[depth++] = out.len;
    if (out.len)
      buf_putc(&out, '/');
    buf_append(&out, p + s, len);
  }
  free(marks);
  if (out.len == 0)
    buf_puts(&out, rooted ? "" : ".");
  return buf_take(&out);
}

void dockerignore_add_line(struct dockerignore *di, const char *line,
                           size_t len) {
  const char *s = line, *end = line + len;
  /* Docker skips a comment before trimming: "  # x" is a pattern. */
  if (s < end && *s == '#')
    return;
  while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
    s++;
  while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
                     end[-1] == '\n'))
    end--;
  if (s == end)
    return;
  bool excl = *s == '!';
  if (excl) {
    s++;
    while (s < end && (*s == ' ' || *s == '\t'))
      s++;
    if (s == end)
      return;
  }
  char *g = dockerignore__clean(s, (size_t)(end - s));
  if (g[0] == '\0') {
    free(g);
    g = xstrdup("/");
  }
  if (di->n == di->cap) {
    di->cap = di->cap ? di->cap * 2 : 16;
    di->v = xrealloc(di->v, di->cap * sizeof(*di->v));
  }
  di->v[di->n].glob = g;
  di->v[di->n].exclusion = excl;
  di->n++;
  if (excl)
    di->has_exceptions = true;
}

bool dockerignore_has_exceptions(const struct dockerignore *di) {
  return di->has_exceptions;
}

struct dockerignore *dockerignore_new(const char *text, size_t len) {
  struct dockerignore *di = xcalloc(1, sizeof(*di));
  size_t i = 0;
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  while (i < len) {
    const char *nl = memchr(text + i, '\n', len - i);
    size_t e = nl ? (size_t)(nl - text) : len;
    dockerignore_add_line(di, text + i, e - i);
    i = nl ? e + 1 : len;
  }
  return di;
}

void dockerignore_free(struct dockerignore *di) {
  if (di == NULL)
    return;
  for (size_t i = 0; i < di->n; i++)
    free(di->v[i].glob);
  free(di->v);
  free(di);
}

/* moby/patternmatcher's reading: `**` across directories, and a pattern
 * naming a directory covers what is below it; the rest is filepath.Match
 * (model/glob.c).  A malformed pattern matches nothing (BuildKit refuses
 * the context: dockerignore_bad_pattern). */
static bool dockerignore__match(const char *p, const char *s) {
  return glob_match(p, s, GLOB_DOUBLESTAR | GLOB_DIR_PREFIX) == GLOB_MATCH;
}

const char *dockerignore_bad_pattern(const struct dockerignore *di) {
  for (size_t i = 0; i < di->n; i++)
    if (!glob_valid(di->v[i].glob))
      return di->v[i].glob;
  return NULL;
}

bool dockerignore_excludes(const struct dockerignore *di, const char *path) {
  char *file = dockerignore__clean(path, strlen(path));
  bool matched = false;
  for (size_t i = 0; i < di->n; i++) {
    const struct dockerignore_pattern *pt = &di->v[i];
    if (pt->exclusion != matched)
      continue;
    bool m = dockerignore__match(pt->glob, file);
    /* The parents: a/b/c is excluded when a or a/b is. */
    for (char *sl = strchr(file, '/'); !m && sl; sl = strchr(sl + 1, '/')) {
      *sl = '\0';
      m = dockerignore__match(pt->glob, file);
      *sl = '/';
    }
    if (m)
      matched = !pt->exclusion;
  }
  free(file);
  return matched;
}
