/*
 * dockerignore.h - .dockerignore patterns matched as Docker matches them
 * (moby/patternmatcher): one pattern a line, `#` comments, `!` exceptions
 * where the last matching line wins, `*` and `?` within one path
 * component, `**` across components, `[...]` classes, `\` escapes, and a
 * pattern that names a directory also covering everything inside it.
 * Internal to analysis/; no IO (the caller reads the file).
 */
#ifndef DW_DOCKERIGNORE_H
#define DW_DOCKERIGNORE_H

#include <stdbool.h>
#include <stddef.h>

struct dockerignore;

/* Reads the patterns of a .dockerignore's text (borrowed).  Never NULL;
 * free with dockerignore_free. */
struct dockerignore *dockerignore_new(const char *text, size_t len);
void dockerignore_free(struct dockerignore *di);

/* Whether the context path `path` (relative, '/'-separated; a leading
 * "./" or "/" is ignored) or one of its parent directories is excluded:
 * BuildKit's MatchesOrParentMatches. */
bool dockerignore_excludes(const struct dockerignore *di, const char *path);

#endif
