/*
 * check_util.c - helpers every check family shares (see check.h).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"

bool check__source_offset(const struct check_ctx *c, const struct df_arg *arg,
                          size_t off, size_t *byte) {
  const char *src = c->text;
  size_t len = c->len, p = arg->range.start.byte, i = 0;
  char esc = c->df->escape;

  for (;;) {
    if (i == off) {
      *byte = p;
      return true;
    }
    /* A line continuation: the escape, blanks, the line end; then the
     * comment and blank lines BuildKit skips inside a continuation. */
    if (p < len && src[p] == esc) {
      size_t q = p + 1;
      while (q < len && (src[q] == ' ' || src[q] == '\t'))
        q++;
      if (q < len && (src[q] == '\n' || src[q] == '\r')) {
        if (src[q] == '\r')
          q++;
        if (q < len && src[q] == '\n')
          q++;
        for (;;) {
          size_t s = q;
          while (s < len && (src[s] == ' ' || src[s] == '\t'))
            s++;
          bool skip =
              s < len && (src[s] == '#' || src[s] == '\n' || src[s] == '\r');
          if (!skip)
            break;
          const char *nl = memchr(src + s, '\n', len - s);
          if (nl == NULL)
            return false;
          q = (size_t)(nl - src) + 1;
        }
        p = q;
        continue;
      }
    }
    if (i >= arg->len || p >= len || src[p] != arg->value[i])
      return false;
    p++;
    i++;
  }
}

const size_t *check__stages_named(const struct check_ctx *c, const char *name,
                                  size_t *n) {
  size_t lo = 0, hi = c->nstage_names; /* first entry >= name */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(c->stage_names[mid], name) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t e = lo;
  while (e < c->nstage_names && strcmp(c->stage_names[e], name) == 0)
    e++;
  *n = e - lo;
  return c->stage_index + lo;
}

size_t check__stage_of(const struct dockerfile *df, size_t i) {
  for (size_t s = 0; s < df->nstages; s++) {
    const struct df_stage *st = &df->stages[s];
    if (i >= st->from_instr && i < st->from_instr + st->ninstrs)
      return s;
  }
  return SIZE_MAX;
}

static char check__fold(char ch) {
  return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
}

bool check__ieq(const char *a, const char *b) {
  while (*a && *b && check__fold(*a) == check__fold(*b)) {
    a++;
    b++;
  }
  return *a == '\0' && *b == '\0';
}

bool check__has_upper(const char *s) {
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      return true;
  return false;
}

bool check__has_lower(const char *s) {
  for (; *s; s++)
    if (*s >= 'a' && *s <= 'z')
      return true;
  return false;
}

void check__keyword_casing(const struct dockerfile *df, size_t *lower,
                           size_t *upper) {
  *lower = *upper = 0;
  for (size_t i = df->nglobal; i < df->ninstrs; i++) {
    const char *kw = df->instrs[i].keyword;
    if (!check__has_upper(kw))
      (*lower)++;
    else if (!check__has_lower(kw))
      (*upper)++;
  }
}

void check__words_as_json(struct buf *b, const char *s) {
  bool first = true;
  buf_putc(b, '[');
  for (const char *p = s; *p;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p)
      break;
    const char *w = p;
    while (*p && *p != ' ' && *p != '\t')
      p++;
    buf_printf(b, "%s\"%.*s\"", first ? "" : ", ", (int)(p - w), w);
    first = false;
  }
  buf_putc(b, ']');
}

char *check__lower(const char *s) {
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    *p = check__fold(*p);
  return r;
}

char *check__upper(const char *s) {
  char *r = xstrdup(s);
  for (char *p = r; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char)(*p - 'a' + 'A');
  return r;
}

#define CHECK_DIST_MAX 100

unsigned check__distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n > CHECK_DIST_MAX || m > CHECK_DIST_MAX)
    return CHECK_DIST_MAX;
  /* Optimal string alignment: a swap of two neighbours ("FORM" for
   * "FROM") is one edit, as users think of typos. */
  unsigned d[3][CHECK_DIST_MAX + 1];
  for (size_t j = 0; j <= m; j++)
    d[0][j] = (unsigned)j;
  for (size_t i = 1; i <= n; i++) {
    unsigned *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];
    cur[0] = (unsigned)i;
    for (size_t j = 1; j <= m; j++) {
      char x = check__fold(a[i - 1]), y = check__fold(b[j - 1]);
      unsigned best = prev[j - 1] + (x == y ? 0 : 1);
      if (prev[j] + 1 < best)
        best = prev[j] + 1;
      if (cur[j - 1] + 1 < best)
        best = cur[j - 1] + 1;
      if (i > 1 && j > 1 && x == check__fold(b[j - 2]) &&
          check__fold(a[i - 2]) == y && prev2[j - 2] + 1 < best)
        best = prev2[j - 2] + 1;
      cur[j] = best;
    }
  }
  return d[n % 3][m];
}

static const char *check__lookup_any(void *ctx, const char *name, size_t len) {
  (void)ctx;
  (void)name;
  (void)len;
  return "x";
}

struct expand_env check__env_all_set(void) {
  struct expand_env env = {check__lookup_any, NULL};
  return env;
}
