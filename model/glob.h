/*
 * glob.h - Go's path/filepath.Match on '/'-separated paths, the one port:
 * `*` any run of characters but '/', `?` one character (a UTF-8 rune, as
 * Go decodes it) but '/', `[...]` classes of runes with ranges and `^`
 * negation, `\` escaping the next character.  A malformed pattern (an
 * unterminated or empty class, a range or class item starting with '-' or
 * ']', a trailing '\') is Go's ErrBadPattern, found over the whole pattern
 * whatever the name.
 *
 * Two readers: COPY/ADD source wildcards in the builder (fsutil's
 * ResolveWildcards: plain filepath.Match, a bad pattern matching nothing),
 * and .dockerignore / COPY --exclude patterns (model/dockerignore.c:
 * moby/patternmatcher's reading, which adds `**` across directories and
 * lets a pattern match a directory above the path).  Pure: no IO.
 */
#ifndef DW_GLOB_H
#define DW_GLOB_H

#include <stdbool.h>

enum glob_flags {
  GLOB_GO = 0,               /* filepath.Match */
  GLOB_DOUBLESTAR = 1u << 0, /* `**` (and `**` + '/'): nothing, or any
                                run ending in '/'; at the end, anything */
  GLOB_DIR_PREFIX = 1u << 1, /* the pattern may stop at a '/' of the path */
};

enum glob_result {
  GLOB_BAD = -1, /* ErrBadPattern */
  GLOB_NOMATCH = 0,
  GLOB_MATCH = 1,
};

/* How deep `**` may nest (consecutive ones count once) before a match
 * gives up (GLOB_NOMATCH): the recursion's bound on editor input. */
#define GLOB_MAX_DOUBLESTARS 64

/* Does `name` match `pattern`?  Both NUL-terminated. */
enum glob_result glob_match(const char *pattern, const char *name,
                            unsigned flags);

/* false for Go's ErrBadPattern. */
bool glob_valid(const char *pattern);

/* Whether s holds a character Match treats specially (`*?[\`). */
bool glob_has_meta(const char *s);

#endif
