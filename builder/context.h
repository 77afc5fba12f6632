/*
 * context.h - the build context: a directory, filtered by .dockerignore
 * (or <Dockerfile>.dockerignore next to the Dockerfile, which wins), and
 * the pattern rules both use (moby's patternmatcher: '*', '?', '[...]',
 * '**' for any number of directories, '!' to re-include; a pattern that
 * matches a directory matches everything under it).
 *
 * The context is read in place, never copied; the builder only ever reads
 * it through paths resolved inside it (layer_resolve), so symlinks cannot
 * lead out.
 */
#ifndef DW_CONTEXT_H
#define DW_CONTEXT_H

#include <stdbool.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../model/dockerignore.h"

struct match_rules {
  struct dockerignore *di; /* owned; model/dockerignore.h's matcher */
  bool has_exceptions;     /* a '!' pattern was added */
};
void match_rules_init(struct match_rules *m);
void match_rules_cleanup(struct match_rules *m);
/* Adds one pattern line (e.g. "!foo/x.c"); blank lines and
 * comments are skipped. */
void match_rules_add(struct match_rules *m, const char *line);
/* True when path (relative, cleaned) is excluded by the rules. */
bool match_rules_excluded(const struct match_rules *m, const char *path);

/* Go filepath.Match-style glob over a whole path, plus '**'. */
bool match_glob(const char *pattern, const char *path);
/* True when s has a glob meta character. */
bool match_has_meta(const char *s);

struct context {
  char *root; /* owned; absolute, symlink-free */
  struct match_rules ignore;
};

/* Opens dir as a context; dockerfile (a path, may be NULL) selects
 * <Dockerfile>.dockerignore when that file exists. */
int context_open(const char *dir, const char *dockerfile, struct context *out,
                 struct err *err) DW_WARN_UNUSED;
void context_cleanup(struct context *c);

#endif
