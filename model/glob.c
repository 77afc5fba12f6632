/*
 * glob.c - Go's filepath.Match (see glob.h).  `*` is matched as Go's
 * matchChunk loop does, without recursion: on a mismatch the last `*`
 * takes one more character (never a '/'), which finds a match whenever
 * one exists, in time linear in the path for each `*`.  Only `**` (the
 * patternmatcher flavour) recurses, at most GLOB_MAX_DOUBLESTARS deep,
 * and each (`**`, offset) continuation is tried once (a failure bitmap).
 */
#include "glob.h"

#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/utf8.h"

/* One rune of s (at least one byte, so a bad byte is one U+FFFD). */
static unsigned glob__rune(const char *s, uint32_t *r) {
  size_t w;
  *r = utf8_decode(s, strnlen(s, 4), &w);
  return w ? (unsigned)w : 1;
}

/* Go's getEsc: one class item character at *p (after a '\' escape);
 * false on ErrBadPattern. */
static bool glob__esc(const char **p, uint32_t *r) {
  const char *s = *p;
  if (*s == '\0' || *s == '-' || *s == ']')
    return false;
  if (*s == '\\') {
    s++;
    if (*s == '\0')
      return false;
  }
  s += glob__rune(s, r);
  *p = s;
  return true;
}

/* A class at p (just after '['): whether rune c is in it; *end after the
 * ']'.  false for a malformed class (*bad set). */
static bool glob__class(const char *p, uint32_t c, const char **end,
                        bool *bad) {
  bool neg = *p == '^';
  if (neg)
    p++;
  bool hit = false;
  int nrange = 0;
  for (;;) {
    if (*p == ']' && nrange > 0) {
      p++;
      break;
    }
    uint32_t lo, hi;
    if (!glob__esc(&p, &lo)) {
      *bad = true;
      return false;
    }
    hi = lo;
    if (*p == '-') {
      p++;
      if (!glob__esc(&p, &hi)) {
        *bad = true;
        return false;
      }
    }
    if (lo <= c && c <= hi)
      hit = true;
    nrange++;
  }
  *end = p;
  return hit != neg;
}

bool glob_valid(const char *p) {
  while (*p) {
    if (*p == '\\') {
      if (p[1] == '\0')
        return false;
      p += 2;
    } else if (*p == '[') {
      bool bad = false;
      const char *end;
      glob__class(p + 1, 0, &end, &bad);
      if (bad)
        return false;
      p = end;
    } else {
      p++;
    }
  }
  return true;
}

bool glob_has_meta(const char *s) {
  return strpbrk(s, "*?[\\") != NULL;
}

/* One match: the pattern and the name, and which (`**`, name offset)
 * continuations already failed, so each is tried once (the work is then
 * polynomial however many `**` the pattern holds). */
struct glob__state {
  const char *pattern, *name;
  unsigned flags;
  unsigned char *failed; /* bit (k * (namelen + 1) + offset) */
  size_t width;          /* namelen + 1 */
  size_t ndouble;        /* `**` in the pattern */
};

/* The ordinal of the `**` ending just before q. */
static size_t glob__ordinal(const struct glob__state *g, const char *q) {
  size_t k = 0;
  for (const char *p = g->pattern; p + 1 < q; p++) {
    if (*p == '\\' && p[1]) {
      p++;
      continue;
    }
    if (p[0] == '*' && p[1] == '*') {
      k++;
      while (p[1] == '*')
        p++;
    }
  }
  return k ? k - 1 : 0;
}

static bool glob__at(struct glob__state *g, const char *p, const char *s,
                     unsigned depth);

/* The rest of the pattern q after a `**`, tried at name offset t. */
static bool glob__after(struct glob__state *g, const char *q, const char *t,
                        unsigned depth) {
  size_t bit = glob__ordinal(g, q) * g->width + (size_t)(t - g->name);
  if (g->failed && (g->failed[bit / 8] >> (bit % 8)) & 1)
    return false;
  if (glob__at(g, q, t, depth + 1))
    return true;
  if (g->failed)
    g->failed[bit / 8] |= (unsigned char)(1u << (bit % 8));
  return false;
}

static bool glob__at(struct glob__state *g, const char *p, const char *s,
                     unsigned depth) {
  const char *star_p = NULL, *star_s = NULL;
  for (;;) {
    if ((g->flags & GLOB_DOUBLESTAR) && p[0] == '*' && p[1] == '*') {
      /* patternmatcher: two stars then an optional '/' match nothing or
       * any run ending in '/' (anything at the end); a run of such
       * segments is one */
      const char *q = p;
      while (q[0] == '*' && q[1] == '*') {
        while (*q == '*')
          q++;
        if (*q == '/')
          q++;
      }
      if (*q == '\0')
        return true;
      if (depth < GLOB_MAX_DOUBLESTARS) {
        if (glob__after(g, q, s, depth))
          return true;
        for (const char *t = s; *t; t++)
          if (*t == '/' && glob__after(g, q, t + 1, depth))
            return true;
      }
      goto backtrack;
    }
    if (*p == '*') {
      while (*p == '*')
        p++;
      star_p = p;
      star_s = s;
      continue;
    }
    if (*p == '\0') {
      if (*s == '\0' || ((g->flags & GLOB_DIR_PREFIX) && *s == '/'))
        return true;
      goto backtrack;
    }
    if (*s == '\0')
      return false; /* (a '*' cannot take more than all of it) */
    {
      uint32_t c;
      unsigned w = glob__rune(s, &c);
      if (*p == '?') {
        if (c == '/')
          goto backtrack;
        p++;
      } else if (*p == '[') {
        const char *end;
        bool bad = false;
        if (c == '/' || !glob__class(p + 1, c, &end, &bad))
          goto backtrack;
        p = end;
      } else {
        if (*p == '\\')
          p++;
        uint32_t pc;
        unsigned pw = glob__rune(p, &pc);
        /* bytes, not runes: a bad byte only matches itself */
        if (pw != w || memcmp(p, s, w) != 0)
          goto backtrack;
        p += pw;
      }
      s += w;
      continue;
    }
  backtrack:
    /* The last '*' takes one more rune; it never takes a '/', and then
     * no earlier '*' could either (the '/' between them is fixed). */
    if (star_p == NULL || *star_s == '\0' || *star_s == '/')
      return false;
    {
      uint32_t c;
      star_s += glob__rune(star_s, &c);
    }
    p = star_p;
    s = star_s;
  }
}

enum glob_result glob_match(const char *pattern, const char *name,
                            unsigned flags) {
  if (!glob_valid(pattern))
    return GLOB_BAD;
  struct glob__state g = {pattern, name, flags, NULL, strlen(name) + 1, 0};
  if (flags & GLOB_DOUBLESTAR)
    for (const char *p = pattern; *p; p++) {
      if (*p == '\\' && p[1]) {
        p++;
      } else if (p[0] == '*' && p[1] == '*') {
        g.ndouble++;
        while (p[1] == '*')
          p++;
      }
    }
  unsigned char small[512];
  size_t bytes = (g.ndouble * g.width + 7) / 8;
  if (g.ndouble > 0) {
    g.failed = bytes <= sizeof(small) ? small : xcalloc(bytes, 1);
    if (g.failed == small)
      memset(small, 0, bytes);
  }
  bool m = glob__at(&g, pattern, name, 0);
  if (g.failed != small)
    free(g.failed);
  return m ? GLOB_MATCH : GLOB_NOMATCH;
}
