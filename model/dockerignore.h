/*
 * dockerignore.h - .dockerignore patterns matched as Docker matches them
 * (moby/patternmatcher): one pattern a line, `#` comments, `!` exceptions
 * where the last matching line wins, `*` and `?` within one path
 * component, `**` across components, `[...]` classes, `\` escapes, and a
 * pattern that names a directory also covering everything inside it.
 * Shared by analysis/ (CopyIgnoredFile) and builder/ (the build context,
 * COPY --exclude), so both read a .dockerignore the same way.  No IO: the
 * caller reads the file.
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

/* Adds one pattern line, read as a line of a .dockerignore is (comments
 * and blank lines skipped, '!' re-includes); for COPY --exclude. */
void dockerignore_add_line(struct dockerignore *di, const char *line,
                           size_t len);

/* Whether any '!' pattern was added (a directory can then not be skipped
 * whole, since something inside it may be re-included). */
bool dockerignore_has_exceptions(const struct dockerignore *di);

/* The first pattern that is no valid filepath.Match pattern (an
 * unterminated '[', a trailing '\\'...), or NULL.  Borrowed; such a
 * pattern matches nothing. */
const char *dockerignore_bad_pattern(const struct dockerignore *di);

/* Whether the context path `path` (relative, '/'-separated; a leading
 * "./" or "/" is ignored) or one of its parent directories is excluded:
 * BuildKit's MatchesOrParentMatches. */
bool dockerignore_excludes(const struct dockerignore *di, const char *path);

#endif
